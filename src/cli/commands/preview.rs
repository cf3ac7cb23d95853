//! `aloud preview`: one paragraph (or a passage) now, to a file or streamed to a player.

use crate::cli::args::PreviewArgs;
use crate::cli::options::input_source;
use crate::cli::progress::report_assets;
use crate::cli::render::{clock, plural};
use aloud::narrate::Narrator;
use aloud::voice::VoiceProfile;
use std::io::IsTerminal;

pub fn run(args: PreviewArgs) -> aloud::Result<()> {
    let usage = |message: String| aloud::Error::Usage { message };
    let document = match (&args.text, &args.input) {
        (Some(text), _) => aloud::ingest::parse_passage(text)?,
        (None, Some(input)) => {
            let whole = aloud::ingest::load_source_with(
                &input_source(input)?,
                &args.narration.read.options(),
            )?;
            let count = whole.paragraph_count();
            whole.paragraph(args.paragraph).ok_or_else(|| {
                usage(format!(
                    "--paragraph {}: {} has {count} paragraph{} (`aloud plan` numbers them)",
                    args.paragraph,
                    input.display(),
                    plural(count)
                ))
            })?
        }
        (None, None) => return Err(usage("give an article or --text".to_string())),
    };
    let streaming = args.output.as_os_str() == "-";
    if streaming && std::io::stdout().is_terminal() {
        return Err(usage(
            "-o -: standard output is a terminal; pipe it to a player (| ffplay -nodisp -autoexit -) or give -o FILE.wav"
                .to_string(),
        ));
    }
    let profile = VoiceProfile::find(&args.voice)?;
    let options = args
        .narration
        .narrator_options(&profile, &args.lexicon, None)?;
    let narrator = Narrator::open(profile, &options, &mut report_assets(args.quiet))?;
    if streaming {
        let summary = narrator.stream_blocking(&document, std::io::stdout(), &mut |_| {})?;
        if args.json {
            eprintln!("{}", serde_json::to_string(&summary).unwrap_or_default());
        } else if !args.quiet {
            eprintln!(
                "aloud: streamed {} sentence{}, {} of audio; first audio after {:.2} s",
                summary.sentences,
                plural(summary.sentences),
                clock(summary.audio_seconds),
                summary.first_audio_seconds
            );
        }
        return Ok(());
    }
    let summary = narrator.narrate_blocking(&document, &args.output, &mut |_| {})?;
    if args.json {
        println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    } else if !args.quiet {
        println!(
            "{}: {} sentence{}, {} of audio in {:.1} s",
            summary.output.display(),
            summary.sentences,
            plural(summary.sentences),
            clock(summary.audio_seconds),
            summary.wall_seconds
        );
    }
    Ok(())
}
