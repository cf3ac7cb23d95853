//! Encodes a program to a mono MP3 for the web (LAME through mp3lame-encoder), with an ID3v2.3 tag carrying the title and CTOC/CHAP chapters.
//!
//! Samples are encoded as they arrive into a temporary audio file, so memory
//! stays flat however long the program. The tag can only be built once the
//! chapters are known, and it goes in front of the audio, so `finish` writes a
//! second temporary file: the tag, LAME's Info frame (which LAME can only
//! fill in once the encoder is flushed: frame count, encoder delay and padding,
//! so players get the exact duration and can trim to the first sample), then
//! the rest of the audio. It is fsynced and renamed onto the output; until
//! then nothing exists at the output path.
//!
//! ID3v2.3 rather than 2.4: ffmpeg and mutagen read CHAP/CTOC in both, but
//! v2.3 is the version podcast apps and operating systems read most widely.
//! Text that is not Latin-1 is stored as UTF-16 with a byte order mark, as
//! v2.3 requires.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

use id3::frame::{Chapter, Comment, TableOfContents};
use id3::{Frame, TagLike, Version};
use mp3lame_encoder::{Bitrate, Builder, Encoder, FlushGap, Mode, MonoPcm, Quality};
use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::fs::{persist, temp_file_beside};
use crate::stitch::wav::ChapterMark;

/// Sample rates an MPEG-1, 2 or 2.5 layer III stream can carry, which LAME encodes without resampling.
pub const SAMPLE_RATES: [u32; 9] = [
    8000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000,
];

/// The ID3 version written: see the module documentation.
pub const ID3_VERSION: Version = Version::Id3v23;

/// What the MP3 carries besides the audio, and how the audio is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mp3Options {
    /// `TIT2`.
    pub title: String,
    /// `TPE1`, when set.
    pub artist: Option<String>,
    /// `TALB`, when set.
    pub album: Option<String>,
    /// `COMM` (language "eng", empty description), when set.
    pub comment: Option<String>,
    /// Constant bit rate in kbit/s. It must be one the stream's MPEG version
    /// allows: 32 to 320 at 32, 44.1 and 48 kHz; 8 to 160 below.
    pub bitrate_kbps: u32,
}

/// 64 kbit/s CBR: for mono speech at the programs' usual 22.05/24 kHz this is
/// LAME's full bandwidth for the rate, well past what speech needs, at under
/// 30 MB an hour. Constant rather than variable because the web's players
/// seek a CBR stream by byte proportion, exactly, while in a VBR stream they
/// estimate from the Xing table of contents, off by up to a second or more
/// in a long program, and jumping to a chapter is a seek.
pub const DEFAULT_BITRATE_KBPS: u32 = 64;

impl Default for Mp3Options {
    fn default() -> Self {
        Mp3Options {
            title: String::new(),
            artist: None,
            album: None,
            comment: None,
            bitrate_kbps: DEFAULT_BITRATE_KBPS,
        }
    }
}

/// Samples handed to LAME per call.
const BLOCK_SAMPLES: usize = 8192;

/// Writes one program as MP3. Dropping it without [`Mp3Writer::finish`]
/// deletes the temporary file and leaves `output` untouched.
pub struct Mp3Writer {
    encoder: Encoder,
    // Declared before `audio` so that its drop-time flush lands in the
    // temporary file before that file is unlinked.
    out: BufWriter<File>,
    audio: NamedTempFile,
    output: PathBuf,
    options: Mp3Options,
    sample_rate: u32,
    frames: u64,
    /// Set after a failed encode or write: the stream is incomplete.
    poisoned: bool,
    samples: Vec<f32>,
    encoded: Vec<u8>,
}

impl Mp3Writer {
    /// Sets up LAME (mono, CBR at `options.bitrate_kbps`, output rate = `sample_rate`) and a temporary file beside `output`. Fails with Error::Output naming the path for a rate or bit rate MP3 cannot carry, or a directory that does not exist or is not writable.
    pub fn create(output: &Path, sample_rate: u32, options: &Mp3Options) -> Result<Self> {
        let fail = |message: String| Error::Output {
            path: output.to_path_buf(),
            message,
        };
        if !SAMPLE_RATES.contains(&sample_rate) {
            return Err(fail(format!(
                "MP3 cannot carry {sample_rate} Hz; it takes {} Hz (resample the program first)",
                SAMPLE_RATES.map(|r| r.to_string()).join(", ")
            )));
        }
        let bitrate = bitrate(sample_rate, options.bitrate_kbps).map_err(&fail)?;
        let lame = |what: &str, e: &dyn std::fmt::Display| fail(format!("LAME {what}: {e}"));

        let mut builder = Builder::new().ok_or_else(|| fail("LAME could not allocate".into()))?;
        builder
            .set_num_channels(1)
            .map_err(|e| lame("channels", &e))?;
        builder
            .set_sample_rate(sample_rate)
            .map_err(|e| lame("sample rate", &e))?;
        // Without this LAME picks its own output rate for the bit rate
        // (resampling inside), and the stream's clock would no longer be the
        // program's.
        builder
            .set_output_sample_rate(std::num::NonZeroU32::new(sample_rate))
            .map_err(|e| lame("output sample rate", &e))?;
        builder.set_mode(Mode::Mono).map_err(|e| lame("mode", &e))?;
        builder
            .set_brate(bitrate)
            .map_err(|e| lame("bit rate", &e))?;
        // LAME's recommended trade-off of quality against speed (its -q 2, -h).
        builder
            .set_quality(Quality::NearBest)
            .map_err(|e| lame("quality", &e))?;
        // The Info (Xing) frame with the LAME extension: frame count, encoder
        // delay and padding for exact duration and gapless trimming.
        builder
            .set_to_write_vbr_tag(true)
            .map_err(|e| lame("Info frame", &e))?;
        let encoder = builder.build().map_err(|e| lame("setup", &e))?;
        if !encoder.is_lame_tag_written() {
            return Err(fail("LAME refused to write its Info frame".into()));
        }

        let audio = temp_file_beside(output, ".audio.tmp")?;
        let handle = audio
            .as_file()
            .try_clone()
            .map_err(|e| Error::io(audio.path(), e))?;
        Ok(Mp3Writer {
            encoder,
            out: BufWriter::with_capacity(1 << 16, handle),
            audio,
            output: output.to_path_buf(),
            options: options.clone(),
            sample_rate,
            frames: 0,
            poisoned: false,
            samples: Vec::with_capacity(BLOCK_SAMPLES),
            encoded: Vec::new(),
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Frames (samples) pushed so far.
    pub fn position(&self) -> u64 {
        self.frames
    }

    /// Encodes samples in [-1.0, 1.0]; out-of-range values are clipped and NaN becomes silence, as in the WAV.
    pub fn push_samples(&mut self, samples: &[f32]) -> Result<()> {
        self.check_not_poisoned()?;
        for block in samples.chunks(BLOCK_SAMPLES) {
            self.samples.clear();
            self.samples.extend(
                block
                    .iter()
                    .map(|&s| if s.is_nan() { 0.0 } else { s.clamp(-1.0, 1.0) }),
            );
            // LAME's documented worst case: 1.25 × samples + 7200 bytes.
            self.encoded.clear();
            self.encoded.reserve(block.len() * 5 / 4 + 7200);
            let input = MonoPcm(&self.samples[..]);
            if let Err(e) = self.encoder.encode_to_vec(input, &mut self.encoded) {
                self.poisoned = true;
                return Err(Error::Output {
                    path: self.output.clone(),
                    message: format!("LAME could not encode: {e}"),
                });
            }
            if let Err(e) = self.out.write_all(&self.encoded) {
                self.poisoned = true;
                return Err(Error::io(self.audio.path(), e));
            }
            self.frames += block.len() as u64;
        }
        Ok(())
    }

    /// Flushes LAME, writes the ID3v2.3 tag (title, optional artist/album/comment, `CTOC` and one `CHAP` per chapter), the completed Info frame and the audio to a temporary file, fsyncs it and renames it onto the output.
    ///
    /// `chapters` are in frames at the program's rate, as [`crate::stitch::wav::ProgramWriter::finish`]
    /// returns them; `duration_frames` must equal the frames pushed, and every
    /// chapter must end within it.
    pub fn finish(self, chapters: &[ChapterMark], duration_frames: u64) -> Result<()> {
        let Mp3Writer {
            mut encoder,
            mut out,
            audio,
            output,
            options,
            sample_rate,
            frames,
            poisoned,
            mut encoded,
            ..
        } = self;
        let fail = |message: String| Error::Output {
            path: output.clone(),
            message,
        };
        if poisoned {
            return Err(fail(
                "an earlier write failed; the program is incomplete".into(),
            ));
        }
        if duration_frames != frames {
            return Err(fail(format!(
                "the program is said to last {duration_frames} frames but {frames} were encoded"
            )));
        }
        let tag = tag(&options, chapters, frames, sample_rate).map_err(&fail)?;
        let mut tag_bytes = Vec::new();
        tag.write_to(&mut tag_bytes, ID3_VERSION)
            .map_err(|e| fail(format!("cannot encode the ID3 tag: {e}")))?;

        encoded.clear();
        encoded.reserve(7200);
        encoder
            .flush_to_vec::<FlushGap>(&mut encoded)
            .map_err(|e| fail(format!("LAME could not flush: {e}")))?;
        let io = |e| Error::io(audio.path(), e);
        out.write_all(&encoded).map_err(io)?;
        out.flush().map_err(io)?;
        drop(out);

        let mut info = vec![MaybeUninit::uninit(); encoder.lame_tag_size()];
        let info_len = encoder
            .lame_tag_encode(&mut info)
            .ok_or_else(|| fail("LAME produced no Info frame".into()))?
            .get();
        // SAFETY: lame_tag_encode initialised the first `info_len` bytes.
        let info: Vec<u8> = info[..info_len]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect();

        // The placeholder LAME wrote as its first frame has the Info frame's
        // size; the finished frame replaces it.
        let mut audio_file = audio.as_file();
        let audio_len = audio_file.seek(SeekFrom::End(0)).map_err(io)?;
        let mut head = [0u8; 4];
        audio_file.seek(SeekFrom::Start(0)).map_err(io)?;
        audio_file.read_exact(&mut head).map_err(io)?;
        if audio_len < info_len as u64 || head[0] != 0xFF || info.get(..2) != Some(&head[..2]) {
            return Err(fail(format!(
                "the encoded audio in {} does not start with LAME's placeholder frame",
                audio.path().display()
            )));
        }

        let final_temp = temp_file_beside(&output, ".tmp")?;
        let final_io = |e| Error::io(final_temp.path(), e);
        let mut writer = BufWriter::with_capacity(1 << 16, final_temp.as_file());
        writer.write_all(&tag_bytes).map_err(final_io)?;
        writer.write_all(&info).map_err(final_io)?;
        audio_file
            .seek(SeekFrom::Start(info_len as u64))
            .map_err(io)?;
        let copied = std::io::copy(&mut audio_file, &mut writer).map_err(final_io)?;
        writer.flush().map_err(final_io)?;
        drop(writer);
        if copied + info_len as u64 != audio_len {
            return Err(fail(format!(
                "copied {} of {audio_len} bytes of encoded audio",
                copied + info_len as u64
            )));
        }
        final_temp.as_file().sync_all().map_err(final_io)?;
        persist(final_temp, &output)?;
        drop(audio);
        Ok(())
    }

    fn check_not_poisoned(&self) -> Result<()> {
        if self.poisoned {
            return Err(Error::Output {
                path: self.output.clone(),
                message: "an earlier write failed; the program is incomplete".into(),
            });
        }
        Ok(())
    }
}

/// The LAME bit rate for `kbps`, if the MPEG version `sample_rate` implies allows it.
fn bitrate(sample_rate: u32, kbps: u32) -> std::result::Result<Bitrate, String> {
    let mpeg1 = sample_rate >= 32_000;
    let allowed: &[u32] = if mpeg1 {
        &[
            32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ]
    } else {
        &[8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
    };
    let lame = match kbps {
        8 => Some(Bitrate::Kbps8),
        16 => Some(Bitrate::Kbps16),
        24 => Some(Bitrate::Kbps24),
        32 => Some(Bitrate::Kbps32),
        40 => Some(Bitrate::Kbps40),
        48 => Some(Bitrate::Kbps48),
        64 => Some(Bitrate::Kbps64),
        80 => Some(Bitrate::Kbps80),
        96 => Some(Bitrate::Kbps96),
        112 => Some(Bitrate::Kbps112),
        128 => Some(Bitrate::Kbps128),
        160 => Some(Bitrate::Kbps160),
        192 => Some(Bitrate::Kbps192),
        224 => Some(Bitrate::Kbps224),
        256 => Some(Bitrate::Kbps256),
        320 => Some(Bitrate::Kbps320),
        // 56 and 144 are MPEG bit rates the binding has no name for.
        _ => None,
    };
    // LAME writes its Info frame (frame count, delay, padding: the exact
    // duration) as one frame at the stream's bit rate, and silently drops it
    // when that frame is too small to hold it: 156 bytes after the side info
    // (21 bytes for mono MPEG-1, 13 for MPEG-2 and 2.5).
    let frame_bytes = |kbps: u32| (if mpeg1 { 144_000 } else { 72_000 }) * kbps / sample_rate;
    let needed = if mpeg1 { 4 + 17 + 156 } else { 4 + 9 + 156 };
    match lame {
        Some(b) if allowed.contains(&kbps) && frame_bytes(kbps) >= needed => Ok(b),
        _ => {
            let usable: Vec<String> = allowed
                .iter()
                .filter(|&&k| k != 56 && k != 144 && frame_bytes(k) >= needed)
                .map(|k| k.to_string())
                .collect();
            Err(format!(
                "an MP3 at {sample_rate} Hz cannot be {kbps} kbit/s; use one of {} kbit/s",
                usable.join(", ")
            ))
        }
    }
}

/// Milliseconds for a frame count, rounded to the nearest.
fn millis(frames: u64, sample_rate: u32) -> std::result::Result<u32, String> {
    let ms = (u128::from(frames) * 1000 + u128::from(sample_rate) / 2) / u128::from(sample_rate);
    u32::try_from(ms).map_err(|_| format!("{frames} frames is past what a CHAP time can hold"))
}

/// The ID3 tag: text frames, then `CTOC` (top-level, ordered) naming every `CHAP`.
fn tag(
    options: &Mp3Options,
    chapters: &[ChapterMark],
    frames: u64,
    sample_rate: u32,
) -> std::result::Result<id3::Tag, String> {
    let mut tag = id3::Tag::new();
    tag.set_title(options.title.replace('\0', ""));
    if let Some(artist) = &options.artist {
        tag.set_artist(artist.replace('\0', ""));
    }
    if let Some(album) = &options.album {
        tag.set_album(album.replace('\0', ""));
    }
    if let Some(comment) = &options.comment {
        tag.add_frame(Comment {
            lang: "eng".into(),
            description: String::new(),
            text: comment.replace('\0', ""),
        });
    }
    // TLEN: the exact length, for players that read it before the Info frame.
    tag.add_frame(Frame::text(
        "TLEN",
        millis(frames, sample_rate)?.to_string(),
    ));

    if chapters.is_empty() {
        return Ok(tag);
    }
    let ids: Vec<String> = (0..chapters.len()).map(|i| format!("ch{i}")).collect();
    tag.add_frame(TableOfContents {
        element_id: "toc".into(),
        top_level: true,
        ordered: true,
        elements: ids.clone(),
        frames: Vec::new(),
    });
    for (mark, id) in chapters.iter().zip(ids) {
        let end = mark
            .start_frame
            .checked_add(mark.length_frames)
            .filter(|&end| end <= frames)
            .ok_or_else(|| {
                format!(
                    "chapter {:?} ends past the end of the program ({frames} frames)",
                    mark.title
                )
            })?;
        tag.add_frame(Chapter {
            element_id: id,
            start_time: millis(mark.start_frame, sample_rate)?,
            end_time: millis(end, sample_rate)?,
            // No byte offsets: readers then go by the times.
            start_offset: u32::MAX,
            end_offset: u32::MAX,
            frames: vec![Frame::text("TIT2", mark.title.replace('\0', ""))],
        });
    }
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Why `Mp3Writer::create` refuses `sample_rate` with `options`.
    fn create_error(out: &Path, sample_rate: u32, options: &Mp3Options) -> String {
        Mp3Writer::create(out, sample_rate, options)
            .err()
            .unwrap()
            .to_string()
    }

    #[test]
    fn rates_and_bit_rates_mp3_cannot_carry_are_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.mp3");
        let err = create_error(&out, 22_000, &Mp3Options::default());
        assert!(err.contains("22000 Hz") && err.contains("22050"), "{err}");
        let options = Mp3Options {
            bitrate_kbps: 192,
            ..Mp3Options::default()
        };
        let err = create_error(&out, 22_050, &options);
        assert!(err.contains("192 kbit/s") && err.contains("160"), "{err}");
        assert!(Mp3Writer::create(&out, 44_100, &options).is_ok());
        // 48 kbit/s frames at 22050 Hz are too small for LAME's Info frame.
        let options = Mp3Options {
            bitrate_kbps: 48,
            ..Mp3Options::default()
        };
        let err = create_error(&out, 22_050, &options);
        assert!(err.contains("use one of 64, "), "{err}");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "dropped writers leave nothing"
        );
    }

    #[test]
    fn every_rate_lame_supports_builds() {
        let dir = tempfile::tempdir().unwrap();
        for rate in SAMPLE_RATES {
            let out = dir.path().join(format!("{rate}.mp3"));
            let mut w = Mp3Writer::create(&out, rate, &Mp3Options::default()).unwrap();
            w.push_samples(&vec![0.1; rate as usize / 10]).unwrap();
            let frames = w.position();
            w.finish(&[], frames).unwrap();
            let bytes = std::fs::read(&out).unwrap();
            assert_eq!(&bytes[..3], b"ID3", "{rate}");
        }
    }

    #[test]
    fn chapter_times_are_rounded_milliseconds() {
        assert_eq!(millis(0, 22_050), Ok(0));
        assert_eq!(millis(22_050, 22_050), Ok(1000));
        // 11 frames at 22050 Hz = 0.4988 ms -> 0; 12 -> 0.544 ms -> 1.
        assert_eq!(millis(11, 22_050), Ok(0));
        assert_eq!(millis(12, 22_050), Ok(1));
        assert!(millis(u64::MAX, 8000).is_err());
    }

    #[test]
    fn a_file_decoded_packet_by_packet_gives_the_samples_a_whole_decode_gives() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.mp3");
        let rate = 22_050;
        let tone: Vec<f32> = (0..rate * 2)
            .map(|i| 0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin())
            .collect();
        let mut w = Mp3Writer::create(&out, rate, &Mp3Options::default()).unwrap();
        w.push_samples(&tone).unwrap();
        let frames = w.position();
        w.finish(&[], frames).unwrap();

        let whole = crate::audio::decode(&std::fs::read(&out).unwrap(), "t.mp3").unwrap();
        let mut streamed = Vec::new();
        let mut blocks = 0;
        let got_rate = crate::audio::decode_file_each(&out, &mut |block, rate| {
            assert_eq!(rate, 22_050);
            blocks += 1;
            streamed.extend_from_slice(block);
            Ok(())
        })
        .unwrap();
        assert_eq!(got_rate, whole.sample_rate);
        assert_eq!(streamed, whole.samples);
        assert!(blocks > 10, "decoded in packets, not whole: {blocks}");

        // A stop asked for by the callback is its own error, not a decoding one.
        let stop = crate::audio::decode_file_each(&out, &mut |_, _| {
            Err(Error::Usage {
                message: "enough".into(),
            })
        })
        .unwrap_err();
        assert_eq!(stop.to_string(), "enough");
        let wav = dir.path().join("t.wav");
        std::fs::write(&wav, b"RIFF\0\0\0\0WAVEfmt ").unwrap();
        assert!(crate::audio::decode_file_each(&wav, &mut |_, _| Ok(())).is_err());
    }

    #[test]
    fn duration_must_match_what_was_encoded() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("d.mp3");
        let mut w = Mp3Writer::create(&out, 16_000, &Mp3Options::default()).unwrap();
        w.push_samples(&[0.0; 1600]).unwrap();
        let err = w.finish(&[], 1601).unwrap_err().to_string();
        assert!(err.contains("1601") && err.contains("1600"), "{err}");
        assert!(!out.exists());

        let mut w = Mp3Writer::create(&out, 16_000, &Mp3Options::default()).unwrap();
        w.push_samples(&[0.0; 1600]).unwrap();
        let late = ChapterMark {
            title: "late".into(),
            start_frame: 1000,
            length_frames: 601,
        };
        let err = w.finish(&[late], 1600).unwrap_err().to_string();
        assert!(err.contains("ends past the end"), "{err}");
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }
}
