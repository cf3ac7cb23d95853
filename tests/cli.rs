//! The `aloud` binary as a user meets it: summaries, JSON, inspect, and bad input that fails
//! with one clear line, a non-zero exit and nothing left behind.

use common::{CACHE, repo, run_aloud_cached};
use std::path::Path;
use std::process::{Command, Output};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Files in `dir` other than the inputs a test put there.
fn leftovers(dir: &Path, inputs: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !inputs.contains(&n.as_str()) && n != CACHE)
        .collect();
    names.sort();
    names
}

/// A failure is one line on stderr, starting `aloud: error:` and naming `needle`.
fn assert_one_line_error(output: &Output, needle: &str) {
    assert!(!output.status.success(), "expected failure");
    let text = stderr(output);
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("aloud: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "stderr: {text}");
    assert!(
        errors[0].contains(needle),
        "'{}' lacks '{needle}'",
        errors[0]
    );
    assert!(output.stdout.is_empty(), "nothing on stdout for a failure");
}

#[test]
fn narrate_json_summary_and_inspect_read_back_the_chapters() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("brief.md"),
        "# Brief\n\nFirst paragraph. It has two sentences.\n\n## Second part\n\nThe end.\n",
    )
    .unwrap();
    let run = run_aloud_cached(
        &[
            "narrate",
            "brief.md",
            "-o",
            "brief.wav",
            "--json",
            "--voice",
            repo("voices/joe-deterministic.toml").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).expect("one JSON object");
    assert_eq!(summary["sentences"], 5);
    assert_eq!(summary["synthesized"], 5);
    assert_eq!(summary["chapters"], 2);
    assert_eq!(summary["output"], "brief.wav");
    assert!(summary["audio_seconds"].as_f64().unwrap() > 3.0);
    assert!(summary["wall_seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(
        leftovers(dir.path(), &["brief.md"]),
        ["brief.timeline.json", "brief.vtt", "brief.wav"]
    );

    let inspect = run_aloud_cached(&["inspect", "brief.wav", "--json"], dir.path());
    assert!(inspect.status.success(), "{}", stderr(&inspect));
    let report: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let titles: Vec<&str> = report["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Brief", "Second part"]);
    // The quality report: on the web target, nothing clipped, every join found and clean.
    let lufs = report["loudness"]["integrated_lufs"].as_f64().unwrap();
    assert!((lufs + 16.0).abs() < 0.5, "{lufs}");
    assert!(report["loudness"]["true_peak_dbtp"].as_f64().unwrap() <= -1.0);
    assert_eq!(report["clipped_samples"], 0);
    // Each sentence starts and ends at a join, except where the file itself starts and ends.
    assert_eq!(report["seams"]["joins"], 2 * 5 - 2);
    assert!(report["seams"]["worst"].as_f64().unwrap() < 0.5);
    let timeline: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("brief.timeline.json")).unwrap())
            .unwrap();
    assert_eq!(
        report["chapters"][1]["start"],
        timeline["chapters"][1]["start"]
    );

    let human = run_aloud_cached(&["inspect", "brief.wav"], dir.path());
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("22050 Hz") && text.contains("2 chapters"),
        "{text}"
    );
    assert!(text.contains("Second part"), "{text}");
}

#[test]
fn a_rerun_comes_from_the_cache_and_an_edit_makes_one_clip() {
    let dir = tempfile::tempdir().unwrap();
    let voice = repo("voices/joe-deterministic.toml");
    let voice = voice.to_str().unwrap();
    let text = "# Brief\n\nFirst paragraph. It has two sentences.\n\nThe end.\n";
    std::fs::write(dir.path().join("brief.md"), text).unwrap();
    let narrate = |extra: &[&str]| {
        let mut args = vec!["narrate", "brief.md", "--json", "--voice", voice];
        args.extend_from_slice(extra);
        let run = run_aloud_cached(&args, dir.path());
        assert!(run.status.success(), "{}", stderr(&run));
        let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let wav = std::fs::read(dir.path().join("brief.wav")).unwrap();
        (
            summary["synthesized"].as_u64().unwrap(),
            summary["cached"].as_u64().unwrap(),
            wav,
        )
    };
    let (cold_made, cold_cached, cold_wav) = narrate(&[]);
    assert_eq!((cold_made, cold_cached), (4, 0));
    let (warm_made, warm_cached, warm_wav) = narrate(&[]);
    assert_eq!((warm_made, warm_cached), (0, 4));
    assert!(
        warm_wav == cold_wav,
        "a cached rerun is byte for byte the same"
    );

    let stats = run_aloud_cached(&["cache", "stats", "--json"], dir.path());
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["entries"], 4);

    std::fs::write(
        dir.path().join("brief.md"),
        text.replace("two sentences", "2 lines"),
    )
    .unwrap();
    let (edit_made, edit_cached, _) = narrate(&[]);
    assert_eq!((edit_made, edit_cached), (1, 3));

    let (bypass_made, bypass_cached, _) = narrate(&["--no-cache"]);
    assert_eq!((bypass_made, bypass_cached), (4, 0));

    let human = run_aloud_cached(&["cache", "clear"], dir.path());
    let line = String::from_utf8_lossy(&human.stdout);
    assert!(line.contains("removed 5 clips"), "{line}");
    let stats = run_aloud_cached(&["cache", "stats", "--json"], dir.path());
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["entries"], 0);
}

#[test]
fn plain_summary_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "A note\n\nShort and sweet.\n").unwrap();
    let run = run_aloud_cached(&["narrate", "note.txt", "--quiet"], dir.path());
    assert!(run.status.success(), "{}", stderr(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("note.wav: 2 sentences in 1 chapter,"),
        "{stdout}"
    );
}

#[test]
fn missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_aloud_cached(&["narrate", "nowhere.txt", "-o", "out.wav"], dir.path());
    assert_one_line_error(&run, "nowhere.txt");
    assert!(leftovers(dir.path(), &[]).is_empty());
}

#[test]
fn empty_and_blank_inputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.txt"), "").unwrap();
    std::fs::write(dir.path().join("blank.md"), "\n\n   \n").unwrap();
    for input in ["empty.txt", "blank.md"] {
        let run = run_aloud_cached(&["narrate", input, "-o", "out.wav"], dir.path());
        assert_one_line_error(&run, input);
    }
    assert!(leftovers(dir.path(), &["empty.txt", "blank.md"]).is_empty());
}

#[test]
fn binary_input_is_not_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("photo.txt"),
        [0x89, b'P', b'N', b'G', 0xff, 0xfe, 0, 1],
    )
    .unwrap();
    let run = run_aloud_cached(&["narrate", "photo.txt", "-o", "out.wav"], dir.path());
    assert_one_line_error(&run, "photo.txt");
    assert!(stderr(&run).contains("UTF-8"), "{}", stderr(&run));
    assert!(leftovers(dir.path(), &["photo.txt"]).is_empty());
}

#[test]
fn unknown_voice_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "Title\n\nBody.\n").unwrap();
    let run = run_aloud_cached(&["narrate", "a.txt", "--voice", "nobody-here"], dir.path());
    assert_one_line_error(&run, "nobody-here");
    assert!(leftovers(dir.path(), &["a.txt"]).is_empty());
}

#[test]
fn a_model_that_cannot_load_is_named_at_its_first_sentence_and_leaves_nothing() {
    // The engine's session is made on first use, so a broken model fails there, not at open.
    let Some(model) = common::joe_model_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "Title\n\nBody.\n").unwrap();
    std::fs::write(dir.path().join("broken.onnx"), "not a model").unwrap();
    // A real config, so only the model itself is wrong.
    std::fs::copy(
        model.with_extension("onnx.json"),
        dir.path().join("broken.onnx.json"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        "name = \"broken\"\nengine = \"piper\"\nlanguage = \"en-US\"\nmodel = \"broken.onnx\"\n",
    )
    .unwrap();
    let run = run_aloud_cached(
        &["narrate", "a.txt", "--voice", "broken.toml", "--no-cache"],
        dir.path(),
    );
    assert_one_line_error(&run, "piper: sentence 1 (\"Title\")");
    assert!(stderr(&run).contains("broken.onnx"), "{}", stderr(&run));
    let inputs = ["a.txt", "broken.onnx", "broken.onnx.json", "broken.toml"];
    assert!(leftovers(dir.path(), &inputs).is_empty());
}

#[test]
fn unwritable_output_fails_and_an_existing_output_survives() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "Title\n\nBody.\n").unwrap();
    let run = run_aloud_cached(
        &["narrate", "a.txt", "-o", "no/such/dir/out.wav"],
        dir.path(),
    );
    assert_one_line_error(&run, "no/such/dir/out.wav");

    // A failing run (here: an unknown engine file) never touches what is already there.
    std::fs::write(dir.path().join("keep.wav"), b"previous narration").unwrap();
    let data = tempfile::tempdir().unwrap();
    let run = run_aloud_cached(
        &[
            "narrate",
            "a.txt",
            "-o",
            "keep.wav",
            "--offline",
            "--data-dir",
            data.path().to_str().unwrap(),
            "--onnxruntime",
            "/nonexistent/libonnxruntime.so",
        ],
        dir.path(),
    );
    assert!(!run.status.success());
    assert_eq!(
        std::fs::read(dir.path().join("keep.wav")).unwrap(),
        b"previous narration"
    );
    assert_eq!(
        leftovers(dir.path(), &["a.txt", "keep.wav"]),
        Vec::<String>::new()
    );
}

#[test]
fn offline_with_no_assets_says_what_is_missing_and_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "Title\n\nBody.\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args(["narrate", "a.txt", "--offline"])
        .env("ALOUD_DATA_DIR", data.path())
        .env_remove("ALOUD_ORT_LIB")
        .env_remove("ORT_DYLIB_PATH")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_one_line_error(&run, "aloud setup");
    assert!(
        leftovers(dir.path(), &["a.txt"]).is_empty(),
        "{:?}",
        leftovers(dir.path(), &["a.txt"])
    );
}

#[test]
fn inspect_rejects_what_is_not_a_wav() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.wav"), b"not a riff file at all").unwrap();
    let run = run_aloud_cached(&["inspect", "x.wav"], dir.path());
    assert_one_line_error(&run, "x.wav");
}

#[test]
fn help_teaches() {
    let run = run_aloud_cached(&["narrate", "--help"], Path::new("."));
    let text = String::from_utf8_lossy(&run.stdout);
    for needle in [
        "--voice",
        "--json",
        "--offline",
        "--loudness",
        "--pause",
        "--sidecars",
        "--no-cache",
        ".mp3",
        "Examples",
    ] {
        assert!(text.contains(needle), "narrate --help lacks {needle}");
    }
}

#[test]
fn bad_finishing_settings_are_named_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "Title\n\nA sentence.\n").unwrap();
    // Flag values are checked as the command line is parsed: a usage error (exit 2) that
    // names the flag and says what is wrong, before anything is read or written.
    for (flag, value, needle) in [
        ("--loudness", "loud", "'loud' is neither a preset"),
        ("--loudness", "3", "3 LUFS is outside"),
        ("--pause", "nap=300", "unknown pause 'nap'"),
        (
            "--pause",
            "sentence=forever",
            "'forever' is not a pause length",
        ),
        ("--sidecars", "vtt,subs", "unknown sidecar 'subs'"),
        ("--bits", "12", "unknown sample format"),
        ("--bits", "7", "unknown sample format"),
        ("--true-peak", "3", "3 dBTP is outside"),
    ] {
        let run = run_aloud_cached(&["narrate", "a.txt", flag, value, "--offline"], dir.path());
        assert_eq!(run.status.code(), Some(2), "{flag} {value}");
        let text = stderr(&run);
        assert!(text.contains(flag), "{flag} {value}: {text}");
        assert!(text.contains(needle), "{flag} {value}: {text}");
        assert!(run.stdout.is_empty());
        assert_eq!(leftovers(dir.path(), &["a.txt"]), Vec::<String>::new());
    }
}

#[test]
fn plan_shows_what_would_be_said_without_an_engine() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("story.md"),
        "# Story\n\nOrtiz spoke. A GIF played.\n\n## Later\n\nThe end.\n",
    )
    .unwrap();
    let lexicon = repo("samples/newsroom-lexicon.toml");
    // No engine files are needed to plan: an empty data dir, offline, still works.
    let data = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args([
            "plan",
            "story.md",
            "--json",
            "--lexicon",
            lexicon.to_str().unwrap(),
        ])
        .env("ALOUD_DATA_DIR", data.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let plan: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(plan["title"], "Story");
    assert_eq!(plan["sentences"], 5);
    let chapters = plan["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 2);
    assert_eq!(chapters[1]["title"], "Later");
    let first = &chapters[0]["paragraphs"][0]["sentences"];
    assert_eq!(first[0]["text"], "Ortiz spoke.");
    assert_eq!(first[0]["spoken"], "Or-teez spoke.");
    assert_eq!(first[1]["spoken"], "A jif played.");
    let source: Vec<usize> = first[1]["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let markdown = std::fs::read_to_string(dir.path().join("story.md")).unwrap();
    assert_eq!(&markdown[source[0]..source[1]], "A GIF played.");
    assert!(
        leftovers(dir.path(), &["story.md"]).is_empty(),
        "plan writes nothing"
    );

    let human = run_aloud_cached(
        &["plan", "story.md", "--lexicon", lexicon.to_str().unwrap()],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("2 chapters, 2 paragraphs, 5 sentences"),
        "{text}"
    );
    assert!(text.contains("says: Or-teez spoke."), "{text}");
}

#[test]
fn a_missing_or_broken_lexicon_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "Title\n\nBody.\n").unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[words]\n\"two words\" = \"x\"\n",
    )
    .unwrap();
    let run = run_aloud_cached(&["plan", "a.txt", "--lexicon", "gone.toml"], dir.path());
    assert_one_line_error(&run, "gone.toml");
    let run = run_aloud_cached(&["narrate", "a.txt", "--lexicon", "bad.toml"], dir.path());
    assert_one_line_error(&run, "bad.toml");
    assert!(leftovers(dir.path(), &["a.txt", "bad.toml"]).is_empty());
}

#[path = "common/mod.rs"]
mod common;

/// `aloud plan ARGS --json` in `dir`, with the engine files looked for in `data` only.
fn plan_json(args: &[&str], dir: &Path, data: &Path) -> serde_json::Value {
    let run = Command::new(env!("CARGO_BIN_EXE_aloud"))
        .arg("plan")
        .args(args)
        .arg("--json")
        .current_dir(dir)
        .env("ALOUD_CACHE_DIR", dir.join(CACHE))
        .env("ALOUD_DATA_DIR", data)
        .env_remove("ALOUD_ORT_LIB")
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    serde_json::from_slice(&run.stdout).expect("one JSON object")
}

fn count(value: &serde_json::Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{value} is not a count"))
}

#[test]
fn plan_estimates_each_backend_from_its_profile_price() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("story.md"),
        "# Story\n\nOrtiz spoke at length about the budget. A GIF played.\n\n## Later\n\nThe end.\n",
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let openai = repo("voices/openai-alloy.toml");
    let joe = repo("voices/joe.toml");
    let pricing = aloud::voice::VoiceProfile::from_file(&openai)
        .unwrap()
        .pricing
        .expect("the openai-alloy profile has a price");
    let args = [
        "story.md",
        "--voice",
        openai.to_str().unwrap(),
        "--voice",
        joe.to_str().unwrap(),
    ];
    let plan = plan_json(&args, dir.path(), data.path());
    // Every field the plan had is still there, for the first voice.
    assert_eq!(plan["title"], "Story");
    assert_eq!(count(&plan["sentences"]), 5);
    let backends = plan["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 2);

    let cloud = &backends[0];
    assert_eq!(cloud["voice"], "openai-alloy");
    assert_eq!(cloud["backend"], "openai");
    assert_eq!(count(&cloud["characters"]), count(&plan["characters"]));
    assert_eq!(count(&cloud["requests"]), count(&plan["requests"]));
    // No cache directory yet: nothing is cached, everything is billable.
    assert_eq!(count(&cloud["cached_requests"]), 0);
    assert_eq!(
        count(&cloud["billable_characters"]),
        count(&plan["characters"])
    );
    let cost = &cloud["estimated_cost"];
    let expected = count(&plan["characters"]) as f64 * pricing.per_million_characters / 1e6;
    let amount = cost["amount"].as_f64().unwrap();
    assert!((amount - expected).abs() < 1e-9, "{amount} != {expected}");
    assert_eq!(cost["currency"], pricing.currency.as_str());
    assert_eq!(
        cost["per_million_characters"].as_f64(),
        Some(pricing.per_million_characters)
    );

    let local = &backends[1];
    assert_eq!(local["backend"], "piper");
    assert!(local["estimated_cost"].is_null());
    assert_eq!(local["cost_note"], "no charge (runs locally)");
    // Each voice's own lexicon and limits shape its plan; the same text here.
    assert_eq!(count(&local["characters"]), count(&cloud["characters"]));

    let human = run_aloud_cached(
        &["plan"].iter().chain(&args).copied().collect::<Vec<_>>(),
        dir.path(),
    );
    assert!(human.status.success(), "{}", stderr(&human));
    let text = String::from_utf8_lossy(&human.stdout);
    let line = |voice: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(voice))
            .unwrap_or_else(|| panic!("no line for {voice} in {text}"))
            .to_string()
    };
    let cloud_line = line("openai-alloy");
    assert!(
        cloud_line.contains(&format!("{} characters", count(&plan["characters"])))
            && cloud_line.contains("cached: 0 of")
            && cloud_line.contains(&format!(
                "at ${:.2} per million characters (the profile's price as of {})",
                pricing.per_million_characters, pricing.as_of
            )),
        "{cloud_line}"
    );
    assert!(line("joe").contains("no charge (runs locally)"), "{text}");
    assert!(
        leftovers(dir.path(), &["story.md"]).is_empty(),
        "plan writes nothing"
    );
}

#[test]
fn plan_without_engine_files_or_cache_says_why_the_cache_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "# A\n\nOne. Two.\n").unwrap();
    // A cache exists, but the default voice cannot open here to name its clips.
    std::fs::create_dir(dir.path().join(CACHE)).unwrap();
    let data = tempfile::tempdir().unwrap();
    let plan = plan_json(&["a.md"], dir.path(), data.path());
    let estimate = &plan["backends"][0];
    assert_eq!(estimate["voice"], aloud::voice::DEFAULT_VOICE);
    assert!(estimate["cached_requests"].is_null(), "{estimate}");
    assert!(estimate["cached_characters"].is_null(), "{estimate}");
    let note = estimate["cache_note"].as_str().unwrap();
    assert!(note.contains("aloud setup"), "{note}");
    assert_eq!(
        count(&estimate["billable_characters"]),
        count(&plan["characters"])
    );

    let plan = plan_json(&["a.md", "--no-cache"], dir.path(), data.path());
    let note = plan["backends"][0]["cache_note"].as_str().unwrap();
    assert!(note.contains("turned off"), "{note}");
}

#[test]
fn plan_counts_the_sentences_a_narration_left_in_the_cache() {
    if common::joe_model_or_skip().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clips = dir.path().join("clips");
    let clips = clips.to_str().unwrap();
    let voice = repo("voices/joe-deterministic.toml");
    let voice = voice.to_str().unwrap();
    let text = "# Brief\n\nFirst paragraph. It has two sentences.\n\nThe end.\n";
    std::fs::write(dir.path().join("brief.md"), text).unwrap();
    let run = run_aloud_cached(
        &[
            "narrate",
            "brief.md",
            "--voice",
            voice,
            "--cache-dir",
            clips,
            "--quiet",
        ],
        dir.path(),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let estimate = || {
        let run = run_aloud_cached(
            &[
                "plan",
                "brief.md",
                "--voice",
                voice,
                "--cache-dir",
                clips,
                "--json",
            ],
            dir.path(),
        );
        assert!(run.status.success(), "{}", stderr(&run));
        serde_json::from_slice::<serde_json::Value>(&run.stdout).unwrap()
    };

    let warm_plan = estimate();
    let warm = &warm_plan["backends"][0];
    assert!(warm["cache_note"].is_null(), "{warm}");
    let requests = count(&warm["requests"]);
    assert!(requests > 1);
    assert_eq!(count(&warm["cached_requests"]), requests);
    assert_eq!(
        count(&warm["cached_characters"]),
        count(&warm["characters"])
    );
    assert_eq!(count(&warm["billable_characters"]), 0);

    std::fs::write(
        dir.path().join("brief.md"),
        text.replace("two sentences", "2 lines"),
    )
    .unwrap();
    let plan = estimate();
    let edited = &plan["backends"][0];
    assert_eq!(count(&edited["cached_requests"]), requests - 1);
    // Only the edited sentence, as it would be spoken, is left to synthesize.
    let spoken = plan["chapters"][0]["paragraphs"][0]["sentences"][1]["spoken"]
        .as_str()
        .unwrap();
    assert!(spoken.contains("lines"), "{spoken}");
    assert_eq!(
        count(&edited["billable_characters"]),
        spoken.chars().count() as u64
    );
    assert_eq!(
        count(&edited["cached_characters"]),
        count(&edited["characters"]) - spoken.chars().count() as u64
    );
}
