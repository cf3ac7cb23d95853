//! ElevenLabs' text-to-speech API: `POST {base}/v1/text-to-speech/{voice_id}[/with-timestamps]`,
//! answered with raw PCM, or with JSON carrying the audio in base64 beside per-character
//! timings that become word timings; each request is told the text around it (stitching).
//!
//! Profile: `voice` is the voice ID (`elevenlabs:VOICE_ID` names one ad hoc), `model` the model
//! (default `eleven_multilingual_v2`), `speaking_rate` becomes `voice_settings.speed` (ElevenLabs
//! takes 0.7–1.2). Options: `base_url` (else `ELEVENLABS_BASE_URL`, else
//! <https://api.elevenlabs.io>), `output_format` (`pcm_22050` default, `pcm_16000`, `pcm_24000`,
//! `pcm_44100`, `mp3_44100_128`), `timestamps` (default true: word timings cost nothing
//! extra), `stability`, `similarity_boost`, `style` (0–1) and `use_speaker_boost` (bool) for
//! `voice_settings`, plus the timeouts and retries of [`super::http::HttpSettings`]. The key
//! comes from `ELEVENLABS_API_KEY` only and travels in the `xi-api-key` header.

use super::config::{self, engine_error, profile_error};
use super::http::{self, Answer, ApiKey, Connection, Expect, Failure, HttpSettings};
use super::{Backend, BackendEntry, BackendLimits, Billing, Clip, SpeechRequest, WordTiming};
use crate::error::Result;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::sync::Arc;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "ElevenLabs text-to-speech with word timings (ELEVENLABS_API_KEY, ELEVENLABS_BASE_URL)",
    limits: LIMITS,
    billing: Billing::ONCE,
    open: super::Opener::Fn(|profile, _| Ok(Arc::new(ElevenLabs::open(profile)?))),
};

/// `max_chars`: per-request limits differ by model (10,000 characters for
/// eleven_multilingual_v2, 40,000 for the flash/turbo v2.5 models, fewer for eleven_v3); 2,500
/// stays under all of them, so a profile may switch models freely. Sentences are rarely that
/// long, so the planner hardly ever splits, and a request that fails late and is retried
/// (every attempt is billed per character) costs at most that much.
/// `default_concurrency`: free and starter plans allow 2 to 4 requests at once; more are
/// refused with 429 too_many_concurrent_requests (retried, but wasted).
const LIMITS: BackendLimits = BackendLimits::new(2500, 2, FORMATS)
    .with_timings()
    .with_context();

const FORMATS: &[&str] = &[
    "pcm_16000",
    "pcm_22050",
    "pcm_24000",
    "pcm_44100",
    "mp3_44100_128",
];

const NAME: &str = "elevenlabs";
const KEY_VAR: &str = "ELEVENLABS_API_KEY";
const BASE_VAR: &str = "ELEVENLABS_BASE_URL";
const DEFAULT_BASE: &str = "https://api.elevenlabs.io";
const DEFAULT_MODEL: &str = "eleven_multilingual_v2";
const DEFAULT_FORMAT: &str = "pcm_22050";

/// What one request says, beyond its text and neighbours.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechSettings {
    pub model: String,
    pub voice: String,
    pub format: String,
    /// Ask `/with-timestamps` for character timings (and so word timings).
    pub timestamps: bool,
    /// Only the settings the profile gives; the voice's own stored settings fill the rest.
    pub voice_settings: Map<String, Value>,
}

impl SpeechSettings {
    pub fn from_profile(profile: &VoiceProfile) -> Result<Self> {
        let model = config::model(profile, DEFAULT_MODEL)?;
        let voice = config::voice(profile)
            .ok_or_else(|| {
                profile_error(
                    profile,
                    "an elevenlabs profile needs `voice`, the voice ID (GET /v1/voices lists them)"
                        .to_string(),
                )
            })?
            .to_string();
        let format = config::choice(profile, "output_format", DEFAULT_FORMAT, FORMATS)?;
        let timestamps = match profile.options.get("timestamps") {
            None => true,
            Some(toml::Value::Boolean(b)) => *b,
            Some(_) => {
                return Err(profile_error(
                    profile,
                    "options.timestamps must be true or false".to_string(),
                ));
            }
        };
        let mut voice_settings = Map::new();
        for key in ["stability", "similarity_boost", "style"] {
            if let Some(value) = profile.options.get(key) {
                let number = value
                    .as_float()
                    .or_else(|| value.as_integer().map(|i| i as f64))
                    .filter(|n| (0.0..=1.0).contains(n))
                    .ok_or_else(|| {
                        profile_error(
                            profile,
                            format!("options.{key} must be a number from 0 to 1"),
                        )
                    })?;
                voice_settings.insert(key.to_string(), Value::from(number));
            }
        }
        if let Some(value) = profile.options.get("use_speaker_boost") {
            let boost = value.as_bool().ok_or_else(|| {
                profile_error(
                    profile,
                    "options.use_speaker_boost must be true or false".to_string(),
                )
            })?;
            voice_settings.insert("use_speaker_boost".to_string(), Value::from(boost));
        }
        if profile.speaking_rate != 1.0 {
            let speed = profile.speaking_rate;
            if !(0.7..=1.2).contains(&speed) {
                return Err(profile_error(
                    profile,
                    format!("speaking_rate {speed} is outside the 0.7–1.2 ElevenLabs accepts"),
                ));
            }
            // Rounded through its decimal form so 1.1f32 is sent as 1.1, not 1.100000023841858.
            let speed: f64 = format!("{speed}").parse().unwrap_or(f64::from(speed));
            voice_settings.insert("speed".to_string(), Value::from(speed));
        }
        Ok(SpeechSettings {
            model,
            voice,
            format,
            timestamps,
            voice_settings,
        })
    }

    /// The clips' rate: the PCM rate asked for, or the MP3's.
    pub fn sample_rate(&self) -> u32 {
        self.format
            .split('_')
            .nth(1)
            .and_then(|r| r.parse().ok())
            .unwrap_or(22_050)
    }

    /// The JSON body for `request`. Neighbouring text goes in `previous_text`/`next_text`
    /// ("request stitching" by text). ElevenLabs can also stitch by `previous_request_ids`,
    /// but an id exists only once the previous request has finished: every sentence would
    /// wait for the one before it (no concurrency at all), and a sentence from aloud's cache
    /// or one retried has no usable id. Text stitching keeps requests independent.
    pub fn body(&self, request: &SpeechRequest) -> Value {
        let mut body = Map::new();
        body.insert("text".into(), Value::from(request.text.as_str()));
        body.insert("model_id".into(), Value::from(self.model.as_str()));
        if !self.voice_settings.is_empty() {
            body.insert(
                "voice_settings".into(),
                Value::Object(self.voice_settings.clone()),
            );
        }
        if let Some(previous) = request.previous_text.as_deref().filter(|t| !t.is_empty()) {
            body.insert("previous_text".into(), Value::from(previous));
        }
        if let Some(next) = request.next_text.as_deref().filter(|t| !t.is_empty()) {
            body.insert("next_text".into(), Value::from(next));
        }
        Value::Object(body)
    }

    fn expect(&self) -> Expect {
        if self.format.starts_with("pcm_") {
            Expect::Pcm16 {
                sample_rate: self.sample_rate(),
            }
        } else {
            Expect::Sniffed
        }
    }
}

/// The request body aloud would send for `profile` and `request` (for contract tests).
pub fn request_body(profile: &VoiceProfile, request: &SpeechRequest) -> Result<Value> {
    Ok(SpeechSettings::from_profile(profile)?.body(request))
}

/// Word timings from ElevenLabs' character alignment of `text`: one per run of non-whitespace,
/// from its first character's start to its last character's end. An alignment that does not
/// have exactly one entry per character of `text` (or holds nonsense) yields no words.
pub fn alignment_words(text: &str, alignment: &Value) -> Vec<WordTiming> {
    let numbers = |key: &str| -> Option<Vec<f64>> {
        alignment
            .get(key)?
            .as_array()?
            .iter()
            .map(|v| v.as_f64().filter(|t| t.is_finite() && *t >= 0.0))
            .collect()
    };
    let (Some(characters), Some(starts), Some(ends)) = (
        alignment.get("characters").and_then(Value::as_array),
        numbers("character_start_times_seconds"),
        numbers("character_end_times_seconds"),
    ) else {
        return Vec::new();
    };
    let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if characters.len() != offsets.len()
        || starts.len() != offsets.len()
        || ends.len() != offsets.len()
    {
        return Vec::new();
    }
    let mut words: Vec<WordTiming> = Vec::new();
    for range in super::ssml::word_ranges(text) {
        let Ok(first) = offsets.binary_search(&range.start) else {
            return Vec::new();
        };
        let last = offsets
            .partition_point(|&o| o < range.end)
            .saturating_sub(1);
        let floor = words.last().map_or(0.0, |w| w.start);
        let start = starts[first].max(floor);
        let end = ends[last].max(start);
        words.push(WordTiming { range, start, end });
    }
    words
}

pub struct ElevenLabs {
    connection: Connection,
    key: Option<ApiKey>,
    speech: SpeechSettings,
}

impl ElevenLabs {
    pub fn open(profile: &VoiceProfile) -> Result<Self> {
        let settings = HttpSettings::from_profile(profile)?;
        let speech = SpeechSettings::from_profile(profile)?;
        let (base, setting) = http::base_url(NAME, profile, BASE_VAR, DEFAULT_BASE)?;
        let mut endpoint = http::with_path(&base, http::unversioned_path(&base, "/v1"));
        {
            let mut segments = endpoint.path_segments_mut().map_err(|()| {
                engine_error(NAME, format!("{} cannot take a path", setting.origin))
            })?;
            segments.pop_if_empty();
            // Pushed as a segment, so a voice ID can never reach another path or the query.
            segments.extend(["v1", "text-to-speech", speech.voice.as_str()]);
            if speech.timestamps {
                segments.push("with-timestamps");
            }
        }
        endpoint
            .query_pairs_mut()
            .append_pair("output_format", &speech.format);
        let official = base
            .host_str()
            .is_some_and(|h| h == "elevenlabs.io" || h.ends_with(".elevenlabs.io"));
        let key = ApiKey::from_env(
            NAME,
            KEY_VAR,
            official,
            "export your ElevenLabs API key (profile settings on elevenlabs.io)",
        )?;
        Ok(ElevenLabs {
            connection: Connection::new(NAME, settings, endpoint)?,
            key,
            speech,
        })
    }

    /// HTTP requests made so far, retries included.
    pub fn requests(&self) -> usize {
        self.connection.requests()
    }

    /// What an unsuccessful answer means. ElevenLabs explains itself in
    /// `{"detail": {"status": ..., "message": ...}}`, or pydantic's list for a 422.
    fn failure(&self, answer: &Answer) -> Failure {
        let detail = http::error_member(&answer.body, "detail");
        let status = http::str_member(detail.as_ref(), "status");
        let said = http::said(&detail.as_ref().map(describe_detail).unwrap_or_default());
        // ` voice_not_found`, as the messages quote it after the HTTP code.
        let named = if status.is_empty() {
            String::new()
        } else {
            format!(" {status}")
        };
        let code = answer.status.as_u16();
        match (code, status) {
            (_, "quota_exceeded") => Failure::Fatal {
                message: format!(
                    "the account's character quota is exhausted (HTTP {code} quota_exceeded){said}; check the plan or wait for it to renew"
                ),
            },
            (_, "voice_not_found") | (404, _) => Failure::Fatal {
                message: format!(
                    "unknown voice '{}' (HTTP {code}{named}){said}; check the profile's voice ID (GET /v1/voices lists those of the account)",
                    self.speech.voice,
                ),
            },
            (401, _) => Failure::Fatal {
                message: format!(
                    "{KEY_VAR} is rejected (HTTP 401{named}){said}; check the key, or set it if it is missing"
                ),
            },
            (422, _) => Failure::Fatal {
                message: format!("the server rejects the request (HTTP 422){said}"),
            },
            (429, _) => Failure::Retry {
                message: format!("the server is busy (HTTP 429{named}){said}"),
                wait: http::retry_after(&answer.headers),
            },
            _ => answer.failure(Some(KEY_VAR)),
        }
    }

    /// A successful answer as a clip (with word timings from `/with-timestamps`).
    fn clip(&self, body: &[u8], text: &str) -> Result<Clip, Failure> {
        if !self.speech.timestamps {
            return http::decode_body(body, self.speech.expect());
        }
        let json: Value = serde_json::from_slice(body).map_err(|e| Failure::Fatal {
            message: format!("the answer is not the JSON of /with-timestamps: {e}"),
        })?;
        let audio = http::base64_field(&json, "audio_base64")?;
        let mut clip = http::decode_body(&audio, self.speech.expect())?;
        if let Some(alignment) = json.get("alignment").filter(|a| a.is_object()) {
            clip.words = alignment_words(text, alignment);
        }
        Ok(clip)
    }
}

/// One line from ElevenLabs' `detail`: its message, or pydantic's `loc: msg` entries.
fn describe_detail(detail: &Value) -> String {
    let text = match detail {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_default(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let place = item
                    .get("loc")
                    .and_then(Value::as_array)
                    .map(|loc| {
                        loc.iter()
                            .map(|p| match p {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .unwrap_or_default();
                let msg = item.get("msg").and_then(Value::as_str).unwrap_or("invalid");
                format!("{place}: {msg}")
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::new(),
    };
    http::brief(&text)
}

#[async_trait]
impl Backend for ElevenLabs {
    fn identity(&self) -> Value {
        serde_json::json!({
            "engine": NAME,
            "endpoint": self.connection.public_endpoint(),
            "model": self.speech.model,
            "voice": self.speech.voice,
            "format": self.speech.format,
            "timestamps": self.speech.timestamps,
            "voice_settings": self.speech.voice_settings,
        })
    }

    fn sample_rate(&self) -> u32 {
        self.speech.sample_rate()
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        let body = self.connection.json(&self.speech.body(request))?;
        let clip = self
            .connection
            .send_as(
                || {
                    let mut builder = self.connection.post("application/json", &body);
                    if let Some(value) = self.key.as_ref().and_then(ApiKey::header_value) {
                        builder = builder.header("xi-api-key", value);
                    }
                    builder
                },
                |answer| {
                    if !answer.status.is_success() {
                        return Err(self.failure(&answer));
                    }
                    self.clip(&answer.body, &request.text)
                },
            )
            .await?;
        http::to_rate(NAME, clip, self.speech.sample_rate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ElevenLabs voice with `extra` after its fields.
    fn profile(extra: &str) -> VoiceProfile {
        config::test_profile_of("t", "elevenlabs", "en-US", Some("voice123"), extra)
    }

    #[test]
    fn body_carries_neighbours_and_only_given_settings() {
        let mut request = SpeechRequest::plain("Second.");
        request.previous_text = Some("First.".into());
        request.next_text = Some("Third.".into());
        let body = request_body(&profile(""), &request).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"text": "Second.", "model_id": "eleven_multilingual_v2",
                "previous_text": "First.", "next_text": "Third."})
        );
        let tuned = profile(
            "model='eleven_flash_v2_5'\nspeaking_rate=1.1\n[options]\nstability=0.4\nuse_speaker_boost=true\n",
        );
        let body = request_body(&tuned, &SpeechRequest::plain("Hi.")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"text": "Hi.", "model_id": "eleven_flash_v2_5",
                "voice_settings": {"stability": 0.4, "use_speaker_boost": true, "speed": 1.1}})
        );
        config::assert_each_refused(
            &[
                "speaking_rate=1.5\n",
                "[options]\nstability=2\n",
                "[options]\noutput_format='wav'\n",
                "[options]\ntimestamps='yes'\n",
            ],
            |bad| SpeechSettings::from_profile(&profile(bad)),
        );
    }

    #[test]
    fn endpoint_holds_the_voice_as_one_segment_and_the_format() {
        let mut p = profile("[options]\nbase_url='http://127.0.0.1:9/v1/'\n");
        p.voice = Some("a/b?c".into());
        let backend = ElevenLabs::open(&p).unwrap();
        assert_eq!(
            backend.connection.endpoint().as_str(),
            "http://127.0.0.1:9/v1/text-to-speech/a%2Fb%3Fc/with-timestamps?output_format=pcm_22050"
        );
        let plain = ElevenLabs::open(&profile(
            "[options]\nbase_url='http://127.0.0.1:9'\ntimestamps=false\noutput_format='pcm_44100'\n",
        ))
        .unwrap();
        assert_eq!(
            plain.connection.endpoint().as_str(),
            "http://127.0.0.1:9/v1/text-to-speech/voice123?output_format=pcm_44100"
        );
        assert_eq!(plain.sample_rate(), 44_100);
    }

    #[test]
    fn key_is_absent_from_identity_and_debug() {
        let backend = ElevenLabs::open(&profile(
            "[options]\nbase_url='http://user:pw@127.0.0.1:9/?token=t'\n",
        ))
        .unwrap();
        let backend = ElevenLabs {
            key: Some(ApiKey::new("xi-secret-123".into())),
            ..backend
        };
        let identity = backend.identity().to_string();
        assert!(!identity.contains("xi-secret-123"), "{identity}");
        assert!(
            !identity.contains("pw") && !identity.contains("token"),
            "{identity}"
        );
        assert!(!format!("{:?}", backend.key).contains("xi-secret-123"));
    }

    #[test]
    fn character_alignment_becomes_word_ranges() {
        let text = "Héllo  big world.";
        let n = text.chars().count();
        let starts: Vec<f64> = (0..n).map(|i| i as f64 * 0.1).collect();
        let ends: Vec<f64> = (0..n).map(|i| i as f64 * 0.1 + 0.1).collect();
        let alignment = serde_json::json!({
            "characters": text.chars().map(|c| c.to_string()).collect::<Vec<_>>(),
            "character_start_times_seconds": starts,
            "character_end_times_seconds": ends,
        });
        let words = alignment_words(text, &alignment);
        let texts: Vec<&str> = words.iter().map(|w| &text[w.range.clone()]).collect();
        assert_eq!(texts, ["Héllo", "big", "world."]);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(words[0].start, 0.0) && close(words[0].end, 0.5));
        assert!(close(words[1].start, 0.7) && close(words[1].end, 1.0));
        assert!(close(words[2].start, 1.1) && close(words[2].end, 1.7));
        // One character short: no words, and no error.
        let mut short = alignment.clone();
        short["characters"].as_array_mut().unwrap().pop();
        assert!(alignment_words(text, &short).is_empty());
        let mut bad = alignment.clone();
        bad["character_end_times_seconds"][0] = Value::from("x");
        assert!(alignment_words(text, &bad).is_empty());
    }

    #[test]
    fn errors_are_classified() {
        let backend =
            ElevenLabs::open(&profile("[options]\nbase_url='http://127.0.0.1:9'\n")).unwrap();
        let answer = |code: u16, body: &str| Answer {
            status: reqwest::StatusCode::from_u16(code).unwrap(),
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        };
        let f = backend.failure(&answer(
            401,
            r#"{"detail":{"status":"quota_exceeded","message":"This request exceeds your quota."}}"#,
        ));
        assert!(
            matches!(f, Failure::Fatal { .. }) && f.message().contains("quota"),
            "{f:?}"
        );
        let f = backend.failure(&answer(401, r#"{"detail":{"status":"invalid_api_key"}}"#));
        assert!(f.message().contains(KEY_VAR), "{f:?}");
        let f = backend.failure(&answer(404, r#"{"detail":{"status":"voice_not_found"}}"#));
        assert!(matches!(f, Failure::Fatal { .. }) && f.message().contains("'voice123'"));
        let f = backend.failure(&answer(
            422,
            r#"{"detail":[{"loc":["body","speed"],"msg":"Extra inputs are not permitted","type":"extra_forbidden"}]}"#,
        ));
        assert!(
            matches!(f, Failure::Fatal { .. }) && f.message().contains("body.speed: Extra inputs"),
            "{f:?}"
        );
        for status in ["too_many_concurrent_requests", "system_busy"] {
            let f = backend.failure(&answer(
                429,
                &format!(r#"{{"detail":{{"status":"{status}"}}}}"#),
            ));
            assert!(matches!(f, Failure::Retry { .. }) && f.message().contains(status));
        }
        assert!(matches!(
            backend.failure(&answer(503, "")),
            Failure::Retry { .. }
        ));
    }
}
