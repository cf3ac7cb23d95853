//! Piper's own HTTP server (`python3 -m piper.http_server -m MODEL`, piper-tts 1.8.0):
//! `POST /synthesize` with `{text, voice?, speaker_id?, length_scale, noise_scale?,
//! noise_w_scale?}` answers a WAV (labelled text/html: the bytes are what count).
//!
//! The server's rate is asked for when the backend opens (`GET /info` names the loaded
//! voice, `GET /voices` gives its config), so the program can be written at that rate.
//! Profile options: `url` (else `ALOUD_PIPER_HTTP_URL`, else http://127.0.0.1:5000), plus the
//! timeouts and retries of [`super::http::HttpSettings`].

use super::config::{Setting, engine_error, process_env};
use super::http::{self, Connection, Expect, HttpSettings};
use super::{Backend, BackendEntry, BackendLimits, Billing, Clip, SpeechRequest};
use crate::error::Result;
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "a Piper HTTP server (python3 -m piper.http_server; ALOUD_PIPER_HTTP_URL)",
    limits: LIMITS,
    billing: Billing::Free,
    open: super::Opener::Fn(|profile, _| Ok(Arc::new(PiperHttp::open(profile)?))),
};

const LIMITS: BackendLimits = BackendLimits::new(1000, 2, &["wav"]);

const NAME: &str = "piper-http";
const DEFAULT_URL: &str = "http://127.0.0.1:5000";

pub struct PiperHttp {
    /// To `POST /synthesize`.
    connection: Connection,
    voice: Option<String>,
    body_extra: serde_json::Map<String, serde_json::Value>,
    sample_rate: u32,
}

impl PiperHttp {
    pub fn open(profile: &VoiceProfile) -> Result<Self> {
        let settings = HttpSettings::from_profile(profile)?;
        let (base, url) = http::endpoint(
            NAME,
            profile,
            "url",
            &["ALOUD_PIPER_HTTP_URL"],
            &process_env,
            Setting::default(DEFAULT_URL, "the default URL"),
        )?;
        let join = |path: &str| {
            let mut url = base.clone();
            url.set_path(&format!("{}/{path}", base.path().trim_end_matches('/')));
            url
        };
        let connection = Connection::new(NAME, settings, join("synthesize"))?;
        let voice = profile.voice.clone().filter(|v| !v.trim().is_empty());
        let client = connection.client();
        let sample_rate = probe_rate(client, &join("info"), &join("voices"), voice.as_deref())
            .map_err(|message| {
                engine_error(
                    NAME,
                    format!(
                        "{message} — is the server running? Start it with `python3 -m piper.http_server -m MODEL --port PORT` and point {} at it ({})",
                        url.origin, url.value
                    ),
                )
            })?;
        let mut body_extra = serde_json::Map::new();
        if let Some(speaker) = profile.speaker {
            body_extra.insert("speaker_id".into(), speaker.into());
        }
        body_extra.insert(
            "length_scale".into(),
            (1.0 / f64::from(profile.speaking_rate)).into(),
        );
        if let Some(noise) = profile.noise_scale {
            body_extra.insert("noise_scale".into(), f64::from(noise).into());
        }
        if let Some(noise) = profile.noise_w {
            body_extra.insert("noise_w_scale".into(), f64::from(noise).into());
        }
        Ok(PiperHttp {
            connection,
            voice,
            body_extra,
            sample_rate,
        })
    }
}

/// Asks the server which voice it has loaded and at what rate that voice speaks. `open` is not
/// async, and may run inside a runtime, so the probe gets a small runtime on its own thread.
fn probe_rate(
    client: &reqwest::Client,
    info: &reqwest::Url,
    voices: &reqwest::Url,
    voice: Option<&str>,
) -> std::result::Result<u32, String> {
    let (client, info, voices) = (client.clone(), info.clone(), voices.clone());
    let voice = voice.map(str::to_string);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        runtime.block_on(async move {
            let get = |url: reqwest::Url| {
                let client = client.clone();
                async move {
                    let response = client
                        .get(url.clone())
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await
                        .map_err(|e| format!("cannot reach {url}: {}", without_url(&e)))?;
                    if !response.status().is_success() {
                        return Err(format!(
                            "{url} answered HTTP {}",
                            response.status().as_u16()
                        ));
                    }
                    let bytes = response
                        .bytes()
                        .await
                        .map_err(|e| format!("{url}: {}", without_url(&e)))?;
                    serde_json::from_slice::<serde_json::Value>(&bytes)
                        .map_err(|_| format!("{url} did not answer JSON; is this a Piper server?"))
                }
            };
            let name = match voice {
                Some(v) => v,
                None => get(info)
                    .await?
                    .pointer("/voice/name")
                    .and_then(|n| n.as_str())
                    .map(str::to_string)
                    .ok_or("the server's /info names no voice")?,
            };
            let all = get(voices).await?;
            let config = all.get(&name).ok_or_else(|| {
                let known: Vec<&str> = all
                    .as_object()
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                format!(
                    "the server has no voice '{name}' (it has: {})",
                    known.join(", ")
                )
            })?;
            config
                .pointer("/audio/sample_rate")
                .and_then(|r| r.as_u64())
                .and_then(|r| u32::try_from(r).ok())
                .filter(|r| *r > 0)
                .ok_or_else(|| format!("the server's config for '{name}' gives no sample rate"))
        })
    })
    .join()
    .map_err(|_| "the server probe panicked".to_string())?
}

fn without_url(error: &reqwest::Error) -> String {
    let mut current: &dyn std::error::Error = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[async_trait]
impl Backend for PiperHttp {
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({
            "engine": NAME,
            "endpoint": self.connection.public_endpoint(),
            "voice": self.voice,
            "settings": self.body_extra,
            "sample_rate": self.sample_rate,
        })
    }

    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        let mut body = self.body_extra.clone();
        body.insert("text".into(), request.text.clone().into());
        if let Some(voice) = &self.voice {
            body.insert("voice".into(), voice.clone().into());
        }
        let body = self.connection.json(&serde_json::Value::Object(body))?;
        let clip = self
            .connection
            .send(
                None,
                || self.connection.post("application/json", &body),
                |bytes| http::decode_body(bytes, Expect::Sniffed),
            )
            .await?;
        http::to_rate(NAME, clip, self.sample_rate)
    }
}
