//! Any local program that reads text and writes a WAV, as a backend (`espeak-ng --stdout`, a
//! Piper CLI, a vendor's tool, ...), configured entirely in the voice profile:
//!
//! ```toml
//! engine = "command"
//! voice = "en-us"                 # {voice} in args
//! [options]
//! program = "espeak-ng"           # run directly, never through a shell
//! args = ["--stdout", "-v", "{voice}"]
//! timeout_seconds = 30
//! sample_rate = 22050             # optional: saves a probe run at open time
//! ```
//!
//! `{text}` in an argument is replaced by the text; without it the text goes to standard
//! input. `{output}` is replaced by a temporary `.wav` path read back after the program exits;
//! without it the WAV is read from standard output. The WAV may carry the placeholder sizes
//! streaming writers use ([`crate::audio::decode`] reads those).

use super::config::engine_error;
use super::wyoming::block_on;
use super::{
    Backend, BackendEntry, BackendLimits, Billing, Clip, EngineClock, OpenContext, SpeechRequest,
};
use crate::audio;
use crate::error::{Error, Result};
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "any local program that reads text and writes a WAV (options.program, options.args)",
    limits: LIMITS,
    billing: Billing::Free,
    open: super::Opener::Fn(open_backend),
};

const LIMITS: BackendLimits = BackendLimits::new(1000, 2, &["wav"]);

const NAME: &str = "command";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Said once at open time to learn the program's rate when the profile does not give it.
const PROBE_TEXT: &str = "Ready.";
/// How much of a failing program's standard error an error message quotes.
const STDERR_TAIL: usize = 600;

/// A program run once per request.
#[derive(Debug, Clone)]
pub struct CommandBackend {
    program: String,
    args: Vec<String>,
    voice: Option<String>,
    timeout: Duration,
    sample_rate: u32,
    engine_time: Arc<EngineClock>,
}

impl CommandBackend {
    /// A backend for `program args...`; a `sample_rate` of 0 means "whatever the program writes".
    pub fn new(program: impl Into<String>, args: Vec<String>, timeout: Duration) -> Self {
        CommandBackend {
            program: program.into(),
            args,
            voice: None,
            timeout,
            sample_rate: 0,
            engine_time: Arc::default(),
        }
    }

    pub fn with_voice(mut self, voice: Option<String>) -> Self {
        self.voice = voice;
        self
    }

    pub fn with_sample_rate(mut self, rate: u32) -> Self {
        self.sample_rate = rate;
        self
    }

    /// Runs the program on `text` and decodes its WAV at the rate it was written.
    pub async fn run(&self, text: &str) -> Result<Clip> {
        let started = Instant::now();
        let wants_output = self.args.iter().any(|a| a.contains("{output}"));
        let text_in_args = self.args.iter().any(|a| a.contains("{text}"));
        let scratch = if wants_output {
            Some(tempfile::tempdir().map_err(|e| {
                engine_error(NAME, format!("cannot create a temporary directory: {e}"))
            })?)
        } else {
            None
        };
        let output_path = scratch.as_ref().map(|d| d.path().join("clip.wav"));
        let output_text = output_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let voice = self.voice.as_deref().unwrap_or("");
        let args: Vec<String> = self
            .args
            .iter()
            .map(|arg| {
                arg.replace("{output}", &output_text)
                    .replace("{voice}", voice)
                    .replace("{text}", text)
            })
            .collect();

        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&args)
            .stdin(if text_in_args {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| {
            engine_error(
                NAME,
                match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        format!(
                            "program '{}' not found (is it installed and on PATH?)",
                            self.program
                        )
                    }
                    _ => format!("cannot run '{}': {e}", self.program),
                },
            )
        })?;
        let stdin = child.stdin.take();
        let feed = async move {
            if let Some(mut stdin) = stdin {
                // A program that exits without reading all its input is judged by its exit
                // status and output, not by the broken pipe.
                let _ = stdin.write_all(text.as_bytes()).await;
                let _ = stdin.write_all(b"\n").await;
                let _ = stdin.shutdown().await;
            }
        };
        // Dropping the child on timeout kills it (`kill_on_drop`).
        let finished = tokio::time::timeout(self.timeout, async {
            let ((), output) = tokio::join!(feed, child.wait_with_output());
            output
        })
        .await;
        let output = match finished {
            Err(_) => {
                return Err(engine_error(
                    NAME,
                    format!(
                        "'{}' did not finish within {:?}; it was killed (options.timeout_seconds)",
                        self.program, self.timeout
                    ),
                ));
            }
            Ok(Err(e)) => {
                return Err(engine_error(
                    NAME,
                    format!("waiting for '{}' failed: {e}", self.program),
                ));
            }
            Ok(Ok(output)) => output,
        };
        if !output.status.success() {
            return Err(engine_error(
                NAME,
                format!(
                    "'{}' failed ({}){}",
                    self.program,
                    output.status,
                    stderr_tail(&output.stderr)
                ),
            ));
        }
        let (bytes, place) = match &output_path {
            Some(path) => (
                std::fs::read(path).map_err(|e| {
                    engine_error(
                        NAME,
                        format!(
                            "'{}' exited without writing {{output}} ({}): {e}{}",
                            self.program,
                            path.display(),
                            stderr_tail(&output.stderr)
                        ),
                    )
                })?,
                "its {output} file",
            ),
            None => (output.stdout, "standard output"),
        };
        if bytes.is_empty() {
            return Err(engine_error(
                NAME,
                format!(
                    "'{}' wrote no audio to {place}{}",
                    self.program,
                    stderr_tail(&output.stderr)
                ),
            ));
        }
        let clip = audio::decode(&bytes, &format!("{NAME} ('{}', {place})", self.program))?;
        drop(scratch);
        self.engine_time.add(started.elapsed());
        Ok(clip)
    }
}

/// `: <last lines of stderr>` or nothing when the program said nothing.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let start = text
        .char_indices()
        .rev()
        .nth(STDERR_TAIL)
        .map_or(0, |(i, _)| i);
    let ellipsis = if start > 0 { "…" } else { "" };
    format!(": {ellipsis}{}", &text[start..])
}

#[async_trait]
impl Backend for CommandBackend {
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({
            "engine": NAME,
            "program": self.program,
            "args": self.args,
            "voice": self.voice,
            "sample_rate": self.sample_rate,
        })
    }

    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        let clip = self.run(&request.text).await?;
        if self.sample_rate == 0 {
            Ok(clip)
        } else {
            audio::resample(clip, self.sample_rate)
        }
    }

    fn engine_time(&self) -> Duration {
        self.engine_time.total()
    }
}

/// Names the profile's file where [`super::config::profile_error`] names the profile: a
/// command voice is always a file of the user's own, and the message says which to edit.
fn profile_error(profile: &VoiceProfile, message: impl Into<String>) -> Error {
    Error::VoiceProfile {
        path: profile
            .base_dir
            .as_ref()
            .map(|d| d.join(format!("{}.toml", profile.name)))
            .unwrap_or_else(|| profile.name.clone().into()),
        message: message.into(),
    }
}

/// Reads `options.program`, `options.args`, `options.timeout_seconds` and `options.sample_rate`.
pub fn from_profile(profile: &VoiceProfile) -> Result<CommandBackend> {
    let options = &profile.options;
    let program = options
        .get("program")
        .and_then(|p| p.as_str())
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| {
            profile_error(profile, "a command voice needs options.program (a string)")
        })?;
    let args = match options.get("args") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| profile_error(profile, "options.args must be an array of strings"))?,
        Some(_) => return Err(profile_error(profile, "options.args must be an array")),
    };
    let timeout = match options.get("timeout_seconds") {
        None => DEFAULT_TIMEOUT,
        Some(value) => value
            .as_float()
            .or_else(|| value.as_integer().map(|i| i as f64))
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| profile_error(profile, "options.timeout_seconds must be positive"))?,
    };
    let sample_rate = match options.get("sample_rate") {
        None => 0,
        Some(value) => value
            .as_integer()
            .and_then(|r| u32::try_from(r).ok())
            .filter(|r| (1000..=768_000).contains(r))
            .ok_or_else(|| profile_error(profile, "options.sample_rate must be a rate in Hz"))?,
    };
    Ok(CommandBackend::new(program, args, timeout)
        .with_voice(profile.voice.clone())
        .with_sample_rate(sample_rate))
}

fn open_backend(profile: &VoiceProfile, _context: &mut OpenContext) -> Result<Arc<dyn Backend>> {
    let mut backend = from_profile(profile)?;
    // The program is created at the backend's rate before any clip exists, so unless the
    // profile gives it, one short probe run learns it (and proves the program works).
    if backend.sample_rate == 0 {
        let probe = backend.clone();
        backend.sample_rate = block_on(async move { probe.run(PROBE_TEXT).await })?.sample_rate;
    }
    Ok(Arc::new(backend))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::riff::build::fmt_pcm;
    use crate::synth::config::test_profile_of;

    fn sh(script: &str, timeout: Duration) -> CommandBackend {
        CommandBackend::new("sh", vec!["-c".into(), script.into()], timeout)
    }

    async fn failure(backend: &CommandBackend) -> String {
        let err = backend
            .synthesize(&SpeechRequest::plain("Hello there."))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("command"), "{text}");
        text
    }

    /// A tiny WAV written the way `espeak-ng --stdout` writes it: placeholder sizes.
    fn streaming_wav(rate: u32, frames: usize) -> Vec<u8> {
        let mut bytes = b"RIFF".to_vec();
        bytes.extend_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        bytes.extend_from_slice(b"WAVE");
        bytes.extend(fmt_pcm(rate, 1, 16));
        bytes.extend_from_slice(b"data");
        bytes.extend_from_slice(&0x7FFF_F000u32.to_le_bytes());
        for i in 0..frames {
            let s = ((i as f64) * 0.2).sin() * 10000.0;
            bytes.extend_from_slice(&(s as i16).to_le_bytes());
        }
        bytes
    }

    #[tokio::test]
    async fn text_goes_to_stdin_and_wav_comes_from_stdout() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("a.wav");
        std::fs::write(&wav, streaming_wav(11025, 500)).unwrap();
        let said = dir.path().join("said.txt");
        let backend = sh(
            &format!("cat > '{}'; cat '{}'", said.display(), wav.display()),
            Duration::from_secs(10),
        );
        let clip = backend
            .synthesize(&SpeechRequest::plain("-v looks like a flag"))
            .await
            .unwrap();
        assert_eq!(clip.sample_rate, 11025);
        assert_eq!(clip.samples.len(), 500);
        assert_eq!(
            std::fs::read_to_string(&said).unwrap(),
            "-v looks like a flag\n"
        );
    }

    #[tokio::test]
    async fn text_and_output_placeholders_are_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("a.wav");
        std::fs::write(&wav, streaming_wav(8000, 300)).unwrap();
        // sh -c SCRIPT NAME ARG1 ARG2: $1 is the text, $2 the output path.
        let backend = CommandBackend::new(
            "sh",
            vec![
                "-c".into(),
                format!(
                    "test \"$1\" = 'It is; $(not run)' && cp '{}' \"$2\"",
                    wav.display()
                ),
                "fake-tts".into(),
                "{text}".into(),
                "{output}".into(),
            ],
            Duration::from_secs(10),
        )
        .with_sample_rate(16000);
        let clip = backend
            .synthesize(&SpeechRequest::plain("It is; $(not run)"))
            .await
            .unwrap();
        // Resampled to the rate the profile declared.
        assert_eq!(clip.sample_rate, 16000);
        assert!((clip.samples.len() as i64 - 600).abs() <= 2);
    }

    #[tokio::test]
    async fn a_failing_program_reports_its_stderr_tail() {
        let text = failure(&sh(
            "echo 'unknown voice xx-yy' >&2; exit 1",
            Duration::from_secs(10),
        ))
        .await;
        assert!(text.contains("'sh' failed"), "{text}");
        assert!(text.contains("exit status: 1"), "{text}");
        assert!(text.contains("unknown voice xx-yy"), "{text}");
    }

    #[tokio::test]
    async fn a_hanging_program_is_killed_at_its_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let started = Instant::now();
        let text = failure(&sh(
            &format!("echo $$ > '{}'; exec sleep 30", pid_file.display()),
            Duration::from_millis(500),
        ))
        .await;
        assert!(text.contains("did not finish within 500ms"), "{text}");
        assert!(text.contains("killed"), "{text}");
        assert!(started.elapsed() < Duration::from_secs(5));
        // The process is gone (killed, then reaped), not left sleeping.
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let proc_dir = format!("/proc/{}", pid.trim());
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::path::Path::new(&proc_dir).exists()
            && !std::fs::read_to_string(format!("{proc_dir}/stat")).is_ok_and(|s| s.contains(") Z"))
        {
            assert!(Instant::now() < deadline, "the program still runs");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test]
    async fn a_program_that_prints_no_wav_is_an_error() {
        let text = failure(&sh("cat >/dev/null", Duration::from_secs(10))).await;
        assert!(text.contains("wrote no audio to standard output"), "{text}");
        let text = failure(&sh("echo 'Usage: tts [options]'", Duration::from_secs(10))).await;
        assert!(text.contains("command ('sh', standard output)"), "{text}");
        let text = failure(&CommandBackend::new(
            "sh",
            vec!["-c".into(), "true".into(), "x".into(), "{output}".into()],
            Duration::from_secs(10),
        ))
        .await;
        assert!(text.contains("without writing {output}"), "{text}");
    }

    #[tokio::test]
    async fn a_missing_program_says_so() {
        let text = failure(&CommandBackend::new(
            "aloud-no-such-program",
            vec![],
            Duration::from_secs(10),
        ))
        .await;
        assert!(text.contains("'aloud-no-such-program' not found"), "{text}");
    }

    #[test]
    fn profiles_configure_the_program() {
        let profile = test_profile_of(
            "t",
            "command",
            "en",
            Some("en-gb"),
            "[options]\nprogram='espeak-ng'\nargs=['--stdout','-v','{voice}']\n\
             timeout_seconds=2.5\nsample_rate=22050\n",
        );
        let backend = from_profile(&profile).unwrap();
        assert_eq!(backend.program, "espeak-ng");
        assert_eq!(backend.args, ["--stdout", "-v", "{voice}"]);
        assert_eq!(backend.timeout, Duration::from_millis(2500));
        assert_eq!(backend.sample_rate, 22050);
        assert_eq!(backend.voice.as_deref(), Some("en-gb"));

        for (options, complaint) in [
            ("", "options.program"),
            ("program='x'\nargs='--stdout'", "options.args"),
            ("program='x'\nargs=[1]", "options.args"),
            ("program='x'\ntimeout_seconds=0", "timeout_seconds"),
            ("program='x'\nsample_rate=5", "sample_rate"),
        ] {
            let rest = format!("[options]\n{options}\n");
            let profile = test_profile_of("t", "command", "en", None, &rest);
            let err = from_profile(&profile).unwrap_err().to_string();
            assert!(err.contains(complaint), "{options}: {err}");
        }
    }
}
