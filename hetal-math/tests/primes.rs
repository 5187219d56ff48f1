//! Prime generation and closest-prime search.

use hetal_math::{Error, closest_ntt_prime, closest_ntt_prime_f64, generate_ntt_primes, is_prime};
use proptest::prelude::*;

#[test]
fn generated_primes_are_distinct_ntt_friendly_and_deterministic() {
    for (bits, n, count) in [
        (30u32, 1usize << 12, 5usize),
        (40, 1 << 16, 10),
        (50, 1 << 16, 10),
        (61, 1 << 16, 10),
        (20, 16, 3),
    ] {
        let ps = generate_ntt_primes(bits, n, count).unwrap();
        assert_eq!(ps, generate_ntt_primes(bits, n, count).unwrap());
        assert_eq!(ps.len(), count);
        for (i, &p) in ps.iter().enumerate() {
            assert!(is_prime(p));
            assert_eq!(p % (2 * n as u64), 1);
            assert_eq!(64 - p.leading_zeros(), bits);
            assert!(!ps[..i].contains(&p));
        }
    }
}

#[test]
fn prime_generation_errors() {
    assert!(matches!(
        generate_ntt_primes(62, 1 << 10, 1),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        generate_ntt_primes(40, 1000, 1),
        Err(Error::InvalidDegree { .. })
    ));
    assert!(matches!(
        generate_ntt_primes(40, 8, 1),
        Err(Error::InvalidDegree { .. })
    ));
    assert!(matches!(
        generate_ntt_primes(14, 1 << 12, 1),
        Err(Error::InvalidArgument { .. })
    ));
    // Only a handful of 16-bit primes are 1 mod 2^13.
    assert!(matches!(
        generate_ntt_primes(16, 1 << 12, 100),
        Err(Error::NotEnoughPrimes { .. })
    ));
}

fn brute_closest(target: u64, n: usize, exclude: &[u64]) -> u64 {
    let two_n = 2 * n as u64;
    let mut best: Option<u64> = None;
    let lo = target.saturating_sub(1 << 24);
    let mut c = lo - lo % two_n + 1;
    while c < target + (1 << 24) {
        if c > 2 && is_prime(c) && !exclude.contains(&c) {
            let better = match best {
                None => true,
                Some(b) => c.abs_diff(target) < b.abs_diff(target),
            };
            if better {
                best = Some(c);
            }
        }
        c += two_n;
    }
    best.unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn closest_prime_is_closest(bits in 30u32..60, frac in 0.0f64..1.0, nexcl in 0usize..3) {
        let n = 1usize << 10;
        let target = ((1u64 << bits) as f64 * (1.0 + frac)) as u64;
        let mut exclude = Vec::new();
        for _ in 0..nexcl {
            exclude.push(closest_ntt_prime(target, n, &exclude).unwrap());
        }
        let p = closest_ntt_prime(target, n, &exclude).unwrap();
        prop_assert!(is_prime(p));
        prop_assert_eq!(p % (2 * n as u64), 1);
        prop_assert!(!exclude.contains(&p));
        prop_assert_eq!(p.abs_diff(target), brute_closest(target, n, &exclude).abs_diff(target));
        prop_assert_eq!(closest_ntt_prime_f64(target as f64, n, &exclude).unwrap().abs_diff(target) <= p.abs_diff(target) + 2 * n as u64, true);
    }
}

#[test]
fn closest_prime_errors() {
    assert!(closest_ntt_prime_f64(f64::NAN, 1 << 10, &[]).is_err());
    assert!(closest_ntt_prime_f64(1e30, 1 << 10, &[]).is_err());
    assert!(closest_ntt_prime(1 << 62, 1 << 10, &[]).is_err());
    assert!(closest_ntt_prime(5, 1 << 10, &[]).is_err());
    let p = closest_ntt_prime_f64(2f64.powf(40.5), 1 << 16, &[]).unwrap();
    assert!((p as f64 / 2f64.powf(40.5) - 1.0).abs() < 1e-6);
}
