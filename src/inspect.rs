//! The quality report of a finished program (`aloud inspect`): length, chapters, loudness, true peak, clipping, the worst join and ACX-style checks.

use crate::audio::edges::{SeamReport, seam_context, seam_score};
use crate::audio::loudness::{LoudnessReport, Meter, db};
use crate::error::{Error, Result};
use crate::sidecar::{Timeline, timeline_path};
use crate::stitch::markers::read_wav_summary;
use serde::Serialize;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// What `aloud inspect` reports about one file.
#[derive(Debug, Clone, Serialize)]
pub struct QualityReport {
    pub file: PathBuf,
    pub sample_rate: u32,
    pub channels: u16,
    pub bits_per_sample: u16,
    pub duration: f64,
    pub chapters: Vec<ChapterSpan>,
    pub loudness: LoudnessReport,
    /// Samples at or beyond full scale.
    pub clipped_samples: u64,
    /// Scores of the joins between sentences, when the file's timeline sidecar says where they
    /// are; `None` for audio aloud did not make.
    pub seams: Option<SeamReport>,
    pub acx: AcxReport,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChapterSpan {
    pub title: String,
    pub start: f64,
    pub end: f64,
}

/// ACX's audiobook submission checks: RMS -23 to -18 dBFS, peaks at most -3 dBFS, noise floor
/// at most -60 dBFS (RMS of the quietest half second).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AcxReport {
    pub rms_dbfs: f64,
    pub peak_dbfs: f64,
    pub noise_floor_dbfs: f64,
    pub rms_ok: bool,
    pub peak_ok: bool,
    pub noise_floor_ok: bool,
}

impl AcxReport {
    pub fn passes(&self) -> bool {
        self.rms_ok && self.peak_ok && self.noise_floor_ok
    }
}

/// Streams a program through every measurement at once.
struct Analyzer {
    sample_rate: u32,
    channels: usize,
    meter: Meter,
    clipped: u64,
    frames: u64,
    sum_squares: f64,
    peak: f32,
    /// Half-second windows for the noise floor.
    window_frames: u64,
    window_sum: f64,
    window_len: u64,
    quietest_window: f64,
    /// Join positions (frames) not yet scored, ascending.
    joins: VecDeque<u64>,
    context: usize,
    /// The last `2 * context` mono samples.
    recent: VecDeque<f32>,
    seams: SeamReport,
}

impl Analyzer {
    fn new(sample_rate: u32, channels: u16, joins: Vec<u64>) -> Result<Analyzer> {
        Ok(Analyzer {
            sample_rate,
            channels: usize::from(channels.max(1)),
            meter: Meter::with_channels(sample_rate, u32::from(channels.max(1)))?,
            clipped: 0,
            frames: 0,
            sum_squares: 0.0,
            peak: 0.0,
            window_frames: u64::from(sample_rate) / 2,
            window_sum: 0.0,
            window_len: 0,
            quietest_window: f64::INFINITY,
            joins: joins.into(),
            context: seam_context(sample_rate),
            recent: VecDeque::new(),
            seams: SeamReport::default(),
        })
    }

    /// Interleaved samples in [-1, 1] (a clipped one reaches ±1).
    fn push(&mut self, interleaved: &[f32]) -> Result<()> {
        self.meter.add(interleaved)?;
        for frame in interleaved.chunks_exact(self.channels) {
            let mut mono = 0f32;
            for &sample in frame {
                if sample.abs() >= 1.0 {
                    self.clipped += 1;
                }
                self.peak = self.peak.max(sample.abs());
                self.sum_squares += f64::from(sample) * f64::from(sample);
                mono += sample;
            }
            mono /= self.channels as f32;
            self.window_sum += f64::from(mono) * f64::from(mono);
            self.window_len += 1;
            if self.window_len == self.window_frames {
                self.quietest_window = self
                    .quietest_window
                    .min((self.window_sum / self.window_len as f64).sqrt());
                self.window_sum = 0.0;
                self.window_len = 0;
            }
            self.recent.push_back(mono);
            if self.recent.len() > 2 * self.context {
                self.recent.pop_front();
            }
            self.frames += 1;
            // A join at p is scored once `context` samples after it have arrived.
            while let Some(&p) = self.joins.front() {
                if p + self.context as u64 > self.frames {
                    break;
                }
                self.joins.pop_front();
                let behind = (self.frames - p) as usize; // samples at or after the join
                if p == 0 || behind > self.recent.len() {
                    continue;
                }
                let split = self.recent.len() - behind;
                let (before, after): (Vec<f32>, Vec<f32>) = (
                    self.recent.range(..split).copied().collect(),
                    self.recent.range(split..).copied().collect(),
                );
                let at = p as f64 / f64::from(self.sample_rate);
                self.seams.add(seam_score(&before, &after), at);
            }
        }
        Ok(())
    }

    /// The report on the whole program; `seams_known` when a timeline said where the joins are.
    fn report(
        self,
        file: &Path,
        bits_per_sample: u16,
        duration: f64,
        chapters: Vec<ChapterSpan>,
        seams_known: bool,
    ) -> QualityReport {
        QualityReport {
            file: file.to_path_buf(),
            sample_rate: self.sample_rate,
            channels: self.channels as u16,
            bits_per_sample,
            duration,
            chapters,
            loudness: self.meter.report(),
            clipped_samples: self.clipped,
            acx: self.acx(),
            seams: seams_known.then_some(self.seams),
        }
    }

    fn acx(&self) -> AcxReport {
        let samples = (self.frames * self.channels as u64).max(1);
        let rms_dbfs = db((self.sum_squares / samples as f64).sqrt());
        let peak_dbfs = db(f64::from(self.peak));
        let noise_floor_dbfs = if self.quietest_window.is_finite() {
            db(self.quietest_window)
        } else {
            rms_dbfs
        };
        AcxReport {
            rms_dbfs,
            peak_dbfs,
            noise_floor_dbfs,
            rms_ok: (-23.0..=-18.0).contains(&rms_dbfs),
            peak_ok: peak_dbfs <= -3.0,
            noise_floor_ok: noise_floor_dbfs <= -60.0,
        }
    }
}

/// Join positions from the timeline beside `audio`, if there is one for a program this long.
fn joins_from_timeline(audio: &Path, sample_rate: u32, duration: f64) -> Option<Vec<u64>> {
    let timeline = Timeline::read(&timeline_path(audio)).ok()?;
    if (timeline.duration - duration).abs() > 0.05 {
        return None; // a timeline of another program
    }
    let rate = f64::from(sample_rate);
    let mut joins: Vec<u64> = timeline
        .sentences
        .iter()
        .flat_map(|s| {
            [
                (s.start * rate).round() as u64,
                (s.end * rate).round() as u64,
            ]
        })
        .collect();
    joins.sort_unstable();
    joins.dedup();
    Some(joins)
}

/// Inspects a WAV (any PCM or float WAV; chapters from its markers) or, through the decoder
/// aloud uses for backends, an MP3, FLAC or Ogg file.
pub fn inspect(path: &Path) -> Result<QualityReport> {
    match hound::WavReader::open(path) {
        Ok(reader) => inspect_wav(path, reader),
        Err(hound::Error::IoError(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::InputNotFound {
                path: path.to_path_buf(),
            })
        }
        // Not a WAV hound streams (RF64, placeholder sizes, compressed): decode it whole.
        Err(_) => inspect_decoded(path),
    }
}

fn inspect_wav(
    path: &Path,
    mut reader: hound::WavReader<std::io::BufReader<std::fs::File>>,
) -> Result<QualityReport> {
    let spec = reader.spec();
    let summary = read_wav_summary(path)?;
    let rate = spec.sample_rate;
    let duration = summary.frames as f64 / f64::from(rate.max(1));
    let joins = joins_from_timeline(path, rate, duration);
    let mut analyzer = Analyzer::new(rate, spec.channels, joins.clone().unwrap_or_default())?;
    let bad = |e: hound::Error| Error::BadWav {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut block = Vec::with_capacity(1 << 15);
    macro_rules! stream {
        ($t:ty, $scale:expr) => {{
            for sample in reader.samples::<$t>() {
                block.push(sample.map_err(bad)? as f32 / $scale);
                if block.len() == block.capacity() {
                    analyzer.push(&block)?;
                    block.clear();
                }
            }
        }};
    }
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, _) => stream!(f32, 1.0),
        (hound::SampleFormat::Int, bits @ 1..=16) => {
            stream!(i16, (1u32 << (bits - 1)) as f32 - 1.0)
        }
        (hound::SampleFormat::Int, bits) => stream!(i32, ((1u64 << (bits - 1)) - 1) as f32),
    }
    analyzer.push(&block)?;
    let chapters = wav_chapters(&summary.chapters, rate);
    Ok(analyzer.report(
        path,
        spec.bits_per_sample,
        duration,
        chapters,
        joins.is_some(),
    ))
}

/// WAV chapter marks (in frames) as spans in seconds.
fn wav_chapters(marks: &[crate::stitch::wav::ChapterMark], rate: u32) -> Vec<ChapterSpan> {
    let rate = f64::from(rate.max(1));
    marks
        .iter()
        .map(|c| ChapterSpan {
            title: c.title.clone(),
            start: c.start_frame as f64 / rate,
            end: (c.start_frame + c.length_frames) as f64 / rate,
        })
        .collect()
}

/// Chapters from an ID3v2 tag's `CHAP` frames (an MP3's), in time order.
fn id3_chapters(path: &Path) -> Vec<ChapterSpan> {
    let Ok(tag) = id3::Tag::read_from_path(path) else {
        return Vec::new();
    };
    let mut chapters: Vec<ChapterSpan> = tag
        .chapters()
        .map(|chapter| ChapterSpan {
            title: chapter
                .frames
                .iter()
                .find(|f| f.id() == "TIT2")
                .and_then(|f| f.content().text())
                .unwrap_or(&chapter.element_id)
                .to_string(),
            start: f64::from(chapter.start_time) / 1000.0,
            end: f64::from(chapter.end_time) / 1000.0,
        })
        .collect();
    chapters.sort_by(|a, b| a.start.total_cmp(&b.start));
    chapters
}

fn inspect_decoded(path: &Path) -> Result<QualityReport> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let origin = path.display().to_string();
    let clip = crate::audio::decode(&bytes, &origin)?;
    let rate = clip.sample_rate;
    let duration = clip.samples.len() as f64 / f64::from(rate);
    let joins = joins_from_timeline(path, rate, duration);
    let mut analyzer = Analyzer::new(rate, 1, joins.clone().unwrap_or_default())?;
    analyzer.push(&clip.samples)?;
    let chapters = match read_wav_summary(path) {
        Ok(summary) => wav_chapters(&summary.chapters, rate),
        Err(_) => id3_chapters(path),
    };
    Ok(analyzer.report(path, 0, duration, chapters, joins.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, samples: &[f32], rate: u32) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        for s in samples {
            writer.write_sample(crate::stitch::wav::to_i16(*s)).unwrap();
        }
        writer.finalize().unwrap();
    }

    #[test]
    fn clipping_loudness_and_a_click_at_a_join_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        let rate = 22_050;
        // One second of tone, a hard cut to silence at 1.0 s (a click), then a clipped burst.
        let mut samples: Vec<f32> = (0..rate as usize)
            .map(|i| 0.5 * (i as f32 * 0.3).sin() + 0.2)
            .collect();
        samples.extend(vec![0.0; rate as usize]);
        samples.extend((0..1000).map(|i| if i % 2 == 0 { 1.5 } else { -1.5 }));
        write_wav(&path, &samples, rate);
        let report = inspect(&path).unwrap();
        assert_eq!(report.clipped_samples, 1000);
        assert!((report.duration - (2.0 + 1000.0 / 22050.0)).abs() < 1e-6);
        assert!(report.loudness.integrated_lufs.is_some());
        assert!(report.seams.is_none(), "no timeline, no joins");

        // With a timeline naming the join at 1.0 s, the click is found there.
        let timeline = Timeline {
            title: "t".into(),
            voice: "v".into(),
            sample_rate: rate,
            duration: report.duration,
            chapters: Vec::new(),
            sentences: vec![crate::sidecar::TimedSentence {
                text: "a".into(),
                spoken: "a".into(),
                start: 0.0,
                end: 1.0,
                source: [0, 1],
                words: Vec::new(),
                starts: None,
            }],
        };
        std::fs::write(
            timeline_path(&path),
            serde_json::to_string(&timeline).unwrap(),
        )
        .unwrap();
        let report = inspect(&path).unwrap();
        let seams = report.seams.unwrap();
        assert_eq!(seams.joins, 1);
        assert!((seams.worst_at - 1.0).abs() < 1e-9);
        assert!(seams.worst > 0.5, "{seams:?}");
        assert!(!report.acx.peak_ok);
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = inspect(Path::new("/nonexistent/x.wav")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.wav"), "{err}");
    }
}
