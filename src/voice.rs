//! Voice profiles: one small TOML file per voice naming its engine, model, rate, noise and pauses.

use crate::error::{Error, Result};
use crate::lexicon::Lexicon;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The profile used when none is named.
pub const DEFAULT_VOICE: &str = "hibari";

/// `BACKEND:default` asks a backend for its own default voice.
const DEFAULT_VOICE_NAME: &str = "default";

/// The model of `piper:default`: the joe profile's (Piper's voice among the built-in ones).
const DEFAULT_PIPER_MODEL: &str = "en_US-joe-medium";

/// Profiles shipped inside the binary, so an installed `aloud` works from any directory.
const BUILTIN_PROFILES: &[(&str, &str)] = &[
    ("joe", include_str!("../voices/joe.toml")),
    (
        "joe-deterministic",
        include_str!("../voices/joe-deterministic.toml"),
    ),
    ("hibari", include_str!("../voices/hibari.toml")),
    (
        "kokoro-af_heart",
        include_str!("../voices/kokoro-af_heart.toml"),
    ),
    (
        "kokoro-bf_emma",
        include_str!("../voices/kokoro-bf_emma.toml"),
    ),
    (
        "kokoro-am_michael",
        include_str!("../voices/kokoro-am_michael.toml"),
    ),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceProfile {
    pub name: String,
    /// Which registered backend speaks this voice (`piper` for the embedded engine).
    pub engine: String,
    /// BCP 47 language tag of the voice.
    pub language: String,
    /// The engine's model: for Piper a built-in voice name (provisioned by `aloud setup`) or a
    /// path to a `.onnx`, relative to the profile file; for services, their model name.
    #[serde(default)]
    pub model: String,
    /// The backend's own name for the voice (`alloy`, `Joanna`, `en-US-JennyNeural`, ...).
    #[serde(default)]
    pub voice: Option<String>,
    /// Settings only one backend understands (endpoint, output format, ...).
    #[serde(default)]
    pub options: toml::Table,
    /// The model's `.onnx.json`; defaults to the model path plus `.json`.
    #[serde(default)]
    pub config: Option<String>,
    /// Speed multiplier: 1.0 is the voice's natural pace.
    #[serde(default = "default_speaking_rate")]
    pub speaking_rate: f32,
    /// Piper sampling noise; `None` keeps the voice's own default.
    #[serde(default)]
    pub noise_scale: Option<f32>,
    /// Piper phoneme-duration noise; `None` keeps the voice's own default.
    #[serde(default)]
    pub noise_w: Option<f32>,
    /// Speaker id for multi-speaker models.
    #[serde(default)]
    pub speaker: Option<i64>,
    #[serde(default)]
    pub pauses: PausePolicy,
    /// A pronunciation lexicon for this voice (TOML, relative to the profile).
    #[serde(default)]
    pub lexicon: Option<String>,
    /// What the service charges, so `aloud plan` can estimate a narration's cost before any
    /// request is made. Local engines have none: they cost nothing per character.
    #[serde(default)]
    pub pricing: Option<Pricing>,
    /// Directory the profile was read from, for resolving relative model paths.
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// A cloud voice's list price. Prices change, so the profile says when and where it was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    pub per_million_characters: f64,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// When the rate was read from `source` (a date).
    pub as_of: String,
    /// The vendor's pricing page.
    pub source: String,
}

/// Silence inserted between clips, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PausePolicy {
    /// Between the pieces of a sentence too long for the backend, cut at a clause.
    pub clause_ms: u32,
    pub sentence_ms: u32,
    pub paragraph_ms: u32,
    /// Before a heading within a chapter.
    pub before_heading_ms: u32,
    pub after_heading_ms: u32,
    /// Before the first sentence of every chapter after the first.
    pub chapter_ms: u32,
}

impl PausePolicy {
    /// Names `--pause` takes, with what each is.
    pub const NAMES: &'static [&'static str] = &[
        "clause",
        "sentence",
        "paragraph",
        "before_heading",
        "after_heading",
        "chapter",
    ];

    /// Sets one pause by name (`sentence`, `chapter`, ...).
    pub fn set(&mut self, name: &str, ms: u32) -> std::result::Result<(), String> {
        let slot = match name
            .trim()
            .trim_end_matches("_ms")
            .replace('-', "_")
            .as_str()
        {
            "clause" => &mut self.clause_ms,
            "sentence" => &mut self.sentence_ms,
            "paragraph" => &mut self.paragraph_ms,
            "before_heading" => &mut self.before_heading_ms,
            "after_heading" => &mut self.after_heading_ms,
            "chapter" => &mut self.chapter_ms,
            other => {
                return Err(format!(
                    "unknown pause '{other}' (known: {})",
                    Self::NAMES.join(", ")
                ));
            }
        };
        *slot = ms;
        Ok(())
    }

    /// Applies `NAME=MS` settings such as `sentence=300` or `chapter=2s`.
    pub fn apply(&mut self, settings: &[String]) -> std::result::Result<(), String> {
        for setting in settings {
            for part in setting.split(',').filter(|p| !p.trim().is_empty()) {
                let (name, value) = part.split_once('=').ok_or_else(|| {
                    format!("'{part}' is not NAME=MILLISECONDS (e.g. sentence=300)")
                })?;
                let value = value.trim();
                let ms =
                    if let Some(seconds) = value.strip_suffix('s').filter(|v| !v.ends_with('m')) {
                        seconds
                            .trim()
                            .parse::<f64>()
                            .ok()
                            .map(|s| (s * 1000.0).round())
                    } else {
                        value.trim_end_matches("ms").trim().parse::<f64>().ok()
                    };
                let ms = ms
                    .filter(|ms| (0.0..=60_000.0).contains(ms))
                    .ok_or_else(|| {
                        format!("'{value}' is not a pause length (0 to 60000 ms, or 1.5s)")
                    })?;
                self.set(name, ms as u32)?;
            }
        }
        Ok(())
    }
}

impl Default for PausePolicy {
    fn default() -> Self {
        PausePolicy {
            clause_ms: 150,
            sentence_ms: 250,
            paragraph_ms: 700,
            before_heading_ms: 1000,
            after_heading_ms: 600,
            chapter_ms: 1500,
        }
    }
}

fn default_speaking_rate() -> f32 {
    1.0
}

impl VoiceProfile {
    /// Parses a profile from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        let profile: VoiceProfile = toml::from_str(text).map_err(|e| Error::VoiceProfile {
            path: origin.to_path_buf(),
            message: e.message().to_string(),
        })?;
        profile.validate(origin)?;
        Ok(profile)
    }

    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::UnknownVoice {
                name: path.display().to_string(),
                searched: path.display().to_string(),
            },
            _ => Error::io(path, e),
        })?;
        let mut profile = Self::from_toml(&text, path)?;
        profile.base_dir = path.parent().map(Path::to_path_buf);
        Ok(profile)
    }

    /// Finds a profile by name or path. A name is looked up as `NAME.toml` in
    /// `$ALOUD_VOICES_DIR`, then `./voices`, then the user's config directory, then among
    /// the profiles built into aloud.
    pub fn find(name_or_path: &str) -> Result<Self> {
        if let Some(profile) = Self::ad_hoc(name_or_path) {
            return Ok(profile);
        }
        let as_path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || name_or_path.contains(std::path::MAIN_SEPARATOR) {
            return Self::from_file(as_path);
        }
        let dirs = search_dirs();
        for dir in &dirs {
            let candidate = dir.join(format!("{name_or_path}.toml"));
            if candidate.is_file() {
                return Self::from_file(&candidate);
            }
        }
        if let Some((_, text)) = BUILTIN_PROFILES.iter().find(|(n, _)| *n == name_or_path) {
            return Self::from_toml(text, Path::new(&format!("<built-in {name_or_path}>")));
        }
        let mut searched: Vec<String> = dirs
            .iter()
            .map(|d| d.join(format!("{name_or_path}.toml")).display().to_string())
            .collect();
        searched.push("the built-in profiles".to_string());
        Err(Error::UnknownVoice {
            name: name_or_path.to_string(),
            searched: searched.join(", "),
        })
    }

    /// `BACKEND:VOICE` (say `piper:en_US-joe-medium` or `openai:alloy`) names a voice without a
    /// profile file; everything else takes its default. `BACKEND:default` is the backend's
    /// own default voice (for a server, the voice it has loaded; for Piper, joe's model).
    fn ad_hoc(spec: &str) -> Option<Self> {
        let (engine, voice) = spec.split_once(':')?;
        let is_engine = !engine.is_empty()
            && engine
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !is_engine || voice.is_empty() || voice.starts_with("//") {
            return None;
        }
        let mut profile = VoiceProfile {
            name: spec.to_string(),
            engine: engine.to_string(),
            language: "en-US".to_string(),
            model: String::new(),
            voice: (!voice.eq_ignore_ascii_case(DEFAULT_VOICE_NAME)).then(|| voice.to_string()),
            options: toml::Table::new(),
            config: None,
            speaking_rate: default_speaking_rate(),
            noise_scale: None,
            noise_w: None,
            speaker: None,
            pauses: PausePolicy::default(),
            lexicon: None,
            pricing: None,
            base_dir: None,
        };
        // A Piper voice is its model.
        if engine == "piper" {
            profile.model = match &profile.voice {
                Some(voice) => voice.clone(),
                None => DEFAULT_PIPER_MODEL.to_string(),
            };
        }
        Some(profile)
    }

    /// Every profile that `find` can see, by name (first match wins, as in `find`).
    pub fn available() -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = Vec::new();
        for dir in search_dirs() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                if path.extension().is_some_and(|e| e == "toml")
                    && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                    && !found.iter().any(|(n, _)| n == stem)
                {
                    found.push((stem.to_string(), path.display().to_string()));
                }
            }
        }
        for (name, _) in BUILTIN_PROFILES {
            if !found.iter().any(|(n, _)| n == name) {
                found.push((name.to_string(), "built-in".to_string()));
            }
        }
        found
    }

    /// The model path when `model` names a file rather than a built-in voice.
    pub fn model_path(&self) -> Option<PathBuf> {
        let looks_like_path = self.model.ends_with(".onnx") || self.model.contains('/');
        looks_like_path.then(|| self.resolve_relative(&self.model))
    }

    pub fn config_path(&self) -> Option<PathBuf> {
        match &self.config {
            Some(config) => Some(self.resolve_relative(config)),
            None => self.model_path().map(|m| {
                let mut s = m.into_os_string();
                s.push(".json");
                PathBuf::from(s)
            }),
        }
    }

    /// The voice's own lexicon, empty when it has none.
    pub fn load_lexicon(&self) -> Result<Lexicon> {
        match &self.lexicon {
            Some(path) => Lexicon::from_file(&self.resolve_relative(path)),
            None => Ok(Lexicon::default()),
        }
    }

    fn resolve_relative(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        match &self.base_dir {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_path_buf(),
        }
    }

    fn validate(&self, origin: &Path) -> Result<()> {
        let fail = |message: String| {
            Err(Error::VoiceProfile {
                path: origin.to_path_buf(),
                message,
            })
        };
        if !(0.25..=4.0).contains(&self.speaking_rate) {
            return fail(format!(
                "speaking_rate {} is outside 0.25..=4.0",
                self.speaking_rate
            ));
        }
        for (field, value) in [("noise_scale", self.noise_scale), ("noise_w", self.noise_w)] {
            if let Some(v) = value
                && !(0.0..=2.0).contains(&v)
            {
                return fail(format!("{field} {v} is outside 0.0..=2.0"));
            }
        }
        if self.engine == "piper" && self.model.trim().is_empty() {
            return fail("a piper voice needs a model".to_string());
        }
        if let Some(pricing) = &self.pricing {
            let rate = pricing.per_million_characters;
            if !(rate.is_finite() && rate >= 0.0) {
                return fail(format!(
                    "pricing.per_million_characters {rate} is not a price (a finite number, 0 or more)"
                ));
            }
            if pricing.currency.trim().is_empty() {
                return fail("pricing.currency is empty (say USD)".to_string());
            }
        }
        Ok(())
    }
}

fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("ALOUD_VOICES_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(PathBuf::from("voices"));
    if let Some(config) = dirs::config_dir() {
        dirs.push(config.join("aloud").join("voices"));
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_parse_and_match_the_voices_directory() {
        for (name, text) in BUILTIN_PROFILES {
            let profile = VoiceProfile::from_toml(text, Path::new(name)).unwrap();
            assert_eq!(&profile.name, name);
            // An embedded engine speaking a voice aloud provisions itself.
            assert!(
                ["piper", "hibari", "kokoro"].contains(&profile.engine.as_str()),
                "{name}"
            );
            assert!(crate::synth::limits_for(&profile).is_ok(), "{name}");
            assert!(crate::assets::is_builtin_voice(&profile.model), "{name}");
            if profile.engine == "kokoro" {
                // The voice it speaks is the one its catalog entry provisions.
                let voice = crate::synth::kokoro::voice_name(&profile).unwrap();
                assert_eq!(profile.model, format!("kokoro-{voice}"));
                let british = voice.starts_with('b');
                assert_eq!(profile.language == "en-GB", british, "{name}");
            }
            let on_disk = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("voices/{name}.toml")),
            )
            .unwrap();
            assert_eq!(&on_disk, text);
        }
    }

    #[test]
    fn default_voice_is_found_by_name() {
        let profile = VoiceProfile::find(DEFAULT_VOICE).unwrap();
        assert_eq!(profile.engine, "hibari");
        assert!(crate::assets::is_builtin_voice(&profile.model));
        assert!(profile.model_path().is_none());
    }

    #[test]
    fn backend_colon_voice_needs_no_profile_file() {
        let profile = VoiceProfile::find("piper:en_US-joe-medium").unwrap();
        assert_eq!(profile.engine, "piper");
        assert_eq!(profile.model, "en_US-joe-medium");
        let profile = VoiceProfile::find("openai:alloy").unwrap();
        assert_eq!(profile.engine, "openai");
        assert_eq!(profile.voice.as_deref(), Some("alloy"));
        assert_eq!(profile.pauses, PausePolicy::default());
        // Not engine names: a Windows-style path or a URL-like string.
        assert!(VoiceProfile::ad_hoc("C:voice").is_none());
        assert!(VoiceProfile::ad_hoc("http://x").is_none());
    }

    #[test]
    fn backend_colon_default_is_the_backends_own_voice() {
        for spec in ["piper-http:default", "wyoming:Default", "openai:default"] {
            let profile = VoiceProfile::find(spec).unwrap();
            assert_eq!(profile.voice, None, "{spec}");
        }
        let piper = VoiceProfile::find("piper:default").unwrap();
        let joe = VoiceProfile::find("joe").unwrap();
        assert_eq!(piper.model, joe.model);
        // A voice that only starts like it is still a name.
        let named = VoiceProfile::find("piper-http:default-2").unwrap();
        assert_eq!(named.voice.as_deref(), Some("default-2"));
    }

    #[test]
    fn unknown_voice_names_what_was_searched() {
        let err = VoiceProfile::find("no-such-voice-xyz").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("no-such-voice-xyz"), "{text}");
        assert!(text.contains("built-in"), "{text}");
    }

    #[test]
    fn bad_fields_are_rejected_with_the_file_named() {
        let err = VoiceProfile::from_toml(
            "name='x'\nengine='piper'\nlanguage='en'\nmodel='m'\nspeaking_rate=9.0",
            Path::new("x.toml"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("x.toml"));
        assert!(err.to_string().contains("speaking_rate"));
        let err = VoiceProfile::from_toml(
            "name='x'\nengine='piper'\nlanguage='en'\nmodel='m'\nvolume=3",
            Path::new("y.toml"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("volume"), "{err}");
    }

    #[test]
    fn model_paths_resolve_relative_to_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custom.toml");
        std::fs::write(
            &path,
            "name='custom'\nengine='piper'\nlanguage='en-GB'\nmodel='models/alan.onnx'\n",
        )
        .unwrap();
        let profile = VoiceProfile::from_file(&path).unwrap();
        assert_eq!(
            profile.model_path().unwrap(),
            dir.path().join("models/alan.onnx")
        );
        assert_eq!(
            profile.config_path().unwrap(),
            dir.path().join("models/alan.onnx.json")
        );
        assert_eq!(profile.pauses, PausePolicy::default());
        assert!(profile.load_lexicon().unwrap().is_empty());
    }

    #[test]
    fn a_profile_lexicon_is_read_relative_to_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("names.toml"),
            "[words]\nKremlev = \"Krem-lev\"\n",
        )
        .unwrap();
        let path = dir.path().join("v.toml");
        std::fs::write(
            &path,
            "name='v'\nengine='piper'\nlanguage='en'\nmodel='m'\nlexicon='names.toml'\n",
        )
        .unwrap();
        let lexicon = VoiceProfile::from_file(&path)
            .unwrap()
            .load_lexicon()
            .unwrap();
        assert_eq!(lexicon.apply("Kremlev").text, "Krem-lev");

        std::fs::write(
            &path,
            "name='v'\nengine='piper'\nlanguage='en'\nmodel='m'\nlexicon='gone.toml'\n",
        )
        .unwrap();
        let err = VoiceProfile::from_file(&path)
            .unwrap()
            .load_lexicon()
            .unwrap_err();
        assert!(err.to_string().contains("gone.toml"), "{err}");
    }
}
