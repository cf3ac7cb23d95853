//! The `azure` backend against tests/servers/azure_tts.py on loopback: an Azure AI Speech
//! REST server wrapping piper-tts that checks the key, the content type and the output format
//! name, parses the SSML with xml.etree (W3C synthesis namespace, version, xml:lang, a voice
//! it knows) and answers RIFF WAV at the format's rate; it can answer 429 on request.
//!
//! The Python side lives in the test venv (`$ALOUD_TEST_VENV`, default
//! `~/.cache/aloud-test/venv`, made by scripts/test). Without it these tests skip with a note
//! on stderr, or fail when ALOUD_REQUIRE_READERS=1.

mod common;
use aloud::narrate::{Narrator, NarratorOptions};
use aloud::synth::azure::Azure;
use aloud::synth::{Backend, SpeechRequest};
use aloud::voice::VoiceProfile;
use common::Server;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const KEY: &str = "azure-test-key-0123456789abcdef";

/// The test venv's Python and the joe model, if this machine has what these tests need.
fn setup() -> Option<(PathBuf, PathBuf)> {
    common::python_and_joe(
        "piper, numpy",
        "the test venv with piper-tts is missing (scripts/test installs it)",
    )
}

/// Starts azure_tts.py with `extra` arguments.
fn start(python: &Path, model: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["--key", KEY];
    args.extend_from_slice(extra);
    Server::fake(python, "azure_tts.py", model, &args, "/health")
}

impl Server {
    /// Requests the server has received.
    fn requests(&self) -> u64 {
        self.get_json("/stats")["requests"].as_u64().unwrap()
    }

    /// A profile for `voice` with `top` lines before the options table and `options` in it.
    fn profile(&self, voice: &str, top: &str, options: &str) -> VoiceProfile {
        VoiceProfile::from_toml(
            &format!(
                "name='azure-test'\nengine='azure'\nlanguage='en-US'\nvoice='{voice}'\n{top}\n\
                 [options]\nendpoint='http://127.0.0.1:{}'\ntimeout_s=60\nretry_base_ms=20\n{options}\n",
                self.port
            ),
            Path::new("azure-test.toml"),
        )
        .unwrap()
    }
}

/// The environment the backend would see, without touching this process's.
fn open(profile: &VoiceProfile, key: &'static str) -> Azure {
    let env = move |name: &str| match name {
        "AZURE_SPEECH_KEY" => Some(key.to_string()),
        "AZURE_SPEECH_REGION" => Some("westeurope".to_string()),
        _ => None,
    };
    Azure::open_with(profile, &env).expect("the backend opens")
}

#[test]
fn azure_narrates_markdown() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start(&python, &model, &[]);
    // The key comes from the environment; only this test reads it there.
    unsafe { std::env::set_var("AZURE_SPEECH_KEY", KEY) };
    let narrator = Narrator::open(
        server.profile("en-US-JennyNeural", "", ""),
        &NarratorOptions::default(),
        &mut |_| {},
    );
    unsafe { std::env::remove_var("AZURE_SPEECH_KEY") };
    let narrator = narrator.expect("the backend opens");
    assert_eq!(narrator.backend().sample_rate(), 24_000);
    let (_, _, timeline) = common::narrate_sample(&narrator, 24_000);
    for sentence in &timeline.sentences {
        assert!(
            sentence.words.is_empty(),
            "Azure's REST API gives no word timings"
        );
    }
    // One request per sentence, each with the sentence's text (in whatever order they ran).
    let accepted = server.logged();
    let mut received: Vec<&str> = accepted
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    let mut spoken: Vec<&str> = timeline
        .sentences
        .iter()
        .map(|s| s.spoken.as_str())
        .collect();
    received.sort_unstable();
    spoken.sort_unstable();
    assert_eq!(received, spoken);
    for request in &accepted {
        assert_eq!(request["voice"], "en-US-JennyNeural");
        assert_eq!(request["speed"], 1.0);
    }
}

#[test]
fn markup_in_the_text_arrives_as_text_at_the_requested_rate_and_speed() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start(&python, &model, &[]);
    let hostile = "AT&T's <b>bold</b> \"quoted\" 'single' </speak><audio src=\"x.wav\"/> & done.";
    let profile = server.profile(
        "en-US-JennyNeural",
        "speaking_rate = 1.25",
        "format='raw-16khz-16bit-mono-pcm'",
    );
    let azure = open(&profile, KEY);
    assert_eq!(azure.sample_rate(), 16_000);
    let clip = common::block_on(azure.synthesize(&SpeechRequest::plain(hostile)))
        .expect("hostile text is spoken");
    assert_eq!(clip.sample_rate, 16_000);
    assert!(common::clip_rms(&clip.samples) > 0.02);
    let accepted = server.logged();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["text"], hostile);
    assert_eq!(accepted[0]["speed"], 1.25);
}

#[test]
fn a_wrong_key_is_refused_after_one_request() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start(&python, &model, &[]);
    let azure = open(&server.profile("en-US-JennyNeural", "", ""), "not-the-key");
    let err = common::block_on(azure.synthesize(&SpeechRequest::plain("Hello there.")))
        .expect_err("the key is refused")
        .to_string();
    eprintln!("error: {err}");
    assert!(
        err.contains("azure")
            && err.contains("AZURE_SPEECH_KEY")
            && err.contains("westeurope")
            && err.contains("401"),
        "{err}"
    );
    assert!(!err.contains("not-the-key"), "{err}");
    assert_eq!((azure.requests(), server.requests()), (1, 1));
}

#[test]
fn an_unknown_voice_is_refused_after_one_request() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start(&python, &model, &[]);
    let azure = open(&server.profile("en-US-NobodyNeural", "", ""), KEY);
    let err = common::block_on(azure.synthesize(&SpeechRequest::plain("Hello there.")))
        .expect_err("the voice is refused")
        .to_string();
    eprintln!("error: {err}");
    assert!(
        err.contains("400") && err.contains("en-US-NobodyNeural"),
        "{err}"
    );
    assert_eq!((azure.requests(), server.requests()), (1, 1));
}

#[test]
fn too_many_requests_are_retried_after_the_wait_asked_for() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start(&python, &model, &["--fail-429", "2"]);
    let azure = open(&server.profile("en-US-JennyNeural", "", ""), KEY);
    let started = Instant::now();
    let clip = common::block_on(azure.synthesize(&SpeechRequest::plain("The tide turns at noon.")))
        .expect("429s are waited out");
    // Retry-After: 1 each time, over the 20 ms backoff.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((azure.requests(), server.requests()), (3, 3));
    assert_eq!(clip.sample_rate, 24_000);
    assert!(common::clip_rms(&clip.samples) > 0.02);
}
