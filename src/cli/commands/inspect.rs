//! `aloud inspect`: what an audio file holds: format, length, chapters, loudness, joins, ACX.

use crate::cli::args::InspectArgs;
use crate::cli::render::{acx_checks, clock, plural};

pub fn run(args: InspectArgs) -> aloud::Result<()> {
    let report = aloud::inspect::inspect(&args.file)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        );
        return Ok(());
    }
    println!(
        "{}: {} Hz, {}-bit, {} channel{}, {}, {} chapter{}",
        args.file.display(),
        report.sample_rate,
        report.bits_per_sample,
        report.channels,
        plural(usize::from(report.channels)),
        clock(report.duration),
        report.chapters.len(),
        plural(report.chapters.len()),
    );
    let loudness = &report.loudness;
    let lufs = |value: Option<f64>, unit: &str| {
        value.map_or("unmeasurable".to_string(), |v| format!("{v:.1} {unit}"))
    };
    println!(
        "  loudness {} integrated, {} range, true peak {:.1} dBTP, {} clipped sample{}",
        lufs(loudness.integrated_lufs, "LUFS"),
        lufs(loudness.range_lu, "LU"),
        loudness.true_peak_dbtp,
        report.clipped_samples,
        plural(report.clipped_samples as usize)
    );
    match &report.seams {
        Some(seams) => println!(
            "  joins: {}, worst seam {:.2} at {} (1 is a typical step of the audio around it)",
            seams.joins,
            seams.worst,
            clock(seams.worst_at)
        ),
        None => println!("  joins: unknown (no matching timeline sidecar beside the file)"),
    }
    let acx = &report.acx;
    println!("  ACX: {}", acx_checks(acx));
    for (i, chapter) in report.chapters.iter().enumerate() {
        println!(
            "  {:>2}  {} - {}  {}",
            i + 1,
            clock(chapter.start),
            clock(chapter.end),
            chapter.title
        );
    }
    Ok(())
}
