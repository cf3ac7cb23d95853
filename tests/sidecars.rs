//! Every sidecar of a real narration, read back by a parser that is not ours: webvtt-py for
//! WebVTT captions and chapters, srt for SubRip, ffmpeg for ffmetadata (muxed into an .m4b
//! whose chapters ffprobe reads), plus structural checks of the Podcasting 2.0 JSON and the
//! CUE sheet. All must agree with the timeline.

use aloud::sidecar::Timeline;
use std::path::Path;
use std::process::Command;

mod common;

use common::repo;

fn readers_required() -> bool {
    std::env::var_os("ALOUD_REQUIRE_READERS").is_some_and(|v| v != "0")
}

fn skip(what: &str) {
    assert!(
        !readers_required(),
        "{what}, and ALOUD_REQUIRE_READERS is set"
    );
    eprintln!("skipping: {what}");
}

/// Runs a Python snippet over `path` with `python`; its stdout parsed as JSON.
fn python_json(python: &Path, code: &str, path: &Path) -> Option<serde_json::Value> {
    let output = Command::new(python)
        .args(["-c", code])
        .arg(path)
        .output()
        .ok()?;
    if !output.status.success() {
        panic!("{}", String::from_utf8_lossy(&output.stderr));
    }
    serde_json::from_slice(&output.stdout).ok()
}

const ARTICLE: &str = "# Tides & Moons\n\n\
The sea rises and falls twice a day --> pulled by the moon.\n\n\
Sailors kept <tables> of the tides; \"spring\" tides run highest.\n\n\
## Neap Tides\n\nWhen sun and moon pull at right angles, the range is smallest.\n\n\
## A Note on Timing = #1\n\nHigh water comes about fifty minutes later each day.\n";

fn narrate(dir: &Path) -> Timeline {
    std::fs::write(dir.join("tides.md"), ARTICLE).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args([
            "narrate",
            "tides.md",
            "--sidecars",
            "all",
            "--quiet",
            "--no-cache",
        ])
        .args([
            "--voice",
            repo("voices/joe-deterministic.toml").to_str().unwrap(),
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    Timeline::read(&dir.join("tides.timeline.json")).unwrap()
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

#[test]
fn every_sidecar_agrees_with_the_timeline_by_independent_readers() {
    let dir = tempfile::tempdir().unwrap();
    let timeline = narrate(dir.path());
    assert_eq!(timeline.chapters.len(), 3);
    for name in [
        "tides.vtt",
        "tides.chapters.vtt",
        "tides.srt",
        "tides.ffmeta",
        "tides.chapters.json",
        "tides.cue",
    ] {
        assert!(dir.path().join(name).is_file(), "{name} missing");
    }

    if let Some(python) = common::venv_python("webvtt, srt") {
        let vtt = python_json(
            &python,
            "import sys, json, webvtt\n\
             def seconds(t):\n    h, m, s = t.split(':')\n    return int(h) * 3600 + int(m) * 60 + float(s)\n\
             print(json.dumps([[seconds(c.start), seconds(c.end), c.text] for c in webvtt.read(sys.argv[1])]))",
            &dir.path().join("tides.vtt"),
        )
        .unwrap();
        let cues = vtt.as_array().unwrap();
        assert_eq!(cues.len(), timeline.sentences.len());
        for (cue, sentence) in cues.iter().zip(&timeline.sentences) {
            assert!(
                close(cue[0].as_f64().unwrap(), sentence.start, 0.0011),
                "{cue} {sentence:?}"
            );
            assert!(
                close(cue[1].as_f64().unwrap(), sentence.end, 0.0011),
                "{cue} {sentence:?}"
            );
            // webvtt-py hands back the escaped text; unescaped it is the sentence as written.
            let text = cue[2]
                .as_str()
                .unwrap()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            assert_eq!(text, sentence.text);
        }
        let chapters = python_json(
            &python,
            "import sys, json, webvtt\n\
             def seconds(t):\n    h, m, s = t.split(':')\n    return int(h) * 3600 + int(m) * 60 + float(s)\n\
             print(json.dumps([[seconds(c.start), seconds(c.end), c.text] for c in webvtt.read(sys.argv[1])]))",
            &dir.path().join("tides.chapters.vtt"),
        )
        .unwrap();
        let chapters = chapters.as_array().unwrap();
        assert_eq!(chapters.len(), timeline.chapters.len());
        for (cue, chapter) in chapters.iter().zip(&timeline.chapters) {
            assert!(close(cue[0].as_f64().unwrap(), chapter.start, 0.0011));
            assert_eq!(
                cue[2].as_str().unwrap().replace("&amp;", "&"),
                chapter.title
            );
        }
        let subs = python_json(
            &python,
            "import sys, json, srt\n\
             subs = list(srt.parse(open(sys.argv[1], encoding='utf-8').read()))\n\
             print(json.dumps([[s.index, s.start.total_seconds(), s.end.total_seconds(), s.content] for s in subs]))",
            &dir.path().join("tides.srt"),
        )
        .unwrap();
        let subs = subs.as_array().unwrap();
        assert_eq!(subs.len(), timeline.sentences.len());
        for (i, (sub, sentence)) in subs.iter().zip(&timeline.sentences).enumerate() {
            assert_eq!(sub[0].as_u64().unwrap(), i as u64 + 1);
            assert!(close(sub[1].as_f64().unwrap(), sentence.start, 0.0011));
            assert!(close(sub[2].as_f64().unwrap(), sentence.end, 0.0011));
            assert_eq!(sub[3].as_str().unwrap(), sentence.text);
        }
    } else {
        skip("the test venv's Python lacks webvtt-py or srt (scripts/test installs them)");
    }

    // ffmetadata: the documented use, an audiobook with the same chapters.
    if Command::new("ffmpeg").arg("-version").output().is_ok() {
        let m4b = dir.path().join("tides.m4b");
        let mux = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i", "tides.wav", "-i", "tides.ffmeta"])
            .args([
                "-map",
                "0:a",
                "-map_metadata",
                "1",
                "-map_chapters",
                "1",
                "-c:a",
                "aac",
                "tides.m4b",
            ])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            mux.status.success(),
            "{}",
            String::from_utf8_lossy(&mux.stderr)
        );
        let probe = common::ffprobe_chapters_and_format(&m4b);
        let chapters = probe["chapters"].as_array().unwrap();
        assert_eq!(chapters.len(), timeline.chapters.len());
        for (read, chapter) in chapters.iter().zip(&timeline.chapters) {
            let start: f64 = read["start_time"].as_str().unwrap().parse().unwrap();
            assert!(close(start, chapter.start, 0.002), "{read} {chapter:?}");
            assert_eq!(read["tags"]["title"], chapter.title.as_str());
        }
        assert_eq!(probe["format"]["tags"]["title"], timeline.title.as_str());
    } else {
        skip("ffmpeg is not installed");
    }

    // Podcasting 2.0 chapters: version string, ordered chapters with startTime and title.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("tides.chapters.json")).unwrap())
            .unwrap();
    assert!(json["version"].is_string());
    let chapters = json["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), timeline.chapters.len());
    for (read, chapter) in chapters.iter().zip(&timeline.chapters) {
        assert!(close(
            read["startTime"].as_f64().unwrap(),
            chapter.start,
            0.0011
        ));
        assert_eq!(read["title"], chapter.title.as_str());
    }

    // CUE sheet: one track per chapter, INDEX 01 at its start in 1/75 s frames.
    let cue = std::fs::read_to_string(dir.path().join("tides.cue")).unwrap();
    assert!(cue.contains("FILE \"tides.wav\" WAVE"));
    let indexes: Vec<f64> = cue
        .lines()
        .filter_map(|l| l.trim().strip_prefix("INDEX 01 "))
        .map(|t| {
            let parts: Vec<f64> = t.split(':').map(|p| p.parse().unwrap()).collect();
            parts[0] * 60.0 + parts[1] + parts[2] / 75.0
        })
        .collect();
    assert_eq!(indexes.len(), timeline.chapters.len());
    for (index, chapter) in indexes.iter().zip(&timeline.chapters) {
        assert!(
            close(*index, chapter.start, 1.0 / 75.0),
            "{index} {chapter:?}"
        );
    }
}
