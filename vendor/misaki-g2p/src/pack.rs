//! The packed form of a lexicon table: what `build.rs` writes from misaki-rs's parsed JSON
//! and [`crate::table::Table`] reads in place. Shared by both (`build.rs` includes this file),
//! so the writer and the reader cannot disagree on the layout.
//!
//! Layout, every number a little-endian `u32`:
//! - [`MAGIC`], then the counts: words, tags, bytes of text;
//! - per word, sorted by word: the word's span, then either the pronunciation's span or,
//!   with [`TAGGED`] set in the last field, the first tag and the tag count;
//! - per tag: the tag's span, then its pronunciation's span (start [`NULL`] for the
//!   lexicon's `null`);
//! - the text every span points into, UTF-8.

use misaki_rs::lexicon::PhonemeEntry;
use std::collections::HashMap;

pub const MAGIC: u32 = u32::from_le_bytes(*b"MTB1");
/// Set in a word's last field when its value is tagged.
pub const TAGGED: u32 = 1 << 31;
/// A tag's pronunciation start when the lexicon maps the tag to `null`.
pub const NULL: u32 = u32::MAX;
/// `u32`s in the header, in a word record and in a tag record.
pub const HEADER: usize = 4;
pub const WORD: usize = 4;
pub const TAG: usize = 4;

/// Packs `map`, words in sorted order and each word's tags in sorted order, so the same
/// lexicon always packs to the same bytes.
pub fn pack(map: HashMap<String, PhonemeEntry>) -> Vec<u8> {
    let mut entries: Vec<(String, PhonemeEntry)> = map.into_iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut text = String::new();
    let mut push = |s: &str| {
        let start = text.len() as u32;
        text.push_str(s);
        [start, s.len() as u32]
    };
    let mut words: Vec<u32> = Vec::with_capacity(entries.len() * WORD);
    let mut tags: Vec<u32> = Vec::new();
    for (word, entry) in &entries {
        words.extend(push(word));
        match entry {
            PhonemeEntry::Simple(phonemes) => words.extend(push(phonemes)),
            PhonemeEntry::Tagged(by_tag) => {
                let mut by_tag: Vec<_> = by_tag.iter().collect();
                by_tag.sort_unstable_by(|a, b| a.0.cmp(b.0));
                words.extend([(tags.len() / TAG) as u32, by_tag.len() as u32 | TAGGED]);
                for (tag, phonemes) in by_tag {
                    tags.extend(push(tag));
                    tags.extend(phonemes.as_deref().map_or([NULL, 0], &mut push));
                }
            }
        }
    }
    let header = [
        MAGIC,
        entries.len() as u32,
        (tags.len() / TAG) as u32,
        text.len() as u32,
    ];
    let mut packed = Vec::with_capacity(4 * (header.len() + words.len() + tags.len()) + text.len());
    for n in header.iter().chain(&words).chain(&tags) {
        packed.extend_from_slice(&n.to_le_bytes());
    }
    packed.extend_from_slice(text.as_bytes());
    packed
}
