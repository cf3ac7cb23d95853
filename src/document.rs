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

    /// Paragraphs in reading order across chapters (headings are not paragraphs).
    pub fn paragraph_count(&self) -> usize {
        self.chapters.iter().map(|c| c.paragraphs.len()).sum()
    }

    /// Paragraph `number` (1-based, counted across chapters as `aloud plan` numbers them) as a
    /// document of its own, titled after its chapter; `None` past the last paragraph.
    pub fn paragraph(&self, number: usize) -> Option<Document> {
        let index = number.checked_sub(1)?;
        let (chapter, paragraph) = self
            .chapters
            .iter()
            .flat_map(|chapter| chapter.paragraphs.iter().map(move |p| (chapter, p)))
            .nth(index)?;
        Some(Document {
            title: self.title.clone(),
            chapters: vec![Chapter {
                title: chapter.title.clone(),
                heading: None,
                paragraphs: vec![paragraph.clone()],
            }],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(text: &str) -> Sentence {
        Sentence {
            text: text.to_string(),
            source: 0..text.len(),
        }
    }

    #[test]
    fn paragraphs_are_numbered_across_chapters_from_one() {
        let chapter = |title: &str, paragraphs: &[&str]| Chapter {
            title: title.to_string(),
            heading: Some(sentence(title)),
            paragraphs: paragraphs
                .iter()
                .map(|text| Paragraph {
                    sentences: vec![sentence(text)],
                })
                .collect(),
        };
        let document = Document {
            title: "T".into(),
            chapters: vec![chapter("One", &["a", "b"]), chapter("Two", &["c"])],
        };
        assert_eq!(document.paragraph_count(), 3);
        assert!(document.paragraph(0).is_none());
        assert!(document.paragraph(4).is_none());
        let third = document.paragraph(3).unwrap();
        assert_eq!(third.chapters.len(), 1);
        assert_eq!(third.chapters[0].title, "Two");
        assert!(third.chapters[0].heading.is_none());
        assert_eq!(third.sentence_count(), 1);
        assert_eq!(third.chapters[0].paragraphs[0].sentences[0].text, "c");
    }
}
