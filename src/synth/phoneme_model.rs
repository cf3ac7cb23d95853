//! What the in-process engines trained on misaki phonemes (hibari, kokoro) share: Kokoro's
//! phoneme vocabulary, a pool of ONNX Runtime sessions of one model file, the 24 kHz rate,
//! the model digest their cache identity keys on, and the time spent inside the model.

use super::EngineClock;
use super::config::engine_error;
use super::espeak::Espeak;
use super::misaki::{Accent, Misaki};
use super::{Backend, Clip, OpenContext, SpeechRequest};
use crate::assets::EngineAssets;
use crate::error::{Error, Result};
use crate::voice::VoiceProfile;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::Tensor;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Once, OnceLock};
use std::time::Instant;

/// Kokoro and its students speak at 24 kHz.
pub const SAMPLE_RATE: u32 = 24_000;

/// Phoneme characters to model ids, as Kokoro's tokenizer maps them: unknown characters are
/// dropped and the sequence is wrapped in the pad id 0.
#[derive(Debug)]
pub struct Vocab {
    ids: HashMap<char, i64>,
}

impl Vocab {
    /// Reads a `vocab.json` (a JSON object of one-character keys to ids).
    pub fn read(path: &Path) -> Result<Vocab, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
        Vocab::parse(&text)
    }

    /// A vocabulary from its JSON text.
    pub fn parse(text: &str) -> Result<Vocab, String> {
        let map: HashMap<String, i64> =
            serde_json::from_str(text).map_err(|e| format!("not a phoneme vocabulary: {e}"))?;
        let mut ids = HashMap::with_capacity(map.len());
        for (key, id) in map {
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => {
                    ids.insert(c, id);
                }
                _ => return Err(format!("key {key:?} is not one character")),
            }
        }
        if ids.len() < 20 {
            return Err(format!("only {} phonemes", ids.len()));
        }
        Ok(Vocab { ids })
    }

    /// The ids for `phonemes`, with how many characters the model does not know (dropped).
    pub fn encode(&self, phonemes: &str) -> (Vec<i64>, usize) {
        let mut out = Vec::with_capacity(phonemes.len() + 2);
        out.push(0);
        let mut unknown = 0;
        for c in phonemes.chars() {
            match self.ids.get(&c) {
                Some(&id) => out.push(id),
                None => unknown += 1,
            }
        }
        out.push(0);
        (out, unknown)
    }
}

/// How an engine's sessions are made: how many run side by side, and where a copy of the model
/// already optimized by ONNX Runtime is kept (`None`: none is kept, each session optimizes the
/// model itself).
#[derive(Clone, Debug)]
pub struct Sessions {
    pub concurrency: usize,
    pub optimized_copy: Option<PathBuf>,
}

impl Sessions {
    /// `concurrency` sessions at most, each optimizing the model itself.
    pub fn new(concurrency: usize) -> Sessions {
        Sessions {
            concurrency,
            optimized_copy: None,
        }
    }
}

/// Sessions of one model file, kept for reuse: one per sentence in flight, each with its share
/// of the cores. [`SessionPool::warm`] starts building them all at once in the background, so
/// their graph optimization overlaps the G2P's start-up instead of following it.
pub struct SessionPool {
    shared: Arc<Shared>,
    /// Set by the first [`SessionPool::warm`]: each sentence calls it, one starts the builds.
    warmed: Once,
    warmers: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

struct Shared {
    /// The ONNX Runtime library, loaded by the first session built (see [`SessionPool::new`]).
    onnxruntime: PathBuf,
    path: PathBuf,
    /// Where the optimized copy of the model is kept, less the ONNX Runtime build's part of
    /// the name (see [`Shared::build`]).
    optimized_copy: Option<PathBuf>,
    making_copy: Mutex<()>,
    threads: usize,
    keep: usize,
    state: Mutex<PoolState>,
    changed: Condvar,
}

/// Sessions waiting for a sentence, and how many exist or are being built (at most `keep`).
#[derive(Default)]
struct PoolState {
    idle: Vec<Session>,
    made: usize,
}

impl SessionPool {
    /// `sessions.concurrency` sessions at most are kept, each with `cores / concurrency`
    /// threads. ONNX Runtime (the library at `onnxruntime`) is loaded by the first session
    /// built, not here: a run whose sentences all come from the cache never loads it, and
    /// one that speaks loads it beside misaki's G2P instead of before it.
    pub fn new(onnxruntime: &Path, path: &Path, sessions: Sessions) -> SessionPool {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let concurrency = sessions.concurrency.max(1);
        SessionPool {
            shared: Arc::new(Shared {
                onnxruntime: onnxruntime.to_path_buf(),
                path: path.to_path_buf(),
                optimized_copy: sessions.optimized_copy,
                making_copy: Mutex::new(()),
                threads: (cores / concurrency).max(1),
                keep: concurrency,
                state: Mutex::new(PoolState::default()),
                changed: Condvar::new(),
            }),
            warmed: Once::new(),
            warmers: Mutex::new(Vec::new()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Starts building, each on its own thread, the sessions not yet made. Called when the
    /// first sentence needs the model (not at open, so a run served from the cache builds
    /// none); a build that fails here is retried by the sentence that needs it, which reports
    /// the error.
    pub fn warm(&self) {
        self.warmed.call_once(|| {
            // Taken before any place is claimed: a claimed place must get its builder.
            let Ok(mut warmers) = self.warmers.lock() else {
                return;
            };
            let missing = {
                let Ok(mut state) = self.shared.state.lock() else {
                    return;
                };
                let missing = self.shared.keep.saturating_sub(state.made);
                state.made += missing;
                missing
            };
            for _ in 0..missing {
                let shared = Arc::clone(&self.shared);
                let spawned = std::thread::Builder::new()
                    .name("aloud-session".into())
                    .spawn(move || {
                        let built = shared.build().ok();
                        shared.settle(built);
                    });
                match spawned {
                    Ok(handle) => warmers.push(handle),
                    Err(_) => self.shared.settle(None),
                }
            }
        });
    }

    /// Runs `work` on a session of the model (one being built is waited for; one is built
    /// now if none is idle and fewer than `concurrency` exist), then keeps the session for the
    /// next sentence.
    pub fn with_session<T>(
        &self,
        work: impl FnOnce(&mut Session) -> Result<T, String>,
    ) -> Result<T, String> {
        let mut lease = Lease {
            shared: &self.shared,
            session: Some(self.session()?),
        };
        match lease.session.as_mut() {
            Some(session) => work(session),
            None => Err("the session pool lost a session".to_string()),
        }
    }

    fn session(&self) -> Result<Session, String> {
        let shared = &self.shared;
        let poisoned = || "the session pool was poisoned by a panic".to_string();
        let mut state = shared.state.lock().map_err(|_| poisoned())?;
        loop {
            if let Some(session) = state.idle.pop() {
                return Ok(session);
            }
            if state.made < shared.keep {
                state.made += 1;
                drop(state);
                return shared.build().inspect_err(|_| shared.settle(None));
            }
            state = shared.changed.wait(state).map_err(|_| poisoned())?;
        }
    }
}

impl Shared {
    /// A session of the model, from its optimized copy when one is kept: ONNX Runtime's graph
    /// optimization of hibari took 110 ms per session, loading the copy 27 ms, with outputs
    /// bit-identical and inference as fast (measured in Python on the same ONNX Runtime; in
    /// aloud the WAVs are byte-identical, Hibari's and Kokoro's). The copy is made by the
    /// first session that finds none; a copy that fails to load is made again.
    fn build(&self) -> Result<Session, String> {
        // Loaded first: the copy's name asks ONNX Runtime for its build.
        super::piper::onnx_environment(&self.onnxruntime)?;
        if let Some(copy) = self.optimized_copy_path() {
            let from_copy = || {
                copy.is_file()
                    .then(|| self.load(&copy, GraphOptimizationLevel::Disable, None).ok())
                    .flatten()
            };
            if let Some(session) = from_copy() {
                return Ok(session);
            }
            // One session makes the copy; the others wait for it rather than make their own.
            let _making = self.making_copy.lock();
            if let Some(session) = from_copy() {
                return Ok(session);
            }
            if self.make_optimized_copy(&copy).is_ok()
                && let Some(session) = from_copy()
            {
                return Ok(session);
            }
        }
        self.load(&self.path, GraphOptimizationLevel::Level3, None)
    }

    /// The copy's path for the ONNX Runtime build loaded: its optimizations are that build's.
    fn optimized_copy_path(&self) -> Option<PathBuf> {
        let stem = self.optimized_copy.as_ref()?;
        let build = hex::encode(&Sha256::digest(ort::info().as_bytes())[..6]);
        let mut name = stem.file_name()?.to_os_string();
        name.push(format!("-ort-{build}.onnx"));
        Some(stem.with_file_name(name))
    }

    /// Writes the model, optimized to level 2, to `copy` (whole or not at all). Level 3 adds
    /// layouts specific to this CPU, which ONNX Runtime warns not to save; loading the copy
    /// at level 3 cost 10 to 20 ms more per session and changed neither the samples nor the
    /// speed of Hibari or Kokoro, so the copy is loaded as it is.
    fn make_optimized_copy(&self, copy: &Path) -> Result<(), String> {
        let dir = copy.parent().ok_or("the copy has no directory")?;
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let temp = crate::fs::temp_file_beside(copy, ".onnx").map_err(|e| e.to_string())?;
        let written = self.load(
            &self.path,
            GraphOptimizationLevel::Level2,
            Some(temp.path()),
        )?;
        drop(written);
        crate::fs::persist(temp, copy).map_err(|e| e.to_string())
    }

    fn load(
        &self,
        model: &Path,
        level: GraphOptimizationLevel,
        save_to: Option<&Path>,
    ) -> Result<Session, String> {
        let fail =
            |e: &dyn std::fmt::Display| format!("cannot load model {}: {e}", self.path.display());
        let environment = super::piper::onnx_environment(&self.onnxruntime)?;
        let mut builder = Session::builder(environment).map_err(|e| fail(&e))?;
        // Sessions side by side draw on one arena: each arena of its own grows to its own
        // peak, and together they held more than one does. Measured on Hibari's two sessions
        // (medians of 9 and 7 runs, outputs byte-identical): city-council 217 to 194 MB,
        // night-sky 209 to 189 MB, seed 255 to 238 MB, wall time unchanged or lower. A single
        // session keeps its own arena, freed with it.
        if self.keep > 1 {
            shared_cpu_arena(environment).map_err(|e| fail(&e))?;
            builder = builder.with_env_allocators().map_err(|e| fail(&e))?;
        }
        if let Some(path) = save_to {
            builder = builder
                .with_optimized_model_path(path)
                .map_err(|e| fail(&e))?;
        }
        builder
            .with_intra_threads(self.threads)
            .map_err(|e| fail(&e))?
            .with_inter_threads(1)
            .map_err(|e| fail(&e))?
            .with_optimization_level(level)
            .map_err(|e| fail(&e))?
            .commit_from_file(model)
            .map_err(|e| fail(&e))
    }

    /// Returns a session to the pool, or with `None` gives up the place of one that failed to
    /// build, and wakes a sentence waiting for either.
    fn settle(&self, session: Option<Session>) {
        if let Ok(mut state) = self.state.lock() {
            match session {
                Some(session) => state.idle.push(session),
                None => state.made = state.made.saturating_sub(1),
            }
        }
        self.changed.notify_all();
    }
}

/// Registers, once per process, a CPU arena allocator (ONNX Runtime's default arena settings)
/// on the environment, which sessions built `with_env_allocators` share. It lives as long as
/// the process, at the largest size its sessions ever needed together.
fn shared_cpu_arena(environment: &ort::environment::Environment) -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| register_cpu_arena(environment))
        .clone()
        .map_err(|e| format!("cannot make a shared memory arena: {e}"))
}

fn register_cpu_arena(environment: &ort::environment::Environment) -> Result<(), String> {
    use ort::AsPointer;
    use ort::memory::{AllocationDevice, AllocatorType, MemoryInfo, MemoryType};
    let memory = MemoryInfo::new(
        AllocationDevice::CPU,
        0,
        AllocatorType::Arena,
        MemoryType::Default,
    )
    .map_err(|e| e.to_string())?;
    let api = ort::api();
    // SAFETY: both pointers come from live ort values; a null arena configuration asks for
    // ONNX Runtime's defaults. The environment keeps the allocator; nothing here is freed
    // twice.
    let status = unsafe {
        (api.CreateAndRegisterAllocator)(
            environment.ptr().cast_mut(),
            memory.ptr(),
            std::ptr::null(),
        )
    };
    if status.0.is_null() {
        return Ok(());
    }
    // SAFETY: a non-null status is ONNX Runtime's, with a NUL-terminated message; it is read
    // once and released once.
    let message = unsafe {
        let message = std::ffi::CStr::from_ptr((api.GetErrorMessage)(status.0))
            .to_string_lossy()
            .into_owned();
        (api.ReleaseStatus)(status.0);
        message
    };
    Err(message)
}

/// A session out of the pool for one sentence; it goes back even if the work panics, so no
/// sentence waits for it forever.
struct Lease<'a> {
    shared: &'a Shared,
    session: Option<Session>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.shared.settle(self.session.take());
    }
}

impl Drop for SessionPool {
    /// Waits for sessions still being built, so none is mid-build in ONNX Runtime while the
    /// process exits.
    fn drop(&mut self) {
        if let Ok(warmers) = self.warmers.get_mut() {
            for warmer in warmers.drain(..) {
                let _ = warmer.join();
            }
        }
    }
}

/// Runs `session` on `inputs`, adding the time inside ONNX Runtime (and only that: not the
/// wait for a session, not what is done with the outputs) to `clock`.
pub fn run_timed<'s>(
    session: &'s mut Session,
    inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)>,
    clock: &EngineClock,
) -> Result<ort::session::SessionOutputs<'s>, String> {
    let started = Instant::now();
    let outputs = session.run(inputs);
    clock.add(started.elapsed());
    outputs.map_err(|e| e.to_string())
}

/// A model input of phoneme ids, `[1, n]` int64, named as the model names it.
pub fn ids_input(
    name: &'static str,
    ids: Vec<i64>,
) -> Result<(Cow<'static, str>, SessionInputValue<'static>), String> {
    let tensor = Tensor::from_array(([1usize, ids.len()], ids)).map_err(|e| e.to_string())?;
    Ok((name.into(), tensor.into()))
}

/// The `speed` input, `[1]` f32 (1.0 the voice's own pace).
pub fn speed_input(speed: f32) -> Result<(Cow<'static, str>, SessionInputValue<'static>), String> {
    let tensor = Tensor::from_array(([1usize], vec![speed])).map_err(|e| e.to_string())?;
    Ok(("speed".into(), tensor.into()))
}

/// What an engine of this family opens with: the engine libraries, the model and its companion
/// file (hibari's vocabulary, a Kokoro voice's style), the model's digest and the sessions.
pub struct Opening {
    pub engine: EngineAssets,
    pub espeak: &'static Espeak,
    pub model: PathBuf,
    pub companion: PathBuf,
    pub digest: ModelDigest,
    pub sessions: Sessions,
}

impl Opening {
    /// Finds the files for `profile`: a model given by path has its companion at `config`, else
    /// at `beside_model(model)`; a built-in voice is provisioned, its companion mapped by
    /// `beside_builtin`, its model digest taken from the pin, and its optimized copy kept in
    /// the data directory's `optimized/` (a model given by path gets none: aloud writes
    /// nothing beside a user's files).
    pub fn find(
        profile: &VoiceProfile,
        context: &mut OpenContext,
        default_concurrency: usize,
        beside_model: impl Fn(&Path) -> PathBuf,
        beside_builtin: impl Fn(&Path) -> PathBuf,
    ) -> Result<Opening> {
        let engine = context.assets.engine(context.progress)?;
        let (model, companion, digest) = match profile.model_path() {
            Some(model) => {
                let companion = match &profile.config {
                    Some(_) => profile
                        .config_path()
                        .unwrap_or_else(|| beside_model(&model)),
                    None => beside_model(&model),
                };
                (model, companion, None)
            }
            None => {
                let voice = context
                    .assets
                    .builtin_voice(&profile.model, context.progress)?;
                let companion = beside_builtin(&voice.config);
                (voice.model, companion, Some(voice.model_sha256))
            }
        };
        let espeak = Espeak::load(&engine.espeak_library, &engine.espeak_data)?;
        let optimized_copy = match (&digest, model.file_stem()) {
            (Some(digest), Some(stem)) => {
                Some(context.assets.data_dir().join("optimized").join(format!(
                    "{}-{}",
                    stem.to_string_lossy(),
                    digest.get(..16).unwrap_or(digest)
                )))
            }
            _ => None,
        };
        Ok(Opening {
            engine,
            espeak,
            model,
            companion,
            digest: ModelDigest::known(digest),
            sessions: Sessions {
                concurrency: context.concurrency.unwrap_or(default_concurrency).max(1),
                optimized_copy,
            },
        })
    }

    /// Opens the voice on these files with `open` (the engine's own), then hands its speaker
    /// (found by `speaker`) the digest found here, so a built-in voice keys on its pin rather
    /// than hashing its model.
    pub fn open_voice<V: Backend + 'static>(
        self,
        profile: &VoiceProfile,
        open: impl FnOnce(
            &Path,
            Option<&'static Espeak>,
            &Path,
            &Path,
            &VoiceProfile,
            Sessions,
        ) -> Result<V>,
        speaker: impl FnOnce(&mut V) -> Option<&mut Speaker>,
    ) -> Result<Arc<dyn Backend>> {
        let mut voice = open(
            &self.engine.onnxruntime,
            Some(self.espeak),
            &self.model,
            &self.companion,
            profile,
            self.sessions,
        )?;
        if let Some(speaker) = speaker(&mut voice) {
            speaker.model_digest = self.digest;
        }
        Ok(Arc::new(voice))
    }
}

/// The model's SHA-256 for the cache identity: from its pin for a built-in voice, else
/// hashed once, on first use.
#[derive(Debug, Default)]
pub struct ModelDigest {
    digest: OnceLock<String>,
}

impl ModelDigest {
    /// A digest already known (a built-in voice's pin); `None` hashes the file when asked.
    pub fn known(digest: Option<String>) -> ModelDigest {
        let cell = OnceLock::new();
        if let Some(digest) = digest {
            let _ = cell.set(digest);
        }
        ModelDigest { digest: cell }
    }

    pub fn get(&self, path: &Path) -> String {
        self.digest
            .get_or_init(|| match crate::assets::sha256_file(path) {
                Ok((_, digest)) => digest,
                // Unreadable now although it opened: key on the path so nothing is shared.
                Err(_) => format!("unread:{}", path.display()),
            })
            .clone()
    }
}

/// What an opened voice of this family keeps besides its model: how it turns text into
/// phonemes (misaki in the profile's accent, espeak-ng for the words misaki does not know),
/// its pace and name, and the model's digest and time that it reports.
pub struct Speaker {
    pub espeak: Option<&'static Espeak>,
    pub accent: Accent,
    pub speed: f32,
    pub voice: String,
    pub engine_time: EngineClock,
    pub model_digest: ModelDigest,
}

impl Speaker {
    /// `voice` at the profile's pace and in its language's accent; the model's digest is
    /// hashed on first use unless the opener sets it from a pin.
    pub fn new(espeak: Option<&'static Espeak>, profile: &VoiceProfile, voice: String) -> Speaker {
        Speaker {
            espeak,
            accent: Accent::for_language(&profile.language),
            speed: profile.speaking_rate,
            voice,
            engine_time: EngineClock::default(),
            model_digest: ModelDigest::default(),
        }
    }

    /// The phonemes `engine`'s model is given for `request`.
    pub fn phonemize(&self, request: &SpeechRequest, engine: &str) -> Result<String> {
        Misaki::get(self.accent, self.espeak).phonemize(request, engine)
    }
}

/// What the model made of one request, as a clip at the family's rate; a failure names the
/// sentence.
pub fn sentence_clip(request: &SpeechRequest, samples: Result<Vec<f32>>) -> Result<Clip> {
    Ok(Clip {
        samples: samples.map_err(|e| in_sentence(e, &request.text))?,
        sample_rate: SAMPLE_RATE,
        words: Vec::new(),
    })
}

/// An engine's failure on one sentence, with the sentence named.
pub fn in_sentence(error: Error, text: &str) -> Error {
    match error {
        Error::Engine { backend, message } => Error::EngineSentence {
            backend,
            sentence: text.to_string(),
            message,
        },
        other => other,
    }
}

/// Reads the model's companion file (hibari's vocabulary, a Kokoro voice's style) with `parse`,
/// and its SHA-256 for the cache identity; one that does not parse fails naming the file.
pub fn read_companion<T>(
    engine: &str,
    path: &Path,
    parse: impl FnOnce(&[u8]) -> Result<T, String>,
) -> Result<(T, String)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let value =
        parse(&bytes).map_err(|m| engine_error(engine, format!("{}: {m}", path.display())))?;
    Ok((value, hex::encode(Sha256::digest(&bytes))))
}

/// Refuses to open an engine whose files are not there, naming the file and the profile.
pub fn require_files(files: &[(&str, &Path)], profile: &str, fix: &str) -> Result<()> {
    for (what, path) in files {
        if !path.is_file() {
            return Err(Error::AssetMissing {
                what: format!("{what} {}", path.display()),
                hint: format!("the voice profile '{profile}' needs it; {fix}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_padded_and_unknown_characters_dropped() {
        let letters: String = ('a'..='z')
            .enumerate()
            .map(|(i, c)| format!("\"{c}\": {}", i + 40))
            .collect::<Vec<_>>()
            .join(",");
        let vocab = Vocab::parse(&format!("{{{letters}, \" \": 16, \"ˈ\": 156}}")).unwrap();
        assert_eq!(vocab.encode("hˈi ❓"), (vec![0, 47, 156, 48, 16, 0], 1));
    }

    #[test]
    fn a_vocabulary_that_is_not_one_is_refused() {
        assert!(
            Vocab::parse("[1,2]")
                .unwrap_err()
                .contains("not a phoneme vocabulary")
        );
        assert!(
            Vocab::parse("{\"ab\": 1}")
                .unwrap_err()
                .contains("not one character")
        );
        assert!(Vocab::parse("{\"a\": 1}").unwrap_err().contains("only 1"));
        let dir = tempfile::tempdir().unwrap();
        assert!(
            Vocab::read(&dir.path().join("absent.json"))
                .unwrap_err()
                .contains("cannot read")
        );
    }

    #[test]
    fn a_known_digest_is_not_rehashed_and_an_unknown_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(
            ModelDigest::known(Some("pinned".into())).get(&path),
            "pinned"
        );
        assert_eq!(
            ModelDigest::known(None).get(&path),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(
            ModelDigest::known(None)
                .get(&dir.path().join("gone"))
                .starts_with("unread:")
        );
    }

    #[test]
    fn a_sentence_failure_names_the_sentence() {
        let error = in_sentence(engine_error("kokoro", "boom"), "Hello there.");
        assert_eq!(error.to_string(), "kokoro: sentence \"Hello there.\": boom");
    }
}
