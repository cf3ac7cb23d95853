//! Narration as a service with real processes: PostgreSQL 15 (started here) shared by
//! `aloud serve` and two `aloud worker`s, one killed with SIGKILL mid-article: every
//! narration ends done, the interrupted one with attempts = 2, each output byte-identical to
//! `aloud narrate` of the same input; a poison job that kills its worker every time ends
//! failed after --max-attempts 2. Then the embedded SQLite queue: `aloud serve` killed -9
//! mid-article and restarted loses nothing.

mod common;

use common::service::{
    Client, Postgres, Process, aloud, narrate_alone, serve, turn_with_joe, voices_dir,
};
use common::{free_port, repo};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const VOICE: &str = "joe-deterministic";

/// A voice whose engine kills the worker that runs it (its parent process).
const POISON: &str = r#"
name = "poison"
engine = "command"
language = "en-US"
[options]
program = "/bin/sh"
args = ["-c", "kill -9 $PPID; sleep 5"]
sample_rate = 22050
timeout_seconds = 30
"#;

/// The articles: (name, field, contents). The first is long enough to be killed in.
fn articles() -> Vec<(&'static str, &'static str, String)> {
    let long =
        std::fs::read_to_string(repo("samples/city-council-budget.txt")).expect("the sample");
    vec![
        ("budget", "text", long),
        ("tides", "markdown", common::SAMPLE.to_string()),
        ("ferry", "text", "Ferry Times Change\n\nThe harbour ferry will leave every forty minutes from Monday. Passengers with season tickets need do nothing.\n".to_string()),
        ("library", "markdown", "# Library Hours\n\nThe central library opens at nine on Sundays from next month.\n".to_string()),
    ]
}

fn extension(field: &str) -> &'static str {
    match field {
        "markdown" => "md",
        _ => "txt",
    }
}

fn submit_all(client: &Client) -> Vec<(String, String)> {
    articles()
        .into_iter()
        .map(|(name, field, contents)| {
            let r = client.submit(
                &json!({field: contents, "voice": VOICE, "options": {"name": name}}),
                &[],
            );
            assert_eq!(r.status, 202, "{r:?}");
            (
                name.to_string(),
                r.json()["id"].as_str().expect("an id").to_string(),
            )
        })
        .collect()
}

/// Waits until narration `id` runs with at least two sentences done; its worker's name.
fn wait_running(client: &Client, id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let state = client.get(&format!("/v1/narrations/{id}")).json();
        if state["status"] == "running"
            && state["progress"]["sentences_done"].as_i64().unwrap_or(0) >= 2
        {
            return state["worker"].as_str().unwrap_or_default().to_string();
        }
        assert!(
            state["status"] != "done",
            "{id} finished before it could be killed: {state}"
        );
        assert!(Instant::now() < deadline, "{id} never ran: {state}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every narration done, `interrupted` with attempts = 2 and the rest 1, each output
/// byte-identical to `aloud narrate` of the same input.
fn check_outputs(
    client: &Client,
    voices: &Path,
    dir: &Path,
    out: &Path,
    jobs: &[(String, String)],
    interrupted: &str,
) {
    let contents = articles();
    for (name, id) in jobs {
        let state = client.wait_ended(id, Duration::from_secs(600));
        assert_eq!(state["status"], "done", "{name}: {state}");
        let attempts = if id == interrupted { 2 } else { 1 };
        assert_eq!(state["attempts"], attempts, "{name}: {state}");
        let (_, field, text) = contents
            .iter()
            .find(|(n, ..)| n == name)
            .expect("the article");
        let input = dir.join(format!("{name}.{}", extension(field)));
        std::fs::write(&input, text).expect("input");
        let alone = dir.join(format!("{name}-alone.wav"));
        narrate_alone(voices, &input, &alone, VOICE);
        let served = std::fs::read(out.join(id).join(format!("{name}.wav")))
            .expect("the output is in place");
        assert!(
            served == std::fs::read(&alone).expect("the lone narration"),
            "{name}: the service's WAV differs from aloud narrate's"
        );
        let captions = std::fs::read(out.join(id).join(format!("{name}.vtt"))).expect("captions");
        assert_eq!(
            captions,
            std::fs::read(dir.join(format!("{name}-alone.vtt"))).expect("captions"),
            "{name}"
        );
        let leftovers: Vec<_> = std::fs::read_dir(out.join(id))
            .expect("the narration's directory")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".aloud-"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "{name}: working files left: {leftovers:?}"
        );
    }
}

fn worker(
    voices: &Path,
    queue: &str,
    out: &Path,
    cache: &Path,
    log: std::path::PathBuf,
) -> Process {
    let mut command = aloud(voices);
    command
        .args([
            "worker",
            "--queue",
            queue,
            "--max-attempts",
            "2",
            "--out-dir",
        ])
        .arg(out)
        .arg("--cache-dir")
        .arg(cache);
    Process::spawn(command, log)
}

#[test]
fn postgres_two_workers_survive_a_sigkill_and_a_poison_job_fails() {
    let Some(_turn) = turn_with_joe() else {
        return;
    };
    let Some(postgres) = Postgres::start_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let voices = voices_dir(dir.path(), &[("poison", POISON)]);
    let out = dir.path().join("out");
    let cache = dir.path().join("cache");
    let queue = postgres.url();
    let port = free_port();
    let out_text = out.display().to_string();
    let _server = serve(
        &voices,
        port,
        &["--queue", &queue, "--workers", "0", "--out-dir", &out_text],
        dir.path().join("serve.log"),
    );
    let client = Client { port, token: None };
    let mut workers: Vec<Process> = (0..2)
        .map(|i| {
            worker(
                &voices,
                &queue,
                &out,
                &cache,
                dir.path().join(format!("worker-{i}.log")),
            )
        })
        .collect();

    let jobs = submit_all(&client);
    let (_, long_id) = &jobs[0];
    let running_on = wait_running(&client, long_id);
    let victim = workers
        .iter()
        .position(|w| running_on.contains(&format!("-{}-", w.pid())))
        .unwrap_or_else(|| panic!("no worker process is {running_on}"));
    workers[victim].kill9();
    check_outputs(&client, &voices, dir.path(), &out, &jobs, long_id);

    let status = aloud(&voices)
        .args(["status", "--queue", &queue, "--json"])
        .output()
        .expect("status runs");
    let counts: Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    assert_eq!(
        (
            counts["done"].as_i64(),
            counts["queued"].as_i64(),
            counts["running"].as_i64()
        ),
        (Some(4), Some(0), Some(0)),
        "{counts}"
    );
    assert_eq!(counts["workers_alive"], 1, "{counts}");

    workers[victim] = worker(
        &voices,
        &queue,
        &out,
        &cache,
        dir.path().join("worker-replaced.log"),
    );
    // A poison job kills whichever worker runs it; killed workers are restarted, as a
    // supervisor would; after two attempts it is failed, not handed out again.
    let r = client.submit(
        &json!({"text": "This sentence kills its worker.", "voice": "poison"}),
        &[],
    );
    assert_eq!(r.status, 202);
    let poison = r.json()["id"].as_str().expect("an id").to_string();
    let deadline = Instant::now() + Duration::from_secs(400);
    let mut restarts = 0;
    let state = loop {
        for (i, w) in workers.iter_mut().enumerate() {
            if w.child.try_wait().expect("try_wait").is_some() {
                *w = worker(
                    &voices,
                    &queue,
                    &out,
                    &cache,
                    dir.path().join(format!("worker-r{restarts}-{i}.log")),
                );
                restarts += 1;
            }
        }
        let state = client.get(&format!("/v1/narrations/{poison}")).json();
        if state["status"] == "failed" {
            break state;
        }
        assert!(
            Instant::now() < deadline,
            "the poison job never failed: {state}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        state["error"]
            .as_str()
            .is_some_and(|e| e.contains("gave up after 2 attempts")),
        "{state}"
    );
    assert!(restarts >= 2, "the poison job killed {restarts} workers");
}

#[test]
fn the_embedded_sqlite_queue_loses_nothing_when_serve_is_killed() {
    let Some(_turn) = turn_with_joe() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let voices = voices_dir(dir.path(), &[]);
    let out = dir.path().join("out");
    let out_text = out.display().to_string();
    let cache = dir.path().join("cache").display().to_string();
    let args = [
        "--out-dir",
        out_text.as_str(),
        "--workers",
        "1",
        "--cache-dir",
        cache.as_str(),
    ];
    let port = free_port();
    let mut server = serve(&voices, port, &args, dir.path().join("serve-1.log"));
    let client = Client { port, token: None };
    let jobs = submit_all(&client);
    let (_, long_id) = &jobs[0];
    wait_running(&client, long_id);
    server.kill9();

    let _restarted = serve(&voices, port, &args, dir.path().join("serve-2.log"));
    check_outputs(&client, &voices, dir.path(), &out, &jobs, long_id);
    assert!(out.join(".aloud-queue.sqlite").is_file());
}
