//! RIFF/WAVE structure, read one way for every WAV aloud opens: the chunk walk (headers, pad bytes, streamed placeholder sizes) over a body in memory or a file, and the fmt chunk.
//!
//! Three readers sit on this: [`super::decode`] (a backend's answer), the HTTP layer (which
//! must tell a body cut short in transit, worth a retry, from a malformed one) and the
//! chapter-marker reader in `stitch::markers` (which walks past `data` to `cue ` and `LIST`).
//! They differ in what they do with a chunk, not in how chunks are found, so the walk and its
//! tolerances live here and each reader maps [`WavError`] to its own error.

use std::io::{Read, Seek, SeekFrom};

use super::{PcmEncoding, rate_out_of_range};

/// Why a WAV could not be read. The split between the first two is what a caller acts on:
/// a truncated body may arrive whole if asked again, a malformed one never will.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WavError {
    /// The bytes stop before what the header promises.
    #[error("{message}")]
    Truncated { message: String },
    /// The bytes are all there but do not describe audio aloud can read.
    #[error("{message}")]
    Malformed { message: String },
    /// Reading the file failed (never for a body in memory).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn truncated(message: String) -> WavError {
    WavError::Truncated { message }
}

fn malformed(message: String) -> WavError {
    WavError::Malformed { message }
}

/// A declared data size at least this large that overruns the body is a streaming placeholder
/// (no sentence clip is 1 GiB), so the audio runs to the end; a smaller one means truncation.
const PLACEHOLDER_SIZE: u64 = 0x4000_0000;

/// Chunks other than `data` are read whole; a real one is kilobytes, so anything past this is
/// a corrupt size field and would only make us allocate gigabytes.
const MAX_METADATA_CHUNK: u64 = 64 << 20;

pub(crate) const WAVE_FORMAT_PCM: u16 = 0x0001;
pub(crate) const WAVE_FORMAT_IEEE_FLOAT: u16 = 0x0003;
pub(crate) const WAVE_FORMAT_ALAW: u16 = 0x0006;
pub(crate) const WAVE_FORMAT_MULAW: u16 = 0x0007;
pub(crate) const WAVE_FORMAT_EXTENSIBLE: u16 = 0xFFFE;

pub(crate) fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A chunk id as it may be printed: anything but graphic ASCII and space becomes `?`.
pub(crate) fn fourcc(id: &[u8; 4]) -> String {
    id.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

/// Where the chunks are read from: a whole body in memory, or a file that is never read whole.
pub(crate) trait Source {
    /// Bytes in all.
    fn size(&self) -> u64;
    /// Fills `buf` from `at`; `UnexpectedEof` when the bytes are not there.
    fn read_at(&mut self, at: u64, buf: &mut [u8]) -> std::io::Result<()>;
}

impl Source for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&mut self, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let bytes = usize::try_from(at)
            .ok()
            .and_then(|at| self.get(at..at.checked_add(buf.len())?))
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

/// A file (or anything seekable) of a known length.
pub(crate) struct Seekable<R> {
    inner: R,
    size: u64,
}

impl<R: Read + Seek> Seekable<R> {
    pub(crate) fn new(inner: R, size: u64) -> Self {
        Seekable { inner, size }
    }
}

impl<R: Read + Seek> Source for Seekable<R> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.inner.seek(SeekFrom::Start(at))?;
        self.inner.read_exact(buf)
    }
}

/// One chunk header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub id: [u8; 4],
    pub size: u32,
    /// Where the header starts.
    pub offset: u64,
}

impl Chunk {
    /// Where the chunk's body starts.
    pub fn body(&self) -> u64 {
        self.offset + 8
    }

    pub fn name(&self) -> String {
        fourcc(&self.id)
    }
}

/// How much audio a `data` chunk holds, judged against the bytes that follow its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataExtent {
    /// The declared size, which fits.
    Exact(u64),
    /// A streaming writer's placeholder (0 with audio after it, or 1 GiB and more): the audio
    /// is everything that follows, this many bytes, and no chunk can be found after it.
    ToEnd(u64),
    /// A plausible size that overruns: the bytes were cut short.
    Short { declared: u64, available: u64 },
}

/// The chunks of a RIFF form, in order, after its 12-byte header.
pub(crate) struct Chunks<S> {
    source: S,
    pos: u64,
    end: u64,
}

impl<S: Source> Chunks<S> {
    /// Walks `source` up to `end`: its size, or less where an honest RIFF size says the form
    /// ends before the file does.
    pub fn new(source: S, end: u64) -> Self {
        let end = end.min(source.size());
        Chunks {
            source,
            pos: 12,
            end,
        }
    }

    /// The next chunk header, or `None` at the end. Fewer than eight bytes left are the end
    /// when they are zeros (some writers count trailing padding in the RIFF size), and half a
    /// header otherwise.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, WavError> {
        if self.pos >= self.end {
            return Ok(None);
        }
        let remaining = self.end - self.pos;
        if remaining < 8 {
            let mut tail = [0u8; 8];
            let tail = &mut tail[..remaining as usize];
            self.source.read_at(self.pos, tail)?;
            if tail.iter().all(|&b| b == 0) {
                return Ok(None);
            }
            return Err(truncated(format!(
                "truncated chunk header at offset {}",
                self.pos
            )));
        }
        let mut head = [0u8; 8];
        self.source.read_at(self.pos, &mut head)?;
        Ok(Some(Chunk {
            id: [head[0], head[1], head[2], head[3]],
            size: le32(&head, 4),
            offset: self.pos,
        }))
    }

    /// Moves past `chunk`. Chunks are padded to even sizes, but some writers forget the pad
    /// byte: it is skipped unless a chunk header starts where it would be and none a byte later.
    pub fn skip(&mut self, chunk: &Chunk) {
        let mut next = chunk.body().saturating_add(u64::from(chunk.size));
        if chunk.size % 2 == 1 && (self.header_at(next.saturating_add(1)) || !self.header_at(next))
        {
            next = next.saturating_add(1);
        }
        self.pos = next;
    }

    /// How much of what follows a `data` chunk's header is its audio.
    pub fn data_extent(&mut self, chunk: &Chunk) -> DataExtent {
        let size = u64::from(chunk.size);
        let available = self.source.size().saturating_sub(chunk.body());
        // A streamed header says 0 before the length is known; an honest 0 is followed by
        // another chunk or nothing, a placeholder by audio.
        let placeholder_zero = size == 0 && available > 0 && !self.header_at(chunk.body());
        if size <= available && !placeholder_zero {
            DataExtent::Exact(size)
        } else if size == 0 || size >= PLACEHOLDER_SIZE {
            DataExtent::ToEnd(available)
        } else {
            DataExtent::Short {
                declared: size,
                available,
            }
        }
    }

    /// An error unless `chunk` lies whole before the end.
    pub fn check_fits(&self, chunk: &Chunk) -> Result<(), WavError> {
        let room = self.end.saturating_sub(chunk.body());
        if u64::from(chunk.size) > room {
            return Err(truncated(format!(
                "truncated chunk '{}' at offset {}: it claims {} bytes but only {room} remain",
                chunk.name(),
                chunk.offset,
                chunk.size
            )));
        }
        Ok(())
    }

    /// The body of a chunk other than `data`, which must lie whole before the end.
    pub fn read_body(&mut self, chunk: &Chunk) -> Result<Vec<u8>, WavError> {
        self.check_fits(chunk)?;
        let size = u64::from(chunk.size);
        if size > MAX_METADATA_CHUNK {
            return Err(malformed(format!(
                "chunk '{}' at offset {} claims an implausible {size} bytes",
                chunk.name(),
                chunk.offset
            )));
        }
        let mut body = vec![0u8; chunk.size as usize];
        self.source.read_at(chunk.body(), &mut body)?;
        Ok(body)
    }

    /// True when a chunk header that fits starts at `at`: four ASCII letters, digits or
    /// spaces, and a size that does not overrun.
    fn header_at(&mut self, at: u64) -> bool {
        let mut head = [0u8; 8];
        if at.saturating_add(8) > self.end || self.source.read_at(at, &mut head).is_err() {
            return false;
        }
        head[..4]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b' ')
            && u64::from(le32(&head, 4)) <= self.end - at - 8
    }
}

/// What a fmt chunk says, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fmt {
    pub tag: u16,
    /// For WAVE_FORMAT_EXTENSIBLE, the real format: the first two bytes of the sub-format
    /// GUID, when the chunk is long enough to hold them.
    pub sub_tag: Option<u16>,
    pub channels: u16,
    pub sample_rate: u32,
    pub block_align: u16,
    pub bits_per_sample: u16,
    /// Bytes in the chunk.
    pub len: usize,
}

/// Reads a fmt chunk's fields; what they must be is the caller's to judge.
pub(crate) fn parse_fmt(chunk: &[u8]) -> Result<Fmt, WavError> {
    if chunk.len() < 16 {
        return Err(malformed(format!(
            "the 'fmt ' chunk is {} bytes, needs at least 16",
            chunk.len()
        )));
    }
    let tag = le16(chunk, 0);
    let fmt = Fmt {
        tag,
        sub_tag: (tag == WAVE_FORMAT_EXTENSIBLE && chunk.len() >= 26).then(|| le16(chunk, 24)),
        channels: le16(chunk, 2),
        sample_rate: le32(chunk, 4),
        block_align: le16(chunk, 12),
        bits_per_sample: le16(chunk, 14),
        len: chunk.len(),
    };
    if fmt.channels == 0 {
        return Err(malformed("the 'fmt ' chunk declares zero channels".into()));
    }
    Ok(fmt)
}

/// A WAV's format resolved to one of the encodings [`super::decode`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WavFormat {
    pub channels: u16,
    pub sample_rate: u32,
    pub encoding: PcmEncoding,
}

/// PCM, IEEE float, A-law, μ-law, or WAVE_FORMAT_EXTENSIBLE wrapping one, at a sane rate.
fn wav_format(fmt: &Fmt) -> Result<WavFormat, WavError> {
    let mut tag = fmt.tag;
    if tag == WAVE_FORMAT_EXTENSIBLE {
        // cbSize, valid bits and the channel mask come before the sub-format GUID, which
        // must be whole to be trusted.
        match fmt.sub_tag {
            Some(sub_tag) if fmt.len >= 40 => tag = sub_tag,
            _ => {
                return Err(malformed(format!(
                    "WAVE_FORMAT_EXTENSIBLE fmt chunk of {} bytes is too short",
                    fmt.len
                )));
            }
        }
    }
    if let Some(problem) = rate_out_of_range(fmt.sample_rate) {
        return Err(malformed(format!("WAV sample rate {problem}")));
    }
    let bits = fmt.bits_per_sample;
    let encoding = match (tag, bits) {
        // Depths between byte sizes (12, 20 bits) sit left-justified in whole-byte containers.
        (WAVE_FORMAT_PCM, 1..=8) => PcmEncoding::U8,
        (WAVE_FORMAT_PCM, 9..=16) => PcmEncoding::S16LE,
        (WAVE_FORMAT_PCM, 17..=24) => PcmEncoding::S24LE,
        (WAVE_FORMAT_PCM, 25..=32) => PcmEncoding::S32LE,
        (WAVE_FORMAT_IEEE_FLOAT, 32) => PcmEncoding::F32LE,
        (WAVE_FORMAT_IEEE_FLOAT, 64) => PcmEncoding::F64LE,
        (WAVE_FORMAT_ALAW, 8) => PcmEncoding::ALaw,
        (WAVE_FORMAT_MULAW, 8) => PcmEncoding::MuLaw,
        _ => {
            return Err(malformed(format!(
                "unsupported WAV encoding (format tag 0x{tag:04x}, {bits} bits); \
                 8/16/24/32-bit integer, 32/64-bit float, A-law and μ-law are"
            )));
        }
    };
    Ok(WavFormat {
        channels: fmt.channels,
        sample_rate: fmt.sample_rate,
        encoding,
    })
}

/// Finds the format and the sample bytes of a RIFF/WAVE body (the caller has checked the magic).
///
/// The RIFF size is ignored. A data size is honoured when it fits the body; a placeholder
/// (0, or 1 GiB and more, as streaming writers use) means the samples run to the end; any other
/// size that overruns means the body was cut short.
pub(crate) fn parse_wave(bytes: &[u8]) -> Result<(WavFormat, &[u8]), WavError> {
    let mut chunks = Chunks::new(bytes, bytes.len() as u64);
    let mut format = None;
    let mut data: Option<&[u8]> = None;
    while let Some(chunk) = chunks.next_chunk()? {
        match &chunk.id {
            b"fmt " => format = Some(wav_format(&parse_fmt(&chunks.read_body(&chunk)?)?)?),
            b"data" => {
                // The extent lies within `bytes`, so these casts cannot truncate.
                let body = chunk.body() as usize;
                match chunks.data_extent(&chunk) {
                    DataExtent::Exact(size) => data = Some(&bytes[body..body + size as usize]),
                    DataExtent::ToEnd(_) => {
                        data = Some(&bytes[body..]);
                        break;
                    }
                    DataExtent::Short {
                        declared,
                        available,
                    } => {
                        return Err(truncated(format!(
                            "truncated WAV: the data chunk declares {declared} bytes but {available} follow"
                        )));
                    }
                }
            }
            _ => {}
        }
        if format.is_some() && data.is_some() {
            break;
        }
        chunks.skip(&chunk);
    }
    let format = format.ok_or_else(|| {
        if bytes.len() < 12 + 8 + 16 {
            truncated(format!("truncated WAV header ({} bytes)", bytes.len()))
        } else {
            malformed("WAV without a fmt chunk".to_string())
        }
    })?;
    let data = data.ok_or_else(|| truncated("truncated WAV header: no data chunk".into()))?;
    Ok((format, data))
}

/// Hand-made RIFF/WAVE files for the tests of every reader on this walk.
#[cfg(test)]
pub(crate) mod build {
    /// A chunk as a careful writer lays it out: header, body, and a pad byte after an odd body.
    pub(crate) fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = unpadded_chunk(id, body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    /// A chunk as the writers that forget the pad byte lay it out.
    pub(crate) fn unpadded_chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        out
    }

    /// A RIFF/WAVE form holding `chunks`, with an honest RIFF size.
    pub(crate) fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body = chunks.concat();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(&body);
        out
    }

    /// A plain PCM fmt chunk.
    pub(crate) fn fmt_pcm(rate: u32, channels: u16, bits: u16) -> Vec<u8> {
        let align = channels * bits.div_ceil(8);
        let mut b = Vec::new();
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        b.extend_from_slice(&align.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        chunk(b"fmt ", &b)
    }
}

#[cfg(test)]
mod tests {
    use super::build::{chunk, fmt_pcm, riff, unpadded_chunk};
    use super::*;

    fn walk<S: Source>(source: S, end: u64) -> Vec<(String, u32, u64)> {
        let mut chunks = Chunks::new(source, end);
        let mut seen = Vec::new();
        while let Some(chunk) = chunks.next_chunk().unwrap() {
            seen.push((chunk.name(), chunk.size, chunk.offset));
            chunks.skip(&chunk);
        }
        seen
    }

    #[test]
    fn bytes_and_files_walk_alike_with_and_without_pad_bytes() {
        // "odd" is 3 bytes: first without its pad byte, then with it.
        let bytes = riff(&[
            unpadded_chunk(b"junk", b"odd"),
            fmt_pcm(8_000, 1, 16),
            chunk(b"note", b"odd\0"),
            chunk(b"data", &[0; 4]),
        ]);
        let expected = vec![
            ("junk".to_string(), 3, 12),
            ("fmt ".to_string(), 16, 23),
            ("note".to_string(), 4, 47),
            ("data".to_string(), 4, 59),
        ];
        let len = bytes.len() as u64;
        assert_eq!(walk(&bytes[..], len), expected);
        let file = Seekable::new(std::io::Cursor::new(bytes.clone()), len);
        assert_eq!(walk(file, len), expected);
    }

    #[test]
    fn half_a_header_is_truncation_and_zero_padding_the_end() {
        let mut bytes = riff(&[fmt_pcm(8_000, 1, 16)]);
        bytes.extend_from_slice(&[0, 0, 0]);
        assert_eq!(walk(&bytes[..], bytes.len() as u64).len(), 1);
        bytes.extend_from_slice(b"da");
        let mut chunks = Chunks::new(&bytes[..], bytes.len() as u64);
        let fmt = chunks.next_chunk().unwrap().unwrap();
        chunks.skip(&fmt);
        assert!(matches!(
            chunks.next_chunk(),
            Err(WavError::Truncated { message }) if message == "truncated chunk header at offset 36"
        ));
    }

    #[test]
    fn data_sizes_exact_placeholder_and_short() {
        let extent = |size: u32, audio: &[u8]| {
            let mut bytes = riff(&[fmt_pcm(8_000, 1, 16)]);
            bytes.extend_from_slice(b"data");
            bytes.extend_from_slice(&size.to_le_bytes());
            bytes.extend_from_slice(audio);
            let mut chunks = Chunks::new(&bytes[..], bytes.len() as u64);
            let fmt = chunks.next_chunk().unwrap().unwrap();
            chunks.skip(&fmt);
            let data = chunks.next_chunk().unwrap().unwrap();
            chunks.data_extent(&data)
        };
        assert_eq!(extent(2, &[1, 2, 3, 4]), DataExtent::Exact(2));
        assert_eq!(extent(0, b"LIST\0\0\0\0"), DataExtent::Exact(0));
        assert_eq!(extent(0, &[1, 2, 3, 4]), DataExtent::ToEnd(4));
        assert_eq!(extent(0x7FFF_F000, &[1, 2]), DataExtent::ToEnd(2));
        assert_eq!(
            extent(100, &[1, 2]),
            DataExtent::Short {
                declared: 100,
                available: 2
            }
        );
    }

    #[test]
    fn cut_bodies_are_truncated_and_bad_ones_malformed() {
        let whole = riff(&[fmt_pcm(8_000, 1, 16), chunk(b"data", &[0, 64, 0, 192])]);
        for cut in 12..whole.len() - 4 {
            assert!(
                matches!(parse_wave(&whole[..cut]), Err(WavError::Truncated { .. })),
                "cut at {cut}"
            );
        }
        let mut short = whole.clone();
        short[40..44].copy_from_slice(&100u32.to_le_bytes());
        assert!(matches!(
            parse_wave(&short),
            Err(WavError::Truncated { .. })
        ));

        let mut adpcm = whole.clone();
        adpcm[20..22].copy_from_slice(&2u16.to_le_bytes());
        let mut slow = whole.clone();
        slow[24..28].copy_from_slice(&10u32.to_le_bytes());
        let no_fmt = riff(&[chunk(b"LIST", &[0; 16]), chunk(b"data", &[0; 16])]);
        for bad in [adpcm, slow, no_fmt] {
            assert!(matches!(parse_wave(&bad), Err(WavError::Malformed { .. })));
        }
        let (format, data) = parse_wave(&whole).unwrap();
        assert_eq!((format.sample_rate, data), (8_000, &[0, 64, 0, 192][..]));
    }

    #[test]
    fn oversized_chunks_are_refused_before_reading() {
        let mut bytes = riff(&[fmt_pcm(8_000, 1, 16)]);
        bytes[16..20].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        let mut chunks = Chunks::new(&bytes[..], bytes.len() as u64);
        let fmt = chunks.next_chunk().unwrap().unwrap();
        assert!(
            matches!(chunks.read_body(&fmt), Err(WavError::Truncated { message })
            if message.contains("claims 2147483647 bytes but only 16 remain"))
        );
        let big = Chunk {
            id: *b"LIST",
            size: (MAX_METADATA_CHUNK + 2) as u32,
            offset: 0,
        };
        let huge = vec![0u8; MAX_METADATA_CHUNK as usize + 16];
        let mut chunks = Chunks::new(&huge[..], huge.len() as u64);
        assert!(matches!(
            chunks.read_body(&big),
            Err(WavError::Malformed { .. })
        ));
    }
}
