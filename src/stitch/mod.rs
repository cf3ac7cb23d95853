//! Joins sentence clips into one program: pauses by position (sentence, paragraph, heading), chapter marks, and the timeline.

pub mod markers;
pub mod mp3;
pub mod stream;
pub mod wav;

use crate::audio::edges::{EdgePolicy, SeamReport, clean_edges, seam_context, seam_score};
use crate::audio::loudness::{
    Limiter, LoudnessReport, LoudnessTarget, Meter, MeterThread, db, gain_through_limiter,
};
use crate::error::{Error, Result};
use crate::sidecar::{Starts, TimedChapter, TimedSentence, TimedWord, Timeline};
use crate::synth::Clip;
use crate::voice::PausePolicy;
use mp3::{Mp3Options, Mp3Writer};
use serde::Serialize;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use wav::{ChapterMark, ProgramWriter, SampleFormat, chapter_marks};

/// Where a sentence sits in the document, which decides the pause before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A chapter's spoken heading.
    Heading,
    /// The first sentence of a paragraph.
    ParagraphStart,
    /// Any later sentence of a paragraph.
    InParagraph,
}

/// One sentence ready to join the program.
pub struct Placed<'a> {
    /// As written.
    pub text: &'a str,
    /// What the backend was asked to say.
    pub spoken: &'a str,
    /// Byte range `[start, end)` in the source.
    pub source: [usize; 2],
    pub position: Position,
    /// Set on the first sentence of each chapter: the chapter's title.
    pub starts_chapter: Option<&'a str>,
}

/// How the program is finished: pauses, clip edges and loudness. Serializable so that a
/// queued job carries it whole to a worker on another machine.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finishing {
    pub pauses: PausePolicy,
    /// Trim and fade every clip; `None` joins clips exactly as the engine made them.
    pub edges: Option<EdgePolicy>,
    /// Bring the whole program to this loudness with one gain; `None` leaves levels alone.
    pub loudness: Option<LoudnessTarget>,
    /// The program's sample rate; `None` keeps the voice's own. Clips are resampled to it
    /// (rubato's sinc resampler) before they are joined.
    pub sample_rate: Option<u32>,
    /// The file written: a WAV in some sample format, or an MP3 with ID3 chapters. An output
    /// named `.mp3` becomes an MP3 at `mp3_bitrate_kbps` when this is the default WAV.
    pub container: Container,
    pub mp3_bitrate_kbps: u32,
}

/// What kind of file the program becomes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Container {
    Wav(SampleFormat),
    /// CBR MP3 at this bit rate, tagged with the title and ID3v2 chapters.
    Mp3 {
        bitrate_kbps: u32,
    },
}

impl Default for Container {
    fn default() -> Self {
        Container::Wav(SampleFormat::Int16)
    }
}

impl Container {
    /// Whether an output path asks for an MP3 (its extension is `.mp3`).
    pub fn is_mp3_path(path: &Path) -> bool {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mp3"))
    }

    /// How far under the ceiling the limiter aims. An MP3's decoded peaks overshoot the
    /// samples it encoded, so it needs more room than a WAV.
    pub(crate) fn ceiling_margin_db(&self) -> f64 {
        match self {
            Container::Wav(_) => 0.2,
            // A first guess; the trial encode corrects it.
            Container::Mp3 { .. } => 0.5,
        }
    }
}

/// Where rendered samples go.
enum Sink {
    Wav(ProgramWriter),
    Mp3(Mp3Writer),
}

impl Sink {
    fn push_samples(&mut self, samples: &[f32]) -> Result<()> {
        match self {
            Sink::Wav(writer) => writer.push_samples(samples),
            Sink::Mp3(writer) => writer.push_samples(samples),
        }
    }
}

impl Finishing {
    /// The defaults for a voice: its pauses, clean edges, the `web` loudness preset.
    pub fn with_pauses(pauses: PausePolicy) -> Self {
        Finishing {
            pauses,
            edges: Some(EdgePolicy::default()),
            loudness: Some(LoudnessTarget::default()),
            sample_rate: None,
            container: Container::default(),
            mp3_bitrate_kbps: mp3::DEFAULT_BITRATE_KBPS,
        }
    }

    /// Clips joined as made, at their own level: only pauses are added.
    pub fn untouched(pauses: PausePolicy) -> Self {
        Finishing {
            pauses,
            edges: None,
            loudness: None,
            sample_rate: None,
            container: Container::default(),
            mp3_bitrate_kbps: mp3::DEFAULT_BITRATE_KBPS,
        }
    }
}

/// What finishing did, for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FinishReport {
    /// Loudness of the program as stitched, before any gain.
    pub before: LoudnessReport,
    /// Loudness of the file as written.
    pub after: LoudnessReport,
    /// The one gain applied to the whole program, dB.
    pub gain_db: f64,
    /// Share of samples the true-peak limiter turned down, and its deepest reduction (dB).
    pub limited_fraction: f64,
    pub deepest_limiting_db: f64,
    pub seams: SeamReport,
}

/// Streams clips, in order, into a spool of 32-bit float samples beside the output while
/// measuring their loudness; [`Stitcher::finish`] then renders the spool once with one gain
/// and the limiter into the WAV. Memory stays flat however long the program.
pub struct Stitcher {
    writer: Sink,
    output: PathBuf,
    sample_rate: u32,
    finishing: Finishing,
    spool: BufWriter<File>,
    frames: u64,
    meter: Meter,
    seams: SeamReport,
    /// The last samples written, for the seam score of the next join.
    tail: Vec<f32>,
    previous: Option<Position>,
    sentences: Vec<TimedSentence>,
    chapter_starts: Vec<(String, u64)>,
    /// Samples written since the last [`Stitcher::drain_live`], when a caller streams them.
    live: Option<Vec<f32>>,
}

impl Stitcher {
    /// Starts a program for `output`; `title` tags an MP3. The output file is opened (as a
    /// temporary beside it) now, so a path that cannot be written fails before any work.
    pub fn create(
        output: &Path,
        sample_rate: u32,
        finishing: Finishing,
        title: &str,
    ) -> Result<Self> {
        let writer = match &finishing.container {
            Container::Wav(format) => {
                Sink::Wav(ProgramWriter::create_with(output, sample_rate, *format)?)
            }
            Container::Mp3 { bitrate_kbps } => Sink::Mp3(Mp3Writer::create(
                output,
                sample_rate,
                &Mp3Options {
                    title: title.to_string(),
                    comment: Some("Narrated by aloud".to_string()),
                    bitrate_kbps: *bitrate_kbps,
                    ..Mp3Options::default()
                },
            )?),
        };
        let dir = match output.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        // Unnamed, so it vanishes with the process however the run ends.
        let spool = tempfile::tempfile_in(dir).map_err(|e| Error::Output {
            path: output.to_path_buf(),
            message: format!("cannot create a working file in {}: {e}", dir.display()),
        })?;
        Ok(Stitcher {
            writer,
            output: output.to_path_buf(),
            sample_rate,
            finishing,
            spool: BufWriter::with_capacity(1 << 16, spool),
            frames: 0,
            meter: Meter::new(sample_rate)?,
            seams: SeamReport::default(),
            tail: Vec::new(),
            previous: None,
            sentences: Vec::new(),
            chapter_starts: Vec::new(),
            live: None,
        })
    }

    /// Keeps every sample written from now on for [`Stitcher::drain_live`]: a preview streams
    /// the program as it is laid out (pauses, trimmed edges) instead of waiting for the end.
    pub fn keep_live(&mut self) {
        self.live.get_or_insert_with(Vec::new);
    }

    /// The samples written since the last call (empty unless [`Stitcher::keep_live`] was called).
    pub fn drain_live(&mut self) -> Vec<f32> {
        self.live.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Seconds of audio stitched so far.
    pub fn seconds(&self) -> f64 {
        self.frames_to_seconds(self.frames)
    }

    fn frames_to_seconds(&self, frames: u64) -> f64 {
        frames as f64 / f64::from(self.sample_rate)
    }

    fn pause_before(&self, placed: &Placed) -> u32 {
        let Some(previous) = self.previous else {
            return 0;
        };
        let pauses = &self.finishing.pauses;
        if placed.starts_chapter.is_some() {
            return pauses.chapter_ms;
        }
        if placed.position == Position::Heading {
            return pauses.before_heading_ms;
        }
        match (previous, placed.position) {
            (Position::Heading, _) => pauses.after_heading_ms,
            (_, Position::ParagraphStart) => pauses.paragraph_ms,
            _ => pauses.sentence_ms,
        }
    }

    /// Frames of silence that make the gap between two clips' sounds `ms` long: the pads
    /// kept at clip edges count toward it.
    fn gap_frames(&self, ms: u32) -> u64 {
        let pads = self
            .finishing
            .edges
            .map_or(0.0, |edges| edges.lead_ms + edges.tail_ms);
        let ms = (f64::from(ms) - pads).max(0.0);
        (ms * f64::from(self.sample_rate) / 1000.0).round() as u64
    }

    fn spool_error(&self, e: std::io::Error) -> Error {
        Error::Output {
            path: self.output.clone(),
            message: format!("cannot write the working file: {e}"),
        }
    }

    /// Appends samples to the program, scoring the join with what came before.
    fn write(&mut self, samples: &[f32]) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        let context = seam_context(self.sample_rate);
        if self.frames > 0 {
            let score = seam_score(&self.tail, &samples[..samples.len().min(context)]);
            self.seams.add(score, self.seconds());
        }
        let mut bytes = Vec::with_capacity(samples.len() * 4);
        for sample in samples {
            bytes.extend_from_slice(&sample.to_le_bytes());
        }
        self.spool
            .write_all(&bytes)
            .map_err(|e| self.spool_error(e))?;
        self.meter.add(samples)?;
        if let Some(live) = &mut self.live {
            live.extend_from_slice(samples);
        }
        self.tail
            .extend_from_slice(&samples[samples.len().saturating_sub(context)..]);
        let excess = self.tail.len().saturating_sub(context);
        self.tail.drain(..excess);
        self.frames += samples.len() as u64;
        Ok(())
    }

    fn write_silence(&mut self, frames: u64) -> Result<()> {
        let block = vec![0f32; 4096];
        let mut left = frames;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            self.write(&block[..n])?;
            left -= n as u64;
        }
        Ok(())
    }

    /// Adds one sentence: its pieces (one clip per backend request, in order, word ranges
    /// already in the sentence's spoken text) with clause pauses between them.
    pub fn push(&mut self, placed: Placed, pieces: &[Clip]) -> Result<()> {
        if let Some(clip) = pieces.iter().find(|c| c.sample_rate != self.sample_rate) {
            return Err(Error::Output {
                path: self.output.clone(),
                message: format!(
                    "a clip at {} Hz cannot join a {} Hz program",
                    clip.sample_rate, self.sample_rate
                ),
            });
        }
        let pause = self.pause_before(&placed);
        if self.previous.is_some() {
            self.write_silence(self.gap_frames(pause))?;
        }
        if let Some(title) = placed.starts_chapter {
            self.chapter_starts.push((title.to_string(), self.frames));
        }
        let start = self.seconds();
        let mut words = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                self.write_silence(self.gap_frames(self.finishing.pauses.clause_ms))?;
            }
            let mut samples = piece.samples.clone();
            let cut = match &self.finishing.edges {
                Some(edges) => clean_edges(&mut samples, self.sample_rate, edges),
                None => 0,
            };
            let piece_start = self.seconds() - self.frames_to_seconds(cut as u64);
            let kept_end = self.seconds() + self.frames_to_seconds(samples.len() as u64);
            self.write(&samples)?;
            for word in &piece.words {
                let Some(text) = placed.spoken.get(word.range.clone()) else {
                    continue;
                };
                words.push(TimedWord {
                    text: text.to_string(),
                    start: (piece_start + word.start).clamp(start, kept_end),
                    end: (piece_start + word.end).clamp(start, kept_end),
                    spoken: [word.range.start, word.range.end],
                });
            }
        }
        self.sentences.push(TimedSentence {
            text: placed.text.to_string(),
            spoken: placed.spoken.to_string(),
            start,
            end: self.seconds(),
            source: placed.source,
            words,
            starts: match placed.position {
                Position::Heading => Some(Starts::Heading),
                Position::ParagraphStart => Some(Starts::Paragraph),
                Position::InParagraph => None,
            },
        });
        self.previous = Some(placed.position);
        Ok(())
    }

    /// The timeline as it will be once the program is finished, so its sidecar can be fully
    /// written before the audio is renamed into place.
    pub fn timeline(&self, title: &str, voice: &str) -> Timeline {
        let duration = self.seconds();
        let chapters = self
            .chapter_starts
            .iter()
            .enumerate()
            .map(|(i, (chapter_title, start))| TimedChapter {
                title: chapter_title.clone(),
                start: self.frames_to_seconds(*start),
                end: self
                    .chapter_starts
                    .get(i + 1)
                    .map_or(duration, |(_, next)| self.frames_to_seconds(*next)),
            })
            .collect();
        Timeline {
            title: title.to_string(),
            voice: voice.to_string(),
            sample_rate: self.sample_rate,
            duration,
            chapters,
            sentences: self.sentences.clone(),
        }
    }

    /// Applies the one program gain (found by measuring, then re-measuring through the
    /// limiter until the result is on target), writes the WAV with its markers, and renames
    /// it into place.
    pub fn finish(mut self) -> Result<(Vec<ChapterMark>, FinishReport)> {
        self.spool.flush().map_err(|e| self.spool_error(e))?;
        let Stitcher {
            writer,
            output,
            sample_rate,
            finishing,
            spool,
            frames,
            meter,
            seams,
            chapter_starts,
            ..
        } = self;
        let margin = finishing.container.ceiling_margin_db();
        let mut writer = ChapterPlacer {
            writer,
            marks: chapter_marks(&chapter_starts, frames),
            chapters: chapter_starts,
            next: 0,
        };
        let mut spool = Spool {
            file: spool.into_inner().map_err(|e| Error::Output {
                path: output.clone(),
                message: format!("cannot write the working file: {}", e.error()),
            })?,
            frames,
            output: &output,
        };
        let before = meter.report();
        let Some(target) = finishing.loudness else {
            // Untouched: samples go to the file exactly as stitched.
            let mut after = MeterThread::start(Meter::new(sample_rate)?);
            spool.replay(|block| {
                after.add(block)?;
                writer.push_samples(block)
            })?;
            let chapters = writer.finish()?;
            return Ok((
                chapters,
                FinishReport {
                    before,
                    after: after.finish()?,
                    gain_db: 0.0,
                    limited_fraction: 0.0,
                    deepest_limiting_db: 0.0,
                    seams,
                },
            ));
        };
        // Too short or silent to measure: leave the level, still guard the ceiling.
        let ceiling = target.ceiling_dbtp - margin;
        let mut gain_db = before.integrated_lufs.map_or(0.0, |m| target.lufs - m);
        // From its second pass on, the search also writes a WAV and meters it in full, so the
        // pass that lands on the target is the final render instead of being followed by one
        // more: on speech the search takes two passes, and three renders become two. (An MP3's
        // gain is corrected after the search, so its search only measures.)
        let write_while_searching = matches!(finishing.container, Container::Wav(_));
        let mut written: Option<Rendered> = None;
        if before.integrated_lufs.is_some() {
            let mut passes = 0;
            gain_db = gain_through_limiter(gain_db, target.lufs, |gain_db| {
                passes += 1;
                if write_while_searching && passes > 1 {
                    let rendered =
                        render_to(&mut spool, &mut writer, gain_db, ceiling, sample_rate)?;
                    let lufs = rendered.after.integrated_lufs;
                    written = Some(rendered);
                    return Ok(lufs);
                }
                let mut meter = MeterThread::start(Meter::integrated_only(sample_rate)?);
                spool.render(gain_db, ceiling, sample_rate, |block| meter.add(block))?;
                Ok(meter.finish()?.integrated_lufs)
            })?;
        }
        let mut ceiling = ceiling;
        if let Container::Mp3 { bitrate_kbps } = finishing.container
            && before.integrated_lufs.is_some()
        {
            // The encoder changes what a meter hears (its low-pass takes loudness, its
            // reconstruction adds peaks): encode once to a scratch file, measure it decoded,
            // and correct the gain and the limiter's aim for the real encode.
            let (got, peak) = trial_mp3(
                &mut spool,
                &output,
                sample_rate,
                gain_db,
                ceiling,
                bitrate_kbps,
            )?;
            if let Some(got) = got {
                gain_db += target.lufs - got;
            }
            ceiling -= (peak - (target.ceiling_dbtp - 0.1)).max(0.0);
        }
        let Rendered { limiter, after, .. } = match written {
            Some(last) if last.gain_db.to_bits() == gain_db.to_bits() => last,
            _ => render_to(&mut spool, &mut writer, gain_db, ceiling, sample_rate)?,
        };
        let is_mp3 = matches!(finishing.container, Container::Mp3 { .. });
        let chapters = writer.finish()?;
        let after = if is_mp3 {
            // What a listener's decoder produces, not what went into the encoder.
            decoded_loudness(&output)?
        } else {
            after
        };
        Ok((
            chapters,
            FinishReport {
                before,
                after,
                gain_db,
                limited_fraction: limiter.limited_samples as f64 / frames.max(1) as f64,
                deepest_limiting_db: -db(f64::from(limiter.min_gain)),
                seams,
            },
        ))
    }
}

/// Encodes the program to a scratch MP3 beside `output` and measures it decoded:
/// (integrated loudness, true peak).
fn trial_mp3(
    spool: &mut Spool,
    output: &Path,
    sample_rate: u32,
    gain_db: f64,
    ceiling: f64,
    bitrate_kbps: u32,
) -> Result<(Option<f64>, f64)> {
    let dir = match output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let scratch = tempfile::Builder::new()
        .prefix(".aloud-trial-")
        .suffix(".mp3")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    let options = Mp3Options {
        bitrate_kbps,
        ..Mp3Options::default()
    };
    let mut trial = Mp3Writer::create(scratch.path(), sample_rate, &options)?;
    spool.render(gain_db, ceiling, sample_rate, |block| {
        trial.push_samples(block)
    })?;
    let frames = trial.position();
    trial.finish(&[], frames)?;
    let report = decoded_loudness(scratch.path())?;
    Ok((report.integrated_lufs, report.true_peak_dbtp))
}

/// Loudness of an encoded file as a decoder plays it.
fn decoded_loudness(path: &Path) -> Result<LoudnessReport> {
    // Packet by packet: an hour of MP3 decoded whole would be 300 MB of samples.
    let mut meter: Option<Meter> = None;
    crate::audio::decode_file_each(path, &mut |block, rate| {
        let meter = match &mut meter {
            Some(meter) => meter,
            None => meter.insert(Meter::new(rate)?),
        };
        meter.add(block)
    })?;
    // decode_file_each fails on a stream without samples, so the meter exists.
    meter.map(|m| m.report()).ok_or_else(|| Error::Output {
        path: path.to_path_buf(),
        message: "the encoded file decodes to nothing".to_string(),
    })
}

/// Feeds the rendered program to the writer, starting each WAV chapter at its frame (an
/// MP3 takes its chapters whole at the end).
struct ChapterPlacer {
    writer: Sink,
    marks: Vec<ChapterMark>,
    chapters: Vec<(String, u64)>,
    /// The first chapter not yet started in the WAV.
    next: usize,
}

impl ChapterPlacer {
    fn push_samples(&mut self, mut block: &[f32]) -> Result<()> {
        let Sink::Wav(wav) = &mut self.writer else {
            return self.writer.push_samples(block);
        };
        loop {
            let position = wav.position();
            match self.chapters.get(self.next) {
                Some((title, start)) if *start <= position + block.len() as u64 => {
                    let before = (start.saturating_sub(position)) as usize;
                    wav.push_samples(&block[..before])?;
                    wav.start_chapter(title);
                    self.next += 1;
                    block = &block[before..];
                }
                _ => return wav.push_samples(block),
            }
        }
    }

    /// Starts the program over (see [`ProgramWriter::rewind`]); an MP3 is written once, after
    /// its search, and never has anything to take back.
    fn rewind(&mut self) -> Result<()> {
        if let Sink::Wav(wav) = &mut self.writer {
            wav.rewind()?;
        }
        self.next = 0;
        Ok(())
    }

    fn finish(self) -> Result<Vec<ChapterMark>> {
        match self.writer {
            Sink::Wav(mut wav) => {
                // Chapters starting at the very end (an empty last chapter) still get a mark.
                for (title, _) in self.chapters.iter().skip(self.next) {
                    wav.start_chapter(title);
                }
                wav.finish()
            }
            Sink::Mp3(mp3) => {
                let frames = mp3.position();
                mp3.finish(&self.marks, frames)?;
                Ok(self.marks)
            }
        }
    }
}

/// One render of the program into the output: the gain it was made at, the limiter's work on
/// it, and its loudness as written.
struct Rendered {
    gain_db: f64,
    limiter: Limiter,
    after: LoudnessReport,
}

/// Writes the program, from its start, at `gain_db` through the limiter aimed at
/// `ceiling_dbtp`, metering what is written.
fn render_to(
    spool: &mut Spool,
    writer: &mut ChapterPlacer,
    gain_db: f64,
    ceiling_dbtp: f64,
    sample_rate: u32,
) -> Result<Rendered> {
    writer.rewind()?;
    let mut meter = MeterThread::start(Meter::new(sample_rate)?);
    let limiter = spool.render(gain_db, ceiling_dbtp, sample_rate, |block| {
        meter.add(block)?;
        writer.push_samples(block)
    })?;
    Ok(Rendered {
        gain_db,
        limiter,
        after: meter.finish()?,
    })
}

/// The stitched program as 32-bit float samples in an unnamed working file.
struct Spool<'a> {
    file: File,
    frames: u64,
    output: &'a Path,
}

impl Spool<'_> {
    /// Reads the program back in blocks, in order.
    fn replay(&mut self, mut each: impl FnMut(&[f32]) -> Result<()>) -> Result<()> {
        let read_error = |e| Error::Output {
            path: self.output.to_path_buf(),
            message: format!("cannot read the working file back: {e}"),
        };
        self.file.seek(SeekFrom::Start(0)).map_err(read_error)?;
        let mut reader = BufReader::with_capacity(1 << 16, &self.file);
        let mut bytes = vec![0u8; 4 * BLOCK];
        let mut block = Vec::with_capacity(BLOCK);
        let mut left = self.frames;
        while left > 0 {
            let n = left.min(BLOCK as u64) as usize;
            reader.read_exact(&mut bytes[..4 * n]).map_err(read_error)?;
            block.clear();
            block.extend(
                bytes[..4 * n]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            each(&block)?;
            left -= n as u64;
        }
        Ok(())
    }

    /// Replays the program through one gain and the true-peak limiter.
    fn render(
        &mut self,
        gain_db: f64,
        ceiling_dbtp: f64,
        sample_rate: u32,
        mut each: impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<Limiter> {
        let mut limiter = Limiter::new(sample_rate, gain_db, ceiling_dbtp);
        let mut out = Vec::with_capacity(BLOCK + 1024);
        self.replay(|block| {
            out.clear();
            limiter.process(block, &mut out);
            each(&out)
        })?;
        out.clear();
        limiter.flush(&mut out);
        each(&out)?;
        Ok(limiter)
    }
}

/// Samples read back from the working file at a time.
const BLOCK: usize = 16_384;

#[cfg(test)]
mod tests;
