//! Webhooks: a narration's end announced by a POST to the URL its request gave, signed with
//! HMAC-SHA256 under the operator's secret so the receiver can tell it came from aloud and
//! was not replayed. Header `Aloud-Signature: t=UNIX_SECONDS,v1=HEX`, where HEX is the
//! HMAC-SHA256 of `UNIX_SECONDS.BODY`. The target's address is checked as URL inputs are
//! (after DNS resolution; no redirects followed) and the checked address is the one used.

use super::JobError;
use crate::ingest::guard::AddressPolicy;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::net::SocketAddr;
use std::time::Duration;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Aloud-Signature";

/// The operator's webhook secret. Never printed: `Debug` shows `***`.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

impl WebhookSecret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> WebhookSecret {
        WebhookSecret(bytes.into())
    }

    /// Reads a secret file (surrounding whitespace dropped).
    pub fn from_file(path: &std::path::Path) -> Result<WebhookSecret, JobError> {
        let text = std::fs::read_to_string(path).map_err(|source| JobError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let secret = text.trim();
        if secret.is_empty() {
            return Err(JobError::Config {
                message: format!("{}: the webhook secret file is empty", path.display()),
            });
        }
        Ok(WebhookSecret(secret.as_bytes().to_vec()))
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `Aloud-Signature` value for `body` sent at `timestamp`.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let digest = self.mac(timestamp, body).finalize().into_bytes();
        format!("t={timestamp},v1={}", hex::encode(digest))
    }

    /// Whether `header` is a valid signature of `body` made within `tolerance` of `now`
    /// (compared in constant time).
    pub fn verify(&self, header: &str, body: &[u8], now: i64, tolerance: Duration) -> bool {
        let mut timestamp = None;
        let mut signature = None;
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
                Some(("v1", value)) => signature = hex::decode(value).ok(),
                _ => {}
            }
        }
        let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
            return false;
        };
        if now.abs_diff(timestamp) > tolerance.as_secs() {
            return false;
        }
        self.mac(timestamp, body).verify_slice(&signature).is_ok()
    }
}

/// POSTs `payload` to `url`, signed when there is a secret. One attempt per call; a failure
/// is reported, not retried here.
pub async fn deliver(
    url: &str,
    payload: &serde_json::Value,
    secret: Option<&WebhookSecret>,
    policy: &AddressPolicy,
) -> Result<(), JobError> {
    let fail = |message: String| JobError::Webhook {
        url: url.to_string(),
        message,
    };
    let parsed = crate::ingest::fetch::check_url(url).map_err(|e| fail(e.to_string()))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| fail("the URL has no host".into()))?
        .to_string();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| fail("the URL has no port".into()))?;
    let address = checked_address(&host, port, policy)
        .await
        .map_err(|e| fail(e.to_string()))?;
    crate::tls::install_crypto_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .resolve(host.trim_start_matches('[').trim_end_matches(']'), address)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let body = serde_json::to_vec(payload).map_err(|e| fail(e.to_string()))?;
    let mut request = client
        .post(parsed)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(secret) = secret {
        request = request.header(
            SIGNATURE_HEADER,
            secret.sign(super::records::now_ms() / 1000, &body),
        );
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    match response.status().is_success() {
        true => Ok(()),
        false => Err(fail(format!(
            "the receiver answered HTTP {}",
            response.status()
        ))),
    }
}

/// The first address of `host` the policy allows; an error naming the refused one otherwise.
pub async fn checked_address(
    host: &str,
    port: u16,
    policy: &AddressPolicy,
) -> Result<SocketAddr, JobError> {
    let addresses = crate::ingest::guard::resolve_host(host, port)
        .await
        .map_err(|source| JobError::Config {
            message: format!("cannot resolve {host}: {source}"),
        })?;
    match addresses.iter().find(|a| policy.allows(**a)) {
        Some(address) => Ok(SocketAddr::new(*address, port)),
        None => Err(JobError::AddressRefused {
            host: host.to_string(),
            address: addresses.first().map(|a| a.to_string()).unwrap_or_default(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_body_secret_and_time() {
        let secret = WebhookSecret::new("s3cret");
        let body = br#"{"id":"n1","status":"done"}"#;
        let header = secret.sign(1_700_000_000, body);
        let five_minutes = Duration::from_secs(300);
        assert!(secret.verify(&header, body, 1_700_000_010, five_minutes));
        assert!(!secret.verify(&header, b"{}", 1_700_000_010, five_minutes));
        assert!(!WebhookSecret::new("other").verify(&header, body, 1_700_000_010, five_minutes));
        assert!(!secret.verify(&header, body, 1_700_001_000, five_minutes));
        assert!(!secret.verify("t=1,v1=zz", body, 1, five_minutes));
        assert_eq!(format!("{secret:?}"), "WebhookSecret(***)");
    }
}
