//! The kokoro engine: Kokoro-82M v1.0 (int8) run in-process on ONNX Runtime, misaki phonemes
//! and one of Kokoro's voice style tensors in, 24 kHz audio out; aloud's best-quality and
//! slowest embedded voice.

pub mod model;
pub mod style;

use super::config::engine_error;
use super::espeak::Espeak;
use super::misaki::G2P_VERSION;
use super::phoneme_model::{
    Opening, SAMPLE_RATE, SessionPool, Sessions, Speaker, Vocab, read_companion, require_files,
    sentence_clip,
};
use super::{
    Backend, BackendEntry, BackendLimits, Billing, Clip, OpenContext, SpeechRequest,
    off_the_runtime,
};
use crate::error::{Error, Result};
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use style::Style;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "Kokoro-82M v1.0 (int8) in-process on ONNX Runtime, 24 kHz: best quality, slower",
    limits: LIMITS,
    billing: Billing::Free,
    open: super::Opener::Fn(open_backend),
};

const NAME: &str = "kokoro";

/// No timings: the int8 export outputs the waveform only, no per-phoneme durations to time
/// words by.
const LIMITS: BackendLimits =
    BackendLimits::new(MAX_CHARS, DEFAULT_CONCURRENCY, &["pcm"]).with_phonemes();

/// The model takes 510 phonemes at most; 250 characters of English make about 250 phonemes,
/// leaving room for numbers and abbreviations spoken in full.
const MAX_CHARS: usize = 250;

/// One sentence at a time on a session with every core: ONNX Runtime keeps both cores busy
/// inside the model, which is where nearly all of Kokoro's time goes, and a second session
/// would double the 600 MB the model takes.
const DEFAULT_CONCURRENCY: usize = 1;

/// The voice a profile without one speaks.
pub const DEFAULT_VOICE: &str = "af_heart";

/// Kokoro's phoneme vocabulary (its `config.json`'s `vocab`), the one misaki writes.
static VOCAB: LazyLock<std::result::Result<Vocab, String>> =
    LazyLock::new(|| Vocab::parse(include_str!("vocab.json")));

fn open_backend(profile: &VoiceProfile, context: &mut OpenContext) -> Result<Arc<dyn Backend>> {
    // Refused by name before anything is fetched for it.
    let name = voice_name(profile)?;
    // The built-in voice's style file sits among all of Kokoro's (hash-checked as one tree):
    // the profile's voice picks its own.
    let found = Opening::find(
        profile,
        context,
        DEFAULT_CONCURRENCY,
        |model| style_beside(model, &name),
        |builtin| style_beside(builtin, &name),
    )?;
    found.open_voice(profile, KokoroVoice::open, |voice| {
        Arc::get_mut(&mut voice.inner).map(|inner| &mut inner.speaker)
    })
}

/// `NAME.bin` in the directory of `path`.
fn style_beside(path: &Path, name: &str) -> PathBuf {
    path.with_file_name(format!("{name}.bin"))
}

/// The profile's Kokoro voice, refused by name (listing the known ones) when Kokoro has no
/// English voice of that name.
pub fn voice_name(profile: &VoiceProfile) -> Result<String> {
    let name = profile.voice.as_deref().unwrap_or(DEFAULT_VOICE);
    if style::is_voice(name) {
        return Ok(name.to_string());
    }
    Err(Error::UnknownVoice {
        name: name.to_string(),
        searched: format!(
            "Kokoro's English voices, for profile '{}': {}",
            profile.name,
            style::VOICES.join(", ")
        ),
    })
}

/// One opened kokoro voice. Cloning is cheap and shares the sessions.
#[derive(Clone)]
pub struct KokoroVoice {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SessionPool,
    style: Style,
    style_digest: String,
    speaker: Speaker,
}

impl KokoroVoice {
    /// Opens the model at `model` with the voice's style tensor at `style`. Both must exist,
    /// the voice must be one of Kokoro's English voices and the tensor must read; the model
    /// itself loads with the first sentence, and fails it by name.
    pub fn open(
        onnxruntime: &Path,
        espeak: Option<&'static Espeak>,
        model: &Path,
        style: &Path,
        profile: &VoiceProfile,
        sessions: Sessions,
    ) -> Result<Self> {
        let voice = voice_name(profile)?;
        require_files(
            &[("kokoro model", model), ("kokoro voice style", style)],
            &profile.name,
            &format!("run `aloud setup --voice {}`", profile.name),
        )?;
        let (style_table, style_digest) = read_companion(NAME, style, Style::from_bytes)?;
        Ok(KokoroVoice {
            inner: Arc::new(Inner {
                pool: SessionPool::new(onnxruntime, model, sessions),
                style: style_table,
                style_digest,
                speaker: Speaker::new(espeak, profile, voice),
            }),
        })
    }

    /// The phonemes the model is given for `request`.
    pub fn phonemize(&self, request: &SpeechRequest) -> Result<String> {
        self.inner.speaker.phonemize(request, NAME)
    }

    /// The model's ids for a phoneme string: pad, the known phonemes, pad.
    pub fn tokens(phonemes: &str) -> Result<Vec<i64>> {
        let vocab = VOCAB
            .as_ref()
            .map_err(|m| engine_error(NAME, format!("the built-in vocabulary: {m}")))?;
        Ok(vocab.encode(phonemes).0)
    }

    /// Speaks a phoneme string.
    pub fn synthesize_phonemes(&self, phonemes: &str) -> Result<Vec<f32>> {
        self.inner.speak(phonemes)
    }

    /// Blocking synthesis of one request.
    pub fn synthesize_blocking(&self, request: &SpeechRequest) -> Result<Clip> {
        self.inner.pool.warm();
        let phonemes = self.phonemize(request)?;
        sentence_clip(request, self.inner.speak(&phonemes))
    }
}

impl Inner {
    fn speak(&self, phonemes: &str) -> Result<Vec<f32>> {
        let ids = KokoroVoice::tokens(phonemes)?;
        let tokens = ids.len().saturating_sub(2);
        if tokens == 0 {
            return Ok(Vec::new());
        }
        if tokens > style::MAX_TOKENS {
            return Err(engine_error(
                NAME,
                format!(
                    "{tokens} phonemes, and the model takes {} at most; split the sentence",
                    style::MAX_TOKENS
                ),
            ));
        }
        let mut samples = model::run(
            &self.pool,
            ids,
            self.style.row(tokens),
            self.speaker.speed,
            &self.speaker.engine_time,
        )
        .map_err(|m| engine_error(NAME, m))?;
        for s in &mut samples {
            *s = s.clamp(-1.0, 1.0);
        }
        Ok(samples)
    }
}

#[async_trait]
impl Backend for KokoroVoice {
    fn identity(&self) -> serde_json::Value {
        let inner = &self.inner;
        serde_json::json!({
            "engine": NAME,
            "model": inner.speaker.model_digest.get(inner.pool.path()),
            "g2p": G2P_VERSION,
            "accent": format!("{:?}", inner.speaker.accent),
            "voice": inner.speaker.voice,
            "style": inner.style_digest,
            "speed": inner.speaker.speed,
            "sample_rate": SAMPLE_RATE,
        })
    }

    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        let voice = self.clone();
        let request = request.clone();
        off_the_runtime(NAME, move || voice.synthesize_blocking(&request)).await
    }

    fn engine_time(&self) -> Duration {
        self.inner.speaker.engine_time.total()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Kokoro profile, choosing `voice` or leaving it to the default.
    fn profile(voice: Option<&str>) -> VoiceProfile {
        crate::synth::config::test_profile_of(
            "k",
            "kokoro",
            "en-US",
            voice,
            "model='kokoro-af_heart'\n",
        )
    }

    #[test]
    fn ids_are_kokoros_vocabulary_padded_with_zero() {
        // ð 81, ə 83, space 16, k 53, æ 72, t 62; the stress mark ˈ 156; ❓ is not Kokoro's.
        assert_eq!(
            KokoroVoice::tokens("ðə kˈæt❓").unwrap(),
            vec![0, 81, 83, 16, 53, 156, 72, 62, 0]
        );
        assert_eq!(KokoroVoice::tokens("").unwrap(), vec![0, 0]);
    }

    #[test]
    fn an_unknown_voice_is_refused_naming_the_known_ones() {
        assert_eq!(voice_name(&profile(None)).unwrap(), "af_heart");
        assert_eq!(voice_name(&profile(Some("bf_emma"))).unwrap(), "bf_emma");
        let error = voice_name(&profile(Some("af_nobody"))).unwrap_err();
        let Error::UnknownVoice { name, searched } = &error else {
            panic!("expected UnknownVoice, got {error:?}");
        };
        assert_eq!(name, "af_nobody");
        assert!(searched.contains("af_heart, "), "{searched}");
        assert!(searched.contains("bm_lewis"), "{searched}");
        assert!(searched.contains("profile 'k'"), "{searched}");
    }

    #[test]
    fn an_unknown_voice_is_refused_before_any_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("absent");
        let result = KokoroVoice::open(
            &absent,
            None,
            &absent,
            &absent,
            &profile(Some("ff_siwis")),
            Sessions::new(1),
        );
        assert!(matches!(result, Err(Error::UnknownVoice { .. })));
        let result = KokoroVoice::open(
            &absent,
            None,
            &absent,
            &absent,
            &profile(None),
            Sessions::new(1),
        );
        let Err(Error::AssetMissing { what, hint }) = result else {
            panic!("expected AssetMissing");
        };
        assert!(what.contains("kokoro model"), "{what}");
        assert!(hint.contains("aloud setup --voice k"), "{hint}");
    }

    #[test]
    fn a_profiles_voice_picks_its_style_file_beside_the_built_in_one() {
        assert_eq!(
            style_beside(Path::new("/d/voices/af_heart.bin"), "bf_emma"),
            Path::new("/d/voices/bf_emma.bin")
        );
    }
}
