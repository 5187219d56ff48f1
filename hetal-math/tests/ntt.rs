//! NTT against schoolbook negacyclic convolution, ordering, ranges, automorphisms, monomials.

use std::sync::Arc;

use hetal_math::{Coeff, Context, Error, Modulus, NttPlan, Poly, bit_reverse, generate_ntt_primes};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn schoolbook(m: &Modulus, a: &[u64], b: &[u64]) -> Vec<u64> {
    let n = a.len();
    let mut out = vec![0u128; n];
    let p = m.value() as u128;
    for i in 0..n {
        for j in 0..n {
            let prod = a[i] as u128 * b[j] as u128 % p;
            let k = i + j;
            if k < n {
                out[k] = (out[k] + prod) % p;
            } else {
                out[k - n] = (out[k - n] + p - prod) % p;
            }
        }
    }
    out.into_iter().map(|v| v as u64).collect()
}

fn random_vec(rng: &mut ChaCha20Rng, n: usize, p: u64) -> Vec<u64> {
    (0..n).map(|_| rng.next_u64() % p).collect()
}

const PRIME_BITS: [u32; 7] = [30, 40, 49, 50, 52, 60, 61];

#[test]
fn products_match_schoolbook_and_roundtrip() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for log_n in [4u32, 6, 8, 10] {
        let n = 1usize << log_n;
        for bits in PRIME_BITS {
            let p = generate_ntt_primes(bits, n, 1).unwrap()[0];
            let plan = NttPlan::get(n, p).unwrap();
            let m = *plan.modulus();
            let a = random_vec(&mut rng, n, p);
            let b = random_vec(&mut rng, n, p);
            let (mut fa, mut fb) = (a.clone(), b.clone());
            plan.forward(&mut fa);
            plan.forward(&mut fb);
            assert!(
                fa.iter().all(|&v| v < p),
                "fwd output not reduced (n={n}, bits={bits})"
            );
            let mut back = fa.clone();
            plan.inverse(&mut back);
            assert_eq!(back, a, "roundtrip n={n} bits={bits}");
            m.mul_assign_slice(&mut fa, &fb);
            plan.inverse(&mut fa);
            assert!(fa.iter().all(|&v| v < p), "inv output not reduced");
            assert_eq!(fa, schoolbook(&m, &a, &b), "product n={n} bits={bits}");
        }
    }
}

#[test]
fn edge_inputs_stay_reduced() {
    for bits in PRIME_BITS {
        let n = 1 << 10;
        let p = generate_ntt_primes(bits, n, 1).unwrap()[0];
        let plan = NttPlan::get(n, p).unwrap();
        for fill in [0, 1, p - 1, p / 2] {
            let mut a = vec![fill; n];
            plan.forward(&mut a);
            assert!(a.iter().all(|&v| v < p));
            plan.inverse(&mut a);
            assert!(a.iter().all(|&v| v == fill));
        }
    }
}

/// fwd slot j holds a(psi^(2*bitrev(j)+1)) with psi a primitive 2N-th root of unity.
#[test]
fn forward_order_is_bit_reversed_odd_powers() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for log_n in [4u32, 5, 7] {
        let n = 1usize << log_n;
        for bits in [40u32, 60] {
            let p = generate_ntt_primes(bits, n, 1).unwrap()[0];
            let plan = NttPlan::get(n, p).unwrap();
            let m = *plan.modulus();
            let psi = plan.psi();
            assert_eq!(m.pow(psi, n as u64), p - 1, "psi^N = -1");
            let a = random_vec(&mut rng, n, p);
            let mut fa = a.clone();
            plan.forward(&mut fa);
            for j in 0..n {
                let x = m.pow(psi, (2 * bit_reverse(j, log_n) + 1) as u64);
                let eval = a.iter().rev().fold(0u64, |acc, &c| m.add(m.mul(acc, x), c));
                assert_eq!(fa[j], eval, "slot {j}");
            }
        }
    }
}

#[test]
fn plans_are_cached_and_errors_reported() {
    let p = generate_ntt_primes(50, 1 << 10, 1).unwrap()[0];
    assert!(Arc::ptr_eq(
        &NttPlan::get(1 << 10, p).unwrap(),
        &NttPlan::get(1 << 10, p).unwrap()
    ));
    // A prime that is 1 mod 2^11 but not 1 mod 2^12 cannot serve N = 2^11.
    let q = *generate_ntt_primes(50, 1 << 10, 20)
        .unwrap()
        .iter()
        .find(|&&q| (q - 1) >> 11 & 1 == 1)
        .unwrap();
    assert!(matches!(
        NttPlan::get(1 << 11, q),
        Err(Error::NotNttFriendly { .. })
    ));
    assert!(matches!(
        NttPlan::get(8, 17),
        Err(Error::InvalidDegree { .. })
    ));
    assert!(matches!(
        NttPlan::get(48, p),
        Err(Error::InvalidDegree { .. })
    ));
    assert!(matches!(
        NttPlan::get(16, 33),
        Err(Error::InvalidModulus { .. })
    ));
}

fn ctx(n: usize, bits: u32, k: usize) -> Arc<Context> {
    Context::new(n, &generate_ntt_primes(bits, n, k).unwrap()).unwrap()
}

/// NTT-domain automorphisms equal coefficient-domain X -> X^g for all odd g.
#[test]
fn automorphisms_agree_for_all_odd_g() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    for n in [16usize, 32, 64] {
        let c = ctx(n, 55, 2);
        let coeffs: Vec<i64> = (0..n)
            .map(|_| (rng.next_u64() % 1000) as i64 - 500)
            .collect();
        let a = Poly::<Coeff>::from_i64(&c, &coeffs).unwrap();
        for g in (1..2 * n).step_by(2) {
            let coeff_side = a.automorphism(g).unwrap();
            // Oracle: the coefficient of X^(j*g) with X^N = -1.
            let mut expect = vec![0i64; n];
            for j in 0..n {
                let e = j * g % (2 * n);
                if e < n {
                    expect[e] += coeffs[j]
                } else {
                    expect[e - n] -= coeffs[j]
                }
            }
            assert_eq!(
                coeff_side,
                Poly::from_i64(&c, &expect).unwrap(),
                "coeff n={n} g={g}"
            );
            let ntt_side = a.clone().to_ntt().automorphism(g).unwrap().to_coeff();
            assert_eq!(ntt_side, coeff_side, "ntt n={n} g={g}");
        }
        assert!(a.automorphism(2).is_err());
        assert!(a.clone().to_ntt().automorphism(4).is_err());
    }
}

#[test]
fn monomials_match_schoolbook() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let n = 32;
    let c = ctx(n, 45, 2);
    let coeffs: Vec<i64> = (0..n).map(|_| (rng.next_u64() % 100) as i64 - 50).collect();
    let a = Poly::<Coeff>::from_i64(&c, &coeffs).unwrap();
    for k in 0..(2 * n + 3) {
        let mut mono = vec![0i64; n];
        let kk = k % (2 * n);
        if kk < n {
            mono[kk] = 1
        } else {
            mono[kk - n] = -1
        }
        let m = Poly::<Coeff>::from_i64(&c, &mono).unwrap().to_ntt();
        let expect = a.clone().to_ntt().mul(&m).unwrap().to_coeff();
        assert_eq!(a.mul_monomial(k), expect, "coeff k={k}");
        assert_eq!(
            a.clone().to_ntt().mul_monomial(k).to_coeff(),
            expect,
            "ntt k={k}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Ring arithmetic over several limbs against big-integer schoolbook.
    #[test]
    fn poly_ring_ops_match_integers(seed in any::<u64>(), bits in prop::sample::select(vec![30u32, 45, 50, 61])) {
        let n = 64;
        let c = ctx(n, bits, 3);
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut small = || (0..n).map(|_| (rng.next_u64() % 2001) as i64 - 1000).collect::<Vec<_>>();
        let (x, y, z) = (small(), small(), small());
        let px = Poly::<Coeff>::from_i64(&c, &x).unwrap();
        let py = Poly::<Coeff>::from_i64(&c, &y).unwrap();
        let pz = Poly::<Coeff>::from_i64(&c, &z).unwrap();
        // Oracle: integer negacyclic product (no wraparound mod Q at these sizes).
        let mut prod = vec![0i64; n];
        for i in 0..n { for j in 0..n {
            let v = x[i] * y[j];
            if i + j < n { prod[i + j] += v } else { prod[i + j - n] -= v }
        }}
        let mut acc = pz.clone().to_ntt();
        acc.mul_add_assign(&px.clone().to_ntt(), &py.clone().to_ntt()).unwrap();
        let expect: Vec<i64> = (0..n).map(|i| prod[i] + z[i]).collect();
        prop_assert_eq!(acc.to_coeff(), Poly::from_i64(&c, &expect).unwrap());
        let sum: Vec<i64> = (0..n).map(|i| x[i] + y[i]).collect();
        prop_assert_eq!(px.add(&py).unwrap(), Poly::from_i64(&c, &sum).unwrap());
        let diff: Vec<i64> = (0..n).map(|i| x[i] - y[i]).collect();
        prop_assert_eq!(px.sub(&py).unwrap(), Poly::from_i64(&c, &diff).unwrap());
        let neg: Vec<i64> = x.iter().map(|v| -v).collect();
        prop_assert_eq!(px.neg(), Poly::from_i64(&c, &neg).unwrap());
        let mut s = px.clone();
        s.mul_scalar_i64_assign(-7);
        let sc: Vec<i64> = x.iter().map(|v| -7 * v).collect();
        prop_assert_eq!(&s, &Poly::from_i64(&c, &sc).unwrap());
        let mut s2 = px.clone().to_ntt();
        s2.mul_scalar_assign(1_000_003);
        let sc2: Vec<i64> = x.iter().map(|v| 1_000_003 * v).collect();
        prop_assert_eq!(s2.to_coeff(), Poly::from_i64(&c, &sc2).unwrap());
        let back = px.to_bigint_centered();
        prop_assert!(back.iter().zip(&x).all(|(b, &v)| *b == v.into()));
    }
}

#[test]
fn mismatched_rings_are_errors() {
    let a = Poly::<Coeff>::zero(&ctx(16, 40, 2));
    let b = Poly::<Coeff>::zero(&ctx(16, 41, 2));
    assert!(matches!(a.add(&b), Err(Error::MismatchedBases { .. })));
    let (a, b) = (a.to_ntt(), b.to_ntt());
    assert!(matches!(a.mul(&b), Err(Error::MismatchedBases { .. })));
    let c = ctx(16, 40, 2);
    assert!(matches!(
        Poly::<Coeff>::from_i64(&c, &[1; 15]),
        Err(Error::WrongLength { .. })
    ));
    assert!(matches!(
        Poly::<Coeff>::from_limbs(&c, vec![u64::MAX; 32]),
        Err(Error::UnreducedResidue { .. })
    ));
    assert!(matches!(
        Poly::<Coeff>::from_limbs(&c, vec![0; 31]),
        Err(Error::WrongLength { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// Forward and both inverse transforms leave fully reduced residues (`< p`) for every prime
    /// size the backend dispatches differently (IFMA below 2^50 and 2^51, the 62-bit path above):
    /// ModDown feeds `inverse_unnormalized`'s output straight into kernels that require it.
    #[test]
    fn transforms_return_reduced_residues(seed in any::<u64>(), bits in prop::sample::select(vec![30u32, 40, 50, 51, 55, 60, 61]), log_n in 4u32..=16) {
        let n = 1usize << log_n;
        let p = generate_ntt_primes(bits, n, 1).unwrap()[0];
        let plan = NttPlan::get(n, p).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let a: Vec<u64> = (0..n).map(|_| rng.next_u64() % p).collect();
        let mut f = a.clone();
        plan.forward(&mut f);
        prop_assert!(f.iter().all(|&v| v < p));
        let mut u = f.clone();
        plan.inverse_unnormalized(&mut u);
        prop_assert!(u.iter().all(|&v| v < p), "unnormalized inverse not reduced");
        let mut i = f;
        plan.inverse(&mut i);
        prop_assert_eq!(i, a);
    }
}
