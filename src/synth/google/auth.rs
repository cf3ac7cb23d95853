//! Google's credentials and the access tokens they bring: an API key, an OAuth access token,
//! or a credential file (a service account's key, traded as an RS256-signed JWT, or an
//! authorized user's refresh token) exchanged at its `token_uri`, kept until a minute before it
//! expires. None of them reaches a message, a log or `Debug` output.

use super::NAME;
use crate::error::Result;
use crate::synth::config::{engine_error, env_value, process_env};
use crate::synth::http::{self, ApiKey, Connection, Failure, HttpSettings};
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// A cached token is renewed this long before Google says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Where the credentials came from, for messages.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Source {
    ApiKey,
    AccessToken,
    File { kind: &'static str, path: PathBuf },
    None,
}

impl Source {
    pub(super) fn describe(&self) -> String {
        match self {
            Source::ApiKey => "GOOGLE_API_KEY".to_string(),
            Source::AccessToken => "GOOGLE_OAUTH_ACCESS_TOKEN".to_string(),
            Source::File { kind, path } => format!("the {kind} credentials in {}", path.display()),
            Source::None => "the request without credentials".to_string(),
        }
    }
}

/// A credential file exchanged for access tokens.
pub(super) enum Grant {
    ServiceAccount {
        email: String,
        key_id: Option<String>,
        key: Box<ring::signature::RsaKeyPair>,
    },
    AuthorizedUser {
        client_id: String,
        client_secret: Secret,
        refresh_token: Secret,
    },
}

/// A secret sent in a form body: kept out of `Debug` output.
pub(super) struct Secret(pub(super) String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Grant::ServiceAccount { email, .. } => {
                write!(f, "ServiceAccount({email}, key <redacted>)")
            }
            Grant::AuthorizedUser { client_id, .. } => {
                write!(f, "AuthorizedUser({client_id}, secrets <redacted>)")
            }
        }
    }
}

#[derive(Debug)]
pub(super) enum Credentials {
    ApiKey(ApiKey),
    Token(ApiKey),
    Exchange(Box<Exchange>),
    None,
}

/// A credential file's grant, where to trade it, and the token it last brought.
#[derive(Debug)]
pub(super) struct Exchange {
    pub(super) grant: Grant,
    pub(super) token_uri: reqwest::Url,
    pub(super) client: reqwest::Client,
    pub(super) cached: tokio::sync::Mutex<Option<(ApiKey, Instant)>>,
}

/// gcloud's Application Default Credentials file, where `gcloud auth application-default
/// login` writes it.
fn gcloud_adc_path() -> Option<PathBuf> {
    let dir = match env_value(&process_env, "CLOUDSDK_CONFIG") {
        Some(dir) => PathBuf::from(dir),
        None if cfg!(windows) => PathBuf::from(env_value(&process_env, "APPDATA")?).join("gcloud"),
        None => dirs::home_dir()?.join(".config").join("gcloud"),
    };
    Some(dir.join("application_default_credentials.json"))
}

/// The PKCS#8 DER inside a `-----BEGIN PRIVATE KEY-----` PEM block.
fn pem_pkcs8(pem: &str) -> Option<Vec<u8>> {
    let begin = "-----BEGIN PRIVATE KEY-----";
    let start = pem.find(begin)? + begin.len();
    let end = start + pem[start..].find("-----END PRIVATE KEY-----")?;
    let b64: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Reads a credential file: a service account's key or an authorized user's refresh token.
fn read_credential_file(
    path: &Path,
    settings: &HttpSettings,
) -> Result<(Credentials, Source, Option<String>)> {
    let bad = |what: String| engine_error(NAME, format!("{}: {what}", path.display()));
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read the credentials file: {e}")))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|_| bad("the credentials file is not JSON".to_string()))?;
    let field = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    };
    let kind = field("type").unwrap_or_default();
    let token_uri = field("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string());
    let token_uri = http::parse_url(NAME, &token_uri, "the credentials file's token_uri")?;
    let quota_project = field("quota_project_id");
    let (grant, kind) = match kind.as_str() {
        "service_account" => {
            let email = field("client_email")
                .ok_or_else(|| bad("the service account has no client_email".to_string()))?;
            let der = field("private_key")
                .and_then(|pem| pem_pkcs8(&pem))
                .ok_or_else(|| {
                    bad("the service account's private_key is not a PKCS#8 PEM key".to_string())
                })?;
            let key = ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|e| {
                bad(format!(
                    "the service account's private_key is not a usable RSA key ({e})"
                ))
            })?;
            (
                Grant::ServiceAccount {
                    email,
                    key_id: field("private_key_id"),
                    key: Box::new(key),
                },
                "service account",
            )
        }
        "authorized_user" => {
            let missing =
                |name: &str| bad(format!("the authorized_user credentials have no {name}"));
            (
                Grant::AuthorizedUser {
                    client_id: field("client_id").ok_or_else(|| missing("client_id"))?,
                    client_secret: Secret(
                        field("client_secret").ok_or_else(|| missing("client_secret"))?,
                    ),
                    refresh_token: Secret(
                        field("refresh_token").ok_or_else(|| missing("refresh_token"))?,
                    ),
                },
                "authorized user",
            )
        }
        other => {
            return Err(bad(format!(
                "credentials of type '{other}' are not supported (service_account or authorized_user are)"
            )));
        }
    };
    Ok((
        Credentials::Exchange(Box::new(Exchange {
            grant,
            client: http::client(NAME, settings, &token_uri)?,
            token_uri,
            cached: tokio::sync::Mutex::new(None),
        })),
        Source::File {
            kind,
            path: path.to_path_buf(),
        },
        quota_project,
    ))
}

/// The first credentials found, in the documented order.
fn find_credentials(settings: &HttpSettings) -> Result<(Credentials, Source, Option<String>)> {
    if let Some(key) = env_value(&process_env, "GOOGLE_API_KEY") {
        return Ok((Credentials::ApiKey(ApiKey::new(key)), Source::ApiKey, None));
    }
    if let Some(token) = env_value(&process_env, "GOOGLE_OAUTH_ACCESS_TOKEN") {
        return Ok((
            Credentials::Token(ApiKey::new(token)),
            Source::AccessToken,
            None,
        ));
    }
    if let Some(path) = env_value(&process_env, "GOOGLE_APPLICATION_CREDENTIALS") {
        return read_credential_file(Path::new(&path), settings);
    }
    if let Some(path) = gcloud_adc_path().filter(|p| p.is_file()) {
        return read_credential_file(&path, settings);
    }
    Ok((Credentials::None, Source::None, None))
}

/// The RS256-signed JWT a service account trades for an access token (RFC 7523).
fn service_account_jwt(
    email: &str,
    key_id: Option<&str>,
    key: &ring::signature::RsaKeyPair,
    audience: &str,
    now: u64,
) -> Result<String> {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": email,
        "scope": SCOPE,
        "aud": audience,
        "iat": now,
        "exp": now + 3600,
    });
    let signing_input = format!("{}.{}", b64(&header), b64(&claims));
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| {
        engine_error(
            NAME,
            "cannot sign the service account's token request".to_string(),
        )
    })?;
    Ok(format!(
        "{signing_input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// The credentials found, where they came from, and how many token exchanges they took.
pub(super) struct Auth {
    pub(super) credentials: Credentials,
    pub(super) source: Source,
    token_requests: AtomicUsize,
}

impl Auth {
    /// The first credentials found in the documented order, and the quota project a credential
    /// file names.
    pub(super) fn find(settings: &HttpSettings) -> Result<(Auth, Option<String>)> {
        let (credentials, source, project) = find_credentials(settings)?;
        let auth = Auth {
            credentials,
            source,
            token_requests: AtomicUsize::new(0),
        };
        Ok((auth, project))
    }

    /// Token exchanges made so far, retries included.
    pub(super) fn token_requests(&self) -> usize {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// The header that authenticates a request, fetching or renewing a token when needed.
    pub(super) async fn header(
        &self,
        connection: &Connection,
    ) -> Result<Option<(&'static str, reqwest::header::HeaderValue)>> {
        let invalid = || {
            engine_error(
                NAME,
                format!("{} cannot be sent in a header", self.source.describe()),
            )
        };
        match &self.credentials {
            Credentials::None => Ok(None),
            Credentials::ApiKey(key) => Ok(Some((
                "x-goog-api-key",
                key.header_value().ok_or_else(invalid)?,
            ))),
            Credentials::Token(token) => {
                Ok(Some(("authorization", token.bearer().ok_or_else(invalid)?)))
            }
            Credentials::Exchange(exchange) => {
                let Exchange {
                    grant,
                    token_uri,
                    client,
                    cached,
                } = exchange.as_ref();
                let mut cached = cached.lock().await;
                if let Some((token, expiry)) = cached.as_ref()
                    && Instant::now() + TOKEN_MARGIN < *expiry
                {
                    return Ok(Some(("authorization", token.bearer().ok_or_else(invalid)?)));
                }
                let (token, lifetime) = self.exchange(connection, grant, token_uri, client).await?;
                let value = token.bearer().ok_or_else(invalid)?;
                *cached = Some((token, Instant::now() + lifetime));
                Ok(Some(("authorization", value)))
            }
        }
    }

    /// Trades the credential file's grant for an access token at `token_uri`.
    async fn exchange(
        &self,
        connection: &Connection,
        grant: &Grant,
        token_uri: &reqwest::Url,
        client: &reqwest::Client,
    ) -> Result<(ApiKey, Duration)> {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let body = match grant {
            Grant::ServiceAccount { email, key_id, key } => {
                let jwt =
                    service_account_jwt(email, key_id.as_deref(), key, token_uri.as_str(), now)?;
                form_body(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &jwt),
                ])
            }
            Grant::AuthorizedUser {
                client_id,
                client_secret,
                refresh_token,
            } => form_body(&[
                ("grant_type", "refresh_token"),
                ("client_id", client_id),
                ("client_secret", &client_secret.0),
                ("refresh_token", &refresh_token.0),
            ]),
        };
        let source = self.source.describe();
        http::send_with_retry_as(
            NAME,
            connection.settings(),
            &self.token_requests,
            || {
                client
                    .post(token_uri.clone())
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body.clone())
            },
            |answer| {
                let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
                if !answer.status.is_success() {
                    let code = answer.status.as_u16();
                    if code == 429 || code >= 500 {
                        return Err(answer.failure(None));
                    }
                    // OAuth errors: {"error": "invalid_grant", "error_description": ...}.
                    let said = json
                        .as_ref()
                        .map(|j| {
                            [j.get("error"), j.get("error_description")]
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(": ")
                        })
                        .map(|s| http::said(&http::brief(&s)))
                        .unwrap_or_default();
                    return Err(Failure::Fatal {
                        message: format!(
                            "{source} are refused by the token endpoint (HTTP {code}){said}"
                        ),
                    });
                }
                let token = json
                    .as_ref()
                    .and_then(|j| j.get("access_token"))
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| Failure::Fatal {
                        message: "the token endpoint answered without an access_token".to_string(),
                    })?;
                let lifetime = json
                    .as_ref()
                    .and_then(|j| j.get("expires_in"))
                    .and_then(Value::as_u64)
                    .unwrap_or(3600);
                Ok((
                    ApiKey::new(token.to_string()),
                    Duration::from_secs(lifetime),
                ))
            },
        )
        .await
    }
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn form_body(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}
