//! A program streamed as it is made: a 16-bit WAV with open-ended sizes, its level set from the first sentence and held by the true-peak limiter.
//!
//! A file is finished with one gain measured over the whole program; a stream cannot wait for
//! the whole program, so it measures the start (the first sentence, or more when that is too
//! short to measure), sets the gain that brings it to the target, and keeps it. The limiter
//! is the same one, so the ceiling holds exactly; the level is as close to the target as
//! the first sentence is typical of the rest.

use crate::audio::loudness::{Limiter, LoudnessTarget, Meter, gain_through_limiter};
use crate::error::{Error, Result};
use crate::stitch::Container;
use crate::stitch::wav::SampleFormat;
use crate::stitch::wav::to_i16;
use std::io::Write;

/// RIFF and data sizes a stream cannot know in advance; readers take them to mean "until the
/// end of the stream" (as ffmpeg, sox and the players do).
const UNKNOWN_SIZE: u32 = u32::MAX;

/// The 44-byte header of a mono 16-bit PCM WAV whose length is not known yet.
pub fn stream_header(sample_rate: u32) -> [u8; 44] {
    let mut header = [0u8; 44];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        header[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(b"RIFF");
    put(&UNKNOWN_SIZE.to_le_bytes());
    put(b"WAVE");
    put(b"fmt ");
    put(&16u32.to_le_bytes());
    put(&1u16.to_le_bytes()); // PCM
    put(&1u16.to_le_bytes()); // mono
    put(&sample_rate.to_le_bytes());
    put(&(sample_rate * 2).to_le_bytes()); // bytes per second
    put(&2u16.to_le_bytes()); // block align
    put(&16u16.to_le_bytes()); // bits per sample
    put(b"data");
    put(&UNKNOWN_SIZE.to_le_bytes());
    header
}

/// What a finished stream reports.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StreamReport {
    /// The gain applied to the whole stream, in dB (0 with loudness off).
    pub gain_db: f64,
    /// Integrated loudness of the opening the gain was set from, if it could be measured.
    pub measured_lufs: Option<f64>,
    /// Frames written.
    pub frames: u64,
}

/// Finishes samples on their way to a writer: holds the opening until its loudness is
/// known, then applies one gain through the limiter and writes 16-bit PCM.
pub struct LiveFinisher<W: Write> {
    out: W,
    sample_rate: u32,
    target: Option<LoudnessTarget>,
    meter: Meter,
    /// The opening, held until its loudness can be measured.
    held: Vec<f32>,
    limiter: Option<Limiter>,
    decided: Option<(f64, Option<f64>)>,
    frames: u64,
    scratch: Vec<f32>,
}

impl<W: Write> LiveFinisher<W> {
    /// Writes the WAV header at once, so a player can open the stream before the first
    /// sentence is ready.
    pub fn start(mut out: W, sample_rate: u32, target: Option<LoudnessTarget>) -> Result<Self> {
        out.write_all(&stream_header(sample_rate))
            .and_then(|()| out.flush())
            .map_err(stream_error)?;
        Ok(LiveFinisher {
            out,
            sample_rate,
            target,
            meter: Meter::integrated_only(sample_rate)?,
            held: Vec::new(),
            limiter: None,
            decided: None,
            frames: 0,
            scratch: Vec::new(),
        })
    }

    /// Frames written so far (none while the opening is held).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Takes one sentence as laid out (with the pause before it). Until the gain is set, the
    /// opening is held; once it can be measured, at the end of a sentence, it sets the gain
    /// and is written.
    pub fn push_sentence(&mut self, samples: &[f32]) -> Result<()> {
        if self.decided.is_some() {
            return self.emit(samples);
        }
        self.held.extend_from_slice(samples);
        self.meter.add(samples)?;
        let measured = self.meter.report().integrated_lufs;
        if measured.is_some() || self.target.is_none() {
            self.decide(measured)?;
        }
        Ok(())
    }

    /// Writes what is left (an opening too short to measure keeps its own level).
    pub fn finish(mut self) -> Result<StreamReport> {
        if self.decided.is_none() {
            let measured = self.meter.report().integrated_lufs;
            self.decide(measured)?;
        }
        if let Some(limiter) = &mut self.limiter {
            self.scratch.clear();
            limiter.flush(&mut self.scratch);
            let rest = std::mem::take(&mut self.scratch);
            self.write_pcm(&rest)?;
        }
        self.out.flush().map_err(stream_error)?;
        let (gain_db, measured_lufs) = self.decided.unwrap_or((0.0, None));
        Ok(StreamReport {
            gain_db,
            measured_lufs,
            frames: self.frames,
        })
    }

    fn decide(&mut self, measured: Option<f64>) -> Result<()> {
        let mut gain_db = 0.0;
        if let Some(target) = self.target {
            // Aimed like a 16-bit WAV file's limiter, with the same search for the gain that
            // lands on target through it, made on the opening.
            let ceiling =
                target.ceiling_dbtp - Container::Wav(SampleFormat::Int16).ceiling_margin_db();
            if let Some(lufs) = measured {
                let (held, rate) = (&self.held, self.sample_rate);
                gain_db = gain_through_limiter(target.lufs - lufs, target.lufs, |gain_db| {
                    let mut limiter = Limiter::new(rate, gain_db, ceiling);
                    let mut rendered = Vec::with_capacity(held.len());
                    limiter.process(held, &mut rendered);
                    limiter.flush(&mut rendered);
                    let mut meter = Meter::integrated_only(rate)?;
                    meter.add(&rendered)?;
                    Ok(meter.report().integrated_lufs)
                })?;
            }
            self.limiter = Some(Limiter::new(self.sample_rate, gain_db, ceiling));
        }
        self.decided = Some((gain_db, measured));
        let held = std::mem::take(&mut self.held);
        self.emit(&held)
    }

    fn emit(&mut self, samples: &[f32]) -> Result<()> {
        match &mut self.limiter {
            Some(limiter) => {
                self.scratch.clear();
                limiter.process(samples, &mut self.scratch);
                let ready = std::mem::take(&mut self.scratch);
                self.write_pcm(&ready)?;
                self.scratch = ready;
            }
            None => self.write_pcm(samples)?,
        }
        self.out.flush().map_err(stream_error)
    }

    fn write_pcm(&mut self, samples: &[f32]) -> Result<()> {
        let mut bytes = Vec::with_capacity(samples.len() * 2);
        for sample in samples {
            bytes.extend_from_slice(&to_i16(*sample).to_le_bytes());
        }
        self.out.write_all(&bytes).map_err(stream_error)?;
        self.frames += samples.len() as u64;
        Ok(())
    }
}

fn stream_error(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Error::ReaderGone {
            what: "the audio stream".to_string(),
        };
    }
    Error::Output {
        path: "the audio stream".into(),
        message: format!("cannot write: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::loudness::measure;

    fn speechlike(seconds: f64, rate: u32, amplitude: f32) -> Vec<f32> {
        let frames = (seconds * f64::from(rate)) as usize;
        (0..frames)
            .map(|i| {
                let t = i as f32 / rate as f32;
                // A 3 Hz syllable envelope over a 220 Hz voice.
                let envelope = (t * 3.0 * std::f32::consts::TAU).sin().abs();
                amplitude * envelope * (t * 220.0 * std::f32::consts::TAU).sin()
            })
            .collect()
    }

    #[test]
    fn the_header_says_mono_16_bit_at_the_rate_with_open_sizes() {
        let header = stream_header(22050);
        assert_eq!(&header[0..4], b"RIFF");
        assert_eq!(&header[8..16], b"WAVEfmt ");
        assert_eq!(
            u32::from_le_bytes(header[24..28].try_into().unwrap()),
            22050
        );
        assert_eq!(u16::from_le_bytes(header[34..36].try_into().unwrap()), 16);
        assert_eq!(&header[36..40], b"data");
        assert_eq!(
            u32::from_le_bytes(header[40..44].try_into().unwrap()),
            u32::MAX
        );
    }

    #[test]
    fn the_opening_sets_the_gain_and_every_sample_arrives() {
        let rate = 22050;
        let first = speechlike(2.0, rate, 0.05);
        let second = speechlike(3.0, rate, 0.05);
        let target = LoudnessTarget::preset("web").unwrap();
        let mut out = Vec::new();
        let mut live = LiveFinisher::start(&mut out, rate, Some(target)).unwrap();
        live.push_sentence(&first).unwrap();
        live.push_sentence(&second).unwrap();
        let report = live.finish().unwrap();
        assert_eq!(report.frames as usize, first.len() + second.len());
        assert_eq!(out.len(), 44 + 2 * (first.len() + second.len()));
        let samples: Vec<f32> = out[44..]
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32767.0)
            .collect();
        let loudness = measure(&samples, rate).unwrap();
        let lufs = loudness.integrated_lufs.unwrap();
        assert!((lufs - target.lufs).abs() < 0.5, "{lufs}");
        assert!(loudness.true_peak_dbtp <= target.ceiling_dbtp + 0.1);
        assert!(report.gain_db > 10.0, "a quiet opening is raised");
    }

    #[test]
    fn nothing_is_written_before_the_opening_can_be_measured() {
        let rate = 22050;
        let target = LoudnessTarget::preset("web").unwrap();
        let mut out = Vec::new();
        let mut live = LiveFinisher::start(&mut out, rate, Some(target)).unwrap();
        // 0.2 s is shorter than one 400 ms loudness block.
        live.push_sentence(&speechlike(0.2, rate, 0.1)).unwrap();
        assert_eq!(live.frames, 0);
        live.push_sentence(&speechlike(1.0, rate, 0.1)).unwrap();
        assert!(live.frames > 0);
        let report = live.finish().unwrap();
        assert!(report.measured_lufs.is_some());
    }

    #[test]
    fn without_a_target_samples_pass_at_their_own_level() {
        let mut out = Vec::new();
        let mut live = LiveFinisher::start(&mut out, 16000, None).unwrap();
        live.push_sentence(&[0.5, -0.25]).unwrap();
        let report = live.finish().unwrap();
        assert_eq!(report.gain_db, 0.0);
        assert_eq!(
            &out[44..],
            &[to_i16(0.5).to_le_bytes(), to_i16(-0.25).to_le_bytes()].concat()
        );
    }
}
