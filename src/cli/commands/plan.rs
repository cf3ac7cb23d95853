//! `aloud plan`: what would be said, what is left out, what is cached and what it would
//! cost, per voice, without synthesizing anything.

use crate::cli::args::PlanArgs;
use crate::cli::options::{input_source, load_lexicons};
use crate::cli::render::{abridged, cached_summary, cost_summary, plural};
use aloud::assets::AssetOptions;
use aloud::plan::{BackendEstimate, Plan, PlannedSentence};
use aloud::voice::{DEFAULT_VOICE, VoiceProfile};

pub fn run(args: PlanArgs) -> aloud::Result<()> {
    let document =
        aloud::ingest::load_source_with(&input_source(&args.input)?, &args.read.options())?;
    let job_lexicon = load_lexicons(&args.lexicon)?;
    let cache = args.cache.open();
    let names = match args.voice.is_empty() {
        true => vec![DEFAULT_VOICE.to_string()],
        false => args.voice.clone(),
    };
    let mut voices = Vec::with_capacity(names.len());
    for name in &names {
        let profile = VoiceProfile::find(name)?;
        let (plan, estimate) = aloud::plan::estimate(
            &document,
            &profile,
            &job_lexicon,
            cache.as_ref().ok_or(args.cache.absence()),
            &AssetOptions::default(),
        )?;
        voices.push((profile, plan, estimate));
    }
    if args.json {
        print_json(&voices);
    } else {
        print_words(&voices);
    }
    Ok(())
}

/// The first voice's plan, then one estimate per voice under `backends`.
fn print_json(voices: &[(VoiceProfile, Plan, BackendEstimate)]) {
    /// The plan's own fields first, in their order, then one estimate per voice.
    #[derive(serde::Serialize)]
    struct WithBackends<'a> {
        #[serde(flatten)]
        plan: &'a Plan,
        backends: Vec<&'a BackendEstimate>,
    }
    let Some((_, plan, _)) = voices.first() else {
        return;
    };
    let json = WithBackends {
        plan,
        backends: voices.iter().map(|(_, _, e)| e).collect(),
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
}

fn print_words(voices: &[(VoiceProfile, Plan, BackendEstimate)]) {
    let Some((profile, plan, _)) = voices.first() else {
        return;
    };
    let paragraphs: usize = plan.chapters.iter().map(|c| c.paragraphs.len()).sum();
    println!("{}", plan.title);
    println!(
        "{} chapter{}, {paragraphs} paragraph{}, {} sentence{}; {} characters to {} in {} request{}",
        plan.chapters.len(),
        plural(plan.chapters.len()),
        plural(paragraphs),
        plan.sentences,
        plural(plan.sentences),
        plan.characters,
        profile.engine,
        plan.requests,
        plural(plan.requests),
    );
    let show = |label: &str, sentence: &PlannedSentence| {
        println!("  {label:>4}  {}", sentence.text);
        if sentence.spoken != sentence.text {
            println!("        says: {}", sentence.spoken);
        }
    };
    // Paragraphs are numbered across the article: `aloud preview --paragraph N` takes these.
    let mut paragraph_number = 0;
    for (number, chapter) in plan.chapters.iter().enumerate() {
        println!("\n{}. {}", number + 1, chapter.title);
        if let Some(heading) = &chapter.heading {
            show("#", heading);
        }
        for paragraph in &chapter.paragraphs {
            paragraph_number += 1;
            for (i, sentence) in paragraph.sentences.iter().enumerate() {
                let label = if i == 0 {
                    format!("¶{paragraph_number}")
                } else {
                    String::new()
                };
                show(&label, sentence);
            }
        }
    }
    if !plan.dropped.is_empty() {
        println!(
            "\nLeft out ({} block{}; --keep-all narrates them):",
            plan.dropped.len(),
            plural(plan.dropped.len())
        );
        let width = plan
            .dropped
            .iter()
            .map(|d| d.reason.describe().len())
            .max()
            .unwrap_or(0);
        for dropped in &plan.dropped {
            println!(
                "  {:<width$}  {}",
                dropped.reason.describe(),
                abridged(&dropped.text, 100)
            );
        }
    }
    println!("\nPer backend:");
    let voice_width = voices
        .iter()
        .map(|(_, _, e)| e.voice.len())
        .max()
        .unwrap_or(0);
    let backend_width = voices
        .iter()
        .map(|(_, _, e)| e.backend.len())
        .max()
        .unwrap_or(0);
    for (profile, _, estimate) in voices {
        println!(
            "  {:<voice_width$}  {:<backend_width$}  {:>5} request{}  {:>7} characters  cost: {}; cached: {}",
            estimate.voice,
            estimate.backend,
            estimate.requests,
            if estimate.requests == 1 { " " } else { "s" },
            estimate.characters,
            cost_summary(profile, estimate),
            cached_summary(estimate),
        );
    }
}
