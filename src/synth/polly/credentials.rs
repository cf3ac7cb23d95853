//! The part of the AWS credential chain aloud reads: environment variables
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), then the static
//! keys of the profile `AWS_PROFILE` (else `default`) in the shared credentials file
//! (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`) and config file
//! (`AWS_CONFIG_FILE`, else `~/.aws/config`). Profiles that get their keys another way
//! (SSO, assumed roles, `credential_process`, web identity) and the ECS and EC2 instance
//! metadata endpoints are not read; the error says so and how to export keys instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// AWS keys and where they came from. Debug shows the source only.
#[derive(Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// Where they were found, for messages ("environment variables AWS_ACCESS_KEY_ID ...").
    pub source: String,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Everything the chain looks at, so tests need not touch the process environment.
pub struct Sources<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub home: Option<PathBuf>,
}

impl Sources<'_> {
    fn var(&self, name: &str) -> Option<String> {
        (self.env)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn profile_name(&self) -> String {
        self.var("AWS_PROFILE").unwrap_or_else(|| "default".into())
    }

    fn file(&self, var: &str, default: &str) -> Option<PathBuf> {
        self.var(var)
            .map(PathBuf::from)
            .or_else(|| self.home.as_ref().map(|h| h.join(".aws").join(default)))
    }

    pub fn credentials_file(&self) -> Option<PathBuf> {
        self.file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
    }

    pub fn config_file(&self) -> Option<PathBuf> {
        self.file("AWS_CONFIG_FILE", "config")
    }
}

pub fn process_sources() -> Sources<'static> {
    Sources {
        env: &crate::synth::config::process_env,
        home: dirs::home_dir(),
    }
}

/// The sections of an AWS shared config or credentials file: `[name]` (in the config file
/// `[profile name]`, except `[default]`) with `key = value` lines; `#` and `;` start
/// comments; indented lines continue a nested setting (skipped: no static key is nested).
pub fn parse_ini(text: &str, config_file: bool) -> HashMap<String, HashMap<String, String>> {
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue; // a sub-property (s3 = ...\n  max_concurrent_requests = ...)
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let Some(end) = header.find(']') else {
                current = None;
                continue;
            };
            let name = header[..end].trim();
            current = if config_file {
                match name.strip_prefix("profile") {
                    Some(rest) if rest.starts_with([' ', '\t']) => Some(rest.trim().to_string()),
                    _ if name == "default" => Some(name.to_string()),
                    _ => None, // sso-session, services, ...: not profiles
                }
            } else {
                Some(name.to_string())
            };
            if let Some(name) = &current {
                sections.entry(name.clone()).or_default();
            }
            continue;
        }
        let (Some(section), Some((key, value))) = (&current, line.split_once('=')) else {
            continue;
        };
        // A value's own comment starts with whitespace then # or ;.
        let mut value = value.trim();
        for marker in [" #", "\t#", " ;", "\t;"] {
            if let Some(at) = value.find(marker) {
                value = value[..at].trim_end();
            }
        }
        if let Some(entries) = sections.get_mut(section) {
            entries.insert(key.trim().to_ascii_lowercase(), value.to_string());
        }
    }
    sections
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The profile's settings: the credentials file's over the config file's.
fn profile_settings(sources: &Sources) -> (HashMap<String, String>, Vec<PathBuf>) {
    let name = sources.profile_name();
    let mut merged = HashMap::new();
    let mut files = Vec::new();
    for (path, config) in [
        (sources.config_file(), true),
        (sources.credentials_file(), false),
    ] {
        let Some(path) = path else { continue };
        let Some(text) = read(&path) else { continue };
        if let Some(section) = parse_ini(&text, config).remove(&name) {
            merged.extend(section);
            files.push(path);
        }
    }
    (merged, files)
}

/// The region of the selected profile in the shared config file, if any.
pub fn profile_region(sources: &Sources) -> Option<String> {
    profile_settings(sources)
        .0
        .get("region")
        .filter(|r| !r.is_empty())
        .cloned()
}

/// Resolves credentials; the error says what was looked at and what to do.
pub fn resolve(sources: &Sources) -> Result<AwsCredentials, String> {
    match (
        sources.var("AWS_ACCESS_KEY_ID"),
        sources.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => {
            return Ok(AwsCredentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: sources.var("AWS_SESSION_TOKEN"),
                source: "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)".to_string(),
            });
        }
        (Some(_), None) => {
            return Err(
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both".to_string(),
            );
        }
        (None, Some(_)) => {
            return Err(
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both".to_string(),
            );
        }
        (None, None) => {}
    }
    let name = sources.profile_name();
    let (settings, files) = profile_settings(sources);
    let get = |key: &str| settings.get(key).filter(|v| !v.is_empty()).cloned();
    if let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) {
        let files: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        return Ok(AwsCredentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: get("aws_session_token"),
            source: format!("AWS profile '{name}' ({})", files.join(", ")),
        });
    }
    let unsupported = [
        ("sso_session", "SSO"),
        ("sso_start_url", "SSO"),
        ("role_arn", "an assumed role"),
        ("credential_process", "credential_process"),
        ("web_identity_token_file", "web identity"),
        ("login_session", "console login"),
    ]
    .iter()
    .find(|(key, _)| settings.contains_key(*key));
    let export = format!(
        "export them with `aws configure export-credentials --profile {name} --format env`"
    );
    if let Some((_, how)) = unsupported {
        return Err(format!(
            "AWS profile '{name}' gets its credentials through {how}, which aloud does not read; {export}"
        ));
    }
    let looked = [sources.credentials_file(), sources.config_file()]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    Err(format!(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put keys for profile '{name}' (AWS_PROFILE) in {looked}; for SSO or roles, {export} (instance and container metadata credentials are not read)"
    ))
}
