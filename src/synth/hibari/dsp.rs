//! The hibari vocoder step: the model's six spectral outputs to a 24 kHz waveform, ported from
//! the wheel's `dsp.py` (hibari-tts 0.2.1) operation for operation.
//!
//! ```text
//! S = exp(lh) e^{i pi tanh(theta)} STFT(pulses(f0)) + exp(ln) Z + exp(lr) e^{i phi}
//! ```
//!
//! `pulses` is a band-limited pulse train from the 80 Hz F0 curve, the STFT is torch's
//! (`center=True`, reflect padding, periodic Hann, n_fft 1200, hop 300), and the inverse is an
//! overlap-add normalised by the summed squared window. Both FFTs are planned once per
//! [`Dsp`]; a synthesis allocates its buffers once, never per frame.

use super::approx;
use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

pub const N_FFT: usize = 1200;
pub const HOP: usize = 300;
pub use crate::synth::phoneme_model::SAMPLE_RATE;
/// Frequency bins per frame: `N_FFT / 2 + 1`.
pub const BINS: usize = N_FFT / 2 + 1;
/// Bumped whenever this port changes what a sentence sounds like (part of the cache identity).
pub const DSP_VERSION: u32 = 5;

const VOICING_THRESHOLD: f32 = 40.0;
const MAX_HARMONIC_HZ: f32 = 11_000.0;
/// `dsp.ex`: exponents are clamped here before `exp`.
const MAX_LOG_MAGNITUDE: f32 = 7.0;

/// The model's outputs for one utterance: five `[BINS, frames]` planes, bin-major as ONNX
/// Runtime returns them, and the F0 curve, one value per frame.
pub struct Spectra<'a> {
    pub lh: &'a [f32],
    pub th: &'a [f32],
    pub ln: &'a [f32],
    pub lr: &'a [f32],
    pub phi: &'a [f32],
    pub f0: &'a [f32],
}

impl Spectra<'_> {
    pub fn frames(&self) -> usize {
        self.f0.len()
    }

    /// Every plane holds `BINS * frames` values.
    pub fn check(&self) -> Result<(), String> {
        let want = BINS * self.frames();
        for (name, plane) in [
            ("lh", self.lh),
            ("th", self.th),
            ("ln", self.ln),
            ("lr", self.lr),
            ("phi", self.phi),
        ] {
            if plane.len() != want {
                return Err(format!(
                    "output {name} holds {} values, expected {BINS} bins x {} frames",
                    plane.len(),
                    self.frames()
                ));
            }
        }
        Ok(())
    }
}

/// Planned FFTs and the fixed windows; shareable across threads.
pub struct Dsp {
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    /// Periodic Hann.
    window: Vec<f32>,
    /// `WIN / (N_FFT / 4)`: a unit cosine then peaks at 1 in the STFT.
    source_window: Vec<f32>,
    /// Interpolation weights within a hop (`_interp_w`): `u` and `1 - u`.
    interp_u: Vec<f32>,
    interp_v: Vec<f32>,
}

impl Default for Dsp {
    fn default() -> Self {
        Dsp::new()
    }
}

impl Dsp {
    pub fn new() -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let window: Vec<f32> = (0..N_FFT)
            .map(|n| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64).cos()) as f32
            })
            .collect();
        let source_window = window.iter().map(|w| w / (N_FFT / 4) as f32).collect();
        let interp_u: Vec<f32> = (0..HOP)
            .map(|j| ((j as f64 + 0.5) / HOP as f64 - 0.5).rem_euclid(1.0) as f32)
            .collect();
        let interp_v = interp_u.iter().map(|u| 1.0 - u).collect();
        Dsp {
            forward: planner.plan_fft_forward(N_FFT),
            inverse: planner.plan_fft_inverse(N_FFT),
            window,
            source_window,
            interp_u,
            interp_v,
        }
    }

    /// The band-limited pulse train for an F0 curve (`dsp.pulses`): `frames * HOP` samples,
    /// zero where unvoiced.
    pub fn pulses(&self, f0: &[f32]) -> Vec<f32> {
        // The phase is a running sum, so it is found sample by sample first; the harmonic sum
        // of each sample then depends on its own frequency and phase alone, a loop the
        // compiler turns into vector code.
        let frames = f0.len();
        let half = HOP / 2;
        let edge = |i: isize| f0[i.clamp(0, frames as isize - 1) as usize];
        let mut frequency = Vec::with_capacity(frames * HOP);
        let mut phase_at = Vec::with_capacity(frames * HOP);
        let mut phase = 0.0f64;
        let (u, v) = (&self.interp_u, &self.interp_v);
        for (k, &here) in f0.iter().enumerate() {
            let (before, after) = (edge(k as isize - 1), edge(k as isize + 1));
            for j in 0..HOP {
                let f = if j < half {
                    before * v[j] + here * u[j]
                } else {
                    here * v[j] + after * u[j]
                };
                phase += f.max(VOICING_THRESHOLD) as f64;
                frequency.push(f);
                phase_at.push(
                    ((phase * (1.0 / SAMPLE_RATE as f64)).fract() * 2.0 * std::f64::consts::PI)
                        as f32,
                );
            }
        }
        let mut out = vec![0.0f32; frames * HOP];
        with_wide_vectors(
            #[inline(always)]
            || harmonic_sums(&frequency, &phase_at, &mut out),
        );
        out
    }

    /// The waveform for the model's outputs, with the noise branch's complex Gaussian noise
    /// from `noise`.
    pub fn synthesize(&self, spectra: &Spectra, noise: Noise) -> Result<Vec<f32>, String> {
        spectra.check()?;
        let frames = spectra.frames();
        let mut seeded = match noise {
            Noise::Given(values) => {
                if values.len() != 2 * BINS * frames {
                    return Err(format!(
                        "noise holds {} values, expected {}",
                        values.len(),
                        2 * BINS * frames
                    ));
                }
                None
            }
            Noise::Seeded(seed) => Some(Normals::new(seed)),
        };
        if frames == 0 {
            return Ok(Vec::new());
        }
        let mut drawn = vec![0.0f32; 2 * BINS];
        let pulses = self.pulses(spectra.f0);
        let padded = reflect_pad(&pulses, N_FFT / 2);

        let blocks = frames + N_FFT / HOP - 1;
        let mut sum = vec![0.0f32; blocks * HOP];
        let mut frame = self.forward.make_input_vec();
        let mut spectrum = self.forward.make_output_vec();
        let mut scratch_forward = self.forward.make_scratch_vec();
        let mut scratch_inverse = self.inverse.make_scratch_vec();
        let mut time = self.inverse.make_output_vec();
        // The planes are bin-major; the per-bin loop wants a frame's bins side by side, so
        // they are transposed a block of frames at a time (a block's rows stay in cache).
        let mut rows = FrameRows::new();
        for block_start in (0..frames).step_by(FrameRows::FRAMES) {
            let in_block = FrameRows::FRAMES.min(frames - block_start);
            rows.transpose(spectra, block_start, in_block);
            for i in 0..in_block {
                let f = block_start + i;
                let start = f * HOP;
                for ((x, &p), &w) in frame
                    .iter_mut()
                    .zip(&padded[start..start + N_FFT])
                    .zip(&self.source_window)
                {
                    *x = p * w;
                }
                self.forward
                    .process_with_scratch(&mut frame, &mut spectrum, &mut scratch_forward)
                    .map_err(|e| format!("forward FFT: {e}"))?;
                match noise {
                    Noise::Given(values) => {
                        for (b, pair) in drawn.chunks_exact_mut(2).enumerate() {
                            let at = 2 * (b * frames + f);
                            pair.copy_from_slice(&values[at..at + 2]);
                        }
                    }
                    Noise::Seeded(_) => {
                        if let Some(normals) = seeded.as_mut() {
                            normals.fill(&mut drawn);
                        }
                    }
                }
                rows.shape(i, &mut spectrum, &drawn);
                // irfft ignores the imaginary parts of DC and Nyquist; realfft wants them zero.
                spectrum[0].im = 0.0;
                spectrum[BINS - 1].im = 0.0;
                self.inverse
                    .process_with_scratch(&mut spectrum, &mut time, &mut scratch_inverse)
                    .map_err(|e| format!("inverse FFT: {e}"))?;
                let out = &mut sum[start..start + N_FFT];
                let scale = 1.0 / N_FFT as f32;
                for ((y, &x), &w) in out.iter_mut().zip(&time).zip(&self.window) {
                    *y += x * scale * w;
                }
            }
        }
        let norm = self.ola_norm(frames);
        let half = N_FFT / 2;
        Ok(sum[half..half + frames * HOP]
            .iter()
            .zip(&norm[half..half + frames * HOP])
            .map(|(y, n)| y * n)
            .collect())
    }

    /// `1 / summed squared window` per output sample (`_ola_norm`).
    fn ola_norm(&self, frames: usize) -> Vec<f32> {
        let blocks = frames + N_FFT / HOP - 1;
        let mut sum = vec![0.0f32; blocks * HOP];
        for k in 0..N_FFT / HOP {
            let w2 = &self.window[k * HOP..(k + 1) * HOP];
            for block in k..k + frames {
                for (s, w) in sum[block * HOP..(block + 1) * HOP].iter_mut().zip(w2) {
                    *s += w * w;
                }
            }
        }
        sum.iter().map(|s| 1.0 / s.max(1e-11)).collect()
    }
}

/// A block of frames of the five spectral planes, frame-major: row `i` holds frame
/// `block_start + i`'s `BINS` values of each plane.
struct FrameRows {
    lh: Vec<f32>,
    th: Vec<f32>,
    ln: Vec<f32>,
    lr: Vec<f32>,
    phi: Vec<f32>,
}

impl FrameRows {
    const FRAMES: usize = 16;

    fn new() -> Self {
        let plane = || vec![0.0f32; BINS * Self::FRAMES];
        FrameRows {
            lh: plane(),
            th: plane(),
            ln: plane(),
            lr: plane(),
            phi: plane(),
        }
    }

    fn transpose(&mut self, spectra: &Spectra, block_start: usize, in_block: usize) {
        let frames = spectra.frames();
        for (rows, plane) in [
            (&mut self.lh, spectra.lh),
            (&mut self.th, spectra.th),
            (&mut self.ln, spectra.ln),
            (&mut self.lr, spectra.lr),
            (&mut self.phi, spectra.phi),
        ] {
            for b in 0..BINS {
                let column = &plane[b * frames + block_start..][..in_block];
                for (i, &value) in column.iter().enumerate() {
                    rows[i * BINS + b] = value;
                }
            }
        }
    }

    /// Shapes row `i`'s source spectrum in place, with `drawn` the frame's noise pairs:
    /// `exp(lh) e^{i pi tanh(th)} X + exp(ln) Z + exp(lr) e^{i phi}`.
    fn shape(&self, i: usize, spectrum: &mut [Complex32], drawn: &[f32]) {
        with_wide_vectors(
            #[inline(always)]
            || self.shape_row(i, spectrum, drawn),
        );
    }

    #[inline(always)]
    fn shape_row(&self, i: usize, spectrum: &mut [Complex32], drawn: &[f32]) {
        let row = i * BINS..(i + 1) * BINS;
        let ex = |x: f32| approx::exp(x.min(MAX_LOG_MAGNITUDE));
        for (((((bin, &lh), &th), &ln), (&lr, &phi)), noise) in spectrum
            .iter_mut()
            .zip(&self.lh[row.clone()])
            .zip(&self.th[row.clone()])
            .zip(&self.ln[row.clone()])
            .zip(self.lr[row.clone()].iter().zip(&self.phi[row]))
            .zip(drawn.chunks_exact(2))
        {
            let (sin, cos) = approx::sin_cos(approx::tanh(th) * std::f32::consts::PI);
            let gain = ex(lh);
            let mut s = *bin * Complex32::new(cos * gain, sin * gain);
            let noise_gain = ex(ln);
            s.re += noise[0] * noise_gain;
            s.im += noise[1] * noise_gain;
            let (sin, cos) = approx::sin_cos(phi);
            let free_gain = ex(lr);
            s.re += cos * free_gain;
            s.im += sin * free_gain;
            *bin = s;
        }
    }
}

/// The pulse train's samples from each sample's interpolated frequency and phase: the sum of
/// the harmonics below [`MAX_HARMONIC_HZ`] where voiced, zero where not.
#[inline(always)]
fn harmonic_sums(frequency: &[f32], phase: &[f32], out: &mut [f32]) {
    for ((y, &f), &t) in out.iter_mut().zip(frequency).zip(phase) {
        let voiced = f > VOICING_THRESHOLD;
        let f = f.max(VOICING_THRESHOLD);
        let harmonics = (MAX_HARMONIC_HZ / f).floor() + 0.5;
        let s = approx::sin_cos(t * 0.5).0 * 2.0;
        let e = if s.abs() <= 2e-3 {
            harmonics
        } else {
            approx::sin_cos(harmonics * t).0 / s
        };
        *y = if voiced { e - 0.5 } else { 0.0 };
    }
}

/// Runs `work` (inlined) compiled for AVX2 where the CPU has it, else as built. The per-bin
/// and per-sample loops are vector code either way; AVX2 makes their vectors twice as wide as
/// the baseline's SSE2. The results are the same to the bit: each lane computes what the
/// scalar code would (FMA is left off, so no multiply and add can be fused).
#[inline(always)]
fn with_wide_vectors(work: impl FnOnce()) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn wide(work: impl FnOnce()) {
            work()
        }
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { wide(work) };
        return;
    }
    work()
}

/// numpy's `np.pad(x, pad, mode="reflect")` (the edge sample not repeated), including pads
/// longer than the signal.
fn reflect_pad(x: &[f32], pad: usize) -> Vec<f32> {
    let n = x.len() as isize;
    if n <= 1 {
        let value = x.first().copied().unwrap_or(0.0);
        return vec![value; x.len() + 2 * pad];
    }
    let period = 2 * (n - 1);
    (-(pad as isize)..n + pad as isize)
        .map(|i| {
            let m = i.rem_euclid(period);
            x[(if m < n { m } else { period - m }) as usize]
        })
        .collect()
}

/// Where the noise branch's complex Gaussian noise comes from.
#[derive(Clone, Copy)]
pub enum Noise<'a> {
    /// `2 * BINS * frames` standard normals, one `(re, im)` pair per bin and frame, bin-major:
    /// what `rng.standard_normal((bins, 2F)).view(complex64)` draws in the Python.
    Given(&'a [f32]),
    /// Drawn frame by frame from a generator seeded with this: the same seed, the same noise.
    Seeded(u64),
}

/// Standard normal values from a seeded generator: each is one of a fixed table of 2^16
/// normals, picked by the generator. Drawing each pair afresh (Marsaglia's polar method: a
/// logarithm, a square root and a division, and a rejection loop) was 3 to 4% of a Hibari
/// narration's CPU time; a pick is a table read. The noise branch is shaped by the model's
/// `ln` per bin and frame, so what it needs of its noise is independent values of a standard
/// normal's spread, which picks from 65,536 of them give.
pub struct Normals {
    rng: fastrand::Rng,
    table: &'static [f32],
}

const NORMALS_TABLE_BITS: u32 = 16;

/// The table, drawn once per process with the polar method from a fixed seed, then shifted
/// and scaled to mean 0 and variance 1 exactly.
static NORMALS_TABLE: std::sync::LazyLock<Vec<f32>> = std::sync::LazyLock::new(|| {
    let mut rng = fastrand::Rng::with_seed(0x6869_6261_7269);
    let mut table = Vec::with_capacity(1 << NORMALS_TABLE_BITS);
    while table.len() < 1 << NORMALS_TABLE_BITS {
        let u = rng.f64() * 2.0 - 1.0;
        let v = rng.f64() * 2.0 - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            let scale = (-2.0 * s.ln() / s).sqrt();
            table.extend([u * scale, v * scale]);
        }
    }
    let n = table.len() as f64;
    let mean = table.iter().sum::<f64>() / n;
    let deviation = (table.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    table
        .iter()
        .map(|x| ((x - mean) / deviation) as f32)
        .collect()
});

impl Normals {
    pub fn new(seed: u64) -> Self {
        Normals {
            rng: fastrand::Rng::with_seed(seed),
            table: &NORMALS_TABLE,
        }
    }

    /// Fills `out` (of even length) with standard normals.
    pub fn fill(&mut self, out: &mut [f32]) {
        let mask = (1u32 << NORMALS_TABLE_BITS) - 1;
        for pair in out.chunks_exact_mut(2) {
            let picks = self.rng.u32(..);
            pair[0] = self.table[(picks & mask) as usize];
            pair[1] = self.table[(picks >> NORMALS_TABLE_BITS) as usize];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_pad_matches_numpy() {
        // np.pad([1,2,3], 2, mode="reflect") == [3,2,1,2,3,2,1]
        assert_eq!(
            reflect_pad(&[1.0, 2.0, 3.0], 2),
            vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]
        );
        // np.pad([1,2,3], 5, mode="reflect") == [2,1,2,3,2,1,2,3,2,1,2,3,2]
        assert_eq!(
            reflect_pad(&[1.0, 2.0, 3.0], 5),
            vec![
                2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0
            ]
        );
    }

    #[test]
    fn ola_norm_is_constant_inside() {
        let dsp = Dsp::new();
        let norm = dsp.ola_norm(10);
        // Periodic Hann squared at hop n_fft/4 sums to 1.5.
        for n in &norm[N_FFT..norm.len() - N_FFT] {
            assert!((n - 1.0 / 1.5).abs() < 1e-5, "{n}");
        }
    }

    #[test]
    fn unvoiced_frames_make_no_pulses_and_voiced_ones_do() {
        let dsp = Dsp::new();
        let silent = dsp.pulses(&[0.0; 4]);
        assert_eq!(silent.len(), 4 * HOP);
        assert!(silent.iter().all(|&x| x == 0.0));
        let voiced = dsp.pulses(&[120.0; 4]);
        let peak = voiced.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        // Every harmonic under 11 kHz at unit amplitude: the pulses peak near their count.
        assert!(peak > 50.0, "{peak}");
    }

    #[test]
    fn mismatched_planes_and_noise_are_refused() {
        let dsp = Dsp::new();
        let plane = vec![0.0; BINS * 2];
        let short = vec![0.0; BINS];
        let f0 = [100.0, 100.0];
        let spectra = Spectra {
            lh: &plane,
            th: &plane,
            ln: &short,
            lr: &plane,
            phi: &plane,
            f0: &f0,
        };
        assert!(
            dsp.synthesize(&spectra, Noise::Given(&[]))
                .unwrap_err()
                .contains("ln")
        );
        let spectra = Spectra {
            ln: &plane,
            ..spectra
        };
        assert!(
            dsp.synthesize(&spectra, Noise::Given(&[0.0; 3]))
                .unwrap_err()
                .contains("noise")
        );
        let out = dsp
            .synthesize(&spectra, Noise::Given(&vec![0.0; 4 * BINS]))
            .unwrap();
        assert_eq!(out.len(), 2 * HOP);
        let seeded = dsp.synthesize(&spectra, Noise::Seeded(3)).unwrap();
        assert_eq!(seeded, dsp.synthesize(&spectra, Noise::Seeded(3)).unwrap());
        assert_ne!(seeded, dsp.synthesize(&spectra, Noise::Seeded(4)).unwrap());
    }

    #[test]
    fn noise_is_standard_normal_and_seeded() {
        let draw = |seed: u64, n: usize| {
            let mut out = vec![0.0f32; n];
            Normals::new(seed).fill(&mut out);
            out
        };
        let a = draw(7, 20_000);
        assert_eq!(a, draw(7, 20_000));
        assert_ne!(a[..10], draw(8, 10)[..]);
        let mean = a.iter().map(|&x| x as f64).sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / a.len() as f64;
        let beyond_two = a.iter().filter(|x| x.abs() > 2.0).count() as f64 / a.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        // A normal lies beyond two standard deviations 4.55% of the time.
        assert!((beyond_two - 0.0455).abs() < 0.006, "{beyond_two}");
    }
}
