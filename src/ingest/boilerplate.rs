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

/// Blocks of at most this many words may be dropped for how they open ("Subscribe to ...").
const SHORT_BLOCK_WORDS: usize = 30;

/// Headings of related-story lists, lower-case, punctuation trimmed.
const STORY_LIST_HEADINGS: &[&str] = &[
    "related",
    "related stories",
    "related articles",
    "related content",
    "related coverage",
    "related links",
    "related reading",
    "more stories",
    "more on this story",
    "more to read",
    "more news",
    "most read",
    "most popular",
    "most viewed",
    "popular now",
    "trending",
    "trending now",
    "top stories",
    "latest stories",
    "latest news",
    "recommended",
    "recommended for you",
    "recommended stories",
    "you may also like",
    "you might also like",
    "you may have missed",
    "editor's picks",
    "editors' picks",
    "editor’s picks",
    "read next",
    "read this next",
    "what to read next",
    "further reading",
    "see also",
    "also read",
    "also on",
    "read more",
    "more reading",
    "related topics",
    "explore more on these topics",
    "more on this topic",
];

/// Whole blocks that are furniture, lower-case with surrounding punctuation trimmed.
#[rustfmt::skip]
const EXACT: &[(&str, DropReason)] = &[
    // The listen widget.
    ("listen", DropReason::AudioPlayer),
    ("listen now", DropReason::AudioPlayer),
    ("listen to this article", DropReason::AudioPlayer),
    ("listen to this story", DropReason::AudioPlayer),
    ("listen to article", DropReason::AudioPlayer),
    ("listen to the story", DropReason::AudioPlayer),
    ("hear this article", DropReason::AudioPlayer),
    ("audio", DropReason::AudioPlayer),
    ("play", DropReason::AudioPlayer),
    ("pause", DropReason::AudioPlayer),
    ("play audio", DropReason::AudioPlayer),
    ("listen to podcast", DropReason::AudioPlayer),
    ("playlist", DropReason::AudioPlayer),
    ("download", DropReason::AudioPlayer),
    ("embed", DropReason::Share),
    // Share, save and comment buttons.
    ("share", DropReason::Share),
    ("share this", DropReason::Share),
    ("share this article", DropReason::Share),
    ("share this story", DropReason::Share),
    ("share article", DropReason::Share),
    ("share full article", DropReason::Share),
    ("share on facebook", DropReason::Share),
    ("share on x", DropReason::Share),
    ("share on twitter", DropReason::Share),
    ("share via email", DropReason::Share),
    ("email this story", DropReason::Share),
    ("email", DropReason::Share),
    ("print", DropReason::Share),
    ("copy link", DropReason::Share),
    ("copy link to clipboard", DropReason::Share),
    ("link copied", DropReason::Share),
    ("save", DropReason::Share),
    ("save article", DropReason::Share),
    ("save story", DropReason::Share),
    ("gift this article", DropReason::Share),
    ("gift article", DropReason::Share),
    ("comments", DropReason::Share),
    ("show comments", DropReason::Share),
    ("view comments", DropReason::Share),
    ("leave a comment", DropReason::Share),
    ("join the conversation", DropReason::Share),
    ("follow us", DropReason::Share),
    ("like this", DropReason::Share),
    ("loading", DropReason::Share),
    ("like loading", DropReason::Share),
    ("leave a reply", DropReason::Share),
    ("cancel reply", DropReason::Share),
    ("reply", DropReason::Share),
    ("reuse this content", DropReason::Share),
    ("most commented", DropReason::Share),
    // Subscription, newsletter and account prompts.
    ("subscribe", DropReason::Subscribe),
    ("subscribe now", DropReason::Subscribe),
    ("sign up", DropReason::Subscribe),
    ("sign in", DropReason::Subscribe),
    ("log in", DropReason::Subscribe),
    ("register", DropReason::Subscribe),
    ("newsletter", DropReason::Subscribe),
    ("already a subscriber", DropReason::Subscribe),
    ("create a free account", DropReason::Subscribe),
    ("sign up here", DropReason::Subscribe),
    ("subscribe here", DropReason::Subscribe),
    ("support local journalism", DropReason::Subscribe),
    // Advertising.
    ("advertisement", DropReason::Advertisement),
    ("advertising", DropReason::Advertisement),
    ("ad", DropReason::Advertisement),
    ("sponsored", DropReason::Advertisement),
    ("sponsored content", DropReason::Advertisement),
    ("paid content", DropReason::Advertisement),
    ("paid post", DropReason::Advertisement),
    ("advertisement - scroll to continue", DropReason::Advertisement),
    ("story continues below advertisement", DropReason::Advertisement),
    ("article continues below advertisement", DropReason::Advertisement),
    ("continue reading the main story", DropReason::Advertisement),
    ("scroll to continue with content", DropReason::Advertisement),
    ("sponsor message", DropReason::Advertisement),
    ("skip advertisement", DropReason::Advertisement),
    // Links to more reading.
    ("read more", DropReason::ReadMore),
    ("see more", DropReason::ReadMore),
    ("show more", DropReason::ReadMore),
    ("continue reading", DropReason::ReadMore),
    ("keep reading", DropReason::ReadMore),
    ("read full article", DropReason::ReadMore),
    ("read the full story", DropReason::ReadMore),
    ("read the full article", DropReason::ReadMore),
    ("learn more", DropReason::ReadMore),
    // Image, video and gallery controls.
    ("enlarge this image", DropReason::Media),
    ("toggle caption", DropReason::Media),
    ("hide caption", DropReason::Media),
    ("show caption", DropReason::Media),
    ("view gallery", DropReason::Media),
    ("open gallery", DropReason::Media),
    ("view image", DropReason::Media),
    ("play video", DropReason::Media),
    ("watch video", DropReason::Media),
    ("watch now", DropReason::Media),
    ("video", DropReason::Media),
    ("image", DropReason::Media),
    ("photo", DropReason::Media),
    ("photos", DropReason::Media),
    ("gallery", DropReason::Media),
    // Navigation.
    ("skip to main content", DropReason::Navigation),
    ("skip to content", DropReason::Navigation),
    ("skip navigation", DropReason::Navigation),
    ("back to top", DropReason::Navigation),
    ("menu", DropReason::Navigation),
    ("search", DropReason::Navigation),
    ("home", DropReason::Navigation),
    // Headings of related-story lists (see also `heads_a_story_list`).
    ("related", DropReason::Related),
    ("related stories", DropReason::Related),
    ("related articles", DropReason::Related),
    ("related content", DropReason::Related),
    ("related coverage", DropReason::Related),
    ("related links", DropReason::Related),
    ("related reading", DropReason::Related),
    ("more stories", DropReason::Related),
    ("more on this story", DropReason::Related),
    ("more to read", DropReason::Related),
    ("more news", DropReason::Related),
    ("most read", DropReason::Related),
    ("most popular", DropReason::Related),
    ("most viewed", DropReason::Related),
    ("popular now", DropReason::Related),
    ("trending", DropReason::Related),
    ("trending now", DropReason::Related),
    ("top stories", DropReason::Related),
    ("latest stories", DropReason::Related),
    ("latest news", DropReason::Related),
    ("recommended", DropReason::Related),
    ("recommended for you", DropReason::Related),
    ("recommended stories", DropReason::Related),
    ("you may also like", DropReason::Related),
    ("you might also like", DropReason::Related),
    ("you may have missed", DropReason::Related),
    ("editor's picks", DropReason::Related),
    ("editors' picks", DropReason::Related),
    ("editor’s picks", DropReason::Related),
    ("read next", DropReason::Related),
    ("read this next", DropReason::Related),
    ("what to read next", DropReason::Related),
    ("further reading", DropReason::Related),
    ("see also", DropReason::Related),
    ("also read", DropReason::Related),
    ("more reading", DropReason::Related),
    ("related topics", DropReason::Related),
    ("explore more on these topics", DropReason::Related),
    ("more on this topic", DropReason::Related),
    // Dates without a date: the label of a date line on a line of its own.
    ("published", DropReason::Dateline),
    ("updated", DropReason::Dateline),
    // Footers.
    ("all rights reserved", DropReason::Copyright),
    ("terms of use", DropReason::Copyright),
    ("privacy policy", DropReason::Copyright),
    ("contact us", DropReason::Copyright),
    ("about us", DropReason::Copyright),
    ("purchase licensing rights", DropReason::Copyright),
];

/// Openings that make a short block (at most [`SHORT_BLOCK_WORDS`] words) furniture,
/// lower-case.
#[rustfmt::skip]
const OPENINGS: &[(&str, DropReason)] = &[
    ("listen to this article", DropReason::AudioPlayer),
    ("listen to this story", DropReason::AudioPlayer),
    ("listen to article", DropReason::AudioPlayer),
    ("listen ·", DropReason::AudioPlayer),
    ("listen •", DropReason::AudioPlayer),
    ("listen |", DropReason::AudioPlayer),
    ("listen (", DropReason::AudioPlayer),
    ("this article was narrated by", DropReason::AudioPlayer),
    ("heard on ", DropReason::AudioPlayer),
    ("voiced by amazon polly", DropReason::AudioPlayer),
    ("advertisement", DropReason::Advertisement),
    ("share this", DropReason::Share),
    ("share on", DropReason::Share),
    ("follow us", DropReason::Share),
    ("subscribe to", DropReason::Subscribe),
    ("subscribe for", DropReason::Subscribe),
    ("subscribe now", DropReason::Subscribe),
    ("sign up for", DropReason::Subscribe),
    ("sign up to", DropReason::Subscribe),
    ("download the app", DropReason::Subscribe),
    ("get the app", DropReason::Subscribe),
    ("support our journalism", DropReason::Subscribe),
    ("already a subscriber", DropReason::Subscribe),
    ("enter your email", DropReason::Subscribe),
    ("by signing up", DropReason::Subscribe),
    ("support local journalism", DropReason::Subscribe),
    ("this content is for subscribers", DropReason::Subscribe),
    ("this article is for subscribers", DropReason::Subscribe),
    ("become a member", DropReason::Subscribe),
    ("related:", DropReason::Related),
    ("related coverage", DropReason::Related),
    ("related story:", DropReason::Related),
    ("read more:", DropReason::ReadMore),
    ("read more at", DropReason::ReadMore),
    ("read more about", DropReason::ReadMore),
    ("read also:", DropReason::ReadMore),
    ("also read:", DropReason::ReadMore),
    ("see also:", DropReason::ReadMore),
    ("more:", DropReason::ReadMore),
    ("click here", DropReason::ReadMore),
    ("watch:", DropReason::Media),
    ("video:", DropReason::Media),
    ("photo:", DropReason::Credit),
    ("photos:", DropReason::Credit),
    ("photo by", DropReason::Credit),
    ("photo credit", DropReason::Credit),
    ("photograph:", DropReason::Credit),
    ("photograph by", DropReason::Credit),
    ("photographs by", DropReason::Credit),
    ("photography by", DropReason::Credit),
    ("photography:", DropReason::Credit),
    ("photos by", DropReason::Credit),
    ("image source", DropReason::Credit),
    ("image:", DropReason::Credit),
    ("image credit", DropReason::Credit),
    ("image by", DropReason::Credit),
    ("images:", DropReason::Credit),
    ("credit:", DropReason::Credit),
    ("credit...", DropReason::Credit),
    ("credit…", DropReason::Credit),
    ("illustration:", DropReason::Credit),
    ("illustration by", DropReason::Credit),
    ("pictured:", DropReason::Caption),
    ("image caption", DropReason::Caption),
    ("file photo:", DropReason::Caption),
    ("©", DropReason::Copyright),
    ("copyright ©", DropReason::Copyright),
    ("our standards:", DropReason::Copyright),
    ("this article appears in", DropReason::Copyright),
    ("a version of this article appears in print", DropReason::Copyright),
    ("this story was originally published", DropReason::Copyright),
    ("topics:", DropReason::Navigation),
    ("tags:", DropReason::Navigation),
    ("filed under:", DropReason::Navigation),
];

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

/// A photo caption: a block with a photo credit in brackets, a wire caption's `FILE -`
/// opening, or a caption's shape: two of people placed in the picture (`, center,`,
/// `, second left,`), what it shows described in the present tense (`poses for a photo`),
/// and the weekday and date it was taken, at the end.
fn is_caption(text: &str, lower: &str, words: usize) -> bool {
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

const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Month names and their AP abbreviations, lower-case, without periods.
const MONTH_WORDS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];

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
fn is_credit(text: &str, lower: &str, words: usize) -> bool {
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

/// Whether `text` ends with a full stop (not one closing an initial or an abbreviation
/// alone is told apart here: a credit or byline never ends with one).
fn ends_a_sentence(text: &str) -> bool {
    text.trim_end()
        .trim_end_matches(['"', '”', '’', ')', ']'])
        .ends_with(['.', '!', '?'])
}

/// `By Jane Doe`, `By JANE DOE and JOHN ROE, Associated Press`, `Jane Doe | Reporter`,
/// `Transport reporter`, `Reporting by ...; Editing by ...`, `Additional reporting by ...`.
fn is_byline(text: &str, lower: &str, words: usize) -> bool {
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
fn is_dateline(lower: &str, words: usize) -> bool {
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
