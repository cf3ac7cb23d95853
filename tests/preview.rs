//! `aloud preview` with the real engine: a paragraph streamed to standard output as it is
//! made, laid out exactly like the same paragraph written to a file, at the loudness target.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn aloud(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args(args)
        .current_dir(cwd)
        .env("ALOUD_CACHE_DIR", cwd.join("cache"))
        .output()
        .expect("aloud runs")
}

/// Samples of a 16-bit mono WAV stream as aloud writes it (44-byte header, open sizes).
fn stream_samples(bytes: &[u8]) -> Vec<i16> {
    assert!(bytes.len() >= 44, "no header");
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[36..40], b"data");
    bytes[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Integrated loudness and true peak by ffmpeg's ebur128 filter, reading the stream from a
/// file as any player would.
fn ffmpeg_loudness(path: &Path) -> Option<(f64, f64)> {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .ok()?;
    let log = String::from_utf8_lossy(&output.stderr);
    let summary = log.rsplit("Summary:").next()?;
    let value = |key: &str| -> Option<f64> {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some((value("I:")?, value("Peak:")?))
}

/// `aloud preview ARTICLE --paragraph 2 -o OUTPUT --json` in the deterministic voice.
fn preview_paragraph_2(article: &Path, output: &str, cwd: &Path) -> Output {
    let voice = common::deterministic_voice();
    let article = article.to_str().unwrap();
    let args = [
        "preview",
        article,
        "--paragraph",
        "2",
        "--voice",
        &voice,
        "-o",
        output,
        "--json",
    ];
    aloud(&args, cwd)
}

#[test]
fn a_streamed_paragraph_matches_the_file_preview_sample_for_sample_in_length() {
    let dir = tempfile::tempdir().unwrap();
    let article = common::repo("samples/night-sky-guide.md");
    // The paragraph's sentences, as `aloud plan` numbers paragraphs.
    let plan = aloud(
        &["plan", article.to_str().unwrap(), "--json", "--no-cache"],
        dir.path(),
    );
    assert!(plan.status.success());
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let paragraphs: Vec<&serde_json::Value> = plan["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["paragraphs"].as_array().unwrap())
        .collect();
    let second = paragraphs[1]["sentences"].as_array().unwrap().len();

    let streamed = preview_paragraph_2(&article, "-", dir.path());
    assert!(
        streamed.status.success(),
        "{}",
        String::from_utf8_lossy(&streamed.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&streamed.stderr).unwrap();
    assert_eq!(summary["sentences"].as_u64(), Some(second as u64));
    let samples = stream_samples(&streamed.stdout);
    let seconds = samples.len() as f64 / 22050.0;
    assert!((seconds - summary["audio_seconds"].as_f64().unwrap()).abs() < 1e-3);

    let filed = preview_paragraph_2(&article, "p2.wav", dir.path());
    assert!(
        filed.status.success(),
        "{}",
        String::from_utf8_lossy(&filed.stderr)
    );
    let file_summary: serde_json::Value = serde_json::from_slice(&filed.stdout).unwrap();
    assert_eq!(file_summary["sentences"].as_u64(), Some(second as u64));
    assert_eq!(
        file_summary["cached"].as_u64(),
        summary["synthesized"].as_u64(),
        "the file preview reuses the streamed preview's clips"
    );
    let reader = hound::WavReader::open(dir.path().join("p2.wav")).unwrap();
    // Same pauses, same trimmed edges: the same number of samples.
    assert_eq!(reader.duration() as usize, samples.len());

    // Both at the web target: the file measured whole, the stream set from its first
    // sentence and held.
    let stream_file = dir.path().join("stream.wav");
    std::fs::write(&stream_file, &streamed.stdout).unwrap();
    match (
        ffmpeg_loudness(&stream_file),
        ffmpeg_loudness(&dir.path().join("p2.wav")),
    ) {
        (Some((stream_lufs, stream_peak)), Some((file_lufs, _))) => {
            assert!((file_lufs + 16.0).abs() < 0.5, "file {file_lufs}");
            assert!((stream_lufs + 16.0).abs() < 1.5, "stream {stream_lufs}");
            assert!(stream_peak <= -1.0 + 0.3, "stream peak {stream_peak}");
        }
        _ => common::skip_or_fail("ffmpeg cannot measure loudness here"),
    }
}

#[test]
fn audio_arrives_while_the_rest_of_the_paragraph_is_still_being_made() {
    let dir = tempfile::tempdir().unwrap();
    let text = "The first sentence is short. The second one follows it closely. \
        A third sentence keeps the engine busy for a while longer. \
        The fourth goes on about the weather, the tides and the harbour lights. \
        And the fifth sentence ends the paragraph at last.";
    let mut child = Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args([
            "preview",
            "--text",
            text,
            "--voice",
            &common::deterministic_voice(),
            "-o",
            "-",
            "--no-cache",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // The header, then the first audio.
    let mut first = vec![0u8; 44 + 4410];
    stdout.read_exact(&mut first).unwrap();
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first sentence's audio came before the preview was finished"
    );
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    first.extend(rest);
    let samples = stream_samples(&first);
    assert!(samples.len() > 22050 * 5, "five sentences of speech");
}

#[test]
fn a_paragraph_past_the_end_and_an_empty_text_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "# A\n\nOne.\n\nTwo.\n").unwrap();
    let past = aloud(&["preview", "a.md", "--paragraph", "3"], dir.path());
    assert_eq!(past.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&past.stderr);
    assert!(
        stderr.contains("--paragraph 3: a.md has 2 paragraphs"),
        "{stderr}"
    );
    let empty = aloud(&["preview", "--text", "  "], dir.path());
    assert_eq!(empty.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("--text"));
    assert!(!dir.path().join("preview.wav").exists());
}
