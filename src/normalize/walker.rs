//! The walk over a sentence: whitespace-separated chunks with their punctuation peeled off, and the rules tried at each in turn.

use super::names::{is_name, starts_upper};
use super::tables::NOT_NAMES;
use std::ops::Range;

const LEAD: &[char] = &['"', '“', '‘', '\'', '’', '(', '[', '{', '«', '¿', '¡'];
const TRAIL: &[char] = &[
    '.', ',', ';', ':', '!', '?', '"', '”', '’', '\'', '»', ')', ']', '}', '…',
];
const CLOSERS: &[char] = &['"', '”', '’', '\'', '»', ')', ']', '}'];

pub(super) struct Chunk {
    pub(super) full: Range<usize>,
    pub(super) core: Range<usize>,
}

pub(super) fn chunks(s: &str) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(a) = start.take() {
                out.push(chunk(s, a, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(a) = start {
        out.push(chunk(s, a, s.len()));
    }
    out
}

fn chunk(s: &str, a: usize, b: usize) -> Chunk {
    let mut cs = a;
    while let Some(c) = s[cs..b].chars().next() {
        if !LEAD.contains(&c) {
            break;
        }
        // An apostrophe before digits is part of the token: '90s.
        if matches!(c, '\'' | '’' | '‘')
            && s[cs + c.len_utf8()..b]
                .bytes()
                .take(2)
                .filter(u8::is_ascii_digit)
                .count()
                == 2
        {
            break;
        }
        cs += c.len_utf8();
    }
    let mut ce = b;
    while let Some(c) = s[cs..ce].chars().next_back() {
        if !TRAIL.contains(&c) {
            break;
        }
        ce -= c.len_utf8();
    }
    Chunk {
        full: a..b,
        core: cs..ce,
    }
}

pub(super) struct Normalizer<'a> {
    pub(super) s: &'a str,
    pub(super) ch: Vec<Chunk>,
    pub(super) out: Vec<(Range<usize>, String)>,
}

impl<'a> Normalizer<'a> {
    pub(super) fn core(&self, i: usize) -> &'a str {
        self.ch.get(i).map_or("", |c| &self.s[c.core.clone()])
    }

    pub(super) fn trail(&self, i: usize) -> &'a str {
        self.ch
            .get(i)
            .map_or("", |c| &self.s[c.core.end..c.full.end])
    }

    pub(super) fn put(&mut self, written: Range<usize>, spoken: String) {
        self.out.push((written, spoken));
    }

    /// Whether nothing but closing quotes and brackets follows byte `p`.
    pub(super) fn is_final(&self, p: usize) -> bool {
        self.s.get(p..).is_none_or(|rest| {
            rest.chars()
                .all(|c| c.is_whitespace() || CLOSERS.contains(&c))
        })
    }

    /// Where the abbreviation in chunk `i` ends: its period is swallowed unless it ends the sentence.
    pub(super) fn abbr_end(&self, i: usize) -> usize {
        let end = self.ch[i].core.end;
        if self.trail(i).starts_with('.') && !self.is_final(end + 1) {
            end + 1
        } else {
            end
        }
    }

    pub(super) fn next_is_name(&self, i: usize) -> bool {
        i + 1 < self.ch.len() && starts_upper(self.core(i + 1))
    }

    pub(super) fn prev_is_name(&self, i: usize) -> bool {
        i > 0
            && self.trail(i - 1).is_empty()
            && is_name(self.core(i - 1))
            && !NOT_NAMES.contains(&self.core(i - 1))
    }

    pub(super) fn run(&mut self) {
        let mut i = 0;
        while i < self.ch.len() {
            i += if self.ch[i].core.is_empty() {
                1
            } else {
                self.at(i).max(1)
            };
        }
    }

    /// Applies the first rule that matches at chunk `i`; returns how many chunks it used.
    pub(super) fn at(&mut self, i: usize) -> usize {
        let start = self.ch[i].core.start;
        self.web(i)
            .or_else(|| self.date(i))
            .or_else(|| self.time(i))
            .or_else(|| self.quantity(i, start))
            .or_else(|| self.abbreviation(i))
            .or_else(|| self.initialism(i))
            .or_else(|| self.roman_numeral(i))
            .or_else(|| self.symbols(i))
            .or_else(|| self.prefixed(i))
            .unwrap_or(1)
    }
}
