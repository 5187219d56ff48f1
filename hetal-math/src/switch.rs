//! Modulus switching for full-RNS CKKS: ModUp, ModDown and exact rescaling.
//!
//! * ModUp / ModDown are the basis extensions of hybrid key switching (Han-Ki, "Better
//!   bootstrapping for approximate homomorphic encryption", CT-RSA 2020, Sec. 3; Cheon-Han-Kim-Kim-
//!   Song, SAC 2018, Alg. 1-2), built on the fast basis conversion of Halevi-Polyakov-Shoup.
//! * Rescaling by the last prime is exact (`round(x / q_l)`), as one-limb conversions are.

use std::ops::Range;
use std::sync::Arc;

use num_traits::ToPrimitive;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::modulus::Modulus;
use crate::poly::{Coeff, Ntt, Poly};
use crate::rns::{BasisConverter, RnsBasis};

/// Extends one digit `D = {q_i : i in digit}` of `Q_l` to `Q_l ∪ P`.
///
/// Input: a polynomial over `Q_l` (only the digit limbs are read). Output over `Q_l ∪ P`: the
/// digit limbs are copied; every other limb holds `[x]_D + e*D` reduced, where `[x]_D` is the
/// representative in `[0, D)` and `0 <= e < |digit|` (per coefficient). The output is therefore
/// exact modulo `D` and off by a small multiple of `D` elsewhere. Hybrid key switching is
/// correct with it (Han-Ki 2020), but not unbiased: every coefficient of the extended digit is
/// non-negative, of mean about `|digit|·D/2`, so the key-switching error `Σ_j d_j e_j / P` has
/// a nonzero mean, which the all-ones polynomial concentrates at the CKKS slots nearest
/// `ζ = 1`. At `N = 2^16` that cost CKKS bootstrapping up to 1.5 bits, depending on the key;
/// `hetal-ckks` therefore extends digits exactly to the centered residue `[-D/2, D/2)` (the
/// floating-point overflow estimate of Halevi-Polyakov-Shoup, CT-RSA 2019, Sec. 2.2) in its own
/// fused key switching. This type is the fast extension, for other uses and as a reference.
///
/// ```
/// use hetal_math::{Context, ModUp, Poly, Coeff};
/// let n = 16;
/// let primes = hetal_math::generate_ntt_primes(45, n, 5).unwrap();
/// let qp = Context::new(n, &primes).unwrap(); // Q = first 3, P = last 2
/// let up = ModUp::new(&qp, 3, 0..3).unwrap();
/// let q = qp.prefix(3).unwrap();
/// let x = Poly::<Coeff>::from_i64(&q, &[-5i64; 16]).unwrap();
/// let y = up.apply(&x).unwrap();
/// assert_eq!(y.num_limbs(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct ModUp {
    target: Arc<Context>,
    q_len: usize,
    digit: Range<usize>,
    /// Target limb indices outside the digit, in order.
    others: Vec<usize>,
    conv: BasisConverter,
}

impl ModUp {
    /// Precomputes the extension of `digit` (indices into the first `q_len` primes of `target`)
    /// to all primes of `target` (`Q_l ∪ P`, with `Q_l` its first `q_len` primes).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `q_len` or `digit` are out of range or the digit is empty.
    pub fn new(target: &Arc<Context>, q_len: usize, digit: Range<usize>) -> Result<Self> {
        if q_len == 0 || q_len > target.num_limbs() {
            return Err(Error::InvalidArgument {
                op: "ModUp::new",
                reason: "q_len out of range",
            });
        }
        if digit.start >= digit.end || digit.end > q_len {
            return Err(Error::InvalidArgument {
                op: "ModUp::new",
                reason: "digit must be a non-empty range inside 0..q_len",
            });
        }
        let moduli = target.moduli();
        let others: Vec<usize> = (0..target.num_limbs())
            .filter(|i| !digit.contains(i))
            .collect();
        let from = RnsBasis::from_moduli(moduli[digit.clone()].to_vec())?;
        let to_moduli: Vec<Modulus> = others.iter().map(|&i| moduli[i]).collect();
        if to_moduli.is_empty() {
            return Err(Error::InvalidArgument {
                op: "ModUp::new",
                reason: "digit covers the whole target basis",
            });
        }
        let to = RnsBasis::from_moduli(to_moduli)?;
        let conv = BasisConverter::new(&from, &to)?;
        Ok(Self {
            target: target.clone(),
            q_len,
            digit,
            others,
            conv,
        })
    }

    /// The output context `Q_l ∪ P`.
    pub fn target(&self) -> &Arc<Context> {
        &self.target
    }

    fn check_input(&self, ctx: &Context) -> Result<()> {
        let t = self.target.moduli();
        if ctx.n() != self.target.n()
            || ctx.num_limbs() != self.q_len
            || ctx
                .moduli()
                .iter()
                .zip(t)
                .any(|(a, b)| a.value() != b.value())
        {
            return Err(Error::MismatchedBases {
                op: "ModUp",
                reason: "input must be over the Q_l prefix of the target",
            });
        }
        Ok(())
    }

    /// ModUp in coefficient representation.
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if `x` is not over `Q_l`.
    pub fn apply(&self, x: &Poly<Coeff>) -> Result<Poly<Coeff>> {
        self.check_input(x.context())?;
        let n = x.n();
        let d = self.digit.clone();
        let mut out = vec![0u64; n * self.target.num_limbs()];
        let mut conv = vec![0u64; n * self.others.len()];
        self.conv
            .convert(&x.data()[d.start * n..d.end * n], &mut conv, n)?;
        out[d.start * n..d.end * n].copy_from_slice(&x.data()[d.start * n..d.end * n]);
        for (k, &i) in self.others.iter().enumerate() {
            out[i * n..(i + 1) * n].copy_from_slice(&conv[k * n..(k + 1) * n]);
        }
        Ok(Poly::from_raw(&self.target, out))
    }

    /// ModUp in NTT representation: inverse NTT of the digit limbs, conversion, forward NTT of the
    /// new limbs; the digit limbs are copied unchanged.
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if `x` is not over `Q_l`.
    pub fn apply_ntt(&self, x: &Poly<Ntt>) -> Result<Poly<Ntt>> {
        self.check_input(x.context())?;
        let n = x.n();
        let d = self.digit.clone();
        let digit_ntt = &x.data()[d.start * n..d.end * n];
        // The digit region of `out` serves as scratch for the coefficient form, then receives the
        // (unchanged) NTT-form digit limbs: no extra large allocation.
        let mut out = vec![0u64; n * self.target.num_limbs()];
        let scratch = &mut out[d.start * n..d.end * n];
        scratch.copy_from_slice(digit_ntt);
        for (k, i) in d.clone().enumerate() {
            self.target.plans()[i].inverse(&mut scratch[k * n..(k + 1) * n]);
        }
        let mut conv = vec![0u64; n * self.others.len()];
        self.conv.convert(scratch, &mut conv, n)?;
        scratch.copy_from_slice(digit_ntt);
        for (k, &i) in self.others.iter().enumerate() {
            let dst = &mut out[i * n..(i + 1) * n];
            dst.copy_from_slice(&conv[k * n..(k + 1) * n]);
            self.target.plans()[i].forward(dst);
        }
        Ok(Poly::from_raw(&self.target, out))
    }
}

/// Divides by `P` with rounding, from `Q_l ∪ P` (first `q_len` limbs are `Q_l`) to `Q_l`.
///
/// For an input `x` (any representative modulo `QP`), the output is `round(x / P) - e` modulo
/// `Q_l` with an integer `0 <= e < |P|` per coefficient (the error of the fast conversion of
/// `[x + floor(P/2)]_P` to `Q_l`, divided exactly by `P`).
///
/// ```
/// use hetal_math::{Context, ModDown, Poly, Coeff};
/// let n = 16;
/// let primes = hetal_math::generate_ntt_primes(45, n, 4).unwrap();
/// let qp = Context::new(n, &primes).unwrap(); // Q = first 2 primes, P = last 2
/// let down = ModDown::new(&qp, 2).unwrap();
/// let p = primes[2] as i128 * primes[3] as i128;
/// // x = 7 * P + 3 rounds to 7 (up to the documented -e, e in {0, 1}).
/// let mut c = vec![num_bigint::BigInt::from(0); n];
/// c[0] = (7 * p + 3).into();
/// let x = Poly::<Coeff>::from_bigint(&qp, &c).unwrap();
/// let y = down.apply(&x).unwrap().to_bigint_centered();
/// assert!(y[0] == 7.into() || y[0] == 6.into());
/// ```
#[derive(Debug, Clone)]
pub struct ModDown {
    source: Arc<Context>,
    q_ctx: Arc<Context>,
    q_len: usize,
    conv: BasisConverter,
    /// `[P^{-1}]_{q_i}` and Shoup constants.
    p_inv: Vec<(u64, u64)>,
    /// `[floor(P/2)]_{q_i}` for `i < q_len`, then `[floor(P/2)]_{p_j}`.
    half_p: Vec<u64>,
}

impl ModDown {
    /// Precomputes ModDown for `source = Q_l ∪ P` where `Q_l` is the first `q_len` primes.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `1 <= q_len < source.num_limbs()`.
    pub fn new(source: &Arc<Context>, q_len: usize) -> Result<Self> {
        if q_len == 0 || q_len >= source.num_limbs() {
            return Err(Error::InvalidArgument {
                op: "ModDown::new",
                reason: "need 1 <= q_len < number of limbs (P must be non-empty)",
            });
        }
        let moduli = source.moduli();
        let pb = RnsBasis::from_moduli(moduli[q_len..].to_vec())?;
        let qb = RnsBasis::from_moduli(moduli[..q_len].to_vec())?;
        let conv = BasisConverter::new(&pb, &qb)?;
        let p_big = pb.product();
        let half = p_big >> 1u32;
        let mut p_inv = Vec::with_capacity(q_len);
        let mut half_p = Vec::with_capacity(moduli.len());
        for m in moduli {
            half_p.push((&half % m.value()).to_u64().unwrap_or(0));
        }
        for m in &moduli[..q_len] {
            let pm = (p_big % m.value()).to_u64().unwrap_or(0);
            let inv = m.inv(pm).ok_or(Error::InvalidBasis {
                reason: "P not invertible mod q",
            })?;
            p_inv.push((inv, m.shoup(inv)));
        }
        Ok(Self {
            source: source.clone(),
            q_ctx: source.prefix(q_len)?,
            q_len,
            conv,
            p_inv,
            half_p,
        })
    }

    /// The output context `Q_l`.
    pub fn q_context(&self) -> &Arc<Context> {
        &self.q_ctx
    }

    fn check_input(&self, ctx: &Context) -> Result<()> {
        if !ctx.same_ring(&self.source) {
            return Err(Error::MismatchedBases {
                op: "ModDown",
                reason: "input must be over Q_l ∪ P",
            });
        }
        Ok(())
    }

    /// `[x + H]_P - H`, fast-converted to `Q_l` (coefficient form), limb-major `q_len x n`.
    fn converted_p_part(&self, p_coeff: &mut [u64], n: usize) -> Result<Vec<u64>> {
        let moduli = self.source.moduli();
        for (k, m) in moduli[self.q_len..].iter().enumerate() {
            let h = self.half_p[self.q_len + k];
            for v in p_coeff[k * n..(k + 1) * n].iter_mut() {
                *v = m.add(*v, h);
            }
        }
        let mut conv = vec![0u64; self.q_len * n];
        self.conv.convert(p_coeff, &mut conv, n)?;
        // Subtract the rounding offset again (coefficient-wise), so that
        // `x - conv` = `x - ([x + H]_P - H) - e*P` is an exact multiple of P; `H` is the
        // polynomial with every coefficient floor(P/2).
        for (i, &m) in moduli[..self.q_len].iter().enumerate() {
            let h = self.half_p[i];
            for v in conv[i * n..(i + 1) * n].iter_mut() {
                *v = m.sub(*v, h);
            }
        }
        Ok(conv)
    }

    /// `out_i = (x_i - conv_i) * P^{-1} mod q_i`, limb by limb (valid in both representations).
    fn finish(&self, mut q_part: Vec<u64>, conv: &[u64], n: usize) -> Vec<u64> {
        for (i, &m) in self.source.moduli()[..self.q_len].iter().enumerate() {
            let (w, ws) = self.p_inv[i];
            for (x, &c) in q_part[i * n..(i + 1) * n]
                .iter_mut()
                .zip(&conv[i * n..(i + 1) * n])
            {
                *x = m.mul_shoup(m.sub(*x, c), w, ws);
            }
        }
        q_part
    }

    /// ModDown in coefficient representation.
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if `x` is not over `Q_l ∪ P`.
    pub fn apply(&self, x: &Poly<Coeff>) -> Result<Poly<Coeff>> {
        self.check_input(x.context())?;
        let n = x.n();
        let split = self.q_len * n;
        let mut p_part = x.data()[split..].to_vec();
        let conv = self.converted_p_part(&mut p_part, n)?;
        let out = self.finish(x.data()[..split].to_vec(), &conv, n);
        Ok(Poly::from_raw(&self.q_ctx, out))
    }

    /// ModDown in NTT representation (inverse NTT of the `P` limbs only, forward NTT of the
    /// converted limbs). Same result as [`ModDown::apply`].
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if `x` is not over `Q_l ∪ P`.
    pub fn apply_ntt(&self, x: &Poly<Ntt>) -> Result<Poly<Ntt>> {
        self.check_input(x.context())?;
        let n = x.n();
        let split = self.q_len * n;
        let mut p_part = x.data()[split..].to_vec();
        let plans = self.source.plans();
        for (k, plan) in plans[self.q_len..].iter().enumerate() {
            plan.inverse(&mut p_part[k * n..(k + 1) * n]);
        }
        let mut conv = self.converted_p_part(&mut p_part, n)?;
        for (i, plan) in plans[..self.q_len].iter().enumerate() {
            plan.forward(&mut conv[i * n..(i + 1) * n]);
        }
        let out = self.finish(x.data()[..split].to_vec(), &conv, n);
        Ok(Poly::from_raw(&self.q_ctx, out))
    }
}

/// `(q_l, h, per-limb constants)`.
type RescaleConstants = (Modulus, u64, Vec<(u64, u64, u64)>);

/// Constants for rescaling by the last prime `q_l`: `(h mod q_i, q_l^{-1} mod q_i, Shoup)` with
/// `h = (q_l - 1) / 2`.
fn rescale_constants(ctx: &Context) -> Result<RescaleConstants> {
    let k = ctx.num_limbs();
    if k < 2 {
        return Err(Error::InvalidArgument {
            op: "divide_round_by_last",
            reason: "needs at least two limbs",
        });
    }
    let moduli = ctx.moduli();
    let last = moduli[k - 1];
    let h = (last.value() - 1) / 2;
    let consts = moduli[..k - 1]
        .iter()
        .map(|m| {
            let inv = m.inv(last.value()).expect("distinct primes are coprime");
            (m.reduce(h), inv, m.shoup(inv))
        })
        .collect();
    Ok((last, h, consts))
}

/// `[s - h]_{q_i}` for `s = [x + h]_{q_l}` in `[0, q_l)`: the signed integer `s - h` (in
/// `[-h, q_l - 1 - h]`) reduced modulo `q_i`. Then `x - (s - h) = x + h - [x + h]_{q_l}` is an exact
/// multiple of `q_l`, and the quotient is `floor((x + h) / q_l) = round(x / q_l)`.
#[inline]
fn lift(m: &Modulus, s: u64, h_mod: u64) -> u64 {
    // Branch-free (the branch on `s >= h` would be mispredicted half of the time).
    m.sub(m.reduce(s), h_mod)
}

impl Poly<Coeff> {
    /// Exact rescale: `round(x / q_l)` modulo `q_0..q_{l-1}` for the last prime `q_l`, where `x`
    /// is the unsigned representative in `[0, Q)` (for the centered one the result is the same
    /// modulo `Q/q_l`). Computed as `floor((x + (q_l-1)/2) / q_l)` limb by limb, which is exact
    /// because `q_l` is a single prime (Cheon-Han-Kim-Kim-Song 2018, Sec. 3.3).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the polynomial has a single limb.
    pub fn divide_round_by_last(&self) -> Result<Poly<Coeff>> {
        let ctx = self.context();
        let (last, h, consts) = rescale_constants(ctx)?;
        let n = self.n();
        let k = self.num_limbs();
        let top: Vec<u64> = self.limb(k - 1).iter().map(|&v| last.add(v, h)).collect();
        let mut out = self.data()[..(k - 1) * n].to_vec();
        for (i, &m) in ctx.moduli()[..k - 1].iter().enumerate() {
            let (hi, w, ws) = consts[i];
            for (x, &t) in out[i * n..(i + 1) * n].iter_mut().zip(&top) {
                *x = m.mul_shoup(m.sub(*x, lift(&m, t, hi)), w, ws);
            }
        }
        Ok(Poly::from_raw(&ctx.prefix(k - 1)?, out))
    }
}

impl Poly<Ntt> {
    /// Exact rescale in NTT form (one inverse NTT of the last limb and one forward NTT per
    /// remaining limb). Same result as [`Poly::<Coeff>::divide_round_by_last`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the polynomial has a single limb.
    pub fn divide_round_by_last(&self) -> Result<Poly<Ntt>> {
        use rayon::prelude::*;
        let ctx = self.context();
        let (last, h, consts) = rescale_constants(ctx)?;
        let n = self.n();
        let k = self.num_limbs();
        let mut top = self.limb(k - 1).to_vec();
        ctx.plans()[k - 1].inverse(&mut top);
        top.iter_mut().for_each(|v| *v = last.add(*v, h));
        let top_bits = [last.bits()];
        let data = self.data();
        // Limbs in parallel, each in three vectorized passes and no copy of the input:
        // [s]_{q_i} (IFMA reduction), `- h`, forward NTT; then `(x_i - ·)·q_l^{-1}` as one
        // constant dot product `x_i·w + ·(q_i - w)` into the output.
        let mut out = vec![0u64; (k - 1) * n];
        out.par_chunks_mut(n)
            .zip(ctx.moduli()[..k - 1].par_iter())
            .enumerate()
            .for_each(|(i, (dst, m))| {
                let (hi, w, _) = consts[i];
                let mut buf = vec![0u64; n];
                crate::dot::dot_const(m, &[&top], &top_bits, &[1], &mut buf);
                for b in buf.iter_mut() {
                    *b = m.sub(*b, hi);
                }
                ctx.plans()[i].forward(&mut buf);
                let bits = m.bits();
                crate::dot::dot_const(
                    m,
                    &[&data[i * n..(i + 1) * n], &buf],
                    &[bits, bits],
                    &[w, m.neg(w)],
                    dst,
                );
            });
        Ok(Poly::from_raw(&ctx.prefix(k - 1)?, out))
    }
}
