//! `aloud cache stats|prune|clear`: the sentence cache, reported from its typed reports.

use crate::cli::args::{CacheAction, CacheCommandArgs};
use crate::cli::render::{byte_size, plural, print_report};

pub fn run(args: CacheCommandArgs) -> aloud::Result<()> {
    let Some(cache) = args.cache.open() else {
        return Err(aloud::Error::Usage {
            message: "no cache directory: give --cache-dir or set ALOUD_CACHE_DIR".to_string(),
        });
    };
    let dir = cache.dir().display();
    match args.action {
        CacheAction::Stats => print_report(args.json, &cache.stats(), |stats| {
            format!(
                "{dir}: {} clip{}, {} (limit {})",
                stats.entries,
                plural(stats.entries as usize),
                byte_size(stats.bytes),
                byte_size(stats.max_bytes)
            )
        }),
        CacheAction::Prune | CacheAction::Clear => {
            let pruned = match args.action {
                CacheAction::Clear => cache.clear(),
                _ => cache.prune(),
            };
            print_report(args.json, &pruned, |pruned| {
                format!(
                    "{dir}: removed {} clip{} ({}); {} left ({})",
                    pruned.removed,
                    plural(pruned.removed as usize),
                    byte_size(pruned.freed_bytes),
                    pruned.remaining_entries,
                    byte_size(pruned.remaining_bytes)
                )
            })
        }
    }
    Ok(())
}
