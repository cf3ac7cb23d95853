//! `aloud narrate`: one article into one WAV or MP3 with its sidecars.

use crate::cli::args::NarrateArgs;
use crate::cli::options::input_source;
use crate::cli::progress::{bar, report_assets};
use crate::cli::render::{acx_checks, clock, plural};
use aloud::narrate::{Event, Narrator};
use aloud::voice::VoiceProfile;

pub fn run(args: NarrateArgs) -> aloud::Result<()> {
    let source = input_source(&args.input)?;
    let document = aloud::ingest::load_source_with(&source, &args.narration.read.options())?;
    let profile = VoiceProfile::find(&args.voice)?;
    // A file's stem, a URL's last path segment (or host), or standard input's title.
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| source.default_output(&document));
    let options = args
        .narration
        .narrator_options(&profile, &args.lexicon, args.concurrency)?;
    let narrator = Narrator::open(profile, &options, &mut report_assets(args.quiet))?;

    let bar = bar(
        !args.quiet && !args.json,
        "{spinner} {wide_bar} {pos}/{len} sentences, {elapsed} ({eta} left)",
    );
    let mut on_event = |event: Event| match event {
        Event::Started { sentences } => bar.set_length(sentences as u64),
        Event::SentenceDone { done, .. } => bar.set_position(done as u64),
    };
    let summary = narrator.narrate_blocking(&document, &output, &mut on_event);
    bar.finish_and_clear();
    let summary = summary?;
    // An audiobook is checked against ACX's submission rules as it is made.
    let acx = match &options.finishing {
        Some(f) if f.loudness.is_some_and(|t| t.preset == Some("audiobook")) => {
            Some(aloud::inspect::inspect(&summary.output)?.acx)
        }
        _ => None,
    };
    // Keep the cache within its limit; what this narration used is the most recent.
    if let Some(cache) = &options.cache {
        cache.prune();
    }
    // The player reads the timeline and measures the audio now in place.
    let player = match args.player {
        true => Some(aloud::player::write(&summary.output)?),
        false => None,
    };

    if args.json {
        let mut json = serde_json::to_value(&summary).unwrap_or_default();
        if let Some(acx) = &acx {
            json["acx"] = serde_json::to_value(acx).unwrap_or_default();
        }
        if let Some(player) = &player {
            json["player"] = serde_json::to_value(&player.page).unwrap_or_default();
        }
        println!("{json}");
        return Ok(());
    }
    println!(
        "{}: {} sentence{} in {} chapter{}, {} of audio{} in {:.1} s ({:.1}x real time){}, timeline {}",
        summary.output.display(),
        summary.sentences,
        plural(summary.sentences),
        summary.chapters,
        plural(summary.chapters),
        clock(summary.audio_seconds),
        match summary.finishing.after.integrated_lufs {
            Some(lufs) => format!(
                " at {lufs:.1} LUFS ({:.1} dBTP)",
                summary.finishing.after.true_peak_dbtp
            ),
            None => String::new(),
        },
        summary.wall_seconds,
        summary.real_time_factor,
        if summary.cached > 0 {
            format!(
                ", {} of {} clips from the cache",
                summary.cached,
                summary.cached + summary.synthesized
            )
        } else {
            String::new()
        },
        summary.timeline.display()
    );
    if summary.dropped > 0 {
        println!(
            "Left out {} block{} of page furniture; `aloud plan {}` lists them, --keep-all narrates them",
            summary.dropped,
            plural(summary.dropped),
            args.input.display()
        );
    }
    if let Some(acx) = &acx {
        println!("ACX checks: {}", acx_checks(acx));
    }
    if let Some(player) = &player {
        println!("{}", crate::cli::commands::player::summary(player));
    }
    Ok(())
}
