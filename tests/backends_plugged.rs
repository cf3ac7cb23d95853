//! A backend of one's own plugged into aloud without forking it: registered in a `Registry`
//! (named and limited by its entry) or built by hand and given to `Narrator::with_backend`.
//! A tone stands in for an engine: these test the plugging, not speech.

use aloud::document::Document;
use aloud::ingest::{Format, parse};
use aloud::narrate::{Narrator, NarratorOptions};
use aloud::synth::{Backend, BackendEntry, BackendLimits, Billing, Clip, Registry, SpeechRequest};
use aloud::voice::VoiceProfile;
use async_trait::async_trait;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A quarter second of a sine at `hz` per request, recording each request's text; refuses
/// every request when `refuse` is set.
struct Tone {
    hz: f32,
    rate: u32,
    refuse: bool,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Tone {
    fn new(hz: f32, seen: &Arc<Mutex<Vec<String>>>) -> Tone {
        Tone {
            hz,
            rate: 16_000,
            refuse: false,
            seen: Arc::clone(seen),
        }
    }
}

#[async_trait]
impl Backend for Tone {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn identity(&self) -> serde_json::Value {
        serde_json::json!({"engine": "tone", "hz": self.hz})
    }

    async fn synthesize(&self, request: &SpeechRequest) -> aloud::Result<Clip> {
        self.seen.lock().unwrap().push(request.text.clone());
        if self.refuse {
            return Err(aloud::Error::Engine {
                backend: "tone".into(),
                message: "refused".into(),
            });
        }
        let step = self.hz * std::f32::consts::TAU / self.rate as f32;
        let samples = (0..self.rate / 4)
            .map(|i| 0.3 * (i as f32 * step).sin())
            .collect();
        Ok(Clip::new(samples, self.rate))
    }
}

/// Small enough that the article's long sentence is cut.
const LIMITS: BackendLimits = BackendLimits {
    max_chars: 30,
    default_concurrency: 2,
    formats: &["pcm"],
    timings: false,
    phonemes: false,
    context: false,
};

fn profile(engine: &str) -> VoiceProfile {
    VoiceProfile::from_toml(
        &format!("name='plugged'\nengine='{engine}'\nlanguage='en'\nmodel='m'\n"),
        Path::new("plugged.toml"),
    )
    .unwrap()
}

fn article() -> Document {
    parse(
        "# Bells\n\nA bell rings. A second bell answers it from across the valley, slowly.\n",
        Format::Markdown,
        Path::new("bells.md"),
    )
    .unwrap()
}

/// Narrates the article into a temporary WAV; the summary and the WAV's rate.
fn narrate(narrator: &Narrator) -> aloud::Result<(aloud::narrate::Summary, u32)> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bells.wav");
    let summary = narrator.narrate_blocking(&article(), &out, &mut |_| {})?;
    let rate = hound::WavReader::open(&out).unwrap().spec().sample_rate;
    Ok((summary, rate))
}

#[test]
fn a_registered_backend_is_named_and_limited_by_its_entry() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut registry = Registry::builtin();
    // The opener is a closure: it carries configuration the voice profile does not hold.
    let (hz, log) = (440.0, Arc::clone(&seen));
    registry.register(
        BackendEntry::new("tone", LIMITS, move |_, _| {
            Ok(Arc::new(Tone::new(hz, &log)))
        })
        .description("a test tone"),
    );
    assert_eq!(registry.entries().len(), 11);
    assert_eq!(registry.entry("tone").unwrap().description, "a test tone");
    assert_eq!(registry.limits_for(&profile("tone")).unwrap(), LIMITS);
    assert!(matches!(
        registry.billing_for(&profile("tone")).unwrap(),
        Billing::Free
    ));

    let narrator = Narrator::open_in(
        &registry,
        profile("tone"),
        &NarratorOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let (summary, rate) = narrate(&narrator).unwrap();
    assert_eq!(summary.backend, "tone");
    assert_eq!(rate, 16_000);
    let seen = seen.lock().unwrap();
    assert_eq!(summary.synthesized, seen.len());
    assert!(seen.len() > summary.sentences, "the long sentence is cut");
    assert!(seen.iter().all(|t| t.chars().count() <= 30), "{seen:?}");
}

#[test]
fn the_builtin_registry_knows_nothing_of_it() {
    let err = match Narrator::open(profile("tone"), &NarratorOptions::default(), &mut |_| {}) {
        Ok(_) => panic!("an unregistered engine opened"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("unknown engine 'tone'"), "{err}");
}

#[test]
fn registering_a_builtin_name_replaces_it() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let mut registry = Registry::builtin();
    registry.register(BackendEntry::new("piper", LIMITS, move |_, _| {
        Ok(Arc::new(Tone::new(220.0, &log)))
    }));
    assert_eq!(registry.entries().len(), 10);
    // No engine files are needed: the tone answers for piper.
    let narrator = Narrator::open_in(
        &registry,
        profile("piper"),
        &NarratorOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let (summary, rate) = narrate(&narrator).unwrap();
    assert_eq!((summary.backend.as_str(), rate), ("piper", 16_000));
    assert!(!seen.lock().unwrap().is_empty());
}

#[test]
fn a_backend_built_by_hand_narrates_through_with_backend() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let narrator = Narrator::with_backend(
        profile("tone"),
        Arc::new(Tone::new(330.0, &seen)),
        LIMITS,
        &NarratorOptions::default(),
    )
    .unwrap();
    assert_eq!(narrator.backend().sample_rate(), 16_000);
    let (summary, rate) = narrate(&narrator).unwrap();
    assert_eq!((summary.backend.as_str(), rate), ("tone", 16_000));
    assert_eq!(summary.synthesized, seen.lock().unwrap().len());

    // Its failures are named by the profile's engine.
    let mut refusing = Tone::new(330.0, &seen);
    refusing.refuse = true;
    let narrator = Narrator::with_backend(
        profile("tone"),
        Arc::new(refusing),
        LIMITS,
        &NarratorOptions::default(),
    )
    .unwrap();
    let err = narrate(&narrator).unwrap_err().to_string();
    assert!(err.starts_with("tone: sentence "), "{err}");
    assert!(err.contains("refused"), "{err}");
}
