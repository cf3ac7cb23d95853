//! `aloud feed` and `aloud batch --feed` end to end: real narrations (an MP3 and a WAV) put in
//! a feed that two parsers that are not ours (Python's feedparser and podcastparser) read back,
//! every link fetched from a static web server on loopback, reruns that add no duplicate and
//! keep each episode's GUID and date, and bad input refused with nothing written.

mod common;

use aloud::sidecar::Timeline;
use common::run_aloud;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime};

/// 2024-01-02 03:04:05 UTC.
const JAN_2: u64 = 1_704_164_645;

fn succeeded(output: &Output) -> &Output {
    assert!(
        output.status.success(),
        "aloud failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&succeeded(output).stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON on stdout ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Exit status 1 and exactly one line on stderr, `aloud: error: ...`; that line.
fn one_error_line(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr}");
    assert!(lines[0].starts_with("aloud: error: "), "{stderr}");
    lines[0].to_string()
}

fn set_modified(path: &Path, when: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

/// A static web server (Python's http.server) serving `root` on loopback, stopped on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(python: &Path, root: &Path) -> Server {
        let port = common::free_port();
        let mut child = Command::new(python)
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .arg("--directory")
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        common::wait_until_answers(&mut child, port, "/");
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the feed at argv[1] with feedparser and with podcastparser, and fetches every URL
/// given after it and every URL the parsers found; prints all of it as JSON.
///
/// podcastparser 0.6.11 knows the Podcasting 2.0 namespace only by its first address (the
/// spec's GitHub page), which the spec says every client must take as the same namespace; so
/// it reads the feed twice, as written and with that address declared instead.
const READER: &str = r#"
import calendar, io, json, sys, urllib.request
import feedparser, podcastparser

path, feed_url, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = open(path, 'rb').read()

fp = feedparser.parse(raw)
def fp_item(e):
    return {
        'title': e.get('title'),
        'guid': e.get('id'),
        'guidislink': e.get('guidislink'),
        'enclosures': [{'url': x.get('href'), 'length': int(x.get('length')), 'type': x.get('type')}
                       for x in e.get('enclosures', [])],
        'duration': e.get('itunes_duration'),
        'published': calendar.timegm(e.published_parsed) if e.get('published_parsed') else None,
        'chapters': e.get('podcast_chapters'),
        'transcript': e.get('podcast_transcript'),
    }
feed = fp.feed
result = {'feedparser': {
    'bozo': bool(fp.bozo), 'bozo_exception': str(fp.get('bozo_exception')), 'version': fp.version,
    'title': feed.get('title'), 'language': feed.get('language'), 'author': feed.get('author'),
    'self': [l.get('href') for l in feed.get('links', []) if l.get('rel') == 'self'],
    'items': [fp_item(e) for e in fp.entries],
}}

def pp(data):
    parsed = podcastparser.parse(feed_url, io.BytesIO(data))
    return {'title': parsed.get('title'), 'language': parsed.get('language'), 'episodes': [{
        'title': e.get('title'), 'guid': e.get('guid'), 'published': e.get('published'),
        'total_time': e.get('total_time'), 'enclosures': e.get('enclosures'),
        'chapters': e.get('chapters', []), 'chapters_json_url': e.get('chapters_json_url'),
        'transcript_url': e.get('transcript_url'),
    } for e in parsed['episodes']]}
canonical = b'xmlns:podcast="https://podcastindex.org/namespace/1.0"'
first_address = b'xmlns:podcast="https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"'
assert raw.count(canonical) == 1, 'the feed declares the podcast namespace once'
result['podcastparser'] = pp(raw)
result['podcastparser_first_address'] = pp(raw.replace(canonical, first_address))

urls = set(extra)
for item in result['feedparser']['items']:
    urls.update(x['url'] for x in item['enclosures'])
    for link in (item['chapters'], item['transcript']):
        if link:
            urls.add(link['url'])
for e in result['podcastparser_first_address']['episodes']:
    urls.update(x['url'] for x in e['enclosures'])
    urls.update(u for u in (e['chapters_json_url'], e['transcript_url']) if u)
fetched = {}
for url in sorted(urls):
    with urllib.request.urlopen(url, timeout=10) as answer:
        body = answer.read()
        fetched[url] = {'status': answer.status, 'bytes': len(body),
                        'start': body[:16].decode('latin-1')}
result['fetched'] = fetched
print(json.dumps(result))
"#;

fn read_feed(python: &Path, feed: &Path, feed_url: &str, urls: &[String]) -> serde_json::Value {
    let output = Command::new(python)
        .args(["-c", READER])
        .arg(feed)
        .arg(feed_url)
        .args(urls)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the reader failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `00:01:05` -> 65.
fn clock_seconds(text: &str) -> f64 {
    text.split(':').fold(0.0, |total, part| {
        total * 60.0 + part.parse::<f64>().unwrap()
    })
}

/// What the feed should say of one narration.
struct Expected {
    title: String,
    guid: &'static str,
    audio: PathBuf,
    url: String,
    mime_type: &'static str,
    timeline: Timeline,
    published: u64,
    chapters_url: String,
    /// The last `podcast:transcript`: the one both parsers keep.
    transcript: (String, &'static str),
    /// Every linked file a static host must serve.
    links: Vec<String>,
}

fn expected(
    pod: &Path,
    base: &str,
    relative: &str,
    encoded_stem: &str,
    guid: &'static str,
    transcripts: &[(&str, &'static str)],
) -> Expected {
    let audio = pod.join(relative);
    let timeline = Timeline::read(&aloud::sidecar::timeline_path(&audio)).unwrap();
    let published = std::fs::metadata(&audio)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let extension = Path::new(relative).extension().unwrap().to_str().unwrap();
    let url = format!("{base}{encoded_stem}.{extension}");
    let chapters_url = format!("{base}{encoded_stem}.chapters.json");
    let (last, mime_type) = transcripts.last().unwrap();
    let mut links = vec![url.clone(), chapters_url.clone()];
    links.extend(
        transcripts
            .iter()
            .map(|(ext, _)| format!("{base}{encoded_stem}.{ext}")),
    );
    Expected {
        title: timeline.title.clone(),
        guid,
        mime_type: if extension == "mp3" {
            "audio/mpeg"
        } else {
            "audio/wav"
        },
        url,
        chapters_url,
        transcript: (format!("{base}{encoded_stem}.{last}"), mime_type),
        links,
        audio,
        timeline,
        published,
    }
}

/// Everything both parsers read back agrees with the narrations, newest first, and every
/// link the feed holds is served by the static host.
fn check_feed(read: &serde_json::Value, episodes: &[&Expected], title: &str, feed_url: &str) {
    let fp = &read["feedparser"];
    assert_eq!(fp["bozo"], false, "feedparser: {}", fp["bozo_exception"]);
    assert_eq!(fp["version"], "rss20");
    assert_eq!(fp["title"], title);
    assert_eq!(fp["language"], "en-US");
    assert_eq!(fp["self"], serde_json::json!([feed_url]));
    let items = fp["items"].as_array().unwrap();
    assert_eq!(items.len(), episodes.len(), "feedparser items: {items:?}");
    let parsed = read["podcastparser"]["episodes"].as_array().unwrap();
    let parsed_again = read["podcastparser_first_address"]["episodes"]
        .as_array()
        .unwrap();
    assert_eq!(parsed.len(), episodes.len());
    assert_eq!(parsed_again.len(), episodes.len());
    assert_eq!(read["podcastparser"]["title"], title);

    for (i, want) in episodes.iter().enumerate() {
        let length = std::fs::metadata(&want.audio).unwrap().len();
        let item = &items[i];
        assert_eq!(item["title"], want.title.as_str());
        assert_eq!(item["guid"], want.guid);
        assert_eq!(item["guidislink"], false);
        assert_eq!(
            item["enclosures"],
            serde_json::json!([{"url": want.url, "length": length, "type": want.mime_type}])
        );
        let duration = clock_seconds(item["duration"].as_str().unwrap());
        assert!(
            (duration - want.timeline.duration).abs() <= 1.0,
            "{}: itunes:duration {duration} s, timeline {} s",
            want.guid,
            want.timeline.duration
        );
        assert_eq!(item["published"], want.published, "{}", want.guid);
        assert_eq!(
            item["chapters"],
            serde_json::json!({"url": want.chapters_url, "type": "application/json+chapters"})
        );
        assert_eq!(
            item["transcript"],
            serde_json::json!({"url": want.transcript.0, "type": want.transcript.1, "rel": "captions"})
        );

        for (reader, episode) in [("podcastparser", &parsed[i]), ("again", &parsed_again[i])] {
            assert_eq!(episode["title"], want.title.as_str(), "{reader}");
            assert_eq!(episode["guid"], want.guid, "{reader}");
            assert_eq!(episode["published"], want.published, "{reader}");
            assert_eq!(
                episode["enclosures"],
                serde_json::json!([{"url": want.url, "file_size": length, "mime_type": want.mime_type}]),
                "{reader}"
            );
            let total = episode["total_time"].as_f64().unwrap();
            assert!((total - want.timeline.duration).abs() <= 1.0, "{reader}");
            // Podlove Simple Chapters, inline: every chapter's title and start (whole seconds).
            let chapters = episode["chapters"].as_array().unwrap();
            assert_eq!(chapters.len(), want.timeline.chapters.len(), "{reader}");
            for (read, chapter) in chapters.iter().zip(&want.timeline.chapters) {
                assert_eq!(read["title"], chapter.title.as_str(), "{reader}");
                let start = read["start"].as_f64().unwrap();
                assert!((start - chapter.start).abs() <= 1.0, "{reader}");
            }
        }
        // As written, podcastparser 0.6.11 passes over the podcast:* tags (it knows the
        // namespace only by its first address); with that address it reads both links.
        assert_eq!(parsed[i]["chapters_json_url"], serde_json::Value::Null);
        assert_eq!(parsed[i]["transcript_url"], serde_json::Value::Null);
        assert_eq!(
            parsed_again[i]["chapters_json_url"],
            want.chapters_url.as_str()
        );
        assert_eq!(
            parsed_again[i]["transcript_url"],
            want.transcript.0.as_str()
        );

        // Published at the base URL, every link fetches the file it names.
        for link in &want.links {
            let fetched = &read["fetched"][link];
            assert_eq!(fetched["status"], 200, "{link}: {fetched}");
        }
        assert_eq!(read["fetched"][&want.url]["bytes"], length);
        assert_eq!(
            read["fetched"][&want.transcript.0]["start"]
                .as_str()
                .unwrap()
                .starts_with("WEBVTT"),
            want.transcript.1 == "text/vtt"
        );
        let chapters = &read["fetched"][&want.chapters_url]["start"];
        assert!(chapters.as_str().unwrap().starts_with('{'), "{chapters}");
    }
}

fn narrate(root: &Path, input: &str, output: &str, sidecars: &str) {
    let voice = common::deterministic_voice();
    let cache = root.join("cache");
    succeeded(&run_aloud(
        &[
            "narrate",
            input,
            "-o",
            output,
            "--voice",
            &voice,
            "--sidecars",
            sidecars,
            "--cache-dir",
            cache.to_str().unwrap(),
            "--quiet",
        ],
        root,
    ));
}

#[test]
fn a_feed_of_real_narrations_reads_back_in_two_parsers_and_reruns_add_no_duplicate() {
    let Some(python) = common::venv_python("feedparser, podcastparser") else {
        common::skip_or_fail(
            "the test venv lacks feedparser and podcastparser (scripts/test installs them)",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let pod = root.join("pod");
    std::fs::create_dir_all(pod.join("news")).unwrap();
    std::fs::write(
        root.join("tides.md"),
        "# Tides & Moons\n\nThe sea rises and falls twice a day.\n\n\
         ## Spring Tides\n\nWhen the sun and moon line up, the tides run higher.\n",
    )
    .unwrap();
    std::fs::write(
        root.join("brief.txt"),
        "Library Hours\n\nThe library opens at nine. It closes at five.\n",
    )
    .unwrap();
    narrate(root, "tides.md", "pod/tides.mp3", "vtt,podcast-chapters");
    narrate(
        root,
        "brief.txt",
        "pod/news/Brief & Co.wav",
        "vtt,srt,podcast-chapters",
    );
    set_modified(&pod.join("tides.mp3"), at(JAN_2));
    set_modified(&pod.join("news/Brief & Co.wav"), at(JAN_2 + 60));

    let server = Server::start(&python, root);
    let base = format!("http://127.0.0.1:{}/pod/", server.port);
    let feed_url = format!("{base}feed.xml");
    let title = "Morning & <Evening> Reads";
    let feed_args = [
        "feed",
        "pod",
        "--base-url",
        // No trailing slash: the directory all the same.
        base.trim_end_matches('/'),
        "--title",
        title,
        "--json",
    ];
    let report = json(&run_aloud(&feed_args, root));
    assert_eq!(report["url"], feed_url.as_str());
    assert_eq!(
        (report["added"].as_u64(), report["kept"].as_u64()),
        (Some(2), Some(0))
    );

    let tides = expected(
        &pod,
        &base,
        "tides.mp3",
        "tides",
        "aloud:tides",
        &[("vtt", "text/vtt")],
    );
    let brief = expected(
        &pod,
        &base,
        "news/Brief & Co.wav",
        "news/Brief%20%26%20Co",
        "aloud:news/Brief%20%26%20Co",
        &[("vtt", "text/vtt"), ("srt", "application/x-subrip")],
    );
    assert_eq!(tides.title, "Tides & Moons");
    let links: Vec<String> = tides.links.iter().chain(&brief.links).cloned().collect();
    let feed = pod.join("feed.xml");
    let read = read_feed(&python, &feed, &feed_url, &links);
    check_feed(&read, &[&brief, &tides], title, &feed_url);

    // The same feed again: the same bytes, nothing added.
    let first = std::fs::read(&feed).unwrap();
    let again = json(&run_aloud(&feed_args, root));
    assert_eq!(
        (again["added"].as_u64(), again["kept"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(std::fs::read(&feed).unwrap(), first);

    // `tides` narrated again (its audio newer), and a batch adds a third article with the
    // feed rewritten after it.
    set_modified(&pod.join("tides.mp3"), SystemTime::now());
    let articles = root.join("articles");
    std::fs::create_dir_all(&articles).unwrap();
    std::fs::write(
        articles.join("ferry.md"),
        "# Ferry Returns\n\nThe harbour ferry runs again from Monday.\n",
    )
    .unwrap();
    let voice = common::deterministic_voice();
    let cache = root.join("cache");
    let batch_args = [
        "batch",
        "articles",
        "--out-dir",
        "pod",
        "--voice",
        &voice,
        "--cache-dir",
        cache.to_str().unwrap(),
        "--jobs",
        "1",
        "--json",
        "--feed",
        "--base-url",
        &base,
        "--feed-title",
        title,
    ];
    let batch = json(&run_aloud(&batch_args, root));
    assert_eq!(batch["narrated"], 1);
    assert_eq!(
        (
            batch["feed"]["added"].as_u64(),
            batch["feed"]["kept"].as_u64()
        ),
        (Some(1), Some(2))
    );
    // The batch wrote the Podcasting 2.0 chapters the feed links, without being asked.
    assert!(pod.join("ferry.chapters.json").is_file());
    let ferry = expected(
        &pod,
        &base,
        "ferry.wav",
        "ferry",
        "aloud:ferry",
        &[("vtt", "text/vtt")],
    );
    let mut tides = tides;
    tides.published = JAN_2; // kept from the feed, though the audio is newer now
    let links: Vec<String> = [&ferry, &brief, &tides]
        .iter()
        .flat_map(|e| e.links.clone())
        .collect();
    let read = read_feed(&python, &feed, &feed_url, &links);
    check_feed(&read, &[&ferry, &brief, &tides], title, &feed_url);

    // The batch again: nothing to narrate, the same feed.
    let after_batch = std::fs::read(&feed).unwrap();
    let rerun = json(&run_aloud(&batch_args, root));
    assert_eq!(
        (rerun["narrated"].as_u64(), rerun["skipped"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(
        (
            rerun["feed"]["added"].as_u64(),
            rerun["feed"]["kept"].as_u64()
        ),
        (Some(0), Some(3))
    );
    assert_eq!(std::fs::read(&feed).unwrap(), after_batch);
    drop(server);
}

/// A narration as far as the feed cares: some audio bytes and a timeline beside them.
fn fake_narration(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("{name}.wav")), b"RIFF").unwrap();
    std::fs::write(
        dir.join(format!("{name}.timeline.json")),
        r#"{"title": "T", "voice": "joe", "sample_rate": 22050, "duration": 1.0, "chapters": [], "sentences": []}"#,
    )
    .unwrap();
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn bad_input_is_refused_with_one_error_line_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let base = "https://example.com/pod/";

    // No narrations: only a hidden batch state and audio without a timeline.
    let empty = root.join("empty");
    std::fs::create_dir_all(empty.join(".aloud-batch")).unwrap();
    fake_narration(&empty.join(".aloud-batch"), "hidden");
    std::fs::write(empty.join("music.mp3"), b"ID3").unwrap();
    let before = entries(&empty);
    let line = one_error_line(&run_aloud(&["feed", "empty", "--base-url", base], root));
    assert!(line.contains("empty: no narrations"), "{line}");
    assert!(
        line.contains(".timeline.json"),
        "says what it looked for: {line}"
    );
    assert_eq!(entries(&empty), before);

    // A base URL that is not absolute http(s), or that has a query.
    let pod = root.join("pod");
    fake_narration(&pod, "a");
    for bad in [
        "example.com/pod",
        "ftp://example.com/pod/",
        "https://example.com/?a=1",
    ] {
        let line = one_error_line(&run_aloud(&["feed", "pod", "--base-url", bad], root));
        assert!(line.contains(&format!("feed base URL '{bad}'")), "{line}");
        assert_eq!(entries(&pod), ["a.timeline.json", "a.wav"]);
    }

    // A timeline that is not one is named.
    std::fs::write(pod.join("a.timeline.json"), "not json").unwrap();
    let line = one_error_line(&run_aloud(&["feed", "pod", "--base-url", base], root));
    assert!(line.contains("a.timeline.json"), "{line}");
    assert_eq!(entries(&pod), ["a.timeline.json", "a.wav"]);

    // An existing feed that cannot be read back is not written over.
    fake_narration(&pod, "a");
    std::fs::write(pod.join("feed.xml"), "<rss><channel><item>").unwrap();
    let line = one_error_line(&run_aloud(&["feed", "pod", "--base-url", base], root));
    assert!(
        line.contains("feed.xml: cannot read the existing feed"),
        "{line}"
    );
    assert_eq!(
        std::fs::read_to_string(pod.join("feed.xml")).unwrap(),
        "<rss><channel><item>"
    );

    // A batch's feed is checked before anything is narrated.
    let articles = root.join("articles");
    std::fs::create_dir_all(&articles).unwrap();
    std::fs::write(articles.join("a.txt"), "Title\n\nOne sentence.\n").unwrap();
    let no_url = run_aloud(&["batch", "articles", "--out-dir", "out", "--feed"], root);
    assert_eq!(no_url.status.code(), Some(2), "{no_url:?}");
    assert!(String::from_utf8_lossy(&no_url.stderr).contains("--base-url"));
    let line = one_error_line(&run_aloud(
        &[
            "batch",
            "articles",
            "--out-dir",
            "out",
            "--feed",
            "--base-url",
            "ftp://x/",
        ],
        root,
    ));
    assert!(line.contains("feed base URL 'ftp://x/'"), "{line}");
    assert!(!root.join("out").exists());
}
