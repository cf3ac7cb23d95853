//! Splits a paragraph into sentences without ever dropping or reordering text.
//!
//! Both splitters work the same way: they only choose *cut points* in the input and then
//! trim the pieces between consecutive cuts. Because the pieces tile the input, no text can
//! be lost, duplicated or reordered, whatever the rules decide; the rules can only move cuts.
//!
//! Sentence splitting has two stages so that it can grow rule by rule:
//! 1. [`Candidate`]s: every run of terminal punctuation (plus closing quotes or brackets)
//!    that is followed by whitespace. The end of the text needs no candidate.
//! 2. [`NOT_A_SENTENCE_END`]: a list of rules, each of which may reject a candidate
//!    (an abbreviation, an initial, a lower-case continuation, ...). A new heuristic is a new
//!    entry in that list, and rules see the same [`Candidate`] context.

use std::ops::Range;

/// Splits `text` into sentences, returned as trimmed, ordered, non-overlapping byte ranges
/// that together cover every non-whitespace character of `text`.
pub fn split_sentences(text: &str) -> Vec<Range<usize>> {
    let mut cuts = Vec::new();
    let mut sentence_start = 0;
    let mut search_from = 0;
    while let Some(candidate) = next_candidate(text, search_from, sentence_start) {
        search_from = candidate.end;
        if !NOT_A_SENTENCE_END.iter().any(|rule| rule(&candidate)) {
            cuts.push(candidate.end);
            sentence_start = candidate.end;
        }
    }
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

/// A possible sentence end, with the context the rules need to judge it.
struct Candidate<'a> {
    text: &'a str,
    /// Where the sentence this candidate would end begins (after the previous accepted cut).
    sentence_start: usize,
    /// The run of terminal punctuation, e.g. `.`, `?!` or `...`.
    terminators: Range<usize>,
    /// Where the sentence would end: after the terminators and any closing quotes/brackets.
    end: usize,
    /// The first non-whitespace character after `end`, if any.
    next: Option<char>,
}

impl Candidate<'_> {
    fn terminators(&self) -> &str {
        &self.text[self.terminators.clone()]
    }

    /// The whitespace-delimited token the terminators are attached to, without any opening
    /// punctuation, e.g. `Mr` in `(Mr. Smith`, or `e.g` in `e.g. this`.
    fn word_before(&self) -> &str {
        let before = &self.text[self.sentence_start..self.terminators.start];
        let token_start = before
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(at, c)| at + c.len_utf8());
        before[token_start..].trim_start_matches(OPENERS)
    }

    fn char_before_terminators(&self) -> Option<char> {
        self.text[..self.terminators.start].chars().next_back()
    }
}

/// Finds the next run of terminal punctuation at or after `from` that is followed by
/// whitespace. A terminator glued to the next character (`3.14`, `example.com`, `Jr.'s`)
/// is never a candidate, which is what keeps decimals, URLs and e-mail addresses whole.
fn next_candidate(text: &str, from: usize, sentence_start: usize) -> Option<Candidate<'_>> {
    let mut search_from = from;
    loop {
        let rest = text.get(search_from..)?;
        let run_start = search_from + rest.find(TERMINATORS)?;
        let run_end = end_of_run(text, run_start, TERMINATORS);
        let end = end_of_run(text, run_end, CLOSERS);
        let after = &text[end..];
        let followed_by_whitespace = after.chars().next().is_some_and(char::is_whitespace);
        if followed_by_whitespace {
            return Some(Candidate {
                text,
                sentence_start,
                terminators: run_start..run_end,
                end,
                next: after.trim_start().chars().next(),
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

/// Rules that reject a candidate; any one saying `true` keeps the sentence going.
const NOT_A_SENTENCE_END: &[fn(&Candidate) -> bool] = &[
    next_does_not_start_a_sentence,
    after_abbreviation,
    after_number_abbreviation,
    after_initial,
    after_enumeration_marker,
    inside_brackets,
];

/// A sentence begins with a capital, a digit or opening punctuation; anything else after a
/// full stop is more likely the same sentence (`Yahoo! in the`, `"Great." she said`).
fn next_does_not_start_a_sentence(candidate: &Candidate) -> bool {
    !candidate
        .next
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || OPENERS.contains(&c))
}

/// Abbreviations that are nearly always followed by more of the same sentence. Matched
/// case-sensitively: `co.` or `no.` in lower case are ordinary sentence ends far more often.
#[rustfmt::skip]
const ABBREVIATIONS: &[&str] = &[
    // Titles and ranks, which precede a name.
    "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Mt", "Gov", "Sen", "Rep", "Lt", "Col", "Gen", "Sgt",
    "Capt", "Jr", "Sr",
    // Latin and other common short forms.
    "vs", "etc", "e.g", "i.e", "a.m", "p.m",
    // Company forms.
    "Inc", "Corp", "Ltd", "Co",
    // Months. Word-like ones (`Mar.` is a verb, `Jun.` a name) count only before a number.
    "Jan", "Feb", "Aug", "Sept", "Oct", "Nov", "Dec",
    // Countries and bodies.
    "U.S", "U.K", "U.N",
];

fn after_abbreviation(candidate: &Candidate) -> bool {
    candidate.terminators() == "." && ABBREVIATIONS.contains(&candidate.word_before())
}

/// Abbreviations that introduce a number (`No. 5`, `p. 55`, `Jun. 4`). Only before a digit,
/// because these are also words that end sentences (`He said No. Then he left.`).
const NUMBER_ABBREVIATIONS: &[&str] = &[
    "No", "Nos", "no", "N°", "№", "p", "pp", "Vol", "vol", "Fig", "fig", "Mar", "Apr", "Jun",
    "Jul", "Sep",
];

fn after_number_abbreviation(candidate: &Candidate) -> bool {
    candidate.terminators() == "."
        && candidate.next.is_some_and(|c| c.is_ascii_digit())
        && NUMBER_ABBREVIATIONS.contains(&candidate.word_before())
}

/// A single capital before a full stop is an initial (`Jonas E. Smith`). Except `I`, which
/// ends sentences as a pronoun (`you and I. Then`) more often than it is an initial.
fn after_initial(candidate: &Candidate) -> bool {
    let mut chars = candidate.word_before().chars();
    let single_capital = match (chars.next(), chars.next()) {
        (Some(c), None) => c.is_uppercase() && c != 'I',
        _ => false,
    };
    candidate.terminators() == "." && single_capital
}

/// `1.` or `a.` opening a sentence numbers a list item; it does not end anything.
fn after_enumeration_marker(candidate: &Candidate) -> bool {
    let sentence_so_far = candidate.text[candidate.sentence_start..candidate.terminators.start]
        .trim_start_matches(|c: char| c.is_whitespace() || OPENERS.contains(&c));
    let is_number =
        !sentence_so_far.is_empty() && sentence_so_far.chars().all(|c| c.is_ascii_digit());
    let is_letter =
        sentence_so_far.chars().count() == 1 && sentence_so_far.chars().all(char::is_alphabetic);
    candidate.terminators() == "." && (is_number || is_letter)
}

/// Punctuation right after an opening bracket or quote is quoted, as in the omission
/// mark `[...]`, not the end of the surrounding sentence.
fn inside_brackets(candidate: &Candidate) -> bool {
    candidate
        .char_before_terminators()
        .is_some_and(|c| OPENERS.contains(&c))
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sentences(text: &str) -> Vec<&str> {
        split_sentences(text)
            .into_iter()
            .map(|range| &text[range])
            .collect()
    }

    fn long_pieces(text: &str, max_chars: usize) -> Vec<&str> {
        split_long(text, max_chars)
            .into_iter()
            .map(|range| &text[range])
            .collect()
    }

    #[test]
    fn sentence_cases() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("empty", "", &[]),
            ("only whitespace", " \n\t ", &[]),
            (
                "full stop",
                "Hello World. My name is Jonas.",
                &["Hello World.", "My name is Jonas."],
            ),
            (
                "question mark",
                "What is your name? My name is Jonas.",
                &["What is your name?", "My name is Jonas."],
            ),
            (
                "exclamation mark",
                "There it is! I found it.",
                &["There it is!", "I found it."],
            ),
            (
                "doubled ?!",
                "Really?! Yes. Hello!! Who?? Me.",
                &["Really?!", "Yes.", "Hello!!", "Who??", "Me."],
            ),
            (
                "no final punctuation",
                "One. Two without a stop",
                &["One.", "Two without a stop"],
            ),
            (
                "titles",
                "Mr. Smith met Dr. Jones and Mrs. Brown. They talked.",
                &["Mr. Smith met Dr. Jones and Mrs. Brown.", "They talked."],
            ),
            (
                "ranks",
                "Sen. Warren, Gov. Newsom and Lt. Col. Smith spoke. Prof. Lee left.",
                &[
                    "Sen. Warren, Gov. Newsom and Lt. Col. Smith spoke.",
                    "Prof. Lee left.",
                ],
            ),
            (
                "latin",
                "Bring fruit, e.g. Apples, i.e. Fresh ones. Also bread, etc. Thanks.",
                &[
                    "Bring fruit, e.g. Apples, i.e. Fresh ones.",
                    "Also bread, etc. Thanks.",
                ],
            ),
            (
                "a.m. and p.m.",
                "At 5 a.m. Mr. Smith left. He was back by 6 p.m. Nobody saw him.",
                &[
                    "At 5 a.m. Mr. Smith left.",
                    "He was back by 6 p.m. Nobody saw him.",
                ],
            ),
            (
                "companies",
                "Acme Inc. Announced results. Shares rose.",
                &["Acme Inc. Announced results.", "Shares rose."],
            ),
            (
                "U.S.",
                "The U.S. Senate voted. The U.K. Parliament did not.",
                &["The U.S. Senate voted.", "The U.K. Parliament did not."],
            ),
            (
                "month",
                "It happened on Oct. 19, 2023. Nobody noticed.",
                &["It happened on Oct. 19, 2023.", "Nobody noticed."],
            ),
            (
                "No. before a number only",
                "See No. 5 on the list. No. That is wrong.",
                &["See No. 5 on the list.", "No.", "That is wrong."],
            ),
            (
                "page abbreviation",
                "Please turn to p. 55. Then stop.",
                &["Please turn to p. 55.", "Then stop."],
            ),
            (
                "initial",
                "My name is Jonas E. Smith. Hi.",
                &["My name is Jonas E. Smith.", "Hi."],
            ),
            (
                "the pronoun I is not an initial",
                "It was you and I. Then we left.",
                &["It was you and I.", "Then we left."],
            ),
            (
                "decimals",
                "Pi is 3.14 exactly. She has $100.00. It is in her bag.",
                &[
                    "Pi is 3.14 exactly.",
                    "She has $100.00.",
                    "It is in her bag.",
                ],
            ),
            (
                "digit starts a sentence",
                "It ended in 1998. 2000 was better.",
                &["It ended in 1998.", "2000 was better."],
            ),
            (
                "lower case continues the sentence",
                "She works at Yahoo! in the accounts team. Ok.",
                &["She works at Yahoo! in the accounts team.", "Ok."],
            ),
            (
                "closing quote belongs to the sentence",
                "She said, \"Stop.\" Then she left.",
                &["She said, \"Stop.\"", "Then she left."],
            ),
            (
                "quoted sentence inside a sentence",
                "She turned to him, \"This is great.\" she said.",
                &["She turned to him, \"This is great.\" she said."],
            ),
            (
                "single quotes",
                "He said 'Go.' Nobody moved.",
                &["He said 'Go.'", "Nobody moved."],
            ),
            (
                "curly quotes",
                "He wrote “It works.” Nobody believed him. Is it? “Yes,” she said.",
                &[
                    "He wrote “It works.”",
                    "Nobody believed him.",
                    "Is it?",
                    "“Yes,” she said.",
                ],
            ),
            (
                "curly single quote closes",
                "He called it ‘done.’ It was not.",
                &["He called it ‘done.’", "It was not."],
            ),
            (
                "parentheses",
                "(This is an aside.) The text goes on. [A note.] (Another.)",
                &[
                    "(This is an aside.)",
                    "The text goes on.",
                    "[A note.]",
                    "(Another.)",
                ],
            ),
            (
                "ellipsis ends a sentence before a capital",
                "Wait… What happened? I never meant that.... She left.",
                &[
                    "Wait…",
                    "What happened?",
                    "I never meant that....",
                    "She left.",
                ],
            ),
            (
                "ellipsis inside a sentence",
                "I was thinking... maybe not. Or… perhaps.",
                &["I was thinking... maybe not.", "Or… perhaps."],
            ),
            (
                "bracketed omission",
                "\"Bohr [...] used the analogy [...]\" (Smith 55).",
                &["\"Bohr [...] used the analogy [...]\" (Smith 55)."],
            ),
            (
                "url",
                "The site is https://www.example.com/Page.html?Q=1. Please check it out.",
                &[
                    "The site is https://www.example.com/Page.html?Q=1.",
                    "Please check it out.",
                ],
            ),
            (
                "url with capitals after dots",
                "Go to www.Example.com/A.Docs for more. Thanks!",
                &["Go to www.Example.com/A.Docs for more.", "Thanks!"],
            ),
            (
                "e-mail",
                "Write to Jane.Doe@Example.com. She answers quickly.",
                &["Write to Jane.Doe@Example.com.", "She answers quickly."],
            ),
            (
                "numbered list markers",
                "1. The first item. 2. The second item. 3.) The third.",
                &[
                    "1. The first item.",
                    "2. The second item.",
                    "3.) The third.",
                ],
            ),
            (
                "newlines are whitespace",
                "First line.\nSecond line\ncontinues.\n\nThird.",
                &["First line.", "Second line\ncontinues.", "Third."],
            ),
            (
                "surrounding whitespace is trimmed",
                "  Lead.   Trail.  ",
                &["Lead.", "Trail."],
            ),
            (
                "non-ASCII capitals",
                "Café au lait. Été arrive. Ça va.",
                &["Café au lait.", "Été arrive.", "Ça va."],
            ),
        ];
        for (name, text, expected) in cases {
            assert_eq!(&sentences(text), expected, "case {name:?}: {text:?}");
        }
    }

    #[test]
    fn long_sentence_cases() {
        let cases: &[(&str, &str, usize, &[&str])] = &[
            ("fits", "Short enough.", 100, &["Short enough."]),
            ("empty", "  ", 10, &[]),
            (
                "clause then comma",
                "alpha beta; gamma delta, epsilon zeta",
                20,
                &["alpha beta;", "gamma delta,", "epsilon zeta"],
            ),
            (
                "clauses are preferred over commas",
                "one, two; three, four",
                15,
                &["one, two;", "three, four"],
            ),
            (
                "neighbours that fit are rejoined",
                "a; b; c; d",
                5,
                &["a; b;", "c; d"],
            ),
            (
                "spaced em dash, then words as a last resort",
                "He came back — and then he left again",
                20,
                &["He came back —", "and then he left", "again"],
            ),
            (
                "spaced en dash",
                "Pages one – two",
                11,
                &["Pages one –", "two"],
            ),
            (
                "unspaced dash is part of the word",
                "a well—known fact",
                5,
                &["a", "well—known", "fact"],
            ),
            (
                "colon inside a time is no clause boundary",
                "10:30 is the time: now",
                12,
                &["10:30 is the", "time:", "now"],
            ),
            (
                "a single long word cannot be split",
                "Supercalifragilistic",
                5,
                &["Supercalifragilistic"],
            ),
            ("counts characters, not bytes", "éé éé", 5, &["éé éé"]),
        ];
        for (name, text, max, expected) in cases {
            assert_eq!(
                &long_pieces(text, *max),
                expected,
                "case {name:?}: {text:?} max {max}"
            );
        }
    }

    /// The no-loss contract shared by both splitters.
    fn assert_tiles(text: &str, ranges: &[Range<usize>]) -> Result<(), TestCaseError> {
        let mut previous_end = 0;
        for range in ranges {
            prop_assert!(range.start < range.end, "empty range {range:?}");
            prop_assert!(
                previous_end <= range.start,
                "overlap or disorder at {range:?}"
            );
            prop_assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
            let piece = &text[range.clone()];
            prop_assert_eq!(piece.trim(), piece, "untrimmed piece");
            previous_end = range.end;
        }
        let kept: String = ranges
            .iter()
            .flat_map(|range| text[range.clone()].chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        let original: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        prop_assert_eq!(kept, original);
        Ok(())
    }

    const FRAGMENTS: &[&str] = &[
        ". ", "? ", "! ", "Mr. ", "e.g. ", "U.S. ", "No. 5", "... ", "…", "\"", "'", "“", "”", "’",
        "(", ")", "[", "]", "\n", "\n\n", " ", "  ", "\t", "é", "É", "—", " — ", "; ", ": ", ", ",
        "word", "Word", "A", "I", "3.14", "1. ", "x@y.com", "\u{a0}",
    ];

    fn messy_text() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            3 => proptest::sample::select(FRAGMENTS).prop_map(String::from),
            1 => any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(fragment, 0..60).prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn sentences_never_lose_or_reorder_text(text in messy_text()) {
            assert_tiles(&text, &split_sentences(&text))?;
        }

        #[test]
        fn long_pieces_never_lose_or_reorder_text(text in messy_text(), max in 0usize..40) {
            assert_tiles(&text, &split_long(&text, max))?;
        }

        #[test]
        fn long_pieces_are_cut_between_words_only(text in messy_text(), max in 0usize..40) {
            for range in split_long(&text, max) {
                let before = text[..range.start].chars().next_back();
                let after = text[range.end..].chars().next();
                prop_assert!(before.is_none_or(char::is_whitespace), "cut inside a word at {}", range.start);
                prop_assert!(after.is_none_or(char::is_whitespace), "cut inside a word at {}", range.end);
            }
        }

        #[test]
        fn long_pieces_exceed_the_limit_only_when_unsplittable(text in messy_text(), max in 0usize..40) {
            for range in split_long(&text, max) {
                let piece = &text[range];
                if piece.chars().count() > max {
                    prop_assert!(!piece.contains(char::is_whitespace), "{piece:?} could have been split");
                }
            }
        }
    }
}
