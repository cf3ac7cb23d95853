//! Branch-free f32 `exp`, `tanh` and `sin_cos` for the vocoder's per-bin loop: libm's calls
//! were a fifth of a narration's CPU time, and these inline into a loop the compiler turns
//! into vector code. Cephes' polynomials (as in Pommier's `sse_mathfun`), within a few ulp of
//! libm over the ranges the model produces; the module's tests bound the error.

/// `1.5 * 2^23`: adding then subtracting it rounds an f32 of magnitude below 2^22 to the
/// nearest integer without a call (SSE2 has no vector `round`).
const ROUNDER: f32 = 12_582_912.0;

/// `e^x`, with `x` clamped to where the result is a normal f32.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUNDER) - ROUNDER;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_2e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// `tanh(x)` as `1 - 2 / (e^{2|x|} + 1)` with the sign of `x` (on the negative side the
/// subtraction would cancel): exact limits of ±1, and an absolute error near zero of a few
/// 1e-8, which the vocoder (scaling it by pi into a phase) cannot hear.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    (1.0 - 2.0 / (exp(2.0 * x.abs()) + 1.0)).copysign(x)
}

/// `(sin x, cos x)` for `|x|` up to a few thousand (the reduction by pi/4 is in three parts).
#[inline(always)]
pub fn sin_cos(x: f32) -> (f32, f32) {
    const FOUR_OVER_PI: f32 = 1.273_239_5;
    const DP1: f32 = 0.785_156_25;
    const DP2: f32 = 2.418_756_5e-4;
    const DP3: f32 = 3.774_895e-8;
    let negative = x < 0.0;
    let a = x.abs();
    // The octant, rounded up to even: the reduced argument lies in [-pi/4, pi/4]. (Wrapping:
    // an infinite argument saturates the cast, and its result is NaN whatever `j` is.)
    let j = ((a * FOUR_OVER_PI) as i32).wrapping_add(1) & !1;
    let y = j as f32;
    let r = ((a - y * DP1) - y * DP2) - y * DP3;
    let z = r * r;
    let cos_poly =
        ((2.443_315_7e-5 * z - 1.388_731_6e-3) * z + 4.166_664_6e-2) * z * z - 0.5 * z + 1.0;
    let sin_poly = ((-1.951_529_6e-4 * z + 8.332_161e-3) * z - 1.666_665_5e-1) * z * r + r;
    let swapped = j & 2 != 0;
    let (sin, cos) = if swapped {
        (cos_poly, sin_poly)
    } else {
        (sin_poly, cos_poly)
    };
    let sin_negative = (j & 4 != 0) != negative;
    let cos_negative = j.wrapping_sub(2) & 4 == 0;
    let flip = |v: f32, negate: bool| f32::from_bits(v.to_bits() ^ ((negate as u32) << 31));
    (flip(sin, sin_negative), flip(cos, cos_negative))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(from: f32, to: f32, steps: usize) -> impl Iterator<Item = f32> {
        (0..=steps).map(move |i| from + (to - from) * i as f32 / steps as f32)
    }

    #[test]
    fn exp_is_within_a_few_ulp_of_libm() {
        for x in grid(-80.0, 80.0, 200_000) {
            let (ours, libm) = (exp(x), x.exp());
            assert!(
                (ours - libm).abs() <= 4e-7 * libm,
                "exp({x}) = {ours}, libm {libm}"
            );
        }
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn tanh_is_within_a_few_1e_8_of_libm_and_saturates() {
        for x in grid(-20.0, 20.0, 200_000) {
            let (ours, libm) = (tanh(x), x.tanh());
            assert!(
                (ours - libm).abs() <= 1.2e-7,
                "tanh({x}) = {ours}, libm {libm}"
            );
        }
        assert_eq!(tanh(1e6), 1.0);
        assert_eq!(tanh(-1e6), -1.0);
        assert_eq!(tanh(0.0), 0.0);
    }

    #[test]
    fn sin_cos_is_within_a_few_1e_7_of_libm() {
        // The pulse train's harmonics reach about 1,750 radians.
        for x in grid(-2_000.0, 2_000.0, 2_000_000) {
            let (sin, cos) = sin_cos(x);
            let (libm_sin, libm_cos) = x.sin_cos();
            assert!(
                (sin - libm_sin).abs() <= 3e-7,
                "sin({x}) = {sin}, libm {libm_sin}"
            );
            assert!(
                (cos - libm_cos).abs() <= 3e-7,
                "cos({x}) = {cos}, libm {libm_cos}"
            );
        }
        for x in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
            let (sin, cos) = sin_cos(x);
            assert!(sin.is_nan() && cos.is_nan(), "{x}: {sin} {cos}");
        }
        assert!(exp(f32::NAN).is_nan() && tanh(f32::NAN).is_nan());
        let pi = std::f32::consts::PI;
        for (x, sin, cos) in [(0.0, 0.0, 1.0), (pi / 2.0, 1.0, 0.0), (pi, 0.0, -1.0)] {
            let (s, c) = sin_cos(x);
            assert!(
                (s - sin).abs() < 1e-6 && (c - cos).abs() < 1e-6,
                "{x}: {s} {c}"
            );
        }
    }
}
