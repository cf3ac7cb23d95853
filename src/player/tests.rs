//! The player's page and files without a browser: escaping, the audio's name as a URL, what is
//! written (and that a refused timeline writes nothing), and the component's size budget.

use super::*;
use crate::sidecar::{TimedChapter, TimedSentence};

fn sentence(text: &str, start: f64, end: f64, starts: Option<Starts>) -> TimedSentence {
    TimedSentence {
        text: text.into(),
        spoken: text.into(),
        start,
        end,
        source: [0, text.len()],
        words: Vec::new(),
        starts,
    }
}

fn timeline(duration: f64) -> Timeline {
    Timeline {
        title: "Tides & Moons".into(),
        voice: "joe".into(),
        sample_rate: 8000,
        duration,
        chapters: vec![
            TimedChapter {
                title: "Tides & Moons".into(),
                start: 0.0,
                end: duration / 2.0,
            },
            TimedChapter {
                title: "Spring".into(),
                start: duration / 2.0,
                end: duration,
            },
        ],
        sentences: vec![
            sentence("Tides & Moons", 0.0, 0.1, Some(Starts::Heading)),
            sentence("The sea rises.", 0.15, 0.2, Some(Starts::Paragraph)),
            sentence("It falls.", 0.25, 0.3, None),
            sentence("Spring", duration / 2.0, 0.6, Some(Starts::Heading)),
            sentence("High tides.", 0.7, duration, Some(Starts::Paragraph)),
        ],
    }
}

/// One second of a quiet tone at 8 kHz.
fn write_wav(path: &Path, seconds: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(seconds * 8000.0) as usize {
        writer
            .write_sample(((i as f32 * 0.05).sin() * 3000.0) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}

/// A fresh temporary directory holding one second of audio named `name`, and the audio's path.
fn dir_with_a_second_of_audio(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join(name);
    write_wav(&audio, 1.0);
    (dir, audio)
}

fn write_timeline(audio: &Path, timeline: &Timeline) {
    std::fs::write(
        timeline_path(audio),
        serde_json::to_string(timeline).unwrap(),
    )
    .unwrap();
}

use crate::fs::entry_names as names;

/// The JSON between `<script type="application/json">` and the `</script>` that ends it.
fn inlined_json(page: &str) -> serde_json::Value {
    let open = r#"<script type="application/json">"#;
    let start = page.find(open).expect("an inline timeline") + open.len();
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).expect("the inline timeline is JSON")
}

#[test]
fn article_text_cannot_end_the_script_or_inject_markup() {
    let mut t = timeline(1.0);
    t.title = r#"</script><script>alert("t")</script> & 'q'"#.into();
    t.chapters[1].title = "<b>Spring</b> <!-- x".into();
    t.sentences[1].text = "If a < b && c > d </SCRIPT><img src=x onerror=alert(1)>".into();
    let page = render(&t, OsStr::new("tides.mp3"));

    // Two scripts: the inline timeline and the component. Nothing from the article opens
    // another element.
    assert_eq!(page.matches("</script>").count(), 2, "{page}");
    assert_eq!(page.to_ascii_lowercase().matches("</script").count(), 2);
    assert!(!page.contains("<script>alert"));
    assert!(!page.contains("<img"));
    assert!(!page.contains("<b>Spring"));
    assert!(page.contains("<title>&lt;/script&gt;&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &amp; &apos;q&apos;</title>"));
    assert!(page.contains("<p>If a &lt; b &amp;&amp; c &gt; d &lt;/SCRIPT&gt;&lt;img"));

    // The timeline reads back exactly as written.
    let json = inlined_json(&page);
    assert_eq!(json["title"], t.title.as_str());
    assert_eq!(json["chapters"][1]["title"], t.chapters[1].title.as_str());
    assert_eq!(json["sentences"][1]["text"], t.sentences[1].text.as_str());
    assert_eq!(json["sentences"][1]["start"], 0.15);
    assert_eq!(json["sentences"][0]["starts"], "heading");
    assert!(json["sentences"][2].get("starts").is_none());
    // What the player does not show is left out of the page.
    assert!(json["sentences"][1].get("spoken").is_none());
    assert!(json["sentences"][1].get("source").is_none());
}

#[test]
fn the_audio_is_named_by_a_relative_url() {
    let page = render(&timeline(1.0), OsStr::new("my story #1 (50%)?.mp3"));
    let src = r#"src="my%20story%20%231%20%2850%25%29%3F.mp3""#;
    assert!(page.contains(&format!("<aloud-player {src}")), "{page}");
    assert!(page.contains(&format!("<audio controls preload=\"none\" {src}>")));
    assert_eq!(
        url_path_segment(OsStr::new("Ünïcode–1.wav")),
        "%C3%9Cn%C3%AFcode%E2%80%931.wav"
    );
}

#[test]
fn without_javascript_the_page_still_has_the_audio_and_the_transcript() {
    let page = render(&timeline(1.0), OsStr::new("t.wav"));
    let noscript = &page[page.find("<noscript>").unwrap()..page.find("</noscript>").unwrap()];
    // The spoken title is the page's <h1>, not repeated; the chapter heading is an <h2>;
    // sentences of one paragraph share a <p>.
    assert_eq!(
        noscript,
        "<noscript>\n<h1>Tides &amp; Moons</h1>\n\
         <p><audio controls preload=\"none\" src=\"t.wav\"></audio></p>\n\
         <p>The sea rises. It falls.</p>\n<h2>Spring</h2>\n<p>High tides.</p>\n"
    );
}

#[test]
fn the_component_is_small_self_contained_and_inlinable() {
    // A budget, so the player a newsroom puts on every story stays a few kilobytes.
    assert!(SCRIPT.len() < 20 * 1024, "{} bytes", SCRIPT.len());
    let lower = SCRIPT.to_ascii_lowercase();
    for forbidden in [
        "</script", "<!--", "<script", "http://", "https://", "import ", "eval(",
    ] {
        assert!(
            !lower.contains(forbidden),
            "the component holds {forbidden:?}"
        );
    }
    // The one request it makes: the timeline it was given.
    assert_eq!(SCRIPT.matches("fetch(").count(), 1);
    let page = render(&timeline(1.0), OsStr::new("t.wav"));
    assert!(page.contains(SCRIPT));
    assert!(page.len() < SCRIPT.len() + 3 * 1024, "{} bytes", page.len());
}

#[test]
fn the_page_and_the_component_appear_beside_the_audio() {
    let (dir, audio) = dir_with_a_second_of_audio("tides.wav");
    write_timeline(&audio, &timeline(1.0));
    let files = write(&audio).unwrap();
    assert_eq!(files.page, dir.path().join("tides.html"));
    assert_eq!(files.script, dir.path().join("aloud-player.js"));
    assert_eq!(files.timeline, dir.path().join("tides.timeline.json"));
    assert!((files.duration - 1.0).abs() < 1e-9);
    assert_eq!(
        names(dir.path()),
        [
            "aloud-player.js",
            "tides.html",
            "tides.timeline.json",
            "tides.wav"
        ]
    );
    assert_eq!(std::fs::read_to_string(&files.script).unwrap(), SCRIPT);
    let page = std::fs::read_to_string(&files.page).unwrap();
    assert!(page.contains(r#"<aloud-player src="tides.wav""#));
    assert_eq!(
        inlined_json(&page)["sentences"].as_array().unwrap().len(),
        5
    );

    // Again: both replaced whole, nothing else left.
    write(&audio).unwrap();
    assert_eq!(names(dir.path()).len(), 4);
}

#[test]
fn a_timeline_within_a_tenth_of_a_second_is_the_audios() {
    let (_dir, audio) = dir_with_a_second_of_audio("t.wav");
    let mut t = timeline(1.0);
    t.duration = 1.09;
    write_timeline(&audio, &t);
    write(&audio).unwrap();
}

/// The error of `write(audio)`, having checked it wrote nothing beside the audio.
fn refused(dir: &Path, audio: &Path) -> Error {
    let before = names(dir);
    let error = write(audio).unwrap_err();
    assert_eq!(names(dir), before, "nothing written for: {error}");
    error
}

#[test]
fn a_missing_timeline_is_named_with_how_to_make_one() {
    let (dir, audio) = dir_with_a_second_of_audio("t.wav");
    let error = refused(dir.path(), &audio);
    assert!(matches!(error, Error::TimelineMissing { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&timeline_path(&audio).display().to_string()));
    assert!(message.contains("narrate the article again"), "{message}");
}

#[test]
fn another_narrations_timeline_is_refused_naming_both_lengths() {
    let (dir, audio) = dir_with_a_second_of_audio("t.wav");
    write_timeline(&audio, &timeline(3.25));
    // An earlier page stays as it was.
    std::fs::write(dir.path().join("t.html"), "earlier").unwrap();
    let error = refused(dir.path(), &audio);
    let message = error.to_string();
    assert!(matches!(error, Error::TimelineMismatch { .. }), "{error:?}");
    assert!(
        message.contains("3.250 s") && message.contains("1.000 s"),
        "{message}"
    );
    assert!(message.contains("t.timeline.json") && message.contains("t.wav"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("t.html")).unwrap(),
        "earlier"
    );
}

#[test]
fn a_broken_timeline_is_refused_saying_what_is_wrong() {
    let (dir, audio) = dir_with_a_second_of_audio("t.wav");

    std::fs::write(timeline_path(&audio), "{\"title\": ").unwrap();
    let error = refused(dir.path(), &audio);
    assert!(matches!(error, Error::TimelineInvalid { .. }), "{error:?}");

    let mut late = timeline(1.0);
    late.sentences[4].end = 2.5;
    write_timeline(&audio, &late);
    let message = refused(dir.path(), &audio).to_string();
    assert!(message.contains("sentence \"High tides.\""), "{message}");
    assert!(message.contains("2.500 s"), "{message}");

    let mut shuffled = timeline(1.0);
    shuffled.sentences.swap(1, 2);
    write_timeline(&audio, &shuffled);
    let message = refused(dir.path(), &audio).to_string();
    assert!(message.contains("not in time order"), "{message}");
}

#[test]
fn audio_that_is_missing_or_not_audio_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone.mp3");
    let error = write(&missing).unwrap_err();
    assert!(matches!(error, Error::InputNotFound { .. }), "{error:?}");
    assert!(error.to_string().contains("gone.mp3"));

    let text = dir.path().join("notes.mp3");
    std::fs::write(&text, "not audio at all").unwrap();
    write_timeline(&text, &timeline(1.0));
    let error = refused(dir.path(), &text);
    assert!(matches!(error, Error::PlayerAudio { .. }), "{error:?}");
    assert!(error.to_string().contains("notes.mp3"));

    let page = dir.path().join("page.html");
    std::fs::write(&page, "<p>").unwrap();
    let error = refused(dir.path(), &page);
    assert!(error.to_string().contains("would replace it"), "{error}");
}

#[test]
fn an_mp3_is_measured_as_it_plays() {
    use crate::stitch::mp3::{Mp3Options, Mp3Writer};
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("t.mp3");
    let rate = 22_050;
    let mut writer = Mp3Writer::create(&audio, rate, &Mp3Options::default()).unwrap();
    let samples: Vec<f32> = (0..rate * 2)
        .map(|i| (i as f32 * 0.03).sin() * 0.2)
        .collect();
    writer.push_samples(&samples).unwrap();
    writer.finish(&[], samples.len() as u64).unwrap();
    let seconds = measure(&audio).unwrap();
    // LAME's encoder delay and padding are not part of the program.
    assert!((seconds - 2.0).abs() < 0.001, "{seconds}");
}
