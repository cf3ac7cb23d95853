//! `aloud worker`: one worker process taking narrations from a queue (and what `serve` and
//! `status` share with it: the runtime, opening the queue, the worker's options).

use crate::cli::service_args::{QueueArgs, RunnerArgs, WorkerArgs};
use aloud::ingest::AddressPolicy;
use aloud::jobs::webhook::WebhookSecret;
use aloud::jobs::{Queue, QueueUrl, Store, WorkerOptions, worker_name};
use aloud::narrate::NarratorOptions;
use std::time::Duration;

/// The async runtime of the service commands (opendal's process-wide parts installed first).
pub fn runtime() -> aloud::Result<tokio::runtime::Runtime> {
    aloud::jobs::store::install();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| aloud::Error::Usage {
            message: format!("cannot start the async runtime: {e}"),
        })
}

pub async fn open_queue(args: &QueueArgs) -> aloud::Result<Queue> {
    let url = match &args.queue {
        Some(text) if !text.trim().is_empty() => {
            QueueUrl::parse(text).map_err(aloud::Error::job)?
        }
        _ => QueueUrl::embedded(&args.out_dir),
    };
    Queue::open(&url).await.map_err(aloud::Error::job)
}

/// The store of `--store`, or the output directory itself.
pub fn open_store(args: &QueueArgs) -> aloud::Result<Store> {
    aloud::jobs::store::install();
    match &args.store {
        Some(url) if !url.trim().is_empty() => Store::parse(url).map_err(aloud::Error::job),
        _ => Store::directory(&args.out_dir).map_err(aloud::Error::job),
    }
}

/// The worker options from the shared flags.
pub fn worker_options(
    runner: &RunnerArgs,
    addresses: AddressPolicy,
) -> aloud::Result<WorkerOptions> {
    let (work, queue) = (&runner.work, &runner.queue);
    let mut narrator = NarratorOptions {
        assets: runner.assets.options(),
        cache: runner.cache.open(),
        ..NarratorOptions::default()
    };
    let webhook_secret = match &work.webhook_secret_file {
        Some(path) => Some(WebhookSecret::from_file(path).map_err(aloud::Error::job)?),
        None => None,
    };
    let store = open_store(queue)?;
    if work.share_cache {
        narrator.cache = Some(
            narrator
                .cache
                .take()
                .ok_or_else(|| aloud::Error::Usage {
                    message: "--share-cache needs the sentence cache (leave out --no-cache)".into(),
                })?
                .with_shared(std::sync::Arc::new(store.clips())),
        );
    }
    Ok(WorkerOptions {
        out_dir: queue.out_dir.clone(),
        store,
        concurrency: usize::from(work.concurrency),
        max_attempts: i64::from(work.max_attempts),
        narrator,
        webhook_secret,
        webhook_addresses: addresses,
        retention: Some(Duration::from_secs(u64::from(work.retention_days) * 86_400)),
    })
}

/// Any address with --allow-private-urls; otherwise public ones and the exceptions given.
pub fn address_policy(allow_private: bool, except: &[std::net::IpAddr]) -> AddressPolicy {
    match allow_private {
        true => AddressPolicy::Any,
        false => AddressPolicy::PublicOnly {
            except: except.to_vec(),
        },
    }
}

pub fn run(args: WorkerArgs) -> aloud::Result<()> {
    let addresses = address_policy(args.allow_private_urls, &[]);
    let options = worker_options(&args.runner, addresses)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let queue = open_queue(&args.runner.queue).await?;
        let name = worker_name();
        eprintln!(
            "aloud worker {name}: taking narrations from {}",
            queue.url().redacted()
        );
        aloud::jobs::worker::run(&queue, options, name, std::future::pending())
            .await
            .map_err(aloud::Error::job)
    })
}
