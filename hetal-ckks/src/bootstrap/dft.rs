//! The homomorphic special FFT: CoeffsToSlots and SlotsToCoeffs as sparse butterfly matrices.
//!
//! The encoder ([`crate::encoding::Encoder`]) maps the `n` complex "coefficients"
//! `u_i = t_{i·gap} + i·t_{N/2 + i·gap}` of a plaintext to its slots `z = SF·u`,
//! `z_j = Σ_i u_i ζ_{4n}^{i·5^j}`. Its [`special_fft`](crate::encoding::Encoder::special_fft)
//! is a bit-reversal permutation `P` followed by `log2 n` radix-2 stages:
//!
//! ```text
//! SF = B_n ⋯ B_4 B_2 · P,        SF^{-1} = (1/n) · P · I_2 I_4 ⋯ I_n,   I_L = 2·B_L^{-1}
//! ```
//!
//! where the stage of length `L` (half `h = L/2`) pairs slot `s + j` with `s + j + h` using the
//! twiddle `w_j = ζ_{4L}^{5^j}`. Each stage has 3 non-zero generalized diagonals (offsets
//! `0, h, n - h`; 2 when `h = n/2`). The permutation `P` is not sparse, so, as in Cheon–Han–Hhan
//! ("Faster homomorphic DFT and speeding up CKKS bootstrapping", 2018) and Lattigo, it is **not
//! evaluated**: CoeffsToSlots returns the coefficients in bit-reversed order, EvalMod works slot
//! by slot, and SlotsToCoeffs takes its input in bit-reversed order, so the permutations cancel.
//!
//! Consecutive stages are merged into one matrix per level (Bossuat et al., Eurocrypt 2021):
//! merging `k` stages gives at most `3^k` (in practice `2^{k+1} - 1`) diagonals, one level
//! instead of `k`. The constant `1/n` of the inverse (spread as `1/2` per stage) and a
//! configurable real scaling (the EvalMod pre-factor for CoeffsToSlots, a post-factor for
//! SlotsToCoeffs), spread evenly over the levels, are folded into the matrices.
//!
//! # Packings
//!
//! EvalMod needs the real and imaginary parts of `u` (the `N` real coefficients) as **real**
//! slot values:
//!
//! - [`DftPacking::TwoCiphertexts`] (full slots `n = N/2`, or any `n` on an `n`-slot backend):
//!   CoeffsToSlots returns `real = Re(P·u)` and `imag = Im(P·u)`. Its last level evaluates
//!   `w = P·u/2` once; with one conjugation, `real = w + conj(w)` and
//!   `imag = i·(conj(w) - w)` (the factor `i` is the free monomial product
//!   [`SlotBackend::mul_i`]). SlotsToCoeffs recombines `real + i·imag` (again `mul_i`) and
//!   evaluates its first level once. Evaluating the `-i/2`-scaled matrix as a second transform,
//!   or the first SlotsToCoeffs level on each part, would double those levels' plaintext
//!   products, giant-step rotations and plaintext memory for the same result.
//! - [`DftPacking::Packed`] (sparse slots `n < N/2`): the backend has `2n` slots, on which an
//!   `n`-slot ciphertext reads as the replicated vector `[z, z]`. The `n`-dimensional factors are
//!   lifted to `2n` dimensions by tiling their diagonals (exact on replicated vectors); the last
//!   CoeffsToSlots factor is masked with `[1/2, …, -i/2, …]`, so that one conjugate-and-add gives
//!   the single real ciphertext `[Re(P·u), Im(P·u)]`. SlotsToCoeffs reads that layout back in its
//!   first factor and returns the replicated `[z, z]`.
//!
//! The sparse-slot SubSum (the trace that clears the coefficients outside the subring after
//! ModRaise) acts on the ring, not on slots, and is not part of this module; it multiplies the
//! coefficients by `N/(2n)`, whose inverse belongs in the CoeffsToSlots
//! [`scaling`](DftConfig::scaling) together with the EvalMod pre-factor
//! ([`super::evalmod::EvalModConfig::c2s_prefactor`]).

use crate::backend::{Complex64, SlotBackend};
use crate::lintrans::{BsgsConfig, Diagonals, LinearTransform, LinearTransformPlan};
use crate::{Error, Result};
use std::collections::BTreeSet;
use std::f64::consts::PI;

fn c(re: f64, im: f64) -> Complex64 {
    Complex64::new(re, im)
}

/// Bit-reversal permutation, shared with the encoder's special FFT.
pub use crate::encoding::bit_reverse;

/// The twiddle `ζ_{4L}^{5^j}` of the stage of length `L` (exactly the encoder's root).
fn twiddle(len: usize, j: usize) -> Complex64 {
    let lenq = 4 * len;
    let mut g = 1usize;
    for _ in 0..j {
        g = g * 5 % lenq;
    }
    let angle = 2.0 * PI * g as f64 / lenq as f64;
    c(angle.cos(), angle.sin())
}

/// The butterfly stages of the encoder's forward special FFT (coefficients to slots), in
/// application order `B_2, B_4, …, B_n`, acting on the **bit-reversed** coefficient vector:
/// `SF·u = B_n ⋯ B_2 · (P·u)`.
pub fn forward_stages(log_slots: u32) -> Vec<Diagonals> {
    let n = 1usize << log_slots;
    let mut stages = Vec::with_capacity(log_slots as usize);
    let mut len = 2;
    while len <= n {
        let h = len / 2;
        let w: Vec<Complex64> = (0..h).map(|j| twiddle(len, j)).collect();
        let mut d = Diagonals::new(n);
        for s in (0..n).step_by(len) {
            for j in 0..h {
                let (lo, hi) = (s + j, s + j + h);
                d.add_entry(lo, lo, c(1.0, 0.0));
                d.add_entry(lo, hi, w[j]);
                d.add_entry(hi, lo, c(1.0, 0.0));
                d.add_entry(hi, hi, -w[j]);
            }
        }
        stages.push(d);
        len *= 2;
    }
    stages
}

/// The butterfly stages of the encoder's inverse special FFT (slots to coefficients), in
/// application order `I_n/2, …, I_2/2`, each including its factor `1/2`:
/// `P·SF^{-1}·z = (I_2/2) ⋯ (I_n/2) · z` (the bit-reversed coefficients).
pub fn inverse_stages(log_slots: u32) -> Vec<Diagonals> {
    let n = 1usize << log_slots;
    let mut stages = Vec::with_capacity(log_slots as usize);
    let mut len = n;
    while len >= 2 {
        let h = len / 2;
        let w: Vec<Complex64> = (0..h).map(|j| twiddle(len, j).conj() * 0.5).collect();
        let mut d = Diagonals::new(n);
        for s in (0..n).step_by(len) {
            for j in 0..h {
                let (lo, hi) = (s + j, s + j + h);
                d.add_entry(lo, lo, c(0.5, 0.0));
                d.add_entry(lo, hi, c(0.5, 0.0));
                d.add_entry(hi, lo, w[j]);
                d.add_entry(hi, hi, -w[j]);
            }
        }
        stages.push(d);
        len /= 2;
    }
    stages
}

/// Splits `stages` stages into `levels` groups as evenly as possible, larger groups first.
///
/// # Errors
/// [`Error::InvalidArgument`] unless `1 <= levels <= stages`.
pub fn even_groups(stages: usize, levels: usize) -> Result<Vec<usize>> {
    if levels == 0 || levels > stages {
        return Err(Error::InvalidArgument {
            op: "even_groups",
            reason: format!("cannot merge {stages} stages into {levels} levels"),
        });
    }
    let (q, r) = (stages / levels, stages % levels);
    Ok((0..levels).map(|i| q + usize::from(i < r)).collect())
}

/// Merges consecutive stages (in application order) into one matrix per group: group `g`
/// becomes `S_last ⋯ S_first`. The product of the merged matrices equals the product of the
/// stages.
///
/// # Errors
/// [`Error::InvalidArgument`] if the group sizes are zero or do not sum to the stage count.
pub fn merge_stages(stages: &[Diagonals], groups: &[usize]) -> Result<Vec<Diagonals>> {
    if groups.contains(&0) || groups.iter().sum::<usize>() != stages.len() {
        return Err(Error::InvalidArgument {
            op: "merge_stages",
            reason: format!("groups {groups:?} do not partition {} stages", stages.len()),
        });
    }
    let mut out = Vec::with_capacity(groups.len());
    let mut it = stages.iter();
    for &g in groups {
        let mut acc = it.next().expect("sizes checked").clone();
        for _ in 1..g {
            acc = it.next().expect("sizes checked").compose(&acc);
        }
        acc.prune(0.0);
        out.push(acc);
    }
    Ok(out)
}

/// How the real and imaginary parts of the coefficients are laid out between CoeffsToSlots and
/// SlotsToCoeffs (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DftPacking {
    /// Two real ciphertexts on an `n`-slot backend (full slots, or sparse without repacking).
    TwoCiphertexts,
    /// One real ciphertext `[Re, Im]` on a `2n`-slot backend (sparse slots, `n < N/2`).
    Packed,
}

/// The configuration of a homomorphic DFT (either direction).
#[derive(Debug, Clone, PartialEq)]
pub struct DftConfig {
    /// `log2 n`, the number of message slots (`n <= N/2`).
    pub log_slots: u32,
    /// Stages merged per level, in application order; the number of entries is the depth.
    pub level_groups: Vec<usize>,
    /// Layout of the real and imaginary parts.
    pub packing: DftPacking,
    /// A real constant folded into the transform (CoeffsToSlots: the EvalMod pre-factor;
    /// SlotsToCoeffs: a post-factor), spread evenly over the levels.
    pub scaling: f64,
    /// Baby-step giant-step split of every level.
    pub bsgs: BsgsConfig,
}

impl DftConfig {
    /// `log_slots` stages split evenly over `levels` levels, scaling 1, default BSGS.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `1 <= levels <= log_slots`.
    pub fn new(log_slots: u32, levels: usize, packing: DftPacking) -> Result<Self> {
        Ok(Self {
            log_slots,
            level_groups: even_groups(log_slots as usize, levels)?,
            packing,
            scaling: 1.0,
            bsgs: BsgsConfig::default(),
        })
    }

    /// The same configuration with another scaling.
    pub fn with_scaling(mut self, scaling: f64) -> Self {
        self.scaling = scaling;
        self
    }

    /// Levels consumed.
    pub fn depth(&self) -> usize {
        self.level_groups.len()
    }

    /// The slot count of the backend the transform runs on: `n`, or `2n` when packed.
    pub fn backend_slots(&self) -> usize {
        match self.packing {
            DftPacking::TwoCiphertexts => 1 << self.log_slots,
            DftPacking::Packed => 2 << self.log_slots,
        }
    }

    fn validate(&self, op: &'static str) -> Result<()> {
        let bad = |reason: String| Err(Error::InvalidArgument { op, reason });
        if self.log_slots == 0 || self.log_slots > 16 {
            return bad(format!("log slots {} outside 1..=16", self.log_slots));
        }
        if self.level_groups.contains(&0)
            || self.level_groups.iter().sum::<usize>() != self.log_slots as usize
        {
            return bad(format!(
                "level groups {:?} do not partition {} stages",
                self.level_groups, self.log_slots
            ));
        }
        if !(self.scaling.is_finite() && self.scaling != 0.0) {
            return bad(format!(
                "scaling {} must be finite and non-zero",
                self.scaling
            ));
        }
        Ok(())
    }

    /// Per-level factors of the scaling: `|s|^{1/L}` each, the sign on the first.
    fn level_factors(&self) -> Vec<f64> {
        let l = self.depth();
        let f = self.scaling.abs().powf(1.0 / l as f64);
        let mut v = vec![f; l];
        v[0] *= self.scaling.signum();
        v
    }
}

/// The real and imaginary parts of the coefficients as real slot vectors, between
/// CoeffsToSlots and SlotsToCoeffs.
#[derive(Debug, Clone, PartialEq)]
pub enum SlotParts<Ct> {
    /// [`DftPacking::TwoCiphertexts`]: `Re(P·u)` and `Im(P·u)`.
    Two {
        /// The real parts.
        real: Ct,
        /// The imaginary parts.
        imag: Ct,
    },
    /// [`DftPacking::Packed`]: `[Re(P·u), Im(P·u)]` in `2n` slots.
    Packed(Ct),
}

/// Lifts an `n`-dimensional matrix to `2n` dimensions, exactly on replicated vectors `[x, x]`
/// (offsets kept, diagonal values tiled); replicated inputs give replicated outputs.
pub fn tile(d: &Diagonals) -> Diagonals {
    let n = d.dim();
    let mut out = Diagonals::new(2 * n);
    for (k, diag) in d.iter() {
        let tiled: Vec<Complex64> = diag.iter().chain(diag).copied().collect();
        out.set(k, tiled).expect("length 2n");
    }
    out
}

/// Lifts the first SlotsToCoeffs factor `F` to the packed layout: on `w = [a, b]` (`2n` slots)
/// it returns the replicated `[F·(a + i·b), F·(a + i·b)]`.
pub fn lift_packed_input(d: &Diagonals) -> Diagonals {
    let n = d.dim();
    let mut out = Diagonals::new(2 * n);
    for r in 0..2 * n {
        let rr = r % n;
        for (k, diag) in d.iter() {
            let a = diag[rr];
            if a == c(0.0, 0.0) {
                continue;
            }
            let col = (rr + k) % n;
            out.add_entry(r, col, a);
            out.add_entry(r, col + n, a * c(0.0, 1.0));
        }
    }
    out.prune(0.0);
    out
}

fn scaled(mut d: Diagonals, f: Complex64) -> Diagonals {
    d.scale(f);
    d
}

/// The merged CoeffsToSlots matrices, in application order, in `n` dimensions, **without** the
/// real/imaginary extraction: their product is `scaling · P · SF^{-1}`.
///
/// # Errors
/// [`Error::InvalidArgument`] for an invalid configuration.
pub fn coeffs_to_slots_factors(config: &DftConfig) -> Result<Vec<Diagonals>> {
    config.validate("coeffs_to_slots_factors")?;
    let merged = merge_stages(&inverse_stages(config.log_slots), &config.level_groups)?;
    Ok(merged
        .into_iter()
        .zip(config.level_factors())
        .map(|(d, f)| scaled(d, c(f, 0.0)))
        .collect())
}

/// The merged SlotsToCoeffs matrices, in application order, in `n` dimensions: their product
/// is `scaling · SF · P` (input bit-reversed).
///
/// # Errors
/// [`Error::InvalidArgument`] for an invalid configuration.
pub fn slots_to_coeffs_factors(config: &DftConfig) -> Result<Vec<Diagonals>> {
    config.validate("slots_to_coeffs_factors")?;
    let merged = merge_stages(&forward_stages(config.log_slots), &config.level_groups)?;
    Ok(merged
        .into_iter()
        .zip(config.level_factors())
        .map(|(d, f)| scaled(d, c(f, 0.0)))
        .collect())
}

fn plan<B: SlotBackend>(d: Diagonals, bsgs: BsgsConfig) -> Result<LinearTransformPlan<B>> {
    Ok(LinearTransformPlan::new(LinearTransform::new(d, bsgs)?))
}

/// A plan whose BSGS split prefers the rotation keys in `keys`
/// ([`LinearTransform::new_sharing_keys`]); its own keys are added to `keys` for the next one.
fn plan_sharing<B: SlotBackend>(
    d: Diagonals,
    bsgs: BsgsConfig,
    keys: &mut BTreeSet<i32>,
) -> Result<LinearTransformPlan<B>> {
    let t = LinearTransform::new_sharing_keys(d, bsgs, keys)?;
    keys.extend(t.rotation_steps());
    Ok(LinearTransformPlan::new(t))
}

fn union_steps<'a, B: SlotBackend + 'a>(
    plans: impl Iterator<Item = &'a LinearTransformPlan<B>>,
) -> Vec<i32> {
    let mut steps: Vec<i32> = plans.flat_map(|p| p.rotation_steps()).collect();
    steps.sort_unstable();
    steps.dedup();
    steps
}

/// Homomorphic CoeffsToSlots: slots `z` to the real and imaginary parts of
/// `scaling · P · SF^{-1}·z` (bit-reversed coefficients), in `depth()` levels.
pub struct CoeffsToSlots<B: SlotBackend> {
    config: DftConfig,
    head: Vec<LinearTransformPlan<B>>,
    /// The last level, whose output is split with its conjugate: `P·u/2` (two ciphertexts) or
    /// the masked `[P·u/2, -i·P·u/2]` (packed).
    last: LinearTransformPlan<B>,
}

impl<B: SlotBackend> std::fmt::Debug for CoeffsToSlots<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoeffsToSlots")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<B: SlotBackend> CoeffsToSlots<B> {
    /// Builds the merged, lifted matrices and their BSGS plans.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an invalid configuration.
    pub fn new(config: DftConfig) -> Result<Self> {
        let mut factors = coeffs_to_slots_factors(&config)?;
        let last = factors.pop().expect("at least one level");
        let lift = |d: Diagonals| match config.packing {
            DftPacking::TwoCiphertexts => d,
            DftPacking::Packed => tile(&d),
        };
        let head = factors
            .into_iter()
            .map(|d| plan(lift(d), config.bsgs))
            .collect::<Result<Vec<_>>>()?;
        let n = 1usize << config.log_slots;
        let last = match config.packing {
            DftPacking::TwoCiphertexts => plan(scaled(last, c(0.5, 0.0)), config.bsgs)?,
            DftPacking::Packed => {
                let mut d = tile(&last);
                let mask: Vec<Complex64> = (0..2 * n)
                    .map(|r| if r < n { c(0.5, 0.0) } else { c(0.0, -0.5) })
                    .collect();
                d.scale_rows(&mask);
                plan(d, config.bsgs)?
            }
        };
        Ok(Self { config, head, last })
    }

    /// The configuration.
    pub fn config(&self) -> &DftConfig {
        &self.config
    }

    /// Levels consumed.
    pub fn depth(&self) -> usize {
        self.config.depth()
    }

    /// The matrices evaluated, level by level, in the backend's dimension (the last one
    /// includes the factor `1/2` of the real/imaginary split, and for
    /// [`DftPacking::Packed`] its mask).
    pub fn matrices(&self) -> Vec<&Diagonals> {
        self.head
            .iter()
            .chain(std::iter::once(&self.last))
            .map(|p| p.transform().diagonals())
            .collect()
    }

    /// Every rotation step used (Galois keys to generate); conjugation is also needed.
    pub fn rotation_steps(&self) -> Vec<i32> {
        union_steps(self.head.iter().chain(std::iter::once(&self.last)))
    }

    /// Whether the conjugation key is needed (always: the real/imaginary split).
    pub fn needs_conjugation(&self) -> bool {
        true
    }

    /// Encodes every plaintext matrix for an input at level `top` (each level at its own
    /// level), so that [`evaluate`](Self::evaluate) does no encoding.
    ///
    /// # Errors
    /// Backend encoding errors; level exhaustion if `top < depth()`.
    pub fn prepare(&self, backend: &B, top: usize) -> Result<()> {
        if top < self.depth() {
            return Err(Error::LevelExhausted {
                op: "CoeffsToSlots::prepare",
                level: top,
                needed: self.depth(),
            });
        }
        for (i, p) in self.head.iter().enumerate() {
            p.prepare(backend, top - i)?;
        }
        self.last.prepare(backend, top - self.head.len())
    }

    /// Evaluates CoeffsToSlots on a canonical ciphertext of `config().backend_slots()` slots
    /// (for [`DftPacking::Packed`], the replicated `[z, z]`).
    ///
    /// # Errors
    /// Level exhaustion (fewer than `depth()` levels), a slot-count mismatch, backend errors.
    pub fn evaluate(&self, backend: &B, ct: &B::Ct) -> Result<SlotParts<B::Ct>> {
        let level = backend.level(ct);
        if level < self.depth() {
            return Err(Error::LevelExhausted {
                op: "CoeffsToSlots",
                level,
                needed: self.depth(),
            });
        }
        let mut x = ct.clone();
        for p in &self.head {
            x = p.evaluate(backend, &x)?;
        }
        let w = self.last.evaluate(backend, &x)?;
        let conj = backend.conjugate(&w)?;
        Ok(match self.config.packing {
            // w = P·u/2: Re(P·u) = w + conj(w), Im(P·u) = i·(conj(w) - w).
            DftPacking::TwoCiphertexts => SlotParts::Two {
                real: backend.add(&w, &conj)?,
                imag: backend.mul_i(&backend.sub(&conj, &w)?)?,
            },
            DftPacking::Packed => SlotParts::Packed(backend.add(&w, &conj)?),
        })
    }
}

/// Homomorphic SlotsToCoeffs: the real and imaginary parts of bit-reversed coefficients
/// ([`SlotParts`]) to the slots `scaling · SF·u`, in `depth()` levels.
pub struct SlotsToCoeffs<B: SlotBackend> {
    config: DftConfig,
    /// The first level, on `real + i·imag` (two ciphertexts) or on the packed `[Re, Im]`
    /// (lifted to return the replicated `[z, z]`).
    first: LinearTransformPlan<B>,
    tail: Vec<LinearTransformPlan<B>>,
}

impl<B: SlotBackend> std::fmt::Debug for SlotsToCoeffs<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotsToCoeffs")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<B: SlotBackend> SlotsToCoeffs<B> {
    /// Builds the merged, lifted matrices and their BSGS plans.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an invalid configuration.
    pub fn new(config: DftConfig) -> Result<Self> {
        Self::new_sharing_keys(config, &[])
    }

    /// [`SlotsToCoeffs::new`] for a circuit that already has Galois keys for the rotation
    /// steps `available` (bootstrapping: CoeffsToSlots' steps): each level's BSGS split
    /// prefers keys that exist or that an earlier level adds
    /// ([`LinearTransform::new_sharing_keys`]).
    ///
    /// # Errors
    /// As [`SlotsToCoeffs::new`].
    pub fn new_sharing_keys(config: DftConfig, available: &[i32]) -> Result<Self> {
        let mut keys: BTreeSet<i32> = available.iter().copied().collect();
        let mut factors = slots_to_coeffs_factors(&config)?.into_iter();
        let first = factors.next().expect("at least one level");
        let first = match config.packing {
            DftPacking::TwoCiphertexts => first,
            DftPacking::Packed => lift_packed_input(&first),
        };
        let first = plan_sharing(first, config.bsgs, &mut keys)?;
        let tail = factors
            .map(|d| {
                let d = match config.packing {
                    DftPacking::TwoCiphertexts => d,
                    DftPacking::Packed => tile(&d),
                };
                plan_sharing(d, config.bsgs, &mut keys)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            config,
            first,
            tail,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DftConfig {
        &self.config
    }

    /// Levels consumed.
    pub fn depth(&self) -> usize {
        self.config.depth()
    }

    /// The matrices evaluated, level by level, in the backend's dimension.
    pub fn matrices(&self) -> Vec<&Diagonals> {
        std::iter::once(&self.first)
            .chain(&self.tail)
            .map(|p| p.transform().diagonals())
            .collect()
    }

    /// Encodes every plaintext matrix for an input at level `top`.
    ///
    /// # Errors
    /// Backend encoding errors; level exhaustion if `top < depth()`.
    pub fn prepare(&self, backend: &B, top: usize) -> Result<()> {
        if top < self.depth() {
            return Err(Error::LevelExhausted {
                op: "SlotsToCoeffs::prepare",
                level: top,
                needed: self.depth(),
            });
        }
        self.first.prepare(backend, top)?;
        for (i, p) in self.tail.iter().enumerate() {
            p.prepare(backend, top - 1 - i)?;
        }
        Ok(())
    }

    /// Every rotation step used (Galois keys to generate). No conjugation is needed.
    pub fn rotation_steps(&self) -> Vec<i32> {
        union_steps(std::iter::once(&self.first).chain(&self.tail))
    }

    /// Evaluates SlotsToCoeffs. The input layout must match the packing; for
    /// [`DftPacking::TwoCiphertexts`] both parts must be at the same level and scale.
    ///
    /// # Errors
    /// A layout mismatch, level exhaustion, backend errors.
    pub fn evaluate(&self, backend: &B, input: &SlotParts<B::Ct>) -> Result<B::Ct> {
        let combined = match (self.config.packing, input) {
            (DftPacking::TwoCiphertexts, SlotParts::Two { real, imag }) => {
                backend.add(real, &backend.mul_i(imag)?)?
            }
            (DftPacking::Packed, SlotParts::Packed(w)) => w.clone(),
            _ => {
                return Err(Error::InvalidArgument {
                    op: "SlotsToCoeffs",
                    reason: format!(
                        "input layout does not match the packing {:?}",
                        self.config.packing
                    ),
                });
            }
        };
        let level = backend.level(&combined);
        if level < self.depth() {
            return Err(Error::LevelExhausted {
                op: "SlotsToCoeffs",
                level,
                needed: self.depth(),
            });
        }
        let mut x = self.first.evaluate(backend, &combined)?;
        for p in &self.tail {
            x = p.evaluate(backend, &x)?;
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{PlainBackend, ScaleChain, SlotClient};
    use crate::encoding::Encoder;
    use proptest::prelude::*;

    fn max_err(a: &[Complex64], b: &[Complex64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).norm())
            .fold(0.0, f64::max)
    }

    fn product(factors: &[Diagonals]) -> Diagonals {
        let mut acc = Diagonals::identity(factors[0].dim());
        for f in factors {
            acc = f.compose(&acc);
        }
        acc
    }

    fn random_values(n: usize, seed: u64) -> Vec<Complex64> {
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 2_000_001) as f64 / 1_000_000.0 - 1.0
        };
        (0..n).map(|_| c(next(), next())).collect()
    }

    #[test]
    fn stages_are_sparse_and_match_the_encoder() {
        for log_slots in 1..=9u32 {
            let n = 1usize << log_slots;
            let enc = Encoder::new(log_slots + 1, log_slots).unwrap();
            let fwd = forward_stages(log_slots);
            let inv = inverse_stages(log_slots);
            assert_eq!(fwd.len(), log_slots as usize);
            for (s, st) in fwd.iter().enumerate() {
                let want = if s + 1 == log_slots as usize { 2 } else { 3 };
                assert_eq!(st.len(), want, "forward stage {s}");
            }
            for st in &inv {
                assert!(st.len() <= 3);
            }
            let u = random_values(n, 7 + log_slots as u64);
            // Forward: B_n ⋯ B_2 (P u) == special_fft(u).
            let mut want = u.clone();
            enc.special_fft(&mut want);
            let mut x = u.clone();
            bit_reverse(&mut x);
            for st in &fwd {
                x = st.apply(&x);
            }
            assert!(max_err(&x, &want) < 1e-9 * n as f64, "forward n = {n}");
            // Inverse: (I_2/2) ⋯ (I_n/2) z == P special_ifft(z).
            let z = u;
            let mut want = z.clone();
            enc.special_ifft(&mut want);
            bit_reverse(&mut want);
            let mut x = z;
            for st in &inv {
                x = st.apply(&x);
            }
            assert!(max_err(&x, &want) < 1e-12 * n as f64, "inverse n = {n}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn merged_product_equals_unmerged(log_slots in 1u32..=6, levels_seed in 0usize..6, seed in any::<u64>()) {
            let levels = 1 + levels_seed % log_slots as usize;
            let groups = even_groups(log_slots as usize, levels).unwrap();
            for stages in [forward_stages(log_slots), inverse_stages(log_slots)] {
                let merged = merge_stages(&stages, &groups).unwrap();
                prop_assert_eq!(merged.len(), levels);
                let a = product(&stages).to_dense();
                let b = product(&merged).to_dense();
                for (ra, rb) in a.iter().zip(&b) {
                    prop_assert!(max_err(ra, rb) < 1e-12);
                }
                let v = random_values(1 << log_slots, seed);
                let mut x = v.clone();
                for m in &merged { x = m.apply(&x); }
                prop_assert!(max_err(&x, &product(&stages).apply(&v)) < 1e-11);
            }
        }
    }

    /// The encoder's coefficient-side values in bit-reversed order: `(Re, Im)` of
    /// `u_i = (t_{i·gap} + i·t_{N/2+i·gap}) / Δ`.
    fn encoder_coefficients(enc: &Encoder, z: &[Complex64]) -> (Vec<f64>, Vec<f64>) {
        let scale = 2f64.powi(45);
        let t = enc.encode_f64(z, scale).unwrap();
        let (gap, half) = (enc.gap(), enc.n() / 2);
        let mut re: Vec<f64> = (0..enc.slots()).map(|i| t[i * gap] / scale).collect();
        let mut im: Vec<f64> = (0..enc.slots())
            .map(|i| t[half + i * gap] / scale)
            .collect();
        bit_reverse(&mut re);
        bit_reverse(&mut im);
        (re, im)
    }

    fn real(v: &[f64]) -> Vec<Complex64> {
        v.iter().map(|&x| c(x, 0.0)).collect()
    }

    fn round_trip(
        log_n: u32,
        log_slots: u32,
        c2s_levels: usize,
        s2c_levels: usize,
        packing: DftPacking,
    ) {
        let n = 1usize << log_slots;
        let enc = Encoder::new(log_n, log_slots).unwrap();
        let scaling = 0.37;
        let c2s_cfg = DftConfig::new(log_slots, c2s_levels, packing)
            .unwrap()
            .with_scaling(scaling);
        let s2c_cfg = DftConfig::new(log_slots, s2c_levels, packing)
            .unwrap()
            .with_scaling(1.0 / scaling);
        let c2s = CoeffsToSlots::<PlainBackend>::new(c2s_cfg.clone()).unwrap();
        let s2c = SlotsToCoeffs::<PlainBackend>::new(s2c_cfg).unwrap();
        assert_eq!(c2s.depth(), c2s_levels);
        let slots = c2s_cfg.backend_slots();
        let top = c2s_levels + s2c_levels + 1;
        let backend = PlainBackend::new(slots, ScaleChain::uniform(top, 40.0));
        let z = random_values(n, 1000 + log_slots as u64);
        let input: Vec<Complex64> = match packing {
            DftPacking::TwoCiphertexts => z.clone(),
            DftPacking::Packed => z.iter().chain(&z).copied().collect(),
        };
        let ct = backend.encrypt(&input, top).unwrap();
        let parts = c2s.evaluate(&backend, &ct).unwrap();
        let (re, im) = encoder_coefficients(&enc, &z);
        let (re_s, im_s): (Vec<f64>, Vec<f64>) = (
            re.iter().map(|x| x * scaling).collect(),
            im.iter().map(|x| x * scaling).collect(),
        );
        // Rounding to 2^-45 in the encoder plus f64 error.
        let tol = 1e-9;
        match &parts {
            SlotParts::Two { real: a, imag: b } => {
                assert_eq!(backend.level(a), top - c2s_levels);
                assert!(max_err(&backend.decrypt(a).unwrap(), &real(&re_s)) < tol);
                assert!(max_err(&backend.decrypt(b).unwrap(), &real(&im_s)) < tol);
            }
            SlotParts::Packed(w) => {
                assert_eq!(backend.level(w), top - c2s_levels);
                let want: Vec<f64> = re_s.iter().chain(&im_s).copied().collect();
                assert!(max_err(&backend.decrypt(w).unwrap(), &real(&want)) < tol);
            }
        }
        let out = s2c.evaluate(&backend, &parts).unwrap();
        assert_eq!(backend.level(&out), 1);
        assert!(max_err(&backend.decrypt(&out).unwrap(), &input) < 1e-9);
        // Declared rotations are within range; all are used by some factor.
        for s in c2s.rotation_steps().into_iter().chain(s2c.rotation_steps()) {
            assert!(s > 0 && (s as usize) < slots);
        }
    }

    #[test]
    fn full_slots_two_ciphertexts() {
        // n = N/2.
        round_trip(7, 6, 3, 2, DftPacking::TwoCiphertexts);
        round_trip(10, 9, 4, 3, DftPacking::TwoCiphertexts);
        round_trip(4, 3, 3, 1, DftPacking::TwoCiphertexts);
    }

    #[test]
    fn full_slots_n16() {
        // The N = 2^16, 2^15-slot shape of the 128-bit presets: 4 + 3 levels.
        round_trip(16, 15, 4, 3, DftPacking::TwoCiphertexts);
        let c2s = CoeffsToSlots::<PlainBackend>::new(
            DftConfig::new(15, 4, DftPacking::TwoCiphertexts).unwrap(),
        )
        .unwrap();
        // Merging 4 stages gives at most 2^5 - 1 diagonals per level.
        for d in c2s.matrices() {
            assert!(d.len() <= 31, "{} diagonals", d.len());
        }
        assert!(c2s.rotation_steps().len() < 64);
    }

    #[test]
    fn sparse_slots() {
        // n < N/2: packed in 2n slots, and unpacked.
        round_trip(10, 6, 3, 2, DftPacking::Packed);
        round_trip(12, 8, 4, 3, DftPacking::Packed);
        round_trip(10, 5, 2, 2, DftPacking::TwoCiphertexts);
    }

    #[test]
    fn c2s_evaluated_matrices_compose_to_the_inverse_fft() {
        // The product of the evaluated CoeffsToSlots factors is scaling/2 · P·SF^{-1}.
        let log_slots = 5;
        let n = 1 << log_slots;
        let enc = Encoder::new(log_slots + 1, log_slots).unwrap();
        let cfg = DftConfig::new(log_slots, 3, DftPacking::TwoCiphertexts)
            .unwrap()
            .with_scaling(2.0);
        let c2s = CoeffsToSlots::<PlainBackend>::new(cfg).unwrap();
        let mats = c2s.matrices();
        assert_eq!(mats.len(), 3);
        let chain: Vec<Diagonals> = mats.iter().map(|&m| m.clone()).collect();
        let m = product(&chain);
        for col in 0..n {
            let mut e = vec![c(0.0, 0.0); n];
            e[col] = c(1.0, 0.0);
            let mut want = e.clone();
            enc.special_ifft(&mut want);
            bit_reverse(&mut want);
            let got = m.apply(&e);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).norm() < 1e-12);
            }
        }
        // Merging 5 stages into 3 levels: at most 7 diagonals per level (2^{k+1} - 1).
        for d in &mats {
            assert!(d.len() <= 7, "{} diagonals", d.len());
        }
    }

    #[test]
    fn bad_configurations() {
        assert!(DftConfig::new(4, 0, DftPacking::Packed).is_err());
        assert!(DftConfig::new(4, 5, DftPacking::Packed).is_err());
        let mut cfg = DftConfig::new(4, 2, DftPacking::Packed).unwrap();
        cfg.level_groups = vec![3, 2];
        assert!(CoeffsToSlots::<PlainBackend>::new(cfg.clone()).is_err());
        cfg.level_groups = vec![2, 2];
        cfg.scaling = 0.0;
        assert!(SlotsToCoeffs::<PlainBackend>::new(cfg).is_err());
        // Too few levels, wrong layout.
        let cfg = DftConfig::new(3, 2, DftPacking::TwoCiphertexts).unwrap();
        let c2s = CoeffsToSlots::<PlainBackend>::new(cfg.clone()).unwrap();
        let s2c = SlotsToCoeffs::<PlainBackend>::new(cfg).unwrap();
        let backend = PlainBackend::new(8, ScaleChain::uniform(3, 40.0));
        let ct = backend.encrypt(&[c(1.0, 0.0)], 1).unwrap();
        assert!(matches!(
            c2s.evaluate(&backend, &ct),
            Err(Error::LevelExhausted { .. })
        ));
        let ct = backend.encrypt(&[c(1.0, 0.0)], 3).unwrap();
        assert!(s2c.evaluate(&backend, &SlotParts::Packed(ct)).is_err());
    }

    #[test]
    fn counts_hoisting_and_noise() {
        use crate::backend::{CountingBackend, NoiseModel};
        let log_slots = 8;
        let n = 1usize << log_slots;
        let cfg = DftConfig::new(log_slots, 3, DftPacking::TwoCiphertexts).unwrap();
        let c2s = CoeffsToSlots::<CountingBackend<PlainBackend>>::new(cfg.clone()).unwrap();
        let backend = CountingBackend::new(PlainBackend::new(n, ScaleChain::uniform(4, 40.0)));
        let z = random_values(n, 99);
        let ct = backend.inner().encrypt(&z, 4).unwrap();
        c2s.evaluate(&backend, &ct).unwrap();
        let counts = backend.counts();
        // One conjugation splits the last level's output into both parts; one rescale per
        // level; the imaginary part's factor i is a free monomial product.
        assert_eq!(counts.conjugations, 1);
        assert_eq!(counts.rescales, 3);
        let plans: Vec<&LinearTransformPlan<_>> =
            c2s.head.iter().chain(std::iter::once(&c2s.last)).collect();
        let expected: usize = plans.iter().map(|p| p.transform().rotation_count()).sum();
        assert_eq!(counts.rotations as usize, expected);
        // One hoisted decomposition per level, plus one per giant-step rotation and one for the
        // conjugation.
        let giants: usize = plans
            .iter()
            .map(|p| p.transform().giant_rotations().len())
            .sum();
        assert_eq!(counts.decompositions as usize, 3 + giants + 1);
        let c2s_plain: usize = plans.iter().map(|p| p.transform().plain_mult_count()).sum();
        assert_eq!(counts.plain_mults as usize, c2s_plain);

        // SlotsToCoeffs evaluates its first level once, on real + i·imag: no conjugation, one
        // rescale per level, each matrix's diagonals multiplied once.
        let s2c = SlotsToCoeffs::<CountingBackend<PlainBackend>>::new(
            DftConfig::new(log_slots, 2, DftPacking::TwoCiphertexts).unwrap(),
        )
        .unwrap();
        let backend = CountingBackend::new(PlainBackend::new(n, ScaleChain::uniform(5, 40.0)));
        let ct = backend.inner().encrypt(&z, 5).unwrap();
        let parts = c2s.evaluate(&backend, &ct).unwrap();
        backend.take_counts();
        s2c.evaluate(&backend, &parts).unwrap();
        let counts = backend.take_counts();
        assert_eq!(counts.conjugations, 0);
        assert_eq!(counts.rescales, 2);
        let s2c_plain: usize = s2c.matrices().iter().map(|d| d.len()).sum();
        assert_eq!(counts.plain_mults as usize, s2c_plain);
        assert_eq!(
            counts.rotations as usize,
            std::iter::once(&s2c.first)
                .chain(&s2c.tail)
                .map(|p| p.transform().rotation_count())
                .sum::<usize>()
        );

        // With simulated CKKS noise (1e-8 per operation) the round trip stays accurate.
        let noisy = PlainBackend::new(n, ScaleChain::uniform(6, 40.0)).with_noise(NoiseModel {
            per_operation: 1e-8,
            bootstrap: 0.0,
            seed: 5,
        });
        let c2s = CoeffsToSlots::<PlainBackend>::new(cfg).unwrap();
        let s2c = SlotsToCoeffs::<PlainBackend>::new(
            DftConfig::new(log_slots, 2, DftPacking::TwoCiphertexts).unwrap(),
        )
        .unwrap();
        let ct = noisy.encrypt(&z, 6).unwrap();
        let out = s2c
            .evaluate(&noisy, &c2s.evaluate(&noisy, &ct).unwrap())
            .unwrap();
        let err = max_err(&noisy.decrypt(&out).unwrap(), &z);
        assert!(err > 0.0 && err < 1e-5, "error {err:e}");
    }
}
