//! Wyoming voice servers (Home Assistant's `wyoming-piper` and friends) over TCP.
//!
//! The protocol, as the `wyoming` Python package (1.10) writes and reads it: each event is one
//! JSON header line `{"type", "version", "data_length"?, "payload_length"?}` (older peers put
//! `data` inline instead), then `data_length` bytes of JSON data, then `payload_length` bytes of
//! payload. We send `synthesize` with `{"text", "voice": {"name"}}` and read `audio-start`
//! (`rate`, `width`, `channels`), `audio-chunk`s carrying PCM and `audio-stop`. One connection
//! per request: the server closes nothing between events, so requests never interleave.

use super::config::{self, engine_error, process_env, profile_error};
use super::{
    Backend, BackendEntry, BackendLimits, Billing, Clip, EngineClock, OpenContext, SpeechRequest,
};
use crate::audio::{self, PcmEncoding, RawPcm};
use crate::error::{Error, Result};
use crate::voice::VoiceProfile;
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::TcpStream;

pub const ENTRY: BackendEntry = BackendEntry {
    engine: NAME,
    description: "Wyoming protocol voice servers over TCP (Home Assistant's wyoming-piper, ...)",
    limits: LIMITS,
    billing: Billing::Free,
    open: super::Opener::Fn(open_backend),
};

const LIMITS: BackendLimits = BackendLimits::new(1000, 2, &["pcm"]);

const NAME: &str = "wyoming";
/// Where a server listens when neither `ALOUD_WYOMING_URL` nor the profile's `url` says.
pub const DEFAULT_URL: &str = "tcp://127.0.0.1:10200";
/// The protocol version we announce, as the `wyoming` package does in every header.
const VERSION: &str = "1.10.2";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Bounds on what a server may declare, so a garbage header cannot make us allocate gigabytes.
const MAX_HEADER: usize = 64 * 1024;
const MAX_DATA: usize = 1024 * 1024;
const MAX_PAYLOAD: usize = 16 * 1024 * 1024;
/// Said once at open time to learn the voice's rate when the profile does not give it.
const PROBE_TEXT: &str = "Ready.";

/// A connected-per-request client for one voice on one server.
pub struct Wyoming {
    /// `host:port`.
    address: String,
    voice: Option<String>,
    speaker: Option<String>,
    connect_timeout: Duration,
    read_timeout: Duration,
    sample_rate: u32,
    engine_time: EngineClock,
}

fn option_seconds(profile: &VoiceProfile, key: &str, default: Duration) -> Result<Duration> {
    match profile.options.get(key) {
        None => Ok(default),
        Some(value) => value
            .as_float()
            .or_else(|| value.as_integer().map(|i| i as f64))
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                profile_error(profile, format!("options.{key} must be positive seconds"))
            }),
    }
}

/// `tcp://host:port` (or a bare `host:port`) to the address to connect to.
pub fn parse_url(url: &str) -> std::result::Result<String, String> {
    let rest = match url.split_once("://") {
        Some(("tcp", rest)) => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "{url}: only tcp:// Wyoming servers are supported, not {scheme}://"
            ));
        }
        None => url,
    };
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(rest.to_string())
        }
        _ => Err(format!("{url}: expected tcp://HOST:PORT")),
    }
}

impl Wyoming {
    /// A client for `url` without talking to the server (the rate must then be known).
    pub fn new(url: &str, voice: Option<String>, sample_rate: u32) -> Result<Self> {
        Ok(Wyoming {
            address: parse_url(url).map_err(|m| engine_error(NAME, m))?,
            voice,
            speaker: None,
            connect_timeout: CONNECT_TIMEOUT,
            read_timeout: READ_TIMEOUT,
            sample_rate,
            engine_time: EngineClock::default(),
        })
    }

    pub fn with_timeouts(mut self, connect: Duration, read: Duration) -> Self {
        self.connect_timeout = connect;
        self.read_timeout = read;
        self
    }

    async fn connect(&self) -> Result<BufReader<TcpStream>> {
        let stream = tokio::time::timeout(self.connect_timeout, TcpStream::connect(&self.address))
            .await
            .map_err(|_| {
                engine_error(
                    NAME,
                    format!(
                        "no connection to {} within {:?} (timed out)",
                        self.address, self.connect_timeout
                    ),
                )
            })?
            .map_err(|e| {
                engine_error(
                    NAME,
                    format!(
                        "cannot connect to the Wyoming server at {}: {e} (is it running? the \
                     voice's options.url or ALOUD_WYOMING_URL says where it listens)",
                        self.address
                    ),
                )
            })?;
        let _ = stream.set_nodelay(true);
        Ok(BufReader::new(stream))
    }

    async fn read(&self, stream: &mut BufReader<TcpStream>, waiting_for: &str) -> Result<Event> {
        match tokio::time::timeout(self.read_timeout, read_event(stream)).await {
            Err(_) => Err(engine_error(
                NAME,
                format!(
                    "{} sent nothing for {:?} while we waited for {waiting_for} (timed out)",
                    self.address, self.read_timeout
                ),
            )),
            Ok(Err(message)) => Err(engine_error(NAME, format!("{}: {message}", self.address))),
            Ok(Ok(None)) => Err(engine_error(
                NAME,
                format!(
                    "{} closed the connection before {waiting_for}",
                    self.address
                ),
            )),
            Ok(Ok(Some(event))) => Ok(event),
        }
    }

    /// `describe` -> `info`: checks that the server speaks Wyoming and offers text to speech.
    pub async fn describe(&self) -> Result<Value> {
        let mut stream = self.connect().await?;
        write_event(stream.get_mut(), "describe", &Map::new(), &[])
            .await
            .map_err(|e| {
                engine_error(NAME, format!("{}: cannot send describe: {e}", self.address))
            })?;
        loop {
            let event = self.read(&mut stream, "info").await?;
            if event.kind == "info" {
                let tts = event.data.get("tts").and_then(Value::as_array);
                if tts.is_none_or(|t| t.is_empty()) {
                    return Err(engine_error(
                        NAME,
                        format!(
                            "the Wyoming server at {} offers no text-to-speech service",
                            self.address
                        ),
                    ));
                }
                return Ok(Value::Object(event.data));
            }
        }
    }

    /// Says `text` and returns the clip at the rate the server chose.
    pub async fn speak(&self, text: &str) -> Result<Clip> {
        let started = Instant::now();
        let mut stream = self.connect().await?;
        let mut data = Map::new();
        data.insert("text".into(), Value::String(text.to_string()));
        if self.voice.is_some() || self.speaker.is_some() {
            let mut voice = Map::new();
            if let Some(name) = &self.voice {
                voice.insert("name".into(), Value::String(name.clone()));
            }
            if let Some(speaker) = &self.speaker {
                voice.insert("speaker".into(), Value::String(speaker.clone()));
            }
            data.insert("voice".into(), Value::Object(voice));
        }
        write_event(stream.get_mut(), "synthesize", &data, &[])
            .await
            .map_err(|e| {
                engine_error(
                    NAME,
                    format!("{}: cannot send synthesize: {e}", self.address),
                )
            })?;

        let mut format: Option<RawPcm> = None;
        let mut pcm = Vec::new();
        loop {
            let waiting_for = if format.is_some() {
                "audio-stop"
            } else {
                "audio-start"
            };
            let event = match self.read(&mut stream, waiting_for).await {
                Err(Error::Engine { message, .. }) if format.is_some() => {
                    return Err(engine_error(
                        NAME,
                        format!("{message} (after {} bytes of audio)", pcm.len()),
                    ));
                }
                other => other?,
            };
            match event.kind.as_str() {
                "audio-start" => {
                    format = Some(pcm_format(&event.data).map_err(|m| engine_error(NAME, m))?)
                }
                "audio-chunk" => {
                    let Some(expected) = format else {
                        return Err(engine_error(
                            NAME,
                            format!("{} sent audio-chunk before audio-start", self.address),
                        ));
                    };
                    // Every chunk repeats the format; a server that changes it mid-stream would
                    // make the bytes unreadable as one clip.
                    if let Ok(chunk) = pcm_format(&event.data)
                        && chunk != expected
                    {
                        return Err(engine_error(
                            NAME,
                            format!(
                                "{} changed the audio format mid-stream ({expected:?} to {chunk:?})",
                                self.address
                            ),
                        ));
                    }
                    pcm.extend_from_slice(&event.payload);
                }
                "audio-stop" => break,
                "error" => {
                    let text = event
                        .data
                        .get("text")
                        .and_then(Value::as_str)
                        .unwrap_or("(no message)");
                    return Err(engine_error(
                        NAME,
                        format!("the server at {} reported an error: {text}", self.address),
                    ));
                }
                // Streaming servers also announce synthesize-started/-stopped; nothing to do.
                _ => {}
            }
        }
        let Some(format) = format else {
            return Err(engine_error(
                NAME,
                format!("{} sent audio-stop without audio-start", self.address),
            ));
        };
        if pcm.is_empty() {
            return Err(engine_error(
                NAME,
                format!("{} returned no audio for \"{text}\"", self.address),
            ));
        }
        let clip = audio::decode_raw(&pcm, &format, NAME)?;
        self.engine_time.add(started.elapsed());
        Ok(clip)
    }
}

fn pcm_format(data: &Map<String, Value>) -> std::result::Result<RawPcm, String> {
    let field = |key: &str| {
        data.get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("audio-start lacks a numeric '{key}'"))
    };
    let rate = field("rate")?;
    let width = field("width")?;
    let channels = field("channels")?;
    let encoding = match width {
        1 => PcmEncoding::U8,
        2 => PcmEncoding::S16LE,
        3 => PcmEncoding::S24LE,
        4 => PcmEncoding::S32LE,
        other => return Err(format!("audio of {other}-byte samples is not supported")),
    };
    Ok(RawPcm {
        sample_rate: u32::try_from(rate).map_err(|_| format!("rate {rate} is out of range"))?,
        channels: u16::try_from(channels)
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| format!("{channels} channels is out of range"))?,
        encoding,
    })
}

#[async_trait]
impl Backend for Wyoming {
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({
            "engine": NAME,
            "address": self.address,
            "voice": self.voice,
            "speaker": self.speaker,
            "sample_rate": self.sample_rate,
        })
    }

    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        // Identity when the server answers at the rate it declared.
        audio::resample(self.speak(&request.text).await?, self.sample_rate)
    }

    fn engine_time(&self) -> Duration {
        self.engine_time.total()
    }
}

/// Runs `future` to completion on a runtime of its own in a scoped thread, so a synchronous
/// `open` works whether or not the caller is already inside a Tokio runtime.
pub(crate) fn block_on<T: Send>(future: impl std::future::Future<Output = T> + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a current-thread runtime builds")
                    .block_on(future)
            })
            .join()
            .expect("the open thread does not panic")
    })
}

fn open_backend(profile: &VoiceProfile, _context: &mut OpenContext) -> Result<Arc<dyn Backend>> {
    let url = config::setting(profile, "url", &["ALOUD_WYOMING_URL"], &process_env)?
        .map_or_else(|| DEFAULT_URL.to_string(), |setting| setting.value);
    let configured_rate = match profile.options.get("sample_rate") {
        None => None,
        Some(value) => Some(
            value
                .as_integer()
                .and_then(|r| u32::try_from(r).ok())
                .filter(|r| (1000..=768_000).contains(r))
                .ok_or_else(|| {
                    profile_error(profile, "options.sample_rate must be a rate in Hz")
                })?,
        ),
    };
    let mut client = Wyoming::new(&url, profile.voice.clone(), configured_rate.unwrap_or(0))?
        .with_timeouts(
            option_seconds(profile, "connect_timeout_seconds", CONNECT_TIMEOUT)?,
            option_seconds(profile, "timeout_seconds", READ_TIMEOUT)?,
        );
    client.speaker = profile.speaker.map(|s| s.to_string());
    // The server's rate is only told with the audio, so unless the profile gives it, one short
    // probe learns it (and proves the voice exists) before the program is created.
    let rate = block_on(async {
        client.describe().await?;
        match configured_rate {
            Some(rate) => Ok::<_, Error>(rate),
            None => Ok(client.speak(PROBE_TEXT).await?.sample_rate),
        }
    })?;
    client.sample_rate = rate;
    Ok(Arc::new(client))
}

/// One Wyoming event: its type, its data (inline and `data_length` bytes merged) and payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: String,
    pub data: Map<String, Value>,
    pub payload: Vec<u8>,
}

/// Writes one event the way `wyoming.event.async_write_event` does.
pub async fn write_event(
    writer: &mut (impl AsyncWrite + Unpin),
    kind: &str,
    data: &Map<String, Value>,
    payload: &[u8],
) -> std::io::Result<()> {
    let mut header = Map::new();
    header.insert("type".into(), Value::String(kind.to_string()));
    header.insert("version".into(), Value::String(VERSION.to_string()));
    let data_bytes = if data.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(data).expect("JSON maps serialize")
    };
    if !data_bytes.is_empty() {
        header.insert("data_length".into(), json!(data_bytes.len()));
    }
    if !payload.is_empty() {
        header.insert("payload_length".into(), json!(payload.len()));
    }
    let mut bytes = serde_json::to_vec(&header).expect("JSON maps serialize");
    bytes.push(b'\n');
    bytes.extend_from_slice(&data_bytes);
    bytes.extend_from_slice(payload);
    writer.write_all(&bytes).await?;
    writer.flush().await
}

/// Reads one event as `wyoming.event.async_read_event` does; `Ok(None)` at a clean end of stream.
pub async fn read_event(
    reader: &mut (impl AsyncBufRead + Unpin),
) -> std::result::Result<Option<Event>, String> {
    let mut line = Vec::new();
    let read = (&mut *reader)
        .take(MAX_HEADER as u64 + 1)
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| format!("connection failed: {e}"))?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if line.len() > MAX_HEADER {
            format!("an event header longer than {MAX_HEADER} bytes (not a Wyoming server?)")
        } else {
            "the connection closed in the middle of an event header".to_string()
        });
    }
    let header: Map<String, Value> = serde_json::from_slice(&line).map_err(|e| {
        let shown: String = String::from_utf8_lossy(&line).chars().take(60).collect();
        format!(
            "not a Wyoming event header ({e}): {:?} (not a Wyoming server?)",
            shown.trim_end()
        )
    })?;
    let kind = header
        .get("type")
        .and_then(Value::as_str)
        .ok_or("an event header without a 'type'")?
        .to_string();
    let length = |key: &str, max: usize| -> std::result::Result<usize, String> {
        match header.get(key) {
            None | Some(Value::Null) => Ok(0),
            Some(value) => value
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("'{kind}' declares {key} {value}, beyond {max} bytes")),
        }
    };
    let data_length = length("data_length", MAX_DATA)?;
    let payload_length = length("payload_length", MAX_PAYLOAD)?;
    let mut data = match header.get("data") {
        Some(Value::Object(inline)) => inline.clone(),
        _ => Map::new(),
    };
    if data_length > 0 {
        let bytes = read_exactly(reader, data_length, "data", &kind).await?;
        let more: Map<String, Value> = serde_json::from_slice(&bytes)
            .map_err(|e| format!("the data of '{kind}' is not a JSON object: {e}"))?;
        data.extend(more);
    }
    let payload = if payload_length > 0 {
        read_exactly(reader, payload_length, "payload", &kind).await?
    } else {
        Vec::new()
    };
    Ok(Some(Event {
        kind,
        data,
        payload,
    }))
}

async fn read_exactly(
    reader: &mut (impl AsyncBufRead + Unpin),
    n: usize,
    what: &str,
    kind: &str,
) -> std::result::Result<Vec<u8>, String> {
    let mut buffer = vec![0; n];
    match reader.read_exact(&mut buffer).await {
        Ok(_) => Ok(buffer),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(format!(
            "the connection closed in the middle of the {what} of '{kind}'"
        )),
        Err(e) => Err(format!("connection failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// What the fake server does after reading the request.
    #[derive(Clone, Copy)]
    enum Script {
        /// audio-start, two chunks, audio-stop: a well-behaved server.
        Speak,
        /// audio-start and one chunk, then the connection closes.
        CloseMidAudio,
        /// A line that is not JSON.
        Garbage,
        /// Chunks and audio-stop without audio-start.
        NoAudioStart,
        /// Reads the request and says nothing.
        Silent,
        /// An `error` event, as wyoming-piper sends for an unknown voice.
        ServerError,
    }

    const RATE: u64 = 16000;

    fn audio_data() -> Map<String, Value> {
        let mut data = Map::new();
        data.insert("rate".into(), json!(RATE));
        data.insert("width".into(), json!(2));
        data.insert("channels".into(), json!(1));
        data
    }

    /// A tone as 16-bit PCM, `frames` long.
    fn tone(frames: usize) -> Vec<u8> {
        (0..frames)
            .flat_map(|i| {
                let s = (f64::from(i as u32) * 0.1).sin() * 8000.0;
                (s as i16).to_le_bytes()
            })
            .collect()
    }

    /// Writes the audio events named in `kinds`, in order, as a server speaking [`tone`]s sends
    /// them: `audio-start` and each `audio-chunk` carry the format, `audio-stop` nothing.
    async fn write_audio(w: &mut (impl AsyncWrite + Unpin), kinds: &[&str]) {
        let data = audio_data();
        for &kind in kinds {
            match kind {
                "audio-chunk" => write_event(w, kind, &data, &tone(800)).await,
                "audio-stop" => write_event(w, kind, &Map::new(), &[]).await,
                _ => write_event(w, kind, &data, &[]).await,
            }
            .unwrap();
        }
    }

    /// Serves one scripted exchange per connection; returns its URL.
    async fn fake_server(script: Script) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("tcp://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    let Ok(Some(request)) = read_event(&mut stream).await else {
                        return;
                    };
                    let w = stream.get_mut();
                    if request.kind == "describe" {
                        let info = json!({"tts": [{"name": "fake", "voices": []}]});
                        let _ = write_event(w, "info", info.as_object().unwrap(), &[]).await;
                        return;
                    }
                    assert_eq!(request.kind, "synthesize");
                    assert!(request.data["text"].is_string());
                    match script {
                        Script::Speak => {
                            let kinds = ["audio-start", "audio-chunk", "audio-chunk", "audio-stop"];
                            write_audio(w, &kinds).await;
                        }
                        Script::CloseMidAudio => {
                            write_audio(w, &["audio-start", "audio-chunk"]).await;
                        }
                        Script::Garbage => {
                            w.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                                .await
                                .unwrap();
                        }
                        Script::NoAudioStart => {
                            write_audio(w, &["audio-chunk", "audio-stop"]).await;
                        }
                        Script::ServerError => {
                            let data = json!({"text": "voice not found: fake-voice", "code": "VoiceNotFoundError"});
                            write_event(w, "error", data.as_object().unwrap(), &[])
                                .await
                                .unwrap();
                        }
                        Script::Silent => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                        }
                    }
                });
            }
        });
        url
    }

    fn client(url: &str) -> Wyoming {
        Wyoming::new(url, Some("fake-voice".into()), RATE as u32)
            .unwrap()
            .with_timeouts(Duration::from_secs(2), Duration::from_millis(500))
    }

    async fn failure(url: &str) -> String {
        let err = client(url)
            .synthesize(&SpeechRequest::plain("Hello there."))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("wyoming: "), "{text}");
        text
    }

    #[tokio::test]
    async fn events_round_trip_in_the_python_framing() {
        let mut bytes = Vec::new();
        let data = audio_data();
        write_event(&mut bytes, "audio-chunk", &data, &[1, 2, 3])
            .await
            .unwrap();
        let line_end = bytes.iter().position(|&b| b == b'\n').unwrap();
        let header: Value = serde_json::from_slice(&bytes[..line_end]).unwrap();
        assert_eq!(header["type"], "audio-chunk");
        assert_eq!(header["version"], VERSION);
        assert_eq!(header["payload_length"], 3);
        let data_length = header["data_length"].as_u64().unwrap() as usize;
        assert!(header.get("data").is_none(), "data goes after the line");
        assert_eq!(bytes.len(), line_end + 1 + data_length + 3);

        let event = read_event(&mut &bytes[..]).await.unwrap().unwrap();
        assert_eq!(event.kind, "audio-chunk");
        assert_eq!(event.data, data);
        assert_eq!(event.payload, [1, 2, 3]);

        // Older peers put data inline; an event with neither data nor payload is one line.
        let inline = b"{\"type\": \"audio-start\", \"data\": {\"rate\": 22050}}\n";
        let event = read_event(&mut &inline[..]).await.unwrap().unwrap();
        assert_eq!(event.data["rate"], 22050);
        let mut bare = Vec::new();
        write_event(&mut bare, "describe", &Map::new(), &[])
            .await
            .unwrap();
        assert_eq!(bare.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(bare.ends_with(b"\n"));
        assert!(read_event(&mut &b""[..]).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_well_behaved_server_gives_one_clip() {
        let url = fake_server(Script::Speak).await;
        let clip = client(&url)
            .synthesize(&SpeechRequest::plain("Hello."))
            .await
            .unwrap();
        assert_eq!(clip.sample_rate, RATE as u32);
        assert_eq!(clip.samples.len(), 1600);
        assert!(clip.samples.iter().any(|s| s.abs() > 0.1));
        // A backend opened at another rate gets the clip resampled to it.
        let at_22k = Wyoming::new(&url, None, 22050).unwrap();
        let clip = at_22k
            .synthesize(&SpeechRequest::plain("Hi."))
            .await
            .unwrap();
        assert_eq!(clip.sample_rate, 22050);
        assert!((clip.samples.len() as i64 - 2205).abs() <= 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn open_learns_the_rate_from_the_server() {
        let url = fake_server(Script::Speak).await;
        let mut profile = VoiceProfile::find("wyoming:fake-voice").unwrap();
        profile
            .options
            .insert("url".into(), toml::Value::String(url));
        let assets = crate::assets::AssetOptions::default();
        let mut context = OpenContext {
            assets: &assets,
            progress: &mut |_| {},
            concurrency: None,
        };
        let backend = super::super::open(&profile, &mut context).unwrap();
        assert_eq!(backend.identity()["engine"], "wyoming");
        assert_eq!(backend.sample_rate(), RATE as u32);
    }

    #[tokio::test]
    async fn refused_connection_names_the_backend_and_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let text = failure(&format!("tcp://{address}")).await;
        assert!(text.contains(&address.to_string()), "{text}");
        assert!(text.contains("cannot connect"), "{text}");
        assert!(text.contains("ALOUD_WYOMING_URL"), "{text}");
    }

    /// A server closing mid-audio, garbage that is not taken for a Wyoming server, audio
    /// without audio-start, and a server's error event quoted.
    #[tokio::test]
    async fn a_misbehaving_server_is_an_error_saying_how() {
        let cases: [(Script, &[&str]); 4] = [
            (
                Script::CloseMidAudio,
                &[
                    "closed the connection before audio-stop",
                    "1600 bytes of audio",
                ],
            ),
            (
                Script::Garbage,
                &["not a Wyoming event header", "HTTP/1.1 400"],
            ),
            (Script::NoAudioStart, &["audio-chunk before audio-start"]),
            (
                Script::ServerError,
                &["reported an error: voice not found: fake-voice"],
            ),
        ];
        for (script, complaints) in cases {
            let text = failure(&fake_server(script).await).await;
            for complaint in complaints {
                assert!(text.contains(complaint), "{complaint}: {text}");
            }
        }
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let started = Instant::now();
        let text = failure(&fake_server(Script::Silent).await).await;
        assert!(text.contains("timed out"), "{text}");
        assert!(text.contains("audio-start"), "{text}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn urls_are_tcp_host_and_port() {
        assert_eq!(
            parse_url("tcp://127.0.0.1:10200").unwrap(),
            "127.0.0.1:10200"
        );
        assert_eq!(parse_url("localhost:10200/").unwrap(), "localhost:10200");
        assert!(
            parse_url("unix:///run/piper.sock")
                .unwrap_err()
                .contains("tcp://")
        );
        assert!(parse_url("tcp://host").is_err());
        assert!(parse_url("tcp://:10200").is_err());
    }
}
