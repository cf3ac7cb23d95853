//! A batch narrated on a shared job queue: each article becomes a job that this process's
//! workers and `aloud worker`s on other machines take, and the batch gathers the finished
//! files from the store into its output directory, under the same lock, done-records and
//! feed as a batch narrated in-process.
//!
//! A job carries the article's bytes and the batch's finishing, sidecars and lexicon whole,
//! so a worker anywhere makes the same files the batch would make itself. The job ids of an
//! unfinished batch are kept in the state directory: a rerun after the batch was killed
//! waits for the jobs already queued (a killed local worker's job goes to another worker
//! after its missed heartbeats) instead of queueing them again.

use super::{
    ArticleReport, BatchEvent, BatchOptions, BatchReport, DoneRecord, STATE_DIR, Status, ToDo,
    Voices, hex_digest, initial_reports, read_article_file, record_name, runtime, shape,
    take_out_dir,
};
use crate::error::{Error, Result};
use crate::ingest::Source;
use crate::jobs::records::{NewNarration, Records, Status as JobStatus};
use crate::jobs::spec::{Article as JobArticle, Carried, NarrationOptions};
use crate::jobs::{JobSpec, Queue, QueueUrl, Store, WorkerOptions, worker_name};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a batch's jobs go and who runs them.
#[derive(Debug, Clone)]
pub struct QueueOptions {
    /// The queue (a SQLite file or PostgreSQL) that `aloud worker`s share.
    pub queue: QueueUrl,
    /// Where workers put finished files (`aloud worker --store`); `None`: a directory in the
    /// batch's state directory, which only this machine's workers reach.
    pub store: Option<String>,
    /// Starts a job gets before it is failed (a job that keeps killing its workers).
    pub max_attempts: i64,
    /// This process's workers share the sentence cache through the store.
    pub share_cache: bool,
}

/// How often the batch looks at its jobs' records.
const POLL: Duration = Duration::from_millis(250);

/// What the state directory keeps of a job queued for an article.
#[derive(Debug, Serialize, Deserialize)]
struct QueuedRecord {
    fingerprint: String,
    id: String,
}

/// An article queued (or found queued by an earlier run), waited for.
struct Waiting {
    index: usize,
    id: String,
    output: PathBuf,
    record: PathBuf,
    queued_record: PathBuf,
    fingerprint: String,
    sentences: usize,
    /// Sentences already shown done.
    shown: usize,
    started: bool,
}

/// Runs `manifest` through the queue; `options.jobs` jobs at once in this process (none with
/// 0: other machines' workers do them all). Blocking, like [`super::run`].
pub fn run(
    manifest: &super::Manifest,
    options: &BatchOptions,
    queued: &QueueOptions,
    on_event: Arc<dyn Fn(BatchEvent) + Send + Sync>,
) -> Result<BatchReport> {
    let options = &options.effective();
    let started = Instant::now();
    let out_dir = options.out_dir.clone();
    let state = out_dir.join(STATE_DIR);
    let done_dir = state.join("done");
    let queued_dir = state.join("queued");
    let _lock = take_out_dir(&out_dir, &[&done_dir, &queued_dir])?;
    crate::jobs::store::install();
    let mut reports = initial_reports(manifest, options);
    runtime()?.block_on(async {
        let queue = Queue::open(&queued.queue).await?;
        let store = match &queued.store {
            Some(url) => Store::parse(url)?,
            None => Store::directory(&state.join("store"))?,
        };
        let mut voices = Voices::new(options, on_event.clone());
        let mut waiting = Vec::new();
        for (index, article) in manifest.articles.iter().enumerate() {
            on_event(BatchEvent::Reading {
                article: index,
                articles: manifest.articles.len(),
            });
            let report = &mut reports[index];
            let outcome = enqueue(
                index,
                article,
                report,
                options,
                &mut voices,
                &queue,
                (&done_dir, &queued_dir),
            )
            .await;
            match outcome {
                Ok(Some(job)) => waiting.push(job),
                Ok(None) => report.status = Status::Skipped,
                Err(e) => report.error = Some(e.to_string()),
            }
        }
        let skipped = reports
            .iter()
            .filter(|r| r.status == Status::Skipped)
            .count();
        on_event(BatchEvent::Planned {
            articles: reports.len(),
            skipped,
            failed: reports.len() - skipped - waiting.len(),
            sentences: waiting.iter().map(|w| w.sentences).sum(),
        });
        if waiting.is_empty() {
            return Ok::<(), Error>(());
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut narrator = options.narrator.clone();
        if queued.share_cache {
            narrator.cache = narrator
                .cache
                .map(|cache| cache.with_shared(Arc::new(store.clips())));
        }
        let local = (options.jobs > 0).then(|| {
            let worker = WorkerOptions {
                out_dir: store
                    .root()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| state.join("work")),
                store: store.clone(),
                concurrency: options.jobs,
                max_attempts: queued.max_attempts,
                narrator,
                webhook_secret: None,
                webhook_addresses: Default::default(),
                retention: None,
            };
            let queue = queue.clone();
            tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stopped.await;
                };
                crate::jobs::worker::run(&queue, worker, worker_name(), shutdown).await
            })
        });
        let records = queue.records();
        let gathering = gather(
            (&records, &store),
            waiting,
            &mut reports,
            &out_dir,
            &on_event,
        );
        let Some(mut local) = local else {
            return gathering.await;
        };
        tokio::pin!(gathering);
        tokio::select! {
            gathered = &mut gathering => {
                let _ = stop.send(());
                match local.await {
                    Ok(Err(error)) if gathered.is_ok() => Err(error.into()),
                    _ => gathered,
                }
            }
            // The batch's own worker ended while its articles wait (the queue failed under
            // it): say so rather than wait for ever.
            ended = &mut local => Err(match ended {
                Ok(Err(error)) => error.into(),
                _ => Error::Usage {
                    message: format!(
                        "the batch's worker stopped before its articles were done; they stay queued on {}",
                        queued.queue.redacted()
                    ),
                },
            }),
        }
    })?;
    super::finish(reports, options, out_dir, started)
}

/// Queues one article, finds the job an earlier run queued for it, or finds that an earlier
/// run finished it (`None`).
async fn enqueue(
    index: usize,
    article: &super::Article,
    report: &mut ArticleReport,
    options: &BatchOptions,
    voices: &mut Voices<'_>,
    queue: &Queue,
    (done_dir, queued_dir): (&Path, &Path),
) -> Result<Option<Waiting>> {
    crate::jobs::spec::check_voice_name(&report.voice).map_err(|_| Error::Usage {
        message: format!(
            "voice `{}`: a batch on a queue names voices (workers on other machines look them up), not profile files",
            report.voice
        ),
    })?;
    let Some(to_do) = shape(article, &report.voice, options, voices, done_dir)?.unless_done(report)
    else {
        return Ok(None);
    };
    let ToDo {
        finishing,
        fingerprint,
        record,
        ..
    } = to_do;
    let job_article = match &article.source {
        Source::File(path) => {
            let bytes = read_article_file(path)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            JobArticle::file(&name, &bytes)
        }
        Source::Url(url) => {
            JobArticle::page(&crate::ingest::fetch::fetch(url, &options.read.fetch).await?)
        }
        Source::Stdin => {
            return Err(Error::Usage {
                message: "standard input cannot be narrated on a queue".into(),
            });
        }
    };
    let spec_options = output_options(&report.output, options.read.keep_all)?;
    let queued_record = queued_dir.join(format!(
        "{}.json",
        hex_digest(&record_name(&article.output))
    ));
    let mut waiting = Waiting {
        index,
        id: String::new(),
        output: report.output.clone(),
        record,
        queued_record,
        fingerprint: fingerprint.clone(),
        sentences: 0,
        shown: 0,
        started: false,
    };
    let spec = JobSpec {
        id: crate::jobs::submit::new_id(),
        article: job_article,
        voice: report.voice.clone(),
        options: spec_options,
        webhook: None,
        carried: Some(Carried {
            finishing,
            sidecars: options.narrator.sidecars.clone(),
            lexicon: options.narrator.lexicon.clone(),
        }),
    };
    // Read here as the worker will read it: a broken article fails now, not on a worker, and
    // the progress bar knows its sentences.
    waiting.sentences = spec.document()?.sentence_count();
    let records = queue.records();
    if let Some(id) = still_queued(&records, &waiting.queued_record, &fingerprint, options).await? {
        waiting.id = id;
        return Ok(Some(waiting));
    }
    let new = NewNarration {
        id: spec.id.clone(),
        idempotency: None,
        request_hash: fingerprint.clone(),
        voice: spec.voice.clone(),
    };
    records.insert(&new).await?;
    queue.push(&spec).await?;
    let json = serde_json::to_vec(&QueuedRecord {
        fingerprint,
        id: spec.id.clone(),
    })
    .unwrap_or_default();
    crate::fs::write_atomic(&waiting.queued_record, &json)?;
    waiting.id = spec.id;
    Ok(Some(waiting))
}

/// The job an earlier run of this batch queued for the article as it is now, if it is still
/// queued, running or done (a failed or cancelled one is queued again).
async fn still_queued(
    records: &Records,
    queued_record: &Path,
    fingerprint: &str,
    options: &BatchOptions,
) -> Result<Option<String>> {
    if options.force {
        return Ok(None);
    }
    let Some(earlier) = std::fs::read(queued_record)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<QueuedRecord>(&bytes).ok())
        .filter(|earlier| earlier.fingerprint == fingerprint)
    else {
        return Ok(None);
    };
    let live = records.get(&earlier.id).await?.is_some_and(|narration| {
        matches!(
            narration.status,
            JobStatus::Queued | JobStatus::Running | JobStatus::Done
        )
    });
    Ok(live.then_some(earlier.id))
}

/// The job's file name and format for an article's output: its stem, `.wav` or `.mp3`.
fn output_options(output: &Path, keep_all: bool) -> Result<NarrationOptions> {
    let refuse = |why: &str| Error::Usage {
        message: format!("{}: {why}", output.display()),
    };
    let stem = output
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| refuse("the output has no file name"))?;
    crate::jobs::spec::check_output_name(stem).map_err(|_| {
        refuse("a batch on a queue names outputs with letters, digits, `-`, `_` and `.` only")
    })?;
    let format = match output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("wav") => "wav",
        Some("mp3") => "mp3",
        _ => return Err(refuse("a batch on a queue writes .wav or .mp3 outputs")),
    };
    Ok(NarrationOptions {
        format: Some(format.into()),
        name: Some(stem.into()),
        keep_all,
        ..NarrationOptions::default()
    })
}

/// Waits for every job, showing progress, and brings each finished one's files from the
/// store into the output directory.
async fn gather(
    (records, store): (&Records, &Store),
    mut waiting: Vec<Waiting>,
    reports: &mut [ArticleReport],
    out_dir: &Path,
    on_event: &Arc<dyn Fn(BatchEvent) + Send + Sync>,
) -> Result<()> {
    while !waiting.is_empty() {
        tokio::time::sleep(POLL).await;
        let mut still = Vec::new();
        for mut job in waiting {
            let narration = records.get(&job.id).await?;
            let Some(narration) = narration else {
                reports[job.index].error = Some(format!(
                    "job {} is no longer on the queue (pruned or removed)",
                    job.id
                ));
                continue;
            };
            if !job.started && narration.status != JobStatus::Queued {
                job.started = true;
                on_event(BatchEvent::ArticleStarted { article: job.index });
            }
            let done = usize::try_from(narration.sentences_done).unwrap_or(0);
            let finished = matches!(
                narration.status,
                JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled
            );
            let audio = narration
                .summary
                .as_ref()
                .and_then(|s| s.get("audio_seconds"))
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0);
            let target = if finished {
                job.sentences
            } else {
                done.min(job.sentences)
            };
            while job.shown < target {
                job.shown += 1;
                let last = job.shown == job.sentences && narration.status == JobStatus::Done;
                on_event(BatchEvent::SentenceDone {
                    article: job.index,
                    added_seconds: if last { audio } else { 0.0 },
                });
            }
            if !finished {
                still.push(job);
                continue;
            }
            let report = &mut reports[job.index];
            report.worker = narration.worker.clone();
            report.attempts = Some(narration.attempts);
            let outcome = match narration.status {
                JobStatus::Done => place(store, &job, &narration, out_dir).await,

                JobStatus::Cancelled => Err(Error::Usage {
                    message: format!("job {} was cancelled", job.id),
                }),
                _ => Err(Error::Usage {
                    message: narration
                        .error
                        .clone()
                        .unwrap_or_else(|| "the job failed".into()),
                }),
            };
            match outcome {
                Ok(summary) => {
                    report.status = Status::Narrated;
                    report.summary = Some(summary);
                }
                Err(error) => report.error = Some(error.to_string()),
            }
            let _ = std::fs::remove_file(&job.queued_record);
            if report.status == Status::Narrated {
                // The batch's own job: nothing else reads its files once they are in place.
                let _ = store.remove_narration(&job.id).await;
            }
            on_event(BatchEvent::ArticleFinished {
                article: job.index,
                status: report.status,
            });
        }
        waiting = still;
    }
    Ok(())
}

/// Copies a finished job's files from the store beside the article's output (each renamed
/// into place whole), writes the article's done-record, and returns its summary with this
/// machine's paths.
async fn place(
    store: &Store,
    job: &Waiting,
    narration: &crate::jobs::Narration,
    out_dir: &Path,
) -> Result<serde_json::Value> {
    let mut summary = narration.summary.clone().unwrap_or_default();
    let dir = job.output.parent().unwrap_or(out_dir).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| Error::Output {
        path: job.output.clone(),
        message: format!("cannot create directory {}: {e}", dir.display()),
    })?;
    let mut names: Vec<String> = Vec::new();
    for key in ["output", "timeline"] {
        if let Some(name) = summary.get(key).and_then(|v| v.as_str()) {
            names.push(name.to_string());
        }
    }
    if let Some(list) = summary.get("sidecars").and_then(|v| v.as_array()) {
        names.extend(list.iter().filter_map(|v| v.as_str()).map(str::to_string));
    }
    let mut placed = Vec::new();
    for name in &names {
        let bytes = store.read_all(&format!("{}/{name}", job.id)).await?;
        let path = dir.join(name);
        crate::fs::write_atomic(&path, &bytes)?;
        placed.push(path);
    }
    let local = |name: &str| dir.join(name).to_string_lossy().into_owned();
    for key in ["output", "timeline"] {
        if let Some(name) = summary.get(key).and_then(|v| v.as_str()).map(local) {
            summary[key] = name.into();
        }
    }
    if let Some(list) = summary.get_mut("sidecars").and_then(|v| v.as_array_mut()) {
        for item in list.iter_mut() {
            if let Some(name) = item.as_str().map(local) {
                *item = name.into();
            }
        }
    }
    let relative = |path: &Path| {
        path.strip_prefix(out_dir)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let record = DoneRecord {
        fingerprint: job.fingerprint.clone(),
        outputs: placed.iter().map(|p| relative(p)).collect(),
        summary: summary.clone(),
    };
    crate::fs::write_atomic(
        &job.record,
        &serde_json::to_vec(&record).unwrap_or_default(),
    )?;
    Ok(summary)
}
