//! What page furniture says: the phrases and shapes (widgets, share bars, captions, credits,
//! bylines, date lines, copyright lines) that mark one block of a page as not the story.
//!
//! Both readers of web pages ask it: the HTML reader for each block Readability kept, and the
//! plain-text cleaner (`page_copy`) for each block of a copied page. A rule here judges one
//! block on its own; what needs the blocks around it (a related-stories list, a pull quote,
//! a kicker above the headline) is the caller's.
//!
//! Precision comes first: a sentence of the story dropped is worse than a credit line read.
//! So the rules match whole blocks (an exact phrase, or a short block that opens with one),
//! or shapes that prose does not take (every word a date, a name with `/AP` after it, a
//! caption's `, center,` together with its weekday-date ending).

use crate::document::DropReason;

mod bylines;
mod captions;
mod phrases;

use bylines::{is_byline, is_dateline};
use captions::{is_caption, is_credit};
use phrases::{EXACT, OPENINGS, SHORT_BLOCK_WORDS, STORY_LIST_HEADINGS};

/// Why `text` (one block, whitespace as written) is page furniture; `None` for story.
pub(crate) fn classify(text: &str) -> Option<DropReason> {
    // A link's label as a screen reader hears it, copied with it (Reuters).
    let text = text.trim_end();
    let text = text.strip_suffix(", opens new tab").unwrap_or(text);
    let lower = text.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphanumeric());
    if core.is_empty() {
        return Some(DropReason::NoWords);
    }
    let words = text.split_whitespace().count();
    if is_counter(core) {
        return Some(DropReason::Media);
    }
    if let Some(reason) = exact_phrase(core) {
        return Some(reason);
    }
    if is_duration(core) {
        return Some(DropReason::ReadingTime);
    }
    if words <= SHORT_BLOCK_WORDS {
        let opening = lower.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '©');
        if let Some(&(_, reason)) = OPENINGS.iter().find(|(o, _)| opening.starts_with(o)) {
            return Some(reason);
        }
    }
    if is_share_bar(&lower) {
        return Some(DropReason::Share);
    }
    if is_newsletter_pitch(&lower, words) {
        return Some(DropReason::Subscribe);
    }
    if is_copyright(text, &lower, words) {
        return Some(DropReason::Copyright);
    }
    if is_caption(text, &lower, words) {
        return Some(DropReason::Caption);
    }
    if is_credit(text, &lower, words) {
        return Some(DropReason::Credit);
    }
    if is_byline(text, &lower, words) {
        return Some(DropReason::Byline);
    }
    if is_dateline(&lower, words) {
        return Some(DropReason::Dateline);
    }
    if is_breadcrumb(text, words) {
        return Some(DropReason::Navigation);
    }
    None
}

/// Whether `text` is, whole, one of the fixed phrases of furniture ("Share", "hide
/// caption", "Advertisement"), whatever its case and surrounding punctuation.
pub(crate) fn is_exact_phrase(text: &str) -> bool {
    let lower = text.to_lowercase();
    exact_phrase(lower.trim_matches(|c: char| !c.is_alphanumeric())).is_some()
}

/// Whether `text` heads a list of other stories ("Related stories", "More from Politics"):
/// the headlines under it are furniture too.
pub(crate) fn heads_a_story_list(text: &str) -> bool {
    let lower = text.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphanumeric());
    if STORY_LIST_HEADINGS.contains(&core) {
        return true;
    }
    // `More from Politics`, but not a live blog's `More from the hearing`.
    let words: Vec<&str> = text.split_whitespace().collect();
    matches!(
        words.as_slice(),
        [more, from, first, ..]
            if words.len() <= 6
                && more.eq_ignore_ascii_case("more")
                && (from.eq_ignore_ascii_case("from") || from.eq_ignore_ascii_case("on"))
                && first.starts_with(char::is_uppercase)
    ) && !ends_a_sentence(text)
}

/// A gallery's `3 of 12` or `3 / 12`.
fn is_counter(core: &str) -> bool {
    let number = |word: &str| !word.is_empty() && word.chars().all(|c| c.is_ascii_digit());
    matches!(
        core.split_whitespace().collect::<Vec<_>>().as_slice(),
        [a, "of" | "/", b] if number(a) && number(b)
    )
}

/// A newsletter's pitch: `The day's top stories, in your inbox every weekday.` A short block
/// that says where the e-mail goes and that it is a newsletter or comes regularly.
fn is_newsletter_pitch(lower: &str, words: usize) -> bool {
    let inbox = [
        "in your inbox",
        "to your inbox",
        "straight to your inbox",
        "in your email",
    ]
    .iter()
    .any(|phrase| lower.contains(phrase));
    let pitch = [
        "newsletter",
        "sign up",
        "subscribe",
        "every weekday",
        "every morning",
        "every week",
        "each week",
        "daily",
        "weekly",
        "free",
    ]
    .iter()
    .any(|word| lower.contains(word));
    words <= 25 && inbox && pitch
}

fn exact_phrase(core: &str) -> Option<DropReason> {
    EXACT
        .iter()
        .find(|(phrase, _)| *phrase == core)
        .map(|&(_, reason)| reason)
}

/// `5 min`, `4 min read`, `12 minutes listen`, `3:45`, `0:00 / 3:45`.
fn is_duration(text: &str) -> bool {
    let clock = |word: &str| {
        let mut parts = word.split(':');
        matches!(
            (parts.next(), parts.next(), parts.next()),
            (Some(m), Some(s), None) if !m.is_empty() && m.chars().all(|c| c.is_ascii_digit())
                && s.len() == 2 && s.chars().all(|c| c.is_ascii_digit())
        )
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        [one] if clock(one) => return true,
        [a, "/", b] if clock(a) && clock(b) => return true,
        _ => {}
    }
    let Some((first, rest)) = words.split_first() else {
        return false;
    };
    let (number, unit) = match first.find(|c: char| !c.is_ascii_digit()) {
        Some(0) => return false,
        // `4-minute listen`.
        Some(at) => (&first[..at], Some(first[at..].trim_start_matches('-'))),
        None => (*first, None),
    };
    if number.is_empty() {
        return false;
    }
    let rest: Vec<&str> = unit.into_iter().chain(rest.iter().copied()).collect();
    matches!(
        rest.as_slice(),
        [unit] | [unit, "read" | "listen" | "audio"]
            if matches!(*unit, "min" | "mins" | "minute" | "minutes" | "sec" | "secs")
    )
}

/// Names of the buttons of a share bar, lower-case.
const SHARE_WORDS: &[&str] = &[
    "share",
    "tweet",
    "facebook",
    "twitter",
    "x",
    "linkedin",
    "whatsapp",
    "reddit",
    "pinterest",
    "telegram",
    "flipboard",
    "pin",
    "messenger",
    "bluesky",
    "threads",
    "email",
    "e-mail",
    "mail",
    "print",
    "copy",
    "link",
    "save",
    "gift",
    "comment",
    "comments",
    "sms",
];

/// `Share Tweet Email`, `Facebook | X | LinkedIn`, `Comments (23)`: every word a button's.
fn is_share_bar(lower: &str) -> bool {
    let mut words = lower
        .split(|c: char| c.is_whitespace() || "|·•/,()[]".contains(c))
        .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-'))
        .filter(|word| !word.is_empty() && !word.chars().all(|c| c.is_ascii_digit()))
        .peekable();
    words.peek().is_some() && words.all(|word| SHARE_WORDS.contains(&word))
}

/// `© 2023 The Associated Press. All rights reserved.`, `Copyright 2024 Example Media`, and
/// the wire's own footer.
fn is_copyright(text: &str, lower: &str, words: usize) -> bool {
    if words > 60 {
        return false;
    }
    let opening = lower.trim_start();
    let after_copyright = opening
        .strip_prefix("copyright")
        .map(|rest| rest.trim_start_matches(|c: char| c.is_whitespace() || c == ':'));
    let dated_copyright = after_copyright.is_some_and(|rest| {
        rest.starts_with('©')
            || rest.starts_with("(c)")
            || rest.starts_with(|c: char| c.is_ascii_digit())
    });
    dated_copyright
        || text.trim_start().starts_with('©')
        || (opening.starts_with("(c) ") && opening[4..].starts_with(|c: char| c.is_ascii_digit()))
        || lower.contains("all rights reserved")
        || lower.contains("may not be published, broadcast, rewritten")
}

/// Whether `text` ends with a full stop (not one closing an initial or an abbreviation
/// alone is told apart here: a credit or byline never ends with one).
fn ends_a_sentence(text: &str) -> bool {
    text.trim_end()
        .trim_end_matches(['"', '”', '’', ')', ']'])
        .ends_with(['.', '!', '?'])
}

/// `Home › News › World`, `News / Politics / Elections`: at least two of one separator
/// between short runs of words, and no sentence.
fn is_breadcrumb(text: &str, words: usize) -> bool {
    if words > 14 || ends_a_sentence(text) {
        return false;
    }
    ['›', '»', '>', '/', '|', '→', '»']
        .iter()
        .any(|&separator| {
            let parts: Vec<&str> = text.split(separator).map(str::trim).collect();
            parts.len() >= 3
                && parts.iter().all(|part| {
                    let count = part.split_whitespace().count();
                    (1..=4).contains(&count)
                        && part
                            .chars()
                            .next()
                            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
                })
        })
}

#[cfg(test)]
mod tests;
