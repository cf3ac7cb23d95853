//! Azure AI Speech text to speech over REST: `POST https://{region}.tts.speech.microsoft.com/cognitiveservices/v1` with an SSML body, answered with the audio itself.
//!
//! Profile options: `endpoint` (else `AZURE_SPEECH_ENDPOINT`, else the regional endpoint of
//! `region`, else `AZURE_SPEECH_REGION`), `format` (one of [`FORMATS`], default
//! `riff-24khz-16bit-mono-pcm`), plus the timeouts and retries of [`super::http::HttpSettings`].
//! The key comes from `AZURE_SPEECH_KEY` only and travels in `Ocp-Apim-Subscription-Key`.
//!
//! The text goes as SSML through [`super::ssml`] (escaped; lexicon IPA as `<phoneme>`), in a
//! `<voice>` element, with `<prosody rate>` when the profile's speaking rate is not 1. Word
//! timings are not reported: Azure sends word boundaries only over the Speech SDK's WebSocket
//! protocol, not over this REST API.

use super::config::{self, engine_error, env_value, process_env, profile_error, string_option};
use super::http::{self, ApiKey, Connection, Expect, Failure, HttpSettings};
use super::ssml::{self, SsmlOptions};
use super::{Backend, BackendEntry, BackendLimits, Billing, Clip, SpeechRequest};
use crate::error::Result;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use std::sync::Arc;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "Azure AI Speech text to speech (AZURE_SPEECH_KEY, AZURE_SPEECH_REGION)",
    limits: LIMITS,
    billing: Billing::ONCE,
    open: super::Opener::Fn(|profile, _| Ok(Arc::new(Azure::open(profile)?))),
};

/// `max_chars`: Azure takes up to 10 minutes of audio per request (and 64 KB of SSML); a
/// 1000-character piece is about a minute of speech, so even with escaping and phoneme
/// elements a request stays far inside both, while a failed request costs little to redo.
/// `default_concurrency`: the standard (S0) tier allows 200 requests a second, but 429s come
/// earlier on new resources; four in flight keeps a long article moving without bursts.
const LIMITS: BackendLimits = BackendLimits::new(1000, 4, &["wav", "pcm", "mp3"]).with_phonemes();

const NAME: &str = "azure";
const KEY_VAR: &str = "AZURE_SPEECH_KEY";
const REGION_VAR: &str = "AZURE_SPEECH_REGION";
const ENDPOINT_VAR: &str = "AZURE_SPEECH_ENDPOINT";
const DEFAULT_VOICE: &str = "en-US-JennyNeural";
const DEFAULT_FORMAT: &str = "riff-24khz-16bit-mono-pcm";
const SSML_NAMESPACE: &str = "http://www.w3.org/2001/10/synthesis";

/// The output formats (Azure's `X-Microsoft-OutputFormat` names) aloud can decode, with the
/// rate of each and how its bytes arrive.
pub const FORMATS: &[(&str, u32, Expect)] = &[
    ("riff-16khz-16bit-mono-pcm", 16_000, Expect::Sniffed),
    ("riff-24khz-16bit-mono-pcm", 24_000, Expect::Sniffed),
    ("riff-48khz-16bit-mono-pcm", 48_000, Expect::Sniffed),
    (
        "raw-16khz-16bit-mono-pcm",
        16_000,
        Expect::Pcm16 {
            sample_rate: 16_000,
        },
    ),
    (
        "raw-24khz-16bit-mono-pcm",
        24_000,
        Expect::Pcm16 {
            sample_rate: 24_000,
        },
    ),
    (
        "raw-48khz-16bit-mono-pcm",
        48_000,
        Expect::Pcm16 {
            sample_rate: 48_000,
        },
    ),
    ("audio-24khz-48kbitrate-mono-mp3", 24_000, Expect::Sniffed),
];

/// What one request says, beyond the text.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechSettings {
    pub voice: String,
    pub language: String,
    pub format: String,
    pub rate: u32,
    expect: Expect,
    pub speaking_rate: f32,
}

impl SpeechSettings {
    pub fn from_profile(profile: &VoiceProfile) -> Result<Self> {
        let format = string_option(profile, "format")?.unwrap_or_else(|| DEFAULT_FORMAT.into());
        let Some(&(_, rate, expect)) = FORMATS.iter().find(|(name, _, _)| *name == format) else {
            return Err(profile_error(
                profile,
                format!(
                    "options.format '{format}' is not one aloud can decode: {}",
                    FORMATS
                        .iter()
                        .map(|(n, _, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let voice = config::voice(profile).unwrap_or(DEFAULT_VOICE).to_string();
        if !profile.speaking_rate.is_finite() || profile.speaking_rate <= 0.0 {
            return Err(profile_error(
                profile,
                "speaking_rate must be a positive number",
            ));
        }
        Ok(SpeechSettings {
            voice,
            language: profile.language.trim().to_string(),
            format,
            rate,
            expect,
            speaking_rate: profile.speaking_rate,
        })
    }

    /// The SSML document sent for `request`.
    pub fn ssml(&self, request: &SpeechRequest) -> String {
        let body = ssml::body(
            request,
            SsmlOptions {
                word_marks: false,
                phonemes: true,
            },
        );
        let mut out = format!(
            "<speak version=\"1.0\" xmlns=\"{SSML_NAMESPACE}\" xml:lang=\"{}\"><voice name=\"{}\">",
            ssml::escape(&self.language),
            ssml::escape(&self.voice)
        );
        if (self.speaking_rate - 1.0).abs() > f32::EPSILON {
            // A relative change: "+25.00%" is 1.25 times the voice's own pace.
            let percent = (f64::from(self.speaking_rate) - 1.0) * 100.0;
            out.push_str(&format!("<prosody rate=\"{percent:+.2}%\">"));
            out.push_str(&body.markup);
            out.push_str("</prosody>");
        } else {
            out.push_str(&body.markup);
        }
        out.push_str("</voice></speak>");
        out
    }
}

/// The SSML aloud would send for `profile` and `request` (for contract tests).
pub fn request_ssml(profile: &VoiceProfile, request: &SpeechRequest) -> Result<String> {
    Ok(SpeechSettings::from_profile(profile)?.ssml(request))
}

pub struct Azure {
    connection: Connection,
    /// Where the endpoint came from (the region, for messages about a rejected key).
    region: Option<String>,
    key: ApiKey,
    speech: SpeechSettings,
}

impl Azure {
    pub fn open(profile: &VoiceProfile) -> Result<Self> {
        Self::open_with(profile, &process_env)
    }

    /// [`Azure::open`] reading environment variables through `env`.
    pub fn open_with(profile: &VoiceProfile, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let settings = HttpSettings::from_profile(profile)?;
        let speech = SpeechSettings::from_profile(profile)?;
        let region = config::setting(profile, "region", &[REGION_VAR], env)?.map(|s| s.value);
        let endpoint = match config::setting(profile, "endpoint", &[ENDPOINT_VAR], env)? {
            Some(url) => {
                endpoint_from(&http::parse_url(NAME, &url.value, &url.origin.to_string())?)
            }
            None => {
                let Some(region) = region.as_deref() else {
                    return Err(engine_error(
                        NAME,
                        format!(
                            "{REGION_VAR} is not set; export your Speech resource's region (say eastus), or set {ENDPOINT_VAR}"
                        ),
                    ));
                };
                if !region
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(engine_error(
                        NAME,
                        format!("{REGION_VAR} '{region}' is not a region name (say eastus)"),
                    ));
                }
                http::parse_url(
                    NAME,
                    &format!("https://{region}.tts.speech.microsoft.com/cognitiveservices/v1"),
                    REGION_VAR,
                )?
            }
        };
        let Some(key) = env_value(env, KEY_VAR) else {
            return Err(engine_error(
                NAME,
                format!(
                    "{KEY_VAR} is not set; export a key of your Speech resource (Azure portal: Keys and Endpoint)"
                ),
            ));
        };
        let key = ApiKey::new(key);
        if key.header_value().is_none() {
            return Err(engine_error(
                NAME,
                format!("{KEY_VAR} holds characters no HTTP header can carry"),
            ));
        }
        Ok(Azure {
            connection: Connection::new(NAME, settings, endpoint)?,
            region,
            key,
            speech,
        })
    }

    /// HTTP requests made so far, retries included.
    pub fn requests(&self) -> usize {
        self.connection.requests()
    }

    fn handle(&self, answer: http::Answer) -> Result<Clip, Failure> {
        if answer.status.is_success() {
            return http::decode_body(&answer.body, self.speech.expect);
        }
        Err(match answer.status.as_u16() {
            401 => Failure::Fatal {
                message: format!(
                    "{KEY_VAR} is rejected (HTTP 401) by {}; check that the key belongs to a Speech resource in {}",
                    self.connection.public_endpoint(),
                    match &self.region {
                        Some(region) => format!("region {region} ({REGION_VAR})"),
                        None => format!("the region of this endpoint ({REGION_VAR} is not set)"),
                    }
                ),
            },
            400 => Failure::Fatal {
                message: format!(
                    "Azure refuses the request (HTTP 400){}; check the voice '{}' (language {}) and the profile's options",
                    detail(&answer.body)
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default(),
                    self.speech.voice,
                    self.speech.language
                ),
            },
            _ => answer.failure(Some(KEY_VAR)),
        })
    }
}

/// What Azure said in a 400 (plain text, or JSON with `error.message`), on one short line.
fn detail(body: &[u8]) -> Option<String> {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => json
            .pointer("/error/message")
            .or_else(|| json.get("message"))
            .and_then(|m| m.as_str())
            .map(str::to_string)?,
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    if text.trim_start().starts_with('<') {
        return None; // an HTML error page
    }
    let short = http::brief(&text);
    (!short.is_empty()).then_some(short)
}

/// A full synthesis URL as given, or the base of a resource with the REST path appended.
fn endpoint_from(url: &reqwest::Url) -> reqwest::Url {
    let mut url = url.clone();
    if url.path().trim_end_matches('/').is_empty() {
        url.set_path("/cognitiveservices/v1");
    }
    url
}

#[async_trait]
impl Backend for Azure {
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({
            "engine": NAME,
            "endpoint": self.connection.public_endpoint(),
            "voice": self.speech.voice,
            "language": self.speech.language,
            "format": self.speech.format,
            "speaking_rate": self.speech.speaking_rate,
        })
    }

    fn sample_rate(&self) -> u32 {
        self.speech.rate
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        let body = self.speech.ssml(request).into_bytes();
        let key = self.key.header_value();
        let clip = self
            .connection
            .send_as(
                || {
                    let mut builder = self
                        .connection
                        .post("application/ssml+xml", &body)
                        .header("X-Microsoft-OutputFormat", &self.speech.format)
                        .header(reqwest::header::USER_AGENT, "aloud");
                    if let Some(key) = &key {
                        builder = builder.header("Ocp-Apim-Subscription-Key", key.clone());
                    }
                    builder
                },
                |answer| self.handle(answer),
            )
            .await?;
        http::to_rate(NAME, clip, self.speech.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sonia, an en-GB Azure voice, with `extra` after her fields.
    fn profile(extra: &str) -> VoiceProfile {
        config::test_profile_of("az", "azure", "en-GB", Some("en-GB-SoniaNeural"), extra)
    }

    #[test]
    fn ssml_wraps_escaped_text_in_voice_and_prosody() {
        let mut p = profile("speaking_rate = 1.25\n");
        let request = SpeechRequest::plain("Fish & <chips> \"now\"");
        let ssml = request_ssml(&p, &request).unwrap();
        assert_eq!(
            ssml,
            "<speak version=\"1.0\" xmlns=\"http://www.w3.org/2001/10/synthesis\" xml:lang=\"en-GB\">\
             <voice name=\"en-GB-SoniaNeural\"><prosody rate=\"+25.00%\">Fish &amp; &lt;chips&gt; \
             &quot;now&quot;</prosody></voice></speak>"
        );
        p.speaking_rate = 1.0;
        assert!(!request_ssml(&p, &request).unwrap().contains("prosody"));
        p.speaking_rate = 0.8;
        assert!(
            request_ssml(&p, &request)
                .unwrap()
                .contains("<prosody rate=\"-20.00%\">")
        );
    }

    #[test]
    fn formats_set_the_rate_and_unknown_ones_are_refused() {
        let s = SpeechSettings::from_profile(&profile(
            "[options]\nformat='raw-48khz-16bit-mono-pcm'\n",
        ))
        .unwrap();
        assert_eq!(s.rate, 48_000);
        assert_eq!(
            s.expect,
            Expect::Pcm16 {
                sample_rate: 48_000
            }
        );
        assert_eq!(
            SpeechSettings::from_profile(&profile("")).unwrap().rate,
            24_000
        );
        let err = SpeechSettings::from_profile(&profile(
            "[options]\nformat='ogg-24khz-16bit-mono-opus'\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("ogg-24khz-16bit-mono-opus"), "{err}");
    }

    #[test]
    fn base_endpoints_get_the_rest_path() {
        let base = reqwest::Url::parse("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            endpoint_from(&base).as_str(),
            "http://127.0.0.1:9/cognitiveservices/v1"
        );
        let full = reqwest::Url::parse("https://x.example/custom/tts").unwrap();
        assert_eq!(endpoint_from(&full), full);
    }

    #[test]
    fn a_missing_key_or_region_is_named() {
        let p = profile("");
        let err = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let env =
                move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            match Azure::open_with(&p, &env) {
                Ok(_) => String::new(),
                Err(e) => e.to_string(),
            }
        };
        let no_region = err(&[(KEY_VAR, "k")]);
        assert!(no_region.contains("AZURE_SPEECH_REGION"), "{no_region}");
        let no_key = err(&[(REGION_VAR, "eastus")]);
        assert!(no_key.contains("AZURE_SPEECH_KEY"), "{no_key}");
        assert_eq!(err(&[(KEY_VAR, "k"), (REGION_VAR, "eastus")]), "");
        assert_eq!(
            err(&[(KEY_VAR, "k"), (ENDPOINT_VAR, "http://127.0.0.1:9")]),
            ""
        );
        let bad_region = err(&[(KEY_VAR, "k"), (REGION_VAR, "east us/x")]);
        assert!(bad_region.contains("not a region"), "{bad_region}");
    }

    #[test]
    fn the_key_is_in_neither_identity_nor_debug() {
        // Built directly: the environment is shared by every test in this process.
        let speech = SpeechSettings::from_profile(&profile("")).unwrap();
        let endpoint =
            reqwest::Url::parse("https://eastus.tts.speech.microsoft.com/cognitiveservices/v1")
                .unwrap();
        let backend = Azure {
            connection: Connection::new(NAME, HttpSettings::default(), endpoint).unwrap(),
            region: Some("eastus".into()),
            key: ApiKey::new("azure-secret-key-123".into()),
            speech,
        };
        let identity = backend.identity().to_string();
        assert!(!identity.contains("azure-secret-key-123"), "{identity}");
        assert!(identity.contains("en-GB-SoniaNeural"));
        assert!(!format!("{:?}", backend.key).contains("azure-secret-key-123"));
    }
}
