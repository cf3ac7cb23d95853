//! `aloud setup`: fetch and verify the engine's files, or only check them.

use crate::cli::args::SetupArgs;
use crate::cli::progress::report_assets;

pub fn run(args: SetupArgs) -> aloud::Result<()> {
    let options = args.assets.options();
    let voices = args
        .voice
        .iter()
        .map(|name| builtin_voice(name))
        .collect::<aloud::Result<Vec<String>>>()?;
    if !args.check {
        if voices.is_empty() {
            options.setup(&mut report_assets(args.json))?;
        }
        for voice in &voices {
            options.setup_voice(voice, &mut report_assets(args.json))?;
        }
    }
    let wanted: Vec<&str> = voices.iter().map(String::as_str).collect();
    let status = options.status_with(&wanted);
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
            hint: if args.voice.is_empty() {
                "run `aloud setup` to fetch them".into()
            } else {
                format!(
                    "run `aloud setup --voice {}` to fetch them",
                    args.voice.join(" --voice ")
                )
            },
        });
    }
    Ok(())
}

/// The catalog name of a built-in voice given by its catalog name or by a profile that
/// speaks it (`joe` is `en_US-joe-medium`).
fn builtin_voice(name: &str) -> aloud::Result<String> {
    if aloud::assets::is_builtin_voice(name) {
        return Ok(name.to_string());
    }
    let profile = aloud::voice::VoiceProfile::find(name)?;
    if aloud::assets::is_builtin_voice(&profile.model) {
        return Ok(profile.model);
    }
    Err(aloud::Error::UnknownVoice {
        name: name.to_string(),
        searched: format!(
            "the built-in voices (profile '{}' uses model '{}', which aloud does not provision)",
            profile.name, profile.model
        ),
    })
}
