//! `aloud batch --queue`: a batch's articles narrated as jobs on a shared queue, by the
//! batch's own workers and by `aloud worker`s in other processes. Outputs must equal a plain
//! `aloud batch` byte for byte; a batch killed with SIGKILL mid-article and run again queues
//! nothing twice and finishes every article, the interrupted one on its second attempt.

mod common;

use common::repo;
use common::service::{Postgres, Process, aloud, turn_with_joe, voices_dir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const VOICE: &str = "joe-deterministic";

/// A directory of articles; `budget.txt` (first in name order) is long enough to be killed in.
fn articles(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(
        repo("samples/city-council-budget.txt"),
        input.join("budget.txt"),
    )
    .unwrap();
    std::fs::write(
        input.join("ferry.txt"),
        "Ferry Times Change\n\nThe harbour ferry will leave every forty minutes from Monday. Passengers with season tickets need do nothing.\n",
    )
    .unwrap();
    std::fs::write(
        input.join("library.md"),
        "# Library Hours\n\nThe central library opens at nine on Sundays from next month.\n",
    )
    .unwrap();
    std::fs::write(input.join("tides.md"), common::SAMPLE).unwrap();
    input
}

/// `aloud batch IN -o OUT --voice VOICE --json` plus `args`, with its own sentence cache.
fn batch(voices: &Path, input: &Path, out: &Path, args: &[&str]) -> Command {
    let mut command = aloud(voices);
    command
        .arg("batch")
        .arg(input)
        .arg("-o")
        .arg(out)
        .args(["--voice", VOICE, "--json", "--quiet", "--cache-dir"])
        .arg(out.with_extension("cache"))
        .args(args);
    command
}

fn report(command: &mut Command) -> Value {
    let result = command.output().expect("aloud batch runs");
    assert!(
        result.status.success(),
        "aloud batch failed: {}\n{}",
        String::from_utf8_lossy(&result.stderr),
        String::from_utf8_lossy(&result.stdout)
    );
    serde_json::from_slice(&result.stdout).expect("the batch report")
}

/// Every file `aloud batch` made in `alone` is in `out` with the same bytes, and no working
/// file is left in `out`.
fn same_files(alone: &Path, out: &Path) {
    let (mut compared, mut differ) = (0, Vec::new());
    for entry in std::fs::read_dir(alone).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            continue;
        }
        let name = entry.file_name();
        let theirs = std::fs::read(out.join(&name))
            .unwrap_or_else(|e| panic!("{}: {e}", out.join(&name).display()));
        if std::fs::read(entry.path()).unwrap() != theirs {
            differ.push(name);
        }
        compared += 1;
    }
    assert!(
        differ.is_empty(),
        "differ from the single-machine batch's: {differ:?}"
    );
    assert!(compared >= 9, "only {compared} files compared");
    let leftovers: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".aloud-"))
        .filter(|e| e.file_name() != ".aloud-batch")
        .map(|e| e.file_name())
        .collect();
    assert!(leftovers.is_empty(), "working files left: {leftovers:?}");
}

fn statuses(report: &Value) -> Vec<String> {
    report["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .map(|a| a["status"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The articles' (place, worker, attempts).
fn workers(report: &Value) -> Vec<(String, String, i64)> {
    report["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .map(|a| {
            (
                a["place"].as_str().unwrap_or_default().to_string(),
                a["worker"].as_str().unwrap_or_default().to_string(),
                a["attempts"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

fn worker(voices: &Path, queue: &str, store: &str, dir: &Path, log: PathBuf) -> Process {
    let mut command = aloud(voices);
    command
        .args(["worker", "--queue", queue, "--store", store, "--out-dir"])
        .arg(dir.join("worker-out"))
        .arg("--cache-dir")
        .arg(dir.join("worker-cache"));
    Process::spawn(command, log)
}

fn counts(voices: &Path, queue: &str) -> Value {
    let status = aloud(voices)
        .args(["status", "--queue", queue, "--json"])
        .output()
        .expect("status runs");
    serde_json::from_slice(&status.stdout).expect("status JSON")
}

#[test]
fn a_batch_on_the_embedded_sqlite_queue_makes_what_a_plain_batch_makes() {
    let Some(_turn) = turn_with_joe() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let voices = voices_dir(dir.path(), &[]);
    let input = articles(dir.path());
    let alone = dir.path().join("alone");
    report(&mut batch(&voices, &input, &alone, &[]));

    let out = dir.path().join("out");
    let queue = dir.path().join("queue.sqlite");
    let queue = queue.to_str().unwrap();
    let first = report(&mut batch(&voices, &input, &out, &["--queue", queue]));
    assert_eq!(statuses(&first), ["narrated"; 4], "{first}");
    same_files(&alone, &out);
    for (place, worker, attempts) in workers(&first) {
        assert!(!worker.is_empty(), "{place}: no worker named");
        assert_eq!(attempts, 1, "{place}");
    }
    // The batch's own store is emptied once the files are in place.
    let store = out.join(".aloud-batch/store");
    let kept: Vec<_> = std::fs::read_dir(&store)
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.file_name())
        .collect();
    assert!(kept.is_empty(), "left in the batch's store: {kept:?}");

    let again = report(&mut batch(&voices, &input, &out, &["--queue", queue]));
    assert_eq!(statuses(&again), ["skipped"; 4], "{again}");
    assert_eq!(counts(&voices, queue)["done"], 4, "nothing queued twice");

    // A voice given as a profile file cannot travel to another machine's worker.
    let refused = aloud(&voices)
        .arg("batch")
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("refused"))
        .args(["--json", "--quiet", "--queue", queue, "--voice"])
        .arg(repo("voices/joe-deterministic.toml"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let text = String::from_utf8_lossy(&refused.stdout);
    assert!(text.contains("not profile files"), "{text}");
    assert_eq!(counts(&voices, queue)["done"], 4, "nothing queued");
}

#[test]
fn postgres_workers_elsewhere_narrate_a_batch_and_a_killed_batch_resumes() {
    let Some(_turn) = turn_with_joe() else {
        return;
    };
    let Some(postgres) = Postgres::start_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let voices = voices_dir(dir.path(), &[]);
    let input = articles(dir.path());
    let alone = dir.path().join("alone");
    report(&mut batch(&voices, &input, &alone, &[]));
    let queue = postgres.url();
    let shared = dir.path().join("shared-store");
    let store = format!("fs://{}", shared.display());

    // --jobs 0: the batch only queues and gathers; the worker in another process does it all.
    let mut elsewhere = worker(
        &voices,
        &queue,
        &store,
        dir.path(),
        dir.path().join("w1.log"),
    );
    let out = dir.path().join("out-remote");
    let remote = report(&mut batch(
        &voices,
        &input,
        &out,
        &["--queue", &queue, "--store", &store, "--jobs", "0"],
    ));
    assert_eq!(statuses(&remote), ["narrated"; 4], "{remote}");
    same_files(&alone, &out);
    let marker = format!("-{}-", elsewhere.pid());
    for (place, worker, _) in workers(&remote) {
        assert!(
            worker.contains(&marker),
            "{place}: narrated by {worker}, not the worker process {}",
            elsewhere.pid()
        );
    }
    elsewhere.kill9();

    // The batch's own worker alone, killed with SIGKILL while it narrates the long article.
    let out = dir.path().join("out-killed");
    let mut first = batch(
        &voices,
        &input,
        &out,
        &["--queue", &queue, "--store", &store, "--jobs", "1"],
    );
    let mut killed = Process::spawn(
        {
            first.stdout(std::process::Stdio::null());
            first
        },
        dir.path().join("batch-1.log"),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = counts(&voices, &queue);
        if now["running"].as_i64() == Some(1) && now["queued"].as_i64() == Some(3) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the batch never started its first article: {now}\n{}",
            killed.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    killed.kill9();
    assert!(
        !out.join("budget.wav").exists(),
        "the long article finished before the kill; the test needs a longer one"
    );

    // Run again beside a worker elsewhere: the jobs already queued are taken, none again.
    let _elsewhere = worker(
        &voices,
        &queue,
        &store,
        dir.path(),
        dir.path().join("w2.log"),
    );
    let resumed = report(&mut batch(
        &voices,
        &input,
        &out,
        &["--queue", &queue, "--store", &store, "--jobs", "1"],
    ));
    assert_eq!(statuses(&resumed), ["narrated"; 4], "{resumed}");
    same_files(&alone, &out);
    let attempts: Vec<(String, i64)> = workers(&resumed)
        .into_iter()
        .map(|(place, _, attempts)| (place, attempts))
        .collect();
    assert_eq!(
        attempts,
        [
            ("budget.txt".to_string(), 2),
            ("ferry.txt".to_string(), 1),
            ("library.md".to_string(), 1),
            ("tides.md".to_string(), 1)
        ]
    );
    let now = counts(&voices, &queue);
    assert_eq!(
        (
            now["done"].as_i64(),
            now["queued"].as_i64(),
            now["running"].as_i64()
        ),
        (Some(8), Some(0), Some(0)),
        "every article queued once per batch: {now}"
    );
}

#[test]
fn workers_share_the_sentence_cache_through_the_store() {
    let Some(_turn) = turn_with_joe() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let voices = voices_dir(dir.path(), &[]);
    let input = articles(dir.path());
    std::fs::remove_file(input.join("budget.txt")).unwrap();
    let queue = dir.path().join("queue.sqlite");
    let queue = queue.to_str().unwrap();
    let shared = dir.path().join("shared-store");
    let store = format!("fs://{}", shared.display());
    // Each run: a worker in another process with a sentence cache of its own (empty), and a
    // batch that only queues and gathers.
    let run = |name: &str| {
        let machine = dir.path().join(name);
        let mut command = aloud(&voices);
        command
            .args([
                "worker",
                "--queue",
                queue,
                "--store",
                &store,
                "--share-cache",
            ])
            .arg("--out-dir")
            .arg(machine.join("out"))
            .arg("--cache-dir")
            .arg(machine.join("cache"));
        let _worker = Process::spawn(command, dir.path().join(format!("{name}.log")));
        let out = dir.path().join(format!("{name}-batch"));
        let report = report(&mut batch(
            &voices,
            &input,
            &out,
            &["--queue", queue, "--store", &store, "--jobs", "0"],
        ));
        assert_eq!(statuses(&report), ["narrated"; 3], "{report}");
        let sources = (
            report["synthesized"].as_u64().unwrap_or(0),
            report["cached"].as_u64().unwrap_or(0),
        );
        (out, sources)
    };
    let (first, (synthesized, cached)) = run("machine-1");
    assert!(synthesized > 0);
    assert_eq!(cached, 0);
    let entries: Vec<PathBuf> = walk(&shared.join("clips"));
    assert_eq!(entries.len() as u64, synthesized, "{entries:?}");

    let (second, sources) = run("machine-2");
    assert_eq!(sources, (0, synthesized), "all from the shared cache");
    same_files(&first, &second);

    // A damaged shared entry is not stitched: that one sentence is made again.
    let damaged = &entries[0];
    let mut bytes = std::fs::read(damaged).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(damaged, bytes).unwrap();
    let (third, sources) = run("machine-3");
    assert_eq!(sources, (1, synthesized - 1));
    same_files(&first, &third);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files.sort();
    files
}
