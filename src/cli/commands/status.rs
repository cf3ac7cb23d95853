//! `aloud status`: the queue at a glance (narrations by status, workers alive, the oldest
//! waiting narration's age), optionally pruning finished records first.

use crate::cli::commands::worker::open_queue;
use crate::cli::service_args::StatusArgs;

pub fn run(args: StatusArgs) -> aloud::Result<()> {
    let runtime = crate::cli::commands::worker::runtime()?;
    runtime.block_on(async {
        let queue = open_queue(&args.queue).await?;
        let records = queue.records();
        let pruned = match args.prune_days {
            Some(days) => Some(
                records
                    .prune(i64::from(days) * 86_400_000)
                    .await
                    .map_err(aloud::Error::job)?,
            ),
            None => None,
        };
        let counts = records.counts().await.map_err(aloud::Error::job)?;
        if args.json {
            let mut json = serde_json::to_value(&counts).unwrap_or_default();
            json["queue"] = queue.url().redacted().into();
            if let Some(pruned) = pruned {
                json["pruned"] = pruned.into();
            }
            println!("{json}");
            return Ok(());
        }
        println!(
            "{}: {} queued, {} running, {} done, {} failed, {} cancelled; {} worker{} alive{}",
            queue.url().redacted(),
            counts.queued,
            counts.running,
            counts.done,
            counts.failed,
            counts.cancelled,
            counts.workers_alive,
            if counts.workers_alive == 1 { "" } else { "s" },
            match counts.oldest_queued_seconds {
                Some(age) => format!("; oldest waiting {age:.0} s"),
                None => String::new(),
            }
        );
        if let Some(pruned) = pruned {
            println!("pruned {pruned} finished narration record(s)");
        }
        Ok(())
    })
}
