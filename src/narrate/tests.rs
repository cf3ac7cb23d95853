//! Tests of the narration pipeline with fake backends: resampling to the program rate, a failing
//! sentence named, cache reuse on reruns and after failures, corrupt entries remade.

use super::*;
use crate::sidecar::Timeline;
use crate::synth::BackendLimits;
use async_trait::async_trait;
use std::sync::Mutex;

/// Answers every request with a 440 Hz tone at its own rate, half a second per request,
/// and fails the request whose text contains `fail_on`. It stands in for an engine in
/// tests of the pipeline's joining logic, not of speech.
struct Tone {
    program_rate: u32,
    clip_rate: u32,
    fail_on: Option<&'static str>,
    seen: Mutex<Vec<String>>,
}

impl Tone {
    fn new(program_rate: u32, clip_rate: u32, fail_on: Option<&'static str>) -> Self {
        Tone {
            program_rate,
            clip_rate,
            fail_on,
            seen: Mutex::new(Vec::new()),
        }
    }
}

const TONE_LIMITS: BackendLimits = BackendLimits {
    max_chars: 40,
    default_concurrency: 3,
    formats: &["pcm"],
    timings: false,
    phonemes: false,
    context: false,
};

#[async_trait]
impl Backend for Tone {
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({"engine": "tone", "rate": self.clip_rate})
    }
    fn sample_rate(&self) -> u32 {
        self.program_rate
    }
    async fn synthesize(&self, request: &SpeechRequest) -> Result<Clip> {
        self.seen.lock().unwrap().push(request.text.clone());
        if self.fail_on.is_some_and(|f| request.text.contains(f)) {
            return Err(Error::Engine {
                backend: "tone".into(),
                message: "refused".into(),
            });
        }
        let frames = self.clip_rate as usize / 2;
        Ok(Clip {
            samples: (0..frames)
                .map(|i| {
                    0.5 * (i as f32 * 440.0 * std::f32::consts::TAU / self.clip_rate as f32).sin()
                })
                .collect(),
            sample_rate: self.clip_rate,
            words: Vec::new(),
        })
    }
}

/// The joe voice, spoken by the tone.
fn tone_profile() -> VoiceProfile {
    let mut profile = VoiceProfile::find("joe").unwrap();
    profile.engine = "tone".to_string();
    profile
}

fn narrator(tone: Tone) -> Narrator {
    let options = NarratorOptions {
        finishing: Some(Finishing::untouched(crate::voice::PausePolicy::default())),
        sidecars: Some(vec![SidecarKind::Timeline]),
        ..NarratorOptions::default()
    };
    Narrator::with_backend(tone_profile(), Arc::new(tone), TONE_LIMITS, &options).unwrap()
}

fn document() -> Document {
    crate::ingest::parse(
        "# Title\n\nOne short sentence. A second sentence that is long enough to be cut into pieces, clause by clause.\n",
        crate::ingest::Format::Markdown,
        std::path::Path::new("t.md"),
    )
    .unwrap()
}

#[test]
fn clips_at_another_rate_are_resampled_into_the_program() {
    let narrator = narrator(Tone::new(22050, 16000, None));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.wav");
    let summary = narrator
        .narrate_blocking(&document(), &out, &mut |_| {})
        .unwrap();
    assert_eq!(summary.sentences, 3);
    assert!(summary.synthesized > 3, "the long sentence is cut");
    let reader = hound::WavReader::open(&out).unwrap();
    assert_eq!(reader.spec().sample_rate, 22050);
    let timeline = Timeline::read(&summary.timeline).unwrap();
    // Each request is half a second whatever its rate; pieces of one sentence are one
    // clause pause apart.
    let long = &timeline.sentences[2];
    let pieces = summary.synthesized - 2;
    let clause = f64::from(crate::voice::PausePolicy::default().clause_ms) / 1000.0;
    let expected = 0.5 * pieces as f64 + clause * (pieces - 1) as f64;
    assert!(((long.end - long.start) - expected).abs() < 0.01);
    assert!(((timeline.sentences[0].end - timeline.sentences[0].start) - 0.5).abs() < 0.01);
}

#[test]
fn the_program_takes_the_rate_the_job_asks_for() {
    let mut narrator = narrator(Tone::new(22050, 22050, None));
    narrator.finishing.sample_rate = Some(48_000);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.wav");
    let summary = narrator
        .narrate_blocking(&document(), &out, &mut |_| {})
        .unwrap();
    let reader = hound::WavReader::open(&out).unwrap();
    assert_eq!(reader.spec().sample_rate, 48_000);
    let seconds = reader.duration() as f64 / 48_000.0;
    assert!((seconds - summary.audio_seconds).abs() < 1e-3);
}

#[test]
fn a_failing_sentence_fails_the_job_naming_it_and_leaves_nothing() {
    let narrator = narrator(Tone::new(22050, 22050, Some("short")));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.wav");
    let err = narrator
        .narrate_blocking(&document(), &out, &mut |_| {})
        .unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("tone: sentence 2"), "{message}");
    assert!(message.contains("One short sentence."), "{message}");
    assert!(message.contains("refused"), "{message}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A narrator over a cache, and the tone it speaks with (to count its calls).
fn cached_narrator(fail_on: Option<&'static str>, cache: &ClipCache) -> (Narrator, Arc<Tone>) {
    let tone = Arc::new(Tone::new(22050, 22050, fail_on));
    let options = NarratorOptions {
        cache: Some(cache.clone()),
        finishing: Some(Finishing::with_pauses(crate::voice::PausePolicy::default())),
        sidecars: Some(vec![SidecarKind::Timeline]),
        ..NarratorOptions::default()
    };
    let narrator =
        Narrator::with_backend(tone_profile(), tone.clone(), TONE_LIMITS, &options).unwrap();
    (narrator, tone)
}

/// A clip cache in a fresh temporary directory, which lasts as long as the returned guard.
fn cache_in_temp_dir() -> (tempfile::TempDir, ClipCache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = ClipCache::new(dir.path().join("cache"), crate::cache::DEFAULT_MAX_BYTES);
    (dir, cache)
}

fn calls(tone: &Tone) -> usize {
    tone.seen.lock().unwrap().len()
}

fn markdown(text: &str) -> Document {
    crate::ingest::parse(
        text,
        crate::ingest::Format::Markdown,
        std::path::Path::new("t.md"),
    )
    .unwrap()
}

#[test]
fn an_unchanged_rerun_makes_no_backend_calls_and_the_same_bytes() {
    let (dir, cache) = cache_in_temp_dir();
    let (first, tone) = cached_narrator(None, &cache);
    let out = dir.path().join("a.wav");
    let cold = first
        .narrate_blocking(&document(), &out, &mut |_| {})
        .unwrap();
    assert_eq!(cold.cached, 0);
    assert_eq!(cold.synthesized, calls(&tone));
    let cold_bytes = std::fs::read(&out).unwrap();

    let (second, tone) = cached_narrator(None, &cache);
    let warm = second
        .narrate_blocking(&document(), &out, &mut |_| {})
        .unwrap();
    assert_eq!(calls(&tone), 0);
    assert_eq!(warm.synthesized, 0);
    assert_eq!(warm.cached, cold.synthesized);
    assert_eq!(std::fs::read(&out).unwrap(), cold_bytes);
}

#[test]
fn editing_one_sentence_synthesizes_exactly_that_sentence() {
    let (dir, cache) = cache_in_temp_dir();
    let out = dir.path().join("a.wav");
    let before = "# Title\n\nOne. Two. Three.\n\nFour. Five.\n";
    let after = "# Title\n\nOne. Two, edited. Three.\n\nFour. Five.\n";
    let (narrator, _) = cached_narrator(None, &cache);
    narrator
        .narrate_blocking(&markdown(before), &out, &mut |_| {})
        .unwrap();
    let (narrator, tone) = cached_narrator(None, &cache);
    let summary = narrator
        .narrate_blocking(&markdown(after), &out, &mut |_| {})
        .unwrap();
    let seen = tone.seen.lock().unwrap().clone();
    assert_eq!(seen, ["Two, edited."]);
    assert_eq!((summary.synthesized, summary.cached), (1, 5));
}

#[test]
fn clips_made_before_a_failure_are_kept_for_the_next_run() {
    let (dir, cache) = cache_in_temp_dir();
    let out = dir.path().join("a.wav");
    let text = "# Title\n\nOne. Two. Three.\n\nFour. Five fails. Six.\n";
    let (failing, _) = cached_narrator(Some("fails"), &cache);
    failing
        .narrate_blocking(&markdown(text), &out, &mut |_| {})
        .unwrap_err();
    assert!(!out.exists());
    let kept = cache.stats().entries as usize;
    // Everything before the failing sentence was finished (and maybe some after it).
    assert!(kept >= 5, "kept {kept}");

    let (retry, tone) = cached_narrator(None, &cache);
    let summary = retry
        .narrate_blocking(&markdown(text), &out, &mut |_| {})
        .unwrap();
    assert_eq!(summary.cached, kept);
    assert_eq!(summary.synthesized, 7 - kept);
    assert_eq!(calls(&tone), 7 - kept);
    assert!(out.exists());
}

#[test]
fn a_corrupt_entry_is_made_again_not_stitched() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let cache = ClipCache::new(&cache_dir, crate::cache::DEFAULT_MAX_BYTES);
    let out = dir.path().join("a.wav");
    let text = "# Title\n\nOne. Two.\n";
    cached_narrator(None, &cache)
        .0
        .narrate_blocking(&markdown(text), &out, &mut |_| {})
        .unwrap();
    let clean = std::fs::read(&out).unwrap();
    // Damage one entry's samples.
    let entry = std::fs::read_dir(&cache_dir)
        .unwrap()
        .flatten()
        .flat_map(|shard| std::fs::read_dir(shard.path()).unwrap().flatten())
        .next()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&entry, bytes).unwrap();

    let (narrator, _) = cached_narrator(None, &cache);
    let summary = narrator
        .narrate_blocking(&markdown(text), &out, &mut |_| {})
        .unwrap();
    assert_eq!(
        (summary.cache_rejected, summary.synthesized, summary.cached),
        (1, 1, 2)
    );
    assert_eq!(std::fs::read(&out).unwrap(), clean);
}
