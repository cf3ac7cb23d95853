//! The library's typed errors; each names what went wrong and where.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
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
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
