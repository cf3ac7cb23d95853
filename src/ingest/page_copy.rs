//! Plain text copied from a web page: which of its blocks are the story, which are the page
//! around it, and which line is the headline.
//!
//! A browser's copy of an article puts each of the page's blocks on a line: the section
//! label, the headline, the byline, "Listen to this article", the share bar, photo captions,
//! a related-stories list, the copyright footer. The cleaner
//!
//! 1. cuts the text into **blocks**: paragraphs (blank-line separated), and inside a
//!    paragraph each line that stands on its own: it starts like a sentence (or is a control
//!    such as "hide caption") and the line before it ends a sentence, is a short label, or
//!    is in the page's header (before the first full stop). Lines of wrapped prose stay one
//!    block;
//! 2. asks [`boilerplate::classify`] about each block, then drops what needs context: the
//!    headlines listed under a "Related stories" heading, the caption between an image's
//!    controls and its credit, a pull quote (a short block that repeats words of the story)
//!    and its attribution;
//! 3. finds the **title**: a short section label above a headline-shaped line is a kicker
//!    and the headline is the title; a first line that is a sentence (it ends with a full
//!    stop, holds two sentences or is long) is body text, and the document is titled by its
//!    caller instead; the headline repeated right after it is dropped;
//! 4. drops the rest of a widget's box: the short lines of a paragraph of lines in which two
//!    or more are furniture (a newsletter box's name beside its "Sign up").
//!
//! Nothing is lost silently: every block left out is reported with its reason, and
//! `keep_all` turns the dropping off (the title is still found, without dropping anything).

use super::boilerplate::{self, heads_a_story_list};
use super::spoken_text;
use crate::document::DropReason;
use crate::segment::split_sentences;
use std::collections::HashMap;
use std::ops::Range;

/// What the cleaner made of a text.
pub(super) struct Cleaned {
    /// The headline's line, spoken as the opening heading; `None` when the text opens with
    /// body text.
    pub title: Option<Range<usize>>,
    /// Paragraphs to narrate, each as the byte ranges of its kept pieces (a dropped line
    /// inside a paragraph leaves the text around it as two pieces of one paragraph).
    pub paragraphs: Vec<Vec<Range<usize>>>,
    /// Blocks left out, in source order.
    pub dropped: Vec<(Range<usize>, DropReason)>,
}

/// One block of the text.
#[derive(Debug)]
struct Block {
    /// Trimmed byte range in the text.
    range: Range<usize>,
    /// Which blank-line-separated paragraph it is in.
    paragraph: usize,
    lines: usize,
    /// The line before it in its paragraph ended without a full stop: it may be the tail of
    /// a wrapped sentence.
    after_open_line: bool,
    verdict: Option<DropReason>,
}

pub(super) fn clean(contents: &str, keep_all: bool) -> Cleaned {
    let mut blocks = blocks_of(contents);
    if !keep_all {
        for block in &mut blocks {
            let said = spoken_text(&contents[block.range.clone()]);
            // `...ran a full-page\nAdvertisement.` ends a wrapped sentence: a button's name
            // after an unfinished line, with a full stop, is not a button.
            let wrapped_tail = block.after_open_line
                && ends_with_full_stop(&said)
                && boilerplate::is_exact_phrase(&said);
            if !wrapped_tail {
                block.verdict = boilerplate::classify(&said);
            }
        }
        drop_story_lists(contents, &mut blocks);
        drop_captions_under_images(contents, &mut blocks);
        drop_pull_quotes(contents, &mut blocks);
    }

    let title = find_title(contents, &mut blocks, keep_all);
    if !keep_all {
        drop_widget_boxes(contents, &mut blocks, title);
    }
    let title_range = title.map(|index| blocks[index].range.clone());

    let mut paragraphs: Vec<Vec<Range<usize>>> = Vec::new();
    let mut dropped = Vec::new();
    // The paragraph being built: its index, and whether its last piece can still grow.
    let mut current: Option<(usize, bool)> = None;
    for (index, block) in blocks.iter().enumerate() {
        if Some(index) == title {
            current = None;
            continue;
        }
        if let Some(reason) = block.verdict {
            dropped.push((block.range.clone(), reason));
            if let Some((_, open)) = current.as_mut() {
                *open = false;
            }
            continue;
        }
        match (current, paragraphs.last_mut()) {
            (Some((paragraph, true)), Some(pieces)) if paragraph == block.paragraph => {
                if let Some(piece) = pieces.last_mut() {
                    piece.end = block.range.end;
                }
            }
            (Some((paragraph, false)), Some(pieces)) if paragraph == block.paragraph => {
                pieces.push(block.range.clone());
            }
            _ => paragraphs.push(vec![block.range.clone()]),
        }
        current = Some((block.paragraph, true));
    }
    Cleaned {
        title: title_range,
        paragraphs,
        dropped,
    }
}

/// Cuts the text into blocks; see the module documentation.
fn blocks_of(contents: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut paragraph = 0;
    let mut previous_line: Option<Range<usize>> = None;
    // Until a line ends a sentence, the text is in its header (label, headline, byline,
    // date...), where every line is a block of its own.
    let mut in_header = true;
    let mut start = 0;
    for line in contents.split_inclusive('\n') {
        let range = trimmed(contents, start..start + line.len());
        start += line.len();
        let Some(range) = range else {
            if previous_line.take().is_some() {
                paragraph += 1;
            }
            continue;
        };
        let this = &contents[range.clone()];
        let new_block = match &previous_line {
            None => true,
            Some(before) => {
                let before = &contents[before.clone()];
                // "hide caption" is a control however it is written.
                (starts_a_block(this) || boilerplate::is_exact_phrase(this))
                    && (ends_with_full_stop(before) || is_label(before) || in_header)
            }
        };
        if new_block {
            let after_open_line = previous_line
                .as_ref()
                .is_some_and(|before| !ends_with_full_stop(&contents[before.clone()]));
            blocks.push(Block {
                range: range.clone(),
                paragraph,
                lines: 1,
                after_open_line,
                verdict: None,
            });
        } else if let Some(block) = blocks.last_mut() {
            block.range.end = range.end;
            block.lines += 1;
        }
        in_header &= !ends_with_full_stop(this);
        previous_line = Some(range);
    }
    blocks
}

/// `range` without surrounding whitespace, or `None` if it is blank.
fn trimmed(contents: &str, range: Range<usize>) -> Option<Range<usize>> {
    let slice = &contents[range.clone()];
    let start = range.start + (slice.len() - slice.trim_start().len());
    let end = start + slice.trim().len();
    (start < end).then_some(start..end)
}

const CLOSERS: &[char] = &['"', '”', '’', '\'', ')', ']', '»'];

/// Ends like a sentence: a full stop, question or exclamation mark, ellipsis or colon,
/// perhaps inside closing quotes.
fn ends_with_full_stop(text: &str) -> bool {
    text.trim_end()
        .trim_end_matches(CLOSERS)
        .ends_with(['.', '!', '?', '…', ':'])
}

/// Starts like a block of its own: a capital, a digit, an opening quote or bracket, a
/// bullet or a symbol, not a lower-case continuation.
fn starts_a_block(line: &str) -> bool {
    line.chars()
        .next()
        .is_some_and(|c| !c.is_lowercase() && !matches!(c, ',' | ';' | ')' | ']'))
}

/// Words a wrapped line of prose often ends with, and a label never does.
const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "by",
    "from", "as", "that", "which", "who", "is", "was", "are", "were", "be", "has", "have", "had",
    "its", "their", "his", "her", "our", "this", "these", "than", "into", "about",
];

/// A short line without sentence punctuation that does not break off mid-phrase: a label,
/// a button, a headline.
fn is_label(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some(last) = words.last() else {
        return false;
    };
    let last = last.to_lowercase();
    words.len() <= 8
        && !line
            .trim_end()
            .ends_with([',', ';', '-', '–', '—', '&', '/'])
        && !FUNCTION_WORDS.contains(&last.as_str())
}

/// Most headlines listed under a "Related stories" heading that are dropped with it.
const MAX_STORY_LIST: usize = 12;

/// Drops the headlines under a related-stories heading: the blocks right after it that are
/// headline-shaped, each in the paragraph of the one before it or a paragraph of its own
/// (the first may also open the paragraph after the heading's).
fn drop_story_lists(contents: &str, blocks: &mut Vec<Block>) {
    let paragraph_sizes = paragraph_sizes(blocks);
    let mut index = 0;
    while index < blocks.len() {
        let heading = &blocks[index];
        let is_list_heading = heading.verdict == Some(DropReason::Related)
            && heads_a_story_list(&contents[heading.range.clone()]);
        index += 1;
        if !is_list_heading {
            continue;
        }
        let mut paragraph = blocks[index - 1].paragraph;
        let mut listed = 0;
        while index < blocks.len() && listed < MAX_STORY_LIST {
            let item = &mut blocks[index];
            let item_text = &contents[item.range.clone()];
            if item.verdict.is_some() {
                // Another list's heading starts another list.
                if item.verdict == Some(DropReason::Related) && heads_a_story_list(item_text) {
                    break;
                }
                index += 1;
                continue;
            }
            let own_paragraph = paragraph_sizes.get(&item.paragraph) == Some(&1);
            // Headlines longer than a label run together as one block of lines.
            let headline = item_text
                .lines()
                .all(|line| headline_shaped(&spoken_text(line), 1));
            // The first headline may open the paragraph after the heading's.
            let follows = item.paragraph == paragraph
                || own_paragraph
                || (listed == 0 && item.paragraph == paragraph + 1);
            if !headline || !follows {
                break;
            }
            paragraph = item.paragraph;
            // One block a headline, so that each is listed as left out on its own.
            let headlines = lines_of(contents, item);
            let count = headlines.len();
            blocks.splice(index..=index, headlines);
            for headline in &mut blocks[index..index + count] {
                headline.verdict = Some(DropReason::Related);
            }
            listed += count;
            index += count;
        }
    }
}

/// Each line of `block` as a block of its own.
fn lines_of(contents: &str, block: &Block) -> Vec<Block> {
    let mut start = block.range.start;
    let mut lines = Vec::new();
    for line in contents[block.range.clone()].split_inclusive('\n') {
        if let Some(range) = trimmed(contents, start..start + line.len()) {
            lines.push(Block {
                range,
                paragraph: block.paragraph,
                lines: 1,
                after_open_line: false,
                verdict: block.verdict,
            });
        }
        start += line.len();
    }
    lines
}

fn paragraph_sizes(blocks: &[Block]) -> HashMap<usize, usize> {
    let mut sizes = HashMap::new();
    for block in blocks {
        *sizes.entry(block.paragraph).or_insert(0) += 1;
    }
    sizes
}

/// Drops the caption of an image whose controls were copied around it: a block right
/// after "Enlarge this image" (or another image control) and right before a credit or
/// another control, as NPR's pages copy.
fn drop_captions_under_images(contents: &str, blocks: &mut [Block]) {
    for index in 1..blocks.len().saturating_sub(1) {
        let before = blocks[index - 1].verdict;
        let after = blocks[index + 1].verdict;
        let words = spoken_text(&contents[blocks[index].range.clone()])
            .split_whitespace()
            .count();
        if blocks[index].verdict.is_none()
            && before == Some(DropReason::Media)
            && matches!(after, Some(DropReason::Credit | DropReason::Media))
            && words <= 80
        {
            blocks[index].verdict = Some(DropReason::Caption);
        }
    }
}

/// The most words of a line of a widget's box (its title, a button).
const MAX_WIDGET_LINE_WORDS: usize = 8;

/// Drops what is left of a widget's box: in a paragraph of single lines where two or more
/// lines are furniture (a newsletter box: its name, its pitch, "Enter your email", "Sign
/// up"), the other short lines without a full stop go too, for the reason of the furniture
/// nearest below them (or above). The title is never one of them; a line that ends a
/// sentence never is.
fn drop_widget_boxes(contents: &str, blocks: &mut [Block], title: Option<usize>) {
    let mut start = 0;
    while start < blocks.len() {
        let paragraph = blocks[start].paragraph;
        let end = (start..blocks.len())
            .find(|&index| blocks[index].paragraph != paragraph)
            .unwrap_or(blocks.len());
        let members = start..end;
        start = end;
        let furniture = members
            .clone()
            .filter(|&index| blocks[index].verdict.is_some())
            .count();
        let labels_only = members.clone().all(|index| {
            let block = &blocks[index];
            let said = spoken_text(&contents[block.range.clone()]);
            block.verdict.is_some()
                || (Some(index) != title
                    && block.lines == 1
                    && said.split_whitespace().count() <= MAX_WIDGET_LINE_WORDS
                    && !ends_with_full_stop(&said))
        });
        if furniture < 2 || !labels_only {
            continue;
        }
        for index in members.clone() {
            if blocks[index].verdict.is_some() {
                continue;
            }
            let below = (index + 1..members.end).find_map(|i| blocks[i].verdict);
            let above = (members.start..index).rev().find_map(|i| blocks[i].verdict);
            blocks[index].verdict = below.or(above);
        }
    }
}

/// The fewest words a pull quote has; shorter repeats ("Yes.") are left alone.
const MIN_PULL_QUOTE_WORDS: usize = 6;
const MAX_PULL_QUOTE_WORDS: usize = 60;

/// Drops a short block whose words all appear again, in order, inside a longer block of the
/// story (a magazine's pull quote), and a dash-led attribution right after it.
fn drop_pull_quotes(contents: &str, blocks: &mut [Block]) {
    let keys: Vec<String> = blocks
        .iter()
        .map(|block| loose_key(&contents[block.range.clone()]))
        .collect();
    // Every sentence of every kept block, by its loose key.
    let mut sentence_owners: HashMap<String, Vec<usize>> = HashMap::new();
    for (index, block) in blocks.iter().enumerate() {
        if block.verdict.is_some() {
            continue;
        }
        let text = &contents[block.range.clone()];
        for sentence in split_sentences(text) {
            sentence_owners
                .entry(loose_key(&text[sentence]))
                .or_default()
                .push(index);
        }
    }
    let mut after_quote = false;
    for index in 0..blocks.len() {
        let block = &blocks[index];
        if block.verdict.is_some() {
            after_quote = false;
            continue;
        }
        let text = spoken_text(&contents[block.range.clone()]);
        let words = text.split_whitespace().count();
        if after_quote && words <= 8 && text.starts_with(['—', '–', '-']) {
            blocks[index].verdict = Some(DropReason::PullQuote);
            after_quote = false;
            continue;
        }
        after_quote = false;
        if !(MIN_PULL_QUOTE_WORDS..=MAX_PULL_QUOTE_WORDS).contains(&words) {
            continue;
        }
        let key = &keys[index];
        let longer_elsewhere = |other: usize| other != index && keys[other].len() > key.len();
        let repeats_a_sentence = sentence_owners
            .get(key)
            .is_some_and(|owners| owners.iter().any(|&owner| longer_elsewhere(owner)));
        // A quoted fragment of a longer sentence: looked for only when the block is set in
        // quotation marks, since it means reading every other block.
        let quoted = text.starts_with(['“', '"', '‘']) && text.ends_with(['”', '"', '’']);
        let repeats_a_fragment = quoted
            && (0..blocks.len()).any(|other| {
                blocks[other].verdict.is_none()
                    && longer_elsewhere(other)
                    && keys[other].contains(key.as_str())
            });
        if repeats_a_sentence || repeats_a_fragment {
            blocks[index].verdict = Some(DropReason::PullQuote);
            after_quote = true;
        }
    }
}

/// Letters and digits only, lower-cased: the words, whatever the quotes and dashes.
fn loose_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The most words a title line has.
const MAX_TITLE_WORDS: usize = 25;
/// A title may end with `?` or `!` if it has at most this many words.
const MAX_QUESTION_TITLE_WORDS: usize = 15;

/// A line that can be a headline: one line, one sentence, at most [`MAX_TITLE_WORDS`] words,
/// not ending with a full stop or mid-phrase (a short question or exclamation may be one).
fn headline_shaped(text: &str, lines: usize) -> bool {
    let words = text.split_whitespace().count();
    let bare = text.trim_end_matches(CLOSERS);
    let last = bare
        .split_whitespace()
        .last()
        .map(str::to_lowercase)
        .unwrap_or_default();
    let asks = bare.ends_with(['?', '!']);
    lines == 1
        && (1..=MAX_TITLE_WORDS).contains(&words)
        && text.len() <= 250
        && text.chars().any(char::is_alphabetic)
        && !bare.ends_with(['.', ',', ';', ':', '…', '-', '–', '—'])
        && (!asks || words <= MAX_QUESTION_TITLE_WORDS)
        && !FUNCTION_WORDS.contains(&last.as_str())
        && split_sentences(text).len() == 1
}

/// Words of a section label ("Politics", "World News", "Audio Posts In English"),
/// lower-case.
const SECTION_WORDS: &[&str] = &[
    "news",
    "world",
    "us",
    "u.s",
    "uk",
    "europe",
    "asia",
    "africa",
    "americas",
    "middle",
    "east",
    "local",
    "national",
    "international",
    "nation",
    "politics",
    "business",
    "economy",
    "markets",
    "money",
    "finance",
    "tech",
    "technology",
    "science",
    "health",
    "climate",
    "environment",
    "sport",
    "sports",
    "culture",
    "arts",
    "entertainment",
    "lifestyle",
    "style",
    "travel",
    "food",
    "opinion",
    "opinions",
    "analysis",
    "commentary",
    "editorial",
    "editorials",
    "letters",
    "features",
    "feature",
    "investigation",
    "investigations",
    "exclusive",
    "breaking",
    "live",
    "update",
    "updates",
    "explainer",
    "review",
    "reviews",
    "interview",
    "podcast",
    "podcasts",
    "audio",
    "video",
    "videos",
    "posts",
    "post",
    "blog",
    "education",
    "law",
    "crime",
    "justice",
    "security",
    "defense",
    "defence",
    "elections",
    "election",
    "weather",
    "obituaries",
    "media",
    "books",
    "film",
    "music",
    "television",
    "tv",
    "games",
    "gaming",
    "english",
    "español",
    "français",
    "deutsch",
    "story",
    "stories",
    "top",
    "latest",
    "special",
    "report",
    "reports",
    "fact",
    "check",
    "factcheck",
    "ukraine",
    "russia",
    "war",
    "china",
    "israel",
    "gaza",
    "government",
    "policy",
    "global",
    "cities",
    "city",
    "metro",
    "region",
    "regional",
    "state",
    "states",
    "sponsored",
    "partner",
    "content",
    "newsletter",
    "daily",
    "weekly",
    "weekend",
    "magazine",
    "long",
    "read",
    "reads",
    "essay",
    "ideas",
    "perspective",
    "perspectives",
    "column",
    "columns",
    "columnists",
    "personal",
    "finance",
    "real",
    "estate",
    "autos",
    "cars",
    "energy",
    "property",
    "housing",
    "transport",
    "transportation",
    "social",
    "society",
    "religion",
    "faith",
    "immigration",
    "courts",
];

/// A section label above a headline: a few words without sentence punctuation that are all
/// section names (`World News`, `Audio Posts In English`), in capitals (`ANALYSIS`), or
/// separated like breadcrumbs (`News | Politics`).
fn kicker_shaped(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 || text.len() > 40 || ends_with_full_stop(text) {
        return false;
    }
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let capitals = letters.len() >= 3 && letters.iter().all(|c| c.is_uppercase());
    let separated = text.contains(" | ") || text.contains('›') || text.contains(" / ");
    let sections = words
        .iter()
        .map(|word| {
            word.trim_matches(|c: char| !c.is_alphanumeric() && c != '.')
                .trim_end_matches('.')
                .to_lowercase()
        })
        .filter(|word| !word.is_empty())
        .all(|word| {
            SECTION_WORDS.contains(&word.as_str())
                || matches!(
                    word.as_str(),
                    "and" | "in" | "of" | "the" | "&" | "+" | "amp"
                )
        });
    capitals || separated || sections
}

/// Finds the title block among the first kept blocks (see the module documentation),
/// dropping a kicker above it and the headline repeated below it. Returns the title's index.
fn find_title(contents: &str, blocks: &mut [Block], keep_all: bool) -> Option<usize> {
    let kept: Vec<usize> = (0..blocks.len())
        .filter(|&index| blocks[index].verdict.is_none())
        .collect();
    let said: Vec<String> = blocks
        .iter()
        .map(|block| spoken_text(&contents[block.range.clone()]))
        .collect();
    let words = |index: usize| said[index].split_whitespace().count();
    let is_headline = |index: usize| {
        let block = &blocks[index];
        let asks = said[index].trim_end_matches(CLOSERS).ends_with(['?', '!']);
        // A question ends the header only if a paragraph break follows it.
        let next_paragraph = blocks
            .get(index + 1)
            .is_none_or(|next| next.paragraph != block.paragraph);
        headline_shaped(&said[index], block.lines) && (!asks || next_paragraph)
    };
    let &first = kept.first()?;
    let kicker = match kept.get(1) {
        Some(&second)
            if !keep_all
                && kicker_shaped(&said[first])
                && is_headline(second)
                && words(second) > words(first) =>
        {
            Some(second)
        }
        _ => None,
    };
    let title = match kicker {
        Some(headline) => headline,
        None if is_headline(first) => first,
        None => return None,
    };
    if keep_all {
        return Some(title);
    }
    let title_key = loose_key(&said[title]);
    let repeats: Vec<usize> = kept
        .iter()
        .copied()
        .filter(|&index| index > title)
        .take(4)
        .filter(|&index| loose_key(&said[index]) == title_key)
        .collect();
    if kicker.is_some() {
        blocks[first].verdict = Some(DropReason::Kicker);
    }
    for index in repeats {
        blocks[index].verdict = Some(DropReason::RepeatedTitle);
    }
    Some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(contents: &str, cleaned: &Cleaned) -> Vec<String> {
        cleaned
            .paragraphs
            .iter()
            .map(|pieces| {
                pieces
                    .iter()
                    .map(|piece| spoken_text(&contents[piece.clone()]))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect()
    }

    fn dropped(contents: &str, cleaned: &Cleaned) -> Vec<(String, DropReason)> {
        cleaned
            .dropped
            .iter()
            .map(|(range, reason)| (spoken_text(&contents[range.clone()]), *reason))
            .collect()
    }

    #[test]
    fn a_kicker_above_a_headline_gives_way_to_it() {
        let contents = "Audio Posts In English\n\nUS advises allies to expel Russian spies\n\nListen to this article\n\nRussia is waging a campaign.\n";
        let cleaned = clean(contents, false);
        let title = cleaned.title.clone().expect("a title");
        assert_eq!(&contents[title], "US advises allies to expel Russian spies");
        assert_eq!(texts(contents, &cleaned), ["Russia is waging a campaign."]);
        assert_eq!(
            dropped(contents, &cleaned),
            [
                ("Audio Posts In English".to_string(), DropReason::Kicker),
                (
                    "Listen to this article".to_string(),
                    DropReason::AudioPlayer
                ),
            ]
        );
    }

    #[test]
    fn a_first_line_that_is_a_sentence_is_body_text() {
        for contents in [
            "One. Two.\n",
            "The council approved the budget on Tuesday.\n\nIt takes effect in July.\n",
            "Why? Because the ferry was full.\n",
        ] {
            let cleaned = clean(contents, false);
            assert!(cleaned.title.is_none(), "{contents:?}");
            assert!(cleaned.dropped.is_empty(), "{contents:?}");
        }
        let cleaned = clean("Is the ferry worth saving?\n\nYes, say riders.\n", false);
        assert!(cleaned.title.is_some(), "a short question is a headline");
    }

    #[test]
    fn lines_of_a_paragraph_are_judged_one_by_one_but_wrapped_prose_is_not() {
        let contents = "Headline here\nBy Jane Doe\nUpdated 4:12 PM EDT, Fri October 20, 2023\n\nThe paper ran a full-page\nAdvertisement.\nShare\nIt said more.\n";
        let cleaned = clean(contents, false);
        assert_eq!(
            texts(contents, &cleaned),
            ["The paper ran a full-page Advertisement. | It said more."]
        );
        assert_eq!(
            dropped(contents, &cleaned),
            [
                ("By Jane Doe".to_string(), DropReason::Byline),
                (
                    "Updated 4:12 PM EDT, Fri October 20, 2023".to_string(),
                    DropReason::Dateline
                ),
                ("Share".to_string(), DropReason::Share),
            ]
        );
    }

    #[test]
    fn headlines_under_a_related_heading_go_with_it_and_the_story_resumes() {
        let contents = "Title of the story\n\nFirst paragraph of the story.\n\nRelated Stories\nCouncil rejects pool closure\nMayor names new fire chief\n\nThe story goes on here.\n";
        let cleaned = clean(contents, false);
        assert_eq!(
            texts(contents, &cleaned),
            ["First paragraph of the story.", "The story goes on here."]
        );
        let reasons: Vec<DropReason> = cleaned.dropped.iter().map(|(_, r)| *r).collect();
        assert_eq!(reasons, [DropReason::Related; 3]);
    }

    #[test]
    fn a_pull_quote_and_its_attribution_are_dropped_the_story_is_not() {
        let contents = "A magazine piece\n\nThe harbor was quiet. “We were turning people away at the ramp by nine o’clock,” said the captain. Then the boats stopped.\n\n“We were turning people away at the ramp by nine o’clock”\n\n— Dolores Achebe, captain\n\nThe end came in spring.\n";
        let cleaned = clean(contents, false);
        assert_eq!(cleaned.paragraphs.len(), 2);
        let reasons: Vec<DropReason> = cleaned.dropped.iter().map(|(_, r)| *r).collect();
        assert_eq!(reasons, [DropReason::PullQuote, DropReason::PullQuote]);
    }

    #[test]
    fn keep_all_drops_nothing_but_still_finds_the_title() {
        let contents = "Audio Posts In English\n\nListen to this article\n\nBody.\n";
        let cleaned = clean(contents, true);
        assert!(cleaned.dropped.is_empty());
        assert_eq!(
            &contents[cleaned.title.clone().expect("title")],
            "Audio Posts In English"
        );
        assert_eq!(
            texts(contents, &cleaned),
            ["Listen to this article", "Body."]
        );
    }

    #[test]
    fn the_headline_repeated_is_said_once() {
        let contents =
            "Ferry adds night sailings\n\nFerry adds night sailings\n\nThe ferry will run late.\n";
        let cleaned = clean(contents, false);
        assert_eq!(texts(contents, &cleaned), ["The ferry will run late."]);
        assert_eq!(
            dropped(contents, &cleaned),
            [(
                "Ferry adds night sailings".to_string(),
                DropReason::RepeatedTitle
            )]
        );
    }
}
