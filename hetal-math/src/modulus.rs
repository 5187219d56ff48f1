//! Word-size prime moduli with Barrett and Shoup multiplication.
//!
//! Barrett reduction (P. Barrett, CRYPTO 1986) reduces a 128-bit product with a precomputed
//! `floor(2^128 / p)`; Shoup's trick (V. Shoup, NTL; also Harvey, "Faster arithmetic for
//! number-theoretic transforms", 2014) multiplies by a *fixed* operand `w` using the precomputed
//! `w' = floor(w * 2^64 / p)` and one high-half product. Shoup is the faster of the two and is used
//! whenever one operand is reused (scalars, CRT constants, twiddles).

use crate::error::{Error, Result};
use crate::prime::is_prime;

/// Largest supported modulus bit size. With `p < 2^61` every lazy intermediate below `4p` fits in
/// a `u64` and sums of 64 full products fit in a `u128`.
pub const MAX_MODULUS_BITS: u32 = 61;

/// A prime modulus `p < 2^61` with its Barrett constants.
///
/// ```
/// use hetal_math::Modulus;
/// let m = Modulus::new(0x1fff_ffff_ffe0_0001).unwrap(); // 61-bit prime
/// let a = m.reduce(u64::MAX);
/// let w = 123_456_789;
/// let w_shoup = m.shoup(w);
/// assert_eq!(m.mul_shoup(a, w, w_shoup), m.mul(a, w));
/// assert_eq!(m.mul(a, m.inv(a).unwrap()), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Modulus {
    p: u64,
    /// floor(2^128 / p), high word.
    ratio_hi: u64,
    /// floor(2^128 / p), low word.
    ratio_lo: u64,
    /// floor(2^(2k) / p) with k = bits(p): the one-word Barrett constant for reduced products.
    mu: u64,
    bits: u32,
}

impl Modulus {
    /// Creates a modulus from a prime `2 < p < 2^61`.
    ///
    /// # Errors
    /// [`Error::InvalidModulus`] if `p` is not an odd prime below `2^61`.
    pub fn new(p: u64) -> Result<Self> {
        if p < 3 {
            return Err(Error::InvalidModulus {
                modulus: p,
                reason: "must be an odd prime >= 3",
            });
        }
        if p >> MAX_MODULUS_BITS != 0 {
            return Err(Error::InvalidModulus {
                modulus: p,
                reason: "must be below 2^61",
            });
        }
        if !is_prime(p) {
            return Err(Error::InvalidModulus {
                modulus: p,
                reason: "not prime",
            });
        }
        let ratio = u128::MAX / p as u128; // == floor(2^128 / p) since p does not divide 2^128
        let bits = 64 - p.leading_zeros();
        let mu = ((1u128 << (2 * bits)) / p as u128) as u64; // < 2^(k+1) <= 2^62
        Ok(Self {
            p,
            ratio_hi: (ratio >> 64) as u64,
            ratio_lo: ratio as u64,
            mu,
            bits,
        })
    }

    /// The modulus value `p`.
    #[inline]
    pub fn value(&self) -> u64 {
        self.p
    }

    /// Bit size of `p`.
    #[inline]
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Reduces any `u64` into `[0, p)` (Barrett with `floor(2^64/p) = ratio_hi`).
    #[inline]
    pub fn reduce(&self, a: u64) -> u64 {
        // q underestimates floor(a/p) by at most 1, so r < 2p.
        let q = ((a as u128 * self.ratio_hi as u128) >> 64) as u64;
        let r = a.wrapping_sub(q.wrapping_mul(self.p));
        r.min(r.wrapping_sub(self.p))
    }

    /// Reduces any `u128` into `[0, 2p)` (lazy Barrett).
    ///
    /// Computes `q = floor(a * floor(2^128/p) / 2^128)` exactly; since
    /// `a/p - a*floor(2^128/p)/2^128 < a/2^128 < 1`, `q` underestimates `floor(a/p)` by at most one.
    /// The remainder is computed modulo 2^64, which is exact because it is below `2p < 2^64`.
    #[inline]
    pub fn reduce_u128_lazy(&self, a: u128) -> u64 {
        let a0 = a as u64;
        let a1 = (a >> 64) as u64;
        let (r0, r1) = (self.ratio_lo as u128, self.ratio_hi as u128);
        let p00 = a0 as u128 * r0;
        let p01 = a0 as u128 * r1;
        let p10 = a1 as u128 * r0;
        let mid = (p00 >> 64) + (p01 as u64 as u128) + (p10 as u64 as u128);
        let q = (a1 as u128 * r1)
            .wrapping_add(p01 >> 64)
            .wrapping_add(p10 >> 64)
            .wrapping_add(mid >> 64) as u64;
        a0.wrapping_sub(q.wrapping_mul(self.p))
    }

    /// Reduces any `u128` into `[0, p)`.
    #[inline]
    pub fn reduce_u128(&self, a: u128) -> u64 {
        let r = self.reduce_u128_lazy(a);
        r.min(r.wrapping_sub(self.p))
    }

    /// `a + b mod p` for `a, b < p`; output in `[0, p)`.
    #[inline]
    pub fn add(&self, a: u64, b: u64) -> u64 {
        debug_assert!(a < self.p && b < self.p);
        // Branch-free: if s < p, s - p wraps to a huge value and min keeps s.
        let s = a + b;
        s.min(s.wrapping_sub(self.p))
    }

    /// `a - b mod p` for `a, b < p`; output in `[0, p)`.
    #[inline]
    pub fn sub(&self, a: u64, b: u64) -> u64 {
        debug_assert!(a < self.p && b < self.p);
        let d = a.wrapping_sub(b);
        d.min(d.wrapping_add(self.p))
    }

    /// `-a mod p` for `a < p`; output in `[0, p)`.
    #[inline]
    pub fn neg(&self, a: u64) -> u64 {
        debug_assert!(a < self.p);
        let d = self.p - a;
        d.min(d.wrapping_sub(self.p))
    }

    /// `a * b mod p` by Barrett reduction of the 128-bit product; any `a, b` with
    /// `a * b < 2^128`. Output in `[0, p)`.
    #[inline]
    pub fn mul(&self, a: u64, b: u64) -> u64 {
        self.reduce_u128(a as u128 * b as u128)
    }

    /// Barrett product of reduced operands `a, b < p` with a one-word constant
    /// `mu = floor(2^(2k)/p)`, `k = bits(p)` (Barrett 1986; Handbook of Applied Cryptography
    /// Alg. 14.42): `q = ((x >> (k-1)) * mu) >> (k+1)` underestimates `floor(x/p)` by at most 2
    /// for `x < 2^(2k)`, so two conditional subtractions give `[0, p)`. Two word products instead
    /// of the five of [`Modulus::mul`]; used by the pointwise slice kernels.
    #[inline]
    pub fn mul_reduced(&self, a: u64, b: u64) -> u64 {
        debug_assert!(a < self.p && b < self.p);
        self.reduce_product(a as u128 * b as u128)
    }

    /// Reduces `x < 2^(2k)` (e.g. `c + a*b` with `a, b, c < p`) into `[0, p)` with the one-word
    /// Barrett constant.
    #[inline]
    fn reduce_product(&self, x: u128) -> u64 {
        debug_assert!(x >> (2 * self.bits) == 0);
        let s = self.bits - 1; // in [1, 60]
        let (lo, hi) = (x as u64, (x >> 64) as u64);
        // x >> (k-1), which fits in 64 bits because x < 2^(2k).
        let t = (hi << (64 - s)) | (lo >> s);
        let prod = t as u128 * self.mu as u128;
        let (pl, ph) = (prod as u64, (prod >> 64) as u64);
        let sh = self.bits + 1; // in [3, 62]
        let q = (ph << (64 - sh)) | (pl >> sh);
        let r = lo.wrapping_sub(q.wrapping_mul(self.p));
        let r = r.min(r.wrapping_sub(self.p));
        r.min(r.wrapping_sub(self.p))
    }

    /// Lazy Barrett product: `a * b mod p` in `[0, 2p)`.
    #[inline]
    pub fn mul_lazy(&self, a: u64, b: u64) -> u64 {
        self.reduce_u128_lazy(a as u128 * b as u128)
    }

    /// Shoup precomputation for a fixed operand `w < p`: `floor(w * 2^64 / p)`.
    #[inline]
    pub fn shoup(&self, w: u64) -> u64 {
        debug_assert!(w < self.p);
        (((w as u128) << 64) / self.p as u128) as u64
    }

    /// Lazy Shoup product `a * w mod p` in `[0, 2p)`, for any `a < 2^64` and `w < p` with
    /// `w_shoup = self.shoup(w)` (Shoup / Harvey 2014, Alg. 2).
    #[inline]
    pub fn mul_shoup_lazy(&self, a: u64, w: u64, w_shoup: u64) -> u64 {
        let q = ((a as u128 * w_shoup as u128) >> 64) as u64;
        a.wrapping_mul(w).wrapping_sub(q.wrapping_mul(self.p))
    }

    /// Shoup product `a * w mod p` in `[0, p)`, for any `a < 2^64` and `w < p`.
    #[inline]
    pub fn mul_shoup(&self, a: u64, w: u64, w_shoup: u64) -> u64 {
        let r = self.mul_shoup_lazy(a, w, w_shoup);
        r.min(r.wrapping_sub(self.p))
    }

    /// `a^e mod p` by square-and-multiply.
    pub fn pow(&self, a: u64, mut e: u64) -> u64 {
        let mut base = self.reduce(a);
        let mut acc = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                acc = self.mul(acc, base);
            }
            base = self.mul(base, base);
            e >>= 1;
        }
        acc
    }

    /// Multiplicative inverse of `a mod p` (Fermat), or `None` when `a = 0 mod p`.
    pub fn inv(&self, a: u64) -> Option<u64> {
        let a = self.reduce(a);
        if a == 0 {
            None
        } else {
            Some(self.pow(a, self.p - 2))
        }
    }

    /// Maps a signed integer to `[0, p)`.
    #[inline]
    pub fn reduce_i64(&self, a: i64) -> u64 {
        let r = self.reduce(a.unsigned_abs());
        if a < 0 { self.neg(r) } else { r }
    }

    /// Centered representative of `a < p` in `(-p/2, p/2]`.
    #[inline]
    pub fn center(&self, a: u64) -> i64 {
        debug_assert!(a < self.p);
        if a > self.p / 2 {
            a as i64 - self.p as i64
        } else {
            a as i64
        }
    }

    // ---------------------------------------------------------------- slice kernels
    //
    // The multiplying kernels run eight lanes at a time with AVX-512 IFMA when the CPU has it
    // and `p < 2^50` (see [`crate::dot`]), and finish (or do everything) with the scalar loops.

    /// `a[i] = a[i] + b[i] mod p`, inputs and outputs in `[0, p)`. Lengths must match.
    #[inline]
    pub fn add_assign_slice(&self, a: &mut [u64], b: &[u64]) {
        debug_assert_eq!(a.len(), b.len());
        let p = self.p;
        for (x, &y) in a.iter_mut().zip(b) {
            let s = *x + y;
            *x = s.min(s.wrapping_sub(p));
        }
    }

    /// `a[i] = a[i] - b[i] mod p`, inputs and outputs in `[0, p)`.
    #[inline]
    pub fn sub_assign_slice(&self, a: &mut [u64], b: &[u64]) {
        debug_assert_eq!(a.len(), b.len());
        let p = self.p;
        for (x, &y) in a.iter_mut().zip(b) {
            let d = x.wrapping_sub(y);
            *x = d.min(d.wrapping_add(p));
        }
    }

    /// `a[i] = -a[i] mod p`, inputs and outputs in `[0, p)`.
    #[inline]
    pub fn neg_assign_slice(&self, a: &mut [u64]) {
        let p = self.p;
        for x in a.iter_mut() {
            let d = p - *x;
            *x = if d == p { 0 } else { d };
        }
    }

    /// `a[i] = a[i] * b[i] mod p` (Barrett), inputs and outputs in `[0, p)`.
    #[inline]
    pub fn mul_assign_slice(&self, a: &mut [u64], b: &[u64]) {
        debug_assert_eq!(a.len(), b.len());
        let done = crate::dot::pointwise::mul_assign(self, a, b);
        for (x, &y) in a[done..].iter_mut().zip(&b[done..]) {
            *x = self.mul_reduced(*x, y);
        }
    }

    /// `acc[i] = acc[i] + a[i] * b[i] mod p`, all in `[0, p)`.
    #[inline]
    pub fn mul_add_assign_slice(&self, acc: &mut [u64], a: &[u64], b: &[u64]) {
        debug_assert!(acc.len() == a.len() && a.len() == b.len());
        let done = crate::dot::pointwise::mul_add_assign(self, acc, a, b);
        for ((z, &x), &y) in acc[done..].iter_mut().zip(&a[done..]).zip(&b[done..]) {
            // z + x*y <= (p-1) + (p-1)^2 < 2^(2k): the one-word Barrett constant applies.
            *z = self.reduce_product(x as u128 * y as u128 + *z as u128);
        }
    }

    /// `a[i] = a[i] * w mod p` for a scalar `w < p` (Shoup), inputs and outputs in `[0, p)`.
    #[inline]
    pub fn mul_scalar_assign_slice(&self, a: &mut [u64], w: u64) {
        let done = crate::dot::pointwise::mul_scalar_assign(self, a, w);
        let ws = self.shoup(w);
        for x in a[done..].iter_mut() {
            *x = self.mul_shoup(*x, w, ws);
        }
    }

    /// `acc[i] = acc[i] + a[i] * w mod p` for a scalar `w < p` (Shoup), all in `[0, p)`.
    #[inline]
    pub fn mul_scalar_add_assign_slice(&self, acc: &mut [u64], a: &[u64], w: u64) {
        debug_assert_eq!(acc.len(), a.len());
        let done = crate::dot::pointwise::mul_scalar_add_assign(self, acc, a, w);
        let ws = self.shoup(w);
        let p = self.p;
        for (z, &x) in acc[done..].iter_mut().zip(&a[done..]) {
            let s = *z + self.mul_shoup(x, w, ws);
            *z = s.min(s.wrapping_sub(p));
        }
    }

    /// Reduces every entry of `a` (any `u64`) into `[0, p)`.
    #[inline]
    pub fn reduce_slice(&self, a: &mut [u64]) {
        for x in a.iter_mut() {
            *x = self.reduce(*x);
        }
    }
}
