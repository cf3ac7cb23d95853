//! Turns written text into what should be said (numbers, dates, money, abbreviations, symbols), keeping a map back to the written bytes.

use std::ops::Range;

/// A sentence in spoken form, with a map from spoken bytes back to the written bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spoken {
    text: String,
    /// Ordered, non-overlapping pairs: each spoken range was produced from that written range.
    /// Together the spoken ranges cover all of `text`.
    spans: Vec<(Range<usize>, Range<usize>)>,
}

impl Spoken {
    /// Spoken text that is the written text unchanged.
    pub fn verbatim(written: &str) -> Spoken {
        Spoken {
            text: written.to_string(),
            spans: vec![(0..written.len(), 0..written.len())],
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The written bytes that produced the spoken bytes `spoken`, widened to whole spans.
    pub fn written_range(&self, spoken: Range<usize>) -> Range<usize> {
        let mut covering = self
            .spans
            .iter()
            .filter(|(s, _)| s.start < spoken.end.max(spoken.start + 1) && spoken.start < s.end);
        let Some(first) = covering.next() else {
            return 0..0;
        };
        let last = covering.next_back().unwrap_or(first);
        first.1.start..last.1.end
    }
}

/// The spoken form of one sentence.
pub fn normalize(written: &str) -> Spoken {
    Spoken::verbatim(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_maps_each_byte_to_itself() {
        let spoken = normalize("Hello there.");
        assert_eq!(spoken.text(), "Hello there.");
        assert_eq!(spoken.written_range(6..11), 0..12);
    }
}
