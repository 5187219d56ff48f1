//! Row-wise softmax of a packed block of logits (HETAL, ICML 2023, section 6 of the reference),
//! and a lower-depth variant.
//!
//! # Layout
//!
//! A ciphertext of `n` slots holds an `s0 x s1` block in row-major order (`n = s0 · s1`). The
//! `c` classes are padded to `c' = 2^ceil(log2 c)` and **tiled along each row** with period `c'`:
//! slot `i·s1 + j` holds `logits[i][j mod c']` (`c' | s1`). Pad positions (`j mod c' >= c`) may
//! hold anything; the output is the softmax of each row's `c` classes, tiled the same way, with 0
//! in the pads.
//!
//! # Pipeline (all variants)
//!
//! 1. `x' = x/(2 R_max)` at real classes, `-1/2` at pads (one plaintext product: 1 level);
//! 2. max tournament, `m <- max(m, Rot(m, 2^j))` for `j < log2 c'`, with the composite-sign
//!    max of [`elementary::max`] (HETAL variants) or the one-sided [`ReluMax`] (`fast`). Only the first slot of each tile is guaranteed to hold its
//!    row's max (a tile at the end of a row reads the next row), so the last round is masked to
//!    those slots (free: the mask is folded into polynomial coefficients) and broadcast back over
//!    the tile by `log2 c'` right rotations (no level);
//! 3. `d = x' - m`;
//! 4. `e = exp(2 R_max d)` masked to the real classes (mask folded, free):
//!    - `hetal_normal`: 5 domain-extension steps, then `p(x/8)^8`;
//!    - `hetal_precise`: the same plus the degree-5 correction before the exp;
//!    - `fast`: no domain extension: a Chebyshev fit `q(d) ≈ e^(2 R_max d / 2^s)` on
//!      `[-1.5, 0.5]` (`α = 1`: the affine map is free) then `s` squarings (exact up to the fit);
//! 5. `z = Σ_tile e` by `log2 c'` left rotations (valid at each tile's first slot);
//! 6. `1/z` by Goldschmidt, masked to the first slots (free), broadcast over the tile;
//! 7. output `e · (1/z)` (1 level).
//!
//! Rotation steps: `±2^j` for `j < log2 c'` (declared by [`SoftmaxPlan::rotations`]).
//!
//! ```
//! use hetal_approx::softmax::{SoftmaxLayout, SoftmaxPlan, Variant};
//! use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotClient};
//!
//! # fn main() -> hetal_ckks::Result<()> {
//! let layout = SoftmaxLayout::new(16, 8, 3)?; // 2 rows of 8 slots, 3 classes tiled with period 4
//! let plan = SoftmaxPlan::new(Variant::Fast, layout);
//! let be = PlainBackend::new(16, ScaleChain::uniform(plan.depth(), 40.0));
//! let logits = [1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 0.0, -50.0, 20.0, 20.0, 0.0, -50.0, 20.0, 20.0, 0.0];
//! let x = be.encrypt_real(&logits, plan.depth())?;
//! let y = be.decrypt_real(&plan.evaluate(&be, &x)?)?;
//! let exact = hetal_approx::softmax::softmax_f64(&[1.0, 2.0, 3.0]);
//! assert!((y[2] - exact[2]).abs() < 1e-6 && (y[6] - exact[2]).abs() < 1e-6);
//! assert!((y[9] - 0.5).abs() < 1e-6 && y[3].abs() < 1e-12);
//! # Ok(())
//! # }
//! ```

use crate::elementary::{self, Goldschmidt, Refresh, ReluMax, SquaringExp};
use hetal_ckks::backend::{Bootstrap, Complex64, SlotBackend};
use hetal_ckks::polyeval;
use hetal_ckks::{Error, Result};

/// HETAL's constants: `r = 8`, `L = 2`, `n = 5`, `R_max = (r/2) L^n = 128`.
pub const R: f64 = 8.0;
/// Domain-extension ratio `L`.
pub const L: f64 = 2.0;
/// Number of domain-extension steps `n`.
pub const N: i32 = 5;
/// `R_max = (r/2) L^n = 128`: the input range `[-R_max, R_max]`.
pub const R_MAX: f64 = 128.0;

/// The parameters of [`Variant::Fast`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FastConfig {
    /// Degree of the one-sided ReLU polynomial of the tournament's max ([`ReluMax`]).
    pub relu_degree: usize,
    /// Squarings after the exp polynomial.
    pub squarings: u32,
    /// Degree of the exp polynomial, a Chebyshev interpolant of `e^(256 d / 2^squarings)` on
    /// `d ∈ [-1.5, 0.5]` (the affine map is free there: `α = 1`).
    pub exp_degree: usize,
    /// Target relative error of the Goldschmidt inverse over the row-sum range.
    pub inverse_eps: f64,
}

impl FastConfig {
    /// The measured default (docs/performance.md).
    pub const DEFAULT: Self = Self {
        relu_degree: 63,
        squarings: 6,
        exp_degree: 15,
        inverse_eps: 1e-6,
    };

    /// The Goldschmidt inverse for a layout and the tournament's max. The one-sided max never
    /// exceeds the true max, so the row sum `z` is at least 1 (up to rounding); each round
    /// undershoots by at most `gap` (normalized), i.e. `2 R_max gap` in logit units, so
    /// `z <= c e^(2 R_max gap rounds) <= R < 2R` with a 5% margin on the exponent.
    pub fn inverse(&self, layout: SoftmaxLayout, max: &ReluMax) -> Goldschmidt {
        let rounds = layout.log_padded() as f64;
        let r = layout.padded() as f64 * (1.05 * 2.0 * R_MAX * max.gap * rounds).exp();
        Goldschmidt::for_range(0.99, r, self.inverse_eps)
    }
}

/// Which softmax pipeline to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// HETAL's reference pipeline.
    HetalNormal,
    /// HETAL's reference pipeline with the degree-5 domain-extension correction.
    HetalPrecise,
    /// The lower-depth default ([`FastConfig::DEFAULT`]): the tournament's max is
    /// `b + P(a - b)` with a one-sided degree-63 ReLU fit ([`ReluMax`], 6 levels per round
    /// instead of 10, never above the true max), exp by a fitted polynomial and squarings (no
    /// domain extension, so no domain-extension error), and a Goldschmidt inverse tuned to the
    /// range the row sum can have.
    Fast,
}

impl Variant {
    /// All variants, in the order the docs list them.
    pub const ALL: [Variant; 3] = [Variant::HetalNormal, Variant::HetalPrecise, Variant::Fast];

    /// The name used by the example's `--variant`.
    pub fn name(self) -> &'static str {
        match self {
            Variant::HetalNormal => "hetal_normal",
            Variant::HetalPrecise => "hetal_precise",
            Variant::Fast => "fast",
        }
    }

    /// Parses [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// The packed layout of a block of logits (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftmaxLayout {
    slots: usize,
    row_len: usize,
    classes: usize,
}

impl SoftmaxLayout {
    /// `slots` slots in rows of `row_len`, `classes` classes tiled with period
    /// `classes.next_power_of_two()`. Errors unless `2 <= classes`, the period divides `row_len`
    /// and `row_len` divides `slots`.
    pub fn new(slots: usize, row_len: usize, classes: usize) -> Result<Self> {
        let cp = classes.next_power_of_two();
        if classes < 2
            || row_len == 0
            || !row_len.is_multiple_of(cp)
            || !slots.is_multiple_of(row_len)
        {
            return Err(Error::InvalidArgument {
                op: "SoftmaxLayout::new",
                reason: format!(
                    "need 2 <= classes, padded classes ({cp}) | row_len ({row_len}) | slots ({slots})"
                ),
            });
        }
        Ok(Self {
            slots,
            row_len,
            classes,
        })
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        self.slots
    }
    /// Row length `s1`.
    pub fn row_len(&self) -> usize {
        self.row_len
    }
    /// Number of classes `c`.
    pub fn classes(&self) -> usize {
        self.classes
    }
    /// Padded classes `c'`.
    pub fn padded(&self) -> usize {
        self.classes.next_power_of_two()
    }
    fn log_padded(&self) -> usize {
        self.padded().trailing_zeros() as usize
    }
    /// The class of slot `i` (`(i mod s1) mod c'`; `>= c` for pads).
    pub fn class_of(&self, i: usize) -> usize {
        (i % self.row_len) % self.padded()
    }
    fn mask(&self, keep: impl Fn(usize) -> bool) -> Vec<f64> {
        (0..self.slots)
            .map(|i| if keep(self.class_of(i)) { 1.0 } else { 0.0 })
            .collect()
    }
}

/// Parameters of the [`Variant::Fast`] pipeline.
#[derive(Debug, Clone)]
struct FastParams {
    exp: SquaringExp,
    max: ReluMax,
}

/// A softmax circuit for one variant and layout: its rotation steps and depth are known before
/// anything runs.
#[derive(Debug, Clone)]
pub struct SoftmaxPlan {
    variant: Variant,
    layout: SoftmaxLayout,
    g_count: usize,
    fast: Option<FastParams>,
    inverse: Goldschmidt,
}

impl SoftmaxPlan {
    /// [`Variant::Fast`] with explicit parameters.
    pub fn fast_with(layout: SoftmaxLayout, f: FastConfig) -> Self {
        let exp = elementary::exp_squaring(-1.5, 0.5, 2.0 * R_MAX, f.squarings, f.exp_degree);
        let max = ReluMax::fit(f.relu_degree);
        let inverse = f.inverse(layout, &max);
        Self {
            variant: Variant::Fast,
            layout,
            g_count: 0,
            fast: Some(FastParams { exp, max }),
            inverse,
        }
    }

    /// Plans `variant` on `layout`.
    pub fn new(variant: Variant, layout: SoftmaxLayout) -> Self {
        match variant {
            Variant::Fast => Self::fast_with(layout, FastConfig::DEFAULT),
            Variant::HetalNormal | Variant::HetalPrecise => Self {
                variant,
                layout,
                g_count: 2,
                fast: None,
                inverse: Goldschmidt::HETAL,
            },
        }
    }

    /// The variant.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// The layout.
    pub fn layout(&self) -> SoftmaxLayout {
        self.layout
    }

    /// Rotation steps the circuit uses (left rotations; negative = right): `±2^j`, `j < log2 c'`.
    pub fn rotations(&self) -> Vec<i32> {
        let mut v: Vec<i32> = (0..self.layout.log_padded())
            .flat_map(|j| [1i32 << j, -(1i32 << j)])
            .collect();
        v.sort_unstable();
        v
    }

    fn exp_depth(&self) -> usize {
        match &self.fast {
            Some(f) => f.exp.depth(),
            None => {
                let de: usize = (0..N)
                    .map(|i| elementary::domain_extension(R, L, i).depth())
                    .sum();
                let corr = if self.variant == Variant::HetalPrecise {
                    elementary::domain_extension_correction(R, L, N).depth()
                } else {
                    0
                };
                de + corr + elementary::hetal_exp_poly().depth() + 3
            }
        }
    }

    /// Levels consumed by [`evaluate`](Self::evaluate): normalization 1, tournament
    /// `log2 c' · max_depth`, exp, inverse, final product 1.
    pub fn depth(&self) -> usize {
        let max_depth = match &self.fast {
            Some(f) => f.max.depth(),
            None => elementary::max_depth(self.g_count),
        };
        1 + self.layout.log_padded() * max_depth + self.exp_depth() + self.inverse.depth() + 1
    }

    /// Runs the softmax on a ciphertext at level at least [`depth`](Self::depth).
    pub fn evaluate<B: SlotBackend + ?Sized>(&self, backend: &B, x: &B::Ct) -> Result<B::Ct> {
        self.check_slots(backend)?;
        if backend.level(x) < self.depth() {
            return Err(Error::LevelExhausted {
                op: "softmax",
                level: backend.level(x),
                needed: self.depth(),
            });
        }
        self.run(backend, x, &elementary::no_refresh::<B>)
    }

    /// The most levels one stage needs (the largest polynomial or step), plus one for scaling
    /// values into the bootstrap bound: [`evaluate_bootstrapped`](Self::evaluate_bootstrapped)
    /// needs `bootstrap_level() >= stage_depth()`.
    pub fn stage_depth(&self) -> usize {
        let max_depth = match &self.fast {
            Some(f) => f.max.depth(),
            None => elementary::max_depth(self.g_count),
        };
        let exp_poly = match &self.fast {
            Some(f) => f.exp.poly.depth(),
            None => elementary::hetal_exp_poly().depth(),
        };
        1 + max_depth.max(exp_poly).max(3)
    }

    /// Runs the softmax on a ciphertext at any level, bootstrapping each intermediate
    /// ciphertext right before a stage it has too few levels for (values are scaled into
    /// [`Bootstrap::bootstrap_bound`] first, see [`crate::bootstrap::ensure_levels`]). Without
    /// noise the result equals [`evaluate`](Self::evaluate)'s.
    ///
    /// ```
    /// use hetal_approx::softmax::{SoftmaxLayout, SoftmaxPlan, Variant};
    /// use hetal_ckks::backend::{PlainBackend, PlainBootstrap, ScaleChain, SlotClient};
    /// # fn main() -> hetal_ckks::Result<()> {
    /// let plan = SoftmaxPlan::new(Variant::Fast, SoftmaxLayout::new(4, 4, 4)?);
    /// // 9 levels after bootstrapping, like the N16QP1546 preset, inputs up to 1 in magnitude.
    /// let be = PlainBackend::new(4, ScaleChain::uniform(12, 40.0))
    ///     .with_bootstrap(PlainBootstrap { output_level: 9, bound: 1.0 });
    /// let x = be.encrypt_real(&[100.0, -20.0, 99.0, 0.0], 3)?;
    /// let y = be.decrypt_real(&plan.evaluate_bootstrapped(&be, &x)?)?;
    /// let exact = hetal_approx::softmax::softmax_f64(&[100.0, -20.0, 99.0, 0.0]);
    /// assert!((y[0] - exact[0]).abs() < 1e-6);
    /// # Ok(())
    /// # }
    /// ```
    pub fn evaluate_bootstrapped<B: SlotBackend + Bootstrap + ?Sized>(
        &self,
        backend: &B,
        x: &B::Ct,
    ) -> Result<B::Ct> {
        self.check_slots(backend)?;
        if backend.bootstrap_level() < self.stage_depth() {
            return Err(Error::LevelExhausted {
                op: "softmax (levels after bootstrapping)",
                level: backend.bootstrap_level(),
                needed: self.stage_depth(),
            });
        }
        let refresh = |ct: &B::Ct, needed: usize, bound: f64| {
            crate::bootstrap::ensure_levels(backend, ct, needed, bound)
        };
        self.run(backend, x, &refresh)
    }

    fn check_slots<B: SlotBackend + ?Sized>(&self, backend: &B) -> Result<()> {
        if backend.slots() != self.layout.slots {
            return Err(Error::InvalidArgument {
                op: "softmax",
                reason: format!(
                    "layout has {} slots, backend {}",
                    self.layout.slots,
                    backend.slots()
                ),
            });
        }
        Ok(())
    }

    fn run<B: SlotBackend + ?Sized>(
        &self,
        backend: &B,
        x: &B::Ct,
        refresh: Refresh<'_, B::Ct>,
    ) -> Result<B::Ct> {
        let lay = self.layout;
        let c = lay.classes;
        let class_mask = lay.mask(|k| k < c);
        let first_mask = lay.mask(|k| k == 0);
        let cplx =
            |v: &[f64]| -> Vec<Complex64> { v.iter().map(|&x| Complex64::new(x, 0.0)).collect() };
        let cp = lay.padded();
        // Bounds on slot magnitudes, for refreshing: normalized values and max are within 1,
        // the shift within 1.5, exps and sums within R (the inverse's range), inverses within 2.
        let big = self.inverse.r * 2.0;
        // 1. normalize, pads at -1/2.
        let x = refresh(x, 1, R_MAX)?;
        let level = backend.level(&x);
        let w: Vec<f64> = class_mask.iter().map(|m| m / (2.0 * R_MAX)).collect();
        let xn = backend.mul_plain_rescale(&x, &backend.encode(&cplx(&w), level)?)?;
        let pads: Vec<f64> = class_mask.iter().map(|m| -(1.0 - m) / 2.0).collect();
        let xn = backend.add_plain(
            &xn,
            &backend.encode_at_scale(&cplx(&pads), backend.level(&xn), backend.scale(&xn))?,
        )?;
        // 2. tournament, last round masked to first slots, then broadcast.
        let rounds = lay.log_padded();
        let max_depth = match &self.fast {
            Some(f) => f.max.depth(),
            None => elementary::max_depth(self.g_count),
        };
        let mut m = xn.clone();
        for j in 0..rounds {
            m = refresh(&m, max_depth, 1.0)?;
            let rot = backend.rotate(&m, 1 << j)?;
            let mask = (j + 1 == rounds).then_some(first_mask.as_slice());
            m = match &self.fast {
                Some(f) => f.max.max(backend, &m, &rot, mask)?,
                None => elementary::max(backend, &m, &rot, self.g_count, mask)?,
            };
        }
        let m = backend.rotate_and_sum(&m, -1, cp)?;
        // 3. shift (d is within 1.5: keep a level to scale it if it must be bootstrapped).
        let xn = refresh(&xn, 1, 1.0)?;
        let m = refresh(&m, 1, 1.0)?;
        let (xn, m) = backend.align_levels(&xn, &m)?;
        let d = backend.sub(&xn, &m)?;
        // 4. exp, masked to real classes.
        let e = match &self.fast {
            Some(f) => {
                elementary::exp_circuit_with(backend, &d, &f.exp, Some(&class_mask), big, refresh)?
            }
            None => {
                let d = refresh(&d, 2, 1.5)?;
                let mut t = backend.mul_int(&d, (2.0 * R_MAX) as i64)?;
                for i in (0..N).rev() {
                    t = refresh(&t, 2, 1.1 * R * L.powi(i + 1))?;
                    t = polyeval::evaluate(backend, &t, &elementary::domain_extension(R, L, i))?;
                }
                if self.variant == Variant::HetalPrecise {
                    let corr = elementary::domain_extension_correction(R, L, N);
                    t = refresh(&t, corr.depth(), 1.1 * R)?;
                    t = polyeval::evaluate(backend, &t, &corr)?;
                }
                let p = elementary::hetal_exp_poly();
                t = refresh(&t, p.depth(), 2.0 * R)?;
                let mut y = polyeval::evaluate_masked(backend, &t, &p, &class_mask)?;
                for _ in 0..3 {
                    y = refresh(&y, 1, big)?;
                    y = backend.mul_relin_rescale(&y, &y)?;
                }
                y
            }
        };
        // 5. row sums at the tiles' first slots.
        let z = backend.rotate_and_sum(&e, 1, cp)?;
        // 6. inverse at first slots, broadcast.
        let inv =
            elementary::goldschmidt_with(backend, &z, self.inverse, Some(&first_mask), refresh)?;
        let inv = backend.rotate_and_sum(&inv, -1, cp)?;
        // 7. output.
        let e = refresh(&e, 1, big)?;
        let inv = refresh(&inv, 1, 2.0)?;
        let (e, inv) = backend.align_levels(&e, &inv)?;
        backend.mul_relin_rescale(&e, &inv)
    }

    /// The f64 twin of the circuit on one row of `c` logits (the same approximations, without the
    /// packing): what [`evaluate`](Self::evaluate) returns, up to rounding.
    pub fn eval_f64(&self, logits: &[f64]) -> Vec<f64> {
        let cp = self.layout.padded();
        let mut xn: Vec<f64> = logits.iter().map(|x| x / (2.0 * R_MAX)).collect();
        xn.resize(cp, -0.5);
        // Tournament on a cyclic row, read at position 0 (the circuit's first slot).
        let mut m = xn.clone();
        for j in 0..self.layout.log_padded() {
            m = (0..cp)
                .map(|i| {
                    let (a, b) = (m[i], m[(i + (1 << j)) % cp]);
                    match &self.fast {
                        Some(f) => f.max.max_f64(a, b),
                        None => elementary::max_f64(a, b, self.g_count),
                    }
                })
                .collect();
        }
        let m0 = m[0];
        let e: Vec<f64> = xn[..logits.len()]
            .iter()
            .map(|&x| {
                let d = x - m0;
                match &self.fast {
                    Some(f) => f.exp.eval_f64(d),
                    None => {
                        let mut t = d * 2.0 * R_MAX;
                        for i in (0..N).rev() {
                            t = elementary::domain_extension(R, L, i).eval_f64(t);
                        }
                        if self.variant == Variant::HetalPrecise {
                            t = elementary::domain_extension_correction(R, L, N).eval_f64(t);
                        }
                        elementary::exp_hetal_f64(t)
                    }
                }
            })
            .collect();
        let inv = self.inverse.eval_f64(e.iter().sum());
        e.iter().map(|v| v * inv).collect()
    }
}

/// The exact softmax in f64 (max-shifted).
pub fn softmax_f64(x: &[f64]) -> Vec<f64> {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Errors of a plan on random inputs (see [`measure`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorStats {
    /// Max over samples of `max_j |softmax_j - approx_j|`.
    pub max_err: f64,
    /// Mean over samples of the same.
    pub mean_err: f64,
    /// Levels the circuit consumed on the backend.
    pub depth: usize,
    /// Number of samples.
    pub samples: usize,
}

/// Runs `variant` on [`PlainBackend`](hetal_ckks::backend::PlainBackend) with `samples` rows of
/// `classes` logits uniform in `[-range, range]` (ChaCha20 seeded by `seed`), one sample per row
/// (rows of `c'` slots, packed into ciphertexts of up to 2^14 slots), and measures the error
/// against [`softmax_f64`].
///
/// ```
/// use hetal_approx::softmax::{measure, Variant};
/// let s = measure(Variant::Fast, 3, 128.0, 16, 1).unwrap();
/// assert!(s.max_err < 1e-3);
/// ```
pub fn measure(
    variant: Variant,
    classes: usize,
    range: f64,
    samples: usize,
    seed: u64,
) -> Result<ErrorStats> {
    measure_with(variant, None, classes, range, samples, seed)
}

/// [`measure`], with explicit [`FastConfig`] when `variant` is [`Variant::Fast`].
pub fn measure_with(
    variant: Variant,
    fast: Option<FastConfig>,
    classes: usize,
    range: f64,
    samples: usize,
    seed: u64,
) -> Result<ErrorStats> {
    use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotClient};
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};
    let cp = classes.next_power_of_two();
    let rows_per_ct = ((1usize << 14) / cp)
        .min(samples.next_power_of_two())
        .max(1);
    let slots = rows_per_ct * cp;
    let layout = SoftmaxLayout::new(slots, cp, classes)?;
    let plan = match (variant, fast) {
        (Variant::Fast, Some(f)) => SoftmaxPlan::fast_with(layout, f),
        _ => SoftmaxPlan::new(variant, layout),
    };
    let top = plan.depth();
    let backend = PlainBackend::new(slots, ScaleChain::uniform(top, 40.0));
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (mut max_err, mut sum_err, mut depth) = (0.0f64, 0.0, 0);
    let mut done = 0;
    while done < samples {
        let batch = (samples - done).min(rows_per_ct);
        let mut rows = Vec::with_capacity(batch);
        let mut values = vec![0.0; slots];
        for r in 0..batch {
            let row: Vec<f64> = (0..classes)
                .map(|_| {
                    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    range * (2.0 * u - 1.0)
                })
                .collect();
            values[r * cp..r * cp + classes].copy_from_slice(&row);
            rows.push(row);
        }
        let x = backend.encrypt_real(&values, top)?;
        let y = plan.evaluate(&backend, &x)?;
        depth = top - backend.level(&y);
        let out = backend.decrypt_real(&y)?;
        for (r, row) in rows.iter().enumerate() {
            let exact = softmax_f64(row);
            let err = (0..classes)
                .map(|j| (out[r * cp + j] - exact[j]).abs())
                .fold(0.0, f64::max);
            max_err = max_err.max(err);
            sum_err += err;
        }
        done += batch;
    }
    Ok(ErrorStats {
        max_err,
        mean_err: sum_err / samples as f64,
        depth,
        samples,
    })
}

/// Bootstraps [`SoftmaxPlan::evaluate_bootstrapped`] performs for one ciphertext of logits
/// (uniform in `[-R_max, R_max]`) that starts at `bootstrap_level`, on a
/// [`PlainBackend`](hetal_ckks::backend::PlainBackend) whose bootstrap refreshes to
/// `bootstrap_level` inputs of magnitude at most `bound`. Every ciphertext refreshed counts (the
/// circuit sometimes holds two at once).
///
/// ```
/// use hetal_approx::softmax::{count_bootstraps, Variant};
/// // With 11 levels after bootstrapping (HETAL's max stage needs 10 + 1 for scaling):
/// let fast = count_bootstraps(Variant::Fast, 4, 11, 1.0).unwrap();
/// let normal = count_bootstraps(Variant::HetalNormal, 4, 11, 1.0).unwrap();
/// assert!(fast > 0 && fast < normal);
/// // With 9 (the N16QP1546 preset) only `fast` runs at all.
/// assert!(count_bootstraps(Variant::Fast, 4, 9, 1.0).is_ok());
/// assert!(count_bootstraps(Variant::HetalNormal, 4, 9, 1.0).is_err());
/// ```
pub fn count_bootstraps(
    variant: Variant,
    classes: usize,
    bootstrap_level: usize,
    bound: f64,
) -> Result<u64> {
    let cp = classes.next_power_of_two();
    let plan = SoftmaxPlan::new(variant, SoftmaxLayout::new(cp, cp, classes)?);
    count_plan_bootstraps(&plan, bootstrap_level, bound)
}

/// [`count_bootstraps`] for an explicit plan (e.g. [`SoftmaxPlan::fast_with`]).
pub fn count_plan_bootstraps(
    plan: &SoftmaxPlan,
    bootstrap_level: usize,
    bound: f64,
) -> Result<u64> {
    use hetal_ckks::backend::{
        CountingBackend, PlainBackend, PlainBootstrap, ScaleChain, SlotClient,
    };
    let cp = plan.layout.slots;
    let classes = plan.layout.classes;
    let backend = CountingBackend::new(
        PlainBackend::new(cp, ScaleChain::uniform(bootstrap_level, 40.0)).with_bootstrap(
            PlainBootstrap {
                output_level: bootstrap_level,
                bound,
            },
        ),
    );
    let logits: Vec<f64> = (0..cp)
        .map(|i| {
            let j = plan.layout.class_of(i);
            if j < classes {
                R_MAX * (((j * 37 + 11) % 64) as f64 / 32.0 - 1.0)
            } else {
                0.0
            }
        })
        .collect();
    let x = backend.encrypt_real(&logits, bootstrap_level)?;
    plan.evaluate_bootstrapped(&backend, &x)?;
    Ok(backend.counts().bootstraps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotBackend, SlotClient};

    /// `(classes, range, normal max, precise max, fast max)`: bounds the measured errors must
    /// stay under (200 samples, seed 7). For `(3, 128)`, `(10, 8)` and `(10, 128)` the HETAL bounds
    /// are the reference table's values; the other rows are this implementation's measurements
    /// (docs/performance.md) rounded up.
    const TABLE: [(usize, f64, f64, f64, f64); 10] = [
        (2, 128.0, 3.0e-3, 2.0e-3, 1e-7),
        (3, 8.0, 4.0e-3, 2.0e-3, 1e-7),
        (3, 128.0, 3.7e-3, 2.2e-3, 1e-7),
        (4, 128.0, 6.0e-3, 3.5e-3, 1e-7),
        (7, 128.0, 1.2e-2, 6.0e-3, 1e-7),
        (8, 128.0, 1.3e-2, 7.0e-3, 1e-7),
        (10, 8.0, 1.5e-2, 4.7e-3, 1e-7),
        (10, 128.0, 2.0e-2, 9.4e-3, 1e-7),
        (16, 32.0, 2.0e-2, 1.2e-2, 1e-7),
        (16, 128.0, 2.5e-2, 1.2e-2, 1e-7),
    ];

    #[test]
    fn error_table_within_bounds_and_depth_as_declared() {
        for (c, range, normal, precise, fast) in TABLE {
            for (variant, bound) in [
                (Variant::HetalNormal, normal),
                (Variant::HetalPrecise, precise),
                (Variant::Fast, fast),
            ] {
                let s = measure(variant, c, range, 200, 7).unwrap();
                let layout =
                    SoftmaxLayout::new(c.next_power_of_two(), c.next_power_of_two(), c).unwrap();
                assert_eq!(s.depth, SoftmaxPlan::new(variant, layout).depth());
                assert!(
                    s.max_err <= bound,
                    "{} c={c} range={range}: {} > {bound}",
                    variant.name(),
                    s.max_err
                );
            }
        }
    }

    #[test]
    fn fast_default_components_are_as_documented() {
        let f = FastConfig::DEFAULT;
        let e = elementary::exp_squaring(-1.5, 0.5, 2.0 * R_MAX, f.squarings, f.exp_degree);
        assert!(e.fit_error < 3.5e-7, "{}", e.fit_error);
        assert_eq!(e.depth(), 10);
        let m = ReluMax::fit(f.relu_degree);
        assert_eq!(m.depth(), 6);
        let inv: Vec<usize> = [2usize, 4, 8, 16]
            .iter()
            .map(|&c| f.inverse(SoftmaxLayout::new(c, c, c).unwrap(), &m).depth())
            .collect();
        assert_eq!(inv, vec![8, 11, 14, 16]);
    }

    #[test]
    fn fast_is_shallower_than_both_hetal_variants() {
        for c in [2usize, 3, 4, 7, 8, 10, 16] {
            let cp = c.next_power_of_two();
            let layout = SoftmaxLayout::new(cp, cp, c).unwrap();
            let d = |v| SoftmaxPlan::new(v, layout).depth();
            assert!(d(Variant::Fast) + 10 <= d(Variant::HetalNormal), "c={c}");
            assert!(d(Variant::HetalNormal) < d(Variant::HetalPrecise));
        }
    }

    #[test]
    fn circuit_matches_its_f64_twin_in_a_multi_tile_layout() {
        // 4 rows of 16 slots, 3 classes tiled with period 4 (4 tiles per row).
        let layout = SoftmaxLayout::new(64, 16, 3).unwrap();
        for variant in Variant::ALL {
            let plan = SoftmaxPlan::new(variant, layout);
            assert_eq!(plan.rotations(), vec![-2, -1, 1, 2]);
            let be = PlainBackend::new(64, ScaleChain::uniform(plan.depth() + 2, 40.0));
            let rows = [
                [100.0, -100.0, 3.0],
                [-128.0, -128.0, -128.0],
                [0.5, 0.25, 0.0],
                [127.0, 126.0, -127.0],
            ];
            let mut v = vec![7.0; 64]; // garbage in the pads
            for (i, row) in rows.iter().enumerate() {
                for t in 0..4 {
                    v[i * 16 + t * 4..i * 16 + t * 4 + 3].copy_from_slice(row);
                }
            }
            let x = be.encrypt_real(&v, plan.depth() + 2).unwrap();
            let y = plan.evaluate(&be, &x).unwrap();
            assert_eq!(be.level(&y), 2);
            let out = be.decrypt_real(&y).unwrap();
            for (i, row) in rows.iter().enumerate() {
                let twin = plan.eval_f64(row);
                for t in 0..4 {
                    for j in 0..4 {
                        let got = out[i * 16 + t * 4 + j];
                        let want = if j < 3 { twin[j] } else { 0.0 };
                        assert!(
                            (got - want).abs() < 1e-9,
                            "{variant:?} row {i} tile {t}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn simulated_ckks_noise_stays_within_budget() {
        use hetal_ckks::backend::NoiseModel;
        // Noise of 2^-30 per operation (a 40-bit scale with ~10 bits of noise), 128 samples.
        let c = 10;
        let layout = SoftmaxLayout::new(128 * 16, 16, c).unwrap();
        for (variant, budget) in [(Variant::Fast, 1e-5), (Variant::HetalPrecise, 1.2e-2)] {
            let plan = SoftmaxPlan::new(variant, layout);
            let noise = NoiseModel {
                per_operation: 2f64.powi(-30),
                bootstrap: 0.0,
                seed: 3,
            };
            let be = PlainBackend::new(layout.slots(), ScaleChain::uniform(plan.depth(), 40.0))
                .with_noise(noise);
            let mut v = vec![0.0; layout.slots()];
            let mut rows = Vec::new();
            for i in 0..128 {
                let row: Vec<f64> = (0..c)
                    .map(|j| 128.0 * (((i * 37 + j * 101) % 257) as f64 / 128.0 - 1.0))
                    .collect();
                v[i * 16..i * 16 + c].copy_from_slice(&row);
                rows.push(row);
            }
            let x = be.encrypt_real(&v, plan.depth()).unwrap();
            let out = be.decrypt_real(&plan.evaluate(&be, &x).unwrap()).unwrap();
            let mut worst = 0.0f64;
            for (i, row) in rows.iter().enumerate() {
                let exact = softmax_f64(row);
                for j in 0..c {
                    worst = worst.max((out[i * 16 + j] - exact[j]).abs());
                }
            }
            assert!(worst < budget, "{variant:?}: {worst}");
        }
    }

    #[test]
    fn bootstrapped_evaluation_matches_the_twin_with_few_levels() {
        use hetal_ckks::backend::{Bootstrap, CountingBackend, PlainBootstrap};
        let layout = SoftmaxLayout::new(64, 16, 10).unwrap();
        for variant in Variant::ALL {
            let plan = SoftmaxPlan::new(variant, layout);
            // 9 levels after bootstrapping (the N16QP1546 preset), bootstrap inputs within 1.
            let out_level = plan.stage_depth().max(9);
            let be = CountingBackend::new(
                PlainBackend::new(64, ScaleChain::uniform(out_level + 2, 40.0)).with_bootstrap(
                    PlainBootstrap {
                        output_level: out_level,
                        bound: 1.0,
                    },
                ),
            );
            let rows: Vec<Vec<f64>> = (0..4)
                .map(|i| {
                    (0..10)
                        .map(|j| ((i * 7 + j * 29) % 51) as f64 * 5.0 - 125.0)
                        .collect()
                })
                .collect();
            let mut v = vec![0.0; 64];
            for (i, row) in rows.iter().enumerate() {
                v[i * 16..i * 16 + 10].copy_from_slice(row);
            }
            let x = be.encrypt_real(&v, 1).unwrap();
            let y = plan.evaluate_bootstrapped(&be, &x).unwrap();
            let out = be.decrypt_real(&y).unwrap();
            for (i, row) in rows.iter().enumerate() {
                let twin = plan.eval_f64(row);
                for j in 0..10 {
                    assert!((out[i * 16 + j] - twin[j]).abs() < 1e-9, "{variant:?}");
                }
            }
            let boots = be.counts().bootstraps as usize;
            // At least one bootstrap per `bootstrap_level` levels of the plain circuit.
            assert!(
                boots * be.bootstrap_level() >= plan.depth(),
                "{variant:?}: {boots}"
            );
        }
        let plan = SoftmaxPlan::new(Variant::Fast, layout);
        let shallow =
            PlainBackend::new(64, ScaleChain::uniform(8, 40.0)).with_bootstrap(PlainBootstrap {
                output_level: 4,
                bound: 1.0,
            });
        let x = shallow.encrypt_real(&[0.0; 64], 8).unwrap();
        assert!(matches!(
            plan.evaluate_bootstrapped(&shallow, &x),
            Err(Error::LevelExhausted { .. })
        ));
    }

    #[test]
    fn bad_layouts_and_short_levels_are_errors() {
        assert!(SoftmaxLayout::new(16, 6, 3).is_err());
        assert!(SoftmaxLayout::new(16, 8, 1).is_err());
        assert!(SoftmaxLayout::new(12, 8, 3).is_err());
        let layout = SoftmaxLayout::new(8, 8, 3).unwrap();
        let plan = SoftmaxPlan::new(Variant::Fast, layout);
        let be = PlainBackend::new(8, ScaleChain::uniform(10, 40.0));
        let x = be.encrypt_real(&[0.0; 8], 10).unwrap();
        assert!(matches!(
            plan.evaluate(&be, &x),
            Err(Error::LevelExhausted { .. })
        ));
        assert_eq!(
            Variant::from_name("hetal_precise"),
            Some(Variant::HetalPrecise)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        #[test]
        fn fast_matches_twin_and_exact_on_random_rows(
            c in 2usize..=16,
            rows in proptest::collection::vec(proptest::collection::vec(-128.0f64..128.0, 16), 1..5),
        ) {
            let cp = c.next_power_of_two();
            let layout = SoftmaxLayout::new(4 * cp, cp, c).unwrap();
            let plan = SoftmaxPlan::new(Variant::Fast, layout);
            let be = PlainBackend::new(4 * cp, ScaleChain::uniform(plan.depth(), 40.0));
            let mut v = vec![0.0; 4 * cp];
            for (i, row) in rows.iter().enumerate() {
                v[i * cp..i * cp + c].copy_from_slice(&row[..c]);
            }
            let x = be.encrypt_real(&v, plan.depth()).unwrap();
            let out = be.decrypt_real(&plan.evaluate(&be, &x).unwrap()).unwrap();
            for (i, row) in rows.iter().enumerate() {
                let twin = plan.eval_f64(&row[..c]);
                let exact = softmax_f64(&row[..c]);
                for j in 0..c {
                    proptest::prop_assert!((out[i * cp + j] - twin[j]).abs() < 1e-9);
                    proptest::prop_assert!((out[i * cp + j] - exact[j]).abs() < 1e-6);
                }
            }
        }
    }
}
