//! What the backend tests share: the sample article, the test venv's Python, the provisioned
//! joe voice, and free loopback ports.
#![allow(dead_code)] // each test binary uses its own part

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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
    let python = venv.join("bin").join("python");
    let ok = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(python)
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

/// Waits (at most 90 s) until the server `child` answers `GET probe` with 200; panics with
/// its stderr if it exits first.
pub fn wait_until_answers(child: &mut Child, port: u16, probe: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if http_get(port, probe).is_some() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut err);
            }
            panic!("the server exited ({status}) before answering:\n{err}");
        }
        assert!(
            Instant::now() < deadline,
            "the server did not answer within 90 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
