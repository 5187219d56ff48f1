//! Modular arithmetic against `u128` oracles, including range edges.

use hetal_math::{Error, Modulus, generate_ntt_primes, is_prime};
use proptest::prelude::*;

fn moduli() -> Vec<Modulus> {
    let mut ps = vec![3u64, 65537, (1 << 31) - 1, (1u64 << 61) - 1];
    for bits in [30u32, 40, 50, 52, 55, 60, 61] {
        ps.extend(generate_ntt_primes(bits, 1 << 12, 2).unwrap());
    }
    ps.into_iter().map(|p| Modulus::new(p).unwrap()).collect()
}

fn edge_values(p: u64) -> Vec<u64> {
    vec![0, 1, 2, p / 2, p - 2, p - 1]
}

#[test]
fn edges_against_u128() {
    for m in moduli() {
        let p = m.value();
        let big = [0u64, 1, p - 1, p, p + 1, 2 * p - 1, u64::MAX - 1, u64::MAX];
        for &a in &big {
            assert_eq!(m.reduce(a), a % p, "reduce {a} mod {p}");
        }
        let wide = [
            0u128,
            (p as u128) * (p as u128) - 1,
            u128::MAX,
            u128::MAX - 1,
            1u128 << 127,
        ];
        for &a in &wide {
            assert_eq!(
                m.reduce_u128(a) as u128,
                a % p as u128,
                "reduce_u128 {a} mod {p}"
            );
            assert!(m.reduce_u128_lazy(a) < 2 * p);
        }
        for &a in &edge_values(p) {
            for &b in &edge_values(p) {
                let (a1, b1) = (a as u128, b as u128);
                let p1 = p as u128;
                assert_eq!(m.add(a, b) as u128, (a1 + b1) % p1);
                assert_eq!(m.sub(a, b) as u128, (a1 + p1 - b1) % p1);
                assert_eq!(m.mul(a, b) as u128, a1 * b1 % p1);
                assert_eq!(m.mul_reduced(a, b) as u128, a1 * b1 % p1);
                let mut z = [a];
                m.mul_add_assign_slice(&mut z, &[p - 1], &[b]);
                assert_eq!(z[0] as u128, (a1 + (p1 - 1) * b1) % p1);
                let ws = m.shoup(b);
                assert_eq!(m.mul_shoup(a, b, ws) as u128, a1 * b1 % p1);
                assert!(m.mul_shoup_lazy(u64::MAX, b, ws) < 2 * p);
                assert_eq!(
                    m.mul_shoup(u64::MAX, b, ws) as u128,
                    (u64::MAX as u128) * b1 % p1
                );
            }
            assert_eq!((m.neg(a) as u128 + a as u128) % p as u128, 0);
        }
    }
}

#[test]
fn invalid_moduli_are_errors() {
    for p in [
        0u64,
        1,
        2,
        4,
        15,
        1 << 61,
        (1u64 << 61) + 1,
        u64::MAX,
        1_000_000,
    ] {
        assert!(
            matches!(Modulus::new(p), Err(Error::InvalidModulus { .. })),
            "{p}"
        );
    }
}

#[test]
fn primality_matches_trial_division() {
    fn trial(n: u64) -> bool {
        n >= 2
            && (2..)
                .take_while(|d| d * d <= n)
                .all(|d| !n.is_multiple_of(d))
    }
    for n in 0..20_000u64 {
        assert_eq!(is_prime(n), trial(n), "{n}");
    }
    // Strong pseudoprimes to several bases and Carmichael numbers.
    for n in [561u64, 1105, 3_215_031_751, 3_825_123_056_546_413_051] {
        assert!(!is_prime(n), "{n}");
    }
    assert!(is_prime((1u64 << 61) - 1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn scalar_ops_match_u128(idx in 0usize..18, a in any::<u64>(), b in any::<u64>(), w in any::<u128>()) {
        let ms = moduli();
        let m = ms[idx % ms.len()];
        let p = m.value();
        let p1 = p as u128;
        let (ar, br) = (a % p, b % p);
        prop_assert_eq!(m.reduce(a), a % p);
        prop_assert_eq!(m.reduce_u128(w) as u128, w % p1);
        prop_assert_eq!(m.add(ar, br) as u128, (ar as u128 + br as u128) % p1);
        prop_assert_eq!(m.sub(ar, br) as u128, (ar as u128 + p1 - br as u128) % p1);
        prop_assert_eq!(m.neg(ar) as u128, (p1 - ar as u128) % p1);
        prop_assert_eq!(m.mul(a, b) as u128, a as u128 * b as u128 % p1);
        prop_assert_eq!(m.mul_reduced(ar, br) as u128, ar as u128 * br as u128 % p1);
        let lazy = m.mul_lazy(ar, br);
        prop_assert!(lazy < 2 * p);
        prop_assert_eq!(lazy % p, m.mul(ar, br));
        let ws = m.shoup(br);
        let sl = m.mul_shoup_lazy(a, br, ws);
        prop_assert!(sl < 2 * p);
        prop_assert_eq!(sl as u128 % p1, a as u128 * br as u128 % p1);
        prop_assert_eq!(m.mul_shoup(a, br, ws) as u128, a as u128 * br as u128 % p1);
        prop_assert_eq!(m.pow(ar, 5) as u128, (0..5).fold(1u128, |acc, _| acc * ar as u128 % p1));
        if ar != 0 {
            prop_assert_eq!(m.mul(ar, m.inv(ar).unwrap()), 1);
        } else {
            prop_assert!(m.inv(ar).is_none());
        }
        let s = (a as i64).wrapping_shr(3);
        prop_assert_eq!(m.reduce_i64(s) as i128, (s as i128).rem_euclid(p as i128));
        let c = m.center(ar);
        prop_assert!(c.unsigned_abs() <= p / 2);
        prop_assert_eq!((c as i128).rem_euclid(p as i128), ar as i128);
    }

    #[test]
    fn slice_kernels_match_u128(idx in 0usize..18, seed in prop::collection::vec(any::<u64>(), 3 * 37), w in any::<u64>()) {
        let ms = moduli();
        let m = ms[idx % ms.len()];
        let p = m.value();
        let p1 = p as u128;
        let a: Vec<u64> = seed[..37].iter().map(|v| v % p).collect();
        let b: Vec<u64> = seed[37..74].iter().map(|v| v % p).collect();
        let c: Vec<u64> = seed[74..].iter().map(|v| v % p).collect();
        let w = w % p;
        let mut x = a.clone();
        m.add_assign_slice(&mut x, &b);
        for i in 0..37 { prop_assert_eq!(x[i] as u128, (a[i] as u128 + b[i] as u128) % p1); }
        let mut x = a.clone();
        m.sub_assign_slice(&mut x, &b);
        for i in 0..37 { prop_assert_eq!(x[i] as u128, (a[i] as u128 + p1 - b[i] as u128) % p1); }
        let mut x = a.clone();
        m.neg_assign_slice(&mut x);
        for i in 0..37 { prop_assert_eq!(x[i] as u128, (p1 - a[i] as u128) % p1); }
        let mut x = a.clone();
        m.mul_assign_slice(&mut x, &b);
        for i in 0..37 { prop_assert_eq!(x[i] as u128, a[i] as u128 * b[i] as u128 % p1); }
        let mut x = c.clone();
        m.mul_add_assign_slice(&mut x, &a, &b);
        for i in 0..37 { prop_assert_eq!(x[i] as u128, (c[i] as u128 + a[i] as u128 * b[i] as u128) % p1); }
        let mut x = a.clone();
        m.mul_scalar_assign_slice(&mut x, w);
        for i in 0..37 { prop_assert_eq!(x[i] as u128, a[i] as u128 * w as u128 % p1); }
        let mut x = c.clone();
        m.mul_scalar_add_assign_slice(&mut x, &a, w);
        for i in 0..37 { prop_assert_eq!(x[i] as u128, (c[i] as u128 + a[i] as u128 * w as u128) % p1); }
        let mut x = seed[..37].to_vec();
        m.reduce_slice(&mut x);
        for i in 0..37 { prop_assert_eq!(x[i], seed[i] % p); }
    }
}
