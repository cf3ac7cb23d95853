//! The document builder: blocks become chapters and paragraphs, each sentence with its range in the page.

use super::blocks::Block;
use super::locator::Locator;
use crate::document::{Chapter, Document, Dropped, Paragraph};
use crate::ingest::sentences_in;

/// Builds chapters from blocks like the Markdown reader does: the title is the opening
/// heading, `h2`/`h3` (and any `h1` but the title) start chapters, `h4`-`h6` are paragraphs.
/// `None` when no paragraph is left: a title alone is not an article.
pub(super) fn build_document(
    title: String,
    blocks: Vec<Block>,
    locator: &mut Locator,
) -> Option<Document> {
    if !blocks.iter().any(|b| matches!(b, Block::Paragraph(_))) {
        return None;
    }
    let mut blocks = blocks.into_iter().peekable();
    // The article's own `<h1>`, when Readability kept it, is the title's heading; otherwise
    // the title is spoken first all the same, as a Markdown `#` or a text file's first line.
    // Readability turns an `<h1>` inside the content into an `<h2>` on some pages, so a
    // level-2 heading that says the title is taken as it too, rather than said twice.
    let opening_text = match blocks.peek() {
        Some(Block::Heading { level: 1 | 2, text }) if same_words(text, &title) => {
            let text = text.clone();
            blocks.next();
            text
        }
        _ => title.clone(),
    };
    let mut chapters = vec![Chapter {
        title: title.clone(),
        heading: Some(locator.sentence(&opening_text)),
        paragraphs: Vec::new(),
    }];
    let mut dropped = Vec::new();
    for block in blocks {
        match block {
            Block::Dropped { text, reason } => {
                let source = locator.locate(&text);
                dropped.push(Dropped {
                    text,
                    reason,
                    source,
                });
            }
            Block::Heading { level, text } if level <= 3 => {
                chapters.push(Chapter {
                    title: text.clone(),
                    heading: Some(locator.sentence(&text)),
                    paragraphs: Vec::new(),
                });
            }
            Block::Heading { text, .. } => {
                let heading = locator.sentence(&text);
                if let Some(chapter) = chapters.last_mut() {
                    chapter.paragraphs.push(Paragraph {
                        sentences: vec![heading],
                    });
                }
            }
            Block::Paragraph(text) => {
                let sentences = sentences_in(&text, |_| 0..0)
                    .into_iter()
                    .map(|sentence| locator.sentence(&sentence.text))
                    .collect();
                if let Some(chapter) = chapters.last_mut() {
                    chapter.paragraphs.push(Paragraph { sentences });
                }
            }
        }
    }
    Some(Document {
        title,
        chapters,
        dropped,
    })
}

fn same_words(a: &str, b: &str) -> bool {
    loose_key(a) == loose_key(b)
}

/// Letters and digits only, lower-cased: what survives any markup or typography change.
pub(super) fn loose_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}
