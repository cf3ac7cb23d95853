//! Where assets are found: explicit paths, the system's espeak-ng, hosts without pinned wheels,
//! concurrent provisioning, unknown voices.

use super::*;

#[test]
fn explicit_paths_win_and_are_not_hashed() {
    let fx = Fixture::new();
    let cat = catalog_for(&fx.wheels);
    let mine = fx.root().join("mine");
    fs::create_dir_all(mine.join("espeak-ng-data")).expect("mkdir");
    fs::write(mine.join("libort.so"), b"anything").expect("write");
    fs::write(mine.join("libespeak.so"), b"anything").expect("write");
    fs::write(mine.join("espeak-ng-data/phontab"), b"anything").expect("write");
    let mut c = fx.ctx(&fx.root().join("data"), cat);
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
    assert!(fx.index.calls().is_empty());
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
    assert!(fx.index.calls().is_empty());
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
    let fx = Fixture::new();
    let cat = catalog_for(&fx.wheels);
    let data = fx.root().join("data");
    let mine = fx.root().join("libort.so");
    fs::write(&mine, b"ort").expect("write");
    let mut c = fx.ctx(&data, cat);
    c.system = fake_system(&fx.root().join("root"));
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
    let sys_lib = fx
        .root()
        .join("root/usr/lib/x86_64-linux-gnu/libespeak-ng.so.1");
    let sys_data = fx.root().join("root/usr/share");
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
    let fx = Fixture::new();
    let cat = catalog_for(&fx.wheels);
    let mut c = fx.ctx(fx.root(), cat);
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

    let mine = fx.root().join("libort.so");
    fs::write(&mine, b"ort").expect("write");
    c.explicit.onnxruntime = Some((mine, "ALOUD_ORT_LIB"));
    let err = c
        .engine(Mode::Quick, &mut quiet())
        .expect_err("no espeak here");
    assert!(err.to_string().contains("ALOUD_ESPEAK_LIB"), "{err}");
    c.system = fake_system(&fx.root().join("root"));
    c.engine(Mode::Quick, &mut quiet())
        .expect("the system espeak-ng serves");
    assert!(
        fx.index.calls().is_empty(),
        "native wheels are never fetched"
    );

    c.builtin_voice("test-voice", Mode::Quick, &mut quiet())
        .expect("voices are portable");
    assert_eq!(fx.index.calls().len(), 1);
}

#[test]
fn concurrent_provisioning_fetches_once_and_everyone_gets_a_good_copy() {
    let mut fx = Fixture::new();
    let cat = catalog_for(&fx.wheels);
    fx.index.delay = Some(std::time::Duration::from_millis(200));
    // Left by a process killed mid-install.
    let stale = fx.root().join(".tmp+voices-test-voice+dead01");
    fs::create_dir_all(stale.join("install")).expect("mkdir");

    let results: Vec<Result<VoiceAssets>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    fx.ctx(fx.root(), cat)
                        .builtin_voice("test-voice", Mode::Quick, &mut quiet())
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
    assert_eq!(fx.index.calls().len(), 1, "the lock lets one process fetch");
    assert!(!stale.exists(), "stale temp dirs are cleaned up");
}

#[test]
fn place_keeps_a_good_install_that_appeared_meanwhile() {
    let fx = Fixture::new();
    let cat = catalog_for(&fx.wheels);
    let c = fx.ctx(fx.root(), cat);
    let voice = c
        .builtin_voice("test-voice", Mode::Quick, &mut quiet())
        .expect("voice");
    let pkg = &cat.voices[0].1;
    let target = fx.root().join(pkg.dir);
    let staged = fx.root().join("staged");
    fs::create_dir_all(&staged).expect("mkdir");
    fs::write(staged.join("marker"), b"ours").expect("write");
    // Unlocked: a verified install in the way wins and ours is dropped.
    place(pkg, &staged, &target, &fx.root().join("aside"), false).expect("place");
    assert!(!target.join("marker").exists());
    assert_eq!(fs::read(&voice.model).expect("model"), model_bytes());
    // Locked (we know it is damaged): ours replaces it.
    place(pkg, &staged, &target, &fx.root().join("aside"), true).expect("place");
    assert!(target.join("marker").exists());
}

#[test]
fn unknown_voices_are_rejected() {
    let fx = Fixture::new();
    let cat = catalog_for(&fx.wheels);
    match fx
        .ctx(fx.root(), cat)
        .builtin_voice("nobody", Mode::Quick, &mut quiet())
    {
        Err(Error::UnknownVoice { name, searched }) => {
            assert_eq!(name, "nobody");
            assert!(searched.contains("test-voice"));
        }
        other => panic!("expected UnknownVoice, got {other:?}"),
    }
}
