//! A finished narration's files over HTTP: the audio with byte ranges (so players can seek),
//! the timeline, the captions and the read-along player page (made on first request). Names
//! are checked to be plain file names inside the narration's own directory.

use super::AppState;
use super::routes::{error, find};
use crate::jobs::Status;
use crate::jobs::worker::narration_dir;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

type Shared = State<Arc<AppState>>;

/// The directory and audio file name of a done narration, or the response saying why not.
async fn done(state: &AppState, id: &str) -> Result<(PathBuf, String), Response> {
    if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no narration {id}"),
        ));
    }
    let narration = find(state, id).await?;
    match (narration.status, narration.output) {
        (Status::Done, Some(output)) => Ok((narration_dir(&state.options.out_dir, id), output)),
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

pub(crate) async fn audio(
    State(state): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match done(&state, &id).await {
        Ok((dir, output)) => send(dir.join(&output), &headers),
        Err(response) => response,
    }
}

pub(crate) async fn timeline(
    State(state): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match done(&state, &id).await {
        Ok((dir, output)) => send(
            dir.join(format!("{}.timeline.json", stem(&output))),
            &headers,
        ),
        Err(response) => response,
    }
}

pub(crate) async fn captions(
    State(state): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match done(&state, &id).await {
        Ok((dir, output)) => send(dir.join(format!("{}.vtt", stem(&output))), &headers),
        Err(response) => response,
    }
}

/// The player page, written beside the audio on first request; redirected to, so that its
/// relative links to the audio and timeline resolve under `files/`.
pub(crate) async fn player(State(state): Shared, Path(id): Path<String>) -> Response {
    let (dir, output) = match done(&state, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let audio = dir.join(&output);
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
    match done(&state, &id).await {
        Ok((dir, _)) => send(dir.join(&name), &headers),
        Err(response) => response,
    }
}

fn content_type(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
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

/// Sends a file whole or the range asked for.
fn send(path: PathBuf, headers: &HeaderMap) -> Response {
    let mut file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(_) => return error(StatusCode::NOT_FOUND, "not_found", "no such file"),
    };
    let len = match file.metadata() {
        Ok(meta) => meta.len(),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "io", e.to_string()),
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
    let count = if len == 0 { 0 } else { end - start + 1 };
    let mut body = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let read = file
        .seek(SeekFrom::Start(start))
        .and_then(|_| (&mut file).take(count).read_to_end(&mut body));
    if let Err(e) = read {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "io", e.to_string());
    }
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
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
        assert_eq!(parse_range(None, 100), Range::Whole);
        assert_eq!(
            parse_range(Some("bytes=0-9"), 100),
            Range::Part { start: 0, end: 9 }
        );
        assert_eq!(
            parse_range(Some("bytes=90-"), 100),
            Range::Part { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=-10"), 100),
            Range::Part { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=50-500"), 100),
            Range::Part { start: 50, end: 99 }
        );
        assert_eq!(parse_range(Some("bytes=100-"), 100), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Range::Whole);
        assert_eq!(parse_range(Some("items=0-1"), 100), Range::Whole);
    }
}
