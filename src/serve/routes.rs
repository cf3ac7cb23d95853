//! The API's handlers: authorization and rate limiting (a middleware), submitting, reading
//! and cancelling narrations, voices, health, metrics and the OpenAPI document. Errors are
//! JSON `{"error": MESSAGE, "code": CODE}`.

use super::AppState;
use super::auth::ANONYMOUS;
use crate::jobs::records::Narration;
use crate::jobs::{JobError, NarrationRequest, Submission, Submitted};
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

type Shared = State<Arc<AppState>>;

/// The caller a request was authorized as (set by [`authorize`]).
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub String);

pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({"error": message.into(), "code": code})),
    )
        .into_response()
}

/// Bearer token check and per-caller rate limit in front of every `/v1` route and `/metrics`.
pub(crate) async fn authorize(State(state): Shared, mut request: Request, next: Next) -> Response {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(caller) = state.options.tokens.caller(authorization) else {
        state.metrics.unauthorized.fetch_add(1, Ordering::Relaxed);
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required (Authorization: Bearer TOKEN)",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    if let Err(wait) = state.limiter.take(&caller) {
        state.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests; retry in {wait} s"),
        );
        if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    request.extensions_mut().insert(Caller(caller));
    next.run(request).await
}

/// `POST /v1/narrations`.
pub(crate) async fn submit(
    State(state): Shared,
    caller: Option<axum::Extension<Caller>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            state.metrics.too_large.fetch_add(1, Ordering::Relaxed);
            return error(
                rejection.status(),
                "body_rejected",
                format!(
                    "{} (the limit is {} bytes)",
                    rejection.body_text(),
                    state.options.max_body
                ),
            );
        }
    };
    let request: NarrationRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            state.metrics.rejected.fetch_add(1, Ordering::Relaxed);
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                format!("the body is not a narration request: {e}"),
            );
        }
    };
    let caller = caller.map_or_else(|| ANONYMOUS.to_string(), |c| c.0.0.clone());
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty());
    if key.is_some_and(|k| k.len() > 255) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "Idempotency-Key is longer than 255 characters",
        );
    }
    let submission = Submission {
        request: &request,
        body: &body,
        caller: &caller,
        idempotency_key: key,
        fetch: &state.options.fetch,
    };
    match crate::jobs::submit(&state.queue, submission).await {
        Ok(submitted) => {
            let replayed = matches!(submitted, Submitted::Replayed(_));
            let counter = match replayed {
                true => &state.metrics.replayed,
                false => &state.metrics.submitted,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let id = submitted.id().to_string();
            let status = match &submitted {
                Submitted::Replayed(n) => n.status.as_str(),
                Submitted::New(_) => "queued",
            };
            let mut response = (
                StatusCode::ACCEPTED,
                axum::Json(json!({"id": id, "status": status, "links": links(&id, false)})),
            )
                .into_response();
            if let Ok(location) = HeaderValue::from_str(&format!("/v1/narrations/{id}")) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            if replayed {
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            response
        }
        Err(e) => job_error(&state, e),
    }
}

fn job_error(state: &AppState, e: JobError) -> Response {
    match e {
        JobError::Spec { .. } => {
            state.metrics.rejected.fetch_add(1, Ordering::Relaxed);
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                e.to_string(),
            )
        }
        JobError::AddressRefused { .. } => {
            state
                .metrics
                .refused_addresses
                .fetch_add(1, Ordering::Relaxed);
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "address_refused",
                e.to_string(),
            )
        }
        JobError::IdempotencyConflict { .. } => {
            error(StatusCode::CONFLICT, "idempotency_conflict", e.to_string())
        }
        other => {
            eprintln!("aloud serve: {other}");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "queue_unavailable",
                "the queue is unavailable; try again",
            )
        }
    }
}

/// The links of a narration; the file links only once it is done.
fn links(id: &str, done: bool) -> Value {
    let base = format!("/v1/narrations/{id}");
    let mut links = json!({"self": base});
    if done {
        for name in ["audio", "timeline", "captions", "player"] {
            links[name] = format!("{base}/{name}").into();
        }
    }
    links
}

/// A narration as the API shows it.
pub(crate) fn narration_json(narration: &Narration) -> Value {
    let done = narration.status == crate::jobs::Status::Done;
    let fraction = match narration.sentences_total {
        0 if done => 1.0,
        0 => 0.0,
        total => narration.sentences_done as f64 / total as f64,
    };
    json!({
        "id": narration.id,
        "status": narration.status,
        "voice": narration.voice,
        "attempts": narration.attempts,
        "progress": {
            "sentences_done": narration.sentences_done,
            "sentences_total": narration.sentences_total,
            "fraction": fraction,
        },
        "error": narration.error,
        "worker": narration.worker,
        "output": narration.output,
        "summary": narration.summary,
        "created_ms": narration.created_ms,
        "started_ms": narration.started_ms,
        "finished_ms": narration.finished_ms,
        "links": links(&narration.id, done),
    })
}

pub(crate) async fn find(state: &AppState, id: &str) -> Result<Narration, Response> {
    match state.queue.records().get(id).await {
        Ok(Some(narration)) => Ok(narration),
        Ok(None) => Err(error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no narration {id}"),
        )),
        Err(e) => Err(job_error(state, e)),
    }
}

/// `GET /v1/narrations/{id}`.
pub(crate) async fn status(State(state): Shared, Path(id): Path<String>) -> Response {
    match find(&state, &id).await {
        Ok(narration) => axum::Json(narration_json(&narration)).into_response(),
        Err(response) => response,
    }
}

/// `DELETE /v1/narrations/{id}`: cancels a narration that has not ended (a running one stops
/// at its next progress check, within a second); an ended one is left as it is.
pub(crate) async fn cancel(State(state): Shared, Path(id): Path<String>) -> Response {
    match state.queue.records().cancel(&id).await {
        Ok(Some(narration)) => axum::Json(narration_json(&narration)).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no narration {id}"),
        ),
        Err(e) => job_error(&state, e),
    }
}

/// `GET /v1/voices`.
pub(crate) async fn voices() -> Response {
    let voices = tokio::task::spawn_blocking(|| {
        crate::voice::VoiceProfile::available()
            .into_iter()
            .map(|(name, _origin)| {
                let profile = crate::voice::VoiceProfile::find(&name).ok();
                json!({
                    "name": name,
                    "engine": profile.as_ref().map(|p| p.engine.clone()),
                    "language": profile.as_ref().map(|p| p.language.clone()),
                })
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    axum::Json(json!({ "voices": voices })).into_response()
}

/// `GET /healthz`: the server answers and its queue's database does.
pub(crate) async fn health(State(state): Shared) -> Response {
    match state.queue.records().counts().await {
        Ok(counts) => axum::Json(json!({"status": "ok", "workers_alive": counts.workers_alive}))
            .into_response(),
        Err(e) => {
            eprintln!("aloud serve: health: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"status": "unavailable", "workers_alive": 0})),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub(crate) async fn metrics(State(state): Shared) -> Response {
    let m = &state.metrics;
    let mut text = String::new();
    let counters: [(&str, &str, &AtomicU64); 8] = [
        (
            "aloud_http_requests_total",
            "Authorized-route requests received.",
            &m.requests,
        ),
        (
            "aloud_submissions_total",
            "Narrations accepted and queued.",
            &m.submitted,
        ),
        (
            "aloud_submissions_replayed_total",
            "Submissions answered from an Idempotency-Key.",
            &m.replayed,
        ),
        (
            "aloud_unauthorized_total",
            "Requests refused for a missing or wrong token.",
            &m.unauthorized,
        ),
        (
            "aloud_rate_limited_total",
            "Requests refused by the rate limit.",
            &m.rate_limited,
        ),
        (
            "aloud_refused_addresses_total",
            "URL inputs or webhooks refused by the address guard.",
            &m.refused_addresses,
        ),
        (
            "aloud_rejected_total",
            "Submissions refused as invalid.",
            &m.rejected,
        ),
        (
            "aloud_too_large_total",
            "Request bodies refused as too large.",
            &m.too_large,
        ),
    ];
    for (name, help, value) in counters {
        push_metric_family(&mut text, name, help, "counter");
        text.push_str(&format!("{name} {}\n", value.load(Ordering::Relaxed)));
    }
    match state.queue.records().counts().await {
        Ok(c) => {
            let narrations = "aloud_narrations";
            push_metric_family(
                &mut text,
                narrations,
                "Narrations recorded, by status.",
                "gauge",
            );
            for (status, n) in [
                ("queued", c.queued),
                ("running", c.running),
                ("done", c.done),
                ("failed", c.failed),
                ("cancelled", c.cancelled),
            ] {
                text.push_str(&format!("{narrations}{{status=\"{status}\"}} {n}\n"));
            }
            let gauges = [
                (
                    "aloud_workers_alive",
                    "Workers with a recent heartbeat.",
                    c.workers_alive.to_string(),
                ),
                (
                    "aloud_oldest_queued_seconds",
                    "Age of the oldest waiting narration.",
                    c.oldest_queued_seconds.unwrap_or(0.0).to_string(),
                ),
            ];
            for (name, help, value) in gauges {
                push_metric_family(&mut text, name, help, "gauge");
                text.push_str(&format!("{name} {value}\n"));
            }
        }
        Err(e) => eprintln!("aloud serve: metrics: {e}"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The `# HELP` and `# TYPE` lines that open a metric family in Prometheus text format.
fn push_metric_family(text: &mut String, name: &str, help: &str, kind: &str) {
    text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
}

/// `GET /openapi.json`.
pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], super::OPENAPI).into_response()
}
