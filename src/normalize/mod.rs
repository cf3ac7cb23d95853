//! Turns written text into what should be said (numbers, dates, money, abbreviations, symbols), keeping a map back to the written bytes.
//!
//! The rules read one sentence the way a US newsreader would, and are conservative: text that
//! no rule recognises is left exactly as written, for the speech engine's own front end.
//!
//! Every rewrite replaces a whole written token (or a run of tokens such as `$2.5 million`) by
//! its spoken words; everything else is copied, so the map from spoken bytes back to written
//! bytes is exact: unchanged text maps to itself byte for byte, a rewritten token maps to the
//! whole token. Sentence punctuation is never rewritten; the period of an abbreviation that is
//! expanded is swallowed, unless it also ends the sentence.
//!
//! The rules live by concern: `numbers` (number words, numbers as written, Roman numerals),
//! `dates`, `quantity` (money, units, percentages), `names` (abbreviations, initialisms,
//! regnal numbers), `web`, `symbols`; `tables` holds the word lists they consult and `walker`
//! the walk that tries them at each word. This file keeps the byte map ([`Spoken`]).

mod dates;
mod names;
mod numbers;
mod quantity;
mod symbols;
mod tables;
#[cfg(test)]
mod tests;
mod walker;
mod web;

use std::ops::Range;

pub(crate) use numbers::roman;
pub use numbers::{cardinal, cardinal_signed, ordinal, year};
use walker::{Normalizer, chunks};

/// A sentence in spoken form, with a map from spoken bytes back to the written bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spoken {
    text: String,
    /// Ordered, non-overlapping pairs: each spoken range was produced from that written range.
    /// Together the spoken ranges cover all of `text`, and the written ranges all of the
    /// written sentence.
    spans: Vec<(Range<usize>, Range<usize>)>,
    /// Parallel to `spans`: whether the span was rewritten (false: spoken bytes equal written bytes).
    rewritten: Vec<bool>,
}

/// One entry of a [`Spoken`] map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Bytes of the spoken text.
    pub spoken: Range<usize>,
    /// Bytes of the written text they were produced from.
    pub written: Range<usize>,
    /// False when the spoken bytes are the written bytes, unchanged.
    pub rewritten: bool,
}

impl Spoken {
    /// Spoken text that is the written text unchanged.
    pub fn verbatim(written: &str) -> Spoken {
        Spoken {
            text: written.to_string(),
            spans: vec![(0..written.len(), 0..written.len())],
            rewritten: vec![false],
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The map, in order.
    pub fn spans(&self) -> impl ExactSizeIterator<Item = Span> + '_ {
        self.spans
            .iter()
            .zip(&self.rewritten)
            .map(|((spoken, written), &rewritten)| Span {
                spoken: spoken.clone(),
                written: written.clone(),
                rewritten,
            })
    }

    /// The written bytes that produced the spoken bytes `spoken`, widened to whole spans.
    ///
    /// Unchanged text maps byte for byte; a range touching a rewritten token widens to the
    /// whole written token. An empty range maps to a position (or to the rewritten token it
    /// falls inside).
    pub fn written_range(&self, spoken: Range<usize>) -> Range<usize> {
        let (qs, qe) = (spoken.start, spoken.end.max(spoken.start));
        if qs == qe {
            let found = self
                .spans
                .iter()
                .position(|(s, _)| s.start <= qs && qs < s.end)
                .or_else(|| self.spans.iter().rposition(|(s, _)| s.end == qs));
            let Some(i) = found else {
                return 0..0;
            };
            let (s, w) = &self.spans[i];
            if self.rewritten[i] && qs > s.start {
                return w.clone();
            }
            let p = w.start + (qs - s.start).min(w.len());
            return p..p;
        }
        let mut first = None;
        let mut last = None;
        for (i, (s, _)) in self.spans.iter().enumerate() {
            if s.start >= qe {
                break;
            }
            if qs < s.end {
                first.get_or_insert(i);
                last = Some(i);
            }
        }
        let (Some(f), Some(l)) = (first, last) else {
            return 0..0;
        };
        let (fs, fw) = &self.spans[f];
        let (ls, lw) = &self.spans[l];
        let start = if self.rewritten[f] {
            fw.start
        } else {
            fw.start + (qs.max(fs.start) - fs.start)
        };
        let end = if self.rewritten[l] {
            lw.end
        } else {
            lw.start + (qe.min(ls.end) - ls.start)
        };
        start..end
    }

    /// Builds the spoken form from ordered, non-overlapping rewrites of `written`.
    fn assemble(written: &str, rewrites: &[(Range<usize>, String)]) -> Spoken {
        let mut out = Spoken {
            text: String::with_capacity(written.len() + written.len() / 2),
            spans: Vec::with_capacity(2 * rewrites.len() + 1),
            rewritten: Vec::with_capacity(2 * rewrites.len() + 1),
        };
        let mut pos = 0;
        for (w, s) in rewrites {
            let valid = pos <= w.start
                && w.start < w.end
                && w.end <= written.len()
                && written.is_char_boundary(w.start)
                && written.is_char_boundary(w.end)
                && !s.is_empty();
            debug_assert!(valid, "bad rewrite {w:?} -> {s:?} in {written:?}");
            if !valid {
                continue;
            }
            out.copy(written, pos..w.start);
            if written[w.clone()] == *s {
                out.copy(written, w.clone());
            } else {
                let at = out.text.len();
                out.text.push_str(s);
                out.spans.push((at..out.text.len(), w.clone()));
                out.rewritten.push(true);
            }
            pos = w.end;
        }
        out.copy(written, pos..written.len());
        if out.spans.is_empty() {
            out.spans.push((0..0, 0..0));
            out.rewritten.push(false);
        }
        out
    }

    /// Appends written bytes unchanged, merging with a preceding unchanged span.
    fn copy(&mut self, written: &str, w: Range<usize>) {
        if w.is_empty() {
            return;
        }
        let at = self.text.len();
        self.text.push_str(&written[w.clone()]);
        if let (Some(last), Some(false)) = (self.spans.last_mut(), self.rewritten.last())
            && last.1.end == w.start
            && last.0.end == at
        {
            last.0.end = self.text.len();
            last.1.end = w.end;
            return;
        }
        self.spans.push((at..self.text.len(), w));
        self.rewritten.push(false);
    }
}

/// The spoken form of one sentence.
pub fn normalize(written: &str) -> Spoken {
    let mut n = Normalizer {
        s: written,
        ch: chunks(written),
        out: Vec::new(),
    };
    n.run();
    Spoken::assemble(written, &n.out)
}
