//! A finished narration's files over HTTP, read from the store: the audio with byte ranges
//! (so players can seek), the timeline, the captions and the read-along player page (made on
//! first request, for a directory store). Names are checked to be plain file names of the
//! narration's own.

use super::AppState;
use super::routes::{error, find};
use crate::jobs::Status;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

type Shared = State<Arc<AppState>>;

/// The audio file name of a done narration, or the response saying why not.
async fn done(state: &AppState, id: &str) -> Result<String, Response> {
    if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no narration {id}"),
        ));
    }
    let narration = find(state, id).await?;
    match (narration.status, narration.output) {
        (Status::Done, Some(output)) => Ok(output),
        (status, _) => Err(error(
            StatusCode::CONFLICT,
            "not_done",
            format!(
                "narration {id} is {}; its files exist once it is done",
                status.as_str()
            ),
        )),
    }
}

fn stem(output: &str) -> &str {
    output.rsplit_once('.').map_or(output, |(stem, _)| stem)
}

/// Sends the file of a done narration that `name_of` names from its audio's file name.
async fn send_done(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
    name_of: impl FnOnce(&str) -> String,
) -> Response {
    match done(state, id).await {
        Ok(output) => send(state, id, &name_of(&output), headers).await,
        Err(response) => response,
    }
}

pub(crate) async fn audio(
    State(state): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    send_done(&state, &id, &headers, str::to_string).await
}

pub(crate) async fn timeline(
    State(state): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    send_done(&state, &id, &headers, |output| {
        format!("{}.timeline.json", stem(output))
    })
    .await
}

pub(crate) async fn captions(
    State(state): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    send_done(&state, &id, &headers, |output| {
        format!("{}.vtt", stem(output))
    })
    .await
}

/// The player page, written beside the audio on first request; redirected to, so that its
/// relative links to the audio and timeline resolve under `files/`. A directory store only.
pub(crate) async fn player(State(state): Shared, Path(id): Path<String>) -> Response {
    let output = match done(&state, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(root) = state.options.store.root() else {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "player",
            "the player page is made only for a directory store; use the audio and timeline links",
        );
    };
    let audio = root.join(&id).join(&output);
    let page = crate::player::page_path(&audio);
    if !page.is_file() {
        let written = tokio::task::spawn_blocking(move || crate::player::write(&audio)).await;
        match written {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, "player", e.to_string()),
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "player", e.to_string()),
        }
    }
    Redirect::to(&format!("/v1/narrations/{id}/files/{}.html", stem(&output))).into_response()
}

/// `GET /v1/narrations/{id}/files/{name}`: any file of a done narration by its plain name.
pub(crate) async fn file(
    State(state): Shared,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !plain {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no file {name}"),
        );
    }
    send_done(&state, &id, &headers, |_| name).await
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map_or("", |(_, extension)| extension) {
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "json" => "application/json",
        "vtt" => "text/vtt; charset=utf-8",
        "srt" => "application/x-subrip",
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A requested byte range, parsed against the file's length.
#[derive(Debug, PartialEq, Eq)]
enum Range {
    Whole,
    Part { start: u64, end: u64 },
    Unsatisfiable,
}

/// `Range: bytes=A-B`, `bytes=A-` or `bytes=-N` (one range; several get the whole file).
fn parse_range(value: Option<&str>, len: u64) -> Range {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Range::Whole;
    };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Range::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = match (first.is_empty(), last.is_empty()) {
        (true, false) => last
            .parse::<u64>()
            .ok()
            .map(|n| (len.saturating_sub(n), len.saturating_sub(1), n > 0)),
        (false, true) => first
            .parse::<u64>()
            .ok()
            .map(|a| (a, len.saturating_sub(1), true)),
        (false, false) => match (first.parse::<u64>(), last.parse::<u64>()) {
            (Ok(a), Ok(b)) if a <= b => Some((a, b.min(len.saturating_sub(1)), true)),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        Some((start, end, true)) if start < len && start <= end => Range::Part { start, end },
        Some(_) => Range::Unsatisfiable,
        None => Range::Whole,
    }
}

/// A store error: logged in full, answered without its details.
fn store_unavailable(cause: impl std::fmt::Display) -> Response {
    eprintln!("aloud serve: {cause}");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "store",
        "the store is unavailable",
    )
}

/// Sends a stored file whole or the range asked for.
async fn send(state: &AppState, id: &str, name: &str, headers: &HeaderMap) -> Response {
    let store = &state.options.store;
    let key = format!("{id}/{name}");
    let len = match store.size(&key).await {
        Ok(Some(len)) => len,
        Ok(None) => return error(StatusCode::NOT_FOUND, "not_found", "no such file"),
        Err(e) => return store_unavailable(e),
    };
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let (status, start, end) = match range {
        Range::Whole => (StatusCode::OK, 0, len.saturating_sub(1)),
        Range::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        Range::Unsatisfiable => {
            let mut response = error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range",
                "range not satisfiable",
            );
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    let body = match len {
        0 => Vec::new(),
        _ => match store.read(&key, start, end).await {
            Ok(body) => body,
            Err(e) => return store_unavailable(e),
        },
    };
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}"))
    {
        h.insert(header::CONTENT_RANGE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_as_rfc_9110_says() {
        let part = |start, end| Range::Part { start, end };
        let cases = [
            (None, Range::Whole),
            (Some("bytes=0-9"), part(0, 9)),
            (Some("bytes=90-"), part(90, 99)),
            (Some("bytes=-10"), part(90, 99)),
            (Some("bytes=50-500"), part(50, 99)),
            (Some("bytes=100-"), Range::Unsatisfiable),
            (Some("bytes=-0"), Range::Unsatisfiable),
            (Some("bytes=0-1,5-6"), Range::Whole),
            (Some("items=0-1"), Range::Whole),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_range(header, 100), expected, "{header:?}");
        }
    }
}
