//! The read-along player beside a narration: a self-contained `OUT.html` (audio, title,
//! chapters and the transcript highlighted as it is spoken) and the reusable `<aloud-player>`
//! web component, `aloud-player.js`, that a publisher embeds in an article page.
//!
//! The page inlines both the component and the timeline, because a page opened from `file://`
//! may not fetch a JSON file beside it; the component on its own fetches the timeline named by
//! its `timeline=` attribute.

use crate::audio::AudioFormat;
use crate::error::{Error, Result};
use crate::narrate::excerpt;
use crate::sidecar::{Starts, Timeline, timeline_path};
use serde::Serialize;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The web component: written beside every page as [`SCRIPT_NAME`], and inlined in the page.
pub const SCRIPT: &str = include_str!("aloud-player.js");

/// The component's file name beside the page (one per directory, shared by every page there).
pub const SCRIPT_NAME: &str = "aloud-player.js";

/// How far a timeline's duration may be from the audio's measured length and still be that
/// audio's timeline. aloud writes both from one count of samples (they agree to the sample);
/// a timeline of another narration, even of the same article, is off by far more.
pub const DURATION_TOLERANCE: f64 = 0.1;

/// What [`write`](fn@write) wrote, and what it was built from (`--json` prints this).
#[derive(Debug, Clone, Serialize)]
pub struct PlayerFiles {
    /// `OUT.html`.
    pub page: PathBuf,
    /// `aloud-player.js` beside it.
    pub script: PathBuf,
    pub audio: PathBuf,
    pub timeline: PathBuf,
    /// The audio's measured length in seconds.
    pub duration: f64,
}

/// `story.mp3` -> `story.html`, in the same directory.
pub fn page_path(audio: &Path) -> PathBuf {
    audio.with_extension("html")
}

/// Writes the player for `audio` (a WAV or MP3 aloud made): `OUT.html` and `aloud-player.js`
/// beside it, from the `OUT.timeline.json` beside it. The timeline must be this audio's (its
/// duration is checked against the audio's measured length); on any error nothing is written.
pub fn write(audio: &Path) -> Result<PlayerFiles> {
    let page = page_path(audio);
    let script = audio.with_file_name(SCRIPT_NAME);
    if page == audio || script == audio {
        return Err(Error::PlayerAudio {
            path: audio.to_path_buf(),
            message: format!(
                "the player's {} would replace it; give a .wav or .mp3",
                if page == audio { "page" } else { "script" }
            ),
        });
    }
    let duration = measure(audio)?;
    let timeline_file = timeline_path(audio);
    let timeline = read_timeline(audio, &timeline_file)?;
    check(&timeline, &timeline_file, audio, duration)?;
    let name = audio.file_name().ok_or_else(|| Error::PlayerAudio {
        path: audio.to_path_buf(),
        message: "the path does not name a file".into(),
    })?;
    // Both files are whole on disk before either is renamed into place; the page, which is
    // complete without the script, appears last.
    let prepared_page = crate::fs::prepare(&page, render(&timeline, name).as_bytes())?;
    let prepared_script = crate::fs::prepare(&script, SCRIPT.as_bytes())?;
    prepared_script.commit()?;
    prepared_page.commit()?;
    Ok(PlayerFiles {
        page,
        script,
        audio: audio.to_path_buf(),
        timeline: timeline_file,
        duration,
    })
}

/// The length of `audio` in seconds: a WAV's from its header, an MP3's (or FLAC's, Ogg's) by
/// decoding it packet by packet with the decoder `aloud inspect` uses, so an MP3's encoder
/// delay and padding are left out as players leave them out.
pub fn measure(audio: &Path) -> Result<f64> {
    let unreadable = |message: String| Error::PlayerAudio {
        path: audio.to_path_buf(),
        message,
    };
    let mut head = [0u8; 64];
    let read = {
        use std::io::Read;
        let mut file = match std::fs::File::open(audio) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::InputNotFound {
                    path: audio.to_path_buf(),
                });
            }
            Err(e) => return Err(Error::io(audio, e)),
        };
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(unreadable("it is a directory".into()));
        }
        let mut read = 0;
        loop {
            match file.read(&mut head[read..]) {
                Ok(0) => break read,
                Ok(n) => {
                    read += n;
                    if read == head.len() {
                        break read;
                    }
                }
                Err(e) => return Err(Error::io(audio, e)),
            }
        }
    };
    let seconds = match crate::audio::sniff(&head[..read]) {
        AudioFormat::Wav => {
            let summary = crate::stitch::markers::read_wav_summary(audio)
                .map_err(|e| unreadable(e.to_string()))?;
            if summary.sample_rate == 0 {
                return Err(unreadable("its header gives a sample rate of 0".into()));
            }
            summary.frames as f64 / f64::from(summary.sample_rate)
        }
        AudioFormat::Mp3 | AudioFormat::Flac | AudioFormat::Ogg => {
            let mut frames = 0u64;
            let rate = crate::audio::decode_file_each(audio, &mut |block, _| {
                frames += block.len() as u64;
                Ok(())
            })
            .map_err(|e| unreadable(e.to_string()))?;
            if rate == 0 {
                return Err(unreadable("the stream gives no sample rate".into()));
            }
            frames as f64 / f64::from(rate)
        }
        AudioFormat::Unknown => {
            return Err(unreadable(
                "not a WAV or MP3 file (the player plays what `aloud narrate` writes)".into(),
            ));
        }
    };
    Ok(seconds)
}

/// The timeline at `path`, with errors that say which audio needed it.
fn read_timeline(audio: &Path, path: &Path) -> Result<Timeline> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::TimelineMissing {
                audio: audio.to_path_buf(),
                timeline: path.to_path_buf(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(Error::TimelineInvalid {
                path: path.to_path_buf(),
                message: "not UTF-8 text".into(),
            });
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    serde_json::from_str(&text).map_err(|e| Error::TimelineInvalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Refuses a timeline that is not `audio`'s, or whose times cannot be laid on it.
fn check(timeline: &Timeline, path: &Path, audio: &Path, audio_seconds: f64) -> Result<()> {
    if (timeline.duration - audio_seconds).abs() > DURATION_TOLERANCE {
        return Err(Error::TimelineMismatch {
            audio: audio.to_path_buf(),
            timeline: path.to_path_buf(),
            audio_seconds,
            timeline_seconds: timeline.duration,
        });
    }
    let invalid = |message: String| Error::TimelineInvalid {
        path: path.to_path_buf(),
        message,
    };
    let end = timeline.duration + DURATION_TOLERANCE;
    let spans = timeline
        .chapters
        .iter()
        .map(|c| ("chapter", &c.title, c.start, c.end))
        .chain(
            timeline
                .sentences
                .iter()
                .map(|s| ("sentence", &s.text, s.start, s.end)),
        );
    for (kind, text, start, stop) in spans {
        if !(0.0 <= start && start <= stop && stop <= end) {
            return Err(invalid(format!(
                "{kind} \"{}\" runs from {start:.3} s to {stop:.3} s, outside the {:.3} s \
                 of audio",
                excerpt(text),
                timeline.duration
            )));
        }
    }
    for (kind, starts) in [
        (
            "chapters",
            timeline
                .chapters
                .iter()
                .map(|c| c.start)
                .collect::<Vec<_>>(),
        ),
        (
            "sentences",
            timeline.sentences.iter().map(|s| s.start).collect(),
        ),
    ] {
        if starts.windows(2).any(|w| w[1] < w[0]) {
            return Err(invalid(format!("its {kind} are not in time order")));
        }
    }
    Ok(())
}

/// What the page inlines of the timeline: what the player shows, without word timings and
/// source offsets, which only make the page larger.
#[derive(Serialize)]
struct PageTimeline<'a> {
    title: &'a str,
    duration: f64,
    chapters: &'a [crate::sidecar::TimedChapter],
    sentences: Vec<PageSentence<'a>>,
}

#[derive(Serialize)]
struct PageSentence<'a> {
    text: &'a str,
    start: f64,
    end: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    starts: Option<Starts>,
}

/// The self-contained page for `timeline`, playing the audio file named `audio_file` beside it.
/// Its empty `data:` icon keeps browsers from asking a static host for `/favicon.ico`, which
/// most answer 404 and the console reports as an error.
pub fn render(timeline: &Timeline, audio_file: &OsStr) -> String {
    let inlined = PageTimeline {
        title: &timeline.title,
        duration: timeline.duration,
        chapters: &timeline.chapters,
        sentences: timeline
            .sentences
            .iter()
            .map(|s| PageSentence {
                text: &s.text,
                start: s.start,
                end: s.end,
                starts: s.starts,
            })
            .collect(),
    };
    let src = escape(&url_path_segment(audio_file));
    let title = escape(&timeline.title);
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="aloud {version}">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>
:root {{ color-scheme: light dark; }}
body {{ margin: 0; padding: 1.5rem 1rem 3rem; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }}
main {{ max-width: 46rem; margin: 0 auto; }}
aloud-player::part(transcript) {{ height: auto; max-height: max(12rem, calc(100vh - 26rem)); }}
</style>
</head>
<body>
<main>
<aloud-player src="{src}" heading-level="1">
<script type="application/json">{json}</script>
<noscript>
{fallback}</noscript>
</aloud-player>
</main>
<script>
{script}</script>
</body>
</html>
"#,
        version = env!("CARGO_PKG_VERSION"),
        json = script_json(&inlined),
        fallback = fallback(timeline, &src),
        script = SCRIPT,
    )
}

/// JSON that can sit inside `<script>`: `<` only ever occurs inside JSON strings, where
/// `\u003c` means the same, so `</script>` and `<!--` in an article cannot end or bend the
/// element.
fn script_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_default()
        .replace('<', "\\u003c")
}

/// The page without JavaScript: the title, the browser's own audio controls and the
/// transcript in headings and paragraphs.
fn fallback(timeline: &Timeline, src: &str) -> String {
    let mut out = format!(
        "<h1>{}</h1>\n<p><audio controls preload=\"none\" src=\"{src}\"></audio></p>\n",
        escape(&timeline.title)
    );
    let mut paragraph = false;
    for (i, sentence) in timeline.sentences.iter().enumerate() {
        let heading = sentence.starts == Some(Starts::Heading);
        if heading || sentence.starts == Some(Starts::Paragraph) || i == 0 {
            if paragraph {
                out.push_str("</p>\n");
                paragraph = false;
            }
        } else {
            out.push(' ');
        }
        if heading {
            // The title is spoken as the first heading; it is already the page's <h1>.
            if i > 0 || sentence.text.trim() != timeline.title.trim() {
                out.push_str(&format!("<h2>{}</h2>\n", escape(&sentence.text)));
            }
            continue;
        }
        if !paragraph {
            out.push_str("<p>");
            paragraph = true;
        }
        out.push_str(&escape(&sentence.text));
    }
    if paragraph {
        out.push_str("</p>\n");
    }
    out
}

/// Text safe in HTML content and in double- or single-quoted attributes (`&apos;` is
/// HTML5's too).
fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// A file name as a relative URL: every byte but RFC 3986's unreserved characters is
/// percent-encoded, so `#`, `?`, `%`, spaces and `:` stay part of the name. A Unix name that
/// is not UTF-8 keeps its own bytes, which is what a web server matches.
fn url_path_segment(name: &OsStr) -> String {
    let mut out = String::new();
    for &byte in name.as_encoded_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
