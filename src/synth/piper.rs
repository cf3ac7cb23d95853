//! The embedded engine: Piper voices run in-process on ONNX Runtime, one inference per sentence.

use super::config::engine_error;
use super::espeak::Espeak;
use super::{
    Backend, BackendEntry, BackendLimits, Billing, Clip, EngineClock, OpenContext, SpeechRequest,
    off_the_runtime,
};
use crate::error::{Error, Result};
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::Tensor;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "Piper voices in-process on ONNX Runtime (no server, no key)",
    limits: LIMITS,
    billing: Billing::Free,
    open: super::Opener::Fn(open_backend),
};

const LIMITS: BackendLimits =
    BackendLimits::new(MAX_CHARS, DEFAULT_CONCURRENCY, &["pcm"]).with_phonemes();

const NAME: &str = "piper";

/// Piper's memory grows with the audio one inference produces (ONNX Runtime's arena keeps its
/// peak): on the seed article, the longest piece at 400 characters peaked at 580 MB, at 250 at
/// 553 MB, at 200 at 362 MB, with the same speed. Longer sentences are split at clause
/// boundaries, where a reader would breathe anyway.
const MAX_CHARS: usize = 200;

fn open_backend(profile: &VoiceProfile, context: &mut OpenContext) -> Result<Arc<dyn Backend>> {
    let engine = context.assets.engine(context.progress)?;
    let (model, config, model_sha256) = match profile.model_path() {
        Some(model) => {
            let config = profile.config_path().unwrap_or_else(|| model.clone());
            (model, config, None)
        }
        None => {
            let voice = context
                .assets
                .builtin_voice(&profile.model, context.progress)?;
            (voice.model, voice.config, Some(voice.model_sha256))
        }
    };
    let concurrency = context.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1);
    let voice = PiperVoice::open(
        &engine.onnxruntime,
        &engine.espeak_library,
        &engine.espeak_data,
        &model,
        &config,
        profile,
        concurrency,
    )?;
    if let Some(digest) = model_sha256 {
        voice.know_model_digest(digest);
    }
    Ok(Arc::new(voice))
}

/// One session using every core: measured here on 2 cores, a sentence took 0.67 s with two
/// intra-op threads against 1.23 s with one, so two single-threaded sessions would gain nothing
/// in throughput and cost a second copy of the model in memory.
const DEFAULT_CONCURRENCY: usize = 1;

/// The parts of a Piper `.onnx.json` that synthesis needs.
#[derive(Debug, Deserialize)]
struct PiperConfig {
    audio: AudioConfig,
    #[serde(default)]
    espeak: Option<EspeakConfig>,
    #[serde(default)]
    inference: InferenceConfig,
    #[serde(default = "default_phoneme_type")]
    phoneme_type: String,
    phoneme_id_map: HashMap<String, Vec<i64>>,
    #[serde(default)]
    num_speakers: u32,
}

#[derive(Debug, Deserialize)]
struct AudioConfig {
    sample_rate: u32,
}

#[derive(Debug, Deserialize)]
struct EspeakConfig {
    voice: String,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct InferenceConfig {
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        InferenceConfig {
            noise_scale: 0.667,
            length_scale: 1.0,
            noise_w: 0.8,
        }
    }
}

fn default_phoneme_type() -> String {
    "espeak".to_string()
}

/// Maps phoneme characters to the ids a voice was trained with, wrapped and interspersed
/// the way Piper does: BOS, PAD, then each phoneme followed by PAD, then EOS.
#[derive(Debug)]
pub struct PhonemeIds {
    ids: HashMap<char, Vec<i64>>,
    bos: Vec<i64>,
    eos: Vec<i64>,
    pad: Vec<i64>,
}

impl PhonemeIds {
    fn from_map(map: &HashMap<String, Vec<i64>>) -> std::result::Result<Self, String> {
        let mut ids = HashMap::new();
        for (key, value) in map {
            let mut chars = key.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                ids.insert(c, value.clone());
            }
        }
        let special = |c: char| {
            ids.get(&c)
                .cloned()
                .ok_or_else(|| format!("phoneme_id_map lacks '{c}'"))
        };
        Ok(PhonemeIds {
            bos: special('^')?,
            eos: special('$')?,
            pad: special('_')?,
            ids,
        })
    }

    /// Returns the id sequence and how many phoneme characters the voice does not know.
    pub fn encode(&self, phonemes: &str) -> (Vec<i64>, usize) {
        use unicode_normalization::UnicodeNormalization;
        let mut out = Vec::with_capacity(phonemes.len() * 2 + 4);
        out.extend_from_slice(&self.bos);
        out.extend_from_slice(&self.pad);
        let mut unknown = 0;
        // Piper's phonemizer decomposes (NFD) so that combining marks map to their own ids.
        for c in phonemes.nfd() {
            match self.ids.get(&c) {
                Some(id) => {
                    out.extend_from_slice(id);
                    out.extend_from_slice(&self.pad);
                }
                None => unknown += 1,
            }
        }
        out.extend_from_slice(&self.eos);
        (out, unknown)
    }
}

/// One loaded Piper voice with a small pool of ONNX sessions, one per concurrent inference.
/// Cloning is cheap and shares the sessions.
#[derive(Clone)]
pub struct PiperVoice {
    inner: Arc<PiperInner>,
}

struct PiperInner {
    environment: &'static ort::environment::Environment,
    espeak: &'static Espeak,
    espeak_voice: String,
    model: PathBuf,
    phoneme_ids: PhonemeIds,
    sample_rate: u32,
    scales: [f32; 3],
    speaker: Option<i64>,
    threads_per_session: usize,
    concurrency: usize,
    idle_sessions: Mutex<Vec<Session>>,
    engine_time: EngineClock,
    /// SHA-256 of the voice's `.onnx.json`.
    config_digest: String,
    /// SHA-256 of the model file, computed on first use (only the sentence cache needs it).
    model_digest: OnceLock<String>,
}

/// Bumped whenever aloud's text-to-phoneme path changes what a sentence sounds like, so cached
/// clips made by an older phonemizer are not reused. 2: espeak-ng no longer carries a closing
/// quote from one sentence into the next (clips made after such a sentence could differ).
const PHONEMIZER_VERSION: u32 = 2;

impl PiperInner {
    fn model_digest(&self) -> String {
        self.model_digest
            .get_or_init(|| match crate::assets::sha256_file(&self.model) {
                Ok((_, digest)) => digest,
                // Unreadable now although it opened: key on the path so nothing is shared.
                Err(_) => format!("unread:{}", self.model.display()),
            })
            .clone()
    }
}

static ONNX_RUNTIME: OnceLock<std::result::Result<ort::environment::Environment, String>> =
    OnceLock::new();

/// ONNX Runtime can be loaded once per process; the first library path wins.
pub(crate) fn onnx_runtime(library: &Path) -> Result<&'static ort::environment::Environment> {
    onnx_environment(library).map_err(|message| engine_error(NAME, message))
}

/// [`onnx_runtime`], its failure as a bare message for the engine that asked to name.
pub(crate) fn onnx_environment(
    library: &Path,
) -> std::result::Result<&'static ort::environment::Environment, String> {
    ONNX_RUNTIME
        .get_or_init(|| {
            let builder = ort::init_from(library)
                .map_err(|e| format!("cannot load ONNX Runtime {}: {e}", library.display()))?;
            // No telemetry events (the binary also sets ORT_DISABLE_TELEMETRY, which keeps
            // the runtime from writing its device id and event store at all: see main.rs).
            builder
                .with_name("aloud")
                .with_telemetry(false)
                .build()
                .map_err(|e| format!("cannot start ONNX Runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl PiperVoice {
    pub fn open(
        onnxruntime: &Path,
        espeak_library: &Path,
        espeak_data: &Path,
        model: &Path,
        config: &Path,
        profile: &VoiceProfile,
        concurrency: usize,
    ) -> Result<Self> {
        for (what, path) in [("voice model", model), ("voice config", config)] {
            if !path.is_file() {
                return Err(Error::AssetMissing {
                    what: format!("{what} {}", path.display()),
                    hint: format!(
                        "the voice profile '{}' points at it; give the path of a Piper .onnx and its .onnx.json",
                        profile.name
                    ),
                });
            }
        }
        let config_text = std::fs::read_to_string(config).map_err(|e| Error::io(config, e))?;
        let config: PiperConfig =
            serde_json::from_str(&config_text).map_err(|e| Error::VoiceProfile {
                path: config.to_path_buf(),
                message: format!("not a Piper voice config: {e}"),
            })?;
        if config.phoneme_type != "espeak" {
            return Err(engine_error(
                NAME,
                format!(
                    "{}: phoneme_type '{}' is not supported (only espeak)",
                    model.display(),
                    config.phoneme_type
                ),
            ));
        }
        let phoneme_ids = PhonemeIds::from_map(&config.phoneme_id_map)
            .map_err(|m| engine_error(NAME, format!("{}: {m}", model.display())))?;
        let espeak_voice = config
            .espeak
            .as_ref()
            .map(|e| e.voice.clone())
            .unwrap_or_else(|| profile.language.to_lowercase());
        let speaker = match (config.num_speakers > 1, profile.speaker) {
            (true, speaker) => Some(speaker.unwrap_or(0)),
            (false, _) => None,
        };
        let inference = &config.inference;
        let scales = [
            profile.noise_scale.unwrap_or(inference.noise_scale),
            inference.length_scale / profile.speaking_rate,
            profile.noise_w.unwrap_or(inference.noise_w),
        ];

        let environment = onnx_runtime(onnxruntime)?;
        let espeak = Espeak::load(espeak_library, espeak_data)?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let voice = PiperInner {
            environment,
            espeak,
            espeak_voice,
            model: model.to_path_buf(),
            phoneme_ids,
            sample_rate: config.audio.sample_rate,
            scales,
            speaker,
            threads_per_session: (cores / concurrency).max(1),
            concurrency,
            idle_sessions: Mutex::new(Vec::new()),
            engine_time: EngineClock::default(),
            config_digest: hex::encode(Sha256::digest(config_text.as_bytes())),
            model_digest: OnceLock::new(),
        };
        // Sessions are made on first use: building one costs about 0.4 s, which a run whose
        // every clip comes from the cache (or `aloud plan`, which only needs the identity)
        // should not pay. A model that cannot load fails its first sentence, by name, before
        // any output is written.
        Ok(PiperVoice {
            inner: Arc::new(voice),
        })
    }

    /// Records the model's SHA-256 when it is already known (a built-in voice verified
    /// against its pin), so it is not hashed again for the cache key.
    pub fn know_model_digest(&self, digest: String) {
        let _ = self.inner.model_digest.set(digest);
    }

    /// The phonemes Piper will be given for `request`, with clause punctuation kept and the
    /// lexicon's IPA spliced in where it has any.
    pub fn phonemize(&self, request: &SpeechRequest) -> Result<String> {
        self.inner.phonemize(request)
    }

    /// Blocking synthesis of one request.
    pub fn synthesize_blocking(&self, request: &SpeechRequest) -> Result<Clip> {
        self.inner.synthesize_blocking(request)
    }
}

impl PiperInner {
    fn new_session(&self) -> Result<Session> {
        let fail = |e: String| engine_error(NAME, format!("{}: {e}", self.model.display()));
        Session::builder(self.environment)
            .map_err(|e| fail(e.to_string()))?
            .with_intra_threads(self.threads_per_session)
            .map_err(|e| fail(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| fail(e.to_string()))?
            // Basic graph optimizations only: on joe-medium, full optimization cost 0.23 s
            // more at start-up and sped inference up by nothing measurable (7.35 s against
            // 7.30 s of inference for the city-council sample).
            .with_optimization_level(GraphOptimizationLevel::Level1)
            .map_err(|e| fail(e.to_string()))?
            .commit_from_file(&self.model)
            .map_err(|e| fail(e.to_string()))
    }

    fn take_session(&self) -> Result<Session> {
        let pooled = self
            .idle_sessions
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop());
        match pooled {
            Some(session) => Ok(session),
            None => self.new_session(),
        }
    }

    fn return_session(&self, session: Session) {
        if let Ok(mut pool) = self.idle_sessions.lock()
            && pool.len() < self.concurrency
        {
            pool.push(session);
        }
    }

    fn phonemize(&self, request: &SpeechRequest) -> Result<String> {
        let text = &request.text;
        let mut phonemes = String::new();
        let mut spoken_to = 0;
        for pronunciation in &request.pronunciations {
            let range = &pronunciation.range;
            // A malformed span is ignored rather than trusted: the words are still spoken.
            let Some(before) = text.get(spoken_to..range.start) else {
                continue;
            };
            if range.end > text.len() || !text.is_char_boundary(range.end) {
                continue;
            }
            self.phonemize_segment(&mut phonemes, before)?;
            join_phonemes(&mut phonemes, &pronunciation.ipa);
            spoken_to = range.end;
        }
        self.phonemize_segment(&mut phonemes, &text[spoken_to..])?;
        Ok(phonemes)
    }

    /// Appends the phonemes of a run of text. A clause mark that opens the run (the comma in
    /// ", please" after a lexicon word) is kept: espeak-ng drops punctuation before any word.
    fn phonemize_segment(&self, phonemes: &mut String, segment: &str) -> Result<()> {
        let spoken = self.espeak.phonemize(segment, &self.espeak_voice)?;
        let leading_mark = segment
            .trim_start()
            .chars()
            .next()
            .filter(|c| CLAUSE_MARKS.contains(c));
        if let Some(mark) = leading_mark
            && !spoken.starts_with(CLAUSE_MARKS)
        {
            join_phonemes(phonemes, &mark.to_string());
        }
        join_phonemes(phonemes, &spoken);
        Ok(())
    }

    fn synthesize_blocking(&self, request: &SpeechRequest) -> Result<Clip> {
        let phonemes = self.phonemize(request)?;
        let (ids, _unknown) = self.phoneme_ids.encode(&phonemes);
        let mut session = self.take_session()?;
        let started = Instant::now();
        let result = self.infer(&mut session, ids);
        self.engine_time.add(started.elapsed());
        self.return_session(session);
        let samples = result.map_err(|m| engine_error(NAME, m))?;
        Ok(Clip {
            samples,
            sample_rate: self.sample_rate,
            words: Vec::new(),
        })
    }

    fn infer(&self, session: &mut Session, ids: Vec<i64>) -> std::result::Result<Vec<f32>, String> {
        let length = ids.len();
        let tensor_error = |e: ort::Error| e.to_string();
        let mut inputs: Vec<(Cow<str>, SessionInputValue)> = vec![
            (
                "input".into(),
                Tensor::from_array(([1usize, length], ids))
                    .map_err(tensor_error)?
                    .into(),
            ),
            (
                "input_lengths".into(),
                Tensor::from_array(([1usize], vec![length as i64]))
                    .map_err(tensor_error)?
                    .into(),
            ),
            (
                "scales".into(),
                Tensor::from_array(([3usize], self.scales.to_vec()))
                    .map_err(tensor_error)?
                    .into(),
            ),
        ];
        if let Some(speaker) = self.speaker {
            inputs.push((
                "sid".into(),
                Tensor::from_array(([1usize], vec![speaker]))
                    .map_err(tensor_error)?
                    .into(),
            ));
        }
        let outputs = session.run(inputs).map_err(|e| e.to_string())?;
        if outputs.len() == 0 {
            return Err("the model produced no output".to_string());
        }
        let (_, audio) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| e.to_string())?;
        Ok(audio.iter().map(|s| s.clamp(-1.0, 1.0)).collect())
    }
}

/// The punctuation Piper voices hear, as espeak-ng's clause terminators.
const CLAUSE_MARKS: [char; 6] = [',', '.', ';', ':', '?', '!'];

/// Appends a phoneme run, separated by a word break unless it starts with punctuation.
fn join_phonemes(phonemes: &mut String, next: &str) {
    let next = next.trim();
    if next.is_empty() {
        return;
    }
    let attaches = next.starts_with(CLAUSE_MARKS);
    if !phonemes.is_empty() && !attaches {
        phonemes.push(' ');
    }
    phonemes.push_str(next);
}

#[async_trait]
impl Backend for PiperVoice {
    fn identity(&self) -> serde_json::Value {
        let inner = &self.inner;
        serde_json::json!({
            "engine": NAME,
            "phonemizer": PHONEMIZER_VERSION,
            "model": inner.model_digest(),
            "espeak_voice": inner.espeak_voice,
            "config": inner.config_digest,
            "sample_rate": inner.sample_rate,
            "scales": inner.scales,
            "speaker": inner.speaker,
        })
    }

    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        let inner = Arc::clone(&self.inner);
        let request = request.clone();
        off_the_runtime(NAME, move || inner.synthesize_blocking(&request)).await
    }

    fn engine_time(&self) -> Duration {
        self.inner.engine_time.total()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joe_like_map() -> HashMap<String, Vec<i64>> {
        [
            ("_", 0),
            ("^", 1),
            ("$", 2),
            (" ", 3),
            ("h", 20),
            ("ə", 59),
            (".", 10),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), vec![v]))
        .collect()
    }

    #[test]
    fn ids_are_wrapped_and_interspersed_like_piper() {
        let map = PhonemeIds::from_map(&joe_like_map()).unwrap();
        let (ids, unknown) = map.encode("hə.");
        assert_eq!(ids, vec![1, 0, 20, 0, 59, 0, 10, 0, 2]);
        assert_eq!(unknown, 0);
    }

    #[test]
    fn unknown_phonemes_are_counted_not_sent() {
        let map = PhonemeIds::from_map(&joe_like_map()).unwrap();
        let (ids, unknown) = map.encode("hq");
        assert_eq!(ids, vec![1, 0, 20, 0, 2]);
        assert_eq!(unknown, 1);
    }

    #[test]
    fn phoneme_runs_join_with_word_breaks_but_punctuation_attaches() {
        let mut phonemes = String::new();
        for run in ["hˈɛloʊ", "ŋwˈɪn", ", hˈaʊ", "", "  ", "ɑːɹ juː?"] {
            join_phonemes(&mut phonemes, run);
        }
        assert_eq!(phonemes, "hˈɛloʊ ŋwˈɪn, hˈaʊ ɑːɹ juː?");
    }

    #[test]
    fn a_map_without_specials_is_rejected() {
        let mut map = joe_like_map();
        map.remove("^");
        assert!(PhonemeIds::from_map(&map).unwrap_err().contains('^'));
    }
}
