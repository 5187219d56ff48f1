//! Samplers driven by a caller-supplied cryptographic RNG.
//!
//! All samplers take `&mut impl CryptoRng` (in rand_core 0.9 `CryptoRng: RngCore`), e.g.
//! `rand_chacha::ChaCha20Rng`, so results are reproducible from a seed. Buffers holding secret-derived values are returned in
//! [`Zeroizing`] wrappers and temporary copies are wiped.

use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, SeedableRng};
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

/// A uniform polynomial expanded deterministically from a 32-byte seed with ChaCha20
/// (for seed-compressed keys and ciphertexts: store the seed, not the polynomial).
///
/// ```
/// use hetal_math::{Context, sampling::uniform_poly_from_seed};
/// let ctx = Context::new(16, &hetal_math::generate_ntt_primes(40, 16, 2).unwrap()).unwrap();
/// assert_eq!(uniform_poly_from_seed(&ctx, [7; 32]), uniform_poly_from_seed(&ctx, [7; 32]));
/// ```
pub fn uniform_poly_from_seed(ctx: &Arc<Context>, seed: [u8; 32]) -> Poly<Ntt> {
    let mut rng = ChaCha20Rng::from_seed(seed);
    uniform_poly(ctx, &mut rng)
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
/// random positions (partial Fisher-Yates).
///
/// # Errors
/// [`Error::InvalidArgument`] if `h > n`.
pub fn ternary_hamming(
    n: usize,
    h: usize,
    rng: &mut impl CryptoRng,
) -> Result<Zeroizing<Vec<i64>>> {
    if h > n {
        return Err(Error::InvalidArgument {
            op: "ternary_hamming",
            reason: "Hamming weight exceeds the degree",
        });
    }
    let mut positions = Zeroizing::new((0..n).collect::<Vec<usize>>());
    let mut out = Zeroizing::new(vec![0i64; n]);
    for k in 0..h {
        let j = k + uniform_below((n - k) as u64, rng) as usize;
        positions.swap(k, j);
        out[positions[k]] = if rng.next_u64() & 1 == 1 { 1 } else { -1 };
    }
    Ok(out)
}

/// A uniform `f64` in `(0, 1]` with 53 random bits.
fn unit_f64(rng: &mut impl CryptoRng) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `n` samples of the rounded Gaussian with standard deviation `sigma` (Box-Muller, rounded to
/// the nearest integer), rejecting samples with `|x| > GAUSSIAN_TAIL_SIGMAS * sigma`; every
/// output therefore satisfies `|x| <= floor(6 sigma)` (19 for sigma = 3.2).
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
