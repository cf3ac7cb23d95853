//! The sentence cache: clips stored under a key of everything that shapes them, so unchanged sentences are never synthesized (or billed) twice.
//!
//! A key is the SHA-256 of the backend's [`identity`](crate::synth::Backend::identity) and the
//! request (spoken text, lexicon pronunciations, and the neighbours' text for backends that
//! take it) in a canonical JSON form. Credentials are never part of either. An entry is one
//! file, written whole or not at all by [`crate::fs::write_atomic`], ending in the SHA-256 of
//! its contents; an entry that fails that check on read is deleted and the clip made again,
//! never stitched.

use crate::error::{Error, Result};
use crate::synth::{Clip, SpeechRequest, WordTiming};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// Changes whenever the key recipe or the entry layout does.
const FORMAT: &[u8; 8] = b"ALOUDCL1";
const DIGEST_LEN: usize = 32;
/// The default size limit: about 3 hours of 22 kHz speech.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

/// A directory of cached clips, and optionally a store of them that many machines share.
#[derive(Debug, Clone)]
pub struct ClipCache {
    dir: PathBuf,
    max_bytes: u64,
    shared: Option<Arc<dyn SharedClips>>,
}

/// A second tier of the sentence cache that workers on many machines share (through their
/// common store): asked on a local miss, and given every clip synthesized. Entries are the
/// local ones' bytes, so they are checked the same way: a damaged one is never stitched.
#[async_trait::async_trait]
pub trait SharedClips: Send + Sync + std::fmt::Debug {
    /// The entry stored under `key` (a cache key's hex), if there is one and it can be read.
    async fn fetch(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores an entry. A failure costs the sharing, not the narration, so it is not returned.
    async fn keep(&self, key: &str, entry: Vec<u8>);
}

/// Names a clip: hex SHA-256 of its backend identity and request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    pub fn new(identity: &serde_json::Value, request: &SpeechRequest) -> CacheKey {
        let pronunciations: Vec<serde_json::Value> = request
            .pronunciations
            .iter()
            .map(|p| serde_json::json!([p.range.start, p.range.end, p.ipa]))
            .collect();
        let material = serde_json::json!({
            "backend": identity,
            "text": request.text,
            "pronunciations": pronunciations,
            "previous_text": request.previous_text,
            "next_text": request.next_text,
        });
        let mut hasher = Sha256::new();
        hasher.update(FORMAT);
        write_canonical(&material, &mut hasher);
        CacheKey(hex::encode(hasher.finalize()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// JSON with object keys sorted, so equal values always hash alike whatever order a backend
/// built its identity in.
fn write_canonical(value: &serde_json::Value, out: &mut Sha256) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.update(b"{");
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.update(b",");
                }
                out.update(Value::String(key.clone()).to_string().as_bytes());
                out.update(b":");
                write_canonical(&map[key], out);
            }
            out.update(b"}");
        }
        Value::Array(items) => {
            out.update(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.update(b",");
                }
                write_canonical(item, out);
            }
            out.update(b"]");
        }
        scalar => out.update(scalar.to_string().as_bytes()),
    }
}

/// What `aloud cache stats` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    pub dir: PathBuf,
    pub entries: u64,
    pub bytes: u64,
    pub max_bytes: u64,
}

/// What a prune or clear removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pruned {
    pub removed: u64,
    pub freed_bytes: u64,
    pub remaining_entries: u64,
    pub remaining_bytes: u64,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Hit(Clip),
    Miss,
    /// An entry was there but failed its check; it has been deleted.
    Corrupt,
}

impl ClipCache {
    /// A cache in `dir` (created on first write), pruned to `max_bytes` by [`ClipCache::prune`].
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> ClipCache {
        ClipCache {
            dir: dir.into(),
            max_bytes,
            shared: None,
        }
    }

    /// This cache, also sharing its clips through `shared`.
    pub fn with_shared(mut self, shared: Arc<dyn SharedClips>) -> ClipCache {
        self.shared = Some(shared);
        self
    }

    /// The shared tier's entry for `key`, checked and kept locally too; `None` without a
    /// shared tier, or when it has no sound entry.
    pub async fn fetch_shared(&self, key: &CacheKey) -> Option<Clip> {
        let entry = self.shared.as_ref()?.fetch(key.as_str()).await?;
        let clip = decode_entry(&entry)?;
        let path = self.path(key);
        if let Some(dir) = path.parent()
            && std::fs::create_dir_all(dir).is_ok()
        {
            let _ = crate::fs::write_atomic(&path, &entry);
        }
        Some(clip)
    }

    /// Gives a clip just synthesized to the shared tier, if there is one.
    pub async fn share(&self, key: &CacheKey, clip: &Clip) {
        if let Some(shared) = &self.shared {
            shared.keep(key.as_str(), encode_entry(clip)).await;
        }
    }

    /// `$ALOUD_CACHE_DIR`, else the user cache directory's `aloud/clips`.
    pub fn default_dir() -> Option<PathBuf> {
        match std::env::var_os("ALOUD_CACHE_DIR") {
            Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
            _ => dirs::cache_dir().map(|d| d.join("aloud").join("clips")),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        let hex = key.as_str();
        self.dir.join(&hex[..2]).join(format!("{hex}.clip"))
    }

    /// The clip stored under `key`, checked. A hit refreshes the entry's age for pruning.
    pub fn get(&self, key: &CacheKey) -> Lookup {
        let path = self.path(key);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(_) => return Lookup::Miss,
        };
        match decode_entry(&bytes) {
            Some(clip) => {
                if let Ok(file) = std::fs::File::options().write(true).open(&path) {
                    let _ = file.set_modified(SystemTime::now());
                }
                Lookup::Hit(clip)
            }
            None => {
                let _ = std::fs::remove_file(&path);
                Lookup::Corrupt
            }
        }
    }

    /// Whether an entry is stored under `key`, without reading or checking it (nor refreshing
    /// its age): cheap enough to ask for every request of a plan. An entry that later fails
    /// its check on [`ClipCache::get`] is made again, so this can overcount damaged entries.
    pub fn contains(&self, key: &CacheKey) -> bool {
        self.path(key).is_file()
    }

    /// Stores `clip` under `key`, whole or not at all ([`crate::fs::write_atomic`]).
    pub fn put(&self, key: &CacheKey, clip: &Clip) -> Result<()> {
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir).map_err(|e| Error::io(&path, e))?;
        crate::fs::write_atomic(&path, &encode_entry(clip))
    }

    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let mut entries = Vec::new();
        let Ok(shards) = std::fs::read_dir(&self.dir) else {
            return entries;
        };
        for shard in shards.flatten() {
            let Ok(files) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                let path = file.path();
                let is_entry = path.extension().is_some_and(|e| e == "clip");
                // Temporaries left by a killed run count too, so prune and clear remove them
                // (`.clip-` is how versions before the shared atomic writer named them).
                let name = file.file_name();
                let name = name.to_string_lossy();
                let is_temporary =
                    name.starts_with(crate::fs::TEMP_PREFIX) || name.starts_with(".clip-");
                if !(is_entry || is_temporary) {
                    continue;
                }
                if let Ok(meta) = file.metadata() {
                    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    entries.push((path, meta.len(), modified));
                }
            }
        }
        entries
    }

    pub fn stats(&self) -> CacheStats {
        let entries = self.entries();
        CacheStats {
            dir: self.dir.clone(),
            entries: entries.len() as u64,
            bytes: entries.iter().map(|e| e.1).sum(),
            max_bytes: self.max_bytes,
        }
    }

    /// Removes the least recently used entries until the cache fits in `max_bytes`.
    pub fn prune_to(&self, max_bytes: u64) -> Pruned {
        let mut entries = self.entries();
        entries.sort_by_key(|e| e.2);
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        let mut pruned = Pruned::default();
        let mut remaining = entries.len() as u64;
        for (path, size, _) in entries {
            if total <= max_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= size;
                remaining -= 1;
                pruned.removed += 1;
                pruned.freed_bytes += size;
            }
        }
        pruned.remaining_entries = remaining;
        pruned.remaining_bytes = total;
        pruned
    }

    /// [`ClipCache::prune_to`] this cache's own limit.
    pub fn prune(&self) -> Pruned {
        self.prune_to(self.max_bytes)
    }

    /// Removes every entry.
    pub fn clear(&self) -> Pruned {
        self.prune_to(0)
    }
}

fn encode_entry(clip: &Clip) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + clip.words.len() * 24 + clip.samples.len() * 4);
    out.extend_from_slice(FORMAT);
    out.extend_from_slice(&clip.sample_rate.to_le_bytes());
    out.extend_from_slice(&(clip.samples.len() as u64).to_le_bytes());
    out.extend_from_slice(&(clip.words.len() as u32).to_le_bytes());
    for word in &clip.words {
        out.extend_from_slice(&(word.range.start as u32).to_le_bytes());
        out.extend_from_slice(&(word.range.end as u32).to_le_bytes());
        out.extend_from_slice(&word.start.to_le_bytes());
        out.extend_from_slice(&word.end.to_le_bytes());
    }
    for sample in &clip.samples {
        out.extend_from_slice(&sample.to_le_bytes());
    }
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// The clip in an entry, or `None` if any byte of it is wrong.
fn decode_entry(bytes: &[u8]) -> Option<Clip> {
    let body_len = bytes.len().checked_sub(DIGEST_LEN)?;
    let (body, digest) = bytes.split_at(body_len);
    if Sha256::digest(body).as_slice() != digest {
        return None;
    }
    let mut reader = Reader(body);
    if reader.take(8)? != FORMAT {
        return None;
    }
    let sample_rate = u32::from_le_bytes(reader.take(4)?.try_into().ok()?);
    let frames = usize::try_from(u64::from_le_bytes(reader.take(8)?.try_into().ok()?)).ok()?;
    let word_count = u32::from_le_bytes(reader.take(4)?.try_into().ok()?) as usize;
    let mut words = Vec::with_capacity(word_count.min(4096));
    for _ in 0..word_count {
        let start = u32::from_le_bytes(reader.take(4)?.try_into().ok()?) as usize;
        let end = u32::from_le_bytes(reader.take(4)?.try_into().ok()?) as usize;
        let start_s = f64::from_le_bytes(reader.take(8)?.try_into().ok()?);
        let end_s = f64::from_le_bytes(reader.take(8)?.try_into().ok()?);
        words.push(WordTiming {
            range: start..end,
            start: start_s,
            end: end_s,
        });
    }
    let data = reader.take(frames.checked_mul(4)?)?;
    if !reader.0.is_empty() || sample_rate == 0 {
        return None;
    }
    let samples = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some(Clip {
        samples,
        sample_rate,
        words,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
}

/// Parses a size such as `500M`, `2G`, `750MiB` or `1048576` (bytes).
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (try 500M or 2G)"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit '{other}' in '{text}' (use K, M or G)"
            ));
        }
    };
    Ok((number * scale as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::Pronunciation;

    fn clip() -> Clip {
        Clip {
            samples: (0..1000).map(|i| (i as f32 * 0.37).sin() * 0.8).collect(),
            sample_rate: 22_050,
            words: vec![WordTiming {
                range: 0..5,
                start: 0.01,
                end: 0.3,
            }],
        }
    }

    fn identity() -> serde_json::Value {
        serde_json::json!({"engine": "piper", "model": "abc", "scales": [0.667, 1.0, 0.8]})
    }

    #[test]
    fn entries_round_trip_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ClipCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let key = CacheKey::new(&identity(), &SpeechRequest::plain("Hello there."));
        assert_eq!(cache.get(&key), Lookup::Miss);
        assert!(!cache.contains(&key));
        cache.put(&key, &clip()).unwrap();
        assert!(cache.contains(&key));
        assert_eq!(cache.get(&key), Lookup::Hit(clip()));
        let stats = cache.stats();
        assert_eq!(stats.entries, 1);
        assert_eq!(stats.bytes, encode_entry(&clip()).len() as u64);
    }

    #[test]
    fn any_damaged_byte_is_caught_and_the_entry_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ClipCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let key = CacheKey::new(&identity(), &SpeechRequest::plain("Hello there."));
        let whole = encode_entry(&clip());
        for position in [0, 9, 20, 40, whole.len() / 2, whole.len() - 1] {
            cache.put(&key, &clip()).unwrap();
            let path = cache.path(&key);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[position] ^= 0x10;
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(cache.get(&key), Lookup::Corrupt, "flip at {position}");
            assert!(!path.exists());
        }
        for cut in [0, 7, whole.len() - 1] {
            cache.put(&key, &clip()).unwrap();
            std::fs::write(cache.path(&key), &whole[..cut]).unwrap();
            assert_eq!(cache.get(&key), Lookup::Corrupt, "cut at {cut}");
        }
    }

    #[test]
    fn the_key_covers_what_shapes_the_audio_and_ignores_key_order() {
        let base = SpeechRequest::plain("Read this.");
        let key = CacheKey::new(&identity(), &base);
        let reordered =
            serde_json::json!({"scales": [0.667, 1.0, 0.8], "model": "abc", "engine": "piper"});
        assert_eq!(CacheKey::new(&reordered, &base), key);

        let mut other_identity = identity();
        other_identity["model"] = "abd".into();
        let mut lexicon = base.clone();
        lexicon.pronunciations = vec![Pronunciation {
            range: 0..4,
            ipa: "ɹˈiːd".into(),
        }];
        let mut with_previous = base.clone();
        with_previous.previous_text = Some("Before.".into());
        let mut with_next = base.clone();
        with_next.next_text = Some("After.".into());
        let keys = [
            key.clone(),
            CacheKey::new(&other_identity, &base),
            CacheKey::new(&identity(), &SpeechRequest::plain("Read this!")),
            CacheKey::new(&identity(), &lexicon),
            CacheKey::new(&identity(), &with_previous),
            CacheKey::new(&identity(), &with_next),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(key.as_str().len(), 64);
    }

    #[test]
    fn prune_removes_the_least_recently_used_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ClipCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let keys: Vec<CacheKey> = (0..4)
            .map(|i| CacheKey::new(&identity(), &SpeechRequest::plain(format!("Sentence {i}."))))
            .collect();
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        for (i, key) in keys.iter().enumerate() {
            cache.put(key, &clip()).unwrap();
            let file = std::fs::File::options()
                .write(true)
                .open(cache.path(key))
                .unwrap();
            file.set_modified(old + std::time::Duration::from_secs(i as u64))
                .unwrap();
        }
        // Reading the oldest makes it the most recently used.
        assert!(matches!(cache.get(&keys[0]), Lookup::Hit(_)));
        let size = encode_entry(&clip()).len() as u64;
        let pruned = cache.prune_to(2 * size);
        assert_eq!(pruned.removed, 2);
        assert_eq!(pruned.remaining_entries, 2);
        let kept: Vec<bool> = keys
            .iter()
            .map(|k| matches!(cache.get(k), Lookup::Hit(_)))
            .collect();
        assert_eq!(kept, [true, false, false, true]);
        let cleared = cache.clear();
        assert_eq!(cleared.removed, 2);
        assert_eq!(cache.stats().entries, 0);
    }

    #[test]
    fn entries_are_written_atomically_and_leftover_temporaries_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ClipCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let key = CacheKey::new(&identity(), &SpeechRequest::plain("Hello there."));
        cache.put(&key, &clip()).unwrap();
        let shard = cache.path(&key).parent().unwrap().to_path_buf();
        let names = crate::fs::entry_names;
        assert_eq!(names(&shard), [format!("{}.clip", key.as_str())]);
        // What a run killed mid-write leaves, now and before the shared writer.
        let leftover = format!("{}x.clip.1234.tmp", crate::fs::TEMP_PREFIX);
        std::fs::write(shard.join(&leftover), b"half").unwrap();
        std::fs::write(shard.join(".clip-old.tmp"), b"half").unwrap();
        assert_eq!(cache.stats().entries, 3);
        assert_eq!(cache.clear().removed, 3);
        assert!(names(&shard).is_empty());
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1.5 GiB"), Ok(3 << 29));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5Q").is_err());
    }
}
