//! Google Cloud Text-to-Speech (`POST {base}/v1beta1/text:synthesize`): SSML with a mark before
//! every word, audio back in base64 beside the marks' timepoints (which become word timings),
//! and Google's credentials: API key, OAuth access token, or Application Default Credentials.
//!
//! Profile: `voice` is the voice name (`google:en-US-Neural2-F` names one ad hoc; its language
//! comes from the name), `language` the language code when the name has none, `speaking_rate`
//! becomes `speakingRate` (0.25–2.0). Options: `base_url` (else `ALOUD_GOOGLE_TTS_URL`, else
//! https://texttospeech.googleapis.com), `audio_encoding` (`LINEAR16`, default, or `MP3`),
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

use super::config::{
    self, Setting, engine_error, env_value, process_env, profile_error, string_option,
};
use super::http::{self, Answer, ApiKey, Connection, Expect, Failure, HttpSettings};
use super::ssml::{self, SsmlOptions};
use super::{
    Backend, BackendEntry, BackendLimits, Billing, Clip, OpenContext, SpeechRequest, WordTiming,
};
use crate::error::Result;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "Google Cloud Text-to-Speech with word timings (GOOGLE_API_KEY, an access token or Application Default Credentials)",
    limits: LIMITS,
    billing: Billing::ONCE,
    open: super::Opener::Fn(open_backend),
};

const LIMITS: BackendLimits = BackendLimits {
    // Google takes at most 5000 bytes of input, and the SSML counts: each word gets a
    // `<mark name="wNNN"/>` (17–19 bytes) besides its own bytes. English averages about 5.7
    // characters a word with its space, so 800 characters are ~140 words and ~3,400 bytes of
    // SSML, leaving room for escapes (`&quot;` is 6 bytes), lexicon `<phoneme>` elements and
    // non-ASCII text. A request that still comes out too long is sent without marks (no word
    // timings for it) rather than refused.
    max_chars: 800,
    default_concurrency: 4,
    formats: &["LINEAR16", "MP3", "OGG_OPUS"],
    timings: true,
    phonemes: true,
    context: false,
};

const NAME: &str = "google";
const BASE_VAR: &str = "ALOUD_GOOGLE_TTS_URL";
const DEFAULT_BASE: &str = "https://texttospeech.googleapis.com";
const DEFAULT_VOICE: &str = "en-US-Neural2-F";
const DEFAULT_RATE: u32 = 24_000;
/// Google's limit on one request's input, in bytes.
pub const MAX_INPUT_BYTES: usize = 5000;
/// Encodings aloud decodes (Ogg Opus is not among them).
const DECODED: &[&str] = &["LINEAR16", "MP3"];
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// A cached token is renewed this long before Google says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

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
        let voice = profile
            .voice
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(DEFAULT_VOICE)
            .to_string();
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
        let encoding = string_option(profile, "audio_encoding")?
            .map(|e| e.to_ascii_uppercase())
            .unwrap_or_else(|| "LINEAR16".to_string());
        if !LIMITS.formats.contains(&encoding.as_str()) {
            return Err(profile_error(
                profile,
                format!(
                    "options.audio_encoding '{encoding}' is not one of {}",
                    LIMITS.formats.join(", ")
                ),
            ));
        }
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

/// Where the credentials came from, for messages.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    ApiKey,
    AccessToken,
    File { kind: &'static str, path: PathBuf },
    None,
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::ApiKey => "GOOGLE_API_KEY".to_string(),
            Source::AccessToken => "GOOGLE_OAUTH_ACCESS_TOKEN".to_string(),
            Source::File { kind, path } => format!("the {kind} credentials in {}", path.display()),
            Source::None => "the request without credentials".to_string(),
        }
    }
}

/// A credential file exchanged for access tokens.
enum Grant {
    ServiceAccount {
        email: String,
        key_id: Option<String>,
        key: Box<ring::signature::RsaKeyPair>,
    },
    AuthorizedUser {
        client_id: String,
        client_secret: Secret,
        refresh_token: Secret,
    },
}

/// A secret sent in a form body: kept out of `Debug` output.
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Grant::ServiceAccount { email, .. } => {
                write!(f, "ServiceAccount({email}, key <redacted>)")
            }
            Grant::AuthorizedUser { client_id, .. } => {
                write!(f, "AuthorizedUser({client_id}, secrets <redacted>)")
            }
        }
    }
}

#[derive(Debug)]
enum Credentials {
    ApiKey(ApiKey),
    Token(ApiKey),
    Exchange(Box<Exchange>),
    None,
}

/// A credential file's grant, where to trade it, and the token it last brought.
#[derive(Debug)]
struct Exchange {
    grant: Grant,
    token_uri: reqwest::Url,
    client: reqwest::Client,
    cached: tokio::sync::Mutex<Option<(ApiKey, Instant)>>,
}

/// gcloud's Application Default Credentials file, where `gcloud auth application-default
/// login` writes it.
fn gcloud_adc_path() -> Option<PathBuf> {
    let dir = match env_value(&process_env, "CLOUDSDK_CONFIG") {
        Some(dir) => PathBuf::from(dir),
        None if cfg!(windows) => PathBuf::from(env_value(&process_env, "APPDATA")?).join("gcloud"),
        None => dirs::home_dir()?.join(".config").join("gcloud"),
    };
    Some(dir.join("application_default_credentials.json"))
}

/// The PKCS#8 DER inside a `-----BEGIN PRIVATE KEY-----` PEM block.
fn pem_pkcs8(pem: &str) -> Option<Vec<u8>> {
    let begin = "-----BEGIN PRIVATE KEY-----";
    let start = pem.find(begin)? + begin.len();
    let end = start + pem[start..].find("-----END PRIVATE KEY-----")?;
    let b64: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Reads a credential file: a service account's key or an authorized user's refresh token.
fn read_credential_file(
    path: &Path,
    settings: &HttpSettings,
) -> Result<(Credentials, Source, Option<String>)> {
    let bad = |what: String| engine_error(NAME, format!("{}: {what}", path.display()));
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read the credentials file: {e}")))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|_| bad("the credentials file is not JSON".to_string()))?;
    let field = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    };
    let kind = field("type").unwrap_or_default();
    let token_uri = field("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string());
    let token_uri = http::parse_url(NAME, &token_uri, "the credentials file's token_uri")?;
    let quota_project = field("quota_project_id");
    let (grant, kind) = match kind.as_str() {
        "service_account" => {
            let email = field("client_email")
                .ok_or_else(|| bad("the service account has no client_email".to_string()))?;
            let der = field("private_key")
                .and_then(|pem| pem_pkcs8(&pem))
                .ok_or_else(|| {
                    bad("the service account's private_key is not a PKCS#8 PEM key".to_string())
                })?;
            let key = ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|e| {
                bad(format!(
                    "the service account's private_key is not a usable RSA key ({e})"
                ))
            })?;
            (
                Grant::ServiceAccount {
                    email,
                    key_id: field("private_key_id"),
                    key: Box::new(key),
                },
                "service account",
            )
        }
        "authorized_user" => {
            let missing =
                |name: &str| bad(format!("the authorized_user credentials have no {name}"));
            (
                Grant::AuthorizedUser {
                    client_id: field("client_id").ok_or_else(|| missing("client_id"))?,
                    client_secret: Secret(
                        field("client_secret").ok_or_else(|| missing("client_secret"))?,
                    ),
                    refresh_token: Secret(
                        field("refresh_token").ok_or_else(|| missing("refresh_token"))?,
                    ),
                },
                "authorized user",
            )
        }
        other => {
            return Err(bad(format!(
                "credentials of type '{other}' are not supported (service_account or authorized_user are)"
            )));
        }
    };
    Ok((
        Credentials::Exchange(Box::new(Exchange {
            grant,
            client: http::client(NAME, settings, &token_uri)?,
            token_uri,
            cached: tokio::sync::Mutex::new(None),
        })),
        Source::File {
            kind,
            path: path.to_path_buf(),
        },
        quota_project,
    ))
}

/// The first credentials found, in the documented order.
fn find_credentials(settings: &HttpSettings) -> Result<(Credentials, Source, Option<String>)> {
    if let Some(key) = env_value(&process_env, "GOOGLE_API_KEY") {
        return Ok((Credentials::ApiKey(ApiKey::new(key)), Source::ApiKey, None));
    }
    if let Some(token) = env_value(&process_env, "GOOGLE_OAUTH_ACCESS_TOKEN") {
        return Ok((
            Credentials::Token(ApiKey::new(token)),
            Source::AccessToken,
            None,
        ));
    }
    if let Some(path) = env_value(&process_env, "GOOGLE_APPLICATION_CREDENTIALS") {
        return read_credential_file(Path::new(&path), settings);
    }
    if let Some(path) = gcloud_adc_path().filter(|p| p.is_file()) {
        return read_credential_file(&path, settings);
    }
    Ok((Credentials::None, Source::None, None))
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The RS256-signed JWT a service account trades for an access token (RFC 7523).
fn service_account_jwt(
    email: &str,
    key_id: Option<&str>,
    key: &ring::signature::RsaKeyPair,
    audience: &str,
    now: u64,
) -> Result<String> {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": email,
        "scope": SCOPE,
        "aud": audience,
        "iat": now,
        "exp": now + 3600,
    });
    let signing_input = format!("{}.{}", b64(&header), b64(&claims));
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| {
        engine_error(
            NAME,
            "cannot sign the service account's token request".to_string(),
        )
    })?;
    Ok(format!(
        "{signing_input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
    ))
}

pub struct Google {
    connection: Connection,
    credentials: Credentials,
    source: Source,
    quota_project: Option<String>,
    speech: SpeechSettings,
    token_requests: AtomicUsize,
}

fn open_backend(profile: &VoiceProfile, _context: &mut OpenContext) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(Google::open(profile)?))
}

impl Google {
    pub fn open(profile: &VoiceProfile) -> Result<Self> {
        let settings = HttpSettings::from_profile(profile)?;
        let speech = SpeechSettings::from_profile(profile)?;
        let (base, _) =
            http::endpoint(NAME, profile, "base_url", &[BASE_VAR], &process_env, Setting::default(DEFAULT_BASE, "the default base URL"))?;
        let mut endpoint = base.clone();
        endpoint.set_query(None);
        endpoint.set_fragment(None);
        let path = base.path().trim_end_matches('/');
        let path = path.strip_suffix("/v1beta1").unwrap_or(path);
        endpoint.set_path(&format!("{path}/v1beta1/text:synthesize"));
        let (credentials, source, file_project) = find_credentials(&settings)?;
        let official = base
            .host_str()
            .is_some_and(|h| h == "googleapis.com" || h.ends_with(".googleapis.com"));
        if matches!(credentials, Credentials::None) && official {
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
            credentials,
            source,
            quota_project,
            speech,
            token_requests: AtomicUsize::new(0),
        })
    }

    /// Synthesis requests made so far, retries included.
    pub fn requests(&self) -> usize {
        self.connection.requests()
    }

    /// Token exchanges made so far, retries included.
    pub fn token_requests(&self) -> usize {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// The header that authenticates a request, fetching or renewing a token when needed.
    async fn authorization(&self) -> Result<Option<(&'static str, reqwest::header::HeaderValue)>> {
        let invalid = || {
            engine_error(
                NAME,
                format!("{} cannot be sent in a header", self.source.describe()),
            )
        };
        match &self.credentials {
            Credentials::None => Ok(None),
            Credentials::ApiKey(key) => Ok(Some((
                "x-goog-api-key",
                key.header_value().ok_or_else(invalid)?,
            ))),
            Credentials::Token(token) => {
                Ok(Some(("authorization", token.bearer().ok_or_else(invalid)?)))
            }
            Credentials::Exchange(exchange) => {
                let Exchange {
                    grant,
                    token_uri,
                    client,
                    cached,
                } = exchange.as_ref();
                let mut cached = cached.lock().await;
                if let Some((token, expiry)) = cached.as_ref()
                    && Instant::now() + TOKEN_MARGIN < *expiry
                {
                    return Ok(Some(("authorization", token.bearer().ok_or_else(invalid)?)));
                }
                let (token, lifetime) = self.exchange(grant, token_uri, client).await?;
                let value = token.bearer().ok_or_else(invalid)?;
                *cached = Some((token, Instant::now() + lifetime));
                Ok(Some(("authorization", value)))
            }
        }
    }

    /// Trades the credential file's grant for an access token at `token_uri`.
    async fn exchange(
        &self,
        grant: &Grant,
        token_uri: &reqwest::Url,
        client: &reqwest::Client,
    ) -> Result<(ApiKey, Duration)> {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let body = match grant {
            Grant::ServiceAccount { email, key_id, key } => {
                let jwt =
                    service_account_jwt(email, key_id.as_deref(), key, token_uri.as_str(), now)?;
                form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &jwt),
                ])
            }
            Grant::AuthorizedUser {
                client_id,
                client_secret,
                refresh_token,
            } => form(&[
                ("grant_type", "refresh_token"),
                ("client_id", client_id),
                ("client_secret", &client_secret.0),
                ("refresh_token", &refresh_token.0),
            ]),
        };
        let source = self.source.describe();
        http::send_with_retry_as(
            NAME,
            self.connection.settings(),
            &self.token_requests,
            || {
                client
                    .post(token_uri.clone())
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body.clone())
            },
            |answer| {
                let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
                if !answer.status.is_success() {
                    let code = answer.status.as_u16();
                    if code == 429 || code >= 500 {
                        return Err(answer.failure(None));
                    }
                    // OAuth errors: {"error": "invalid_grant", "error_description": ...}.
                    let said = json
                        .as_ref()
                        .map(|j| {
                            [j.get("error"), j.get("error_description")]
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(": ")
                        })
                        .filter(|s| !s.is_empty())
                        .map(|s| format!(": {}", s.chars().take(200).collect::<String>()))
                        .unwrap_or_default();
                    return Err(Failure::Fatal {
                        message: format!(
                            "{source} are refused by the token endpoint (HTTP {code}){said}"
                        ),
                    });
                }
                let token = json
                    .as_ref()
                    .and_then(|j| j.get("access_token"))
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| Failure::Fatal {
                        message: "the token endpoint answered without an access_token".to_string(),
                    })?;
                let lifetime = json
                    .as_ref()
                    .and_then(|j| j.get("expires_in"))
                    .and_then(Value::as_u64)
                    .unwrap_or(3600);
                Ok((
                    ApiKey::new(token.to_string()),
                    Duration::from_secs(lifetime),
                ))
            },
        )
        .await
    }

    /// What an unsuccessful answer means. Google explains itself in
    /// `{"error": {"code", "message", "status", "details": [{"reason"}]}}`.
    fn failure(&self, answer: &Answer) -> Failure {
        let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
        let error = json.as_ref().and_then(|j| j.get("error"));
        let status = error
            .and_then(|e| e.get("status"))
            .and_then(Value::as_str)
            .unwrap_or("");
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
        let message: String = error
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(200)
            .collect();
        let said = if message.is_empty() {
            String::new()
        } else {
            format!(": {message}")
        };
        let code = answer.status.as_u16();
        let key_rejected = reasons.iter().any(|r| r.starts_with("API_KEY_"));
        match (code, status) {
            _ if key_rejected || code == 401 || status == "UNAUTHENTICATED" => Failure::Fatal {
                message: format!(
                    "{} {} rejected (HTTP {code} {status}){said}",
                    self.source.describe(),
                    if matches!(self.source, Source::File { .. }) {
                        "are"
                    } else {
                        "is"
                    },
                ),
            },
            (403, _) | (_, "PERMISSION_DENIED") => Failure::Fatal {
                message: format!(
                    "{} may not use Text-to-Speech (HTTP {code} {status}){said}; check that the API is enabled and the project and roles",
                    self.source.describe()
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
        let auth = self.authorization().await?;
        let oauth = matches!(auth, Some(("authorization", _)));
        let clip = self.connection.send_as(
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
mod tests {
    use super::*;

    fn profile(extra: &str) -> VoiceProfile {
        VoiceProfile::from_toml(
            &format!(
                "name='t'\nengine='google'\nlanguage='en-GB'\nvoice='de-DE-Neural2-B'\n[options]\nbase_url='http://127.0.0.1:9'\n{extra}"
            ),
            Path::new("t.toml"),
        )
        .unwrap()
    }

    #[test]
    fn body_takes_the_language_from_the_voice_name() {
        let body = request_body(&profile(""), &SpeechRequest::plain("Guten Tag.")).unwrap();
        assert_eq!(
            body,
            json!({
                "input": {"ssml": "<speak><mark name=\"w0\"/>Guten <mark name=\"w1\"/>Tag.</speak>"},
                "voice": {"languageCode": "de-DE", "name": "de-DE-Neural2-B"},
                "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": 24000, "speakingRate": 1.0},
                "enableTimePointing": ["SSML_MARK"],
            })
        );
        for bad in [
            "audio_encoding='OGG_OPUS'\n",
            "audio_encoding='FLAC'\n",
            "pitch=30\n",
            "sample_rate=100\n",
        ] {
            assert!(
                SpeechSettings::from_profile(&profile(bad)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn long_requests_drop_marks_before_the_input_limit() {
        let settings = SpeechSettings::from_profile(&profile("")).unwrap();
        let text = "a ".repeat(700);
        let (ssml, marks) = settings.ssml(&SpeechRequest::plain(text.trim())).unwrap();
        assert!(marks.is_empty() && ssml.len() <= MAX_INPUT_BYTES);
        assert!(
            settings
                .ssml(&SpeechRequest::plain("x".repeat(6000)))
                .is_err()
        );
        let (ssml, marks) = settings
            .ssml(&SpeechRequest::plain("word ".repeat(140).trim()))
            .unwrap();
        assert_eq!(marks.len(), 140);
        assert!(ssml.len() <= MAX_INPUT_BYTES);
    }

    #[test]
    fn timepoints_become_words_that_never_run_backwards() {
        let marks = vec![0..3, 4..7, 8..11];
        let points = vec![
            json!({"markName": "w0", "timeSeconds": 0.1}),
            json!({"markName": "w2", "timeSeconds": 0.9}),
            json!({"markName": "w1", "timeSeconds": 0.5}),
            json!({"markName": "bogus", "timeSeconds": 0.2}),
        ];
        let words = timepoint_words(&marks, &points, 1.2);
        let spans: Vec<(f64, f64)> = words.iter().map(|w| (w.start, w.end)).collect();
        assert_eq!(spans, [(0.1, 0.5), (0.5, 0.9), (0.9, 1.2)]);
        // A mark reported past the clip's end is held to it; a missing one leaves a gap.
        let words = timepoint_words(
            &marks,
            &[
                json!({"markName": "w0", "timeSeconds": 0.4}),
                json!({"markName": "w2", "timeSeconds": 3.0}),
            ],
            1.0,
        );
        assert_eq!(words.len(), 2);
        assert_eq!((words[0].start, words[0].end), (0.4, 1.0));
        assert_eq!((words[1].start, words[1].end), (1.0, 1.0));
        assert_eq!(words[1].range, 8..11);
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form(&[("a b", "x+y/z=1&2"), ("k", "ünï")]),
            "a%20b=x%2By%2Fz%3D1%262&k=%C3%BCn%C3%AF"
        );
    }

    #[test]
    fn secrets_are_absent_from_identity_and_debug() {
        let backend = Google::open(&profile("")).unwrap();
        let backend = Google {
            credentials: Credentials::ApiKey(ApiKey::new("AIza-secret-1".into())),
            ..backend
        };
        assert!(!backend.identity().to_string().contains("AIza-secret-1"));
        assert!(!format!("{:?}", backend.credentials).contains("AIza-secret-1"));
        let backend = Google {
            credentials: Credentials::Exchange(Box::new(Exchange {
                grant: Grant::AuthorizedUser {
                    client_id: "id".into(),
                    client_secret: Secret("cs-secret".into()),
                    refresh_token: Secret("rt-secret".into()),
                },
                token_uri: reqwest::Url::parse("http://127.0.0.1:9/token").unwrap(),
                client: reqwest::Client::new(),
                cached: tokio::sync::Mutex::new(Some((
                    ApiKey::new("ya29.secret".into()),
                    Instant::now(),
                ))),
            })),
            ..backend
        };
        let debug = format!("{:?}", backend.credentials);
        for secret in ["cs-secret", "rt-secret", "ya29.secret"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(!backend.identity().to_string().contains("secret"));
    }

    #[test]
    fn errors_are_classified() {
        let backend = Google::open(&profile("")).unwrap();
        let backend = Google {
            source: Source::ApiKey,
            ..backend
        };
        let answer = |code: u16, body: Value| Answer {
            status: reqwest::StatusCode::from_u16(code).unwrap(),
            headers: reqwest::header::HeaderMap::new(),
            body: body.to_string().into_bytes(),
        };
        let f = backend.failure(&answer(400, json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}})));
        assert!(
            matches!(f, Failure::Fatal { .. })
                && f.message().contains("GOOGLE_API_KEY is rejected"),
            "{f:?}"
        );
        let f = backend.failure(&answer(
            403,
            json!({"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}),
        ));
        assert!(
            matches!(f, Failure::Fatal { .. }) && f.message().contains("GOOGLE_API_KEY"),
            "{f:?}"
        );
        let f = backend.failure(&answer(400, json!({"error": {"code": 400, "message": "Voice 'x' does not exist.", "status": "INVALID_ARGUMENT"}})));
        assert!(
            matches!(f, Failure::Fatal { .. }) && f.message().contains("does not exist"),
            "{f:?}"
        );
        let f = backend.failure(&answer(429, json!({"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}})));
        assert!(matches!(f, Failure::Retry { .. }), "{f:?}");
        let f = backend.failure(&answer(
            503,
            json!({"error": {"code": 503, "message": "down", "status": "UNAVAILABLE"}}),
        ));
        assert!(matches!(f, Failure::Retry { .. }), "{f:?}");
    }
}
