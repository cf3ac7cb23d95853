//! Clip edges: silence trimmed to one floor, short fades at every cut, and the seam score that shows a join is click-free.

use serde::Serialize;

/// How clip edges are cleaned before joining.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EdgePolicy {
    /// Audio quieter than this (short-window RMS, dBFS) at either end of a clip is silence.
    pub floor_dbfs: f64,
    /// Kept before the first sound, so soft onsets (an `h`, an `f`) are not clipped.
    pub lead_ms: f64,
    /// Kept after the last sound, for decays and released plosives.
    pub tail_ms: f64,
    /// Raised-cosine fade at each end of each clip.
    pub fade_ms: f64,
}

impl Default for EdgePolicy {
    fn default() -> Self {
        EdgePolicy {
            floor_dbfs: -50.0,
            lead_ms: 15.0,
            tail_ms: 40.0,
            fade_ms: 5.0,
        }
    }
}

/// The window over which "is this silence" is judged.
const WINDOW_MS: f64 = 5.0;

fn frames(ms: f64, sample_rate: u32) -> usize {
    (ms / 1000.0 * f64::from(sample_rate)).round() as usize
}

/// The range of `samples` to keep: from `lead_ms` before the first window louder than the
/// floor to `tail_ms` after the last. A clip with no sound at all is kept whole (the caller
/// decides what silence means there).
pub fn audible_range(
    samples: &[f32],
    sample_rate: u32,
    policy: &EdgePolicy,
) -> std::ops::Range<usize> {
    let window = frames(WINDOW_MS, sample_rate).max(1);
    let floor = 10f64.powf(policy.floor_dbfs / 20.0);
    let threshold = (floor * floor) as f32 * window as f32;
    let loud = |start: usize| {
        let end = (start + window).min(samples.len());
        samples[start..end].iter().map(|s| s * s).sum::<f32>() > threshold
    };
    let starts: Vec<usize> = (0..samples.len()).step_by(window).collect();
    let Some(first) = starts.iter().copied().find(|&s| loud(s)) else {
        return 0..samples.len();
    };
    let last = starts
        .iter()
        .rev()
        .copied()
        .find(|&s| loud(s))
        .unwrap_or(first);
    let start = first.saturating_sub(frames(policy.lead_ms, sample_rate));
    let end = (last + window + frames(policy.tail_ms, sample_rate)).min(samples.len());
    start..end
}

/// Raised-cosine fade-in over the first `fade` samples and fade-out over the last, so every
/// cut starts and ends at zero: no step, whatever the clip's DC offset.
pub fn fade_edges(samples: &mut [f32], fade: usize) {
    let fade = fade.min(samples.len() / 2);
    if fade == 0 {
        return;
    }
    let len = samples.len();
    for i in 0..fade {
        let gain = 0.5 - 0.5 * (std::f32::consts::PI * i as f32 / fade as f32).cos();
        samples[i] *= gain;
        samples[len - 1 - i] *= gain;
    }
}

/// Trims and fades one clip in place; returns the samples cut from its start (to move word
/// timings).
pub fn clean_edges(samples: &mut Vec<f32>, sample_rate: u32, policy: &EdgePolicy) -> usize {
    let keep = audible_range(samples, sample_rate, policy);
    let cut = keep.start;
    samples.truncate(keep.end);
    samples.drain(..keep.start);
    fade_edges(samples, frames(policy.fade_ms, sample_rate));
    cut
}

/// Samples either side of a join that the seam score looks at.
pub fn seam_context(sample_rate: u32) -> usize {
    frames(10.0, sample_rate).max(2)
}

/// How a join compares with speech itself: the jump across it over the RMS sample-to-sample
/// change around it (both sides, the join excluded). Speech moves by about 1 such unit a
/// sample, and its own largest steps reach 4 to 6; a click stands out far above the audio
/// around it. A join between silences scores 0.
pub fn seam_score(before: &[f32], after: &[f32]) -> f64 {
    let (Some(&last), Some(&first)) = (before.last(), after.first()) else {
        return 0.0;
    };
    let jump = f64::from((first - last).abs());
    let diffs = before
        .windows(2)
        .chain(after.windows(2))
        .map(|w| f64::from(w[1] - w[0]));
    let (sum, count) = diffs.fold((0.0, 0usize), |(s, n), d| (s + d * d, n + 1));
    let typical = if count == 0 {
        0.0
    } else {
        (sum / count as f64).sqrt()
    };
    if jump < 1e-6 {
        0.0
    } else if typical < 1e-9 {
        f64::INFINITY
    } else {
        jump / typical
    }
}

/// The worst seam among joins, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SeamReport {
    pub joins: usize,
    /// Highest [`seam_score`] of any join.
    pub worst: f64,
    /// Where the worst join is, in seconds.
    pub worst_at: f64,
}

impl SeamReport {
    pub fn add(&mut self, score: f64, at_seconds: f64) {
        self.joins += 1;
        if score > self.worst || self.joins == 1 {
            self.worst = score;
            self.worst_at = at_seconds;
        }
    }
}

/// Seam scores of `samples` at the given sample positions (each the first sample after a join).
pub fn seams_at(samples: &[f32], sample_rate: u32, positions: &[usize]) -> SeamReport {
    let context = seam_context(sample_rate);
    let mut report = SeamReport::default();
    for &p in positions {
        if p == 0 || p >= samples.len() {
            continue;
        }
        let before = &samples[p.saturating_sub(context)..p];
        let after = &samples[p..(p + context).min(samples.len())];
        report.add(seam_score(before, after), p as f64 / f64::from(sample_rate));
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burst(rate: u32, silence_before: f64, sound: f64, silence_after: f64) -> Vec<f32> {
        let n = |s: f64| (s * f64::from(rate)) as usize;
        let mut v = vec![0.0; n(silence_before)];
        v.extend((0..n(sound)).map(|i| 0.3 * (i as f32 * 0.2).sin() + 0.05));
        v.extend(vec![0.0005; n(silence_after)]);
        v
    }

    #[test]
    fn silence_is_trimmed_to_the_same_pads_whatever_the_engine_left() {
        let rate = 22_050;
        let policy = EdgePolicy::default();
        let mut lengths = Vec::new();
        for (before, after) in [(0.05, 0.05), (0.4, 0.9), (0.0, 0.3)] {
            let mut clip = burst(rate, before, 0.5, after);
            let cut = clean_edges(&mut clip, rate, &policy);
            let expected_cut = ((before - 0.015) * f64::from(rate)).max(0.0);
            assert!(
                (cut as f64 - expected_cut).abs() <= 110.0 + 1.0,
                "cut {cut} for {before}"
            );
            lengths.push(clip.len());
        }
        // Same sound, same kept length within one detection window, wherever it sat.
        let spread = lengths.iter().max().unwrap() - lengths.iter().min().unwrap();
        assert!(spread <= 2 * 110 + 331, "{lengths:?}");
    }

    #[test]
    fn fades_end_every_clip_at_zero_despite_dc() {
        let rate = 22_050;
        let mut clip = burst(rate, 0.0, 0.3, 0.0);
        clean_edges(&mut clip, rate, &EdgePolicy::default());
        assert_eq!(clip[0], 0.0);
        assert!(clip.last().unwrap().abs() < 1e-3);
        // Joined to silence, both seams score far below speech's own steps.
        let silence = vec![0.0f32; 500];
        assert!(seam_score(&silence, &clip[..300]) < 0.1);
        assert!(seam_score(&clip[clip.len() - 300..], &silence) < 0.5);
    }

    #[test]
    fn an_unfaded_cut_scores_as_a_click() {
        let rate = 22_050;
        let clip = burst(rate, 0.0, 0.3, 0.0);
        let silence = vec![0.0f32; 500];
        // Cut mid-wave at a point of high amplitude, plus the DC offset.
        let cut = 1000 + clip[1000..].iter().position(|s| *s > 0.3).unwrap();
        assert!(seam_score(&clip[cut - 200..=cut], &silence) > 2.0);
        let whole: Vec<f32> = clip[..=cut].iter().chain(&silence).copied().collect();
        let report = seams_at(&whole, rate, &[cut + 1]);
        assert_eq!(report.joins, 1);
        assert!(report.worst > 2.0);
    }

    #[test]
    fn a_clip_without_sound_is_kept_whole() {
        let mut quiet = vec![0.0001f32; 1000];
        assert_eq!(clean_edges(&mut quiet, 22_050, &EdgePolicy::default()), 0);
        assert_eq!(quiet.len(), 1000);
    }
}
