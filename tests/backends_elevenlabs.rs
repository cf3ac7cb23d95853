//! The `elevenlabs` backend against tests/servers/elevenlabs_tts.py, an ElevenLabs-compatible
//! server on loopback wrapping piper-tts that checks bodies the way the real API's models do
//! (unknown fields refused with 422), answers `/with-timestamps` with base64 PCM and
//! per-character times, and logs the stitching context each request carried.
//!
//! The Python side lives in the test venv (`$ALOUD_TEST_VENV`, default
//! `~/.cache/aloud-test/venv`, made by scripts/test). Without it these tests skip with a note
//! on stderr, or fail when ALOUD_REQUIRE_READERS=1.

mod common;
use aloud::narrate::{Narrator, NarratorOptions};
use aloud::synth::elevenlabs::ElevenLabs;
use aloud::synth::{Backend, SpeechRequest};
use aloud::voice::VoiceProfile;
use common::{Server, repo};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

const KEY: &str = "xi-local-test-key";

/// The key is read from the environment when a backend opens; tests open backends one at a
/// time under this lock so they never see each other's key.
static ENV: Mutex<()> = Mutex::new(());

/// The test venv's Python and the joe model, if this machine has what these tests need.
fn setup() -> Option<(PathBuf, PathBuf)> {
    common::python_and_joe(
        "piper, numpy, jsonschema",
        "the test venv with piper-tts and jsonschema is missing (scripts/test installs it)",
    )
}

/// Starts the fake ElevenLabs, which logs what it speaks.
fn start_server(python: &Path, model: &Path) -> Server {
    Server::fake(
        python,
        "elevenlabs_tts.py",
        model,
        &["--key", KEY, "--exhausted-key", "xi-exhausted"],
        "/v1/models",
    )
}

fn profile(port: u16, voice: &str, options: &str) -> VoiceProfile {
    VoiceProfile::from_toml(
        &format!(
            "name='elevenlabs-test'\nengine='elevenlabs'\nlanguage='en-US'\nvoice='{voice}'\n\
             [options]\nbase_url='http://127.0.0.1:{port}'\ntimeout_s=60\nretry_base_ms=50\n{options}"
        ),
        Path::new("elevenlabs-test.toml"),
    )
    .unwrap()
}

/// Opens the backend with `key` (or none) as ELEVENLABS_API_KEY.
fn open_with_key(profile: &VoiceProfile, key: Option<&str>) -> aloud::Result<ElevenLabs> {
    let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: every test of this binary reads and writes the environment under ENV.
    unsafe {
        std::env::remove_var("ELEVENLABS_BASE_URL");
        match key {
            Some(key) => std::env::set_var("ELEVENLABS_API_KEY", key),
            None => std::env::remove_var("ELEVENLABS_API_KEY"),
        }
    }
    let backend = ElevenLabs::open(profile);
    unsafe { std::env::remove_var("ELEVENLABS_API_KEY") };
    backend
}

#[test]
fn elevenlabs_narrates_with_word_timings_and_stitching() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start_server(&python, &model);
    let rate = 22_050;
    let narrator = {
        let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
        unsafe { std::env::set_var("ELEVENLABS_API_KEY", KEY) };
        let narrator = Narrator::open(
            profile(server.port, "joe", ""),
            &NarratorOptions::default(),
            &mut |_| {},
        );
        unsafe { std::env::remove_var("ELEVENLABS_API_KEY") };
        narrator.expect("the backend opens")
    };
    assert_eq!(narrator.backend().sample_rate(), rate);
    // The audio: rate, speech in every sentence, and a plausible pace.
    let (document, _, timeline) = common::narrate_sample(&narrator, rate);

    // Word timings: every word of what was spoken, in order, within its sentence.
    let mut timed_words = 0;
    for sentence in &timeline.sentences {
        let texts: Vec<&str> = sentence.words.iter().map(|w| w.text.as_str()).collect();
        let spoken: Vec<&str> = sentence.spoken.split_whitespace().collect();
        assert_eq!(texts, spoken, "words of '{}'", sentence.spoken);
        let mut previous_start = sentence.start;
        for word in &sentence.words {
            assert_eq!(
                &sentence.spoken[word.spoken[0]..word.spoken[1]],
                word.text,
                "byte range of '{}'",
                word.text
            );
            assert!(
                word.start >= previous_start && word.start <= word.end,
                "'{}' at {:.3}-{:.3} after {previous_start:.3}",
                word.text,
                word.start,
                word.end
            );
            assert!(
                word.start >= sentence.start - 1e-6 && word.end <= sentence.end + 1e-6,
                "'{}' at {:.3}-{:.3} outside its sentence {:.3}-{:.3}",
                word.text,
                word.start,
                word.end,
                sentence.start,
                sentence.end
            );
            previous_start = word.start;
        }
        // The last word ends near the clip's end (the fake spreads characters over the clip).
        let last = sentence.words.last().unwrap();
        assert!(sentence.end - last.end < 0.05, "{}", sentence.spoken);
        timed_words += sentence.words.len();
    }
    assert_eq!(timed_words, document.word_count());

    // Stitching: each request carried the text of the requests before and after it, in
    // reading order, even though requests ran two at a time.
    let entries = server.logged();
    assert_eq!(entries.len(), timeline.sentences.len());
    let spoken: Vec<&str> = timeline
        .sentences
        .iter()
        .map(|s| s.spoken.as_str())
        .collect();
    for (i, text) in spoken.iter().enumerate() {
        let entry = entries
            .iter()
            .find(|e| e["text"] == *text)
            .unwrap_or_else(|| panic!("no request said '{text}'"));
        let previous = i.checked_sub(1).map(|p| spoken[p]);
        let next = spoken.get(i + 1).copied();
        assert_eq!(entry["previous_text"].as_str(), previous, "before '{text}'");
        assert_eq!(entry["next_text"].as_str(), next, "after '{text}'");
        assert_eq!(entry["timestamps"], true);
        assert_eq!(entry["model_id"], "eleven_multilingual_v2");
    }
}

#[test]
fn elevenlabs_errors_and_retries() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start_server(&python, &model);
    let port = server.port;
    let request = SpeechRequest::plain("The tide is out.");

    // A wrong key: fatal, naming the variable, after exactly one request.
    let backend = open_with_key(&profile(port, "joe", ""), Some("xi-wrong")).unwrap();
    let err = common::block_on(backend.synthesize(&request))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ELEVENLABS_API_KEY") && err.contains("elevenlabs"),
        "{err}"
    );
    assert!(!err.contains("xi-wrong"), "the key leaks: {err}");
    assert_eq!(backend.requests(), 1);

    // An exhausted quota: fatal at once.
    let backend = open_with_key(&profile(port, "joe", ""), Some("xi-exhausted")).unwrap();
    let err = common::block_on(backend.synthesize(&request))
        .unwrap_err()
        .to_string();
    assert!(err.contains("quota"), "{err}");
    assert_eq!(backend.requests(), 1);

    // An unknown voice: fatal, naming it.
    let backend = open_with_key(&profile(port, "nobody-here", ""), Some(KEY)).unwrap();
    let err = common::block_on(backend.synthesize(&request))
        .unwrap_err()
        .to_string();
    assert!(err.contains("'nobody-here'"), "{err}");
    assert_eq!(backend.requests(), 1);

    // A model the server does not know is refused with 422, as pydantic refuses a bad field:
    // fatal at once, with the server's detail.
    let bad_model = VoiceProfile {
        model: "eleven_nonexistent".into(),
        ..profile(port, "joe", "")
    };
    let backend = open_with_key(&bad_model, Some(KEY)).unwrap();
    let err = common::block_on(backend.synthesize(&request))
        .unwrap_err()
        .to_string();
    assert!(err.contains("422") && err.contains("model_id"), "{err}");
    assert_eq!(backend.requests(), 1);

    // 429 too_many_concurrent_requests, then speech: retried once, words timed.
    let backend = open_with_key(&profile(port, "busy", ""), Some(KEY)).unwrap();
    let clip = common::block_on(backend.synthesize(&request)).expect("retried after 429");
    assert_eq!(backend.requests(), 2);
    assert_eq!(clip.sample_rate, 22_050);
    let words: Vec<&str> = clip
        .words
        .iter()
        .map(|w| &request.text[w.range.clone()])
        .collect();
    assert_eq!(words, ["The", "tide", "is", "out."]);
    let duration = clip.duration().as_secs_f64();
    assert!(clip.words.iter().all(|w| w.end <= duration + 1e-3));

    // Without timestamps: raw PCM at the rate asked for, no words.
    let backend = open_with_key(
        &profile(port, "joe", "timestamps=false\noutput_format='pcm_16000'\n"),
        Some(KEY),
    )
    .unwrap();
    assert_eq!(backend.sample_rate(), 16_000);
    let clip = common::block_on(backend.synthesize(&request)).unwrap();
    assert_eq!(clip.sample_rate, 16_000);
    assert!(clip.words.is_empty());
    let pcm: Vec<i16> = clip.samples.iter().map(|s| (s * 32767.0) as i16).collect();
    assert!(common::rms(&pcm) > 0.02 && clip.duration() > Duration::from_millis(500));
    let last = server.logged().pop().unwrap();
    assert_eq!(
        (last["timestamps"].as_bool(), last["format"].as_str()),
        (Some(false), Some("pcm_16000"))
    );
}

#[test]
fn elevenlabs_without_a_key_names_the_variable() {
    // No server needed: the real host without a key is refused before any request.
    let profile = VoiceProfile::find("elevenlabs:21m00Tcm4TlvDq8ikWAM").unwrap();
    let err = open_with_key(&profile, None).err().unwrap().to_string();
    assert!(err.contains("ELEVENLABS_API_KEY"), "{err}");
    // The shipped profile parses and opens against a server of one's own.
    let mut shipped = VoiceProfile::from_file(&repo("voices/elevenlabs.toml")).unwrap();
    shipped
        .options
        .insert("base_url".into(), "http://127.0.0.1:9".into());
    let backend = open_with_key(&shipped, None).unwrap();
    assert_eq!(backend.identity()["engine"], "elevenlabs");
}
