//! Markdown through pulldown-cmark: # is the title, ##/### start chapters.
//!
//! Only prose is narrated: paragraphs, list items (each its own paragraph), block quotes and
//! headings. Code blocks, images (alt text included), raw HTML, tables, footnote definitions
//! and front matter are skipped. Markup is removed, but every sentence's `source` still points
//! at the Markdown bytes it came from, through a plain-text-to-source offset map.

use super::{sentences_in, spoken_text};
use crate::document::{Chapter, Document, Paragraph, Sentence};
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::ops::Range;

pub(super) fn parse(contents: &str, fallback_title: &str) -> Document {
    let mut builder = DocumentBuilder::default();
    let mut block = PlainText::default();
    let mut open_heading: Option<HeadingLevel> = None;
    // Depth of nested elements whose text is not spoken; text is collected only at zero.
    let mut unspoken_depth = 0usize;

    for (event, range) in Parser::new_ext(contents, options()).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                let tag_end = tag.to_end();
                if is_block(&tag_end) {
                    builder.finish_block(&mut block, open_heading.take());
                }
                if let Tag::Heading { level, .. } = tag
                    && unspoken_depth == 0
                {
                    open_heading = Some(level);
                }
                if is_unspoken(&tag_end) {
                    unspoken_depth += 1;
                }
            }
            Event::End(tag_end) => {
                if is_unspoken(&tag_end) {
                    unspoken_depth = unspoken_depth.saturating_sub(1);
                }
                if is_block(&tag_end) {
                    builder.finish_block(&mut block, open_heading.take());
                }
            }
            // Inline code is narrated: in prose it is usually a word or a name.
            Event::Text(text) | Event::Code(text) if unspoken_depth == 0 => {
                block.push(&text, range, contents);
            }
            Event::SoftBreak | Event::HardBreak if unspoken_depth == 0 => {
                block.push(" ", range, contents);
            }
            // Other inline HTML is dropped without a trace, so that `<b>word</b>.` stays
            // `word.`; but a `<br>` separates words like the line break it is.
            Event::InlineHtml(html) if unspoken_depth == 0 && is_line_break_tag(&html) => {
                block.push(" ", range, contents);
            }
            Event::Rule => builder.finish_block(&mut block, open_heading.take()),
            // Raw HTML, HTML comments, footnote references, task markers, math: not spoken.
            _ => {}
        }
    }
    builder.finish_block(&mut block, open_heading.take());
    builder.into_document(fallback_title)
}

fn options() -> Options {
    // Each extension is enabled so that its syntax is recognised and then skipped or
    // stripped, instead of being read aloud as literal pipes, carets, tildes or brackets.
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS
        | Options::ENABLE_GFM
}

/// `<br>`, `<br/>`, `<BR />` and the like.
fn is_line_break_tag(html: &str) -> bool {
    let name: String = html
        .trim_start_matches('<')
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    name.eq_ignore_ascii_case("br")
}

/// Elements that end the text gathered so far: text on either side of them is never one
/// sentence.
fn is_block(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::HtmlBlock
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::Table
            | TagEnd::TableHead
            | TagEnd::TableRow
            | TagEnd::TableCell
            | TagEnd::MetadataBlock(_)
    )
}

/// Elements whose text is not narrated at all.
fn is_unspoken(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Image
            | TagEnd::CodeBlock
            | TagEnd::HtmlBlock
            | TagEnd::Table
            | TagEnd::FootnoteDefinition
            | TagEnd::MetadataBlock(_)
    )
}

/// The spoken text of one block, with a map from its byte offsets back to the source.
#[derive(Default)]
struct PlainText {
    text: String,
    /// Consecutive pieces of `text`, in order, each with where it came from.
    pieces: Vec<MappedPiece>,
}

struct MappedPiece {
    /// Where the piece starts in `PlainText::text`.
    plain_start: usize,
    /// The source bytes the piece was read from.
    source: Range<usize>,
    /// Whether `source` is the piece byte for byte, so offsets inside it map one-to-one.
    /// Otherwise the piece (a single character, or an entity like `&amp;`) maps as a whole.
    verbatim: bool,
}

impl PlainText {
    fn push(&mut self, spoken: &str, range: Range<usize>, contents: &str) {
        if spoken.is_empty() {
            return;
        }
        let raw = contents.get(range.clone()).unwrap_or_default();
        if raw == spoken {
            self.push_piece(spoken, range, true);
        } else if let Some(spans) = align_chars(spoken, raw) {
            // Inline code (backticks around it, line breaks turned into spaces) and escapes
            // differ from their source, but each character can still be found in it, so a
            // sentence boundary inside the piece still maps to the right bytes.
            for ((plain_at, c), span) in spoken.char_indices().zip(spans) {
                let source = range.start + span.start..range.start + span.end;
                self.push_piece(&spoken[plain_at..plain_at + c.len_utf8()], source, false);
            }
        } else {
            // An entity such as `&eacute;` becomes text not found in its source; the parser
            // gives each entity its own event, so mapping it as a whole loses nothing.
            self.push_piece(spoken, range, false);
        }
    }

    fn push_piece(&mut self, spoken: &str, source: Range<usize>, verbatim: bool) {
        self.pieces.push(MappedPiece {
            plain_start: self.text.len(),
            source,
            verbatim,
        });
        self.text.push_str(spoken);
    }

    /// The source offset of the character starting at `plain` in the spoken text.
    fn source_start(&self, plain: usize) -> usize {
        let index = self
            .pieces
            .partition_point(|piece| piece.plain_start <= plain)
            .saturating_sub(1);
        self.pieces.get(index).map_or(0, |piece| {
            if piece.verbatim {
                piece.source.start + (plain - piece.plain_start)
            } else {
                piece.source.start
            }
        })
    }

    /// The source offset just after the character ending at `plain` in the spoken text.
    fn source_end(&self, plain: usize) -> usize {
        let index = self
            .pieces
            .partition_point(|piece| piece.plain_start < plain)
            .saturating_sub(1);
        self.pieces.get(index).map_or(0, |piece| {
            if piece.verbatim {
                piece.source.start + (plain - piece.plain_start)
            } else {
                piece.source.end
            }
        })
    }

    fn to_source(&self, plain: Range<usize>) -> Range<usize> {
        let start = self.source_start(plain.start);
        start..self.source_end(plain.end).max(start)
    }

    /// The whole block as one sentence (for headings), or `None` if nothing is spoken.
    fn as_one_sentence(&self) -> Option<Sentence> {
        let leading = self.text.len() - self.text.trim_start().len();
        let trimmed = leading..leading + self.text.trim().len();
        (!trimmed.is_empty()).then(|| Sentence {
            text: spoken_text(&self.text),
            source: self.to_source(trimmed),
        })
    }

    fn sentences(&self) -> Vec<Sentence> {
        sentences_in(&self.text, |plain| self.to_source(plain))
    }
}

/// For each character of `spoken`, the byte range of the same character in `raw`, found in
/// order; a whitespace character matches whitespace right at the current position, or
/// nothing. `None` when some other character cannot be found.
fn align_chars(spoken: &str, raw: &str) -> Option<Vec<Range<usize>>> {
    let mut spans = Vec::with_capacity(spoken.len());
    let mut raw_at = 0;
    for c in spoken.chars() {
        let rest = raw.get(raw_at..)?;
        let span = if c.is_whitespace() {
            // Searching ahead could skip characters still to be matched; a space never
            // bounds a sentence, so an empty span is as good.
            match rest.chars().next().filter(|r| r.is_whitespace()) {
                Some(r) => raw_at..raw_at + r.len_utf8(),
                None => raw_at..raw_at,
            }
        } else {
            let at = raw_at + rest.find(c)?;
            at..at + c.len_utf8()
        };
        raw_at = span.end;
        spans.push(span);
    }
    Some(spans)
}

#[derive(Default)]
struct DocumentBuilder {
    title: Option<String>,
    /// Whatever precedes the first chapter heading; titled with the document's title.
    opening: OpeningChapter,
    chapters: Vec<Chapter>,
}

#[derive(Default)]
struct OpeningChapter {
    heading: Option<Sentence>,
    paragraphs: Vec<Paragraph>,
}

impl DocumentBuilder {
    fn finish_block(&mut self, block: &mut PlainText, heading: Option<HeadingLevel>) {
        let block = std::mem::take(block);
        match heading {
            Some(level) => {
                if let Some(sentence) = block.as_one_sentence() {
                    self.add_heading(level, sentence);
                }
            }
            None => {
                let sentences = block.sentences();
                if !sentences.is_empty() {
                    self.current_paragraphs().push(Paragraph { sentences });
                }
            }
        }
    }

    fn add_heading(&mut self, level: HeadingLevel, heading: Sentence) {
        match level {
            HeadingLevel::H1 if self.title.is_none() => {
                self.title = Some(heading.text.clone());
                let nothing_said_yet = self.chapters.is_empty()
                    && self.opening.heading.is_none()
                    && self.opening.paragraphs.is_empty();
                if nothing_said_yet {
                    self.opening.heading = Some(heading);
                } else {
                    // Speaking it as the opening heading would put it before text that comes
                    // first in the file; a chapter of its own keeps reading order.
                    self.start_chapter(heading);
                }
            }
            // A second `#` can only be a section of the same article.
            HeadingLevel::H1 | HeadingLevel::H2 | HeadingLevel::H3 => self.start_chapter(heading),
            _ => self.current_paragraphs().push(Paragraph {
                sentences: vec![heading],
            }),
        }
    }

    fn start_chapter(&mut self, heading: Sentence) {
        self.chapters.push(Chapter {
            title: heading.text.clone(),
            heading: Some(heading),
            paragraphs: Vec::new(),
        });
    }

    fn current_paragraphs(&mut self) -> &mut Vec<Paragraph> {
        match self.chapters.last_mut() {
            Some(chapter) => &mut chapter.paragraphs,
            None => &mut self.opening.paragraphs,
        }
    }

    fn into_document(self, fallback_title: &str) -> Document {
        let title = self.title.unwrap_or_else(|| fallback_title.to_string());
        let opening_has_content =
            self.opening.heading.is_some() || !self.opening.paragraphs.is_empty();
        let opening = opening_has_content.then(|| Chapter {
            title: title.clone(),
            heading: self.opening.heading,
            paragraphs: self.opening.paragraphs,
        });
        Document {
            title,
            chapters: opening.into_iter().chain(self.chapters).collect(),
            dropped: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(paragraphs: &[Paragraph]) -> Vec<Vec<&str>> {
        paragraphs
            .iter()
            .map(|p| p.sentences.iter().map(|s| s.text.as_str()).collect())
            .collect()
    }

    fn all_paragraphs(document: &Document) -> Vec<Vec<&str>> {
        document
            .chapters
            .iter()
            .flat_map(|chapter| texts(&chapter.paragraphs))
            .collect()
    }

    fn chapter_titles(document: &Document) -> Vec<&str> {
        document.chapters.iter().map(|c| c.title.as_str()).collect()
    }

    fn heading_text(chapter: &Chapter) -> Option<&str> {
        chapter.heading.as_ref().map(|h| h.text.as_str())
    }

    /// Each source range starts at the sentence's first character and ends after its last,
    /// and the ranges run forward through the file.
    fn assert_sources_bracket_text(contents: &str, document: &Document) {
        let mut previous_end = 0;
        for sentence in document.spoken_sentences() {
            let source = contents
                .get(sentence.source.clone())
                .unwrap_or_else(|| panic!("bad range {:?}", sentence.source));
            assert!(
                previous_end <= sentence.source.start,
                "{sentence:?} out of order"
            );
            previous_end = sentence.source.end;
            assert_eq!(
                source.chars().next(),
                sentence.text.chars().next(),
                "{sentence:?} vs {source:?}"
            );
            assert_eq!(
                source.chars().next_back(),
                sentence.text.chars().next_back(),
                "{sentence:?} vs {source:?}"
            );
        }
    }

    #[test]
    fn title_and_chapters_from_headings() {
        let contents = "# The Title\n\nIntro paragraph. Second sentence.\n\n## First Section\n\nSection text.\n\n### Sub Section\n\nSub text.\n\n#### Minor heading\n\nMinor text.\n";
        let document = parse(contents, "fallback");
        assert_eq!(document.title, "The Title");
        let chapters = &document.chapters;
        assert_eq!(
            chapter_titles(&document),
            ["The Title", "First Section", "Sub Section"]
        );
        let headings: Vec<Option<&str>> = chapters.iter().map(heading_text).collect();
        assert_eq!(
            headings,
            [
                Some("The Title"),
                Some("First Section"),
                Some("Sub Section")
            ]
        );
        assert_eq!(
            texts(&chapters[0].paragraphs),
            [["Intro paragraph.", "Second sentence."]]
        );
        assert_eq!(texts(&chapters[1].paragraphs), [["Section text."]]);
        assert_eq!(
            texts(&chapters[2].paragraphs),
            [["Sub text."], ["Minor heading"], ["Minor text."]]
        );
        assert_sources_bracket_text(contents, &document);
    }

    #[test]
    fn without_a_title_heading_the_file_name_titles_an_unheaded_first_chapter() {
        let contents = "Intro text.\n\n## Part\n\nBody.";
        let document = parse(contents, "my article");
        assert_eq!(document.title, "my article");
        assert_eq!(document.chapters.len(), 2);
        assert_eq!(document.chapters[0].title, "my article");
        assert_eq!(document.chapters[0].heading, None);
        assert_eq!(texts(&document.chapters[0].paragraphs), [["Intro text."]]);
        assert_eq!(document.chapters[1].title, "Part");
    }

    #[test]
    fn an_empty_first_chapter_is_dropped() {
        let contents = "![banner](banner.png)\n\n## Part\n\nBody.";
        let document = parse(contents, "my article");
        assert_eq!(document.title, "my article");
        assert_eq!(chapter_titles(&document), ["Part"]);
    }

    #[test]
    fn a_title_after_text_keeps_reading_order() {
        let document = parse("Intro.\n\n# Title\n\nBody.", "fallback");
        assert_eq!(document.title, "Title");
        let spoken: Vec<&str> = document
            .spoken_sentences()
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(spoken, ["Intro.", "Title", "Body."]);
    }

    #[test]
    fn a_second_title_heading_starts_a_chapter() {
        let document = parse("# One\n\nA.\n\n# Two\n\nB.", "fallback");
        assert_eq!(document.title, "One");
        assert_eq!(chapter_titles(&document), ["One", "Two"]);
    }

    #[test]
    fn setext_headings_and_heading_attributes() {
        let contents = "Title\n=====\n\nBody.\n\nSection {#sec}\n-------\n\nMore.";
        let document = parse(contents, "fallback");
        assert_eq!(document.title, "Title");
        assert_eq!(chapter_titles(&document), ["Title", "Section"]);
    }

    #[test]
    fn a_heading_with_nothing_to_say_is_ignored() {
        let document = parse("##\n\nText.\n\n## ![icon](i.png)\n\nMore.", "fallback");
        assert_eq!(document.chapters.len(), 1);
        assert_eq!(document.chapters[0].heading, None);
        assert_eq!(all_paragraphs(&document), [["Text."], ["More."]]);
    }

    /// What each piece of Markdown reads as, paragraph by paragraph; every case's sources also
    /// bracket its sentences.
    #[test]
    fn markup_reads_as_its_spoken_text() {
        let cases: &[(&str, &str, &[&[&str]])] = &[
            (
                "list items are paragraphs",
                "- one\n- two. Three\n\n1. first\n2. second\n   - nested\n\n* loose a\n\n* loose b\n\n- [ ] task item\n",
                &[
                    &["one"],
                    &["two.", "Three"],
                    &["first"],
                    &["second"],
                    &["nested"],
                    &["loose a"],
                    &["loose b"],
                    &["task item"],
                ],
            ),
            (
                "block quotes are narrated",
                "> Quoted text.\n> More quoted.\n\n> [!NOTE]\n> Be careful.\n",
                &[&["Quoted text.", "More quoted."], &["Be careful."]],
            ),
            (
                "code blocks are skipped but inline code is read",
                "Before.\n\n```rust\nlet hidden = 1.\n```\n\n    indented hidden code\n\nRun `cargo test` now.\n",
                &[&["Before."], &["Run cargo test now."]],
            ),
            (
                "images and their alt text are skipped",
                "See ![secret alt text](img.png) this.",
                &[&["See this."]],
            ),
            (
                "links keep their text, not their URL",
                "Read [the docs](https://example.com/guide) now. Also [this][ref].\n\n[ref]: https://example.org/ref\n",
                &[&["Read the docs now.", "Also this."]],
            ),
            (
                "inline HTML line breaks separate words",
                "One<br>two<BR/>three <i>four</i>.",
                &[&["One two three four."]],
            ),
            (
                "TOML front matter is skipped",
                "+++\ntitle = \"x\"\n+++\n\nBody.",
                &[&["Body."]],
            ),
            (
                "emphasis markup is stripped",
                "Some *emphasis*, **strong**, _under_ and ~~struck~~ text.",
                &[&["Some emphasis, strong, under and struck text."]],
            ),
        ];
        for (case, contents, expected) in cases {
            let document = parse(contents, "fallback");
            assert_eq!(all_paragraphs(&document), *expected, "{case}");
            assert_sources_bracket_text(contents, &document);
        }
    }

    #[test]
    fn html_tables_footnotes_and_front_matter_are_skipped() {
        let contents = "---\ntitle: Meta Title\n---\n\n# Real Title\n\n<div>\nhidden html block\n</div>\n\nText <!-- a comment --> with <b>bold</b> and a note[^1].\n\n| head | cell |\n|------|------|\n| body | cell |\n\n[^1]: The footnote body.\n\nAfter.\n";
        let document = parse(contents, "fallback");
        assert_eq!(document.title, "Real Title");
        assert_eq!(
            all_paragraphs(&document),
            [["Text with bold and a note."], ["After."]]
        );
        assert_sources_bracket_text(contents, &document);
    }

    /// Each sentence of `document`, read from `contents`, beside the bytes its source range covers.
    fn spoken_with_sources<'a>(
        contents: &'a str,
        document: &'a Document,
    ) -> Vec<(&'a str, &'a str)> {
        document
            .spoken_sentences()
            .map(|s| (s.text.as_str(), &contents[s.source.clone()]))
            .collect()
    }

    #[test]
    fn sources_point_at_the_markdown_bytes() {
        let contents = "# The *Big* Day\n\nPlain *emph* end. Next [link](http://x.y) here.\nLine two\ncontinues. *Really done.* After `code` it.\n\nUse \\*stars\\* and fish &amp; chips. Ok.\n";
        let document = parse(contents, "fallback");
        assert_eq!(
            spoken_with_sources(contents, &document),
            [
                ("The Big Day", "The *Big* Day"),
                ("Plain emph end.", "Plain *emph* end."),
                ("Next link here.", "Next [link](http://x.y) here."),
                ("Line two continues.", "Line two\ncontinues."),
                ("Really done.", "Really done."),
                ("After code it.", "After `code` it."),
                (
                    "Use *stars* and fish & chips.",
                    "Use \\*stars\\* and fish &amp; chips."
                ),
                ("Ok.", "Ok."),
            ]
        );
    }

    #[test]
    fn sources_split_inside_inline_code_and_around_entities() {
        let contents = "Run `a. B` now. He said &quot;Hi.&quot; Then left.";
        let document = parse(contents, "fallback");
        assert_eq!(
            spoken_with_sources(contents, &document),
            [
                ("Run a.", "Run `a."),
                ("B now.", "B` now."),
                ("He said \"Hi.\"", "He said &quot;Hi.&quot;"),
                ("Then left.", "Then left."),
            ]
        );
    }

    #[test]
    fn sources_use_file_offsets_with_multibyte_text() {
        let contents = "# Café\n\nÉté — “très” *chaud*. Fin.";
        let document = parse(contents, "fallback");
        let sentences: Vec<&Sentence> = document.spoken_sentences().collect();
        assert_eq!(sentences[0].source, 2..7);
        let first = contents.find("Été").expect("present");
        let end = contents.find(". Fin").expect("present") + 1;
        assert_eq!(sentences[1].source, first..end);
        assert_eq!(sentences[2].source, contents.len() - 4..contents.len());
    }

    const MARKDOWN_FRAGMENTS: &[&str] = &[
        "# ",
        "## ",
        "#### ",
        "*",
        "**",
        "_",
        "`",
        "```",
        "[",
        "](",
        ")",
        "![",
        "\n",
        "\n\n",
        "> ",
        "- ",
        "1. ",
        "<b>",
        "</b>",
        "<!--",
        "-->",
        "&amp;",
        "&quot;",
        "&nbsp;",
        "&eacute;",
        "\\",
        "é",
        "—",
        "“",
        "Word",
        "word",
        ". ",
        "? ",
        "Mr. ",
        "|",
        "[^1]",
        "[^1]: ",
        "---",
        "    ",
        " ",
        "\t",
        "~~",
        "http://x.y",
    ];

    fn markdown_like() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let fragment = prop_oneof![
            4 => proptest::sample::select(MARKDOWN_FRAGMENTS).prop_map(String::from),
            1 => any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(fragment, 0..80).prop_map(|parts| parts.concat())
    }

    proptest::proptest! {
        #[test]
        fn any_markdown_gives_ordered_in_bounds_sources(contents in markdown_like()) {
            let document = parse(&contents, "fallback");
            let mut previous_end = 0;
            for sentence in document.spoken_sentences() {
                let range = sentence.source.clone();
                proptest::prop_assert!(range.start < range.end, "{sentence:?}");
                proptest::prop_assert!(contents.get(range.clone()).is_some(), "{sentence:?}");
                proptest::prop_assert!(previous_end <= range.start, "{sentence:?} out of order");
                previous_end = range.end;
                proptest::prop_assert_eq!(sentence.text.trim(), sentence.text.as_str());
                proptest::prop_assert!(!sentence.text.is_empty());
            }
        }
    }

    #[test]
    fn only_code_means_no_sentences() {
        let document = parse("```\nprint('hi.')\n```\n", "fallback");
        assert!(document.is_empty());
    }
}
