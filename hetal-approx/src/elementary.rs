//! The building blocks of the softmax: composite sign and max, domain extension, exp,
//! Goldschmidt and Newton inverses. Each has an f64 twin (the `*_f64` functions, computing
//! exactly what the circuit computes) and a circuit generic over [`SlotBackend`].
//!
//! | approximation | interval | depth | measured max error (test) |
//! |---|---|---|---|
//! | [`sign_f64`] `f∘g∘g` | `[-1, 1]` with `abs(x) >= 2^-4` | 9 | `< 1.3e-2` |
//! | [`max_f64`] (reference max, `k = 2`) | `a, b ∈ [-1/2, 1/2]` | 10 | `< 3.1e-3` |
//! | [`ReluMax`] `b + P(a - b)`, degree 63 | `a, b ∈ [-1/2, 1/2]` | 6 | `<= 4.6e-3`, never above the max |
//! | [`exp_hetal_f64`] `p(x/8)^8` | `[-8, 8]` | 7 | relative `< 1.3e-6` |
//! | [`exp_squaring`] `q(d)^(2^5)`, `q` of degree 32, `x = 256 d` | `d ∈ [-1.5, 0.5]` | 11 | relative `< 1e-9` for `x ∈ [-40, 8]` |
//! | [`Goldschmidt::HETAL`] | `z ∈ (0, 2R)`, `R = 100`, 16 iterations | 18 | relative `< 1e-12` on `[1, 100]` |
//! | [`newton_inverse`] from a degree-7 [`remez`](crate::fit::remez) start | `z ∈ [1, 16]` | 3 + 2 per step | relative `< 1e-12` after 5 steps |
//!
//! The softmax variants' end-to-end errors are in [`crate::softmax`] and `docs/performance.md`.

use hetal_ckks::backend::{Complex64, SlotBackend};
use hetal_ckks::polyeval::{self, Polynomial};
use hetal_ckks::{Error, Result};

/// `f(x) = (35x - 35x^3 + 21x^5 - 5x^7) / 16` (Cheon–Kim–Kim), power basis.
pub fn ckk_f() -> Polynomial {
    Polynomial::power(
        [0.0, 35.0, 0.0, -35.0, 0.0, 21.0, 0.0, -5.0]
            .iter()
            .map(|c| c / 16.0)
            .collect(),
    )
}

/// `g(x) = (4589x - 16577x^3 + 25614x^5 - 12860x^7) / 1024` (Cheon–Kim–Kim), power basis.
pub fn ckk_g() -> Polynomial {
    Polynomial::power(
        [0.0, 4589.0, 0.0, -16577.0, 0.0, 25614.0, 0.0, -12860.0]
            .iter()
            .map(|c| c / 1024.0)
            .collect(),
    )
}

/// `(f(x) + 1) / 2`: the step function from the sign, with the affine step folded in.
pub fn ckk_step() -> Polynomial {
    let mut c = ckk_f().coeffs().to_vec();
    c.iter_mut().for_each(|v| *v /= 2.0);
    c[0] = 0.5;
    Polynomial::power(c)
}

/// `f(g^k(x))` in f64: the composite sign with `k` applications of `g`.
///
/// ```
/// let s = hetal_approx::elementary::sign_f64(0.1, 2);
/// assert!((s - 1.0).abs() < 1e-3);
/// ```
pub fn sign_f64(x: f64, g_count: usize) -> f64 {
    let (f, g) = (ckk_f(), ckk_g());
    let mut y = x;
    for _ in 0..g_count {
        y = g.eval_f64(y);
    }
    f.eval_f64(y)
}

/// `max(a, b) = b + (a - b) s`, `s = (f(g^k(a - b)) + 1) / 2`, in f64 (the circuit's twin).
pub fn max_f64(a: f64, b: f64, g_count: usize) -> f64 {
    let s = (sign_f64(a - b, g_count) + 1.0) / 2.0;
    b + (a - b) * s
}

/// Depth of [`max`]: 3 per polynomial plus the final product.
pub fn max_depth(g_count: usize) -> usize {
    3 * (g_count + 1) + 1
}

/// Approximate slot-wise `max(a, b)` for `a, b` with `|a - b| <= 1`; with `mask`, returns
/// `mask ⊙ max(a, b)` at no extra depth when `b` has a level to spare (it always does when `a`
/// and `b` are at the same level). Consumes [`max_depth`]`(g_count)` levels.
///
/// ```
/// use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotBackend, SlotClient};
/// # fn main() -> hetal_ckks::Result<()> {
/// let be = PlainBackend::new(2, ScaleChain::uniform(12, 40.0));
/// let a = be.encrypt_real(&[0.3, -0.2], 12)?;
/// let b = be.encrypt_real(&[0.1, 0.4], 12)?;
/// let m = hetal_approx::elementary::max(&be, &a, &b, 2, None)?;
/// assert_eq!(be.level(&m), 2);
/// let out = be.decrypt_real(&m)?;
/// assert!((out[0] - 0.3).abs() < 1e-3 && (out[1] - 0.4).abs() < 1e-3);
/// # Ok(())
/// # }
/// ```
pub fn max<B: SlotBackend + ?Sized>(
    backend: &B,
    a: &B::Ct,
    b: &B::Ct,
    g_count: usize,
    mask: Option<&[f64]>,
) -> Result<B::Ct> {
    let (a, b) = backend.align_levels(a, b)?;
    let diff = backend.sub(&a, &b)?;
    let mut y = diff.clone();
    let g = ckk_g();
    for _ in 0..g_count {
        y = polyeval::evaluate(backend, &y, &g)?;
    }
    let s = match mask {
        None => polyeval::evaluate(backend, &y, &ckk_step())?,
        Some(m) => polyeval::evaluate_masked(backend, &y, &ckk_step(), m)?,
    };
    let (diff, s) = backend.align_levels(&diff, &s)?;
    let prod = backend.mul_relin_rescale(&diff, &s)?;
    let base = match mask {
        None => b,
        Some(m) => {
            let v: Vec<Complex64> = m.iter().map(|&w| Complex64::new(w, 0.0)).collect();
            let pt = backend.encode(&v, backend.level(&b))?;
            backend.mul_plain_rescale(&b, &pt)?
        }
    };
    let base = backend.drop_to_level(&base, backend.level(&prod))?;
    backend.add(&base, &prod)
}

/// A one-sided polynomial ReLU on `[-1, 1]` for a shallow max: a Remez fit `P` of
/// `max(t, 0)` of `degree`, shifted down by its measured error so that
/// `relu(t) - gap <= P(t) <= relu(t)`.
#[derive(Debug, Clone)]
pub struct ReluMax {
    /// `P`, in the Chebyshev basis of `[-1, 1]` (no affine level).
    pub poly: Polynomial,
    /// The measured `max (relu - P)` on a dense grid: a max never overshoots and undershoots by
    /// at most this much.
    pub gap: f64,
}

impl ReluMax {
    /// Fits `P` of `degree` (depth `ceil(log2(degree + 1))`).
    ///
    /// ```
    /// let r = hetal_approx::elementary::ReluMax::fit(63);
    /// assert_eq!(r.poly.depth(), 6);
    /// assert!(r.gap < 5e-3);
    /// ```
    pub fn fit(degree: usize) -> Self {
        let relu = |t: f64| t.max(0.0);
        let f = crate::fit::remez(relu, -1.0, 1.0, degree);
        let mut c = f.poly.coeffs().to_vec();
        c[0] -= f.max_error;
        let poly = Polynomial::chebyshev(c, -1.0, 1.0);
        let gap = crate::fit::max_error(relu, &poly, -1.0, 1.0);
        Self { poly, gap }
    }

    /// `max(a, b) ≈ b + P(a - b)` in f64.
    pub fn max_f64(&self, a: f64, b: f64) -> f64 {
        b + self.poly.eval_f64(a - b)
    }

    /// Depth of [`max`](Self::max).
    pub fn depth(&self) -> usize {
        self.poly.depth()
    }

    /// Slot-wise `b + P(a - b)` (optionally `mask ⊙ ...`, free), for `|a - b| <= 1`.
    pub fn max<B: SlotBackend + ?Sized>(
        &self,
        backend: &B,
        a: &B::Ct,
        b: &B::Ct,
        mask: Option<&[f64]>,
    ) -> Result<B::Ct> {
        let (a, b) = backend.align_levels(a, b)?;
        let diff = backend.sub(&a, &b)?;
        let p = match mask {
            None => polyeval::evaluate(backend, &diff, &self.poly)?,
            Some(m) => polyeval::evaluate_masked(backend, &diff, &self.poly, m)?,
        };
        let base = match mask {
            None => b,
            Some(m) => {
                let v: Vec<Complex64> = m.iter().map(|&w| Complex64::new(w, 0.0)).collect();
                let pt = backend.encode(&v, backend.level(&b))?;
                backend.mul_plain_rescale(&b, &pt)?
            }
        };
        let base = backend.drop_to_level(&base, backend.level(&p))?;
        backend.add(&base, &p)
    }
}

/// The `i`-th HETAL domain-extension polynomial `x - (4/27) x^3 / (r^2 L^(2i))`: maps
/// `[-r L^(i+1), r L^(i+1)]` into `[-r L^i, r L^i]`. Depth 2.
pub fn domain_extension(r: f64, l: f64, i: i32) -> Polynomial {
    let k = 4.0 / 27.0 / (r * r * l.powi(2 * i));
    Polynomial::power(vec![0.0, 1.0, 0.0, -k])
}

/// The "precise" correction `x + (C/r^2) x^3 - (C/r^4) x^5`,
/// `C = (4/27)(L^(2n) - 1) / (L^(2n-2)(L^2 - 1))`. Depth 3.
pub fn domain_extension_correction(r: f64, l: f64, n: i32) -> Polynomial {
    let c = 4.0 / 27.0 * (l.powi(2 * n) - 1.0) / (l.powi(2 * n - 2) * (l * l - 1.0));
    Polynomial::power(vec![0.0, 1.0, 0.0, c / (r * r), 0.0, -c / r.powi(4)])
}

/// HETAL's near-Taylor degree-8 `p` with `e^x ≈ p(x/8)^8` on `[-8, 8]`.
pub const HETAL_EXP_COEFFS: [f64; 9] = [
    1.000000001945585,
    0.9999999388932228,
    0.499999859398392,
    0.16666798775227673,
    0.04166711228500117,
    0.008328336039797088,
    0.0013881473292497602,
    0.00020492629147503022,
    2.551385701569812e-05,
];

/// `p(x/8)` as a power-basis polynomial in `x` (the `1/8` folded into the coefficients).
pub fn hetal_exp_poly() -> Polynomial {
    Polynomial::power(
        HETAL_EXP_COEFFS
            .iter()
            .enumerate()
            .map(|(i, c)| c / 8f64.powi(i as i32))
            .collect(),
    )
}

/// HETAL's `e(x) = p(x/8)^8` in f64.
pub fn exp_hetal_f64(x: f64) -> f64 {
    hetal_exp_poly().eval_f64(x).powi(8)
}

/// `e^x` by a fitted polynomial followed by squarings: `q ≈ e^(x / 2^squarings)`.
#[derive(Debug, Clone)]
pub struct SquaringExp {
    /// `q`, fitted on `[lo, hi]` of `x`.
    pub poly: Polynomial,
    /// Number of squarings.
    pub squarings: u32,
    /// Measured max relative error of `q` against `e^(x/2^s)` on the interval.
    pub fit_error: f64,
}

impl SquaringExp {
    /// Depth: the polynomial's plus one per squaring.
    pub fn depth(&self) -> usize {
        self.poly.depth() + self.squarings as usize
    }

    /// f64 twin.
    pub fn eval_f64(&self, x: f64) -> f64 {
        let mut y = self.poly.eval_f64(x);
        for _ in 0..self.squarings {
            y *= y;
        }
        y
    }
}

/// Fits `e^(scale · x)` for `x ∈ [lo, hi]` as `q(x)^(2^squarings)` with a Chebyshev interpolant
/// of `degree`. (Pass the input scaling as `scale` so it costs no level.)
pub fn exp_squaring(lo: f64, hi: f64, scale: f64, squarings: u32, degree: usize) -> SquaringExp {
    let k = scale / f64::from(1u32 << squarings);
    let fit = crate::fit::chebyshev(|x| (k * x).exp(), lo, hi, degree);
    let fit_error = (0..4001)
        .map(|i| lo + (hi - lo) * f64::from(i) / 4000.0)
        .map(|x| ((fit.poly.eval_f64(x) - (k * x).exp()) / (k * x).exp()).abs())
        .fold(0.0, f64::max);
    SquaringExp {
        poly: fit.poly,
        squarings,
        fit_error,
    }
}

/// `mask ⊙ e(x)` for a [`SquaringExp`] (the mask folded in the polynomial, `mask ∈ {0, 1}`).
pub fn exp_circuit<B: SlotBackend + ?Sized>(
    backend: &B,
    x: &B::Ct,
    e: &SquaringExp,
    mask: Option<&[f64]>,
) -> Result<B::Ct> {
    exp_circuit_with(backend, x, e, mask, f64::INFINITY, &no_refresh::<B>)
}

/// A hook called before each stage of a circuit with `(ciphertext, levels the stage needs,
/// bound on its slot magnitudes)`; it returns the ciphertext to use (e.g. bootstrapped, see
/// [`crate::bootstrap::ensure_levels`]).
pub type Refresh<'a, C> = &'a dyn Fn(&C, usize, f64) -> Result<C>;

/// The identity [`Refresh`] (the caller guarantees enough levels).
pub fn no_refresh<B: SlotBackend + ?Sized>(
    ct: &B::Ct,
    _needed: usize,
    _bound: f64,
) -> Result<B::Ct> {
    Ok(ct.clone())
}

/// [`exp_circuit`] with a [`Refresh`] hook before the polynomial and each squaring; `bound`
/// bounds the intermediate values (`e^x` and its square roots).
pub fn exp_circuit_with<B: SlotBackend + ?Sized>(
    backend: &B,
    x: &B::Ct,
    e: &SquaringExp,
    mask: Option<&[f64]>,
    bound: f64,
    refresh: Refresh<'_, B::Ct>,
) -> Result<B::Ct> {
    let x = refresh(x, e.poly.depth(), 2.0)?;
    let mut y = match mask {
        None => polyeval::evaluate(backend, &x, &e.poly)?,
        Some(m) => polyeval::evaluate_masked(backend, &x, &e.poly, m)?,
    };
    for _ in 0..e.squarings {
        y = refresh(&y, 1, bound)?;
        y = backend.mul_relin_rescale(&y, &y)?;
    }
    Ok(y)
}

/// Goldschmidt inverse parameters: `1/z ≈ y / R` after `iterations` steps, valid for
/// `z ∈ (0, 2R)`; the relative error is `(1 - z/R)^(2^(iterations + 1))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Goldschmidt {
    /// The normaliser `R`.
    pub r: f64,
    /// Number of iterations.
    pub iterations: usize,
}

impl Goldschmidt {
    /// HETAL's choice: `R = 100`, 16 iterations.
    pub const HETAL: Self = Self {
        r: 100.0,
        iterations: 16,
    };

    /// Depth: one level for `z / R`, then the `y` chain lags the `t` chain by one level.
    pub fn depth(&self) -> usize {
        self.iterations + 1 + usize::from(self.iterations > 0)
    }

    /// The fewest iterations giving relative error `<= eps` for `z ∈ [z_min, R]`.
    pub fn for_range(z_min: f64, r: f64, eps: f64) -> Self {
        let t = 1.0 - z_min / r;
        let mut iterations = 0;
        while t.powf(2f64.powi(iterations as i32 + 1)) > eps {
            iterations += 1;
        }
        Self { r, iterations }
    }

    /// f64 twin: `y / R`.
    pub fn eval_f64(&self, z: f64) -> f64 {
        let mut t = 1.0 - z / self.r;
        let mut y = (1.0 + t) / self.r;
        for _ in 0..self.iterations {
            t *= t;
            y *= 1.0 + t;
        }
        y
    }
}

/// `mask ⊙ (1/z)` by [`Goldschmidt`] (with `1/R` folded in; `mask ∈ {0, 1}`, where the mask
/// is 0 the output is 0). Consumes [`Goldschmidt::depth`] levels.
///
/// ```
/// use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotClient};
/// use hetal_approx::elementary::{goldschmidt, Goldschmidt};
/// # fn main() -> hetal_ckks::Result<()> {
/// let be = PlainBackend::new(2, ScaleChain::uniform(20, 40.0));
/// let z = be.encrypt_real(&[3.0, 50.0], 20)?;
/// let y = be.decrypt_real(&goldschmidt(&be, &z, Goldschmidt::HETAL, None)?)?;
/// assert!((y[0] - 1.0 / 3.0).abs() < 1e-12 && (y[1] - 0.02).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
pub fn goldschmidt<B: SlotBackend + ?Sized>(
    backend: &B,
    z: &B::Ct,
    params: Goldschmidt,
    mask: Option<&[f64]>,
) -> Result<B::Ct> {
    goldschmidt_with(backend, z, params, mask, &no_refresh::<B>)
}

/// [`goldschmidt`] with a [`Refresh`] hook before the first step (`z <= 2R`) and before each
/// iteration (`t` in `[0, 1]` with 3 levels, `y` at most `2 / z`, bounded by 2 for `z >= 1`,
/// with 2 levels).
pub fn goldschmidt_with<B: SlotBackend + ?Sized>(
    backend: &B,
    z: &B::Ct,
    params: Goldschmidt,
    mask: Option<&[f64]>,
    refresh: Refresh<'_, B::Ct>,
) -> Result<B::Ct> {
    let z = &refresh(z, 1, 2.0 * params.r)?;
    let n = backend.slots();
    let ones = vec![1.0; n];
    let m = mask.unwrap_or(&ones);
    let level = backend.level(z);
    let enc = |v: Vec<f64>, level: usize, scale: f64| {
        let c: Vec<Complex64> = v.into_iter().map(|x| Complex64::new(x, 0.0)).collect();
        backend.encode_at_scale(&c, level, scale)
    };
    let r = params.r;
    // t = m (1 - z/R), y = m (2 - z/R) / R.
    let zr = backend.mul_plain(
        z,
        &enc(
            m.iter().map(|w| -w / r).collect(),
            level,
            backend.scale_at(level),
        )?,
    )?;
    let zr = backend.rescale(&zr)?;
    let lv = backend.level(&zr);
    let sc = backend.scale(&zr);
    let mut t = backend.add_plain(&zr, &enc(m.to_vec(), lv, sc)?)?;
    let zr2 = backend.mul_plain(
        z,
        &enc(
            m.iter().map(|w| -w / (r * r)).collect(),
            level,
            backend.scale_at(level),
        )?,
    )?;
    let zr2 = backend.rescale(&zr2)?;
    let mut y = backend.add_plain(&zr2, &enc(m.iter().map(|w| 2.0 * w / r).collect(), lv, sc)?)?;
    for _ in 0..params.iterations {
        // y <- y (1 + t^2) lands at min(level y, level t - 1) - 1: keep a level spare on both
        // so that y can still be scaled into a bootstrap's range afterwards.
        t = refresh(&t, 3, 1.0)?;
        y = refresh(&y, 2, 2.0)?;
        t = backend.mul_relin_rescale(&t, &t)?;
        let one_plus = backend.add_const(&t, Complex64::new(1.0, 0.0))?;
        let (yy, op) = backend.align_levels(&y, &one_plus)?;
        y = backend.mul_relin_rescale(&yy, &op)?;
    }
    Ok(y)
}

/// Newton's inverse: `y ← y (2 - z y)` from the initial guess `y0` (a polynomial in `z`, e.g. a
/// [`remez`](crate::fit::remez) fit of `1/z` on the range of `z`), 2 levels per iteration plus
/// the initial polynomial's depth.
///
/// ```
/// use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotClient};
/// # fn main() -> hetal_ckks::Result<()> {
/// // 1/z on [1, 16]: a degree-7 minimax start (relative error < 0.25), then 5 Newton steps.
/// let y0 = hetal_approx::fit::remez(|z| 1.0 / z, 1.0, 16.0, 7).poly;
/// let be = PlainBackend::new(1, ScaleChain::uniform(20, 40.0));
/// let z = be.encrypt_real(&[7.0], 20)?;
/// let y = be.decrypt_real(&hetal_approx::elementary::newton_inverse(&be, &z, &y0, 5)?)?;
/// assert!((y[0] - 1.0 / 7.0).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
pub fn newton_inverse<B: SlotBackend + ?Sized>(
    backend: &B,
    z: &B::Ct,
    y0: &Polynomial,
    iterations: usize,
) -> Result<B::Ct> {
    if y0.degree() == 0 {
        return Err(Error::InvalidArgument {
            op: "newton_inverse",
            reason: "the initial guess must be a non-constant polynomial".into(),
        });
    }
    let mut y = polyeval::evaluate(backend, z, y0)?;
    for _ in 0..iterations {
        let (zz, yy) = backend.align_levels(z, &y)?;
        let zy = backend.mul_relin_rescale(&zz, &yy)?;
        let two_minus = backend.add_const(&backend.neg(&zy)?, Complex64::new(2.0, 0.0))?;
        let (yy, tm) = backend.align_levels(&y, &two_minus)?;
        y = backend.mul_relin_rescale(&yy, &tm)?;
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotClient};

    fn be_newton() -> PlainBackend {
        PlainBackend::new(64, ScaleChain::uniform(20, 40.0))
    }

    fn grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect()
    }

    #[test]
    fn sign_and_max_match_twins_and_bounds() {
        let be = PlainBackend::new(2048, ScaleChain::uniform(12, 40.0));
        let xs = grid(-1.0, 1.0, 2048);
        let ys: Vec<f64> = xs.iter().map(|x| x / 2.0).collect();
        let a2 = be
            .encrypt_real(&xs.iter().map(|x| x / 2.0).collect::<Vec<_>>(), 12)
            .unwrap();
        let zero = be.encrypt_real(&vec![0.0; 2048], 12).unwrap();
        let m = max(&be, &a2, &zero, 2, None).unwrap();
        assert_eq!(12 - be.level(&m), max_depth(2));
        let out = be.decrypt_real(&m).unwrap();
        let mut worst = 0.0f64;
        for (i, &y) in ys.iter().enumerate() {
            assert!((out[i] - max_f64(y, 0.0, 2)).abs() < 1e-12);
            worst = worst.max((out[i] - y.max(0.0)).abs());
        }
        assert!(worst < 3.1e-3, "max error {worst}");
        // Sign error away from zero.
        let s_err = xs
            .iter()
            .filter(|x| x.abs() >= 1.0 / 16.0)
            .map(|&x| (sign_f64(x, 2) - x.signum()).abs())
            .fold(0.0, f64::max);
        assert!(s_err < 1.3e-2, "sign error {s_err}");
    }

    #[test]
    fn exps_are_accurate_on_their_intervals() {
        let rel = grid(-8.0, 8.0, 4001)
            .iter()
            .map(|&x| ((exp_hetal_f64(x) - x.exp()) / x.exp()).abs())
            .fold(0.0, f64::max);
        assert!(rel < 1.3e-6, "{rel}");
        assert_eq!(hetal_exp_poly().depth() + 3, 7);
        let e = exp_squaring(-1.5, 0.5, 256.0, 5, 32);
        assert_eq!(e.depth(), 6 + 5);
        let rel = grid(-40.0 / 256.0, 8.0 / 256.0, 4001)
            .iter()
            .map(|&x| ((e.eval_f64(x) - (256.0 * x).exp()) / (256.0 * x).exp()).abs())
            .fold(0.0, f64::max);
        assert!(rel < 1e-9, "{rel}");
        let be = PlainBackend::new(4, ScaleChain::uniform(16, 40.0));
        let x = be.encrypt_real(&[-1.0, -0.01, 0.0, 0.01], 16).unwrap();
        let y = exp_circuit(&be, &x, &e, Some(&[1.0, 1.0, 0.0, 1.0])).unwrap();
        assert_eq!(16 - be.level(&y), e.depth());
        let out = be.decrypt_real(&y).unwrap();
        assert!(out[2].abs() < 1e-15 && ((out[1] - (-2.56f64).exp()) / out[1]).abs() < 1e-9);
    }

    #[test]
    fn inverses_converge_on_their_ranges() {
        let g = Goldschmidt::HETAL;
        assert_eq!(g.depth(), 18);
        let rel = grid(1.0, 100.0, 2000)
            .iter()
            .map(|&z| (g.eval_f64(z) * z - 1.0).abs())
            .fold(0.0, f64::max);
        assert!(rel < 1e-12, "{rel}");
        let be = PlainBackend::new(3, ScaleChain::uniform(20, 40.0));
        let z = be.encrypt_real(&[1.0, 10.0, 150.0], 20).unwrap();
        let y = goldschmidt(&be, &z, g, Some(&[1.0, 0.0, 1.0])).unwrap();
        assert_eq!(20 - be.level(&y), g.depth());
        let out = be.decrypt_real(&y).unwrap();
        assert!((out[0] - 1.0).abs() < 1e-12 && out[1] == 0.0);
        assert!((out[2] - g.eval_f64(150.0)).abs() < 1e-15);
        // Newton from a minimax start: relative error squares each step (2 levels each).
        // Degree-7 minimax of 1/z on [1, 16] has relative error 0.21 (at z = 16).
        let y0 = crate::fit::remez(|z| 1.0 / z, 1.0, 16.0, 7).poly;
        let start = (0..1000)
            .map(|i| 1.0 + 15.0 * f64::from(i) / 999.0)
            .map(|z| (y0.eval_f64(z) * z - 1.0).abs())
            .fold(0.0, f64::max);
        assert!(start < 0.25, "{start}");
        let zs: Vec<f64> = grid(1.0, 16.0, 64);
        let z = be_newton().encrypt_real(&zs, 20).unwrap();
        let b = be_newton();
        let y = newton_inverse(&b, &z, &y0, 5).unwrap();
        assert_eq!(20 - b.level(&y), y0.depth() + 10);
        let out = b.decrypt_real(&y).unwrap();
        for (o, z) in out.iter().zip(&zs) {
            assert!((o * z - 1.0).abs() < 1e-12);
        }
        let tuned = Goldschmidt::for_range(0.9, 24.0, 1e-7);
        assert!(tuned.iterations < 16);
        assert!((tuned.eval_f64(0.9) * 0.9 - 1.0).abs() <= 1e-7);
    }

    #[test]
    fn relu_max_is_one_sided_and_shallow() {
        let r = ReluMax::fit(63);
        assert!(r.gap < 4.6e-3, "{}", r.gap);
        let xs = grid(-0.5, 0.5, 1024);
        let be = PlainBackend::new(1024, ScaleChain::uniform(8, 40.0));
        let a = be.encrypt_real(&xs, 8).unwrap();
        let bv: Vec<f64> = xs.iter().map(|x| 0.3 * (7.0 * x).sin()).collect();
        let b = be.encrypt_real(&bv, 8).unwrap();
        let m = r.max(&be, &a, &b, None).unwrap();
        assert_eq!(8 - be.level(&m), r.depth());
        assert_eq!(r.depth(), 6);
        let out = be.decrypt_real(&m).unwrap();
        for i in 0..1024 {
            let exact = xs[i].max(bv[i]);
            assert!((out[i] - r.max_f64(xs[i], bv[i])).abs() < 1e-12);
            assert!(out[i] <= exact + 1e-12 && out[i] >= exact - r.gap - 1e-12);
        }
    }

    #[test]
    fn domain_extension_maps_ranges() {
        let (r, l, n) = (8.0, 2.0, 5);
        for i in (0..n).rev() {
            let p = domain_extension(r, l, i);
            assert_eq!(p.depth(), 2);
            let wide = r * l.powi(i + 1);
            let img = grid(-wide, wide, 4001)
                .iter()
                .map(|&x| p.eval_f64(x).abs())
                .fold(0.0, f64::max);
            assert!(img <= r * l.powi(i) * (1.0 + 1e-12), "step {i}: {img}");
        }
        assert_eq!(domain_extension_correction(r, l, n).depth(), 3);
    }
}
