//! Bylines and datelines: who wrote the story and when (`By Jane Doe`, `Updated 3:15 p.m.`),
//! told apart from prose that merely names a person or a date.

use super::ends_a_sentence;
use super::phrases::{MONTH_WORDS, WEEKDAYS};

/// `By Jane Doe`, `By JANE DOE and JOHN ROE, Associated Press`, `Jane Doe | Reporter`,
/// `Transport reporter`, `Reporting by ...; Editing by ...`, `Additional reporting by ...`.
pub(super) fn is_byline(text: &str, lower: &str, words: usize) -> bool {
    let trimmed = text.trim();
    for credit in [
        "reporting by ",
        "additional reporting by ",
        "writing by ",
        "editing by ",
        "compiled by ",
        "written by ",
        "story by ",
        "words by ",
        "posted by ",
        "author: ",
        "authors: ",
    ] {
        if lower.trim_start().starts_with(credit) && words <= 24 {
            return true;
        }
    }
    if let Some(names) = trimmed
        .strip_prefix("By ")
        .or_else(|| trimmed.strip_prefix("BY "))
        && words <= 14
        && !ends_a_sentence(names)
        && names_only(names)
    {
        return true;
    }
    // `Jane Doe, Staff Writer`, `Transport reporter`.
    words <= 6
        && !ends_a_sentence(trimmed)
        && ROLES.iter().any(|role| {
            lower.ends_with(role)
                || lower.contains(&format!("{role} |"))
                || lower.contains(&format!("{role},"))
        })
        && trimmed
            .split_whitespace()
            .next()
            .and_then(|w| w.chars().next())
            .is_some_and(char::is_uppercase)
        && names_only(&trimmed.replace(['|', ','], " "))
}

/// Job titles that follow a name in a byline, lower-case.
const ROLES: &[&str] = &[
    "reporter",
    "correspondent",
    "staff writer",
    "writer",
    "editor",
    "columnist",
    "contributor",
    "bureau chief",
    "critic",
];

/// Whether `text` is only names: capitalised words, initials, `and`, `&`, commas and
/// connecting particles (`de`, `van`), and the roles of [`ROLES`].
fn names_only(text: &str) -> bool {
    let mut any = false;
    for word in text.split(|c: char| c.is_whitespace() || c == ',' || c == '|' || c == ';') {
        let word = word.trim_matches(|c: char| c == '.' || c == '(' || c == ')');
        if word.is_empty() {
            continue;
        }
        any = true;
        let lower = word.to_lowercase();
        let capitalised = word.chars().next().is_some_and(char::is_uppercase);
        let particle = matches!(
            lower.as_str(),
            "and"
                | "&"
                | "de"
                | "del"
                | "da"
                | "van"
                | "von"
                | "der"
                | "la"
                | "le"
                | "bin"
                | "al"
                | "for"
                | "of"
                | "the"
                | "in"
        );
        let role = ROLES.iter().any(|role| role.split(' ').any(|r| r == lower));
        if !(capitalised || particle || role) {
            return false;
        }
    }
    any
}

/// A line of nothing but when it was published: `Updated 4:12 PM EDT, Fri October 20, 2023`,
/// `Published Oct. 20, 2023 at 5:00 a.m.`, `2 hours ago`, `October 20, 2023 · 5 min read`.
/// Without a label ("Updated", "Published") it must hold a whole date (month, day and year,
/// or weekday, month and day), a clock time or an "ago": a section heading such as "March
/// 2023" or "1987" in a timeline is not a date line.
pub(super) fn is_dateline(lower: &str, words: usize) -> bool {
    if words > 16 {
        return false;
    }
    let mut rest = lower.trim();
    let mut labelled = false;
    for label in DATE_LABELS {
        if let Some(after) = rest.strip_prefix(label) {
            rest = after.trim_start_matches([':', ' ']);
            rest = rest.strip_prefix("on ").unwrap_or(rest);
            labelled = true;
            break;
        }
    }
    let (mut month, mut day, mut year, mut weekday, mut exact) =
        (false, false, false, false, false);
    for token in rest.split(|c: char| c.is_whitespace() || ",|·•–—".contains(c)) {
        let token = token.trim_matches(|c: char| c == '.' || c == '(' || c == ')');
        if token.is_empty() {
            continue;
        }
        let digits = token.chars().all(|c| c.is_ascii_digit());
        let numeric_date = token.len() >= 6
            && token.chars().any(|c| c.is_ascii_digit())
            && token
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '/' | '-' | '.'));
        if is_clock_time(token) || numeric_date || token == "ago" {
            exact = true;
        } else if MONTH_WORDS.contains(&token) {
            month = true;
        } else if digits && token.len() <= 2 {
            day = true;
        } else if digits && token.len() == 4 {
            year = true;
        } else if WEEKDAYS.contains(&token) || WEEKDAYS.iter().any(|d| d.get(..3) == Some(token)) {
            weekday = true;
        } else if !DATE_WORDS.contains(&token) {
            return false;
        }
    }
    exact || (month && day && (year || weekday)) || (labelled && (month || year || weekday))
}

/// Labels in front of a date line, lower-case, longest first.
const DATE_LABELS: &[&str] = &[
    "last updated",
    "first published",
    "originally published",
    "updated",
    "published",
    "posted",
    "modified",
    "date",
];

/// Words a date line holds besides the date itself, lower-case: time zones, "at", a
/// reading time.
const DATE_WORDS: &[&str] = &[
    "at",
    "on",
    "of",
    "am",
    "pm",
    "a.m",
    "p.m",
    "a",
    "p",
    "m",
    "hours",
    "hour",
    "hrs",
    "minutes",
    "mins",
    "min",
    "days",
    "day",
    "read",
    "listen",
    "yesterday",
    "today",
    "et",
    "pt",
    "ct",
    "mt",
    "edt",
    "est",
    "cdt",
    "cst",
    "mdt",
    "mst",
    "pdt",
    "pst",
    "gmt",
    "utc",
    "bst",
    "cet",
    "cest",
    "ist",
    "aest",
    "aedt",
    "jst",
];

/// `4:12`, `10:33am`, `14.03` (the Guardian's hours and minutes).
fn is_clock_time(token: &str) -> bool {
    let token = token
        .strip_suffix("am")
        .or_else(|| token.strip_suffix("pm"))
        .unwrap_or(token);
    let Some((hours, minutes)) = token.split_once([':', '.']) else {
        return false;
    };
    (1..=2).contains(&hours.len())
        && hours.chars().all(|c| c.is_ascii_digit())
        && minutes.len() == 2
        && minutes.chars().all(|c| c.is_ascii_digit())
}
