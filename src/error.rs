//! The library's typed errors; each names what went wrong and where.

use crate::human::{byte_size, seconds};
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A narration job: queueing, the queue's database, a webhook (src/jobs/).
    #[error(transparent)]
    Job(Box<crate::jobs::JobError>),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: file not found")]
    InputNotFound { path: PathBuf },

    #[error("{path}: not UTF-8 text (invalid byte at offset {offset})")]
    NotText { path: PathBuf, offset: usize },

    #[error("{path}: nothing to narrate (the article is empty)")]
    EmptyInput { path: PathBuf },

    #[error(
        "unknown voice '{name}' (looked for {searched}); `aloud voices` lists the installed profiles"
    )]
    UnknownVoice { name: String, searched: String },

    #[error("voice profile {path}: {message}")]
    VoiceProfile { path: PathBuf, message: String },

    #[error("lexicon {path}: {message}")]
    Lexicon { path: PathBuf, message: String },

    #[error("cannot write output {path}: {message}")]
    Output { path: PathBuf, message: String },

    #[error("missing engine asset: {what}: {hint}")]
    AssetMissing { what: String, hint: String },

    #[error(
        "engine asset {path} is corrupt (sha256 {actual}, expected {expected}); run `aloud setup` to fetch it again"
    )]
    AssetCorrupt {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    #[error("could not provision {package}: {message}")]
    Provision { package: String, message: String },

    #[error("{backend}: {message}")]
    Engine { backend: String, message: String },

    /// An engine's failure on one sentence it was asked for on its own; a narration, which
    /// numbers its sentences, reports it as [`Error::Synthesis`] instead.
    #[error("{backend}: sentence \"{sentence}\": {message}")]
    EngineSentence {
        backend: String,
        sentence: String,
        message: String,
    },

    /// A batch manifest that cannot be used; `place` is the line or entry.
    #[error("manifest {path}: {place}: {message}")]
    Manifest {
        path: PathBuf,
        place: String,
        message: String,
    },

    #[error(
        "{failed} of {total} article{s} failed (listed above); the rest are finished under {out_dir}",
        s = if *total == 1 { "" } else { "s" }
    )]
    BatchFailed {
        failed: usize,
        total: usize,
        out_dir: PathBuf,
    },

    /// Whoever read a stream (a player on the other end of a pipe) stopped reading.
    #[error("the reader of {what} closed it")]
    ReaderGone { what: String },

    /// A setting given on the command line or in the environment that cannot be used.
    #[error("{message}")]
    Usage { message: String },

    #[error("{backend}: sentence {index} (\"{excerpt}\"): {message}")]
    Synthesis {
        backend: String,
        index: usize,
        excerpt: String,
        message: String,
    },

    #[error("{path}: not a readable WAV file: {message}")]
    BadWav { path: PathBuf, message: String },

    /// Audio a backend returned that cannot be decoded or converted; `origin` names the backend and sentence.
    #[error("{origin}: {message}")]
    Audio { origin: String, message: String },

    /// Text in a declared charset other than UTF-8 that does not decode (or holds a NUL byte,
    /// as binaries do). UTF-8 input that fails is [`Error::NotText`].
    #[error("{input}: not {charset} text (invalid byte at offset {offset})")]
    NotTextIn {
        input: String,
        charset: String,
        offset: usize,
    },

    #[error(
        "{input}: no article found (only navigation, links or page furniture; --keep-all reads every block)"
    )]
    NoArticle { input: String },

    #[error("{input}: larger than the {} limit", byte_size(*.limit))]
    TooLarge { input: String, limit: u64 },

    #[error("{url}: only http:// and https:// URLs can be fetched, not {scheme}:")]
    UnsupportedScheme { url: String, scheme: String },

    #[error("{url}: not a valid URL: {message}")]
    BadUrl { url: String, message: String },

    #[error("{url}: no answer within {} (timed out)", seconds(*.after))]
    FetchTimeout {
        url: String,
        after: std::time::Duration,
    },

    #[error("{url}: the server answered HTTP {status}{}", reason_suffix(.reason))]
    HttpStatus {
        url: String,
        status: u16,
        reason: String,
    },

    #[error("{url}: redirect loop: {target} redirects back to a page already visited")]
    RedirectLoop { url: String, target: String },

    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects { url: String, limit: usize },

    #[error("{url}: not a web page or text (Content-Type: {content_type})")]
    UnsupportedContent { url: String, content_type: String },

    #[error("{url}: {message}")]
    Fetch { url: String, message: String },

    #[error(
        "{url}: refused to fetch {target}: it is at {address}, which is not a public address (loopback, private, link-local or metadata)"
    )]
    AddressRefused {
        url: String,
        target: String,
        address: std::net::IpAddr,
    },

    // The podcast feed of an output directory (src/feed.rs, `aloud feed`, `batch --feed`).
    /// A directory with nothing to publish: no audio file with its timeline beside it.
    #[error(
        "{dir}: no narrations to put in a feed (looked for .mp3 and .wav files with a .timeline.json beside them, outside hidden directories); narrate into it first, e.g. `aloud batch ARTICLES --out-dir {dir}`"
    )]
    FeedEmpty { dir: PathBuf },

    /// A URL the feed would link with that is not absolute http(s); `what` names which.
    #[error("feed {what} '{url}': {message}")]
    FeedUrl {
        what: String,
        url: String,
        message: String,
    },

    /// A narration's timeline that cannot be read, so its episode cannot be described.
    #[error(
        "{path}: not a readable aloud timeline, so its narration cannot go in the feed: {message}"
    )]
    FeedTimeline { path: PathBuf, message: String },

    /// The feed already there cannot be read back, so the publication dates it holds would be
    /// lost; nothing is written over it.
    #[error("{path}: cannot read the existing feed for the publication dates it keeps: {message}")]
    FeedUnreadable { path: PathBuf, message: String },

    /// `aloud batch --feed` narrated its articles, but the feed could not be written.
    #[error("the batch finished, but {out_dir}'s feed was not written: {message}")]
    BatchFeed { out_dir: PathBuf, message: String },

    // The read-along player (src/player): what it needs beside the audio, and why it refuses
    // a timeline.
    #[error(
        "{timeline}: no timeline beside {audio}; the player is built from the OUT.timeline.json \
         written beside every narration (narrate the article again to make one)"
    )]
    TimelineMissing { audio: PathBuf, timeline: PathBuf },

    #[error("{path}: not an aloud timeline: {message}")]
    TimelineInvalid { path: PathBuf, message: String },

    #[error(
        "{timeline} is not the timeline of {audio}: the timeline lasts {}, the audio {} \
         (narrate the article again to write them together)",
        seconds_exact(*.timeline_seconds),
        seconds_exact(*.audio_seconds)
    )]
    TimelineMismatch {
        audio: PathBuf,
        timeline: PathBuf,
        audio_seconds: f64,
        timeline_seconds: f64,
    },

    #[error("{path}: cannot measure the audio for the player: {message}")]
    PlayerAudio { path: PathBuf, message: String },
}

/// `16.193 s`: three decimals, enough to tell two narrations of one article apart.
fn seconds_exact(seconds: f64) -> String {
    format!("{seconds:.3} s")
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" {reason}")
    }
}

impl Error {
    pub fn job(error: crate::jobs::JobError) -> Self {
        match error {
            crate::jobs::JobError::Narration(inner) => inner,
            other => Error::Job(Box::new(other)),
        }
    }

    /// A file given as input that cannot be read: [`Error::InputNotFound`] when it is not there,
    /// else the I/O error with its path.
    pub fn input(path: &std::path::Path, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::NotFound => Error::InputNotFound {
                path: path.to_path_buf(),
            },
            _ => Error::io(path, source),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_read_naturally() {
        let status = Error::HttpStatus {
            url: "http://x/".into(),
            status: 404,
            reason: "Not Found".into(),
        };
        assert_eq!(
            status.to_string(),
            "http://x/: the server answered HTTP 404 Not Found"
        );
    }
}
