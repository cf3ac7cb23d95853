//! `aloud setup`: fetch and verify the engine's files, or only check them.

use crate::cli::args::SetupArgs;
use crate::cli::progress::report_assets;

pub fn run(args: SetupArgs) -> aloud::Result<()> {
    let options = args.assets.options();
    if !args.check {
        options.setup(&mut report_assets(args.json))?;
    }
    let status = options.status();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status).unwrap_or_default()
        );
    } else {
        for asset in &status {
            println!("{asset}");
        }
    }
    let unavailable = status.iter().filter(|a| !a.is_ok()).count();
    if unavailable > 0 {
        if !args.json {
            println!(
                "\nTo fetch the engine files by hand (e.g. on a machine without aloud's network access):"
            );
            for command in options.manual_fetch_commands() {
                println!("  {command}");
            }
        }
        return Err(aloud::Error::AssetMissing {
            what: format!("{unavailable} of the files listed above"),
            hint: "run `aloud setup` to fetch them".into(),
        });
    }
    Ok(())
}
