//! Tests of the Google Cloud Text-to-Speech backend: auth, requests and replies.

use super::auth::{Exchange, Grant, Secret};
use super::*;
use crate::synth::http::ApiKey;
use std::time::Instant;

/// A German voice in an en-GB profile, pointed at a port nothing answers; `extra` joins its options.
fn profile(extra: &str) -> VoiceProfile {
    let rest = format!("[options]\nbase_url='http://127.0.0.1:9'\n{extra}");
    config::test_profile_of("t", "google", "en-GB", Some("de-DE-Neural2-B"), &rest)
}

#[test]
fn body_takes_the_language_from_the_voice_name() {
    let body = request_body(&profile(""), &SpeechRequest::plain("Guten Tag.")).unwrap();
    assert_eq!(
        body,
        json!({
            "input": {"ssml": "<speak><mark name=\"w0\"/>Guten <mark name=\"w1\"/>Tag.</speak>"},
            "voice": {"languageCode": "de-DE", "name": "de-DE-Neural2-B"},
            "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": 24000, "speakingRate": 1.0},
            "enableTimePointing": ["SSML_MARK"],
        })
    );
    config::assert_each_refused(
        &[
            "audio_encoding='OGG_OPUS'\n",
            "audio_encoding='FLAC'\n",
            "pitch=30\n",
            "sample_rate=100\n",
        ],
        |bad| SpeechSettings::from_profile(&profile(bad)),
    );
}

#[test]
fn long_requests_drop_marks_before_the_input_limit() {
    let settings = SpeechSettings::from_profile(&profile("")).unwrap();
    let text = "a ".repeat(700);
    let (ssml, marks) = settings.ssml(&SpeechRequest::plain(text.trim())).unwrap();
    assert!(marks.is_empty() && ssml.len() <= MAX_INPUT_BYTES);
    assert!(
        settings
            .ssml(&SpeechRequest::plain("x".repeat(6000)))
            .is_err()
    );
    let (ssml, marks) = settings
        .ssml(&SpeechRequest::plain("word ".repeat(140).trim()))
        .unwrap();
    assert_eq!(marks.len(), 140);
    assert!(ssml.len() <= MAX_INPUT_BYTES);
}

#[test]
fn timepoints_become_words_that_never_run_backwards() {
    let marks = vec![0..3, 4..7, 8..11];
    let points = vec![
        json!({"markName": "w0", "timeSeconds": 0.1}),
        json!({"markName": "w2", "timeSeconds": 0.9}),
        json!({"markName": "w1", "timeSeconds": 0.5}),
        json!({"markName": "bogus", "timeSeconds": 0.2}),
    ];
    let words = timepoint_words(&marks, &points, 1.2);
    let spans: Vec<(f64, f64)> = words.iter().map(|w| (w.start, w.end)).collect();
    assert_eq!(spans, [(0.1, 0.5), (0.5, 0.9), (0.9, 1.2)]);
    // A mark reported past the clip's end is held to it; a missing one leaves a gap.
    let words = timepoint_words(
        &marks,
        &[
            json!({"markName": "w0", "timeSeconds": 0.4}),
            json!({"markName": "w2", "timeSeconds": 3.0}),
        ],
        1.0,
    );
    assert_eq!(words.len(), 2);
    assert_eq!((words[0].start, words[0].end), (0.4, 1.0));
    assert_eq!((words[1].start, words[1].end), (1.0, 1.0));
    assert_eq!(words[1].range, 8..11);
}

#[test]
fn secrets_are_absent_from_identity_and_debug() {
    let mut backend = Google::open(&profile("")).unwrap();
    backend.auth.credentials = Credentials::ApiKey(ApiKey::new("AIza-secret-1".into()));
    assert!(!backend.identity().to_string().contains("AIza-secret-1"));
    assert!(!format!("{:?}", backend.auth.credentials).contains("AIza-secret-1"));
    backend.auth.credentials = Credentials::Exchange(Box::new(Exchange {
        grant: Grant::AuthorizedUser {
            client_id: "id".into(),
            client_secret: Secret("cs-secret".into()),
            refresh_token: Secret("rt-secret".into()),
        },
        token_uri: reqwest::Url::parse("http://127.0.0.1:9/token").unwrap(),
        client: reqwest::Client::new(),
        cached: tokio::sync::Mutex::new(Some((ApiKey::new("ya29.secret".into()), Instant::now()))),
    }));
    let debug = format!("{:?}", backend.auth.credentials);
    for secret in ["cs-secret", "rt-secret", "ya29.secret"] {
        assert!(!debug.contains(secret), "{debug}");
    }
    assert!(!backend.identity().to_string().contains("secret"));
}

#[test]
fn errors_are_classified() {
    let backend = Google::open(&profile("")).unwrap();
    let mut backend = backend;
    backend.auth.source = Source::ApiKey;
    let answer = |code: u16, body: Value| Answer {
        status: reqwest::StatusCode::from_u16(code).unwrap(),
        headers: reqwest::header::HeaderMap::new(),
        body: body.to_string().into_bytes(),
    };
    let f = backend.failure(&answer(400, json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}})));
    assert!(
        matches!(f, Failure::Fatal { .. }) && f.message().contains("GOOGLE_API_KEY is rejected"),
        "{f:?}"
    );
    let f = backend.failure(&answer(
        403,
        json!({"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}),
    ));
    assert!(
        matches!(f, Failure::Fatal { .. }) && f.message().contains("GOOGLE_API_KEY"),
        "{f:?}"
    );
    let f = backend.failure(&answer(400, json!({"error": {"code": 400, "message": "Voice 'x' does not exist.", "status": "INVALID_ARGUMENT"}})));
    assert!(
        matches!(f, Failure::Fatal { .. }) && f.message().contains("does not exist"),
        "{f:?}"
    );
    let f = backend.failure(&answer(429, json!({"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}})));
    assert!(matches!(f, Failure::Retry { .. }), "{f:?}");
    let f = backend.failure(&answer(
        503,
        json!({"error": {"code": 503, "message": "down", "status": "UNAVAILABLE"}}),
    ));
    assert!(matches!(f, Failure::Retry { .. }), "{f:?}");
}
