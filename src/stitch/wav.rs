//! Streams a mono 16-bit PCM WAV to a temporary file and appends chapter markers before renaming it into place.
//!
//! The marker layout is dictated by the readers we must satisfy: ffmpeg only
//! looks at `adtl` after it has seen `cue ` (so `cue ` comes first), and both
//! ffmpeg and libsndfile stop scanning `adtl` at the first sub-chunk that is not
//! a `labl`, so every `labl` precedes every `ltxt`.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// One chapter as it ends up in the file: frames are counted at the file's sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct ChapterMark {
    pub title: String,
    pub start_frame: u64,
    pub length_frames: u64,
}

/// Bytes hound writes before the samples for mono 16-bit PCM: RIFF header,
/// 16-byte `fmt ` chunk and the `data` chunk header.
const HEADER_LEN: u64 = 44;
/// The RIFF size field counts everything after itself.
const RIFF_SIZE_OVERHEAD: u64 = HEADER_LEN - 8;
const BYTES_PER_FRAME: u64 = 2;
/// Beyond this the 32-bit RIFF size field would wrap; RF64 would lift it.
const RIFF_SIZE_LIMIT: u64 = u32::MAX as u64;

/// Writes one program. Dropping it without [`ProgramWriter::finish`] deletes
/// the temporary file and leaves `output` untouched.
pub struct ProgramWriter {
    // Declared before `temp` so hound's drop-time header update lands in the
    // temporary file before that file is unlinked.
    wav: hound::WavWriter<BufWriter<File>>,
    temp: NamedTempFile,
    output: PathBuf,
    sample_rate: u32,
    frames: u64,
    chapters: Vec<(String, u64)>,
    /// Set after a failed write: the audio on disk no longer matches
    /// `frames`, so finishing would place the markers wrongly.
    poisoned: bool,
    /// A field rather than the constant so tests can reach the limit without
    /// writing 4 GiB.
    riff_limit: u64,
}

impl ProgramWriter {
    /// Creates a temporary file in the same directory as `output` (so the final rename is atomic). Fails with Error::Output naming the path when the directory does not exist or is not writable.
    pub fn create(output: &Path, sample_rate: u32) -> Result<Self> {
        let fail = |message: String| Error::Output {
            path: output.to_path_buf(),
            message,
        };
        if sample_rate == 0 {
            return Err(fail("sample rate must be positive".into()));
        }
        let file_name = output
            .file_name()
            .ok_or_else(|| fail("the path does not name a file".into()))?;
        if output.is_dir() {
            return Err(fail("it is a directory".into()));
        }
        let dir = match output.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if !dir.exists() {
            return Err(fail(format!("directory {} does not exist", dir.display())));
        }
        if !dir.is_dir() {
            return Err(fail(format!("{} is not a directory", dir.display())));
        }

        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(file_name);
        prefix.push(".");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // tempfile defaults to 0600; the finished WAV should get the same
        // umask-governed mode as any file the user creates.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let temp = builder.tempfile_in(dir).map_err(|e| {
            fail(format!(
                "cannot create a temporary file in directory {} (is it writable?): {e}",
                dir.display()
            ))
        })?;

        let handle = temp
            .as_file()
            .try_clone()
            .map_err(|e| Error::io(temp.path(), e))?;
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let wav = hound::WavWriter::new(BufWriter::with_capacity(1 << 16, handle), spec)
            .map_err(|e| hound_error(e, temp.path(), output))?;

        Ok(Self {
            wav,
            temp,
            output: output.to_path_buf(),
            sample_rate,
            frames: 0,
            chapters: Vec::new(),
            poisoned: false,
            riff_limit: RIFF_SIZE_LIMIT,
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Appends samples in [-1.0, 1.0]; out-of-range values are clipped (never wrapped) to i16.
    ///
    /// Full scale is ±32767 so that the two signs stay symmetric; NaN becomes 0.
    pub fn push_samples(&mut self, samples: &[f32]) -> Result<()> {
        self.reserve(samples.len() as u64)?;
        for &sample in samples {
            if let Err(e) = self.wav.write_sample(to_i16(sample)) {
                return Err(self.poison(e));
            }
        }
        self.frames += samples.len() as u64;
        Ok(())
    }

    pub fn push_silence(&mut self, frames: u64) -> Result<()> {
        self.reserve(frames)?;
        for _ in 0..frames {
            if let Err(e) = self.wav.write_sample(0i16) {
                return Err(self.poison(e));
            }
        }
        self.frames += frames;
        Ok(())
    }

    /// Frames written so far.
    pub fn position(&self) -> u64 {
        self.frames
    }

    /// Starts a chapter at the current position; the previous chapter (if any) ends here.
    ///
    /// NUL characters are removed from the title because `labl` strings are
    /// NUL-terminated: readers would silently cut the title there.
    pub fn start_chapter(&mut self, title: &str) {
        self.chapters.push((title.replace('\0', ""), self.frames));
    }

    /// Finalizes the WAV (hound), appends the marker chunks, fsyncs, renames into place, returns the chapters as written (last chapter ends at the end of the audio).
    pub fn finish(self) -> Result<Vec<ChapterMark>> {
        let Self {
            wav,
            temp,
            output,
            frames,
            chapters,
            poisoned,
            riff_limit,
            ..
        } = self;
        if poisoned {
            return Err(Error::Output {
                path: output,
                message: "an earlier write failed; the program is incomplete".into(),
            });
        }

        let marks = chapter_marks(&chapters, frames);
        let markers = marker_chunks(&marks, &output)?;
        let data_bytes = frames * BYTES_PER_FRAME;
        let riff_size = RIFF_SIZE_OVERHEAD + data_bytes + markers.len() as u64;
        if riff_size > riff_limit {
            return Err(too_large(&output, riff_size + 8));
        }
        let riff_size = u32::try_from(riff_size).map_err(|_| too_large(&output, riff_size + 8))?;

        wav.finalize()
            .map_err(|e| hound_error(e, temp.path(), &output))?;

        let io = |e| Error::io(temp.path(), e);
        let mut file = temp.as_file();
        let end = file.seek(SeekFrom::End(0)).map_err(io)?;
        if end != HEADER_LEN + data_bytes {
            return Err(Error::Output {
                path: output,
                message: format!(
                    "temporary file {} holds {end} bytes, expected {}",
                    temp.path().display(),
                    HEADER_LEN + data_bytes
                ),
            });
        }
        file.write_all(&markers).map_err(io)?;
        file.seek(SeekFrom::Start(4)).map_err(io)?;
        file.write_all(&riff_size.to_le_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;

        temp.persist(&output).map_err(|e| Error::Output {
            path: output.clone(),
            message: format!(
                "cannot rename {} into place: {}",
                e.file.path().display(),
                e.error
            ),
        })?;
        sync_parent(&output)?;
        Ok(marks)
    }

    /// Rejects a write up front, before any byte reaches the file, when it
    /// would push the data past what a 32-bit RIFF size can describe.
    fn reserve(&mut self, frames: u64) -> Result<()> {
        if self.poisoned {
            return Err(Error::Output {
                path: self.output.clone(),
                message: "an earlier write failed; the program is incomplete".into(),
            });
        }
        let riff_size = self
            .frames
            .checked_add(frames)
            .and_then(|f| f.checked_mul(BYTES_PER_FRAME))
            .and_then(|b| b.checked_add(RIFF_SIZE_OVERHEAD));
        match riff_size {
            Some(size) if size <= self.riff_limit => Ok(()),
            Some(size) => Err(too_large(&self.output, size + 8)),
            None => Err(too_large(&self.output, u64::MAX)),
        }
    }

    fn poison(&mut self, e: hound::Error) -> Error {
        self.poisoned = true;
        hound_error(e, self.temp.path(), &self.output)
    }
}

/// The 16-bit sample a float sample is stored as.
pub fn to_i16(sample: f32) -> i16 {
    if sample.is_nan() {
        return 0;
    }
    // The clamp is what guarantees clipping: an over-range value must hit the
    // rail rather than wrap to the opposite sign.
    (sample.clamp(-1.0, 1.0) * 32767.0).round() as i16
}

fn chapter_marks(chapters: &[(String, u64)], total_frames: u64) -> Vec<ChapterMark> {
    chapters
        .iter()
        .enumerate()
        .map(|(i, (title, start))| {
            let end = chapters.get(i + 1).map_or(total_frames, |next| next.1);
            ChapterMark {
                title: title.clone(),
                start_frame: *start,
                length_frames: end - start,
            }
        })
        .collect()
}

/// Builds the `cue ` chunk followed by the `LIST`/`adtl` chunk; empty when
/// there are no chapters, since an empty cue list only confuses readers.
fn marker_chunks(marks: &[ChapterMark], output: &Path) -> Result<Vec<u8>> {
    if marks.is_empty() {
        return Ok(Vec::new());
    }
    // Frames are bounded by the 4 GiB guard, so these cannot fail in
    // practice; checking keeps a future RF64 change from silently truncating.
    let frame = |v: u64| {
        u32::try_from(v).map_err(|_| Error::Output {
            path: output.to_path_buf(),
            message: format!("frame offset {v} does not fit a 32-bit cue point"),
        })
    };

    let mut cue = Vec::with_capacity(4 + 24 * marks.len());
    cue.extend_from_slice(&(marks.len() as u32).to_le_bytes());
    for (i, mark) in marks.iter().enumerate() {
        let id = i as u32 + 1;
        let offset = frame(mark.start_frame)?;
        cue.extend_from_slice(&id.to_le_bytes());
        // dwPosition equals dwSampleOffset: without a playlist the play
        // order is the data order, and some readers use one, some the other.
        cue.extend_from_slice(&offset.to_le_bytes());
        cue.extend_from_slice(b"data");
        cue.extend_from_slice(&0u32.to_le_bytes());
        cue.extend_from_slice(&0u32.to_le_bytes());
        cue.extend_from_slice(&offset.to_le_bytes());
    }

    let mut adtl = Vec::new();
    adtl.extend_from_slice(b"adtl");
    for (i, mark) in marks.iter().enumerate() {
        let mut body = Vec::with_capacity(mark.title.len() + 5);
        body.extend_from_slice(&(i as u32 + 1).to_le_bytes());
        body.extend_from_slice(mark.title.as_bytes());
        body.push(0);
        push_chunk(&mut adtl, b"labl", &body, output)?;
    }
    for (i, mark) in marks.iter().enumerate() {
        let mut body = Vec::with_capacity(20);
        body.extend_from_slice(&(i as u32 + 1).to_le_bytes());
        body.extend_from_slice(&frame(mark.length_frames)?.to_le_bytes());
        body.extend_from_slice(b"rgn ");
        // Country, language, dialect, code page: zero means "unspecified".
        body.extend_from_slice(&[0u8; 8]);
        push_chunk(&mut adtl, b"ltxt", &body, output)?;
    }

    let mut out = Vec::with_capacity(cue.len() + adtl.len() + 16);
    push_chunk(&mut out, b"cue ", &cue, output)?;
    push_chunk(&mut out, b"LIST", &adtl, output)?;
    Ok(out)
}

fn push_chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8], output: &Path) -> Result<()> {
    let size = u32::try_from(body.len()).map_err(|_| Error::Output {
        path: output.to_path_buf(),
        message: format!(
            "{} chunk of {} bytes exceeds the 4 GiB RIFF limit",
            String::from_utf8_lossy(id),
            body.len()
        ),
    })?;
    out.extend_from_slice(id);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(body);
    // RIFF chunks are word-aligned; the pad byte is not counted in the size.
    if body.len() % 2 == 1 {
        out.push(0);
    }
    Ok(())
}

fn too_large(output: &Path, bytes: u64) -> Error {
    let size = if bytes == u64::MAX {
        "more than 16 EiB".to_string()
    } else {
        format!("{bytes} bytes")
    };
    Error::Output {
        path: output.to_path_buf(),
        message: format!(
            "the WAV would be {size}, over the 4 GiB limit of a RIFF file (RF64 is not supported yet)"
        ),
    }
}

fn hound_error(e: hound::Error, temp: &Path, output: &Path) -> Error {
    match e {
        hound::Error::IoError(source) => Error::io(temp, source),
        other => Error::Output {
            path: output.to_path_buf(),
            message: other.to_string(),
        },
    }
}

/// The rename is only durable once the directory entry itself is on disk.
fn sync_parent(output: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let dir = match output.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = output;
    Ok(())
}

#[cfg(test)]
mod tests {
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

    fn read_i16(path: &Path) -> Vec<i16> {
        hound::WavReader::open(path)
            .unwrap()
            .samples::<i16>()
            .map(|s| s.unwrap())
            .collect()
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
            ChapterMark {
                title: "Intro".into(),
                start_frame: 0,
                length_frames: 2000,
            },
            ChapterMark {
                title: "Odd".into(),
                start_frame: 2000,
                length_frames: 1001,
            },
            ChapterMark {
                title: "Café 🎧 \"q\"".into(),
                start_frame: 3001,
                length_frames: 999,
            },
        ];
        assert_eq!(marks, expected);

        let summary = read_wav_summary(&out).unwrap();
        assert_eq!(summary.sample_rate, 16_000);
        assert_eq!(summary.channels, 1);
        assert_eq!(summary.bits_per_sample, 16);
        assert_eq!(summary.frames, 4000);
        assert_eq!(summary.chapters, expected);

        let samples = read_i16(&out);
        assert_eq!(samples.len(), 4000);
        for (got, want) in samples.iter().zip(&a) {
            assert_eq!(*got, (want * 32767.0).round() as i16);
        }
        assert!(samples[1600..2000].iter().all(|&s| s == 0));
        assert_eq!(dir_entries(dir.path()), vec!["program.wav".to_string()]);
    }

    #[test]
    fn marker_chunk_layout_is_what_ffmpeg_and_libsndfile_expect() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("layout.wav");
        let mut w = ProgramWriter::create(&out, 8000).unwrap();
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
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("pad.wav");
        let mut w = ProgramWriter::create(&out, 8000).unwrap();
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
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("plain.wav");
        let mut w = ProgramWriter::create(&out, 8000).unwrap();
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
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("edge.wav");
        let mut w = ProgramWriter::create(&out, 8000).unwrap();
        w.start_chapter("first");
        w.start_chapter("second\0with nul");
        w.push_silence(4).unwrap();
        w.start_chapter("tail");
        let marks = w.finish().unwrap();
        let expected = vec![
            ChapterMark {
                title: "first".into(),
                start_frame: 0,
                length_frames: 0,
            },
            ChapterMark {
                title: "secondwith nul".into(),
                start_frame: 0,
                length_frames: 4,
            },
            ChapterMark {
                title: "tail".into(),
                start_frame: 4,
                length_frames: 0,
            },
        ];
        assert_eq!(marks, expected);
        assert_eq!(read_wav_summary(&out).unwrap().chapters, expected);
    }

    #[test]
    fn clipping_saturates_instead_of_wrapping() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("clip.wav");
        let mut w = ProgramWriter::create(&out, 8000).unwrap();
        w.push_samples(&[
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
        ])
        .unwrap();
        w.finish().unwrap();
        assert_eq!(
            read_i16(&out),
            vec![
                32767, -32767, 32767, -32767, 16384, -16384, 32767, 32767, -32767, 0, 0
            ]
        );
    }

    #[test]
    fn drop_without_finish_removes_temp_and_keeps_existing_output() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("keep.wav");
        std::fs::write(&out, b"previous program").unwrap();
        let mut w = ProgramWriter::create(&out, 8000).unwrap();
        w.start_chapter("x");
        w.push_samples(&tone(5000, 440.0, 8000)).unwrap();
        let names = dir_entries(dir.path());
        assert_eq!(names.len(), 2, "a temporary file should exist: {names:?}");
        assert!(
            names[0].starts_with(".keep.wav.") && names[0].ends_with(".tmp"),
            "{names:?}"
        );
        drop(w);
        assert_eq!(dir_entries(dir.path()), vec!["keep.wav".to_string()]);
        assert_eq!(std::fs::read(&out).unwrap(), b"previous program");
    }

    #[test]
    fn drop_without_finish_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("never.wav");
        let mut w = ProgramWriter::create(&out, 8000).unwrap();
        w.push_silence(100).unwrap();
        drop(w);
        assert!(dir_entries(dir.path()).is_empty());
    }

    #[test]
    fn finish_replaces_existing_output() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("replace.wav");
        std::fs::write(&out, b"old").unwrap();
        let mut w = ProgramWriter::create(&out, 8000).unwrap();
        w.push_silence(2).unwrap();
        w.finish().unwrap();
        assert_eq!(read_wav_summary(&out).unwrap().frames, 2);
        assert_eq!(dir_entries(dir.path()), vec!["replace.wav".to_string()]);
    }

    #[cfg(unix)]
    #[test]
    fn finished_file_is_not_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mode.wav");
        let w = ProgramWriter::create(&out, 8000).unwrap();
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
    fn audio_past_4_gib_is_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("big.wav");
        let mut w = ProgramWriter::create(&out, 8000).unwrap();
        w.push_silence(10).unwrap();
        let max_frames = (RIFF_SIZE_LIMIT - RIFF_SIZE_OVERHEAD) / BYTES_PER_FRAME;
        for frames in [max_frames - 9, u64::MAX] {
            match w.push_silence(frames) {
                Err(Error::Output { path, message }) => {
                    assert_eq!(path, out);
                    assert!(message.contains("4 GiB"), "{message}");
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
    fn markers_past_4_gib_are_refused_and_output_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("edge.wav");
        std::fs::write(&out, b"previous").unwrap();
        let mut w = ProgramWriter::create(&out, 8000).unwrap();
        // Leave room for the audio but not for the marker chunks.
        w.riff_limit = RIFF_SIZE_OVERHEAD + 200;
        w.push_silence(100).unwrap();
        w.start_chapter("does not fit");
        match w.finish() {
            Err(Error::Output { path, message }) => {
                assert_eq!(path, out);
                assert!(message.contains("4 GiB"), "{message}");
            }
            other => panic!("expected Error::Output, got {other:?}"),
        }
        assert_eq!(dir_entries(dir.path()), vec!["edge.wav".to_string()]);
        assert_eq!(std::fs::read(&out).unwrap(), b"previous");
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
}
