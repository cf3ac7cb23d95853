//! Photo captions and picture credits: wire-caption shapes (`, center,`, a weekday-date
//! ending, `(AP Photo/...)`) and credit lines (`Evan Vucci/AP`, `Getty Images`).

use super::ends_a_sentence;
use super::phrases::{MONTH_WORDS, WEEKDAYS};

/// A photo caption: a block with a photo credit in brackets, a wire caption's `FILE -`
/// opening, or a caption's shape: two of people placed in the picture (`, center,`,
/// `, second left,`), what it shows described in the present tense (`poses for a photo`),
/// and the weekday and date it was taken, at the end.
pub(super) fn is_caption(text: &str, lower: &str, words: usize) -> bool {
    if words > 90 {
        return false;
    }
    if has_bracketed_credit(lower) || ends_with_credit(lower) {
        return true;
    }
    let trimmed = text.trim_start();
    let file_opening = [
        "FILE - ",
        "FILE – ",
        "FILE — ",
        "FILE PHOTO - ",
        "FILE PHOTO: ",
    ]
    .iter()
    .any(|opening| trimmed.starts_with(opening));
    let dated = ends_with_weekday_date(text);
    if file_opening && (dated || words <= 60) {
        return true;
    }
    let placed = position_mentions(lower);
    let pictured = describes_a_picture(lower);
    (dated && (placed >= 2 || pictured)) || (placed >= 2 && pictured)
}

/// `(AP Photo/Evan Vucci)`, `(Photo: Jane Doe/Reuters)`, `(Getty Images)`, `(Courtesy of
/// the museum)`: a bracket that credits a picture.
fn has_bracketed_credit(lower: &str) -> bool {
    lower.match_indices(['(', '[']).any(|(at, _)| {
        let inside = lower[at + 1..].trim_start();
        let inside = &inside[..inside.find([')', ']']).unwrap_or(inside.len())];
        [
            "ap photo",
            "photo:",
            "photo by",
            "photos:",
            "photograph:",
            "image:",
            "image credit",
            "credit:",
            "getty images",
            "reuters photo",
            "afp photo",
            "afp via getty",
            "epa photo",
            "courtesy of",
            "courtesy photo",
            "file photo",
            "pool photo",
            "photo illustration",
        ]
        .iter()
        .any(|credit| inside.starts_with(credit))
            || inside.ends_with("/ap")
            || inside.ends_with("/reuters")
            || inside.ends_with("/afp")
            || inside.ends_with("via ap")
            || inside.ends_with("getty images")
    })
}

/// A caption that ends with its credit: `... on Friday. Photograph: Jane Doe/Reuters`.
fn ends_with_credit(lower: &str) -> bool {
    [
        " photograph: ",
        " photo: ",
        " photograph by ",
        " photo by ",
        " photos: ",
    ]
    .iter()
    .any(|label| {
        lower.rfind(label).is_some_and(|at| {
            let credit = &lower[at + label.len()..];
            credit.split_whitespace().count() <= 8 && !ends_a_sentence(credit)
        })
    })
}

/// How many people the block places in a picture: `, center,`, `, second left,`, `, far
/// right.`, `(L)`, `, from left,`.
fn position_mentions(lower: &str) -> usize {
    const PLACES: &[&str] = &[
        "left",
        "right",
        "center",
        "centre",
        "top",
        "bottom",
        "foreground",
        "background",
        "front",
        "rear",
        "top left",
        "top right",
        "bottom left",
        "bottom right",
        "from left",
        "from right",
        "left to right",
        "clockwise from left",
        "clockwise from top left",
    ];
    const ORDINALS: &[&str] = &["", "second ", "third ", "fourth ", "far ", "2nd ", "3rd "];
    let mut count = 0;
    for (at, _) in lower.match_indices(", ") {
        let rest = &lower[at + 2..];
        let Some(end) = rest.find([',', '.', ')', ';']) else {
            continue;
        };
        let phrase = rest[..end].trim();
        let placed = ORDINALS.iter().any(|ordinal| {
            phrase.strip_prefix(ordinal).is_some_and(|place| {
                PLACES.contains(&place)
                    || place
                        .strip_suffix(" from left")
                        .or_else(|| place.strip_suffix(" from right"))
                        .is_some_and(|p| p.is_empty() || PLACES.contains(&p))
            })
        });
        count += usize::from(placed);
    }
    count
        + [
            "(l)", "(r)", "(c)", "(2nd l)", "(2nd r)", "(l-r)", "(l to r)",
        ]
        .iter()
        .map(|mark| lower.matches(mark).count())
        .sum::<usize>()
}

/// Present-tense verbs of what a picture shows, which news prose (in the past tense) rarely
/// uses: `poses for a photo`, `looks on`, `is seen`.
fn describes_a_picture(lower: &str) -> bool {
    const VERBS: &[&str] = &[
        " poses ",
        " pose for ",
        " looks on",
        " look on",
        " is seen ",
        " are seen ",
        " gestures ",
        " gestures.",
        " gestures,",
        " waves to ",
        " speaks during ",
        " speaks at ",
        " speaks to ",
        " arrives at ",
        " arrive at ",
        " attends ",
        " walks past ",
        " walk past ",
        " stands in ",
        " stand in ",
        " holds a ",
        " hold a ",
        " sits in ",
        " reacts ",
        " react ",
        " pictured ",
        " is pictured",
        " are pictured",
    ];
    VERBS.iter().any(|verb| lower.contains(verb))
}

/// Whether the block's last sentence ends like a wire caption: `Thursday, Oct. 19, 2023.`,
/// perhaps followed by a bracketed credit.
fn ends_with_weekday_date(text: &str) -> bool {
    let mut end = text.trim_end();
    // A credit after the date: `..., 2023. (AP Photo/...)`.
    if end.ends_with(')')
        && let Some(open) = end.rfind('(')
    {
        end = end[..open].trim_end();
    }
    let Some(end) = end.strip_suffix('.') else {
        return false;
    };
    let words: Vec<String> = end
        .split_whitespace()
        .rev()
        .take(4)
        .map(|word| {
            word.trim_matches(|c: char| c == ',' || c == '.')
                .to_lowercase()
        })
        .collect();
    // Reversed: year, day, month, weekday.
    let [year, day, month, weekday] = words.as_slice() else {
        return false;
    };
    year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&day.len())
        && day.chars().all(|c| c.is_ascii_digit())
        && MONTH_WORDS.contains(&month.as_str())
        && WEEKDAYS.contains(&weekday.as_str())
}

/// A credit on its own: `AP Photo/Evan Vucci`, `Evan Vucci/AP`, `Jane Doe / Getty Images`,
/// `REUTERS/Evelyn Hockstein`: a short block naming someone and an agency, with no sentence
/// in it.
pub(super) fn is_credit(text: &str, lower: &str, words: usize) -> bool {
    if words > 12 || ends_a_sentence(text) {
        return false;
    }
    let agency = [
        "ap photo",
        "getty images",
        "reuters",
        "afp",
        "shutterstock",
        "alamy",
        "associated press",
        "epa-efe",
        "pool photo",
        "handout",
        "courtesy of",
    ]
    .iter()
    .any(|agency| lower.contains(agency));
    agency && (lower.contains('/') || lower.contains(" via ") || words <= 6)
        || is_name_slash_outlet(text)
}

/// `Evan Vucci/AP`, `Jane Doe/The Guardian`, `Ann Lee / NPR`: capitalised words either side
/// of one slash, nothing else.
fn is_name_slash_outlet(text: &str) -> bool {
    let Some((name, outlet)) = text.trim().split_once('/') else {
        return false;
    };
    let capitalised_words = |part: &str, at_most: usize| {
        let words: Vec<&str> = part.split_whitespace().collect();
        !words.is_empty()
            && words.len() <= at_most
            && words.iter().all(|word| {
                word.chars().next().is_some_and(char::is_uppercase)
                    || matches!(*word, "for" | "of" | "the" | "and" | "via" | "de" | "van")
            })
    };
    !outlet.contains('/') && capitalised_words(name, 4) && capitalised_words(outlet, 5)
}
