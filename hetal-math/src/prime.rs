//! Primality testing and NTT-friendly prime generation.
//!
//! A negacyclic NTT of size `N` modulo `p` needs a primitive `2N`-th root of unity, i.e.
//! `p = 1 mod 2N`. Full-RNS CKKS (Cheon-Han-Kim-Kim-Song, SAC 2018) uses chains of such primes;
//! the CKKS layer picks them adaptively with [`closest_ntt_prime`] so that the scale after each
//! rescale, `Δ_{l-1} = Δ_l^2 / q_l`, stays near `2^logΔ`.

use crate::error::{Error, Result};
use crate::modulus::MAX_MODULUS_BITS;

fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    (a as u128 * b as u128 % m as u128) as u64
}

fn pow_mod(mut a: u64, mut e: u64, m: u64) -> u64 {
    let mut r = 1u64 % m;
    a %= m;
    while e > 0 {
        if e & 1 == 1 {
            r = mul_mod(r, a, m);
        }
        a = mul_mod(a, a, m);
        e >>= 1;
    }
    r
}

/// Deterministic primality test for all `u64` (Miller-Rabin with the first twelve prime bases,
/// which is exact below 3.3 * 10^24).
pub fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for &b in &BASES {
        if n.is_multiple_of(b) {
            return n == b;
        }
    }
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    'outer: for &a in &BASES {
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul_mod(x, x, n);
            if x == n - 1 {
                continue 'outer;
            }
        }
        return false;
    }
    true
}

/// Checks that `n` is a power of two with `16 <= n <= 2^17` (the range the NTT backends support
/// and hetal uses).
pub fn check_degree(n: usize) -> Result<()> {
    if !n.is_power_of_two() {
        return Err(Error::InvalidDegree {
            n,
            reason: "not a power of two",
        });
    }
    if n < 16 {
        return Err(Error::InvalidDegree {
            n,
            reason: "below the minimum of 16",
        });
    }
    if n > 1 << 17 {
        return Err(Error::InvalidDegree {
            n,
            reason: "above the maximum of 2^17",
        });
    }
    Ok(())
}

/// Returns `count` distinct primes `p = 1 mod 2n` with exactly `bits` bits
/// (`2^(bits-1) < p < 2^bits`), largest first. Deterministic: the search walks down from `2^bits`.
///
/// # Errors
/// [`Error::InvalidDegree`] for a bad `n`; [`Error::InvalidArgument`] if `bits` is outside
/// `[log2(2n) + 2, 61]`; [`Error::NotEnoughPrimes`] if the range holds fewer than `count` primes.
///
/// ```
/// let ps = hetal_math::generate_ntt_primes(50, 1 << 12, 3).unwrap();
/// assert_eq!(ps.len(), 3);
/// assert!(ps.iter().all(|p| p % (1 << 13) == 1 && p >> 49 == 1));
/// ```
pub fn generate_ntt_primes(bits: u32, n: usize, count: usize) -> Result<Vec<u64>> {
    check_degree(n)?;
    let two_n = 2 * n as u64;
    if bits > MAX_MODULUS_BITS || bits < two_n.trailing_zeros() + 2 {
        return Err(Error::InvalidArgument {
            op: "generate_ntt_primes",
            reason: "bits must be in [log2(2N) + 2, 61]",
        });
    }
    let lo = 1u64 << (bits - 1);
    let mut out = Vec::with_capacity(count);
    // Largest candidate below 2^bits that is 1 mod 2N.
    let mut c = (1u64 << bits) - two_n + 1;
    while out.len() < count && c > lo {
        if is_prime(c) {
            out.push(c);
        }
        c -= two_n;
    }
    if out.len() < count {
        return Err(Error::NotEnoughPrimes {
            bits,
            n,
            wanted: count,
            found: out.len(),
        });
    }
    Ok(out)
}

/// The NTT-friendly prime (`p = 1 mod 2n`, `p < 2^61`) closest to `target`, skipping every prime in
/// `exclude`. Deterministic (ties between two equally close primes are broken by a fixed rule).
///
/// # Errors
/// [`Error::InvalidDegree`] for a bad `n`, [`Error::NoPrimeNearTarget`] if `target` is outside
/// `[2n, 2^61)` or no admissible prime is found within `2^20` steps of `2n` on either side.
///
/// ```
/// let n = 1 << 12;
/// let p = hetal_math::closest_ntt_prime(1 << 40, n, &[]).unwrap();
/// assert_eq!(p % (2 * n as u64), 1);
/// let q = hetal_math::closest_ntt_prime(1 << 40, n, &[p]).unwrap();
/// assert_ne!(p, q);
/// ```
pub fn closest_ntt_prime(target: u64, n: usize, exclude: &[u64]) -> Result<u64> {
    check_degree(n)?;
    let two_n = 2 * n as u64;
    let max = 1u64 << MAX_MODULUS_BITS;
    if target < two_n || target >= max {
        return Err(Error::NoPrimeNearTarget {
            target: target as f64,
            n,
            reason: "target must be in [2N, 2^61)",
        });
    }
    // Candidates are 1 + k*2N; start from the two around the target.
    let k0 = (target - 1) / two_n;
    let below0 = 1 + k0 * two_n; // <= target
    let ok = |c: u64| c > 2 && c < max && is_prime(c) && !exclude.contains(&c);
    for step in 0..(1u64 << 20) {
        let below = below0.checked_sub(step * two_n);
        let above = below0 + (step + 1) * two_n;
        let db = below.map(|b| target - b);
        let da = above - target;
        // Examine the nearer candidate first so that the first hit is the closest prime.
        let (first, second) = match db {
            Some(d) if d <= da => (below, Some(above)),
            _ => (Some(above), below),
        };
        // The two candidates of this step may be farther than next step's nearer one only when
        // distances differ by more than 2N, which cannot happen (they straddle the target).
        let mut best: Option<u64> = None;
        for c in [first, second].into_iter().flatten() {
            if ok(c) {
                let better = match best {
                    None => true,
                    Some(b) => c.abs_diff(target) < b.abs_diff(target),
                };
                if better {
                    best = Some(c);
                }
            }
        }
        if let Some(b) = best {
            return Ok(b);
        }
    }
    Err(Error::NoPrimeNearTarget {
        target: target as f64,
        n,
        reason: "search limit reached",
    })
}

/// [`closest_ntt_prime`] for a floating-point target (e.g. `2^40.5` or `Δ^2 / Δ_target`).
///
/// # Errors
/// As [`closest_ntt_prime`]; also if `target` is not finite.
pub fn closest_ntt_prime_f64(target: f64, n: usize, exclude: &[u64]) -> Result<u64> {
    if !target.is_finite() || target < 1.0 || target >= (1u64 << MAX_MODULUS_BITS) as f64 {
        return Err(Error::NoPrimeNearTarget {
            target,
            n,
            reason: "target must be finite and in [2N, 2^61)",
        });
    }
    closest_ntt_prime(target.round() as u64, n, exclude)
}
