//! Finishing on real speech from the embedded engine: program loudness and true peak as
//! ffmpeg's `ebur128` filter measures them, and click-free joins.

mod common;

use aloud::cache::ClipCache;
use aloud::narrate::{Narrator, NarratorOptions, Summary};
use aloud::sidecar::Timeline;
use aloud::stitch::Finishing;
use aloud::voice::VoiceProfile;
use common::repo;
use std::path::{Path, PathBuf};
use std::process::Command;

const ARTICLE: &str = "# Harbour Lights\n\n\
The old lighthouse was switched off in March, after a hundred and twelve years. \
Its keeper, now eighty, came to watch.\n\n\
\"It never missed a night,\" she said. Then she laughed: \"Well, once, in the storm of 'sixty-two!\"\n\n\
## What Comes Next\n\n\
A small automatic beacon on the breakwater takes over. \
It flashes every five seconds and can be seen eleven miles out.\n";

/// Narrates `ARTICLE` with `finishing`; clips come from a cache shared by the tests in this
/// file, so the engine speaks each sentence once and every preset finishes the same speech.
fn narrate(finishing: Finishing, cache: &Path, output: &Path) -> Summary {
    let profile = VoiceProfile::find(repo("voices/joe-deterministic.toml").to_str().unwrap())
        .expect("profile");
    let options = NarratorOptions {
        finishing: Some(finishing),
        cache: Some(ClipCache::new(cache, 1 << 30)),
        ..NarratorOptions::default()
    };
    let narrator = Narrator::open(profile, &options, &mut |p| eprintln!("{p}"))
        .expect("the embedded engine opens (run `aloud setup` first)");
    let document = aloud::ingest::parse(
        ARTICLE,
        aloud::ingest::Format::Markdown,
        Path::new("harbour.md"),
    )
    .unwrap();
    narrator
        .narrate_blocking(&document, output, &mut |_| {})
        .expect("narration succeeds")
}

/// Under cargo's scratch directory for integration tests, shared by the tests here (and
/// kept between runs: these tests are about finishing, not synthesis).
fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("finishing-clip-cache")
}

/// ffmpeg's EBU R128 summary: (integrated LUFS, loudness range LU, true peak dBTP).
fn ffmpeg_ebur128(path: &Path) -> Option<(f64, f64, f64)> {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-filter_complex", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stderr);
    // The summary comes last; take the values after "Summary:".
    let summary = &text[text.rfind("Summary:")?..];
    let value = |label: &str| -> Option<f64> {
        let line = summary
            .lines()
            .find(|l| l.trim_start().starts_with(label))?;
        line.split(':')
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some((value("I:")?, value("LRA:")?, value("Peak:")?))
}

fn require_ffmpeg() -> bool {
    if Command::new("ffmpeg").arg("-version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("ALOUD_REQUIRE_READERS").is_none_or(|v| v == "0"),
        "ffmpeg is not installed, and ALOUD_REQUIRE_READERS is set"
    );
    eprintln!("skipping: ffmpeg is not installed");
    false
}

#[test]
fn every_preset_lands_on_target_by_ffmpegs_meter() {
    if !require_ffmpeg() {
        return;
    }
    let cache = cache_dir();
    let dir = tempfile::tempdir().unwrap();
    let profile = VoiceProfile::find("joe-deterministic").unwrap();
    for preset in ["web", "audiobook", "broadcast", "-20"] {
        let target = aloud::audio::loudness::LoudnessTarget::parse(preset).unwrap();
        let mut finishing = Finishing::with_pauses(profile.pauses);
        finishing.loudness = Some(target);
        let output = dir.path().join(format!("harbour{preset}.wav"));
        let summary = narrate(finishing, &cache, &output);
        let (integrated, _, peak) = ffmpeg_ebur128(&output).expect("ffmpeg measures the file");
        eprintln!(
            "{preset}: ffmpeg {integrated} LUFS, {peak} dBTP; aloud {:?}, gain {:.2} dB, limited {:.3}%",
            summary.finishing.after,
            summary.finishing.gain_db,
            summary.finishing.limited_fraction * 100.0
        );
        assert!(
            (integrated - target.lufs).abs() <= 0.5,
            "{preset}: {integrated} LUFS against {}",
            target.lufs
        );
        assert!(
            peak <= target.ceiling_dbtp,
            "{preset}: true peak {peak} dBTP over {}",
            target.ceiling_dbtp
        );
        let ours = summary.finishing.after.integrated_lufs.unwrap();
        assert!(
            (ours - integrated).abs() <= 0.2,
            "ours {ours} vs ffmpeg {integrated}"
        );
    }
}

#[test]
fn joins_on_real_speech_stay_far_inside_what_speech_itself_does() {
    let cache = cache_dir();
    let dir = tempfile::tempdir().unwrap();
    let profile = VoiceProfile::find("joe-deterministic").unwrap();
    let output = dir.path().join("harbour.wav");
    let summary = narrate(Finishing::with_pauses(profile.pauses), &cache, &output);
    let seams = summary.finishing.seams;
    assert!(seams.joins >= 2 * summary.sentences, "{seams:?}");

    // Speech's own steps, scored the same way at every sample inside each sentence.
    let mut reader = hound::WavReader::open(&output).unwrap();
    let samples: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32767.0)
        .collect();
    let timeline = Timeline::read(&summary.timeline).unwrap();
    let context = aloud::audio::edges::seam_context(22_050);
    let mut speech_steps = Vec::new();
    for sentence in &timeline.sentences {
        let from = (sentence.start * 22_050.0) as usize + context;
        let to = (sentence.end * 22_050.0) as usize - context;
        for p in (from..to).step_by(7) {
            let score =
                aloud::audio::edges::seam_score(&samples[p - context..p], &samples[p..p + context]);
            if score.is_finite() {
                speech_steps.push(score);
            }
        }
    }
    speech_steps.sort_by(f64::total_cmp);
    let p99 = speech_steps[speech_steps.len() * 99 / 100];
    let max = *speech_steps.last().unwrap();
    eprintln!(
        "worst join {:.3} at {:.2} s over {} joins; speech itself: 99th percentile {p99:.2}, max {max:.2}",
        seams.worst, seams.worst_at, seams.joins
    );
    assert!(seams.worst < 0.5, "{seams:?}");
    assert!(
        seams.worst < p99 / 2.0,
        "worst join {} vs speech p99 {p99}",
        seams.worst
    );

    // Pauses are what the policy says: from the end of one sentence's sound to the start of
    // the next, within the 5 ms the trimmer works in (pads included in the sentence spans).
    let edges = aloud::audio::edges::EdgePolicy::default();
    let pads = (edges.lead_ms + edges.tail_ms) / 1000.0;
    let sentence_pause = f64::from(profile.pauses.sentence_ms) / 1000.0;
    let gaps: Vec<f64> = timeline
        .sentences
        .windows(2)
        .map(|w| w[1].start - w[0].end + pads)
        .collect();
    assert!(
        gaps.iter().any(|g| (g - sentence_pause).abs() < 0.002),
        "no sentence gap of {sentence_pause} s in {gaps:?}"
    );
}

#[test]
fn an_mp3_for_the_web_has_its_chapters_and_lands_on_target() {
    if !require_ffmpeg() {
        return;
    }
    let cache = cache_dir();
    let dir = tempfile::tempdir().unwrap();
    let profile = VoiceProfile::find("joe-deterministic").unwrap();
    let output = dir.path().join("harbour.mp3");
    let summary = narrate(Finishing::with_pauses(profile.pauses), &cache, &output);
    let bytes = std::fs::read(&output).unwrap();
    assert!(bytes.starts_with(b"ID3"), "an ID3v2 tag leads the MP3");

    let (integrated, _, peak) = ffmpeg_ebur128(&output).expect("ffmpeg measures the MP3");
    eprintln!(
        "mp3: ffmpeg {integrated} LUFS, {peak} dBTP; aloud (decoded) {:?}",
        summary.finishing.after
    );
    assert!((integrated + 16.0).abs() <= 0.5, "{integrated} LUFS");
    assert!(peak <= -1.0, "true peak {peak} dBTP");

    let probe = common::ffprobe_chapters_and_format(&output);
    let timeline = Timeline::read(&summary.timeline).unwrap();
    let chapters = probe["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), timeline.chapters.len());
    for (read, chapter) in chapters.iter().zip(&timeline.chapters) {
        let start: f64 = read["start_time"].as_str().unwrap().parse().unwrap();
        let end: f64 = read["end_time"].as_str().unwrap().parse().unwrap();
        assert!((start - chapter.start).abs() < 0.002, "{read} {chapter:?}");
        assert!((end - chapter.end).abs() < 0.002, "{read} {chapter:?}");
        assert_eq!(read["tags"]["title"], chapter.title.as_str());
    }
    assert_eq!(probe["format"]["tags"]["title"], "Harbour Lights");

    // aloud's own report reads the same chapters back from the tag.
    let report = aloud::inspect::inspect(&output).unwrap();
    let titles: Vec<&str> = report.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Harbour Lights", "What Comes Next"]);
    assert!((report.duration - timeline.duration).abs() < 0.06);
}
