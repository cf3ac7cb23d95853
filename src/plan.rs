//! What would be spoken: each sentence in spoken form (normalized, lexicon applied) and cut into requests the backend takes.

use crate::document::{Document, Sentence};
use crate::lexicon::{Lexicon, Pronunciation};
use crate::normalize::normalize;
use crate::segment::split_long;
use crate::stitch::Position;
use crate::synth::{BackendLimits, SpeechRequest};
use serde::Serialize;

/// A document made ready for a backend. Serializes as `aloud plan --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub title: String,
    pub chapters: Vec<PlannedChapter>,
    /// Sentences to be spoken, headings included.
    pub sentences: usize,
    /// Characters that would be sent to the backend.
    pub characters: usize,
    /// Requests the backend would receive (long sentences are several).
    pub requests: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedChapter {
    pub title: String,
    /// The spoken heading, when the chapter has one.
    pub heading: Option<PlannedSentence>,
    pub paragraphs: Vec<PlannedParagraph>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedParagraph {
    pub sentences: Vec<PlannedSentence>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedSentence {
    /// As written.
    pub text: String,
    /// What the backend is asked to say.
    pub spoken: String,
    /// Byte range `[start, end)` in the source.
    pub source: [usize; 2],
    #[serde(skip)]
    pub requests: Vec<SpeechRequest>,
    /// Where each request's text starts in `spoken`.
    #[serde(skip)]
    pub request_offsets: Vec<usize>,
}

/// A planned sentence with its place in the program.
pub struct Placement<'a> {
    pub sentence: &'a PlannedSentence,
    pub position: Position,
    /// The chapter's title, on the first sentence of each chapter.
    pub starts_chapter: Option<&'a str>,
}

impl Plan {
    /// Plans `document` for a backend that takes at most `max_chars` characters a request.
    pub fn new(document: &Document, lexicon: &Lexicon, max_chars: usize) -> Plan {
        let plan_sentence = |sentence: &Sentence| plan_sentence(sentence, lexicon, max_chars);
        let chapters: Vec<PlannedChapter> = document
            .chapters
            .iter()
            .map(|chapter| PlannedChapter {
                title: chapter.title.clone(),
                heading: chapter.heading.as_ref().map(plan_sentence),
                paragraphs: chapter
                    .paragraphs
                    .iter()
                    .map(|p| PlannedParagraph {
                        sentences: p.sentences.iter().map(plan_sentence).collect(),
                    })
                    .collect(),
            })
            .collect();
        let plan = Plan {
            title: document.title.clone(),
            chapters,
            sentences: 0,
            characters: 0,
            requests: 0,
        };
        let (mut sentences, mut requests, mut characters) = (0, 0, 0);
        for placement in plan.placements() {
            let sentence_requests = &placement.sentence.requests;
            sentences += 1;
            requests += sentence_requests.len();
            characters += sentence_requests
                .iter()
                .map(|r| r.text.chars().count())
                .sum::<usize>();
        }
        Plan {
            sentences,
            requests,
            characters,
            ..plan
        }
    }

    /// Plans `document` for a backend with these limits: requests cut to its size and, for
    /// backends that take it, each request told the text around it.
    pub fn for_backend(document: &Document, lexicon: &Lexicon, limits: &BackendLimits) -> Plan {
        let mut plan = Plan::new(document, lexicon, limits.max_chars);
        if limits.context {
            plan.link_context();
        }
        plan
    }

    /// Gives every request the text of the requests just before and after it in reading order.
    fn link_context(&mut self) {
        let texts: Vec<String> = self
            .placements()
            .iter()
            .flat_map(|p| p.sentence.requests.iter().map(|r| r.text.clone()))
            .collect();
        let mut index = 0usize;
        for chapter in &mut self.chapters {
            let sentences = chapter
                .heading
                .iter_mut()
                .chain(chapter.paragraphs.iter_mut().flat_map(|p| &mut p.sentences));
            for sentence in sentences {
                for request in &mut sentence.requests {
                    request.previous_text = index.checked_sub(1).map(|i| texts[i].clone());
                    request.next_text = texts.get(index + 1).cloned();
                    index += 1;
                }
            }
        }
    }

    /// Every sentence in reading order, with where it sits.
    pub fn placements(&self) -> Vec<Placement<'_>> {
        let mut placements = Vec::new();
        for chapter in &self.chapters {
            let mut chapter_title = Some(chapter.title.as_str());
            if let Some(heading) = &chapter.heading {
                placements.push(Placement {
                    sentence: heading,
                    position: Position::Heading,
                    starts_chapter: chapter_title.take(),
                });
            }
            for paragraph in &chapter.paragraphs {
                for (i, sentence) in paragraph.sentences.iter().enumerate() {
                    placements.push(Placement {
                        sentence,
                        position: if i == 0 {
                            Position::ParagraphStart
                        } else {
                            Position::InParagraph
                        },
                        starts_chapter: chapter_title.take(),
                    });
                }
            }
        }
        placements
    }
}

fn plan_sentence(sentence: &Sentence, lexicon: &Lexicon, max_chars: usize) -> PlannedSentence {
    let spoken = normalize(&sentence.text);
    let applied = lexicon.apply(spoken.text());
    let pieces: Vec<_> = split_long(&applied.text, max_chars)
        .into_iter()
        .filter(|piece| !piece.is_empty())
        .collect();
    let request_offsets = pieces.iter().map(|piece| piece.start).collect();
    let requests = pieces
        .into_iter()
        .map(|piece| SpeechRequest {
            text: applied.text[piece.clone()].to_string(),
            // Lexicon spans are whole words and pieces never cut a word, so each span lies
            // inside exactly one piece.
            pronunciations: applied
                .pronunciations
                .iter()
                .filter(|p| piece.start <= p.range.start && p.range.end <= piece.end)
                .map(|p| Pronunciation {
                    range: p.range.start - piece.start..p.range.end - piece.start,
                    ipa: p.ipa.clone(),
                })
                .collect(),
            ..SpeechRequest::default()
        })
        .collect();
    PlannedSentence {
        text: sentence.text.clone(),
        spoken: applied.text,
        source: [sentence.source.start, sentence.source.end],
        requests,
        request_offsets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Format, parse};
    use std::path::Path;

    fn document(markdown: &str) -> Document {
        parse(markdown, Format::Markdown, Path::new("t.md")).unwrap()
    }

    #[test]
    fn placements_follow_reading_order_and_mark_chapter_starts() {
        let doc = document("# Title\n\nOne. Two.\n\nThree.\n\n## Part\n\nFour.\n");
        let plan = Plan::new(&doc, &Lexicon::default(), 200);
        let placements = plan.placements();
        let summary: Vec<(&str, Position, Option<&str>)> = placements
            .iter()
            .map(|p| (p.sentence.text.as_str(), p.position, p.starts_chapter))
            .collect();
        assert_eq!(
            summary,
            [
                ("Title", Position::Heading, Some("Title")),
                ("One.", Position::ParagraphStart, None),
                ("Two.", Position::InParagraph, None),
                ("Three.", Position::ParagraphStart, None),
                ("Part", Position::Heading, Some("Part")),
                ("Four.", Position::ParagraphStart, None),
            ]
        );
        assert_eq!(plan.sentences, 6);
        assert_eq!(plan.requests, 6);
        assert_eq!(plan.characters, "TitleOne.Two.Three.PartFour.".len());
    }

    #[test]
    fn long_sentences_become_several_requests_with_their_pronunciations() {
        let lexicon = Lexicon::from_toml(
            "[words]\nKremlev = { ipa = \"kɹˈɛmlɛv\" }\n",
            Path::new("l.toml"),
        )
        .unwrap();
        let long = "Kremlev spoke first, and the minister answered at length; \
                    then Kremlev spoke again about the budget, the schools and the roads.";
        let doc = document(&format!("# T\n\n{long}\n"));
        let plan = Plan::new(&doc, &lexicon, 60);
        let sentence = &plan.chapters[0].paragraphs[0].sentences[0];
        assert!(sentence.requests.len() > 1);
        let rejoined: Vec<&str> = sentence.requests.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(rejoined.join(" "), sentence.spoken);
        for (request, offset) in sentence.requests.iter().zip(&sentence.request_offsets) {
            assert_eq!(
                &sentence.spoken[*offset..*offset + request.text.len()],
                request.text
            );
        }
        let spans: Vec<&str> = sentence
            .requests
            .iter()
            .flat_map(|r| r.pronunciations.iter().map(|p| &r.text[p.range.clone()]))
            .collect();
        assert_eq!(spans, ["Kremlev", "Kremlev"]);
        assert!(
            sentence
                .requests
                .iter()
                .all(|r| r.text.chars().count() <= 60)
        );
    }

    #[test]
    fn backends_that_take_context_get_their_neighbours_text() {
        let doc = document("# Title\n\nOne. Two.\n\n## Part\n\nThree.\n");
        let mut limits = crate::synth::piper::ENTRY.limits;
        let plain = Plan::for_backend(&doc, &Lexicon::default(), &limits);
        assert!(
            plain
                .placements()
                .iter()
                .all(|p| p.sentence.requests[0].previous_text.is_none()
                    && p.sentence.requests[0].next_text.is_none())
        );
        limits.context = true;
        let linked = Plan::for_backend(&doc, &Lexicon::default(), &limits);
        let context: Vec<(Option<&str>, &str, Option<&str>)> = linked
            .placements()
            .iter()
            .map(|p| {
                let r = &p.sentence.requests[0];
                (
                    r.previous_text.as_deref(),
                    r.text.as_str(),
                    r.next_text.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            context,
            [
                (None, "Title", Some("One.")),
                (Some("Title"), "One.", Some("Two.")),
                (Some("One."), "Two.", Some("Part")),
                (Some("Two."), "Part", Some("Three.")),
                (Some("Part"), "Three.", None),
            ]
        );
    }

    #[test]
    fn the_spoken_form_records_the_lexicon_respelling() {
        let lexicon = Lexicon::from_toml("[words]\nGIF = \"jif\"\n", Path::new("l.toml")).unwrap();
        let doc = document("# T\n\nA GIF loops.\n");
        let plan = Plan::new(&doc, &lexicon, 200);
        let sentence = &plan.chapters[0].paragraphs[0].sentences[0];
        assert_eq!(sentence.text, "A GIF loops.");
        assert_eq!(sentence.spoken, "A jif loops.");
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(
            json["chapters"][0]["paragraphs"][0]["sentences"][0]["spoken"],
            "A jif loops."
        );
        assert!(json["chapters"][0]["paragraphs"][0]["sentences"][0]["source"].is_array());
    }
}
