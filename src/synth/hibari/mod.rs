//! The hibari engine: Hibari's int8 student of Kokoro's af_heart voice run in-process on ONNX
//! Runtime, misaki phonemes in, its six spectral outputs turned into 24 kHz audio by the DSP
//! ported from the wheel (`dsp.rs`).

mod approx;
pub mod dsp;
pub mod model;

use super::config::engine_error;
use super::espeak::Espeak;
use super::misaki::G2P_VERSION;
use super::phoneme_model::{
    Opening, SAMPLE_RATE, Sessions, Speaker, Vocab, read_companion, require_files, sentence_clip,
};
use super::{
    Backend, BackendEntry, BackendLimits, Billing, Clip, OpenContext, SpeechRequest,
    off_the_runtime,
};
use crate::error::Result;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use dsp::Dsp;
use model::Model;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "Hibari (Kokoro af_heart student) in-process on ONNX Runtime, 24 kHz",
    limits: LIMITS,
    billing: Billing::Free,
    open: super::Opener::Fn(open_backend),
};

const NAME: &str = "hibari";

const LIMITS: BackendLimits =
    BackendLimits::new(MAX_CHARS, DEFAULT_CONCURRENCY, &["pcm"]).with_phonemes();

/// The wheel splits sentences past 400 phonemes at clause punctuation; about 300 characters
/// of English make that many.
const MAX_CHARS: usize = 200;

/// Two sentences in flight on one-thread sessions: while one is in the model, the other is in
/// G2P or the DSP, which a single two-thread session would leave one core idle for.
const DEFAULT_CONCURRENCY: usize = 2;

fn open_backend(profile: &VoiceProfile, context: &mut OpenContext) -> Result<Arc<dyn Backend>> {
    let found = Opening::find(
        profile,
        context,
        DEFAULT_CONCURRENCY,
        |model| model.with_file_name("vocab.json"),
        Path::to_path_buf,
    )?;
    found.open_voice(profile, HibariVoice::open, |voice| {
        Arc::get_mut(&mut voice.inner).map(|inner| &mut inner.speaker)
    })
}

/// One opened hibari voice. Cloning is cheap and shares the sessions.
#[derive(Clone)]
pub struct HibariVoice {
    inner: Arc<Inner>,
}

struct Inner {
    model: Model,
    vocab: Vocab,
    vocab_digest: String,
    dsp: Dsp,
    speaker: Speaker,
}

impl HibariVoice {
    /// Opens the model at `model` with its `vocab.json`. Both must exist and the vocabulary
    /// must read; the model itself loads with the first sentence, and fails it by name.
    pub fn open(
        onnxruntime: &Path,
        espeak: Option<&'static Espeak>,
        model: &Path,
        vocab: &Path,
        profile: &VoiceProfile,
        sessions: Sessions,
    ) -> Result<Self> {
        require_files(
            &[("hibari model", model), ("hibari vocabulary", vocab)],
            &profile.name,
            "run `aloud setup` (hibari is the default voice)",
        )?;
        let (vocab_table, vocab_digest) = read_companion(NAME, vocab, |bytes| {
            Vocab::parse(&String::from_utf8_lossy(bytes))
        })?;
        Ok(HibariVoice {
            inner: Arc::new(Inner {
                model: Model::new(onnxruntime, model, sessions),
                vocab: vocab_table,
                vocab_digest,
                dsp: Dsp::new(),
                speaker: Speaker::new(
                    espeak,
                    profile,
                    profile.voice.clone().unwrap_or_else(|| "af_heart".into()),
                ),
            }),
        })
    }

    /// The phonemes the model is given for `request`.
    pub fn phonemize(&self, request: &SpeechRequest) -> Result<String> {
        self.inner.speaker.phonemize(request, NAME)
    }

    /// Speaks a phoneme string. `noise` is the DSP's noise (see [`dsp::Dsp::synthesize`]);
    /// `None` draws it from a seed fixed by the phonemes, so the same phonemes sound the same.
    pub fn synthesize_phonemes(&self, phonemes: &str, noise: Option<&[f32]>) -> Result<Vec<f32>> {
        self.inner.speak(phonemes, noise)
    }

    /// Blocking synthesis of one request.
    pub fn synthesize_blocking(&self, request: &SpeechRequest) -> Result<Clip> {
        self.inner.model.warm();
        let phonemes = self.phonemize(request)?;
        sentence_clip(request, self.inner.speak(&phonemes, None))
    }
}

impl Inner {
    fn speak(&self, phonemes: &str, noise: Option<&[f32]>) -> Result<Vec<f32>> {
        let (ids, _unknown) = self.vocab.encode(phonemes);
        if ids.len() < 3 {
            return Ok(Vec::new());
        }
        let mut samples = self
            .model
            .run(
                ids,
                self.speaker.speed,
                &self.speaker.engine_time,
                |spectra| {
                    let noise = match noise {
                        Some(values) => dsp::Noise::Given(values),
                        None => dsp::Noise::Seeded(noise_seed(phonemes)),
                    };
                    self.dsp.synthesize(&spectra, noise)
                },
            )
            .map_err(|m| engine_error(NAME, m))?;
        for s in &mut samples {
            *s = s.clamp(-1.0, 1.0);
        }
        Ok(samples)
    }

    fn model_digest(&self) -> String {
        self.speaker.model_digest.get(self.model.path())
    }
}

/// The noise seed for a phoneme string: the same phonemes sound the same every time.
fn noise_seed(phonemes: &str) -> u64 {
    let digest = Sha256::digest(phonemes.as_bytes());
    let mut seed = [0u8; 8];
    seed.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(seed)
}

#[async_trait]
impl Backend for HibariVoice {
    fn identity(&self) -> serde_json::Value {
        let inner = &self.inner;
        serde_json::json!({
            "engine": NAME,
            "model": inner.model_digest(),
            "vocab": inner.vocab_digest,
            "g2p": G2P_VERSION,
            "accent": format!("{:?}", inner.speaker.accent),
            "dsp": dsp::DSP_VERSION,
            "voice": inner.speaker.voice,
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
