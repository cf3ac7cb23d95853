//! `aloud batch` end to end with the real engine: killed with SIGKILL mid-run and rerun, every
//! output is whole and identical to a narration of its own, and finished work is not redone;
//! one article's failure leaves the others finished.

mod common;

use common::run_aloud;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn cache_entries(cache: &Path) -> usize {
    files_under(cache)
        .iter()
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .count()
}

fn working_files(out: &Path) -> Vec<PathBuf> {
    files_under(out)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".aloud-")
        })
        .collect()
}

/// Three articles: the first short, so the kill lands in the second.
fn write_articles(dir: &Path) {
    std::fs::create_dir_all(dir.join("world")).unwrap();
    std::fs::write(
        dir.join("a-brief.md"),
        "# Brief\n\nThe library opens at nine. It closes at five.\n",
    )
    .unwrap();
    std::fs::copy(
        common::repo("samples/city-council-budget.txt"),
        dir.join("b-budget.txt"),
    )
    .unwrap();
    std::fs::copy(
        common::repo("samples/night-sky-guide.md"),
        dir.join("world/c-sky.md"),
    )
    .unwrap();
}

fn batch_args<'a>(articles: &'a str, out: &'a str, cache: &'a str, voice: &'a str) -> Vec<&'a str> {
    vec![
        "batch",
        articles,
        "--out-dir",
        out,
        "--cache-dir",
        cache,
        "--voice",
        voice,
        "--jobs",
        "1",
        "--json",
    ]
}

fn report(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "batch --json printed no report ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn a_batch_killed_with_sigkill_resumes_and_every_output_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let articles = root.join("articles");
    write_articles(&articles);
    let (out, cache) = (root.join("out"), root.join("cache"));
    let voice = common::deterministic_voice();
    let args = batch_args(
        articles.to_str().unwrap(),
        out.to_str().unwrap(),
        cache.to_str().unwrap(),
        &voice,
    );

    // Run until the first article is recorded done and the second has clips in the cache
    // but no output yet, then kill -9.
    let mut child = Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args(&args)
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let done_dir = out.join(".aloud-batch").join("done");
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut entries_after_first = None;
    loop {
        assert!(Instant::now() < deadline, "the batch made no progress");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the batch ended ({status}) before it could be killed mid-run");
        }
        let done = files_under(&done_dir).len();
        if done >= 1 {
            let entries = cache_entries(&cache);
            let first = *entries_after_first.get_or_insert(entries);
            if entries >= first + 3 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let first_output = out.join("a-brief.wav");
    let second_output = out.join("b-budget.wav");
    assert!(first_output.is_file(), "the first article was finished");
    assert!(
        !second_output.exists(),
        "the second was killed mid-run, so it has no output"
    );
    // The killed run left its working file for the second article behind.
    assert!(
        !working_files(&out).is_empty(),
        "a run killed mid-write leaves a working file"
    );
    let first_meta = std::fs::metadata(&first_output).unwrap();
    let cached_before_rerun = cache_entries(&cache);

    let rerun = run_aloud(&args, root);
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let report = report(&rerun);
    let statuses: Vec<&str> = report["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["skipped", "narrated", "narrated"]);
    // Finished work is not redone: the first output is the very same file, untouched.
    let again = std::fs::metadata(&first_output).unwrap();
    assert_eq!(
        (again.ino(), again.mtime_nsec()),
        (first_meta.ino(), first_meta.mtime_nsec())
    );
    // The second article resumed from the clips the killed run made.
    let second = &report["articles"][1]["summary"];
    assert!(
        second["cached"].as_u64().unwrap() >= 3,
        "resumed from the cache: {second}"
    );
    assert!(second["cached"].as_u64().unwrap() as usize <= cached_before_rerun);
    assert!(working_files(&out).is_empty(), "{:?}", working_files(&out));

    // Every output is whole and correct: identical to a narration of that article alone.
    for (input, output) in [
        ("a-brief.md", "a-brief.wav"),
        ("b-budget.txt", "b-budget.wav"),
        ("world/c-sky.md", "world/c-sky.wav"),
    ] {
        let alone = root.join("alone.wav");
        let run = run_aloud(
            &[
                "narrate",
                articles.join(input).to_str().unwrap(),
                "-o",
                alone.to_str().unwrap(),
                "--cache-dir",
                cache.to_str().unwrap(),
                "--voice",
                &voice,
                "--json",
            ],
            root,
        );
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let batch_bytes = std::fs::read(out.join(output)).unwrap();
        assert!(
            batch_bytes == std::fs::read(&alone).unwrap(),
            "{output} differs from a narration of {input} alone"
        );
        let timeline = out.join(output).with_extension("timeline.json");
        assert!(timeline.is_file(), "{}", timeline.display());
    }

    // A third run has nothing to do.
    let third = report_of(run_aloud(&args, root));
    assert_eq!(third["skipped"], 3);
    assert_eq!(third["synthesized"], 0);

    // An output removed since is made again (from the cache); the others stay skipped.
    std::fs::remove_file(out.join("world/c-sky.vtt")).unwrap();
    let fourth = report_of(run_aloud(&args, root));
    assert_eq!(
        (fourth["skipped"].as_u64(), fourth["narrated"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(fourth["articles"][2]["status"], "narrated");
    assert_eq!(fourth["synthesized"], 0);
    assert!(out.join("world/c-sky.vtt").is_file());

    // Planned now, every article is done and nothing is left to send.
    let mut plan_args = args.clone();
    plan_args.push("--plan");
    let plan = report_of(run_aloud(&plan_args, root));
    let statuses: Vec<&str> = plan["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["done", "done", "done"]);
    assert_eq!(plan["voices"].as_array().unwrap().len(), 0);
}

fn report_of(output: Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    report(&output)
}

/// A loopback news site: one story page, 404 for anything else.
fn serve_pages() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head);
            let (status, body) = match head.split_whitespace().nth(1) {
                Some("/news/harbor-lights.html") => ("200 OK", STORY_PAGE),
                _ => ("404 Not Found", "<html><body>Not here</body></html>"),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{address}")
}

const STORY_PAGE: &str = "<!doctype html><html><head><title>Harbor lights - The Gazette</title>\
    </head><body><nav><a href=\"/\">Home</a></nav><article><h1>Harbor lights return</h1>\
    <p>The harbor lights were switched back on last night after a month of repairs.</p>\
    <p>Fishing crews said the channel is easier to find again.</p></article></body></html>";

#[test]
fn one_failing_article_does_not_stop_the_others_and_the_exit_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("good.txt"), "Good\n\nThis one is fine.\n").unwrap();
    std::fs::write(root.join("empty.md"), "\n\n").unwrap();
    let site = serve_pages();
    std::fs::write(
        root.join("today.jsonl"),
        format!(
            "\"good.txt\"\n\"missing.md\"\n\"empty.md\"\n\
             {{\"input\": \"good.txt\", \"voice\": \"no-such-voice\", \"output\": \"other.wav\"}}\n\
             \"{site}/news/harbor-lights.html\"\n\"{site}/news/gone.html\"\n"
        ),
    )
    .unwrap();
    let voice = common::deterministic_voice();
    let run = run_aloud(
        &[
            "batch",
            "today.jsonl",
            "--out-dir",
            "out",
            "--cache-dir",
            "cache",
            "--voice",
            &voice,
            "--json",
        ],
        root,
    );
    assert_eq!(run.status.code(), Some(1));
    let report = report(&run);
    let articles = report["articles"].as_array().unwrap();
    let result = |i: usize| {
        (
            articles[i]["status"].as_str().unwrap().to_string(),
            articles[i]["error"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(result(0).0, "narrated");
    assert_eq!(result(1).0, "failed");
    assert!(
        result(1).1.contains("missing.md: file not found"),
        "{:?}",
        result(1)
    );
    assert_eq!(result(2).0, "failed");
    assert!(
        result(2).1.contains("nothing to narrate"),
        "{:?}",
        result(2)
    );
    assert_eq!(result(3).0, "failed");
    assert!(
        result(3).1.contains("unknown voice 'no-such-voice'"),
        "{:?}",
        result(3)
    );
    // A page is fetched and narrated under its last path segment's name; a missing one fails.
    assert_eq!(result(4).0, "narrated", "{:?}", result(4));
    assert_eq!(articles[4]["summary"]["title"], "Harbor lights return");
    assert_eq!(articles[4]["summary"]["sentences"], 3);
    assert_eq!(result(5).0, "failed");
    assert!(result(5).1.contains("404"), "{:?}", result(5));
    assert_eq!(
        (report["narrated"].as_u64(), report["failed"].as_u64()),
        (Some(2), Some(4))
    );
    assert!(root.join("out/good.wav").is_file());
    assert!(root.join("out/harbor-lights.wav").is_file());
    assert!(!root.join("out/other.wav").exists());
    assert!(!root.join("out/gone.wav").exists());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("4 of 6 articles failed"),
        "the last line says how many failed: {stderr}"
    );
}

#[test]
fn a_manifest_that_writes_outside_the_output_directory_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("a.md"), "# A\n\nText.\n").unwrap();
    std::fs::write(
        root.join("m.toml"),
        "[[article]]\ninput = \"a.md\"\n\n[[article]]\ninput = \"a.md\"\noutput = \"../escape.wav\"\n",
    )
    .unwrap();
    let run = run_aloud(&["batch", "m.toml", "--out-dir", "out"], root);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("manifest m.toml: article 2: output \"../escape.wav\""),
        "{stderr}"
    );
    assert!(!root.join("out").exists() && !root.join("escape.wav").exists());
}

#[test]
fn a_batch_plan_prices_what_each_voice_would_be_sent_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("a.md"),
        "# A\n\nOne sentence here. And another one.\n",
    )
    .unwrap();
    std::fs::write(
        root.join("b.txt"),
        "B\n\nA third sentence, in plain text.\n",
    )
    .unwrap();
    let alloy = common::repo("voices/openai-alloy.toml")
        .display()
        .to_string();
    let polly = common::repo("voices/polly-joanna.toml")
        .display()
        .to_string();
    std::fs::write(
        root.join("m.jsonl"),
        format!(
            "{{\"input\": \"a.md\", \"voice\": \"{alloy}\"}}\n\
             {{\"input\": \"b.txt\", \"voice\": \"{alloy}\"}}\n\
             {{\"input\": \"b.txt\", \"voice\": \"{polly}\", \"output\": \"b-polly.wav\"}}\n\
             \"missing.md\"\n"
        ),
    )
    .unwrap();
    let run = run_aloud(
        &[
            "batch",
            "m.jsonl",
            "--out-dir",
            "out",
            "--no-cache",
            "--plan",
            "--json",
        ],
        root,
    );
    let plan = report_of(run);
    let articles = plan["articles"].as_array().unwrap();
    let statuses: Vec<&str> = articles
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["narrate", "narrate", "narrate", "failed"]);
    assert!(
        articles[3]["error"]
            .as_str()
            .unwrap()
            .contains("missing.md")
    );

    let rate = |voice: &str| {
        let profile =
            std::fs::read_to_string(common::repo(&format!("voices/{voice}.toml"))).unwrap();
        let line = profile
            .lines()
            .find(|l| l.starts_with("per_million_characters"))
            .unwrap();
        line.split('=')
            .nth(1)
            .unwrap()
            .trim()
            .parse::<f64>()
            .unwrap()
    };
    let voices = plan["voices"].as_array().unwrap();
    let total = |name: &str| voices.iter().find(|v| v["voice"] == name).unwrap();
    let characters = |i: usize| articles[i]["estimate"]["characters"].as_u64().unwrap();
    let openai = total("openai-alloy");
    assert_eq!(openai["articles"], 2);
    assert_eq!(
        openai["characters"].as_u64().unwrap(),
        characters(0) + characters(1)
    );
    let expected = (characters(0) + characters(1)) as f64 * rate("openai-alloy") / 1e6;
    let amount = openai["estimated_cost"]["amount"].as_f64().unwrap();
    assert!(
        (amount - expected).abs() < 1e-12,
        "{amount} against {expected}"
    );
    // Polly with speech marks is billed for each text twice.
    let polly = total("polly-joanna");
    assert_eq!(
        polly["billable_characters"].as_u64().unwrap(),
        2 * characters(2)
    );
    let amount = polly["estimated_cost"]["amount"].as_f64().unwrap();
    assert!((amount - 2.0 * characters(2) as f64 * rate("polly-joanna") / 1e6).abs() < 1e-12);
    assert!(!root.join("out").exists(), "a plan writes nothing");
}
