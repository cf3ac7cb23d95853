//! Google Cloud Text-to-Speech (`POST {base}/v1beta1/text:synthesize`): SSML with a mark before
//! every word, audio back in base64 beside the marks' timepoints (which become word timings),
//! and Google's credentials: API key, OAuth access token, or Application Default Credentials.
//!
//! Profile: `voice` is the voice name (`google:en-US-Neural2-F` names one ad hoc; its language
//! comes from the name), `language` the language code when the name has none, `speaking_rate`
//! becomes `speakingRate` (0.25–2.0). Options: `base_url` (else `ALOUD_GOOGLE_TTS_URL`, else
//! <https://texttospeech.googleapis.com>), `audio_encoding` (`LINEAR16`, default, or `MP3`),
//! `sample_rate` (Hz, default 24000), `pitch` (semitones, -20–20), `volume_gain_db` (-96–16),
//! `quota_project` (else `GOOGLE_CLOUD_QUOTA_PROJECT`; sent as `x-goog-user-project` with OAuth
//! credentials), plus the timeouts and retries of [`super::http::HttpSettings`].
//!
//! Credentials, first found wins: `GOOGLE_API_KEY` (header `X-Goog-Api-Key`);
//! `GOOGLE_OAUTH_ACCESS_TOKEN` (a bearer token, e.g. from `gcloud auth print-access-token`);
//! the JSON file named by `GOOGLE_APPLICATION_CREDENTIALS`, else gcloud's
//! `application_default_credentials.json` — a service account (an RS256-signed JWT exchanged
//! at the file's `token_uri`) or an `authorized_user` (its refresh token exchanged there).
//! Tokens are kept until a minute before they expire. None of them reaches a message, a log,
//! `Debug` output or the identity.

mod auth;

use super::config::{self, engine_error, process_env, profile_error, string_option};
use super::http::{self, Answer, Connection, Expect, Failure, HttpSettings};
use super::ssml::{self, SsmlOptions};
use super::{Backend, BackendEntry, BackendLimits, Billing, Clip, SpeechRequest, WordTiming};
use crate::error::Result;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use auth::{Auth, Credentials, Source};
use serde_json::{Value, json};
use std::sync::Arc;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "Google Cloud Text-to-Speech with word timings (GOOGLE_API_KEY, an access token or Application Default Credentials)",
    limits: LIMITS,
    billing: Billing::ONCE,
    open: super::Opener::Fn(|profile, _| Ok(Arc::new(Google::open(profile)?))),
};

/// `max_chars`: Google takes at most 5000 bytes of input, and the SSML counts: each word gets
/// a `<mark name="wNNN"/>` (17–19 bytes) besides its own bytes. English averages about 5.7
/// characters a word with its space, so 800 characters are ~140 words and ~3,400 bytes of
/// SSML, leaving room for escapes (`&quot;` is 6 bytes), lexicon `<phoneme>` elements and
/// non-ASCII text. A request that still comes out too long is sent without marks (no word
/// timings for it) rather than refused.
const LIMITS: BackendLimits = BackendLimits::new(800, 4, &["LINEAR16", "MP3", "OGG_OPUS"])
    .with_timings()
    .with_phonemes();

const NAME: &str = "google";
const BASE_VAR: &str = "ALOUD_GOOGLE_TTS_URL";
const DEFAULT_BASE: &str = "https://texttospeech.googleapis.com";
const DEFAULT_VOICE: &str = "en-US-Neural2-F";
const DEFAULT_RATE: u32 = 24_000;
/// Google's limit on one request's input, in bytes.
pub const MAX_INPUT_BYTES: usize = 5000;
/// Encodings aloud decodes (Ogg Opus is not among them).
const DECODED: &[&str] = &["LINEAR16", "MP3"];

fn number_option(profile: &VoiceProfile, key: &str, range: (f64, f64)) -> Result<Option<f64>> {
    match profile.options.get(key) {
        None => Ok(None),
        Some(value) => value
            .as_float()
            .or_else(|| value.as_integer().map(|i| i as f64))
            .filter(|n| n.is_finite() && *n >= range.0 && *n <= range.1)
            .map(Some)
            .ok_or_else(|| {
                profile_error(
                    profile,
                    format!(
                        "options.{key} must be a number from {} to {}",
                        range.0, range.1
                    ),
                )
            }),
    }
}

/// An f32 from a profile as the decimal it was written as (1.1, not 1.100000023841858).
fn decimal(value: f32) -> f64 {
    format!("{value}").parse().unwrap_or(f64::from(value))
}

/// What one request says, beyond its text.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechSettings {
    pub voice: String,
    pub language: String,
    pub encoding: String,
    pub sample_rate: u32,
    pub speaking_rate: f64,
    pub pitch: Option<f64>,
    pub volume_gain_db: Option<f64>,
}

impl SpeechSettings {
    pub fn from_profile(profile: &VoiceProfile) -> Result<Self> {
        let voice = config::voice(profile).unwrap_or(DEFAULT_VOICE).to_string();
        // `en-US-Neural2-F` is an en-US voice whatever the profile's language says; Google
        // refuses a name and language code that disagree.
        let parts: Vec<&str> = voice.split('-').collect();
        let language = match parts.as_slice() {
            [lang, region, _, ..]
                if (2..=3).contains(&lang.len())
                    && lang.chars().all(|c| c.is_ascii_alphabetic())
                    && (2..=3).contains(&region.len())
                    && region.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                format!("{lang}-{region}")
            }
            _ => profile.language.trim().to_string(),
        };
        let encoding = config::one_of(
            profile,
            "audio_encoding",
            string_option(profile, "audio_encoding")?
                .map(|e| e.to_ascii_uppercase())
                .unwrap_or_else(|| "LINEAR16".to_string()),
            LIMITS.formats,
        )?;
        if !DECODED.contains(&encoding.as_str()) {
            return Err(profile_error(
                profile,
                format!(
                    "options.audio_encoding '{encoding}' cannot be decoded by aloud; use LINEAR16 or MP3"
                ),
            ));
        }
        let sample_rate = match profile.options.get("sample_rate") {
            None => DEFAULT_RATE,
            Some(value) => value
                .as_integer()
                .filter(|r| (8_000..=48_000).contains(r))
                .map(|r| r as u32)
                .ok_or_else(|| {
                    profile_error(
                        profile,
                        "options.sample_rate must be a rate in Hz from 8000 to 48000".to_string(),
                    )
                })?,
        };
        let speaking_rate = profile.speaking_rate;
        if !(0.25..=2.0).contains(&speaking_rate) {
            return Err(profile_error(
                profile,
                format!("speaking_rate {speaking_rate} is outside the 0.25–2.0 Google accepts"),
            ));
        }
        Ok(SpeechSettings {
            voice,
            language,
            encoding,
            sample_rate,
            speaking_rate: decimal(speaking_rate),
            pitch: number_option(profile, "pitch", (-20.0, 20.0))?,
            volume_gain_db: number_option(profile, "volume_gain_db", (-96.0, 16.0))?,
        })
    }

    /// The SSML for `request` and the byte ranges its marks stand for: with a mark before
    /// every word when that fits Google's input limit, else without marks.
    pub fn ssml(&self, request: &SpeechRequest) -> Result<(String, Vec<std::ops::Range<usize>>)> {
        for word_marks in [true, false] {
            let body = ssml::body(
                request,
                SsmlOptions {
                    word_marks,
                    phonemes: true,
                },
            );
            let speak = format!("<speak>{}</speak>", body.markup);
            if speak.len() <= MAX_INPUT_BYTES {
                return Ok((speak, body.marks));
            }
        }
        Err(engine_error(
            NAME,
            format!(
                "a request of {} bytes is too long for Google's {MAX_INPUT_BYTES}-byte input limit",
                request.text.len()
            ),
        ))
    }

    /// The JSON body of `text:synthesize` for `ssml`.
    pub fn body(&self, ssml: &str) -> Value {
        let mut audio = json!({
            "audioEncoding": self.encoding,
            "sampleRateHertz": self.sample_rate,
            "speakingRate": self.speaking_rate,
        });
        if let Some(pitch) = self.pitch {
            audio["pitch"] = json!(pitch);
        }
        if let Some(gain) = self.volume_gain_db {
            audio["volumeGainDb"] = json!(gain);
        }
        json!({
            "input": {"ssml": ssml},
            "voice": {"languageCode": self.language, "name": self.voice},
            "audioConfig": audio,
            "enableTimePointing": ["SSML_MARK"],
        })
    }
}

/// The request body aloud would send for `profile` and `request` (for contract tests).
pub fn request_body(profile: &VoiceProfile, request: &SpeechRequest) -> Result<Value> {
    let settings = SpeechSettings::from_profile(profile)?;
    let (ssml, _) = settings.ssml(request)?;
    Ok(settings.body(&ssml))
}

/// Word timings from the timepoints of the marks before each word (`marks[i]` is the byte
/// range of word `i`): a word lasts until the next timed word starts, the last until the
/// clip ends. Words whose mark was not reported get no timing.
pub fn timepoint_words(
    marks: &[std::ops::Range<usize>],
    timepoints: &[Value],
    duration: f64,
) -> Vec<WordTiming> {
    let mut times: Vec<Option<f64>> = vec![None; marks.len()];
    for point in timepoints {
        let index = point
            .get("markName")
            .and_then(Value::as_str)
            .and_then(ssml::mark_index);
        let time = point
            .get("timeSeconds")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite() && *t >= 0.0);
        if let (Some(index), Some(time)) = (index, time)
            && let Some(slot) = times.get_mut(index)
        {
            *slot = Some(time.min(duration));
        }
    }
    let timed: Vec<(usize, f64)> = times
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|t| (i, t)))
        .collect();
    let mut words = Vec::with_capacity(timed.len());
    let mut floor = 0.0f64;
    for (n, &(index, time)) in timed.iter().enumerate() {
        let start = time.max(floor);
        let end = timed
            .get(n + 1)
            .map_or(duration, |&(_, next)| next)
            .max(start);
        words.push(WordTiming {
            range: marks[index].clone(),
            start,
            end,
        });
        floor = start;
    }
    words
}

pub struct Google {
    connection: Connection,
    auth: Auth,
    quota_project: Option<String>,
    speech: SpeechSettings,
}

impl Google {
    pub fn open(profile: &VoiceProfile) -> Result<Self> {
        let settings = HttpSettings::from_profile(profile)?;
        let speech = SpeechSettings::from_profile(profile)?;
        let (base, _) = http::base_url(NAME, profile, BASE_VAR, DEFAULT_BASE)?;
        let endpoint = http::with_path(
            &base,
            &format!(
                "{}/v1beta1/text:synthesize",
                http::unversioned_path(&base, "/v1beta1")
            ),
        );
        let (auth, file_project) = Auth::find(&settings)?;
        let official = base
            .host_str()
            .is_some_and(|h| h == "googleapis.com" || h.ends_with(".googleapis.com"));
        if matches!(auth.credentials, Credentials::None) && official {
            return Err(engine_error(
                NAME,
                "no Google credentials: set GOOGLE_API_KEY, or GOOGLE_OAUTH_ACCESS_TOKEN, or \
                 GOOGLE_APPLICATION_CREDENTIALS to a service account key file (or run \
                 `gcloud auth application-default login`)"
                    .to_string(),
            ));
        }
        let quota_project = config::setting(
            profile,
            "quota_project",
            &["GOOGLE_CLOUD_QUOTA_PROJECT"],
            &process_env,
        )?
        .map(|setting| setting.value)
        .or(file_project);
        Ok(Google {
            connection: Connection::new(NAME, settings, endpoint)?,
            auth,
            quota_project,
            speech,
        })
    }

    /// Synthesis requests made so far, retries included.
    pub fn requests(&self) -> usize {
        self.connection.requests()
    }

    /// Token exchanges made so far, retries included.
    pub fn token_requests(&self) -> usize {
        self.auth.token_requests()
    }

    /// What an unsuccessful answer means. Google explains itself in
    /// `{"error": {"code", "message", "status", "details": [{"reason"}]}}`.
    fn failure(&self, answer: &Answer) -> Failure {
        let error = http::error_member(&answer.body, "error");
        let error = error.as_ref();
        let status = http::str_member(error, "status");
        let reasons: Vec<&str> = error
            .and_then(|e| e.get("details"))
            .and_then(Value::as_array)
            .map(|details| {
                details
                    .iter()
                    .filter_map(|d| d.get("reason").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let said = http::said(&http::brief(http::str_member(error, "message")));
        let code = answer.status.as_u16();
        let key_rejected = reasons.iter().any(|r| r.starts_with("API_KEY_"));
        match (code, status) {
            _ if key_rejected || code == 401 || status == "UNAUTHENTICATED" => Failure::Fatal {
                message: format!(
                    "{} {} rejected (HTTP {code} {status}){said}",
                    self.auth.source.describe(),
                    if matches!(self.auth.source, Source::File { .. }) {
                        "are"
                    } else {
                        "is"
                    },
                ),
            },
            (403, _) | (_, "PERMISSION_DENIED") => Failure::Fatal {
                message: format!(
                    "{} may not use Text-to-Speech (HTTP {code} {status}){said}; check that the API is enabled and the project and roles",
                    self.auth.source.describe()
                ),
            },
            (_, "INVALID_ARGUMENT") | (400, _) => Failure::Fatal {
                message: format!(
                    "the request is refused (HTTP {code} {status}){said}; check the profile's voice '{}', language and audio settings",
                    self.speech.voice
                ),
            },
            (429, _) | (_, "RESOURCE_EXHAUSTED") => Failure::Retry {
                message: format!("the server is busy (HTTP {code} {status}){said}"),
                wait: http::retry_after(&answer.headers),
            },
            _ => answer.failure(None),
        }
    }

    /// A successful answer as a clip with the marks' word timings.
    fn clip(&self, body: &[u8], marks: &[std::ops::Range<usize>]) -> Result<Clip, Failure> {
        let json: Value = serde_json::from_slice(body).map_err(|e| Failure::Fatal {
            message: format!("the answer is not the JSON of text:synthesize: {e}"),
        })?;
        let audio = http::base64_field(&json, "audioContent")?;
        let mut clip = http::decode_body(&audio, Expect::Sniffed)?;
        let timepoints = json
            .get("timepoints")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        clip.words = timepoint_words(marks, timepoints, clip.duration().as_secs_f64());
        Ok(clip)
    }
}

#[async_trait]
impl Backend for Google {
    fn identity(&self) -> Value {
        json!({
            "engine": NAME,
            "endpoint": self.connection.public_endpoint(),
            "voice": self.speech.voice,
            "language": self.speech.language,
            "format": self.speech.encoding,
            "sample_rate": self.speech.sample_rate,
            "speaking_rate": self.speech.speaking_rate,
            "pitch": self.speech.pitch,
            "volume_gain_db": self.speech.volume_gain_db,
        })
    }

    fn sample_rate(&self) -> u32 {
        self.speech.sample_rate
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        let (ssml, marks) = self.speech.ssml(request)?;
        let body = self.connection.json(&self.speech.body(&ssml))?;
        let auth = self.auth.header(&self.connection).await?;
        let oauth = matches!(auth, Some(("authorization", _)));
        let clip = self
            .connection
            .send_as(
                || {
                    let mut builder = self.connection.post("application/json", &body);
                    if let Some((name, value)) = &auth {
                        builder = builder.header(*name, value.clone());
                    }
                    if oauth && let Some(project) = &self.quota_project {
                        builder = builder.header("x-goog-user-project", project.as_str());
                    }
                    builder
                },
                |answer| {
                    if !answer.status.is_success() {
                        return Err(self.failure(&answer));
                    }
                    self.clip(&answer.body, &marks)
                },
            )
            .await?;
        http::to_rate(NAME, clip, self.speech.sample_rate)
    }
}

#[cfg(test)]
mod tests;
