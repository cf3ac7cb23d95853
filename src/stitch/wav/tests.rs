//! Tests of the WAV program writer: headers, chapter chunks, sample formats, RF64 and atomic finishing.

use super::*;
use crate::stitch::markers::read_wav_summary;

fn tone(frames: usize, freq: f32, rate: u32) -> Vec<f32> {
    (0..frames)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
        .collect()
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn read_samples<S: hound::Sample>(path: &Path) -> Vec<S> {
    hound::WavReader::open(path)
        .unwrap()
        .samples::<S>()
        .map(|s| s.unwrap())
        .collect()
}

/// Writes `input` as one chapterless 8 kHz program in `format` and reads the stored samples
/// back through hound.
fn write_and_read_back<S: hound::Sample>(
    out: &Path,
    format: SampleFormat,
    input: &[f32],
) -> Vec<S> {
    let mut w = ProgramWriter::create_with(out, 8000, format).unwrap();
    w.push_samples(input).unwrap();
    w.finish().unwrap();
    read_samples(out)
}

/// An 8 kHz writer for `name` in a fresh temporary directory, which lasts as long as the
/// returned guard.
fn writer_in_temp_dir(name: &str) -> (tempfile::TempDir, PathBuf, ProgramWriter) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(name);
    let w = ProgramWriter::create(&out, 8000).unwrap();
    (dir, out, w)
}

/// Like `writer_in_temp_dir`, but `previous` is already at the output path when the writer is
/// created.
fn writer_over_existing(
    name: &str,
    previous: &[u8],
) -> (tempfile::TempDir, PathBuf, ProgramWriter) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(name);
    std::fs::write(&out, previous).unwrap();
    let w = ProgramWriter::create(&out, 8000).unwrap();
    (dir, out, w)
}

/// Top-level chunks as (id, offset of body, declared size).
fn top_chunks(bytes: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut chunks = Vec::new();
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id: [u8; 4] = bytes[pos..pos + 4].try_into().unwrap();
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap()) as usize;
        chunks.push((id, pos + 8, size));
        pos += 8 + size + size % 2;
    }
    assert_eq!(pos, bytes.len(), "chunks must tile the file exactly");
    chunks
}

fn mark(title: &str, start_frame: u64, length_frames: u64) -> ChapterMark {
    ChapterMark {
        title: title.into(),
        start_frame,
        length_frames,
    }
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

#[test]
fn round_trip_chapters_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("program.wav");
    let mut w = ProgramWriter::create(&out, 16_000).unwrap();
    assert_eq!(w.sample_rate(), 16_000);
    w.start_chapter("Intro");
    let a = tone(1600, 440.0, 16_000);
    w.push_samples(&a).unwrap();
    w.push_silence(400).unwrap();
    assert_eq!(w.position(), 2000);
    w.start_chapter("Odd"); // odd byte length exercises labl padding
    w.push_samples(&tone(1001, 660.0, 16_000)).unwrap();
    w.start_chapter("Café 🎧 \"q\"");
    w.push_samples(&tone(999, 880.0, 16_000)).unwrap();
    let marks = w.finish().unwrap();

    let expected = vec![
        mark("Intro", 0, 2000),
        mark("Odd", 2000, 1001),
        mark("Café 🎧 \"q\"", 3001, 999),
    ];
    assert_eq!(marks, expected);

    let summary = read_wav_summary(&out).unwrap();
    assert_eq!(summary.sample_rate, 16_000);
    assert_eq!(summary.channels, 1);
    assert_eq!(summary.bits_per_sample, 16);
    assert_eq!(summary.frames, 4000);
    assert_eq!(summary.chapters, expected);

    let samples = read_samples::<i16>(&out);
    assert_eq!(samples.len(), 4000);
    for (got, want) in samples.iter().zip(&a) {
        assert_eq!(*got, (want * 32767.0).round() as i16);
    }
    assert!(samples[1600..2000].iter().all(|&s| s == 0));
    assert_eq!(dir_entries(dir.path()), vec!["program.wav".to_string()]);
}

#[test]
fn marker_chunk_layout_is_what_ffmpeg_and_libsndfile_expect() {
    let (_dir, out, mut w) = writer_in_temp_dir("layout.wav");
    w.start_chapter("A");
    w.push_silence(10).unwrap();
    w.start_chapter("Bee");
    w.push_silence(5).unwrap();
    w.finish().unwrap();

    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(le32(&bytes, 4) as usize, bytes.len() - 8);
    let chunks = top_chunks(&bytes);
    let ids: Vec<&[u8; 4]> = chunks.iter().map(|c| &c.0).collect();
    assert_eq!(ids, vec![b"fmt ", b"data", b"cue ", b"LIST"]);

    let (_, cue_at, cue_size) = chunks[2];
    assert_eq!(cue_size, 4 + 2 * 24);
    assert_eq!(le32(&bytes, cue_at), 2);
    for (i, start) in [0u32, 10].into_iter().enumerate() {
        let p = cue_at + 4 + i * 24;
        assert_eq!(le32(&bytes, p), i as u32 + 1, "cue ids are 1-based");
        assert_eq!(le32(&bytes, p + 4), start, "dwPosition");
        assert_eq!(&bytes[p + 8..p + 12], b"data");
        assert_eq!(le32(&bytes, p + 12), 0);
        assert_eq!(le32(&bytes, p + 16), 0);
        assert_eq!(le32(&bytes, p + 20), start, "dwSampleOffset");
    }

    let (_, list_at, list_size) = chunks[3];
    let list = &bytes[list_at..list_at + list_size];
    let mut expected = Vec::new();
    expected.extend_from_slice(b"adtl");
    expected.extend_from_slice(b"labl\x06\0\0\0\x01\0\0\0A\0");
    expected.extend_from_slice(b"labl\x08\0\0\0\x02\0\0\0Bee\0");
    expected.extend_from_slice(b"ltxt\x14\0\0\0\x01\0\0\0\x0a\0\0\0rgn \0\0\0\0\0\0\0\0");
    expected.extend_from_slice(b"ltxt\x14\0\0\0\x02\0\0\0\x05\0\0\0rgn \0\0\0\0\0\0\0\0");
    assert_eq!(list, &expected[..]);
}

#[test]
fn odd_title_gets_pad_byte_outside_its_size() {
    let (_dir, out, mut w) = writer_in_temp_dir("pad.wav");
    w.start_chapter("ab"); // 4 + 2 + 1 = 7 bytes: needs a pad
    w.push_silence(3).unwrap();
    w.finish().unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let chunks = top_chunks(&bytes);
    let (_, list_at, _) = chunks[3];
    assert_eq!(&bytes[list_at + 4..list_at + 8], b"labl");
    assert_eq!(le32(&bytes, list_at + 8), 7);
    assert_eq!(&bytes[list_at + 12..list_at + 20], b"\x01\0\0\0ab\0\0");
    assert_eq!(&bytes[list_at + 20..list_at + 24], b"ltxt");
}

#[test]
fn no_chapters_writes_plain_wav() {
    let (_dir, out, mut w) = writer_in_temp_dir("plain.wav");
    w.push_silence(7).unwrap();
    assert_eq!(w.finish().unwrap(), vec![]);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(bytes.len(), 44 + 14);
    assert_eq!(le32(&bytes, 4) as usize, bytes.len() - 8);
    let summary = read_wav_summary(&out).unwrap();
    assert_eq!(summary.frames, 7);
    assert!(summary.chapters.is_empty());
}

#[test]
fn empty_and_back_to_back_chapters() {
    let (_dir, out, mut w) = writer_in_temp_dir("edge.wav");
    w.start_chapter("first");
    w.start_chapter("second\0with nul");
    w.push_silence(4).unwrap();
    w.start_chapter("tail");
    let marks = w.finish().unwrap();
    let expected = vec![
        mark("first", 0, 0),
        mark("secondwith nul", 0, 4),
        mark("tail", 4, 0),
    ];
    assert_eq!(marks, expected);
    assert_eq!(read_wav_summary(&out).unwrap().chapters, expected);
}

#[test]
fn clipping_saturates_instead_of_wrapping() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clip.wav");
    let input = [
        2.0,
        -2.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        1.0001,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        0.0,
    ];
    assert_eq!(
        write_and_read_back::<i16>(&out, SampleFormat::Int16, &input),
        vec![
            32767, -32767, 32767, -32767, 16384, -16384, 32767, 32767, -32767, 0, 0
        ]
    );
}

#[test]
fn drop_without_finish_removes_temp_and_keeps_existing_output() {
    let (dir, out, mut w) = writer_over_existing("keep.wav", b"previous program");
    w.start_chapter("x");
    w.push_samples(&tone(5000, 440.0, 8000)).unwrap();
    let names = dir_entries(dir.path());
    assert_eq!(names.len(), 2, "a temporary file should exist: {names:?}");
    assert!(
        names[0].starts_with(".aloud-keep.wav.") && names[0].ends_with(".tmp"),
        "{names:?}"
    );
    drop(w);
    assert_eq!(dir_entries(dir.path()), vec!["keep.wav".to_string()]);
    assert_eq!(std::fs::read(&out).unwrap(), b"previous program");
}

#[test]
fn drop_without_finish_creates_nothing() {
    let (dir, _out, mut w) = writer_in_temp_dir("never.wav");
    w.push_silence(100).unwrap();
    drop(w);
    assert!(dir_entries(dir.path()).is_empty());
}

#[test]
fn finish_replaces_existing_output() {
    let (dir, out, mut w) = writer_over_existing("replace.wav", b"old");
    w.push_silence(2).unwrap();
    w.finish().unwrap();
    assert_eq!(read_wav_summary(&out).unwrap().frames, 2);
    assert_eq!(dir_entries(dir.path()), vec!["replace.wav".to_string()]);
}

#[cfg(unix)]
#[test]
fn finished_file_is_not_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, out, w) = writer_in_temp_dir("mode.wav");
    w.finish().unwrap();
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    // Any sane umask leaves the owner read/write; tempfile's default 0600
    // would have hidden the program from the group as well.
    assert_eq!(mode & 0o600, 0o600);
    assert_ne!(mode & 0o077, 0, "mode {mode:o} looks like tempfile's 0600");
}

fn expect_output_error(result: Result<ProgramWriter>, path: &Path, needle: &str) {
    match result {
        Err(Error::Output { path: p, message }) => {
            assert_eq!(p, path);
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
        Err(other) => panic!("expected Error::Output, got {other:?}"),
        Ok(_) => panic!("expected Error::Output, got a writer"),
    }
}

#[test]
fn missing_directory_is_an_output_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no/such/dir/out.wav");
    expect_output_error(ProgramWriter::create(&out, 8000), &out, "does not exist");
    let err = ProgramWriter::create(&out, 8000).err().unwrap().to_string();
    assert!(err.contains(&out.display().to_string()), "{err}");
}

#[test]
fn parent_that_is_a_file_is_an_output_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let out = file.join("out.wav");
    expect_output_error(
        ProgramWriter::create(&out, 8000),
        &out,
        "is not a directory",
    );
}

#[cfg(target_os = "linux")]
#[test]
fn unwritable_directory_is_an_output_error() {
    // sysfs refuses new files even to root, unlike a chmod-ed directory.
    let out = Path::new("/sys/aloud-unwritable-test.wav");
    expect_output_error(ProgramWriter::create(out, 8000), out, "writable");
    assert!(!out.exists());
}

#[test]
fn output_that_is_a_directory_is_an_output_error() {
    let dir = tempfile::tempdir().unwrap();
    expect_output_error(
        ProgramWriter::create(dir.path(), 8000),
        dir.path(),
        "directory",
    );
}

#[test]
fn zero_sample_rate_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("zero.wav");
    expect_output_error(ProgramWriter::create(&out, 0), &out, "sample rate");
    assert!(dir_entries(dir.path()).is_empty());
}

#[test]
fn sizes_past_64_bits_are_refused_before_writing() {
    let (_dir, out, mut w) = writer_in_temp_dir("big.wav");
    w.push_silence(10).unwrap();
    for frames in [u64::MAX / 2, u64::MAX] {
        match w.push_silence(frames) {
            Err(Error::Output { path, message }) => {
                assert_eq!(path, out);
                assert!(message.contains("16 EiB"), "{message}");
            }
            other => panic!("expected Error::Output, got {other:?}"),
        }
    }
    assert_eq!(w.position(), 10);
    let temp_len = std::fs::metadata(w.temp.path()).unwrap().len();
    assert!(temp_len < 1 << 20, "refused writes must not touch the file");
    w.push_silence(1).unwrap();
    assert_eq!(w.finish().unwrap(), vec![]);
    assert_eq!(read_wav_summary(&out).unwrap().frames, 11);
}

#[test]
fn a_cue_past_32_bits_fails_and_leaves_output_untouched() {
    let (dir, out, mut w) = writer_over_existing("edge.wav", b"previous");
    w.push_silence(100).unwrap();
    // Stands for 2^32 frames of audio without writing 8 GiB: the check
    // on the cue position runs before the file length is compared.
    w.frames = 1 << 32;
    w.start_chapter("too late");
    match w.finish() {
        Err(Error::Output { path, message }) => {
            assert_eq!(path, out);
            assert!(message.contains("32-bit cue point"), "{message}");
        }
        other => panic!("expected Error::Output, got {other:?}"),
    }
    assert_eq!(dir_entries(dir.path()), vec!["edge.wav".to_string()]);
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
}

#[test]
fn a_failed_write_poisons_the_writer_and_output_stays_untouched() {
    let (dir, out, mut w) = writer_over_existing("poison.wav", b"previous");
    w.push_silence(5).unwrap();
    // A read-only handle on the temporary file: the next flush fails as a
    // full disk would.
    w.out = BufWriter::with_capacity(16, File::open(w.temp.path()).unwrap());
    assert!(w.push_samples(&tone(1000, 440.0, 8000)).is_err());
    assert_eq!(w.position(), 5, "failed samples are not counted");
    let again = w.push_silence(1).unwrap_err().to_string();
    assert!(again.contains("earlier write failed"), "{again}");
    let finish = w.finish().unwrap_err().to_string();
    assert!(finish.contains("earlier write failed"), "{finish}");
    assert_eq!(dir_entries(dir.path()), vec!["poison.wav".to_string()]);
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
}

fn le64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// Writes 1001 frames (odd, for the 24-bit pad byte) in two chapters.
fn small_program(out: &Path, format: SampleFormat, riff_limit: Option<u64>) -> Vec<f32> {
    let mut w = ProgramWriter::create_with(out, 8000, format).unwrap();
    assert_eq!(w.sample_format(), format);
    if let Some(limit) = riff_limit {
        w.riff_limit = limit;
    }
    let samples = tone(1001, 440.0, 8000);
    w.start_chapter("One");
    w.push_samples(&samples[..600]).unwrap();
    w.start_chapter("Two");
    w.push_samples(&samples[600..]).unwrap();
    let marks = w.finish().unwrap();
    assert_eq!(marks.len(), 2);
    assert_eq!((marks[1].start_frame, marks[1].length_frames), (600, 401));
    samples
}

/// The bytes each format must store for `samples`, worked out independently of the writer.
fn expected_data(samples: &[f32], format: SampleFormat) -> Vec<u8> {
    let mut data = Vec::new();
    for &s in samples {
        match format {
            SampleFormat::Int16 => {
                data.extend_from_slice(&((s * 32767.0).round() as i16).to_le_bytes())
            }
            SampleFormat::Int24 => {
                data.extend_from_slice(&((s as f64 * 8388607.0).round() as i32).to_le_bytes()[..3])
            }
            SampleFormat::Float32 => data.extend_from_slice(&s.to_le_bytes()),
        }
    }
    data
}

#[test]
fn past_the_riff_limit_each_format_becomes_rf64() {
    for format in [
        SampleFormat::Int16,
        SampleFormat::Int24,
        SampleFormat::Float32,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rf64.wav");
        let samples = small_program(&out, format, Some(100));
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[0..4], b"RF64", "{format:?}");
        assert_eq!(le32(&bytes, 4), u32::MAX);
        assert_eq!(&bytes[8..12], b"WAVE");
        assert_eq!(&bytes[12..16], b"ds64", "ds64 replaces JUNK in place");
        assert_eq!(le32(&bytes, 16), 28);
        assert_eq!(le64(&bytes, 20), bytes.len() as u64 - 8, "ds64 RIFF size");
        let bps = format.bytes_per_sample();
        assert_eq!(le64(&bytes, 28), 1001 * bps, "ds64 data size");
        assert_eq!(le64(&bytes, 36), 1001, "ds64 sample count");
        assert_eq!(le32(&bytes, 44), 0, "ds64 table length");

        // Walk the rest with the 64-bit sizes substituted, as an RF64 reader does.
        let mut pos = 48;
        let mut ids = Vec::new();
        while pos < bytes.len() {
            let id: [u8; 4] = bytes[pos..pos + 4].try_into().unwrap();
            let mut size = le32(&bytes, pos + 4) as u64;
            if &id == b"data" {
                assert_eq!(size, u32::MAX as u64, "32-bit data size is -1");
                size = le64(&bytes, 28);
                let body = &bytes[pos + 8..pos + 8 + size as usize];
                assert_eq!(body, &expected_data(&samples, format)[..], "{format:?}");
            }
            if &id == b"fact" {
                assert_eq!(le32(&bytes, pos + 8), u32::MAX, "fact is -1 in RF64");
            }
            if &id == b"cue " {
                assert_eq!(le32(&bytes, pos + 8), 2);
                assert_eq!(le32(&bytes, pos + 8 + 24 + 24), 600, "second cue offset");
            }
            ids.push(id);
            pos += 8 + size as usize + (size % 2) as usize;
        }
        assert_eq!(pos, bytes.len(), "chunks tile the file");
        assert_eq!(dir_entries(dir.path()), vec!["rf64.wav".to_string()]);
        let want: Vec<&[u8; 4]> = match format {
            SampleFormat::Float32 => vec![b"fmt ", b"fact", b"data", b"cue ", b"LIST"],
            _ => vec![b"fmt ", b"data", b"cue ", b"LIST"],
        };
        assert_eq!(ids.iter().collect::<Vec<_>>(), want, "{format:?}");
    }
}

#[test]
fn the_rf64_switch_happens_exactly_past_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.wav");
    small_program(&plain, SampleFormat::Int24, None);
    let bytes = std::fs::read(&plain).unwrap();
    assert_eq!(&bytes[0..4], b"RIFF");
    let riff_size = bytes.len() as u64 - 8;
    assert_eq!(le32(&bytes, 4) as u64, riff_size);

    let at_limit = dir.path().join("at.wav");
    small_program(&at_limit, SampleFormat::Int24, Some(riff_size));
    assert_eq!(
        std::fs::read(&at_limit).unwrap(),
        bytes,
        "a size at the limit fits"
    );

    let past = dir.path().join("past.wav");
    small_program(&past, SampleFormat::Int24, Some(riff_size - 1));
    assert_eq!(&std::fs::read(&past).unwrap()[0..4], b"RF64");
}

#[test]
fn int24_and_float32_read_back_through_hound_and_our_reader() {
    for format in [SampleFormat::Int24, SampleFormat::Float32] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("f.wav");
        let samples = small_program(&out, format, None);
        let mut reader = hound::WavReader::open(&out).unwrap();
        let spec = reader.spec();
        assert_eq!(spec.channels, 1);
        assert_eq!(spec.sample_rate, 8000);
        assert_eq!(spec.bits_per_sample, format.bits_per_sample());
        match format {
            SampleFormat::Int24 => {
                assert_eq!(spec.sample_format, hound::SampleFormat::Int);
                let got: Vec<i32> = reader.samples::<i32>().map(|s| s.unwrap()).collect();
                let want: Vec<i32> = samples
                    .iter()
                    .map(|&s| (s as f64 * 8388607.0).round() as i32)
                    .collect();
                assert_eq!(got, want);
            }
            _ => {
                assert_eq!(spec.sample_format, hound::SampleFormat::Float);
                let got: Vec<f32> = reader.samples::<f32>().map(|s| s.unwrap()).collect();
                assert_eq!(got, samples);
            }
        }
        let summary = read_wav_summary(&out).unwrap();
        assert_eq!(summary.frames, 1001);
        assert_eq!(summary.bits_per_sample, format.bits_per_sample());
        let titles: Vec<&str> = summary.chapters.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["One", "Two"]);
        assert_eq!(summary.chapters[1].start_frame, 600);
    }
}

#[test]
fn int24_pads_odd_data_and_float_keeps_fact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("odd.wav");
    small_program(&out, SampleFormat::Int24, None);
    let bytes = std::fs::read(&out).unwrap();
    let chunks = top_chunks(&bytes);
    let ids: Vec<&[u8; 4]> = chunks.iter().map(|c| &c.0).collect();
    assert_eq!(ids, vec![b"JUNK", b"fmt ", b"data", b"cue ", b"LIST"]);
    let (_, fmt_at, fmt_size) = chunks[1];
    assert_eq!(fmt_size, 40);
    assert_eq!(&bytes[fmt_at..fmt_at + 2], &0xFFFEu16.to_le_bytes());
    assert_eq!(le32(&bytes, fmt_at + 8), 8000 * 3, "byte rate");
    assert_eq!(
        &bytes[fmt_at + 18..fmt_at + 20],
        &24u16.to_le_bytes(),
        "valid bits"
    );
    assert_eq!(le32(&bytes, fmt_at + 20), 4, "mono: front centre");
    assert_eq!(&bytes[fmt_at + 24..fmt_at + 40], &SUBTYPE_PCM);
    let (_, data_at, data_size) = chunks[2];
    assert_eq!(data_size, 3003);
    assert_eq!(bytes[data_at + data_size], 0, "pad byte after odd data");

    let float = dir.path().join("float.wav");
    small_program(&float, SampleFormat::Float32, None);
    let bytes = std::fs::read(&float).unwrap();
    let chunks = top_chunks(&bytes);
    let ids: Vec<&[u8; 4]> = chunks.iter().map(|c| &c.0).collect();
    assert_eq!(
        ids,
        vec![b"JUNK", b"fmt ", b"fact", b"data", b"cue ", b"LIST"]
    );
    let (_, fmt_at, fmt_size) = chunks[1];
    assert_eq!(fmt_size, 18);
    assert_eq!(&bytes[fmt_at..fmt_at + 2], &3u16.to_le_bytes());
    assert_eq!(le32(&bytes, chunks[2].1), 1001, "fact sample count");
}

#[test]
fn sample_format_names_parse() {
    assert_eq!("int16".parse(), Ok(SampleFormat::Int16));
    assert_eq!("S24".parse(), Ok(SampleFormat::Int24));
    assert_eq!("float".parse(), Ok(SampleFormat::Float32));
    assert_eq!("32f".parse(), Ok(SampleFormat::Float32));
    assert_eq!("24".parse(), Ok(SampleFormat::Int24));
    assert_eq!(SampleFormat::default(), SampleFormat::Int16);
    let err = "32".parse::<SampleFormat>().unwrap_err();
    assert!(err.contains("int16, int24 or float32"), "{err}");
}

#[test]
fn float_is_stored_as_given_and_int24_clips() {
    let input = [2.0, -2.0, 1.0, -1.0, 0.5, -1.5e-7, f32::INFINITY, f32::NAN];
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("float.wav");
    let got: Vec<f32> = write_and_read_back(&out, SampleFormat::Float32, &input);
    assert_eq!(got.len(), input.len());
    for (g, i) in got.iter().zip(input) {
        assert_eq!(g.to_bits(), i.to_bits(), "{g} vs {i}");
    }

    let out = dir.path().join("int24.wav");
    let got: Vec<i32> = write_and_read_back(&out, SampleFormat::Int24, &input);
    assert_eq!(
        got,
        vec![
            8388607, -8388607, 8388607, -8388607, 4194304, -1, 8388607, 0
        ]
    );
}

#[test]
fn relative_output_in_current_directory_is_accepted() {
    // Only checks the parent resolution: a bare file name has an empty
    // parent, which must mean "." rather than fail.
    let w = ProgramWriter::create(Path::new("aloud-wav-unit-test-cwd.wav"), 8000).unwrap();
    let temp = w.temp.path().to_path_buf();
    assert!(temp.exists());
    drop(w);
    assert!(!temp.exists());
    assert!(!Path::new("aloud-wav-unit-test-cwd.wav").exists());
}
