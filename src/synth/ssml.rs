//! SSML for the backends that take it: article text escaped so it can never break or inject markup, word marks for timings, and lexicon phonemes.

use super::SpeechRequest;
use std::ops::Range;

/// `text` as SSML character data (also safe inside a double- or single-quoted attribute).
/// Characters XML 1.0 forbids outright (most C0 controls) are dropped: no parser would take
/// them, escaped or not.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The body of a `<speak>` element for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsmlBody {
    /// Escaped text with `<mark>` and `<phoneme>` elements; no enclosing `<speak>`.
    pub markup: String,
    /// The byte range in the request's text of the word after each mark, indexed by the
    /// number in the mark's name (`w0`, `w1`, ...).
    pub marks: Vec<Range<usize>>,
}

/// What to put in an [`SsmlBody`] besides the text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SsmlOptions {
    /// A `<mark name="wN"/>` before every word, for engines that report when marks are reached.
    pub word_marks: bool,
    /// The lexicon's IPA as `<phoneme alphabet="ipa">` around the words it covers.
    pub phonemes: bool,
}

/// The name of the mark before word `index`.
pub fn mark_name(index: usize) -> String {
    format!("w{index}")
}

/// The word index a mark name stands for (`w12` -> 12).
pub fn mark_index(name: &str) -> Option<usize> {
    name.strip_prefix('w')?.parse().ok()
}

/// Byte ranges of the words (runs of non-whitespace) in `text`.
pub fn word_ranges(text: &str) -> Vec<Range<usize>> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(s..text.len());
    }
    words
}

/// Builds the SSML body for `request`.
pub fn body(request: &SpeechRequest, options: SsmlOptions) -> SsmlBody {
    let text = request.text.as_str();
    let pronunciations: &[crate::lexicon::Pronunciation] = if options.phonemes {
        &request.pronunciations
    } else {
        &[]
    };
    let mut markup = String::with_capacity(text.len() * 2);
    let mut marks = Vec::new();
    let mut written = 0; // bytes of `text` already in `markup`
    for word in word_ranges(text) {
        if word.start < written {
            continue; // inside a phoneme span already written
        }
        markup.push_str(&escape(&text[written..word.start]));
        if options.word_marks {
            markup.push_str(&format!("<mark name=\"{}\"/>", mark_name(marks.len())));
            marks.push(word.clone());
        }
        let covering = pronunciations
            .iter()
            .find(|p| p.range.start <= word.start && word.start < p.range.end);
        match covering {
            Some(p) if p.range.end <= text.len() && text.is_char_boundary(p.range.start) => {
                // A span starting mid-word still starts its phoneme element at the word.
                let end = p.range.end.max(word.end);
                if options.word_marks
                    && let Some(mark) = marks.last_mut()
                {
                    mark.end = end;
                }
                markup.push_str(&format!(
                    "<phoneme alphabet=\"ipa\" ph=\"{}\">{}</phoneme>",
                    escape(&p.ipa),
                    escape(&text[word.start..end])
                ));
                written = end;
            }
            _ => {
                markup.push_str(&escape(&text[word.clone()]));
                written = word.end;
            }
        }
    }
    markup.push_str(&escape(&text[written..]));
    SsmlBody { markup, marks }
}

/// Undoes [`escape`] (for tests and for checking what a server received).
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::Pronunciation;

    fn request(text: &str) -> SpeechRequest {
        SpeechRequest::plain(text)
    }

    /// A request for `text` whose lexicon says the bytes in `range` as `ipa`.
    fn request_with_ipa(text: &str, range: std::ops::Range<usize>, ipa: &str) -> SpeechRequest {
        let mut request = request(text);
        request.pronunciations = vec![Pronunciation {
            range,
            ipa: ipa.to_string(),
        }];
        request
    }

    /// Everything [`body`] can add: word marks and lexicon IPA.
    const MARKS_AND_PHONEMES: SsmlOptions = SsmlOptions {
        word_marks: true,
        phonemes: true,
    };

    /// The markup with every element aloud itself writes removed: what is left must hold no
    /// markup at all.
    fn without_own_elements(markup: &str) -> String {
        let mut out = String::new();
        let mut rest = markup;
        while let Some(open) = rest.find('<') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('>').expect("unclosed element") + open;
            let element = &rest[open..=close];
            assert!(
                element.starts_with("<mark name=\"w")
                    || element.starts_with("<phoneme alphabet=\"ipa\" ph=\"")
                    || element == "</phoneme>",
                "unexpected element {element}"
            );
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn markup_in_article_text_stays_text() {
        let hostile =
            r#"AT&T's <b>profit</b> rose; "</speak><audio src='x.wav'/>" & <![CDATA[x]]> &amp;"#;
        let escaped = escape(hostile);
        assert!(!escaped.contains('<') && !escaped.contains('>'));
        assert!(!escaped.contains('"') && !escaped.contains('\''));
        // Every `&` now starts one of the five entities.
        for (i, _) in escaped.match_indices('&') {
            let rest = &escaped[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| rest.starts_with(e)),
                "bare & at {i} in {escaped}"
            );
        }
        assert_eq!(unescape(&escaped), hostile);

        for options in [SsmlOptions::default(), MARKS_AND_PHONEMES] {
            let body = body(&request(hostile), options);
            let text = without_own_elements(&body.markup);
            assert!(!text.contains('<') && !text.contains('>'));
            assert_eq!(unescape(&text), hostile);
        }
    }

    #[test]
    fn controls_xml_forbids_are_dropped() {
        assert_eq!(escape("a\u{0}b\u{1b}c\td\ne"), "abc\td\ne");
    }

    #[test]
    fn every_word_gets_a_mark_naming_its_range() {
        let text = "  The cat's  <toy> & more.";
        let body = body(
            &request(text),
            SsmlOptions {
                word_marks: true,
                phonemes: false,
            },
        );
        let words: Vec<&str> = body.marks.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(words, ["The", "cat's", "<toy>", "&", "more."]);
        assert_eq!(
            body.markup,
            "  <mark name=\"w0\"/>The <mark name=\"w1\"/>cat&apos;s  <mark name=\"w2\"/>&lt;toy&gt; \
             <mark name=\"w3\"/>&amp; <mark name=\"w4\"/>more."
        );
        assert_eq!(mark_index("w3"), Some(3));
        assert_eq!(mark_index("x3"), None);
    }

    #[test]
    fn lexicon_ipa_becomes_a_phoneme_element_with_escaped_attribute() {
        let text = "Ask Kremlev now.";
        let request = request_with_ipa(text, 4..11, "kɹˈɛm\"lɛv");
        let plain = body(&request, SsmlOptions::default());
        assert_eq!(plain.markup, "Ask Kremlev now.");
        let with = body(&request, MARKS_AND_PHONEMES);
        assert_eq!(
            with.markup,
            "<mark name=\"w0\"/>Ask <mark name=\"w1\"/><phoneme alphabet=\"ipa\" ph=\"kɹˈɛm&quot;lɛv\">Kremlev</phoneme> <mark name=\"w2\"/>now."
        );
        assert_eq!(with.marks.len(), 3);
    }

    #[test]
    fn multi_word_spans_are_one_phoneme_element() {
        let text = "in New York today";
        let request = request_with_ipa(text, 3..11, "nuː jɔːk");
        let body = body(&request, MARKS_AND_PHONEMES);
        assert_eq!(
            body.markup,
            "<mark name=\"w0\"/>in <mark name=\"w1\"/><phoneme alphabet=\"ipa\" ph=\"nuː jɔːk\">New York</phoneme> <mark name=\"w2\"/>today"
        );
        let words: Vec<&str> = body.marks.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(words, ["in", "New York", "today"]);
    }
}
