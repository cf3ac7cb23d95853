//! Files written whole or not at all: each is written to a temporary file beside its
//! destination, synced, and renamed into place, so a reader never sees half of one and a
//! failure never clobbers an earlier version.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// How every named working file aloud creates beside an output begins, so one left by a
/// killed run can be recognised and removed later (`aloud batch` does).
pub const TEMP_PREFIX: &str = ".aloud-";

/// Writes `bytes` to `path` atomically: whole, or not at all. Errors name `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    prepare(path, bytes)?.commit().map(|_| ())
}

/// As [`write_atomic`], with the file's mode set to `mode` whatever the umask: for files that
/// everyone sharing a directory must read, like the engine files' stamps.
pub fn write_atomic_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let prepared = prepare(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = std::fs::Permissions::from_mode(mode);
        prepared
            .file
            .as_file()
            .set_permissions(permissions)
            .map_err(|e| Error::io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    prepared.commit().map(|_| ())
}

/// `bytes` written and synced to a temporary file beside `path`, to be renamed into place
/// by [`Prepared::commit`] (when several files must appear together, after the last is
/// ready).
pub fn prepare(path: &Path, bytes: &[u8]) -> Result<Prepared> {
    let mut file = temp_file_beside(path, ".tmp")?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| Error::Output {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(Prepared {
        file,
        path: path.to_path_buf(),
    })
}

/// A file fully written to a temporary file in its final directory.
pub struct Prepared {
    file: NamedTempFile,
    path: PathBuf,
}

impl Prepared {
    /// Renames the file into place (durably); returns where it now is.
    pub fn commit(self) -> Result<PathBuf> {
        persist(self.file, &self.path)?;
        Ok(self.path)
    }
}

/// A temporary file in the directory of `output`, named after it (`.aloud-NAME.XXXX` +
/// `suffix`), so the final rename is atomic. Errors name `output`.
pub(crate) fn temp_file_beside(output: &Path, suffix: &str) -> Result<NamedTempFile> {
    let fail = |message: String| Error::Output {
        path: output.to_path_buf(),
        message,
    };
    let file_name = output
        .file_name()
        .ok_or_else(|| fail("the path does not name a file".into()))?;
    if output.is_dir() {
        return Err(fail("it is a directory".into()));
    }
    let dir = parent_dir(output);
    if !dir.exists() {
        return Err(fail(format!("directory {} does not exist", dir.display())));
    }
    if !dir.is_dir() {
        return Err(fail(format!("{} is not a directory", dir.display())));
    }
    let mut prefix = std::ffi::OsString::from(TEMP_PREFIX);
    prefix.push(file_name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(suffix);
    // tempfile defaults to 0600; the finished file should get the same umask-governed mode
    // as any file the user creates (a web server must be able to read the captions).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir).map_err(|e| {
        fail(format!(
            "cannot create a temporary file in directory {} (is it writable?): {e}",
            dir.display()
        ))
    })
}

/// Renames a finished (already synced) temporary file onto `output` and makes the rename
/// durable.
pub(crate) fn persist(temp: NamedTempFile, output: &Path) -> Result<()> {
    temp.persist(output).map_err(|e| Error::Output {
        path: output.to_path_buf(),
        message: format!(
            "cannot rename {} into place: {}",
            e.file.path().display(),
            e.error
        ),
    })?;
    sync_parent(output)
}

fn parent_dir(output: &Path) -> &Path {
    match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The rename is only durable once the directory entry itself is on disk.
fn sync_parent(output: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let dir = parent_dir(output);
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = output;
    Ok(())
}

/// The names in `dir`, sorted: what tests of atomic writes compare against.
#[cfg(test)]
pub(crate) fn entry_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("test directory is readable")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use entry_names as names;

    #[test]
    fn a_file_appears_whole_and_replaces_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.xml");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(names(dir.path()), ["feed.xml"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_given_a_mode_has_it_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".aloud-stamp.json");
        // Execute bits, which no umask adds to the 0o666 files are otherwise created with.
        write_atomic_with_mode(&path, b"{}", 0o755).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(names(dir.path()), [".aloud-stamp.json"]);
    }

    #[test]
    fn a_prepared_file_is_invisible_until_committed_and_gone_if_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.vtt");
        let prepared = prepare(&path, b"WEBVTT\n").unwrap();
        assert!(!path.exists());
        assert!(names(dir.path())[0].starts_with(".aloud-a.vtt."));
        drop(prepared);
        assert!(names(dir.path()).is_empty());
        prepare(&path, b"WEBVTT\n").unwrap().commit().unwrap();
        assert_eq!(names(dir.path()), ["a.vtt"]);
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone").join("x.html");
        match write_atomic(&path, b"x") {
            Err(Error::Output {
                path: named,
                message,
            }) => {
                assert_eq!(named, path);
                assert!(message.contains("does not exist"), "{message}");
            }
            other => panic!("expected Output, got {other:?}"),
        }
    }
}
