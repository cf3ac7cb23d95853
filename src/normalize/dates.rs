//! Dates, times of day, and when a number is a year.

use super::numbers::{Num, cardinal, day_words, is_four_digit_year, year};
use super::tables::{
    COUNT_AFTER, NUMBER_BEFORE, SCALE_WORDS, YEAR_BEFORE, am_pm, month, unit_exact,
};
use super::walker::Normalizer;
use crate::abbreviation::{self, Kind};

impl Normalizer<'_> {
    // --- dates ---

    pub(super) fn date(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        if let Some((full, abbr)) = month(c) {
            let t = self.trail(i);
            if !(t.is_empty() || (abbr && t == ".")) || i + 1 >= self.ch.len() {
                return None;
            }
            let month_rw =
                abbr.then(|| (self.ch[i].core.start..self.abbr_end(i), full.to_string()));
            let j = i + 1;
            if let Some(day) = day_words(self.core(j)) {
                self.out.extend(month_rw);
                self.put(self.ch[j].core.clone(), day);
                let tj = self.trail(j);
                if (tj.is_empty() || tj == ",")
                    && let Some(y) = is_four_digit_year(self.core(j + 1))
                {
                    self.put(self.ch[j + 1].core.clone(), year(y));
                    return Some(3);
                }
                return Some(2);
            }
            if let Some(y) = is_four_digit_year(self.core(j)) {
                self.out.extend(month_rw);
                self.put(self.ch[j].core.clone(), year(y));
                return Some(2);
            }
            return None;
        }
        // Day first: "19 October 2023".
        let day = day_words(c)?;
        if !self.trail(i).is_empty() || i + 1 >= self.ch.len() {
            return None;
        }
        let (full, abbr) = month(self.core(i + 1))?;
        let t1 = self.trail(i + 1);
        self.put(self.ch[i].core.clone(), format!("the {day} of"));
        if abbr {
            self.put(
                self.ch[i + 1].core.start..self.abbr_end(i + 1),
                full.to_string(),
            );
        }
        if (t1.is_empty() || (abbr && t1 == "."))
            && let Some(y) = is_four_digit_year(self.core(i + 2))
        {
            self.put(self.ch[i + 2].core.clone(), year(y));
            return Some(3);
        }
        Some(2)
    }

    // --- times of day ---

    pub(super) fn time(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        let b = c.as_bytes();
        let hl = b.iter().take_while(|b| b.is_ascii_digit()).count();
        if hl == 0 || hl > 2 {
            return None;
        }
        let h: u64 = c[..hl].parse().ok()?;
        let mut k = hl;
        let mut minutes = None;
        if b.get(k) == Some(&b':') {
            let ml = b[k + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if ml != 2 {
                return None;
            }
            let m: u64 = c[k + 1..k + 3].parse().ok()?;
            if m > 59 || h > 24 {
                return None;
            }
            minutes = Some(m);
            k += 3;
        }
        let glued = if k < c.len() {
            Some(am_pm(&c[k..])?)
        } else {
            None
        };
        let next = if glued.is_none() && self.trail(i).is_empty() {
            am_pm(self.core(i + 1))
        } else {
            None
        };
        let marker = glued.or(next);
        if minutes.is_none() && marker.is_none() {
            return None;
        }
        if marker.is_some() && !(1..=12).contains(&h) {
            return None;
        }
        let hw = cardinal(h);
        let noon = self.trail(i).is_empty() && matches!(self.core(i + 1), "noon" | "midnight");
        let mut words = match minutes {
            None => hw,
            Some(0) if marker.is_some() || noon => hw,
            Some(0) if h > 12 || h == 0 => format!("{hw} hundred"),
            Some(0) => format!("{hw} o'clock"),
            Some(m) if m < 10 => format!("{hw} oh {}", cardinal(m)),
            Some(m) => format!("{hw} {}", cardinal(m)),
        };
        let mut end = self.ch[i].core.end;
        if let Some((said, dotted)) = glued {
            words = format!("{words} {said}");
            if dotted {
                end = self.abbr_end(i);
            }
        }
        self.put(self.ch[i].core.start..end, words);
        if let Some((said, dotted)) = next {
            let j = i + 1;
            let end = if dotted {
                self.abbr_end(j)
            } else {
                self.ch[j].core.end
            };
            self.put(self.ch[j].core.start..end, said.to_string());
            return Some(2);
        }
        Some(1)
    }

    /// A plain number as a year or a range of years, when the context says so.
    pub(super) fn year_words(&self, i: usize, a: &Num, b: Option<&Num>) -> Option<String> {
        let ya = is_four_digit_year(a.plain()?)?;
        if !self.year_context(i, ya) {
            return None;
        }
        let Some(b) = b else {
            return Some(year(ya));
        };
        let bd = b.plain()?;
        let yb: u64 = bd.parse().ok()?;
        match bd.len() {
            4 if ya < yb && yb <= 2099 => Some(format!("{} to {}", year(ya), year(yb))),
            2 if ya % 100 < yb => {
                let full = ya / 100 * 100 + yb;
                let second = if full >= 2000 || yb < 10 {
                    year(full)
                } else {
                    cardinal(yb)
                };
                Some(format!("{} to {second}", year(ya)))
            }
            _ => None,
        }
    }

    fn year_context(&self, i: usize, y: u64) -> bool {
        let prev = if i > 0 { self.core(i - 1) } else { "" };
        let prev_lower = prev.to_lowercase();
        let next = if self.trail(i).is_empty() {
            self.core(i + 1)
        } else {
            ""
        };
        let after_number_abbreviation =
            abbreviation::find(prev).is_some_and(|abbr| abbr.kind == Kind::Number);
        if NUMBER_BEFORE.contains(&prev_lower.as_str()) || after_number_abbreviation {
            return false;
        }
        if COUNT_AFTER.contains(&next)
            || SCALE_WORDS.contains(&next)
            || unit_exact(next).is_some()
            || next == "%"
        {
            return false;
        }
        if (1900..=2099).contains(&y) {
            return true;
        }
        YEAR_BEFORE.contains(&prev_lower.as_str())
            || month(prev).is_some()
            || matches!(next, "AD" | "BC" | "BCE" | "CE" | "A.D" | "B.C")
    }
}
