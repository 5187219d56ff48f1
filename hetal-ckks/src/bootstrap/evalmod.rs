//! EvalMod fitting (pure `f64`, no homomorphic evaluation): the scaled cosine, its
//! double-angle steps, the optional arcsine correction, and the achieved error.
//!
//! After ModRaise and CoeffsToSlots every slot holds `x = t/q_0 = I + ε` where `I` is an
//! integer with `|I| < K` and `ε = Δ·m/q_0` is the message, small compared to 1
//! (`|ε| <= 2^{-log_message_ratio}`). EvalMod must return `ε = x mod 1` (centered). The classic
//! approximation (Cheon et al. 2018, Han–Ki 2020, Bossuat et al. 2021; Lattigo's `EvalMod`) is
//!
//! ```text
//! x mod 1 ≈ (1/2π) sin(2π x) = (1/2π) cos(2π (x - 1/4))
//!   cos(2π (x - 1/4)) = D^r( cos(2π (x - 1/4) / 2^r) ),   D(c) = 2c² - 1   (r double angles)
//! ```
//!
//! where the inner cosine, whose argument stays small, is interpolated by a polynomial of modest
//! degree in the Chebyshev basis of `[-K, K]`, in one of two ways ([`CosineFit`]): at the
//! Chebyshev nodes (accurate on all of `[-K, K]`), or at the integers of `(-K, K)` only, where
//! `x` actually lies (Han–Ki 2020's discrete cosine; Lattigo's `CosDiscrete`). The second is
//! far more accurate near the integers at the same degree, which saves a double angle, i.e.
//! a level. The sine itself differs from `x mod 1` by
//! `≈ (2π)² ε³ / 6`; the optional **arcsine** correction `(1/2π) arcsin(2π y)` (a Taylor
//! polynomial, odd degree) removes most of that.
//!
//! [`EvalModFit`] computes the Chebyshev coefficients (for the polynomial evaluator to
//! evaluate), simulates the whole chain in `f64` ([`EvalModFit::eval`]), and reports the
//! achieved error against the centered `x mod 1` near the integers of `(-K, K)`
//! ([`EvalModFit::error_report`]). The pre- and post-factors that map coefficient values into the
//! interpolation interval and back are [`EvalModConfig::c2s_prefactor`] and
//! [`EvalModConfig::s2c_postfactor`] (folded into the DFT matrices by [`super::dft`]).

use super::dd::{self, Dd};
use crate::backend::{Complex64, SlotBackend};
use crate::polyeval::{self, Polynomial};
use crate::{Error, Result};
use std::f64::consts::PI;

/// A polynomial in the Chebyshev basis on `[a, b]`:
/// `p(x) = Σ_k coeffs[k] · T_k((2x - a - b) / (b - a))`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChebyshevSeries {
    /// Coefficients, `T_0` first.
    pub coeffs: Vec<f64>,
    /// Left end of the interval.
    pub a: f64,
    /// Right end of the interval.
    pub b: f64,
}

impl ChebyshevSeries {
    /// Interpolates `f` at the `degree + 1` Chebyshev nodes of the first kind on `[a, b]`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `a < b` (both finite).
    pub fn interpolate(f: impl Fn(f64) -> f64, degree: usize, a: f64, b: f64) -> Result<Self> {
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(Error::InvalidArgument {
                op: "ChebyshevSeries::interpolate",
                reason: format!("interval [{a}, {b}] is empty or not finite"),
            });
        }
        let m = degree + 1;
        let nodes: Vec<f64> = (0..m)
            .map(|j| (PI * (j as f64 + 0.5) / m as f64).cos())
            .collect();
        let values: Vec<f64> = nodes
            .iter()
            .map(|&t| f(0.5 * (b - a) * t + 0.5 * (a + b)))
            .collect();
        let coeffs = (0..m)
            .map(|k| {
                let s: f64 = (0..m)
                    .map(|j| values[j] * (PI * k as f64 * (j as f64 + 0.5) / m as f64).cos())
                    .sum();
                let w = if k == 0 { 1.0 } else { 2.0 };
                w * s / m as f64
            })
            .collect();
        Ok(Self { coeffs, a, b })
    }

    /// The polynomial of degree `points.len() - 1` through the given `(x, y)` points, its
    /// Chebyshev coefficients on `[a, b]` solved in double-double arithmetic: interpolation at
    /// equispaced points is ill-conditioned (`~1e9` for 31 points), and the coefficients must
    /// still be right to `f64` precision.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `a < b`, there is at least one point, and the `x` are
    /// distinct.
    pub fn through_points(points: &[(f64, f64)], a: f64, b: f64) -> Result<Self> {
        let bad = |reason: String| Error::InvalidArgument {
            op: "ChebyshevSeries::through_points",
            reason,
        };
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(bad(format!("interval [{a}, {b}] is empty or not finite")));
        }
        if points.is_empty() {
            return Err(bad("no points".into()));
        }
        let m = points.len();
        let (mid, half) = (Dd::from(0.5) * (Dd::from(a) + Dd::from(b)), {
            Dd::from(0.5) * (Dd::from(b) - Dd::from(a))
        });
        let rows: Vec<Vec<Dd>> = points
            .iter()
            .map(|&(x, _)| {
                let t = (Dd::from(x) - mid) / half;
                let mut row = Vec::with_capacity(m);
                row.push(Dd::ONE);
                if m > 1 {
                    row.push(t);
                }
                for k in 2..m {
                    let next = Dd::from(2.0) * t * row[k - 1] - row[k - 2];
                    row.push(next);
                }
                row
            })
            .collect();
        let rhs = points.iter().map(|&(_, y)| Dd::from(y)).collect();
        let coeffs = dd::solve(rows, rhs)
            .ok_or_else(|| bad("the points do not determine a polynomial (repeated x?)".into()))?
            .into_iter()
            .map(Dd::to_f64)
            .collect();
        Ok(Self { coeffs, a, b })
    }

    /// The degree (number of coefficients minus one).
    pub fn degree(&self) -> usize {
        self.coeffs.len().saturating_sub(1)
    }

    /// Evaluates `p(x)` with Clenshaw's recurrence.
    pub fn eval(&self, x: f64) -> f64 {
        let t = (2.0 * x - self.a - self.b) / (self.b - self.a);
        let (mut b1, mut b2) = (0.0, 0.0);
        for &c in self.coeffs.iter().skip(1).rev() {
            let b0 = 2.0 * t * b1 - b2 + c;
            b2 = b1;
            b1 = b0;
        }
        t * b1 - b2 + self.coeffs.first().copied().unwrap_or(0.0)
    }
}

/// How EvalMod's inner cosine `cos(2π (x - 1/4) / 2^r)` is fitted on `[-K, K]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CosineFit {
    /// Interpolation at the `degree + 1` Chebyshev nodes of `[-K, K]`: accurate everywhere on
    /// the interval. At `K = 16` and degree 30 it needs `r = 4` double angles to reach `f64`
    /// precision (`r = 3` leaves `2e-10`, amplified to about 15 bits of bootstrapping
    /// precision at `N = 2^16`).
    Continuous,
    /// Interpolation at the `2K - 1` integers of `(-K, K)` (so the degree is exactly `2K - 2`):
    /// exact where `x = I + ε` lies when `ε = 0`, and off by about `|ε|` times the derivative
    /// error there otherwise. That derivative error is tiny for the integers near 0, which is
    /// where `I` concentrates (ModRaise's `I` is a rounded sum of `h + 1` terms in
    /// `[-1/2, 1/2]`: standard deviation 1.7 for an ephemeral weight of 32), and grows towards
    /// `±(K - 1)`, which are rarely reached. This is Han and Ki's discrete cosine fit (Better
    /// Bootstrapping for Approximate HE, CT-RSA 2020) with one node per integer, which is what
    /// Lattigo's `CosDiscrete` reduces to at `K = 16` and degree 30. At `N = 2^16` it beats the
    /// continuous fit with one double angle more, at one level less.
    Integers,
}

/// The parameters of EvalMod.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalModConfig {
    /// The interval `[-K, K]` of `x = t/q_0` (bounded by the secret's Hamming weight).
    pub k: f64,
    /// Degree of the interpolant of the inner cosine.
    pub degree: usize,
    /// Where the inner cosine is interpolated.
    pub fit: CosineFit,
    /// Number `r` of double-angle steps.
    pub double_angles: u32,
    /// Degree of the arcsine Taylor correction (odd, `>= 3`), or 0 for none.
    pub arcsine_degree: usize,
    /// `log2(q_0 / |m|_max)`: messages satisfy `|ε| <= 2^{-log_message_ratio}`.
    pub log_message_ratio: f64,
}

impl EvalModConfig {
    /// The EvalMod of Lattigo's `N16QP1546H192H32` bootstrapping preset: `K = 16`, a degree-30
    /// cosine interpolant at the integers of `(-16, 16)`, 3 double angles, no arcsine, message
    /// ratio `2^8` (8 levels).
    pub fn n16qp1546h192h32() -> Self {
        Self {
            k: 16.0,
            degree: 30,
            fit: CosineFit::Integers,
            double_angles: 3,
            arcsine_degree: 0,
            log_message_ratio: 8.0,
        }
    }

    /// The real factor CoeffsToSlots folds in so that `x = t/q_0` (coefficients read at scale
    /// `scale`) lands in the interpolation interval as `x/K ∈ [-1, 1]`: `scale / (q_0·K)`.
    /// `x/K` is exactly the variable of the Chebyshev basis of [`EvalModFit::cosine`]
    /// (`T_1 = x/K`), so the polynomial evaluation needs no affine map of its own.
    pub fn c2s_prefactor(&self, scale: f64, q0: f64) -> f64 {
        scale / (q0 * self.k)
    }

    /// The real factor SlotsToCoeffs folds in to turn EvalMod's output `ε = Δ·m/q_0` back into
    /// the message at scale `scale`: `q_0 / scale`.
    pub fn s2c_postfactor(&self, scale: f64, q0: f64) -> f64 {
        q0 / scale
    }

    fn validate(&self) -> Result<()> {
        let bad = |reason: String| {
            Err(Error::InvalidArgument {
                op: "EvalModConfig",
                reason,
            })
        };
        if !(self.k.is_finite() && self.k >= 1.0) {
            return bad(format!("K = {} must be at least 1", self.k));
        }
        if self.degree == 0 {
            return bad("the cosine interpolant needs a positive degree".into());
        }
        if self.fit == CosineFit::Integers
            && (self.k.fract() != 0.0 || self.degree as f64 != 2.0 * self.k - 2.0)
        {
            return bad(format!(
                "the integer fit interpolates at the 2K - 1 integers of (-K, K): K must be an \
                 integer and the degree 2K - 2 (K = {}, degree {})",
                self.k, self.degree
            ));
        }
        if self.arcsine_degree != 0
            && (self.arcsine_degree < 3 || self.arcsine_degree.is_multiple_of(2))
        {
            return bad(format!(
                "arcsine degree {} must be 0 or odd and >= 3",
                self.arcsine_degree
            ));
        }
        if !(self.log_message_ratio.is_finite() && self.log_message_ratio >= 2.0) {
            return bad(format!(
                "log message ratio {} must be at least 2 (|ε| <= 1/4)",
                self.log_message_ratio
            ));
        }
        if self.double_angles > 16 {
            return bad(format!(
                "{} double angles is unreasonable",
                self.double_angles
            ));
        }
        Ok(())
    }
}

/// The achieved accuracy of an [`EvalModFit`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalModError {
    /// Largest `|EvalMod(x) - (x mod 1)|` over `x = I + ε`, `|I| <= K - 1`,
    /// `|ε| <= 2^{-log_message_ratio}` (units of `q_0`).
    pub max_error: f64,
    /// `-log2(max_error)`.
    pub bits: f64,
    /// `log2(ε_max / max_error)`: bits of precision relative to the largest message.
    pub message_bits: f64,
    /// Largest error of the cosine interpolant against the exact cosine where it is meant to
    /// hold: all of `[-K, K]` for [`CosineFit::Continuous`], within `ε_max` of the integers for
    /// [`CosineFit::Integers`].
    pub cosine_fit_error: f64,
    /// `max_error` restricted to each `|I|` (index `|I|`, `0 ..= K - 1`): for the integer fit
    /// it grows from the center, where ModRaise's `I` concentrates, to the rarely reached ends.
    pub max_error_by_integer: Vec<f64>,
    /// The error the exact (1/2π)·sin (arcsine-corrected if configured) would have at
    /// `ε_max`: the floor that a better interpolant cannot beat.
    pub intrinsic_error: f64,
}

/// The fitted EvalMod polynomials and their `f64` simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalModFit {
    config: EvalModConfig,
    cosine: ChebyshevSeries,
    arcsine: Vec<f64>,
}

/// Monomial coefficients (index = power) of the Taylor polynomial of `arcsin` up to `degree`.
pub fn arcsine_taylor(degree: usize) -> Vec<f64> {
    let mut coeffs = vec![0.0; degree + 1];
    // a_{2k+1} = (2k)! / (4^k (k!)² (2k+1)); ratio of consecutive central binomial terms.
    let mut central = 1.0; // (2k)! / (4^k (k!)^2)
    let mut k = 0usize;
    while 2 * k < degree {
        coeffs[2 * k + 1] = central / (2 * k + 1) as f64;
        central *= (2 * k + 1) as f64 / (2 * k + 2) as f64;
        k += 1;
    }
    coeffs
}

/// `cos(2π (i - 1/4) / 2^r) = cos(π m / 2^{r+1})` with `m = 4i - 1`, the angle reduced
/// exactly (in the integer `m`) to `[-π, π]` before the one rounding of `π m / 2^{r+1}`: the
/// interpolation data are then right to an ulp or two, even at `|i| = K - 1`.
fn cosine_at_integer(i: i64, double_angles: u32) -> f64 {
    let half_period = 1i64 << (double_angles + 1); // m and m + 2·half_period give the same cosine
    let mut m = (4 * i - 1).rem_euclid(2 * half_period);
    if m > half_period {
        m -= 2 * half_period;
    }
    (PI * m as f64 / half_period as f64).cos()
}

fn horner(coeffs: &[f64], x: f64) -> f64 {
    coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

impl EvalModFit {
    /// Fits the inner cosine `cos(2π (x - 1/4) / 2^r)` on `[-K, K]` (as [`CosineFit`] says)
    /// and the arcsine correction.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an invalid configuration.
    pub fn new(config: EvalModConfig) -> Result<Self> {
        config.validate()?;
        let scale = (config.double_angles as f64).exp2();
        let cosine = match config.fit {
            CosineFit::Continuous => ChebyshevSeries::interpolate(
                |x| (2.0 * PI * (x - 0.25) / scale).cos(),
                config.degree,
                -config.k,
                config.k,
            )?,
            CosineFit::Integers => {
                let kmax = config.k as i64 - 1;
                let points: Vec<(f64, f64)> = (-kmax..=kmax)
                    .map(|i| (i as f64, cosine_at_integer(i, config.double_angles)))
                    .collect();
                ChebyshevSeries::through_points(&points, -config.k, config.k)?
            }
        };
        let arcsine = if config.arcsine_degree == 0 {
            Vec::new()
        } else {
            arcsine_taylor(config.arcsine_degree)
        };
        Ok(Self {
            config,
            cosine,
            arcsine,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EvalModConfig {
        &self.config
    }

    /// The Chebyshev interpolant of the inner cosine on `[-K, K]` (what the polynomial
    /// evaluator evaluates first).
    pub fn cosine(&self) -> &ChebyshevSeries {
        &self.cosine
    }

    /// The monomial coefficients of the arcsine correction (empty if none).
    pub fn arcsine(&self) -> &[f64] {
        &self.arcsine
    }

    /// The whole chain in `f64`: interpolant, `r` double angles, `1/2π`, arcsine correction.
    pub fn eval(&self, x: f64) -> f64 {
        let mut y = self.cosine.eval(x);
        for _ in 0..self.config.double_angles {
            y = 2.0 * y * y - 1.0;
        }
        let s = y / (2.0 * PI);
        if self.arcsine.is_empty() {
            s
        } else {
            horner(&self.arcsine, 2.0 * PI * s) / (2.0 * PI)
        }
    }

    /// The achieved error near the integers of `(-K, K)`: `samples` values of `ε` evenly spaced
    /// in `[-ε_max, ε_max]` around each integer `I`, `|I| <= K - 1`. The cosine fit is measured
    /// where it is meant to hold: for [`CosineFit::Continuous`] on a uniform grid of `128·K`
    /// points (at least 1024, at most 65 536) over `[-K, K]`, for [`CosineFit::Integers`] at the
    /// same near-integer samples.
    pub fn error_report(&self, samples: usize) -> EvalModError {
        let cfg = &self.config;
        let eps_max = (-cfg.log_message_ratio).exp2();
        let samples = samples.max(2);
        let kmax = (cfg.k - 1.0).floor() as i64;
        let scale = (cfg.double_angles as f64).exp2();
        let exact_cosine = |x: f64| (2.0 * PI * (x - 0.25) / scale).cos();
        let mut max_error_by_integer = vec![0.0f64; kmax as usize + 1];
        let mut near_integer_fit_error: f64 = 0.0;
        for i in -kmax..=kmax {
            for s in 0..samples {
                let eps = -eps_max + 2.0 * eps_max * s as f64 / (samples - 1) as f64;
                let x = i as f64 + eps;
                let slot = &mut max_error_by_integer[i.unsigned_abs() as usize];
                *slot = slot.max((self.eval(x) - eps).abs());
                near_integer_fit_error =
                    near_integer_fit_error.max((self.cosine.eval(x) - exact_cosine(x)).abs());
            }
        }
        let max_error = max_error_by_integer.iter().copied().fold(0.0, f64::max);
        let cosine_fit_error = match cfg.fit {
            CosineFit::Integers => near_integer_fit_error,
            CosineFit::Continuous => {
                let grid = ((64.0 * 2.0 * cfg.k) as usize).clamp(1024, 65_536);
                (0..=grid)
                    .map(|g| {
                        let x = -cfg.k + 2.0 * cfg.k * g as f64 / grid as f64;
                        (self.cosine.eval(x) - exact_cosine(x)).abs()
                    })
                    .fold(0.0, f64::max)
            }
        };
        let sine = (2.0 * PI * eps_max).sin() / (2.0 * PI);
        let ideal = if self.arcsine.is_empty() {
            sine
        } else {
            horner(&self.arcsine, 2.0 * PI * sine) / (2.0 * PI)
        };
        EvalModError {
            max_error,
            bits: -max_error.log2(),
            message_bits: (eps_max / max_error).log2(),
            cosine_fit_error,
            max_error_by_integer,
            intrinsic_error: (ideal - eps_max).abs(),
        }
    }

    /// Levels EvalMod consumes with a depth-optimal polynomial evaluation
    /// (see [`super::levels::EvalModLevels`]).
    pub fn depth(&self) -> usize {
        super::levels::EvalModLevels::from_config(&self.config).total()
    }
}

impl EvalModFit {
    /// The inner cosine as a [`Polynomial`] in the Chebyshev basis of `[-1, 1]`: its variable
    /// is `x/K`, what CoeffsToSlots delivers, so [`crate::polyeval`] needs no affine map.
    pub fn cosine_polynomial(&self) -> Polynomial {
        Polynomial::chebyshev(self.cosine.coeffs.clone(), -1.0, 1.0)
    }

    /// The arcsine correction as a power-basis [`Polynomial`] in `y = sin(2πx)` (its output is
    /// `2π·(x mod 1)`), if configured.
    pub fn arcsine_polynomial(&self) -> Option<Polynomial> {
        (!self.arcsine.is_empty()).then(|| Polynomial::power(self.arcsine.clone()))
    }

    /// The `f64` twin of [`EvalModFit::evaluate`]: `2π · eval(x)`, i.e. `≈ 2π·(x mod 1)`.
    pub fn eval_scaled(&self, x: f64) -> f64 {
        2.0 * PI * self.eval(x)
    }

    /// Evaluates EvalMod homomorphically on a ciphertext holding `x/K` (real, in `[-1, 1]`):
    /// the cosine interpolant (depth `ceil(log2(d + 1))`), `r` double angles
    /// `c ← 2c² - 1` (one level each) and the optional arcsine correction. Returns
    /// `≈ 2π·(x mod 1)` (centered): the constant `1/2π` is left to the caller, because
    /// bootstrapping folds it into the scale it declares for the result at no cost (a
    /// multiplication by `1/2π` would cost a level or precision).
    ///
    /// Consumes exactly [`EvalModFit::depth`] levels, all through canonical operations of the
    /// backend: on a [`super::view::BootView`] the backend's scale tables decide the scales.
    ///
    /// # Errors
    /// [`Error::LevelExhausted`] with fewer levels than [`EvalModFit::depth`]; backend errors.
    pub fn evaluate<B: SlotBackend + ?Sized>(&self, backend: &B, x: &B::Ct) -> Result<B::Ct> {
        let level = backend.level(x);
        let depth = self.depth();
        if level < depth {
            return Err(Error::LevelExhausted {
                op: "EvalMod",
                level,
                needed: depth,
            });
        }
        let mut y = polyeval::evaluate(backend, x, &self.cosine_polynomial())?;
        for _ in 0..self.config.double_angles {
            let sq = backend.mul_relin_rescale(&y, &y)?;
            y = backend.add_const(&backend.mul_int(&sq, 2)?, Complex64::new(-1.0, 0.0))?;
        }
        if let Some(arcsine) = self.arcsine_polynomial() {
            y = polyeval::evaluate(backend, &y, &arcsine)?;
        }
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chebyshev_interpolation_is_exact_on_polynomials_and_converges() {
        let p = |x: f64| 3.0 * x * x * x - x + 0.5;
        let s = ChebyshevSeries::interpolate(p, 5, -2.0, 3.0).unwrap();
        for i in 0..=50 {
            let x = -2.0 + 5.0 * i as f64 / 50.0;
            assert!((s.eval(x) - p(x)).abs() < 1e-12);
        }
        assert!(s.coeffs[4].abs() < 1e-13 && s.coeffs[5].abs() < 1e-13);
        let e = ChebyshevSeries::interpolate(f64::exp, 20, -1.0, 1.0).unwrap();
        assert!((e.eval(0.3) - 0.3f64.exp()).abs() < 1e-15);
        assert!(ChebyshevSeries::interpolate(f64::exp, 3, 1.0, 1.0).is_err());
    }

    #[test]
    fn arcsine_series() {
        let a = arcsine_taylor(9);
        assert_eq!(a[0], 0.0);
        assert_eq!(a[1], 1.0);
        assert!((a[3] - 1.0 / 6.0).abs() < 1e-16);
        assert!((a[5] - 3.0 / 40.0).abs() < 1e-16);
        assert!((a[7] - 15.0 / 336.0).abs() < 1e-16);
        assert!((horner(&arcsine_taylor(41), 0.3) - 0.3f64.asin()).abs() < 1e-15);
    }

    fn continuous(cfg: EvalModConfig) -> EvalModConfig {
        EvalModConfig {
            fit: CosineFit::Continuous,
            ..cfg
        }
    }

    #[test]
    fn continuous_fit_error_bound() {
        // K = 16, degree 30, 3 double angles, |ε| <= 2^-8, Chebyshev nodes.
        let fit = EvalModFit::new(continuous(EvalModConfig::n16qp1546h192h32())).unwrap();
        let r = fit.error_report(257);
        // The interpolant of cos(2π(x - 1/4)/8) on [-16, 16] is accurate to ~2e-10.
        assert!(
            r.cosine_fit_error < 1e-9,
            "cosine fit {:e}",
            r.cosine_fit_error
        );
        // The error is dominated by the sine itself: (2π)² ε³ / 6 ≈ 3.9e-7 at ε = 2^-8.
        let intrinsic = (2.0 * PI).powi(2) * (2f64.powi(-8)).powi(3) / 6.0;
        assert!((r.intrinsic_error / intrinsic - 1.0).abs() < 1e-3);
        assert!(r.max_error >= r.intrinsic_error * 0.999);
        assert!(r.max_error < r.intrinsic_error * 1.1, "{r:?}");
        assert!(r.bits > 21.0 && r.bits < 21.5, "{r:?}");
        assert_eq!(fit.depth(), 8); // 5 for degree 30, 3 double angles
    }

    #[test]
    fn integer_fit_is_exact_near_the_center_and_bounded_at_the_ends() {
        let lattigo = EvalModConfig::n16qp1546h192h32();
        assert_eq!(lattigo.fit, CosineFit::Integers);
        let fit = EvalModFit::new(lattigo).unwrap();
        assert_eq!(fit.depth(), 8);
        assert_eq!(fit.cosine().degree(), 30);
        // At the integers themselves the interpolant is the cosine, to the rounding of its
        // coefficients (the data are correctly reduced, the system solved in double-double).
        for i in -15..=15 {
            let x = i as f64;
            let exact = (2.0 * PI * (x - 0.25) / 8.0).cos();
            let e = (fit.cosine().eval(x) - exact).abs();
            assert!(e < 2e-15, "I = {i}: {e:e}");
        }
        // Message coefficients at N = 2^16 are |ε| <~ 2^-14 (2^-8 of a slot's 2^-7.5-sized
        // share, a few standard deviations): there the fit adds nothing to the sine's own
        // error for |I| <= 7 (measured max |I| at N = 2^16: 7), where the continuous fit with
        // the same degree and double angles is off by ~2e-9.
        let at = |cfg: EvalModConfig| {
            EvalModFit::new(EvalModConfig {
                log_message_ratio: 14.0,
                ..cfg
            })
            .unwrap()
            .error_report(65)
        };
        let (ints, cont) = (at(lattigo), at(continuous(lattigo)));
        for i in 0..=7 {
            let e = ints.max_error_by_integer[i];
            assert!(
                e < ints.intrinsic_error * 1.01 + 1e-15,
                "|I| = {i}: {ints:?}"
            );
        }
        let central = |r: &EvalModError| {
            r.max_error_by_integer[..=7]
                .iter()
                .copied()
                .fold(0.0, f64::max)
        };
        assert!(central(&cont) > 100.0 * central(&ints), "{cont:?}");
        // Towards ±15 the derivative mismatch grows, but stays bounded: a rare large |I|
        // costs precision, never the bootstrap (at the full |ε| <= 2^-8 of the config).
        let wide = fit.error_report(65);
        let ends = wide.max_error_by_integer[15];
        assert!(
            ends > wide.max_error_by_integer[0] && ends < 1e-5,
            "{wide:?}"
        );
        eprintln!("integer fit: {ints:?}\ncontinuous fit: {cont:?}\nfull range: {wide:?}");
    }

    #[test]
    fn integer_fit_needs_degree_2k_minus_2() {
        for (k, degree) in [(16.0, 31), (16.0, 20), (15.5, 29)] {
            let cfg = EvalModConfig {
                k,
                degree,
                ..EvalModConfig::n16qp1546h192h32()
            };
            let err = EvalModFit::new(cfg).unwrap_err().to_string();
            assert!(err.contains("2K - 2"), "{err}");
        }
        let small = EvalModConfig {
            k: 4.0,
            degree: 6,
            ..EvalModConfig::n16qp1546h192h32()
        };
        let fit = EvalModFit::new(small).unwrap();
        for i in -3..=3 {
            let exact = (2.0 * PI * (i as f64 - 0.25) / 8.0).cos();
            assert!((fit.cosine().eval(i as f64) - exact).abs() < 1e-15);
        }
    }

    #[test]
    fn through_points_recovers_a_polynomial_and_rejects_repeated_nodes() {
        let p = |x: f64| 0.25 * x.powi(4) - x + 2.0;
        let pts: Vec<(f64, f64)> = (-2..=2).map(|i| (i as f64, p(i as f64))).collect();
        let s = ChebyshevSeries::through_points(&pts, -4.0, 4.0).unwrap();
        for i in 0..=40 {
            let x = -4.0 + 0.2 * i as f64;
            assert!((s.eval(x) - p(x)).abs() < 1e-13);
        }
        assert!(ChebyshevSeries::through_points(&[(1.0, 0.0), (1.0, 1.0)], -1.0, 2.0).is_err());
        assert!(ChebyshevSeries::through_points(&[], -1.0, 1.0).is_err());
        assert!(ChebyshevSeries::through_points(&[(0.0, 1.0)], 1.0, 1.0).is_err());
    }

    #[test]
    fn arcsine_removes_the_sine_error() {
        let cfg = EvalModConfig {
            arcsine_degree: 7,
            ..EvalModConfig::n16qp1546h192h32()
        };
        let fit = EvalModFit::new(cfg).unwrap();
        let r = fit.error_report(257);
        let plain = EvalModFit::new(EvalModConfig::n16qp1546h192h32())
            .unwrap()
            .error_report(257);
        // Now the interpolation error (amplified by the double angles) dominates.
        assert!(r.intrinsic_error < 1e-14, "{r:?}");
        assert!(r.max_error < plain.max_error / 10.0, "{r:?} vs {plain:?}");
        assert_eq!(fit.depth(), 8 + 3);
    }

    #[test]
    fn too_low_degree_or_too_few_double_angles_fail_the_bound() {
        // Degree 30 without double angles cannot follow 16 periods of the sine.
        let cfg = EvalModConfig {
            double_angles: 0,
            ..continuous(EvalModConfig::n16qp1546h192h32())
        };
        let r = EvalModFit::new(cfg).unwrap().error_report(65);
        assert!(r.max_error > 1e-2, "{r:?}");
        let cfg = EvalModConfig {
            degree: 12,
            ..continuous(EvalModConfig::n16qp1546h192h32())
        };
        let r = EvalModFit::new(cfg).unwrap().error_report(65);
        assert!(r.max_error > 1e-5, "{r:?}");
        assert!(
            EvalModFit::new(EvalModConfig {
                arcsine_degree: 4,
                ..EvalModConfig::n16qp1546h192h32()
            })
            .is_err()
        );
    }

    #[test]
    fn pre_and_post_factors_invert() {
        let cfg = EvalModConfig::n16qp1546h192h32();
        let (scale, q0) = (2f64.powi(40), 2f64.powi(48));
        let pre = cfg.c2s_prefactor(scale, q0);
        // A coefficient t = q0·K (read as t/scale) maps to 1.
        assert!(((q0 * cfg.k / scale) * pre - 1.0).abs() < 1e-15);
        assert!((cfg.s2c_postfactor(scale, q0) * scale / q0 - 1.0).abs() < 1e-15);
    }
}
