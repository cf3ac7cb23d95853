//! Fetching tarballs from npm with `npm pack`, checked against the registry's sha512 integrity
//! pinned in the catalog; and [`Registries`], the fetcher that sends each package to its own
//! registry's client.

use crate::error::{Error, Result};
use base64::Engine as _;
use sha2::Sha512;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::catalog::{Package, Source};
use super::pip::{Client, Fetch, Pip};
use super::resolve::pip_spec;
use super::verify::digest_file;

/// `npm pack NAME@VERSION`: the registry's own client, which honours the user's registry,
/// proxy and certificate settings and checks the tarball's integrity itself.
pub(super) struct Npm {
    pub(super) npm: PathBuf,
}

impl Default for Npm {
    fn default() -> Self {
        Npm {
            npm: PathBuf::from("npm"),
        }
    }
}

impl Fetch for Npm {
    fn fetch(&self, pkg: &Package, dest: &Path, fresh: bool) -> Result<PathBuf> {
        let fail = |message: String| Error::Provision {
            package: pip_spec(pkg),
            message,
        };
        let mut cmd = Command::new(&self.npm);
        cmd.args(["pack", "--silent", "--pack-destination"])
            .arg(dest)
            .args(["--no-audit", "--no-fund", "--ignore-scripts"]);
        if fresh {
            cmd.arg("--prefer-online");
        }
        cmd.arg(pip_spec(pkg));
        Client {
            program: &self.npm,
            verb: "pack",
            purpose: "fetches Kokoro's voices from npm",
            install: "Node.js with npm",
        }
        .run(cmd, pkg)?;
        let tarball = dest.join(pkg.wheel);
        if !tarball.is_file() {
            return Err(fail(format!(
                "npm succeeded but left no {} in {}",
                pkg.wheel,
                dest.display()
            )));
        }
        if let Source::Npm { integrity } = pkg.source {
            let actual = integrity_of(&tarball).map_err(|e| Error::io(&tarball, e))?;
            if actual != integrity {
                return Err(fail(format!(
                    "{} has integrity {actual}, but {integrity} is pinned; refusing it",
                    tarball.display()
                )));
            }
        }
        Ok(tarball)
    }
}

/// npm's integrity string for a file: `sha512-` and the base64 of its SHA-512.
pub(super) fn integrity_of(path: &Path) -> io::Result<String> {
    let (_, digest) = digest_file::<Sha512>(path)?;
    Ok(format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    ))
}

/// Each package to its registry: npm tarballs to [`Npm`], wheels to [`Pip`].
#[derive(Default)]
pub(super) struct Registries {
    pub(super) pip: Pip,
    pub(super) npm: Npm,
}

impl Fetch for Registries {
    fn fetch(&self, pkg: &Package, dest: &Path, fresh: bool) -> Result<PathBuf> {
        match pkg.source {
            Source::Npm { .. } => self.npm.fetch(pkg, dest, fresh),
            Source::Wheel | Source::Joined(_) => self.pip.fetch(pkg, dest, fresh),
        }
    }
}
