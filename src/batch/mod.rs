//! Batch narration: many articles into one output directory, several at once within each backend's limit, resumable after any interruption.
//!
//! Each finished article leaves a record in the output directory's [`STATE_DIR`]: a
//! fingerprint of everything that shaped it (the input's bytes, voice, finishing, sidecars,
//! lexicon, aloud's version) and the files it made. A rerun skips an article whose record
//! matches and whose files are all there, and narrates the rest, taking every clip an
//! interrupted run already made from the sentence cache. Outputs are renamed into place
//! whole, so a killed run leaves finished files or none, plus working files named
//! `.aloud-*`, which the next run removes. A lock on the state directory keeps two batches
//! from sharing one output directory.

pub mod manifest;
pub mod queued;

pub use manifest::{Article, Manifest, STATE_DIR};
pub use queued::QueueOptions;

use crate::error::{Error, Result};
use crate::feed::{FeedOptions, FeedReport};
use crate::fs::TEMP_PREFIX;
use crate::ingest::{ReadOptions, Source};
use crate::narrate::{Event, Narrator, NarratorOptions, Summary};
use crate::plan::NoCache;
use crate::sidecar::SidecarKind;
use crate::stitch::Finishing;
use crate::voice::VoiceProfile;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// How a batch runs.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Every output goes under this directory.
    pub out_dir: PathBuf,
    /// The voice of articles whose manifest entry names none.
    pub default_voice: String,
    /// Articles narrated at once. Backend requests stay within each voice's own limit
    /// however many articles share it.
    pub jobs: usize,
    /// Narrate every article, even those an earlier run finished.
    pub force: bool,
    /// Engine files, cache, lexicon, sidecars and finishing for every article; the finishing's
    /// pauses are each voice's own, with `pause_overrides` applied.
    pub narrator: NarratorOptions,
    /// `--pause NAME=MS` settings applied over each voice's pauses.
    pub pause_overrides: Vec<String>,
    /// How every article is read (limits, whether page furniture is dropped).
    pub read: ReadOptions,
    /// Write the output directory's podcast feed after the batch (every narration in it,
    /// earlier runs' included); each article then also gets its Podcasting 2.0 chapters
    /// (`OUT.chapters.json`), which the feed links.
    pub feed: Option<FeedOptions>,
    /// Narrate through a shared job queue, `jobs` at a time in this process beside any
    /// `aloud worker`s on other machines; `None` narrates in this process only.
    pub queue: Option<QueueOptions>,
}

impl BatchOptions {
    /// The options as the batch runs them: with a feed asked for, the sidecars include the
    /// Podcasting 2.0 chapters its items point at.
    fn effective(&self) -> BatchOptions {
        let mut options = self.clone();
        if options.feed.is_some() {
            let sidecars = options
                .narrator
                .sidecars
                .get_or_insert_with(|| SidecarKind::DEFAULT.to_vec());
            if !sidecars.contains(&SidecarKind::PodcastChapters) {
                sidecars.push(SidecarKind::PodcastChapters);
            }
        }
        options
    }
}

/// What a running batch reports, for a progress display.
#[derive(Debug, Clone)]
pub enum BatchEvent {
    /// An engine file being fetched or checked.
    Asset(String),
    /// An article is being read (a URL fetched) and planned, before any is narrated.
    Reading {
        article: usize,
        articles: usize,
    },
    /// Every article has been read and planned.
    Planned {
        articles: usize,
        /// Finished by an earlier run.
        skipped: usize,
        /// Could not be read or planned.
        failed: usize,
        /// Sentences in the articles to narrate now.
        sentences: usize,
    },
    ArticleStarted {
        article: usize,
    },
    SentenceDone {
        article: usize,
        /// Seconds of audio this sentence added.
        added_seconds: f64,
    },
    ArticleFinished {
        article: usize,
        status: Status,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Narrated,
    /// Finished by an earlier run and unchanged since.
    Skipped,
    Failed,
}

/// One article's result.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleReport {
    /// Where the manifest names it.
    pub place: String,
    pub input: String,
    pub output: PathBuf,
    pub voice: String,
    pub status: Status,
    /// What went wrong, in one line.
    pub error: Option<String>,
    /// The narration's summary (as `aloud narrate --json` prints it), also for a skipped
    /// article (from the run that made it).
    pub summary: Option<serde_json::Value>,
    /// On a queue: the worker that narrated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// On a queue: how many times a worker started it (more than 1: a worker died running it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i64>,
}

/// What a batch did (`aloud batch --json` prints this).
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub out_dir: PathBuf,
    pub articles: Vec<ArticleReport>,
    pub narrated: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Backend requests made by this run.
    pub synthesized: usize,
    /// Requests this run answered from the sentence cache.
    pub cached: usize,
    /// Audio made by this run.
    pub audio_seconds: f64,
    pub wall_seconds: f64,
    /// The podcast feed written after the batch, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed: Option<FeedReport>,
    /// Why the feed asked for could not be written (the articles are finished all the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed_error: Option<String>,
}

impl BatchReport {
    /// The error a batch with failures ends in, after its report is shown: failed articles
    /// first, then a feed that could not be written.
    pub fn failure(&self) -> Option<Error> {
        if self.failed > 0 {
            return Some(Error::BatchFailed {
                failed: self.failed,
                total: self.articles.len(),
                out_dir: self.out_dir.clone(),
            });
        }
        self.feed_error.as_ref().map(|message| Error::BatchFeed {
            out_dir: self.out_dir.clone(),
            message: message.clone(),
        })
    }
}

/// What an earlier run left for a finished article.
#[derive(Debug, Serialize, Deserialize)]
struct DoneRecord {
    fingerprint: String,
    /// Files it made, relative to the output directory.
    outputs: Vec<PathBuf>,
    summary: serde_json::Value,
}

/// A finished narration and a note on anything that did not spoil it.
type Narrated = (Summary, Option<String>);

/// An article read, planned and ready to narrate.
struct Pending {
    index: usize,
    document: crate::document::Document,
    narrator: Arc<Narrator>,
    output: PathBuf,
    record: PathBuf,
    fingerprint: String,
}

/// Runs a batch. Blocking: it starts its own async runtime for the narration.
pub fn run(
    manifest: &Manifest,
    options: &BatchOptions,
    on_event: Arc<dyn Fn(BatchEvent) + Send + Sync>,
) -> Result<BatchReport> {
    if let Some(queue) = &options.queue {
        return queued::run(manifest, options, queue, on_event);
    }
    let options = &options.effective();
    let started = Instant::now();
    let out_dir = options.out_dir.clone();
    let done_dir = out_dir.join(STATE_DIR).join("done");
    let _lock = take_out_dir(&out_dir, &[&done_dir])?;

    let mut reports = initial_reports(manifest, options);

    let mut voices = Voices::new(options, on_event.clone());
    let mut pending = Vec::new();
    let mut sentences = 0;
    for (index, article) in manifest.articles.iter().enumerate() {
        on_event(BatchEvent::Reading {
            article: index,
            articles: manifest.articles.len(),
        });
        let report = &mut reports[index];
        match prepare(index, article, report, options, &mut voices, &done_dir) {
            Ok(Some(ready)) => {
                // Every spoken sentence, headings included, is one placement of its plan.
                sentences += ready.document.sentence_count();
                pending.push(ready);
            }
            Ok(None) => report.status = Status::Skipped,
            Err(e) => report.error = Some(e.to_string()),
        }
    }
    let count =
        |reports: &[ArticleReport], status| reports.iter().filter(|r| r.status == status).count();
    let skipped = count(&reports, Status::Skipped);
    on_event(BatchEvent::Planned {
        articles: reports.len(),
        skipped,
        failed: reports.len() - skipped - pending.len(),
        sentences,
    });

    let outcomes = narrate_all(pending, options.jobs, &out_dir, on_event)?;
    for (index, outcome) in outcomes {
        let report = &mut reports[index];
        match outcome {
            Ok((summary, note)) => {
                report.status = Status::Narrated;
                report.error = note;
                report.summary = serde_json::to_value(&summary).ok();
            }
            Err(e) => report.error = Some(e.to_string()),
        }
    }
    finish(reports, options, out_dir, started)
}

/// Every article's report before anything is done: failed until it is narrated or skipped.
fn initial_reports(manifest: &Manifest, options: &BatchOptions) -> Vec<ArticleReport> {
    manifest
        .articles
        .iter()
        .map(|article| ArticleReport {
            place: article.place.clone(),
            input: article.source.to_string(),
            output: options.out_dir.join(&article.output),
            voice: article
                .voice
                .clone()
                .unwrap_or_else(|| options.default_voice.clone()),
            status: Status::Failed,
            error: None,
            summary: None,
            worker: None,
            attempts: None,
        })
        .collect()
}

/// The batch's report once every article is narrated, skipped or failed: totals of what this
/// run narrated, and the feed written when one was asked for.
fn finish(
    reports: Vec<ArticleReport>,
    options: &BatchOptions,
    out_dir: PathBuf,
    started: Instant,
) -> Result<BatchReport> {
    let count = |status| reports.iter().filter(|r| r.status == status).count();
    let narrated_total = |key: &str| {
        reports
            .iter()
            .filter(|r| r.status == Status::Narrated)
            .filter_map(|r| r.summary.as_ref()?.get(key)?.as_f64())
            // Not `sum`: an empty f64 sum is -0.0, which JSON would show.
            .fold(0.0, |total, value| total + value)
    };
    // The feed lists whatever is finished in the directory, so a batch with failures still
    // publishes the articles that made it.
    let (feed, feed_error) = match options
        .feed
        .as_ref()
        .map(|f| crate::feed::write(&out_dir, f))
    {
        Some(Ok(feed)) => (Some(feed), None),
        Some(Err(e)) => (None, Some(e.to_string())),
        None => (None, None),
    };
    Ok(BatchReport {
        out_dir,
        feed,
        feed_error,
        narrated: count(Status::Narrated),
        skipped: count(Status::Skipped),
        failed: count(Status::Failed),
        synthesized: narrated_total("synthesized") as usize,
        cached: narrated_total("cached") as usize,
        audio_seconds: narrated_total("audio_seconds"),
        wall_seconds: started.elapsed().as_secs_f64(),
        articles: reports,
    })
}

/// Narrates the pending articles, `jobs` at a time, each as its own task so one article's
/// finishing (CPU work) does not hold up another's synthesis.
fn narrate_all(
    pending: Vec<Pending>,
    jobs: usize,
    out_dir: &Path,
    on_event: Arc<dyn Fn(BatchEvent) + Send + Sync>,
) -> Result<Vec<(usize, Result<Narrated>)>> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    Ok(runtime()?.block_on(
        futures::stream::iter(pending)
            .map(|ready| {
                let (index, output) = (ready.index, ready.output.clone());
                let task =
                    tokio::spawn(narrate_one(ready, out_dir.to_path_buf(), on_event.clone()));
                async move {
                    let outcome = task.await.unwrap_or_else(|e| {
                        Err(Error::Output {
                            path: output,
                            message: format!("the narration stopped unexpectedly: {e}"),
                        })
                    });
                    (index, outcome)
                }
            })
            .buffer_unordered(jobs.max(1))
            .collect(),
    ))
}

/// What a batch would do and send, without doing it (`aloud batch --plan`).
#[derive(Debug, Clone, Serialize)]
pub struct BatchPlan {
    pub out_dir: PathBuf,
    pub articles: Vec<PlannedArticle>,
    /// Per voice, what its articles still to narrate would send, and cost.
    pub voices: Vec<VoiceTotal>,
}

/// One article of a batch plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedArticle {
    pub place: String,
    pub input: String,
    pub output: PathBuf,
    pub voice: String,
    pub status: PlanStatus,
    pub error: Option<String>,
    pub estimate: Option<crate::plan::BackendEstimate>,
}

/// What a batch would do with one article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanStatus {
    Narrate,
    /// An earlier run finished it; it would be skipped.
    Done,
    /// It cannot be read, or its voice cannot be found.
    Failed,
}

/// One voice's share of a batch still to narrate.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VoiceTotal {
    pub voice: String,
    pub backend: String,
    pub articles: usize,
    pub requests: usize,
    pub characters: usize,
    /// `None` when the cache could not be consulted for some article.
    pub cached_requests: Option<usize>,
    pub billable_characters: usize,
    /// `None` for a voice without a price (see `cost_note`).
    pub estimated_cost: Option<crate::plan::Cost>,
    pub cost_note: Option<String>,
}

impl VoiceTotal {
    fn add(&mut self, estimate: &crate::plan::BackendEstimate) {
        if self.articles == 0 {
            self.voice = estimate.voice.clone();
            self.backend = estimate.backend.clone();
            self.cached_requests = Some(0);
            self.estimated_cost = estimate
                .estimated_cost
                .clone()
                .map(|cost| crate::plan::Cost {
                    amount: 0.0,
                    ..cost
                });
            self.cost_note = estimate.cost_note.clone();
        }
        self.articles += 1;
        self.requests += estimate.requests;
        self.characters += estimate.characters;
        self.billable_characters += estimate.billable_characters;
        self.cached_requests = self
            .cached_requests
            .zip(estimate.cached_requests)
            .map(|(a, b)| a + b);
        if let (Some(total), Some(cost)) = (&mut self.estimated_cost, &estimate.estimated_cost) {
            total.amount += cost.amount;
        }
    }
}

/// Plans a batch: which articles an earlier run finished, and for the rest what each voice
/// would be sent, how much of it is cached and what it would cost. Reads (and fetches) every
/// article; writes nothing. `no_cache` says why there is no cache when the options have none.
pub fn plan(manifest: &Manifest, options: &BatchOptions, no_cache: NoCache) -> BatchPlan {
    let options = &options.effective();
    let done_dir = options.out_dir.join(STATE_DIR).join("done");
    let mut voices = Voices::new(options, Arc::new(|_| {}));
    let mut totals: Vec<VoiceTotal> = Vec::new();
    let articles = manifest
        .articles
        .iter()
        .map(|article| {
            let voice = article
                .voice
                .clone()
                .unwrap_or_else(|| options.default_voice.clone());
            let mut planned = PlannedArticle {
                place: article.place.clone(),
                input: article.source.to_string(),
                output: options.out_dir.join(&article.output),
                voice: voice.clone(),
                status: PlanStatus::Failed,
                error: None,
                estimate: None,
            };
            let outcome =
                estimate_article(article, &voice, options, &mut voices, &done_dir, no_cache);
            match outcome {
                Ok(None) => planned.status = PlanStatus::Done,
                Ok(Some(estimate)) => {
                    planned.status = PlanStatus::Narrate;
                    match totals.iter_mut().find(|t| t.voice == estimate.voice) {
                        Some(total) => total.add(&estimate),
                        None => {
                            let mut total = VoiceTotal::default();
                            total.add(&estimate);
                            totals.push(total);
                        }
                    }
                    planned.estimate = Some(estimate);
                }
                Err(e) => planned.error = Some(e.to_string()),
            }
            planned
        })
        .collect();
    BatchPlan {
        out_dir: options.out_dir.clone(),
        articles,
        voices: totals,
    }
}

/// What narrating one article would send (`None`: an earlier run finished it).
fn estimate_article(
    article: &Article,
    voice: &str,
    options: &BatchOptions,
    voices: &mut Voices,
    done_dir: &Path,
    no_cache: NoCache,
) -> Result<Option<crate::plan::BackendEstimate>> {
    let Shaped::ToDo(to_do) = shape(article, voice, options, voices, done_dir)? else {
        return Ok(None);
    };
    let profile = to_do.profile;
    let document = crate::ingest::load_source_with(&article.source, &options.read)?;
    let (_, estimate) = crate::plan::estimate(
        &document,
        &profile,
        &options.narrator.lexicon,
        options.narrator.cache.as_ref().ok_or(no_cache),
        &options.narrator.assets,
    )?;
    Ok(Some(estimate))
}

/// What an article would be made with, or the record of an earlier run that made it so.
enum Shaped {
    Done(DoneRecord),
    ToDo(Box<ToDo>),
}

/// An article to narrate.
struct ToDo {
    profile: VoiceProfile,
    finishing: Finishing,
    fingerprint: String,
    /// Where its done-record goes.
    record: PathBuf,
}

impl Shaped {
    /// The work to do, or `None` with the earlier run's summary put in `report`.
    fn unless_done(self, report: &mut ArticleReport) -> Option<ToDo> {
        match self {
            Shaped::Done(done) => {
                report.summary = Some(done.summary);
                None
            }
            Shaped::ToDo(to_do) => Some(*to_do),
        }
    }
}

/// The article's voice, finishing and fingerprint, unless an earlier run finished it as it
/// would be made now.
fn shape(
    article: &Article,
    voice: &str,
    options: &BatchOptions,
    voices: &mut Voices,
    done_dir: &Path,
) -> Result<Shaped> {
    let profile = voices.profile(voice)?;
    let finishing = voices.finishing(&profile)?;
    let fingerprint = fingerprint(article, &profile, &finishing, options)?;
    let record = record_path(done_dir, article);
    Ok(match finished_before(&record, &fingerprint, options) {
        Some(done) => Shaped::Done(done),
        None => Shaped::ToDo(Box::new(ToDo {
            profile,
            finishing,
            fingerprint,
            record,
        })),
    })
}

/// An article file's bytes; a missing one named as such.
fn read_article_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::input(path, e))
}

/// Reads and plans one article, or finds that an earlier run finished it (`None`).
fn prepare(
    index: usize,
    article: &Article,
    report: &mut ArticleReport,
    options: &BatchOptions,
    voices: &mut Voices,
    done_dir: &Path,
) -> Result<Option<Pending>> {
    let Some(ToDo {
        profile,
        finishing,
        fingerprint,
        record,
    }) = shape(article, &report.voice, options, voices, done_dir)?.unless_done(report)
    else {
        return Ok(None);
    };
    let document = crate::ingest::load_source_with(&article.source, &options.read)?;
    let narrator = voices.narrator(&report.voice, &profile, finishing)?;
    Ok(Some(Pending {
        index,
        document,
        narrator,
        output: report.output.clone(),
        record,
        fingerprint,
    }))
}

/// Narrates one article and records it as finished. The note is a problem that did not
/// spoil the article (its record could not be written, so a rerun will narrate it again).
async fn narrate_one(
    ready: Pending,
    out_dir: PathBuf,
    on_event: Arc<dyn Fn(BatchEvent) + Send + Sync>,
) -> Result<Narrated> {
    let article = ready.index;
    on_event(BatchEvent::ArticleStarted { article });
    if let Some(parent) = ready.output.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::Output {
            path: ready.output.clone(),
            message: format!("cannot create directory {}: {e}", parent.display()),
        })?;
    }
    let mut heard = 0.0;
    let progress = on_event.clone();
    let result = ready
        .narrator
        .narrate(&ready.document, &ready.output, &mut |event| {
            if let Event::SentenceDone { audio_seconds, .. } = event {
                progress(BatchEvent::SentenceDone {
                    article,
                    added_seconds: audio_seconds - heard,
                });
                heard = audio_seconds;
            }
        })
        .await;
    let outcome = result.map(|summary| {
        let note = write_record(&ready, &summary, &out_dir)
            .err()
            .map(|e| format!("finished, but a rerun will narrate it again: {e}"));
        (summary, note)
    });
    on_event(BatchEvent::ArticleFinished {
        article,
        status: if outcome.is_ok() {
            Status::Narrated
        } else {
            Status::Failed
        },
    });
    outcome
}

/// Voice profiles and narrators, each opened once however many articles use it.
struct Voices<'a> {
    options: &'a BatchOptions,
    on_event: Arc<dyn Fn(BatchEvent) + Send + Sync>,
    profiles: HashMap<String, std::result::Result<VoiceProfile, String>>,
    narrators: HashMap<String, std::result::Result<Arc<Narrator>, String>>,
}

impl<'a> Voices<'a> {
    fn new(options: &'a BatchOptions, on_event: Arc<dyn Fn(BatchEvent) + Send + Sync>) -> Self {
        Voices {
            options,
            on_event,
            profiles: HashMap::new(),
            narrators: HashMap::new(),
        }
    }

    fn profile(&mut self, name: &str) -> Result<VoiceProfile> {
        self.profiles
            .entry(name.to_string())
            .or_insert_with(|| VoiceProfile::find(name).map_err(|e| e.to_string()))
            .clone()
            .map_err(|message| Error::Usage { message })
    }

    /// The batch's finishing with this voice's pauses (and the batch's overrides of them).
    fn finishing(&self, profile: &VoiceProfile) -> Result<Finishing> {
        let mut finishing = self
            .options
            .narrator
            .finishing
            .clone()
            .unwrap_or_else(|| Finishing::with_pauses(profile.pauses));
        finishing.pauses = profile.pauses;
        finishing
            .pauses
            .apply(&self.options.pause_overrides)
            .map_err(|m| Error::Usage {
                message: format!("--pause: {m}"),
            })?;
        Ok(finishing)
    }

    /// A failure to open a voice fails each of its articles with the same message, without
    /// trying again for every one.
    fn narrator(
        &mut self,
        name: &str,
        profile: &VoiceProfile,
        finishing: Finishing,
    ) -> Result<Arc<Narrator>> {
        if !self.narrators.contains_key(name) {
            let options = NarratorOptions {
                finishing: Some(finishing),
                ..self.options.narrator.clone()
            };
            let on_event = self.on_event.clone();
            let opened = Narrator::open(profile.clone(), &options, &mut |progress| {
                on_event(BatchEvent::Asset(progress.to_string()))
            })
            .map(Arc::new)
            .map_err(|e| e.to_string());
            self.narrators.insert(name.to_string(), opened);
        }
        match &self.narrators[name] {
            Ok(narrator) => Ok(narrator.clone()),
            Err(message) => Err(Error::Usage {
                message: message.clone(),
            }),
        }
    }
}

/// Everything that shapes an article's outputs, hashed: a record with another fingerprint
/// is stale.
fn fingerprint(
    article: &Article,
    profile: &VoiceProfile,
    finishing: &Finishing,
    options: &BatchOptions,
) -> Result<String> {
    let content = match &article.source {
        Source::File(path) => hex::encode(Sha256::digest(read_article_file(path)?)),
        // A page is not fetched again to see whether it changed: `--force` does that.
        Source::Url(_) | Source::Stdin => String::new(),
    };
    let material = serde_json::json!({
        "aloud": env!("CARGO_PKG_VERSION"),
        "input": article.source.to_string(),
        "content": content,
        "output": article.output,
        "profile": profile,
        "model": profile.model_path().and_then(|p| file_stamp(&p)),
        "finishing": format!("{finishing:?}"),
        "sidecars": format!("{:?}", options.narrator.sidecars),
        "lexicon": options.narrator.lexicon,
        "keep_all": options.read.keep_all,
        "voice_lexicon": profile.load_lexicon().ok(),
    });
    Ok(hex_digest(&material.to_string()))
}

/// A model file's size and modification time: enough to notice it was replaced, without
/// hashing hundreds of megabytes for every article.
fn file_stamp(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{}:{}", meta.len(), modified.as_nanos()))
}

/// Where an article's record is kept.
fn record_path(done_dir: &Path, article: &Article) -> PathBuf {
    done_dir.join(format!(
        "{}.json",
        hex_digest(&record_name(&article.output))
    ))
}

/// The record of an earlier run that finished this article as it would be made now, with all
/// its files still there (never with `--force`).
fn finished_before(record: &Path, fingerprint: &str, options: &BatchOptions) -> Option<DoneRecord> {
    if options.force {
        return None;
    }
    let done = read_record(record)?;
    let intact = done.fingerprint == fingerprint
        && done
            .outputs
            .iter()
            .all(|file| options.out_dir.join(file).is_file());
    intact.then_some(done)
}

fn hex_digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Output paths are one file whatever their case on some filesystems: so are records.
fn record_name(output: &Path) -> String {
    output.to_string_lossy().to_lowercase()
}

fn read_record(path: &Path) -> Option<DoneRecord> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes the record atomically, after every output is in place.
fn write_record(ready: &Pending, summary: &Summary, out_dir: &Path) -> Result<()> {
    let relative = |path: &Path| {
        path.strip_prefix(out_dir)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut outputs = vec![relative(&summary.output)];
    outputs.extend(summary.sidecars.iter().map(|p| relative(p)));
    let record = DoneRecord {
        fingerprint: ready.fingerprint.clone(),
        outputs,
        summary: serde_json::to_value(summary).unwrap_or_default(),
    };
    let json = serde_json::to_vec(&record).unwrap_or_default();
    crate::fs::write_atomic(&ready.record, &json)?;
    Ok(())
}

/// The async runtime a batch narrates in.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage {
            message: format!("cannot start the async runtime: {e}"),
        })
}

/// Makes the state directories `dirs`, takes the batch lock (held while the returned file
/// lives) and removes the working files a killed run left.
fn take_out_dir(out_dir: &Path, dirs: &[&Path]) -> Result<File> {
    for dir in dirs {
        std::fs::create_dir_all(dir).map_err(|e| Error::Output {
            path: dir.to_path_buf(),
            message: format!("cannot create the batch's state directory: {e}"),
        })?;
    }
    let lock = lock(&out_dir.join(STATE_DIR), out_dir)?;
    remove_working_files(out_dir);
    Ok(lock)
}

/// Holds the batch lock on `state` for as long as the returned file lives; the operating
/// system releases it however the process ends.
fn lock(state: &Path, out_dir: &Path) -> Result<File> {
    let path = state.join("lock");
    let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Usage {
            message: format!(
                "another `aloud batch` is writing to {}; wait for it to finish or choose another --out-dir",
                out_dir.display()
            ),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

/// Removes the working files a killed run left (`.aloud-*`); the batch lock guarantees no
/// other run is using them.
fn remove_working_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            remove_working_files(&path);
        } else if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests;
