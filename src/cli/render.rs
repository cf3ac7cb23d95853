//! How the command line's reports read: one JSON line or one summary line, counts, money,
//! long text cut short, and the cache and cost columns of a plan (sizes and clock times come
//! from `aloud::human`).

pub use aloud::human::{byte_size, clock};
use aloud::inspect::AcxReport;
use aloud::plan::BackendEstimate;
use aloud::voice::VoiceProfile;

/// Prints `report` as one line of JSON with `--json`, else as the summary line `line` makes.
pub fn print_report<T: serde::Serialize>(json: bool, report: &T, line: impl FnOnce(&T) -> String) {
    match json {
        true => println!("{}", serde_json::to_string(report).unwrap_or_default()),
        false => println!("{}", line(report)),
    }
}

/// The plural ending for `count` things.
pub fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// ACX's three checks, each with its verdict and the range it must be in.
pub fn acx_checks(acx: &AcxReport) -> String {
    let verdict = |ok: bool| if ok { "ok" } else { "FAILS" };
    format!(
        "RMS {:.1} dBFS {} (-23..-18), peak {:.1} dBFS {} (<= -3), noise floor {:.1} dBFS {} (<= -60)",
        acx.rms_dbfs,
        verdict(acx.rms_ok),
        acx.peak_dbfs,
        verdict(acx.peak_ok),
        acx.noise_floor_dbfs,
        verdict(acx.noise_floor_ok)
    )
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
        assert_eq!(money(0.42, "USD"), "$0.42");
        assert_eq!(money(0.0013, "usd"), "$0.0013");
        assert_eq!(money(0.42, "EUR"), "0.42 EUR");
        assert_eq!(abridged("one two three", 9), "one two …");
        assert_eq!(abridged("short", 9), "short");
    }
}
