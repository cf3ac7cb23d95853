//! Streams a mono WAV (16-bit or 24-bit PCM, or 32-bit float) to a temporary file, appends chapter markers, switches to RF64 past 4 GiB, and renames it into place.
//!
//! The marker layout is dictated by the readers we must satisfy: ffmpeg only
//! looks at `adtl` after it has seen `cue ` (so `cue ` comes first), and both
//! ffmpeg and libsndfile stop scanning `adtl` at the first sub-chunk that is not
//! a `labl`, so every `labl` precedes every `ltxt`. A cue point's position is
//! the frame (sample) offset into `data`.
//!
//! File layout: `RIFF` header, for 24-bit and float a `JUNK` chunk the size
//! of a `ds64` chunk (reserved at creation, since nobody knows yet whether the
//! program will pass 4 GiB), `fmt `, `fact` (float only), `data`, then `cue `
//! and `LIST`/`adtl`. When finishing finds the RIFF size past 32 bits, the
//! file becomes RF64 as EBU Tech 3306 describes: `RIFF` -> `RF64`, `JUNK` ->
//! `ds64` carrying the 64-bit RIFF size, data size and sample count, and
//! 0xFFFFFFFF in the 32-bit size fields (RIFF, `data`, `fact`). Readers that
//! know nothing of RF64 skip the `JUNK` chunk of an ordinary file.
//!
//! 16-bit files keep the plain 44-byte header every tool (and this crate's
//! tests) have always seen: they pass 4 GiB only after 27 hours at 22050 Hz,
//! so for that rare program `finish` rewrites the file once with the `ds64`
//! inserted rather than carrying `JUNK` in every ordinary file.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};
pub use crate::fs::TEMP_PREFIX;
use crate::fs::{persist, temp_file_beside};

/// One chapter as it ends up in the file: frames are counted at the file's sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct ChapterMark {
    pub title: String,
    pub start_frame: u64,
    pub length_frames: u64,
}

/// How each sample is stored. Mono throughout, so a frame is one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SampleFormat {
    /// 16-bit PCM, `WAVE_FORMAT_PCM` with a 16-byte `fmt `: what every reader takes.
    #[default]
    Int16,
    /// 24-bit PCM in a `WAVE_FORMAT_EXTENSIBLE` `fmt `, as Microsoft asks for more than
    /// 16 bits and as ffmpeg and hound write it.
    Int24,
    /// 32-bit IEEE float (`WAVE_FORMAT_IEEE_FLOAT`, with the `fact` chunk non-PCM formats need);
    /// samples are stored as given, without clipping.
    Float32,
}

impl SampleFormat {
    pub fn bytes_per_sample(self) -> u64 {
        match self {
            SampleFormat::Int16 => 2,
            SampleFormat::Int24 => 3,
            SampleFormat::Float32 => 4,
        }
    }

    pub fn bits_per_sample(self) -> u16 {
        self.bytes_per_sample() as u16 * 8
    }
}

/// Parses the names a command line would use: `int16`/`s16`/`16`, `int24`/`s24`/`24`, `float32`/`f32`/`float`.
impl std::str::FromStr for SampleFormat {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "int16" | "s16" | "16" => Ok(SampleFormat::Int16),
            "int24" | "s24" | "24" => Ok(SampleFormat::Int24),
            "float32" | "f32" | "float" | "32f" => Ok(SampleFormat::Float32),
            _ => Err(format!(
                "unknown sample format {s:?}; use 16, 24 or 32f (int16, int24 or float32)"
            )),
        }
    }
}

const WAVE_FORMAT_PCM: u16 = 1;
const WAVE_FORMAT_IEEE_FLOAT: u16 = 3;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// KSDATAFORMAT_SUBTYPE_PCM: the format tag 1 followed by the fixed tail of the GUID.
const SUBTYPE_PCM: [u8; 16] = [
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
/// SPEAKER_FRONT_CENTER: the channel mask of a mono layout.
const SPEAKER_FRONT_CENTER: u32 = 0x4;
/// `ds64` body without a table: RIFF size, data size and sample count (u64 each), table length.
const DS64_BODY: u64 = 28;
/// Where the `JUNK`/`ds64` chunk starts: right after `RIFF`, size, `WAVE`.
const DS64_AT: usize = 12;
/// Beyond this the 32-bit RIFF size field would wrap, and the file turns RF64.
const RIFF_SIZE_LIMIT: u64 = u32::MAX as u64;
/// Samples converted per write, so a long clip never needs a second copy of itself in bytes.
const BLOCK_SAMPLES: usize = 8192;

/// Writes one program. Dropping it without [`ProgramWriter::finish`] deletes
/// the temporary file and leaves `output` untouched.
pub struct ProgramWriter {
    // Declared before `temp` so that its drop-time flush lands in the
    // temporary file before that file is unlinked.
    out: BufWriter<File>,
    temp: NamedTempFile,
    output: PathBuf,
    sample_rate: u32,
    format: SampleFormat,
    /// Bytes before the first sample: RIFF header, `JUNK`, `fmt `, `fact`, `data` header.
    header_len: u64,
    /// Whether the header holds the `JUNK` chunk that can become `ds64` in place.
    junk: bool,
    frames: u64,
    chapters: Vec<(String, u64)>,
    /// Set after a failed write: the audio on disk no longer matches
    /// `frames`, so finishing would place the markers wrongly.
    poisoned: bool,
    /// The RIFF size above which the file is finished as RF64. A field rather
    /// than the constant so tests can reach the switch without writing 4 GiB.
    riff_limit: u64,
    scratch: Vec<u8>,
}

impl ProgramWriter {
    /// Creates a 16-bit program: [`ProgramWriter::create_with`] with [`SampleFormat::Int16`].
    pub fn create(output: &Path, sample_rate: u32) -> Result<Self> {
        Self::create_with(output, sample_rate, SampleFormat::Int16)
    }

    /// Creates a temporary file in the same directory as `output` (so the final rename is atomic) and writes the header for `format`. Fails with Error::Output naming the path when the directory does not exist or is not writable.
    pub fn create_with(output: &Path, sample_rate: u32, format: SampleFormat) -> Result<Self> {
        let fail = |message: String| Error::Output {
            path: output.to_path_buf(),
            message,
        };
        if sample_rate == 0 {
            return Err(fail("sample rate must be positive".into()));
        }
        let junk = format != SampleFormat::Int16;
        let (header, _) = header(sample_rate, format, junk).ok_or_else(|| {
            fail(format!(
                "sample rate {sample_rate} Hz is too high for a WAV"
            ))
        })?;
        let temp = temp_file_beside(output, ".tmp")?;
        let handle = temp
            .as_file()
            .try_clone()
            .map_err(|e| Error::io(temp.path(), e))?;
        let mut out = BufWriter::with_capacity(1 << 16, handle);
        out.write_all(&header)
            .map_err(|e| Error::io(temp.path(), e))?;

        Ok(Self {
            out,
            temp,
            output: output.to_path_buf(),
            sample_rate,
            format,
            header_len: header.len() as u64,
            junk,
            frames: 0,
            chapters: Vec::new(),
            poisoned: false,
            riff_limit: RIFF_SIZE_LIMIT,
            scratch: Vec::new(),
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn sample_format(&self) -> SampleFormat {
        self.format
    }

    /// For tests outside this module: finish as RF64 when the RIFF size passes
    /// `riff_size` rather than 4 GiB, so that readers can be tried on an RF64
    /// file without writing 4 GiB.
    #[doc(hidden)]
    pub fn force_rf64_above(&mut self, riff_size: u64) {
        self.riff_limit = riff_size;
    }

    /// Appends samples in [-1.0, 1.0].
    ///
    /// Integer formats clip out-of-range values (never wrap) with a symmetric
    /// full scale (±32767, ±8388607), and store NaN as 0; float stores each
    /// value exactly as given.
    pub fn push_samples(&mut self, samples: &[f32]) -> Result<()> {
        self.reserve(samples.len() as u64)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut result = Ok(());
        for block in samples.chunks(BLOCK_SAMPLES) {
            scratch.clear();
            match self.format {
                SampleFormat::Int16 => {
                    for &s in block {
                        scratch.extend_from_slice(&to_i16(s).to_le_bytes());
                    }
                }
                SampleFormat::Int24 => {
                    for &s in block {
                        scratch.extend_from_slice(&to_i24(s).to_le_bytes()[..3]);
                    }
                }
                SampleFormat::Float32 => {
                    for &s in block {
                        scratch.extend_from_slice(&s.to_le_bytes());
                    }
                }
            }
            if let Err(e) = self.out.write_all(&scratch) {
                result = Err(self.poison(e));
                break;
            }
        }
        self.scratch = scratch;
        result?;
        self.frames += samples.len() as u64;
        Ok(())
    }

    pub fn push_silence(&mut self, frames: u64) -> Result<()> {
        self.reserve(frames)?;
        // Zero bytes are silence in every format, float included.
        let zeros = [0u8; 1 << 13];
        let mut left = frames * self.format.bytes_per_sample();
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            if let Err(e) = self.out.write_all(&zeros[..n]) {
                return Err(self.poison(e));
            }
            left -= n as u64;
        }
        self.frames += frames;
        Ok(())
    }

    /// Drops every frame and chapter written so far, keeping the header, so the program can
    /// be written again (a finishing pass whose gain missed the target).
    pub fn rewind(&mut self) -> Result<()> {
        let header_len = self.header_len;
        let reset = |out: &mut BufWriter<File>| -> std::io::Result<()> {
            out.flush()?;
            out.get_ref().set_len(header_len)?;
            out.seek(SeekFrom::Start(header_len)).map(|_| ())
        };
        if let Err(e) = reset(&mut self.out) {
            return Err(self.poison(e));
        }
        self.frames = 0;
        self.chapters.clear();
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

    /// Appends the marker chunks, patches the sizes (turning the file RF64 when they pass 32 bits), fsyncs, renames into place, returns the chapters as written (last chapter ends at the end of the audio).
    pub fn finish(self) -> Result<Vec<ChapterMark>> {
        let Self {
            mut out,
            temp,
            output,
            sample_rate,
            format,
            header_len,
            junk,
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
        let data_bytes = frames * format.bytes_per_sample();
        // 24-bit mono with an odd frame count leaves `data` odd: the pad byte
        // keeps the marker chunks word-aligned and is not counted in its size.
        let pad = data_bytes & 1;
        let too_large = || too_large(&output);
        let tail = (data_bytes + pad)
            .checked_add(markers.len() as u64)
            .ok_or_else(too_large)?;
        let mut riff_size = (header_len - 8).checked_add(tail).ok_or_else(too_large)?;
        let rf64 = riff_size > riff_limit;
        let rewrite = rf64 && !junk;
        let (mut head, fact_at) =
            header(sample_rate, format, junk || rf64).ok_or_else(too_large)?;
        if rewrite {
            riff_size = (head.len() as u64 - 8)
                .checked_add(tail)
                .ok_or_else(too_large)?;
        }
        let data_size_at = head.len() - 4;
        let mut put = |at: usize, bytes: &[u8]| head[at..at + bytes.len()].copy_from_slice(bytes);
        if rf64 {
            put(0, b"RF64");
            put(4, &u32::MAX.to_le_bytes());
            put(DS64_AT, b"ds64");
            put(DS64_AT + 8, &riff_size.to_le_bytes());
            put(DS64_AT + 16, &data_bytes.to_le_bytes());
            put(DS64_AT + 24, &frames.to_le_bytes());
            put(DS64_AT + 32, &0u32.to_le_bytes());
            put(data_size_at, &u32::MAX.to_le_bytes());
            if let Some(at) = fact_at {
                put(at, &u32::MAX.to_le_bytes());
            }
        } else {
            // Below the limit every size fits 32 bits: data and frames are
            // smaller than the RIFF size.
            put(4, &(riff_size as u32).to_le_bytes());
            put(data_size_at, &(data_bytes as u32).to_le_bytes());
            if let Some(at) = fact_at {
                put(at, &(frames as u32).to_le_bytes());
            }
        }

        let io = |e| Error::io(temp.path(), e);
        out.flush().map_err(io)?;
        drop(out);
        let mut file = temp.as_file();
        let end = file.seek(SeekFrom::End(0)).map_err(io)?;
        if end != header_len + data_bytes {
            return Err(Error::Output {
                path: output,
                message: format!(
                    "temporary file {} holds {end} bytes, expected {}",
                    temp.path().display(),
                    header_len + data_bytes
                ),
            });
        }

        if rewrite {
            // No room reserved for ds64: copy the samples once behind the
            // larger header, into a second temporary file.
            let copy = temp_file_beside(&output, ".tmp")?;
            let copy_io = |e| Error::io(copy.path(), e);
            let mut w = BufWriter::with_capacity(1 << 16, copy.as_file());
            w.write_all(&head).map_err(copy_io)?;
            file.seek(SeekFrom::Start(header_len)).map_err(io)?;
            let copied =
                std::io::copy(&mut Read::take(file, data_bytes), &mut w).map_err(copy_io)?;
            if copied != data_bytes {
                return Err(Error::Output {
                    path: output,
                    message: format!("copied {copied} of {data_bytes} bytes of samples"),
                });
            }
            w.write_all(&[0u8][..pad as usize]).map_err(copy_io)?;
            w.write_all(&markers).map_err(copy_io)?;
            w.flush().map_err(copy_io)?;
            drop(w);
            copy.as_file().sync_all().map_err(copy_io)?;
            persist(copy, &output)?;
            return Ok(marks);
        }

        file.write_all(&[0u8][..pad as usize]).map_err(io)?;
        file.write_all(&markers).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&head).map_err(io)?;
        file.sync_all().map_err(io)?;
        persist(temp, &output)?;
        Ok(marks)
    }

    /// Rejects a write up front, before any byte reaches the file, when its
    /// size could not even be counted (64-bit overflow).
    fn reserve(&mut self, frames: u64) -> Result<()> {
        if self.poisoned {
            return Err(Error::Output {
                path: self.output.clone(),
                message: "an earlier write failed; the program is incomplete".into(),
            });
        }
        let end = self
            .frames
            .checked_add(frames)
            .and_then(|f| f.checked_mul(self.format.bytes_per_sample()))
            .and_then(|b| b.checked_add(self.header_len + 1));
        match end {
            Some(_) => Ok(()),
            None => Err(too_large(&self.output)),
        }
    }

    fn poison(&mut self, e: std::io::Error) -> Error {
        self.poisoned = true;
        Error::io(self.temp.path(), e)
    }
}

/// The header up to and including the `data` chunk header, with placeholder
/// sizes, and where the `fact` sample count sits (float only). None when the
/// byte rate overflows 32 bits.
fn header(sample_rate: u32, format: SampleFormat, junk: bool) -> Option<(Vec<u8>, Option<usize>)> {
    let block_align = format.bytes_per_sample() as u16;
    let byte_rate = sample_rate.checked_mul(u32::from(block_align))?;
    let tag = match format {
        SampleFormat::Int16 => WAVE_FORMAT_PCM,
        SampleFormat::Int24 => WAVE_FORMAT_EXTENSIBLE,
        SampleFormat::Float32 => WAVE_FORMAT_IEEE_FLOAT,
    };
    let mut fmt = Vec::with_capacity(40);
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&sample_rate.to_le_bytes());
    fmt.extend_from_slice(&byte_rate.to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&format.bits_per_sample().to_le_bytes());
    match format {
        SampleFormat::Int16 => {}
        SampleFormat::Int24 => {
            fmt.extend_from_slice(&22u16.to_le_bytes());
            fmt.extend_from_slice(&format.bits_per_sample().to_le_bytes());
            fmt.extend_from_slice(&SPEAKER_FRONT_CENTER.to_le_bytes());
            fmt.extend_from_slice(&SUBTYPE_PCM);
        }
        // WAVEFORMATEX: non-PCM formats carry cbSize, here with nothing after it.
        SampleFormat::Float32 => fmt.extend_from_slice(&0u16.to_le_bytes()),
    }

    let mut h = Vec::with_capacity(128);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(b"WAVE");
    if junk {
        h.extend_from_slice(b"JUNK");
        h.extend_from_slice(&(DS64_BODY as u32).to_le_bytes());
        h.extend_from_slice(&[0u8; DS64_BODY as usize]);
    }
    h.extend_from_slice(b"fmt ");
    h.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    h.extend_from_slice(&fmt);
    let mut fact_at = None;
    if format == SampleFormat::Float32 {
        h.extend_from_slice(b"fact");
        h.extend_from_slice(&4u32.to_le_bytes());
        fact_at = Some(h.len());
        h.extend_from_slice(&0u32.to_le_bytes());
    }
    h.extend_from_slice(b"data");
    h.extend_from_slice(&0u32.to_le_bytes());
    Some((h, fact_at))
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

/// The 24-bit sample (in an i32) a float sample is stored as: clipped, full scale ±8388607, NaN as 0.
pub fn to_i24(sample: f32) -> i32 {
    if sample.is_nan() {
        return 0;
    }
    // In f64: f32 cannot hold every 24-bit step near full scale exactly.
    (f64::from(sample.clamp(-1.0, 1.0)) * 8_388_607.0).round() as i32
}

pub fn chapter_marks(chapters: &[(String, u64)], total_frames: u64) -> Vec<ChapterMark> {
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
    // Cue points and ltxt lengths are 32-bit even in RF64 (EBU Tech 3306 has
    // no 64-bit cue): past 2^32 frames (54 hours at 22050 Hz) a mark cannot be
    // written, and truncating it would put it in the wrong place.
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

fn too_large(output: &Path) -> Error {
    Error::Output {
        path: output.to_path_buf(),
        message: "the WAV would be more than 16 EiB, past what even RF64 can describe".into(),
    }
}

#[cfg(test)]
mod tests;
