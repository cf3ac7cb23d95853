//! End to end with the real embedded engine (Piper joe voice on ONNX Runtime): articles in,
//! one WAV with chapters and a timeline out, checked by our reader and by ffprobe.

mod common;

use aloud::document::Document;
use aloud::lexicon::Lexicon;
use aloud::narrate::{Narrator, NarratorOptions, Summary};
use aloud::sidecar::Timeline;
use aloud::stitch::markers::read_wav_summary;
use aloud::synth::SpeechRequest;
use aloud::voice::VoiceProfile;
use common::{check_sentences_match_speaking_alone, check_spoken, repo, rms};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// One narrator for the whole test binary: loading the voice once keeps the suite quick.
fn narrator() -> &'static Narrator {
    static NARRATOR: OnceLock<Narrator> = OnceLock::new();
    NARRATOR.get_or_init(|| {
        let profile = VoiceProfile::find(repo("voices/joe-deterministic.toml").to_str().unwrap())
            .expect("profile");
        Narrator::open(profile, &NarratorOptions::default(), &mut |p| {
            eprintln!("{p}")
        })
        .expect("the embedded engine opens (run `aloud setup` first)")
    })
}

/// The same voice with finishing off: clips joined exactly as the engine made them.
fn untouched_narrator() -> &'static Narrator {
    static NARRATOR: OnceLock<Narrator> = OnceLock::new();
    NARRATOR.get_or_init(|| {
        let profile = VoiceProfile::find(repo("voices/joe-deterministic.toml").to_str().unwrap())
            .expect("profile");
        let options = NarratorOptions {
            finishing: Some(aloud::stitch::Finishing::untouched(profile.pauses)),
            ..NarratorOptions::default()
        };
        Narrator::open(profile, &options, &mut |p| eprintln!("{p}"))
            .expect("the embedded engine opens (run `aloud setup` first)")
    })
}

fn narrate(document: &Document, output: &Path) -> Summary {
    narrator()
        .narrate_blocking(document, output, &mut |_| {})
        .expect("narration succeeds")
}

fn read_samples(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let mut reader = hound::WavReader::open(path).expect("hound reads the output");
    let spec = reader.spec();
    let samples = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    (spec, samples)
}

fn ffprobe_chapters(path: &Path) -> Option<Vec<(String, f64, f64)>> {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-show_chapters", "-of", "json"])
        .arg(path)
        .output()
        .ok()?;
    assert!(
        output.status.success(),
        "ffprobe failed on {}",
        path.display()
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    Some(
        json["chapters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["tags"]["title"].as_str().unwrap_or("").to_string(),
                    c["start_time"].as_str().unwrap().parse().unwrap(),
                    c["end_time"].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect(),
    )
}

#[test]
fn markdown_article_becomes_speech_with_chapters_readers_agree_on() {
    let input = repo("samples/night-sky-guide.md");
    let document = aloud::ingest::load(&input).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("guide.wav");
    let summary = narrate(&document, &output);

    // 16-bit mono at 22050 Hz, 120 to 240 words a minute (pauses included), and speech, not
    // silence, in every sentence's stretch of the program.
    let (timeline, _) = check_spoken(&document, &summary, &output, 22050);

    // Chapters: one per heading, with the document's titles, in our reader and in ffprobe.
    let expected_titles: Vec<&str> = document.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(
        expected_titles,
        [
            "A Beginner's Guide to the Night Sky",
            "Finding a Dark Place",
            "What to Look For First",
            "Constellations",
            "Keeping a Record"
        ]
    );
    let wav = read_wav_summary(&output).unwrap();
    let read_titles: Vec<&str> = wav.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(read_titles, expected_titles);
    assert_eq!(summary.chapters, 5);
    for (mark, timed) in wav.chapters.iter().zip(&timeline.chapters) {
        let start = mark.start_frame as f64 / 22050.0;
        let end = (mark.start_frame + mark.length_frames) as f64 / 22050.0;
        assert!(
            (start - timed.start).abs() < 1e-3,
            "{start} vs {}",
            timed.start
        );
        assert!((end - timed.end).abs() < 1e-3, "{end} vs {}", timed.end);
    }
    // A chapter starts where its heading is spoken.
    for chapter in &timeline.chapters[1..] {
        assert!(
            timeline
                .sentences
                .iter()
                .any(|s| s.text == chapter.title && (s.start - chapter.start).abs() < 1e-6),
            "chapter '{}' does not start at its heading",
            chapter.title
        );
    }
    match ffprobe_chapters(&output) {
        None => {
            assert!(
                std::env::var_os("ALOUD_REQUIRE_READERS").is_none_or(|v| v == "0"),
                "ffprobe is not installed, and ALOUD_REQUIRE_READERS is set"
            );
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipping the ffprobe check: not installed"
            );
        }
        Some(chapters) => {
            assert_eq!(chapters.len(), timeline.chapters.len());
            for ((title, start, end), timed) in chapters.iter().zip(&timeline.chapters) {
                assert_eq!(title, &timed.title);
                assert!(
                    (start - timed.start).abs() < 1e-3,
                    "{start} vs {}",
                    timed.start
                );
                assert!((end - timed.end).abs() < 1e-3, "{end} vs {}", timed.end);
            }
        }
    }

    // Sentence sources point at the Markdown they came from.
    let source = std::fs::read_to_string(&input).unwrap();
    let jupiter = timeline
        .sentences
        .iter()
        .find(|s| s.text.starts_with("Jupiter, whose"))
        .expect("the list item is narrated");
    assert!(source[jupiter.source[0]..jupiter.source[1]].starts_with("Jupiter, whose"));
    assert!(
        !timeline
            .sentences
            .iter()
            .any(|s| s.text.contains("star chart") || s.text.contains("Perseid")),
        "image alt text and code blocks are not narrated"
    );
}

#[test]
fn a_sentence_in_the_program_is_bit_identical_to_speaking_it_alone() {
    // With Piper's noise off the engine is deterministic, so stitching with finishing off
    // must not alter a clip.
    let document = aloud::ingest::parse(
        "Golden test\n\nThe quick brown fox jumps over the lazy dog. It was not amused.\n",
        aloud::ingest::Format::Text,
        Path::new("golden.txt"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("golden.wav");
    let summary = untouched_narrator()
        .narrate_blocking(&document, &output, &mut |_| {})
        .unwrap();
    let timeline = Timeline::read(&summary.timeline).unwrap();
    let (_, program) = read_samples(&output);
    check_sentences_match_speaking_alone(untouched_narrator(), &timeline, &program, 22050);
}

#[test]
fn the_seed_article_narrates_whole() {
    let seed = repo("../shared/samples/seed-article.txt");
    if !seed.is_file() {
        eprintln!("skipping: {} is absent", seed.display());
        return;
    }
    let document = aloud::ingest::load(&seed).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("seed.wav");
    let summary = narrate(&document, &output);
    assert_eq!(summary.sentences, document.sentence_count());
    // Sentences longer than the engine takes are spoken in clause-sized pieces.
    assert!(summary.synthesized >= summary.sentences);
    let (_, samples) = read_samples(&output);
    let minutes = samples.len() as f64 / 22050.0 / 60.0;
    let words_per_minute = document.word_count() as f64 / minutes;
    assert!(
        (120.0..=240.0).contains(&words_per_minute),
        "{words_per_minute:.0} words per minute"
    );
    assert!(rms(&samples) > 0.02);
}

#[test]
fn lexicon_phonemes_reach_the_engine() {
    // espeak-ng reads "hello" as həlˈoʊ; a lexicon giving those phonemes for a made-up word
    // must make the deterministic voice say exactly what it says for "hello".
    let lexicon = Lexicon::from_toml(
        "[words]\nKremlev = { ipa = \"həlˈoʊ\" }\n",
        Path::new("test-lexicon.toml"),
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let say = |text: &str, lexicon: &Lexicon| {
        let applied = lexicon.apply(text);
        let request = SpeechRequest {
            text: applied.text,
            pronunciations: applied.pronunciations,
            ..SpeechRequest::default()
        };
        runtime.block_on(narrator().speak(&request)).unwrap()
    };
    for (with_word, with_hello) in [
        ("Say Kremlev, please.", "Say hello, please."),
        ("I said Kremlev.", "I said hello."),
        ("Kremlev? Yes.", "hello? Yes."),
    ] {
        let with_lexicon = say(with_word, &lexicon);
        assert_eq!(
            with_lexicon,
            say(with_hello, &Lexicon::default()),
            "{with_word}"
        );
        assert_ne!(with_lexicon, say(with_word, &Lexicon::default()));
    }
}

#[test]
fn a_sentence_sounds_the_same_whatever_was_phonemized_before_it() {
    // espeak-ng once kept the closing quote of `postponement."` and read the next sentence,
    // whichever it was, as still inside it ("When" lost its stress): a batch whose articles
    // interleaved differently made different audio of the same text.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let say = |text: &str| {
        let request = SpeechRequest {
            text: text.to_string(),
            ..SpeechRequest::default()
        };
        runtime.block_on(narrator().speak(&request)).unwrap()
    };
    let sentence = "When the sun and moon line up, the tides run higher than usual.";
    // A sentence that ends plainly leaves espeak-ng with nothing held, even before the fix.
    say("The tide turns twice a day.");
    let alone = say(sentence);
    for before in [
        "That is a postponement.\"",
        "\"We are balancing this year's books with next year's savings,\"",
        "He paused (briefly.)",
    ] {
        say(before);
        let after = say(sentence);
        assert!(
            after == alone,
            "after {before}: {} samples, alone {}",
            after.samples.len(),
            alone.samples.len()
        );
    }
}
