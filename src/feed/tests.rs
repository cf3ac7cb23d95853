//! Tests of the podcast feed writer: items, enclosures, GUIDs across reruns, and refusals.

use super::*;
use crate::sidecar::TimedChapter;
use std::time::{Duration, SystemTime};

/// 2024-01-02 03:04:05 UTC.
const JAN_2: u64 = 1_704_164_645;

fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

/// A narration as far as a feed cares: audio of `bytes` bytes modified at `when`, and its
/// timeline.
fn narration(dir: &Path, audio: &str, title: &str, bytes: usize, when: SystemTime) {
    let audio = dir.join(audio);
    std::fs::create_dir_all(audio.parent().unwrap()).unwrap();
    std::fs::write(&audio, vec![0u8; bytes]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&audio)
        .unwrap()
        .set_modified(when)
        .unwrap();
    let timeline = Timeline {
        title: title.into(),
        voice: "joe".into(),
        sample_rate: 22050,
        duration: 65.4,
        chapters: vec![
            TimedChapter {
                title: title.into(),
                start: 0.0,
                end: 30.0,
            },
            TimedChapter {
                title: "Spring Tides".into(),
                start: 30.0,
                end: 65.4,
            },
        ],
        sentences: Vec::new(),
    };
    std::fs::write(
        timeline_path(&audio),
        timeline.render(SidecarKind::Timeline, &audio),
    )
    .unwrap();
}

fn options() -> FeedOptions {
    FeedOptions::new("https://example.com/pod").unwrap()
}

fn feed_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(FEED_FILE)).unwrap()
}

/// Writes `dir`'s feed, which must fail and leave no feed file; returns why it failed.
#[track_caller]
fn refused_without_a_feed(dir: &Path) -> Error {
    let err = write(dir, &options()).expect_err("the feed is refused");
    assert!(!dir.join(FEED_FILE).exists());
    err
}

#[test]
fn an_episode_keeps_its_guid_and_date_when_narrated_again_and_as_mp3() {
    let dir = tempfile::tempdir().unwrap();
    narration(dir.path(), "a.wav", "Tides", 100, at(JAN_2));
    let first = write(dir.path(), &options()).unwrap();
    let episode = &first.episodes[0];
    assert_eq!(episode.guid, "aloud:a");
    assert_eq!(episode.pub_date, "Tue, 02 Jan 2024 03:04:05 +0000");
    assert_eq!(episode.url, "https://example.com/pod/a.wav");
    assert_eq!((episode.length, episode.mime_type), (100, "audio/wav"));
    assert!(episode.new);
    assert_eq!((first.added, first.kept), (1, 0));

    // Narrated again a day later, now as an MP3 beside the old WAV.
    narration(dir.path(), "a.mp3", "Tides", 40, at(JAN_2 + 86_400));
    let second = write(dir.path(), &options()).unwrap();
    assert_eq!(second.episodes.len(), 1);
    let episode = &second.episodes[0];
    assert_eq!(episode.guid, "aloud:a");
    assert_eq!(episode.pub_date, "Tue, 02 Jan 2024 03:04:05 +0000");
    assert_eq!(episode.url, "https://example.com/pod/a.mp3");
    assert_eq!((episode.length, episode.mime_type), (40, "audio/mpeg"));
    assert!(!episode.new);
    assert_eq!((second.added, second.kept), (0, 1));
    assert!(second.removed.is_empty());
}

#[test]
fn the_mp3_is_published_whichever_file_is_found_first() {
    let dir = tempfile::tempdir().unwrap();
    // `C.WAV` sorts before `C.mp3`, `d.mp3` before `d.wav`: both orders are met.
    narration(dir.path(), "c.WAV", "C", 10, at(JAN_2));
    narration(dir.path(), "c.mp3", "C", 20, at(JAN_2));
    narration(dir.path(), "d.mp3", "D", 30, at(JAN_2));
    narration(dir.path(), "d.wav", "D", 40, at(JAN_2));
    let found = find_narrations(dir.path()).unwrap();
    assert_eq!(found, [PathBuf::from("c.mp3"), PathBuf::from("d.mp3")]);
}

#[test]
fn links_percent_encode_each_segment_under_the_base_url() {
    let dir = tempfile::tempdir().unwrap();
    narration(dir.path(), "news/Brief & Co.wav", "Brief", 10, at(JAN_2));
    narration(dir.path(), "Café.mp3", "Café", 10, at(JAN_2 + 1));
    std::fs::write(dir.path().join("news/Brief & Co.vtt"), "WEBVTT\n").unwrap();
    std::fs::write(dir.path().join("news/Brief & Co.srt"), "").unwrap();
    std::fs::write(dir.path().join("news/Brief & Co.chapters.json"), "{}").unwrap();
    let report = write(dir.path(), &options()).unwrap();
    let [cafe, brief] = &report.episodes[..] else {
        panic!("two episodes: {:?}", report.episodes);
    };
    assert_eq!(cafe.url, "https://example.com/pod/Caf%C3%A9.mp3");
    assert_eq!(cafe.chapters, None);
    assert!(cafe.transcripts.is_empty());
    assert_eq!(brief.guid, "aloud:news/Brief%20%26%20Co");
    assert_eq!(
        brief.url,
        "https://example.com/pod/news/Brief%20%26%20Co.wav"
    );
    assert_eq!(
        brief.chapters.as_deref(),
        Some("https://example.com/pod/news/Brief%20%26%20Co.chapters.json")
    );
    let transcripts: Vec<_> = brief
        .transcripts
        .iter()
        .map(|t| (t.url.as_str(), t.mime_type))
        .collect();
    assert_eq!(
        transcripts,
        [
            (
                "https://example.com/pod/news/Brief%20%26%20Co.vtt",
                "text/vtt"
            ),
            (
                "https://example.com/pod/news/Brief%20%26%20Co.srt",
                "application/x-subrip"
            )
        ]
    );
    assert_eq!(report.url, "https://example.com/pod/feed.xml");
    let xml = feed_text(dir.path());
    assert!(xml.contains(r#"<atom:link href="https://example.com/pod/feed.xml" rel="self""#));
    assert!(xml.contains(
            r#"<podcast:transcript url="https://example.com/pod/news/Brief%20%26%20Co.vtt" type="text/vtt" rel="captions"/>"#
        ));
}

/// The text of every `name` element, read back by quick-xml.
fn read_back(xml: &str, name: &str) -> Vec<String> {
    let mut reader = Reader::from_str(xml);
    let (mut found, mut inside, mut text) = (Vec::new(), false, String::new());
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.name().as_ref() == name => {
                (inside, text) = (true, String::new());
            }
            Event::End(e) if e.name().as_ref() == name => {
                inside = false;
                found.push(text.clone());
            }
            Event::Text(t) if inside => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if inside => {
                text.push_str(quick_xml::escape::resolve_predefined_entity(&r).unwrap())
            }
            Event::Eof => return found,
            _ => {}
        }
    }
}

#[test]
fn titles_with_markup_characters_are_escaped_and_read_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let title = "Tides & <Moons> \"quoted\"\u{1}";
    narration(dir.path(), "a.wav", title, 10, at(JAN_2));
    let mut options = options();
    options.title = Some("Q&A <weekly>".into());
    write(dir.path(), &options).unwrap();
    let xml = feed_text(dir.path());
    assert!(xml.contains("<title>Tides &amp; &lt;Moons&gt; &quot;quoted&quot;</title>"));
    assert_eq!(
        read_back(&xml, "title"),
        ["Q&A <weekly>", "Tides & <Moons> \"quoted\""]
    );
}

#[test]
fn a_rerun_keeps_dates_adds_new_episodes_first_and_drops_gone_ones() {
    let dir = tempfile::tempdir().unwrap();
    narration(dir.path(), "old.wav", "Old", 10, at(JAN_2));
    narration(dir.path(), "gone.wav", "Gone", 10, at(JAN_2 + 60));
    write(dir.path(), &options()).unwrap();
    let before = feed_text(dir.path());
    // Nothing changed: the same bytes.
    write(dir.path(), &options()).unwrap();
    assert_eq!(feed_text(dir.path()), before);

    // `old` is narrated again (a new modification time), `gone` removed, `new` added.
    narration(dir.path(), "old.wav", "Old", 12, at(JAN_2 + 7200));
    std::fs::remove_file(dir.path().join("gone.wav")).unwrap();
    narration(dir.path(), "new.wav", "New", 10, at(JAN_2 + 3600));
    let report = write(dir.path(), &options()).unwrap();
    let order: Vec<(&str, &str, bool)> = report
        .episodes
        .iter()
        .map(|e| (e.guid.as_str(), e.pub_date.as_str(), e.new))
        .collect();
    assert_eq!(
        order,
        [
            ("aloud:new", "Tue, 02 Jan 2024 04:04:05 +0000", true),
            ("aloud:old", "Tue, 02 Jan 2024 03:04:05 +0000", false),
        ]
    );
    assert_eq!(report.removed, ["aloud:gone"]);
    assert_eq!(read_back(&feed_text(dir.path()), "guid").len(), 2);
}

#[test]
fn base_urls_must_be_absolute_http_without_a_query() {
    for bad in [
        "example.com/pod",
        "ftp://example.com/pod/",
        "https://example.com/pod/?token=1",
        "https://example.com/pod/#top",
        "file:///srv/pod",
        "",
    ] {
        match FeedOptions::new(bad) {
            Err(Error::FeedUrl { what, url, .. }) => {
                assert_eq!((what.as_str(), url.as_str()), ("base URL", bad));
            }
            other => panic!("{bad}: expected FeedUrl, got {other:?}"),
        }
    }
    assert_eq!(
        FeedOptions::new("http://example.com").unwrap().base_url(),
        "http://example.com/"
    );
    assert_eq!(
        FeedOptions::new("https://example.com/a/b/")
            .unwrap()
            .base_url(),
        "https://example.com/a/b/"
    );
    let with_image = options().with_image("cover art.jpg").unwrap();
    assert_eq!(
        with_image.image.as_deref(),
        Some("https://example.com/pod/cover%20art.jpg")
    );
    assert!(matches!(
        options().with_image("ftp://example.com/c.jpg"),
        Err(Error::FeedUrl { what, .. }) if what == "image"
    ));
}

#[test]
fn a_directory_without_narrations_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    // Hidden directories and working files are not published; audio without a timeline
    // and a timeline without audio are not narrations.
    narration(dir.path(), ".aloud-batch/a.wav", "A", 10, at(JAN_2));
    narration(dir.path(), ".drafts/b.mp3", "B", 10, at(JAN_2));
    narration(dir.path(), ".aloud-c.wav.x1y2.wav", "C", 10, at(JAN_2));
    std::fs::write(dir.path().join("song.mp3"), b"ID3").unwrap();
    narration(dir.path(), "e.wav", "E", 10, at(JAN_2));
    std::fs::remove_file(dir.path().join("e.wav")).unwrap();
    match refused_without_a_feed(dir.path()) {
        Error::FeedEmpty { dir: named } => assert_eq!(named, dir.path()),
        other => panic!("expected FeedEmpty, got {other:?}"),
    }
}

#[test]
fn an_unreadable_timeline_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    narration(dir.path(), "a.wav", "A", 10, at(JAN_2));
    std::fs::write(dir.path().join("a.timeline.json"), "{").unwrap();
    match refused_without_a_feed(dir.path()) {
        Error::FeedTimeline { path, .. } => assert_eq!(path, dir.path().join("a.timeline.json")),
        other => panic!("expected FeedTimeline, got {other:?}"),
    }
}

#[test]
fn a_previous_feed_that_cannot_be_read_back_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    narration(dir.path(), "a.wav", "A", 10, at(JAN_2));
    let broken = "<rss><channel><item><guid>aloud:a</guid><pubDate>last Tuesday</pubDate></item></channel></rss>";
    std::fs::write(dir.path().join(FEED_FILE), broken).unwrap();
    let message = match write(dir.path(), &options()) {
        Err(e @ Error::FeedUnreadable { .. }) => e.to_string(),
        other => panic!("expected FeedUnreadable, got {other:?}"),
    };
    assert!(
        message.contains("aloud:a") && message.contains("last Tuesday"),
        "{message}"
    );
    assert_eq!(feed_text(dir.path()), broken);
}

#[test]
fn previous_dates_are_read_whatever_the_markup_around_them() {
    let xml = "<?xml version=\"1.0\"?><rss><channel><title>x</title>\
            <item><guid isPermaLink=\"false\">aloud:a&amp;b</guid>\
            <pubDate>Sun, 06 Nov 1994 08:49:37 GMT</pubDate></item>\
            <item><title>no date</title><guid>aloud:c</guid></item>\
            <item><guid><![CDATA[aloud:d]]></guid><pubDate> Mon, 07 Nov 1994 08:49:37 +0200 </pubDate></item>\
            </channel></rss>";
    let dates = previous_dates(xml).unwrap();
    assert_eq!(dates.len(), 2);
    assert_eq!(dates["aloud:a&b"].unix_timestamp(), 784_111_777);
    assert_eq!(
        dates["aloud:d"].unix_timestamp(),
        784_111_777 + 86_400 - 7200
    );
    assert!(previous_dates("<rss><channel><item></rss>").is_err());
    let cut = previous_dates("<rss><channel><item><guid>aloud:a</guid>").unwrap_err();
    assert_eq!(cut, "it ends inside <rss><channel><item>");
}

#[test]
fn durations_are_whole_seconds_as_hours_minutes_seconds() {
    assert_eq!(duration_clock(65.4), "00:01:05");
    assert_eq!(duration_clock(65.5), "00:01:06");
    assert_eq!(duration_clock(3725.0), "01:02:05");
    assert_eq!(duration_clock(-1.0), "00:00:00");
    assert_eq!(duration_clock(f64::NAN), "00:00:00");
    assert_eq!(timestamp(3723.5, '.'), "01:02:03.500");
    assert_eq!(timestamp(0.0, '.'), "00:00:00.000");
}

#[test]
fn the_language_is_the_voices_when_their_profiles_are_known() {
    let dir = tempfile::tempdir().unwrap();
    narration(dir.path(), "a.wav", "A", 10, at(JAN_2));
    assert_eq!(write(dir.path(), &options()).unwrap().language, "en-US");
    let timeline = dir.path().join("a.timeline.json");
    let text = std::fs::read_to_string(&timeline).unwrap();
    std::fs::write(
        &timeline,
        text.replace("\"voice\": \"joe\"", "\"voice\": \"no-such-voice\""),
    )
    .unwrap();
    assert_eq!(write(dir.path(), &options()).unwrap().language, "en");
    let mut german = options();
    german.language = Some("de".into());
    assert_eq!(write(dir.path(), &german).unwrap().language, "de");
}

#[test]
fn the_channel_is_titled_after_the_directory_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("evening-news");
    narration(&out, "a.wav", "A", 10, at(JAN_2));
    let report = write(&out, &options()).unwrap();
    assert_eq!(report.title, "evening-news");
    let xml = feed_text(&out);
    assert!(xml.contains("<itunes:category text=\"News\"/>"), "{xml}");
    assert!(xml.contains("<itunes:explicit>false</itunes:explicit>"));
    assert!(!xml.contains("itunes:image"), "no image unless asked for");
    assert!(xml.contains(
            "<psc:chapters version=\"1.2\">\n        <psc:chapter start=\"00:00:00.000\" title=\"A\"/>\n        <psc:chapter start=\"00:00:30.000\" title=\"Spring Tides\"/>"
        ), "{xml}");
}
