//! `aloud voices`: the voice profiles aloud can find, and where each comes from.

use crate::cli::args::VoicesArgs;
use aloud::voice::{DEFAULT_VOICE, VoiceProfile};

pub fn run(args: VoicesArgs) -> aloud::Result<()> {
    let found = VoiceProfile::available();
    if args.json {
        let list: Vec<serde_json::Value> = found
            .iter()
            .map(|(name, origin)| serde_json::json!({"name": name, "origin": origin}))
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    for (name, origin) in found {
        let marker = if name == DEFAULT_VOICE {
            " (default)"
        } else {
            ""
        };
        println!("{name}{marker}\t{origin}");
    }
    Ok(())
}
