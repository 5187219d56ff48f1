//! The backend seam: slot-level SIMD operations on encrypted (or simulated) vectors.
//!
//! Every circuit above the scheme — matrix products, the softmax, the trainer — is written
//! against [`SlotBackend`] (and [`Bootstrap`] where it refreshes ciphertexts), never against
//! polynomials. Three implementations share the seam:
//!
//! - the CKKS backend (the real scheme);
//! - [`PlainBackend`]: exact complex arithmetic on plain vectors, with **levels and scales
//!   accounted exactly as CKKS would** (a rescale at level 0 is an error, a scale mismatch in an
//!   addition is an error) and optional Gaussian noise that emulates CKKS error;
//! - [`CountingBackend`]: wraps any backend and counts rotations, multiplications, rescales,
//!   key switches and bootstraps, for cost-model tests.
//!
//! Decryption lives only behind [`SlotClient`], which the server side never receives: code that
//! takes `B: SlotBackend + Bootstrap` cannot decrypt, by its type.
//!
//! # The scale convention
//!
//! Level `l` of the chain has a canonical scale `Δ_l` ([`ScaleChain`]): `Δ_top = 2^logΔ` and
//! `Δ_{l-1} = Δ_l² / q_l`, where `q_l` is the prime a rescale from level `l` divides by.
//! Plaintexts and constants multiplied into a level-`l` ciphertext are encoded at `Δ_l`, so a
//! product followed by one rescale lands exactly on `Δ_{l-1}`. Consequently any two canonical
//! ciphertexts at the same level have the same scale and can be added; circuits never manage
//! scales by hand. (This is the "level-specific scaling factor" technique of Kim, Papadimitriou
//! and Polyakov, "Approximate homomorphic encryption with reduced approximation error", 2020.)
//! Between a multiplication and its rescale a ciphertext has scale `Δ_l²` ("pending rescale");
//! sums of such products are fine, and are how lazy rescaling is expressed.
//!
//! # Example
//!
//! ```
//! use hetal_ckks::backend::{Complex64, PlainBackend, ScaleChain, SlotBackend, SlotClient};
//!
//! # fn main() -> hetal_ckks::Result<()> {
//! let backend = PlainBackend::new(8, ScaleChain::uniform(3, 40.0));
//! let x = backend.encrypt_real(&[1.0, 2.0, 3.0, 4.0], 3)?;
//! let y = backend.mul_relin_rescale(&x, &x)?; // x², one level consumed
//! let y = backend.rotate(&y, 1)?; // left rotation by one slot
//! assert_eq!(backend.level(&y), 2);
//! let out = backend.decrypt_real(&y)?;
//! assert!((out[0] - 4.0).abs() < 1e-12 && (out[2] - 16.0).abs() < 1e-12);
//! # Ok(())
//! # }
//! ```

mod counting;
mod plain;

pub use counting::{CountingBackend, OpCounts};
pub use num_complex::Complex64;
pub use plain::{NoiseModel, PlainBackend, PlainBootstrap, PlainCiphertext, PlainPlaintext};

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Relative tolerance under which two scales count as equal.
///
/// Canonical scales are computed by the same f64 recurrence on both sides of an addition, so
/// they agree to the last bits; anything further apart is a real mismatch that CKKS would turn
/// into a wrong result.
pub const SCALE_TOLERANCE: f64 = 1e-12;

/// Returns whether two scales are equal up to [`SCALE_TOLERANCE`].
pub fn scales_match(a: f64, b: f64) -> bool {
    ((a - b) / a.max(b)).abs() <= SCALE_TOLERANCE
}

/// The canonical scale of every level of a modulus chain (see the module docs).
///
/// `moduli[l]` is the prime a rescale from level `l` divides by (`moduli[0]`, the base prime, is
/// never divided by); `scales[l] = Δ_l`.
///
/// ```
/// use hetal_ckks::backend::ScaleChain;
/// let chain = ScaleChain::from_moduli(&[(1u64 << 60) - 93, 1_099_511_922_689, 1_099_512_004_609], 40.0);
/// assert_eq!(chain.max_level(), 2);
/// assert_eq!(chain.scale_at(2), 2f64.powi(40));
/// // Δ_1 = Δ_2² / q_2
/// let expected = 2f64.powi(80) / 1_099_512_004_609.0;
/// assert!((chain.scale_at(1) / expected - 1.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleChain {
    moduli: Vec<f64>,
    scales: Vec<f64>,
}

impl ScaleChain {
    /// The chain of the given Q primes (`q_0` first) with `Δ_top = 2^log_scale`.
    ///
    /// # Panics
    /// If `moduli` is empty (a chain has at least its base prime).
    pub fn from_moduli(moduli: &[u64], log_scale: f64) -> Self {
        Self::from_moduli_f64(moduli.iter().map(|&q| q as f64).collect(), log_scale)
    }

    /// A chain of `levels + 1` moduli all equal to exactly `2^log_scale`, so every `Δ_l` is
    /// `2^log_scale`: the simplest chain for plaintext simulation of a circuit.
    pub fn uniform(levels: usize, log_scale: f64) -> Self {
        Self::from_moduli_f64(vec![log_scale.exp2(); levels + 1], log_scale)
    }

    fn from_moduli_f64(moduli: Vec<f64>, log_scale: f64) -> Self {
        assert!(!moduli.is_empty(), "a modulus chain has at least one prime");
        let top = moduli.len() - 1;
        let mut scales = vec![0.0; moduli.len()];
        scales[top] = log_scale.exp2();
        for l in (1..=top).rev() {
            scales[l - 1] = scales[l] * scales[l] / moduli[l];
        }
        Self { moduli, scales }
    }

    /// The highest level (the level of a fresh ciphertext).
    pub fn max_level(&self) -> usize {
        self.moduli.len() - 1
    }

    /// The canonical scale `Δ_level`.
    ///
    /// # Panics
    /// If `level > self.max_level()`.
    pub fn scale_at(&self, level: usize) -> f64 {
        self.scales[level]
    }

    /// The modulus a rescale from `level` divides by, as f64.
    ///
    /// # Panics
    /// If `level > self.max_level()`.
    pub fn modulus_at(&self, level: usize) -> f64 {
        self.moduli[level]
    }
}

/// The weight of one term of [`SlotBackend::linear_combination`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weight<'a> {
    /// The same constant in every slot.
    Const(Complex64),
    /// One value per slot (shorter vectors are zero-padded, as by `encode`).
    Slots(&'a [Complex64]),
}

/// The checks every [`SlotBackend::linear_combination`] makes: terms present, each strictly
/// above the target level.
pub(crate) fn check_linear_combination<B: SlotBackend + ?Sized>(
    backend: &B,
    terms: &[(&B::Ct, Weight<'_>)],
    level: usize,
) -> Result<()> {
    const OP: &str = "linear_combination";
    if terms.is_empty() {
        return Err(Error::InvalidArgument {
            op: OP,
            reason: "no terms".into(),
        });
    }
    if let Some((x, _)) = terms.iter().find(|(x, _)| backend.level(x) <= level) {
        return Err(Error::LevelExhausted {
            op: OP,
            level: backend.level(x),
            needed: level + 1,
        });
    }
    Ok(())
}

/// The default [`SlotBackend::linear_combination`]: one encoded plaintext product per term on
/// the truncated input, then one rescale.
pub(crate) fn linear_combination_by_products<B: SlotBackend + ?Sized>(
    backend: &B,
    terms: &[(&B::Ct, Weight<'_>)],
    level: usize,
    scale: f64,
) -> Result<B::Ct> {
    check_linear_combination(backend, terms, level)?;
    let target = scale * backend.modulus_at(level + 1);
    let products = terms.iter().map(|(x, w)| {
        let x = backend.truncate_to_level(x, level + 1)?;
        let s = target / backend.scale(&x);
        let pt = match w {
            Weight::Const(c) => {
                backend.encode_at_scale(&vec![*c; backend.slots()], level + 1, s)?
            }
            Weight::Slots(v) => backend.encode_at_scale(v, level + 1, s)?,
        };
        backend.mul_plain(&x, &pt)
    });
    let sum = sum_terms(backend, products)?.expect("terms checked non-empty");
    backend.rescale(&sum)
}

/// Slot-level SIMD operations on encrypted (or simulated) vectors of `slots()` complex numbers.
///
/// Rotations are **left** rotations: `rotate(v, k)[i] = v[(i + k) mod n]`; negative steps rotate
/// right. No operation rescales implicitly: a multiplication leaves a ciphertext whose scale is
/// the product of the operands' scales, and [`rescale`](Self::rescale) divides by the level's
/// prime. The `*_rescale` helpers do both.
///
/// Implementations are immutable and shareable across threads.
pub trait SlotBackend: Send + Sync {
    /// A ciphertext, or its simulation.
    type Ct: Clone + Send + Sync;
    /// A pre-encoded plaintext (a mask, a diagonal), tied to one level and scale.
    type Pt: Clone + Send + Sync;

    /// Number of complex slots `n`.
    fn slots(&self) -> usize;
    /// The level of a fresh ciphertext (the top of the usable chain).
    fn max_level(&self) -> usize;
    /// The canonical scale `Δ_level` of the chain.
    fn scale_at(&self, level: usize) -> f64;
    /// Level of a ciphertext.
    fn level(&self, ct: &Self::Ct) -> usize;
    /// Exact scale of a ciphertext.
    fn scale(&self, ct: &Self::Ct) -> f64;
    /// Degree of a ciphertext: 1 normally, 2 for an unrelinearized tensor product.
    fn degree(&self, ct: &Self::Ct) -> usize;
    /// Level of a plaintext.
    fn plaintext_level(&self, pt: &Self::Pt) -> usize;

    /// Encodes up to `slots()` values (zero padded) at `level`, at the canonical scale `Δ_level`.
    fn encode(&self, values: &[Complex64], level: usize) -> Result<Self::Pt> {
        self.encode_at_scale(values, level, self.scale_at(level))
    }
    /// Encodes up to `slots()` values (zero padded) at `level` and an explicit scale (for adding
    /// a plaintext to a product that is pending its rescale).
    fn encode_at_scale(&self, values: &[Complex64], level: usize, scale: f64) -> Result<Self::Pt>;

    /// `a + b`; same level and scale.
    fn add(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct>;
    /// `a - b`; same level and scale.
    fn sub(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct>;
    /// `-a`.
    fn neg(&self, a: &Self::Ct) -> Result<Self::Ct>;
    /// `a + p` for a plaintext at the same level and scale.
    fn add_plain(&self, a: &Self::Ct, p: &Self::Pt) -> Result<Self::Ct>;
    /// Adds the constant `c` to every slot (encoded at the ciphertext's own scale; no level).
    fn add_const(&self, a: &Self::Ct, c: Complex64) -> Result<Self::Ct>;
    /// `a ⊙ p`, slot-wise, for a plaintext at the same level; no rescale.
    fn mul_plain(&self, a: &Self::Ct, p: &Self::Pt) -> Result<Self::Ct>;
    /// `c · a` with `c` encoded at `Δ_level(a)`; no rescale.
    fn mul_const(&self, a: &Self::Ct, c: Complex64) -> Result<Self::Ct>;
    /// `k · a` for an integer `k`: exact, consumes no level and keeps the scale.
    fn mul_int(&self, a: &Self::Ct, k: i64) -> Result<Self::Ct>;
    /// `i · a`, the imaginary unit times every slot: exact, consumes no level, keeps the scale
    /// and the degree, and needs no key. In CKKS it multiplies every ciphertext polynomial by
    /// the monomial `X^{N/2}`, which evaluates to `i` at every slot's root of unity. HETAL packs
    /// two real vectors into one ciphertext as `x + i·y` with it.
    fn mul_i(&self, a: &Self::Ct) -> Result<Self::Ct>;
    /// The tensor product `a ⊗ b` (a degree-2 ciphertext); relinearize before rotating.
    fn tensor(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct>;
    /// Key-switches a degree-2 ciphertext back to degree 1 (a no-op on degree 1).
    fn relinearize(&self, a: &Self::Ct) -> Result<Self::Ct>;
    /// Divides by the level's prime with rounding: level `l` to `l - 1`, scale `s` to `s / q_l`.
    fn rescale(&self, a: &Self::Ct) -> Result<Self::Ct>;
    /// Brings a canonical ciphertext down to `level` with the canonical scale of that level.
    fn drop_to_level(&self, a: &Self::Ct, level: usize) -> Result<Self::Ct>;
    /// `a` at `level` with its scale **unchanged** (CKKS: the limbs above `level` discarded;
    /// free and exact). The scale is then in general not [`scale_at`](Self::scale_at)`(level)`:
    /// this is for circuits that track scales themselves and land back on the canonical scale
    /// with [`linear_combination`](Self::linear_combination) (the polynomial evaluator).
    fn truncate_to_level(&self, a: &Self::Ct, level: usize) -> Result<Self::Ct>;
    /// The prime a rescale from `level` divides by (as `f64`).
    ///
    /// # Panics
    /// If `level > self.max_level()` (as [`ScaleChain::modulus_at`]).
    fn modulus_at(&self, level: usize) -> f64;
    /// Left rotation by `steps` slots.
    fn rotate(&self, a: &Self::Ct, steps: i32) -> Result<Self::Ct>;
    /// Complex conjugation of every slot.
    fn conjugate(&self, a: &Self::Ct) -> Result<Self::Ct>;

    /// Several rotations of one ciphertext, sharing its key-switching decomposition (hoisting).
    /// The default runs [`rotate`](Self::rotate) for each step.
    fn rotate_hoisted(&self, a: &Self::Ct, steps: &[i32]) -> Result<Vec<Self::Ct>> {
        steps.iter().map(|&k| self.rotate(a, k)).collect()
    }

    /// The inner sums of a baby-step giant-step linear transform ([`crate::lintrans`]): for
    /// every group, `Σ_(k, p) p ⊙ Rot(a, k)` over rotations of the same ciphertext, without
    /// rescaling (the plaintexts of a group share one scale). The default rotates once per
    /// distinct step ([`SlotBackend::rotate_hoisted`]) and sums the products; the CKKS
    /// backends override it with double hoisting
    /// ([`Evaluator::automorphism_sums`](crate::evaluator::Evaluator::automorphism_sums)).
    fn rotation_sums(
        &self,
        a: &Self::Ct,
        groups: &[Vec<(i32, &Self::Pt)>],
    ) -> Result<Vec<Self::Ct>> {
        let mut steps: Vec<i32> = groups
            .iter()
            .flatten()
            .map(|(k, _)| *k)
            .filter(|&k| k != 0)
            .collect();
        steps.sort_unstable();
        steps.dedup();
        let rotated = self.rotate_hoisted(a, &steps)?;
        groups
            .iter()
            .map(|group| {
                let products = group.iter().map(|(k, p)| {
                    let r = match steps.binary_search(k) {
                        Ok(i) => &rotated[i],
                        Err(_) => a,
                    };
                    self.mul_plain(r, p)
                });
                sum_terms(self, products)?.ok_or_else(|| Error::InvalidArgument {
                    op: "rotation_sums",
                    reason: "an empty group".into(),
                })
            })
            .collect()
    }

    /// `Σ_i w_i ⊙ x_i` at exactly `level` and `scale`, with **one** rescale: every `x_i` (at any
    /// level above `level`, of any scale) is truncated to `level + 1`
    /// ([`truncate_to_level`](Self::truncate_to_level)), multiplied by its weight encoded at the
    /// scale `s_i` that makes `scale(x_i)·s_i = scale·q_{level+1}`, and the products are summed
    /// and rescaled. Polynomial evaluation sums its baby-step terms this way: one rescale per
    /// sum, no scale-fixing level drops. The default does exactly that with
    /// [`encode_at_scale`](Self::encode_at_scale), [`mul_plain`](Self::mul_plain) and
    /// [`rescale`](Self::rescale); the CKKS backends multiply constants by integers in one
    /// fused pass ([`Evaluator::linear_combination`](crate::evaluator::Evaluator::linear_combination)).
    ///
    /// ```
    /// use hetal_ckks::backend::{Complex64, PlainBackend, ScaleChain, SlotBackend, SlotClient, Weight};
    ///
    /// # fn main() -> hetal_ckks::Result<()> {
    /// let b = PlainBackend::new(2, ScaleChain::uniform(4, 40.0));
    /// let (x, y) = (b.encrypt_real(&[1.0, 2.0], 4)?, b.encrypt_real(&[3.0, 4.0], 2)?);
    /// let w = [Complex64::new(1.0, 0.0), Complex64::new(-1.0, 0.0)];
    /// // 0.5·x + w ⊙ y, from levels 4 and 2, landing at level 1 on its canonical scale.
    /// let z = b.linear_combination(
    ///     &[(&x, Weight::Const(Complex64::new(0.5, 0.0))), (&y, Weight::Slots(&w))],
    ///     1,
    ///     b.scale_at(1),
    /// )?;
    /// assert_eq!((b.level(&z), b.scale(&z)), (1, b.scale_at(1)));
    /// assert_eq!(b.decrypt_real(&z)?, vec![3.5, -3.0]);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] without terms; [`Error::LevelExhausted`] if a term is not
    /// above `level`; backend errors (scales, degrees, lengths).
    fn linear_combination(
        &self,
        terms: &[(&Self::Ct, Weight<'_>)],
        level: usize,
        scale: f64,
    ) -> Result<Self::Ct> {
        linear_combination_by_products(self, terms, level, scale)
    }

    /// `a - p` for a plaintext at the same level and scale.
    fn sub_plain(&self, a: &Self::Ct, p: &Self::Pt) -> Result<Self::Ct> {
        let negated = self.neg(a)?;
        self.neg(&self.add_plain(&negated, p)?)
    }

    /// `a · b`: tensor product then relinearization, no rescale.
    fn mul_relin(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct> {
        self.relinearize(&self.tensor(a, b)?)
    }

    /// `a · b`, relinearized and rescaled: one level.
    fn mul_relin_rescale(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct> {
        self.rescale(&self.mul_relin(a, b)?)
    }

    /// `a ⊙ p`, rescaled: one level.
    fn mul_plain_rescale(&self, a: &Self::Ct, p: &Self::Pt) -> Result<Self::Ct> {
        self.rescale(&self.mul_plain(a, p)?)
    }

    /// `c · a`, rescaled: one level.
    fn mul_const_rescale(&self, a: &Self::Ct, c: Complex64) -> Result<Self::Ct> {
        self.rescale(&self.mul_const(a, c)?)
    }

    /// Brings two ciphertexts to the lower of their levels.
    fn align_levels(&self, a: &Self::Ct, b: &Self::Ct) -> Result<(Self::Ct, Self::Ct)> {
        let (la, lb) = (self.level(a), self.level(b));
        match la.cmp(&lb) {
            std::cmp::Ordering::Equal => Ok((a.clone(), b.clone())),
            std::cmp::Ordering::Greater => Ok((self.drop_to_level(a, lb)?, b.clone())),
            std::cmp::Ordering::Less => Ok((a.clone(), self.drop_to_level(b, la)?)),
        }
    }

    /// `Σ_{j < count} rotate(a, j·step)` by `log2(count)` rotate-and-add steps (doubling).
    ///
    /// `count` must be a power of two. With `step = 1` and `count = n / k` this sums blocks of
    /// slots; the result is what a tree of rotations gives, so every slot `i` holds the sum of
    /// `a[i + j·step]`.
    fn rotate_and_sum(&self, a: &Self::Ct, step: i32, count: usize) -> Result<Self::Ct> {
        if !count.is_power_of_two() {
            return Err(Error::InvalidArgument {
                op: "rotate_and_sum",
                reason: format!("count must be a power of two, got {count}"),
            });
        }
        let mut acc = a.clone();
        let mut shift = step as i64;
        let mut remaining = count;
        while remaining > 1 {
            let r = i32::try_from(shift.rem_euclid(self.slots() as i64)).map_err(|_| {
                Error::InvalidArgument {
                    op: "rotate_and_sum",
                    reason: format!("rotation step {shift} does not fit in i32"),
                }
            })?;
            acc = self.add(&acc, &self.rotate(&acc, r)?)?;
            shift *= 2;
            remaining /= 2;
        }
        Ok(acc)
    }
}

/// Bootstrapping: refreshes a ciphertext to a higher level.
pub trait Bootstrap: SlotBackend {
    /// The level a bootstrapped ciphertext has (with the canonical scale of that level).
    fn bootstrap_level(&self) -> usize;
    /// The largest magnitude of a slot's real or imaginary part that bootstrapping refreshes
    /// correctly. Circuits scale values into this range first.
    fn bootstrap_bound(&self) -> f64;
    /// Refreshes `a` (a degree-1, canonical ciphertext at any level) to
    /// [`bootstrap_level`](Self::bootstrap_level).
    fn bootstrap(&self, a: &Self::Ct) -> Result<Self::Ct>;
}

/// The key holder's side: encryption and decryption.
///
/// Server-side code is written against [`SlotBackend`] + [`Bootstrap`] and never receives a
/// type implementing this trait.
pub trait SlotClient: SlotBackend {
    /// Encrypts up to `slots()` values (zero padded) at `level`, at the canonical scale.
    fn encrypt(&self, values: &[Complex64], level: usize) -> Result<Self::Ct>;
    /// Decrypts and decodes all `slots()` values.
    fn decrypt(&self, a: &Self::Ct) -> Result<Vec<Complex64>>;

    /// Encrypts real values.
    fn encrypt_real(&self, values: &[f64], level: usize) -> Result<Self::Ct> {
        let complex: Vec<Complex64> = values.iter().map(|&v| Complex64::new(v, 0.0)).collect();
        self.encrypt(&complex, level)
    }

    /// Decrypts and keeps the real parts.
    fn decrypt_real(&self, a: &Self::Ct) -> Result<Vec<f64>> {
        Ok(self.decrypt(a)?.into_iter().map(|z| z.re).collect())
    }
}

/// The sum of `terms` with [`SlotBackend::add`], left to right (`None` for no terms); the first
/// error stops it.
pub(crate) fn sum_terms<B: SlotBackend + ?Sized>(
    backend: &B,
    terms: impl IntoIterator<Item = Result<B::Ct>>,
) -> Result<Option<B::Ct>> {
    let mut acc: Option<B::Ct> = None;
    for t in terms {
        let t = t?;
        acc = Some(match acc {
            None => t,
            Some(s) => backend.add(&s, &t)?,
        });
    }
    Ok(acc)
}

/// Encodes real values at the canonical scale of `level` (a convenience over
/// [`SlotBackend::encode`]).
pub fn encode_real<B: SlotBackend + ?Sized>(
    backend: &B,
    values: &[f64],
    level: usize,
) -> Result<B::Pt> {
    let complex: Vec<Complex64> = values.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    backend.encode(&complex, level)
}
