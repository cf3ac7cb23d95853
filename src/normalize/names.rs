//! Abbreviations and titles, initialisms, and Roman numerals after names.

use super::numbers::{capitalize, cardinal, ordinal, roman};
use super::tables::{NOT_NAMES, REGNAL_NAMES};
use super::walker::{Chunk, Normalizer};
use crate::abbreviation::{self, Kind};

pub(super) fn starts_upper(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

/// A capitalised word with lower-case letters: "Main", "O'Brien"; not "NATO", not "3rd".
pub(super) fn is_name(w: &str) -> bool {
    starts_upper(w)
        && w.chars().any(char::is_lowercase)
        && w.chars()
            .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’')
}

/// A capitalised word of letters, in any case: "Pasadena", "PASADENA", "Winston-Salem".
fn is_capitalised_word(w: &str) -> bool {
    starts_upper(w)
        && w.chars()
            .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’' || c == '.')
}

impl Normalizer<'_> {
    // --- abbreviations and titles ---

    /// An abbreviation from [`crate::abbreviation`], said in full where its kind says so.
    pub(super) fn abbreviation(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        let entry = abbreviation::find(c)?;
        let has_period = self.trail(i).starts_with('.');
        let end = if has_period {
            self.abbr_end(i)
        } else {
            self.ch[i].core.end
        };
        let next_name = self.next_is_name(i);
        let prev_name = self.prev_is_name(i);
        let said = match entry.kind {
            Kind::TitleOrStreet { street } => {
                let prev_num = i > 0
                    && self.trail(i - 1).is_empty()
                    && self.core(i - 1).starts_with(|c: char| c.is_ascii_digit());
                if next_name {
                    entry.spoken
                } else if (prev_name || prev_num) && (has_period || c == "St") {
                    // Addresses often drop the period of St ("Main St near the bank").
                    Some(street)
                } else if c == "Dr" && has_period {
                    // "the Dr. said": alone, the doctor; "The St. was closed" stays as written.
                    entry.spoken
                } else {
                    None
                }
            }
            Kind::Title => entry.spoken.filter(|_| has_period && next_name),
            Kind::BetweenNames => entry
                .spoken
                .filter(|_| has_period && prev_name && next_name),
            Kind::Prefix | Kind::Anywhere => entry
                .spoken
                .filter(|_| has_period || entry.said_without_period()),
            Kind::AfterName => {
                let after_name =
                    i > 0 && matches!(self.trail(i - 1), "" | ",") && is_name(self.core(i - 1));
                entry.spoken.filter(|_| has_period && after_name)
            }
            Kind::State => {
                // Only in "Pasadena, Calif.": elsewhere the short form may be a word or a name
                // ("Pa.", "Ind."). A sentence that opens with "Word, Pa." is as likely to
                // address someone ("Goodnight, Pa."), so there the state needs the comma AP
                // style puts after it ("Pasadena, Calif., has").
                let after_city = i > 0
                    && self.trail(i - 1) == ","
                    && is_capitalised_word(self.core(i - 1))
                    && (i > 1 || self.trail(i).starts_with(".,"));
                entry.spoken.filter(|_| has_period && after_city)
            }
            Kind::Number => {
                let before_digit = self.core(i + 1).starts_with(|c: char| c.is_ascii_digit());
                entry
                    .spoken
                    .filter(|_| before_digit && (has_period || entry.said_without_period()))
            }
            // A month is said in full in a date, by `date`.
            Kind::Month { .. } => None,
        }?;
        self.put(self.ch[i].core.start..end, said.to_string());
        Some(1)
    }

    /// Letters with periods: "U.S." -> "U S", "U.S.-led" -> "U S-led".
    pub(super) fn initialism(&mut self, i: usize) -> Option<usize> {
        let Chunk { full, core } = &self.ch[i];
        let text = &self.s[core.start..full.end];
        let b = text.as_bytes();
        let mut k = 0;
        let mut letters = Vec::new();
        while k + 1 < b.len() && b[k].is_ascii_uppercase() && b[k + 1] == b'.' {
            letters.push((b[k] as char).to_string());
            k += 2;
        }
        if letters.len() < 2 {
            return None;
        }
        let period = core.start + k - 1;
        let end = if period >= core.end {
            if self.is_final(period + 1) {
                period
            } else {
                period + 1
            }
        } else {
            let after = &text[k..];
            if after.starts_with('-') || after.starts_with("'s") || after.starts_with("’s") {
                core.start + k
            } else {
                return None;
            }
        };
        let r = core.start..end;
        self.put(r, letters.join(" "));
        Some(1)
    }

    // --- Roman numerals ---

    pub(super) fn roman_numeral(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        let base = c
            .strip_suffix("'s")
            .or_else(|| c.strip_suffix("’s"))
            .unwrap_or(c);
        if i == 0 {
            return self.roman_list_marker(base);
        }
        if !self.trail(i - 1).is_empty() {
            return None;
        }
        let v = roman(base).filter(|_| starts_upper(base))?;
        let prev = self.core(i - 1);
        // A Roman numeral is a cardinal after a word that numbers things: "Super Bowl LVII",
        // "Title IX", and "Part I." even before more of the sentence.
        let numbered = abbreviation::NUMBERING_WORDS.contains(&prev);
        if base.len() == 1
            && !numbered
            && self.trail(i).starts_with('.')
            && !self.is_final(self.ch[i].core.end + 1)
        {
            return None; // an initial: "Mary I. Smith"
        }
        let words = if prev == "War" && i >= 2 && self.core(i - 2) == "World" {
            capitalize(&cardinal(v))
        } else if numbered {
            cardinal(v)
        } else if is_name(prev)
            && !NOT_NAMES.contains(&prev)
            && (((2..=39).contains(&v) && (i >= 2 || REGNAL_NAMES.contains(&prev)))
                || (v == 1 && REGNAL_NAMES.contains(&prev)))
        {
            format!("the {}", capitalize(&ordinal(v)))
        } else {
            return None;
        };
        let start = self.ch[i].core.start;
        self.put(start..start + base.len(), words);
        Some(1)
    }

    /// A Roman numeral opening a sentence as a list item's marker (`II. Methods`, `iv) eggs`)
    /// is said as its number. A single capital (`I.`, `V.`, `X.`) is left as written: at the
    /// start of a sentence it is as often an initial (`X. Smith wrote it`).
    fn roman_list_marker(&mut self, base: &str) -> Option<usize> {
        let v = roman(base)?;
        let marker = matches!(self.trail(0), "." | ")" | ".)");
        let next = self.core(1);
        let next_is_word =
            next.chars().count() >= 2 && next.chars().all(|c| c.is_alphabetic() || c == '-');
        let initial_like = base.chars().count() == 1 && base.starts_with(char::is_uppercase);
        if !marker || !next_is_word || initial_like {
            return None;
        }
        let start = self.ch[0].core.start;
        self.put(start..start + base.len(), capitalize(&cardinal(v)));
        Some(1)
    }
}
