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
    /// Blocks of the source that are not narrated because they are page furniture (a share
    /// bar, a photo caption, ...), in source order. Empty when nothing was dropped or when
    /// cleaning was turned off.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<Dropped>,
}

/// A block of the source left out of the narration, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dropped {
    /// The block as written, whitespace runs folded to one space.
    pub text: String,
    pub reason: DropReason,
    /// Byte range `[start, end)` of the block in the source.
    pub source: Range<usize>,
}

/// Why a block is page furniture rather than story. Serialized as its [`DropReason::name`]
/// (`audio-player`, `pull-quote`, ...), as `aloud plan --json` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// "Listen to this article", a player's controls or its length.
    AudioPlayer,
    /// Share, e-mail, print and comment buttons.
    Share,
    /// Subscription, newsletter, sign-in and app prompts.
    Subscribe,
    Advertisement,
    /// "Read more", "Continue reading", "Click here".
    ReadMore,
    /// A related-stories list or its heading.
    Related,
    /// Image, video and gallery controls ("Enlarge this image", "toggle caption").
    Media,
    /// A photo caption.
    Caption,
    /// A photo or image credit.
    Credit,
    Byline,
    /// A publication or update date and time on a line of its own.
    Dateline,
    /// "5 min read".
    ReadingTime,
    /// A copyright line or the site's footer.
    Copyright,
    /// Breadcrumbs, skip links, blocks of nothing but links.
    Navigation,
    /// A section label above the headline ("Politics", "Audio Posts In English").
    Kicker,
    /// A quote pulled out of the story and set apart, repeating its words.
    PullQuote,
    /// The headline again, right after the headline.
    RepeatedTitle,
    /// Symbols only (a play button's "▶"): nothing to say.
    NoWords,
}

impl Serialize for DropReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl DropReason {
    /// The reason in words, for people reading `aloud plan`.
    pub fn describe(self) -> &'static str {
        match self {
            DropReason::AudioPlayer => "audio player",
            DropReason::Share => "share buttons",
            DropReason::Subscribe => "subscription prompt",
            DropReason::Advertisement => "advertisement",
            DropReason::ReadMore => "read-more link",
            DropReason::Related => "related stories",
            DropReason::Media => "image or video control",
            DropReason::Caption => "photo caption",
            DropReason::Credit => "photo credit",
            DropReason::Byline => "byline",
            DropReason::Dateline => "date line",
            DropReason::ReadingTime => "reading time",
            DropReason::Copyright => "copyright or footer",
            DropReason::Navigation => "navigation",
            DropReason::Kicker => "section label",
            DropReason::PullQuote => "pull quote",
            DropReason::RepeatedTitle => "headline repeated",
            DropReason::NoWords => "no words",
        }
    }

    /// The serialized name (`audio-player`).
    pub fn name(self) -> &'static str {
        match self {
            DropReason::AudioPlayer => "audio-player",
            DropReason::Share => "share",
            DropReason::Subscribe => "subscribe",
            DropReason::Advertisement => "advertisement",
            DropReason::ReadMore => "read-more",
            DropReason::Related => "related",
            DropReason::Media => "media",
            DropReason::Caption => "caption",
            DropReason::Credit => "credit",
            DropReason::Byline => "byline",
            DropReason::Dateline => "dateline",
            DropReason::ReadingTime => "reading-time",
            DropReason::Copyright => "copyright",
            DropReason::Navigation => "navigation",
            DropReason::Kicker => "kicker",
            DropReason::PullQuote => "pull-quote",
            DropReason::RepeatedTitle => "repeated-title",
            DropReason::NoWords => "no-words",
        }
    }
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
            dropped: Vec::new(),
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
            dropped: Vec::new(),
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
