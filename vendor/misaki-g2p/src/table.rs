//! A lexicon table packed for reading: every word and pronunciation in one string, found
//! through a hash table of indices. misaki-rs keeps each table as a `HashMap<String, PhonemeEntry>`,
//! one allocation per word, per pronunciation and per tagged map: the American tables held
//! about 53 MB that way, and hold about a tenth of it here.

use hashbrown::HashTable;
use misaki_rs::lexicon::PhonemeEntry;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// A table's entries, answering what a `HashMap<String, PhonemeEntry>` answers for `get`.
#[derive(Default)]
pub struct Table {
    text: String,
    words: Vec<Word>,
    tags: Vec<Tag>,
    /// Indices into `words`, by the hash of the word.
    index: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

/// Where a string lies in [`Table::text`].
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

struct Word {
    word: Span,
    value: Value,
}

enum Value {
    Simple(Span),
    /// `count` tags from `tags[first]` on.
    Tagged {
        first: u32,
        count: u32,
    },
}

struct Tag {
    tag: Span,
    phonemes: Option<Span>,
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
    table: &'a Table,
    tags: &'a [Tag],
}

impl std::fmt::Debug for Tagged<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tags = self
            .tags
            .iter()
            .map(|t| (self.table.str(t.tag), t.phonemes.map(|p| self.table.str(p))));
        f.debug_map().entries(tags).finish()
    }
}

impl<'a> Tagged<'a> {
    /// What the tag maps to (`Some(None)`: the lexicon's `null`), or `None` if it is absent.
    pub fn get(&self, tag: &str) -> Option<Option<&'a str>> {
        let table = self.table;
        self.tags
            .iter()
            .find(|t| table.str(t.tag) == tag)
            .map(|t| t.phonemes.map(|p| table.str(p)))
    }

    pub fn contains_key(&self, tag: &str) -> bool {
        self.get(tag).is_some()
    }

    /// How many tags the word has pronunciations (or `null`) for.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }
}

impl Table {
    /// Packs `map`, consuming it so its memory is freed as the table is built.
    pub fn from_map(map: HashMap<String, PhonemeEntry>) -> Table {
        let mut table = Table {
            words: Vec::with_capacity(map.len()),
            index: HashTable::with_capacity(map.len()),
            ..Table::default()
        };
        for (word, entry) in map {
            let hash = table.hasher.hash_one(word.as_str());
            let at = table.words.len() as u32;
            let word = table.push(&word);
            let value = match entry {
                PhonemeEntry::Simple(phonemes) => Value::Simple(table.push(&phonemes)),
                PhonemeEntry::Tagged(map) => {
                    let first = table.tags.len() as u32;
                    for (tag, phonemes) in map {
                        let tag = table.push(&tag);
                        let phonemes = phonemes.map(|p| table.push(&p));
                        table.tags.push(Tag { tag, phonemes });
                    }
                    Value::Tagged {
                        first,
                        count: table.tags.len() as u32 - first,
                    }
                }
            };
            table.words.push(Word { word, value });
            // Keys of a map are distinct: each is inserted once.
            let (words, text, hasher) = (&table.words, &table.text, &table.hasher);
            table.index.insert_unique(hash, at, |&i| {
                hasher.hash_one(span_str(text, words[i as usize].word))
            });
        }
        table.text.shrink_to_fit();
        table.tags.shrink_to_fit();
        table
    }

    pub fn get(&self, word: &str) -> Option<Entry<'_>> {
        let hash = self.hasher.hash_one(word);
        let &at = self
            .index
            .find(hash, |&i| self.str(self.words[i as usize].word) == word)?;
        Some(match self.words[at as usize].value {
            Value::Simple(phonemes) => Entry::Simple(self.str(phonemes)),
            Value::Tagged { first, count } => Entry::Tagged(Tagged {
                table: self,
                tags: &self.tags[first as usize..(first + count) as usize],
            }),
        })
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    fn push(&mut self, s: &str) -> Span {
        let span = Span {
            start: self.text.len() as u32,
            len: s.len() as u32,
        };
        self.text.push_str(s);
        span
    }

    fn str(&self, span: Span) -> &str {
        span_str(&self.text, span)
    }
}

fn span_str(text: &str, span: Span) -> &str {
    &text[span.start as usize..(span.start + span.len) as usize]
}
