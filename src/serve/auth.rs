//! Who may call the API: bearer tokens from a token file (compared by hash, in constant
//! time; a caller is known only by a hash of its token), the rule that a server without
//! tokens listens on loopback only, and a per-caller rate limit (token bucket).

use crate::jobs::JobError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

/// The caller id of requests without a token (a loopback-only server).
pub const ANONYMOUS: &str = "anonymous";

/// The tokens the server accepts, kept as SHA-256 digests. `Debug` shows only their count.
#[derive(Clone, Default)]
pub struct Tokens {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.digests.len())
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    /// One token per line; blank lines and `#` comments are skipped.
    pub fn parse(text: &str) -> Tokens {
        Tokens {
            digests: text
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(digest)
                .collect(),
        }
    }

    pub fn from_file(path: &Path) -> Result<Tokens, JobError> {
        let text = std::fs::read_to_string(path).map_err(|source| JobError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let tokens = Tokens::parse(&text);
        if tokens.is_empty() {
            return Err(JobError::Config {
                message: format!("{}: the token file holds no token", path.display()),
            });
        }
        Ok(tokens)
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// The caller id for an `Authorization` header value: `Some` when the server has no
    /// tokens (anyone on loopback) or the bearer token is one of them.
    pub fn caller(&self, authorization: Option<&str>) -> Option<String> {
        if self.is_empty() {
            return Some(ANONYMOUS.into());
        }
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        let given = digest(token);
        // Every digest is compared whole, whichever matches.
        let matched = self.digests.iter().fold(false, |found, known| {
            found | constant_time_eq(known, &given)
        });
        matched.then(|| hex::encode(&given[..8]))
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A server without tokens may listen only on loopback: anyone who can reach it can use it.
pub fn check_listen(listen: SocketAddr, tokens: &Tokens) -> Result<(), JobError> {
    if tokens.is_empty() && !listen.ip().is_loopback() {
        return Err(JobError::Config {
            message: format!(
                "refusing to listen on {listen} without tokens: anyone who can reach it could narrate; \
                 give --token-file FILE, or listen on loopback (127.0.0.1)"
            ),
        });
    }
    Ok(())
}

/// Requests per minute per caller, in a token bucket that holds a minute's worth.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `caller`'s bucket; `Err(seconds)` to wait when it is empty.
    pub fn take(&self, caller: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (level, last) = buckets
            .entry(caller.to_string())
            .or_insert((self.per_minute, now));
        let refill = now.duration_since(*last).as_secs_f64() * self.per_minute / 60.0;
        *level = (*level + refill).min(self.per_minute);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *level) * 60.0 / self.per_minute;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_and_callers_named_by_hash() {
        let tokens = Tokens::parse("# ops\nalpha-token\n\nbeta-token\n");
        let alpha = tokens.caller(Some("Bearer alpha-token")).expect("accepted");
        let beta = tokens.caller(Some("Bearer beta-token")).expect("accepted");
        assert_ne!(alpha, beta);
        assert!(!alpha.contains("alpha"));
        assert!(tokens.caller(Some("Bearer gamma")).is_none());
        assert!(tokens.caller(Some("alpha-token")).is_none());
        assert!(tokens.caller(None).is_none());
        assert_eq!(Tokens::default().caller(None).as_deref(), Some(ANONYMOUS));
        assert!(!format!("{tokens:?}").contains("alpha"));
    }

    #[test]
    fn no_tokens_means_loopback_only() {
        let none = Tokens::default();
        assert!(check_listen("127.0.0.1:8080".parse().expect("addr"), &none).is_ok());
        assert!(check_listen("[::1]:8080".parse().expect("addr"), &none).is_ok());
        assert!(check_listen("0.0.0.0:8080".parse().expect("addr"), &none).is_err());
        let some = Tokens::parse("t");
        assert!(check_listen("0.0.0.0:8080".parse().expect("addr"), &some).is_ok());
    }

    #[test]
    fn a_bucket_empties_and_callers_are_apart() {
        let limiter = RateLimiter::new(3);
        for _ in 0..3 {
            assert!(limiter.take("a").is_ok());
        }
        assert!(limiter.take("a").is_err());
        assert!(limiter.take("b").is_ok());
    }
}
