//! What the backend tests share: the sample article, the test venv's Python, the provisioned
//! joe voice, and free loopback ports.
#![allow(dead_code)] // each test binary uses its own part

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const SAMPLE: &str = "# Tides\n\n\
The sea rises and falls twice a day, pulled by the moon and, a little less, by the sun. \
Sailors have kept tables of the tides for centuries.\n\n\
## Spring Tides\n\n\
When the sun and moon line up, the tides run higher than usual. \
These are called spring tides, although they have nothing to do with the season.\n";

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
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
