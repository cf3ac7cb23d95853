//! What the backend tests share: the sample article, the test venv's Python, the provisioned
//! joe voice, servers started from that Python on free loopback ports, and the checks of a
//! narrated program.
#![allow(dead_code)] // each test binary uses its own part

use aloud::document::Document;
use aloud::ingest::{Format, parse};
use aloud::narrate::{Narrator, Summary};
use aloud::sidecar::{TimedSentence, Timeline};
use aloud::synth::{Clip, SpeechRequest};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

pub const SAMPLE: &str = "# Tides\n\n\
The sea rises and falls twice a day, pulled by the moon and, a little less, by the sun. \
Sailors have kept tables of the tides for centuries.\n\n\
## Spring Tides\n\n\
When the sun and moon line up, the tides run higher than usual. \
These are called spring tides, although they have nothing to do with the season.\n";

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The sentence cache of [`run_aloud_cached`], inside the directory a test runs in.
pub const CACHE: &str = ".aloud-cache";

/// The `aloud` binary run to its end with `args` in `cwd`.
pub fn run_aloud(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("aloud runs")
}

/// [`run_aloud`] with the sentence cache in `cwd`: no test is answered from another's clips
/// (or the user's), while a test's own runs share theirs.
pub fn run_aloud_cached(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args(args)
        .current_dir(cwd)
        .env("ALOUD_CACHE_DIR", cwd.join(CACHE))
        .output()
        .expect("aloud runs")
}

/// `command` run to its end with `input` on its standard input and its standard output read.
pub fn output_with_stdin(mut command: Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// What `ffprobe` reads of the chapters and format (tags included) of the file at `path`.
pub fn ffprobe_chapters_and_format(path: &Path) -> serde_json::Value {
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_chapters",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    serde_json::from_slice(&probe.stdout).unwrap()
}

/// Each narrated paragraph of `document`, its sentences joined by a space.
pub fn paragraphs(document: &Document) -> Vec<String> {
    document
        .chapters
        .iter()
        .flat_map(|chapter| &chapter.paragraphs)
        .map(|paragraph| {
            let sentences: Vec<&str> = paragraph
                .sentences
                .iter()
                .map(|s| s.text.as_str())
                .collect();
            sentences.join(" ")
        })
        .collect()
}

/// The joe voice with Piper's noise off: bit-identical output run to run.
pub fn deterministic_voice() -> String {
    repo("voices/joe-deterministic.toml").display().to_string()
}

pub fn skip_or_fail(what: &str) {
    if std::env::var_os("ALOUD_REQUIRE_READERS").is_some_and(|v| v != "0") {
        panic!("{what}, and ALOUD_REQUIRE_READERS is set");
    }
    let _ = writeln!(std::io::stderr(), "skipping: {what}");
}

/// The joe model provisioned by `aloud setup`, from `aloud setup --check --json`.
pub fn joe_model() -> Option<PathBuf> {
    let output = Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args(["setup", "--check", "--json"])
        .output()
        .ok()?;
    let entries: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    let path = entries
        .as_array()?
        .iter()
        .find(|e| e["name"] == "voice model en_US-joe-medium")?["path"]
        .as_str()?;
    let path = PathBuf::from(path);
    path.is_file().then_some(path)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The test venv's Python (`$ALOUD_TEST_VENV`, default `~/.cache/aloud-test/venv`, made by
/// scripts/test), if it can import `modules`.
pub fn venv_python(modules: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("ALOUD_TEST_VENV")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|c| c.join("aloud-test").join("venv")))?;
    python_with(venv.join("bin").join("python"), modules)
}

/// `python`, if it can import `modules`.
pub fn python_with(python: PathBuf, modules: &str) -> Option<PathBuf> {
    let ok = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(python)
}

/// [`joe_model`], or `None` after saying it is missing through [`skip_or_fail`].
pub fn joe_model_or_skip() -> Option<PathBuf> {
    let model = joe_model();
    if model.is_none() {
        skip_or_fail("the joe voice is not provisioned (run `aloud setup --voice joe`)");
    }
    model
}

/// The venv's Python with `modules` and the provisioned joe model, or `None` after saying
/// which is missing (`venv_missing` for the venv) through [`skip_or_fail`].
pub fn python_and_joe(modules: &str, venv_missing: &str) -> Option<(PathBuf, PathBuf)> {
    let Some(python) = venv_python(modules) else {
        skip_or_fail(venv_missing);
        return None;
    };
    let model = joe_model_or_skip()?;
    Some((python, model))
}

/// The body of `GET path` on a loopback server when it answers 200.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    // Python's http.server speaks HTTP/1.0 unless told otherwise; both are fine here.
    let ok = head.starts_with("HTTP/1.") && head.get(9..12) == Some("200");
    ok.then(|| body.to_string())
}

/// Polls `up` every 200 ms for at most 90 s while `child` runs: `Err(Some(status))` when it
/// exited first, `Err(None)` when the time ran out.
fn wait_for(child: &mut Child, up: impl Fn() -> bool) -> Result<(), Option<ExitStatus>> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if up() {
            return Ok(());
        }
        if let Some(status) = child.try_wait().unwrap() {
            return Err(Some(status));
        }
        if Instant::now() >= deadline {
            return Err(None);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits (at most 90 s) until the server `child` answers `GET probe` with 200; panics with
/// its stderr (piped) if it exits first.
pub fn wait_until_answers(child: &mut Child, port: u16, probe: &str) {
    match wait_for(child, || http_get(port, probe).is_some()) {
        Ok(()) => {}
        Err(Some(status)) => {
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut err);
            }
            panic!("the server exited ({status}) before answering:\n{err}");
        }
        Err(None) => panic!("the server did not answer within 90 s"),
    }
}

/// When a started server counts as up.
pub enum Ready<'a> {
    /// `GET` of this path answers 200.
    Answers(&'a str),
    /// Its port takes connections (a server that speaks no HTTP).
    Listening,
}

/// A server started from the test venv's Python on a free loopback port: waited for until it
/// is up, killed and reaped when dropped. Its standard error is collected in `server.log` in
/// its directory, which also holds what the test hands it (credential files, request logs).
pub struct Server {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Runs `python` with what `configure` adds (it is told the port and the directory), and
    /// waits (at most 90 s) until `ready`; panics with the server's log if it exits first.
    pub fn start(
        python: &Path,
        configure: impl FnOnce(&mut Command, u16, &Path),
        ready: Ready,
    ) -> Server {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut command = Command::new(python);
        configure(&mut command, port, dir.path());
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the server starts");
        let mut server = Server { child, port, dir };
        server.wait_until(ready);
        server
    }

    /// One of the fake vendor servers of tests/servers/, speaking with the joe `model`:
    /// `SCRIPT --model MODEL --port PORT --log DIR/requests.jsonl ARGS...`, up when `GET probe`
    /// answers.
    pub fn fake(python: &Path, script: &str, model: &Path, args: &[&str], probe: &str) -> Server {
        Server::start(
            python,
            |command, port, dir| {
                command
                    .arg(repo(&format!("tests/servers/{script}")))
                    .arg("--model")
                    .arg(model)
                    .args(["--port", &port.to_string()])
                    .arg("--log")
                    .arg(dir.join("requests.jsonl"))
                    .args(args);
            },
            Ready::Answers(probe),
        )
    }

    fn wait_until(&mut self, ready: Ready) {
        let port = self.port;
        let up = || match ready {
            Ready::Answers(probe) => http_get(port, probe).is_some(),
            Ready::Listening => TcpStream::connect(("127.0.0.1", port)).is_ok(),
        };
        match wait_for(&mut self.child, up) {
            Ok(()) => {}
            Err(Some(status)) => panic!(
                "the server exited ({status}) before it was up:\n{}",
                self.stderr()
            ),
            Err(None) => panic!("the server was not up within 90 s:\n{}", self.stderr()),
        }
    }

    /// A path in the server's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// What the server wrote to its standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("server.log")).unwrap_or_default()
    }

    /// What a fake server logged: one JSON object per request it accepted.
    pub fn logged(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.path("requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The JSON a `GET path` answers with.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let body = http_get(self.port, path).unwrap_or_else(|| panic!("the server answers {path}"));
        serde_json::from_str(&body).unwrap()
    }
}

/// Runs the `--validate` check of tests/servers/SCRIPT on `body`: the problems it found.
pub fn validate(python: &Path, script: &str, body: &serde_json::Value) -> Vec<String> {
    let mut command = Command::new(python);
    command
        .arg(repo(&format!("tests/servers/{script}")))
        .arg("--validate")
        .stderr(Stdio::inherit());
    let output = output_with_stdin(command, body.to_string().as_bytes());
    serde_json::from_slice(&output.stdout).expect("the validator prints a JSON list")
}

pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Root mean square of 16-bit samples, 1.0 being full scale.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt() / 32768.0
}

/// [`rms`] of a clip's samples as 16-bit PCM would carry them.
pub fn clip_rms(samples: &[f32]) -> f64 {
    let pcm: Vec<i16> = samples
        .iter()
        .map(|s| (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    rms(&pcm)
}

/// Checks a narrated `document` at `output`: a 16-bit mono WAV at `rate`, a plausible pace,
/// one timeline sentence per sentence, each audible. The timeline and samples, for more.
pub fn check_spoken(
    document: &Document,
    summary: &Summary,
    output: &Path,
    rate: u32,
) -> (Timeline, Vec<i16>) {
    let mut reader = hound::WavReader::open(output).unwrap();
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
    (timeline, samples)
}

/// Narrates [`SAMPLE`] with `narrator` into a temporary WAV and checks it with
/// [`check_spoken`] at `rate`: the document, the summary and the timeline, for more checks.
pub fn narrate_sample(narrator: &Narrator, rate: u32) -> (Document, Summary, Timeline) {
    let document = parse(SAMPLE, Format::Markdown, Path::new("tides.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tides.wav");
    let summary = narrator
        .narrate_blocking(&document, &output, &mut |_| {})
        .expect("narration succeeds");
    let (timeline, _) = check_spoken(&document, &summary, &output, rate);
    (document, summary, timeline)
}

/// Speaks each sentence of `timeline` alone with `narrator`, twice (the voice must be
/// deterministic), and checks its samples stand in `program` at the sentence's start, `rate`
/// samples a second: each sentence with its clip, for more checks.
pub fn check_sentences_match_speaking_alone<'a>(
    narrator: &Narrator,
    timeline: &'a Timeline,
    program: &[i16],
    rate: u32,
) -> Vec<(&'a TimedSentence, Clip)> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut spoken = Vec::new();
    for sentence in &timeline.sentences {
        let request = SpeechRequest::plain(&sentence.spoken);
        let alone = runtime.block_on(narrator.speak(&request)).unwrap();
        let again = runtime.block_on(narrator.speak(&request)).unwrap();
        assert_eq!(alone, again, "the deterministic voice varied between runs");
        let from = (sentence.start * f64::from(rate)).round() as usize;
        let expected: Vec<i16> = alone
            .samples
            .iter()
            .map(|&s| aloud::stitch::wav::to_i16(s))
            .collect();
        assert_eq!(
            &program[from..from + expected.len()],
            expected.as_slice(),
            "'{}' differs inside the program",
            sentence.text
        );
        spoken.push((sentence, alone));
    }
    spoken
}

pub mod service;
