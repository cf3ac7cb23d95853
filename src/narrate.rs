//! The narration pipeline: a document's sentences through a backend, in order, into one stitched program.

use crate::assets::{AssetOptions, Progress};
use crate::audio;
use crate::cache::{CacheKey, ClipCache, Lookup};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::lexicon::Lexicon;
use crate::plan::{Placement, Plan};
use crate::sidecar::{SidecarKind, timeline_path};
use crate::stitch::stream::LiveFinisher;
use crate::stitch::wav::SampleFormat;
use crate::stitch::{Container, FinishReport, Finishing, Placed, Stitcher};
use crate::synth::{self, Backend, BackendLimits, Clip, OpenContext, Registry, SpeechRequest};
use crate::voice::VoiceProfile;
use futures::FutureExt;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How to open a narrator.
#[derive(Debug, Clone, Default)]
pub struct NarratorOptions {
    pub assets: AssetOptions,
    /// Sentences synthesized at once; `None` uses the backend's default.
    pub concurrency: Option<usize>,
    /// The job's lexicon; its entries override the voice profile's.
    pub lexicon: Lexicon,
    /// Where finished clips are kept and found again; `None` synthesizes every sentence.
    pub cache: Option<ClipCache>,
    /// Pauses, edges and loudness; `None` uses the voice's pauses with clean edges and the
    /// `web` loudness preset.
    pub finishing: Option<Finishing>,
    /// Sidecars besides the JSON timeline (always written); `None` means WebVTT captions.
    pub sidecars: Option<Vec<SidecarKind>>,
}

/// Something the caller may want to show while a narration runs.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    Started {
        sentences: usize,
    },
    SentenceDone {
        done: usize,
        total: usize,
        /// Seconds of audio made so far.
        audio_seconds: f64,
    },
}

/// What a finished narration reports (`--json` prints this).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub output: PathBuf,
    pub timeline: PathBuf,
    /// Every sidecar written, the timeline first.
    pub sidecars: Vec<PathBuf>,
    pub title: String,
    pub voice: String,
    pub backend: String,
    pub chapters: usize,
    pub sentences: usize,
    pub words: usize,
    /// Blocks of the source left out as page furniture (`aloud plan` lists them).
    pub dropped: usize,
    /// Backend requests made (a sentence longer than the backend takes is several).
    pub synthesized: usize,
    /// Requests answered from the sentence cache instead.
    pub cached: usize,
    /// Cache entries that failed their check, were deleted and made again.
    pub cache_rejected: usize,
    pub audio_seconds: f64,
    pub wall_seconds: f64,
    /// Time spent inside the engine proper (ONNX inference for Piper).
    pub engine_seconds: f64,
    /// Seconds of audio per second of wall time.
    pub real_time_factor: f64,
    /// Loudness before and after, the gain and limiting applied, and the worst join.
    pub finishing: FinishReport,
}

/// What a streamed preview reports (`aloud preview -o - --json` prints it to stderr).
#[derive(Debug, Clone, Serialize)]
pub struct StreamSummary {
    pub title: String,
    pub voice: String,
    pub backend: String,
    pub sentences: usize,
    pub synthesized: usize,
    pub cached: usize,
    pub cache_rejected: usize,
    pub audio_seconds: f64,
    /// Seconds from the start of the call until the first audio was written.
    pub first_audio_seconds: f64,
    pub wall_seconds: f64,
    /// The one gain applied, set from the opening sentence.
    pub gain_db: f64,
    /// The opening's integrated loudness, when it could be measured.
    pub measured_lufs: Option<f64>,
}

/// A voice, opened and ready to narrate any number of documents.
pub struct Narrator {
    /// Its `engine` names the backend in summaries and messages.
    profile: VoiceProfile,
    lexicon: Lexicon,
    backend: Arc<dyn Backend>,
    /// The backend's, from its registry entry: what the plan cuts sentences to.
    limits: BackendLimits,
    concurrency: usize,
    /// Backend requests in flight across every narration sharing this narrator (a batch runs
    /// several articles at once through one voice): the backend's limit holds for them all.
    permits: Arc<Semaphore>,
    cache: Option<ClipCache>,
    finishing: Finishing,
    sidecars: Vec<SidecarKind>,
}

/// Counts of where each request's clip came from, shared by the sentences in flight.
#[derive(Default)]
struct Sources {
    synthesized: AtomicUsize,
    cached: AtomicUsize,
    rejected: AtomicUsize,
}

/// The cache as one narration uses it: the backend's identity is computed once.
struct CacheUse<'a> {
    cache: &'a ClipCache,
    identity: serde_json::Value,
}

impl Narrator {
    /// Opens the backend for `profile` among aloud's own, provisioning engine assets if they
    /// are missing (reported through `progress`) unless the options say offline.
    pub fn open(
        profile: VoiceProfile,
        options: &NarratorOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Self> {
        Self::open_in(synth::registry::builtin(), profile, options, progress)
    }

    /// [`Narrator::open`] with the backends of `registry`, which may hold one's own.
    ///
    /// ```
    /// use aloud::narrate::{Narrator, NarratorOptions};
    /// use aloud::synth::{Backend, BackendEntry, BackendLimits, Clip, Registry, SpeechRequest};
    /// use aloud::voice::VoiceProfile;
    /// use std::sync::Arc;
    ///
    /// /// Half a second of silence a request, standing in for an engine of one's own.
    /// struct Quiet;
    ///
    /// #[async_trait::async_trait]
    /// impl Backend for Quiet {
    ///     fn sample_rate(&self) -> u32 { 16_000 }
    ///     fn identity(&self) -> serde_json::Value { serde_json::json!({"engine": "quiet"}) }
    ///     async fn synthesize(&self, _: &SpeechRequest) -> aloud::Result<Clip> {
    ///         Ok(Clip::new(vec![0.0; 8_000], 16_000))
    ///     }
    /// }
    ///
    /// let limits = BackendLimits { max_chars: 500, default_concurrency: 2, formats: &["pcm"],
    ///                              timings: false, phonemes: false, context: false };
    /// let mut registry = Registry::builtin();
    /// registry.register(BackendEntry::new("quiet", limits, |_, _| Ok(Arc::new(Quiet))));
    /// let voice = VoiceProfile::from_toml("name='q'\nengine='quiet'\nlanguage='en'", "q.toml".as_ref())?;
    /// let narrator = Narrator::open_in(&registry, voice, &NarratorOptions::default(), &mut |_| {})?;
    /// let article = aloud::ingest::parse("# Hi\n\nHello there.", aloud::ingest::Format::Markdown, "hi.md".as_ref())?;
    /// let dir = tempfile::tempdir().unwrap();
    /// let summary = narrator.narrate_blocking(&article, &dir.path().join("hi.wav"), &mut |_| {})?;
    /// assert_eq!(summary.backend, "quiet");
    /// # Ok::<(), aloud::Error>(())
    /// ```
    pub fn open_in(
        registry: &Registry,
        profile: VoiceProfile,
        options: &NarratorOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Self> {
        let lexicon = Self::lexicon(&profile, options)?;
        let mut context = OpenContext {
            assets: &options.assets,
            progress,
            concurrency: options.concurrency,
        };
        let backend = registry.open(&profile, &mut context)?;
        let limits = registry.limits_for(&profile)?;
        Ok(Self::assemble(profile, lexicon, backend, limits, options))
    }

    /// A narrator speaking through `backend`, built by the caller, whose requests take what
    /// `limits` says; the profile's `engine` names it in summaries and messages.
    pub fn with_backend(
        profile: VoiceProfile,
        backend: Arc<dyn Backend>,
        limits: BackendLimits,
        options: &NarratorOptions,
    ) -> Result<Self> {
        let lexicon = Self::lexicon(&profile, options)?;
        Ok(Self::assemble(profile, lexicon, backend, limits, options))
    }

    /// The voice's lexicon with the job's entries over it.
    fn lexicon(profile: &VoiceProfile, options: &NarratorOptions) -> Result<Lexicon> {
        let mut lexicon = profile.load_lexicon()?;
        lexicon.merge(&options.lexicon);
        Ok(lexicon)
    }

    fn assemble(
        profile: VoiceProfile,
        lexicon: Lexicon,
        backend: Arc<dyn Backend>,
        limits: BackendLimits,
        options: &NarratorOptions,
    ) -> Self {
        let concurrency = options
            .concurrency
            .unwrap_or(limits.default_concurrency)
            .max(1);
        let finishing = options
            .finishing
            .clone()
            .unwrap_or_else(|| Finishing::with_pauses(profile.pauses));
        Narrator {
            profile,
            lexicon,
            backend,
            limits,
            concurrency,
            permits: Arc::new(Semaphore::new(concurrency)),
            cache: options.cache.clone(),
            finishing,
            sidecars: options
                .sidecars
                .clone()
                .unwrap_or_else(|| SidecarKind::DEFAULT.to_vec()),
        }
    }

    pub fn profile(&self) -> &VoiceProfile {
        &self.profile
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// What `document` would become: its sentences in spoken form, cut to the backend's size.
    pub fn plan(&self, document: &Document) -> Plan {
        Plan::for_backend(document, &self.lexicon, &self.limits)
    }

    /// The job's rate, else the backend's own.
    fn program_rate(&self) -> u32 {
        self.finishing
            .sample_rate
            .unwrap_or_else(|| self.backend.sample_rate())
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
        let placements = spoken_placements(&plan, document)?;
        let total = placements.len();
        on_event(Event::Started { sentences: total });

        let program_rate = self.program_rate();
        let mut finishing = self.finishing.clone();
        let wants_mp3 = Container::is_mp3_path(output);
        match (&finishing.container, wants_mp3) {
            (Container::Wav(SampleFormat::Int16), true) => {
                finishing.container = Container::Mp3 {
                    bitrate_kbps: finishing.mp3_bitrate_kbps,
                };
            }
            (Container::Wav(format), true) => {
                return Err(Error::Output {
                    path: output.to_path_buf(),
                    message: format!(
                        "an .mp3 name for a {format:?} WAV; name it .wav, or drop the sample format"
                    ),
                });
            }
            _ => {}
        }
        let mut stitcher = Stitcher::create(output, program_rate, finishing, &document.title)?;
        let sources = Sources::default();
        self.lay_out(&placements, &mut stitcher, &sources, on_event, &mut |_| {
            Ok(())
        })
        .await?;

        let timeline = stitcher.timeline(&document.title, &self.profile.name);
        let sidecar_path = timeline_path(output);
        // Every sidecar is complete on disk before the audio is renamed into place, and
        // renamed only after it: a reader never finds captions for audio that is not there.
        let mut kinds = vec![SidecarKind::Timeline];
        kinds.extend(
            self.sidecars
                .iter()
                .filter(|k| **k != SidecarKind::Timeline),
        );
        let prepared = kinds
            .iter()
            .map(|kind| timeline.prepare_kind(*kind, output))
            .collect::<Result<Vec<_>>>()?;
        let (chapters, finishing) = stitcher.finish()?;
        let sidecars = prepared
            .into_iter()
            .map(|sidecar| sidecar.commit())
            .collect::<Result<Vec<_>>>()?;

        let wall = started.elapsed();
        let engine = self.backend.engine_time().saturating_sub(engine_before);
        Ok(Summary {
            output: output.to_path_buf(),
            timeline: sidecar_path,
            sidecars,
            title: document.title.clone(),
            voice: self.profile.name.clone(),
            backend: self.profile.engine.clone(),
            chapters: chapters.len(),
            sentences: total,
            words: document.word_count(),
            dropped: document.dropped.len(),
            synthesized: sources.synthesized.load(Ordering::Relaxed),
            cached: sources.cached.load(Ordering::Relaxed),
            cache_rejected: sources.rejected.load(Ordering::Relaxed),
            audio_seconds: timeline.duration,
            wall_seconds: wall.as_secs_f64(),
            engine_seconds: engine.as_secs_f64(),
            real_time_factor: timeline.duration / wall.max(Duration::from_micros(1)).as_secs_f64(),
            finishing,
        })
    }

    /// Speaks every placement (from the cache where it can) and pushes the clips, in order,
    /// into `stitcher`, calling `after` once each sentence is in and then reporting it.
    /// `buffered` keeps up to [`SPOKEN_AHEAD`] more than `concurrency` sentences started (the
    /// permits hold the backend to `concurrency` at once) and yields them in order, so clips
    /// stream into the program as soon as their turn comes. Each clip is cached as soon as it
    /// is made, so a job that fails later keeps it for the next run.
    async fn lay_out(
        &self,
        placements: &[Placement<'_>],
        stitcher: &mut Stitcher,
        sources: &Sources,
        on_event: &mut (dyn FnMut(Event) + Send),
        after: &mut (dyn FnMut(&mut Stitcher) -> Result<()> + Send),
    ) -> Result<()> {
        let cache = self.cache.as_ref().map(|cache| CacheUse {
            cache,
            identity: self.backend.identity(),
        });
        let speaker = Speaker {
            backend: self.backend.as_ref(),
            engine: &self.profile.engine,
            program_rate: stitcher.sample_rate(),
            cache: cache.as_ref(),
            sources,
            permits: &self.permits,
        };
        // The (unstarted) futures are made up front and boxed: a closure mapping them lazily
        // would stay in this future's state, and rustc cannot then prove it `Send` for
        // `tokio::spawn` (rust-lang/rust#102211).
        let sentences: Vec<_> = placements
            .iter()
            .enumerate()
            .map(|(index, placement)| speaker.speak_sentence(index, placement).boxed())
            .collect();
        let mut clips = stream::iter(sentences).buffered(self.concurrency + SPOKEN_AHEAD);
        while let Some((index, pieces)) = clips.try_next().await? {
            let placement = &placements[index];
            stitcher.push(
                Placed {
                    text: &placement.sentence.text,
                    spoken: &placement.sentence.spoken,
                    source: placement.sentence.source,
                    position: placement.position,
                    starts_chapter: placement.starts_chapter,
                },
                &pieces,
            )?;
            after(stitcher)?;
            on_event(Event::SentenceDone {
                done: index + 1,
                total: placements.len(),
                audio_seconds: stitcher.seconds(),
            });
        }
        Ok(())
    }

    /// Speaks `document` straight into `out` as a 16-bit WAV stream (a preview for a
    /// player): each sentence is written as soon as it and those before it are ready, with
    /// the voice's pauses and edges. The level is set from the opening sentence and held
    /// (see [`crate::stitch::stream`]); a file made by [`Narrator::narrate`] is measured whole.
    pub async fn stream(
        &self,
        document: &Document,
        out: impl std::io::Write + Send,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<StreamSummary> {
        let started = Instant::now();
        let plan = self.plan(document);
        let placements = spoken_placements(&plan, document)?;
        let total = placements.len();
        on_event(Event::Started { sentences: total });
        let program_rate = self.program_rate();
        // The stitcher lays the program out (pauses, edges) into a scratch directory that
        // is never finished; its samples are taken live as each sentence lands.
        let scratch = tempfile::tempdir().map_err(|e| Error::Output {
            path: std::env::temp_dir(),
            message: format!("cannot create a working directory: {e}"),
        })?;
        let mut finishing = self.finishing.clone();
        finishing.container = Container::Wav(SampleFormat::Int16);
        let mut stitcher = Stitcher::create(
            &scratch.path().join("preview.wav"),
            program_rate,
            finishing,
            &document.title,
        )?;
        stitcher.keep_live();
        let mut live = LiveFinisher::start(out, program_rate, self.finishing.loudness)?;
        let mut first_audio = None;
        let sources = Sources::default();
        self.lay_out(
            &placements,
            &mut stitcher,
            &sources,
            on_event,
            &mut |stitcher| {
                live.push_sentence(&stitcher.drain_live())?;
                if first_audio.is_none() && live.frames() > 0 {
                    first_audio = Some(started.elapsed());
                }
                Ok(())
            },
        )
        .await?;
        let report = live.finish()?;
        let wall = started.elapsed();
        Ok(StreamSummary {
            title: document.title.clone(),
            voice: self.profile.name.clone(),
            backend: self.profile.engine.clone(),
            sentences: total,
            synthesized: sources.synthesized.load(Ordering::Relaxed),
            cached: sources.cached.load(Ordering::Relaxed),
            cache_rejected: sources.rejected.load(Ordering::Relaxed),
            audio_seconds: report.frames as f64 / f64::from(program_rate),
            first_audio_seconds: first_audio.unwrap_or(wall).as_secs_f64(),
            wall_seconds: wall.as_secs_f64(),
            gain_db: report.gain_db,
            measured_lufs: report.measured_lufs,
        })
    }

    /// Blocking form of [`Narrator::stream`].
    pub fn stream_blocking(
        &self,
        document: &Document,
        out: impl std::io::Write + Send,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<StreamSummary> {
        self.runtime()?
            .block_on(self.stream(document, out, on_event))
    }

    fn runtime(&self) -> Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Engine {
                backend: self.profile.engine.clone(),
                message: format!("cannot start the async runtime: {e}"),
            })
    }

    /// Blocking form of [`Narrator::narrate`], for callers without an async runtime.
    pub fn narrate_blocking(
        &self,
        document: &Document,
        output: &Path,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Summary> {
        self.runtime()?
            .block_on(self.narrate(document, output, on_event))
    }
}

/// Sentences that may be finished ahead of the one the program waits for, beyond those being
/// spoken. With none, a long sentence held up every worker once they had spoken `concurrency`
/// sentences past it: Hibari's two one-thread sessions left a core idle whenever one sentence
/// outlasted the next one.
const SPOKEN_AHEAD: usize = 4;

/// What speaking a sentence needs: the backend, the program's rate and the cache.
struct Speaker<'a> {
    backend: &'a dyn Backend,
    /// The backend's name in messages.
    engine: &'a str,
    program_rate: u32,
    cache: Option<&'a CacheUse<'a>>,
    sources: &'a Sources,
    permits: &'a Semaphore,
}

impl Speaker<'_> {
    /// One request's clip, from the cache when it holds it, else from the backend (and then
    /// stored). A cache that cannot be written costs the saving, not the narration.
    async fn clip_for(&self, request: &SpeechRequest) -> Result<Clip> {
        let Some(cache) = self.cache else {
            return self.synthesize(request).await;
        };
        let key = CacheKey::new(&cache.identity, request);
        match cache.cache.get(&key) {
            Lookup::Hit(clip) => {
                self.sources.cached.fetch_add(1, Ordering::Relaxed);
                return Ok(clip);
            }
            Lookup::Corrupt => {
                self.sources.rejected.fetch_add(1, Ordering::Relaxed);
            }
            Lookup::Miss => {}
        }
        if let Some(clip) = cache.cache.fetch_shared(&key).await {
            self.sources.cached.fetch_add(1, Ordering::Relaxed);
            return Ok(clip);
        }
        let clip = self.synthesize(request).await?;
        let _ = cache.cache.put(&key, &clip);
        cache.cache.share(&key, &clip).await;
        Ok(clip)
    }

    /// One backend call, once a permit is free.
    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.permits.acquire().await.ok();
        self.sources.synthesized.fetch_add(1, Ordering::Relaxed);
        self.backend.synthesize(request).await
    }

    /// Speaks every request of one sentence: one clip per request at the program's rate,
    /// word ranges moved into the sentence's spoken text.
    async fn speak_sentence(
        &self,
        index: usize,
        placement: &Placement<'_>,
    ) -> Result<(usize, Vec<Clip>)> {
        let sentence = placement.sentence;
        let mut pieces = Vec::with_capacity(sentence.requests.len());
        for (request, offset) in sentence.requests.iter().zip(&sentence.request_offsets) {
            let failed = |e| sentence_error(self.engine, index, &sentence.text, e);
            let clip = self.clip_for(request).await.map_err(failed)?;
            // Backends may answer at another rate (or several): the program has one.
            let mut clip = audio::resample(clip, self.program_rate).map_err(failed)?;
            for word in &mut clip.words {
                word.range = word.range.start + offset..word.range.end + offset;
            }
            pieces.push(clip);
        }
        if pieces.is_empty() {
            return Err(Error::Synthesis {
                backend: self.engine.to_string(),
                index: index + 1,
                excerpt: excerpt(&sentence.text),
                message: "nothing to say".to_string(),
            });
        }
        Ok((index, pieces))
    }
}

/// The plan's sentences in reading order; a document with none is refused.
fn spoken_placements<'p>(plan: &'p Plan, document: &Document) -> Result<Vec<Placement<'p>>> {
    let placements = plan.placements();
    if placements.is_empty() {
        return Err(Error::EmptyInput {
            path: PathBuf::from(&document.title),
        });
    }
    Ok(placements)
}

fn sentence_error(backend: &str, index: usize, text: &str, error: Error) -> Error {
    let message = match error {
        Error::Engine { message, .. } | Error::EngineSentence { message, .. } => message,
        other => other.to_string(),
    };
    Error::Synthesis {
        backend: backend.to_string(),
        index: index + 1,
        excerpt: excerpt(text),
        message,
    }
}

/// The first 60 characters of a sentence (marked `…` when cut), short enough for a one-line
/// error; the player's errors quote sentences the same way.
pub(crate) fn excerpt(text: &str) -> String {
    let mut excerpt: String = text.chars().take(60).collect();
    if excerpt.len() < text.len() {
        excerpt.push('…');
    }
    excerpt
}

#[cfg(test)]
mod tests;
