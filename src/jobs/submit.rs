//! Submitting a narration: the request checked, a URL input fetched here through the address
//! guard (so workers never fetch for a caller, and a refused address is the caller's error
//! at once), an Idempotency-Key honoured per caller, the record written, the job queued.

use super::JobError;
use super::queue::Queue;
use super::records::{Inserted, Narration, NewNarration};
use super::spec::{Article, Input, JobSpec, NarrationRequest};
use crate::ingest::fetch::FetchOptions;
use sha2::{Digest, Sha256};

/// One submission as the API received it.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    pub request: &'a NarrationRequest,
    /// The request body as sent, to tell a replay from a different request.
    pub body: &'a [u8],
    /// Who is asking (a hash of their token, never the token), scoping Idempotency-Keys.
    pub caller: &'a str,
    pub idempotency_key: Option<&'a str>,
    /// Limits and the address policy for fetching a URL input (and checking a webhook).
    pub fetch: &'a FetchOptions,
}

/// What a submission did.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// A new narration was queued under this id.
    New(String),
    /// The Idempotency-Key was used before for this same request: that narration.
    Replayed(Box<Narration>),
}

impl Submitted {
    pub fn id(&self) -> &str {
        match self {
            Submitted::New(id) => id,
            Submitted::Replayed(narration) => &narration.id,
        }
    }
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// A new narration id: time-ordered, unguessable.
pub fn new_id() -> String {
    format!(
        "{:012x}{:016x}",
        super::records::now_ms(),
        fastrand::u64(..)
    )
}

/// Checks, fetches, records and queues one narration.
pub async fn submit(queue: &Queue, submission: Submission<'_>) -> Result<Submitted, JobError> {
    let request = submission.request;
    request.validate()?;
    let records = queue.records();
    let request_hash = sha256_hex(&[submission.body]);
    let idempotency = submission
        .idempotency_key
        .map(|key| sha256_hex(&[submission.caller.as_bytes(), key.as_bytes()]));
    if let Some(hash) = &idempotency
        && let Some(existing) = records.find_idempotent(hash).await?
    {
        return replay(Box::new(existing), &request_hash);
    }
    if let Some(webhook) = &request.webhook {
        check_webhook(webhook, submission.fetch).await?;
    }
    let article = match request.input()? {
        Input::Url(url) => {
            let page = crate::ingest::fetch::fetch(url, submission.fetch)
                .await
                .map_err(|error| match error {
                    crate::Error::AddressRefused {
                        target, address, ..
                    } => JobError::AddressRefused {
                        host: target,
                        address: address.to_string(),
                    },
                    other => JobError::Spec {
                        message: format!("cannot fetch the url: {other}"),
                    },
                })?;
            Article::page(&page)
        }
        input => input.article().ok_or_else(|| JobError::Spec {
            message: "no article in the request".into(),
        })?,
    };
    let id = new_id();
    let voice = request.voice_name()?;
    let new = NewNarration {
        id: id.clone(),
        idempotency,
        request_hash: request_hash.clone(),
        voice: voice.clone(),
    };
    if let Inserted::Existing(existing) = records.insert(&new).await? {
        return replay(existing, &request_hash);
    }
    let spec = JobSpec {
        id: id.clone(),
        article,
        voice,
        options: request.options.clone(),
        webhook: request.webhook.clone(),
        carried: None,
    };
    if let Err(error) = queue.push(&spec).await {
        let _ = records
            .finish_failed(&id, "the narration could not be queued")
            .await;
        return Err(error);
    }
    Ok(Submitted::New(id))
}

fn replay(existing: Box<Narration>, request_hash: &str) -> Result<Submitted, JobError> {
    match existing.request_hash == request_hash {
        true => Ok(Submitted::Replayed(existing)),
        false => Err(JobError::IdempotencyConflict { id: existing.id }),
    }
}

async fn check_webhook(url: &str, fetch: &FetchOptions) -> Result<(), JobError> {
    let parsed = crate::ingest::fetch::check_url(url).map_err(|e| JobError::Spec {
        message: format!("webhook: {e}"),
    })?;
    let host = parsed.host_str().ok_or_else(|| JobError::Spec {
        message: format!("webhook {url}: no host"),
    })?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    super::webhook::checked_address(host, port, &fetch.addresses)
        .await
        .map(|_| ())
}
