//! `aloud player`: the read-along page and web component beside a narration; and the line
//! `aloud narrate --player` prints about it.

use crate::cli::args::PlayerArgs;
use crate::cli::render::{clock, print_report};
use aloud::player::PlayerFiles;

pub fn run(args: PlayerArgs) -> aloud::Result<()> {
    let files = aloud::player::write(&args.audio)?;
    print_report(args.json, &files, summary);
    Ok(())
}

/// `story.html: read-along player for story.mp3 (0:16.2); aloud-player.js beside it embeds it
/// in a page`.
pub fn summary(files: &PlayerFiles) -> String {
    format!(
        "{}: read-along player for {} ({}); {} beside it embeds it in a page",
        files.page.display(),
        files.audio.display(),
        clock(files.duration),
        files.script.display()
    )
}
