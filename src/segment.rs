//! Splits a paragraph into sentences without ever dropping or reordering text.
//!
//! Both splitters work the same way: they only choose *cut points* in the input and then
//! trim the pieces between consecutive cuts. Because the pieces tile the input, no text can
//! be lost, duplicated or reordered, whatever the rules decide; the rules can only move cuts.
//!
//! Sentence splitting has three parts so that it can grow rule by rule:
//! 1. `Candidate`s: every run of terminal punctuation (plus closing quotes or brackets)
//!    that is followed by whitespace. A spaced ellipsis (`. . .`) counts as one run. The end
//!    of the text needs no candidate.
//! 2. `NOT_A_SENTENCE_END`: a list of rules, each of which may reject a candidate
//!    (an abbreviation, an initial, a lower-case continuation, ...). A new heuristic is a new
//!    entry in that list, and rules see the same `Candidate` context. Abbreviations come
//!    from `crate::abbreviation`, which the normalizer reads too.
//! 3. `ListItems`: list items (`1.`, `b)`, `iv.`, `•`) start a new piece even where no
//!    punctuation ends the previous item, as in `1) The first item 2) The second item`.

use std::ops::Range;

use crate::abbreviation::{self, Kind};
use crate::normalize::roman;

/// Splits `text` into sentences, returned as trimmed, ordered, non-overlapping byte ranges
/// that together cover every non-whitespace character of `text`.
pub fn split_sentences(text: &str) -> Vec<Range<usize>> {
    let list_items = ListItems::find(text);
    let mut item_cuts = list_items.cuts.iter().copied().peekable();
    let mut cuts = Vec::new();
    let mut sentence_start = 0;
    let mut search_from = 0;
    while let Some(mut candidate) = next_candidate(text, search_from) {
        search_from = candidate.end;
        // A list item that starts before this candidate starts a sentence of its own.
        while let Some(cut) = item_cuts.next_if(|&cut| cut <= candidate.terminators.start) {
            cuts.push(cut);
            sentence_start = cut;
        }
        candidate.sentence_start = sentence_start;
        candidate.in_list_marker = list_items.marker_contains(candidate.terminators.start);
        if !NOT_A_SENTENCE_END.iter().any(|rule| rule(&candidate)) {
            cuts.push(candidate.end);
            sentence_start = candidate.end;
        }
    }
    cuts.extend(item_cuts);
    // Both kinds of cut are in order already; sorting is cheap insurance for the invariant
    // that `pieces_between_cuts` relies on.
    cuts.sort_unstable();
    pieces_between_cuts(text, 0..text.len(), &cuts)
}

/// Splits one over-long sentence into pieces of at most `max_chars` characters (not bytes),
/// preferring clause boundaries (`;`, `:`, a spaced dash), then commas, and only as a last
/// resort any space between words. A piece is longer than `max_chars` only when it is a
/// single word. Pieces are trimmed, ordered byte ranges into `sentence`, and together cover
/// every non-whitespace character of it.
pub fn split_long(sentence: &str, max_chars: usize) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    if let Some(whole) = trimmed(sentence, 0..sentence.len()) {
        split_piece(sentence, whole, max_chars, &BREAK_PREFERENCE, &mut pieces);
    }
    pieces
}

const TERMINATORS: &[char] = &['.', '?', '!', '…'];
/// Punctuation that closes a quotation or parenthesis; it belongs to the sentence it ends.
const CLOSERS: &[char] = &['"', '”', '’', '\'', ')', ']'];
/// Punctuation that may open a sentence.
const OPENERS: &[char] = &['"', '“', '‘', '\'', '(', '['];
/// Characters that mark an item of a bulleted list. The ASCII `-` and `*` are left out: in
/// running text they are dashes and footnote marks far more often than bullets.
const BULLETS: &[char] = &['•', '◦', '‣', '⁃', '▪', '▫', '●', '○', '■', '□', '►', '▸'];

/// A possible sentence end, with the context the rules need to judge it.
struct Candidate<'a> {
    text: &'a str,
    /// Where the sentence this candidate would end begins (after the previous cut).
    sentence_start: usize,
    /// The run of terminal punctuation, e.g. `.`, `?!`, `...` or the spaced `. . .`.
    terminators: Range<usize>,
    /// Where the sentence would end: after the terminators and any closing quotes/brackets.
    end: usize,
    /// Where the text that would follow the sentence starts: the first non-whitespace
    /// character after `end`, or after the ellipsis in `word. . . . Next`. `text.len()` at
    /// the end of the text.
    next_start: usize,
    /// Whether the terminators belong to the marker of a list item (`2.` in `item 2. The`).
    in_list_marker: bool,
}

impl Candidate<'_> {
    fn terminators(&self) -> &str {
        &self.text[self.terminators.clone()]
    }

    /// The first character of the text that would follow the sentence.
    fn next(&self) -> Option<char> {
        self.text[self.next_start..].chars().next()
    }

    /// The leading letters of the word that would follow the sentence, after any opening
    /// punctuation: `It` for `It's`, `We` for `“We`.
    fn next_word(&self) -> &str {
        let rest = self.text[self.next_start..].trim_start_matches(OPENERS);
        let len = rest
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(rest.len());
        &rest[..len]
    }

    /// The text from the start of the sentence to the terminators.
    fn sentence_so_far(&self) -> &str {
        &self.text[self.sentence_start..self.terminators.start]
    }

    /// The whitespace-delimited token the terminators are attached to, without any opening
    /// punctuation, e.g. `Mr` in `(Mr. Smith`, or `e.g` in `e.g. this`.
    fn word_before(&self) -> &str {
        last_token(self.sentence_so_far()).trim_start_matches(OPENERS)
    }

    /// The whitespace-delimited token before [`Self::word_before`], as written, e.g.
    /// `Smith,` in `Smith, Dr.`; empty at the start of the sentence.
    fn previous_token(&self) -> &str {
        let so_far = self.sentence_so_far();
        let before = &so_far[..so_far.len() - last_token(so_far).len()];
        last_token(before.trim_end())
    }

    /// [`Self::previous_token`] without surrounding punctuation, e.g. `Albert` in
    /// `Albert I.`
    fn previous_word(&self) -> &str {
        self.previous_token()
            .trim_matches(|c: char| !c.is_alphanumeric())
    }

    /// Whether the word before is a name or a number that runs straight into it, as a
    /// street does in `Elm Dr.` or `5th St.`, and unlike `Jones, Dr.` or `The Dr.`
    fn follows_a_name_or_number(&self) -> bool {
        let token = self.previous_token().trim_start_matches(OPENERS);
        token
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
            && token.chars().next_back().is_some_and(char::is_alphanumeric)
            && !SENTENCE_STARTERS.contains(&token)
    }

    fn char_before_terminators(&self) -> Option<char> {
        self.text[..self.terminators.start].chars().next_back()
    }

    /// Whether the next word, quoted or not, is one that typically opens a sentence (a
    /// pronoun, article, conjunction, ...). After a word that may or may not end a sentence
    /// (`U.S.`, `Co.`, an initial), this tells `I live in the U.S. How about you?` from
    /// `I work for the U.S. Government.` and `at 3 p.m. (local time)` from `p.m. “We won.”`
    fn next_opens_a_sentence(&self) -> bool {
        SENTENCE_STARTERS.contains(&self.next_word())
    }
}

/// The text after the last whitespace in `text`: all of it if there is none.
fn last_token(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(at, c)| at + c.len_utf8());
    &text[start..]
}

/// Finds the next run of terminal punctuation at or after `from` that is followed by
/// whitespace. A terminator glued to the next character (`3.14`, `example.com`, `Jr.'s`)
/// is never a candidate, which is what keeps decimals, URLs and e-mail addresses whole.
///
/// The dots of a spaced ellipsis (`. . .`) form one run. When four of them follow a word
/// directly (`word. . . . Next`), the first is the word's full stop and the other three an
/// ellipsis that opens the next sentence; that full stop is a candidate of its own, judged
/// by what follows the ellipsis.
fn next_candidate(text: &str, from: usize) -> Option<Candidate<'_>> {
    let mut search_from = from;
    loop {
        let rest = text.get(search_from..)?;
        let run_start = search_from + rest.find(TERMINATORS)?;
        let mut run_end = end_of_run(text, run_start, TERMINATORS);
        let mut next_after = None;
        if &text[run_start..run_end] == "." {
            let (ellipsis_end, dots) = spaced_ellipsis(text, run_start);
            let after_word = text[..run_start]
                .chars()
                .next_back()
                .is_some_and(|c| !c.is_whitespace());
            if dots >= 4 && after_word {
                next_after = Some(end_of_run(text, ellipsis_end, CLOSERS));
            } else if dots >= 3 {
                run_end = ellipsis_end;
            }
        }
        let end = end_of_run(text, run_end, CLOSERS);
        let after = &text[end..];
        let followed_by_whitespace = after.chars().next().is_some_and(char::is_whitespace);
        if followed_by_whitespace {
            let next_from = next_after.unwrap_or(end);
            let next_text = &text[next_from..];
            return Some(Candidate {
                text,
                sentence_start: 0,
                terminators: run_start..run_end,
                end,
                next_start: next_from + (next_text.len() - next_text.trim_start().len()),
                in_list_marker: false,
            });
        }
        if end >= text.len() {
            return None;
        }
        search_from = end;
    }
}

/// The byte offset after the run of `chars` that starts at `from`.
fn end_of_run(text: &str, from: usize, chars: &[char]) -> usize {
    let rest = &text[from..];
    let run_len = rest.len() - rest.trim_start_matches(chars).len();
    from + run_len
}

/// The end of the spaced ellipsis (`. . .`) whose first dot is at `dot`, and its number of
/// dots; dots are separated by exactly one space (or no-break space).
fn spaced_ellipsis(text: &str, dot: usize) -> (usize, usize) {
    let mut end = dot + 1;
    let mut dots = 1;
    loop {
        let rest = &text[end..];
        let Some(space) = rest.chars().next().filter(|&c| c == ' ' || c == '\u{a0}') else {
            break;
        };
        if !rest[space.len_utf8()..].starts_with('.') {
            break;
        }
        end += space.len_utf8() + 1;
        dots += 1;
    }
    (end, dots)
}

/// Rules that reject a candidate; any one saying `true` keeps the sentence going.
const NOT_A_SENTENCE_END: &[fn(&Candidate) -> bool] = &[
    next_does_not_start_a_sentence,
    after_abbreviation,
    after_time_of_day,
    after_initialism,
    after_initial,
    after_enumeration_marker,
    ends_a_list_marker,
    spaced_ellipsis_inside_a_sentence,
    inside_brackets,
];

/// A sentence begins with a capital, a digit or opening punctuation; anything else after a
/// full stop is more likely the same sentence (`Yahoo! in the`, `"Great." she said`).
fn next_does_not_start_a_sentence(candidate: &Candidate) -> bool {
    !candidate
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || OPENERS.contains(&c))
}

/// Words that open sentences far more often than they continue a name, compared with the
/// word after an ambiguous abbreviation. Capitalised, as they would follow a sentence end.
#[rustfmt::skip]
const SENTENCE_STARTERS: &[&str] = &[
    // Pronouns and determiners.
    "I", "It", "He", "She", "We", "They", "You", "Its", "His", "Her", "Their", "Our", "My",
    "Your", "The", "A", "An", "This", "That", "These", "Those", "There", "Here", "Some", "Many",
    "Most", "Much", "All", "Each", "Every", "Both", "Neither", "Either", "Such", "Several", "Few",
    "Other", "Others", "Another", "Any", "No", "Nobody", "None", "Nothing", "Everyone",
    "Everything", "Someone", "Something", "One",
    // Conjunctions and sentence adverbs.
    "And", "But", "Or", "So", "Yet", "Then", "Now", "However", "Meanwhile", "Also", "Still",
    "Thus", "Therefore", "Instead", "Indeed", "Moreover", "Furthermore", "Nevertheless",
    "Otherwise", "Overall", "Even", "Only", "Not", "Just", "Yes", "Today", "Yesterday",
    "Tomorrow", "Earlier", "Later", "Last", "Next", "Finally", "First", "Please", "Let",
    // Question words and auxiliaries.
    "How", "What", "Why", "When", "Where", "Who", "Whom", "Whose", "Which", "Is", "Are", "Was",
    "Were", "Do", "Does", "Did", "Has", "Have", "Had", "Will", "Would", "Could", "Should",
    // Prepositions and subordinators.
    "In", "On", "At", "As", "After", "Before", "During", "Since", "While", "Although", "Though",
    "Because", "If", "Unless", "Until", "For", "From", "With", "Without", "By", "Of", "To",
    "Under", "Over", "About", "Despite", "Like",
];

/// After an abbreviation from the shared table, its [`Kind`] decides. Those that may close
/// a sentence close it only before a word that opens one: `Pitt, Briggs & Co. It closed`
/// but `Acme Inc. Announced results`.
fn after_abbreviation(candidate: &Candidate) -> bool {
    if candidate.terminators() != "." {
        return false;
    }
    let Some(abbreviation) = abbreviation::find(candidate.word_before()) else {
        return false;
    };
    let before_a_number = || candidate.next().is_some_and(|c| c.is_ascii_digit());
    match abbreviation.kind {
        Kind::Title | Kind::Prefix => true,
        Kind::TitleOrStreet { .. } => {
            !candidate.follows_a_name_or_number() || !candidate.next_opens_a_sentence()
        }
        Kind::BetweenNames => candidate
            .previous_word()
            .chars()
            .next()
            .is_some_and(char::is_uppercase),
        // Mid-sentence a state is followed by a comma or a lower-case word (`Pasadena,
        // Calif., police said`), so a capitalised word opens the next sentence. A digit is a
        // ZIP code, a bracket the agency of a dateline (`PASADENA, Calif. (AP) —`).
        Kind::State => before_a_number() || candidate.next().is_some_and(|c| "([".contains(c)),
        Kind::AfterName
        | Kind::Anywhere
        | Kind::Month {
            only_before_a_number: false,
        } => !candidate.next_opens_a_sentence(),
        Kind::Month {
            only_before_a_number: true,
        }
        | Kind::Number => before_a_number(),
    }
}

/// An initialism may end a name or a sentence alike, so it ends one only before a word
/// that opens one: `I live in the U.S. How about you?` but `the U.S. Government`.
fn after_initialism(candidate: &Candidate) -> bool {
    let word = candidate.word_before();
    candidate.terminators() == "."
        && is_initialism(word)
        && !is_time_of_day(word)
        && !candidate.next_opens_a_sentence()
}

/// Single letters joined by full stops, without the last one: `U.S`, `E.U`, `U.S.A`, `D.C`.
fn is_initialism(word: &str) -> bool {
    let mut letters = 0;
    for (at, c) in word.char_indices() {
        let letter_expected = at % 2 == 0;
        if letter_expected != c.is_ascii_alphabetic() || (!letter_expected && c != '.') {
            return false;
        }
        letters += usize::from(letter_expected);
    }
    letters >= 2 && word.len() % 2 == 1
}

fn is_time_of_day(word: &str) -> bool {
    ["a.m", "p.m"].iter().any(|t| word.eq_ignore_ascii_case(t))
}

/// Words that continue a time of day: `9 a.m. Tuesday`, `5 p.m. EST`, `noon Jan. 5`; the
/// short forms of months are in [`crate::abbreviation`].
#[rustfmt::skip]
const AFTER_TIME_OF_DAY: &[&str] = &[
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
    "Eastern", "Central", "Mountain", "Pacific", "Greenwich", "local",
    "ET", "EST", "EDT", "CT", "CST", "CDT", "MT", "MST", "MDT", "PT", "PST", "PDT", "GMT", "UTC",
    "BST", "CET", "CEST",
];

/// Prepositions that open a sentence with its time (`At 5 a.m. Mr. Smith went`).
const TIME_PREPOSITIONS: &[&str] = &[
    "At",
    "By",
    "Before",
    "After",
    "Until",
    "Till",
    "From",
    "Around",
    "About",
    "Since",
    "Shortly",
    "Just",
    "Sometime",
    "Starting",
    "Beginning",
    "Between",
];

/// `a.m.` and `p.m.` before a capitalised word end the sentence (`He left at 9 a.m. Mr.
/// Smith stayed`), unless that word continues the time (`9 a.m. Tuesday`) or the sentence so
/// far is only an opening time phrase, whose subject follows (`At 5 a.m. Mr. Smith went`).
fn after_time_of_day(candidate: &Candidate) -> bool {
    if candidate.terminators() != "." || !is_time_of_day(candidate.word_before()) {
        return false;
    }
    if candidate.next_opens_a_sentence() {
        return false;
    }
    let mut words = candidate.sentence_so_far().split_whitespace();
    let opening_time_phrase = words
        .next()
        .is_some_and(|first| TIME_PREPOSITIONS.contains(&first.trim_start_matches(OPENERS)))
        && words.take(5).count() < 5;
    let next_word = candidate.next_word();
    opening_time_phrase
        || AFTER_TIME_OF_DAY.contains(&next_word)
        || abbreviation::month_name(next_word).is_some()
}

/// A single capital before a full stop is an initial (`Jonas E. Smith`) unless the next
/// word opens a sentence (`Plan B. The`). `I` is usually the pronoun (`you and I. Then`):
/// it is an initial only after a capitalised word (`Albert I. Jones`). After a word that
/// numbers things the capital is a numeral or a label (`World War I. Veterans`, `Type A.`),
/// which may end a sentence like any word.
fn after_initial(candidate: &Candidate) -> bool {
    let mut chars = candidate.word_before().chars();
    let Some(letter) = chars
        .next()
        .filter(|c| c.is_uppercase() && chars.next().is_none())
    else {
        return false;
    };
    let after_a_name = || {
        candidate
            .previous_word()
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
    };
    candidate.terminators() == "."
        && (letter != 'I' || after_a_name())
        && !abbreviation::NUMBERING_WORDS.contains(&candidate.previous_word())
        && !candidate.next_opens_a_sentence()
}

/// `1.` or `a.` opening a sentence numbers a list item; it does not end anything.
fn after_enumeration_marker(candidate: &Candidate) -> bool {
    let sentence_so_far = candidate.sentence_so_far().trim_start_matches(|c: char| {
        c.is_whitespace() || OPENERS.contains(&c) || BULLETS.contains(&c)
    });
    let is_number =
        !sentence_so_far.is_empty() && sentence_so_far.chars().all(|c| c.is_ascii_digit());
    let mut chars = sentence_so_far.chars();
    let is_letter = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic());
    candidate.terminators() == "." && (is_number || is_letter)
}

/// The full stop of a list marker found by [`ListItems`] (`2.` in `item 2. The second`).
fn ends_a_list_marker(candidate: &Candidate) -> bool {
    candidate.in_list_marker
}

/// A spaced ellipsis of three dots after a space marks an omission inside the sentence
/// (`the thing is . . . I didn't`); one ending a sentence takes a fourth dot, its full stop.
fn spaced_ellipsis_inside_a_sentence(candidate: &Candidate) -> bool {
    let terminators = candidate.terminators();
    terminators.contains(' ')
        && terminators.matches('.').count() == 3
        && candidate
            .char_before_terminators()
            .is_none_or(char::is_whitespace)
}

/// Punctuation right after an opening bracket or quote is quoted, as in the omission
/// mark `[...]`, not the end of the surrounding sentence.
fn inside_brackets(candidate: &Candidate) -> bool {
    candidate
        .char_before_terminators()
        .is_some_and(|c| OPENERS.contains(&c))
}

/// Where list items start in a text, for lists written inline or on lines of their own.
///
/// Two kinds of item are recognised:
/// - a bullet (see [`BULLETS`]) at the start of the text or after whitespace;
/// - an enumeration marker, a number, letter or Roman numeral followed by `.`, `)` or `.)`
///   and whitespace, that belongs to a *sequence*: a first marker at the start of the text,
///   of a line or of a sentence (or after a colon), followed later by markers of the same
///   style numbering on from it (`1.` `2.` `3.`, `a)` `b)`, `9.` `10.`, `I.` `II.`, `i)`
///   `ii)`). Letter and Roman lists start at `a` or `i`; upper-case letters count only with
///   a bracket, since `A. Smith` is an initial. A lone `2.` is just a number, and a sequence
///   is what tells `item 2. The second item` or `Albert I. Jones` from a list.
///
/// A single `i`, `v`, `x` or `c` may be a letter or a Roman numeral: both readings are
/// kept, and whichever forms a sequence wins.
///
/// Each item starts a new piece, except an item right after a comma, semicolon, colon,
/// `and` or `or`, which continues an inline list inside one sentence (`1) flour, 2) eggs`).
struct ListItems {
    /// Where items start (the bullet or marker), sorted.
    cuts: Vec<usize>,
    /// The enumeration markers of items, such as `2.` or `b)`, sorted.
    markers: Vec<Range<usize>>,
}

/// An enumeration marker, possibly after a bullet: `2.`, `• 9.`, `b)`, `1.)`.
struct Marker {
    /// Where the item starts: at the bullet if there is one.
    item_start: usize,
    /// The number or letter and its punctuation.
    marker: Range<usize>,
    /// The kind of label and the punctuation after it: items of one list share both.
    style: (Label, &'static str),
    /// The position the label stands for: `2` for `2.`, `b)` or `ii)`.
    value: u32,
}

impl Marker {
    /// A Roman reading of a single letter (`C.`, `v)`), which outside its sequence is more
    /// likely a letter or an initial than a misplaced numeral.
    fn is_a_lone_roman_letter(&self) -> bool {
        let (label, punctuation) = self.style;
        matches!(label, Label::LowerRoman | Label::UpperRoman)
            && self.marker.len() == 1 + punctuation.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Number,
    Lower,
    Upper,
    LowerRoman,
    UpperRoman,
}

impl ListItems {
    fn find(text: &str) -> ListItems {
        let mut item_starts = Vec::new();
        let mut markers = Vec::new();
        let mut after_space = true;
        let mut bullet_start = None;
        for (at, c) in text.char_indices() {
            if BULLETS.contains(&c) && after_space {
                item_starts.push(at);
                bullet_start = Some(at);
            } else if c.is_ascii_alphanumeric() && (after_space || bullet_start.is_some()) {
                for mut marker in markers_at(text, at) {
                    marker.item_start = bullet_start.unwrap_or(at);
                    markers.push(marker);
                }
                bullet_start = None;
            } else if !c.is_whitespace() {
                bullet_start = None;
            }
            after_space = c.is_whitespace();
        }

        let mut in_sequence = vec![false; markers.len()];
        for first in 0..markers.len() {
            if in_sequence[first] || !starts_a_sequence(text, &markers[first]) {
                continue;
            }
            let mut sequence = vec![first];
            let mut last = first;
            while let Some(next) = next_in_sequence(&markers, last) {
                sequence.push(next);
                last = next;
            }
            if sequence.len() >= 2 {
                for index in sequence {
                    in_sequence[index] = true;
                }
            }
        }

        let mut cuts = item_starts;
        let mut marker_ranges = Vec::new();
        for (marker, _) in markers
            .into_iter()
            .zip(in_sequence)
            .filter(|(_, kept)| *kept)
        {
            if !continues_a_sentence(&text[..marker.item_start]) {
                cuts.push(marker.item_start);
            }
            marker_ranges.push(marker.marker);
        }
        cuts.sort_unstable();
        cuts.dedup();
        // Both readings of a letter such as `i` may belong to sequences.
        marker_ranges.dedup();
        ListItems {
            cuts,
            markers: marker_ranges,
        }
    }

    fn marker_contains(&self, at: usize) -> bool {
        let index = self.markers.partition_point(|marker| marker.end <= at);
        self.markers
            .get(index)
            .is_some_and(|marker| marker.contains(&at))
    }
}

/// The marker that continues a sequence after `markers[last]`: the next one of the same
/// style, which must number on from it. A lone Roman letter that does not number on is
/// passed over (`C.` in `I. Programming in C. II. Pointers`).
fn next_in_sequence(markers: &[Marker], last: usize) -> Option<usize> {
    let current = &markers[last];
    let numbers_on = |next: usize| markers[next].value == current.value + 1;
    (last + 1..markers.len())
        .filter(|&next| markers[next].style == current.style)
        .find(|&next| numbers_on(next) || !markers[next].is_a_lone_roman_letter())
        .filter(|&next| numbers_on(next))
}

/// The enumeration markers (`12.`, `b)`, `iv.`, `3.)`) that may start at `at`, each
/// followed by whitespace: one per reading of the label.
fn markers_at(text: &str, at: usize) -> impl Iterator<Item = Marker> + '_ {
    let rest = &text[at..];
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let letters = rest.len()
        - rest
            .trim_start_matches(|c: char| c.is_ascii_alphabetic())
            .len();
    let number = match digits {
        1..=3 => rest[..digits]
            .parse()
            .ok()
            .map(|value| (Label::Number, value, digits)),
        _ => None,
    };
    let letter = rest.chars().next().filter(|_| letters == 1).map(|letter| {
        let label = if letter.is_ascii_lowercase() {
            Label::Lower
        } else {
            Label::Upper
        };
        let value = u32::from(letter.to_ascii_lowercase()) - u32::from('a') + 1;
        (label, value, 1)
    });
    let numeral = &rest[..letters];
    let roman_numeral = roman(numeral)
        // After `War` or `Part`, `II.` numbers the war or the part, not an item of a list.
        .filter(|_| !abbreviation::NUMBERING_WORDS.contains(&word_ending_before(text, at)))
        .and_then(|value| u32::try_from(value).ok())
        .map(|value| {
            let label = if numeral.starts_with(|c: char| c.is_ascii_lowercase()) {
                Label::LowerRoman
            } else {
                Label::UpperRoman
            };
            (label, value, letters)
        });
    [number, letter, roman_numeral]
        .into_iter()
        .flatten()
        .filter_map(move |(label, value, label_len)| marker(text, at, label, value, label_len))
}

/// The marker whose label of `label_len` bytes starts at `at`, if punctuation and then
/// whitespace follow it.
fn marker(text: &str, at: usize, label: Label, value: u32, label_len: usize) -> Option<Marker> {
    let after_label = &text[at + label_len..];
    let punctuation = [".)", ")", "."]
        .into_iter()
        .find(|p| after_label.starts_with(p))?;
    let marker_end = at + label_len + punctuation.len();
    // `A. Smith` is an initial. `I.` is kept: only a sequence (`I.` `II.`) makes it a marker.
    if !text[marker_end..].starts_with(char::is_whitespace)
        || (label == Label::Upper && punctuation == ".")
    {
        return None;
    }
    Some(Marker {
        item_start: at,
        marker: at..marker_end,
        style: (label, punctuation),
        value,
    })
}

/// The word before byte `at`, without surrounding punctuation: `War` in `War II.`
fn word_ending_before(text: &str, at: usize) -> &str {
    last_token(text[..at].trim_end()).trim_matches(|c: char| !c.is_alphanumeric())
}

/// Whether a marker can open a list: at the start of the text, of a line or of a sentence,
/// or after a colon; letter lists start at `a`.
fn starts_a_sequence(text: &str, marker: &Marker) -> bool {
    if marker.style.0 != Label::Number && marker.value != 1 {
        return false;
    }
    let before =
        text[..marker.item_start].trim_end_matches(|c: char| c.is_whitespace() && c != '\n');
    before.is_empty()
        || before.ends_with(['\n', ':'])
        || before.trim_end_matches(CLOSERS).ends_with(TERMINATORS)
}

/// Whether an item starting after `before` continues the sentence: after a comma, a
/// semicolon, a colon, `and` or `or`.
fn continues_a_sentence(before: &str) -> bool {
    let before = before.trim_end();
    before.ends_with([',', ';', ':'])
        || ["and", "or"].iter().any(|word| last_token(before) == *word)
}

/// Where `split_long` may cut, most natural first.
#[derive(Debug, Clone, Copy)]
enum Break {
    /// After `;` or `:`, or after a dash with spaces around it.
    Clause,
    /// After `, `.
    Comma,
    /// Between any two words.
    Word,
}

const BREAK_PREFERENCE: [Break; 3] = [Break::Clause, Break::Comma, Break::Word];

fn split_piece(
    text: &str,
    piece: Range<usize>,
    max_chars: usize,
    breaks: &[Break],
    out: &mut Vec<Range<usize>>,
) {
    let Some((&preferred, coarser_fallbacks)) = breaks.split_first() else {
        out.push(piece);
        return;
    };
    if char_len(text, &piece) <= max_chars {
        out.push(piece);
        return;
    }
    let cuts = break_points(text, piece.clone(), preferred);
    let parts = pieces_between_cuts(text, piece, &cuts);
    // Rejoining neighbours that still fit keeps pieces as long as allowed, so a sentence
    // with many clauses is not shredded into fragments that would be spoken choppily.
    for group in merge_while_fitting(text, parts, max_chars) {
        split_piece(text, group, max_chars, coarser_fallbacks, out);
    }
}

/// Byte offsets inside `piece` after which a piece may end, for one kind of break. Every
/// break point is followed by whitespace, so no cut ever falls inside a word.
fn break_points(text: &str, piece: Range<usize>, kind: Break) -> Vec<usize> {
    let slice = &text[piece.clone()];
    let mut points = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = slice.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next_is_space = chars.peek().is_some_and(|&(_, next)| next.is_whitespace());
        let after = piece.start + at + c.len_utf8();
        let breaks_here = next_is_space
            && match kind {
                Break::Clause => {
                    matches!(c, ';' | ':')
                        || (matches!(c, '—' | '–') && previous.is_some_and(char::is_whitespace))
                }
                Break::Comma => c == ',',
                Break::Word => !c.is_whitespace(),
            };
        if breaks_here {
            points.push(after);
        }
        previous = Some(c);
    }
    points
}

fn merge_while_fitting(
    text: &str,
    parts: Vec<Range<usize>>,
    max_chars: usize,
) -> Vec<Range<usize>> {
    let mut groups: Vec<Range<usize>> = Vec::new();
    for part in parts {
        match groups.last_mut() {
            Some(group) if char_len(text, &(group.start..part.end)) <= max_chars => {
                group.end = part.end;
            }
            _ => groups.push(part),
        }
    }
    groups
}

/// The trimmed, non-empty pieces of `span` between consecutive `cuts` (sorted offsets).
fn pieces_between_cuts(text: &str, span: Range<usize>, cuts: &[usize]) -> Vec<Range<usize>> {
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut start = span.start;
    for &cut in cuts.iter().chain(std::iter::once(&span.end)) {
        pieces.extend(trimmed(text, start..cut));
        start = cut;
    }
    pieces
}

/// `range` without leading and trailing whitespace, or `None` if nothing else is left.
fn trimmed(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let slice = &text[range.clone()];
    let start = range.start + (slice.len() - slice.trim_start().len());
    let end = range.start + slice.trim_end().len();
    (start < end).then_some(start..end)
}

fn char_len(text: &str, range: &Range<usize>) -> usize {
    text[range.clone()].chars().count()
}

#[cfg(test)]
mod tests;
