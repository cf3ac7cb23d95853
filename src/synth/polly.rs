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

use super::config::{self, Setting, engine_error, profile_error, string_option};
use super::http::{self, Answer, Connection, Expect, Failure, HttpSettings};
use super::ssml::{self, SsmlOptions};
use super::{
    Backend, BackendEntry, BackendLimits, Billing, Clip, OpenContext, SpeechRequest, WordTiming,
};
use crate::error::Result;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use std::ops::Range;
use std::sync::Arc;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "Amazon Polly (AWS credentials from the environment or ~/.aws, AWS_REGION)",
    limits: LIMITS,
    billing: Billing::PerCharacter {
        passes: billed_passes,
    },
    open: super::Opener::Fn(open_backend),
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
const LIMITS: BackendLimits = BackendLimits {
    max_chars: 1500,
    default_concurrency: 4,
    formats: &["pcm", "mp3", "ogg_vorbis"],
    timings: true,
    phonemes: true,
    context: false,
};

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
        let engine = string_option(profile, "engine")?.unwrap_or_else(|| "neural".into());
        if !ENGINES.contains(&engine.as_str()) {
            return Err(profile_error(
                profile,
                format!(
                    "options.engine '{engine}' is not one of {}",
                    ENGINES.join(", ")
                ),
            ));
        }
        let format = string_option(profile, "format")?.unwrap_or_else(|| "pcm".into());
        if !LIMITS.formats.contains(&format.as_str()) {
            return Err(profile_error(
                profile,
                format!(
                    "options.format '{format}' is not one of {}",
                    LIMITS.formats.join(", ")
                ),
            ));
        }
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
            voice: profile
                .voice
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .unwrap_or(DEFAULT_VOICE)
                .to_string(),
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

pub mod credentials {
    //! The part of the AWS credential chain aloud reads: environment variables
    //! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), then the static
    //! keys of the profile `AWS_PROFILE` (else `default`) in the shared credentials file
    //! (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`) and config file
    //! (`AWS_CONFIG_FILE`, else `~/.aws/config`). Profiles that get their keys another way
    //! (SSO, assumed roles, `credential_process`, web identity) and the ECS and EC2 instance
    //! metadata endpoints are not read; the error says so and how to export keys instead.

    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    /// AWS keys and where they came from. Debug shows the source only.
    #[derive(Clone)]
    pub struct AwsCredentials {
        pub access_key_id: String,
        pub secret_access_key: String,
        pub session_token: Option<String>,
        /// Where they were found, for messages ("environment variables AWS_ACCESS_KEY_ID ...").
        pub source: String,
    }

    impl std::fmt::Debug for AwsCredentials {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("AwsCredentials")
                .field("source", &self.source)
                .finish_non_exhaustive()
        }
    }

    /// Everything the chain looks at, so tests need not touch the process environment.
    pub struct Sources<'a> {
        pub env: &'a dyn Fn(&str) -> Option<String>,
        pub home: Option<PathBuf>,
    }

    impl Sources<'_> {
        fn var(&self, name: &str) -> Option<String> {
            (self.env)(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        }

        pub fn profile_name(&self) -> String {
            self.var("AWS_PROFILE").unwrap_or_else(|| "default".into())
        }

        fn file(&self, var: &str, default: &str) -> Option<PathBuf> {
            self.var(var)
                .map(PathBuf::from)
                .or_else(|| self.home.as_ref().map(|h| h.join(".aws").join(default)))
        }

        pub fn credentials_file(&self) -> Option<PathBuf> {
            self.file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
        }

        pub fn config_file(&self) -> Option<PathBuf> {
            self.file("AWS_CONFIG_FILE", "config")
        }
    }

    pub fn process_sources() -> Sources<'static> {
        Sources {
            env: &crate::synth::config::process_env,
            home: dirs::home_dir(),
        }
    }

    /// The sections of an AWS shared config or credentials file: `[name]` (in the config file
    /// `[profile name]`, except `[default]`) with `key = value` lines; `#` and `;` start
    /// comments; indented lines continue a nested setting (skipped: no static key is nested).
    pub fn parse_ini(text: &str, config_file: bool) -> HashMap<String, HashMap<String, String>> {
        let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if line.starts_with([' ', '\t']) {
                continue; // a sub-property (s3 = ...\n  max_concurrent_requests = ...)
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(header) = line.strip_prefix('[') {
                let Some(end) = header.find(']') else {
                    current = None;
                    continue;
                };
                let name = header[..end].trim();
                current = if config_file {
                    match name.strip_prefix("profile") {
                        Some(rest) if rest.starts_with([' ', '\t']) => {
                            Some(rest.trim().to_string())
                        }
                        _ if name == "default" => Some(name.to_string()),
                        _ => None, // sso-session, services, ...: not profiles
                    }
                } else {
                    Some(name.to_string())
                };
                if let Some(name) = &current {
                    sections.entry(name.clone()).or_default();
                }
                continue;
            }
            let (Some(section), Some((key, value))) = (&current, line.split_once('=')) else {
                continue;
            };
            // A value's own comment starts with whitespace then # or ;.
            let mut value = value.trim();
            for marker in [" #", "\t#", " ;", "\t;"] {
                if let Some(at) = value.find(marker) {
                    value = value[..at].trim_end();
                }
            }
            if let Some(entries) = sections.get_mut(section) {
                entries.insert(key.trim().to_ascii_lowercase(), value.to_string());
            }
        }
        sections
    }

    fn read(path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    /// The profile's settings: the credentials file's over the config file's.
    fn profile_settings(sources: &Sources) -> (HashMap<String, String>, Vec<PathBuf>) {
        let name = sources.profile_name();
        let mut merged = HashMap::new();
        let mut files = Vec::new();
        for (path, config) in [
            (sources.config_file(), true),
            (sources.credentials_file(), false),
        ] {
            let Some(path) = path else { continue };
            let Some(text) = read(&path) else { continue };
            if let Some(section) = parse_ini(&text, config).remove(&name) {
                merged.extend(section);
                files.push(path);
            }
        }
        (merged, files)
    }

    /// The region of the selected profile in the shared config file, if any.
    pub fn profile_region(sources: &Sources) -> Option<String> {
        profile_settings(sources)
            .0
            .get("region")
            .filter(|r| !r.is_empty())
            .cloned()
    }

    /// Resolves credentials; the error says what was looked at and what to do.
    pub fn resolve(sources: &Sources) -> Result<AwsCredentials, String> {
        match (
            sources.var("AWS_ACCESS_KEY_ID"),
            sources.var("AWS_SECRET_ACCESS_KEY"),
        ) {
            (Some(id), Some(secret)) => {
                return Ok(AwsCredentials {
                    access_key_id: id,
                    secret_access_key: secret,
                    session_token: sources.var("AWS_SESSION_TOKEN"),
                    source: "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
                        .to_string(),
                });
            }
            (Some(_), None) => {
                return Err(
                    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both"
                        .to_string(),
                );
            }
            (None, Some(_)) => {
                return Err(
                    "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both"
                        .to_string(),
                );
            }
            (None, None) => {}
        }
        let name = sources.profile_name();
        let (settings, files) = profile_settings(sources);
        let get = |key: &str| settings.get(key).filter(|v| !v.is_empty()).cloned();
        if let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) {
            let files: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
            return Ok(AwsCredentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: get("aws_session_token"),
                source: format!("AWS profile '{name}' ({})", files.join(", ")),
            });
        }
        let unsupported = [
            ("sso_session", "SSO"),
            ("sso_start_url", "SSO"),
            ("role_arn", "an assumed role"),
            ("credential_process", "credential_process"),
            ("web_identity_token_file", "web identity"),
            ("login_session", "console login"),
        ]
        .iter()
        .find(|(key, _)| settings.contains_key(*key));
        let export = format!(
            "export them with `aws configure export-credentials --profile {name} --format env`"
        );
        if let Some((_, how)) = unsupported {
            return Err(format!(
                "AWS profile '{name}' gets its credentials through {how}, which aloud does not read; {export}"
            ));
        }
        let looked = [sources.credentials_file(), sources.config_file()]
            .into_iter()
            .flatten()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" and ");
        Err(format!(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put keys for profile '{name}' (AWS_PROFILE) in {looked}; for SSO or roles, {export} (instance and container metadata credentials are not read)"
        ))
    }
}

use credentials::AwsCredentials;

pub struct Polly {
    connection: Connection,
    region: String,
    credentials: AwsCredentials,
    speech: SpeechSettings,
}

fn open_backend(profile: &VoiceProfile, _context: &mut OpenContext) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(Polly::open(profile)?))
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
        let mut endpoint = base.clone();
        endpoint.set_path(&format!("{}/v1/speech", base.path().trim_end_matches('/')));
        endpoint.set_query(None);
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
        self.connection.send_as(
            || {
                self.signed(&body).unwrap_or_else(|_| {
                    self.connection.post("application/json", &body)
                })
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
mod tests {
    use super::credentials::{Sources, parse_ini, resolve};
    use super::*;
    use crate::lexicon::Pronunciation;
    use std::collections::HashMap;
    use std::path::Path;

    #[test]
    fn ssml_offsets_map_back_to_the_text() {
        let text = "AT&T's <b>\"deal\"</b> with\u{1} Kremlev now, café.";
        let mut request = SpeechRequest::plain(text);
        let k = text.find("Kremlev").unwrap();
        request.pronunciations = vec![Pronunciation {
            range: k..k + 7,
            ipa: "kɹˈɛmlɛv".into(),
        }];
        let map = request_ssml(&request);
        assert!(map.ssml.starts_with("<speak>AT&amp;T&apos;s &lt;b&gt;"));
        assert!(
            map.ssml
                .contains("<phoneme alphabet=\"ipa\" ph=\"kɹˈɛmlɛv\">Kremlev</phoneme>")
        );
        // Every word of the text, found in the SSML by its escaped form, maps back to itself.
        for word in ["AT&T's", "<b>\"deal\"</b>", "now,", "café."] {
            let escaped = ssml::escape(word);
            let at = map.ssml.find(&escaped).unwrap();
            let range = map.text_range(at, at + escaped.len()).unwrap();
            assert_eq!(&text[range], word);
        }
        let at = map.ssml.find(">Kremlev<").unwrap() + 1;
        assert_eq!(&text[map.text_range(at, at + 7).unwrap()], "Kremlev");
        // The control character the SSML dropped is skipped, not matched.
        let at = map.ssml.find("with").unwrap();
        let with = map.text_range(at, at + 4).unwrap();
        assert_eq!(&text[with.clone()], "with");
        assert_eq!(&text[with.end..with.end + 1], "\u{1}");
        // Inside a tag there is no text.
        assert_eq!(map.text_range(0, 3), None);
        let phoneme = map.ssml.find("<phoneme").unwrap();
        assert_eq!(map.text_range(phoneme + 1, phoneme + 5), None);
        assert_eq!(map.text_range(5, 5), None);
    }

    #[test]
    fn speech_marks_become_word_timings() {
        let text = "Fish & chips";
        let map = request_ssml(&SpeechRequest::plain(text));
        assert_eq!(map.ssml, "<speak>Fish &amp; chips</speak>");
        let marks = b"{\"time\":6,\"type\":\"word\",\"start\":7,\"end\":11,\"value\":\"Fish\"}\n\
{\"time\":380,\"type\":\"word\",\"start\":12,\"end\":17,\"value\":\"&\"}\n\
{\"time\":520,\"type\":\"word\",\"start\":18,\"end\":23,\"value\":\"chips\"}\n";
        let words = word_timings(marks, &map, 1.2).unwrap();
        let got: Vec<(&str, f64, f64)> = words
            .iter()
            .map(|w| (&text[w.range.clone()], w.start, w.end))
            .collect();
        assert_eq!(
            got,
            [
                ("Fish", 0.006, 0.38),
                ("&", 0.38, 0.52),
                ("chips", 0.52, 1.2)
            ]
        );
        let bad = b"{\"time\":6,\"type\":\"word\",\"start\":0,\"end\":6,\"value\":\"<speak\"}\n";
        assert!(matches!(
            word_timings(bad, &map, 1.0),
            Err(Failure::Fatal { .. })
        ));
    }

    fn answer(status: u16, header: Option<&str>, body: &str) -> Answer {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(h) = header {
            headers.insert("x-amzn-ErrorType", h.parse().unwrap());
        }
        Answer {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn polly_errors_are_classified() {
        let throttled = answer(
            400,
            Some(
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/",
            ),
            r#"{"message":"Rate exceeded"}"#,
        );
        assert!(matches!(classify(&throttled, "env"), Failure::Retry { .. }));
        let body_only = answer(
            500,
            None,
            r#"{"__type":"com.amazonaws.polly#ServiceFailureException","message":"x"}"#,
        );
        assert!(matches!(classify(&body_only, "env"), Failure::Retry { .. }));
        let signature = answer(
            403,
            Some("InvalidSignatureException:http://x/"),
            r#"{"message":"The request signature we calculated does not match"}"#,
        );
        let f = classify(
            &signature,
            "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
        );
        assert!(matches!(f, Failure::Fatal { .. }));
        assert!(
            f.message().contains("AWS_SECRET_ACCESS_KEY")
                && f.message().contains("InvalidSignatureException"),
            "{}",
            f.message()
        );
        for kind in [
            "TextLengthExceededException",
            "InvalidSsmlException",
            "LexiconNotFoundException",
            "EngineNotSupportedException",
            "ValidationException",
        ] {
            let a = answer(400, Some(kind), r#"{"message":"what went wrong"}"#);
            let f = classify(&a, "env");
            assert!(matches!(f, Failure::Fatal { .. }), "{kind}");
            assert!(f.message().contains(kind) && f.message().contains("what went wrong"));
        }
        // No Polly error type: the common rules.
        assert!(matches!(
            classify(&answer(503, None, "busy"), "env"),
            Failure::Retry { .. }
        ));
    }

    fn sources<'a>(env: &'a dyn Fn(&str) -> Option<String>, home: &Path) -> Sources<'a> {
        Sources {
            env,
            home: Some(home.to_path_buf()),
        }
    }

    #[test]
    fn credentials_from_env_then_profile_files() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".aws")).unwrap();
        std::fs::write(
            home.path().join(".aws/credentials"),
            "# keys\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s3cr3t/default ; note\n\n[work]\naws_access_key_id=AKIDWORK\naws_secret_access_key=workSecret\naws_session_token = tok\n",
        )
        .unwrap();
        std::fs::write(
            home.path().join(".aws/config"),
            "[default]\nregion = eu-west-1\n[profile work]\nregion = us-west-2\ns3 =\n  max_concurrent_requests = 20\n[profile sso]\nsso_session = corp\n[sso-session corp]\nsso_region = us-east-1\n",
        )
        .unwrap();
        let vars: HashMap<&str, &str> = HashMap::new();
        let env = |k: &str| vars.get(k).map(|v| v.to_string());
        let c = resolve(&sources(&env, home.path())).unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.secret_access_key.as_str()),
            ("AKIDDEFAULT", "s3cr3t/default")
        );
        assert!(c.source.contains("'default'"));
        assert_eq!(
            credentials::profile_region(&sources(&env, home.path())).as_deref(),
            Some("eu-west-1")
        );

        let work: HashMap<&str, &str> = [("AWS_PROFILE", "work")].into();
        let env = |k: &str| work.get(k).map(|v| v.to_string());
        let c = resolve(&sources(&env, home.path())).unwrap();
        assert_eq!(c.session_token.as_deref(), Some("tok"));
        assert_eq!(
            credentials::profile_region(&sources(&env, home.path())).as_deref(),
            Some("us-west-2")
        );
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("workSecret") && !debug.contains("tok\""),
            "{debug}"
        );

        let sso: HashMap<&str, &str> = [("AWS_PROFILE", "sso")].into();
        let env = |k: &str| sso.get(k).map(|v| v.to_string());
        let err = resolve(&sources(&env, home.path())).unwrap_err();
        assert!(
            err.contains("SSO") && err.contains("export-credentials"),
            "{err}"
        );

        let both: HashMap<&str, &str> = [
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "envSecret"),
            ("AWS_PROFILE", "work"),
        ]
        .into();
        let env = |k: &str| both.get(k).map(|v| v.to_string());
        let c = resolve(&sources(&env, home.path())).unwrap();
        assert_eq!(c.access_key_id, "AKIDENV");
        assert!(c.source.contains("AWS_ACCESS_KEY_ID"));

        let nothing = tempfile::tempdir().unwrap();
        let env = |_: &str| None;
        let err = resolve(&sources(&env, nothing.path())).unwrap_err();
        assert!(
            err.contains("AWS_ACCESS_KEY_ID") && err.contains("AWS_PROFILE"),
            "{err}"
        );
    }

    #[test]
    fn ini_sections_follow_the_aws_rules() {
        let config = parse_ini(
            "[profile a]\nregion=x\n[b]\nregion=y\n[default]\nregion=z\n",
            true,
        );
        assert_eq!(config["a"]["region"], "x");
        assert!(
            !config.contains_key("b"),
            "a config section without 'profile' is not a profile"
        );
        assert_eq!(config["default"]["region"], "z");
        let creds = parse_ini("[profile a]\nk=1\n[a]\nk=2\n", false);
        assert_eq!(creds["a"]["k"], "2");
        assert_eq!(creds["profile a"]["k"], "1");
    }

    #[test]
    fn secrets_are_in_neither_identity_nor_debug() {
        let profile = VoiceProfile::find("polly:Joanna").unwrap();
        let vars: HashMap<&str, &str> = [
            ("AWS_ACCESS_KEY_ID", "AKIDSECRETID"),
            ("AWS_SECRET_ACCESS_KEY", "very/secret+key"),
            ("AWS_SESSION_TOKEN", "session-token-value"),
            ("AWS_REGION", "eu-central-1"),
        ]
        .into();
        let env = |k: &str| vars.get(k).map(|v| v.to_string());
        let home = tempfile::tempdir().unwrap();
        let polly = Polly::open_with(&profile, &sources(&env, home.path())).unwrap();
        let identity = polly.identity().to_string();
        let debug = format!("{:?}", polly.credentials);
        for secret in ["very/secret+key", "session-token-value"] {
            assert!(!identity.contains(secret) && !debug.contains(secret));
        }
        assert!(
            identity.contains("https://polly.eu-central-1.amazonaws.com/v1/speech"),
            "{identity}"
        );
        assert!(identity.contains("Joanna") && identity.contains("neural"));
        // The signature headers are marked sensitive, so reqwest never prints them.
        let request = polly.signed(b"{}").unwrap().build().unwrap();
        assert!(request.headers()["authorization"].is_sensitive());
        assert!(request.headers()["x-amz-security-token"].is_sensitive());
        assert!(request.headers().contains_key("x-amz-date"));
    }

    #[test]
    fn the_region_comes_from_options_env_or_the_profile_and_is_required() {
        let profile = VoiceProfile::find("polly:Joanna").unwrap();
        let home = tempfile::tempdir().unwrap();
        let region_of = |vars: &HashMap<&str, &str>| {
            let env = |k: &str| vars.get(k).map(|v| v.to_string());
            Polly::open_with(&profile, &sources(&env, home.path())).map(|p| p.region)
        };
        let keys = [
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ];
        let mut vars: HashMap<&str, &str> = keys.into();
        let err = region_of(&vars).unwrap_err().to_string();
        assert!(err.contains("AWS_REGION"), "{err}");
        vars.insert("AWS_DEFAULT_REGION", "eu-west-3");
        assert_eq!(region_of(&vars).unwrap(), "eu-west-3");
        vars.insert("AWS_REGION", "ap-south-1");
        assert_eq!(region_of(&vars).unwrap(), "ap-south-1");
        vars.insert("AWS_ENDPOINT_URL", "http://127.0.0.1:9/base/");
        let env = |k: &str| vars.get(k).map(|v| v.to_string());
        let polly = Polly::open_with(&profile, &sources(&env, home.path())).unwrap();
        assert_eq!(polly.connection.endpoint().as_str(), "http://127.0.0.1:9/base/v1/speech");
    }

    #[test]
    fn bodies_follow_the_profile() {
        let mut profile = VoiceProfile::find("polly:Matthew").unwrap();
        profile.options.insert("engine".into(), "standard".into());
        profile
            .options
            .insert("lexicons".into(), toml::Value::Array(vec!["names".into()]));
        let bodies = request_bodies(&profile, &SpeechRequest::plain("Hi & bye")).unwrap();
        assert_eq!(
            bodies[0],
            serde_json::json!({"Engine":"standard","LexiconNames":["names"],"OutputFormat":"pcm","SampleRate":"16000","Text":"<speak>Hi &amp; bye</speak>","TextType":"ssml","VoiceId":"Matthew"})
        );
        assert_eq!(bodies[1]["OutputFormat"], "json");
        assert_eq!(bodies[1]["SpeechMarkTypes"], serde_json::json!(["word"]));
        profile.options.insert("speech_marks".into(), false.into());
        assert_eq!(
            request_bodies(&profile, &SpeechRequest::plain("x"))
                .unwrap()
                .len(),
            1
        );
        profile.options.insert("engine".into(), "turbo".into());
        assert!(request_bodies(&profile, &SpeechRequest::plain("x")).is_err());
    }
}
