//! The local backends against real engines on this machine: `wyoming` against a wyoming-piper
//! server on loopback speaking the joe voice, `command` running espeak-ng. Each narrates a
//! Markdown article through the library and the program is checked as narrate_e2e checks
//! Piper's. A missing server package or program skips, unless ALOUD_REQUIRE_READERS is set.

mod common;
use aloud::assets::AssetOptions;
use aloud::document::Document;
use aloud::narrate::{Narrator, NarratorOptions, Summary};
use aloud::sidecar::Timeline;
use aloud::stitch::markers::read_wav_summary;
use aloud::voice::VoiceProfile;
use common::{Ready, Server, repo, rms};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// True when the test may go on; false (with a note on stderr) when `what` is missing and
/// missing tools are allowed. Under ALOUD_REQUIRE_READERS a missing tool fails the test.
fn available(what: &str, present: bool) -> bool {
    if !present {
        common::skip_or_fail(&format!("{what} is not installed"));
    }
    present
}

fn narrate(profile: VoiceProfile, document: &Document, output: &Path) -> (Narrator, Summary) {
    let narrator = Narrator::open(profile, &NarratorOptions::default(), &mut |p| {
        eprintln!("{p}")
    })
    .expect("the backend opens");
    let summary = narrator
        .narrate_blocking(document, output, &mut |_| {})
        .expect("narration succeeds");
    (narrator, summary)
}

/// Checks a narrated night-sky guide: rate, pace, speech in every sentence, chapters.
fn check_program(document: &Document, summary: &Summary, output: &Path, rate: u32) {
    let mut reader = hound::WavReader::open(output).expect("hound reads the output");
    let spec = reader.spec();
    assert_eq!(spec.sample_rate, rate);
    assert_eq!(spec.channels, 1);
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();

    let seconds = samples.len() as f64 / f64::from(rate);
    let words_per_minute = document.word_count() as f64 / (seconds / 60.0);
    assert!(
        (120.0..=240.0).contains(&words_per_minute),
        "{words_per_minute:.0} words per minute over {seconds:.1} s"
    );
    assert!((summary.audio_seconds - seconds).abs() < 0.01);

    let timeline = Timeline::read(&summary.timeline).unwrap();
    assert_eq!(timeline.sentences.len(), document.sentence_count());
    for sentence in &timeline.sentences {
        let from = (sentence.start * f64::from(rate)) as usize;
        let to = (sentence.end * f64::from(rate)) as usize;
        assert!(to > from, "'{}' has no audio", sentence.text);
        let level = rms(&samples[from..to]);
        assert!(
            level > 0.02,
            "'{}' is near silent (rms {level:.4})",
            sentence.text
        );
    }

    let expected: Vec<&str> = document.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(expected.len(), 5);
    assert_eq!(summary.chapters, 5);
    let wav = read_wav_summary(output).unwrap();
    let titles: Vec<&str> = wav.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, expected);
}

fn night_sky() -> Document {
    aloud::ingest::load(&repo("samples/night-sky-guide.md")).unwrap()
}

/// The Python with wyoming-piper: $ALOUD_WYOMING_PYTHON, else the venv scripts/test makes
/// ($ALOUD_TEST_VENV, or its default in the user cache dir).
fn wyoming_python() -> Option<PathBuf> {
    match std::env::var_os("ALOUD_WYOMING_PYTHON") {
        Some(path) => common::python_with(PathBuf::from(path), "wyoming_piper"),
        None => common::venv_python("wyoming_piper"),
    }
}

#[test]
fn wyoming_piper_narrates_an_article() {
    let Some(python) = wyoming_python() else {
        available(
            "wyoming-piper (PyPI wyoming-piper==2.5.2; scripts/test installs it)",
            false,
        );
        return;
    };
    // The joe voice `aloud setup` provisioned, linked into a data dir of wyoming-piper's layout
    // (NAME.onnx and NAME.onnx.json side by side): found there, it is never downloaded.
    let voice = AssetOptions {
        offline: true,
        ..AssetOptions::default()
    }
    .builtin_voice("en_US-joe-medium", &mut |_| {})
    .expect("the joe voice is provisioned (run `aloud setup`)");
    let server = Server::start(
        &python,
        |command, port, dir| {
            let data = dir.join("data");
            std::fs::create_dir(&data).unwrap();
            std::os::unix::fs::symlink(&voice.model, data.join("en_US-joe-medium.onnx")).unwrap();
            std::os::unix::fs::symlink(&voice.config, data.join("en_US-joe-medium.onnx.json"))
                .unwrap();
            command
                .args(["-m", "wyoming_piper", "--voice", "en_US-joe-medium"])
                .args(["--uri", &format!("tcp://127.0.0.1:{port}")])
                .arg("--data-dir")
                .arg(&data)
                .arg("--download-dir")
                .arg(&data)
                .env("HF_HUB_OFFLINE", "1");
        },
        Ready::Listening,
    );
    let url = format!("tcp://127.0.0.1:{}", server.port);
    let dir = tempfile::tempdir().unwrap();
    let mut profile = VoiceProfile::find("wyoming:en_US-joe-medium").unwrap();
    profile
        .options
        .insert("url".into(), toml::Value::String(url.clone()));
    let document = night_sky();
    let output = dir.path().join("guide.wav");
    let (narrator, summary) = narrate(profile, &document, &output);
    // The rate was learned from the server, not configured.
    assert_eq!(narrator.backend().sample_rate(), 22050);
    assert_eq!(summary.backend, "wyoming");
    check_program(&document, &summary, &output, 22050);

    // An unknown voice is the server's error, named as the backend's.
    let mut profile = VoiceProfile::find("wyoming:xx_XX-nobody-low").unwrap();
    profile
        .options
        .insert("url".into(), toml::Value::String(url));
    let err = match Narrator::open(profile, &NarratorOptions::default(), &mut |_| {}) {
        Ok(_) => panic!("an unknown voice opens"),
        Err(e) => e.to_string(),
    };
    assert!(err.starts_with("wyoming: "), "{err}");
    drop(server);
}

fn espeak_present() -> bool {
    Command::new("espeak-ng")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn espeak_ng_as_a_command_narrates_an_article() {
    if !available("espeak-ng (Debian package espeak-ng)", espeak_present()) {
        return;
    }
    let profile = VoiceProfile::find(repo("voices/espeak-command.toml").to_str().unwrap()).unwrap();
    assert_eq!(profile.engine, "command");
    let document = night_sky();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("guide.wav");
    let (_, summary) = narrate(profile, &document, &output);
    assert_eq!(summary.backend, "command");
    check_program(&document, &summary, &output, 22050);
}

#[test]
fn a_command_voice_without_a_rate_learns_it_from_the_program() {
    if !available("espeak-ng (Debian package espeak-ng)", espeak_present()) {
        return;
    }
    let mut profile =
        VoiceProfile::find(repo("voices/espeak-command.toml").to_str().unwrap()).unwrap();
    profile.options.remove("sample_rate");
    let narrator =
        Narrator::open(profile.clone(), &NarratorOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(narrator.backend().sample_rate(), 22050);

    // A voice espeak-ng does not know fails at open, with its own complaint.
    profile.voice = Some("xx-nobody".into());
    let err = match Narrator::open(profile, &NarratorOptions::default(), &mut |_| {}) {
        Ok(_) => panic!("an unknown espeak voice opens"),
        Err(e) => e.to_string(),
    };
    assert!(err.starts_with("command: "), "{err}");
}
