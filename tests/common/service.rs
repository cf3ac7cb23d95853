//! What the service tests share: a small HTTP/1.1 client on std, `aloud serve` and
//! `aloud worker` processes on loopback, a PostgreSQL 15 server in a temporary directory
//! (initdb + pg_ctl, as `nobody` when the tests run as root), and waiting for narrations.

use super::{free_port, joe_model_or_skip, repo, skip_or_fail};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The narrating tests of a binary share two cores; one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// This test's turn on the machine (until the guard drops) once the joe voice is there, or
/// `None` after saying it is missing through [`skip_or_fail`].
pub fn turn_with_joe() -> Option<MutexGuard<'static, ()>> {
    let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    joe_model_or_skip()?;
    Some(turn)
}

/// An HTTP response as read off the socket.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// One request to `host:port` (`Connection: close`), reading the whole answer.
pub fn request_to(
    host: &str,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect((host, port))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if let Some(body) = body {
        // A server refusing a large body may close before reading it all.
        let _ = stream.write_all(body);
    }
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not an HTTP response: {:?}", String::from_utf8_lossy(&raw)),
        )
    })
}

fn parse_response(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n")?;
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..end]).ok()?.trim(), 16).ok()?;
            rest = &rest[end + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
        body = out;
    }
    Some(Response {
        status,
        headers,
        body,
    })
}

/// `aloud` with the test environment: voices from the repository's voices/ (plus `extra`).
pub fn aloud(voices_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aloud"));
    command.env("ALOUD_VOICES_DIR", voices_dir);
    command.env_remove("ALOUD_QUEUE_URL");
    command
}

/// A voices directory holding the repository's profiles and any `extra` (name, TOML).
pub fn voices_dir(dir: &Path, extra: &[(&str, &str)]) -> PathBuf {
    let voices = dir.join("voices");
    std::fs::create_dir_all(&voices).unwrap();
    for entry in std::fs::read_dir(repo("voices")).unwrap().flatten() {
        std::fs::copy(entry.path(), voices.join(entry.file_name())).unwrap();
    }
    for (name, toml) in extra {
        std::fs::write(voices.join(format!("{name}.toml")), toml).unwrap();
    }
    voices
}

/// A running `aloud serve` (or worker) process, killed and reaped when dropped; its
/// standard error goes to a log file.
pub struct Process {
    pub child: Child,
    pub log: PathBuf,
}

impl Process {
    pub fn spawn(mut command: Command, log: PathBuf) -> Process {
        let file = std::fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("aloud starts");
        Process { child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `aloud serve --listen 127.0.0.1:PORT ARGS...`, waited for until `/healthz` answers.
pub fn serve(voices: &Path, port: u16, args: &[&str], log: PathBuf) -> Process {
    serve_with_env(voices, port, args, &[], log)
}

/// [`serve`] with environment variables set for it.
pub fn serve_with_env(
    voices: &Path,
    port: u16,
    args: &[&str],
    env: &[(&str, &str)],
    log: PathBuf,
) -> Process {
    let mut command = aloud(voices);
    command.envs(env.iter().copied());
    command
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(args);
    let mut process = Process::spawn(command, log);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = request_to("127.0.0.1", port, "GET", "/healthz", &[], None)
            && r.status == 200
        {
            return process;
        }
        if let Some(status) = process.child.try_wait().unwrap() {
            panic!("aloud serve exited ({status}):\n{}", process.log());
        }
        assert!(
            Instant::now() < deadline,
            "aloud serve did not answer:\n{}",
            process.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A client of one server, with its token.
pub struct Client {
    pub port: u16,
    pub token: Option<String>,
}

impl Client {
    pub fn send(
        &self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Response {
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = extra.to_vec();
        if let Some(auth) = &auth {
            headers.push(("Authorization", auth));
        }
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        request_to("127.0.0.1", self.port, method, path, &headers, body)
            .expect("the server answers")
    }

    pub fn get(&self, path: &str) -> Response {
        self.send("GET", path, &[], None)
    }

    /// POSTs a narration request; the response.
    pub fn submit(&self, request: &serde_json::Value, extra: &[(&str, &str)]) -> Response {
        self.send(
            "POST",
            "/v1/narrations",
            extra,
            Some(request.to_string().as_bytes()),
        )
    }

    /// Waits (at most `limit`) until narration `id` has ended; its last state.
    pub fn wait_ended(&self, id: &str, limit: Duration) -> serde_json::Value {
        let deadline = Instant::now() + limit;
        loop {
            let state = self.get(&format!("/v1/narrations/{id}")).json();
            if matches!(
                state["status"].as_str(),
                Some("done" | "failed" | "cancelled")
            ) {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "narration {id} did not end: {state}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// `aloud narrate` of `input` (a file) into `output` with `voice`: the single-machine
/// narration a service's output must equal byte for byte.
pub fn narrate_alone(voices: &Path, input: &Path, output: &Path, voice: &str) {
    let result = aloud(voices)
        .arg("narrate")
        .arg(input)
        .arg("-o")
        .arg(output)
        .args(["--voice", voice, "--quiet", "--no-cache"])
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "aloud narrate failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// A PostgreSQL 15 server in a temporary directory on a free loopback port, stopped when
/// dropped. As root (postgres refuses to run as root) it runs as `nobody`.
pub struct Postgres {
    pub port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_nobody: bool,
}

impl Postgres {
    /// Starts one, or `None` when PostgreSQL 15 is not installed.
    pub fn start() -> Option<Postgres> {
        let bin = PathBuf::from("/usr/lib/postgresql/15/bin");
        if !bin.join("initdb").is_file() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let as_nobody = is_root();
        if as_nobody {
            let status = Command::new("chown")
                .args(["-R", "nobody"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown of the database directory");
        }
        let port = free_port();
        let postgres = Postgres {
            port,
            dir,
            bin,
            as_nobody,
        };
        let data = postgres.dir.path().join("data");
        postgres.run(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "aloud",
                "--auth=trust",
                "--no-sync",
            ],
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            postgres.dir.path().display()
        );
        postgres.run(
            "pg_ctl",
            &[
                "-D",
                &data.display().to_string(),
                "-o",
                &options,
                "-l",
                &postgres
                    .dir
                    .path()
                    .join("postgres.log")
                    .display()
                    .to_string(),
                "-w",
                "start",
            ],
        );
        Some(postgres)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = match self.as_nobody {
            true => {
                let mut c = Command::new("runuser");
                c.args(["-u", "nobody", "--"]).arg(path);
                c
            }
            false => Command::new(path),
        };
        command.current_dir(self.dir.path());
        command
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self.command(program).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{program} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
        );
    }

    /// [`Postgres::start`], or `None` after saying PostgreSQL 15 is missing through
    /// [`skip_or_fail`].
    pub fn start_or_skip() -> Option<Postgres> {
        let postgres = Postgres::start();
        if postgres.is_none() {
            skip_or_fail("PostgreSQL 15 is not installed (scripts/test installs postgresql-15)");
        }
        postgres
    }

    pub fn url(&self) -> String {
        format!("postgres://aloud@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").display().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}

/// Whether this process runs as root (from /proc, without libc).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}
