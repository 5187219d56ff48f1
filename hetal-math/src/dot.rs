//! Lazily reduced dot products modulo one prime: the multiply-accumulate kernels of RNS basis
//! conversion (ModUp / ModDown: rows times constants) and of the key-switching inner product
//! (rows times rows).
//!
//! Every output is `Σ_i a_i[c] · w_i mod p` (or `Σ_i a_i[c] · b_i[c] mod p`), computed exactly
//! with a single reduction per output instead of one per product:
//!
//! * **Scalar** (portable): products accumulate in `u128` (four coefficients at a time), folded back below `p` only when more terms could overflow, then one reduction per
//!   output: Montgomery (constants pre-multiplied by `2^64`) when the row bounds allow it,
//!   otherwise a 128-bit Barrett reduction (`Modulus::reduce_u128`).
//! * **IFMA** (x86-64 with AVX-512F + AVX-512IFMA, detected at run time, for `p < 2^50`): eight
//!   coefficients per vector; every product of 52-bit operands is added exactly into a pair of
//!   accumulators (`vpmadd52luq` adds its low 52 bits to `L`, `vpmadd52huq` its high 52 bits to
//!   `H`, so the sum is `H·2^52 + L`). Operands wider than 52 bits (the 60/61-bit primes of a
//!   chain) are split, `a = a_lo + 2^52·a_hi`, into two products with constants `w` and
//!   `[w·2^52]_p` (the row is loaded once); a product whose bounds keep it below `2^52` (such
//!   as `a_hi · [w·2^52]_p` for a 61-bit row and a 40-bit `p`, or a small row) skips
//!   `vpmadd52huq`. At the end `H·2^52 + L` is reduced with two Shoup products in radix `2^52`
//!   (`H·[2^52]_p` and `L·1`), each in `[0, 2p)`, and two conditional subtractions. Rows are
//!   processed in chunks small enough that `H` stays below `2^52` (the running remainder of a
//!   chunk seeds `L` of the next).
//!
//! Both paths return the same, fully reduced, values (tested against a big-integer oracle in
//! `tests/dot.rs`). [`Kernel::detect`] picks the IFMA path when the CPU has it; the `_with`
//! variants force a path (falling back to scalar if the requested one is unavailable or the
//! modulus is too wide).

use std::sync::OnceLock;

use crate::modulus::Modulus;

/// Largest modulus bit size handled by the IFMA path (`4p < 2^52` keeps every lazy
/// intermediate of the final reduction below `2^52`).
pub const IFMA_MAX_BITS: u32 = 50;

/// Largest bit size of a row value for [`dot_const`] (rows wider than 52 bits are split in two
/// terms on the IFMA path; the scalar path needs `a · w < 2^123`).
pub const DOT_MAX_ROW_BITS: u32 = 62;

/// Which implementation of the dot-product kernels to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Portable `u128` accumulation.
    Scalar,
    /// AVX-512 IFMA (x86-64 only, primes below `2^50`).
    Ifma,
}

impl Kernel {
    /// The fastest kernel this CPU supports (cached after the first call). Setting the
    /// environment variable `HETAL_DOT_KERNEL=scalar` forces the portable kernel (for A/B
    /// measurements).
    pub fn detect() -> Kernel {
        static DETECTED: OnceLock<Kernel> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            let forced_scalar = std::env::var("HETAL_DOT_KERNEL").is_ok_and(|v| v == "scalar");
            if !forced_scalar && Kernel::Ifma.is_available() {
                Kernel::Ifma
            } else {
                Kernel::Scalar
            }
        })
    }

    /// Whether this kernel can run on the current CPU.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Scalar => true,
            Kernel::Ifma => ifma_available(),
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn ifma_available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512ifma")
}

#[cfg(not(target_arch = "x86_64"))]
fn ifma_available() -> bool {
    false
}

/// Whether `kernel` may run the IFMA path for modulus `m`.
#[inline]
fn use_ifma(kernel: Kernel, m: &Modulus) -> bool {
    kernel == Kernel::Ifma && m.bits() <= IFMA_MAX_BITS && ifma_available()
}

/// Most terms the wide IFMA path accumulates (each adds below `3·2^52` to a 64-bit column).
const WIDE_MAX_TERMS: usize = 1024;

/// Whether `kernel` may run the wide (radix-2^52 Montgomery) IFMA path for modulus `m`
/// (`2^50 <= p < 2^61`) and `terms` terms.
#[inline]
fn use_ifma_wide(kernel: Kernel, m: &Modulus, terms: usize) -> bool {
    kernel == Kernel::Ifma
        && m.bits() > IFMA_MAX_BITS
        && terms <= WIDE_MAX_TERMS
        && ifma_available()
}

/// `out[c] = Σ_i rows[i][c] · w[i] mod p` for constants `w[i] < p` and row values below
/// `2^row_bits[i]` (`row_bits[i] <= 62`), with the fastest available kernel. Output in `[0, p)`.
///
/// # Panics
/// If the lengths disagree (`rows`, `row_bits`, `w`; every row as long as `out`), a constant is
/// not below `p` or a row bound exceeds [`DOT_MAX_ROW_BITS`].
///
/// ```
/// use hetal_math::{Modulus, dot::dot_const};
/// let m = Modulus::new(hetal_math::generate_ntt_primes(40, 16, 1).unwrap()[0]).unwrap();
/// let (a, b) = (vec![3u64; 16], vec![5u64; 16]);
/// let mut out = vec![0u64; 16];
/// dot_const(&m, &[&a, &b], &[40, 40], &[7, 11], &mut out);
/// assert!(out.iter().all(|&x| x == 3 * 7 + 5 * 11));
/// ```
pub fn dot_const(m: &Modulus, rows: &[&[u64]], row_bits: &[u32], w: &[u64], out: &mut [u64]) {
    dot_const_with(Kernel::detect(), m, rows, row_bits, w, out);
}

/// [`dot_const`] with an explicit kernel (scalar if `kernel` cannot run here).
///
/// # Panics
/// As [`dot_const`].
pub fn dot_const_with(
    kernel: Kernel,
    m: &Modulus,
    rows: &[&[u64]],
    row_bits: &[u32],
    w: &[u64],
    out: &mut [u64],
) {
    assert_eq!(rows.len(), w.len(), "dot_const: one constant per row");
    assert_eq!(rows.len(), row_bits.len(), "dot_const: one bound per row");
    assert!(
        rows.iter().all(|r| r.len() == out.len()),
        "dot_const: rows must be as long as the output"
    );
    assert!(
        w.iter().all(|&x| x < m.value()),
        "dot_const: constants must be below p"
    );
    assert!(
        row_bits.iter().all(|&b| b <= DOT_MAX_ROW_BITS),
        "dot_const: row values must be below 2^62"
    );
    let done = if use_ifma(kernel, m) {
        ifma::dot_const(m, rows, row_bits, w, out)
    } else if use_ifma_wide(kernel, m, rows.len()) {
        ifma::wide_dot_const(m, rows, row_bits, w, out)
    } else {
        0
    };
    scalar_dot_const(m, rows, row_bits, w, out, done);
}

/// `out[c] = Σ_i a[i][c] · b[i][c] mod p` for reduced operands (`< p`), with the fastest
/// available kernel. Output in `[0, p)`.
///
/// # Panics
/// If the lengths disagree.
pub fn dot_var(m: &Modulus, a: &[&[u64]], b: &[&[u64]], out: &mut [u64]) {
    dot_var_with(Kernel::detect(), m, a, b, out);
}

/// [`dot_var`] with an explicit kernel.
///
/// # Panics
/// As [`dot_var`].
pub fn dot_var_with(kernel: Kernel, m: &Modulus, a: &[&[u64]], b: &[&[u64]], out: &mut [u64]) {
    check_var(a, b, out.len());
    debug_assert!(a.iter().chain(b).all(|r| r.iter().all(|&x| x < m.value())));
    let done = if use_ifma(kernel, m) {
        ifma::dot_var(m, a, b, out)
    } else if use_ifma_wide(kernel, m, a.len()) {
        ifma::wide_dot_var2(m, a, b, None, out, None)
    } else {
        0
    };
    scalar_dot_var(m, a, b, out, done);
}

/// Two dot products sharing the left operand: `out0 = Σ a_i b_i`, `out1 = Σ a_i d_i` (mod `p`;
/// all operands `< p`). This is the key-switching inner product of one limb (`a` the
/// decomposition, `b`, `d` the two halves of the key), reading `a` once.
///
/// # Panics
/// If the lengths disagree.
pub fn dot_var2(
    m: &Modulus,
    a: &[&[u64]],
    b: &[&[u64]],
    d: &[&[u64]],
    out0: &mut [u64],
    out1: &mut [u64],
) {
    dot_var2_with(Kernel::detect(), m, a, b, d, out0, out1);
}

/// [`dot_var2`] with an explicit kernel.
///
/// # Panics
/// As [`dot_var2`].
pub fn dot_var2_with(
    kernel: Kernel,
    m: &Modulus,
    a: &[&[u64]],
    b: &[&[u64]],
    d: &[&[u64]],
    out0: &mut [u64],
    out1: &mut [u64],
) {
    check_var(a, b, out0.len());
    check_var(a, d, out1.len());
    assert_eq!(
        out0.len(),
        out1.len(),
        "dot_var2: outputs must have the same length"
    );
    debug_assert!(
        a.iter()
            .chain(b)
            .chain(d)
            .all(|r| r.iter().all(|&x| x < m.value()))
    );
    let done = if use_ifma(kernel, m) {
        ifma::dot_var2(m, a, b, d, out0, out1)
    } else if use_ifma_wide(kernel, m, a.len()) {
        ifma::wide_dot_var2(m, a, b, Some(d), out0, Some(out1))
    } else {
        0
    };
    scalar_dot_var(m, a, b, out0, done);
    scalar_dot_var(m, a, d, out1, done);
}

/// `acc[i] = acc[i] + a[i] · w + b[i] mod p` for a scalar `w < p` and reduced operands (`< p`),
/// in one pass (the last step of an exact ModDown with a fused addition). Output in `[0, p)`.
///
/// # Panics
/// If the lengths disagree or `w >= p`.
pub fn mul_scalar_add2(m: &Modulus, acc: &mut [u64], a: &[u64], w: u64, b: &[u64]) {
    mul_scalar_add2_with(Kernel::detect(), m, acc, a, w, b);
}

/// [`mul_scalar_add2`] with an explicit kernel.
///
/// # Panics
/// As [`mul_scalar_add2`].
pub fn mul_scalar_add2_with(
    kernel: Kernel,
    m: &Modulus,
    acc: &mut [u64],
    a: &[u64],
    w: u64,
    b: &[u64],
) {
    assert!(
        acc.len() == a.len() && a.len() == b.len(),
        "mul_scalar_add2: lengths must agree"
    );
    assert!(
        w < m.value(),
        "mul_scalar_add2: the constant must be below p"
    );
    debug_assert!(acc.iter().chain(a).chain(b).all(|&x| x < m.value()));
    let done = if use_ifma(kernel, m) {
        ifma::mul_scalar_add2(m, acc, a, w, b)
    } else {
        0
    };
    let ws = m.shoup(w);
    let p = m.value();
    for ((z, &x), &y) in acc[done..].iter_mut().zip(&a[done..]).zip(&b[done..]) {
        let s = *z + m.mul_shoup(x, w, ws);
        let s = s.min(s.wrapping_sub(p)) + y;
        *z = s.min(s.wrapping_sub(p));
    }
}

/// Pointwise kernels behind [`Modulus`]'s slice methods: each returns how many leading
/// elements it processed with IFMA (0 when IFMA is unavailable or `p >= 2^50`); the caller
/// finishes the rest with its scalar loop. All operands are reduced (`< p`).
pub(crate) mod pointwise {
    use super::{Kernel, ifma, use_ifma};
    use crate::modulus::Modulus;

    /// `a[i] = a[i] · b[i] mod p`.
    pub(crate) fn mul_assign(m: &Modulus, a: &mut [u64], b: &[u64]) -> usize {
        if use_ifma(Kernel::detect(), m) {
            ifma::mul_assign(m, a, b)
        } else {
            0
        }
    }

    /// `acc[i] = acc[i] + a[i] · b[i] mod p`.
    pub(crate) fn mul_add_assign(m: &Modulus, acc: &mut [u64], a: &[u64], b: &[u64]) -> usize {
        if use_ifma(Kernel::detect(), m) {
            ifma::mul_add_assign(m, acc, a, b)
        } else {
            0
        }
    }

    /// `a[i] = a[i] · w mod p` (`w < p`).
    pub(crate) fn mul_scalar_assign(m: &Modulus, a: &mut [u64], w: u64) -> usize {
        if use_ifma(Kernel::detect(), m) {
            ifma::mul_scalar_assign(m, a, w)
        } else {
            0
        }
    }

    /// `acc[i] = acc[i] + a[i] · w mod p` (`w < p`).
    pub(crate) fn mul_scalar_add_assign(m: &Modulus, acc: &mut [u64], a: &[u64], w: u64) -> usize {
        if use_ifma(Kernel::detect(), m) {
            ifma::mul_scalar_add_assign(m, acc, a, w)
        } else {
            0
        }
    }
}

fn check_var(a: &[&[u64]], b: &[&[u64]], n: usize) {
    assert_eq!(a.len(), b.len(), "dot_var: as many left as right rows");
    assert!(
        a.iter().chain(b).all(|r| r.len() == n),
        "dot_var: rows must be as long as the output"
    );
}

/// Number of `u128` products below `2^prod_bits` that can be added to a value below `2^61`
/// without overflow.
#[inline]
fn fold_every(prod_bits: u32) -> usize {
    debug_assert!(prod_bits <= 126);
    1usize << (127 - prod_bits).min(16)
}

/// `-p^{-1} mod 2^64` for odd `p` (Newton iteration, each step doubles the correct bits).
fn neg_inv_mod_2_64(p: u64) -> u64 {
    let mut inv = p; // correct to 3 bits for odd p
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(p.wrapping_mul(inv)));
    }
    debug_assert_eq!(p.wrapping_mul(inv), 1);
    inv.wrapping_neg()
}

/// Montgomery reduction: `x · 2^-64 mod p` in `[0, p)` for `x < p · 2^64`, `p < 2^63` odd,
/// `p_neg_inv = -p^{-1} mod 2^64`. `x + m·p` with `m = x·p_neg_inv mod 2^64` is divisible by
/// `2^64`, and the quotient is below `2p`.
#[inline(always)]
fn redc(x: u128, p: u64, p_neg_inv: u64) -> u64 {
    let lo = x as u64;
    let hi = (x >> 64) as u64;
    let m = lo.wrapping_mul(p_neg_inv);
    let mp_hi = ((m as u128 * p as u128) >> 64) as u64;
    // lo + (m·p mod 2^64) is 0 or 2^64: it carries exactly when lo != 0.
    let r = hi + mp_hi + (lo != 0) as u64;
    r.min(r.wrapping_sub(p))
}

/// Scalar [`dot_const`] of the coefficients `start..`: four coefficients at a time with their
/// `u128` accumulators in registers. When the row bounds guarantee `Σ a_i < 2^64` the
/// constants are taken in Montgomery form (`w·2^64 mod p`) and each output costs one
/// Montgomery reduction (two word products) instead of a 128-bit Barrett reduction.
fn scalar_dot_const(
    m: &Modulus,
    rows: &[&[u64]],
    row_bits: &[u32],
    w: &[u64],
    out: &mut [u64],
    start: usize,
) {
    let p = m.value();
    let row_sum: u128 = row_bits.iter().map(|&b| 1u128 << b).sum();
    let mont = row_sum <= 1u128 << 64;
    let w: Vec<u64> = if mont {
        w.iter()
            .map(|&wi| (((wi as u128) << 64) % p as u128) as u64)
            .collect()
    } else {
        w.to_vec()
    };
    let p_neg_inv = neg_inv_mod_2_64(p);
    let max_bits = row_bits.iter().copied().max().unwrap_or(0);
    // Without Montgomery, fold the accumulators below p whenever more terms could overflow.
    let fold = if mont {
        rows.len().max(1)
    } else {
        fold_every(max_bits + m.bits())
    };
    let finish = |a: u128| {
        if mont {
            // Σ a_i·(w_i 2^64 mod p) < 2^64·p.
            redc(a, p, p_neg_inv)
        } else {
            m.reduce_u128(a)
        }
    };
    let n = out.len();
    let mut c = start;
    // Four coefficients per step with their accumulators in registers.
    while c + 4 <= n {
        let (mut a0, mut a1, mut a2, mut a3) = (0u128, 0u128, 0u128, 0u128);
        for (k, (rs, ws)) in rows.chunks(fold).zip(w.chunks(fold)).enumerate() {
            if k > 0 {
                a0 = m.reduce_u128(a0) as u128;
                a1 = m.reduce_u128(a1) as u128;
                a2 = m.reduce_u128(a2) as u128;
                a3 = m.reduce_u128(a3) as u128;
            }
            for (r, &wi) in rs.iter().zip(ws) {
                let x: &[u64; 4] = r[c..c + 4].try_into().expect("four coefficients");
                let wi = wi as u128;
                a0 += x[0] as u128 * wi;
                a1 += x[1] as u128 * wi;
                a2 += x[2] as u128 * wi;
                a3 += x[3] as u128 * wi;
            }
        }
        let o: &mut [u64; 4] = (&mut out[c..c + 4]).try_into().expect("four coefficients");
        *o = [finish(a0), finish(a1), finish(a2), finish(a3)];
        c += 4;
    }
    for c in c..n {
        let mut a = 0u128;
        for (k, (rs, ws)) in rows.chunks(fold).zip(w.chunks(fold)).enumerate() {
            if k > 0 {
                a = m.reduce_u128(a) as u128;
            }
            for (r, &wi) in rs.iter().zip(ws) {
                a += r[c] as u128 * wi as u128;
            }
        }
        out[c] = finish(a);
    }
}

/// Scalar [`dot_var`] of the coefficients `start..` (four coefficients at a time, `u128`
/// accumulators in registers).
fn scalar_dot_var(m: &Modulus, a: &[&[u64]], b: &[&[u64]], out: &mut [u64], start: usize) {
    let fold = fold_every(2 * m.bits());
    let n = out.len();
    let mut c = start;
    while c + 4 <= n {
        let (mut v0, mut v1, mut v2, mut v3) = (0u128, 0u128, 0u128, 0u128);
        for (k, (xs, ys)) in a.chunks(fold).zip(b.chunks(fold)).enumerate() {
            if k > 0 {
                v0 = m.reduce_u128(v0) as u128;
                v1 = m.reduce_u128(v1) as u128;
                v2 = m.reduce_u128(v2) as u128;
                v3 = m.reduce_u128(v3) as u128;
            }
            for (x, y) in xs.iter().zip(ys) {
                let x: &[u64; 4] = x[c..c + 4].try_into().expect("four coefficients");
                let y: &[u64; 4] = y[c..c + 4].try_into().expect("four coefficients");
                v0 += x[0] as u128 * y[0] as u128;
                v1 += x[1] as u128 * y[1] as u128;
                v2 += x[2] as u128 * y[2] as u128;
                v3 += x[3] as u128 * y[3] as u128;
            }
        }
        let o: &mut [u64; 4] = (&mut out[c..c + 4]).try_into().expect("four coefficients");
        *o = [
            m.reduce_u128(v0),
            m.reduce_u128(v1),
            m.reduce_u128(v2),
            m.reduce_u128(v3),
        ];
        c += 4;
    }
    for c in c..n {
        let mut v = 0u128;
        for (k, (xs, ys)) in a.chunks(fold).zip(b.chunks(fold)).enumerate() {
            if k > 0 {
                v = m.reduce_u128(v) as u128;
            }
            for (x, y) in xs.iter().zip(ys) {
                v += x[c] as u128 * y[c] as u128;
            }
        }
        out[c] = m.reduce_u128(v);
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod ifma {
    //! No IFMA outside x86-64: every entry point processes nothing.
    use crate::modulus::Modulus;

    pub(super) fn mul_assign(_: &Modulus, _: &mut [u64], _: &[u64]) -> usize {
        0
    }
    pub(super) fn mul_add_assign(_: &Modulus, _: &mut [u64], _: &[u64], _: &[u64]) -> usize {
        0
    }
    pub(super) fn mul_scalar_assign(_: &Modulus, _: &mut [u64], _: u64) -> usize {
        0
    }
    pub(super) fn mul_scalar_add_assign(_: &Modulus, _: &mut [u64], _: &[u64], _: u64) -> usize {
        0
    }
    pub(super) fn mul_scalar_add2(
        _: &Modulus,
        _: &mut [u64],
        _: &[u64],
        _: u64,
        _: &[u64],
    ) -> usize {
        0
    }

    pub(super) fn dot_const(
        _: &Modulus,
        _: &[&[u64]],
        _: &[u32],
        _: &[u64],
        _: &mut [u64],
    ) -> usize {
        0
    }
    pub(super) fn dot_var(_: &Modulus, _: &[&[u64]], _: &[&[u64]], _: &mut [u64]) -> usize {
        0
    }
    pub(super) fn wide_dot_const(
        _: &Modulus,
        _: &[&[u64]],
        _: &[u32],
        _: &[u64],
        _: &mut [u64],
    ) -> usize {
        0
    }
    pub(super) fn wide_dot_var2(
        _: &Modulus,
        _: &[&[u64]],
        _: &[&[u64]],
        _: Option<&[&[u64]]>,
        _: &mut [u64],
        _: Option<&mut [u64]>,
    ) -> usize {
        0
    }
    pub(super) fn dot_var2(
        _: &Modulus,
        _: &[&[u64]],
        _: &[&[u64]],
        _: &[&[u64]],
        _: &mut [u64],
        _: &mut [u64],
    ) -> usize {
        0
    }
}

#[cfg(target_arch = "x86_64")]
mod ifma {
    //! AVX-512 IFMA kernels. Soundness: every `#[target_feature]` function here is only called
    //! after `use_ifma` has confirmed at run time that the CPU supports AVX-512F and
    //! AVX-512IFMA; every unaligned load/store reads or writes 8 `u64` at an index `c` with
    //! `c + 8 <= len` of a slice whose length was checked by the caller (all rows and outputs
    //! have the same length).

    use std::arch::x86_64::*;

    use crate::modulus::Modulus;

    const MASK52: u64 = (1 << 52) - 1;

    /// Constants of the final reduction of `H·2^52 + L` modulo `p < 2^50`.
    #[derive(Clone, Copy)]
    struct Reducer {
        p: u64,
        /// `[2^52]_p` and its radix-2^52 Shoup constant `floor([2^52]_p · 2^52 / p)`.
        c: u64,
        c_shoup: u64,
        /// `floor(2^52 / p)` (the Shoup constant of 1).
        one_shoup: u64,
    }

    impl Reducer {
        fn new(m: &Modulus) -> Self {
            let p = m.value();
            debug_assert!(p < 1 << 50);
            let c = ((1u128 << 52) % p as u128) as u64;
            Self {
                p,
                c,
                c_shoup: (((c as u128) << 52) / p as u128) as u64,
                one_shoup: ((1u128 << 52) / p as u128) as u64,
            }
        }
    }

    /// Largest number of terms per chunk such that `H < 2^52` when every term adds less than
    /// `2^hi_bits` to `H` (and less than `2^52` to `L`, which carries less than one per term,
    /// plus the remainder seeding `L`).
    fn chunk_len(hi_bits: u32) -> usize {
        let per_term = (1u128 << hi_bits) + 1;
        let n = ((1u128 << 52) - 1) / per_term;
        (n.saturating_sub(1) as usize).clamp(1, 1024)
    }

    /// One row of a constant dot product. IFMA reads only the low 52 bits of each operand, so
    /// the row value `a` itself stands for `a_lo`; a row wider than 52 bits adds a second
    /// product `a_hi · [w·2^52]_p` with `a_hi = a >> 52`. A product known to be below `2^52`
    /// (small row values or a narrow `p`) only needs `vpmadd52luq`: its high half is zero.
    struct Term<'a> {
        row: &'a [u64],
        w: u64,
        /// `[w·2^52]_p` (used if `wide`).
        w_hi: u64,
        /// Whether `a_lo · w` may reach `2^52` (needs `vpmadd52huq`).
        lo_hi: bool,
        /// Whether the row is wider than 52 bits.
        wide: bool,
        /// Whether `a_hi · w_hi` may reach `2^52`.
        hi_hi: bool,
    }

    /// Processes the first `8 * floor(n / 8)` coefficients; returns how many.
    pub(super) fn dot_const(
        m: &Modulus,
        rows: &[&[u64]],
        row_bits: &[u32],
        w: &[u64],
        out: &mut [u64],
    ) -> usize {
        let p = m.value();
        let p_bits = m.bits();
        let w52 = ((1u128 << 52) % p as u128) as u64;
        let terms: Vec<Term<'_>> = rows
            .iter()
            .zip(row_bits)
            .zip(w)
            .map(|((row, &bits), &wi)| Term {
                row,
                w: wi,
                w_hi: ((wi as u128 * w52 as u128) % p as u128) as u64,
                lo_hi: bits.min(52) + p_bits > 52,
                wide: bits > 52,
                hi_hi: bits.saturating_sub(52) + p_bits > 52,
            })
            .collect();
        // Chunks of rows such that H + floor(L / 2^52) stays below 2^52: a row adds below p to
        // H per product with a high half, and below 2^52 to L per product (carrying less than
        // one into H each); the remainder seeding L is below p < 2^50. At most 1024 rows keep
        // L below 1 + 2·1024·2^52 < 2^64.
        let mut chunks = Vec::new();
        let (mut start, mut used) = (0usize, 0u64);
        for (i, t) in terms.iter().enumerate() {
            let cost = (t.lo_hi as u64 + (t.wide && t.hi_hi) as u64) * p + 1 + t.wide as u64;
            if i > start && (used + cost >= (1 << 52) - 1 || i - start >= 1024) {
                chunks.push(start..i);
                start = i;
                used = 0;
            }
            used += cost;
        }
        chunks.push(start..terms.len());
        // SAFETY: `use_ifma` checked AVX-512F and AVX-512IFMA at run time.
        unsafe { const_kernel(&Reducer::new(m), &terms, &chunks, out) }
    }

    /// Processes the first `8 * floor(n / 8)` coefficients; returns how many.
    pub(super) fn dot_var(m: &Modulus, a: &[&[u64]], b: &[&[u64]], out: &mut [u64]) -> usize {
        let chunk = chunk_len((2 * m.bits()).saturating_sub(52));
        // SAFETY: `use_ifma` checked AVX-512F and AVX-512IFMA at run time.
        unsafe { var_kernel(&Reducer::new(m), a, b, chunk, out) }
    }

    /// Processes the first `8 * floor(n / 8)` coefficients; returns how many.
    pub(super) fn dot_var2(
        m: &Modulus,
        a: &[&[u64]],
        b: &[&[u64]],
        d: &[&[u64]],
        out0: &mut [u64],
        out1: &mut [u64],
    ) -> usize {
        let chunk = chunk_len((2 * m.bits()).saturating_sub(52));
        // SAFETY: `use_ifma` checked AVX-512F and AVX-512IFMA at run time.
        unsafe { var2_kernel(&Reducer::new(m), a, b, d, chunk, out0, out1) }
    }

    /// `(H·2^52 + L) mod p` for `H < 2^52`, `L < 2^64`, `p < 2^50`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn reduce(r: &Reducer, h: __m512i, l: __m512i) -> __m512i {
        let mask = _mm512_set1_epi64(MASK52 as i64);
        let zero = _mm512_setzero_si512();
        let p = _mm512_set1_epi64(r.p as i64);
        // Carry L's bits above 52 into H: H + floor(L / 2^52) < 2^52 by the chunk bound.
        let h = _mm512_add_epi64(h, _mm512_srli_epi64::<52>(l));
        let l = _mm512_and_si512(l, mask);
        // H·c - floor(H·c_shoup / 2^52)·p, in [0, 2p) (Shoup in radix 2^52, H < 2^52, c < p).
        let q1 = _mm512_madd52hi_epu64(zero, h, _mm512_set1_epi64(r.c_shoup as i64));
        let x1 = _mm512_madd52lo_epu64(zero, h, _mm512_set1_epi64(r.c as i64));
        let y1 = _mm512_madd52lo_epu64(zero, q1, p);
        let r1 = _mm512_and_si512(_mm512_sub_epi64(x1, y1), mask);
        // L - floor(L·floor(2^52/p) / 2^52)·p, in [0, 2p).
        let q2 = _mm512_madd52hi_epu64(zero, l, _mm512_set1_epi64(r.one_shoup as i64));
        let y2 = _mm512_madd52lo_epu64(zero, q2, p);
        let r2 = _mm512_and_si512(_mm512_sub_epi64(l, y2), mask);
        // r1 + r2 in [0, 4p): two conditional subtractions (wrapping makes the min pick).
        let s = _mm512_add_epi64(r1, r2);
        let p2 = _mm512_add_epi64(p, p);
        let s = _mm512_min_epu64(s, _mm512_sub_epi64(s, p2));
        _mm512_min_epu64(s, _mm512_sub_epi64(s, p))
    }

    /// Adds one row's products for one vector of coefficients to `(L, H)`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn const_mac(
        t: &Term<'_>,
        a: __m512i,
        w: __m512i,
        w_hi: __m512i,
        l: &mut __m512i,
        h: &mut __m512i,
    ) {
        *l = _mm512_madd52lo_epu64(*l, a, w);
        if t.lo_hi {
            *h = _mm512_madd52hi_epu64(*h, a, w);
        }
        if t.wide {
            let a_hi = _mm512_srli_epi64::<52>(a);
            *l = _mm512_madd52lo_epu64(*l, a_hi, w_hi);
            if t.hi_hi {
                *h = _mm512_madd52hi_epu64(*h, a_hi, w_hi);
            }
        }
    }

    /// # Safety
    /// AVX-512F and AVX-512IFMA must be available; every row must be as long as `out`;
    /// `chunks` must partition the terms as [`dot_const`] does.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn const_kernel(
        r: &Reducer,
        terms: &[Term<'_>],
        chunks: &[std::ops::Range<usize>],
        out: &mut [u64],
    ) -> usize {
        let n = out.len() / 8 * 8;
        let zero = _mm512_setzero_si512();
        let ws: Vec<(__m512i, __m512i)> = terms
            .iter()
            .map(|t| {
                (
                    _mm512_set1_epi64(t.w as i64),
                    _mm512_set1_epi64(t.w_hi as i64),
                )
            })
            .collect();
        let mut c = 0;
        // Two vectors per iteration: four independent accumulator chains hide IFMA latency.
        while c + 16 <= n {
            let mut acc0 = zero;
            let mut acc1 = zero;
            for ch in chunks {
                let (mut l0, mut h0, mut l1, mut h1) = (acc0, zero, acc1, zero);
                for (t, &(w, w_hi)) in terms[ch.clone()].iter().zip(&ws[ch.clone()]) {
                    // SAFETY: c + 16 <= n <= t.row.len().
                    let (a0, a1) = unsafe {
                        let ptr = t.row.as_ptr().add(c);
                        (
                            _mm512_loadu_si512(ptr.cast()),
                            _mm512_loadu_si512(ptr.add(8).cast()),
                        )
                    };
                    const_mac(t, a0, w, w_hi, &mut l0, &mut h0);
                    const_mac(t, a1, w, w_hi, &mut l1, &mut h1);
                }
                acc0 = reduce(r, h0, l0);
                acc1 = reduce(r, h1, l1);
            }
            // SAFETY: c + 16 <= n <= out.len().
            unsafe {
                let ptr = out.as_mut_ptr().add(c);
                _mm512_storeu_si512(ptr.cast(), acc0);
                _mm512_storeu_si512(ptr.add(8).cast(), acc1);
            }
            c += 16;
        }
        while c < n {
            let mut acc = zero;
            for ch in chunks {
                let (mut l, mut h) = (acc, zero);
                for (t, &(w, w_hi)) in terms[ch.clone()].iter().zip(&ws[ch.clone()]) {
                    // SAFETY: c + 8 <= n <= t.row.len().
                    let a = unsafe { _mm512_loadu_si512(t.row.as_ptr().add(c).cast()) };
                    const_mac(t, a, w, w_hi, &mut l, &mut h);
                }
                acc = reduce(r, h, l);
            }
            // SAFETY: c + 8 <= n <= out.len().
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(c).cast(), acc) };
            c += 8;
        }
        n
    }

    /// # Safety
    /// AVX-512F and AVX-512IFMA must be available; every row must be as long as `out`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn var_kernel(
        r: &Reducer,
        a: &[&[u64]],
        b: &[&[u64]],
        chunk: usize,
        out: &mut [u64],
    ) -> usize {
        let n = out.len() / 8 * 8;
        let zero = _mm512_setzero_si512();
        let mut c = 0;
        while c < n {
            let mut acc = zero;
            for (xs, ys) in a.chunks(chunk).zip(b.chunks(chunk)) {
                let (mut l, mut h) = (acc, zero);
                for (x, y) in xs.iter().zip(ys) {
                    // SAFETY: c + 8 <= n <= len of every row.
                    let (x, y) = unsafe {
                        (
                            _mm512_loadu_si512(x.as_ptr().add(c).cast()),
                            _mm512_loadu_si512(y.as_ptr().add(c).cast()),
                        )
                    };
                    l = _mm512_madd52lo_epu64(l, x, y);
                    h = _mm512_madd52hi_epu64(h, x, y);
                }
                acc = reduce(r, h, l);
            }
            // SAFETY: c + 8 <= n <= out.len().
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(c).cast(), acc) };
            c += 8;
        }
        n
    }

    /// # Safety
    /// AVX-512F and AVX-512IFMA must be available; every row must be as long as the outputs.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn var2_kernel(
        r: &Reducer,
        a: &[&[u64]],
        b: &[&[u64]],
        d: &[&[u64]],
        chunk: usize,
        out0: &mut [u64],
        out1: &mut [u64],
    ) -> usize {
        let n = out0.len() / 8 * 8;
        let zero = _mm512_setzero_si512();
        let mut c = 0;
        while c < n {
            let mut acc0 = zero;
            let mut acc1 = zero;
            for ((xs, ys), zs) in a.chunks(chunk).zip(b.chunks(chunk)).zip(d.chunks(chunk)) {
                let (mut l0, mut h0, mut l1, mut h1) = (acc0, zero, acc1, zero);
                for ((x, y), z) in xs.iter().zip(ys).zip(zs) {
                    // SAFETY: c + 8 <= n <= len of every row.
                    let (x, y, z) = unsafe {
                        (
                            _mm512_loadu_si512(x.as_ptr().add(c).cast()),
                            _mm512_loadu_si512(y.as_ptr().add(c).cast()),
                            _mm512_loadu_si512(z.as_ptr().add(c).cast()),
                        )
                    };
                    l0 = _mm512_madd52lo_epu64(l0, x, y);
                    h0 = _mm512_madd52hi_epu64(h0, x, y);
                    l1 = _mm512_madd52lo_epu64(l1, x, z);
                    h1 = _mm512_madd52hi_epu64(h1, x, z);
                }
                acc0 = reduce(r, h0, l0);
                acc1 = reduce(r, h1, l1);
            }
            // SAFETY: c + 8 <= n <= len of both outputs.
            unsafe {
                _mm512_storeu_si512(out0.as_mut_ptr().add(c).cast(), acc0);
                _mm512_storeu_si512(out1.as_mut_ptr().add(c).cast(), acc1);
            }
            c += 8;
        }
        n
    }

    /// Processes the first `8 * floor(n / 8)` elements; returns how many.
    pub(super) fn mul_assign(m: &Modulus, a: &mut [u64], b: &[u64]) -> usize {
        assert_eq!(a.len(), b.len());
        // SAFETY: `use_ifma` checked AVX-512F and AVX-512IFMA; lengths are equal.
        unsafe { pointwise_kernel::<false>(&Reducer::new(m), a, None, b) }
    }

    /// Processes the first `8 * floor(n / 8)` elements; returns how many.
    pub(super) fn mul_add_assign(m: &Modulus, acc: &mut [u64], a: &[u64], b: &[u64]) -> usize {
        assert!(acc.len() == a.len() && a.len() == b.len());
        // SAFETY: `use_ifma` checked AVX-512F and AVX-512IFMA; lengths are equal.
        unsafe { pointwise_kernel::<true>(&Reducer::new(m), acc, Some(a), b) }
    }

    /// Processes the first `8 * floor(n / 8)` elements; returns how many.
    pub(super) fn mul_scalar_assign(m: &Modulus, a: &mut [u64], w: u64) -> usize {
        // SAFETY: `use_ifma` checked AVX-512F and AVX-512IFMA.
        unsafe { scalar_kernel::<false>(m.value(), w, a, None, None) }
    }

    /// Processes the first `8 * floor(n / 8)` elements; returns how many.
    pub(super) fn mul_scalar_add_assign(m: &Modulus, acc: &mut [u64], a: &[u64], w: u64) -> usize {
        assert_eq!(acc.len(), a.len());
        // SAFETY: `use_ifma` checked AVX-512F and AVX-512IFMA; lengths are equal.
        unsafe { scalar_kernel::<true>(m.value(), w, acc, Some(a), None) }
    }

    /// Processes the first `8 * floor(n / 8)` elements; returns how many.
    pub(super) fn mul_scalar_add2(
        m: &Modulus,
        acc: &mut [u64],
        a: &[u64],
        w: u64,
        b: &[u64],
    ) -> usize {
        assert!(acc.len() == a.len() && a.len() == b.len());
        // SAFETY: `use_ifma` checked AVX-512F and AVX-512IFMA; lengths are equal.
        unsafe { scalar_kernel::<true>(m.value(), w, acc, Some(a), Some(b)) }
    }

    /// `dst = dst + x·y` (`ACC = true`) or `dst = dst·y` (`ACC = false`, `x = None`) mod `p`,
    /// elementwise (all operands `< p < 2^50`).
    ///
    /// # Safety
    /// AVX-512F and AVX-512IFMA must be available; `x` and `y` at least as long as `dst`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn pointwise_kernel<const ACC: bool>(
        r: &Reducer,
        dst: &mut [u64],
        x: Option<&[u64]>,
        y: &[u64],
    ) -> usize {
        debug_assert!(x.is_none_or(|x| x.len() >= dst.len()) && y.len() >= dst.len());
        let n = dst.len() / 8 * 8;
        let zero = _mm512_setzero_si512();
        let mut c = 0;
        while c < n {
            // SAFETY: c + 8 <= n <= every length.
            unsafe {
                let d = dst.as_mut_ptr().add(c);
                let cur = _mm512_loadu_si512(d.cast());
                let a = match x {
                    Some(x) => _mm512_loadu_si512(x.as_ptr().add(c).cast()),
                    None => cur,
                };
                let b = _mm512_loadu_si512(y.as_ptr().add(c).cast());
                // One product below p^2 < 2^100 (H < 2^48) plus an addend below 2^50.
                let l0 = if ACC { cur } else { zero };
                let l = _mm512_madd52lo_epu64(l0, a, b);
                let h = _mm512_madd52hi_epu64(zero, a, b);
                _mm512_storeu_si512(d.cast(), reduce(r, h, l));
            }
            c += 8;
        }
        n
    }

    /// `dst = dst·w` (`ACC = false`) or `dst = dst + a·w (+ b)` (`ACC = true`) mod `p`, by
    /// Shoup's method in radix `2^52`: `q = floor(x·floor(w·2^52/p) / 2^52)`, `x·w - q·p` in
    /// `[0, 2p)` for `x < 2^52`, `w < p < 2^50`; adding `dst` and `b` (each `< p`) stays below
    /// `4p < 2^52`.
    ///
    /// # Safety
    /// AVX-512F and AVX-512IFMA must be available; `a` and `b` (if any) at least as long as
    /// `dst`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn scalar_kernel<const ACC: bool>(
        p: u64,
        w: u64,
        dst: &mut [u64],
        a: Option<&[u64]>,
        b: Option<&[u64]>,
    ) -> usize {
        debug_assert!(w < p && p < 1 << 50);
        debug_assert!(a.is_none_or(|a| a.len() >= dst.len()));
        debug_assert!(b.is_none_or(|b| b.len() >= dst.len()));
        let n = dst.len() / 8 * 8;
        let zero = _mm512_setzero_si512();
        let mask = _mm512_set1_epi64(MASK52 as i64);
        let pv = _mm512_set1_epi64(p as i64);
        let p2 = _mm512_add_epi64(pv, pv);
        let wv = _mm512_set1_epi64(w as i64);
        let ws = _mm512_set1_epi64((((w as u128) << 52) / p as u128) as i64);
        let mut c = 0;
        while c < n {
            // SAFETY: c + 8 <= n <= every length.
            unsafe {
                let d = dst.as_mut_ptr().add(c);
                let x = match a {
                    Some(a) => _mm512_loadu_si512(a.as_ptr().add(c).cast()),
                    None => _mm512_loadu_si512(d.cast()),
                };
                let q = _mm512_madd52hi_epu64(zero, x, ws);
                let xw = _mm512_madd52lo_epu64(zero, x, wv);
                let qp = _mm512_madd52lo_epu64(zero, q, pv);
                let mut t = _mm512_and_si512(_mm512_sub_epi64(xw, qp), mask); // [0, 2p)
                if ACC {
                    t = _mm512_add_epi64(t, _mm512_loadu_si512(d.cast())); // [0, 3p)
                    if let Some(b) = b {
                        // [0, 4p)
                        t = _mm512_add_epi64(t, _mm512_loadu_si512(b.as_ptr().add(c).cast()));
                    }
                    t = _mm512_min_epu64(t, _mm512_sub_epi64(t, p2));
                }
                t = _mm512_min_epu64(t, _mm512_sub_epi64(t, pv));
                _mm512_storeu_si512(d.cast(), t);
            }
            c += 8;
        }
        n
    }

    // ------------------------------------------------------------------ wide moduli
    //
    // For `2^50 <= p < 2^61`, operands and the modulus are split in radix 2^52
    // (`x = x_0 + 2^52 x_1`, `x_1 < 2^10`), products are accumulated exactly in three columns
    // `C_0 + 2^52 C_1 + 2^104 C_2`, and two word-by-word Montgomery steps in radix 2^52
    // divide by `R = 2^104` modulo `p` (input below `p·R`, output below `2p`). Constants of
    // `dot_const` are pre-multiplied by `R`; `dot_var` multiplies its result by `R^2 mod p`
    // with one more Montgomery product.

    /// Constants of the radix-2^52 Montgomery reduction modulo `p < 2^61`.
    #[derive(Clone, Copy)]
    struct Wide {
        p: u64,
        /// `p mod 2^52` and `p >> 52`.
        p0: u64,
        p1: u64,
        /// `-p^{-1} mod 2^52`.
        p_neg_inv: u64,
    }

    impl Wide {
        fn new(m: &Modulus) -> Self {
            let p = m.value();
            Self {
                p,
                p0: p & MASK52,
                p1: p >> 52,
                p_neg_inv: super::neg_inv_mod_2_64(p) & MASK52,
            }
        }

        /// `x · 2^104 mod p`, split in radix 2^52.
        fn mont_split(&self, x: u64) -> (u64, u64) {
            let p = self.p as u128;
            let r = (1u128 << 104) % p;
            let v = ((x as u128 % p) * r % p) as u64;
            (v & MASK52, v >> 52)
        }
    }

    /// `(C0 + 2^52 C1 + 2^104 C2) · 2^-104 mod p` in `[0, p)`, for a value below `p·2^104`
    /// (columns may exceed 52 bits; they are below `2^64`).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn wide_redc(w: &Wide, c0: __m512i, c1: __m512i, c2: __m512i) -> __m512i {
        let mask = _mm512_set1_epi64(MASK52 as i64);
        let zero = _mm512_setzero_si512();
        let p0 = _mm512_set1_epi64(w.p0 as i64);
        let p1 = _mm512_set1_epi64(w.p1 as i64);
        let pinv = _mm512_set1_epi64(w.p_neg_inv as i64);
        // Step 1: add m·p with m = C0·(-1/p) mod 2^52, so the low column becomes 0 or 2^52.
        let c1 = _mm512_add_epi64(c1, _mm512_srli_epi64::<52>(c0));
        let c0 = _mm512_and_si512(c0, mask);
        let m = _mm512_madd52lo_epu64(zero, c0, pinv);
        let c0 = _mm512_madd52lo_epu64(c0, m, p0);
        let c1 = _mm512_add_epi64(c1, _mm512_srli_epi64::<52>(c0));
        let c1 = _mm512_madd52hi_epu64(c1, m, p0);
        let c1 = _mm512_madd52lo_epu64(c1, m, p1);
        let c2 = _mm512_madd52hi_epu64(c2, m, p1);
        // Step 2: the same on the next column.
        let c2 = _mm512_add_epi64(c2, _mm512_srli_epi64::<52>(c1));
        let c1 = _mm512_and_si512(c1, mask);
        let m = _mm512_madd52lo_epu64(zero, c1, pinv);
        let c1 = _mm512_madd52lo_epu64(c1, m, p0);
        let c2 = _mm512_add_epi64(c2, _mm512_srli_epi64::<52>(c1));
        let c2 = _mm512_madd52hi_epu64(c2, m, p0);
        let c2 = _mm512_madd52lo_epu64(c2, m, p1);
        let c3 = _mm512_madd52hi_epu64(zero, m, p1);
        // The quotient C2 + 2^52 C3 is below 2p < 2^62.
        let r = _mm512_add_epi64(c2, _mm512_slli_epi64::<52>(c3));
        let p = _mm512_set1_epi64(w.p as i64);
        _mm512_min_epu64(r, _mm512_sub_epi64(r, p))
    }

    /// Adds the exact product `(a_0 + 2^52 a_1)(b_0 + 2^52 b_1)` to the columns (IFMA reads the
    /// low 52 bits of `a`, `b`, so `a_0 = a`, `b_0 = b` as given).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn wide_mac(
        cols: &mut [__m512i; 3],
        a: __m512i,
        a1: __m512i,
        b: __m512i,
        b1: __m512i,
        a_wide: bool,
    ) {
        cols[0] = _mm512_madd52lo_epu64(cols[0], a, b);
        cols[1] = _mm512_madd52hi_epu64(cols[1], a, b);
        cols[1] = _mm512_madd52lo_epu64(cols[1], a, b1);
        cols[2] = _mm512_madd52hi_epu64(cols[2], a, b1);
        if a_wide {
            cols[1] = _mm512_madd52lo_epu64(cols[1], a1, b);
            cols[2] = _mm512_madd52hi_epu64(cols[2], a1, b);
            cols[2] = _mm512_madd52lo_epu64(cols[2], a1, b1);
        }
    }

    /// Processes the first `8 * floor(n / 8)` coefficients; returns how many.
    pub(super) fn wide_dot_const(
        m: &Modulus,
        rows: &[&[u64]],
        row_bits: &[u32],
        w: &[u64],
        out: &mut [u64],
    ) -> usize {
        let wide = Wide::new(m);
        let consts: Vec<(u64, u64, bool)> = w
            .iter()
            .zip(row_bits)
            .map(|(&wi, &b)| {
                let (w0, w1) = wide.mont_split(wi);
                (w0, w1, b > 52)
            })
            .collect();
        // SAFETY: `use_ifma_wide` checked AVX-512F and AVX-512IFMA at run time.
        unsafe { wide_const_kernel(&wide, rows, &consts, out) }
    }

    /// # Safety
    /// AVX-512F and AVX-512IFMA must be available; every row must be as long as `out`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn wide_const_kernel(
        wide: &Wide,
        rows: &[&[u64]],
        consts: &[(u64, u64, bool)],
        out: &mut [u64],
    ) -> usize {
        let n = out.len() / 8 * 8;
        let zero = _mm512_setzero_si512();
        let ws: Vec<(__m512i, __m512i, bool)> = consts
            .iter()
            .map(|&(w0, w1, wide)| {
                (
                    _mm512_set1_epi64(w0 as i64),
                    _mm512_set1_epi64(w1 as i64),
                    wide,
                )
            })
            .collect();
        let mut c = 0;
        while c < n {
            let mut cols = [zero; 3];
            for (r, &(w0, w1, a_wide)) in rows.iter().zip(&ws) {
                // SAFETY: c + 8 <= n <= r.len().
                let a = unsafe { _mm512_loadu_si512(r.as_ptr().add(c).cast()) };
                let a1 = _mm512_srli_epi64::<52>(a);
                wide_mac(&mut cols, a, a1, w0, w1, a_wide);
            }
            // Σ a_i·(w_i R mod p) < p·R since Σ a_i < 1024·2^62 < R.
            let r = wide_redc(wide, cols[0], cols[1], cols[2]);
            // SAFETY: c + 8 <= n <= out.len().
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(c).cast(), r) };
            c += 8;
        }
        n
    }

    /// `out0 = Σ a_i b_i`, and `out1 = Σ a_i d_i` if given, modulo a wide `p` (operands `< p`).
    /// Processes the first `8 * floor(n / 8)` coefficients; returns how many.
    pub(super) fn wide_dot_var2(
        m: &Modulus,
        a: &[&[u64]],
        b: &[&[u64]],
        d: Option<&[&[u64]]>,
        out0: &mut [u64],
        out1: Option<&mut [u64]>,
    ) -> usize {
        let wide = Wide::new(m);
        // R^2 mod p, so that REDC(REDC(V)·R^2 mod p... ) = V: (V/R)·R^2/R = V.
        let r2 = {
            let r = ((1u128 << 104) % m.value() as u128) as u64;
            wide.mont_split(r)
        };
        // SAFETY: `use_ifma_wide` checked AVX-512F and AVX-512IFMA at run time.
        unsafe {
            let n = wide_var_kernel(&wide, r2, a, b, out0);
            if let (Some(d), Some(out1)) = (d, out1) {
                wide_var_kernel(&wide, r2, a, d, out1);
            }
            n
        }
    }

    /// # Safety
    /// AVX-512F and AVX-512IFMA must be available; every row must be as long as `out`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn wide_var_kernel(
        wide: &Wide,
        r2: (u64, u64),
        a: &[&[u64]],
        b: &[&[u64]],
        out: &mut [u64],
    ) -> usize {
        let n = out.len() / 8 * 8;
        let zero = _mm512_setzero_si512();
        let (r2_0, r2_1) = (
            _mm512_set1_epi64(r2.0 as i64),
            _mm512_set1_epi64(r2.1 as i64),
        );
        let mut c = 0;
        while c < n {
            let mut cols = [zero; 3];
            for (x, y) in a.iter().zip(b) {
                // SAFETY: c + 8 <= n <= len of every row.
                let (x, y) = unsafe {
                    (
                        _mm512_loadu_si512(x.as_ptr().add(c).cast()),
                        _mm512_loadu_si512(y.as_ptr().add(c).cast()),
                    )
                };
                let (x1, y1) = (_mm512_srli_epi64::<52>(x), _mm512_srli_epi64::<52>(y));
                wide_mac(&mut cols, x, x1, y, y1, true);
            }
            // V = Σ a_i b_i < 1024 p^2 < p·R: v = V/R mod p, then REDC(v·(R^2 mod p)) = V mod p
            // (v·(R^2 mod p) < p^2 < p·R).
            let v = wide_redc(wide, cols[0], cols[1], cols[2]);
            let mut cols = [zero; 3];
            wide_mac(&mut cols, v, _mm512_srli_epi64::<52>(v), r2_0, r2_1, true);
            let r = wide_redc(wide, cols[0], cols[1], cols[2]);
            // SAFETY: c + 8 <= n <= out.len().
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(c).cast(), r) };
            c += 8;
        }
        n
    }
}
