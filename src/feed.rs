//! The podcast feed of an output directory: `DIR/feed.xml`, RSS 2.0 with iTunes and Podcasting 2.0 tags, one episode per narration found under DIR, rewritten whole on every run with each episode keeping the GUID and publication date it was first given.
//!
//! A narration is an audio file (`.mp3` or `.wav`) with its `.timeline.json` beside it,
//! outside hidden directories (so never a batch's `.aloud-batch` state or a `.aloud-*`
//! working file). When both `OUT.mp3` and `OUT.wav` exist the MP3 is published: it is what
//! podcast apps play everywhere, at a fraction of the size.
//!
//! An episode's GUID comes from its path relative to DIR without the extension, so
//! re-narrating an article, switching it to MP3 or moving the directory to another host keeps
//! the episode. Its `pubDate` is the audio's modification time the first time it appears, and
//! from then on the date the existing feed gives it, so apps never see an old episode as new.
//! Links are the base URL plus each path segment percent-encoded: copy DIR to any static host
//! at that URL and the feed works.
//!
//! Chapters go in twice, from the same timeline: linked as Podcasting 2.0 JSON
//! (`podcast:chapters`, when `OUT.chapters.json` exists) and inline as Podlove Simple Chapters
//! (`psc:chapters`), which apps that predate Podcasting 2.0 read (gPodder, for one).

use crate::error::{Error, Result};
use crate::sidecar::{SidecarKind, Timeline, timeline_path, timestamp};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::{Reader, Writer};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// The feed's file name inside the directory it describes.
pub const FEED_FILE: &str = "feed.xml";
/// The Podcasting 2.0 namespace (`podcast:chapters`, `podcast:transcript`).
pub const PODCAST_NAMESPACE: &str = "https://podcastindex.org/namespace/1.0";
const ITUNES_NAMESPACE: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
const ATOM_NAMESPACE: &str = "http://www.w3.org/2005/Atom";
const PSC_NAMESPACE: &str = "http://podlove.org/simple-chapters";
/// Every GUID aloud makes starts so, which keeps them apart from any other feed's.
const GUID_PREFIX: &str = "aloud:";

/// What a path segment keeps unencoded: RFC 3986's unreserved characters only. Stricter than
/// the URL standard needs, so that no server, CDN or app reads a `+`, `;` or `&` in a file
/// name as anything but part of the name.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The channel's settings. Only the base URL is required; the rest have defaults.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// Where DIR is published, ending in `/`.
    base_url: url::Url,
    /// The image's absolute URL.
    image: Option<String>,
    /// The show's name [default: the directory's name].
    pub title: Option<String>,
    /// What the show is [default: "TITLE: articles read aloud by a synthetic voice."].
    pub description: Option<String>,
    /// `itunes:author` [default: "aloud"].
    pub author: Option<String>,
    /// `language`, a BCP 47 tag [default: the narrations' voices' language, else `en`].
    pub language: Option<String>,
    /// `itunes:category`, one of Apple's categories [default: News].
    pub category: Option<String>,
    /// `itunes:explicit` [default: false].
    pub explicit: bool,
}

impl FeedOptions {
    /// Settings for a directory published at `base_url`: absolute, http or https, without a
    /// query or fragment; a missing trailing slash is added (`https://example.com/pod` is
    /// the directory `pod/`).
    pub fn new(base_url: &str) -> Result<Self> {
        let fail = |message: String| Error::FeedUrl {
            what: "base URL".into(),
            url: base_url.to_string(),
            message,
        };
        let mut url = absolute_http_url(base_url).map_err(fail)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(fail(
                "a query or fragment cannot be followed by file names; give the URL of the directory itself".into(),
            ));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(FeedOptions {
            base_url: url,
            image: None,
            title: None,
            description: None,
            author: None,
            language: None,
            category: None,
            explicit: false,
        })
    }

    /// The show's artwork: an absolute URL, or a path relative to the base URL (say
    /// `cover.jpg` copied into DIR).
    pub fn with_image(mut self, image: &str) -> Result<Self> {
        let url = self
            .base_url
            .join(image.trim())
            .map_err(|e| e.to_string())
            .and_then(check_http)
            .map_err(|message| Error::FeedUrl {
                what: "image".into(),
                url: image.to_string(),
                message,
            })?;
        self.image = Some(url.to_string());
        Ok(self)
    }

    /// The base URL, normalized (ends with `/`).
    pub fn base_url(&self) -> &str {
        self.base_url.as_str()
    }

    /// Where the feed itself will be found.
    pub fn feed_url(&self) -> String {
        format!("{}{FEED_FILE}", self.base_url)
    }
}

fn absolute_http_url(text: &str) -> std::result::Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => {
            "not an absolute URL; give it whole, e.g. https://example.com/podcast/".to_string()
        }
        other => other.to_string(),
    })?;
    check_http(url)
}

fn check_http(url: url::Url) -> std::result::Result<url::Url, String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "podcast apps fetch over http:// or https://, not {}:",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL names no host".into());
    }
    Ok(url)
}

/// What `write` did (`aloud feed --json` prints this).
#[derive(Debug, Clone, Serialize)]
pub struct FeedReport {
    /// The feed file written.
    pub feed: PathBuf,
    /// Where the feed will be found once DIR is published at the base URL.
    pub url: String,
    pub title: String,
    pub language: String,
    /// Newest first, as in the feed.
    pub episodes: Vec<Episode>,
    /// Episodes that were not in the feed before.
    pub added: usize,
    /// Episodes already in the feed, their GUID and publication date kept.
    pub kept: usize,
    /// GUIDs of episodes in the previous feed whose narration is gone, now left out.
    pub removed: Vec<String>,
}

/// One episode of the feed.
#[derive(Debug, Clone, Serialize)]
pub struct Episode {
    pub title: String,
    pub guid: String,
    /// The audio published.
    pub audio: PathBuf,
    /// The enclosure's URL.
    pub url: String,
    /// The audio's size in bytes (the enclosure's `length`).
    pub length: u64,
    /// The enclosure's MIME type.
    #[serde(rename = "type")]
    pub mime_type: &'static str,
    /// Seconds, from the timeline.
    pub duration: f64,
    /// RFC 2822, as in the feed.
    pub pub_date: String,
    /// Not in the previous feed.
    pub new: bool,
    /// The Podcasting 2.0 chapters' URL (`OUT.chapters.json`), when they exist.
    pub chapters: Option<String>,
    /// Caption files (`OUT.vtt`, `OUT.srt`) that exist, as `podcast:transcript` links.
    pub transcripts: Vec<Transcript>,
    #[serde(skip)]
    published: OffsetDateTime,
    #[serde(skip)]
    description: String,
    #[serde(skip)]
    voice: String,
    /// Each chapter's title and start in seconds, for `psc:chapters`.
    #[serde(skip)]
    chapter_starts: Vec<(String, f64)>,
}

/// A `podcast:transcript` link.
#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    pub url: String,
    #[serde(rename = "type")]
    pub mime_type: &'static str,
}

/// The caption sidecars a feed links, each with the MIME type `podcast:transcript` expects.
/// WebVTT first: it is what the Podcasting 2.0 spec recommends for captions.
const TRANSCRIPTS: [(SidecarKind, &str); 2] = [
    (SidecarKind::Vtt, "text/vtt"),
    (SidecarKind::Srt, "application/x-subrip"),
];

/// Finds every narration under `dir` and writes `dir/feed.xml` for them, atomically: the old
/// feed (or none) stays until the new one is whole. Nothing is written when `dir` holds no
/// narration, a timeline cannot be read or the existing feed cannot be read back.
pub fn write(dir: &Path, options: &FeedOptions) -> Result<FeedReport> {
    let narrations = find_narrations(dir)?;
    if narrations.is_empty() {
        return Err(Error::FeedEmpty {
            dir: dir.to_path_buf(),
        });
    }
    let feed_path = dir.join(FEED_FILE);
    let previous = read_previous(&feed_path)?;
    let mut episodes = narrations
        .iter()
        .map(|audio| episode(dir, audio, &options.base_url, &previous))
        .collect::<Result<Vec<_>>>()?;
    // Newest first, as apps list them; the GUID settles a tie so reruns write the same bytes.
    episodes.sort_by(|a, b| {
        b.published
            .cmp(&a.published)
            .then_with(|| a.guid.cmp(&b.guid))
    });

    let title = options.title.clone().unwrap_or_else(|| directory_name(dir));
    let channel = Channel {
        description: options
            .description
            .clone()
            .unwrap_or_else(|| format!("{title}: articles read aloud by a synthetic voice.")),
        language: options
            .language
            .clone()
            .unwrap_or_else(|| voices_language(&episodes)),
        author: options.author.clone().unwrap_or_else(|| "aloud".into()),
        category: options.category.clone().unwrap_or_else(|| "News".into()),
        explicit: options.explicit,
        image: options.image.clone(),
        link: options.base_url.to_string(),
        self_url: options.feed_url(),
        title,
    };
    let xml = render(&channel, &episodes).map_err(|e| Error::Output {
        path: feed_path.clone(),
        message: e.to_string(),
    })?;
    crate::fs::write_atomic(&feed_path, &xml)?;

    let mut removed: Vec<String> = previous
        .keys()
        .filter(|guid| !episodes.iter().any(|e| &e.guid == *guid))
        .cloned()
        .collect();
    removed.sort();
    let added = episodes.iter().filter(|e| e.new).count();
    Ok(FeedReport {
        feed: feed_path,
        url: channel.self_url,
        title: channel.title,
        language: channel.language,
        kept: episodes.len() - added,
        added,
        removed,
        episodes,
    })
}

/// The audio of every narration under `dir`, relative to it, in path order: one per
/// timeline, the MP3 when there is also a WAV.
pub fn find_narrations(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut by_timeline = BTreeMap::new();
    walk(dir, dir, &mut by_timeline)?;
    Ok(by_timeline.into_values().collect())
}

fn walk(root: &Path, dir: &Path, found: &mut BTreeMap<PathBuf, PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut entries: Vec<_> = entries
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        // Hidden entries are a batch's state (.aloud-batch), working files (.aloud-*) or
        // the user's own: none is published.
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            walk(root, &path, found)?;
            continue;
        }
        // A linked file is published like any other; a linked directory is not followed,
        // as it could lead back up into DIR and round forever.
        if kind.is_symlink() && !path.is_file() {
            continue;
        }
        if !is_audio(&path) || !timeline_path(&path).is_file() {
            continue;
        }
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let key = timeline_path(relative);
        let better = found
            .get(&key)
            .is_none_or(|earlier| !is_mp3(earlier) && is_mp3(relative));
        if better {
            found.insert(key, relative.to_path_buf());
        }
    }
    Ok(())
}

fn is_audio(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mp3") || e.eq_ignore_ascii_case("wav"))
}

fn is_mp3(path: &Path) -> bool {
    crate::stitch::Container::is_mp3_path(path)
}

/// The feed's entry for the narration whose audio is `relative` under `dir`.
fn episode(
    dir: &Path,
    relative: &Path,
    base: &url::Url,
    previous: &HashMap<String, OffsetDateTime>,
) -> Result<Episode> {
    let audio = dir.join(relative);
    let timeline = read_timeline(&timeline_path(&audio))?;
    let meta = std::fs::metadata(&audio).map_err(|e| Error::io(&audio, e))?;
    let guid = format!("{GUID_PREFIX}{}", encode_path(&relative.with_extension("")));
    let (published, new) = match previous.get(&guid) {
        Some(date) => (*date, false),
        None => (modified(&audio, &meta)?, true),
    };
    let link = |path: &Path| format!("{base}{}", encode_path(path));
    let chapters = SidecarKind::PodcastChapters.path(relative);
    let chapters = dir.join(&chapters).is_file().then(|| link(&chapters));
    let transcripts = TRANSCRIPTS
        .iter()
        .map(|(kind, mime_type)| (kind.path(relative), *mime_type))
        .filter(|(path, _)| dir.join(path).is_file())
        .map(|(path, mime_type)| Transcript {
            url: link(&path),
            mime_type,
        })
        .collect();
    let title = match one_line(&timeline.title) {
        title if title.is_empty() => relative
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        title => title,
    };
    let chapter_starts = timeline
        .chapters
        .iter()
        .map(|c| (one_line(&c.title), c.start))
        .collect();
    Ok(Episode {
        chapter_starts,
        description: describe(&title, &timeline),
        voice: timeline.voice.clone(),
        pub_date: rfc2822(published, &audio)?,
        url: link(relative),
        length: meta.len(),
        mime_type: if is_mp3(relative) {
            "audio/mpeg"
        } else {
            "audio/wav"
        },
        duration: timeline.duration,
        audio,
        title,
        guid,
        new,
        chapters,
        transcripts,
        published,
    })
}

fn read_timeline(path: &Path) -> Result<Timeline> {
    let fail = |message: String| Error::FeedTimeline {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| fail(e.to_string()))
}

/// The audio's modification time to the second: when it was narrated.
fn modified(audio: &Path, meta: &std::fs::Metadata) -> Result<OffsetDateTime> {
    let seconds = meta
        .modified()
        .map_err(|e| Error::io(audio, e))?
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // A clock set before 1970 gives the epoch rather than a date no feed reader takes.
    Ok(i64::try_from(seconds)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

fn rfc2822(date: OffsetDateTime, audio: &Path) -> Result<String> {
    date.format(&Rfc2822).map_err(|e| Error::Output {
        path: audio.to_path_buf(),
        message: format!("its date {date} cannot be written as an RFC 2822 date: {e}"),
    })
}

/// `news/Brief & Co.mp3` -> `news/Brief%20%26%20Co.mp3`: each segment percent-encoded from
/// its bytes, so any file name the filesystem allows gets a URL that fetches that file.
fn encode_path(path: &Path) -> String {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(segment) => {
                Some(percent_encode(segment.as_encoded_bytes(), SEGMENT).to_string())
            }
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The item's description: what it is, and its chapters when there are several.
fn describe(title: &str, timeline: &Timeline) -> String {
    let mut text = format!("{title}, read aloud by a synthetic voice.");
    let chapters: Vec<String> = timeline
        .chapters
        .iter()
        .map(|c| one_line(&c.title))
        .filter(|t| !t.is_empty())
        .collect();
    if chapters.len() > 1 {
        text.push_str(&format!(" Chapters: {}.", chapters.join("; ")));
    }
    text
}

/// `65.4` -> `00:01:05`: `itunes:duration` in whole seconds, as every app reads it.
fn duration_clock(seconds: f64) -> String {
    let total = if seconds.is_finite() {
        seconds.max(0.0).round() as u64
    } else {
        0
    };
    format!(
        "{:02}:{:02}:{:02}",
        total / 3600,
        total / 60 % 60,
        total % 60
    )
}

/// Text on one line with only characters XML 1.0 allows: an article's title can hold a
/// control character, which would make the whole feed unreadable.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| *c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        .collect()
}

/// The directory's own name, even for `.`.
fn directory_name(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .ok()
        .as_deref()
        .and_then(Path::file_name)
        .or_else(|| dir.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Narrations".into())
}

/// The language most episodes' voices speak, from their profiles; `en` when none is known.
fn voices_language(episodes: &[Episode]) -> String {
    let mut profiles: HashMap<&str, Option<String>> = HashMap::new();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for episode in episodes {
        let language = profiles
            .entry(episode.voice.as_str())
            .or_insert_with(|| {
                crate::voice::VoiceProfile::find(&episode.voice)
                    .ok()
                    .map(|p| p.language)
                    .filter(|l| !l.trim().is_empty())
            })
            .clone();
        if let Some(language) = language {
            match counts.iter_mut().find(|(l, _)| *l == language) {
                Some((_, n)) => *n += 1,
                None => counts.push((language, 1)),
            }
        }
    }
    // The first language seen wins a tie: `max_by_key` would take the last.
    let mut best: Option<(String, usize)> = None;
    for (language, n) in counts {
        if best.as_ref().is_none_or(|(_, m)| n > *m) {
            best = Some((language, n));
        }
    }
    best.map_or_else(|| "en".to_string(), |(l, _)| l)
}

/// The GUIDs of the existing feed's items with the publication dates it gave them. No feed
/// yet: none.
fn read_previous(path: &Path) -> Result<HashMap<String, OffsetDateTime>> {
    let fail = |message: String| Error::FeedUnreadable {
        path: path.to_path_buf(),
        message,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(fail(e.to_string())),
    };
    previous_dates(&text).map_err(|message| {
        fail(format!(
            "{message}; fix it, or move it away to date every episode anew"
        ))
    })
}

/// `item/guid` -> `item/pubDate` in a feed's XML. An item without either is skipped: it
/// has nothing to keep.
fn previous_dates(xml: &str) -> std::result::Result<HashMap<String, OffsetDateTime>, String> {
    let mut reader = Reader::from_str(xml);
    let mut dates = HashMap::new();
    let mut open: Vec<String> = Vec::new();
    let mut text = String::new();
    let (mut guid, mut date) = (None, None);
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "not well-formed XML near byte {}: {e}",
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(start) => {
                let name = start.name().as_ref().to_string();
                if name == "item" {
                    (guid, date) = (None, None);
                }
                open.push(name);
                text.clear();
            }
            Event::End(_) => {
                let closed = open.pop();
                let in_item = open.last().is_some_and(|p| p == "item");
                match closed.as_deref() {
                    Some("guid") if in_item => guid = Some(text.trim().to_string()),
                    Some("pubDate") if in_item => date = Some(text.trim().to_string()),
                    Some("item") => {
                        if let (Some(guid), Some(date)) = (guid.take(), date.take()) {
                            let when = OffsetDateTime::parse(&date, &Rfc2822).map_err(|e| {
                                format!(
                                    "episode {guid}: pubDate '{date}' is not an RFC 2822 date ({e})"
                                )
                            })?;
                            dates.insert(guid, when);
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(c) => text.push_str(&c.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&reference)
                        .ok_or_else(|| format!("unknown entity &{};", &*reference))?
                        .to_string(),
                };
                text.push_str(&resolved);
            }
            // A feed cut short (a disk that filled, a copy interrupted) may have lost
            // dates: it is not taken as complete.
            Event::Eof if !open.is_empty() => {
                return Err(format!("it ends inside <{}>", open.join("><")));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(dates)
}

/// The channel's own elements.
struct Channel {
    title: String,
    link: String,
    self_url: String,
    description: String,
    language: String,
    author: String,
    category: String,
    explicit: bool,
    image: Option<String>,
}

/// The feed's XML. quick-xml escapes every text and attribute value.
fn render(channel: &Channel, episodes: &[Episode]) -> std::io::Result<Vec<u8>> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer
        .create_element("rss")
        .with_attributes([
            ("version", "2.0"),
            ("xmlns:itunes", ITUNES_NAMESPACE),
            ("xmlns:podcast", PODCAST_NAMESPACE),
            ("xmlns:atom", ATOM_NAMESPACE),
            ("xmlns:psc", PSC_NAMESPACE),
        ])
        .write_inner_content(|w| {
            w.create_element("channel").write_inner_content(|w| {
                write_channel(w, channel)?;
                for episode in episodes {
                    write_item(w, episode)?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    let mut xml = writer.into_inner();
    xml.push(b'\n');
    Ok(xml)
}

fn text_element<W: Write>(w: &mut Writer<W>, name: &str, text: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&one_line(text)))?;
    Ok(())
}

fn write_channel<W: Write>(w: &mut Writer<W>, channel: &Channel) -> std::io::Result<()> {
    text_element(w, "title", &channel.title)?;
    text_element(w, "link", &channel.link)?;
    text_element(w, "description", &channel.description)?;
    text_element(w, "language", &channel.language)?;
    text_element(w, "generator", concat!("aloud ", env!("CARGO_PKG_VERSION")))?;
    w.create_element("atom:link")
        .with_attributes([
            ("href", channel.self_url.as_str()),
            ("rel", "self"),
            ("type", "application/rss+xml"),
        ])
        .write_empty()?;
    text_element(w, "itunes:author", &channel.author)?;
    w.create_element("itunes:category")
        .with_attribute(("text", one_line(&channel.category).as_str()))
        .write_empty()?;
    text_element(
        w,
        "itunes:explicit",
        if channel.explicit { "true" } else { "false" },
    )?;
    text_element(w, "itunes:type", "episodic")?;
    if let Some(image) = &channel.image {
        w.create_element("itunes:image")
            .with_attribute(("href", image.as_str()))
            .write_empty()?;
        w.create_element("image").write_inner_content(|w| {
            text_element(w, "url", image)?;
            text_element(w, "title", &channel.title)?;
            text_element(w, "link", &channel.link)
        })?;
    }
    Ok(())
}

fn write_item<W: Write>(w: &mut Writer<W>, episode: &Episode) -> std::io::Result<()> {
    w.create_element("item").write_inner_content(|w| {
        text_element(w, "title", &episode.title)?;
        text_element(w, "description", &episode.description)?;
        w.create_element("enclosure")
            .with_attributes([
                ("url", episode.url.as_str()),
                ("length", episode.length.to_string().as_str()),
                ("type", episode.mime_type),
            ])
            .write_empty()?;
        w.create_element("guid")
            .with_attribute(("isPermaLink", "false"))
            .write_text_content(BytesText::new(&episode.guid))?;
        text_element(w, "pubDate", &episode.pub_date)?;
        text_element(w, "itunes:duration", &duration_clock(episode.duration))?;
        text_element(w, "itunes:episodeType", "full")?;
        if let Some(chapters) = &episode.chapters {
            w.create_element("podcast:chapters")
                .with_attributes([
                    ("url", chapters.as_str()),
                    ("type", "application/json+chapters"),
                ])
                .write_empty()?;
        }
        if !episode.chapter_starts.is_empty() {
            w.create_element("psc:chapters")
                .with_attribute(("version", "1.2"))
                .write_inner_content(|w| {
                    for (title, start) in &episode.chapter_starts {
                        // Podlove's starts are Normal Play Time: `01:02:03.500`.
                        w.create_element("psc:chapter")
                            .with_attributes([
                                ("start", timestamp(*start, '.').as_str()),
                                ("title", title.as_str()),
                            ])
                            .write_empty()?;
                    }
                    Ok(())
                })?;
        }
        for transcript in &episode.transcripts {
            // Both caption formats are timed to the audio: `rel="captions"` lets an app
            // show them as it plays.
            w.create_element("podcast:transcript")
                .with_attributes([
                    ("url", transcript.url.as_str()),
                    ("type", transcript.mime_type),
                    ("rel", "captions"),
                ])
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests;
