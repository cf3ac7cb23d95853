//! Narration as queued jobs on apalis: a job spec ([`spec`]), the queue it waits on (SQLite
//! embedded in the output directory, or PostgreSQL for many machines; [`queue`]), the
//! records the API reads ([`records`]), the store of finished files ([`store`]), submission ([`submit`](mod@submit)), workers ([`worker`]) and
//! signed completion webhooks ([`webhook`]).

pub mod queue;
pub mod records;
pub mod spec;
pub mod store;
pub mod submit;
pub mod webhook;
pub mod worker;

pub use queue::{Queue, QueueUrl};
pub use records::{Counts, Narration, Status};
pub use spec::{JobSpec, NarrationRequest};
pub use store::Store;
pub use submit::{Submission, Submitted, submit};
pub use worker::{WorkerOptions, worker_name};

use std::path::PathBuf;

/// What can go wrong queueing, running or reporting a narration job.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The request itself is wrong (HTTP 422).
    #[error("{message}")]
    Spec { message: String },

    /// A URL input (or webhook) resolves to an address the service may not reach (HTTP 422).
    #[error(
        "refused: {host} is at {address}, which is not a public address (loopback, private, link-local or metadata)"
    )]
    AddressRefused { host: String, address: String },

    /// The Idempotency-Key was used before for a different request (HTTP 409).
    #[error("Idempotency-Key was already used for a different request (narration {id})")]
    IdempotencyConflict { id: String },

    #[error("queue {url}: {message}")]
    QueueUrl { url: String, message: String },

    #[error("queue {queue}: {message}")]
    Queue { queue: String, message: String },

    #[error("queue {queue}: database error: {source}")]
    Database {
        queue: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{message}")]
    Config { message: String },

    #[error("store {store}: {key}: {message}")]
    Store {
        store: String,
        key: String,
        message: String,
    },

    #[error("webhook {url}: {message}")]
    Webhook { url: String, message: String },

    /// The narration itself failed (input, voice, engine, output).
    #[error(transparent)]
    Narration(#[from] crate::Error),
}

impl From<JobError> for crate::Error {
    fn from(error: JobError) -> Self {
        crate::Error::job(error)
    }
}
