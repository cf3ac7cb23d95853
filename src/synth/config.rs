//! What a backend reads from its voice profile and the environment, and the two errors it
//! reports: the profile's fault, or the engine's. Shared so every backend words them alike.

use crate::error::{Error, Result};
use crate::voice::VoiceProfile;

/// The profile asks for something the backend cannot do.
pub fn profile_error(profile: &VoiceProfile, message: impl Into<String>) -> Error {
    Error::VoiceProfile {
        path: profile.name.clone().into(),
        message: message.into(),
    }
}

/// The engine (program, server, service) failed or cannot be reached.
pub fn engine_error(backend: &str, message: impl Into<String>) -> Error {
    Error::Engine {
        backend: backend.to_string(),
        message: message.into(),
    }
}

/// `options.{key}` holds something other than `expected`.
pub fn option_error(profile: &VoiceProfile, key: &str, expected: &str) -> Error {
    profile_error(profile, format!("options.{key} must be {expected}"))
}

/// A string option from the profile, if set.
pub fn string_option(profile: &VoiceProfile, key: &str) -> Result<Option<String>> {
    match profile.options.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Some(_) => Err(option_error(profile, key, "a non-empty string")),
    }
}

/// `value` for `options.{key}`, if it is one of `allowed`; else the profile's error, listing them.
pub fn one_of(
    profile: &VoiceProfile,
    key: &str,
    value: String,
    allowed: &[&str],
) -> Result<String> {
    if allowed.contains(&value.as_str()) {
        return Ok(value);
    }
    Err(profile_error(
        profile,
        format!(
            "options.{key} '{value}' is not one of {}",
            allowed.join(", ")
        ),
    ))
}

/// `options.{key}`, else `default`, if it is one of `allowed` ([`one_of`]).
pub fn choice(
    profile: &VoiceProfile,
    key: &str,
    default: &str,
    allowed: &[&str],
) -> Result<String> {
    let value = string_option(profile, key)?.unwrap_or_else(|| default.to_string());
    one_of(profile, key, value, allowed)
}

/// The profile's `voice`, trimmed, if it names one.
pub fn voice(profile: &VoiceProfile) -> Option<&str> {
    profile
        .voice
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `options.model`, else the profile's `model`, else `default`; trimmed.
pub fn model(profile: &VoiceProfile, default: &str) -> Result<String> {
    Ok(match string_option(profile, "model")? {
        Some(model) => model,
        None if !profile.model.trim().is_empty() => profile.model.trim().to_string(),
        None => default.to_string(),
    })
}

/// This process's environment, for backends that are not handed one (tests hand their own).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `name` from `env`, trimmed; blank counts as unset.
pub fn env_value(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Where a setting came from, as messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The profile's `options.{key}`.
    Option(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// What the backend falls back on, in its own words (`the default URL`).
    Default(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Option(key) => write!(f, "the profile's options.{key}"),
            Origin::Env(var) => f.write_str(var),
            Origin::Default(what) => f.write_str(what),
        }
    }
}

/// A setting's value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub origin: Origin,
}

impl Setting {
    /// A backend's own fallback value.
    pub fn default(value: impl Into<String>, origin: &'static str) -> Self {
        Setting {
            value: value.into(),
            origin: Origin::Default(origin),
        }
    }
}

/// The profile's `options.{key}`, else the first of `vars` that `env` has set (blank counts as
/// unset); `None` leaves the fallback to the backend. Values are trimmed.
pub fn setting(
    profile: &VoiceProfile,
    key: &'static str,
    vars: &[&'static str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Setting>> {
    if let Some(value) = string_option(profile, key)? {
        return Ok(Some(Setting {
            value,
            origin: Origin::Option(key),
        }));
    }
    Ok(vars.iter().find_map(|var| {
        env_value(env, var).map(|value| Setting {
            value,
            origin: Origin::Env(var),
        })
    }))
}

/// A profile from TOML text, for the backends' tests.
#[cfg(test)]
pub(crate) fn test_profile(toml: &str) -> VoiceProfile {
    VoiceProfile::from_toml(toml, std::path::Path::new("test.toml")).expect("a test profile parses")
}

/// A test profile of these fields, then `rest` (more fields, or an `[options]` table).
#[cfg(test)]
pub(crate) fn test_profile_of(
    name: &str,
    engine: &str,
    language: &str,
    voice: Option<&str>,
    rest: &str,
) -> VoiceProfile {
    let voice = voice.map(|v| format!("voice='{v}'\n")).unwrap_or_default();
    test_profile(&format!(
        "name='{name}'\nengine='{engine}'\nlanguage='{language}'\n{voice}{rest}"
    ))
}

/// Asserts that `settings` refuses each of the `bad` profile texts.
#[cfg(test)]
#[track_caller]
pub(crate) fn assert_each_refused<T>(bad: &[&str], settings: impl Fn(&str) -> Result<T>) {
    for text in bad {
        assert!(settings(text).is_err(), "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile whose only options are `options`.
    fn profile(options: &str) -> VoiceProfile {
        test_profile_of("p", "openai", "en", None, &format!("[options]\n{options}"))
    }

    #[test]
    fn the_option_wins_then_the_first_variable_set() {
        let env = |name: &str| match name {
            "A" => Some("  ".to_string()),
            "B" => Some(" http://b ".to_string()),
            _ => None,
        };
        let from_option = setting(&profile("url=' http://o '"), "url", &["A", "B"], &env)
            .unwrap()
            .unwrap();
        assert_eq!(from_option.value, "http://o");
        assert_eq!(from_option.origin.to_string(), "the profile's options.url");
        let from_env = setting(&profile(""), "url", &["A", "B"], &env)
            .unwrap()
            .unwrap();
        assert_eq!(
            (from_env.value.as_str(), from_env.origin),
            ("http://b", Origin::Env("B"))
        );
        assert_eq!(setting(&profile(""), "url", &["A"], &env).unwrap(), None);
        let err = setting(&profile("url=3"), "url", &[], &env)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("options.url must be a non-empty string"),
            "{err}"
        );
    }
}
