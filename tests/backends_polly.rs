//! The `polly` backend against tests/servers/polly_tts.py on loopback: a SynthesizeSpeech
//! server wrapping piper-tts that validates every body against botocore's Polly service model,
//! recomputes every SigV4 signature with botocore, parses the SSML with xml.etree, answers
//! word speech marks with byte offsets into the SSML, and throttles with HTTP 400 on request.
//!
//! The Python side lives in the test venv (`$ALOUD_TEST_VENV`, default
//! `~/.cache/aloud-test/venv`, made by scripts/test). Without it these tests skip with a note
//! on stderr, or fail when ALOUD_REQUIRE_READERS=1.

mod common;
use aloud::lexicon::{Lexicon, Pronunciation};
use aloud::narrate::{Narrator, NarratorOptions};
use aloud::synth::polly::{self, Polly, credentials::Sources};
use aloud::synth::{Backend, SpeechRequest};
use aloud::voice::VoiceProfile;
use common::{Server, repo, skip_or_fail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const ACCESS_KEY: &str = "AKIDALOUDTEST";
const SECRET_KEY: &str = "aloud/test+Secret/Key0123456789";
const REGION: &str = "us-east-1";

/// The test venv's Python and the joe model, if this machine has what these tests need.
fn setup() -> Option<(PathBuf, PathBuf)> {
    common::python_and_joe(
        "piper, numpy, botocore.auth, botocore.validate, botocore.loaders",
        "the test venv with piper-tts and botocore is missing (scripts/test installs it)",
    )
}

/// Starts polly_tts.py with `extra` arguments.
fn start(python: &Path, model: &Path, extra: &[&str]) -> Server {
    let mut args = vec![
        "--access-key",
        ACCESS_KEY,
        "--secret-key",
        SECRET_KEY,
        "--region",
        REGION,
    ];
    args.extend_from_slice(extra);
    Server::fake(python, "polly_tts.py", model, &args, "/health")
}

impl Server {
    /// Requests the server has received.
    fn requests(&self) -> u64 {
        self.get_json("/stats")["requests"].as_u64().unwrap()
    }

    fn profile(&self, extra: &str) -> VoiceProfile {
        VoiceProfile::from_toml(
            &format!(
                "name='polly-test'\nengine='polly'\nlanguage='en-US'\nvoice='Joanna'\n\
                 [options]\nendpoint='http://127.0.0.1:{}'\nregion='{REGION}'\ntimeout_s=60\n\
                 retry_base_ms=20\n{extra}",
                self.port
            ),
            Path::new("polly-test.toml"),
        )
        .unwrap()
    }
}

/// Credentials as the environment would give them, without touching this process's.
fn env_with(secret: &'static str) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<&'static str, &'static str> = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", secret),
    ]
    .into();
    move |name| vars.get(name).map(|v| v.to_string())
}

fn open(profile: &VoiceProfile, secret: &'static str) -> Polly {
    let env = env_with(secret);
    let home = tempfile::tempdir().unwrap();
    let sources = Sources {
        env: &env,
        home: Some(home.path().to_path_buf()),
    };
    Polly::open_with(profile, &sources).expect("the backend opens")
}

const HOSTILE: &str =
    "AT&T's <b>bold</b> \"quoted\" 'single' </speak><audio src=\"x.wav\"/> & done.";

#[test]
fn request_bodies_follow_the_botocore_model() {
    let Some((python, _)) = setup() else { return };
    let joanna = VoiceProfile::from_file(&repo("voices/polly-joanna.toml")).unwrap();
    let mut lexicon = SpeechRequest::plain("Ask Kremlev about New York.");
    lexicon.pronunciations = vec![
        Pronunciation {
            range: 4..11,
            ipa: "kɹˈɛmlɛv".into(),
        },
        Pronunciation {
            range: 18..26,
            ipa: "nuː jɔːk".into(),
        },
    ];
    let mut standard = VoiceProfile::find("polly:Matthew").unwrap();
    for (key, value) in [
        ("engine", toml::Value::from("standard")),
        ("language_code", "en-US".into()),
        ("lexicons", toml::Value::Array(vec!["names".into()])),
        ("sample_rate", 8000.into()),
    ] {
        standard.options.insert(key.into(), value);
    }
    let mut bodies = Vec::new();
    for (profile, request) in [
        (&joanna, SpeechRequest::plain("Hello there.")),
        (&joanna, lexicon),
        (&joanna, SpeechRequest::plain(HOSTILE)),
        (&standard, SpeechRequest::plain("Quickly now.")),
    ] {
        bodies.extend(polly::request_bodies(profile, &request).unwrap());
    }
    assert_eq!(bodies.len(), 8, "an audio and a marks body each");
    for body in &bodies {
        assert_eq!(
            common::validate(&python, "polly_tts.py", body),
            Vec::<String>::new(),
            "{body}"
        );
    }
    assert!(
        bodies[2]["Text"]
            .as_str()
            .unwrap()
            .contains("<phoneme alphabet=\"ipa\" ph=\"kɹˈɛmlɛv\">Kremlev</phoneme>")
    );
    // The check can fail: an unknown member, a wrong type and values outside the enums.
    let mut bad = bodies[0].clone();
    bad["Speed"] = 1.5.into();
    bad["SampleRate"] = 16000.into();
    bad["Engine"] = "turbo".into();
    bad["VoiceId"] = "Nobody".into();
    let problems = common::validate(&python, "polly_tts.py", &bad).join("\n");
    for what in ["Speed", "SampleRate", "turbo", "Nobody"] {
        assert!(problems.contains(what), "{what} not reported:\n{problems}");
    }
}

#[test]
fn polly_narrates_markdown_with_word_timings() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start(&python, &model, &[]);
    // The key comes from the environment; only this test reads it there.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", ACCESS_KEY);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    }
    let options = NarratorOptions {
        lexicon: Lexicon::from_toml(
            "[words]\nSailors = { ipa = \"ˈseɪləɹz\" }\n",
            Path::new("l.toml"),
        )
        .unwrap(),
        ..NarratorOptions::default()
    };
    let narrator = Narrator::open(server.profile(""), &options, &mut |_| {});
    unsafe {
        std::env::remove_var("AWS_ACCESS_KEY_ID");
        std::env::remove_var("AWS_SECRET_ACCESS_KEY");
    }
    let narrator = narrator.expect("the backend opens");
    assert_eq!(narrator.backend().sample_rate(), 16_000);
    // check_spoken's part: speech in every sentence at a plausible pace, 16-bit mono 16 kHz.
    let (document, _, timeline) = common::narrate_sample(&narrator, 16_000);

    // Every sentence was asked for twice (audio and marks), as SSML whose text is the sentence.
    let accepted = server.logged();
    let sentences = document.sentence_count();
    assert_eq!(accepted.len(), 2 * sentences, "{accepted:?}");
    assert!(accepted.iter().any(|a| {
        a["ssml"]
            .as_str()
            .unwrap()
            .contains("ph=\"ˈseɪləɹz\">Sailors</phoneme>")
    }));

    assert_eq!(timeline.sentences.len(), sentences);
    let mut timed = 0;
    for sentence in &timeline.sentences {
        // One timing per word of the spoken text, in order, inside the sentence, each word's
        // range naming that word (edge punctuation aside).
        let spoken_words: Vec<&str> = sentence
            .spoken
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| c.is_ascii_punctuation()))
            .filter(|w| !w.is_empty())
            .collect();
        let words: Vec<&str> = sentence
            .words
            .iter()
            .map(|w| &sentence.spoken[w.spoken[0]..w.spoken[1]])
            .collect();
        assert_eq!(words, spoken_words, "{}", sentence.spoken);
        for word in &sentence.words {
            assert_eq!(word.text, sentence.spoken[word.spoken[0]..word.spoken[1]]);
        }
        for pair in sentence.words.windows(2) {
            assert!(pair[0].start < pair[1].start, "{:?}", sentence.words);
            assert!((pair[0].end - pair[1].start).abs() < 1e-6);
        }
        let first = &sentence.words[0];
        let last = sentence.words.last().unwrap();
        assert!(first.start >= sentence.start - 1e-6 && first.start < sentence.start + 1.0);
        assert!(last.start < sentence.end && last.end <= sentence.end + 1e-3);
        timed += sentence.words.len();
    }
    assert!(timed >= document.word_count() - 3, "{timed} words timed");
}

#[test]
fn a_wrong_secret_key_is_refused_after_one_request() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start(&python, &model, &[]);
    let profile = server.profile("speech_marks=false\n");
    let polly = open(&profile, "not/the+right/secret");
    let err = common::block_on(polly.synthesize(&SpeechRequest::plain("Hello there.")))
        .expect_err("the signature is refused")
        .to_string();
    eprintln!("error: {err}");
    assert!(
        err.contains("polly")
            && err.contains("InvalidSignatureException")
            && err.contains("AWS_SECRET_ACCESS_KEY"),
        "{err}"
    );
    assert!(!err.contains("not/the+right/secret"), "{err}");
    assert_eq!((polly.requests(), server.requests()), (1, 1));

    // The right secret passes the same check.
    let polly = open(&profile, SECRET_KEY);
    let clip = common::block_on(polly.synthesize(&SpeechRequest::plain("Hello there.")))
        .expect("a correctly signed request succeeds");
    assert_eq!(clip.sample_rate, 16_000);
    assert!(clip.duration() > Duration::from_millis(300));
    assert!(clip.words.is_empty(), "no speech marks were asked for");
    assert_eq!(server.requests(), 2);
}

#[test]
fn throttling_as_http_400_is_retried() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start(&python, &model, &["--throttle", "3"]);
    let polly = open(&server.profile(""), SECRET_KEY);
    let text = "The tide turns at noon.";
    let clip = common::block_on(polly.synthesize(&SpeechRequest::plain(text)))
        .expect("throttling is waited out");
    // Two requests (audio and marks) plus the three throttled.
    assert_eq!((polly.requests(), server.requests()), (5, 5));
    let words: Vec<&str> = clip.words.iter().map(|w| &text[w.range.clone()]).collect();
    assert_eq!(words, ["The", "tide", "turns", "at", "noon"]);
    assert!(common::clip_rms(&clip.samples) > 0.02);

    // With no retries left, throttling fails with Polly's own words.
    let server = start(&python, &model, &["--throttle", "10"]);
    let polly = open(
        &server.profile("max_retries=1\nspeech_marks=false\n"),
        SECRET_KEY,
    );
    let err = common::block_on(polly.synthesize(&SpeechRequest::plain(text)))
        .expect_err("throttled throughout")
        .to_string();
    eprintln!("error: {err}");
    assert!(
        err.contains("ThrottlingException") && err.contains("2 attempts"),
        "{err}"
    );
    assert_eq!(server.requests(), 2);
}

#[test]
fn markup_in_the_text_arrives_as_text() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start(&python, &model, &[]);
    let polly = open(&server.profile(""), SECRET_KEY);
    let clip = common::block_on(polly.synthesize(&SpeechRequest::plain(HOSTILE)))
        .expect("hostile text is spoken");
    let accepted = server.logged();
    assert_eq!(accepted.len(), 2);
    for request in &accepted {
        assert_eq!(request["text"], HOSTILE, "{request}");
    }
    // The speech marks' offsets into the SSML land on the words as written.
    let words: Vec<&str> = clip
        .words
        .iter()
        .map(|w| &HOSTILE[w.range.clone()])
        .collect();
    assert_eq!(
        words,
        [
            "AT&T's",
            "<b>bold</b>",
            "quoted",
            "single",
            "</speak><audio",
            "src=\"x.wav\"/>",
            "&",
            "done"
        ]
    );
}

#[test]
fn compressed_formats_are_decoded_at_their_rate() {
    let Some((python, model)) = setup() else {
        return;
    };
    if Command::new("ffmpeg").arg("-version").output().is_err() {
        skip_or_fail("ffmpeg (the server's mp3/ogg encoder) is not installed");
        return;
    }
    let server = start(&python, &model, &[]);
    let text = "Sailors have kept tables of the tides for centuries.";
    for (format, rate) in [("mp3", 24_000), ("ogg_vorbis", 22_050)] {
        let polly = open(
            &server.profile(&format!("format='{format}'\nsample_rate={rate}\n")),
            SECRET_KEY,
        );
        assert_eq!(polly.sample_rate(), rate);
        let clip = common::block_on(polly.synthesize(&SpeechRequest::plain(text)))
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(clip.sample_rate, rate, "{format}");
        let seconds = clip.duration().as_secs_f64();
        assert!((2.0..6.0).contains(&seconds), "{format}: {seconds:.2} s");
        assert!(
            common::clip_rms(&clip.samples) > 0.02,
            "{format} is near silent"
        );
        assert_eq!(clip.words.len(), 9, "{format}");
        assert!(clip.words.last().unwrap().end <= seconds + 1e-9);
    }
    let formats: Vec<String> = server
        .logged()
        .iter()
        .map(|a| a["format"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(formats.iter().filter(|f| *f == "json").count(), 2);
    assert!(formats.contains(&"mp3".to_string()) && formats.contains(&"ogg_vorbis".to_string()));
}
