//! RNS polynomials with the representation in the type.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock};

use num_bigint::{BigInt, BigUint};
use zeroize::Zeroize;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ntt::bit_reverse;

mod sealed {
    pub trait Sealed {}
}

/// Marker for a polynomial representation: [`Coeff`] or [`Ntt`].
pub trait Representation: sealed::Sealed + Send + Sync + 'static {
    /// Human-readable name.
    const NAME: &'static str;
}

/// Coefficient representation: limb `i` holds the coefficients `a_0..a_{N-1}` modulo `q_i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coeff;
/// Evaluation (NTT) representation: limb `i` holds `a(psi_i^(2*bitrev(j)+1)) mod q_i` in slot `j`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ntt;

impl sealed::Sealed for Coeff {}
impl sealed::Sealed for Ntt {}
impl Representation for Coeff {
    const NAME: &'static str = "Coeff";
}
impl Representation for Ntt {
    const NAME: &'static str = "Ntt";
}

/// An element of `Z_Q[X]/(X^N+1)` in RNS form, stored flat and limb-major: `data[i*N..(i+1)*N]`
/// is limb `i` (modulo `q_i`). Every residue is kept in `[0, q_i)`.
///
/// ```
/// use hetal_math::{Context, Poly, Coeff};
/// let n = 16;
/// let ctx = Context::new(n, &hetal_math::generate_ntt_primes(40, n, 2).unwrap()).unwrap();
/// let mut a = vec![0i64; n];
/// a[1] = 1; // X
/// let x = Poly::<Coeff>::from_i64(&ctx, &a).unwrap().to_ntt();
/// let x2 = x.mul(&x).unwrap().to_coeff(); // X^2
/// let coeffs = x2.to_bigint_centered();
/// assert_eq!(coeffs[2], 1.into());
/// ```
pub struct Poly<R: Representation> {
    ctx: Arc<Context>,
    data: Vec<u64>,
    _rep: PhantomData<R>,
}

impl<R: Representation> Clone for Poly<R> {
    fn clone(&self) -> Self {
        Self {
            ctx: self.ctx.clone(),
            data: self.data.clone(),
            _rep: PhantomData,
        }
    }
}

impl<R: Representation> std::fmt::Debug for Poly<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poly")
            .field("rep", &R::NAME)
            .field("n", &self.ctx.n())
            .field("limbs", &self.ctx.num_limbs())
            .finish_non_exhaustive()
    }
}

impl<R: Representation> PartialEq for Poly<R> {
    fn eq(&self, other: &Self) -> bool {
        self.ctx.same_ring(&other.ctx) && self.data == other.data
    }
}
impl<R: Representation> Eq for Poly<R> {}

impl<R: Representation> Zeroize for Poly<R> {
    fn zeroize(&mut self) {
        self.data.zeroize();
    }
}

impl<R: Representation> Poly<R> {
    /// The zero polynomial.
    pub fn zero(ctx: &Arc<Context>) -> Self {
        Self {
            ctx: ctx.clone(),
            data: vec![0; ctx.n() * ctx.num_limbs()],
            _rep: PhantomData,
        }
    }

    /// Wraps limb-major residues (`data[i*N..(i+1)*N]` modulo `q_i`).
    ///
    /// # Errors
    /// [`Error::WrongLength`] or [`Error::UnreducedResidue`].
    pub fn from_limbs(ctx: &Arc<Context>, data: Vec<u64>) -> Result<Self> {
        let n = ctx.n();
        if data.len() != n * ctx.num_limbs() {
            return Err(Error::WrongLength {
                what: "Poly::from_limbs data",
                expected: n * ctx.num_limbs(),
                got: data.len(),
            });
        }
        for (i, m) in ctx.moduli().iter().enumerate() {
            if let Some(&v) = data[i * n..(i + 1) * n].iter().find(|&&v| v >= m.value()) {
                return Err(Error::UnreducedResidue {
                    limb: i,
                    value: v,
                    modulus: m.value(),
                });
            }
        }
        Ok(Self {
            ctx: ctx.clone(),
            data,
            _rep: PhantomData,
        })
    }

    /// Wraps limb-major residues that the caller guarantees to be reduced (`data[i*N..]` below
    /// `q_i`), e.g. the outputs of the [`crate::dot`] kernels or of an NTT: the length is
    /// checked, the residues only with debug assertions (a full pass over the data is what
    /// [`Poly::from_limbs`] costs on hot paths). Unreduced input is a logic error (wrong
    /// results later), never undefined behaviour.
    ///
    /// # Errors
    /// [`Error::WrongLength`].
    pub fn from_reduced_limbs(ctx: &Arc<Context>, data: Vec<u64>) -> Result<Self> {
        let n = ctx.n();
        if data.len() != n * ctx.num_limbs() {
            return Err(Error::WrongLength {
                what: "Poly::from_reduced_limbs data",
                expected: n * ctx.num_limbs(),
                got: data.len(),
            });
        }
        debug_assert!(
            ctx.moduli()
                .iter()
                .enumerate()
                .all(|(i, m)| data[i * n..(i + 1) * n].iter().all(|&v| v < m.value())),
            "Poly::from_reduced_limbs: unreduced residue"
        );
        Ok(Self::from_raw(ctx, data))
    }

    pub(crate) fn from_raw(ctx: &Arc<Context>, data: Vec<u64>) -> Self {
        debug_assert_eq!(data.len(), ctx.n() * ctx.num_limbs());
        Self {
            ctx: ctx.clone(),
            data,
            _rep: PhantomData,
        }
    }

    /// The ring context.
    #[inline]
    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// Ring degree `N`.
    #[inline]
    pub fn n(&self) -> usize {
        self.ctx.n()
    }

    /// Number of limbs.
    #[inline]
    pub fn num_limbs(&self) -> usize {
        self.ctx.num_limbs()
    }

    /// All residues, limb-major.
    #[inline]
    pub fn data(&self) -> &[u64] {
        &self.data
    }

    /// Mutable residues, limb-major. The caller must keep every residue of limb `i` in `[0, q_i)`.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u64] {
        &mut self.data
    }

    /// Consumes the polynomial, returning its residues.
    pub fn into_data(self) -> Vec<u64> {
        self.data
    }

    /// Limb `i` (panics if `i >= num_limbs()`, like slice indexing).
    #[inline]
    pub fn limb(&self, i: usize) -> &[u64] {
        let n = self.n();
        &self.data[i * n..(i + 1) * n]
    }

    /// Mutable limb `i` (panics if `i >= num_limbs()`). Keep residues in `[0, q_i)`.
    #[inline]
    pub fn limb_mut(&mut self, i: usize) -> &mut [u64] {
        let n = self.n();
        &mut self.data[i * n..(i + 1) * n]
    }

    fn check_same(&self, other: &Self, op: &'static str) -> Result<()> {
        if self.ctx.same_ring(&other.ctx) {
            Ok(())
        } else {
            Err(Error::MismatchedBases {
                op,
                reason: "operands live in different rings",
            })
        }
    }

    /// `self += rhs`.
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if the rings differ.
    pub fn add_assign(&mut self, rhs: &Self) -> Result<()> {
        self.check_same(rhs, "add")?;
        let n = self.n();
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            m.add_assign_slice(
                &mut self.data[i * n..(i + 1) * n],
                &rhs.data[i * n..(i + 1) * n],
            );
        }
        Ok(())
    }

    /// `self -= rhs`.
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if the rings differ.
    pub fn sub_assign(&mut self, rhs: &Self) -> Result<()> {
        self.check_same(rhs, "sub")?;
        let n = self.n();
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            m.sub_assign_slice(
                &mut self.data[i * n..(i + 1) * n],
                &rhs.data[i * n..(i + 1) * n],
            );
        }
        Ok(())
    }

    /// `self = -self`.
    pub fn neg_assign(&mut self) {
        let n = self.n();
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            m.neg_assign_slice(&mut self.data[i * n..(i + 1) * n]);
        }
    }

    /// `self + rhs`.
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if the rings differ.
    pub fn add(&self, rhs: &Self) -> Result<Self> {
        self.zip_limbs(rhs, "add", |m, a, b| m.add(a, b))
    }

    /// `f(a, b)` coefficient by coefficient into a new polynomial, in one pass (no copy of
    /// either operand first), limbs in parallel.
    fn zip_limbs(
        &self,
        rhs: &Self,
        op: &'static str,
        f: impl Fn(&crate::modulus::Modulus, u64, u64) -> u64 + Sync,
    ) -> Result<Self> {
        use rayon::prelude::*;
        self.check_same(rhs, op)?;
        let n = self.n();
        let mut out = vec![0u64; self.data.len()];
        out.par_chunks_mut(n)
            .zip(self.data.par_chunks(n).zip(rhs.data.par_chunks(n)))
            .zip(self.ctx.moduli().par_iter())
            .for_each(|((dst, (a, b)), m)| {
                for ((d, &x), &y) in dst.iter_mut().zip(a).zip(b) {
                    *d = f(m, x, y);
                }
            });
        Ok(Poly::from_raw(&self.ctx, out))
    }

    /// `self - rhs`.
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if the rings differ.
    pub fn sub(&self, rhs: &Self) -> Result<Self> {
        self.zip_limbs(rhs, "sub", |m, a, b| m.sub(a, b))
    }

    /// `-self`.
    pub fn neg(&self) -> Self {
        let mut r = self.clone();
        r.neg_assign();
        r
    }

    /// Multiplies by an integer scalar (reduced modulo each `q_i`; Shoup multiplication).
    /// Valid in both representations because the NTT is linear.
    pub fn mul_scalar_assign(&mut self, c: u64) {
        let n = self.n();
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            m.mul_scalar_assign_slice(&mut self.data[i * n..(i + 1) * n], m.reduce(c));
        }
    }

    /// Multiplies by a signed integer scalar.
    pub fn mul_scalar_i64_assign(&mut self, c: i64) {
        let n = self.n();
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            m.mul_scalar_assign_slice(&mut self.data[i * n..(i + 1) * n], m.reduce_i64(c));
        }
    }

    /// Multiplies limb `i` by `scalars[i]` (an RNS scalar, e.g. a big constant decomposed with
    /// [`crate::RnsBasis::decompose`]).
    ///
    /// # Errors
    /// [`Error::WrongLength`] or [`Error::UnreducedResidue`].
    pub fn mul_scalar_rns_assign(&mut self, scalars: &[u64]) -> Result<()> {
        self.check_rns_scalar(scalars)?;
        let n = self.n();
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            m.mul_scalar_assign_slice(&mut self.data[i * n..(i + 1) * n], scalars[i]);
        }
        Ok(())
    }

    /// `self += a * scalars` with an RNS scalar (Shoup).
    ///
    /// # Errors
    /// [`Error::MismatchedBases`], [`Error::WrongLength`] or [`Error::UnreducedResidue`].
    pub fn mul_scalar_rns_add_assign(&mut self, a: &Self, scalars: &[u64]) -> Result<()> {
        self.check_same(a, "mul_scalar_rns_add")?;
        self.check_rns_scalar(scalars)?;
        let n = self.n();
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            m.mul_scalar_add_assign_slice(
                &mut self.data[i * n..(i + 1) * n],
                &a.data[i * n..(i + 1) * n],
                scalars[i],
            );
        }
        Ok(())
    }

    /// `Σ_i terms[i].0 · terms[i].1` over the first `len` limbs: every polynomial (each with
    /// at least `len` limbs, over prefixes of one chain) times its RNS scalar (one residue per
    /// limb, `len` of them), summed in one pass per limb with the lazy-reduction dot-product
    /// kernels ([`crate::dot::dot_const`]). Limbs run in parallel.
    ///
    /// ```
    /// use hetal_math::{Context, Poly, Coeff, generate_ntt_primes};
    /// let primes = generate_ntt_primes(40, 16, 3).unwrap();
    /// let ctx = Context::new(16, &primes).unwrap();
    /// let ones = Poly::<Coeff>::from_limbs(&ctx, vec![1; 48]).unwrap();
    /// let twos = Poly::<Coeff>::from_limbs(&ctx, vec![2; 48]).unwrap();
    /// // 3·1 + 5·2 over the first two limbs.
    /// let sum = Poly::scalar_dot(&[(&ones, &[3, 3][..]), (&twos, &[5, 5][..])], 2).unwrap();
    /// assert_eq!(sum.num_limbs(), 2);
    /// assert!(sum.limb(1).iter().all(|&v| v == 13));
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] without terms or for `len` of zero or above a term's limb
    /// count; [`Error::MismatchedBases`] if the terms' first `len` primes differ;
    /// [`Error::WrongLength`] or [`Error::UnreducedResidue`] for a malformed scalar.
    pub fn scalar_dot(terms: &[(&Self, &[u64])], len: usize) -> Result<Self> {
        use rayon::prelude::*;
        let (first, _) = terms.first().ok_or(Error::InvalidArgument {
            op: "Poly::scalar_dot",
            reason: "no terms",
        })?;
        if len == 0 || terms.iter().any(|(p, _)| len > p.num_limbs()) {
            return Err(Error::InvalidArgument {
                op: "Poly::scalar_dot",
                reason: "len must be at least 1 and at most every term's limb count",
            });
        }
        let ctx = first.ctx.prefix(len)?;
        for (p, w) in terms {
            if !p.ctx.prefix(len)?.same_ring(&ctx) {
                return Err(Error::MismatchedBases {
                    op: "Poly::scalar_dot",
                    reason: "the terms' first primes differ",
                });
            }
            if w.len() != len {
                return Err(Error::WrongLength {
                    what: "scalar_dot RNS scalar",
                    expected: len,
                    got: w.len(),
                });
            }
            for (i, (m, &v)) in ctx.moduli().iter().zip(w.iter()).enumerate() {
                if v >= m.value() {
                    return Err(Error::UnreducedResidue {
                        limb: i,
                        value: v,
                        modulus: m.value(),
                    });
                }
            }
        }
        let n = ctx.n();
        let mut data = vec![0u64; n * len];
        data.par_chunks_mut(n)
            .zip(ctx.moduli().par_iter())
            .enumerate()
            .for_each(|(i, (out, m))| {
                let rows: Vec<&[u64]> = terms.iter().map(|(p, _)| p.limb(i)).collect();
                let bits = vec![m.bits(); terms.len()];
                let w: Vec<u64> = terms.iter().map(|(_, w)| w[i]).collect();
                crate::dot::dot_const(m, &rows, &bits, &w, out);
            });
        Ok(Self::from_raw(&ctx, data))
    }

    fn check_rns_scalar(&self, scalars: &[u64]) -> Result<()> {
        if scalars.len() != self.num_limbs() {
            return Err(Error::WrongLength {
                what: "RNS scalar",
                expected: self.num_limbs(),
                got: scalars.len(),
            });
        }
        for (i, (m, &s)) in self.ctx.moduli().iter().zip(scalars).enumerate() {
            if s >= m.value() {
                return Err(Error::UnreducedResidue {
                    limb: i,
                    value: s,
                    modulus: m.value(),
                });
            }
        }
        Ok(())
    }

    /// Drops the last `count` limbs (moving to the cached prefix context). Valid in both
    /// representations: each limb is independent.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `count >= num_limbs()`.
    pub fn drop_last_limbs(mut self, count: usize) -> Result<Self> {
        if count >= self.num_limbs() {
            return Err(Error::InvalidArgument {
                op: "drop_last_limbs",
                reason: "must keep at least one limb",
            });
        }
        let keep = self.num_limbs() - count;
        let ctx = self.ctx.prefix(keep)?;
        self.data.truncate(keep * self.n());
        self.ctx = ctx;
        Ok(self)
    }

    /// Copies the first `len` limbs into a polynomial over the prefix context.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `1 <= len <= num_limbs()`.
    pub fn prefix(&self, len: usize) -> Result<Self> {
        let ctx = self.ctx.prefix(len)?;
        Ok(Self::from_raw(&ctx, self.data[..len * self.n()].to_vec()))
    }
}

fn check_galois(g: usize, n: usize) -> Result<usize> {
    let g = g % (2 * n);
    if g.is_multiple_of(2) {
        return Err(Error::InvalidArgument {
            op: "automorphism",
            reason: "g must be odd",
        });
    }
    Ok(g)
}

impl Poly<Coeff> {
    /// Lifts signed integers (one per coefficient) into the ring.
    ///
    /// # Errors
    /// [`Error::WrongLength`] if `coeffs.len() != N`.
    pub fn from_i64(ctx: &Arc<Context>, coeffs: &[i64]) -> Result<Self> {
        let n = ctx.n();
        if coeffs.len() != n {
            return Err(Error::WrongLength {
                what: "from_i64 coeffs",
                expected: n,
                got: coeffs.len(),
            });
        }
        let mut data = vec![0u64; n * ctx.num_limbs()];
        for (i, m) in ctx.moduli().iter().enumerate() {
            for (d, &c) in data[i * n..(i + 1) * n].iter_mut().zip(coeffs) {
                *d = m.reduce_i64(c);
            }
        }
        Ok(Self::from_raw(ctx, data))
    }

    /// Lifts non-negative big integers (reduced modulo each `q_i`).
    ///
    /// # Errors
    /// [`Error::WrongLength`] if `coeffs.len() != N`.
    pub fn from_biguint(ctx: &Arc<Context>, coeffs: &[BigUint]) -> Result<Self> {
        let n = ctx.n();
        if coeffs.len() != n {
            return Err(Error::WrongLength {
                what: "from_biguint coeffs",
                expected: n,
                got: coeffs.len(),
            });
        }
        let mut data = vec![0u64; n * ctx.num_limbs()];
        for (j, c) in coeffs.iter().enumerate() {
            for (i, r) in ctx.basis().decompose(c).into_iter().enumerate() {
                data[i * n + j] = r;
            }
        }
        Ok(Self::from_raw(ctx, data))
    }

    /// Lifts signed big integers (reduced modulo each `q_i`).
    ///
    /// # Errors
    /// [`Error::WrongLength`] if `coeffs.len() != N`.
    pub fn from_bigint(ctx: &Arc<Context>, coeffs: &[BigInt]) -> Result<Self> {
        let n = ctx.n();
        if coeffs.len() != n {
            return Err(Error::WrongLength {
                what: "from_bigint coeffs",
                expected: n,
                got: coeffs.len(),
            });
        }
        let mut data = vec![0u64; n * ctx.num_limbs()];
        for (j, c) in coeffs.iter().enumerate() {
            for (i, r) in ctx.basis().decompose_signed(c).into_iter().enumerate() {
                data[i * n + j] = r;
            }
        }
        Ok(Self::from_raw(ctx, data))
    }

    fn column(&self, j: usize) -> Vec<u64> {
        let n = self.n();
        (0..self.num_limbs())
            .map(|i| self.data[i * n + j])
            .collect()
    }

    /// Exact CRT reconstruction of every coefficient in `[0, Q)`.
    pub fn to_biguint(&self) -> Vec<BigUint> {
        (0..self.n())
            .map(|j| {
                self.ctx
                    .basis()
                    .reconstruct(&self.column(j))
                    .expect("residues are reduced")
            })
            .collect()
    }

    /// Exact CRT reconstruction of every coefficient in `(-Q/2, Q/2]`.
    pub fn to_bigint_centered(&self) -> Vec<BigInt> {
        (0..self.n())
            .map(|j| {
                self.ctx
                    .basis()
                    .reconstruct_centered(&self.column(j))
                    .expect("residues are reduced")
            })
            .collect()
    }

    /// Forward NTT of every limb.
    pub fn to_ntt(mut self) -> Poly<Ntt> {
        let n = self.n();
        for (i, plan) in self.ctx.plans().iter().enumerate() {
            plan.forward(&mut self.data[i * n..(i + 1) * n]);
        }
        let data = std::mem::take(&mut self.data);
        Poly::from_raw(&self.ctx, data)
    }

    /// Forward NTT of every limb, limbs in parallel (rayon).
    pub fn par_to_ntt(mut self) -> Poly<Ntt> {
        use rayon::prelude::*;
        let n = self.n();
        let plans = self.ctx.plans();
        self.data
            .par_chunks_mut(n)
            .zip(plans.par_iter())
            .for_each(|(l, p)| p.forward(l));
        let data = std::mem::take(&mut self.data);
        Poly::from_raw(&self.ctx, data)
    }

    /// Negacyclic automorphism `a(X) -> a(X^g)` for odd `g` (taken modulo `2N`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `g` is even.
    pub fn automorphism(&self, g: usize) -> Result<Self> {
        let n = self.n();
        let g = check_galois(g, n)?;
        let mut out = vec![0u64; self.data.len()];
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            let src = &self.data[i * n..(i + 1) * n];
            let dst = &mut out[i * n..(i + 1) * n];
            let mut idx = 0usize; // j*g mod 2N
            for &v in src {
                if idx < n {
                    dst[idx] = v;
                } else {
                    dst[idx - n] = m.neg(v);
                }
                idx += g;
                if idx >= 2 * n {
                    idx -= 2 * n;
                }
            }
        }
        Ok(Self::from_raw(&self.ctx, out))
    }

    /// Multiplies by the monomial `X^k` (`k` taken modulo `2N`, using `X^N = -1`).
    pub fn mul_monomial(&self, k: usize) -> Self {
        let n = self.n();
        let k = k % (2 * n);
        let (shift, negate_all) = if k >= n { (k - n, true) } else { (k, false) };
        let mut out = vec![0u64; self.data.len()];
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            let src = &self.data[i * n..(i + 1) * n];
            let dst = &mut out[i * n..(i + 1) * n];
            for j in 0..n {
                let t = j + shift;
                // Coefficients that wrap past X^N pick up a sign.
                let (pos, wrap) = if t >= n { (t - n, true) } else { (t, false) };
                dst[pos] = if wrap ^ negate_all {
                    m.neg(src[j])
                } else {
                    src[j]
                };
            }
        }
        Self::from_raw(&self.ctx, out)
    }
}

type PermCache = Mutex<HashMap<(usize, usize), Arc<Vec<u32>>>>;

/// The NTT-domain index permutation of `X -> X^g` for degree `n`: `out[j] = in[perm[j]]`.
///
/// Slot `j` holds `a(psi^(e_j))` with `e_j = 2*bitrev(j)+1`; `a(X^g)` there equals
/// `a(psi^(e_j * g))`, which is slot `bitrev((e_j*g mod 2N - 1)/2)` of `a`. Cached per `(n, g)`.
///
/// # Errors
/// [`Error::InvalidArgument`] if `g` is even; [`Error::InvalidDegree`] for a bad `n`.
pub fn automorphism_permutation(n: usize, g: usize) -> Result<Arc<Vec<u32>>> {
    crate::prime::check_degree(n)?;
    let g = check_galois(g, n)?;
    static CACHE: OnceLock<PermCache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(p) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&(n, g)) {
        return Ok(p.clone());
    }
    let log_n = n.trailing_zeros();
    let two_n = 2 * n;
    let perm: Vec<u32> = (0..n)
        .map(|j| {
            let e = 2 * bit_reverse(j, log_n) + 1;
            let eg = (e * g) % two_n;
            bit_reverse((eg - 1) / 2, log_n) as u32
        })
        .collect();
    let perm = Arc::new(perm);
    let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
    Ok(guard.entry((n, g)).or_insert(perm).clone())
}

impl Poly<Ntt> {
    /// Inverse NTT of every limb.
    pub fn to_coeff(mut self) -> Poly<Coeff> {
        let n = self.n();
        for (i, plan) in self.ctx.plans().iter().enumerate() {
            plan.inverse(&mut self.data[i * n..(i + 1) * n]);
        }
        let data = std::mem::take(&mut self.data);
        Poly::from_raw(&self.ctx, data)
    }

    /// Inverse NTT of every limb, limbs in parallel (rayon).
    pub fn par_to_coeff(mut self) -> Poly<Coeff> {
        use rayon::prelude::*;
        let n = self.n();
        let plans = self.ctx.plans();
        self.data
            .par_chunks_mut(n)
            .zip(plans.par_iter())
            .for_each(|(l, p)| p.inverse(l));
        let data = std::mem::take(&mut self.data);
        Poly::from_raw(&self.ctx, data)
    }

    /// `self *= rhs` (pointwise, Barrett).
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if the rings differ.
    pub fn mul_assign(&mut self, rhs: &Self) -> Result<()> {
        self.check_same(rhs, "mul")?;
        let n = self.n();
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            m.mul_assign_slice(
                &mut self.data[i * n..(i + 1) * n],
                &rhs.data[i * n..(i + 1) * n],
            );
        }
        Ok(())
    }

    /// `self * rhs`.
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if the rings differ.
    pub fn mul(&self, rhs: &Self) -> Result<Self> {
        let mut r = self.clone();
        r.mul_assign(rhs)?;
        Ok(r)
    }

    /// `self ⊙ rhs`, where `rhs` may live over a longer chain whose first limbs are this
    /// polynomial's primes (a plaintext encoded at a higher level than the ciphertext it
    /// multiplies): one pass over the limbs in parallel, with the fastest pointwise kernel
    /// ([`crate::dot::dot_var`]), and no copy of either operand.
    ///
    /// ```
    /// use hetal_math::{Context, Poly};
    /// let primes = hetal_math::generate_ntt_primes(40, 16, 3).unwrap();
    /// let long = Context::new(16, &primes).unwrap();
    /// let short = long.prefix(2).unwrap();
    /// let (mut x, mut y) = ([0i64; 16], [0i64; 16]);
    /// (x[0], x[1], y[0]) = (1, 2, 3);
    /// let a = Poly::from_i64(&short, &x).unwrap().to_ntt();
    /// let b = Poly::from_i64(&long, &y).unwrap().to_ntt();
    /// let c = a.mul_prefix(&b).unwrap().to_coeff();
    /// assert_eq!(c.limb(0)[..3], [3, 6, 0]);
    /// ```
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] unless `rhs`'s first limbs are this ring.
    pub fn mul_prefix(&self, rhs: &Self) -> Result<Self> {
        use rayon::prelude::*;
        let k = self.num_limbs();
        if rhs.num_limbs() < k || !rhs.ctx.prefix(k)?.same_ring(&self.ctx) {
            return Err(Error::MismatchedBases {
                op: "mul",
                reason: "the right operand does not extend this ring",
            });
        }
        let n = self.n();
        let moduli = self.ctx.moduli();
        let mut out = vec![0u64; k * n];
        out.par_chunks_mut(n)
            .zip(self.data.par_chunks(n).zip(rhs.data[..k * n].par_chunks(n)))
            .enumerate()
            .for_each(|(i, (dst, (a, b)))| crate::dot::dot_var(&moduli[i], &[a], &[b], dst));
        Ok(Poly::from_raw(&self.ctx, out))
    }

    /// `self += a * b`.
    ///
    /// # Errors
    /// [`Error::MismatchedBases`] if the rings differ.
    pub fn mul_add_assign(&mut self, a: &Self, b: &Self) -> Result<()> {
        self.check_same(a, "mul_add")?;
        self.check_same(b, "mul_add")?;
        let n = self.n();
        for (i, m) in self.ctx.moduli().iter().enumerate() {
            let r = i * n..(i + 1) * n;
            m.mul_add_assign_slice(&mut self.data[r.clone()], &a.data[r.clone()], &b.data[r]);
        }
        Ok(())
    }

    /// Automorphism `a(X) -> a(X^g)` for odd `g`, as a cached index permutation of the
    /// bit-reversed evaluation slots (see [`automorphism_permutation`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `g` is even.
    pub fn automorphism(&self, g: usize) -> Result<Self> {
        let n = self.n();
        let perm = automorphism_permutation(n, g)?;
        let mut out = vec![0u64; self.data.len()];
        for (src, dst) in self.data.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
            for (d, &p) in dst.iter_mut().zip(perm.iter()) {
                *d = src[p as usize];
            }
        }
        Ok(Self::from_raw(&self.ctx, out))
    }

    /// Multiplies by `X^k` (`k` modulo `2N`): pointwise product with the transform of `X^k`.
    pub fn mul_monomial(&self, k: usize) -> Self {
        let n = self.n();
        let k = k % (2 * n);
        let mut out = self.data.clone();
        let mut mono = vec![0u64; n];
        for (i, (m, plan)) in self.ctx.moduli().iter().zip(self.ctx.plans()).enumerate() {
            mono.iter_mut().for_each(|x| *x = 0);
            mono[k % n] = if k >= n { m.value() - 1 } else { 1 };
            plan.forward(&mut mono);
            m.mul_assign_slice(&mut out[i * n..(i + 1) * n], &mono);
        }
        Self::from_raw(&self.ctx, out)
    }
}
