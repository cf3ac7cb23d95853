//! `aloud serve`: narration as an HTTP service (axum) over a job queue. The API submits
//! narrations (`routes`), serves their files with byte ranges (`files`), reports health
//! and Prometheus metrics, and describes itself in an OpenAPI 3.1 document
//! (`openapi.json`). Bearer tokens, loopback-only without them, per-caller rate limits and a
//! body size limit guard it ([`auth`]); URL inputs are fetched through the address guard.

pub mod auth;
mod files;
mod routes;

use crate::ingest::fetch::FetchOptions;
use crate::jobs::{JobError, Queue};
use auth::{RateLimiter, Tokens};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// The OpenAPI 3.1 document of this API, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub tokens: Tokens,
    /// Where narrations' files are kept (`ID/NAME`); the workers' store.
    pub store: crate::jobs::Store,
    /// Fetch limits and the address policy for URL inputs and webhooks.
    pub fetch: FetchOptions,
    /// The largest request body accepted, in bytes (HTTP 413 above).
    pub max_body: usize,
    /// Requests per minute per caller (HTTP 429 above).
    pub rate_per_minute: u32,
}

/// Counters behind `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub requests: AtomicU64,
    pub submitted: AtomicU64,
    pub replayed: AtomicU64,
    pub unauthorized: AtomicU64,
    pub rate_limited: AtomicU64,
    pub refused_addresses: AtomicU64,
    pub rejected: AtomicU64,
    pub too_large: AtomicU64,
}

pub(crate) struct AppState {
    pub queue: Queue,
    pub options: ServeOptions,
    pub limiter: RateLimiter,
    pub metrics: Metrics,
}

/// The API's routes over `queue`.
pub fn router(queue: Queue, options: ServeOptions) -> Router {
    let state = Arc::new(AppState {
        limiter: RateLimiter::new(options.rate_per_minute),
        queue,
        options,
        metrics: Metrics::default(),
    });
    let max_body = state.options.max_body;
    let api = Router::new()
        .route("/v1/narrations", post(routes::submit))
        .route(
            "/v1/narrations/{id}",
            get(routes::status).delete(routes::cancel),
        )
        .route("/v1/narrations/{id}/audio", get(files::audio))
        .route("/v1/narrations/{id}/timeline", get(files::timeline))
        .route("/v1/narrations/{id}/captions", get(files::captions))
        .route("/v1/narrations/{id}/player", get(files::player))
        .route("/v1/narrations/{id}/files/{name}", get(files::file))
        .route("/v1/voices", get(routes::voices))
        .route("/metrics", get(routes::metrics))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::authorize,
        ));
    Router::new()
        .route("/healthz", get(routes::health))
        .route("/openapi.json", get(routes::openapi))
        .merge(api)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    queue: Queue,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), JobError> {
    let listen: SocketAddr = listener.local_addr().map_err(|source| JobError::Config {
        message: format!("the listening socket has no address: {source}"),
    })?;
    auth::check_listen(listen, &options.tokens)?;
    axum::serve(listener, router(queue, options))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| JobError::Config {
            message: format!("serving on {listen}: {source}"),
        })
}
