//! What a failed request means: whether another attempt may help, how long the server asked
//! to wait, and what it said, in one short line that never echoes a key or a whole page.

use super::HttpSettings;
use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// What went wrong with one attempt, and whether another may help.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Worth another attempt (429, 5xx, timeouts, resets, truncated bodies); `wait` is what
    /// the server asked for with `Retry-After` or `retry-after-ms`.
    Retry {
        message: String,
        wait: Option<Duration>,
    },
    /// Retrying cannot help (bad key, unknown voice, bad request, exhausted quota, not audio).
    Fatal { message: String },
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Retry { message, .. } | Failure::Fatal { message } => message,
        }
    }
}

/// Says what an HTTP error status means for this request. `key_hint` names where the key comes
/// from (`OPENAI_API_KEY`), for 401/403 messages.
pub fn classify_status(
    status: reqwest::StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    key_hint: Option<&str>,
) -> Failure {
    let code = status.as_u16();
    let detail = server_detail(body);
    let with_detail = |text: String| match &detail {
        Some(d) => format!("{text}: {d}"),
        None => text,
    };
    match code {
        401 => Failure::Fatal {
            message: match key_hint {
                Some(var) => format!("{var} is rejected (HTTP 401); check the key, or set it if it is missing"),
                None => "the server requires authentication (HTTP 401)".to_string(),
            },
        },
        403 => Failure::Fatal {
            message: with_detail(match key_hint {
                Some(var) => format!("{var} is not allowed to use this (HTTP 403); check the key's permissions or project"),
                None => "the server refuses the request (HTTP 403)".to_string(),
            }),
        },
        404 => Failure::Fatal {
            message: with_detail(
                "not found (HTTP 404); check the server URL, model and voice".to_string(),
            ),
        },
        400 | 422 => Failure::Fatal {
            message: with_detail(format!(
                "the server rejects the request (HTTP {code}); check the profile's model, voice and format"
            )),
        },
        429 if error_code(body).is_some_and(|c| c == "insufficient_quota" || c == "billing_hard_limit_reached") => {
            Failure::Fatal {
                message: with_detail(
                    "the account's quota is exhausted (HTTP 429 insufficient_quota); check the plan and billing"
                        .to_string(),
                ),
            }
        }
        429 | 408 | 409 | 425 | 500..=599 => Failure::Retry {
            message: with_detail(format!(
                "the server answered HTTP {code}{}",
                status
                    .canonical_reason()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default()
            )),
            wait: retry_after(headers),
        },
        _ => Failure::Fatal {
            message: with_detail(format!("unexpected answer HTTP {code}")),
        },
    }
}

/// The `error.code` (or `error.type`) of an OpenAI-style error body.
fn error_code(body: &[u8]) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = json.get("error")?;
    error
        .get("code")
        .and_then(|c| c.as_str())
        .or_else(|| error.get("type").and_then(|t| t.as_str()))
        .map(str::to_string)
}

/// A short, printable form of what the server said, without echoing anything large.
fn server_detail(body: &[u8]) -> Option<String> {
    let text = if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        let message = json
            .pointer("/error/message")
            .or_else(|| json.get("detail"))
            .or_else(|| json.get("message"))
            .or_else(|| json.get("error"))?;
        match message.as_str() {
            Some(s) => s.to_string(),
            None => message.to_string(),
        }
    } else {
        let text = std::str::from_utf8(body).ok()?;
        if text.trim_start().starts_with('<') {
            return None; // an HTML error page says nothing useful in one line
        }
        text.to_string()
    };
    let text = brief(&text);
    (!text.is_empty()).then_some(text)
}

/// What a server said, on one line of at most 200 characters (a cut one ends in '…'), so that
/// an error message never echoes a whole page.
pub fn brief(text: &str) -> String {
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// What follows the HTTP status in an error message: ": what the server said", or nothing when
/// it said nothing.
pub fn said(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// The member `key` of a JSON object in an error answer's body (`error`, `detail`), if the body
/// is one and has it.
pub fn error_member(body: &[u8], key: &str) -> Option<serde_json::Value> {
    let mut json: serde_json::Value = serde_json::from_slice(body).ok()?;
    Some(json.get_mut(key)?.take())
}

/// `object.key` when it is a string, else "".
pub fn str_member<'a>(object: Option<&'a serde_json::Value>, key: &str) -> &'a str {
    object
        .and_then(|o| o.get(key))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
}

/// `retry-after-ms` (milliseconds), else `Retry-After` (seconds or an HTTP date).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = parse_http_date(value)?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 requires senders to use.
/// It is RFC 5322's date-time with the zone fixed to GMT, so an RFC 2822 parser reads it; a
/// date in any other zone is not an HTTP date.
fn parse_http_date(text: &str) -> Option<SystemTime> {
    use time::format_description::well_known::Rfc2822;
    if !text.ends_with(" GMT") {
        return None;
    }
    time::OffsetDateTime::parse(text, &Rfc2822)
        .ok()
        .map(SystemTime::from)
}

/// A transport error (no HTTP status) as a [`Failure`]: timeouts, refused or reset connections
/// and bodies cut short are all worth another attempt.
pub fn classify_transport(error: &reqwest::Error, settings: &HttpSettings) -> Failure {
    let message = if error.is_timeout() {
        format!(
            "no complete answer within {} s (timed out)",
            settings.timeout.as_secs_f64()
        )
    } else if error.is_connect() {
        format!("cannot connect to the server: {}", root_cause(error))
    } else if error.is_body() || error.is_decode() {
        format!("the answer was cut short: {}", root_cause(error))
    } else {
        format!("the request failed: {}", root_cause(error))
    };
    Failure::Retry {
        message,
        wait: None,
    }
}

/// The innermost cause of an error (reqwest's own text repeats the URL and little else).
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_in_seconds_milliseconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 +0100"), None);
        assert_eq!(parse_http_date("in a while GMT"), None);
    }

    #[test]
    fn statuses_are_classified() {
        let h = HeaderMap::new();
        let status = |c| reqwest::StatusCode::from_u16(c).unwrap();
        let f = classify_status(status(401), &h, b"", Some("OPENAI_API_KEY"));
        assert_eq!(
            f.message(),
            "OPENAI_API_KEY is rejected (HTTP 401); check the key, or set it if it is missing"
        );
        assert!(matches!(f, Failure::Fatal { .. }));
        for code in [400, 403, 404, 422] {
            assert!(matches!(
                classify_status(status(code), &h, b"", None),
                Failure::Fatal { .. }
            ));
        }
        for code in [429, 500, 502, 503] {
            assert!(matches!(
                classify_status(status(code), &h, b"", None),
                Failure::Retry { .. }
            ));
        }
        let quota = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        let f = classify_status(status(429), &h, quota, None);
        assert!(matches!(f, Failure::Fatal { .. }), "{f:?}");
        assert!(f.message().contains("quota"));
    }

    #[test]
    fn what_a_server_said_is_one_short_line() {
        assert_eq!(brief("  Voice\n  not   found. "), "Voice not found.");
        let long = "word ".repeat(100);
        let cut = brief(&long);
        assert_eq!(cut.chars().count(), 201);
        assert!(cut.ends_with('…'), "{cut}");
        assert_eq!(said(""), "");
        assert_eq!(said("Voice not found."), ": Voice not found.");
        let error = error_member(
            br#"{"error": {"status": "NOT_FOUND", "code": 404}}"#,
            "error",
        );
        assert_eq!(str_member(error.as_ref(), "status"), "NOT_FOUND");
        assert_eq!(str_member(error.as_ref(), "code"), "");
        assert_eq!(error_member(b"<html>", "error"), None);
    }
}
