//! `aloud batch`: many articles into one directory, resumable; or `--plan`, what it would do.

use crate::cli::args::BatchArgs;
use crate::cli::progress::{BatchDisplay, bar};
use crate::cli::render::{cached_summary, clock, money, plural};
use aloud::batch::{BatchOptions, BatchPlan, Manifest, PlanStatus};
use aloud::voice::VoiceProfile;
use std::sync::Arc;

pub fn run(args: BatchArgs) -> aloud::Result<()> {
    let manifest = Manifest::load(&args.manifest)?;
    let profile = VoiceProfile::find(&args.voice)?;
    let options = BatchOptions {
        out_dir: args.out_dir.clone(),
        default_voice: args.voice.clone(),
        jobs: args.jobs,
        force: args.force,
        narrator: args
            .narration
            .narrator_options(&profile, &args.lexicon, args.concurrency)?,
        pause_overrides: args.narration.finishing.pause.clone(),
        read: args.narration.read.options(),
        feed: args.feed.options()?,
        queue: args.queue.options()?,
    };
    if args.plan {
        print_plan(
            &aloud::batch::plan(&manifest, &options, args.narration.cache.absence()),
            args.json,
        );
        return Ok(());
    }
    let bar = bar(
        !args.quiet,
        "{spinner} {wide_bar} {pos}/{len} sentences · {msg} · {eta} left",
    );
    let display = Arc::new(BatchDisplay::new(
        bar.clone(),
        manifest.articles.clone(),
        args.quiet,
    ));
    let listener = display.clone();
    let report = aloud::batch::run(
        &manifest,
        &options,
        Arc::new(move |event| listener.show(event)),
    );
    bar.finish_and_clear();
    let report = report?;
    if let Some(cache) = &options.narrator.cache {
        cache.prune();
    }
    if args.json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        for article in report.articles.iter() {
            let Some(error) = &article.error else {
                continue;
            };
            if error.contains(&article.input) {
                println!("{}: {error}", article.place);
            } else {
                println!("{} ({}): {error}", article.place, article.input);
            }
        }
        println!(
            "{}: {} article{}: {} narrated, {} already done, {} failed; {} of audio in {:.1} s, {} clip{} synthesized, {} from the cache",
            report.out_dir.display(),
            report.articles.len(),
            plural(report.articles.len()),
            report.narrated,
            report.skipped,
            report.failed,
            clock(report.audio_seconds),
            report.wall_seconds,
            report.synthesized,
            plural(report.synthesized),
            report.cached,
        );
        super::feed::print_batch_feed(&report);
    }
    match report.failure() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Prints what `aloud batch --plan` found.
fn print_plan(plan: &BatchPlan, json: bool) {
    if json {
        println!("{}", serde_json::to_string(plan).unwrap_or_default());
        return;
    }
    let count = |status| plan.articles.iter().filter(|a| a.status == status).count();
    println!(
        "{}: {} article{}: {} to narrate, {} already done, {} failing",
        plan.out_dir.display(),
        plan.articles.len(),
        plural(plan.articles.len()),
        count(PlanStatus::Narrate),
        count(PlanStatus::Done),
        count(PlanStatus::Failed)
    );
    for article in &plan.articles {
        let detail = match (&article.estimate, &article.error) {
            (Some(estimate), _) => format!(
                "{} request{}, {} characters, cached {}",
                estimate.requests,
                plural(estimate.requests),
                estimate.characters,
                cached_summary(estimate)
            ),
            (None, Some(error)) => format!("fails: {error}"),
            (None, None) => "done".to_string(),
        };
        println!(
            "  {}  {}  [{}]  {detail}",
            article.place, article.input, article.voice
        );
    }
    if !plan.voices.is_empty() {
        println!("\nPer voice (articles to narrate):");
    }
    for total in &plan.voices {
        let cost = match &total.estimated_cost {
            Some(cost) => format!(
                "{} at {} per million characters",
                money(cost.amount, &cost.currency),
                money(cost.per_million_characters, &cost.currency)
            ),
            None => total.cost_note.clone().unwrap_or_default(),
        };
        let cached = total.cached_requests.map_or("unknown".to_string(), |n| {
            format!("{n} of {}", total.requests)
        });
        println!(
            "  {} ({}): {} article{}, {} request{}, {} characters, cached {cached}; {cost}",
            total.voice,
            total.backend,
            total.articles,
            plural(total.articles),
            total.requests,
            plural(total.requests),
            total.characters,
        );
    }
}
