//! A worker: takes narration jobs from the queue and runs them, under a name of its own
//! (host-pid-random: apalis cannot recover the jobs of a worker restarted under the same
//! name). Delivery is at least once: a job whose worker died is handed to another after
//! missed heartbeats; outputs are renamed into place whole, so running a job twice is
//! harmless. apalis re-enqueues a dead worker's job without limit, so the handler counts
//! attempts itself and fails a job that keeps killing its workers.

use super::JobError;
use super::queue::{Db, POLL, Queue, postgres_config, sqlite_config};
use super::records::{Records, Start, Status};
use super::spec::JobSpec;
use super::webhook::{self, WebhookSecret};
use crate::ingest::guard::AddressPolicy;
use crate::narrate::{Event, Narrator, NarratorOptions};
use crate::voice::VoiceProfile;
use apalis::layers::WorkerBuilderExt;
use apalis::prelude::{BackendExt, BoxDynError, Data, WorkerBuilder};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// How a worker runs its jobs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Where narrations are made: `OUT_DIR/ID/NAME.wav` and sidecars (in place when the store
    /// is this directory, else in `OUT_DIR/.aloud-work/ID` and then stored).
    pub out_dir: PathBuf,
    /// Where finished files are kept.
    pub store: super::store::Store,
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// Starts a job gets before it is failed (a job that keeps killing workers).
    pub max_attempts: i64,
    /// Engine files and sentence cache; each job brings its own finishing.
    pub narrator: NarratorOptions,
    pub webhook_secret: Option<WebhookSecret>,
    /// Which addresses webhooks may be delivered to.
    pub webhook_addresses: AddressPolicy,
    /// Finished records older than this are pruned (checked every ten minutes).
    pub retention: Option<Duration>,
}

/// A worker's unique name: host, process id and a random part.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}

struct Shared {
    records: Records,
    options: WorkerOptions,
    name: String,
    /// Narrators kept open by voice and settings, so that jobs alike share one engine (its
    /// model loaded once, and its requests within the voice's limit across jobs, as in
    /// `aloud batch`: two sessions of one model side by side also cost twice the memory).
    /// Held while one is opened, so that jobs starting together do not open one each.
    narrators: tokio::sync::Mutex<HashMap<String, Arc<Narrator>>>,
}

/// Narrators a worker keeps open at most; past it they are all dropped and opened anew.
const NARRATORS_KEPT: usize = 8;

/// Runs a worker on `queue` until `shutdown` completes (or the queue fails).
pub async fn run(
    queue: &Queue,
    options: WorkerOptions,
    name: String,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), JobError> {
    let concurrency = options.concurrency.max(1);
    let retention = options.retention;
    let shared = Arc::new(Shared {
        records: queue.records(),
        options,
        name: name.clone(),
        narrators: tokio::sync::Mutex::new(HashMap::new()),
    });
    let pruner = retention.map(|age| {
        let records = queue.records();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                if let Err(error) = records
                    .prune(i64::try_from(age.as_millis()).unwrap_or(i64::MAX))
                    .await
                {
                    eprintln!("aloud worker: pruning finished narrations: {error}");
                }
            }
        })
    });
    let fail = |message: String| JobError::Queue {
        queue: queue.url().redacted(),
        message: format!("worker {name}: {message}"),
    };
    let shutdown = async move {
        shutdown.await;
        Ok::<(), std::io::Error>(())
    };
    // The two storages are different types behind the same builder calls.
    macro_rules! work_on {
        ($backend:expr) => {
            WorkerBuilder::new(name.as_str())
                .backend($backend)
                .data(shared)
                .concurrency(concurrency)
                .build(handle)
                .run_until(shutdown)
                .await
                .map_err(|e| fail(e.to_string()))
        };
    }
    let result = match &queue.db {
        Db::Sqlite(pool) => work_on!(
            SqliteStorage::<JobSpec>::new(pool)
                .with_config(sqlite_config(concurrency))
                .poll_with_interval(POLL)
        ),
        Db::Postgres(pool) => work_on!(
            PostgresStorage::<JobSpec>::new(pool)
                .with_config(postgres_config(concurrency))
                .poll_with_interval(POLL)
        ),
    };
    if let Some(pruner) = pruner {
        pruner.abort();
    }
    result
}

/// The job handler. Never returns an error for a narration that failed: the record says
/// so, and apalis must not retry it on its own.
async fn handle(spec: JobSpec, shared: Data<Arc<Shared>>) -> Result<(), BoxDynError> {
    let shared: &Shared = &shared;
    let records = &shared.records;
    let attempt = match records.start(&spec.id, &shared.name).await? {
        Start::Skip(_) => return Ok(()),
        Start::Run { attempt } => attempt,
    };
    if attempt > shared.options.max_attempts {
        let message = format!(
            "gave up after {} attempts: the worker running it died each time (killed, crashed or out of memory)",
            shared.options.max_attempts
        );
        records.finish_failed(&spec.id, &message).await?;
        announce(shared, &spec).await;
        return Ok(());
    }
    match narrate(shared, &spec, attempt).await {
        Ok(Some((output, summary, files))) => {
            if !records.finish_done(&spec.id, &output, &summary).await? {
                // Cancelled in the moment between the last check and now: a cancelled
                // narration leaves nothing.
                remove_files(&files);
                return Ok(());
            }
        }
        Ok(None) => return Ok(()), // cancelled while it ran
        Err(error) => {
            records.finish_failed(&spec.id, &error.to_string()).await?;
        }
    }
    announce(shared, &spec).await;
    Ok(())
}

/// A finished narration: its audio's name, its summary, and its files in the output
/// directory (when narrated in place).
type Narrated = (String, serde_json::Value, Vec<PathBuf>);

fn remove_files(files: &[PathBuf]) {
    for file in files {
        let _ = std::fs::remove_file(file);
    }
}

/// Runs the narration; `None` when it was cancelled while running.
async fn narrate(
    shared: &Shared,
    spec: &JobSpec,
    attempt: i64,
) -> Result<Option<Narrated>, JobError> {
    let options = &spec.options;
    let stem = options.stem().to_string();
    let file_name = format!("{stem}.{}", options.extension()?);
    let store = &shared.options.store;
    let in_place = store.is_directory(&shared.options.out_dir);
    let dir = match in_place {
        true => narration_dir(&shared.options.out_dir, &spec.id),
        false => shared.options.out_dir.join(".aloud-work").join(&spec.id),
    };
    std::fs::create_dir_all(&dir).map_err(|source| JobError::Io {
        path: dir.clone(),
        source,
    })?;
    if attempt > 1 {
        remove_working_files(&dir);
    }
    let output = dir.join(&file_name);
    let key = serde_json::json!([spec.voice, spec.options, spec.carried]).to_string();
    let mut narrators = shared.narrators.lock().await;
    let kept = narrators.get(&key).cloned();
    let (job, base) = (spec.clone(), shared.options.narrator.clone());
    // Reading the article and opening the voice (which may load an engine) block.
    let opened = tokio::task::spawn_blocking(move || -> Result<_, JobError> {
        let document = job.document()?;
        let profile = VoiceProfile::find(&job.voice)?;
        let narrator_options = job.narrator_options(&profile, &base)?;
        let narrator = match kept {
            Some(narrator) => narrator,
            None => Arc::new(Narrator::open(profile, &narrator_options, &mut |_| {})?),
        };
        Ok((document, narrator, narrator_options))
    })
    .await
    .map_err(|e| JobError::Config {
        message: format!("opening the narration failed: {e}"),
    })??;
    let (document, narrator, narrator_options) = opened;
    if !narrators.contains_key(&key) {
        if narrators.len() >= NARRATORS_KEPT {
            narrators.clear();
        }
        narrators.insert(key, narrator.clone());
    }
    drop(narrators);

    let done = Arc::new(AtomicI64::new(0));
    let total = Arc::new(AtomicI64::new(0));
    let (done_seen, total_seen) = (done.clone(), total.clone());
    let mut on_event = move |event: Event| match event {
        Event::Started { sentences } => {
            total_seen.store(sentences as i64, Ordering::Relaxed);
        }
        Event::SentenceDone { done, .. } => done_seen.store(done as i64, Ordering::Relaxed),
    };
    let narration = narrator.narrate(&document, &output, &mut on_event);
    tokio::pin!(narration);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let summary = loop {
        tokio::select! {
            result = &mut narration => break result?,
            _ = tick.tick() => {
                let (d, t) = (done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
                shared.records.progress(&spec.id, d, t).await?;
                if shared.records.get(&spec.id).await?.is_some_and(|n| n.status == Status::Cancelled) {
                    return Ok(None);
                }
            }
        }
    };
    if let Some(cache) = &narrator_options.cache {
        cache.prune();
    }
    let mut files = vec![summary.output.clone(), summary.timeline.clone()];
    files.extend(summary.sidecars.iter().cloned());
    if shared
        .records
        .get(&spec.id)
        .await?
        .is_some_and(|n| n.status == Status::Cancelled)
    {
        remove_files(&files);
        return Ok(None);
    }
    if !in_place {
        store.upload(&spec.id, &dir).await?;
        let _ = std::fs::remove_dir_all(&dir);
    }
    let mut json = serde_json::to_value(&summary).unwrap_or_default();
    // The summary names files, not this machine's paths.
    for key in ["output", "timeline"] {
        if let Some(path) = json.get(key).and_then(|v| v.as_str()).map(PathBuf::from) {
            json[key] = file_name_of(&path).into();
        }
    }
    if let Some(list) = json.get_mut("sidecars").and_then(|v| v.as_array_mut()) {
        for item in list.iter_mut() {
            if let Some(path) = item.as_str().map(PathBuf::from) {
                *item = file_name_of(&path).into();
            }
        }
    }
    // Once stored elsewhere, nothing of it is left here to remove.
    let files = if in_place { files } else { Vec::new() };
    Ok(Some((file_name, json, files)))
}

/// Removes the working files (`.aloud-*`) a killed attempt left in the narration's directory;
/// the finished files are only ever renamed into place whole, so nothing else needs undoing.
fn remove_working_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(crate::fs::TEMP_PREFIX)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Where narration `id`'s files are.
pub fn narration_dir(out_dir: &Path, id: &str) -> PathBuf {
    out_dir.join(id)
}

/// Sends the narration's webhook, if it asked for one; a failure is logged, not fatal.
async fn announce(shared: &Shared, spec: &JobSpec) {
    let Some(url) = &spec.webhook else {
        return;
    };
    let record = match shared.records.get(&spec.id).await {
        Ok(Some(record)) => record,
        _ => return,
    };
    let payload = serde_json::json!({
        "id": record.id,
        "status": record.status,
        "error": record.error,
        "output": record.output,
        "attempts": record.attempts,
    });
    if let Err(error) = webhook::deliver(
        url,
        &payload,
        shared.options.webhook_secret.as_ref(),
        &shared.options.webhook_addresses,
    )
    .await
    {
        eprintln!("aloud worker: narration {}: {error}", spec.id);
    }
}
