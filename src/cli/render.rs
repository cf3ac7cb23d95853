//! How numbers read in the command line's reports: counts, durations, sizes, money, long
//! text cut short, and the cache and cost columns of a plan.

use aloud::plan::BackendEstimate;
use aloud::voice::VoiceProfile;

/// The plural ending for `count` things.
pub fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// `83.4` -> `1:23.4`, `3725.0` -> `1:02:05.0`.
pub fn clock(seconds: f64) -> String {
    let tenths = (seconds * 10.0).round() as u64;
    let (h, m, s, t) = (
        tenths / 36000,
        tenths / 600 % 60,
        tenths / 10 % 60,
        tenths % 10,
    );
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{t}")
    } else {
        format!("{m}:{s:02}.{t}")
    }
}

/// `1536` -> `1.5 KiB`.
pub fn size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// `$0.42`, `$0.0013` (a short article's cost is not rounded away), `0.42 EUR`.
pub fn money(amount: f64, currency: &str) -> String {
    let digits = if amount > 0.0 && amount < 0.01 { 4 } else { 2 };
    if currency.eq_ignore_ascii_case("USD") {
        format!("${amount:.digits$}")
    } else {
        format!("{amount:.digits$} {currency}")
    }
}

/// `text`, cut at a word to at most `max` characters with an ellipsis if it is longer.
pub fn abridged(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    format!("{cut} …")
}

/// `3 of 5`, or `unknown: why`.
pub fn cached_summary(estimate: &BackendEstimate) -> String {
    match estimate.cached_requests {
        Some(cached) => format!("{cached} of {}", estimate.requests),
        None => format!(
            "unknown: {}",
            estimate.cache_note.as_deref().unwrap_or("not consulted")
        ),
    }
}

/// `$0.42 at $15.00 per million characters (the profile's price as of 2026-01-01)`, or why
/// there is none.
pub fn cost_summary(profile: &VoiceProfile, estimate: &BackendEstimate) -> String {
    let Some(cost) = &estimate.estimated_cost else {
        return estimate.cost_note.clone().unwrap_or_default();
    };
    let as_of = profile.pricing.as_ref().map_or(String::new(), |p| {
        format!(" (the profile's price as of {})", p.as_of)
    });
    let passes = match estimate.billed_passes {
        1 => String::new(),
        2 => ", each text billed twice".to_string(),
        n => format!(", each text billed {n} times"),
    };
    format!(
        "{} at {} per million characters{passes}{as_of}",
        money(cost.amount, &cost.currency),
        money(cost.per_million_characters, &cost.currency)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(clock(83.4), "1:23.4");
        assert_eq!(clock(3725.0), "1:02:05.0");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(money(0.42, "USD"), "$0.42");
        assert_eq!(money(0.0013, "usd"), "$0.0013");
        assert_eq!(money(0.42, "EUR"), "0.42 EUR");
        assert_eq!(abridged("one two three", 9), "one two …");
        assert_eq!(abridged("short", 9), "short");
    }
}
