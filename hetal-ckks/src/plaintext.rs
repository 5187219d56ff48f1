//! Plaintexts: encoded polynomials at a level and scale, and the RNS encode/decode helpers.

use std::borrow::Cow;
use std::sync::Arc;

use hetal_math::{Coeff, Context, Modulus, Ntt, Poly};
use num_complex::Complex64;

use crate::error::{Error, Result};
use crate::params::Parameters;

/// An encoded plaintext: a polynomial in NTT form over `Q_level` (or `Q_level ∪ P`, see
/// [`Parameters::encode_extended`]), with its scale.
///
/// A plaintext can be held **compacted** ([`Plaintext::compacted`]): when every NTT row is
/// constant on consecutive runs of `r` entries, only one value per run is kept. This is the
/// case, with `r = N/(2p)`, for the encoding of any slot vector of period `p` (a polynomial in
/// `X^{N/(2p)}`, whose evaluations depend only on the evaluation point modulo the `4p`-th roots
/// of unity, which the NTT's bit-reversed order lays out in runs): most diagonals of the
/// bootstrapping DFT factors are such vectors, which cuts their memory by `r` (16 to 4096).
/// Every operation accepts both forms; [`Plaintext::poly`] expands a compacted one.
#[derive(Clone, Debug, PartialEq)]
pub struct Plaintext {
    pub(crate) data: PlainData,
    pub(crate) level: usize,
    pub(crate) scale: f64,
}

/// The NTT rows of a [`Plaintext`].
#[derive(Clone, Debug)]
pub(crate) enum PlainData {
    /// Every entry.
    Full(Poly<Ntt>),
    /// Rows constant on runs of `run` entries (a power of two `>= 2`): one value per run,
    /// limb-major (`values[t · (n / run) + k / run]` is entry `k` of limb `t`).
    Runs {
        ctx: Arc<Context>,
        run: usize,
        values: Vec<u64>,
    },
}

/// The same form and the same residues (a compacted plaintext differs from its expansion).
impl PartialEq for PlainData {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Full(a), Self::Full(b)) => a == b,
            (
                Self::Runs { ctx, run, values },
                Self::Runs {
                    ctx: c2,
                    run: r2,
                    values: v2,
                },
            ) => run == r2 && values == v2 && ctx.same_ring(c2),
            _ => false,
        }
    }
}

impl Plaintext {
    pub(crate) fn full(poly: Poly<Ntt>, level: usize, scale: f64) -> Self {
        Self {
            data: PlainData::Full(poly),
            level,
            scale,
        }
    }

    /// The level (`level + 1` Q primes).
    pub fn level(&self) -> usize {
        self.level
    }

    /// The scale the values were multiplied by.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The polynomial (NTT form), expanded if the plaintext is compacted.
    pub fn poly(&self) -> Cow<'_, Poly<Ntt>> {
        match &self.data {
            PlainData::Full(p) => Cow::Borrowed(p),
            PlainData::Runs { ctx, .. } => {
                let n = ctx.n();
                let mut data = vec![0u64; n * ctx.num_limbs()];
                for (t, row) in data.chunks_mut(n).enumerate() {
                    self.write_limb_segment(t, 0, row);
                }
                Cow::Owned(Poly::from_limbs(ctx, data).expect("reduced residues"))
            }
        }
    }

    /// The basis the plaintext lives over.
    pub(crate) fn context(&self) -> &Arc<Context> {
        match &self.data {
            PlainData::Full(p) => p.context(),
            PlainData::Runs { ctx, .. } => ctx,
        }
    }

    /// Number of limbs of its basis.
    pub(crate) fn num_limbs(&self) -> usize {
        self.context().num_limbs()
    }

    /// `1`, or the run length of a compacted plaintext.
    pub fn run_length(&self) -> usize {
        match &self.data {
            PlainData::Full(_) => 1,
            PlainData::Runs { run, .. } => *run,
        }
    }

    /// Bytes of residues held in memory.
    pub fn memory_bytes(&self) -> usize {
        match &self.data {
            PlainData::Full(p) => p.data().len() * 8,
            PlainData::Runs { values, .. } => values.len() * 8,
        }
    }

    /// Limb `t` if the plaintext is not compacted.
    pub(crate) fn full_limb(&self, t: usize) -> Option<&[u64]> {
        match &self.data {
            PlainData::Full(p) => Some(p.limb(t)),
            PlainData::Runs { .. } => None,
        }
    }

    /// Writes entries `start .. start + out.len()` of limb `t`.
    pub(crate) fn write_limb_segment(&self, t: usize, start: usize, out: &mut [u64]) {
        match &self.data {
            PlainData::Full(p) => out.copy_from_slice(&p.limb(t)[start..start + out.len()]),
            PlainData::Runs { ctx, run, values } => {
                let per_limb = ctx.n() / run;
                let row = &values[t * per_limb..(t + 1) * per_limb];
                let mut k = start;
                let mut rest = out;
                while !rest.is_empty() {
                    let take = (run - k % run).min(rest.len());
                    let (head, tail) = rest.split_at_mut(take);
                    head.fill(row[k / run]);
                    k += take;
                    rest = tail;
                }
            }
        }
    }

    /// The same plaintext with each NTT row kept as one value per run of equal entries, if
    /// its rows are constant on runs of at least 2 (see the type's docs); unchanged
    /// otherwise. The run length is the largest power of two that every row is constant on.
    ///
    /// ```
    /// use hetal_ckks::prelude::*;
    /// use num_complex::Complex64;
    /// let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
    /// // Period 4 over the 512 slots: a polynomial in X^(1024 / 8).
    /// let v: Vec<Complex64> = (0..512).map(|i| Complex64::new((i % 4) as f64, 0.0)).collect();
    /// let pt = params.encode(&v, 1, params.scale_at(1)).unwrap();
    /// let compact = pt.clone().compacted();
    /// assert_eq!(compact.run_length(), 1024 / 8);
    /// assert_eq!(compact.memory_bytes() * 128, pt.memory_bytes());
    /// assert_eq!(compact.poly(), pt.poly());
    /// ```
    pub fn compacted(self) -> Self {
        let PlainData::Full(poly) = &self.data else {
            return self;
        };
        let n = poly.n();
        // The run length is the lowest set bit common to every position where a row changes.
        let mut run = n;
        for row in poly.data().chunks(n) {
            for k in 1..n {
                if row[k] != row[k - 1] {
                    run = run.min(1 << k.trailing_zeros());
                }
            }
            if run == 1 {
                return self;
            }
        }
        let values = poly.data().iter().step_by(run).copied().collect();
        Self {
            data: PlainData::Runs {
                ctx: poly.context().clone(),
                run,
                values,
            },
            level: self.level,
            scale: self.scale,
        }
    }
}

/// The exact residue of an integral `f64` modulo `m` (any magnitude: values beyond `2^63` are
/// `mantissa · 2^exp` and are reduced exactly).
pub(crate) fn f64_to_residue(x: f64, m: &Modulus) -> u64 {
    debug_assert!(x.is_finite() && x == x.round());
    if x.abs() < 9.0e18 {
        return m.reduce_i64(x as i64);
    }
    let bits = x.abs().to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1075;
    let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    // |x| = mant * 2^exp with exp > 0 here.
    let r = m.mul(m.reduce(mant), m.pow(2, exp as u64));
    if x < 0.0 { m.neg(r) } else { r }
}

/// Residues of integral `f64` coefficients over `ctx`, in coefficient form.
pub(crate) fn coeffs_to_poly(ctx: &Arc<Context>, coeffs: &[f64]) -> Result<Poly<Coeff>> {
    let n = ctx.n();
    let mut data = vec![0u64; n * ctx.num_limbs()];
    let small = coeffs.iter().all(|c| c.abs() < 9.0e18);
    for (i, m) in ctx.moduli().iter().enumerate() {
        let dst = &mut data[i * n..(i + 1) * n];
        if small {
            for (d, &c) in dst.iter_mut().zip(coeffs) {
                *d = m.reduce_i64(c as i64);
            }
        } else {
            for (d, &c) in dst.iter_mut().zip(coeffs) {
                *d = f64_to_residue(c, m);
            }
        }
    }
    Ok(Poly::from_limbs(ctx, data)?)
}

/// Exact CRT of the first `k` limbs of a coefficient-form polynomial into centered `f64`
/// values, by Garner's mixed-radix conversion (digits are exact; only the final conversion to
/// `f64` rounds, with relative error `2^-53`).
pub(crate) fn crt_centered_f64(poly: &Poly<Coeff>, k: usize) -> Vec<f64> {
    let n = poly.n();
    let moduli = &poly.context().moduli()[..k];
    // inv[i][j] = q_j^{-1} mod q_i for j < i.
    let inv: Vec<Vec<(u64, u64)>> = (0..k)
        .map(|i| {
            (0..i)
                .map(|j| {
                    let v = moduli[i]
                        .inv(moduli[i].reduce(moduli[j].value()))
                        .expect("distinct primes");
                    (v, moduli[i].shoup(v))
                })
                .collect()
        })
        .collect();
    let radix: Vec<f64> = moduli.iter().map(|m| m.value() as f64).collect();
    let data = poly.data();
    let mut digits = vec![0u64; k];
    let mut out = vec![0.0f64; n];
    for (c, o) in out.iter_mut().enumerate() {
        for i in 0..k {
            let mi = &moduli[i];
            let mut x = data[i * n + c];
            for j in 0..i {
                // x = (x - a_j) * q_j^{-1} mod q_i
                let aj = mi.reduce(digits[j]);
                x = mi.mul_shoup(mi.sub(x, aj), inv[i][j].0, inv[i][j].1);
            }
            digits[i] = x;
        }
        // Compare x with Q - 1 - x from the top digit down.
        let mut negative = false;
        for i in (0..k).rev() {
            let comp = moduli[i].value() - 1 - digits[i];
            if digits[i] != comp {
                negative = digits[i] > comp;
                break;
            }
        }
        let mut v = 0.0f64;
        for i in (0..k).rev() {
            let d = if negative {
                moduli[i].value() - 1 - digits[i]
            } else {
                digits[i]
            };
            v = v * radix[i] + d as f64;
        }
        *o = if negative { -(v + 1.0) } else { v };
    }
    out
}

/// How many of the first limbs of `Q_level` suffice to decode values whose coefficients are
/// below `2^(log2(scale) + 64)` in magnitude exactly.
pub(crate) fn decode_limbs(params: &Parameters, level: usize, scale: f64) -> usize {
    let need = scale.log2() + 66.0;
    let mut acc = 0.0;
    for (i, &q) in params.q_primes()[..=level].iter().enumerate() {
        acc += (q as f64).log2();
        if acc >= need {
            return i + 1;
        }
    }
    level + 1
}

/// [`Parameters::encode_extended`] with another encoder (a slot view of its own, as
/// bootstrapping's `BootView`).
pub(crate) fn encode_extended_with(
    params: &Parameters,
    encoder: &crate::encoding::Encoder,
    values: &[Complex64],
    level: usize,
    scale: f64,
) -> Result<Plaintext> {
    let ctx = params.qp_context(level)?;
    let coeffs = encoder.encode_f64(values, scale)?;
    let poly = coeffs_to_poly(&ctx, &coeffs)?.par_to_ntt();
    Ok(Plaintext::full(poly, level, scale))
}

impl Parameters {
    /// Encodes up to `slots()` values at `level` and `scale` into a plaintext.
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`], [`Error::TooManyValues`], or [`Error::InvalidArgument`] for a bad
    /// scale or non-finite values.
    pub fn encode(&self, values: &[Complex64], level: usize, scale: f64) -> Result<Plaintext> {
        let ctx = self.q_context(level)?;
        let coeffs = self.encoder().encode_f64(values, scale)?;
        let poly = coeffs_to_poly(&ctx, &coeffs)?.to_ntt();
        Ok(Plaintext::full(poly, level, scale))
    }

    /// [`Parameters::encode`] with the residues modulo the key-switching primes `P` as well
    /// (the plaintext lives over `Q_level ∪ P`): what
    /// [`Evaluator::automorphism_sums`](crate::evaluator::Evaluator::automorphism_sums) needs to
    /// multiply rotations before dividing them by `P` (double hoisting). Everywhere else it
    /// acts as the ordinary plaintext (its first `level + 1` limbs).
    ///
    /// # Errors
    /// As [`Parameters::encode`].
    pub fn encode_extended(
        &self,
        values: &[Complex64],
        level: usize,
        scale: f64,
    ) -> Result<Plaintext> {
        encode_extended_with(self, self.encoder(), values, level, scale)
    }

    /// Encodes real values (imaginary parts zero).
    ///
    /// # Errors
    /// As [`Parameters::encode`].
    pub fn encode_real(&self, values: &[f64], level: usize, scale: f64) -> Result<Plaintext> {
        let v: Vec<Complex64> = values.iter().map(|&x| Complex64::new(x, 0.0)).collect();
        self.encode(&v, level, scale)
    }

    /// Encodes at the canonical scale `Δ_level`.
    ///
    /// # Errors
    /// As [`Parameters::encode`].
    pub fn encode_at(&self, values: &[Complex64], level: usize) -> Result<Plaintext> {
        self.check_level("encode_at", level)?;
        self.encode(values, level, self.scale_at(level))
    }

    /// Decodes a plaintext: exact CRT (Garner) over the first limbs whose product exceeds
    /// `scale · 2^66`, so coefficients up to `2^64 · scale` in magnitude (slot values far beyond
    /// anything CKKS keeps precise) are reconstructed exactly before the division by the scale.
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`] if the plaintext does not belong to these parameters.
    pub fn decode(&self, pt: &Plaintext) -> Result<Vec<Complex64>> {
        self.check_level("decode", pt.level)?;
        let poly = pt.poly();
        if poly.num_limbs() != pt.level + 1 || poly.n() != self.n() {
            return Err(Error::InvalidArgument {
                op: "decode",
                reason: "plaintext shape does not match its level".into(),
            });
        }
        let k = decode_limbs(self, pt.level, pt.scale);
        let coeff = poly.prefix(k)?.to_coeff();
        let c = crt_centered_f64(&coeff, k);
        self.encoder().decode_f64(&c, pt.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ParametersLiteral;
    use num_bigint::BigInt;
    use num_traits::ToPrimitive;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn garner_matches_bigint(seed in any::<u64>(), k in 1usize..5) {
            let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
            let ctx = params.q_context(k - 1).unwrap();
            let n = ctx.n();
            let mut x = seed;
            let data: Vec<u64> = (0..n * k).map(|i| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 3) % ctx.moduli()[i / n].value()
            }).collect();
            let p = Poly::<Coeff>::from_limbs(&ctx, data).unwrap();
            let want = p.to_bigint_centered();
            let got = crt_centered_f64(&p, k);
            for (w, g) in want.iter().zip(&got) {
                let wf = w.to_f64().unwrap();
                prop_assert!((wf - g).abs() <= wf.abs() * 1e-15 + 0.5);
            }
            // Small values are exact.
            let small: Vec<i64> = (0..n as i64).map(|i| i - 500).collect();
            let p = Poly::<Coeff>::from_i64(&ctx, &small).unwrap();
            let got = crt_centered_f64(&p, k);
            for (s, g) in small.iter().zip(&got) {
                prop_assert_eq!(*s as f64, *g);
            }
            let _ = BigInt::from(0);
        }
    }

    #[test]
    fn big_residues_exact() {
        let m = Modulus::new(1_152_921_504_606_830_593).unwrap();
        let x = 2f64.powi(70) * 3.0;
        let want = (BigInt::from(3) << 70u32) % BigInt::from(m.value());
        assert_eq!(f64_to_residue(x, &m), want.to_u64().unwrap());
        assert_eq!(f64_to_residue(-x, &m), m.neg(want.to_u64().unwrap()));
    }

    #[test]
    fn encode_decode_levels() {
        let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
        let v: Vec<Complex64> = (0..params.slots())
            .map(|i| Complex64::new(i as f64 / 512.0, -(i as f64) / 1024.0))
            .collect();
        for level in 0..=params.max_level() {
            let pt = params.encode_at(&v, level).unwrap();
            let back = params.decode(&pt).unwrap();
            let err = v
                .iter()
                .zip(&back)
                .map(|(a, b)| (a - b).norm())
                .fold(0.0, f64::max);
            assert!(err < 1e-6, "level {level}: {err}");
        }
        // A scale beyond 2^63 still encodes exactly.
        let pt = params
            .encode(&v, params.max_level(), 2f64.powi(80))
            .unwrap();
        let back = params.decode(&pt).unwrap();
        let err = v
            .iter()
            .zip(&back)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(err < 1e-12, "{err}");
    }
}
