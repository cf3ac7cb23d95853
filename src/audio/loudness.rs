//! Program loudness: EBU R128 measurement (the ebur128 crate), loudness targets and presets, and the true-peak limiter that keeps one whole-program gain under its ceiling.

use crate::error::{Error, Result};
use ebur128::{EbuR128, Mode};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

/// What a program is brought to: integrated loudness and a true-peak ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LoudnessTarget {
    /// Integrated loudness, LUFS.
    pub lufs: f64,
    /// Highest true peak allowed, dBTP.
    pub ceiling_dbtp: f64,
    /// The preset this came from, if any (`web`, `podcast`, `audiobook`, `broadcast`).
    pub preset: Option<&'static str>,
}

/// A target as it is read back (from a queued job): the preset's name becomes the table's
/// own, and an unknown name no preset.
#[derive(Deserialize)]
struct StoredTarget {
    lufs: f64,
    ceiling_dbtp: f64,
    preset: Option<String>,
}

// By hand: serde's derive would borrow the `&'static str` from the input.
impl<'de> Deserialize<'de> for LoudnessTarget {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let stored = StoredTarget::deserialize(deserializer)?;
        Ok(LoudnessTarget {
            lufs: stored.lufs,
            ceiling_dbtp: stored.ceiling_dbtp,
            preset: stored
                .preset
                .and_then(|name| LoudnessTarget::preset(&name)?.preset),
        })
    }
}

/// The named presets, as `--loudness` takes them.
pub const PRESETS: &[(&str, f64, f64, &str)] = &[
    (
        "web",
        -16.0,
        -1.0,
        "-16 LUFS, -1 dBTP: news sites and apps (the default)",
    ),
    (
        "podcast",
        -16.0,
        -1.0,
        "-16 LUFS, -1 dBTP: podcast platforms",
    ),
    (
        "audiobook",
        -19.0,
        -3.0,
        "-19 LUFS, -3 dBTP, with ACX-style checks reported",
    ),
    ("broadcast", -23.0, -1.0, "-23 LUFS, -1 dBTP: EBU R128"),
];

impl Default for LoudnessTarget {
    fn default() -> Self {
        LoudnessTarget::preset("web").unwrap_or(LoudnessTarget {
            lufs: -16.0,
            ceiling_dbtp: -1.0,
            preset: Some("web"),
        })
    }
}

impl LoudnessTarget {
    pub fn preset(name: &str) -> Option<LoudnessTarget> {
        PRESETS
            .iter()
            .find(|(preset, ..)| preset.eq_ignore_ascii_case(name))
            .map(|&(preset, lufs, ceiling, _)| LoudnessTarget {
                lufs,
                ceiling_dbtp: ceiling,
                preset: Some(preset),
            })
    }

    /// A preset name or a number of LUFS (`-18`, `-18 LUFS`); a number keeps the -1 dBTP
    /// ceiling unless `ceiling` says otherwise.
    pub fn parse(text: &str) -> std::result::Result<LoudnessTarget, String> {
        let text = text.trim();
        if let Some(target) = LoudnessTarget::preset(text) {
            return Ok(target);
        }
        let number = text
            .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c.is_whitespace())
            .trim();
        match number.parse::<f64>() {
            Ok(lufs) if (-70.0..=-5.0).contains(&lufs) => Ok(LoudnessTarget {
                lufs,
                ceiling_dbtp: -1.0,
                preset: None,
            }),
            Ok(lufs) => Err(format!(
                "{lufs} LUFS is outside -70..-5; speech is usually -16 (web) to -23 (broadcast)"
            )),
            Err(_) => Err(format!(
                "'{text}' is neither a preset ({}) nor a loudness in LUFS such as -18",
                PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

/// Loudness figures of a signal, as `aloud inspect` and the narration summary report them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LoudnessReport {
    /// Integrated loudness, LUFS (`None` for a signal too short or too quiet to gate).
    pub integrated_lufs: Option<f64>,
    /// Loudness range, LU.
    pub range_lu: Option<f64>,
    /// True peak, dBTP.
    pub true_peak_dbtp: f64,
    /// Highest sample, dBFS.
    pub sample_peak_dbfs: f64,
}

/// Streams samples through an EBU R128 meter with constant memory (histogram mode), so a
/// ten-hour program costs no more than a minute.
pub struct Meter {
    meter: EbuR128,
}

pub fn db(linear: f64) -> f64 {
    if linear > 0.0 {
        20.0 * linear.log10()
    } else {
        f64::NEG_INFINITY
    }
}

pub fn linear(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

fn meter_error(e: ebur128::Error) -> Error {
    Error::Audio {
        origin: "loudness meter".to_string(),
        message: e.to_string(),
    }
}

impl Meter {
    pub fn new(sample_rate: u32) -> Result<Meter> {
        let mode = Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK | Mode::HISTOGRAM;
        Ok(Meter {
            meter: EbuR128::new(1, sample_rate, mode).map_err(meter_error)?,
        })
    }

    /// A meter of integrated loudness alone (no range, no peaks): several times cheaper, for
    /// searches that replay a program to find a gain.
    pub fn integrated_only(sample_rate: u32) -> Result<Meter> {
        Ok(Meter {
            meter: EbuR128::new(1, sample_rate, Mode::I | Mode::HISTOGRAM).map_err(meter_error)?,
        })
    }

    /// A meter for interleaved audio with `channels` channels (1 and 2 are weighted alike,
    /// as EBU R128 says for mono, left and right).
    pub fn with_channels(sample_rate: u32, channels: u32) -> Result<Meter> {
        let mode = Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK | Mode::HISTOGRAM;
        Ok(Meter {
            meter: EbuR128::new(channels, sample_rate, mode).map_err(meter_error)?,
        })
    }

    /// Adds interleaved samples.
    pub fn add(&mut self, samples: &[f32]) -> Result<()> {
        self.meter.add_frames_f32(samples).map_err(meter_error)
    }

    pub fn report(&self) -> LoudnessReport {
        let finite = |v: std::result::Result<f64, ebur128::Error>| v.ok().filter(|v| v.is_finite());
        LoudnessReport {
            integrated_lufs: finite(self.meter.loudness_global()),
            range_lu: finite(self.meter.loudness_range()),
            true_peak_dbtp: db((0..self.meter.channels())
                .map(|c| self.meter.true_peak(c).unwrap_or(0.0))
                .fold(0.0, f64::max)),
            sample_peak_dbfs: db((0..self.meter.channels())
                .map(|c| self.meter.sample_peak(c).unwrap_or(0.0))
                .fold(0.0, f64::max)),
        }
    }
}

/// A meter on a thread of its own: the caller hands it blocks and goes on making the next
/// ones, so a finishing pass costs the limiter or the meter, whichever is slower, not both.
pub struct MeterThread {
    blocks: Option<SyncSender<Vec<f32>>>,
    worker: Option<JoinHandle<Result<Meter>>>,
}

impl MeterThread {
    pub fn start(mut meter: Meter) -> MeterThread {
        // A few blocks in flight keep both threads busy without holding the program.
        let (blocks, arriving) = sync_channel::<Vec<f32>>(4);
        let worker = std::thread::spawn(move || {
            for block in arriving {
                meter.add(&block)?;
            }
            Ok(meter)
        });
        MeterThread {
            blocks: Some(blocks),
            worker: Some(worker),
        }
    }

    pub fn add(&mut self, samples: &[f32]) -> Result<()> {
        let sent = match &self.blocks {
            Some(blocks) => blocks.send(samples.to_vec()).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The meter stopped early: its error says why.
        self.blocks = None;
        self.join().map(|_| ())
    }

    /// Waits for the meter to take every block, and reads it.
    pub fn finish(mut self) -> Result<LoudnessReport> {
        self.blocks = None;
        Ok(self.join()?.report())
    }

    fn join(&mut self) -> Result<Meter> {
        let stopped = || Error::Audio {
            origin: "loudness meter".to_string(),
            message: "the meter's thread stopped".to_string(),
        };
        let worker = self.worker.take().ok_or_else(stopped)?;
        worker.join().map_err(|_| stopped())?
    }
}

impl Drop for MeterThread {
    fn drop(&mut self) {
        // Closing the channel ends the thread; it is not waited for.
        self.blocks = None;
    }
}

/// Measures a whole signal in one call.
pub fn measure(samples: &[f32], sample_rate: u32) -> Result<LoudnessReport> {
    let mut meter = Meter::new(sample_rate)?;
    for chunk in samples.chunks(1 << 16) {
        meter.add(chunk)?;
    }
    Ok(meter.report())
}

/// Phases between two samples at which the limiter looks for inter-sample peaks.
const OVERSAMPLE: usize = 8;
/// Taps of the interpolation filter on each side of the point being estimated.
const HALF_TAPS: usize = 8;
/// Look-ahead of the limiter: gain reaches its floor before the peak arrives.
const LOOKAHEAD_MS: f64 = 5.0;
/// Time for the gain to recover by 63 % after a peak.
const RELEASE_MS: f64 = 80.0;

/// Inter-sample peak estimator: the largest magnitude of a band-limited reconstruction of
/// the signal around each sample (windowed sinc, 8 phases, 16 taps).
struct PeakEstimator {
    phases: Vec<[f32; 2 * HALF_TAPS]>,
    /// The same taps by position: `by_tap[k][p]` is phase p's tap k, with a zero eighth
    /// phase, so all phases are summed side by side (in the same order each, so with the
    /// same result) where the CPU has vector lanes for it.
    by_tap: [[f32; OVERSAMPLE]; 2 * HALF_TAPS],
    /// The most any reconstructed point can exceed the largest sample it is made from.
    gain_bound: f32,
}

impl PeakEstimator {
    fn new() -> Self {
        let mut phases = Vec::with_capacity(OVERSAMPLE - 1);
        for phase in 1..OVERSAMPLE {
            let frac = phase as f64 / OVERSAMPLE as f64;
            let mut taps = [0f32; 2 * HALF_TAPS];
            for (k, tap) in taps.iter_mut().enumerate() {
                // Sample index relative to the left neighbour: -(HALF_TAPS-1) ..= HALF_TAPS.
                let offset = k as f64 - (HALF_TAPS as f64 - 1.0);
                let t = frac - offset;
                let sinc = if t.abs() < 1e-12 {
                    1.0
                } else {
                    (std::f64::consts::PI * t).sin() / (std::f64::consts::PI * t)
                };
                // Blackman window over the filter span.
                let x = (t + HALF_TAPS as f64) / (2.0 * HALF_TAPS as f64);
                let window = 0.42 - 0.5 * (2.0 * std::f64::consts::PI * x).cos()
                    + 0.08 * (4.0 * std::f64::consts::PI * x).cos();
                *tap = (sinc * window) as f32;
            }
            phases.push(taps);
        }
        let gain_bound = phases
            .iter()
            .map(|taps| taps.iter().map(|t| t.abs()).sum::<f32>())
            .fold(1.0f32, f32::max);
        let mut by_tap = [[0f32; OVERSAMPLE]; 2 * HALF_TAPS];
        for (p, taps) in phases.iter().enumerate() {
            for (k, tap) in taps.iter().enumerate() {
                by_tap[k][p] = *tap;
            }
        }
        PeakEstimator {
            phases,
            by_tap,
            gain_bound,
        }
    }

    /// Peak magnitude between `signal[i]` and `signal[i + 1]` (inclusive of both samples),
    /// or any value at most `floor` when the true peak cannot exceed `floor` (which skips
    /// the interpolation in the quiet majority of a program).
    fn peak_after(&self, signal: &[f32], i: usize, floor: f32) -> f32 {
        let from = i.saturating_sub(HALF_TAPS - 1);
        let to = (i + HALF_TAPS + 1).min(signal.len());
        let largest = max_abs(&signal[from..to]);
        if largest * self.gain_bound <= floor {
            return largest;
        }
        let mut peak = signal[i].abs();
        if let Some(next) = signal.get(i + 1) {
            peak = peak.max(next.abs());
        }
        let start = i as isize - (HALF_TAPS as isize - 1);
        if let Some(window) = usize::try_from(start)
            .ok()
            .and_then(|start| signal.get(start..start + 2 * HALF_TAPS))
        {
            // The whole filter inside the signal: the same sums in the same order as below,
            // without a bounds check per tap.
            let mut acc = [0f32; OVERSAMPLE];
            for (s, taps) in window.iter().zip(&self.by_tap) {
                for (lane, tap) in acc.iter_mut().zip(taps) {
                    *lane += s * tap;
                }
            }
            return acc.iter().fold(peak, |peak, lane| peak.max(lane.abs()));
        }
        for taps in &self.phases {
            let mut acc = 0f32;
            for (k, tap) in taps.iter().enumerate() {
                let j = start + k as isize;
                if j >= 0
                    && let Some(s) = signal.get(j as usize)
                {
                    acc += s * tap;
                }
            }
            peak = peak.max(acc.abs());
        }
        peak
    }
}

/// The largest magnitude in `samples` (0 for none). Eight running maxima instead of one: the
/// limiter asks this of every sample's filter span, and one running maximum made each step
/// wait for the last. The maximum of a set does not depend on the order it is taken in, so
/// the answer is the same to the bit.
fn max_abs(samples: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let mut chunks = samples.chunks_exact(8);
    for chunk in &mut chunks {
        for (lane, s) in lanes.iter_mut().zip(chunk) {
            *lane = lane.max(s.abs());
        }
    }
    let tail = chunks.remainder().iter().fold(0f32, |m, s| m.max(s.abs()));
    lanes.iter().fold(tail, |m, &lane| m.max(lane))
}

/// Applies a fixed gain and then limits true peaks to a ceiling, streaming: feed it blocks
/// with [`Limiter::process`], then [`Limiter::flush`]. The output has exactly as many samples
/// as the input, in step with it (the look-ahead is internal).
///
/// For each sample n, `need[n]` is the gain that brings the reconstructed peak between n and
/// n+1 to the ceiling. The gain held at n is the smallest need in the look-ahead window
/// `n..=n+L` (instant attack) or a slow release from the previous one, whichever is lower;
/// the gain applied is the mean of the last L+1 held gains. Every one of those windows
/// contains n, so each held gain, and hence their mean, is at most `need[n]`: the ceiling
/// holds, and the gain ramps over L samples instead of stepping. Once released back to 1 the
/// limiter is at rest, and stretches with nothing to limit ahead pass through whole.
pub struct Limiter {
    gain: f32,
    ceiling: f32,
    lookahead: usize,
    release: f32,
    estimator: PeakEstimator,
    /// Input after gain, not yet emitted, plus up to `HALF_TAPS` emitted samples kept as the
    /// filter's left context.
    pending: VecDeque<f32>,
    /// How many of `pending`'s first samples are already emitted (left context only).
    context: usize,
    /// `need` of the pending samples not yet emitted whose right context has arrived.
    needed: VecDeque<f32>,
    /// Absolute index of `needed[0]` (the next sample to emit).
    first: u64,
    /// Candidates for the smallest need in the look-ahead window, as (absolute index, need)
    /// with needs increasing: the window's minimum in O(1) per sample.
    minima: VecDeque<(u64, f32)>,
    /// Absolute index of the next need to enter `minima`.
    window_end: u64,
    /// Held gains of the last `lookahead + 1` emitted samples.
    held: VecDeque<f32>,
    held_sum: f64,
    /// How many of `held` are below 1.
    held_below_one: usize,
    last_held: f32,
    /// Absolute indices of the analysed samples not yet emitted whose need is below 1.
    limited_needs: VecDeque<u64>,
    /// Whether quiet stretches and rest are taken whole (always, except in the test that
    /// checks they change nothing).
    shortcuts: bool,
    /// Samples emitted whole, at rest (how often the shortcut was taken).
    pub passed_at_rest: u64,
    /// Lowest gain the limiter applied (1.0 if it never acted).
    pub min_gain: f32,
    /// Samples the limiter turned down by more than 0.1 dB.
    pub limited_samples: u64,
}

/// A released gain this close to 1 is 1 (1 - 2^-12: 0.002 dB).
const AT_REST: f32 = 1.0 - 1.0 / 4_096.0;

/// 0.1 dB of gain reduction: less is not counted as limiting.
const NOTICEABLE: f32 = 0.988_553_1;

impl Limiter {
    pub fn new(sample_rate: u32, gain_db: f64, ceiling_dbtp: f64) -> Limiter {
        let lookahead = ((LOOKAHEAD_MS / 1000.0) * f64::from(sample_rate))
            .round()
            .max(1.0) as usize;
        let release_samples = (RELEASE_MS / 1000.0) * f64::from(sample_rate);
        Limiter {
            gain: linear(gain_db) as f32,
            ceiling: linear(ceiling_dbtp) as f32,
            lookahead,
            release: (1.0 - (-1.0 / release_samples).exp()) as f32,
            estimator: PeakEstimator::new(),
            pending: VecDeque::new(),
            context: 0,
            needed: VecDeque::new(),
            first: 0,
            minima: VecDeque::new(),
            window_end: 0,
            held: VecDeque::new(),
            held_sum: 0.0,
            held_below_one: 0,
            last_held: 1.0,
            limited_needs: VecDeque::new(),
            shortcuts: true,
            passed_at_rest: 0,
            min_gain: 1.0,
            limited_samples: 0,
        }
    }

    /// Takes `input`, appends whatever output is ready to `output`.
    pub fn process(&mut self, input: &[f32], output: &mut Vec<f32>) {
        self.pending.extend(input.iter().map(|s| s * self.gain));
        self.drain(output, false);
    }

    /// Emits the rest.
    pub fn flush(&mut self, output: &mut Vec<f32>) {
        self.drain(output, true);
    }

    fn drain(&mut self, output: &mut Vec<f32>, flushing: bool) {
        // Nothing is added to `pending` while draining (only taken from its front), so once
        // contiguous it stays so, and the analysis reads a plain slice.
        self.pending.make_contiguous();
        self.analyse(flushing);
        loop {
            let ready = if flushing {
                !self.needed.is_empty()
            } else {
                self.needed.len() > self.lookahead
            };
            if !ready {
                break;
            }
            let passing = self.passing_through(flushing);
            if passing > 0 {
                self.pass_through(passing, output);
            } else {
                self.emit_one(output);
            }
        }
    }

    /// Computes `need` for every pending sample whose right-hand filter context has arrived.
    fn analyse(&mut self, flushing: bool) {
        let signal = self.pending.as_slices().0;
        // A stretch whose filter span is quiet enough cannot reach the ceiling between any
        // of its samples: its needs are all 1 without interpolating (speech spends most of
        // its time there).
        const STRETCH: usize = 64;
        let gain_bound = self.estimator.gain_bound;
        loop {
            let next = self.context + self.needed.len();
            let end = if flushing {
                signal.len()
            } else {
                signal.len().saturating_sub(HALF_TAPS)
            };
            if next >= end {
                break;
            }
            if self.shortcuts && next + STRETCH <= end {
                let span = &signal[next.saturating_sub(HALF_TAPS - 1)
                    ..(next + STRETCH + HALF_TAPS).min(signal.len())];
                // The same test as the estimator's, so the same samples pass it.
                if max_abs(span) * gain_bound <= self.ceiling {
                    self.needed.extend(std::iter::repeat_n(1.0, STRETCH));
                    continue;
                }
            }
            let peak = self.estimator.peak_after(signal, next, self.ceiling);
            let need = if peak > self.ceiling {
                self.limited_needs
                    .push_back(self.first + self.needed.len() as u64);
                self.ceiling / peak
            } else {
                1.0
            };
            self.needed.push_back(need);
        }
    }

    /// How many of the next samples leave at exactly their input level: the limiter is at
    /// rest (every held gain of the ramp is 1) and no need below 1 is in their look-ahead.
    fn passing_through(&mut self, flushing: bool) -> usize {
        if !self.shortcuts {
            return 0;
        }
        let at_rest = self.last_held == 1.0
            && self.held.len() == self.lookahead + 1
            && self.held_below_one == 0
            && self.held_sum == self.held.len() as f64;
        if !at_rest {
            return 0;
        }
        while self.limited_needs.front().is_some_and(|&i| i < self.first) {
            self.limited_needs.pop_front();
        }
        let analysed = if flushing {
            self.needed.len()
        } else {
            self.needed.len() - self.lookahead
        };
        match self.limited_needs.front() {
            // Sample first + j passes if its window [first + j, first + j + lookahead] is clear.
            Some(&next) => {
                analysed.min((next - self.first).saturating_sub(self.lookahead as u64) as usize)
            }
            None => analysed,
        }
    }

    /// Emits `count` samples at gain 1, as [`Limiter::emit_one`] would at rest: the held
    /// ramp stays all ones, and the minima are rebuilt from the next window on.
    fn pass_through(&mut self, count: usize, output: &mut Vec<f32>) {
        let (front, _) = self.pending.as_slices();
        output.extend_from_slice(&front[self.context..self.context + count]);
        self.passed_at_rest += count as u64;
        self.needed.drain(..count);
        self.first += count as u64;
        self.context += count;
        let surplus = self.context.saturating_sub(HALF_TAPS);
        self.pending.drain(..surplus);
        self.context -= surplus;
        self.minima.clear();
        self.window_end = self.first;
    }

    /// Emits the oldest sample once its look-ahead window is analysed.
    fn emit_one(&mut self, output: &mut Vec<f32>) {
        // Slide the window to [first, first + lookahead] over what is analysed.
        let last = self.first + self.lookahead.min(self.needed.len() - 1) as u64;
        while self.window_end <= last {
            let need = self.needed[(self.window_end - self.first) as usize];
            while self.minima.back().is_some_and(|&(_, v)| v >= need) {
                self.minima.pop_back();
            }
            self.minima.push_back((self.window_end, need));
            self.window_end += 1;
        }
        while self.minima.front().is_some_and(|&(i, _)| i < self.first) {
            self.minima.pop_front();
        }
        let floor = self.minima.front().map_or(1.0, |&(_, v)| v.min(1.0));
        let mut released = self.last_held + (1.0 - self.last_held) * self.release;
        if released >= AT_REST {
            // An exponential release in f32 never reaches 1: its step rounds away about 1e-4
            // short of it. So it snaps there from a difference no one can hear.
            released = 1.0;
        }
        let held = floor.min(released);
        self.last_held = held;
        self.hold(held);
        let gain = ((self.held_sum / self.held.len() as f64) as f32).min(1.0);
        if gain < NOTICEABLE {
            self.limited_samples += 1;
        }
        if gain < 1.0 {
            self.min_gain = self.min_gain.min(gain);
        }
        output.push(self.pending[self.context] * gain);
        self.needed.pop_front();
        self.first += 1;
        self.context += 1;
        if self.context > HALF_TAPS {
            self.pending.pop_front();
            self.context -= 1;
        }
    }

    /// Adds a held gain to the ramp's window, dropping the oldest once it is full.
    fn hold(&mut self, held: f32) {
        self.held.push_back(held);
        self.held_sum += f64::from(held);
        if held < 1.0 {
            self.held_below_one += 1;
        }
        if self.held.len() > self.lookahead + 1
            && let Some(oldest) = self.held.pop_front()
        {
            self.held_sum -= f64::from(oldest);
            if oldest < 1.0 {
                self.held_below_one -= 1;
            }
        }
        if self.held_below_one == 0 {
            // All ones: drop the rounding the sum gathered while limiting, so the limiter
            // returns exactly to rest.
            self.held_sum = self.held.len() as f64;
        }
    }
}

/// The gain that brings a program to `target_lufs` once the limiter has worked on it. Limiting
/// lowers loudness, more the harder it works, so the first guess (`target - measured`) lands
/// under the target; `measure(gain)` renders through the limiter at `gain` and measures the
/// result, and the secant method converges in two or three passes on speech. A render too
/// short or quiet to measure keeps the last gain.
///
/// The first step has no secant yet. It takes the average slope from no gain to the first
/// guess (loudness gained per dB applied), not 1: loudness against gain bends down as the
/// limiter works harder, so the average slope still steps short of the target, never past
/// it, but closer (the seed article spoken by hibari: two passes where it took three). Each
/// pass is a whole render through the limiter, one of the three or four a program takes.
pub fn gain_through_limiter(
    first_guess_db: f64,
    target_lufs: f64,
    mut measure: impl FnMut(f64) -> Result<Option<f64>>,
) -> Result<f64> {
    let mut gain_db = first_guess_db;
    let mut previous: Option<(f64, f64)> = None;
    for _ in 0..6 {
        let Some(got) = measure(gain_db)? else {
            break;
        };
        let error = target_lufs - got;
        if error.abs() < 0.05 {
            break;
        }
        let slope = match previous {
            Some((g0, l0)) if (gain_db - g0).abs() > 1e-6 => {
                ((got - l0) / (gain_db - g0)).clamp(0.1, 1.0)
            }
            // At no gain the program measures `target - first_guess`.
            None if first_guess_db.abs() >= 1.0 => {
                ((got - (target_lufs - first_guess_db)) / first_guess_db).clamp(0.1, 1.0)
            }
            _ => 1.0,
        };
        previous = Some((gain_db, got));
        gain_db += error / slope;
    }
    Ok(gain_db)
}

/// Renders `samples` with `gain_db` and the limiter, for tests and short signals.
pub fn apply(samples: &[f32], sample_rate: u32, gain_db: f64, ceiling_dbtp: f64) -> Vec<f32> {
    let mut limiter = Limiter::new(sample_rate, gain_db, ceiling_dbtp);
    let mut out = Vec::with_capacity(samples.len());
    for block in samples.chunks(4096) {
        limiter.process(block, &mut out);
    }
    limiter.flush(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_abs_is_the_largest_magnitude_whatever_the_length() {
        let mut rng = fastrand::Rng::with_seed(7);
        for len in 0..40 {
            let samples: Vec<f32> = (0..len).map(|_| rng.f32() * 2.0 - 1.0).collect();
            let one_by_one = samples.iter().fold(0f32, |m, s| m.max(s.abs()));
            assert_eq!(max_abs(&samples).to_bits(), one_by_one.to_bits(), "{len}");
        }
        assert_eq!(
            max_abs(&[0.1, -0.9, 0.3, 0.2, 0.0, 0.5, -0.2, 0.4, 0.7]),
            0.9
        );
    }

    fn tone(rate: u32, seconds: f64, freq: f64, amplitude: f64) -> Vec<f32> {
        (0..(seconds * f64::from(rate)) as usize)
            .map(|i| {
                (amplitude * (i as f64 * freq * std::f64::consts::TAU / f64::from(rate)).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn presets_and_numbers_parse() {
        assert_eq!(LoudnessTarget::parse("web").unwrap().lufs, -16.0);
        let book = LoudnessTarget::parse("Audiobook").unwrap();
        assert_eq!((book.lufs, book.ceiling_dbtp), (-19.0, -3.0));
        assert_eq!(LoudnessTarget::parse("broadcast").unwrap().lufs, -23.0);
        let custom = LoudnessTarget::parse("-18 LUFS").unwrap();
        assert_eq!((custom.lufs, custom.preset), (-18.0, None));
        assert!(LoudnessTarget::parse("loud").is_err());
        assert!(LoudnessTarget::parse("3").is_err());
    }

    #[test]
    fn a_full_scale_sine_measures_as_the_standard_says() {
        // EBU Tech 3341: a 1 kHz sine at 0 dBFS peak reads -3.01 LUFS on one channel.
        let sine = tone(48_000, 20.0, 1000.0, 1.0);
        let report = measure(&sine, 48_000).unwrap();
        let lufs = report.integrated_lufs.unwrap();
        assert!((lufs + 3.01).abs() < 0.05, "{lufs}");
        assert!(
            report.true_peak_dbtp.abs() < 0.1,
            "{}",
            report.true_peak_dbtp
        );
    }

    #[test]
    fn the_limiter_keeps_length_and_true_peak_under_the_ceiling() {
        let rate = 22_050;
        // Bursts of a loud tone near Nyquist/4 with quiet gaps: inter-sample peaks matter.
        let mut signal = Vec::new();
        for i in 0..20 {
            let amplitude = if i % 2 == 0 { 0.95 } else { 0.05 };
            signal.extend(tone(rate, 0.25, 5_003.0, amplitude));
        }
        let out = apply(&signal, rate, 6.0, -1.0);
        assert_eq!(out.len(), signal.len());
        let peak = measure(&out, rate).unwrap().true_peak_dbtp;
        assert!(peak <= -1.0 + 0.05, "true peak {peak} dBTP");
        // Quiet parts get the full gain: 0.05 * 2 = 0.0998 (within the release).
        let quiet = &out[(1.25 * rate as f64) as usize + 4000..(1.5 * rate as f64) as usize - 10];
        let quiet_peak = quiet.iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!((quiet_peak - 0.0998).abs() < 0.003, "{quiet_peak}");
    }

    #[test]
    fn shortcuts_change_no_sample_and_the_limiter_comes_back_to_rest() {
        let rate = 24_000;
        // Loud bursts the limiter works hard on, with pauses long enough to come back to rest.
        let mut signal = Vec::new();
        for (i, amplitude) in [0.9, 0.02, 0.7, 0.3, 0.95].into_iter().enumerate() {
            signal.extend(tone(rate, 0.6, 311.0 + 997.0 * i as f64, amplitude));
            signal.extend(tone(rate, 1.5, 150.0, 0.01));
        }
        let gain_db = 9.0;
        let mut plain = Limiter::new(rate, gain_db, -1.0);
        plain.shortcuts = false;
        let mut expected = Vec::new();
        plain.process(&signal, &mut expected);
        plain.flush(&mut expected);

        let mut limiter = Limiter::new(rate, gain_db, -1.0);
        let mut out = Vec::new();
        // Blocks of awkward sizes, so stretches and windows straddle them.
        let mut at = 0;
        for size in [1, 63, 64, 65, 1000, 4097].iter().cycle() {
            if at >= signal.len() {
                break;
            }
            let end = (at + size).min(signal.len());
            limiter.process(&signal[at..end], &mut out);
            at = end;
        }
        limiter.flush(&mut out);

        assert_eq!(out.len(), signal.len());
        let differing = out
            .iter()
            .zip(&expected)
            .filter(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(differing.count(), 0);
        assert_eq!(limiter.limited_samples, plain.limited_samples);
        assert_eq!(limiter.min_gain.to_bits(), plain.min_gain.to_bits());
        assert!(limiter.limited_samples > 0);
        // Most of each pause passes at exactly the gain asked for.
        assert!(
            limiter.passed_at_rest > (3.0 * f64::from(rate)) as u64,
            "{} samples at rest",
            limiter.passed_at_rest
        );
        let gain = linear(gain_db) as f32;
        // The end of the fourth pause, up to the fifth burst's look-ahead.
        let end_of_pause = signal.len() - (2.1 * f64::from(rate)) as usize;
        let tail = end_of_pause - 1000..end_of_pause - 200;
        for i in tail {
            assert_eq!(out[i].to_bits(), (signal[i] * gain).to_bits(), "sample {i}");
        }
    }

    #[test]
    fn a_meter_on_its_thread_reads_as_one_in_line() {
        let rate = 24_000;
        let mut signal = tone(rate, 3.0, 440.0, 0.5);
        signal.extend(tone(rate, 2.0, 3_000.0, 0.1));
        let mut in_line = Meter::new(rate).unwrap();
        let mut threaded = MeterThread::start(Meter::new(rate).unwrap());
        for block in signal.chunks(5_000) {
            in_line.add(block).unwrap();
            threaded.add(block).unwrap();
        }
        let (a, b) = (in_line.report(), threaded.finish().unwrap());
        assert_eq!(a.integrated_lufs, b.integrated_lufs);
        assert_eq!(a.true_peak_dbtp, b.true_peak_dbtp);
        assert_eq!(a.range_lu, b.range_lu);
        assert!(a.integrated_lufs.is_some());
    }

    #[test]
    fn the_gain_search_converges_from_below_in_few_passes() {
        // Loudness against gain bends down as a limiter works harder; a program at -26 LUFS
        // with no gain, for a -16 LUFS target.
        for bend in [0.0, 0.004, 0.01, 0.02] {
            let mut measured = Vec::new();
            let gain = gain_through_limiter(10.0, -16.0, |gain_db| {
                let lufs = -26.0 + gain_db - bend * gain_db * gain_db;
                measured.push(lufs);
                Ok(Some(lufs))
            })
            .unwrap();
            let got = -26.0 + gain - bend * gain * gain;
            assert!((got + 16.0).abs() < 0.05, "bend {bend}: {got} LUFS");
            assert!(
                measured.iter().all(|&lufs| lufs < -16.0 + 0.05),
                "bend {bend}: overshot: {measured:?}"
            );
            let most = if bend <= 0.01 { 3 } else { 4 };
            assert!(measured.len() <= most, "bend {bend}: {measured:?}");
        }
    }

    #[test]
    fn below_the_ceiling_the_limiter_is_exactly_the_gain() {
        let rate = 22_050;
        let signal = tone(rate, 1.0, 440.0, 0.25);
        let out = apply(&signal, rate, 3.0, -1.0);
        let gain = linear(3.0) as f32;
        for (a, b) in signal.iter().zip(&out) {
            assert!((a * gain - b).abs() < 1e-6);
        }
    }
}
