//! Text to the misaki phoneme alphabet (Kokoro's own G2P, via misaki-rs), shared by the engines
//! trained on it (hibari, kokoro): lexicons and tagger loaded once per process, unknown words
//! through aloud's espeak-ng, and the lexicon's IPA spliced in as misaki's `[word](/phonemes/)`.

use super::SpeechRequest;
use super::config::engine_error;
use super::espeak::Espeak;
use crate::error::Result;
use misaki_g2p::G2P;
use misaki_rs::Language;
use misaki_rs::fallback::{Fallback, FallbackError};
use std::sync::OnceLock;

/// Bumped whenever aloud's use of misaki changes what a sentence sounds like; with the crate's
/// pinned version it is part of the engines' cache identity.
pub const G2P_VERSION: &str = "misaki-rs 0.8.0 / aloud 1";

/// Which English the G2P speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accent {
    American,
    British,
}

impl Accent {
    /// `en-GB` is British; every other English tag American.
    pub fn for_language(tag: &str) -> Accent {
        if tag.to_ascii_lowercase().starts_with("en-gb") {
            Accent::British
        } else {
            Accent::American
        }
    }

    fn espeak_voice(self) -> &'static str {
        match self {
            Accent::American => "en-us",
            Accent::British => "en",
        }
    }
}

/// The process's G2P for one accent: building one parses about 25 MB of lexicon and tagger
/// data, so it happens once, on the first sentence that needs it.
pub struct Misaki {
    g2p: G2P,
}

static AMERICAN: OnceLock<Misaki> = OnceLock::new();
static BRITISH: OnceLock<Misaki> = OnceLock::new();

impl Misaki {
    /// The shared G2P for `accent`, with `espeak` (if any) for words misaki does not know.
    pub fn get(accent: Accent, espeak: Option<&'static Espeak>) -> &'static Misaki {
        let cell = match accent {
            Accent::American => &AMERICAN,
            Accent::British => &BRITISH,
        };
        cell.get_or_init(|| {
            let language = match accent {
                Accent::American => Language::EnglishUS,
                Accent::British => Language::EnglishGB,
            };
            let fallback = espeak.map(|espeak| {
                Box::new(EspeakWords {
                    espeak,
                    voice: accent.espeak_voice(),
                }) as Box<dyn Fallback>
            });
            Misaki {
                g2p: G2P::with_fallback(language, fallback),
            }
        })
    }

    /// The phonemes for `request`, with the lexicon's IPA (converted to misaki's alphabet)
    /// used for its spans.
    pub fn phonemize(&self, request: &SpeechRequest, engine: &str) -> Result<String> {
        let marked = mark_pronunciations(request);
        let (phonemes, _tokens) = self.g2p.g2p(&marked).map_err(|e| {
            engine_error(engine, format!("G2P failed on \"{}\": {e}", request.text))
        })?;
        Ok(phonemes)
    }
}

/// The request's text with each lexicon span written `[text](/phonemes/)`, misaki's own markup
/// for a fixed pronunciation. Brackets in the text itself are made parentheses so that no
/// sentence is read as markup.
fn mark_pronunciations(request: &SpeechRequest) -> String {
    let text = &request.text;
    let clean = |s: &str| s.replace('[', "(").replace(']', ")");
    let mut out = String::with_capacity(text.len() + 16);
    let mut done = 0;
    for pronunciation in &request.pronunciations {
        let range = &pronunciation.range;
        // A malformed span is ignored rather than trusted: the words are still spoken.
        let (Some(before), Some(word)) = (text.get(done..range.start), text.get(range.clone()))
        else {
            continue;
        };
        let phonemes = ipa_to_misaki(&pronunciation.ipa);
        out.push_str(&clean(before));
        if phonemes.is_empty() || word.trim().is_empty() {
            out.push_str(&clean(word));
        } else {
            out.push('[');
            out.push_str(&clean(word).replace(['(', ')'], " "));
            out.push_str("](/");
            out.push_str(&phonemes);
            out.push_str("/)");
        }
        done = range.end;
    }
    out.push_str(&clean(&text[done..]));
    out
}

/// General IPA (espeak-ng's or a lexicon's) in misaki's alphabet: diphthongs and affricates
/// as its single letters (`eɪ` A, `aɪ` I, `oʊ` O, `aʊ` W, `ɔɪ` Y, `tʃ` ʧ, `dʒ` ʤ), length
/// marks dropped, `r` as `ɹ`. The table of misaki's own espeak fallback, less its syllabic-l
/// rule, which is espeak-ng's and would rewrite a lexicon's `həlˈoʊ`.
pub fn ipa_to_misaki(ipa: &str) -> String {
    let mut s = ipa
        .trim()
        .trim_end_matches(['.', ',', '?', '!'])
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_string();
    for (from, to) in [
        ("ʔˌn\u{0329}", "ʔn"),
        ("ʔn\u{0329}", "ʔn"),
        ("aɪ", "I"),
        ("aʊ", "W"),
        ("dʒ", "ʤ"),
        ("eɪ", "A"),
        ("tʃ", "ʧ"),
        ("ɔɪ", "Y"),
        ("oʊ", "O"),
        ("əʊ", "Q"),
        ("ə^l", "ᵊl"),
        ("ʲo", "jo"),
        ("ʲə", "jə"),
        ("ʲ", ""),
        ("x", "k"),
        ("ç", "k"),
        ("ɐ", "ə"),
        ("ɬ", "l"),
        ("ɜːɹ", "ɜɹ"),
        ("ɜː", "ɜ"),
        ("ɪə", "iə"),
        ("iː", "i"),
        ("uː", "u"),
        ("ɔː", "ɔ"),
        ("ɑː", "ɑ"),
        ("ː", ""),
        (":", ""),
        ("_", ""),
        ("e", "A"),
        ("o", "ɔ"),
        ("r", "ɹ"),
        ("ɾ", "T"),
        ("ʔ", "t"),
        ("^", ""),
        ("g", "ɡ"),
        ("\u{0329}", ""),
        ("\u{200d}", ""),
    ] {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    s.replace("ˈˈ", "ˈ").replace("ˌˌ", "ˌ")
}

/// misaki's fallback for words it does not know: aloud's espeak-ng, converted to its alphabet.
struct EspeakWords {
    espeak: &'static Espeak,
    voice: &'static str,
}

impl Fallback for EspeakWords {
    fn phonemize(&self, word: &str) -> std::result::Result<String, FallbackError> {
        let word: String = word.chars().filter(|c| !c.is_control()).collect();
        if word.trim().is_empty() {
            return Ok(String::new());
        }
        let ipa = self
            .espeak
            .phonemize(&word, self.voice)
            .map_err(|e| FallbackError::Espeak {
                word: word.clone(),
                error: e.to_string(),
            })?;
        // espeak-ng writes a syllabic l as əl, which misaki spells ᵊl (its own fallback does too).
        let phonemes = ipa_to_misaki(&ipa).replace("əl", "ᵊl");
        if phonemes.is_empty() {
            return Err(FallbackError::NoPhonemes { word });
        }
        Ok(phonemes.replace(' ', ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::Pronunciation;
    use misaki_g2p::table::{Entry, Table};
    use misaki_rs::lexicon::PhonemeEntry;

    /// The vendored G2P reads misaki-rs's lexicon tables packed at build time: every entry of
    /// every table misaki-rs ships must read back from the packed table built into the binary
    /// as misaki-rs's map holds it, and a word not in a table must not be found in it.
    #[test]
    fn every_lexicon_entry_reads_back_from_its_packed_table() {
        use misaki_rs::language::Language::{EnglishGB, EnglishUS};
        let tables: [(_, _, fn() -> _); 4] = [
            (EnglishUS, true, misaki_rs::data::load_us_gold),
            (EnglishUS, false, misaki_rs::data::load_us_silver),
            (EnglishGB, true, misaki_rs::data::load_gb_gold),
            (EnglishGB, false, misaki_rs::data::load_gb_silver),
        ];
        for (lang, gold, load) in tables {
            let map = load();
            let table = Table::builtin(lang, gold);
            assert_eq!(table.len(), map.len());
            for (word, entry) in &map {
                match (entry, table.get(word)) {
                    (PhonemeEntry::Simple(want), Some(Entry::Simple(got))) => {
                        assert_eq!(got, want, "{word}")
                    }
                    (PhonemeEntry::Tagged(want), Some(Entry::Tagged(got))) => {
                        assert_eq!(got.len(), want.len(), "{word}");
                        for (tag, phonemes) in want {
                            assert_eq!(got.get(tag), Some(phonemes.as_deref()), "{word} {tag}");
                        }
                        assert_eq!(got.get("NO-SUCH-TAG"), None, "{word}");
                    }
                    (want, got) => panic!("{word}: {want:?} read back as {got:?}"),
                }
                let absent = format!("{word}\u{1}");
                assert!(!map.contains_key(&absent) && table.get(&absent).is_none());
            }
        }
    }

    /// A packed table is checked whole before it is read, so no lookup can fail later.
    #[test]
    fn a_malformed_packed_table_is_refused() {
        use std::borrow::Cow;
        let map = std::collections::HashMap::from([
            (
                "tomato".to_string(),
                PhonemeEntry::Simple("təmˈAtO".to_string()),
            ),
            (
                "read".to_string(),
                PhonemeEntry::Tagged([("VBD".to_string(), Some("ɹˈɛd".to_string()))].into()),
            ),
        ]);
        let packed = misaki_g2p::pack::pack(map);
        let table = Table::from_packed(Cow::Owned(packed.clone())).expect("well formed");
        assert!(matches!(
            table.get("tomato"),
            Some(Entry::Simple("təmˈAtO"))
        ));
        let read = |bytes: Vec<u8>| Table::from_packed(Cow::Owned(bytes)).err();
        assert_eq!(
            read(b"JSON".to_vec()).as_deref(),
            Some("not a packed lexicon table")
        );
        let mut short = packed.clone();
        short.pop();
        assert!(read(short).is_some_and(|e| e.contains("bytes where its header makes")));
        // The first word's length, pointed past the end of the text.
        let mut outside = packed.clone();
        outside[4 * (misaki_g2p::pack::HEADER + 1)..][..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            read(outside).as_deref(),
            Some("word 0 points outside the table")
        );
        // Text that is not UTF-8.
        let mut broken = packed;
        *broken.last_mut().unwrap() = 0xFF;
        assert!(read(broken).is_some_and(|e| e.starts_with("text:")));
    }

    #[test]
    fn ipa_becomes_misaki_letters() {
        assert_eq!(ipa_to_misaki("ˈneɪvɪ"), "ˈnAvɪ");
        assert_eq!(ipa_to_misaki("/ˈtʃaɪnə/"), "ˈʧInə");
        assert_eq!(ipa_to_misaki("ɡoʊ"), "ɡO");
        assert_eq!(
            ipa_to_misaki("kjˌuːzˌiːˈɛksdˌʌbəljˌuːvˈiː."),
            "kjˌuzˌiˈɛksdˌʌbəljˌuvˈi"
        );
        assert_eq!(ipa_to_misaki("həlˈoʊ"), "həlˈO");
    }

    #[test]
    fn lexicon_spans_become_misaki_markup_and_brackets_do_not() {
        let request = SpeechRequest {
            text: "Ask [Nguyen] about Nguyen now.".into(),
            pronunciations: vec![Pronunciation {
                range: 19..25,
                ipa: "wɪn".into(),
            }],
            ..SpeechRequest::default()
        };
        assert_eq!(
            mark_pronunciations(&request),
            "Ask (Nguyen) about [Nguyen](/wɪn/) now."
        );
        let bad = SpeechRequest {
            pronunciations: vec![Pronunciation {
                range: 40..50,
                ipa: "x".into(),
            }],
            ..request
        };
        assert_eq!(mark_pronunciations(&bad), "Ask (Nguyen) about Nguyen now.");
    }
}
