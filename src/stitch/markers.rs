//! Reads RIFF chapter markers (cue points with labl titles and ltxt lengths) back from any WAV file.
//!
//! The chunks are walked by aloud's RIFF reader (`crate::audio::riff`) rather than through
//! hound because hound stops at `data` and never exposes `cue ` or `LIST`/`adtl`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::audio::riff::{
    self, Chunks, DataExtent, Seekable, WAVE_FORMAT_ALAW, WAVE_FORMAT_EXTENSIBLE,
    WAVE_FORMAT_IEEE_FLOAT, WAVE_FORMAT_MULAW, WAVE_FORMAT_PCM, WavError, fourcc, le32,
};
use crate::error::{Error, Result};
use crate::stitch::wav::ChapterMark;

#[derive(Debug, Clone, PartialEq)]
pub struct WavSummary {
    pub sample_rate: u32,
    pub channels: u16,
    pub bits_per_sample: u16,
    pub frames: u64,
    pub chapters: Vec<ChapterMark>,
}

pub fn read_wav_summary(path: &Path) -> Result<WavSummary> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    parse(&mut BufReader::new(file), len, path)
}

struct CuePoint {
    id: u32,
    sample_offset: u32,
}

#[derive(Default)]
struct Adtl {
    labels: HashMap<u32, String>,
    lengths: HashMap<u32, u32>,
}

fn parse<R: Read + Seek>(r: &mut R, len: u64, path: &Path) -> Result<WavSummary> {
    let bad = |message: String| Error::BadWav {
        path: path.to_path_buf(),
        message,
    };
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            bad("the file ended early (was it modified while being read?)".into())
        } else {
            Error::io(path, e)
        }
    };
    let wav = |e: WavError| match e {
        WavError::Io(e) => io(e),
        other => bad(other.to_string()),
    };

    if len < 12 {
        return Err(bad(format!("{len} bytes is too short for a RIFF header")));
    }
    let mut header = [0u8; 12];
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    r.read_exact(&mut header).map_err(io)?;
    if &header[0..4] == b"RF64" || &header[0..4] == b"BW64" {
        return Err(bad("RF64/BW64 files are not supported".into()));
    }
    if &header[0..4] != b"RIFF" || &header[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file".into()));
    }
    // Streaming writers leave the RIFF size as a placeholder (0, 0xFFFFFFFF, or espeak-ng's
    // 0x7FFFF024); only one that fits the file bounds the walk.
    let riff_size = u64::from(le32(&header, 4));
    let end = if riff_size >= 4 && riff_size + 8 <= len {
        riff_size + 8
    } else {
        len
    };

    let mut fmt: Option<riff::Fmt> = None;
    let mut data_bytes: Option<u64> = None;
    let mut fact_frames: Option<u32> = None;
    let mut cues: Option<Vec<CuePoint>> = None;
    let mut adtl = Adtl::default();

    let mut chunks = Chunks::new(Seekable::new(r, len), end);
    while let Some(chunk) = chunks.next_chunk().map_err(wav)? {
        if &chunk.id == b"data" {
            match chunks.data_extent(&chunk) {
                DataExtent::Exact(size) => {
                    data_bytes.get_or_insert(size);
                    chunks.skip(&chunk);
                    continue;
                }
                // An unfinished streamed header, or a file still being written: the audio is
                // everything that follows, and nothing can be found after it.
                DataExtent::ToEnd(available) | DataExtent::Short { available, .. } => {
                    data_bytes.get_or_insert(available);
                    break;
                }
            }
        }
        chunks.check_fits(&chunk).map_err(wav)?;
        match &chunk.id {
            b"fmt " if fmt.is_none() => {
                let body = chunks.read_body(&chunk).map_err(wav)?;
                fmt = Some(parse_fmt(&body).map_err(wav)?);
            }
            b"fact" if fact_frames.is_none() && chunk.size >= 4 => {
                fact_frames = Some(le32(&chunks.read_body(&chunk).map_err(wav)?, 0));
            }
            b"cue " if cues.is_none() => {
                let body = chunks.read_body(&chunk).map_err(wav)?;
                cues = Some(parse_cue(&body).map_err(&bad)?);
            }
            b"LIST" if chunk.size >= 4 => {
                let list = chunks.read_body(&chunk).map_err(wav)?;
                if &list[0..4] == b"adtl" {
                    parse_adtl(&list[4..], &mut adtl).map_err(&bad)?;
                }
            }
            _ => {}
        }
        chunks.skip(&chunk);
    }

    let fmt = fmt.ok_or_else(|| bad("no 'fmt ' chunk".into()))?;
    let data_bytes = data_bytes.ok_or_else(|| bad("no 'data' chunk".into()))?;
    let subformat_is_linear = matches!(
        fmt.sub_tag.unwrap_or(fmt.tag),
        WAVE_FORMAT_PCM
            | WAVE_FORMAT_IEEE_FLOAT
            | WAVE_FORMAT_ALAW
            | WAVE_FORMAT_MULAW
            | WAVE_FORMAT_EXTENSIBLE
    );
    // For compressed formats a block holds many frames; `fact` is the only
    // place that says how many.
    let frames = match fact_frames {
        Some(n) if !subformat_is_linear => u64::from(n),
        _ => data_bytes / u64::from(fmt.block_align),
    };

    Ok(WavSummary {
        sample_rate: fmt.sample_rate,
        channels: fmt.channels,
        bits_per_sample: fmt.bits_per_sample,
        frames,
        chapters: chapters(cues.unwrap_or_default(), &adtl, frames),
    })
}

fn chapters(mut cues: Vec<CuePoint>, adtl: &Adtl, frames: u64) -> Vec<ChapterMark> {
    cues.sort_by_key(|c| (c.sample_offset, c.id));
    let starts: Vec<u64> = cues.iter().map(|c| u64::from(c.sample_offset)).collect();
    cues.iter()
        .zip(&starts)
        .enumerate()
        .map(|(i, (cue, &start))| {
            let length = match adtl.lengths.get(&cue.id) {
                Some(&n) => u64::from(n),
                None => starts
                    .get(i + 1)
                    .copied()
                    .unwrap_or(frames)
                    .saturating_sub(start),
            };
            ChapterMark {
                title: adtl.labels.get(&cue.id).cloned().unwrap_or_default(),
                start_frame: start,
                length_frames: length,
            }
        })
        .collect()
}

/// The shared fmt reader, and the one thing frame counting needs beyond it.
fn parse_fmt(b: &[u8]) -> std::result::Result<riff::Fmt, WavError> {
    let fmt = riff::parse_fmt(b)?;
    if fmt.block_align == 0 {
        return Err(WavError::Malformed {
            message: "'fmt ' chunk declares a zero block alignment".into(),
        });
    }
    Ok(fmt)
}

fn parse_cue(b: &[u8]) -> std::result::Result<Vec<CuePoint>, String> {
    if b.len() < 4 {
        return Err(format!(
            "'cue ' chunk is {} bytes, needs at least 4",
            b.len()
        ));
    }
    let count = u64::from(le32(b, 0));
    let needed = 4 + count * 24;
    if needed > b.len() as u64 {
        return Err(format!(
            "'cue ' chunk lists {count} points ({needed} bytes) but holds {} bytes",
            b.len()
        ));
    }
    Ok(b[4..needed as usize]
        .chunks_exact(24)
        .map(|p| CuePoint {
            id: le32(p, 0),
            // dwSampleOffset, not dwPosition: the latter is a play-list
            // position that some writers leave at zero.
            sample_offset: le32(p, 20),
        })
        .collect())
}

fn parse_adtl(mut b: &[u8], adtl: &mut Adtl) -> std::result::Result<(), String> {
    while !b.is_empty() {
        if b.len() < 8 {
            if b.iter().all(|&x| x == 0) {
                break;
            }
            return Err("truncated sub-chunk header in 'adtl' list".into());
        }
        let id = [b[0], b[1], b[2], b[3]];
        let size = le32(b, 4) as usize;
        let rest = &b[8..];
        if size > rest.len() {
            return Err(format!(
                "'adtl' sub-chunk '{}' claims {size} bytes but only {} remain",
                fourcc(&id),
                rest.len()
            ));
        }
        let body = &rest[..size];
        match &id {
            b"labl" => {
                if size < 4 {
                    return Err(format!(
                        "'labl' sub-chunk is {size} bytes, needs at least 4"
                    ));
                }
                adtl.labels
                    .entry(le32(body, 0))
                    .or_insert_with(|| decode_text(&body[4..]));
            }
            b"ltxt" => {
                if size < 8 {
                    return Err(format!(
                        "'ltxt' sub-chunk is {size} bytes, needs at least 8"
                    ));
                }
                adtl.lengths.entry(le32(body, 0)).or_insert(le32(body, 4));
            }
            _ => {}
        }
        b = rest.get(size + (size & 1)..).unwrap_or(&[]);
    }
    Ok(())
}

/// Titles end at the first NUL. Older tools wrote Latin-1, which is the only
/// sensible reading of bytes that are not UTF-8.
fn decode_text(bytes: &[u8]) -> String {
    let text = bytes.split(|&b| b == 0).next().unwrap_or(&[]);
    match std::str::from_utf8(text) {
        Ok(s) => s.to_owned(),
        Err(_) => text.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::riff::build::{chunk, fmt_pcm, riff};
    use crate::stitch::wav::ProgramWriter;
    use std::io::Cursor;

    fn cue(points: &[(u32, u32)]) -> Vec<u8> {
        let mut b = (points.len() as u32).to_le_bytes().to_vec();
        for &(id, offset) in points {
            for v in [id, offset] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            b.extend_from_slice(b"data");
            b.extend_from_slice(&[0; 8]);
            b.extend_from_slice(&offset.to_le_bytes());
        }
        chunk(b"cue ", &b)
    }

    fn labl(id: u32, text: &[u8]) -> Vec<u8> {
        let mut b = id.to_le_bytes().to_vec();
        b.extend_from_slice(text);
        b.push(0);
        chunk(b"labl", &b)
    }

    fn ltxt(id: u32, length: u32) -> Vec<u8> {
        let mut b = id.to_le_bytes().to_vec();
        b.extend_from_slice(&length.to_le_bytes());
        b.extend_from_slice(b"rgn ");
        b.extend_from_slice(&[0; 8]);
        chunk(b"ltxt", &b)
    }

    fn adtl(subs: &[Vec<u8>]) -> Vec<u8> {
        let mut b = b"adtl".to_vec();
        b.extend_from_slice(&subs.concat());
        chunk(b"LIST", &b)
    }

    fn parse_bytes(bytes: &[u8]) -> Result<WavSummary> {
        parse(
            &mut Cursor::new(bytes),
            bytes.len() as u64,
            Path::new("mem.wav"),
        )
    }

    fn mark(title: &str, start_frame: u64, length_frames: u64) -> ChapterMark {
        ChapterMark {
            title: title.into(),
            start_frame,
            length_frames,
        }
    }

    /// Four silent frames of 8 kHz mono 16-bit audio, then a cue chunk for `points` and the
    /// chunks in `after`.
    fn cued_silence(points: &[(u32, u32)], after: &[Vec<u8>]) -> Vec<u8> {
        let mut chunks = vec![fmt_pcm(8000, 1, 16), chunk(b"data", &[0u8; 8]), cue(points)];
        chunks.extend_from_slice(after);
        riff(&chunks)
    }

    fn expect_bad(bytes: &[u8], needle: &str) {
        match parse_bytes(bytes) {
            Err(Error::BadWav { path, message }) => {
                assert_eq!(path, Path::new("mem.wav"));
                assert!(message.contains(needle), "{message:?} lacks {needle:?}");
            }
            other => panic!("expected BadWav containing {needle:?}, got {other:?}"),
        }
    }

    #[test]
    fn hand_made_file_with_pads_out_of_order_cues_and_partial_ltxt() {
        let bytes = riff(&[
            fmt_pcm(8000, 1, 16),
            chunk(b"junk", b"odd"), // 3 bytes + pad byte
            chunk(b"data", &[0u8; 40]),
            cue(&[(7, 12), (3, 0), (5, 5)]),
            adtl(&[
                labl(3, b"first"), // 4 + 5 + 1 = 10: even
                labl(5, b"mid"),   // 4 + 3 + 1 = 8
                labl(7, b"la"),    // 4 + 2 + 1 = 7: padded
                ltxt(5, 4),
                chunk(b"note", b"x"),
            ]),
        ]);
        let s = parse_bytes(&bytes).unwrap();
        assert_eq!(
            (s.sample_rate, s.channels, s.bits_per_sample, s.frames),
            (8000, 1, 16, 20)
        );
        assert_eq!(
            s.chapters,
            vec![mark("first", 0, 5), mark("mid", 5, 4), mark("la", 12, 8)]
        );
    }

    #[test]
    fn markers_before_data_and_labels_after_ltxt_are_still_found() {
        let bytes = riff(&[
            fmt_pcm(44_100, 2, 16),
            adtl(&[ltxt(2, 3), labl(2, b"two"), labl(1, b"one")]),
            cue(&[(1, 0), (2, 6)]),
            chunk(b"data", &[0u8; 40]),
        ]);
        let s = parse_bytes(&bytes).unwrap();
        assert_eq!(s.frames, 10);
        assert_eq!(s.chapters, vec![mark("one", 0, 6), mark("two", 6, 3)]);
    }

    #[test]
    fn cue_without_label_or_adtl_gets_empty_title() {
        let bytes = cued_silence(&[(1, 1)], &[]);
        assert_eq!(parse_bytes(&bytes).unwrap().chapters, vec![mark("", 1, 3)]);
    }

    #[test]
    fn cue_past_end_of_data_gets_zero_length() {
        let bytes = cued_silence(&[(1, 9)], &[]);
        assert_eq!(parse_bytes(&bytes).unwrap().chapters, vec![mark("", 9, 0)]);
    }

    #[test]
    fn latin1_labels_are_decoded() {
        let bytes = cued_silence(&[(1, 0)], &[adtl(&[labl(1, b"Caf\xe9")])]);
        assert_eq!(parse_bytes(&bytes).unwrap().chapters[0].title, "Café");
    }

    fn streamed(riff_size: u32, data_size: u32, audio: usize) -> Vec<u8> {
        let mut bytes = riff(&[fmt_pcm(22_050, 1, 16)]);
        bytes[4..8].copy_from_slice(&riff_size.to_le_bytes());
        bytes.extend_from_slice(b"data");
        bytes.extend_from_slice(&data_size.to_le_bytes());
        bytes.extend(std::iter::repeat_n(0x11u8, audio));
        bytes
    }

    #[test]
    fn placeholder_data_sizes_run_to_end_of_file() {
        for (riff_size, data_size) in [
            (0xFFFF_FFFF, 0xFFFF_FFFF),
            (0, 0xFFFF_FFFF),
            (0, 0),
            (0xFFFF_FFFF, 0),
            // What espeak-ng --stdout actually writes.
            (0x7FFF_F024, 0x7FFF_F000),
        ] {
            let s = parse_bytes(&streamed(riff_size, data_size, 300)).unwrap();
            assert_eq!(s.frames, 150, "riff {riff_size:#x} data {data_size:#x}");
            assert_eq!(s.sample_rate, 22_050);
            assert!(s.chapters.is_empty());
        }
        // A trailing half frame is not a frame.
        assert_eq!(parse_bytes(&streamed(0, 0, 301)).unwrap().frames, 150);
    }

    #[test]
    fn genuinely_empty_data_does_not_swallow_markers() {
        let bytes = riff(&[
            fmt_pcm(8000, 1, 16),
            chunk(b"data", &[]),
            cue(&[(1, 0)]),
            adtl(&[labl(1, b"only"), ltxt(1, 0)]),
        ]);
        let s = parse_bytes(&bytes).unwrap();
        assert_eq!(s.frames, 0);
        assert_eq!(s.chapters, vec![mark("only", 0, 0)]);
    }

    #[test]
    fn trailing_zero_padding_and_junk_after_riff_are_ignored() {
        let mut bytes = riff(&[fmt_pcm(8000, 1, 16), chunk(b"data", &[0u8; 4])]);
        bytes.extend_from_slice(&[0, 0, 0]);
        let size = bytes.len() as u32 - 8;
        bytes[4..8].copy_from_slice(&size.to_le_bytes());
        assert_eq!(parse_bytes(&bytes).unwrap().frames, 2);

        let mut bytes = riff(&[fmt_pcm(8000, 1, 16), chunk(b"data", &[0u8; 4])]);
        bytes.extend_from_slice(b"garbage beyond the RIFF size");
        assert_eq!(parse_bytes(&bytes).unwrap().frames, 2);
    }

    #[test]
    fn non_zero_partial_header_is_rejected() {
        let mut bytes = riff(&[fmt_pcm(8000, 1, 16), chunk(b"data", &[0u8; 4])]);
        bytes.extend_from_slice(b"cue ");
        let size = bytes.len() as u32 - 8;
        bytes[4..8].copy_from_slice(&size.to_le_bytes());
        expect_bad(&bytes, "truncated chunk header");
    }

    #[test]
    fn extensible_format_from_hound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ext.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..70 {
            w.write_sample(i).unwrap();
        }
        w.finalize().unwrap();
        let s = read_wav_summary(&path).unwrap();
        assert_eq!(
            (s.sample_rate, s.channels, s.bits_per_sample, s.frames),
            (48_000, 2, 24, 35)
        );
    }

    #[test]
    fn compressed_formats_take_frames_from_fact() {
        let mut fmt = fmt_pcm(8000, 1, 4);
        fmt[8..10].copy_from_slice(&0x11u16.to_le_bytes()); // IMA ADPCM
        fmt[20..22].copy_from_slice(&256u16.to_le_bytes()); // block align
        let bytes = riff(&[
            fmt,
            chunk(b"fact", &505u32.to_le_bytes()),
            chunk(b"data", &[0u8; 256]),
        ]);
        assert_eq!(parse_bytes(&bytes).unwrap().frames, 505);
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.wav");
        match read_wav_summary(&path) {
            Err(Error::Io { path: p, source }) => {
                assert_eq!(p, path);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("expected Error::Io, got {other:?}"),
        }
    }

    #[test]
    fn malformed_files_are_bad_wav() {
        let data = chunk(b"data", &[0u8; 4]);
        let fmt = fmt_pcm(8000, 1, 16);
        expect_bad(b"", "too short");
        expect_bad(b"RIFF\x04\0\0\0WAV", "too short");
        expect_bad(b"RIFX\x04\0\0\0WAVE", "not a RIFF/WAVE");
        expect_bad(b"RIFF\x04\0\0\0AVI ", "not a RIFF/WAVE");
        expect_bad(b"RF64\xff\xff\xff\xffWAVEds64", "RF64");
        expect_bad(b"ID3\x03\0\0\0\0\0\0\0\0\0\0\0", "not a RIFF/WAVE");
        expect_bad(&riff(std::slice::from_ref(&data)), "no 'fmt '");
        expect_bad(&riff(std::slice::from_ref(&fmt)), "no 'data'");
        expect_bad(
            &riff(&[chunk(b"fmt ", &[1, 0, 1, 0]), data.clone()]),
            "at least 16",
        );

        let mut zero_channels = fmt.clone();
        zero_channels[10..12].copy_from_slice(&0u16.to_le_bytes());
        expect_bad(&riff(&[zero_channels, data.clone()]), "zero channels");
        let mut zero_align = fmt.clone();
        zero_align[20..22].copy_from_slice(&0u16.to_le_bytes());
        expect_bad(&riff(&[zero_align, data.clone()]), "zero block alignment");

        let mut many_cues = cue(&[(1, 0)]);
        many_cues[8..12].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        expect_bad(
            &riff(&[fmt.clone(), data.clone(), many_cues]),
            "lists 4294967295 points",
        );
        expect_bad(
            &riff(&[fmt.clone(), data.clone(), chunk(b"cue ", &[1, 0])]),
            "at least 4",
        );

        let short_labl = adtl(&[chunk(b"labl", &[1, 0])]);
        expect_bad(
            &riff(&[fmt.clone(), data.clone(), short_labl]),
            "'labl' sub-chunk is 2",
        );
        let short_ltxt = adtl(&[chunk(b"ltxt", &[1, 0, 0, 0])]);
        expect_bad(
            &riff(&[fmt.clone(), data.clone(), short_ltxt]),
            "'ltxt' sub-chunk is 4",
        );

        let mut overrun_sub = adtl(&[labl(1, b"abc")]);
        overrun_sub[16..20].copy_from_slice(&100u32.to_le_bytes());
        expect_bad(
            &riff(&[fmt.clone(), data.clone(), overrun_sub]),
            "claims 100 bytes",
        );
        let mut partial_sub = b"adtl".to_vec();
        partial_sub.extend_from_slice(b"labl\x01");
        partial_sub.push(0);
        expect_bad(
            &riff(&[fmt.clone(), data.clone(), chunk(b"LIST", &partial_sub)]),
            "truncated sub-chunk header",
        );

        let mut huge_fmt = riff(&[fmt.clone(), data.clone()]);
        huge_fmt[16..20].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        expect_bad(&huge_fmt, "claims 2147483647 bytes");
    }

    fn writer_file() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzz.wav");
        let mut w = ProgramWriter::create(&path, 8000).unwrap();
        w.start_chapter("Intro");
        w.push_samples(&[0.25; 30]).unwrap();
        w.start_chapter("Café \"two\"");
        w.push_silence(17).unwrap();
        w.start_chapter("🎧");
        w.push_samples(&[-0.5; 3]).unwrap();
        w.finish().unwrap();
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn every_truncation_is_handled_precisely() {
        let bytes = writer_file();
        let data_end = 44 + 50 * 2;
        let cue_end = data_end + 8 + 4 + 3 * 24;
        assert_eq!(&bytes[cue_end..cue_end + 4], b"LIST");
        for cut in 0..=bytes.len() {
            let result = parse_bytes(&bytes[..cut]);
            if cut < 44 {
                assert!(
                    matches!(result, Err(Error::BadWav { .. })),
                    "cut {cut}: {result:?}"
                );
            } else if cut <= data_end {
                let s = result.unwrap_or_else(|e| panic!("cut {cut}: {e}"));
                assert_eq!(s.frames, (cut as u64 - 44) / 2, "cut {cut}");
                assert!(s.chapters.is_empty(), "cut {cut}");
            } else if cut == cue_end {
                // A file that simply has no LIST chunk: untitled chapters.
                let s = result.unwrap_or_else(|e| panic!("cut {cut}: {e}"));
                assert_eq!(
                    s.chapters,
                    vec![mark("", 0, 30), mark("", 30, 17), mark("", 47, 3)]
                );
            } else if cut < bytes.len() {
                assert!(
                    matches!(result, Err(Error::BadWav { .. })),
                    "cut {cut}: {result:?}"
                );
            } else {
                assert_eq!(result.unwrap().chapters.len(), 3);
            }
        }
    }

    /// A tiny deterministic generator so failures reproduce without a crate.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn check_invariants(bytes: &[u8]) {
        if let Ok(s) = parse_bytes(bytes) {
            assert!(
                s.chapters
                    .windows(2)
                    .all(|w| w[0].start_frame <= w[1].start_frame),
                "chapters unsorted: {:?}",
                s.chapters
            );
        }
    }

    #[test]
    fn corrupted_bytes_never_panic() {
        let original = writer_file();
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..5000 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len());
                // Size fields are where parsers die: favour extreme values.
                bytes[at] = match rng.below(4) {
                    0 => 0,
                    1 => 0xFF,
                    2 => 0x7F,
                    _ => rng.next() as u8,
                };
            }
            let cut = bytes.len() - rng.below(bytes.len() / 4);
            check_invariants(&bytes[..cut]);
        }
    }

    #[test]
    fn random_chunk_soup_never_panics() {
        let mut rng = XorShift(42);
        let ids: [&[u8; 4]; 6] = [b"fmt ", b"data", b"cue ", b"LIST", b"fact", b"labl"];
        for _ in 0..3000 {
            let mut bytes = b"RIFF".to_vec();
            bytes.extend_from_slice(&(rng.next() as u32).to_le_bytes());
            bytes.extend_from_slice(b"WAVE");
            for _ in 0..rng.below(6) {
                bytes.extend_from_slice(ids[rng.below(ids.len())]);
                let len = rng.below(64);
                let size = if rng.below(5) == 0 {
                    rng.next() as u32
                } else {
                    len as u32
                };
                bytes.extend_from_slice(&size.to_le_bytes());
                if rng.below(3) == 0 {
                    bytes.extend_from_slice(b"adtl");
                }
                bytes.extend((0..len).map(|_| rng.next() as u8));
            }
            check_invariants(&bytes);
        }
    }
}
