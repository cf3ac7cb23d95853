//! Amazon Polly's SynthesizeSpeech (`POST {endpoint}/v1/speech`, SigV4-signed): the audio, and its word speech marks mapped back to the request's text.
//!
//! Each request goes as SSML through [`super::ssml`] (escaped; lexicon IPA as `<phoneme>`).
//! With `speech_marks` (the default) a second SynthesizeSpeech request for the same text with
//! `OutputFormat: json` runs beside the audio one; its word marks carry byte offsets into the
//! SSML sent, which [`SsmlMap`] turns back into byte ranges of the request's text.
//!
//! Profile options: `engine` (`neural`, default, `standard`, `long-form`, `generative`),
//! `format` (`pcm`, default, `mp3`, `ogg_vorbis`), `sample_rate` (16000; pcm takes 8000 or
//! 16000, the others also 22050 and 24000), `speech_marks` (true), `language_code`,
//! `lexicons` (names of lexicons stored in Polly), `region`, `endpoint`, plus the timeouts and
//! retries of [`super::http::HttpSettings`].
//!
//! Region: `options.region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the `region` of
//! the profile in the shared config file. Endpoint: `options.endpoint`, else
//! `AWS_ENDPOINT_URL_POLLY`, else `AWS_ENDPOINT_URL`, else `https://polly.{region}.amazonaws.com`.
//! Credentials: see [`credentials`].

pub mod credentials;

use super::config::{self, Setting, engine_error, profile_error, string_option};
use super::http::{self, Answer, Connection, Expect, Failure, HttpSettings};
use super::ssml::{self, SsmlOptions};
use super::{Backend, BackendEntry, BackendLimits, Billing, Clip, SpeechRequest, WordTiming};
use crate::error::Result;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use credentials::AwsCredentials;
use std::ops::Range;
use std::sync::Arc;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "Amazon Polly (AWS credentials from the environment or ~/.aws, AWS_REGION)",
    limits: LIMITS,
    billing: Billing::PerCharacter {
        passes: billed_passes,
    },
    open: super::Opener::Fn(|profile, _| Ok(Arc::new(Polly::open(profile)?))),
};

/// Whether the profile asks for word speech marks (the default); `None` if it says neither.
fn speech_marks(profile: &VoiceProfile) -> Option<bool> {
    match profile.options.get("speech_marks") {
        None => Some(true),
        Some(toml::Value::Boolean(b)) => Some(*b),
        Some(_) => None,
    }
}

/// Speech-marks requests are billed like speech: with them each text is billed twice.
fn billed_passes(profile: &VoiceProfile) -> u32 {
    if speech_marks(profile) == Some(false) {
        1
    } else {
        2
    }
}

/// `max_chars`: Polly takes 3000 billed characters (the text) and 6000 in all (tags included)
/// per request. 1500 leaves room for escaping (`&` becomes `&amp;`) and lexicon `<phoneme>`
/// elements several times over, and keeps one request near 90 seconds of speech, well under
/// the 10 minutes Polly synthesizes in one call. A request whose SSML still exceeds 6000
/// characters is refused before it is sent.
/// `default_concurrency`: Polly's SynthesizeSpeech quota is 8 transactions a second (burst
/// 10) for most engines; each sentence makes two requests (audio and marks) at once, so four
/// sentences in flight stay within it.
const LIMITS: BackendLimits = BackendLimits::new(1500, 4, &["pcm", "mp3", "ogg_vorbis"])
    .with_timings()
    .with_phonemes();

const NAME: &str = "polly";
const SERVICE: &str = "polly";
const DEFAULT_VOICE: &str = "Joanna";
const ENGINES: &[&str] = &["neural", "standard", "long-form", "generative"];
/// Polly's ceiling on the whole Text of one request, tags included.
const MAX_SSML_CHARS: usize = 6000;

/// What one request says, beyond the text.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechSettings {
    pub engine: String,
    pub voice: String,
    pub format: String,
    pub sample_rate: u32,
    pub language_code: Option<String>,
    pub lexicons: Vec<String>,
    pub speech_marks: bool,
}

impl SpeechSettings {
    pub fn from_profile(profile: &VoiceProfile) -> Result<Self> {
        let engine = config::choice(profile, "engine", "neural", ENGINES)?;
        let format = config::choice(profile, "format", "pcm", LIMITS.formats)?;
        let sample_rate = match profile.options.get("sample_rate") {
            None => 16_000,
            Some(value) => value
                .as_integer()
                .and_then(|r| u32::try_from(r).ok())
                .ok_or_else(|| profile_error(profile, "options.sample_rate must be a number"))?,
        };
        let rates: &[u32] = if format == "pcm" {
            &[8_000, 16_000]
        } else {
            &[8_000, 16_000, 22_050, 24_000]
        };
        if !rates.contains(&sample_rate) {
            return Err(profile_error(
                profile,
                format!(
                    "options.sample_rate {sample_rate} is not one Polly gives {format} at ({rates:?})"
                ),
            ));
        }
        let speech_marks = speech_marks(profile)
            .ok_or_else(|| profile_error(profile, "options.speech_marks must be true or false"))?;
        let lexicons = match profile.options.get("lexicons") {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .filter(|names| names.len() <= 5)
                .ok_or_else(|| {
                    profile_error(
                        profile,
                        "options.lexicons must be a list of at most 5 lexicon names",
                    )
                })?,
            Some(_) => {
                return Err(profile_error(
                    profile,
                    "options.lexicons must be a list of lexicon names",
                ));
            }
        };
        Ok(SpeechSettings {
            engine,
            voice: config::voice(profile).unwrap_or(DEFAULT_VOICE).to_string(),
            format,
            sample_rate,
            language_code: string_option(profile, "language_code")?,
            lexicons,
            speech_marks,
        })
    }

    fn common(&self, text: &str) -> serde_json::Map<String, serde_json::Value> {
        let mut body = serde_json::Map::new();
        body.insert("Engine".into(), self.engine.clone().into());
        if let Some(code) = &self.language_code {
            body.insert("LanguageCode".into(), code.clone().into());
        }
        if !self.lexicons.is_empty() {
            body.insert("LexiconNames".into(), self.lexicons.clone().into());
        }
        body.insert("Text".into(), text.into());
        body.insert("TextType".into(), "ssml".into());
        body.insert("VoiceId".into(), self.voice.clone().into());
        body
    }

    /// The body asking for the audio of `ssml`.
    pub fn audio_body(&self, ssml: &str) -> serde_json::Value {
        let mut body = self.common(ssml);
        body.insert("OutputFormat".into(), self.format.clone().into());
        body.insert("SampleRate".into(), self.sample_rate.to_string().into());
        body.into()
    }

    /// The body asking for the word speech marks of `ssml`.
    pub fn marks_body(&self, ssml: &str) -> serde_json::Value {
        let mut body = self.common(ssml);
        body.insert("OutputFormat".into(), "json".into());
        body.insert("SpeechMarkTypes".into(), serde_json::json!(["word"]));
        body.into()
    }
}

/// The SSML sent for `request`, with where each of its characters came from.
pub fn request_ssml(request: &SpeechRequest) -> SsmlMap {
    let body = ssml::body(
        request,
        SsmlOptions {
            word_marks: false,
            phonemes: true,
        },
    );
    let ssml = format!("<speak>{}</speak>", body.markup);
    SsmlMap::new(ssml, &request.text)
}

/// The request bodies aloud would send for `profile` and `request`: the audio one, and the
/// speech marks one unless `speech_marks` is off (for contract tests).
pub fn request_bodies(
    profile: &VoiceProfile,
    request: &SpeechRequest,
) -> Result<Vec<serde_json::Value>> {
    let settings = SpeechSettings::from_profile(profile)?;
    let ssml = request_ssml(request);
    let mut bodies = vec![settings.audio_body(&ssml.ssml)];
    if settings.speech_marks {
        bodies.push(settings.marks_body(&ssml.ssml));
    }
    Ok(bodies)
}

/// An SSML document and, for each character of text in it, the bytes of the request's text it
/// stands for (`&amp;` stands for one `&`). Polly's speech marks give byte offsets into the
/// SSML; this turns them back into byte ranges of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsmlMap {
    pub ssml: String,
    /// `(bytes of ssml, bytes of text)` for each character of text content, in order.
    spans: Vec<(Range<usize>, Range<usize>)>,
}

impl SsmlMap {
    /// Walks `ssml` (as [`ssml::body`] writes it: every `>` and quote in text and attribute
    /// values escaped) beside `text`. Characters [`ssml::escape`] drops are skipped in `text`.
    fn new(ssml: String, text: &str) -> SsmlMap {
        let mut spans = Vec::new();
        let mut cursor = 0;
        let mut i = 0;
        let bytes = ssml.as_bytes();
        while i < ssml.len() {
            if bytes[i] == b'<' {
                i = ssml[i..]
                    .find('>')
                    .map_or(ssml.len(), |close| i + close + 1);
                continue;
            }
            let (ch, len) = if bytes[i] == b'&' {
                let semi = ssml[i..].find(';').map_or(ssml.len() - 1, |s| i + s);
                let ch = match &ssml[i..=semi] {
                    "&amp;" => '&',
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&quot;" => '"',
                    "&apos;" => '\'',
                    _ => '&', // never written by ssml::escape; matched as a plain '&' below
                };
                (ch, semi + 1 - i)
            } else {
                let ch = ssml[i..].chars().next().unwrap_or('\u{FFFD}');
                (ch, ch.len_utf8())
            };
            // Characters escape() drops have no place in the SSML.
            while let Some(t) = text[cursor..].chars().next() {
                if t == ch || !ssml::escape(t.encode_utf8(&mut [0; 4])).is_empty() {
                    break;
                }
                cursor += t.len_utf8();
            }
            match text[cursor..].chars().next() {
                Some(t) if t == ch => {
                    spans.push((i..i + len, cursor..cursor + t.len_utf8()));
                    cursor += t.len_utf8();
                }
                _ => {} // not from the text (cannot happen with ssml::body's markup)
            }
            i += len;
        }
        SsmlMap { ssml, spans }
    }

    /// The bytes of the text that SSML bytes `start..end` stand for; `None` when either end
    /// falls outside the text content (inside a tag, or past the end).
    pub fn text_range(&self, start: usize, end: usize) -> Option<Range<usize>> {
        if end <= start {
            return None;
        }
        let find = |byte: usize| {
            let i = self.spans.partition_point(|(s, _)| s.end <= byte);
            self.spans
                .get(i)
                .filter(|(s, _)| s.start <= byte)
                .map(|(_, t)| t.clone())
        };
        let first = find(start)?;
        let last = find(end - 1)?;
        Some(first.start..last.end)
    }
}

/// One line of Polly's JSON speech marks.
#[derive(Debug, Clone, serde::Deserialize)]
struct SpeechMark {
    time: f64,
    #[serde(rename = "type")]
    kind: String,
    start: usize,
    end: usize,
    #[serde(default)]
    value: String,
}

/// Word marks (JSON lines) as timings of the request's text; a word ends where the next begins,
/// the last where the clip ends.
fn word_timings(body: &[u8], map: &SsmlMap, clip_seconds: f64) -> Result<Vec<WordTiming>, Failure> {
    let text = std::str::from_utf8(body).map_err(|_| Failure::Fatal {
        message: "the speech marks are not UTF-8".to_string(),
    })?;
    let mut words = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mark: SpeechMark = serde_json::from_str(line).map_err(|e| Failure::Fatal {
            message: format!("a speech mark is not what Polly sends ({e})"),
        })?;
        if mark.kind != "word" {
            continue;
        }
        let range = map
            .text_range(mark.start, mark.end)
            .ok_or_else(|| Failure::Fatal {
                message: format!(
                    "the speech mark for '{}' (bytes {}..{}) does not point at the text sent",
                    mark.value, mark.start, mark.end
                ),
            })?;
        if !mark.time.is_finite() || mark.time < 0.0 {
            return Err(Failure::Fatal {
                message: format!("the speech mark for '{}' has no valid time", mark.value),
            });
        }
        words.push((range, (mark.time / 1000.0).min(clip_seconds)));
    }
    words.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.start.cmp(&b.0.start)));
    let ends: Vec<f64> = words
        .iter()
        .skip(1)
        .map(|(_, start)| *start)
        .chain(std::iter::once(clip_seconds))
        .collect();
    Ok(words
        .into_iter()
        .zip(ends)
        .map(|((range, start), end)| WordTiming { range, start, end })
        .collect())
}

pub struct Polly {
    connection: Connection,
    region: String,
    credentials: AwsCredentials,
    speech: SpeechSettings,
}

impl Polly {
    pub fn open(profile: &VoiceProfile) -> Result<Self> {
        let sources = credentials::process_sources();
        Self::open_with(profile, &sources)
    }

    /// [`Polly::open`] reading the environment and files through `sources`.
    pub fn open_with(profile: &VoiceProfile, sources: &credentials::Sources) -> Result<Self> {
        let settings = HttpSettings::from_profile(profile)?;
        let speech = SpeechSettings::from_profile(profile)?;
        let region = config::setting(
            profile,
            "region",
            &["AWS_REGION", "AWS_DEFAULT_REGION"],
            sources.env,
        )?
        .map(|setting| setting.value)
        .or_else(|| credentials::profile_region(sources))
            .ok_or_else(|| {
                engine_error(NAME, format!(
                    "no AWS region: set AWS_REGION (say us-east-1), options.region, or region in profile '{}' of the AWS config file",
                    sources.profile_name()
                ))
            })?;
        if !region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(engine_error(
                NAME,
                format!("'{region}' is not an AWS region name (say us-east-1)"),
            ));
        }
        let (base, _) = http::endpoint(
            NAME,
            profile,
            "endpoint",
            &["AWS_ENDPOINT_URL_POLLY", "AWS_ENDPOINT_URL"],
            sources.env,
            Setting::default(
                format!("https://polly.{region}.amazonaws.com"),
                "the regional endpoint",
            ),
        )?;
        let endpoint = http::with_path(
            &base,
            &format!("{}/v1/speech", base.path().trim_end_matches('/')),
        );
        let credentials = credentials::resolve(sources).map_err(|m| engine_error(NAME, m))?;
        let polly = Polly {
            connection: Connection::new(NAME, settings, endpoint)?,
            region,
            credentials,
            speech,
        };
        // Keys that cannot be signed with (say, a stray newline) fail here, not per sentence.
        drop(
            polly
                .signed(b"{}")
                .map_err(|f| engine_error(NAME, f.message().to_string()))?,
        );
        Ok(polly)
    }

    /// HTTP requests made so far, retries included.
    pub fn requests(&self) -> usize {
        self.connection.requests()
    }

    /// The signed POST of `body`.
    fn signed(&self, body: &[u8]) -> Result<reqwest::RequestBuilder, Failure> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        use aws_sigv4::sign::v4;
        let identity = aws_credential_types::Credentials::new(
            &self.credentials.access_key_id,
            &self.credentials.secret_access_key,
            self.credentials.session_token.clone(),
            None,
            "aloud",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SERVICE)
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Failure::Fatal {
                message: format!("cannot sign the request: {e}"),
            })?
            .into();
        let headers = [("content-type", "application/json")];
        let signable = SignableRequest::new(
            "POST",
            self.connection.endpoint().as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| Failure::Fatal {
            message: format!("cannot sign the request: {e}"),
        })?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| Failure::Fatal {
                message: format!("cannot sign the request: {e}"),
            })?
            .into_parts();
        let mut builder = self.connection.post("application/json", body);
        let (signing_headers, _) = instructions.into_parts();
        for header in signing_headers {
            let mut value =
                reqwest::header::HeaderValue::from_str(header.value()).map_err(|_| {
                    Failure::Fatal {
                        message: format!(
                            "the credentials from {} hold characters no HTTP header can carry",
                            self.credentials.source
                        ),
                    }
                })?;
            value.set_sensitive(header.sensitive() || header.name() == "authorization");
            builder = builder.header(header.name(), value);
        }
        Ok(builder)
    }

    /// Sends one SynthesizeSpeech body until it succeeds or fails for good.
    async fn call<T>(
        &self,
        body: &serde_json::Value,
        decode: impl Fn(&[u8]) -> Result<T, Failure>,
    ) -> Result<T> {
        let body = self.connection.json(body)?;
        // Signed per attempt: the signature covers the time. Signing was tried once when the
        // backend opened, so it cannot fail here; should it, the request goes unsigned and
        // Polly's refusal names the credentials.
        self.connection
            .send_as(
                || {
                    self.signed(&body)
                        .unwrap_or_else(|_| self.connection.post("application/json", &body))
                },
                |answer| {
                    if answer.status.is_success() {
                        return decode(&answer.body);
                    }
                    Err(classify(&answer, &self.credentials.source))
                },
            )
            .await
    }
}

/// What Polly's error answers mean: the type comes in `x-amzn-ErrorType` (`Name:url`) or the
/// body's `__type` (`prefix#Name`), the text in the body's `message`.
pub fn classify(answer: &Answer, credential_source: &str) -> Failure {
    let header_type = answer
        .headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or(v).trim().to_string());
    let body: Option<serde_json::Value> = serde_json::from_slice(&answer.body).ok();
    let body_type = body
        .as_ref()
        .and_then(|b| b.get("__type"))
        .and_then(|t| t.as_str())
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
    let message = body
        .as_ref()
        .and_then(|b| b.get("message").or_else(|| b.get("Message")))
        .and_then(|m| m.as_str())
        .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|m| m.chars().take(300).collect::<String>());
    let Some(kind) = header_type.or(body_type).filter(|k| !k.is_empty()) else {
        return answer.failure(Some(credential_source));
    };
    let status = answer.status.as_u16();
    let said = match &message {
        Some(m) => format!("{kind} (HTTP {status}): {m}"),
        None => format!("{kind} (HTTP {status})"),
    };
    match kind.as_str() {
        "ThrottlingException"
        | "ServiceFailureException"
        | "ServiceUnavailableException"
        | "InternalFailure"
        | "RequestTimeoutException" => Failure::Retry {
            message: said,
            wait: http::retry_after(&answer.headers),
        },
        "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "UnrecognizedClientException"
        | "AccessDeniedException"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "MissingAuthenticationTokenException"
        | "IncompleteSignature" => Failure::Fatal {
            message: format!(
                "the AWS credentials from {credential_source} are refused: {said}; check the keys, their session token and the clock, and that they may call polly:SynthesizeSpeech"
            ),
        },
        _ if status == 429 || status >= 500 => Failure::Retry {
            message: said,
            wait: http::retry_after(&answer.headers),
        },
        _ => Failure::Fatal { message: said },
    }
}

#[async_trait]
impl Backend for Polly {
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({
            "engine": NAME,
            "endpoint": self.connection.public_endpoint(),
            "region": self.region,
            "polly_engine": self.speech.engine,
            "voice": self.speech.voice,
            "language_code": self.speech.language_code,
            "lexicons": self.speech.lexicons,
            "format": self.speech.format,
            "sample_rate": self.speech.sample_rate,
            // Clips made without marks carry no word timings.
            "speech_marks": self.speech.speech_marks,
        })
    }

    fn sample_rate(&self) -> u32 {
        self.speech.sample_rate
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        let map = request_ssml(request);
        let chars = map.ssml.chars().count();
        if chars > MAX_SSML_CHARS {
            return Err(engine_error(
                NAME,
                format!("the request's SSML is {chars} characters, over Polly's {MAX_SSML_CHARS}"),
            ));
        }
        let expect = if self.speech.format == "pcm" {
            Expect::Pcm16 {
                sample_rate: self.speech.sample_rate,
            }
        } else {
            Expect::Sniffed
        };
        let audio_body = self.speech.audio_body(&map.ssml);
        let audio = self.call(&audio_body, |bytes| http::decode_body(bytes, expect));
        let clip = if self.speech.speech_marks {
            let marks_body = self.speech.marks_body(&map.ssml);
            let marks = self.call(&marks_body, |bytes| Ok(bytes.to_vec()));
            let (clip, marks) = futures::join!(audio, marks);
            let mut clip = http::to_rate(NAME, clip?, self.speech.sample_rate)?;
            let seconds = clip.duration().as_secs_f64();
            clip.words = word_timings(&marks?, &map, seconds)
                .map_err(|f| engine_error(NAME, f.message().to_string()))?;
            clip
        } else {
            http::to_rate(NAME, audio.await?, self.speech.sample_rate)?
        };
        Ok(clip)
    }
}

#[cfg(test)]
mod tests;
