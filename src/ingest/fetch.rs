//! Fetching a page over HTTP(S), within limits: http and https only, a connect timeout and an
//! overall one (headers, redirects and body together), a bounded number of redirects (a loop
//! is named as one), and a size limit enforced while the body streams in. Only web pages and
//! text are downloaded: another Content-Type is refused before its body is read.
//!
//! Redirects are followed here rather than by reqwest, so that a loop can be told from a long
//! chain, every error names the URL the user gave, and every hop's address is checked
//! against the [`AddressPolicy`] (see the `guard` module).

use super::guard::{self, AddressPolicy};
use crate::error::{Error, Result};
use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use std::time::Duration;

/// The most a page (or standard input) may weigh: 10 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// Limits for one fetch. `Default` suits a user; tests shorten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// Time to open the connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for the whole fetch: every redirect and the full body.
    pub timeout: Duration,
    /// The largest body accepted, in bytes; a bigger one is abandoned as soon as it exceeds this.
    /// Also the limit for standard input.
    pub max_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Which addresses may be fetched from ([`AddressPolicy::Any`] by default; a service
    /// fetching for others uses [`AddressPolicy::PublicOnly`]).
    pub addresses: AddressPolicy,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_bytes: DEFAULT_MAX_BYTES,
            max_redirects: 10,
            addresses: AddressPolicy::Any,
        }
    }
}

/// A fetched page: its bytes as sent, undecoded, and what the server said they are.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL as asked for (errors name it).
    pub url: String,
    /// Where the page was found, after redirects.
    pub final_url: String,
    /// The Content-Type header, if any (with its charset parameter).
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// The URL, if it is one aloud may fetch: Error::BadUrl or Error::UnsupportedScheme otherwise.
pub fn check_url(url: &str) -> Result<Url> {
    let parsed = Url::parse(url).map_err(|error| Error::BadUrl {
        url: url.to_string(),
        message: error.to_string(),
    })?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        scheme => Err(Error::UnsupportedScheme {
            url: url.to_string(),
            scheme: scheme.to_string(),
        }),
    }
}

/// Fetches `url` within `options`' limits.
pub async fn fetch(url: &str, options: &FetchOptions) -> Result<Fetched> {
    let parsed = check_url(url)?;
    let client = client(url, &parsed, options)?;
    match tokio::time::timeout(options.timeout, follow(&client, url, parsed, options)).await {
        Ok(result) => result,
        Err(_elapsed) => Err(Error::FetchTimeout {
            url: url.to_string(),
            after: options.timeout,
        }),
    }
}

/// [`fetch`] for callers without an async runtime. Inside one (where blocking on another
/// would panic) the fetch runs on a thread of its own.
pub fn fetch_blocking(url: &str, options: &FetchOptions) -> Result<Fetched> {
    let run = || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| Error::Fetch {
                url: url.to_string(),
                message: format!("cannot start the network runtime: {error}"),
            })?;
        runtime.block_on(fetch(url, options))
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return run();
    }
    std::thread::scope(|scope| {
        scope.spawn(run).join().unwrap_or_else(|_| {
            Err(Error::Fetch {
                url: url.to_string(),
                message: "the fetching thread panicked".into(),
            })
        })
    })
}

/// Whether a Content-Type is one aloud can narrate: HTML, XHTML, plain text or Markdown.
pub fn is_narratable(content_type: &str) -> bool {
    matches!(
        mime_essence(content_type).as_str(),
        "text/html" | "application/xhtml+xml" | "text/plain" | "text/markdown" | "text/x-markdown"
    )
}

/// `Text/HTML; charset=UTF-8` -> `text/html`.
pub(super) fn mime_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The `charset` parameter of a Content-Type, unquoted.
pub(super) fn charset_parameter(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(|c| c == '"' || c == '\''))
            .filter(|value| !value.is_empty())
    })
}

fn client(url: &str, parsed: &Url, options: &FetchOptions) -> Result<reqwest::Client> {
    crate::tls::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(options.connect_timeout)
        .user_agent(concat!("aloud/", env!("CARGO_PKG_VERSION")));
    // A proxy from the environment cannot reach this machine's own loopback.
    if is_loopback(parsed) {
        builder = builder.no_proxy();
    }
    // Under a policy, names are resolved here and only allowed addresses handed on; a proxy
    // would resolve them itself, out of reach of the check.
    if let Some(resolver) = guard::resolver(&options.addresses) {
        builder = builder.dns_resolver(resolver).no_proxy();
    }
    builder.build().map_err(|error| Error::Fetch {
        url: url.to_string(),
        message: format!("cannot set up the HTTP client: {}", describe(&error)),
    })
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Requests `current`, following redirects, then reads the body within the size limit.
async fn follow(
    client: &reqwest::Client,
    url: &str,
    mut current: Url,
    options: &FetchOptions,
) -> Result<Fetched> {
    let mut visited = vec![current.clone()];
    loop {
        check_address(url, &current, &options.addresses).await?;
        let mut response = client
            .get(current.clone())
            .header(
                ACCEPT,
                "text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9,*/*;q=0.1",
            )
            .send()
            .await
            .map_err(|error| request_error(url, &error, options))?;
        let status = response.status();
        if status.is_redirection()
            && let Some(location) = response.headers().get(LOCATION)
        {
            let target = location
                .to_str()
                .ok()
                .and_then(|location| current.join(location.trim()).ok())
                .ok_or_else(|| Error::Fetch {
                    url: url.to_string(),
                    message: format!("{current} redirects to an unreadable location"),
                })?;
            if !matches!(target.scheme(), "http" | "https") {
                return Err(Error::UnsupportedScheme {
                    url: target.to_string(),
                    scheme: target.scheme().to_string(),
                });
            }
            if visited.contains(&target) {
                return Err(Error::RedirectLoop {
                    url: url.to_string(),
                    target: current.to_string(),
                });
            }
            if visited.len() > options.max_redirects {
                return Err(Error::TooManyRedirects {
                    url: url.to_string(),
                    limit: options.max_redirects,
                });
            }
            visited.push(target.clone());
            current = target;
            continue;
        }
        if !status.is_success() {
            return Err(Error::HttpStatus {
                url: url.to_string(),
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or_default().to_string(),
            });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        if let Some(content_type) = &content_type
            && !is_narratable(content_type)
        {
            return Err(Error::UnsupportedContent {
                url: url.to_string(),
                content_type: content_type.clone(),
            });
        }
        let too_large = || Error::TooLarge {
            input: url.to_string(),
            limit: options.max_bytes,
        };
        if response
            .content_length()
            .is_some_and(|length| length > options.max_bytes)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| request_error(url, &error, options))?
        {
            if (body.len() + chunk.len()) as u64 > options.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(Fetched {
            url: url.to_string(),
            final_url: current.to_string(),
            content_type,
            body,
        });
    }
}

/// Refuses `target` (the URL asked for, or a redirect) when it resolves only to addresses
/// the policy does not allow.
async fn check_address(url: &str, target: &Url, policy: &AddressPolicy) -> Result<()> {
    if *policy == AddressPolicy::Any {
        return Ok(());
    }
    let host = target.host_str().unwrap_or_default();
    let port = target.port_or_known_default().unwrap_or(80);
    let addresses = guard::resolve(host, port)
        .await
        .map_err(|error| Error::Fetch {
            url: url.to_string(),
            message: format!("cannot resolve {host}: {error}"),
        })?;
    match guard::refused(policy, &addresses) {
        Some(address) => Err(Error::AddressRefused {
            url: url.to_string(),
            target: target.to_string(),
            address,
        }),
        None => Ok(()),
    }
}

fn request_error(url: &str, error: &reqwest::Error, options: &FetchOptions) -> Error {
    if error.is_timeout() {
        return Error::FetchTimeout {
            url: url.to_string(),
            after: if error.is_connect() {
                options.connect_timeout
            } else {
                options.timeout
            },
        };
    }
    let what = if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "the page broke off"
    } else {
        "request failed"
    };
    Error::Fetch {
        url: url.to_string(),
        message: format!("{what}: {}", describe(error)),
    }
}

/// The innermost cause under reqwest's own message (which repeats the URL, then layers of
/// "client error (Connect)"): "Connection refused (os error 111)", "dns error: ...".
fn describe(error: &reqwest::Error) -> String {
    let mut deepest: &dyn std::error::Error = error;
    let mut parent: Option<&dyn std::error::Error> = None;
    // Bounded: error chains are short, but nothing guarantees they end.
    for _ in 0..32 {
        match deepest.source() {
            Some(cause) => {
                parent = Some(deepest);
                deepest = cause;
            }
            None => break,
        }
    }
    let message = deepest.to_string();
    // An io::Error under hyper's "tcp connect error" says little alone ("timed out").
    match parent {
        Some(parent) if message.len() < 24 && !std::ptr::addr_eq(parent, error) => {
            format!("{parent}: {message}")
        }
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_are_fetched() {
        assert!(check_url("https://example.com/a").is_ok());
        assert!(check_url("HTTP://example.com/a").is_ok());
        for (url, scheme) in [
            ("file:///etc/passwd", "file"),
            ("ftp://example.com/a", "ftp"),
        ] {
            match check_url(url) {
                Err(Error::UnsupportedScheme {
                    url: named,
                    scheme: got,
                }) => {
                    assert_eq!((named.as_str(), got.as_str()), (url, scheme));
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        assert!(matches!(check_url("http://"), Err(Error::BadUrl { .. })));
    }

    #[test]
    fn content_types() {
        assert!(is_narratable("text/html; charset=ISO-8859-1"));
        assert!(is_narratable("Application/XHTML+XML"));
        assert!(is_narratable("text/plain"));
        assert!(!is_narratable("image/png"));
        assert!(!is_narratable("application/octet-stream"));
        assert_eq!(
            charset_parameter("text/html; Charset=\"iso-8859-1\""),
            Some("iso-8859-1")
        );
        assert_eq!(charset_parameter("text/html"), None);
        assert_eq!(charset_parameter("text/html; charset="), None);
    }
}
