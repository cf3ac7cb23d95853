//! Plumbing shared by the network backends: one reqwest client per backend, a retry policy
//! (exponential backoff with jitter, honouring `Retry-After`), and turning what a server
//! answered into a [`Clip`], judged by its bytes and never by its Content-Type.
//!
//! Keys never reach a message: requests carry them in a header marked sensitive, and every
//! error text here is built from status codes, server error codes and our own words.

use super::Clip;
use super::config::{self, Setting, engine_error, option_error};
use crate::error::{Error, Result};
use crate::voice::VoiceProfile;
use reqwest::header::{HeaderMap, HeaderValue};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

mod failure;
pub use failure::{
    Failure, brief, classify_status, classify_transport, error_member, retry_after, said,
    str_member,
};

/// Timeouts and retries, from a profile's `options` or the defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HttpSettings {
    /// Time allowed to open the connection (`connect_timeout_s`, default 10).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, answer included (`timeout_s`, default 120).
    pub timeout: Duration,
    /// Further attempts after the first fails for a reason worth retrying (`max_retries`, 4).
    pub max_retries: u32,
    /// First backoff delay (`retry_base_ms`, 500); doubled each time, with jitter.
    pub base_delay: Duration,
    /// Ceiling for one backoff delay (`retry_max_s`, 30).
    pub max_delay: Duration,
    /// Longest `Retry-After` obeyed; a server asking for more fails the sentence (120 s).
    pub max_retry_after: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            max_retries: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl HttpSettings {
    pub fn from_profile(profile: &VoiceProfile) -> Result<Self> {
        let mut settings = HttpSettings::default();
        let seconds = |key: &str| -> Result<Option<Duration>> {
            match profile.options.get(key) {
                None => Ok(None),
                Some(value) => {
                    let secs = value
                        .as_float()
                        .or_else(|| value.as_integer().map(|i| i as f64))
                        .filter(|s| s.is_finite() && *s > 0.0 && *s < 86_400.0)
                        .ok_or_else(|| {
                            option_error(profile, key, "a positive number of seconds")
                        })?;
                    Ok(Some(Duration::from_secs_f64(secs)))
                }
            }
        };
        if let Some(d) = seconds("connect_timeout_s")? {
            settings.connect_timeout = d;
        }
        if let Some(d) = seconds("timeout_s")? {
            settings.timeout = d;
        }
        if let Some(d) = seconds("retry_max_s")? {
            settings.max_delay = d;
        }
        if let Some(value) = profile.options.get("retry_base_ms") {
            let ms = value
                .as_integer()
                .filter(|ms| (0..=600_000).contains(ms))
                .ok_or_else(|| {
                    option_error(profile, "retry_base_ms", "milliseconds (0..=600000)")
                })?;
            settings.base_delay = Duration::from_millis(ms as u64);
        }
        if let Some(value) = profile.options.get("max_retries") {
            let n = value
                .as_integer()
                .filter(|n| (0..=20).contains(n))
                .ok_or_else(|| option_error(profile, "max_retries", "a count from 0 to 20"))?;
            settings.max_retries = n as u32;
        }
        Ok(settings)
    }

    /// The backoff before retry number `retry` (0 for the first): `base * 2^retry`, capped,
    /// then scaled by a random factor in [0.5, 1.0) so parallel requests do not retry in step.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_delay);
        exp.mul_f64(0.5 + 0.5 * jitter())
    }
}

/// A number in [0, 1) that differs call to call (no cryptographic pretensions).
fn jitter() -> f64 {
    fastrand::f64()
}

/// The client a backend keeps for its lifetime (connections are pooled across sentences).
pub fn client(
    backend: &str,
    settings: &HttpSettings,
    base: &reqwest::Url,
) -> Result<reqwest::Client> {
    crate::tls::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.timeout)
        .user_agent(concat!("aloud/", env!("CARGO_PKG_VERSION")));
    let host = base.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    {
        // A proxy from the environment cannot reach this machine's own loopback.
        builder = builder.no_proxy();
    }
    builder
        .build()
        .map_err(|e| engine_error(backend, format!("cannot set up the HTTP client: {e}")))
}

/// Parses a base URL from the environment or a profile, naming where it came from on failure.
pub fn parse_url(backend: &str, text: &str, origin: &str) -> Result<reqwest::Url> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        engine_error(
            backend,
            format!("{origin} is not a valid URL ({text}): {e}"),
        )
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(engine_error(
            backend,
            format!("{origin} must be an http:// or https:// URL, not {text}"),
        ));
    }
    Ok(url)
}

/// A backend's endpoint: the profile's `options.{key}`, else the first of `vars` set in `env`,
/// else `default`; parsed, with the setting it came from (for messages that say where to fix it).
pub fn endpoint(
    backend: &str,
    profile: &VoiceProfile,
    key: &'static str,
    vars: &[&'static str],
    env: &dyn Fn(&str) -> Option<String>,
    default: Setting,
) -> Result<(reqwest::Url, Setting)> {
    let setting = config::setting(profile, key, vars, env)?.unwrap_or(default);
    let url = parse_url(backend, &setting.value, &setting.origin.to_string())?;
    Ok((url, setting))
}

/// A vendor API's base: the profile's `options.base_url`, else `var` in this process's
/// environment, else `default` ([`endpoint`]).
pub fn base_url(
    backend: &str,
    profile: &VoiceProfile,
    var: &'static str,
    default: &'static str,
) -> Result<(reqwest::Url, Setting)> {
    endpoint(
        backend,
        profile,
        "base_url",
        &[var],
        &config::process_env,
        Setting::default(default, "the default base URL"),
    )
}

/// `base`'s path without a trailing slash or `version` (`/v1`): both `https://host` and
/// `https://host/v1` are common spellings of an API's base.
pub fn unversioned_path<'a>(base: &'a reqwest::Url, version: &str) -> &'a str {
    let path = base.path().trim_end_matches('/');
    path.strip_suffix(version).unwrap_or(path)
}

/// `base` with `path` for its path and no query or fragment: a vendor API's endpoint under the
/// base URL a user gave (what follows the path there belongs to the base, not to the API).
pub fn with_path(base: &reqwest::Url, path: &str) -> reqwest::Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.set_path(path);
    url
}

/// `url` as it may be shown or keyed on: without user info or query, where credentials hide.
pub fn public_url(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// What an HTTP backend keeps for its lifetime: its client (connections are pooled across
/// sentences), the URL it posts to, its timeouts and retries, and the requests made so far.
pub struct Connection {
    backend: &'static str,
    client: reqwest::Client,
    endpoint: reqwest::Url,
    settings: HttpSettings,
    requests: AtomicUsize,
}

impl Connection {
    /// A connection for `backend` (its name in messages) posting to `endpoint`.
    pub fn new(
        backend: &'static str,
        settings: HttpSettings,
        endpoint: reqwest::Url,
    ) -> Result<Self> {
        Ok(Connection {
            client: client(backend, &settings, &endpoint)?,
            backend,
            endpoint,
            settings,
            requests: AtomicUsize::new(0),
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn endpoint(&self) -> &reqwest::Url {
        &self.endpoint
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// The endpoint as it may be shown or keyed on ([`public_url`]).
    pub fn public_endpoint(&self) -> String {
        public_url(&self.endpoint)
    }

    /// HTTP requests made so far, retries included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// `body` as JSON bytes.
    pub fn json(&self, body: &serde_json::Value) -> Result<Vec<u8>> {
        serde_json::to_vec(body)
            .map_err(|e| engine_error(self.backend, format!("cannot encode the request: {e}")))
    }

    /// A POST of `body` as `content_type` to the endpoint, for the backend to add its headers.
    pub fn post(&self, content_type: &'static str, body: &[u8]) -> reqwest::RequestBuilder {
        self.client
            .post(self.endpoint.clone())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.to_vec())
    }

    /// [`send_with_retry`] with this connection's settings, counting its requests.
    pub async fn send(
        &self,
        key_hint: Option<&str>,
        build: impl Fn() -> reqwest::RequestBuilder,
        decode: impl Fn(&[u8]) -> Result<Clip, Failure>,
    ) -> Result<Clip> {
        send_with_retry(
            self.backend,
            &self.settings,
            key_hint,
            &self.requests,
            build,
            decode,
        )
        .await
    }

    /// [`send_with_retry_as`] with this connection's settings, counting its requests.
    pub async fn send_as<T>(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        handle: impl Fn(Answer) -> Result<T, Failure>,
    ) -> Result<T> {
        send_with_retry_as(self.backend, &self.settings, &self.requests, build, handle).await
    }
}

/// An API key: kept out of `Debug` output and sent only as a sensitive header.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: String) -> Self {
        ApiKey(key)
    }

    /// The key in the environment variable `variable`. The vendor's own service (`required`)
    /// refuses requests without one, so its absence is an error saying how to get one
    /// (`hint`); a compatible server may take none.
    pub fn from_env(
        backend: &str,
        variable: &str,
        required: bool,
        hint: &str,
    ) -> Result<Option<ApiKey>> {
        let key = config::env_value(&config::process_env, variable).map(ApiKey::new);
        if key.is_none() && required {
            return Err(engine_error(
                backend,
                format!("{variable} is not set; {hint}"),
            ));
        }
        Ok(key)
    }

    pub fn bearer(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.0)).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl ApiKey {
    /// The key itself as a header value marked sensitive, for vendors that take it in a header
    /// of their own (`xi-api-key`, `X-Goog-Api-Key`, `Ocp-Apim-Subscription-Key`).
    pub fn header_value(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&self.0).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Sends a request built by `build` until it yields a clip, retrying per `settings`.
/// `attempts` counts every request made (for tests and benchmarks).
pub async fn send_with_retry(
    backend: &str,
    settings: &HttpSettings,
    key_hint: Option<&str>,
    attempts: &AtomicUsize,
    build: impl Fn() -> reqwest::RequestBuilder,
    decode: impl Fn(&[u8]) -> Result<Clip, Failure>,
) -> Result<Clip> {
    send_with_retry_as(backend, settings, attempts, build, |answer| {
        if !answer.status.is_success() {
            return Err(answer.failure(key_hint));
        }
        decode(&answer.body)
    })
    .await
}

/// A complete HTTP answer, whatever its status.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// What an unsuccessful status means by the common rules ([`classify_status`]).
    pub fn failure(&self, key_hint: Option<&str>) -> Failure {
        classify_status(self.status, &self.headers, &self.body, key_hint)
    }
}

/// The general form of [`send_with_retry`]: `handle` sees every complete answer, successful or
/// not, and turns it into a value or a [`Failure`]. Backends whose vendors signal errors their
/// own way (Polly throttles with HTTP 400) or answer in JSON (timings beside base64 audio)
/// use this; transport errors are retried the same way for all.
pub async fn send_with_retry_as<T>(
    backend: &str,
    settings: &HttpSettings,
    attempts: &AtomicUsize,
    build: impl Fn() -> reqwest::RequestBuilder,
    handle: impl Fn(Answer) -> Result<T, Failure>,
) -> Result<T> {
    let mut retry = 0u32;
    loop {
        attempts.fetch_add(1, Ordering::Relaxed);
        let failure = match attempt(settings, &build).await {
            Ok(answer) => match handle(answer) {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            },
            Err(failure) => failure,
        };
        match failure {
            Failure::Fatal { message } => {
                return Err(engine_error(backend, message));
            }
            Failure::Retry { message, wait } => {
                if retry >= settings.max_retries {
                    let tries = retry + 1;
                    return Err(engine_error(
                        backend,
                        format!(
                            "{message} (gave up after {tries} attempt{}; is the server overloaded or down?)",
                            if tries == 1 { "" } else { "s" }
                        ),
                    ));
                }
                if let Some(wait) = wait
                    && wait > settings.max_retry_after
                {
                    return Err(engine_error(
                        backend,
                        format!(
                            "{message}; the server asks to wait {} s, longer than the {} s aloud waits — try again later",
                            wait.as_secs(),
                            settings.max_retry_after.as_secs()
                        ),
                    ));
                }
                let delay = settings.backoff(retry).max(wait.unwrap_or(Duration::ZERO));
                tokio::time::sleep(delay).await;
                retry += 1;
            }
        }
    }
}

async fn attempt(
    settings: &HttpSettings,
    build: &impl Fn() -> reqwest::RequestBuilder,
) -> std::result::Result<Answer, Failure> {
    let response = build()
        .send()
        .await
        .map_err(|e| classify_transport(&e, settings))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| classify_transport(&e, settings))?;
    Ok(Answer {
        status,
        headers,
        body: body.to_vec(),
    })
}

/// The base64 audio a JSON answer carries in `field` (Google's `audioContent`, ElevenLabs'
/// `audio_base64`): missing or malformed is fatal, the server answered but not with audio.
pub fn base64_field(json: &serde_json::Value, field: &str) -> Result<Vec<u8>, Failure> {
    use base64::Engine as _;
    let text = json
        .get(field)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| Failure::Fatal {
            message: format!("the answer has no {field}"),
        })?;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| Failure::Fatal {
            message: format!("the answer's {field} is not base64: {e}"),
        })
}

/// Audio as a server sent it: WAV (sizes may be placeholders when streamed) or raw
/// little-endian 16-bit PCM at a known rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A container, recognised by its bytes.
    Sniffed,
    /// Headerless s16le mono at this rate (OpenAI's `pcm`).
    Pcm16 { sample_rate: u32 },
}

/// Turns a response body into a mono clip. Empty or unrecognisable bodies are fatal (the
/// server answered, but not with audio); a WAV whose data is shorter than its header says is
/// truncated in transit and worth a retry.
pub fn decode_body(body: &[u8], expect: Expect) -> Result<Clip, Failure> {
    if body.is_empty() {
        return Err(Failure::Fatal {
            message: "the server answered with an empty body instead of audio".to_string(),
        });
    }
    match expect {
        Expect::Pcm16 { sample_rate } => {
            if !body.len().is_multiple_of(2) {
                return Err(Failure::Retry {
                    message: "the PCM answer ends in half a sample (truncated)".to_string(),
                    wait: None,
                });
            }
            Ok(Clip {
                samples: crate::audio::pcm_to_mono(body, 1, crate::audio::PcmEncoding::S16LE),
                sample_rate,
                words: Vec::new(),
            })
        }
        Expect::Sniffed => match crate::audio::sniff(body) {
            // Told apart: a WAV cut short in transit (retry) from a bad one.
            crate::audio::AudioFormat::Wav => decode_wav(body),
            crate::audio::AudioFormat::Unknown => Err(Failure::Fatal {
                message: format!(
                    "the answer is not audio aloud can read (starts with {})",
                    describe_start(body)
                ),
            }),
            // MP3, FLAC, Ogg: aloud::audio.
            _ => crate::audio::decode(body, "the answer").map_err(|e| Failure::Fatal {
                message: match e {
                    Error::Audio { message, .. } => format!("the answer's audio: {message}"),
                    other => other.to_string(),
                },
            }),
        },
    }
}

fn describe_start(body: &[u8]) -> String {
    let head = &body[..body.len().min(16)];
    if head.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("\"{}\"", String::from_utf8_lossy(head))
    } else {
        head.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A WAV answer through aloud's own reader ([`crate::audio::decode`]'s, which takes streamed
/// placeholder sizes): a body that stops before its header's promise was cut short in transit
/// and is worth a retry; anything else wrong with it is fatal.
fn decode_wav(body: &[u8]) -> Result<Clip, Failure> {
    use crate::audio::riff::WavError;
    crate::audio::decode_wav(body).map_err(|e| match e {
        WavError::Truncated { message } => Failure::Retry {
            message: format!("the WAV answer was cut short: {message}"),
            wait: None,
        },
        other => Failure::Fatal {
            message: format!("the WAV answer is malformed: {other}"),
        },
    })
}

/// Brings a clip to `rate` (servers normally answer at the declared rate; this covers one
/// that does not, or a compressed format decoded at its own rate).
pub fn to_rate(backend: &str, clip: Clip, rate: u32) -> Result<Clip> {
    // Identity when the rates already match.
    crate::audio::resample(clip, rate).map_err(|e| {
        engine_error(
            backend,
            match e {
                Error::Audio { message, .. } => message,
                other => other.to_string(),
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::riff::build::fmt_pcm;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let s = HttpSettings::default();
        for retry in 0..8 {
            let d = s.backoff(retry);
            let full = s.base_delay.saturating_mul(1 << retry).min(s.max_delay);
            assert!(d >= full / 2 && d <= full, "{retry}: {d:?} vs {full:?}");
        }
    }

    #[test]
    fn wav_with_placeholder_sizes_and_truncated_wav() {
        let mut wav = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
        wav.extend(fmt_pcm(24000, 1, 16));
        wav.extend_from_slice(b"data\xff\xff\xff\xff");
        wav.extend_from_slice(&[0, 64, 0, 192]);
        let clip = decode_body(&wav, Expect::Sniffed).unwrap();
        assert_eq!(clip.sample_rate, 24000);
        assert_eq!(clip.samples, vec![0.5, -0.5]);
        let n = wav.len();
        wav[n - 8..n - 4].copy_from_slice(&100u32.to_le_bytes());
        assert!(matches!(
            decode_body(&wav, Expect::Sniffed),
            Err(Failure::Retry { .. })
        ));
        assert!(matches!(
            decode_body(b"<html>oops</html>", Expect::Sniffed),
            Err(Failure::Fatal { .. })
        ));
    }

    #[test]
    fn keys_do_not_show_in_debug() {
        let key = ApiKey::new("sk-secret".into());
        assert!(!format!("{key:?}").contains("sk-secret"));
        assert!(key.bearer().unwrap().is_sensitive());
        assert!(key.header_value().unwrap().is_sensitive());
    }
}
