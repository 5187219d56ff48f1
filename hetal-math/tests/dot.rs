//! The dot-product kernels (scalar and AVX-512 IFMA) against an exact `u128` oracle that
//! reduces every product with `%` (independent of the Barrett/Shoup code under test).

use hetal_math::dot::{Kernel, dot_const_with, dot_var_with, dot_var2_with, mul_scalar_add2_with};
use hetal_math::{Modulus, generate_ntt_primes};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn oracle_const(p: u64, rows: &[Vec<u64>], w: &[u64], c: usize) -> u64 {
    rows.iter().zip(w).fold(0u64, |acc, (r, &wi)| {
        ((acc as u128 + (r[c] as u128 * wi as u128) % p as u128) % p as u128) as u64
    })
}

fn oracle_var(p: u64, a: &[Vec<u64>], b: &[Vec<u64>], c: usize) -> u64 {
    a.iter().zip(b).fold(0u64, |acc, (x, y)| {
        ((acc as u128 + (x[c] as u128 * y[c] as u128) % p as u128) % p as u128) as u64
    })
}

fn kernels() -> Vec<Kernel> {
    [Kernel::Scalar, Kernel::Ifma]
        .into_iter()
        .filter(|k| k.is_available())
        .collect()
}

/// Values below `bound` that favour the extremes (0, bound - 1) the lazy bounds are about.
fn sample(rng: &mut ChaCha20Rng, bound: u64, extreme: bool) -> u64 {
    if extreme && rng.next_u32() & 1 == 0 {
        bound - 1 - (rng.next_u64() % 2).min(bound - 1)
    } else {
        rng.next_u64() % bound
    }
}

fn prime(bits: u32, idx: usize) -> Modulus {
    let ps = generate_ntt_primes(bits, 16, idx + 1).unwrap();
    Modulus::new(ps[idx]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn dot_const_matches_oracle(
        p_bits in prop::sample::select(vec![20u32, 31, 40, 45, 49, 50, 51, 55, 60, 61]),
        terms in 1usize..40,
        n in 1usize..70,
        row_bits in prop::collection::vec(prop::sample::select(vec![1u32, 30, 40, 50, 52, 53, 60, 61, 62]), 40),
        extreme in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let m = prime(p_bits, (seed % 3) as usize);
        let p = m.value();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let bits = &row_bits[..terms];
        let rows: Vec<Vec<u64>> = bits
            .iter()
            .map(|&b| (0..n).map(|_| sample(&mut rng, 1u64 << b, extreme)).collect())
            .collect();
        let w: Vec<u64> = (0..terms).map(|_| sample(&mut rng, p, extreme)).collect();
        let refs: Vec<&[u64]> = rows.iter().map(|r| r.as_slice()).collect();
        for k in kernels() {
            let mut out = vec![u64::MAX; n];
            dot_const_with(k, &m, &refs, bits, &w, &mut out);
            for c in 0..n {
                prop_assert_eq!(out[c], oracle_const(p, &rows, &w, c), "{:?} c={}", k, c);
            }
        }
    }

    #[test]
    fn dot_var_matches_oracle(
        p_bits in prop::sample::select(vec![20u32, 31, 40, 45, 49, 50, 51, 55, 60, 61]),
        terms in 1usize..40,
        n in 1usize..70,
        extreme in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let m = prime(p_bits, (seed % 3) as usize);
        let p = m.value();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut rows = |_| -> Vec<Vec<u64>> {
            (0..terms)
                .map(|_| (0..n).map(|_| sample(&mut rng, p, extreme)).collect())
                .collect()
        };
        let (a, b, d) = (rows(0), rows(1), rows(2));
        let ar: Vec<&[u64]> = a.iter().map(|r| r.as_slice()).collect();
        let br: Vec<&[u64]> = b.iter().map(|r| r.as_slice()).collect();
        let dr: Vec<&[u64]> = d.iter().map(|r| r.as_slice()).collect();
        for k in kernels() {
            let mut out = vec![u64::MAX; n];
            dot_var_with(k, &m, &ar, &br, &mut out);
            let mut out0 = vec![u64::MAX; n];
            let mut out1 = vec![u64::MAX; n];
            dot_var2_with(k, &m, &ar, &br, &dr, &mut out0, &mut out1);
            for c in 0..n {
                let want = oracle_var(p, &a, &b, c);
                prop_assert_eq!(out[c], want, "{:?} c={}", k, c);
                prop_assert_eq!(out0[c], want, "{:?} c={}", k, c);
                prop_assert_eq!(out1[c], oracle_var(p, &a, &d, c), "{:?} c={}", k, c);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mul_scalar_add2_matches_oracle(
        p_bits in prop::sample::select(vec![20u32, 31, 40, 45, 49, 50, 51, 55, 60, 61]),
        n in 1usize..70,
        extreme in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let m = prime(p_bits, (seed % 3) as usize);
        let p = m.value();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut row = || -> Vec<u64> { (0..n).map(|_| sample(&mut rng, p, extreme)).collect() };
        let (acc, a, b) = (row(), row(), row());
        let w = sample(&mut rng, p, extreme);
        for k in kernels() {
            let mut out = acc.clone();
            mul_scalar_add2_with(k, &m, &mut out, &a, w, &b);
            for c in 0..n {
                let want = (acc[c] as u128 + a[c] as u128 * w as u128 + b[c] as u128) % p as u128;
                prop_assert_eq!(out[c], want as u64, "{:?} c={}", k, c);
            }
        }
    }
}

/// The worst case for every lazy bound: all operands at their maximum, many terms (several
/// chunks on the IFMA path), every prime size the chains use.
#[test]
fn dot_extremes() {
    for bits in [30u32, 40, 48, 49, 50, 60, 61] {
        let m = prime(bits, 0);
        let p = m.value();
        for terms in [1usize, 2, 3, 5, 11, 16, 33, 64, 100] {
            let n = 40;
            for rb in [p.ilog2() + 1, 52, 62] {
                let rows: Vec<Vec<u64>> = (0..terms).map(|_| vec![(1u64 << rb) - 1; n]).collect();
                let w = vec![p - 1; terms];
                let refs: Vec<&[u64]> = rows.iter().map(|r| r.as_slice()).collect();
                let bits_v = vec![rb; terms];
                for k in kernels() {
                    let mut out = vec![0u64; n];
                    dot_const_with(k, &m, &refs, &bits_v, &w, &mut out);
                    assert!(
                        out.iter().all(|&o| o == oracle_const(p, &rows, &w, 0)),
                        "{k:?} {bits} {terms} {rb}"
                    );
                }
            }
            let rows: Vec<Vec<u64>> = (0..terms).map(|_| vec![p - 1; n]).collect();
            let refs: Vec<&[u64]> = rows.iter().map(|r| r.as_slice()).collect();
            for k in kernels() {
                let mut out = vec![0u64; n];
                dot_var_with(k, &m, &refs, &refs, &mut out);
                assert!(
                    out.iter().all(|&o| o == oracle_var(p, &rows, &rows, 0)),
                    "{k:?} {bits} {terms}"
                );
            }
        }
    }
}

#[test]
fn ifma_is_detected_on_capable_cpus() {
    // Not an assertion about this machine: only that detection, availability and the
    // `HETAL_DOT_KERNEL=scalar` override agree.
    let forced_scalar = std::env::var("HETAL_DOT_KERNEL").is_ok_and(|v| v == "scalar");
    assert_eq!(
        Kernel::detect() == Kernel::Ifma,
        Kernel::Ifma.is_available() && !forced_scalar
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `Poly::scalar_dot` over a prefix of polynomials with different limb counts (one chain of
    /// mixed prime sizes) against the `u128` oracle, limb by limb.
    #[test]
    fn poly_scalar_dot_matches_oracle(
        terms in 1usize..6,
        len in 1usize..4,
        seed in any::<u64>(),
    ) {
        use hetal_math::{Coeff, Context, Poly};
        let mut primes = generate_ntt_primes(40, 16, 1).unwrap();
        primes.extend(generate_ntt_primes(60, 16, 1).unwrap());
        primes.extend(generate_ntt_primes(50, 16, 2).unwrap());
        let ctx = Context::new(16, &primes).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let polys: Vec<Poly<Coeff>> = (0..terms)
            .map(|t| {
                let limbs = len + (t % (primes.len() - len + 1));
                let sub = ctx.prefix(limbs).unwrap();
                let data = (0..limbs)
                    .flat_map(|i| {
                        let p = primes[i];
                        (0..16).map(|_| sample(&mut rng, p, true)).collect::<Vec<_>>()
                    })
                    .collect();
                Poly::from_limbs(&sub, data).unwrap()
            })
            .collect();
        let scalars: Vec<Vec<u64>> = (0..terms)
            .map(|_| (0..len).map(|i| sample(&mut rng, primes[i], true)).collect())
            .collect();
        let args: Vec<(&Poly<Coeff>, &[u64])> =
            polys.iter().zip(&scalars).map(|(p, w)| (p, w.as_slice())).collect();
        let out = Poly::scalar_dot(&args, len).unwrap();
        prop_assert_eq!(out.num_limbs(), len);
        for (i, &p) in primes.iter().enumerate().take(len) {
            let rows: Vec<Vec<u64>> = polys.iter().map(|q| q.limb(i).to_vec()).collect();
            let w: Vec<u64> = scalars.iter().map(|s| s[i]).collect();
            for c in 0..16 {
                prop_assert_eq!(out.limb(i)[c], oracle_const(p, &rows, &w, c));
            }
        }
        // Malformed calls are errors, not panics.
        prop_assert!(Poly::scalar_dot(&args, 0).is_err());
        prop_assert!(Poly::<Coeff>::scalar_dot(&[], 1).is_err());
        let too_long = Poly::scalar_dot(&args, primes.len() + 1);
        prop_assert!(too_long.is_err());
    }
}
