//! The pluggable text-to-speech backend: the trait every engine implements and the registry that names them.
//!
//! Adding a backend is one new file implementing [`Backend`] plus one line in [`BACKENDS`].

pub mod azure;
pub mod command;
pub mod elevenlabs;
pub mod espeak;
pub mod google;
pub mod http;
pub mod openai;
pub mod piper;
pub mod piper_http;
pub mod polly;
pub mod ssml;
pub mod wyoming;

use crate::assets::{AssetOptions, Progress};
use crate::error::{Error, Result};
use crate::lexicon::Pronunciation;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

// A clip is audio, whoever made it: the type lives in `audio`, which every stage after the
// backends depends on, so that `audio` need not depend on `synth`.
pub use crate::audio::{Clip, WordTiming};

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

#[async_trait]
pub trait Backend: Send + Sync {
    /// Short name used in messages, e.g. `piper`.
    fn name(&self) -> &str;
    /// Rate of the clips this backend returns.
    fn sample_rate(&self) -> u32;
    fn limits(&self) -> BackendLimits;
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

/// A registered backend: the `engine` name voice profiles use, and how to open one.
pub struct BackendEntry {
    pub engine: &'static str,
    pub description: &'static str,
    /// Known before opening, so a plan can be made without loading the engine.
    pub limits: BackendLimits,
    pub billing: Billing,
    pub open: fn(&VoiceProfile, &mut OpenContext) -> Result<Arc<dyn Backend>>,
}

/// Every backend aloud knows, in the order `aloud voices` lists them.
pub static BACKENDS: &[BackendEntry] = &[
    piper::ENTRY,
    piper_http::ENTRY,
    openai::ENTRY,
    elevenlabs::ENTRY,
    google::ENTRY,
    polly::ENTRY,
    azure::ENTRY,
    wyoming::ENTRY,
    command::ENTRY,
];

fn entry_for(profile: &VoiceProfile) -> Result<&'static BackendEntry> {
    BACKENDS
        .iter()
        .find(|entry| entry.engine == profile.engine)
        .ok_or_else(|| Error::VoiceProfile {
            path: profile.name.clone().into(),
            message: format!(
                "unknown engine '{}' (known: {})",
                profile.engine,
                BACKENDS
                    .iter()
                    .map(|e| e.engine)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// The limits of the backend that speaks `profile`, without opening it.
pub fn limits_for(profile: &VoiceProfile) -> Result<BackendLimits> {
    Ok(entry_for(profile)?.limits)
}

/// How the backend that speaks `profile` bills, without opening it.
pub fn billing_for(profile: &VoiceProfile) -> Result<Billing> {
    Ok(entry_for(profile)?.billing)
}

/// Opens the backend that speaks `profile`.
pub fn open(profile: &VoiceProfile, context: &mut OpenContext) -> Result<Arc<dyn Backend>> {
    (entry_for(profile)?.open)(profile, context)
}
