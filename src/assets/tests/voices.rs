//! Provisioning and listing a built-in voice besides the default (`aloud setup --voice`).

use super::*;

/// The test catalog with a second voice, `other`, besides the default.
fn catalog_with_other_voice(w: &Wheels) -> &'static Catalog {
    let cat = catalog_for(w);
    let default = &cat.voices[0].1;
    let other = Package {
        title: "voice other",
        dir: "voices/other",
        tree: None,
        ..*default
    };
    leak(Catalog {
        default_voice: cat.default_voice,
        onnxruntime: cat.onnxruntime,
        espeak: cat.espeak,
        voices: &*Box::leak(Box::new([
            (
                "test-voice",
                Package {
                    tree: None,
                    ..*default
                },
            ),
            ("other", other),
        ])),
        styled: &[],
    })
}

#[test]
fn a_missing_voice_besides_the_default_names_setup_voice_and_is_listed_when_asked() {
    let fx = Fixture::new();
    let cat = catalog_with_other_voice(&fx.wheels);
    let data = fx.root().join("data");
    let mut c = fx.ctx(&data, cat);
    c.offline = true;

    let err = c
        .builtin_voice("other", Mode::Quick, &mut quiet())
        .expect_err("not there");
    let (_, hint) = missing_what_and_hint(&err);
    assert!(hint.contains("`aloud setup --voice other`"), "{hint}");
    let err = c
        .builtin_voice("test-voice", Mode::Quick, &mut quiet())
        .expect_err("not there");
    assert!(!err.to_string().contains("--voice"), "{err}");

    let listed = |states: Vec<AssetStatus>| -> Vec<String> {
        states
            .into_iter()
            .map(|s| s.name)
            .filter(|n| n.starts_with("voice"))
            .collect()
    };
    assert_eq!(
        listed(c.status()),
        ["voice model test-voice", "voice config test-voice"]
    );
    // `other` shares the default's files; its install directory tells them apart.
    let other: Vec<PathBuf> = c
        .status_with(&["other"])
        .into_iter()
        .filter(|s| s.name.starts_with("voice"))
        .map(|s| s.path)
        .collect();
    assert_eq!(other.len(), 2, "{other:?}");
    assert!(
        other
            .iter()
            .all(|p| p.starts_with(data.join("voices/other"))),
        "{other:?}"
    );

    c.offline = false;
    c.setup_voice("other", &mut quiet()).expect("fetched");
    assert!(data.join("voices/other").is_dir());
    assert!(!data.join("voices/test-voice").exists());
    // Installed, it is listed with the default.
    assert_eq!(listed(c.status()).len(), 4);
}
