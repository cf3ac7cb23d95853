//! OpenAI's speech API and servers that copy it: `POST {base}/v1/audio/speech` with
//! `{model, input, voice, response_format, speed}`, answered with the audio itself.
//!
//! Profile options: `base_url` (else `OPENAI_BASE_URL`, else <https://api.openai.com>), `model`
//! (else the profile's `model`, else `gpt-4o-mini-tts`), `format` (`wav`, default, `pcm`, `mp3` or `flac`),
//! plus the timeouts and retries of [`super::http::HttpSettings`]. The key comes from
//! `OPENAI_API_KEY` only; servers on this machine usually need none.

use super::config::{self, profile_error};
use super::http::{self, ApiKey, Connection, Expect, HttpSettings};
use super::{Backend, BackendEntry, BackendLimits, Billing, Clip, SpeechRequest};
use crate::error::Result;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use std::sync::Arc;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "OpenAI's speech API or a compatible server (OPENAI_API_KEY, OPENAI_BASE_URL)",
    limits: LIMITS,
    billing: Billing::ONCE,
    open: super::Opener::Fn(|profile, _| Ok(Arc::new(OpenAi::open(profile)?))),
};

const LIMITS: BackendLimits =
    BackendLimits::new(4096, 4, &["wav", "pcm", "mp3", "flac", "opus", "aac"]);

const NAME: &str = "openai";
const KEY_VAR: &str = "OPENAI_API_KEY";
const DEFAULT_BASE: &str = "https://api.openai.com";
const DEFAULT_MODEL: &str = "gpt-4o-mini-tts";
const DEFAULT_VOICE: &str = "alloy";
/// OpenAI's `pcm` is 24 kHz signed 16-bit little-endian mono, and its `wav` the same in a
/// header; clips at another rate (a compatible server's own voice) are resampled to this.
pub const SAMPLE_RATE: u32 = 24_000;
/// Encodings aloud can decode: OpenAI's `opus` is Ogg Opus and `aac` is ADTS, neither of
/// which `aloud::audio` reads.
const DECODED: &[&str] = &["wav", "pcm", "mp3", "flac"];

/// What one request says, beyond the text.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechSettings {
    pub model: String,
    pub voice: String,
    pub format: String,
    pub speed: f32,
}

impl SpeechSettings {
    pub fn from_profile(profile: &VoiceProfile) -> Result<Self> {
        let model = config::model(profile, DEFAULT_MODEL)?;
        let format = config::choice(profile, "format", "wav", LIMITS.formats)?;
        if !DECODED.contains(&format.as_str()) {
            return Err(profile_error(
                profile,
                format!(
                    "options.format '{format}' cannot be decoded by aloud; use wav, pcm, mp3 or flac"
                ),
            ));
        }
        Ok(SpeechSettings {
            model,
            voice: profile
                .voice
                .clone()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_VOICE.to_string()),
            format,
            speed: profile.speaking_rate,
        })
    }

    /// The JSON body of `POST /v1/audio/speech` for `input`.
    pub fn body(&self, input: &str) -> serde_json::Value {
        serde_json::json!({
            "model": self.model,
            "input": input,
            "voice": self.voice,
            "response_format": self.format,
            "speed": self.speed,
        })
    }
}

/// The request body aloud would send for `profile` and `text` (for contract tests).
pub fn request_body(profile: &VoiceProfile, text: &str) -> Result<serde_json::Value> {
    Ok(SpeechSettings::from_profile(profile)?.body(text))
}

pub struct OpenAi {
    connection: Connection,
    key: Option<ApiKey>,
    speech: SpeechSettings,
}

impl OpenAi {
    pub fn open(profile: &VoiceProfile) -> Result<Self> {
        let settings = HttpSettings::from_profile(profile)?;
        let speech = SpeechSettings::from_profile(profile)?;
        let (base, _) = http::base_url(NAME, profile, "OPENAI_BASE_URL", DEFAULT_BASE)?;
        let mut endpoint = base.clone();
        endpoint.set_path(&format!(
            "{}/v1/audio/speech",
            http::unversioned_path(&base, "/v1")
        ));
        let key = ApiKey::from_env(
            NAME,
            KEY_VAR,
            base.host_str() == Some("api.openai.com"),
            "export your API key, or set OPENAI_BASE_URL to a compatible server",
        )?;
        Ok(OpenAi {
            connection: Connection::new(NAME, settings, endpoint)?,
            key,
            speech,
        })
    }

    /// HTTP requests made so far, retries included.
    pub fn requests(&self) -> usize {
        self.connection.requests()
    }
}

#[async_trait]
impl Backend for OpenAi {
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({
            "engine": NAME,
            "endpoint": self.connection.public_endpoint(),
            "model": self.speech.model,
            "voice": self.speech.voice,
            "format": self.speech.format,
            "speed": self.speech.speed,
        })
    }

    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        let body = self.connection.json(&self.speech.body(&request.text))?;
        let expect = if self.speech.format == "pcm" {
            Expect::Pcm16 {
                sample_rate: SAMPLE_RATE,
            }
        } else {
            Expect::Sniffed
        };
        let clip = self
            .connection
            .send(
                Some(KEY_VAR),
                || {
                    let mut builder = self.connection.post("application/json", &body);
                    if let Some(value) = self.key.as_ref().and_then(ApiKey::bearer) {
                        builder = builder.header(reqwest::header::AUTHORIZATION, value);
                    }
                    builder
                },
                |bytes| http::decode_body(bytes, expect),
            )
            .await?;
        http::to_rate(NAME, clip, SAMPLE_RATE)
    }
}
