//! The pluggable text-to-speech backend: the trait every engine implements and the registry that names them.
//!
//! Adding a backend is one new file implementing [`Backend`] with a `pub const ENTRY:`
//! [`BackendEntry`], plus its name in the `builtin_backends!` line below; a library user
//! registers their own in a [`Registry`] instead.

pub mod config;
pub mod espeak;
pub mod http;
pub mod misaki;
pub mod phoneme_model;
pub mod registry;
pub mod ssml;

/// Declares each built-in backend's module and lists their `ENTRY`s, in the order
/// [`Registry::builtin`] holds them: one name here is all a new backend adds outside its file.
// rustfmt does not enter modules declared inside a macro, so `cargo fmt` skips the backends'
// files: format them with `rustfmt --edition 2024 src/synth/*.rs src/synth/*/mod.rs`.
macro_rules! builtin_backends {
    ($($backend:ident),* $(,)?) => {
        $(pub mod $backend;)*

        fn builtin_entries() -> Vec<BackendEntry> {
            vec![$($backend::ENTRY),*]
        }
    };
}

builtin_backends!(
    piper, hibari, kokoro, piper_http, openai, elevenlabs, google, polly, azure, wyoming, command
);

use crate::assets::{AssetOptions, Progress};
use crate::error::Result;
use crate::lexicon::Pronunciation;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

// A clip is audio, whoever made it: the type lives in `audio`, which every stage after the
// backends depends on, so that `audio` need not depend on `synth`.
pub use crate::audio::{Clip, WordTiming};
pub use registry::{BackendEntry, OpenClosure, OpenFn, Opener, Registry};

/// One request to a backend: the text to say and, for engines that take phonemes, the
/// lexicon's pronunciations for spans of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SpeechRequest {
    pub text: String,
    /// Byte ranges of `text` with the IPA to use for them; ordered and non-overlapping.
    pub pronunciations: Vec<Pronunciation>,
    /// The text spoken just before and just after this request, for backends whose prosody
    /// follows its neighbours ([`BackendLimits::context`]); `None` for all others, so that
    /// editing one sentence does not change its neighbours' requests.
    pub previous_text: Option<String>,
    pub next_text: Option<String>,
}

impl SpeechRequest {
    pub fn plain(text: impl Into<String>) -> Self {
        SpeechRequest {
            text: text.into(),
            ..SpeechRequest::default()
        }
    }
}

/// What a backend can take in one request and how hard it may be driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendLimits {
    /// Longest text accepted in one request; longer sentences are split at clause boundaries.
    pub max_chars: usize,
    /// Requests in flight at once when the user does not say.
    pub default_concurrency: usize,
    /// Audio encodings the backend can be asked for (`wav`, `pcm`, `mp3`, ...).
    pub formats: &'static [&'static str],
    /// Whether it can report when each word is spoken.
    pub timings: bool,
    /// Whether it takes IPA for lexicon entries (others get the `say` respelling).
    pub phonemes: bool,
    /// Whether it is sent the neighbouring sentences' text for natural prosody across clips
    /// ([`SpeechRequest::previous_text`]).
    pub context: bool,
}

impl BackendLimits {
    /// Limits of a backend that reports no word timings, takes no IPA and is sent no
    /// neighbouring text; [`BackendLimits::with_timings`] and its kin say which it does.
    pub const fn new(
        max_chars: usize,
        default_concurrency: usize,
        formats: &'static [&'static str],
    ) -> Self {
        BackendLimits {
            max_chars,
            default_concurrency,
            formats,
            timings: false,
            phonemes: false,
            context: false,
        }
    }

    /// It reports when each word is spoken.
    pub const fn with_timings(self) -> Self {
        BackendLimits {
            timings: true,
            ..self
        }
    }

    /// It takes IPA for lexicon entries.
    pub const fn with_phonemes(self) -> Self {
        BackendLimits {
            phonemes: true,
            ..self
        }
    }

    /// It is sent the neighbouring sentences' text.
    pub const fn with_context(self) -> Self {
        BackendLimits {
            context: true,
            ..self
        }
    }
}

/// One opened voice of an engine. What is true of the engine whatever the voice (its name,
/// its [`BackendLimits`]) is not asked of it: that is its [`BackendEntry`]'s.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Rate of the clips this backend returns.
    fn sample_rate(&self) -> u32;
    /// Speaks one request (a sentence, or a clause-sized piece of a long one).
    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip>;
    /// Everything besides the request that shapes the audio: engine, model and its version,
    /// voice, endpoint, format and synthesis settings. Two backends with equal identities
    /// must say a request the same way; the sentence cache keys on it. Never a credential.
    fn identity(&self) -> serde_json::Value;
    /// Total time spent inside the engine proper so far (for benchmarks).
    fn engine_time(&self) -> Duration {
        Duration::ZERO
    }
}

/// Time spent inside an engine, summed over the requests of every thread: what
/// [`Backend::engine_time`] reports.
#[derive(Debug, Default)]
pub struct EngineClock {
    nanos: AtomicU64,
}

impl EngineClock {
    pub fn add(&self, spent: Duration) {
        self.nanos.fetch_add(
            u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

/// Runs a CPU-bound engine's `blocking` synthesis on the blocking pool, so the async side
/// keeps scheduling other sentences meanwhile; a task that dies fails as `engine`'s error.
pub async fn off_the_runtime<T: Send + 'static>(
    engine: &str,
    blocking: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(blocking)
        .await
        .map_err(|e| config::engine_error(engine, format!("synthesis task failed: {e}")))?
}

/// What a backend may need while it opens: where assets live and where to report provisioning.
pub struct OpenContext<'a> {
    pub assets: &'a AssetOptions,
    pub progress: &'a mut dyn FnMut(Progress),
    /// Requests the caller intends to run at once (lets engines size their worker pools).
    pub concurrency: Option<usize>,
}

/// How a backend's service charges for what it is sent; `aloud plan` estimates with it and the
/// voice profile's `[pricing]`.
#[derive(Clone, Copy)]
pub enum Billing {
    /// Runs here or on the user's own server: no charge.
    Free,
    /// Billed per character sent. `passes` is how many times each request's text is sent
    /// (and billed) for `profile`: Polly sends it twice when it also fetches speech marks.
    PerCharacter { passes: fn(&VoiceProfile) -> u32 },
}

impl Billing {
    /// A cloud service that is sent each request once.
    pub const ONCE: Billing = Billing::PerCharacter { passes: |_| 1 };
}

/// The limits of the backend that speaks `profile`, without opening it.
pub fn limits_for(profile: &VoiceProfile) -> Result<BackendLimits> {
    registry::builtin().limits_for(profile)
}

/// How the backend that speaks `profile` bills, without opening it.
pub fn billing_for(profile: &VoiceProfile) -> Result<Billing> {
    registry::builtin().billing_for(profile)
}

/// Opens the backend that speaks `profile`, among aloud's own.
pub fn open(profile: &VoiceProfile, context: &mut OpenContext) -> Result<Arc<dyn Backend>> {
    registry::builtin().open(profile, context)
}
