//! The hibari engine against its reference and end to end: the DSP port against the wheel's
//! `dsp.py` on fixed inputs, the whole voice against the Python hibari-tts package for the
//! same phonemes and noise, misaki-rs against the package's G2P on a few hundred words,
//! narration with the real model, lexicon IPA, and bad model files.

mod common;

use aloud::assets::AssetOptions;
use aloud::lexicon::Lexicon;
use aloud::narrate::{Narrator, NarratorOptions};
use aloud::sidecar::Timeline;
use aloud::synth::SpeechRequest;
use aloud::synth::espeak::Espeak;
use aloud::synth::hibari::HibariVoice;
use aloud::synth::hibari::dsp::{Dsp, HOP, Noise, Spectra};
use aloud::synth::misaki::{Accent, Misaki};
use aloud::synth::phoneme_model::Sessions;
use aloud::voice::VoiceProfile;
use common::{
    SAMPLE, check_sentences_match_speaking_alone, check_spoken, output_with_stdin, repo,
    skip_or_fail, venv_python,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn profile() -> VoiceProfile {
    VoiceProfile::find(repo("voices/hibari.toml").to_str().unwrap()).expect("profile")
}

/// The provisioned model, vocabulary and engine libraries (fetched on first use).
fn assets() -> &'static (aloud::assets::EngineAssets, aloud::assets::VoiceAssets) {
    static ASSETS: OnceLock<(aloud::assets::EngineAssets, aloud::assets::VoiceAssets)> =
        OnceLock::new();
    ASSETS.get_or_init(|| {
        let options = AssetOptions::default();
        let mut progress = |p: aloud::assets::Progress| eprintln!("{p}");
        let engine = options.engine(&mut progress).expect("engine assets");
        let voice = options
            .builtin_voice("hibari", &mut progress)
            .expect("the hibari voice provisions");
        (engine, voice)
    })
}

fn espeak() -> &'static Espeak {
    let (engine, _) = assets();
    Espeak::load(&engine.espeak_library, &engine.espeak_data).expect("espeak-ng loads")
}

fn voice() -> HibariVoice {
    let (engine, voice) = assets();
    HibariVoice::open(
        &engine.onnxruntime,
        Some(espeak()),
        &voice.model,
        &voice.config,
        &profile(),
        Sessions::new(1),
    )
    .expect("the hibari voice opens")
}

fn narrator(untouched: bool) -> &'static Narrator {
    static PLAIN: OnceLock<Narrator> = OnceLock::new();
    static UNTOUCHED: OnceLock<Narrator> = OnceLock::new();
    let cell = if untouched { &UNTOUCHED } else { &PLAIN };
    cell.get_or_init(|| {
        let profile = profile();
        let options = NarratorOptions {
            finishing: untouched.then(|| aloud::stitch::Finishing::untouched(profile.pauses)),
            ..NarratorOptions::default()
        };
        Narrator::open(profile, &options, &mut |p| eprintln!("{p}")).expect("hibari opens")
    })
}

/// Runs `script` with the test venv's Python (which must import `modules`), passing `args`.
fn python(modules: &str, script: &str, args: &[&str]) -> Option<String> {
    let Some(python) = venv_python(modules) else {
        skip_or_fail(&format!("the test venv cannot import {modules}"));
        return None;
    };
    let output = Command::new(python)
        .args(["-c", script])
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).expect("utf-8"))
}

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

const FIXED_NOISE: &str = "
class FixedNoise:
    def __init__(self, z): self.z = z
    def standard_normal(self, shape, dtype):
        assert tuple(shape) == self.z.shape, (shape, self.z.shape)
        return self.z.copy()
";

#[test]
fn dsp_matches_the_wheels_python_on_fixed_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let script = format!(
        "{FIXED_NOISE}
import sys, numpy as np
from hibari import dsp
F = 97
r = np.random.default_rng(1234)
f0 = np.concatenate([np.zeros(9), np.linspace(95, 230, 60), np.zeros(8), np.full(20, 170.0)]).astype(np.float32)
f0 += r.normal(0, 3, F).astype(np.float32) * (f0 > 0)
lh = r.normal(-3, 1.5, (601, F)).astype(np.float32)
th = r.normal(0, 1.2, (601, F)).astype(np.float32)
ln = r.normal(-6, 1.5, (601, F)).astype(np.float32)
lr = r.normal(-6, 1.5, (601, F)).astype(np.float32)
phi = r.uniform(-np.pi, np.pi, (601, F)).astype(np.float32)
lh[3, 40] = 9.0   # past the exp clamp
z = r.standard_normal((601, 2 * F), dtype=np.float32)
pulses = dsp.pulses(f0)
wav = dsp.synth(lh, th, ln, lr, phi, f0, FixedNoise(z))
d = sys.argv[1]
for name, a in [('f0', f0), ('lh', lh), ('th', th), ('ln', ln), ('lr', lr), ('phi', phi),
                ('z', z), ('pulses', pulses), ('wav', wav)]:
    np.ascontiguousarray(a, dtype='<f4').tofile(f'{{d}}/{{name}}.f32')
"
    );
    if python("hibari.dsp, numpy", &script, &[out]).is_none() {
        return;
    }
    let load = |name: &str| read_f32(&dir.path().join(format!("{name}.f32")));
    let (f0, lh, th, ln, lr, phi) = (
        load("f0"),
        load("lh"),
        load("th"),
        load("ln"),
        load("lr"),
        load("phi"),
    );
    let dsp = Dsp::new();
    let pulses = dsp.pulses(&f0);
    let expected_pulses = load("pulses");
    assert_eq!(pulses.len(), expected_pulses.len());
    let pulse_diff = max_abs_diff(&pulses, &expected_pulses);
    // The pulse train's peaks reach ~90 (one per harmonic); float32 sin differs by an ulp.
    assert!(pulse_diff < 2e-3, "pulses differ by {pulse_diff}");

    let spectra = Spectra {
        lh: &lh,
        th: &th,
        ln: &ln,
        lr: &lr,
        phi: &phi,
        f0: &f0,
    };
    let noise = load("z");
    let wav = dsp.synthesize(&spectra, Noise::Given(&noise)).unwrap();
    let expected = load("wav");
    assert_eq!(wav.len(), expected.len());
    assert_eq!(wav.len(), f0.len() * HOP);
    let peak = expected.iter().fold(0f32, |m, x| m.max(x.abs()));
    let diff = max_abs_diff(&wav, &expected);
    eprintln!("DSP: max abs diff {diff:.2e} (peak {peak:.3})");
    assert!(peak > 0.01, "the reference is silent");
    assert!(diff < 1e-4 * peak.max(1.0), "max abs diff {diff}");
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()))
}

/// Mean over frames of the RMS difference of the log power spectra, in dB (n_fft 1024, hop
/// 256, Hann): 0 for equal signals.
fn log_spectral_distance(a: &[f32], b: &[f32]) -> f64 {
    use realfft::RealFftPlanner;
    const N: usize = 1024;
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(N);
    let window: Vec<f64> = (0..N)
        .map(|n| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N as f64).cos())
        .collect();
    let spectrum = |x: &[f32], at: usize| {
        let mut frame: Vec<f64> = (0..N)
            .map(|n| x.get(at + n).copied().unwrap_or(0.0) as f64 * window[n])
            .collect();
        let mut out = fft.make_output_vec();
        fft.process(&mut frame, &mut out).unwrap();
        out.iter()
            .map(|c| 10.0 * (c.norm_sqr() + 1e-10).log10())
            .collect::<Vec<_>>()
    };
    let len = a.len().min(b.len());
    let mut total = 0.0;
    let mut frames = 0;
    for at in (0..len.saturating_sub(N)).step_by(256) {
        let (x, y) = (spectrum(a, at), spectrum(b, at));
        let mean: f64 =
            x.iter().zip(&y).map(|(p, q)| (p - q).powi(2)).sum::<f64>() / x.len() as f64;
        total += mean.sqrt();
        frames += 1;
    }
    total / frames.max(1) as f64
}

#[test]
fn the_voice_matches_the_python_package_for_the_same_phonemes_and_noise() {
    let dir = tempfile::tempdir().unwrap();
    let phonemes = "ðə kwˈɪk bɹˈWn fˈɑks ʤˈʌmps ˌOvəɹ ðə lˈAzi dˈɑɡ, ænd nˈO wˈʌn sˈɔ ɪt.";
    let script = "
import sys, numpy as np
from hibari import Hibari
ps, d = sys.argv[1], sys.argv[2]
wav = Hibari(threads=1).from_phonemes(ps, seed=7)
F = len(wav) // 300
z = np.random.default_rng(7).standard_normal((601, 2 * F), dtype=np.float32)
wav.astype('<f4').tofile(d + '/wav.f32')
z.astype('<f4').tofile(d + '/z.f32')
";
    if python(
        "hibari, numpy",
        script,
        &[phonemes, dir.path().to_str().unwrap()],
    )
    .is_none()
    {
        return;
    }
    let expected = read_f32(&dir.path().join("wav.f32"));
    let noise = read_f32(&dir.path().join("z.f32"));
    let ours = voice().synthesize_phonemes(phonemes, Some(&noise)).unwrap();
    assert_eq!(ours.len(), expected.len(), "frame counts differ");
    let lsd = log_spectral_distance(&ours, &expected);
    let diff = max_abs_diff(&ours, &expected);
    eprintln!("model + DSP vs Python: log-spectral distance {lsd:.4} dB, max abs diff {diff:.2e}");
    assert!(lsd < 0.5, "log-spectral distance {lsd:.3} dB");
    // A different noise draw is audibly the same voice but not the same signal: the check
    // above can tell them apart.
    let other = voice().synthesize_phonemes(phonemes, None).unwrap();
    assert!(log_spectral_distance(&other, &expected) > lsd);
}

/// Words from the samples, the spoken forms of numbers, and numbers as digits.
fn words() -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for sample in [
        "samples/city-council-budget.txt",
        "samples/night-sky-guide.md",
    ] {
        let text = std::fs::read_to_string(repo(sample)).unwrap();
        for word in text.split(|c: char| !c.is_alphabetic() && c != '\'') {
            let word = word.trim_matches('\'');
            if word.len() > 1 && !words.iter().any(|w| w == word) {
                words.push(word.to_string());
            }
        }
    }
    words.truncate(320);
    for spoken in [
        "twenty-three",
        "nineteen ninety-nine",
        "one hundred and five",
        "forty-eight point two million dollars",
        "seventh",
        "thirty-first",
        "two thousand and twenty-four",
        "half past seven",
    ] {
        words.push(spoken.to_string());
    }
    for digits in [
        "7", "42", "1999", "2024", "1,250", "3.5", "100", "12th", "$9.99",
    ] {
        words.push(digits.to_string());
    }
    words
}

#[test]
fn misaki_agrees_with_the_packages_g2p_on_hundreds_of_words() {
    let words = words();
    let script = "
import sys
from hibari.g2p import G2P
g = G2P()
for w in sys.stdin.read().split('\\n'):
    print(g(w))
";
    let Some(python) = venv_python("hibari.g2p") else {
        skip_or_fail("the test venv cannot import hibari.g2p");
        return;
    };
    let mut g2p = Command::new(python);
    g2p.args(["-c", script]);
    let output = output_with_stdin(g2p, words.join("\n").as_bytes());
    assert!(output.status.success());
    let theirs: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(theirs.len(), words.len());
    let g2p = Misaki::get(Accent::American, Some(espeak()));
    let mut differ = Vec::new();
    for (word, reference) in words.iter().zip(&theirs) {
        let ours = g2p.phonemize(&SpeechRequest::plain(word), "test").unwrap();
        if &ours != reference {
            differ.push(format!("{word}: ours {ours} python {reference}"));
        }
    }
    let agree = 1.0 - differ.len() as f64 / words.len() as f64;
    eprintln!(
        "misaki-rs vs hibari-tts G2P: {} of {} words agree ({:.1}%)\n{}",
        words.len() - differ.len(),
        words.len(),
        agree * 100.0,
        differ.join("\n")
    );
    assert!(words.len() >= 300);
    assert!(agree >= 0.95, "only {:.1}% agree", agree * 100.0);
}

#[test]
fn an_article_narrates_at_24_khz_audible_and_at_a_speaking_pace() {
    let document = aloud::ingest::parse(
        SAMPLE,
        aloud::ingest::Format::Markdown,
        Path::new("tides.md"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tides.wav");
    let summary = narrator(false)
        .narrate_blocking(&document, &output, &mut |_| {})
        .unwrap();
    assert_eq!(summary.sentences, document.sentence_count());
    let (timeline, _) = check_spoken(&document, &summary, &output, 24_000);
    assert_eq!(timeline.chapters.len(), 2);
}

#[test]
fn a_sentence_in_the_program_is_bit_identical_to_speaking_it_alone() {
    let document = aloud::ingest::parse(
        "Golden test\n\nThe quick brown fox jumps over the lazy dog. It was not amused.\n",
        aloud::ingest::Format::Text,
        Path::new("golden.txt"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("golden.wav");
    let narrator = narrator(true);
    let summary = narrator
        .narrate_blocking(&document, &output, &mut |_| {})
        .unwrap();
    let timeline = Timeline::read(&summary.timeline).unwrap();
    let program: Vec<i16> = hound::WavReader::open(&output)
        .unwrap()
        .samples::<i16>()
        .map(|s| s.unwrap())
        .collect();
    assert_eq!(timeline.sentences.len(), document.sentence_count());
    for (sentence, alone) in
        check_sentences_match_speaking_alone(narrator, &timeline, &program, 24_000)
    {
        assert_eq!(alone.sample_rate, 24_000);
        assert!(
            alone.samples.len() > 12_000,
            "'{}' is too short",
            sentence.text
        );
    }
}

#[test]
fn lexicon_ipa_reaches_the_model() {
    // misaki says "hello" həlˈO; a lexicon giving that in general IPA for a made-up word must
    // make the voice say exactly what it says for "hello".
    let lexicon = Lexicon::from_toml(
        "[words]\nKremlev = { ipa = \"həlˈoʊ\" }\n",
        Path::new("test-lexicon.toml"),
    )
    .unwrap();
    let hibari = voice();
    let say = |text: &str, lexicon: &Lexicon| {
        let applied = lexicon.apply(text);
        let request = SpeechRequest {
            text: applied.text,
            pronunciations: applied.pronunciations,
            ..SpeechRequest::default()
        };
        (
            hibari.phonemize(&request).unwrap(),
            hibari.synthesize_blocking(&request).unwrap(),
        )
    };
    for (with_word, with_hello) in [
        ("Say Kremlev, please.", "Say hello, please."),
        ("I said Kremlev.", "I said hello."),
    ] {
        let (phonemes, clip) = say(with_word, &lexicon);
        let (hello_phonemes, hello_clip) = say(with_hello, &Lexicon::default());
        assert_eq!(phonemes, hello_phonemes, "{with_word}");
        assert_eq!(clip, hello_clip, "{with_word}");
        assert_ne!(say(with_word, &Lexicon::default()).0, phonemes);
    }
}

#[test]
fn the_optimized_copy_is_made_once_used_after_and_remade_when_corrupt() {
    let (engine, assets) = assets();
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        HibariVoice::open(
            &engine.onnxruntime,
            Some(espeak()),
            &assets.model,
            &assets.config,
            &profile(),
            Sessions {
                concurrency: 1,
                optimized_copy: Some(dir.path().join("optimized").join("hibari-test")),
            },
        )
        .expect("the hibari voice opens")
    };
    let copies = || -> Vec<PathBuf> {
        std::fs::read_dir(dir.path().join("optimized"))
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    let request = SpeechRequest::plain("The copy speaks as the model does.");
    let original = voice().synthesize_blocking(&request).unwrap();

    // No copy yet: the first session makes one (and nothing else is left in its folder).
    assert_eq!(open().synthesize_blocking(&request).unwrap(), original);
    let made = copies();
    assert_eq!(made.len(), 1, "{made:?}");
    let copy = &made[0];
    let name = copy.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("hibari-test-ort-") && name.ends_with(".onnx"),
        "{name}"
    );
    let size = std::fs::metadata(copy).unwrap().len();
    assert!(size > 1_000_000, "{name}: {size} bytes");

    // A copy that is there is what the next voice loads: marked by its time, it is not remade.
    let modified = std::fs::metadata(copy).unwrap().modified().unwrap();
    assert_eq!(open().synthesize_blocking(&request).unwrap(), original);
    assert_eq!(
        std::fs::metadata(copy).unwrap().modified().unwrap(),
        modified
    );

    // A copy that does not load is made again, and the voice still speaks the same.
    std::fs::write(copy, b"not a model").unwrap();
    assert_eq!(open().synthesize_blocking(&request).unwrap(), original);
    assert_eq!(copies(), made);
    assert_eq!(std::fs::metadata(copy).unwrap().len(), size);
}

/// A copy of the voice with `model` standing for its model file.
fn profile_with_model(dir: &Path, model: Option<&[u8]>) -> PathBuf {
    let (_, voice) = assets();
    std::fs::copy(&voice.config, dir.join("vocab.json")).unwrap();
    if let Some(bytes) = model {
        std::fs::write(dir.join("hibari.onnx"), bytes).unwrap();
    }
    let path = dir.join("broken.toml");
    std::fs::write(
        &path,
        "name = 'broken'\nengine = 'hibari'\nlanguage = 'en-US'\nmodel = 'hibari.onnx'\n",
    )
    .unwrap();
    path
}

/// The names of the files in `dir`.
fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// `a.txt` in `dir`: a title and one sentence.
fn one_sentence_article(dir: &Path) -> PathBuf {
    let article = dir.join("a.txt");
    std::fs::write(&article, "Title\n\nOne sentence to say.\n").unwrap();
    article
}

/// The `aloud` binary, pointed at the provisioned espeak-ng.
fn aloud_with_espeak(engine: &aloud::assets::EngineAssets) -> Command {
    let mut aloud = Command::new(env!("CARGO_BIN_EXE_aloud"));
    aloud
        .env("ALOUD_ESPEAK_LIB", &engine.espeak_library)
        .env("ALOUD_ESPEAK_DATA", &engine.espeak_data);
    aloud
}

#[test]
fn a_missing_or_corrupt_model_is_named_and_nothing_is_written() {
    let document = aloud::ingest::parse(
        "Broken\n\nThis sentence is never heard.\n",
        aloud::ingest::Format::Text,
        Path::new("broken.txt"),
    )
    .unwrap();
    for (case, model) in [
        ("missing", None),
        ("corrupt", Some(b"not an onnx model at all".as_slice())),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let profile =
            VoiceProfile::find(profile_with_model(dir.path(), model).to_str().unwrap()).unwrap();
        let output = dir.path().join("out.wav");
        let error = Narrator::open(profile, &NarratorOptions::default(), &mut |_| {})
            .and_then(|n| n.narrate_blocking(&document, &output, &mut |_| {}))
            .err()
            .unwrap_or_else(|| panic!("{case} model: narration succeeded"))
            .to_string();
        assert!(error.contains("hibari.onnx"), "{case}: {error}");
        if model.is_some() {
            // The model fails the first sentence, the title, which the message names once.
            let named = error.matches("\"Broken\"").count();
            assert_eq!(named, 1, "{case}: {error}");
        }
        assert!(!output.exists(), "{case}: output written");
        let left: Vec<_> = names_in(dir.path())
            .into_iter()
            .filter(|n| n.starts_with("out"))
            .collect();
        assert!(left.is_empty(), "{case}: left {left:?}");
    }
}

#[test]
fn offline_without_the_default_voice_names_setup_and_writes_nothing() {
    let (engine, _) = assets();
    let dir = tempfile::tempdir().unwrap();
    let article = one_sentence_article(dir.path());
    let output = dir.path().join("a.wav");
    let run = aloud_with_espeak(engine)
        .args(["narrate", "--voice", "hibari", "--offline", "-o"])
        .arg(&output)
        .arg(&article)
        .env("ALOUD_DATA_DIR", dir.path().join("empty-data"))
        .env("ALOUD_ORT_LIB", &engine.onnxruntime)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{stderr}");
    assert!(stderr.contains("hibari.onnx"), "{stderr}");
    // Hibari is the default voice: plain `aloud setup` fetches it.
    assert!(stderr.contains("`aloud setup`"), "{stderr}");
    assert!(!stderr.contains("--voice"), "{stderr}");
    assert!(!output.exists());
    assert!(
        !dir.path().join("empty-data").exists(),
        "offline created the data dir"
    );

    let check = aloud_with_espeak(engine)
        .args([
            "setup",
            "--check",
            "--offline",
            "--voice",
            "hibari",
            "--json",
        ])
        .env("ALOUD_DATA_DIR", dir.path().join("empty-data"))
        .env("ALOUD_ORT_LIB", &engine.onnxruntime)
        .output()
        .unwrap();
    assert!(!check.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(names.contains(&"voice model hibari"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("joe")), "{names:?}");
}

/// ONNX Runtime 1.32 keeps a device id and a telemetry event store under the home directory
/// unless `ORT_DISABLE_TELEMETRY` is set when it starts; the binary sets it, so a narration
/// leaves nothing of Microsoft's in the home it ran with.
#[test]
fn a_narration_leaves_no_onnx_runtime_telemetry_in_the_home_directory() {
    let (engine, _) = assets();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let article = one_sentence_article(dir.path());
    let output = dir.path().join("a.wav");
    let run = aloud_with_espeak(engine)
        .args([
            "narrate",
            "--voice",
            "hibari",
            "--no-cache",
            "--offline",
            "-o",
        ])
        .arg(&output)
        .arg(&article)
        .env("HOME", &home)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("ORT_DISABLE_TELEMETRY")
        .env("ALOUD_DATA_DIR", AssetOptions::default().data_dir())
        .env("ALOUD_ORT_LIB", &engine.onnxruntime)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(output.exists());
    assert_eq!(names_in(&home), Vec::<String>::new(), "written in the home");
}

#[test]
fn a_file_that_is_not_onnx_runtime_is_named_and_nothing_is_written() {
    // ONNX Runtime is loaded by the first session built, not when the voice opens: the
    // failure comes with the first sentence and must still name the library and stop clean.
    let (engine, _) = assets();
    let dir = tempfile::tempdir().unwrap();
    let article = one_sentence_article(dir.path());
    let not_a_library = dir.path().join("libonnxruntime.so");
    std::fs::write(&not_a_library, b"not a shared library").unwrap();
    let output = dir.path().join("out.wav");
    let run = aloud_with_espeak(engine)
        .args([
            "narrate",
            "--voice",
            "hibari",
            "--no-cache",
            "--onnxruntime",
        ])
        .arg(&not_a_library)
        .arg("-o")
        .arg(&output)
        .arg(&article)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("hibari") && stderr.contains("cannot load ONNX Runtime"),
        "{stderr}"
    );
    assert!(stderr.contains(not_a_library.to_str().unwrap()), "{stderr}");
    let left: Vec<String> = names_in(dir.path())
        .into_iter()
        .filter(|n| n != "a.txt" && n != "libonnxruntime.so")
        .collect();
    assert!(left.is_empty(), "left {left:?}");
}
