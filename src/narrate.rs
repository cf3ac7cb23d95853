//! The narration pipeline: a document's sentences through a backend, in order, into one stitched program.

use crate::assets::{AssetOptions, Progress};
use crate::document::{Document, Sentence};
use crate::error::{Error, Result};
use crate::segment;
use crate::sidecar::{Timeline, timeline_path};
use crate::stitch::{Placed, Position, Stitcher};
use crate::synth::{self, Backend, Clip, OpenContext};
use crate::voice::VoiceProfile;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to open a narrator.
#[derive(Debug, Clone, Default)]
pub struct NarratorOptions {
    pub assets: AssetOptions,
    /// Sentences synthesized at once; `None` uses the backend's default.
    pub concurrency: Option<usize>,
}

/// Something the caller may want to show while a narration runs.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    Started { sentences: usize },
    SentenceDone { done: usize, total: usize },
}

/// What a finished narration reports (`--json` prints this).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub output: PathBuf,
    pub timeline: PathBuf,
    pub title: String,
    pub voice: String,
    pub backend: String,
    pub chapters: usize,
    pub sentences: usize,
    pub words: usize,
    /// Backend requests made (a sentence longer than the backend takes is several).
    pub synthesized: usize,
    pub audio_seconds: f64,
    pub wall_seconds: f64,
    /// Time spent inside the engine proper (ONNX inference for Piper).
    pub engine_seconds: f64,
    /// Seconds of audio per second of wall time.
    pub real_time_factor: f64,
}

/// A voice, opened and ready to narrate any number of documents.
pub struct Narrator {
    profile: VoiceProfile,
    backend: Arc<dyn Backend>,
    concurrency: usize,
}

/// One sentence as the backend will receive it, with its place in the document.
struct Utterance<'a> {
    sentence: &'a Sentence,
    pieces: Vec<&'a str>,
    position: Position,
    starts_chapter: Option<&'a str>,
}

impl Narrator {
    /// Opens the backend for `profile`, provisioning engine assets if they are missing
    /// (reported through `progress`) unless the options say offline.
    pub fn open(
        profile: VoiceProfile,
        options: &NarratorOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Self> {
        let mut context = OpenContext {
            assets: &options.assets,
            progress,
            concurrency: options.concurrency,
        };
        let backend = synth::open(&profile, &mut context)?;
        let concurrency = options
            .concurrency
            .unwrap_or(backend.limits().default_concurrency)
            .max(1);
        Ok(Narrator {
            profile,
            backend,
            concurrency,
        })
    }

    pub fn profile(&self) -> &VoiceProfile {
        &self.profile
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Speaks one sentence (for previews and tests).
    pub async fn speak(&self, text: &str) -> Result<Clip> {
        self.backend.synthesize(text).await
    }

    /// Narrates `document` into `output` (a WAV) and its timeline sidecar. Nothing appears at
    /// either path unless the whole narration succeeds.
    pub async fn narrate(
        &self,
        document: &Document,
        output: &Path,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Summary> {
        let started = Instant::now();
        let engine_before = self.backend.engine_time();
        let utterances = self.utterances(document);
        if utterances.is_empty() {
            return Err(Error::EmptyInput {
                path: PathBuf::from(&document.title),
            });
        }
        let total = utterances.len();
        on_event(Event::Started { sentences: total });

        let mut stitcher =
            Stitcher::create(output, self.backend.sample_rate(), self.profile.pauses)?;
        let backend = &self.backend;
        let mut requests = 0;
        let mut clips = stream::iter(utterances.iter().enumerate())
            .map(|(index, utterance)| async move {
                let mut joined: Option<Clip> = None;
                for piece in &utterance.pieces {
                    let clip = backend
                        .synthesize(piece)
                        .await
                        .map_err(|e| sentence_error(backend.name(), index, utterance, e))?;
                    match &mut joined {
                        Some(whole) => whole.samples.extend_from_slice(&clip.samples),
                        None => joined = Some(clip),
                    }
                }
                joined
                    .map(|clip| (index, clip, utterance.pieces.len()))
                    .ok_or_else(|| {
                        sentence_error(
                            backend.name(),
                            index,
                            utterance,
                            Error::Engine {
                                backend: backend.name().to_string(),
                                message: "nothing to say".into(),
                            },
                        )
                    })
            })
            .buffered(self.concurrency);
        while let Some((index, clip, pieces)) = clips.try_next().await? {
            let utterance = &utterances[index];
            requests += pieces;
            stitcher.push(
                Placed {
                    sentence: utterance.sentence,
                    spoken: &utterance.sentence.text,
                    position: utterance.position,
                    starts_chapter: utterance.starts_chapter,
                },
                &clip,
            )?;
            on_event(Event::SentenceDone {
                done: index + 1,
                total,
            });
        }
        drop(clips);

        let timeline: Timeline = stitcher.timeline(&document.title, &self.profile.name);
        let sidecar_path = timeline_path(output);
        let sidecar = timeline.prepare(&sidecar_path)?;
        let chapters = stitcher.finish()?;
        sidecar.commit()?;

        let wall = started.elapsed();
        let engine = self.backend.engine_time().saturating_sub(engine_before);
        Ok(Summary {
            output: output.to_path_buf(),
            timeline: sidecar_path,
            title: document.title.clone(),
            voice: self.profile.name.clone(),
            backend: self.backend.name().to_string(),
            chapters: chapters.len(),
            sentences: total,
            words: document.word_count(),
            synthesized: requests,
            audio_seconds: timeline.duration,
            wall_seconds: wall.as_secs_f64(),
            engine_seconds: engine.as_secs_f64(),
            real_time_factor: timeline.duration / wall.max(Duration::from_micros(1)).as_secs_f64(),
        })
    }

    /// Blocking form of [`Narrator::narrate`], for callers without an async runtime.
    pub fn narrate_blocking(
        &self,
        document: &Document,
        output: &Path,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Summary> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Engine {
                backend: self.backend.name().to_string(),
                message: format!("cannot start the async runtime: {e}"),
            })?;
        runtime.block_on(self.narrate(document, output, on_event))
    }

    fn utterances<'a>(&self, document: &'a Document) -> Vec<Utterance<'a>> {
        let max_chars = self.backend.limits().max_chars;
        let split = |sentence: &'a Sentence| -> Vec<&'a str> {
            if sentence.text.chars().count() <= max_chars {
                return vec![sentence.text.as_str()];
            }
            segment::split_long(&sentence.text, max_chars)
                .into_iter()
                .filter_map(|range| sentence.text.get(range))
                .collect()
        };
        let mut utterances = Vec::new();
        for chapter in &document.chapters {
            let mut chapter_title = Some(chapter.title.as_str());
            if let Some(heading) = &chapter.heading {
                utterances.push(Utterance {
                    sentence: heading,
                    pieces: split(heading),
                    position: Position::Heading,
                    starts_chapter: chapter_title.take(),
                });
            }
            for paragraph in &chapter.paragraphs {
                for (i, sentence) in paragraph.sentences.iter().enumerate() {
                    utterances.push(Utterance {
                        sentence,
                        pieces: split(sentence),
                        position: if i == 0 {
                            Position::ParagraphStart
                        } else {
                            Position::InParagraph
                        },
                        starts_chapter: chapter_title.take(),
                    });
                }
            }
        }
        utterances
    }
}

fn sentence_error(backend: &str, index: usize, utterance: &Utterance, error: Error) -> Error {
    let message = match error {
        Error::Engine { message, .. } => message,
        other => other.to_string(),
    };
    let mut excerpt: String = utterance.sentence.text.chars().take(60).collect();
    if excerpt.len() < utterance.sentence.text.len() {
        excerpt.push('…');
    }
    Error::Synthesis {
        backend: backend.to_string(),
        index: index + 1,
        excerpt,
        message,
    }
}
