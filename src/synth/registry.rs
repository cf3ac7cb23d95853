//! The registry of backends: a value mapping each engine name a voice profile may use to what
//! is known about it before opening (limits, billing) and how to open it.
//!
//! Like a codec registry, it is a value one registers into: [`Registry::builtin`] holds the
//! backends aloud ships, and a library user adds their own with [`Registry::register`] and
//! narrates through it with [`crate::narrate::Narrator::open_in`].

use super::{Backend, BackendLimits, Billing, OpenContext};
use crate::error::{Error, Result};
use crate::voice::VoiceProfile;
use std::sync::{Arc, LazyLock};

/// A function that opens a backend for a profile.
pub type OpenFn = fn(&VoiceProfile, &mut OpenContext) -> Result<Arc<dyn Backend>>;

/// A closure that opens a backend for a profile.
pub type OpenClosure =
    dyn Fn(&VoiceProfile, &mut OpenContext) -> Result<Arc<dyn Backend>> + Send + Sync;

/// How an entry opens its backend.
///
/// A plain function is enough for aloud's own backends (and lets their entries be constants);
/// a closure lets a library user's entry carry configuration the voice profile does not hold
/// (a shared client, a model already loaded, credentials found elsewhere).
#[derive(Clone)]
pub enum Opener {
    Fn(OpenFn),
    Closure(Arc<OpenClosure>),
}

impl Opener {
    fn open(&self, profile: &VoiceProfile, context: &mut OpenContext) -> Result<Arc<dyn Backend>> {
        match self {
            Opener::Fn(open) => open(profile, context),
            Opener::Closure(open) => open(profile, context),
        }
    }
}

/// A registered backend: the `engine` name voice profiles use, what is known about it before
/// it opens, and how to open one. The engine's name and limits are the backend's own: the
/// narrator names it and plans for it from here.
#[derive(Clone)]
pub struct BackendEntry {
    pub engine: &'static str,
    pub description: &'static str,
    /// Known before opening, so a plan can be made without loading the engine.
    pub limits: BackendLimits,
    pub billing: Billing,
    pub open: Opener,
}

impl BackendEntry {
    /// An entry for a backend of one's own, opened by `open`; it is free of charge and has no
    /// description until [`BackendEntry::description`] and [`BackendEntry::billing`] say.
    pub fn new(
        engine: &'static str,
        limits: BackendLimits,
        open: impl Fn(&VoiceProfile, &mut OpenContext) -> Result<Arc<dyn Backend>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        BackendEntry {
            engine,
            description: "",
            limits,
            billing: Billing::Free,
            open: Opener::Closure(Arc::new(open)),
        }
    }

    pub fn description(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    pub fn billing(mut self, billing: Billing) -> Self {
        self.billing = billing;
        self
    }
}

/// The backends a narration may use, found by the engine name a voice profile gives.
#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<BackendEntry>,
}

impl Registry {
    /// A registry with nothing in it.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// Every backend aloud ships, in the order they are listed.
    pub fn builtin() -> Self {
        Registry {
            entries: super::builtin_entries(),
        }
    }

    /// Adds `entry`, or replaces the one with its engine name where it stood.
    pub fn register(&mut self, entry: BackendEntry) -> &mut Self {
        match self.entries.iter_mut().find(|e| e.engine == entry.engine) {
            Some(existing) => *existing = entry,
            None => self.entries.push(entry),
        }
        self
    }

    /// Every entry, in registration order.
    pub fn entries(&self) -> &[BackendEntry] {
        &self.entries
    }

    /// The entry for `engine`, if registered.
    pub fn entry(&self, engine: &str) -> Option<&BackendEntry> {
        self.entries.iter().find(|entry| entry.engine == engine)
    }

    /// The entry that speaks `profile`; an unknown engine is the profile's error.
    pub fn entry_for(&self, profile: &VoiceProfile) -> Result<&BackendEntry> {
        self.entry(&profile.engine)
            .ok_or_else(|| Error::VoiceProfile {
                path: profile.name.clone().into(),
                message: format!(
                    "unknown engine '{}' (known: {})",
                    profile.engine,
                    self.entries
                        .iter()
                        .map(|e| e.engine)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }

    /// The limits of the backend that speaks `profile`, without opening it.
    pub fn limits_for(&self, profile: &VoiceProfile) -> Result<BackendLimits> {
        Ok(self.entry_for(profile)?.limits)
    }

    /// How the backend that speaks `profile` bills, without opening it.
    pub fn billing_for(&self, profile: &VoiceProfile) -> Result<Billing> {
        Ok(self.entry_for(profile)?.billing)
    }

    /// Opens the backend that speaks `profile`.
    pub fn open(
        &self,
        profile: &VoiceProfile,
        context: &mut OpenContext,
    ) -> Result<Arc<dyn Backend>> {
        self.entry_for(profile)?.open.open(profile, context)
    }
}

/// The built-in registry the free functions ([`super::open`], ...) consult, built once.
pub(crate) fn builtin() -> &'static Registry {
    static BUILTIN: LazyLock<Registry> = LazyLock::new(Registry::builtin);
    &BUILTIN
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile for `engine`.
    fn profile(engine: &str) -> VoiceProfile {
        crate::synth::config::test_profile_of("t", engine, "en", None, "model='m'\n")
    }

    #[test]
    fn builtin_has_the_eleven_in_order() {
        let engines: Vec<&str> = Registry::builtin()
            .entries()
            .iter()
            .map(|e| e.engine)
            .collect();
        assert_eq!(
            engines,
            [
                "piper",
                "hibari",
                "kokoro",
                "piper-http",
                "openai",
                "elevenlabs",
                "google",
                "polly",
                "azure",
                "wyoming",
                "command"
            ]
        );
    }

    #[test]
    fn register_adds_or_replaces_by_engine_name() {
        let mut registry = Registry::builtin();
        let mut limits = crate::synth::piper::ENTRY.limits;
        limits.max_chars = 7;
        registry.register(
            BackendEntry::new("piper", limits, |_, _| {
                Err(Error::Engine {
                    backend: "mine".into(),
                    message: "not today".into(),
                })
            })
            .description("mine"),
        );
        assert_eq!(registry.entries().len(), 11);
        assert_eq!(registry.entries()[0].description, "mine");
        assert_eq!(registry.limits_for(&profile("piper")).unwrap().max_chars, 7);
        registry.register(BackendEntry::new("beep", limits, |_, _| {
            Err(Error::Engine {
                backend: "beep".into(),
                message: "no".into(),
            })
        }));
        assert_eq!(registry.entries().len(), 12);
        assert!(registry.entry("beep").is_some());
        assert!(matches!(
            registry.billing_for(&profile("beep")).unwrap(),
            Billing::Free
        ));
    }

    #[test]
    fn an_unknown_engine_lists_the_known_ones() {
        let err = Registry::builtin()
            .limits_for(&profile("nope"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown engine 'nope'"), "{err}");
        assert!(
            err.contains("piper, hibari, kokoro, piper-http, openai"),
            "{err}"
        );
    }
}
