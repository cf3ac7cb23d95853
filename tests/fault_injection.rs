//! The network backends against a misbehaving server on loopback: each fault ends as
//! specified (retried and recovered, or failed at once with the backend and sentence named),
//! and a narration whose sentence still fails leaves no output file.

use aloud::document::Document;
use aloud::ingest::{Format, parse};
use aloud::narrate::{Narrator, NarratorOptions};
use aloud::voice::VoiceProfile;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Half a second of a 440 Hz tone as a 24 kHz 16-bit mono WAV.
fn tone_wav() -> Vec<u8> {
    let samples: Vec<i16> = (0..12_000)
        .map(|i| ((i as f32 * 440.0 * std::f32::consts::TAU / 24_000.0).sin() * 12_000.0) as i16)
        .collect();
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&24_000u32.to_le_bytes());
    wav.extend_from_slice(&48_000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
    wav.extend_from_slice(&data);
    wav
}

/// Requests seen per scenario (the first path segment), with when they arrived.
type Log = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

struct FaultServer {
    port: u16,
    log: Log,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultServer {
    async fn start() -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log: Log = Arc::default();
        let shared = log.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, log).await;
                });
            }
        });
        FaultServer { port, log, task }
    }

    fn requests(&self, scenario: &str) -> Vec<Instant> {
        self.log
            .lock()
            .unwrap()
            .get(scenario)
            .cloned()
            .unwrap_or_default()
    }

    fn profile(&self, scenario: &str, extra: &str) -> VoiceProfile {
        let text = format!(
            "name = 'fault-{scenario}'\nengine = 'openai'\nlanguage = 'en-US'\nvoice = 'alloy'\n\
             [options]\nbase_url = 'http://127.0.0.1:{}/{scenario}'\nformat = 'wav'\n\
             timeout_s = 1\nretry_base_ms = 50\nmax_retries = 3\n{extra}",
            self.port
        );
        VoiceProfile::from_toml(&text, Path::new("fault.toml")).unwrap()
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(head);
        }
    }
}

fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

async fn serve(mut stream: TcpStream, log: Log) -> std::io::Result<()> {
    let head = read_request(&mut stream).await?;
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let scenario = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    let nth = {
        let mut log = log.lock().unwrap();
        let seen = log.entry(scenario.clone()).or_default();
        seen.push(Instant::now());
        seen.len()
    };
    let wav = tone_wav();
    let ok = response("200 OK", "Content-Type: text/html\r\n", &wav);
    let reply = match (scenario.as_str(), nth) {
        ("ratelimit", 1) => response("429 Too Many Requests", "Retry-After: 1\r\n", b"{}"),
        ("flaky", 1) => response("500 Internal Server Error", "", b"oops"),
        ("slow", 1) => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            ok
        }
        ("reset", 1) => {
            // An abortive close: RST instead of an answer.
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO))?;
            drop(stream);
            return Ok(());
        }
        ("truncated", 1) => {
            let mut cut = ok.clone();
            cut.truncate(ok.len() / 2);
            stream.write_all(&cut).await?;
            stream.flush().await?;
            return Ok(()); // closes with half the promised body
        }
        ("garbage", _) => response("200 OK", "", b"\x13\x37 definitely not audio \x00\x01\x02"),
        ("empty", _) => response("200 OK", "", b""),
        ("unauthorized", _) => response(
            "401 Unauthorized",
            "Content-Type: application/json\r\n",
            br#"{"error":{"message":"Incorrect API key provided: sk-te*****","type":"invalid_request_error","code":"invalid_api_key"}}"#,
        ),
        ("quota", _) => response(
            "429 Too Many Requests",
            "Content-Type: application/json\r\nRetry-After: 1\r\n",
            br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        ),
        ("down", _) => response("503 Service Unavailable", "", b""),
        ("paced", _) => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            ok
        }
        _ => ok,
    };
    stream.write_all(&reply).await?;
    stream.flush().await?;
    Ok(())
}

fn one_sentence() -> Document {
    parse(
        "The comet returns every seventy six years.\n",
        Format::Markdown,
        Path::new("comet.md"),
    )
    .unwrap()
}

fn narrator(profile: VoiceProfile, concurrency: Option<usize>) -> Narrator {
    let options = NarratorOptions {
        concurrency,
        ..NarratorOptions::default()
    };
    Narrator::open(profile, &options, &mut |_| {}).expect("the openai backend opens")
}

async fn narrate(
    server: &FaultServer,
    scenario: &str,
) -> (aloud::Result<aloud::narrate::Summary>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.wav");
    let narrator = narrator(server.profile(scenario, ""), None);
    let result = narrator
        .narrate(&one_sentence(), &output, &mut |_| {})
        .await;
    (result, dir)
}

async fn assert_recovers(server: &FaultServer, scenario: &str) -> Vec<Instant> {
    let (result, dir) = narrate(server, scenario).await;
    let summary = result.unwrap_or_else(|e| panic!("{scenario}: {e}"));
    assert!(dir.path().join("out.wav").exists());
    assert!(
        summary.audio_seconds > 0.4,
        "{scenario}: {}",
        summary.audio_seconds
    );
    let requests = server.requests(scenario);
    assert_eq!(requests.len(), 2, "{scenario}: one failure, one retry");
    requests
}

async fn assert_fails_at_once(server: &FaultServer, scenario: &str, expect: &str) {
    let (result, dir) = narrate(server, scenario).await;
    let message = result.expect_err(scenario).to_string();
    assert_eq!(server.requests(scenario).len(), 1, "{scenario}: no retry");
    assert!(
        message.starts_with("openai: sentence 1 (\"The comet returns"),
        "{message}"
    );
    assert!(message.contains(expect), "{scenario}: {message}");
    assert!(
        !dir.path().join("out.wav").exists(),
        "{scenario}: no output"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let server = FaultServer::start().await;
    let requests = assert_recovers(&server, "ratelimit").await;
    let waited = requests[1] - requests[0];
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "retried after {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried() {
    let server = FaultServer::start().await;
    for scenario in ["flaky", "reset", "truncated"] {
        let requests = assert_recovers(&server, scenario).await;
        // Backoff, not a hot loop: at least half the 50 ms base delay.
        assert!(
            requests[1] - requests[0] >= Duration::from_millis(25),
            "{scenario}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_times_out_and_is_retried() {
    let server = FaultServer::start().await;
    let started = Instant::now();
    let requests = assert_recovers(&server, "slow").await;
    let gap = requests[1] - requests[0];
    assert!(
        gap >= Duration::from_millis(950) && gap < Duration::from_millis(2500),
        "{gap:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not wait out the slow answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fatal_answers_fail_at_once() {
    let server = FaultServer::start().await;
    assert_fails_at_once(&server, "garbage", "not audio").await;
    assert_fails_at_once(&server, "empty", "empty body").await;
    assert_fails_at_once(
        &server,
        "unauthorized",
        "OPENAI_API_KEY is rejected (HTTP 401)",
    )
    .await;
    assert_fails_at_once(&server, "quota", "quota").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_never_appears_in_errors() {
    let server = FaultServer::start().await;
    // Only this test reads the variable, and the backend reads it once, at open.
    unsafe { std::env::set_var("OPENAI_API_KEY", "sk-test-very-secret-key") };
    let narrator = narrator(server.profile("unauthorized", ""), None);
    unsafe { std::env::remove_var("OPENAI_API_KEY") };
    let dir = tempfile::tempdir().unwrap();
    let err = narrator
        .narrate(&one_sentence(), &dir.path().join("o.wav"), &mut |_| {})
        .await
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("very-secret"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentence_that_keeps_failing_fails_the_narration_and_writes_nothing() {
    let server = FaultServer::start().await;
    let (result, dir) = narrate(&server, "down").await;
    let message = result.unwrap_err().to_string();
    assert_eq!(server.requests("down").len(), 4, "first try and 3 retries");
    assert!(message.starts_with("openai: sentence 1"), "{message}");
    assert!(
        message.contains("HTTP 503") && message.contains("gave up after 4 attempts"),
        "{message}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no output at all"
    );
}

/// 100 sentences against a server taking 200 ms each: concurrency 8 must be at least 6 times
/// faster than concurrency 1. `cargo test --release --test fault_injection -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: about 25 s"]
async fn concurrency_pays_off_against_a_slow_server() {
    let server = FaultServer::start().await;
    let text: String = (1..=100)
        .map(|i| format!("This is sentence number {i} of the benchmark.\n\n"))
        .collect();
    let document = parse(&text, Format::Markdown, Path::new("bench.md")).unwrap();
    assert_eq!(document.sentence_count(), 100);
    let mut walls = Vec::new();
    for concurrency in [1, 8] {
        let dir = tempfile::tempdir().unwrap();
        let narrator = narrator(server.profile("paced", ""), Some(concurrency));
        let started = Instant::now();
        narrator
            .narrate(&document, &dir.path().join("b.wav"), &mut |_| {})
            .await
            .unwrap();
        let wall = started.elapsed().as_secs_f64();
        eprintln!("concurrency {concurrency}: 100 sentences in {wall:.2} s");
        walls.push(wall);
    }
    let speedup = walls[0] / walls[1];
    eprintln!("speed-up at concurrency 8: {speedup:.1}x");
    assert!(speedup >= 6.0, "only {speedup:.1}x faster");
}

#[test]
fn shipped_profiles_parse_and_registered_limits_are_declared() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let openai = VoiceProfile::from_file(&root.join("voices/openai-alloy.toml")).unwrap();
    let limits = aloud::synth::limits_for(&openai).unwrap();
    assert_eq!(
        (
            limits.max_chars,
            limits.default_concurrency,
            limits.timings,
            limits.phonemes
        ),
        (4096, 4, false, false)
    );
    assert_eq!(limits.formats, ["wav", "pcm", "mp3", "flac", "opus", "aac"]);
    let piper = VoiceProfile::from_file(&root.join("voices/piper-http.toml")).unwrap();
    assert_eq!(aloud::synth::limits_for(&piper).unwrap().formats, ["wav"]);
    // A format aloud cannot decode is refused when the profile is read into a request.
    let mut opus = openai.clone();
    opus.options.insert("format".into(), "opus".into());
    let err = aloud::synth::openai::request_body(&opus, "x")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("opus") && err.contains("wav, pcm, mp3 or flac"),
        "{err}"
    );
}
