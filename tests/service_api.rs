//! `aloud serve`'s API against real servers on loopback: tokens (401), loopback-only without
//! them, the address guard on URL inputs and their redirects (422), body limit (413), rate
//! limit per token (429), idempotency, a signed webhook verified by Python's hmac, byte
//! ranges, and the OpenAPI document checked against what the server answers (Python's
//! jsonschema validating real responses, every documented route routed).

mod common;

use common::service::{Client, Process, Response, request_to, serve, voices_dir};
use common::{free_port, venv_python};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Every response a test saw, for the OpenAPI check: (method, documented path, status, body).
type Seen = Vec<(String, String, u16, Value)>;

fn record(seen: &mut Seen, method: &str, path: &str, response: &Response) {
    let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    seen.push((method.into(), path.into(), response.status, body));
}

/// A one-thread HTTP server on `host`: `/page` answers an article, `/to/N` redirects to the
/// Nth of `targets`, anything else 404.
fn redirector(host: &str, targets: Vec<String>) -> u16 {
    let listener = TcpListener::bind((host, 0)).expect("the redirector listens");
    let port = listener.local_addr().expect("an address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0u8; 4096];
            let n = stream.read(&mut buffer).unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..n]).to_string();
            let path = request.split(' ').nth(1).unwrap_or("/").to_string();
            let answer = if path == "/page" {
                let body = "The Harbour Ferry\n\nThe ferry will run every hour from Monday, the council said.\n";
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else if let Some(target) = path
                .strip_prefix("/to/")
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| targets.get(i))
            {
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    port
}

#[test]
fn tokens_loopback_address_guard_limits_and_idempotency() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let voices = voices_dir(dir.path(), &[]);
    std::fs::write(
        dir.path().join("tokens"),
        "# the newsroom\nalpha-token\nbeta-token\n",
    )
    .expect("tokens");
    let token_file = dir.path().join("tokens").display().to_string();
    let out = dir.path().join("out").display().to_string();
    let mut seen = Seen::new();

    // Without tokens only loopback: 0.0.0.0 is refused before anything listens.
    let refused = common::service::aloud(&voices)
        .args(["serve", "--listen", "0.0.0.0:0", "--out-dir", &out])
        .output()
        .expect("aloud runs");
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("without tokens"), "{message}");

    let port = free_port();
    let _server: Process = serve(
        &voices,
        port,
        &[
            "--token-file",
            &token_file,
            "--workers",
            "0",
            "--out-dir",
            &out,
            "--max-body",
            "4096",
            "--rate-limit",
            "40",
            "--allow-address",
            "127.0.0.2",
        ],
        dir.path().join("serve.log"),
    );
    let anonymous = Client { port, token: None };
    let wrong = Client {
        port,
        token: Some("gamma-token".into()),
    };
    let alpha = Client {
        port,
        token: Some("alpha-token".into()),
    };
    let beta = Client {
        port,
        token: Some("beta-token".into()),
    };
    let text = json!({"text": "The council met on Monday.", "voice": "joe-deterministic"});

    for client in [&anonymous, &wrong] {
        let r = client.submit(&text, &[]);
        assert_eq!(r.status, 401, "{r:?}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        record(&mut seen, "post", "/v1/narrations", &r);
        assert_eq!(client.get("/v1/voices").status, 401);
    }
    let voices_answer = alpha.get("/v1/voices");
    assert_eq!(voices_answer.status, 200);
    assert!(
        voices_answer.json()["voices"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|v| v["name"] == "joe-deterministic")
    );
    record(&mut seen, "get", "/v1/voices", &voices_answer);
    let health = anonymous.get("/healthz");
    assert_eq!(health.status, 200);
    record(&mut seen, "get", "/healthz", &health);

    // URL inputs: loopback, private and metadata addresses refused, directly and by redirect.
    let target_port = free_port();
    let targets = vec![
        format!("http://127.0.0.1:{target_port}/"),
        "http://10.0.0.1/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
    ];
    let redirect_port = redirector("127.0.0.2", targets.clone());
    for (i, target) in targets.iter().enumerate() {
        for url in [
            target.clone(),
            format!("http://127.0.0.2:{redirect_port}/to/{i}"),
        ] {
            let r = alpha.submit(&json!({"url": url}), &[]);
            assert_eq!(r.status, 422, "{url}: {r:?}");
            assert_eq!(r.json()["code"], "address_refused", "{url}");
            record(&mut seen, "post", "/v1/narrations", &r);
        }
    }
    // The operator's exception (127.0.0.2) is fetched, and its page queued.
    let page = alpha.submit(
        &json!({"url": format!("http://127.0.0.2:{redirect_port}/page")}),
        &[],
    );
    assert_eq!(page.status, 202, "{page:?}");
    record(&mut seen, "post", "/v1/narrations", &page);
    let state = alpha.get(&format!(
        "/v1/narrations/{}",
        page.json()["id"].as_str().expect("an id")
    ));
    assert_eq!(state.json()["status"], "queued");
    record(&mut seen, "get", "/v1/narrations/{id}", &state);

    // Body limit.
    let big = json!({"text": "word ".repeat(2000)});
    let r = alpha.submit(&big, &[]);
    assert_eq!(r.status, 413, "{r:?}");
    record(&mut seen, "post", "/v1/narrations", &r);

    // Bad requests.
    for bad in [
        json!({}),
        json!({"text": "a", "html": "<p>b</p>"}),
        json!({"text": "a", "voice": "../etc/passwd"}),
        json!({"text": "a", "options": {"format": "ogg"}}),
    ] {
        let r = alpha.submit(&bad, &[]);
        assert_eq!(r.status, 422, "{bad}: {r:?}");
        record(&mut seen, "post", "/v1/narrations", &r);
    }

    // Idempotency: one key, one narration; another body under it is a conflict.
    let first = alpha.submit(&text, &[("Idempotency-Key", "story-17")]);
    let again = alpha.submit(&text, &[("Idempotency-Key", "story-17")]);
    assert_eq!((first.status, again.status), (202, 202));
    assert_eq!(first.json()["id"], again.json()["id"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert!(
        first
            .header("location")
            .is_some_and(|l| l.ends_with(first.json()["id"].as_str().unwrap_or("?")))
    );
    let other = alpha.submit(
        &json!({"text": "Another story."}),
        &[("Idempotency-Key", "story-17")],
    );
    assert_eq!(other.status, 409, "{other:?}");
    record(&mut seen, "post", "/v1/narrations", &other);
    // Keys belong to their caller: beta's story-17 is beta's own.
    let beta_first = beta.submit(&text, &[("Idempotency-Key", "story-17")]);
    assert_eq!(beta_first.status, 202);
    assert_ne!(beta_first.json()["id"], first.json()["id"]);
    let fresh = alpha.submit(&text, &[]);
    assert_ne!(fresh.json()["id"], first.json()["id"]);
    record(&mut seen, "post", "/v1/narrations", &first);

    // Cancel a queued narration.
    let id = fresh.json()["id"].as_str().expect("an id").to_string();
    let cancelled = alpha.send("DELETE", &format!("/v1/narrations/{id}"), &[], None);
    assert_eq!(cancelled.status, 200);
    assert_eq!(cancelled.json()["status"], "cancelled");
    record(&mut seen, "delete", "/v1/narrations/{id}", &cancelled);
    let missing = alpha.get("/v1/narrations/0000");
    assert_eq!(missing.status, 404);
    record(&mut seen, "get", "/v1/narrations/{id}", &missing);
    let not_done = alpha.get(&format!("/v1/narrations/{id}/audio"));
    assert_eq!(not_done.status, 409);
    record(&mut seen, "get", "/v1/narrations/{id}/audio", &not_done);

    // Rate limit: alpha's bucket (40 a minute) runs dry; beta's is its own.
    let mut limited = None;
    for _ in 0..60 {
        let r = alpha.get("/v1/voices");
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("alpha was rate limited");
    assert!(limited.header("retry-after").is_some());
    record(&mut seen, "get", "/v1/voices", &limited);
    assert_eq!(beta.get("/v1/voices").status, 200);

    let metrics = beta.get("/metrics");
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(text.contains("aloud_unauthorized_total 4"), "{text}");
    assert!(text.contains("aloud_refused_addresses_total 6"), "{text}");
    assert!(
        text.contains("aloud_narrations{status=\"cancelled\"} 1"),
        "{text}"
    );

    // Nothing secret in the log or the queue's database.
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    let database =
        std::fs::read(dir.path().join("out").join(".aloud-queue.sqlite")).unwrap_or_default();
    for secret in ["alpha-token", "beta-token", "story-17"] {
        assert!(!log.contains(secret), "{secret} in the log");
        assert!(
            !database
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} in the queue"
        );
    }

    check_openapi(port, &beta, &seen);
}

/// Checks every response seen against the OpenAPI document the server serves, with Python's
/// jsonschema, and that every documented operation is routed.
fn check_openapi(port: u16, client: &Client, seen: &Seen) {
    let Some(python) = venv_python("jsonschema") else {
        common::skip_or_fail("the test venv has no jsonschema (run scripts/test)");
        return;
    };
    let document =
        request_to("127.0.0.1", port, "GET", "/openapi.json", &[], None).expect("openapi");
    assert_eq!(document.status, 200);
    let spec = document.json();
    assert_eq!(spec["openapi"], "3.1.0");
    // Every documented operation is routed: never 404 for an unknown route or 405.
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in ["get", "post", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let concrete = path
                .replace("{id}", "0123abcd")
                .replace("{name}", "narration.wav");
            let r = client.send(
                &method.to_uppercase(),
                &concrete,
                &[],
                (method == "post").then_some(b"{}".as_slice()),
            );
            assert_ne!(r.status, 405, "{method} {path}");
            if r.status == 404 {
                assert_eq!(
                    r.json()["code"],
                    "not_found",
                    "{method} {path} is not routed"
                );
            }
        }
    }
    let cases: Vec<Value> = seen
        .iter()
        .map(|(method, path, status, body)| json!({"method": method, "path": path, "status": status.to_string(), "body": body}))
        .collect();
    let script = r##"
import json, sys
import jsonschema
spec = json.loads(sys.argv[1])
cases = json.load(sys.stdin)
def resolve(node):
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/components/responses/"):
        node = spec["components"]["responses"][node["$ref"].split("/")[-1]]
    return node
problems = []
for case in cases:
    op = spec["paths"].get(case["path"], {}).get(case["method"])
    if op is None:
        problems.append(f"{case['method']} {case['path']} is not documented"); continue
    response = op["responses"].get(case["status"])
    if response is None:
        problems.append(f"{case['method']} {case['path']} answered {case['status']}, not documented"); continue
    response = resolve(response)
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        problems.append(f"{case['method']} {case['path']} {case['status']} has no JSON schema"); continue
    root = dict(spec); root.update(schema)
    validator = jsonschema.Draft202012Validator(root)
    for error in validator.iter_errors(case["body"]):
        problems.append(f"{case['method']} {case['path']} {case['status']}: {error.message}")
print(json.dumps(problems))
"##;
    let mut child = std::process::Command::new(&python)
        .args(["-c", script, &spec.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::Array(cases).to_string().as_bytes())
        .expect("cases");
    let output = child.wait_with_output().expect("python ends");
    let problems: Vec<String> = serde_json::from_slice(&output.stdout).expect("a JSON list");
    assert!(
        problems.is_empty(),
        "responses that break the OpenAPI document:\n{}",
        problems.join("\n")
    );
    assert!(seen.len() > 15);
}

/// A one-request webhook receiver on loopback: sends (headers, body) of the first POST.
fn webhook_receiver() -> (u16, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listens");
    let port = listener.local_addr().expect("addr").port();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut raw = Vec::new();
            let mut buffer = [0u8; 8192];
            loop {
                let n = stream.read(&mut buffer).unwrap_or(0);
                if n == 0 {
                    break;
                }
                raw.extend_from_slice(&buffer[..n]);
                if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&raw[..split]).to_string();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if raw.len() >= split + 4 + length {
                        let body = raw[split + 4..split + 4 + length].to_vec();
                        let _ = stream
                            .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
                        let _ = send.send((head, body));
                        break;
                    }
                }
            }
        }
    });
    (port, receive)
}

#[test]
fn a_narration_is_served_with_ranges_and_announced_by_a_signed_webhook() {
    if common::joe_model_or_skip().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let voices = voices_dir(dir.path(), &[]);
    std::fs::write(dir.path().join("secret"), "whsec-0123456789\n").expect("secret");
    let out = dir.path().join("out");
    let port = free_port();
    let _server = serve(
        &voices,
        port,
        &[
            "--out-dir",
            &out.display().to_string(),
            "--workers",
            "1",
            "--allow-private-urls",
            "--webhook-secret-file",
            &dir.path().join("secret").display().to_string(),
            "--no-cache",
        ],
        dir.path().join("serve.log"),
    );
    let client = Client { port, token: None };
    let (hook_port, hooks) = webhook_receiver();
    let article = "# Tides\n\nThe sea rises and falls twice a day.\n";
    let r = client.submit(
        &json!({"markdown": article, "voice": "joe-deterministic", "options": {"name": "tides"},
                "webhook": format!("http://127.0.0.1:{hook_port}/hook")}),
        &[],
    );
    assert_eq!(r.status, 202, "{r:?}");
    let id = r.json()["id"].as_str().expect("an id").to_string();
    let state = client.wait_ended(&id, Duration::from_secs(180));
    assert_eq!(state["status"], "done", "{state}");
    assert_eq!(state["attempts"], 1);
    assert_eq!(state["progress"]["fraction"], 1.0);

    let (head, body) = hooks
        .recv_timeout(Duration::from_secs(30))
        .expect("the webhook came");
    let signature = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case("aloud-signature"))
                .map(|(_, v)| v.trim().to_string())
        })
        .expect("a signature header");
    let payload: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(payload["id"], id.as_str());
    assert_eq!(payload["status"], "done");
    assert!(!String::from_utf8_lossy(&body).contains("whsec"));
    // Verified independently: Python's hmac over "t.body".
    let verify = r#"
import hmac, hashlib, sys
header, secret = sys.argv[1], sys.argv[2]
body = sys.stdin.buffer.read()
parts = dict(p.split("=", 1) for p in header.split(","))
mac = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
print("ok" if hmac.compare_digest(mac, parts["v1"]) else "bad")
"#;
    for (secret, expected) in [("whsec-0123456789", "ok"), ("whsec-wrong", "bad")] {
        let mut child = std::process::Command::new("python3")
            .args(["-c", verify, &signature, secret])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&body)
            .expect("body");
        let output = child.wait_with_output().expect("python3 ends");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            expected,
            "{secret}"
        );
    }

    // The audio whole and by ranges, equal to the file the worker wrote.
    let on_disk = std::fs::read(out.join(&id).join("tides.wav")).expect("the audio is in place");
    let whole = client.get(&format!("/v1/narrations/{id}/audio"));
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("content-type"), Some("audio/wav"));
    assert_eq!(whole.body, on_disk);
    let part = client.send(
        "GET",
        &format!("/v1/narrations/{id}/audio"),
        &[("Range", "bytes=100-199")],
        None,
    );
    assert_eq!(part.status, 206);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-199/{}", on_disk.len()).as_str())
    );
    assert_eq!(part.body, on_disk[100..200]);
    let tail = client.send(
        "GET",
        &format!("/v1/narrations/{id}/audio"),
        &[("Range", "bytes=-10")],
        None,
    );
    assert_eq!(tail.body, on_disk[on_disk.len() - 10..]);
    let beyond = client.send(
        "GET",
        &format!("/v1/narrations/{id}/audio"),
        &[("Range", &format!("bytes={}-", on_disk.len()))],
        None,
    );
    assert_eq!(beyond.status, 416);
    let timeline = client.get(&format!("/v1/narrations/{id}/timeline")).json();
    assert_eq!(
        timeline["sentences"].as_array().map(Vec::len),
        state["summary"]["sentences"].as_u64().map(|n| n as usize)
    );
    let captions = client.get(&format!("/v1/narrations/{id}/captions"));
    assert!(String::from_utf8_lossy(&captions.body).starts_with("WEBVTT"));
    let player = client.get(&format!("/v1/narrations/{id}/player"));
    assert_eq!(player.status, 303);
    let page = client.get(player.header("location").expect("a location"));
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("tides.wav"));
    let escape = client.get(&format!("/v1/narrations/{id}/files/..%2Fsecret"));
    assert_eq!(escape.status, 404);

    // Cancelling a running narration stops it: no output appears, no working file stays,
    // and the worker goes on to the next narration.
    let long = std::fs::read_to_string(common::repo("samples/city-council-budget.txt"))
        .expect("the sample");
    let r = client.submit(
        &json!({"text": long, "voice": "joe-deterministic", "options": {"name": "budget"}}),
        &[],
    );
    let long_id = r.json()["id"].as_str().expect("an id").to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let state = client.get(&format!("/v1/narrations/{long_id}")).json();
        if state["status"] == "running"
            && state["progress"]["sentences_done"].as_i64().unwrap_or(0) >= 1
        {
            break;
        }
        assert!(
            state["status"] == "queued" || state["status"] == "running",
            "{state}"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "it never ran: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let cancelled = client.send("DELETE", &format!("/v1/narrations/{long_id}"), &[], None);
    assert_eq!(cancelled.json()["status"], "cancelled");
    let next = client.submit(
        &json!({"text": "The ferry runs on time.", "voice": "joe-deterministic"}),
        &[],
    );
    let next_id = next.json()["id"].as_str().expect("an id").to_string();
    assert_eq!(
        client.wait_ended(&next_id, Duration::from_secs(120))["status"],
        "done"
    );
    let state = client.get(&format!("/v1/narrations/{long_id}")).json();
    assert_eq!(state["status"], "cancelled", "{state}");
    let left: Vec<String> = std::fs::read_dir(out.join(&long_id))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "a cancelled narration left {left:?}");
    let _ = Path::new(&out);
}
