//! What would be spoken: each sentence in spoken form (normalized, lexicon applied) and cut into requests the backend takes.

use crate::assets::{AssetOptions, Progress};
use crate::cache::{CacheKey, ClipCache};
use crate::document::{Document, DropReason, Sentence};
use crate::error::Result;
use crate::lexicon::{Lexicon, Pronunciation};
use crate::normalize::normalize;
use crate::segment::split_long;
use crate::stitch::Position;
use crate::synth::{BackendLimits, Billing, SpeechRequest};
use crate::voice::{Pricing, VoiceProfile};
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
    /// Blocks of the source left out as page furniture, in source order.
    pub dropped: Vec<PlannedDrop>,
}

/// A block of the source that is not narrated, and why.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedDrop {
    /// As written, whitespace folded.
    pub text: String,
    pub reason: DropReason,
    /// Byte range `[start, end)` in the source.
    pub source: [usize; 2],
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
        let dropped = document
            .dropped
            .iter()
            .map(|dropped| PlannedDrop {
                text: dropped.text.clone(),
                reason: dropped.reason,
                source: [dropped.source.start, dropped.source.end],
            })
            .collect();
        let plan = Plan {
            title: document.title.clone(),
            chapters,
            sentences: 0,
            characters: 0,
            requests: 0,
            dropped,
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

/// What narrating a plan with one voice would send, how much of it the sentence cache already
/// holds, and what the rest would cost. Serializes as an entry of `aloud plan --json`'s
/// `backends`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendEstimate {
    /// The voice profile's name.
    pub voice: String,
    /// The engine that speaks it.
    pub backend: String,
    pub requests: usize,
    /// Characters that would be sent.
    pub characters: usize,
    /// Requests the cache already answers; `None` when it could not be consulted.
    pub cached_requests: Option<usize>,
    pub cached_characters: Option<usize>,
    /// Why the cache was not consulted.
    pub cache_note: Option<String>,
    /// Characters a narration would be billed for now: those not cached (all of them when the
    /// cache is unknown, so an estimate never comes out lower than the bill), times the
    /// times each is sent.
    pub billable_characters: usize,
    /// How many times the service is sent (and bills) each request's text: 2 for Polly with
    /// speech marks, else 1.
    pub billed_passes: u32,
    /// `None` for engines without a price: local ones, and cloud ones whose profile has none.
    pub estimated_cost: Option<Cost>,
    /// Why there is no cost: `no charge (runs locally)` or a missing price.
    pub cost_note: Option<String>,
}

/// An amount at a profile's list price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cost {
    pub amount: f64,
    pub currency: String,
    pub per_million_characters: f64,
}

impl Cost {
    pub fn of(characters: usize, pricing: &Pricing) -> Cost {
        Cost {
            amount: characters as f64 * pricing.per_million_characters / 1e6,
            currency: pricing.currency.clone(),
            per_million_characters: pricing.per_million_characters,
        }
    }
}

/// Where the cache stands for one voice: consulted under the backend's identity, or not, and why.
#[derive(Debug, Clone, Copy)]
pub enum CacheView<'a> {
    /// Looks every request up under `identity`, the opened backend's.
    Consulted {
        cache: &'a ClipCache,
        identity: &'a serde_json::Value,
    },
    /// Known to hold nothing (its directory does not exist yet): no backend need be opened.
    Empty,
    /// Not consulted; the reason is reported.
    Unknown(&'a str),
}

impl BackendEstimate {
    /// Estimates `plan` for `profile`. The plan must be the one the narrator would make for
    /// this backend ([`Plan::for_backend`] with its limits), since context backends key their
    /// clips on the neighbours' text too.
    pub fn new(plan: &Plan, profile: &VoiceProfile, cache: CacheView<'_>) -> BackendEstimate {
        let requests = plan
            .placements()
            .into_iter()
            .flat_map(|p| p.sentence.requests.iter())
            .map(|request| (request, request.text.chars().count()))
            .collect::<Vec<_>>();
        let (cached, cache_note) = match cache {
            CacheView::Consulted { cache, identity } => {
                let hits = requests
                    .iter()
                    .filter(|(request, _)| cache.contains(&CacheKey::new(identity, request)));
                let (count, characters) =
                    hits.fold((0, 0), |(n, c), (_, chars)| (n + 1, c + chars));
                (Some((count, characters)), None)
            }
            CacheView::Empty => (Some((0, 0)), None),
            CacheView::Unknown(reason) => (None, Some(reason.to_string())),
        };
        let characters = plan.characters;
        let billing = crate::synth::billing_for(profile).unwrap_or(Billing::Free);
        let billed_passes = match billing {
            Billing::PerCharacter { passes } => passes(profile),
            Billing::Free => 1,
        };
        let uncached = characters.saturating_sub(cached.map_or(0, |(_, c)| c));
        let billable_characters = uncached * billed_passes as usize;
        let (estimated_cost, cost_note) = match (&profile.pricing, billing) {
            (Some(pricing), _) => (Some(Cost::of(billable_characters, pricing)), None),
            (None, Billing::PerCharacter { .. }) => (
                None,
                Some("unknown (the voice profile has no [pricing])".to_string()),
            ),
            (None, Billing::Free) => (None, Some("no charge (runs locally)".to_string())),
        };
        BackendEstimate {
            voice: profile.name.clone(),
            backend: profile.engine.clone(),
            requests: requests.len(),
            characters,
            cached_requests: cached.map(|(n, _)| n),
            cached_characters: cached.map(|(_, c)| c),
            cache_note,
            billable_characters,
            billed_passes,
            estimated_cost,
            cost_note,
        }
    }
}

/// Why an estimate has no sentence cache to look in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoCache {
    /// The caller turned the cache off.
    TurnedOff,
    /// There is no cache directory (no `ALOUD_CACHE_DIR` and no user cache directory).
    NoDirectory,
}

impl std::fmt::Display for NoCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NoCache::TurnedOff => "not consulted (the cache is turned off)",
            NoCache::NoDirectory => "no cache directory (set ALOUD_CACHE_DIR)",
        })
    }
}

/// Plans `document` as the narrator would for `profile`, and estimates it. The backend is
/// opened (offline: nothing is fetched) only to learn the identity its clips are cached under,
/// and only when there is a cache to look in; one that cannot open here (engine files missing,
/// no API key) leaves the cache unknown rather than failing the plan. `cache` is the cache, or
/// why there is none.
pub fn estimate(
    document: &Document,
    profile: &VoiceProfile,
    job_lexicon: &Lexicon,
    cache: Result<&ClipCache, NoCache>,
    assets: &AssetOptions,
) -> Result<(Plan, BackendEstimate)> {
    let mut lexicon = profile.load_lexicon()?;
    lexicon.merge(job_lexicon);
    let limits = crate::synth::limits_for(profile)?;
    let unopened = |view: CacheView<'_>| {
        let plan = Plan::for_backend(document, &lexicon, &limits);
        let estimate = BackendEstimate::new(&plan, profile, view);
        (plan, estimate)
    };
    let cache = match cache {
        Ok(cache) => cache,
        Err(absence) => return Ok(unopened(CacheView::Unknown(&absence.to_string()))),
    };
    if !cache.dir().is_dir() {
        return Ok(unopened(CacheView::Empty));
    }
    let assets = AssetOptions {
        offline: true,
        ..assets.clone()
    };
    let mut context = crate::synth::OpenContext {
        assets: &assets,
        progress: &mut |_: Progress<'_>| {},
        concurrency: None,
    };
    match crate::synth::open(profile, &mut context) {
        Ok(backend) => {
            // The backend's own limits, as the narrator plans with them.
            let plan = Plan::for_backend(document, &lexicon, &limits);
            let identity = backend.identity();
            let view = CacheView::Consulted {
                cache,
                identity: &identity,
            };
            let estimate = BackendEstimate::new(&plan, profile, view);
            Ok((plan, estimate))
        }
        Err(error) => Ok(unopened(CacheView::Unknown(&error.to_string()))),
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
    use crate::synth::Clip;
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

    fn profile(toml: &str, origin: &str) -> VoiceProfile {
        VoiceProfile::from_toml(toml, Path::new(origin)).unwrap()
    }

    fn priced(rate: f64) -> VoiceProfile {
        profile(
            &format!(
                "name='cloud'\nengine='openai'\nlanguage='en-US'\n[pricing]\n\
                 per_million_characters={rate}\ncurrency='USD'\nas_of='2026-01-01'\n\
                 source='https://example.com/pricing'\n"
            ),
            "cloud.toml",
        )
    }

    /// Each request of `plan` with its text, in reading order.
    fn requests(plan: &Plan) -> Vec<SpeechRequest> {
        plan.placements()
            .iter()
            .flat_map(|p| p.sentence.requests.iter().cloned())
            .collect()
    }

    fn made_up_identity() -> serde_json::Value {
        serde_json::json!({"engine": "test", "voice": "nobody", "rate": 1.5})
    }

    const ARTICLE: &str = "# Title\n\nThe first sentence is here. A second one follows it.\n\n\
                           ## Part\n\nThird, and longer than the others by a fair bit.\n";

    #[test]
    fn the_cost_is_the_billable_characters_at_the_profile_rate() {
        let doc = document(ARTICLE);
        let limits = crate::synth::openai::ENTRY.limits;
        let plan = Plan::for_backend(&doc, &Lexicon::default(), &limits);
        let rate = 37.5;
        let unknown = BackendEstimate::new(&plan, &priced(rate), CacheView::Unknown("no cache"));
        assert_eq!(unknown.characters, plan.characters);
        assert_eq!(unknown.requests, plan.requests);
        assert_eq!(unknown.billable_characters, plan.characters);
        assert_eq!(unknown.cached_requests, None);
        assert_eq!(unknown.cache_note.as_deref(), Some("no cache"));
        let cost = unknown.estimated_cost.unwrap();
        assert!((cost.amount - plan.characters as f64 * rate / 1e6).abs() < 1e-12);
        assert_eq!(
            (cost.currency.as_str(), cost.per_million_characters),
            ("USD", rate)
        );

        // Cached requests are not billed again.
        let dir = tempfile::tempdir().unwrap();
        let cache = ClipCache::new(dir.path(), crate::cache::DEFAULT_MAX_BYTES);
        let identity = made_up_identity();
        let first = &requests(&plan)[0];
        cache
            .put(
                &CacheKey::new(&identity, first),
                &Clip::new(vec![0.0; 100], 22050),
            )
            .unwrap();
        let view = CacheView::Consulted {
            cache: &cache,
            identity: &identity,
        };
        let warm = BackendEstimate::new(&plan, &priced(rate), view);
        let billable = plan.characters - first.text.chars().count();
        assert_eq!(warm.billable_characters, billable);
        let cost = warm.estimated_cost.unwrap();
        assert!((cost.amount - billable as f64 * rate / 1e6).abs() < 1e-12);

        // A local engine costs nothing, and says so rather than pretending a rate of 0.
        let local = profile(
            "name='joe'\nengine='piper'\nlanguage='en-US'\nmodel='m'\n",
            "joe.toml",
        );
        let estimate = BackendEstimate::new(&plan, &local, CacheView::Empty);
        assert_eq!(estimate.estimated_cost, None);
        assert_eq!(
            estimate.cost_note.as_deref(),
            Some("no charge (runs locally)")
        );
        assert_eq!(estimate.cached_requests, Some(0));
        // A cloud engine without a price is unknown, not free.
        let unpriced = profile("name='x'\nengine='polly'\nlanguage='en-US'\n", "x.toml");
        let estimate = BackendEstimate::new(&plan, &unpriced, CacheView::Empty);
        assert_eq!(estimate.estimated_cost, None);
        assert!(estimate.cost_note.unwrap().contains("no [pricing]"));
    }

    #[test]
    fn polly_with_speech_marks_is_billed_for_each_text_twice() {
        let plan = Plan::new(&document(ARTICLE), &Lexicon::default(), 200);
        let polly = |marks: &str| {
            profile(
                &format!(
                    "name='p'\nengine='polly'\nlanguage='en-US'\n[options]\n{marks}\n\
                     [pricing]\nper_million_characters=16.0\ncurrency='USD'\n\
                     as_of='2026-01-01'\nsource='https://example.com'\n"
                ),
                "p.toml",
            )
        };
        let marked = BackendEstimate::new(&plan, &polly(""), CacheView::Empty);
        assert_eq!(marked.billed_passes, 2);
        assert_eq!(marked.billable_characters, 2 * plan.characters);
        let plain = BackendEstimate::new(&plan, &polly("speech_marks = false"), CacheView::Empty);
        assert_eq!(plain.billed_passes, 1);
        assert_eq!(plain.billable_characters, plan.characters);
        let cost = |e: &BackendEstimate| e.estimated_cost.as_ref().unwrap().amount;
        assert!((cost(&marked) - 2.0 * cost(&plain)).abs() < 1e-12);
    }

    #[test]
    fn cached_requests_are_counted_under_the_backend_identity() {
        let doc = document(ARTICLE);
        let plan = Plan::for_backend(
            &doc,
            &Lexicon::default(),
            &crate::synth::piper::ENTRY.limits,
        );
        let all = requests(&plan);
        assert!(all.len() >= 4, "{all:?}");
        let dir = tempfile::tempdir().unwrap();
        let cache = ClipCache::new(dir.path(), crate::cache::DEFAULT_MAX_BYTES);
        let identity = made_up_identity();
        for request in [&all[1], &all[3]] {
            cache
                .put(
                    &CacheKey::new(&identity, request),
                    &Clip::new(vec![0.0; 100], 22050),
                )
                .unwrap();
        }
        let view = CacheView::Consulted {
            cache: &cache,
            identity: &identity,
        };
        let estimate = BackendEstimate::new(&plan, &priced(10.0), view);
        assert_eq!(estimate.cached_requests, Some(2));
        let cached_chars = all[1].text.chars().count() + all[3].text.chars().count();
        assert_eq!(estimate.cached_characters, Some(cached_chars));
        assert_eq!(estimate.billable_characters, plan.characters - cached_chars);
        assert_eq!(estimate.cache_note, None);

        // Another backend's clips are not this one's.
        let mut other = identity.clone();
        other["voice"] = "somebody".into();
        let view = CacheView::Consulted {
            cache: &cache,
            identity: &other,
        };
        let estimate = BackendEstimate::new(&plan, &priced(10.0), view);
        assert_eq!(estimate.cached_requests, Some(0));
        assert_eq!(estimate.billable_characters, plan.characters);
    }

    #[test]
    fn context_backends_key_their_requests_with_the_neighbours_text() {
        let doc = document(ARTICLE);
        let mut limits = crate::synth::piper::ENTRY.limits;
        let plain = Plan::for_backend(&doc, &Lexicon::default(), &limits);
        limits.context = true;
        let linked = Plan::for_backend(&doc, &Lexicon::default(), &limits);
        let dir = tempfile::tempdir().unwrap();
        let cache = ClipCache::new(dir.path(), crate::cache::DEFAULT_MAX_BYTES);
        let identity = made_up_identity();
        for request in requests(&plain) {
            cache
                .put(
                    &CacheKey::new(&identity, &request),
                    &Clip::new(vec![0.0; 100], 22050),
                )
                .unwrap();
        }
        let view = CacheView::Consulted {
            cache: &cache,
            identity: &identity,
        };
        let profile = priced(10.0);
        let plain_estimate = BackendEstimate::new(&plain, &profile, view);
        assert_eq!(plain_estimate.cached_requests, Some(plain.requests));
        assert_eq!(plain_estimate.billable_characters, 0);
        // Same texts, but each told its neighbours: none of the plain clips may stand in.
        let linked_estimate = BackendEstimate::new(&linked, &profile, view);
        assert_eq!(linked.characters, plain.characters);
        assert_eq!(linked_estimate.cached_requests, Some(0));
        assert_eq!(linked_estimate.billable_characters, linked.characters);
    }

    #[test]
    fn a_bad_price_is_refused_with_the_profile_named() {
        let base = "name='p'\nengine='google'\nlanguage='en-US'\n[pricing]\n\
                    as_of='2026-01-01'\nsource='https://example.com'\n";
        for (fields, needle) in [
            (
                "per_million_characters=-1.0\ncurrency='USD'",
                "per_million_characters",
            ),
            (
                "per_million_characters=nan\ncurrency='USD'",
                "per_million_characters",
            ),
            (
                "per_million_characters=inf\ncurrency='USD'",
                "per_million_characters",
            ),
            ("per_million_characters=16.0\ncurrency=' '", "currency"),
            ("per_million_characters=16.0", "currency"),
            (
                "per_million_characters=16.0\ncurrency='USD'\nfree_tier=1",
                "free_tier",
            ),
        ] {
            let err =
                VoiceProfile::from_toml(&format!("{base}{fields}\n"), Path::new("priced.toml"))
                    .unwrap_err()
                    .to_string();
            assert!(err.contains("priced.toml") && err.contains(needle), "{err}");
        }
    }

    #[test]
    fn shipped_cloud_profiles_carry_a_price_and_local_ones_none() {
        let voices = Path::new(env!("CARGO_MANIFEST_DIR")).join("voices");
        let mut priced = Vec::new();
        for entry in std::fs::read_dir(&voices).unwrap() {
            let profile = VoiceProfile::from_file(&entry.unwrap().path()).unwrap();
            let billed = matches!(
                crate::synth::billing_for(&profile).unwrap(),
                Billing::PerCharacter { .. }
            );
            assert_eq!(profile.pricing.is_some(), billed, "{}", profile.name);
            if let Some(pricing) = &profile.pricing {
                assert!(pricing.per_million_characters > 0.0, "{}", profile.name);
                assert!(pricing.source.starts_with("https://"), "{}", profile.name);
                assert!(!pricing.as_of.trim().is_empty(), "{}", profile.name);
                priced.push(profile.name);
            }
        }
        priced.sort();
        assert_eq!(
            priced,
            [
                "azure-jenny",
                "elevenlabs",
                "google-neural2-f",
                "openai-alloy",
                "polly-joanna"
            ]
        );
    }
}
