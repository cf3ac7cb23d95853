//! Checks the finishing formats against independent readers: 24-bit and float WAV and RF64 through ffprobe and Python's wavinfo, MP3 chapters and tags through ffprobe/ffmpeg and Python's mutagen.
//!
//! Each reader test skips (with a note on stderr) when its tool is missing, so
//! a bare `cargo test` works anywhere; set ALOUD_REQUIRE_READERS=1 (as
//! scripts/test does) to turn a missing tool into a failure instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aloud::stitch::markers::read_wav_summary;
use aloud::stitch::mp3::{Mp3Options, Mp3Writer};
use aloud::stitch::wav::{ChapterMark, ProgramWriter, SampleFormat};
use serde_json::Value;

mod common;

const RATE: u32 = 22_050;
/// Samples per MP3 frame at 22050 Hz (MPEG-2 layer III).
const MP3_FRAME: u64 = 576;

/// Titles that break naive readers: a quote that JSON must escape, and
/// multi-byte UTF-8 of two and four bytes (UTF-16 with a surrogate pair in ID3v2.3).
const TITLES: [&str; 3] = ["Intro", "Section two: \"quotes\"", "Café ünïcode 🎧"];

fn skip(what: &str) {
    if std::env::var_os("ALOUD_REQUIRE_READERS").is_some_and(|v| v != "0") {
        panic!("{what} not installed, and ALOUD_REQUIRE_READERS is set");
    }
    // Written to the real stderr: libtest swallows eprintln! from passing tests.
    let _ = writeln!(std::io::stderr(), "skipping: {what} not installed");
}

/// Runs a tool, or returns None (after saying so) when it is not installed.
fn run_tool(program: &str, args: &[&str], what: &str) -> Option<Output> {
    match Command::new(program).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            skip(what);
            None
        }
        Err(e) => panic!("running {program}: {e}"),
    }
}

fn stdout_of(out: &Output, program: &str) -> String {
    assert!(
        out.status.success(),
        "{program} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The test venv's Python with `module` importable, or None after a skip note.
fn python_with(module: &str) -> Option<PathBuf> {
    let python = common::venv_python(module);
    if python.is_none() {
        skip(&format!(
            "the test venv's Python with {module} (scripts/test installs it)"
        ));
    }
    python
}

fn ffprobe_json(path: &Path, what: &[&str]) -> Option<Value> {
    let mut args = vec!["-v", "error", "-print_format", "json"];
    args.extend_from_slice(what);
    args.push(path.to_str().unwrap());
    let out = run_tool("ffprobe", &args, "ffprobe")?;
    Some(serde_json::from_str(&stdout_of(&out, "ffprobe")).unwrap())
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        Value::Number(n) => n.as_f64().unwrap(),
        other => panic!("not a number: {other:?}"),
    }
}

fn tone(frames: usize, freq: f32, amplitude: f32) -> Vec<f32> {
    (0..frames)
        .map(|i| amplitude * (std::f32::consts::TAU * freq * i as f32 / RATE as f32).sin())
        .collect()
}

/// A tone program in three chapters, each a tone burst then silence, with
/// the frames worked out by hand: (start, length).
const TONE_CHAPTERS: [(u64, u64); 3] = [(0, 22_050), (22_050, 33_075), (55_125, 17_641)];
const TONE_TOTAL: u64 = 72_766;

fn tone_program() -> Vec<(String, Vec<f32>)> {
    let mut chapters = Vec::new();
    for (i, ((_, length), freq)) in TONE_CHAPTERS.iter().zip([440.0, 660.0, 880.0]).enumerate() {
        let sound = (*length as usize) * 2 / 3;
        let mut samples = tone(sound, freq, 0.5);
        samples.resize(*length as usize, 0.0);
        chapters.push((TITLES[i].to_string(), samples));
    }
    chapters
}

fn expected_tone_marks() -> Vec<ChapterMark> {
    TITLES
        .iter()
        .zip(TONE_CHAPTERS)
        .map(|(title, (start_frame, length_frames))| ChapterMark {
            title: title.to_string(),
            start_frame,
            length_frames,
        })
        .collect()
}

fn write_wav(path: &Path, format: SampleFormat, rf64_above: Option<u64>) -> Vec<ChapterMark> {
    let mut w = ProgramWriter::create_with(path, RATE, format).unwrap();
    if let Some(limit) = rf64_above {
        w.force_rf64_above(limit);
    }
    for (title, samples) in tone_program() {
        w.start_chapter(&title);
        // Small blocks, as the stitcher pushes per sentence.
        for block in samples.chunks(1000) {
            w.push_samples(block).unwrap();
        }
    }
    assert_eq!(w.position(), TONE_TOTAL);
    let marks = w.finish().unwrap();
    assert_eq!(marks, expected_tone_marks());
    marks
}

fn assert_within(got: f64, want: f64, tolerance: f64, what: &str) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, want {want} (±{tolerance})"
    );
}

fn check_ffprobe_chapters(json: &Value, marks: &[ChapterMark], tolerance: f64) {
    let chapters = json["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), marks.len(), "{json}");
    let rate = f64::from(RATE);
    for (ch, mark) in chapters.iter().zip(marks) {
        assert_eq!(
            ch["tags"]["title"].as_str(),
            Some(mark.title.as_str()),
            "{ch}"
        );
        let start = mark.start_frame as f64 / rate;
        let end = (mark.start_frame + mark.length_frames) as f64 / rate;
        assert_within(num(&ch["start_time"]), start, tolerance, &mark.title);
        assert_within(num(&ch["end_time"]), end, tolerance, &mark.title);
    }
}

#[test]
fn ffprobe_reads_24_bit_and_float_wav_with_chapters() {
    for (format, codec, bits) in [
        (SampleFormat::Int24, "pcm_s24le", 24),
        (SampleFormat::Float32, "pcm_f32le", 32),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("program.wav");
        let marks = write_wav(&path, format, None);
        let Some(json) = ffprobe_json(&path, &["-show_streams", "-show_chapters"]) else {
            return;
        };
        let stream = &json["streams"][0];
        assert_eq!(stream["codec_name"].as_str(), Some(codec), "{json}");
        assert_eq!(num(&stream["sample_rate"]), f64::from(RATE));
        assert_eq!(stream["channels"].as_u64(), Some(1));
        assert_eq!(num(&stream["bits_per_sample"]), f64::from(bits));
        // The stream's own duration comes from the data size.
        assert_within(
            num(&stream["duration"]),
            TONE_TOTAL as f64 / f64::from(RATE),
            0.001,
            codec,
        );
        check_ffprobe_chapters(&json, &marks, 0.001);
    }
}

const WAVINFO_SCRIPT: &str = r#"
import json, sys
from wavinfo import WavInfoReader
r = WavInfoReader(sys.argv[1], info_encoding="utf-8")
c = r.cues
print(json.dumps({
    "format": r.fmt.audio_format,
    "sample_rate": r.fmt.sample_rate,
    "channels": r.fmt.channel_count,
    "bits": r.fmt.bits_per_sample,
    "frames": r.data.frame_count,
    "cues": [[e.name, e.sample_offset] for e in c.cues],
    "labels": [[l.name, l.text] for l in c.labels],
    "ranges": [[x.name, x.length] for x in c.ranges],
}))
"#;

#[test]
fn wavinfo_reads_24_bit_and_float_wav_with_chapters() {
    let Some(python) = python_with("wavinfo") else {
        return;
    };
    for (format, tag, bits) in [
        (SampleFormat::Int24, 0xFFFE, 24),
        (SampleFormat::Float32, 3, 32),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("program.wav");
        let marks = write_wav(&path, format, None);
        let out = Command::new(&python)
            .args(["-c", WAVINFO_SCRIPT, path.to_str().unwrap()])
            .output()
            .unwrap();
        let json: Value = serde_json::from_str(&stdout_of(&out, "python3 wavinfo")).unwrap();
        assert_eq!(json["format"].as_u64(), Some(tag), "{json}");
        assert_eq!(json["sample_rate"].as_u64(), Some(u64::from(RATE)));
        assert_eq!(json["channels"].as_u64(), Some(1));
        assert_eq!(json["bits"].as_u64(), Some(bits));
        assert_eq!(json["frames"].as_u64(), Some(TONE_TOTAL));
        for (i, mark) in marks.iter().enumerate() {
            let id = i as u64 + 1;
            assert_eq!(json["cues"][i], serde_json::json!([id, mark.start_frame]));
            assert_eq!(json["labels"][i], serde_json::json!([id, mark.title]));
            assert_eq!(
                json["ranges"][i],
                serde_json::json!([id, mark.length_frames])
            );
        }
        // And our own reader agrees.
        let summary = read_wav_summary(&path).unwrap();
        assert_eq!(summary.bits_per_sample, bits as u16);
        assert_eq!(summary.frames, TONE_TOTAL);
        assert_eq!(summary.chapters, marks);
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Walks an RF64 file as EBU Tech 3306 says to, substituting ds64's sizes
/// for the 0xFFFFFFFF placeholders: returns (id, body offset, size) per chunk.
fn rf64_chunks(bytes: &[u8]) -> Vec<([u8; 4], usize, u64)> {
    assert_eq!(&bytes[0..4], b"RF64");
    assert_eq!(le32(bytes, 4), u32::MAX, "32-bit RIFF size is -1");
    assert_eq!(&bytes[8..12], b"WAVE");
    assert_eq!(&bytes[12..16], b"ds64", "ds64 must be the first chunk");
    let riff_size = le64(bytes, 20);
    let data_size = le64(bytes, 28);
    assert_eq!(riff_size, bytes.len() as u64 - 8, "ds64 RIFF size");
    let mut chunks = Vec::new();
    let mut pos = 12;
    while pos < bytes.len() {
        let id: [u8; 4] = bytes[pos..pos + 4].try_into().unwrap();
        let mut size = u64::from(le32(bytes, pos + 4));
        if &id == b"data" {
            assert_eq!(size, u64::from(u32::MAX), "32-bit data size is -1");
            size = data_size;
        }
        chunks.push((id, pos + 8, size));
        pos += 8 + size as usize + (size % 2) as usize;
    }
    assert_eq!(pos, bytes.len(), "chunks tile the file");
    chunks
}

#[test]
fn rf64_layout_parses_back_and_ffprobe_reads_it() {
    for format in [
        SampleFormat::Int16,
        SampleFormat::Int24,
        SampleFormat::Float32,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rf64.wav");
        // Any real size passes a 1 KiB threshold, so the file is finished as RF64.
        let marks = write_wav(&path, format, Some(1024));
        let bytes = std::fs::read(&path).unwrap();
        let chunks = rf64_chunks(&bytes);
        let ids: Vec<&[u8; 4]> = chunks.iter().map(|c| &c.0).collect();
        let expected: Vec<&[u8; 4]> = match format {
            SampleFormat::Float32 => vec![b"ds64", b"fmt ", b"fact", b"data", b"cue ", b"LIST"],
            _ => vec![b"ds64", b"fmt ", b"data", b"cue ", b"LIST"],
        };
        assert_eq!(ids, expected, "{format:?}");
        let bps = format.bytes_per_sample();
        assert_eq!(le64(&bytes, 36), TONE_TOTAL, "ds64 sample count");
        let data = chunks.iter().find(|c| &c.0 == b"data").unwrap();
        assert_eq!(data.2, TONE_TOTAL * bps);
        let cue = chunks.iter().find(|c| &c.0 == b"cue ").unwrap();
        assert_eq!(le32(&bytes, cue.1), 3);
        for (i, mark) in marks.iter().enumerate() {
            // dwSampleOffset, the last field of each 24-byte cue point.
            assert_eq!(
                u64::from(le32(&bytes, cue.1 + 4 + i * 24 + 20)),
                mark.start_frame
            );
        }
        // The 16-bit file was rewritten with the ds64 inserted: nothing else is left.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);

        let Some(json) = ffprobe_json(&path, &["-show_streams", "-show_format", "-show_chapters"])
        else {
            return;
        };
        let stream = &json["streams"][0];
        let codec = ["pcm_s16le", "pcm_s24le", "pcm_f32le"][bps as usize - 2];
        assert_eq!(stream["codec_name"].as_str(), Some(codec), "{json}");
        let seconds = TONE_TOTAL as f64 / f64::from(RATE);
        assert_within(num(&stream["duration"]), seconds, 0.001, "stream duration");
        assert_within(
            num(&json["format"]["duration"]),
            seconds,
            0.001,
            "format duration",
        );
        check_ffprobe_chapters(&json, &marks, 0.001);
    }
}

/// Speech from espeak-ng at 22050 Hz, decoded by aloud's own decoder.
fn espeak(text: &str) -> Option<Vec<f32>> {
    let out = run_tool("espeak-ng", &["--stdout", text], "espeak-ng")?;
    assert!(out.status.success(), "espeak-ng failed");
    let clip = aloud::audio::decode(&out.stdout, "espeak-ng").unwrap();
    assert_eq!(
        clip.sample_rate, RATE,
        "espeak-ng's voices speak at 22050 Hz"
    );
    Some(clip.samples)
}

fn mp3_options() -> Mp3Options {
    Mp3Options {
        title: "A narrated “article” — ünïcode".into(),
        artist: Some("aloud".into()),
        album: Some("Tests".into()),
        comment: Some("Made by the output format tests".into()),
        ..Mp3Options::default()
    }
}

/// Encodes chapters of samples to MP3 and, for the chapter marks, to WAV as
/// the stitcher would; returns the marks and the total frames.
fn write_mp3(path: &Path, chapters: &[(String, Vec<f32>)]) -> (Vec<ChapterMark>, u64) {
    let wav_path = path.with_extension("wav");
    let mut wav = ProgramWriter::create(&wav_path, RATE).unwrap();
    let mut mp3 = Mp3Writer::create(path, RATE, &mp3_options()).unwrap();
    assert_eq!(mp3.sample_rate(), RATE);
    for (title, samples) in chapters {
        wav.start_chapter(title);
        for block in samples.chunks(4000) {
            wav.push_samples(block).unwrap();
            mp3.push_samples(block).unwrap();
        }
    }
    let total = wav.position();
    assert_eq!(mp3.position(), total);
    let marks = wav.finish().unwrap();
    mp3.finish(&marks, total).unwrap();
    (marks, total)
}

fn speech_program() -> Option<Vec<(String, Vec<f32>)>> {
    let texts = [
        "Welcome to the first chapter of this narrated article.",
        "The second chapter has a quoted title and a little more to say.",
        "Finally, the third chapter ends the program.",
    ];
    let mut chapters = Vec::new();
    for (title, text) in TITLES.iter().zip(texts) {
        let mut samples = espeak(text)?;
        // A paragraph pause, as the stitcher would leave.
        samples.extend(std::iter::repeat_n(0.0, RATE as usize / 2));
        chapters.push((title.to_string(), samples));
    }
    Some(chapters)
}

#[test]
fn ffprobe_reads_mp3_chapters_title_and_exact_duration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("program.mp3");
    let Some(chapters) = speech_program() else {
        return;
    };
    let (marks, total) = write_mp3(&path, &chapters);
    let Some(json) = ffprobe_json(&path, &["-show_chapters", "-show_format", "-show_streams"])
    else {
        return;
    };
    let format = &json["format"];
    assert_eq!(format["format_name"].as_str(), Some("mp3"), "{json}");
    assert_eq!(
        format["tags"]["title"].as_str(),
        Some(mp3_options().title.as_str())
    );
    assert_eq!(format["tags"]["artist"].as_str(), Some("aloud"));
    assert_eq!(format["tags"]["album"].as_str(), Some("Tests"));
    let stream = &json["streams"][0];
    assert_eq!(stream["codec_name"].as_str(), Some("mp3"));
    assert_eq!(num(&stream["sample_rate"]), f64::from(RATE));
    assert_eq!(stream["channels"].as_u64(), Some(1));
    assert_eq!(num(&stream["bit_rate"]), 64_000.0);

    // ffprobe (5.1) reports a whole number of MP3 frames as the duration, and
    // as start_time the samples the LAME Info frame says to skip: LAME 3.100's
    // encoder delay of 576 plus the 529 of the MP3 decoder. Without the Info
    // frame start_time would be 0 and the duration a bit-rate estimate.
    let rate = f64::from(RATE);
    let seconds = total as f64 / rate;
    let duration = num(&format["duration"]);
    let start = num(&format["start_time"]);
    let _ = writeln!(
        std::io::stderr(),
        "mp3: input {seconds:.4} s; ffprobe duration {duration:.4} s, start_time {start:.6} s"
    );
    assert_within(start, (576.0 + 529.0) / rate, 0.5 / rate, "start_time");
    assert_within(
        duration - start,
        seconds,
        0.050,
        "duration less the skipped start",
    );

    // The CHAP times are whole milliseconds: ±0.5 ms of rounding, nothing
    // more, is allowed between the marks and what ffprobe reads.
    check_ffprobe_chapters(&json, &marks, 0.0005 + 1e-9);
}

#[test]
fn decoded_mp3_lines_up_with_its_chapters_and_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tones.mp3");
    let (marks, total) = write_mp3(&path, &tone_program());
    assert_eq!(marks, expected_tone_marks());
    // ffmpeg applies the Info frame's encoder delay and padding when it decodes.
    let Some(out) = run_tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            path.to_str().unwrap(),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-",
        ],
        "ffmpeg",
    ) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoded: Vec<f32> = out
        .stdout
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    let _ = writeln!(
        std::io::stderr(),
        "mp3: {total} frames in, {} decoded by ffmpeg",
        decoded.len()
    );
    // Gapless trimming should give back the input length; an MP3 frame of
    // slack allows for a decoder that rounds to whole frames.
    assert!(
        (decoded.len() as i64 - total as i64).unsigned_abs() <= MP3_FRAME,
        "{} decoded vs {total}",
        decoded.len()
    );
    // Each chapter starts with a tone after the previous one's silence: the
    // first loud sample must sit at the chapter start, within one MP3 frame
    // (the codec's time resolution; pre-echo can spread an onset that far).
    for mark in &marks {
        let from = mark.start_frame.saturating_sub(RATE as u64 / 4) as usize;
        let onset = decoded[from..]
            .iter()
            .position(|s| s.abs() > 0.1)
            .map(|i| (from + i) as i64)
            .unwrap();
        let error = (onset - mark.start_frame as i64).unsigned_abs();
        let _ = writeln!(
            std::io::stderr(),
            "mp3: chapter {:?} starts at {}, first loud sample at {onset}",
            mark.title,
            mark.start_frame
        );
        assert!(
            error <= MP3_FRAME,
            "{}: onset {onset} vs chapter start {}",
            mark.title,
            mark.start_frame
        );
    }
}

const MUTAGEN_SCRIPT: &str = r#"
import json, sys
from mutagen.mp3 import MP3
f = MP3(sys.argv[1])
t = f.tags
def text(frame):
    return [str(x) for x in frame.text]
tocs = t.getall("CTOC")
chaps = t.getall("CHAP")
print(json.dumps({
    "version": list(t.version),
    "title": text(t["TIT2"]),
    "artist": text(t["TPE1"]),
    "album": text(t["TALB"]),
    "comments": [c.text[0] for c in t.getall("COMM")],
    "tocs": [{"id": c.element_id, "flags": int(c.flags), "children": list(c.child_element_ids)} for c in tocs],
    "chapters": [{"id": c.element_id, "start": c.start_time, "end": c.end_time,
                  "title": text(c.sub_frames["TIT2"])} for c in chaps],
    "length": f.info.length,
    "sample_rate": f.info.sample_rate,
    "encoder_info": f.info.encoder_info,
    "bitrate_mode": str(f.info.bitrate_mode),
}))
"#;

#[test]
fn mutagen_reads_the_id3_chapters_and_tags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("program.mp3");
    let (marks, total) = write_mp3(&path, &tone_program());
    let Some(python) = python_with("mutagen") else {
        return;
    };
    let out = Command::new(&python)
        .args(["-c", MUTAGEN_SCRIPT, path.to_str().unwrap()])
        .output()
        .unwrap();
    let json: Value = serde_json::from_str(&stdout_of(&out, "python3 mutagen")).unwrap();
    let _ = writeln!(std::io::stderr(), "mutagen: {json}");
    assert_eq!(json["version"], serde_json::json!([2, 3, 0]));
    let options = mp3_options();
    assert_eq!(json["title"], serde_json::json!([options.title]));
    assert_eq!(json["artist"], serde_json::json!(["aloud"]));
    assert_eq!(json["album"], serde_json::json!(["Tests"]));
    assert_eq!(json["comments"], serde_json::json!([options.comment]));

    let tocs = json["tocs"].as_array().unwrap();
    assert_eq!(tocs.len(), 1, "{json}");
    // CTOCFlags: TOP_LEVEL = 2, ORDERED = 1.
    assert_eq!(tocs[0]["flags"].as_u64(), Some(3));
    let children = tocs[0]["children"].as_array().unwrap();
    let chapters = json["chapters"].as_array().unwrap();
    assert_eq!(children.len(), marks.len());
    assert_eq!(chapters.len(), marks.len());
    let ms = |frames: u64| (frames as f64 * 1000.0 / f64::from(RATE)).round() as u64;
    for ((child, mark), ch) in children.iter().zip(&marks).zip(chapters) {
        // The table of contents names the chapters in order.
        assert_eq!(child, &ch["id"]);
        assert_eq!(ch["title"], serde_json::json!([mark.title]));
        assert_eq!(ch["start"].as_u64(), Some(ms(mark.start_frame)));
        assert_eq!(
            ch["end"].as_u64(),
            Some(ms(mark.start_frame + mark.length_frames))
        );
    }
    assert_eq!(json["sample_rate"].as_u64(), Some(u64::from(RATE)));
    assert_within(
        json["length"].as_f64().unwrap(),
        total as f64 / f64::from(RATE),
        0.050,
        "mutagen length",
    );
    assert!(
        json["encoder_info"].as_str().unwrap().starts_with("LAME"),
        "the LAME Info frame is found: {json}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_mp3_write_leaves_nothing() {
    // sysfs refuses new files even to root, unlike a chmod-ed directory.
    let out = PathBuf::from("/sys/aloud-unwritable-test.mp3");
    match Mp3Writer::create(&out, RATE, &Mp3Options::default()) {
        Err(aloud::error::Error::Output { path, message }) => {
            assert_eq!(path, out);
            assert!(message.contains("writable"), "{message}");
        }
        Err(other) => panic!("expected Error::Output, got {other:?}"),
        Ok(_) => panic!("expected Error::Output, got a writer"),
    }
    assert!(!out.exists());
}

#[test]
fn an_unfinished_mp3_leaves_nothing_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keep.mp3");
    std::fs::write(&out, b"previous").unwrap();
    let mut w = Mp3Writer::create(&out, RATE, &Mp3Options::default()).unwrap();
    w.push_samples(&tone(22_050, 440.0, 0.5)).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "a temp file"
    );
    drop(w);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["keep.mp3".to_string()]);
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");

    // A bad finish (chapters past the end) leaves the old file as well.
    let mut w = Mp3Writer::create(&out, RATE, &Mp3Options::default()).unwrap();
    w.push_samples(&tone(1000, 440.0, 0.5)).unwrap();
    let late = ChapterMark {
        title: "late".into(),
        start_frame: 900,
        length_frames: 200,
    };
    assert!(w.finish(&[late], 1000).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
}

#[test]
fn mp3_is_constant_bit_rate_at_the_chosen_rate() {
    // A minute pushed in sentence-sized blocks comes out at 64 kbit/s.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("long.mp3");
    let mut w = Mp3Writer::create(&out, RATE, &Mp3Options::default()).unwrap();
    let block = tone(RATE as usize * 3, 300.0, 0.3);
    for _ in 0..20 {
        w.push_samples(&block).unwrap();
    }
    let frames = w.position();
    w.finish(&[], frames).unwrap();
    let bytes = std::fs::metadata(&out).unwrap().len();
    let seconds = frames as f64 / f64::from(RATE);
    assert!((seconds - 60.0).abs() < 1e-9);
    let expected = 64_000.0 / 8.0 * seconds;
    assert!(
        (bytes as f64 - expected).abs() < expected * 0.01,
        "{bytes} bytes for {seconds} s"
    );
}

/// libsndfile's view of a file: format word, frames and cue points, names as hex.
const SNDFILE_PROGRAM: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sndfile.h>

int main(int argc, char **argv) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    if (argc != 2) return 2;
    SNDFILE *f = sf_open(argv[1], SFM_READ, &info);
    if (!f) { fprintf(stderr, "sf_open: %s\n", sf_strerror(NULL)); return 1; }
    printf("format %x\nrate %d\nchannels %d\nframes %lld\n", info.format, info.samplerate,
           info.channels, (long long)info.frames);
    uint32_t count = 0;
    if (sf_command(f, SFC_GET_CUE_COUNT, &count, sizeof count) != SF_TRUE) count = 0;
    printf("count %u\n", count);
    SF_CUES *cues = calloc(1, sizeof *cues);
    if (!cues) return 1;
    if (count > 0 && sf_command(f, SFC_GET_CUE, cues, sizeof *cues) == SF_TRUE) {
        for (uint32_t i = 0; i < cues->cue_count && i < 100; i++) {
            SF_CUE_POINT *c = &cues->cue_points[i];
            printf("cue %u ", c->sample_offset);
            for (size_t j = 0; j < sizeof c->name && c->name[j]; j++)
                printf("%02x", (unsigned char)c->name[j]);
            printf("\n");
        }
    }
    free(cues);
    sf_close(f);
    return 0;
}
"#;

/// Compiles the libsndfile probe, or returns None after a skip note.
fn sndfile_probe(dir: &Path) -> Option<PathBuf> {
    let source = dir.join("probe.c");
    let binary = dir.join("probe");
    std::fs::write(&source, SNDFILE_PROGRAM).unwrap();
    let build = run_tool(
        "cc",
        &[
            "-o",
            binary.to_str().unwrap(),
            source.to_str().unwrap(),
            "-lsndfile",
        ],
        "cc (a C compiler)",
    )?;
    if !build.status.success() {
        let stderr = String::from_utf8_lossy(&build.stderr);
        if stderr.contains("sndfile.h") || stderr.contains("-lsndfile") {
            skip("libsndfile1-dev");
            return None;
        }
        panic!("compiling the libsndfile probe failed: {stderr}");
    }
    Some(binary)
}

#[test]
fn libsndfile_reads_24_bit_float_and_rf64() {
    let dir = tempfile::tempdir().unwrap();
    let Some(probe) = sndfile_probe(dir.path()) else {
        return;
    };
    // SF_FORMAT_WAV / SF_FORMAT_WAVEX (WAVE_FORMAT_EXTENSIBLE) / SF_FORMAT_RF64 and the
    // PCM_16 / PCM_24 / FLOAT subtypes of sndfile.h.
    let cases = [
        (SampleFormat::Int24, None, 0x13_0000 | 0x3),
        (SampleFormat::Float32, None, 0x01_0000 | 0x6),
        (SampleFormat::Int16, Some(1024), 0x22_0000 | 0x2),
        (SampleFormat::Int24, Some(1024), 0x22_0000 | 0x3),
        (SampleFormat::Float32, Some(1024), 0x22_0000 | 0x6),
    ];
    for (format, rf64, sf_format) in cases {
        let path = dir
            .path()
            .join(format!("{format:?}-{}.wav", rf64.is_some()));
        let marks = write_wav(&path, format, rf64);
        let out = Command::new(&probe).arg(&path).output().unwrap();
        let stdout = stdout_of(&out, "libsndfile probe");
        let _ = writeln!(
            std::io::stderr(),
            "libsndfile {format:?} rf64={}: {stdout:?}",
            rf64.is_some()
        );
        let value = |key: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key} ")))
                .unwrap_or_else(|| panic!("no {key} in {stdout:?}"))
                .to_string()
        };
        assert_eq!(
            u32::from_str_radix(&value("format"), 16).unwrap(),
            sf_format,
            "{format:?} rf64={rf64:?}"
        );
        assert_eq!(value("rate"), RATE.to_string());
        assert_eq!(value("channels"), "1");
        assert_eq!(value("frames"), TONE_TOTAL.to_string());
        let cues: Vec<(u64, String)> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("cue "))
            .map(|l| {
                let (offset, name) = l.split_once(' ').unwrap_or((l, ""));
                let bytes: Vec<u8> = (0..name.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&name[i..i + 2], 16).unwrap())
                    .collect();
                (offset.parse().unwrap(), String::from_utf8(bytes).unwrap())
            })
            .collect();
        if rf64.is_some() {
            // libsndfile's RF64 reader (rf64.c) has no cue chunk support at
            // all (its issue 614), so only the audio is checked there; ffprobe
            // reads the chapters of the same files.
            continue;
        }
        let want: Vec<(u64, String)> = marks
            .iter()
            .map(|m| (m.start_frame, m.title.clone()))
            .collect();
        assert_eq!(cues, want, "{format:?}");
    }
}
