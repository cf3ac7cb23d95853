//! Pronunciation lexicons: whole-word, case-aware entries that map a word to a respelling or to phonemes.
//!
//! A lexicon is a TOML file with one `[words]` table:
//!
//! ```toml
//! [words]
//! Kremlev = { ipa = "kɹˈɛmlɛv" }        # phonemes, for engines that take them (Piper)
//! Nguyen = { say = "Win", ipa = "ŋwˈɪn" } # respelling for the others
//! GIF = "jif"                            # shorthand for { say = "jif" }
//! ```
//!
//! A key in lower case matches the word in any case; a key with capitals matches only that
//! exact spelling (so `US` is not `us`). Matches are whole words: `Kremlev` matches in
//! "Kremlev's" but not in "Kremlevsky".

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lexicon {
    entries: BTreeMap<String, Pronounce>,
}

/// How one word is to be said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pronounce {
    /// A respelling every engine can read.
    #[serde(default)]
    pub say: Option<String>,
    /// IPA phonemes, used by engines that accept phonemes; others read `say` or the word.
    #[serde(default)]
    pub ipa: Option<String>,
}

/// Where an engine that takes phonemes should use `ipa` for the text in `range`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Pronunciation {
    pub range: Range<usize>,
    pub ipa: String,
}

/// Text with a lexicon applied: respellings substituted, phoneme spans marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub text: String,
    pub pronunciations: Vec<Pronunciation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    #[serde(default)]
    words: BTreeMap<String, toml::Value>,
}

impl Lexicon {
    pub fn from_toml(text: &str, origin: &Path) -> Result<Lexicon> {
        let invalid = |message: String| Error::Lexicon {
            path: origin.to_path_buf(),
            message,
        };
        let file: LexiconFile =
            toml::from_str(text).map_err(|e| invalid(e.message().to_string()))?;
        let mut entries = BTreeMap::new();
        for (word, entry) in file.words {
            // Parsed entry by entry so that an error can name the word it is about.
            let pronounce = match entry {
                toml::Value::String(say) => Pronounce {
                    say: Some(say),
                    ipa: None,
                },
                table @ toml::Value::Table(_) => table
                    .try_into::<Pronounce>()
                    .map_err(|e| invalid(format!("'{word}': {}", e.message())))?,
                other => {
                    return Err(invalid(format!(
                        "'{word}' must be a string or a table with `say`/`ipa`, not {}",
                        other.type_str()
                    )));
                }
            };
            if word.is_empty() || word.chars().any(char::is_whitespace) {
                return Err(invalid(format!(
                    "'{word}': entries are single words (no spaces)"
                )));
            }
            if pronounce.say.is_none() && pronounce.ipa.is_none() {
                return Err(invalid(format!("'{word}' has neither `say` nor `ipa`")));
            }
            if pronounce
                .say
                .as_deref()
                .is_some_and(|s| s.trim().is_empty())
                || pronounce
                    .ipa
                    .as_deref()
                    .is_some_and(|s| s.trim().is_empty())
            {
                return Err(invalid(format!("'{word}' has an empty pronunciation")));
            }
            entries.insert(word, pronounce);
        }
        Ok(Lexicon { entries })
    }

    pub fn from_file(path: &Path) -> Result<Lexicon> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, e))?;
        Self::from_toml(&text, path)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds `other`'s entries, replacing any for the same key (a job's lexicon overrides
    /// its voice's).
    pub fn merge(&mut self, other: &Lexicon) {
        for (word, pronounce) in &other.entries {
            self.entries.insert(word.clone(), pronounce.clone());
        }
    }

    fn lookup(&self, word: &str) -> Option<&Pronounce> {
        self.entries.get(word).or_else(|| {
            let lower = word.to_lowercase();
            // A lower-case key matches any casing; a key with capitals only itself.
            (lower != word).then(|| self.entries.get(&lower)).flatten()
        })
    }

    /// Applies the lexicon to one sentence of spoken text.
    pub fn apply(&self, text: &str) -> Applied {
        let mut out = Applied {
            text: String::with_capacity(text.len()),
            pronunciations: Vec::new(),
        };
        let mut copied_to = 0;
        for word in words(text) {
            let Some(pronounce) = self.lookup(&text[word.clone()]) else {
                continue;
            };
            out.text.push_str(&text[copied_to..word.start]);
            let start = out.text.len();
            out.text
                .push_str(pronounce.say.as_deref().unwrap_or(&text[word.clone()]));
            if let Some(ipa) = &pronounce.ipa {
                out.pronunciations.push(Pronunciation {
                    range: start..out.text.len(),
                    ipa: ipa.clone(),
                });
            }
            copied_to = word.end;
        }
        out.text.push_str(&text[copied_to..]);
        out
    }
}

/// Byte ranges of the words in `text`: runs of letters, digits and inner hyphens or
/// apostrophes that are not a possessive `'s`.
fn words(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut start: Option<usize> = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        let joins = matches!(c, '-' | '\'' | '’')
            && start.is_some()
            && chars
                .get(i + 1)
                .is_some_and(|&(_, next)| next.is_alphanumeric())
            && !is_possessive(&chars[i..]);
        if c.is_alphanumeric() || joins {
            start.get_or_insert(at);
        } else if let Some(s) = start.take() {
            found.push(s..at);
        }
    }
    if let Some(s) = start {
        found.push(s..text.len());
    }
    found
}

/// `'s` or `’s` ending a word.
fn is_possessive(rest: &[(usize, char)]) -> bool {
    matches!(rest, [(_, '\'' | '’'), (_, 's' | 'S'), after @ ..]
        if after.first().is_none_or(|&(_, c)| !c.is_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon(text: &str) -> Lexicon {
        Lexicon::from_toml(text, Path::new("test.toml")).unwrap()
    }

    #[test]
    fn respellings_replace_whole_words_only() {
        let lex = lexicon("[words]\nKremlev = \"Krem-lev\"\n");
        let applied = lex.apply("Kremlev met Kremlevsky and Kremlev's aide.");
        assert_eq!(applied.text, "Krem-lev met Kremlevsky and Krem-lev's aide.");
        assert!(applied.pronunciations.is_empty());
    }

    #[test]
    fn lower_case_keys_match_any_case_and_capitals_match_exactly() {
        let lex = lexicon("[words]\ngif = \"jif\"\nUS = \"U S\"\n");
        assert_eq!(
            lex.apply("A GIF, a Gif, a gif.").text,
            "A jif, a jif, a jif."
        );
        assert_eq!(
            lex.apply("Tell us about the US.").text,
            "Tell us about the U S."
        );
    }

    #[test]
    fn phonemes_mark_the_span_they_cover() {
        let lex = lexicon(
            "[words]\nNguyen = { say = \"Win\", ipa = \"ŋwˈɪn\" }\nKyiv = { ipa = \"kˈiːv\" }\n",
        );
        let applied = lex.apply("Nguyen flew to Kyiv.");
        assert_eq!(applied.text, "Win flew to Kyiv.");
        assert_eq!(
            applied.pronunciations,
            [
                Pronunciation {
                    range: 0..3,
                    ipa: "ŋwˈɪn".into()
                },
                Pronunciation {
                    range: 12..16,
                    ipa: "kˈiːv".into()
                }
            ]
        );
        assert_eq!(&applied.text[12..16], "Kyiv");
    }

    #[test]
    fn hyphenated_words_are_one_word() {
        let lex = lexicon("[words]\nco-op = \"coe-op\"\nop = \"opp\"\n");
        assert_eq!(
            lex.apply("The co-op and the op.").text,
            "The coe-op and the opp."
        );
    }

    #[test]
    fn job_entries_override_voice_entries() {
        let mut voice = lexicon("[words]\nSQL = \"S Q L\"\nGIF = \"gif\"\n");
        voice.merge(&lexicon("[words]\nSQL = \"sequel\"\n"));
        assert_eq!(voice.apply("SQL and GIF").text, "sequel and gif");
        assert_eq!(voice.len(), 2);
    }

    #[test]
    fn bad_entries_name_the_file_and_word() {
        for (text, needle) in [
            ("[words]\n\"two words\" = \"x\"\n", "two words"),
            ("[words]\nfoo = {}\n", "foo"),
            ("[words]\nfoo = { ipa = \"\" }\n", "foo"),
            ("[words]\nfoo = { sound = \"x\" }\n", "foo"),
            ("[entries]\nfoo = \"x\"\n", "entries"),
        ] {
            let err = Lexicon::from_toml(text, Path::new("pub.toml")).unwrap_err();
            let message = err.to_string();
            assert!(message.contains("pub.toml"), "{message}");
            assert!(message.contains(needle), "{message} lacks {needle}");
        }
    }

    #[test]
    fn multibyte_text_around_matches_is_kept() {
        let lex = lexicon("[words]\n\"café\" = \"caff-ay\"\n");
        assert_eq!(
            lex.apply("«Café» — le café’s menu.").text,
            "«caff-ay» — le caff-ay’s menu."
        );
    }
}
