//! Samplers driven by a caller-supplied cryptographic RNG.
//!
//! All samplers take `&mut impl CryptoRng` (in rand_core 0.9 `CryptoRng: RngCore`), e.g.
//! `rand_chacha::ChaCha20Rng`, so results are reproducible from a seed. Buffers holding secret-derived values are returned in
//! [`Zeroizing`] wrappers and temporary copies are wiped.

use std::sync::Arc;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::modulus::Modulus;
use crate::poly::{Coeff, Ntt, Poly};

/// Default standard deviation of the error distribution (HE Standard).
pub const DEFAULT_SIGMA: f64 = 3.2;

/// Tail cut of the discrete Gaussian in standard deviations: samples with `|x| > 6 sigma` are
/// rejected and redrawn. The rejected mass is `erfc(6/sqrt 2) ~ 2e-9`.
pub const GAUSSIAN_TAIL_SIGMAS: f64 = 6.0;

/// A value uniform in `[0, p)` by rejection sampling on `bits(p)`-bit words (unbiased; expected
/// fewer than two draws).
#[inline]
pub fn uniform_mod(m: &Modulus, rng: &mut impl CryptoRng) -> u64 {
    let mask = if m.bits() == 64 {
        u64::MAX
    } else {
        (1u64 << m.bits()) - 1
    };
    loop {
        let v = rng.next_u64() & mask;
        if v < m.value() {
            return v;
        }
    }
}

/// A uniformly random polynomial, sampled directly in NTT representation (the NTT is a bijection,
/// so a uniform evaluation vector is a uniform polynomial).
pub fn uniform_poly(ctx: &Arc<Context>, rng: &mut impl CryptoRng) -> Poly<Ntt> {
    let n = ctx.n();
    let mut data = vec![0u64; n * ctx.num_limbs()];
    for (i, m) in ctx.moduli().iter().enumerate() {
        for v in data[i * n..(i + 1) * n].iter_mut() {
            *v = uniform_mod(m, rng);
        }
    }
    Poly::from_limbs(ctx, data).expect("uniform residues are reduced")
}

/// A uniform polynomial expanded deterministically from a 32-byte seed (for seed-compressed
/// keys and ciphertexts: store the seed, not the polynomial). Limb `i` is
/// [`uniform_limb_from_seed`]`(seed, i, ..)`, so any subset of limbs can be regenerated alone.
///
/// ```
/// use hetal_math::{Context, sampling::uniform_poly_from_seed};
/// let ctx = Context::new(16, &hetal_math::generate_ntt_primes(40, 16, 2).unwrap()).unwrap();
/// assert_eq!(uniform_poly_from_seed(&ctx, [7; 32]), uniform_poly_from_seed(&ctx, [7; 32]));
/// ```
pub fn uniform_poly_from_seed(ctx: &Arc<Context>, seed: [u8; 32]) -> Poly<Ntt> {
    use rayon::prelude::*;
    let n = ctx.n();
    let mut data = vec![0u64; n * ctx.num_limbs()];
    data.par_chunks_mut(n)
        .zip(ctx.moduli().par_iter())
        .enumerate()
        .for_each(|(i, (row, m))| uniform_limb_from_seed(&seed, i as u64, m, row));
    Poly::from_limbs(ctx, data).expect("uniform residues are reduced")
}

/// Fills `out` with values uniform modulo `m`, expanded from `seed` for stream `limb`:
/// AES-128 in counter mode (NIST SP 800-38A) under the key `seed[..16]`, counter block `i`
/// made of the little-endian words `seed[16..24] XOR limb` and `seed[24..32] XOR i`, each
/// 64-bit output word masked to `bits(m)` bits and rejected unless below `m` (unbiased; the
/// NTT-friendly primes of [`generate_ntt_primes`](crate::generate_ntt_primes) lie just below a
/// power of two, so almost nothing is rejected).
///
/// Every limb is its own stream, so a key switch can regenerate exactly the rows of a key's
/// uniform half it needs instead of keeping them in memory (~25 us per `2^16` values with
/// VAES and AVX-512).
///
/// ```
/// use hetal_math::{Modulus, sampling::uniform_limb_from_seed};
/// let m = Modulus::new(hetal_math::generate_ntt_primes(40, 16, 1).unwrap()[0]).unwrap();
/// let (mut a, mut b) = ([0u64; 16], [0u64; 16]);
/// uniform_limb_from_seed(&[3; 32], 0, &m, &mut a);
/// uniform_limb_from_seed(&[3; 32], 0, &m, &mut b);
/// assert_eq!(a, b);
/// assert!(a.iter().all(|&x| x < m.value()));
/// ```
pub fn uniform_limb_from_seed(seed: &[u8; 32], limb: u64, m: &Modulus, out: &mut [u64]) {
    let key: [u8; 16] = seed[..16].try_into().expect("16 bytes");
    let lo = u64::from_le_bytes(seed[16..24].try_into().expect("8 bytes")) ^ limb;
    let hi = u64::from_le_bytes(seed[24..32].try_into().expect("8 bytes"));
    let mask = if m.bits() == 64 {
        u64::MAX
    } else {
        (1u64 << m.bits()) - 1
    };
    let counter = crate::aes_ctr::Counter { lo, hi, first: 0 };
    crate::aes_ctr::fill_below(&key, counter, mask, m.value(), out);
}

/// An unbiased integer in `[0, bound)` by rejection.
fn uniform_below(bound: u64, rng: &mut impl CryptoRng) -> u64 {
    debug_assert!(bound > 0);
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let v = rng.next_u64();
        if v < zone {
            return v % bound;
        }
    }
}

/// `n` ternary coefficients, each uniform in `{-1, 0, 1}`.
pub fn ternary(n: usize, rng: &mut impl CryptoRng) -> Zeroizing<Vec<i64>> {
    let mut out = Zeroizing::new(vec![0i64; n]);
    for v in out.iter_mut() {
        *v = uniform_below(3, rng) as i64 - 1;
    }
    out
}

/// `n` ternary coefficients with exactly `h` non-zero entries, each `+-1` uniformly, at uniformly
/// random positions.
///
/// Selection sampling (Knuth's Algorithm S) over the indices in order: index `i` is taken with
/// probability `(h - taken) / (n - i)`, which gives every `h`-subset the same probability. The
/// decision and the write are branch-free ([`subtle`]) and every index is visited and written
/// once, so neither the branches nor the memory accesses depend on the secret positions (a
/// Fisher–Yates shuffle would swap at secret-dependent addresses). The draws' own rejection
/// loops depend only on the discarded random words.
///
/// # Errors
/// [`Error::InvalidArgument`] if `h > n`.
pub fn ternary_hamming(
    n: usize,
    h: usize,
    rng: &mut impl CryptoRng,
) -> Result<Zeroizing<Vec<i64>>> {
    use subtle::{ConditionallySelectable, ConstantTimeLess};
    if h > n {
        return Err(Error::InvalidArgument {
            op: "ternary_hamming",
            reason: "Hamming weight exceeds the degree",
        });
    }
    let mut out = Zeroizing::new(vec![0i64; n]);
    let mut taken = 0u64;
    for (i, v) in out.iter_mut().enumerate() {
        let r = uniform_below((n - i) as u64, rng);
        let take = r.ct_lt(&(h as u64 - taken));
        let sign = 2 * (rng.next_u64() & 1) as i64 - 1;
        *v = i64::conditional_select(&0, &sign, take);
        taken += u64::from(take.unwrap_u8());
    }
    Ok(out)
}

/// A uniform `f64` in `(0, 1]` with 53 random bits.
fn unit_f64(rng: &mut impl CryptoRng) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Largest `sigma` sampled in constant time by [`gaussian`] (its table has `2·floor(6σ) + 1`
/// entries, scanned in full for every sample).
pub const GAUSSIAN_CT_MAX_SIGMA: f64 = 32.0;

/// `n` samples of the discrete Gaussian with parameter `sigma` (`Pr[x] ∝ exp(-x²/2σ²)`) on
/// `|x| <= floor(6 sigma)` (19 for sigma = 3.2).
///
/// For `sigma <= GAUSSIAN_CT_MAX_SIGMA` (the error distribution of every parameter set) this is
/// a **constant-time** cumulative-table sampler: one 64-bit word per sample, compared with every
/// threshold of the table without branches ([`subtle`]), so the time taken does not depend on
/// the values drawn (which, in keys and ciphertexts, determine the secret). Larger `sigma`
/// (noise flooding) uses a Box–Muller sample rounded to the nearest integer, rejecting
/// `|x| > 6 sigma`; its floating-point timing is not guaranteed constant.
///
/// # Errors
/// [`Error::InvalidArgument`] unless `0 < sigma <= 2^20`.
pub fn gaussian(n: usize, sigma: f64, rng: &mut impl CryptoRng) -> Result<Zeroizing<Vec<i64>>> {
    if !(sigma > 0.0 && sigma <= (1u64 << 20) as f64) {
        return Err(Error::InvalidArgument {
            op: "gaussian",
            reason: "sigma must be in (0, 2^20]",
        });
    }
    if sigma <= GAUSSIAN_CT_MAX_SIGMA {
        return Ok(gaussian_cdt(n, sigma, rng));
    }
    let bound = (GAUSSIAN_TAIL_SIGMAS * sigma).floor();
    let mut out = Zeroizing::new(vec![0i64; n]);
    let mut k = 0;
    while k < n {
        let r = (-2.0 * unit_f64(rng).ln()).sqrt() * sigma;
        let theta = 2.0 * std::f64::consts::PI * unit_f64(rng);
        for z in [r * theta.cos(), r * theta.sin()] {
            let v = z.round();
            if k < n && v.abs() <= bound {
                out[k] = v as i64;
                k += 1;
            }
        }
    }
    Ok(out)
}

/// The thresholds `T_i = round(2^64 · Pr[x <= -B + i])`, `i < 2B`, of the discrete Gaussian on
/// `[-B, B]`, `B = floor(6σ)`: a word `u` maps to `-B + #{i : u >= T_i}`.
fn gaussian_table(sigma: f64) -> (i64, Vec<u64>) {
    let bound = (GAUSSIAN_TAIL_SIGMAS * sigma).floor() as i64;
    let weights: Vec<f64> = (-bound..=bound)
        .map(|x| (-((x * x) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = 0.0;
    let thresholds = weights[..weights.len() - 1]
        .iter()
        .map(|w| {
            cumulative += w / total;
            // 2^64·c, saturating just below 2^64 (f64 -> u64 casts saturate).
            (cumulative * 18_446_744_073_709_551_616.0) as u64
        })
        .collect();
    (bound, thresholds)
}

/// The constant-time sampler of [`gaussian`] (`sigma <= GAUSSIAN_CT_MAX_SIGMA`).
fn gaussian_cdt(n: usize, sigma: f64, rng: &mut impl CryptoRng) -> Zeroizing<Vec<i64>> {
    use subtle::ConstantTimeLess;
    let (bound, thresholds) = gaussian_table(sigma);
    let mut out = Zeroizing::new(vec![0i64; n]);
    for v in out.iter_mut() {
        let u = rng.next_u64();
        let below: i64 = thresholds
            .iter()
            .map(|t| i64::from((!u.ct_lt(t)).unwrap_u8()))
            .sum();
        *v = below - bound;
    }
    out
}

/// A polynomial with ternary coefficients (see [`ternary`]); temporary coefficients are wiped.
pub fn ternary_poly(ctx: &Arc<Context>, rng: &mut impl CryptoRng) -> Poly<Coeff> {
    let c = ternary(ctx.n(), rng);
    Poly::from_i64(ctx, &c).expect("length is N")
}

/// A polynomial with discrete Gaussian coefficients (see [`gaussian`]).
///
/// # Errors
/// As [`gaussian`].
pub fn gaussian_poly(
    ctx: &Arc<Context>,
    sigma: f64,
    rng: &mut impl CryptoRng,
) -> Result<Poly<Coeff>> {
    let c = gaussian(ctx.n(), sigma, rng)?;
    Poly::from_i64(ctx, &c)
}
