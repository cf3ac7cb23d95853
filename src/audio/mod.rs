//! Decodes whatever a backend returns (WAV, MP3, FLAC, Ogg Vorbis, raw PCM) and converts it to the program's rate and channel layout.
//!
//! A backend passes its response body to [`decode`] whatever its `Content-Type` said (Piper's
//! HTTP server labels WAV `text/html`): the format is [`sniff`]ed from magic bytes. WAV is parsed
//! by aloud's own RIFF reader (`riff`, shared with the other WAV readers) rather than by
//! symphonia, because speech engines that stream write placeholder sizes (`espeak-ng --stdout`
//! declares a data chunk of 0x7FFFF000 bytes, some servers 0 or 0xFFFFFFFF), which symphonia
//! either refuses (a RIFF size of 0) or cannot tell from a cut body; MP3, FLAC and Ogg Vorbis
//! go through symphonia. Headerless PCM, which a backend
//! has to ask for with a known layout, goes through [`decode_raw`]. Every decoder downmixes to
//! mono by averaging the channels, and [`resample`] brings a clip to the program's rate.

pub mod edges;
pub mod loudness;
pub(crate) mod riff;

use crate::error::{Error, Result};
use riff::WavError;
use std::path::Path;

/// Mono audio returned by a backend for one sentence, samples in [-1.0, 1.0].
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// When each word is spoken, for backends that report it (empty otherwise).
    pub words: Vec<WordTiming>,
}

/// When one word of a request is heard within its clip.
#[derive(Debug, Clone, PartialEq)]
pub struct WordTiming {
    /// Byte range of the word in the request's `text`.
    pub range: std::ops::Range<usize>,
    /// Seconds from the start of the clip.
    pub start: f64,
    pub end: f64,
}

impl Clip {
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Self {
        Clip {
            samples,
            sample_rate,
            words: Vec::new(),
        }
    }

    pub fn duration(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(
            self.samples.len() as f64 / f64::from(self.sample_rate.max(1)),
        )
    }
}

/// A container recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    /// RIFF/WAVE, including RF64 and BW64.
    Wav,
    /// MPEG-1/2 Layer III, with or without a leading ID3v2 tag.
    Mp3,
    Flac,
    /// An Ogg stream; only Vorbis inside it can be decoded.
    Ogg,
    Unknown,
}

/// Sample encoding of headerless PCM; multi-byte encodings are little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcmEncoding {
    /// Unsigned 8-bit, silence at 128.
    U8,
    S16LE,
    /// Signed 24-bit packed in three bytes.
    S24LE,
    S32LE,
    F32LE,
    F64LE,
    /// G.711 μ-law, one byte a sample.
    MuLaw,
    /// G.711 A-law, one byte a sample.
    ALaw,
}

impl PcmEncoding {
    pub fn bytes_per_sample(self) -> usize {
        match self {
            PcmEncoding::U8 | PcmEncoding::MuLaw | PcmEncoding::ALaw => 1,
            PcmEncoding::S16LE => 2,
            PcmEncoding::S24LE => 3,
            PcmEncoding::S32LE | PcmEncoding::F32LE => 4,
            PcmEncoding::F64LE => 8,
        }
    }
}

/// The layout of headerless PCM, which the backend knows from what it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPcm {
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    pub encoding: PcmEncoding,
}

/// Rates outside this range are taken for a corrupt header rather than audio.
const RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// Says "`rate` Hz is outside 1000..=768000 Hz" when `rate` is outside [`RATES`].
fn rate_out_of_range(rate: u32) -> Option<String> {
    (!RATES.contains(&rate)).then(|| {
        format!(
            "{rate} Hz is outside {}..={} Hz",
            RATES.start(),
            RATES.end()
        )
    })
}

/// Identifies the container from its first bytes, never from a `Content-Type`.
pub fn sniff(bytes: &[u8]) -> AudioFormat {
    if bytes.len() >= 12
        && matches!(&bytes[..4], b"RIFF" | b"RF64" | b"BW64")
        && &bytes[8..12] == b"WAVE"
    {
        return AudioFormat::Wav;
    }
    if bytes.starts_with(b"OggS") {
        return AudioFormat::Ogg;
    }
    let after_tag = skip_id3v2(bytes);
    if after_tag.starts_with(b"fLaC") {
        return AudioFormat::Flac;
    }
    if after_tag.len() < bytes.len() || is_mp3_frame_header(bytes) {
        return AudioFormat::Mp3;
    }
    AudioFormat::Unknown
}

/// The bytes after a leading ID3v2 tag, or all of them when there is none.
fn skip_id3v2(bytes: &[u8]) -> &[u8] {
    if bytes.len() < 10 || !bytes.starts_with(b"ID3") || bytes[6..10].iter().any(|b| b & 0x80 != 0)
    {
        return bytes;
    }
    // The size is "syncsafe": four 7-bit groups, excluding the 10-byte header and any footer.
    let size = bytes[6..10]
        .iter()
        .fold(0usize, |size, &b| (size << 7) | usize::from(b));
    let footer = if bytes[5] & 0x10 != 0 { 10 } else { 0 };
    &bytes[(10 + size + footer).min(bytes.len())..]
}

/// A plausible MPEG audio Layer III frame header: sync, a valid version, bitrate and rate.
fn is_mp3_frame_header(bytes: &[u8]) -> bool {
    let [0xFF, b1, b2, ..] = *bytes else {
        return false;
    };
    b1 & 0xE0 == 0xE0
        && (b1 >> 3) & 0b11 != 0b01 // reserved version
        && (b1 >> 1) & 0b11 == 0b01 // Layer III
        && b2 >> 4 != 0xF // bad bitrate
        && (b2 >> 2) & 0b11 != 0b11 // reserved rate
}

fn audio_error(origin: &str, message: impl Into<String>) -> Error {
    Error::Audio {
        origin: origin.to_string(),
        message: message.into(),
    }
}

/// Decodes an encoded clip to mono f32 at its own rate. `origin` names the backend/sentence for errors.
pub fn decode(bytes: &[u8], origin: &str) -> Result<Clip> {
    let decoded = match sniff(bytes) {
        AudioFormat::Wav => decode_wav(bytes).map_err(|e| e.to_string()),
        AudioFormat::Unknown => Err(describe_unknown(bytes)),
        format @ (AudioFormat::Mp3 | AudioFormat::Flac | AudioFormat::Ogg) => {
            if format == AudioFormat::Ogg && ogg_codec_is_opus(bytes) {
                Err(
                    "Ogg Opus is not supported; ask the backend for WAV, FLAC, MP3 or Ogg Vorbis"
                        .to_string(),
                )
            } else {
                // Symphonia is well fuzzed, but a panic on one server's odd stream must not take
                // the whole narration down with it.
                std::panic::catch_unwind(|| decode_with_symphonia(bytes, format)).unwrap_or_else(
                    |_| Err(format!("the {format:?} decoder failed on this stream")),
                )
            }
        }
    };
    decoded
        .and_then(check_clip)
        .map_err(|message| audio_error(origin, message))
}

/// Decodes headerless interleaved PCM laid out as `format` says; a trailing partial frame is ignored.
pub fn decode_raw(bytes: &[u8], format: &RawPcm, origin: &str) -> Result<Clip> {
    let fail = |message: String| audio_error(origin, message);
    if let Some(problem) = rate_out_of_range(format.sample_rate) {
        return Err(fail(format!("raw PCM at {problem}")));
    }
    if format.channels == 0 {
        return Err(fail("raw PCM with zero channels".to_string()));
    }
    if bytes.is_empty() || looks_like_text(bytes) {
        return Err(fail(describe_unknown(bytes)));
    }
    if sniff(bytes) == AudioFormat::Wav {
        // The server sent a WAV file although raw PCM was asked for: its header says more than
        // the request did, and reading it as samples would put a click at the start.
        return decode(bytes, origin);
    }
    let samples = pcm_to_mono(bytes, usize::from(format.channels), format.encoding);
    check_clip(Clip {
        samples,
        sample_rate: format.sample_rate,
        words: Vec::new(),
    })
    .map_err(fail)
}

/// Resamples with rubato (a quality sinc resampler) and returns a clip at `rate`; identity when equal.
///
/// The asynchronous sinc resampler with cubic interpolation of a 256-tap Blackman-Harris filter
/// is rubato's highest quality setting; the clip's length becomes `ceil(len * rate / clip_rate)`
/// with the filter delay trimmed, so a resampled clip starts where the original did.
pub fn resample(clip: Clip, rate: u32) -> Result<Clip> {
    use rubato::audioadapter_buffers::direct::InterleavedSlice;
    use rubato::{Async, FixedAsync, Resampler, SincInterpolationParameters, WindowFunction};

    if clip.sample_rate == rate {
        return Ok(clip);
    }
    let fail = |message: String| {
        audio_error(
            "resampler",
            format!("{} Hz to {rate} Hz: {message}", clip.sample_rate),
        )
    };
    if !RATES.contains(&rate) || !RATES.contains(&clip.sample_rate) {
        return Err(fail(format!(
            "rates must lie within {}..={} Hz",
            RATES.start(),
            RATES.end()
        )));
    }
    if clip.samples.is_empty() {
        return Ok(Clip {
            samples: Vec::new(),
            sample_rate: rate,
            words: clip.words,
        });
    }
    let frames = clip.samples.len();
    let ratio = f64::from(rate) / f64::from(clip.sample_rate);
    let parameters = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2);
    let mut resampler = Async::<f32>::new_sinc(ratio, 1.0, &parameters, 1024, 1, FixedAsync::Input)
        .map_err(|e| fail(e.to_string()))?;
    let input =
        InterleavedSlice::new(&clip.samples[..], 1, frames).map_err(|e| fail(e.to_string()))?;
    let output = resampler
        .process_all(&input, frames, None)
        .map_err(|e| fail(e.to_string()))?;
    let mut samples = output.take_data();
    // The sinc filter rings a little past full scale on clipped input.
    for sample in &mut samples {
        *sample = sample.clamp(-1.0, 1.0);
    }
    Ok(Clip {
        samples,
        sample_rate: rate,
        words: clip.words,
    })
}

/// The last checks every decoded clip passes: a sane rate and at least one sample.
fn check_clip(clip: Clip) -> std::result::Result<Clip, String> {
    if !RATES.contains(&clip.sample_rate) {
        return Err(format!(
            "sample rate {} Hz is outside {}..={} Hz",
            clip.sample_rate,
            RATES.start(),
            RATES.end()
        ));
    }
    if clip.samples.is_empty() {
        return Err("the audio holds no samples".to_string());
    }
    Ok(clip)
}

/// Says what a body that is not recognisable audio looks like instead.
fn describe_unknown(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "expected audio, got an empty body".to_string();
    }
    let n = bytes.len();
    if looks_like_text(bytes) {
        let text = String::from_utf8_lossy(&bytes[..n.min(200)]);
        let excerpt: String = text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .chars()
            .take(40)
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        return format!(
            "expected audio, got {n} bytes starting '{}'",
            excerpt.trim_end()
        );
    }
    let unsupported = if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some("WebM/Matroska")
    } else if bytes.get(4..8) == Some(b"ftyp") {
        Some("MP4/M4A")
    } else if bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xF6 == 0xF0 {
        Some("AAC (ADTS)")
    } else if bytes.starts_with(b"FORM") && matches!(bytes.get(8..12), Some(b"AIFF" | b"AIFC")) {
        Some("AIFF")
    } else if bytes.starts_with(b"RIFX") {
        Some("big-endian WAV (RIFX)")
    } else {
        None
    };
    if let Some(name) = unsupported {
        return format!(
            "{name} audio is not supported; ask the backend for WAV, FLAC, MP3 or Ogg Vorbis"
        );
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "expected audio (WAV, MP3, FLAC or Ogg Vorbis), got {n} bytes of an unknown format starting {}",
        head.join(" ")
    )
}

/// True for a body that reads as text: an HTML error page, JSON, a plain message.
fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(256)];
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // The 256-byte window may end inside a character.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    let text = text.trim_start_matches('\u{feff}');
    !text.trim().is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
}

/// True when the first logical stream of an Ogg body is Opus.
fn ogg_codec_is_opus(bytes: &[u8]) -> bool {
    // The first page's single packet starts right after the header and its segment table.
    let Some(&segments) = bytes.get(26) else {
        return false;
    };
    let start = 27 + usize::from(segments);
    bytes
        .get(start..start + 8)
        .is_some_and(|magic| magic == b"OpusHead")
}

/// Interleaved PCM to mono by averaging channels; a trailing partial frame is dropped.
pub(crate) fn pcm_to_mono(data: &[u8], channels: usize, encoding: PcmEncoding) -> Vec<f32> {
    let width = encoding.bytes_per_sample();
    let frame_bytes = width * channels;
    let scale = 1.0 / channels as f32;
    data.chunks_exact(frame_bytes)
        .map(|frame| {
            let sum: f32 = frame
                .chunks_exact(width)
                .map(|sample| pcm_sample(sample, encoding))
                .sum();
            sanitize(sum * scale)
        })
        .collect()
}

fn sanitize(sample: f32) -> f32 {
    if sample.is_finite() {
        sample.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

fn pcm_sample(b: &[u8], encoding: PcmEncoding) -> f32 {
    match encoding {
        PcmEncoding::U8 => (f32::from(b[0]) - 128.0) / 128.0,
        PcmEncoding::S16LE => f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0,
        PcmEncoding::S24LE => {
            // Shift the 24 bits to the top of an i32 so the sign extends, then scale.
            let value = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
            value as f32 / 8_388_608.0
        }
        PcmEncoding::S32LE => {
            (f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])) / 2_147_483_648.0) as f32
        }
        PcmEncoding::F32LE => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        PcmEncoding::F64LE => {
            f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
        }
        PcmEncoding::MuLaw => f32::from(mulaw_to_linear(b[0])) / 32_768.0,
        PcmEncoding::ALaw => f32::from(alaw_to_linear(b[0])) / 32_768.0,
    }
}

/// G.711 μ-law expansion to 16-bit linear.
fn mulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let magnitude = ((i16::from(u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07);
    if u & 0x80 != 0 {
        0x84 - magnitude
    } else {
        magnitude - 0x84
    }
}

/// G.711 A-law expansion to 16-bit linear.
fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mantissa = i16::from(a & 0x0F) << 4;
    let magnitude = match (a >> 4) & 0x07 {
        0 => mantissa + 8,
        segment => (mantissa + 0x108) << (segment - 1),
    };
    if a & 0x80 != 0 { magnitude } else { -magnitude }
}

/// A RIFF/WAVE body decoded to mono at its own rate; the error says whether it was cut short.
pub(crate) fn decode_wav(bytes: &[u8]) -> std::result::Result<Clip, WavError> {
    let (format, data) = riff::parse_wave(bytes)?;
    check_clip(Clip {
        samples: pcm_to_mono(data, usize::from(format.channels), format.encoding),
        sample_rate: format.sample_rate,
        words: Vec::new(),
    })
    .map_err(|message| WavError::Malformed { message })
}

fn decode_with_symphonia(bytes: &[u8], format: AudioFormat) -> std::result::Result<Clip, String> {
    let source = symphonia::core::io::MediaSourceStream::new(
        Box::new(std::io::Cursor::new(bytes)),
        Default::default(),
    );
    let mut samples = Vec::new();
    let sample_rate = decode_each(source, format, bytes.len() as u64, &mut |block, _| {
        samples.extend_from_slice(block);
        Ok(())
    })?;
    Ok(Clip {
        samples,
        sample_rate,
        words: Vec::new(),
    })
}

/// Decodes an MP3, FLAC or Ogg Vorbis file packet by packet, handing each block of mono
/// samples (and the rate) to `each`: measuring a long program this way needs no more memory
/// than one packet. Returns the sample rate.
pub fn decode_file_each(
    path: &Path,
    each: &mut dyn FnMut(&[f32], u32) -> Result<()>,
) -> Result<u32> {
    let origin = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < head.len() {
        match std::io::Read::read(&mut file, &mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    let format = sniff(&head[..read]);
    if !matches!(
        format,
        AudioFormat::Mp3 | AudioFormat::Flac | AudioFormat::Ogg
    ) {
        return Err(audio_error(
            &origin,
            "not an MP3, FLAC or Ogg Vorbis file".to_string(),
        ));
    }
    std::io::Seek::rewind(&mut file).map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let source = symphonia::core::io::MediaSourceStream::new(Box::new(file), Default::default());
    // The callback's own error is kept aside: symphonia's path only carries strings.
    let mut failed = None;
    let decoded = decode_each(source, format, size, &mut |block, rate| {
        each(block, rate).map_err(|e| {
            let message = e.to_string();
            failed = Some(e);
            message
        })
    });
    match (decoded, failed) {
        (_, Some(error)) => Err(error),
        (Ok(rate), None) => Ok(rate),
        (Err(message), None) => Err(audio_error(&origin, message)),
    }
}

/// Takes each decoded block of mono samples and their rate; a message stops decoding.
type BlockSink<'a> = dyn FnMut(&[f32], u32) -> std::result::Result<(), String> + 'a;

/// The decoding loop behind [`decode`] and [`decode_file_each`].
fn decode_each(
    source: symphonia::core::io::MediaSourceStream,
    format: AudioFormat,
    size: u64,
    each: &mut BlockSink,
) -> std::result::Result<u32, String> {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::errors::Error as SymphoniaError;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::meta::MetadataOptions;

    let name = match format {
        AudioFormat::Mp3 => "MP3",
        AudioFormat::Flac => "FLAC",
        AudioFormat::Ogg => "Ogg",
        AudioFormat::Wav | AudioFormat::Unknown => "audio",
    };
    let mut hint = Hint::new();
    hint.with_extension(match format {
        AudioFormat::Mp3 => "mp3",
        AudioFormat::Flac => "flac",
        _ => "ogg",
    });
    let mut reader = symphonia::default::get_probe()
        .probe(
            &hint,
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| format!("not a readable {name} stream ({size} bytes): {e}"))?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or_else(|| format!("{name} stream without an audio track"))?;
    let track_id = track.id;
    let promised_frames = track.num_frames;
    let parameters = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| format!("{name} stream without audio codec parameters"))?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&parameters, &AudioDecoderOptions::default())
        .map_err(|e| format!("cannot decode the {name} stream's codec: {e}"))?;

    let mut sample_rate = parameters.sample_rate;
    let mut frames = 0u64;
    let mut interleaved: Vec<f32> = Vec::new();
    let mut mono: Vec<f32> = Vec::new();
    let mut last_error = None;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A body cut mid-packet ends where it ends; a promised length catches it below.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            // A chained stream (a second Ogg stream after the first): keep the first.
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(format!("cannot read the {name} stream: {e}")),
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => {
                let rate = buffer.spec().rate();
                if *sample_rate.get_or_insert(rate) != rate {
                    return Err(format!("{name} stream changes sample rate mid-stream"));
                }
                let channels = buffer.num_planes();
                if channels == 0 {
                    continue;
                }
                interleaved.resize(buffer.samples_interleaved(), 0.0);
                buffer.copy_to_slice_interleaved(&mut interleaved);
                let scale = 1.0 / channels as f32;
                mono.clear();
                mono.extend(
                    interleaved
                        .chunks_exact(channels)
                        .map(|frame| sanitize(frame.iter().sum::<f32>() * scale)),
                );
                frames += mono.len() as u64;
                each(&mono, rate)?;
            }
            // A corrupt packet is skipped, as players do; the rest may still decode.
            Err(SymphoniaError::DecodeError(e)) => last_error = Some(e.to_string()),
            Err(SymphoniaError::IoError(e)) => last_error = Some(e.to_string()),
            Err(e) => return Err(format!("cannot decode the {name} stream: {e}")),
        }
    }
    if frames == 0 {
        return Err(match last_error {
            Some(e) => format!("{name} stream decoded to no samples (last error: {e})"),
            None => format!("{name} stream holds no samples"),
        });
    }
    if let Some(promised) = promised_frames
        && frames < promised
    {
        return Err(format!(
            "truncated {name}: the stream promises {promised} frames but only {frames} decode"
        ));
    }
    Ok(sample_rate.unwrap_or(0))
}

#[cfg(test)]
mod tests;
