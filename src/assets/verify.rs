//! Verification: hashing installed files against their pins, and the stamps that spare rehashing
//! unchanged ones.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;
use std::time::UNIX_EPOCH;

use super::catalog::{Package, PinnedTree};
use super::resolve::{ItemState, Mode, all_ok};
use super::{AssetState, Progress, STAMP_FILE};
use crate::error::{Error, Result};

/// What a previous verification saw, so unchanged files need not be hashed again.
///
/// Hashing everything (~120 MB) on each run would cost about a second, so a file whose size
/// and mtime (ns) equal the stamp's is taken to still have the stamped sha256. The trade-off:
/// a change that keeps both (bit rot, or a deliberate edit followed by restoring the mtime)
/// goes unnoticed until `setup` re-hashes everything. Ordinary corruption - a partial write,
/// truncation, a copy over the file - changes the mtime or size and is caught. Stamps are
/// written only after every file of the install verified, so they never vouch for a bad file.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub(super) struct Stamp {
    pub(super) package: String,
    pub(super) version: String,
    pub(super) files: BTreeMap<String, StampEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct StampEntry {
    pub(super) size: u64,
    pub(super) mtime_ns: Option<u64>,
    pub(super) sha256: String,
}

impl Stamp {
    pub(super) fn new(pkg: &Package) -> Self {
        Stamp {
            package: pkg.pip_name.to_string(),
            version: pkg.pip_version.to_string(),
            files: BTreeMap::new(),
        }
    }

    /// A stamp for another package or version, or an unreadable one, is as good as none.
    pub(super) fn read(pkg: &Package, dir: &Path) -> Option<Stamp> {
        let bytes = fs::read(dir.join(STAMP_FILE)).ok()?;
        let stamp: Stamp = serde_json::from_slice(&bytes).ok()?;
        (stamp.package == pkg.pip_name && stamp.version == pkg.pip_version).then_some(stamp)
    }

    /// Atomic, so a reader never sees half a stamp.
    pub(super) fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(STAMP_FILE);
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::io(&path, e.into()))?;
        // Readable like the files it describes, so other users of a shared data dir can use it.
        crate::fs::write_atomic_with_mode(&path, &json, 0o644)
    }
}

pub(super) fn mtime_ns(meta: &fs::Metadata) -> Option<u64> {
    let since = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
}

/// Hashes files, or takes their hash from the old stamp when allowed, and builds the new stamp.
pub(super) struct Hasher<'s> {
    pub(super) old: Option<&'s Stamp>,
    pub(super) use_stamp: bool,
    pub(super) new: Stamp,
    pub(super) hashed_any: bool,
    pub(super) what: &'static str,
}

impl Hasher<'_> {
    /// `None` when the file does not exist.
    pub(super) fn digest(
        &mut self,
        dir: &Path,
        rel: &str,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> io::Result<Option<String>> {
        let path = dir.join(rel);
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if !meta.is_file() {
            return Ok(Some("(not a regular file)".into()));
        }
        let size = meta.len();
        let mtime = mtime_ns(&meta);
        if self.use_stamp
            && let Some(entry) = self.old.and_then(|s| s.files.get(rel))
            && entry.size == size
            && mtime.is_some()
            && entry.mtime_ns == mtime
        {
            self.new.files.insert(rel.to_string(), entry.clone());
            return Ok(Some(entry.sha256.clone()));
        }
        if !self.hashed_any {
            self.hashed_any = true;
            progress(Progress::Verifying { what: self.what });
        }
        let (_, sha256) = sha256_file(&path)?;
        // Size and mtime from before hashing: a write racing the hash leaves them stale, so the
        // file is simply hashed again next time.
        self.new.files.insert(
            rel.to_string(),
            StampEntry {
                size,
                mtime_ns: mtime,
                sha256: sha256.clone(),
            },
        );
        Ok(Some(sha256))
    }
}

/// Checks every pinned file and tree of an install; never fails, it reports.
pub(super) fn inspect(
    pkg: &Package,
    dir: &Path,
    mode: Mode,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Vec<ItemState> {
    if !dir.exists() {
        return missing_items(pkg, dir);
    }
    // Read even in Full mode: it is what names the culprit inside a damaged tree.
    let old = Stamp::read(pkg, dir);
    let mut hasher = Hasher {
        old: old.as_ref(),
        use_stamp: mode == Mode::Quick,
        new: Stamp::new(pkg),
        hashed_any: false,
        what: pkg.title,
    };
    let mut items = Vec::new();
    for f in pkg.files {
        let path = dir.join(f.dest);
        let state = match hasher.digest(dir, f.dest, progress) {
            Ok(None) => AssetState::Missing,
            Ok(Some(sha)) if sha == f.sha256 => AssetState::Ok,
            Ok(Some(sha)) => AssetState::Corrupt {
                file: path.clone(),
                expected: f.sha256.to_string(),
                actual: sha,
            },
            Err(e) => AssetState::Unreadable {
                message: format!("{}: {e}", path.display()),
            },
        };
        items.push(ItemState {
            name: f.name,
            path,
            expected: f.sha256,
            state,
        });
    }
    if let Some(tree) = &pkg.tree {
        let root = dir.join(tree.dest);
        let state = match tree_state(tree, dir, &mut hasher, old.as_ref(), progress) {
            Ok(state) => state,
            Err(e) => AssetState::Unreadable {
                message: format!("{}: {e}", root.display()),
            },
        };
        items.push(ItemState {
            name: tree.name,
            path: root,
            expected: tree.digest,
            state,
        });
    }
    if all_ok(&items) && old.as_ref() != Some(&hasher.new) {
        // Best effort: a read-only data dir just means hashing again next time.
        let _ = hasher.new.write(dir);
    }
    items
}

pub(super) fn missing_items(pkg: &Package, dir: &Path) -> Vec<ItemState> {
    let files = pkg.files.iter().map(|f| ItemState {
        name: f.name,
        path: dir.join(f.dest),
        expected: f.sha256,
        state: AssetState::Missing,
    });
    let tree = pkg.tree.iter().map(|t| ItemState {
        name: t.name,
        path: dir.join(t.dest),
        expected: t.digest,
        state: AssetState::Missing,
    });
    files.chain(tree).collect()
}

pub(super) fn tree_state(
    tree: &PinnedTree,
    dir: &Path,
    hasher: &mut Hasher<'_>,
    old: Option<&Stamp>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> io::Result<AssetState> {
    let root = dir.join(tree.dest);
    match fs::metadata(&root) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(AssetState::Missing),
        Err(e) => return Err(e),
        Ok(meta) if !meta.is_dir() => {
            return Ok(AssetState::Corrupt {
                file: root,
                expected: tree.digest.to_string(),
                actual: "(not a directory)".into(),
            });
        }
        Ok(_) => {}
    }
    let mut lines = Vec::new();
    for rel in walk(&root)? {
        let key = format!("{}/{rel}", tree.dest);
        // Vanished since the walk: hash it as what it now is, nothing.
        let sha = hasher
            .digest(dir, &key, progress)?
            .unwrap_or_else(|| "(missing)".into());
        lines.push((rel, sha));
    }
    let actual = tree_digest(&lines);
    if actual == tree.digest && lines.len() == tree.files {
        return Ok(AssetState::Ok);
    }
    Ok(old
        .and_then(|stamp| tree_culprit(stamp, tree.dest, &lines, &root))
        .unwrap_or(AssetState::Corrupt {
            file: root,
            expected: tree.digest.to_string(),
            actual,
        }))
}

/// The first file that differs from the stamp (which recorded a verified tree).
pub(super) fn tree_culprit(
    stamp: &Stamp,
    dest: &str,
    lines: &[(String, String)],
    root: &Path,
) -> Option<AssetState> {
    let prefix = format!("{dest}/");
    let corrupt = |rel: &str, expected: &str, actual: &str| AssetState::Corrupt {
        file: root.join(rel),
        expected: expected.to_string(),
        actual: actual.to_string(),
    };
    let stamped: BTreeMap<&str, &str> = stamp
        .files
        .iter()
        .filter_map(|(k, e)| Some((k.strip_prefix(&prefix)?, e.sha256.as_str())))
        .collect();
    if stamped.is_empty() {
        return None;
    }
    for (rel, sha) in lines {
        match stamped.get(rel.as_str()) {
            Some(good) if good == sha => {}
            Some(good) => return Some(corrupt(rel, good, sha)),
            None => return Some(corrupt(rel, "(no such file)", sha)),
        }
    }
    let on_disk: std::collections::BTreeSet<&str> = lines.iter().map(|(r, _)| r.as_str()).collect();
    stamped
        .iter()
        .find(|(rel, _)| !on_disk.contains(*rel))
        .map(|(rel, good)| corrupt(rel, good, "(missing)"))
}

/// sha256 over the sorted `"relative/path\0<sha256 hex>\n"` lines of a tree's files.
pub(super) fn tree_digest(lines: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = lines.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    for (rel, sha) in sorted {
        h.update(rel.as_bytes());
        h.update(b"\0");
        h.update(sha.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// Every non-directory under `root`, as '/'-separated relative paths.
pub(super) fn walk(root: &Path) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child_rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if entry.file_type()?.is_dir() {
                stack.push((entry.path(), child_rel));
            } else {
                out.push(child_rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A file's size and SHA-256 (hex).
pub(crate) fn sha256_file(path: &Path) -> io::Result<(u64, String)> {
    let (size, digest) = digest_file::<Sha256>(path)?;
    Ok((size, hex::encode(digest)))
}

/// A file's size and digest, read a mebibyte at a time (a model is hundreds of them).
pub(super) fn digest_file<D: Digest>(path: &Path) -> io::Result<(u64, sha2::digest::Output<D>)> {
    let mut file = File::open(path)?;
    let mut hasher = D::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hasher.finalize()))
}
