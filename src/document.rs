//! The document model every stage shares: title, chapters, paragraphs and sentences, each
//! sentence carrying the byte range of the source text it came from.

use serde::Serialize;
use std::ops::Range;

/// A narratable article after ingestion and segmentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    /// Display title (Markdown `#` heading, or a plain-text file's first line).
    pub title: String,
    /// Chapters in reading order. The first chapter is titled with the document title
    /// and holds whatever precedes the first section heading.
    pub chapters: Vec<Chapter>,
}

/// A chapter: a heading (spoken, when the source has one) and its paragraphs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chapter {
    pub title: String,
    /// The heading as it is spoken; `None` when the chapter has no heading in the source.
    pub heading: Option<Sentence>,
    pub paragraphs: Vec<Paragraph>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paragraph {
    pub sentences: Vec<Sentence>,
}

/// One sentence: its text (markup removed) and the byte range it spans in the source file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentence {
    pub text: String,
    pub source: Range<usize>,
}

impl Document {
    /// Every sentence that will be spoken, headings included, in reading order.
    pub fn spoken_sentences(&self) -> impl Iterator<Item = &Sentence> {
        self.chapters.iter().flat_map(|chapter| {
            chapter
                .heading
                .iter()
                .chain(chapter.paragraphs.iter().flat_map(|p| p.sentences.iter()))
        })
    }

    pub fn sentence_count(&self) -> usize {
        self.spoken_sentences().count()
    }

    pub fn word_count(&self) -> usize {
        self.spoken_sentences()
            .map(|s| s.text.split_whitespace().count())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.sentence_count() == 0
    }
}
