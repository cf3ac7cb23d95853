//! Plain text: a title line if the text opens with one, blank lines between paragraphs, and
//! the page furniture of a copied web page left out (see `page_copy`).

use super::page_copy;
use super::{sentences_in, spoken_text};
use crate::document::{Chapter, Document, Dropped, Paragraph, Sentence};
use std::ops::Range;

/// Reads plain text. The first line is the title when it is headline-shaped (see
/// `page_copy`); otherwise the document is titled `fallback_title`, which is not spoken.
/// Unless `keep_all`, page furniture is dropped and listed in `Document::dropped`.
pub(super) fn parse(contents: &str, fallback_title: &str, keep_all: bool) -> Document {
    let cleaned = page_copy::clean(contents, keep_all);
    let heading = cleaned.title.map(|range| Sentence {
        text: spoken_text(&contents[range.clone()]),
        source: range,
    });
    let title = heading
        .as_ref()
        .map_or_else(|| fallback_title.to_string(), |h| h.text.clone());
    let paragraphs: Vec<Paragraph> = cleaned
        .paragraphs
        .iter()
        .map(|pieces| Paragraph {
            sentences: pieces
                .iter()
                .flat_map(|piece| sentences_of(contents, piece.clone()))
                .collect(),
        })
        .filter(|paragraph| !paragraph.sentences.is_empty())
        .collect();
    let dropped = cleaned
        .dropped
        .into_iter()
        .map(|(source, reason)| Dropped {
            text: spoken_text(&contents[source.clone()]),
            reason,
            source,
        })
        .collect();
    let chapters = if heading.is_none() && paragraphs.is_empty() {
        Vec::new()
    } else {
        vec![Chapter {
            title: title.clone(),
            heading,
            paragraphs,
        }]
    };
    Document {
        title,
        chapters,
        dropped,
    }
}

/// A passage with no title line (`aloud preview --text`): every line is spoken, blank lines
/// separate paragraphs.
pub(super) fn parse_passage(contents: &str, title: &str) -> Document {
    let paragraphs = paragraphs_in(contents, lines_of(contents));
    Document {
        title: title.to_string(),
        chapters: if paragraphs.is_empty() {
            Vec::new()
        } else {
            vec![Chapter {
                title: title.to_string(),
                heading: None,
                paragraphs,
            }]
        },
        dropped: Vec::new(),
    }
}

/// The sentences of each blank-line-separated paragraph among `lines`.
fn paragraphs_in(contents: &str, lines: impl Iterator<Item = Range<usize>>) -> Vec<Paragraph> {
    paragraph_ranges(contents, lines)
        .into_iter()
        .map(|range| Paragraph {
            sentences: sentences_of(contents, range),
        })
        .filter(|paragraph| !paragraph.sentences.is_empty())
        .collect()
}

/// The sentences of `range` of `contents`, with their offsets in `contents`.
fn sentences_of(contents: &str, range: Range<usize>) -> Vec<Sentence> {
    // The splitter sees the raw lines, newlines included, so its ranges are offsets into the
    // file after adding the range's start.
    sentences_in(&contents[range.clone()], |sentence| {
        range.start + sentence.start..range.start + sentence.end
    })
}

/// Each line's byte range, its line break included.
fn lines_of(contents: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    contents.split_inclusive('\n').scan(0, |start, line| {
        let range = *start..*start + line.len();
        *start = range.end;
        Some(range)
    })
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Groups consecutive non-blank lines into paragraph ranges.
fn paragraph_ranges(
    contents: &str,
    lines: impl Iterator<Item = Range<usize>>,
) -> Vec<Range<usize>> {
    let mut paragraphs: Vec<Range<usize>> = Vec::new();
    let mut current: Option<Range<usize>> = None;
    for line in lines {
        if is_blank(&contents[line.clone()]) {
            paragraphs.extend(current.take());
        } else {
            let paragraph = current.get_or_insert(line.clone());
            paragraph.end = line.end;
        }
    }
    paragraphs.extend(current);
    paragraphs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn paragraph_texts(document: &Document) -> Vec<Vec<&str>> {
        document.chapters[0]
            .paragraphs
            .iter()
            .map(|p| p.sentences.iter().map(|s| s.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn a_passage_speaks_every_line_and_has_no_heading() {
        let document = parse_passage("First line. Second.\n\nThird.\n", "Preview");
        assert_eq!(document.title, "Preview");
        assert!(document.chapters[0].heading.is_none());
        assert_eq!(
            paragraph_texts(&document),
            vec![vec!["First line.", "Second."], vec!["Third."]]
        );
        assert!(parse_passage("  \n\n", "Preview").chapters.is_empty());
    }

    #[test]
    fn first_line_is_the_title_and_the_spoken_heading() {
        let contents = "\n\n   The Title  \nBody line one.\n";
        let document = parse(contents, "fallback", false);
        assert_eq!(document.title, "The Title");
        assert_eq!(document.chapters.len(), 1);
        let chapter = &document.chapters[0];
        assert_eq!(chapter.title, "The Title");
        let heading = chapter.heading.as_ref().expect("heading");
        assert_eq!(heading.text, "The Title");
        assert_eq!(heading.source, 5..14);
        assert_eq!(&contents[heading.source.clone()], "The Title");
        assert_eq!(paragraph_texts(&document), [["Body line one."]]);
    }

    #[test]
    fn blank_lines_separate_paragraphs_and_single_newlines_join_lines() {
        let contents =
            "Title\n\nOne line\ncontinues here. Next sentence.\n  \t\nSecond\nparagraph.\n\n\n";
        let document = parse(contents, "fallback", false);
        assert_eq!(
            paragraph_texts(&document),
            vec![
                vec!["One line continues here.", "Next sentence."],
                vec!["Second paragraph."],
            ]
        );
    }

    #[test]
    fn sources_are_offsets_into_the_whole_file() {
        let contents =
            "Title\r\n\r\nFirst   one.\r\nSecond\r\n one.\r\n\r\nThird — “quoted”. Fourth.";
        let document = parse(contents, "fallback", false);
        let sentences: Vec<&Sentence> = document.spoken_sentences().collect();
        assert_eq!(sentences.len(), 5);
        for sentence in &sentences {
            assert_eq!(
                spoken_text(&contents[sentence.source.clone()]),
                sentence.text
            );
        }
        let second = sentences[2];
        assert_eq!(second.text, "Second one.");
        assert_eq!(&contents[second.source.clone()], "Second\r\n one.");
        assert_eq!(
            second.source.start,
            contents.find("Second").expect("present")
        );
        let fourth = sentences[4];
        assert_eq!(
            fourth.source,
            contents.len() - "Fourth.".len()..contents.len()
        );
    }

    #[test]
    fn a_lone_title_is_still_something_to_say() {
        let document = parse("Just a title", "fallback", false);
        assert_eq!(document.sentence_count(), 1);
        assert!(document.chapters[0].paragraphs.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn plain_text_loses_nothing_and_sources_match(
            contents in proptest::collection::vec(
                proptest::sample::select(&[
                    "Word", "word", ". ", "? ", "Mr. ", "\n", "\n\n", "\r\n", " \n", "  ", "é", "“", "”", "—", "\u{feff}",
                ][..]),
                0..60,
            ).prop_map(|parts| parts.concat())
        ) {
            let document = parse(&contents, "fallback", true);
            proptest::prop_assert!(document.dropped.is_empty());
            let mut previous_end = 0;
            for sentence in document.spoken_sentences() {
                proptest::prop_assert!(previous_end <= sentence.source.start, "out of order");
                previous_end = sentence.source.end;
                proptest::prop_assert_eq!(spoken_text(&contents[sentence.source.clone()]), sentence.text.as_str());
            }
            let spoken: String = document.spoken_sentences().flat_map(|s| s.text.chars()).filter(|c| !c.is_whitespace()).collect();
            let original: String = contents.chars().filter(|c| !c.is_whitespace()).collect();
            proptest::prop_assert_eq!(spoken, original);
        }
    }

    proptest::proptest! {
        /// Cleaning only ever moves a block from the narration to the dropped list: every
        /// character is spoken or listed as dropped, once, in order.
        #[test]
        fn cleaning_accounts_for_every_character(
            contents in proptest::collection::vec(
                proptest::sample::select(&[
                    "Word", "word", "Share", "Listen to this article", "By Jane Doe", ". ",
                    "? ", "\n", "\n\n", "Advertisement", "Related Stories", "“", "”", "—", "▶",
                    "Politics", "(AP Photo/Jane Roe)", "Oct. 19, 2023", "Thursday, ", "©",
                ][..]),
                0..60,
            ).prop_map(|parts| parts.concat())
        ) {
            let document = parse(&contents, "fallback", false);
            let mut pieces: Vec<std::ops::Range<usize>> = document
                .spoken_sentences()
                .map(|sentence| sentence.source.clone())
                .chain(document.dropped.iter().map(|dropped| dropped.source.clone()))
                .collect();
            pieces.sort_by_key(|range| range.start);
            let mut previous_end = 0;
            for piece in &pieces {
                proptest::prop_assert!(previous_end <= piece.start, "overlap at {:?}", piece);
                previous_end = piece.end;
            }
            for dropped in &document.dropped {
                proptest::prop_assert_eq!(spoken_text(&contents[dropped.source.clone()]), dropped.text.as_str());
            }
            let accounted: String = pieces.iter().flat_map(|range| contents[range.clone()].chars()).filter(|c| !c.is_whitespace()).collect();
            let original: String = contents.chars().filter(|c| !c.is_whitespace()).collect();
            proptest::prop_assert_eq!(accounted, original);
        }
    }

    #[test]
    fn no_text_means_no_sentences() {
        let document = parse(" \n \n", "fallback", false);
        assert!(document.is_empty());
        assert_eq!(document.title, "fallback");
    }
}
