//! Tests of the Amazon Polly backend: request signing, credentials, SSML and its replies.

use super::credentials::{Sources, parse_ini, resolve};
use super::*;
use crate::lexicon::Pronunciation;
use std::collections::HashMap;
use std::path::Path;

#[test]
fn ssml_offsets_map_back_to_the_text() {
    let text = "AT&T's <b>\"deal\"</b> with\u{1} Kremlev now, café.";
    let mut request = SpeechRequest::plain(text);
    let k = text.find("Kremlev").unwrap();
    request.pronunciations = vec![Pronunciation {
        range: k..k + 7,
        ipa: "kɹˈɛmlɛv".into(),
    }];
    let map = request_ssml(&request);
    assert!(map.ssml.starts_with("<speak>AT&amp;T&apos;s &lt;b&gt;"));
    assert!(
        map.ssml
            .contains("<phoneme alphabet=\"ipa\" ph=\"kɹˈɛmlɛv\">Kremlev</phoneme>")
    );
    // Every word of the text, found in the SSML by its escaped form, maps back to itself.
    for word in ["AT&T's", "<b>\"deal\"</b>", "now,", "café."] {
        let escaped = ssml::escape(word);
        let at = map.ssml.find(&escaped).unwrap();
        let range = map.text_range(at, at + escaped.len()).unwrap();
        assert_eq!(&text[range], word);
    }
    let at = map.ssml.find(">Kremlev<").unwrap() + 1;
    assert_eq!(&text[map.text_range(at, at + 7).unwrap()], "Kremlev");
    // The control character the SSML dropped is skipped, not matched.
    let at = map.ssml.find("with").unwrap();
    let with = map.text_range(at, at + 4).unwrap();
    assert_eq!(&text[with.clone()], "with");
    assert_eq!(&text[with.end..with.end + 1], "\u{1}");
    // Inside a tag there is no text.
    assert_eq!(map.text_range(0, 3), None);
    let phoneme = map.ssml.find("<phoneme").unwrap();
    assert_eq!(map.text_range(phoneme + 1, phoneme + 5), None);
    assert_eq!(map.text_range(5, 5), None);
}

#[test]
fn speech_marks_become_word_timings() {
    let text = "Fish & chips";
    let map = request_ssml(&SpeechRequest::plain(text));
    assert_eq!(map.ssml, "<speak>Fish &amp; chips</speak>");
    let marks = b"{\"time\":6,\"type\":\"word\",\"start\":7,\"end\":11,\"value\":\"Fish\"}\n\
{\"time\":380,\"type\":\"word\",\"start\":12,\"end\":17,\"value\":\"&\"}\n\
{\"time\":520,\"type\":\"word\",\"start\":18,\"end\":23,\"value\":\"chips\"}\n";
    let words = word_timings(marks, &map, 1.2).unwrap();
    let got: Vec<(&str, f64, f64)> = words
        .iter()
        .map(|w| (&text[w.range.clone()], w.start, w.end))
        .collect();
    assert_eq!(
        got,
        [
            ("Fish", 0.006, 0.38),
            ("&", 0.38, 0.52),
            ("chips", 0.52, 1.2)
        ]
    );
    let bad = b"{\"time\":6,\"type\":\"word\",\"start\":0,\"end\":6,\"value\":\"<speak\"}\n";
    assert!(matches!(
        word_timings(bad, &map, 1.0),
        Err(Failure::Fatal { .. })
    ));
}

fn answer(status: u16, header: Option<&str>, body: &str) -> Answer {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(h) = header {
        headers.insert("x-amzn-ErrorType", h.parse().unwrap());
    }
    Answer {
        status: reqwest::StatusCode::from_u16(status).unwrap(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn polly_errors_are_classified() {
    let throttled = answer(
        400,
        Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/"),
        r#"{"message":"Rate exceeded"}"#,
    );
    assert!(matches!(classify(&throttled, "env"), Failure::Retry { .. }));
    let body_only = answer(
        500,
        None,
        r#"{"__type":"com.amazonaws.polly#ServiceFailureException","message":"x"}"#,
    );
    assert!(matches!(classify(&body_only, "env"), Failure::Retry { .. }));
    let signature = answer(
        403,
        Some("InvalidSignatureException:http://x/"),
        r#"{"message":"The request signature we calculated does not match"}"#,
    );
    let f = classify(
        &signature,
        "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
    );
    assert!(matches!(f, Failure::Fatal { .. }));
    assert!(
        f.message().contains("AWS_SECRET_ACCESS_KEY")
            && f.message().contains("InvalidSignatureException"),
        "{}",
        f.message()
    );
    for kind in [
        "TextLengthExceededException",
        "InvalidSsmlException",
        "LexiconNotFoundException",
        "EngineNotSupportedException",
        "ValidationException",
    ] {
        let a = answer(400, Some(kind), r#"{"message":"what went wrong"}"#);
        let f = classify(&a, "env");
        assert!(matches!(f, Failure::Fatal { .. }), "{kind}");
        assert!(f.message().contains(kind) && f.message().contains("what went wrong"));
    }
    // No Polly error type: the common rules.
    assert!(matches!(
        classify(&answer(503, None, "busy"), "env"),
        Failure::Retry { .. }
    ));
}

fn sources<'a>(env: &'a dyn Fn(&str) -> Option<String>, home: &Path) -> Sources<'a> {
    Sources {
        env,
        home: Some(home.to_path_buf()),
    }
}

#[test]
fn credentials_from_env_then_profile_files() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
            home.path().join(".aws/credentials"),
            "# keys\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s3cr3t/default ; note\n\n[work]\naws_access_key_id=AKIDWORK\naws_secret_access_key=workSecret\naws_session_token = tok\n",
        )
        .unwrap();
    std::fs::write(
            home.path().join(".aws/config"),
            "[default]\nregion = eu-west-1\n[profile work]\nregion = us-west-2\ns3 =\n  max_concurrent_requests = 20\n[profile sso]\nsso_session = corp\n[sso-session corp]\nsso_region = us-east-1\n",
        )
        .unwrap();
    let vars: HashMap<&str, &str> = HashMap::new();
    let env = |k: &str| vars.get(k).map(|v| v.to_string());
    let c = resolve(&sources(&env, home.path())).unwrap();
    assert_eq!(
        (c.access_key_id.as_str(), c.secret_access_key.as_str()),
        ("AKIDDEFAULT", "s3cr3t/default")
    );
    assert!(c.source.contains("'default'"));
    assert_eq!(
        credentials::profile_region(&sources(&env, home.path())).as_deref(),
        Some("eu-west-1")
    );

    let work: HashMap<&str, &str> = [("AWS_PROFILE", "work")].into();
    let env = |k: &str| work.get(k).map(|v| v.to_string());
    let c = resolve(&sources(&env, home.path())).unwrap();
    assert_eq!(c.session_token.as_deref(), Some("tok"));
    assert_eq!(
        credentials::profile_region(&sources(&env, home.path())).as_deref(),
        Some("us-west-2")
    );
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("workSecret") && !debug.contains("tok\""),
        "{debug}"
    );

    let sso: HashMap<&str, &str> = [("AWS_PROFILE", "sso")].into();
    let env = |k: &str| sso.get(k).map(|v| v.to_string());
    let err = resolve(&sources(&env, home.path())).unwrap_err();
    assert!(
        err.contains("SSO") && err.contains("export-credentials"),
        "{err}"
    );

    let both: HashMap<&str, &str> = [
        ("AWS_ACCESS_KEY_ID", "AKIDENV"),
        ("AWS_SECRET_ACCESS_KEY", "envSecret"),
        ("AWS_PROFILE", "work"),
    ]
    .into();
    let env = |k: &str| both.get(k).map(|v| v.to_string());
    let c = resolve(&sources(&env, home.path())).unwrap();
    assert_eq!(c.access_key_id, "AKIDENV");
    assert!(c.source.contains("AWS_ACCESS_KEY_ID"));

    let nothing = tempfile::tempdir().unwrap();
    let env = |_: &str| None;
    let err = resolve(&sources(&env, nothing.path())).unwrap_err();
    assert!(
        err.contains("AWS_ACCESS_KEY_ID") && err.contains("AWS_PROFILE"),
        "{err}"
    );
}

#[test]
fn ini_sections_follow_the_aws_rules() {
    let config = parse_ini(
        "[profile a]\nregion=x\n[b]\nregion=y\n[default]\nregion=z\n",
        true,
    );
    assert_eq!(config["a"]["region"], "x");
    assert!(
        !config.contains_key("b"),
        "a config section without 'profile' is not a profile"
    );
    assert_eq!(config["default"]["region"], "z");
    let creds = parse_ini("[profile a]\nk=1\n[a]\nk=2\n", false);
    assert_eq!(creds["a"]["k"], "2");
    assert_eq!(creds["profile a"]["k"], "1");
}

#[test]
fn secrets_are_in_neither_identity_nor_debug() {
    let profile = VoiceProfile::find("polly:Joanna").unwrap();
    let vars: HashMap<&str, &str> = [
        ("AWS_ACCESS_KEY_ID", "AKIDSECRETID"),
        ("AWS_SECRET_ACCESS_KEY", "very/secret+key"),
        ("AWS_SESSION_TOKEN", "session-token-value"),
        ("AWS_REGION", "eu-central-1"),
    ]
    .into();
    let env = |k: &str| vars.get(k).map(|v| v.to_string());
    let home = tempfile::tempdir().unwrap();
    let polly = Polly::open_with(&profile, &sources(&env, home.path())).unwrap();
    let identity = polly.identity().to_string();
    let debug = format!("{:?}", polly.credentials);
    for secret in ["very/secret+key", "session-token-value"] {
        assert!(!identity.contains(secret) && !debug.contains(secret));
    }
    assert!(
        identity.contains("https://polly.eu-central-1.amazonaws.com/v1/speech"),
        "{identity}"
    );
    assert!(identity.contains("Joanna") && identity.contains("neural"));
    // The signature headers are marked sensitive, so reqwest never prints them.
    let request = polly.signed(b"{}").unwrap().build().unwrap();
    assert!(request.headers()["authorization"].is_sensitive());
    assert!(request.headers()["x-amz-security-token"].is_sensitive());
    assert!(request.headers().contains_key("x-amz-date"));
}

#[test]
fn the_region_comes_from_options_env_or_the_profile_and_is_required() {
    let profile = VoiceProfile::find("polly:Joanna").unwrap();
    let home = tempfile::tempdir().unwrap();
    let region_of = |vars: &HashMap<&str, &str>| {
        let env = |k: &str| vars.get(k).map(|v| v.to_string());
        Polly::open_with(&profile, &sources(&env, home.path())).map(|p| p.region)
    };
    let keys = [
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
    ];
    let mut vars: HashMap<&str, &str> = keys.into();
    let err = region_of(&vars).unwrap_err().to_string();
    assert!(err.contains("AWS_REGION"), "{err}");
    vars.insert("AWS_DEFAULT_REGION", "eu-west-3");
    assert_eq!(region_of(&vars).unwrap(), "eu-west-3");
    vars.insert("AWS_REGION", "ap-south-1");
    assert_eq!(region_of(&vars).unwrap(), "ap-south-1");
    vars.insert("AWS_ENDPOINT_URL", "http://127.0.0.1:9/base/");
    let env = |k: &str| vars.get(k).map(|v| v.to_string());
    let polly = Polly::open_with(&profile, &sources(&env, home.path())).unwrap();
    assert_eq!(
        polly.connection.endpoint().as_str(),
        "http://127.0.0.1:9/base/v1/speech"
    );
}

#[test]
fn bodies_follow_the_profile() {
    let mut profile = VoiceProfile::find("polly:Matthew").unwrap();
    profile.options.insert("engine".into(), "standard".into());
    profile
        .options
        .insert("lexicons".into(), toml::Value::Array(vec!["names".into()]));
    let bodies = request_bodies(&profile, &SpeechRequest::plain("Hi & bye")).unwrap();
    assert_eq!(
        bodies[0],
        serde_json::json!({"Engine":"standard","LexiconNames":["names"],"OutputFormat":"pcm","SampleRate":"16000","Text":"<speak>Hi &amp; bye</speak>","TextType":"ssml","VoiceId":"Matthew"})
    );
    assert_eq!(bodies[1]["OutputFormat"], "json");
    assert_eq!(bodies[1]["SpeechMarkTypes"], serde_json::json!(["word"]));
    profile.options.insert("speech_marks".into(), false.into());
    assert_eq!(
        request_bodies(&profile, &SpeechRequest::plain("x"))
            .unwrap()
            .len(),
        1
    );
    profile.options.insert("engine".into(), "turbo".into());
    assert!(request_bodies(&profile, &SpeechRequest::plain("x")).is_err());
}
