//! RNS bases: CRT constants, exact reconstruction, and fast basis conversion.
//!
//! Fast basis conversion follows Halevi-Polyakov-Shoup ("An improved RNS variant of the BFV
//! homomorphic encryption scheme", CT-RSA 2019, eq. (2)) and Bajard-Eynard-Hasan-Zucca (SAC 2016):
//! for `x` given by residues `x_i` modulo `Q = prod q_i`,
//!
//! `conv(x) = sum_i [x_i * (Q/q_i)^{-1}]_{q_i} * (Q/q_i)  (mod p_j)`
//!
//! which equals `x + e*Q` for an integer `0 <= e < k` (`k` = number of source primes), because
//! every term of the sum is in `[0, Q)` before the final reduction.

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{One, ToPrimitive, Zero};

use crate::dot::dot_const;
use crate::error::{Error, Result};
use crate::modulus::Modulus;

/// A basis of distinct word-size primes with CRT constants.
///
/// ```
/// use hetal_math::RnsBasis;
/// use num_bigint::BigUint;
/// let ps = hetal_math::generate_ntt_primes(40, 16, 3).unwrap();
/// let basis = RnsBasis::new(&ps).unwrap();
/// let x = BigUint::from(123_456_789_012_345_678_901u128);
/// let residues = basis.decompose(&x);
/// assert_eq!(basis.reconstruct(&residues).unwrap(), x);
/// ```
#[derive(Debug, Clone)]
pub struct RnsBasis {
    moduli: Vec<Modulus>,
    product: BigUint,
    /// `[(Q/q_i)^{-1}]_{q_i}`.
    q_hat_inv: Vec<u64>,
    /// Shoup constants of `q_hat_inv`.
    q_hat_inv_shoup: Vec<u64>,
    /// `Q/q_i` as big integers (for reconstruction).
    q_hat: Vec<BigUint>,
}

impl RnsBasis {
    /// Builds a basis from distinct primes below `2^61`.
    ///
    /// # Errors
    /// [`Error::InvalidBasis`] if empty or with a repeated prime; [`Error::InvalidModulus`].
    pub fn new(primes: &[u64]) -> Result<Self> {
        let moduli = primes
            .iter()
            .map(|&p| Modulus::new(p))
            .collect::<Result<Vec<_>>>()?;
        Self::from_moduli(moduli)
    }

    /// Builds a basis from already-validated moduli.
    ///
    /// # Errors
    /// [`Error::InvalidBasis`] if empty or with a repeated prime.
    pub fn from_moduli(moduli: Vec<Modulus>) -> Result<Self> {
        if moduli.is_empty() {
            return Err(Error::InvalidBasis {
                reason: "empty basis",
            });
        }
        for (i, a) in moduli.iter().enumerate() {
            if moduli[..i].iter().any(|b| b.value() == a.value()) {
                return Err(Error::InvalidBasis {
                    reason: "repeated prime",
                });
            }
        }
        let product = moduli.iter().fold(BigUint::one(), |acc, m| acc * m.value());
        let mut q_hat = Vec::with_capacity(moduli.len());
        let mut q_hat_inv = Vec::with_capacity(moduli.len());
        let mut q_hat_inv_shoup = Vec::with_capacity(moduli.len());
        for m in &moduli {
            let h = &product / m.value();
            let h_mod = (&h % m.value()).to_u64().unwrap_or(0);
            let inv = m.inv(h_mod).ok_or(Error::InvalidBasis {
                reason: "primes not coprime",
            })?;
            q_hat.push(h);
            q_hat_inv.push(inv);
            q_hat_inv_shoup.push(m.shoup(inv));
        }
        Ok(Self {
            moduli,
            product,
            q_hat_inv,
            q_hat_inv_shoup,
            q_hat,
        })
    }

    /// The moduli, in order.
    #[inline]
    pub fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// Number of primes.
    #[inline]
    pub fn len(&self) -> usize {
        self.moduli.len()
    }

    /// Always false (a basis has at least one prime); provided for API symmetry.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.moduli.is_empty()
    }

    /// The product `Q` of all primes.
    #[inline]
    pub fn product(&self) -> &BigUint {
        &self.product
    }

    /// Residues of a non-negative integer.
    pub fn decompose(&self, x: &BigUint) -> Vec<u64> {
        self.moduli
            .iter()
            .map(|m| (x % m.value()).to_u64().unwrap_or(0))
            .collect()
    }

    /// Residues of a signed integer (`x mod q_i` in `[0, q_i)`).
    pub fn decompose_signed(&self, x: &BigInt) -> Vec<u64> {
        let mag = x.magnitude();
        self.moduli
            .iter()
            .map(|m| {
                let r = (mag % m.value()).to_u64().unwrap_or(0);
                if x.sign() == Sign::Minus { m.neg(r) } else { r }
            })
            .collect()
    }

    /// Exact CRT reconstruction: the unique `x` in `[0, Q)` with the given residues.
    ///
    /// # Errors
    /// [`Error::WrongLength`] or [`Error::UnreducedResidue`].
    pub fn reconstruct(&self, residues: &[u64]) -> Result<BigUint> {
        if residues.len() != self.len() {
            return Err(Error::WrongLength {
                what: "residues",
                expected: self.len(),
                got: residues.len(),
            });
        }
        let mut acc = BigUint::zero();
        for (i, (&r, m)) in residues.iter().zip(&self.moduli).enumerate() {
            if r >= m.value() {
                return Err(Error::UnreducedResidue {
                    limb: i,
                    value: r,
                    modulus: m.value(),
                });
            }
            let y = m.mul_shoup(r, self.q_hat_inv[i], self.q_hat_inv_shoup[i]);
            acc += &self.q_hat[i] * y;
        }
        Ok(acc % &self.product)
    }

    /// Exact CRT reconstruction to the centered representative in `(-Q/2, Q/2]`.
    ///
    /// # Errors
    /// As [`RnsBasis::reconstruct`].
    pub fn reconstruct_centered(&self, residues: &[u64]) -> Result<BigInt> {
        let x = self.reconstruct(residues)?;
        let half = &self.product >> 1u32;
        Ok(if x > half {
            BigInt::from(x) - BigInt::from(self.product.clone())
        } else {
            BigInt::from(x)
        })
    }

    /// `[(Q/q_i)^{-1}]_{q_i}` for each `i`.
    #[inline]
    pub fn q_hat_inv(&self) -> &[u64] {
        &self.q_hat_inv
    }

    /// Whether both bases hold the same primes in the same order.
    pub fn same_primes(&self, other: &RnsBasis) -> bool {
        self.moduli.len() == other.moduli.len()
            && self
                .moduli
                .iter()
                .zip(&other.moduli)
                .all(|(a, b)| a.value() == b.value())
    }
}

/// Precomputed fast basis conversion from basis `Q = {q_i}` to basis `P = {p_j}`
/// (Halevi-Polyakov-Shoup, CT-RSA 2019).
///
/// For input residues of `x` in `[0, Q)`, the output residues are those of `x + e*Q` with
/// `0 <= e < k`, `k = |Q|` (exact integer `e`, the same for every output prime).
///
/// ```
/// use hetal_math::{BasisConverter, RnsBasis};
/// use num_bigint::BigUint;
/// let ps = hetal_math::generate_ntt_primes(40, 16, 5).unwrap();
/// let from = RnsBasis::new(&ps[..3]).unwrap();
/// let to = RnsBasis::new(&ps[3..]).unwrap();
/// let conv = BasisConverter::new(&from, &to).unwrap();
/// let x = BigUint::from(987_654_321u64);
/// let mut out = vec![0u64; 2];
/// conv.convert(&from.decompose(&x), &mut out, 1).unwrap();
/// let y = to.reconstruct(&out).unwrap();
/// // y = x + e*Q mod P with e in {0, 1, 2}
/// assert!((0u32..3).any(|e| (&x + from.product() * e) % to.product() == y));
/// ```
#[derive(Debug, Clone)]
pub struct BasisConverter {
    from: Vec<Modulus>,
    to: Vec<Modulus>,
    q_hat_inv: Vec<u64>,
    q_hat_inv_shoup: Vec<u64>,
    /// `[Q/q_i]_{p_j}`, row-major `[j * k + i]`.
    q_hat_mod_p: Vec<u64>,
}

impl BasisConverter {
    /// Precomputes the conversion from `from` to `to`.
    ///
    /// # Errors
    /// [`Error::InvalidBasis`] if the two bases share a prime (the conversion is only meaningful
    /// between coprime bases).
    pub fn new(from: &RnsBasis, to: &RnsBasis) -> Result<Self> {
        if from
            .moduli
            .iter()
            .any(|a| to.moduli.iter().any(|b| a.value() == b.value()))
        {
            return Err(Error::InvalidBasis {
                reason: "basis conversion between non-coprime bases",
            });
        }
        let k = from.len();
        let mut q_hat_mod_p = vec![0u64; k * to.len()];
        for (j, pj) in to.moduli.iter().enumerate() {
            for i in 0..k {
                q_hat_mod_p[j * k + i] = (&from.q_hat[i] % pj.value()).to_u64().unwrap_or(0);
            }
        }
        Ok(Self {
            from: from.moduli.clone(),
            to: to.moduli.clone(),
            q_hat_inv: from.q_hat_inv.clone(),
            q_hat_inv_shoup: from.q_hat_inv_shoup.clone(),
            q_hat_mod_p,
        })
    }

    /// Number of source primes `k`.
    #[inline]
    pub fn from_len(&self) -> usize {
        self.from.len()
    }

    /// Number of target primes.
    #[inline]
    pub fn to_len(&self) -> usize {
        self.to.len()
    }

    /// Converts `n` coefficients: `input` is limb-major `k x n` (`input[i*n..(i+1)*n]` modulo
    /// `q_i`), `output` is limb-major `|P| x n`. Output residues are in `[0, p_j)`.
    ///
    /// # Errors
    /// [`Error::WrongLength`] if a buffer does not have the expected length.
    pub fn convert(&self, input: &[u64], output: &mut [u64], n: usize) -> Result<()> {
        let k = self.from.len();
        if input.len() != k * n {
            return Err(Error::WrongLength {
                what: "convert input",
                expected: k * n,
                got: input.len(),
            });
        }
        if output.len() != self.to.len() * n {
            return Err(Error::WrongLength {
                what: "convert output",
                expected: self.to.len() * n,
                got: output.len(),
            });
        }
        // y_i = [x_i * (Q/q_i)^{-1}]_{q_i}, computed once per coefficient block (L2-sized), then
        // one lazily reduced dot product per target prime (`crate::dot`, IFMA when available).
        const BLOCK: usize = 2048;
        let mut y = vec![0u64; k * BLOCK.min(n)];
        let row_bits: Vec<u32> = self.from.iter().map(|m| m.bits()).collect();
        let mut start = 0;
        while start < n {
            let len = BLOCK.min(n - start);
            for i in 0..k {
                let m = &self.from[i];
                let (w, ws) = (self.q_hat_inv[i], self.q_hat_inv_shoup[i]);
                let src = &input[i * n + start..i * n + start + len];
                for (dst, &x) in y[i * len..(i + 1) * len].iter_mut().zip(src) {
                    *dst = m.mul_shoup(x, w, ws);
                }
            }
            let rows: Vec<&[u64]> = y[..k * len].chunks(len).collect();
            for (j, pj) in self.to.iter().enumerate() {
                let out = &mut output[j * n + start..j * n + start + len];
                dot_const(
                    pj,
                    &rows,
                    &row_bits,
                    &self.q_hat_mod_p[j * k..(j + 1) * k],
                    out,
                );
            }
            start += len;
        }
        Ok(())
    }
}
