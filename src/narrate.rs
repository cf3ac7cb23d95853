//! The narration pipeline: a document's sentences through a backend, in order, into one stitched program.

use crate::assets::{AssetOptions, Progress};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::lexicon::Lexicon;
use crate::plan::{Placement, Plan};
use crate::sidecar::{Timeline, timeline_path};
use crate::stitch::{Placed, Stitcher};
use crate::synth::{self, Backend, Clip, OpenContext, SpeechRequest};
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
    /// The job's lexicon; its entries override the voice profile's.
    pub lexicon: Lexicon,
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
    lexicon: Lexicon,
    backend: Arc<dyn Backend>,
    concurrency: usize,
}

impl Narrator {
    /// Opens the backend for `profile`, provisioning engine assets if they are missing
    /// (reported through `progress`) unless the options say offline.
    pub fn open(
        profile: VoiceProfile,
        options: &NarratorOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Self> {
        let mut lexicon = profile.load_lexicon()?;
        lexicon.merge(&options.lexicon);
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
            lexicon,
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

    /// What `document` would become: its sentences in spoken form, cut to the backend's size.
    pub fn plan(&self, document: &Document) -> Plan {
        Plan::new(document, &self.lexicon, self.backend.limits().max_chars)
    }

    /// Speaks one request (for previews and tests).
    pub async fn speak(&self, request: &SpeechRequest) -> Result<Clip> {
        self.backend.synthesize(request).await
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
        let plan = self.plan(document);
        let placements = plan.placements();
        if placements.is_empty() {
            return Err(Error::EmptyInput {
                path: PathBuf::from(&document.title),
            });
        }
        let total = placements.len();
        on_event(Event::Started { sentences: total });

        let mut stitcher =
            Stitcher::create(output, self.backend.sample_rate(), self.profile.pauses)?;
        let backend = &self.backend;
        // `buffered` keeps up to `concurrency` sentences in flight and yields them in order,
        // so clips stream into the WAV as soon as their turn comes.
        let mut clips = stream::iter(placements.iter().enumerate())
            .map(|(index, placement)| speak_sentence(backend.as_ref(), index, placement))
            .buffered(self.concurrency);
        while let Some((index, clip)) = clips.try_next().await? {
            let placement = &placements[index];
            stitcher.push(
                Placed {
                    text: &placement.sentence.text,
                    spoken: &placement.sentence.spoken,
                    source: placement.sentence.source,
                    position: placement.position,
                    starts_chapter: placement.starts_chapter,
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
            synthesized: plan.requests,
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
}

/// Speaks every request of one sentence and joins the clips.
async fn speak_sentence(
    backend: &dyn Backend,
    index: usize,
    placement: &Placement<'_>,
) -> Result<(usize, Clip)> {
    let sentence = placement.sentence;
    let mut joined: Option<Clip> = None;
    for request in &sentence.requests {
        let clip = backend
            .synthesize(request)
            .await
            .map_err(|e| sentence_error(backend.name(), index, &sentence.text, e))?;
        match &mut joined {
            Some(whole) => whole.samples.extend_from_slice(&clip.samples),
            None => joined = Some(clip),
        }
    }
    let clip = joined.ok_or_else(|| Error::Synthesis {
        backend: backend.name().to_string(),
        index: index + 1,
        excerpt: excerpt(&sentence.text),
        message: "nothing to say".to_string(),
    })?;
    Ok((index, clip))
}

fn sentence_error(backend: &str, index: usize, text: &str, error: Error) -> Error {
    let message = match error {
        Error::Engine { message, .. } => message,
        other => other.to_string(),
    };
    Error::Synthesis {
        backend: backend.to_string(),
        index: index + 1,
        excerpt: excerpt(text),
        message,
    }
}

/// The start of a sentence, short enough for a one-line error.
fn excerpt(text: &str) -> String {
    let mut excerpt: String = text.chars().take(60).collect();
    if excerpt.len() < text.len() {
        excerpt.push('…');
    }
    excerpt
}
