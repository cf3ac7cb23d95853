//! The `google` backend against tests/servers/google_tts.py, a Google Cloud Text-to-Speech
//! server on loopback wrapping piper-tts that validates every body against Google's discovery
//! document (googleapiclient's copy of texttospeech.v1beta1), parses the SSML with xml.etree,
//! answers base64 WAV with a timepoint per mark, and serves an OAuth token endpoint that
//! checks service-account JWTs and refresh tokens.
//!
//! The Python side lives in the test venv (`$ALOUD_TEST_VENV`, default
//! `~/.cache/aloud-test/venv`, made by scripts/test). Without it these tests skip with a note
//! on stderr, or fail when ALOUD_REQUIRE_READERS=1.

mod common;
use aloud::lexicon::Pronunciation;
use aloud::narrate::{Narrator, NarratorOptions};
use aloud::synth::google::Google;
use aloud::synth::{Backend, SpeechRequest};
use aloud::voice::VoiceProfile;
use common::{Ready, Server, repo, skip_or_fail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

const KEY: &str = "AIza-local-test-key";
const TOKEN: &str = "ya29.local-test-token";

/// Every variable the backend reads when it opens.
const VARS: &[&str] = &[
    "GOOGLE_API_KEY",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CLOUDSDK_CONFIG",
    "GOOGLE_CLOUD_QUOTA_PROJECT",
    "ALOUD_GOOGLE_TTS_URL",
];

/// Backends read credentials from the environment when they open; tests open them one at a
/// time under this lock, each with exactly the variables it means.
static ENV: Mutex<()> = Mutex::new(());

fn with_env<T>(vars: &[(&str, &str)], open: impl FnOnce() -> T) -> T {
    let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    // gcloud's own file on this machine must not stand in for the credentials under test.
    let empty = tempfile::tempdir().unwrap();
    // SAFETY: every test of this binary touches the environment only under ENV.
    unsafe {
        for var in VARS {
            std::env::remove_var(var);
        }
        std::env::set_var("CLOUDSDK_CONFIG", empty.path());
        for (name, value) in vars {
            std::env::set_var(name, value);
        }
    }
    let result = open();
    unsafe {
        for var in VARS {
            std::env::remove_var(var);
        }
    }
    result
}

/// The test venv's Python and the joe model, if this machine has what these tests need.
fn setup() -> Option<(PathBuf, PathBuf)> {
    common::python_and_joe(
        "piper, numpy, jsonschema, googleapiclient, cryptography",
        "the test venv with piper-tts, jsonschema and google-api-python-client is missing (scripts/test installs it)",
    )
}

/// Starts the fake Google with an API key, a static token and credential files written into
/// its directory.
fn start_server(python: &Path, model: &Path) -> Server {
    Server::start(
        python,
        |command, port, dir| {
            command
                .arg(repo("tests/servers/google_tts.py"))
                .arg("--model")
                .arg(model)
                .args(["--port", &port.to_string()])
                .args(["--key", KEY, "--token", TOKEN])
                .arg("--credentials-dir")
                .arg(dir)
                .arg("--log")
                .arg(dir.join("requests.jsonl"));
        },
        Ready::Answers("/stats"),
    )
}

fn profile(port: u16, voice: &str, options: &str) -> VoiceProfile {
    VoiceProfile::from_toml(
        &format!(
            "name='google-test'\nengine='google'\nlanguage='en-US'\nvoice='{voice}'\n\
             [options]\nbase_url='http://127.0.0.1:{port}'\ntimeout_s=60\nretry_base_ms=50\n{options}"
        ),
        Path::new("google-test.toml"),
    )
    .unwrap()
}

const HOSTILE: &str = r#"AT&T's <b>profit</b> rose "sharply" </speak><audio src='x.wav'/> & <![CDATA[x]]> &amp; 5 > 3."#;

#[test]
fn google_request_bodies_follow_the_discovery_schema() {
    let Some((python, _)) = setup() else { return };
    let shipped = VoiceProfile::from_file(&repo("voices/google-neural2-f.toml")).unwrap();
    let adhoc = VoiceProfile::find("google:en-GB-Neural2-A").unwrap();
    let mut fast = shipped.clone();
    fast.speaking_rate = 1.5;
    fast.options.insert("audio_encoding".into(), "MP3".into());
    fast.options.insert("pitch".into(), (-2.5).into());
    let text = "Ask Kremlev about New York today.";
    let mut lexicon = SpeechRequest::plain(text);
    lexicon.pronunciations = vec![
        Pronunciation {
            range: 4..11,
            ipa: "kɹˈɛm\"lɛv".into(),
        },
        Pronunciation {
            range: 18..26,
            ipa: "nuː jɔːk".into(),
        },
    ];
    let bodies = [
        aloud::synth::google::request_body(&shipped, &SpeechRequest::plain("Hello there.")),
        aloud::synth::google::request_body(&adhoc, &lexicon),
        aloud::synth::google::request_body(&fast, &SpeechRequest::plain(HOSTILE)),
    ]
    .map(|b| b.unwrap());
    for body in &bodies {
        assert_eq!(
            common::validate(&python, "google_tts.py", body),
            Vec::<String>::new(),
            "{body}"
        );
    }
    assert_eq!(bodies[1]["voice"]["languageCode"], "en-GB");
    let ssml = bodies[1]["input"]["ssml"].as_str().unwrap();
    assert!(
        ssml.contains(r#"<phoneme alphabet="ipa" ph="kɹˈɛm&quot;lɛv">Kremlev</phoneme>"#)
            && ssml.contains(r#"<phoneme alphabet="ipa" ph="nuː jɔːk">New York</phoneme>"#),
        "{ssml}"
    );
    assert_eq!(bodies[2]["audioConfig"]["speakingRate"], 1.5);
    // The check can fail: a wrong enum, a wrong type, an unknown field and a missing one.
    let mut bad = bodies[0].clone();
    bad["audioConfig"]["audioEncoding"] = "WAV".into();
    bad["audioConfig"]["speakingRate"] = "fast".into();
    bad["voice"]["gender"] = "FEMALE".into();
    bad.as_object_mut().unwrap().remove("input");
    let problems = common::validate(&python, "google_tts.py", &bad).join("\n");
    for field in ["audioEncoding", "speakingRate", "gender", "input"] {
        assert!(
            problems.contains(field),
            "{field} not reported:\n{problems}"
        );
    }
    let mut broken = bodies[0].clone();
    broken["input"]["ssml"] = "<speak>AT&T</speak>".into();
    let problems = common::validate(&python, "google_tts.py", &broken).join("\n");
    assert!(problems.contains("well-formed"), "{problems}");
}

#[test]
fn google_narrates_with_word_timings() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start_server(&python, &model);
    let rate = 24_000;
    let narrator = with_env(&[("GOOGLE_API_KEY", KEY)], || {
        Narrator::open(
            profile(server.port, "en-US-Neural2-F", ""),
            &NarratorOptions::default(),
            &mut |_| {},
        )
    })
    .expect("the backend opens");
    assert_eq!(narrator.backend().sample_rate(), rate);
    let (document, _, timeline) = common::narrate_sample(&narrator, rate);
    let mut timed_words = 0;
    for sentence in &timeline.sentences {
        let texts: Vec<&str> = sentence.words.iter().map(|w| w.text.as_str()).collect();
        let spoken: Vec<&str> = sentence.spoken.split_whitespace().collect();
        assert_eq!(texts, spoken, "words of '{}'", sentence.spoken);
        let mut previous_end = sentence.start;
        for word in &sentence.words {
            assert_eq!(&sentence.spoken[word.spoken[0]..word.spoken[1]], word.text);
            assert!(
                word.start >= previous_end - 1e-6
                    && word.start <= word.end
                    && word.end <= sentence.end + 1e-6,
                "'{}' at {:.3}-{:.3} after {previous_end:.3} in {:.3}-{:.3}",
                word.text,
                word.start,
                word.end,
                sentence.start,
                sentence.end
            );
            previous_end = word.end;
        }
        // The last word lasts to the end of its clip.
        assert!((sentence.words.last().unwrap().end - sentence.end).abs() < 1e-3);
        timed_words += sentence.words.len();
    }
    assert_eq!(timed_words, document.word_count());
    let log = server.logged();
    assert_eq!(log.len(), timeline.sentences.len());
    assert!(
        log.iter()
            .all(|e| e["auth"] == "key" && e["rate"] == 24_000)
    );
}

#[test]
fn google_ssml_keeps_article_text_as_text() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start_server(&python, &model);
    let backend = with_env(&[("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN)], || {
        Google::open(&profile(server.port, "en-US-Neural2-D", ""))
    })
    .unwrap();
    let request = SpeechRequest::plain(HOSTILE);
    let clip = common::block_on(backend.synthesize(&request)).expect("hostile text is spoken");
    let log = server.logged();
    let entry = log.last().unwrap();
    // The server's XML parser saw exactly the article's text, with one mark per word.
    assert_eq!(entry["text"], HOSTILE);
    let words: Vec<&str> = HOSTILE.split_whitespace().collect();
    assert_eq!(entry["marks"].as_array().unwrap().len(), words.len());
    assert_eq!(entry["auth"], "bearer");
    let timed: Vec<&str> = clip
        .words
        .iter()
        .map(|w| &request.text[w.range.clone()])
        .collect();
    assert_eq!(timed, words);
    assert!(common::clip_rms(&clip.samples) > 0.02);
}

#[test]
fn google_auth_errors_are_fatal_and_busy_is_retried() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start_server(&python, &model);
    let port = server.port;
    let request = SpeechRequest::plain("The tide is out.");
    let fails = |vars: &[(&str, &str)], voice: &str, needle: &str| {
        let backend = with_env(vars, || Google::open(&profile(port, voice, ""))).unwrap();
        let err = common::block_on(backend.synthesize(&request))
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle) && err.contains("google"), "{err}");
        for (_, secret) in vars {
            assert!(!err.contains(secret), "a secret leaks: {err}");
        }
        assert_eq!(backend.requests(), 1, "{err}");
    };
    fails(
        &[("GOOGLE_API_KEY", "AIza-wrong")],
        "en-US-Neural2-F",
        "GOOGLE_API_KEY is rejected",
    );
    fails(
        &[("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.wrong")],
        "en-US-Neural2-F",
        "GOOGLE_OAUTH_ACCESS_TOKEN is rejected",
    );
    // No credentials at all against a server that wants them: refused, once.
    fails(&[], "en-US-Neural2-F", "may not use Text-to-Speech");
    fails(
        &[("GOOGLE_API_KEY", KEY)],
        "en-US-Nobody-Z",
        "Voice 'en-US-Nobody-Z' does not exist",
    );

    // 429 RESOURCE_EXHAUSTED, then speech.
    let backend = with_env(&[("GOOGLE_API_KEY", KEY)], || {
        Google::open(&profile(port, "en-US-Busy-A", ""))
    })
    .unwrap();
    let clip = common::block_on(backend.synthesize(&request)).expect("retried after 429");
    assert_eq!(backend.requests(), 2);
    assert_eq!(clip.words.len(), 4);

    // MP3 is decoded too (when ffmpeg, the server's encoder, is here).
    if Command::new("ffmpeg").arg("-version").output().is_ok() {
        let backend = with_env(&[("GOOGLE_API_KEY", KEY)], || {
            Google::open(&profile(port, "en-US-Neural2-F", "audio_encoding='MP3'\n"))
        })
        .unwrap();
        let clip = common::block_on(backend.synthesize(&request)).unwrap();
        assert_eq!(clip.sample_rate, 24_000);
        assert!(
            common::clip_rms(&clip.samples) > 0.02 && clip.duration() > Duration::from_millis(500)
        );
        assert_eq!(server.logged().last().unwrap()["encoding"], "MP3");
    } else {
        skip_or_fail("ffmpeg (the server's mp3 encoder) is not installed");
    }
}

#[test]
fn google_application_default_credentials() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = start_server(&python, &model);
    let port = server.port;
    let request = SpeechRequest::plain("The tide is out.");

    // A service account: one signed JWT exchanged for a token kept across requests.
    let account = server.path("service_account.json");
    let backend = with_env(
        &[
            ("GOOGLE_APPLICATION_CREDENTIALS", account.to_str().unwrap()),
            ("GOOGLE_CLOUD_QUOTA_PROJECT", "aloud-quota"),
        ],
        || Google::open(&profile(port, "en-US-Neural2-F", "")),
    )
    .unwrap();
    for _ in 0..2 {
        let clip = common::block_on(backend.synthesize(&request)).expect("speaks with a token");
        assert_eq!(clip.words.len(), 4);
    }
    assert_eq!((backend.token_requests(), backend.requests()), (1, 2));
    assert_eq!(server.get_json("/stats")["tokens"], 1);
    let last = server.logged().last().unwrap().clone();
    assert_eq!(
        (last["auth"].as_str(), last["user_project"].as_str()),
        (Some("bearer"), Some("aloud-quota"))
    );

    // Tokens that expire within the renewal margin are fetched again for each request.
    let short = server.path("service_account_short.json");
    let backend = with_env(
        &[("GOOGLE_APPLICATION_CREDENTIALS", short.to_str().unwrap())],
        || Google::open(&profile(port, "en-US-Neural2-F", "")),
    )
    .unwrap();
    for _ in 0..2 {
        common::block_on(backend.synthesize(&request)).unwrap();
    }
    assert_eq!(backend.token_requests(), 2);

    // gcloud's authorized_user file, found through CLOUDSDK_CONFIG; its quota project is used.
    let gcloud = tempfile::tempdir().unwrap();
    std::fs::copy(
        server.path("authorized_user.json"),
        gcloud.path().join("application_default_credentials.json"),
    )
    .unwrap();
    let backend = with_env(
        &[("CLOUDSDK_CONFIG", gcloud.path().to_str().unwrap())],
        || Google::open(&profile(port, "en-US-Neural2-F", "")),
    )
    .unwrap();
    common::block_on(backend.synthesize(&request)).expect("speaks with a refreshed token");
    assert_eq!((backend.token_requests(), backend.requests()), (1, 1));
    assert_eq!(
        server.logged().last().unwrap()["user_project"],
        "aloud-quota-from-file"
    );

    // A service account the token endpoint does not know: fatal, naming the file, and no
    // synthesis request is made.
    let mut forged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&account).unwrap()).unwrap();
    forged["client_email"] = "someone-else@aloud-tests.iam.gserviceaccount.com".into();
    let forged_path = server.path("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let backend = with_env(
        &[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            forged_path.to_str().unwrap(),
        )],
        || Google::open(&profile(port, "en-US-Neural2-F", "")),
    )
    .unwrap();
    let err = common::block_on(backend.synthesize(&request))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("forged.json") && err.contains("invalid_grant"),
        "{err}"
    );
    assert_eq!((backend.token_requests(), backend.requests()), (1, 0));

    // A key file that is not a key fails when the backend opens.
    forged["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into();
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let err = with_env(
        &[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            forged_path.to_str().unwrap(),
        )],
        || Google::open(&profile(port, "en-US-Neural2-F", "")),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("private_key"), "{err}");
}

#[test]
fn google_without_credentials_names_them() {
    // No server needed: the real host without credentials is refused before any request.
    let profile = VoiceProfile::find("google:en-US-Neural2-F").unwrap();
    let err = with_env(&[], || Google::open(&profile))
        .err()
        .unwrap()
        .to_string();
    for var in [
        "GOOGLE_API_KEY",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ] {
        assert!(err.contains(var), "{err}");
    }
}
