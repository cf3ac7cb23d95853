//! Joins sentence clips into one program: pauses by position (sentence, paragraph, heading), chapter marks, and the timeline.

pub mod markers;
pub mod mp3;
pub mod wav;

use crate::error::{Error, Result};
use crate::sidecar::{TimedChapter, TimedSentence, TimedWord, Timeline};
use crate::synth::Clip;
use crate::voice::PausePolicy;
use std::path::{Path, PathBuf};
use wav::{ChapterMark, ProgramWriter};

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

/// Streams clips into a WAV as they arrive, in order.
pub struct Stitcher {
    writer: ProgramWriter,
    output: PathBuf,
    pauses: PausePolicy,
    previous: Option<Position>,
    sentences: Vec<TimedSentence>,
    chapter_starts: Vec<(String, u64)>,
}

/// The finished program: chapters as written into the WAV, and the timeline.
pub struct Program {
    pub chapters: Vec<ChapterMark>,
    pub timeline: Timeline,
}

impl Stitcher {
    pub fn create(output: &Path, sample_rate: u32, pauses: PausePolicy) -> Result<Self> {
        Ok(Stitcher {
            writer: ProgramWriter::create(output, sample_rate)?,
            output: output.to_path_buf(),
            pauses,
            previous: None,
            sentences: Vec::new(),
            chapter_starts: Vec::new(),
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.writer.sample_rate()
    }

    /// Seconds of audio written so far.
    pub fn seconds(&self) -> f64 {
        self.frames_to_seconds(self.writer.position())
    }

    fn frames_to_seconds(&self, frames: u64) -> f64 {
        frames as f64 / f64::from(self.writer.sample_rate())
    }

    fn pause_before(&self, placed: &Placed) -> u32 {
        let Some(previous) = self.previous else {
            return 0;
        };
        if placed.starts_chapter.is_some() || placed.position == Position::Heading {
            return self.pauses.before_heading_ms;
        }
        match (previous, placed.position) {
            (Position::Heading, _) => self.pauses.after_heading_ms,
            (_, Position::ParagraphStart) => self.pauses.paragraph_ms,
            _ => self.pauses.sentence_ms,
        }
    }

    pub fn push(&mut self, placed: Placed, clip: &Clip) -> Result<()> {
        if clip.sample_rate != self.writer.sample_rate() {
            return Err(Error::Output {
                path: self.output.clone(),
                message: format!(
                    "a clip at {} Hz cannot join a {} Hz program",
                    clip.sample_rate,
                    self.writer.sample_rate()
                ),
            });
        }
        let pause_frames =
            u64::from(self.pause_before(&placed)) * u64::from(self.writer.sample_rate()) / 1000;
        self.writer.push_silence(pause_frames)?;
        if let Some(title) = placed.starts_chapter {
            self.writer.start_chapter(title);
            self.chapter_starts
                .push((title.to_string(), self.writer.position()));
        }
        let start = self.seconds();
        self.writer.push_samples(&clip.samples)?;
        let end = self.seconds();
        let words = clip
            .words
            .iter()
            .filter_map(|word| {
                let text = placed.spoken.get(word.range.clone())?;
                Some(TimedWord {
                    text: text.to_string(),
                    start: (start + word.start).min(end),
                    end: (start + word.end).min(end),
                    spoken: [word.range.start, word.range.end],
                })
            })
            .collect();
        self.sentences.push(TimedSentence {
            text: placed.text.to_string(),
            spoken: placed.spoken.to_string(),
            start,
            end,
            source: placed.source,
            words,
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
            sample_rate: self.writer.sample_rate(),
            duration,
            chapters,
            sentences: self.sentences.clone(),
        }
    }

    /// Writes the markers and renames the WAV into place.
    pub fn finish(self) -> Result<Vec<ChapterMark>> {
        self.writer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tone stands in for speech: these tests are about joins, pauses and marks.
    fn tone(seconds: f64, rate: u32) -> Clip {
        let frames = (seconds * f64::from(rate)) as usize;
        Clip {
            samples: (0..frames)
                .map(|i| 0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin())
                .collect(),
            sample_rate: rate,
            words: Vec::new(),
        }
    }

    fn sentence(text: &str, start: usize) -> (&str, [usize; 2]) {
        (text, [start, start + text.len()])
    }

    #[test]
    fn pauses_follow_the_policy_and_chapters_start_at_headings() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("p.wav");
        let rate = 8000;
        let pauses = PausePolicy {
            sentence_ms: 100,
            paragraph_ms: 300,
            before_heading_ms: 1000,
            after_heading_ms: 500,
        };
        let mut stitcher = Stitcher::create(&out, rate, pauses).unwrap();
        let heading = sentence("Title", 0);
        let first = sentence("One.", 6);
        let second = sentence("Two.", 11);
        let third = sentence("Three.", 17);
        let section = sentence("Section", 25);
        let place =
            |(text, source): &(&'static str, [usize; 2]), position, starts_chapter| Placed {
                text,
                spoken: "x",
                source: *source,
                position,
                starts_chapter,
            };
        let clip = tone(0.5, rate);
        stitcher
            .push(place(&heading, Position::Heading, Some("Title")), &clip)
            .unwrap();
        stitcher
            .push(place(&first, Position::ParagraphStart, None), &clip)
            .unwrap();
        stitcher
            .push(place(&second, Position::InParagraph, None), &clip)
            .unwrap();
        stitcher
            .push(place(&third, Position::ParagraphStart, None), &clip)
            .unwrap();
        stitcher
            .push(place(&section, Position::Heading, Some("Section")), &clip)
            .unwrap();
        let timeline = stitcher.timeline("Title", "tone");
        let starts: Vec<f64> = timeline.sentences.iter().map(|s| s.start).collect();
        // 0.5 s clips; gaps: after heading 0.5, sentence 0.1, paragraph 0.3, before heading 1.0.
        let expected = [0.0, 1.0, 1.6, 2.4, 3.9];
        for (got, want) in starts.iter().zip(expected) {
            assert!((got - want).abs() < 1e-9, "{starts:?} vs {expected:?}");
        }
        assert_eq!(timeline.chapters.len(), 2);
        assert_eq!(timeline.chapters[1].start, 3.9);
        assert_eq!(timeline.chapters[0].end, 3.9);
        assert!((timeline.duration - 4.4).abs() < 1e-9);
        assert_eq!(timeline.sentences[2].source, [11, 15]);

        let marks = stitcher.finish().unwrap();
        assert_eq!(marks.len(), 2);
        assert_eq!(marks[1].start_frame, (3.9 * 8000.0) as u64);
        assert_eq!(marks[1].title, "Section");
        assert!(out.is_file());
    }

    #[test]
    fn a_clip_at_another_rate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.wav");
        let mut stitcher = Stitcher::create(&out, 22050, PausePolicy::default()).unwrap();
        let s = sentence("Hi.", 0);
        let err = stitcher
            .push(
                Placed {
                    text: s.0,
                    spoken: "Hi.",
                    source: s.1,
                    position: Position::ParagraphStart,
                    starts_chapter: None,
                },
                &tone(0.1, 16000),
            )
            .unwrap_err();
        assert!(err.to_string().contains("16000 Hz"), "{err}");
        drop(stitcher);
        assert!(!out.exists());
    }
}
