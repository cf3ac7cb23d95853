//! The English "Golden Rules" of sentence boundary detection (from pragmatic_segmenter, as
//! packaged by pySBD), run against `aloud::segment::split_sentences`.
//!
//! The rules live outside the crate, in `../shared/golden_rules.json` (or wherever the
//! `ALOUD_GOLDEN_RULES` environment variable points, for checkouts such as git worktrees that
//! have no `../shared`); without that file the test says so on stderr and passes. Every expected sentence in the data is an exact,
//! in-order substring of its input text, so sentences are compared exactly, byte for byte,
//! with the slices the splitter returns: no whitespace normalisation is needed or done.

use std::io::Write;
use std::path::{Path, PathBuf};

use aloud::segment::split_sentences;
use serde::Deserialize;

/// Golden rules the splitter is known to get wrong, with the reason. The test fails if any
/// other rule fails, and also if one of these starts passing, so that the list stays exact.
const KNOWN_MISSES: &[(u32, &str)] = &[];

/// The bar: pySBD passes 47 of the 48 rules.
const REQUIRED_PASSES: usize = 47;

#[derive(Deserialize)]
struct GoldenRules {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: u32,
    title: String,
    text: String,
    expected: Vec<String>,
}

fn sentences(text: &str) -> Vec<&str> {
    split_sentences(text)
        .into_iter()
        .map(|range| &text[range])
        .collect()
}

#[test]
fn english_golden_rules() {
    let path = std::env::var_os("ALOUD_GOLDEN_RULES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/golden_rules.json"),
        PathBuf::from,
    );
    let mut stderr = std::io::stderr();
    let Ok(json) = std::fs::read_to_string(&path) else {
        writeln!(
            stderr,
            "SKIPPED english_golden_rules: {} not found (the shared Golden Rules data is not \
             checked out next to this crate)",
            path.display()
        )
        .unwrap();
        return;
    };
    let rules: GoldenRules = serde_json::from_str(&json).expect("golden_rules.json is malformed");
    assert!(!rules.cases.is_empty(), "golden_rules.json has no cases");

    let mut failed = Vec::new();
    writeln!(stderr, "English Golden Rules ({}):", path.display()).unwrap();
    for case in &rules.cases {
        let got = sentences(&case.text);
        let pass = got == case.expected;
        let known = KNOWN_MISSES.iter().find(|(id, _)| *id == case.id);
        let status = match (pass, known) {
            (true, None) => "pass",
            (true, Some(_)) => "PASS (listed as a known miss!)",
            (false, Some(_)) => "known miss",
            (false, None) => "FAIL",
        };
        writeln!(stderr, "  {:>2}  {:<30}  {}", case.id, status, case.title).unwrap();
        if !pass {
            writeln!(stderr, "        expected: {:?}", case.expected).unwrap();
            writeln!(stderr, "        got:      {got:?}").unwrap();
            if let Some((_, reason)) = known {
                writeln!(stderr, "        reason:   {reason}").unwrap();
            }
            failed.push(case.id);
        }
    }
    let passed = rules.cases.len() - failed.len();
    writeln!(stderr, "passed {passed} of {}", rules.cases.len()).unwrap();

    let mut known: Vec<u32> = KNOWN_MISSES.iter().map(|(id, _)| *id).collect();
    known.sort_unstable();
    assert_eq!(
        failed, known,
        "the failing rules must be exactly KNOWN_MISSES (a regression, or a fixed known miss)"
    );
    assert!(
        passed >= REQUIRED_PASSES,
        "only {passed} golden rules pass, at least {REQUIRED_PASSES} are required"
    );
}

/// Splits a generated ~1 MB article and prints the throughput, for the README. Ignored by
/// default; run with
/// `cargo test --release --test golden_rules -- --ignored --nocapture bench_segment_long_article`.
#[test]
#[ignore = "micro-benchmark; run explicitly in release mode"]
fn bench_segment_long_article() {
    // Paragraph material that exercises most rules: abbreviations, initials, times, decimals,
    // quotes, brackets, URLs, ellipses and inline lists.
    const PARAGRAPHS: &[&str] = &[
        "Gov. Jane Smith said Tuesday that the U.S. economy grew 2.5 percent. \
         Analysts at Acme Inc. in Ohio were surprised. “We won,” she said. “It's over.”",
        "He left at 9 a.m. He returned at noon, met Lt. Col. John Doe and Dr. A. B. Jones, \
         and asked, \"Why?\" Then he left. (See page 4.) Details are at \
         https://example.org/news/2024.html or press@example.org for reporters.",
        "The plan has three parts: 1) cut costs 2) hire staff 3) grow sales. Pitt, Briggs & \
         Co. It closed the deal with the U.S. Government in Virginia on Oct. 19, 2023.",
        "I wasn't really . . . well, what I mean...see, the thing is . . . I didn't mean it. \
         Prices rose 3.75 percent in Jan. The Fed acted, i.e. it raised rates, etc. Nobody \
         was surprised! Or were they?",
    ];
    const TARGET_BYTES: usize = 1 << 20;
    let mut article = String::with_capacity(TARGET_BYTES + 1024);
    let mut index = 0;
    while article.len() < TARGET_BYTES {
        article.push_str(PARAGRAPHS[index % PARAGRAPHS.len()]);
        article.push_str(if index % 3 == 2 { "\n\n" } else { " " });
        index += 1;
    }

    // Warm up once, then time several runs and keep the best.
    let sentences = split_sentences(&article);
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let again = std::hint::black_box(split_sentences(std::hint::black_box(&article)));
        best = best.min(started.elapsed());
        assert_eq!(again.len(), sentences.len());
    }

    let kept: usize = sentences
        .iter()
        .map(|range| {
            article[range.clone()]
                .chars()
                .filter(|c| !c.is_whitespace())
                .count()
        })
        .sum();
    let original = article.chars().filter(|c| !c.is_whitespace()).count();
    assert_eq!(kept, original, "the splitter lost text");

    let seconds = best.as_secs_f64();
    let mib = article.len() as f64 / f64::from(1 << 20);
    writeln!(
        std::io::stderr(),
        "bench_segment_long_article: {:.2} MiB, {} sentences in {:.2} ms (best of 5): \
         {:.0} sentences/s, {:.1} MiB/s",
        mib,
        sentences.len(),
        seconds * 1e3,
        sentences.len() as f64 / seconds,
        mib / seconds,
    )
    .unwrap();
}
