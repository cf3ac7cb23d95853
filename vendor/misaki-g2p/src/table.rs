//! A lexicon table packed for reading: every word and pronunciation in one string, found
//! through a hash table of indices. misaki-rs keeps each table as a `HashMap<String, PhonemeEntry>`,
//! one allocation per word, per pronunciation and per tagged map: the American tables held
//! about 53 MB that way. misaki's own tables are packed at build time (`build.rs`) and read in
//! place from the binary, so a start only indexes their words instead of parsing their JSON.

use crate::pack::{HEADER, MAGIC, NULL, TAG, TAGGED, WORD};
use hashbrown::HashTable;
use misaki_rs::language::Language;
use std::borrow::Cow;
use std::hash::BuildHasher;

/// A table's entries, answering what a `HashMap<String, PhonemeEntry>` answers for `get`.
pub struct Table {
    /// The packed table ([`crate::pack`]): built into the binary for misaki's own lexicons.
    packed: Packed,
    /// Indices of words, by the hash of the word.
    index: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

/// Where a string lies in the table's text.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

/// One word's pronunciation: one for every use, or one per part-of-speech tag.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    Simple(&'a str),
    Tagged(Tagged<'a>),
}

/// A word's pronunciations by tag; a tag may map to none (`null` in the lexicon).
#[derive(Clone, Copy)]
pub struct Tagged<'a> {
    packed: &'a Packed,
    first: usize,
    count: usize,
}

impl std::fmt::Debug for Tagged<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> Tagged<'a> {
    /// What the tag maps to (`Some(None)`: the lexicon's `null`), or `None` if it is absent.
    pub fn get(&self, tag: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|&(t, _)| t == tag)
            .map(|(_, phonemes)| phonemes)
    }

    /// Each tag with what it maps to, in tag order.
    fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + use<'a> {
        let packed = self.packed;
        (self.first..self.first + self.count).map(move |i| packed.tag(i))
    }

    pub fn contains_key(&self, tag: &str) -> bool {
        self.get(tag).is_some()
    }

    /// How many tags the word has pronunciations (or `null`) for.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl Table {
    /// misaki's gold (hand-checked) or silver table for `lang`, as `build.rs` packed it.
    pub fn builtin(lang: Language, gold: bool) -> Table {
        let bytes: &'static [u8] = match (lang, gold) {
            (Language::EnglishUS, true) => include_bytes!(concat!(env!("OUT_DIR"), "/us_gold.bin")),
            (Language::EnglishUS, false) => {
                include_bytes!(concat!(env!("OUT_DIR"), "/us_silver.bin"))
            }
            (Language::EnglishGB, true) => include_bytes!(concat!(env!("OUT_DIR"), "/gb_gold.bin")),
            (Language::EnglishGB, false) => {
                include_bytes!(concat!(env!("OUT_DIR"), "/gb_silver.bin"))
            }
        };
        Table::from_packed(Cow::Borrowed(bytes)).expect("build.rs packs a well-formed table")
    }

    /// Reads a packed table ([`crate::pack`]) in place and indexes its words; `Err` says
    /// what is malformed.
    pub fn from_packed(bytes: Cow<'static, [u8]>) -> Result<Table, String> {
        let packed = Packed::check(bytes)?;
        let mut index = HashTable::with_capacity(packed.words);
        let hasher = foldhash::fast::FixedState::default();
        for at in 0..packed.words {
            let word = packed.word(at);
            let hash = hasher.hash_one(word);
            if index
                .find(hash, |&i| packed.word(i as usize) == word)
                .is_some()
            {
                return Err(format!(
                    "{:?} is in the table twice",
                    String::from_utf8_lossy(word)
                ));
            }
            index.insert_unique(hash, at as u32, |&i| {
                hasher.hash_one(packed.word(i as usize))
            });
        }
        Ok(Table {
            packed,
            index,
            hasher,
        })
    }

    pub fn get(&self, word: &str) -> Option<Entry<'_>> {
        let word = word.as_bytes();
        let hash = self.hasher.hash_one(word);
        let &at = self
            .index
            .find(hash, |&i| self.packed.word(i as usize) == word)?;
        let packed = &self.packed;
        Some(match packed.value(at as usize) {
            Value::Simple(phonemes) => Entry::Simple(packed.str(phonemes)),
            Value::Tagged { first, count } => Entry::Tagged(Tagged {
                packed,
                first,
                count,
            }),
        })
    }

    pub fn len(&self) -> usize {
        self.packed.words
    }

    pub fn is_empty(&self) -> bool {
        self.packed.words == 0
    }
}

/// A packed table's bytes, checked, with where its parts begin.
struct Packed {
    bytes: Cow<'static, [u8]>,
    words: usize,
    tags: usize,
    /// Where the text begins in `bytes`.
    text: usize,
}

enum Value {
    Simple(Span),
    Tagged { first: usize, count: usize },
}

impl Packed {
    /// Checks the header, that the text is UTF-8 and that every span lies on character
    /// boundaries inside it, so reading can never fail after.
    fn check(bytes: Cow<'static, [u8]>) -> Result<Packed, String> {
        let header = |i: usize| bytes.get(4 * i..4 * i + 4).map(read_u32);
        if header(0) != Some(MAGIC) {
            return Err("not a packed lexicon table".into());
        }
        let (Some(words), Some(tags), Some(text_len)) = (header(1), header(2), header(3)) else {
            return Err("its header is cut short".into());
        };
        let (words, tags) = (words as usize, tags as usize);
        let text = 4 * (HEADER + words * WORD + tags * TAG);
        if bytes.len() != text + text_len as usize {
            return Err(format!(
                "{} bytes where its header makes {}",
                bytes.len(),
                text + text_len as usize
            ));
        }
        let packed = Packed {
            bytes,
            words,
            tags,
            text,
        };
        let text_str =
            std::str::from_utf8(&packed.bytes[text..]).map_err(|e| format!("text: {e}"))?;
        let inside = |span: Span| {
            let end = span.start as usize + span.len as usize;
            end <= text_str.len()
                && text_str.is_char_boundary(span.start as usize)
                && text_str.is_char_boundary(end)
        };
        for at in 0..words {
            let value_ok = match packed.value(at) {
                Value::Simple(span) => inside(span),
                Value::Tagged { first, count } => first + count <= tags,
            };
            if !inside(packed.span(HEADER + at * WORD)) || !value_ok {
                return Err(format!("word {at} points outside the table"));
            }
        }
        for at in 0..tags {
            let record = HEADER + words * WORD + at * TAG;
            let phonemes = packed.span(record + 2);
            if !inside(packed.span(record)) || (phonemes.start != NULL && !inside(phonemes)) {
                return Err(format!("tag {at} points outside the table"));
            }
        }
        Ok(packed)
    }

    fn u32(&self, field: usize) -> u32 {
        read_u32(&self.bytes[4 * field..4 * field + 4])
    }

    /// The span whose start is field `field` and length the next.
    fn span(&self, field: usize) -> Span {
        Span {
            start: self.u32(field),
            len: self.u32(field + 1),
        }
    }

    /// Word `at`'s bytes: words are hashed and compared as bytes, so finding one never
    /// needs its text checked as UTF-8 again.
    fn word(&self, at: usize) -> &[u8] {
        self.bytes_of(self.span(HEADER + at * WORD))
    }

    fn value(&self, at: usize) -> Value {
        let span = self.span(HEADER + at * WORD + 2);
        if span.len & TAGGED == 0 {
            Value::Simple(span)
        } else {
            Value::Tagged {
                first: span.start as usize,
                count: (span.len & !TAGGED) as usize,
            }
        }
    }

    /// Tag `at` and what it maps to.
    fn tag(&self, at: usize) -> (&str, Option<&str>) {
        let record = HEADER + self.words * WORD + at * TAG;
        let phonemes = self.span(record + 2);
        let phonemes = (phonemes.start != NULL).then(|| self.str(phonemes));
        (self.str(self.span(record)), phonemes)
    }

    fn bytes_of(&self, span: Span) -> &[u8] {
        let start = self.text + span.start as usize;
        &self.bytes[start..start + span.len as usize]
    }

    fn str(&self, span: Span) -> &str {
        // `check` found the text UTF-8 and every span on its character boundaries.
        std::str::from_utf8(self.bytes_of(span)).expect("checked when the table was read")
    }
}

fn read_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}
