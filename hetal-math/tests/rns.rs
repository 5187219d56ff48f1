//! CRT, basis conversion, ModUp, ModDown and rescale against big-integer arithmetic.

use std::sync::Arc;

use hetal_math::{
    BasisConverter, Coeff, Context, Error, ModDown, ModUp, Poly, RnsBasis, RnsChain,
    generate_ntt_primes,
};
use num_bigint::{BigInt, BigUint};
use num_traits::{One, Zero};
use proptest::prelude::*;

fn primes(n: usize) -> Vec<u64> {
    // Mixed sizes, as in a CKKS chain: 61-bit, 50-bit, 40-bit, 30-bit primes.
    let mut v = generate_ntt_primes(61, n, 3).unwrap();
    v.extend(generate_ntt_primes(50, n, 3).unwrap());
    v.extend(generate_ntt_primes(40, n, 3).unwrap());
    v.extend(generate_ntt_primes(30, n, 3).unwrap());
    v
}

fn mod_floor(a: &BigInt, m: &BigInt) -> BigInt {
    ((a % m) + m) % m
}

fn big_rng(seed: u64) -> num_bigint_rng::Rng {
    num_bigint_rng::Rng::seed_from_u64(seed)
}

mod num_bigint_rng {
    // num-bigint 0.4 samples through rand 0.8; generate big integers from u64 words instead.
    use num_bigint::BigUint;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};
    pub struct Rng(ChaCha20Rng);
    impl Rng {
        pub fn seed_from_u64(s: u64) -> Self {
            Self(ChaCha20Rng::seed_from_u64(s))
        }
        /// Uniform in [0, bound).
        pub fn below(&mut self, bound: &BigUint) -> BigUint {
            let words = bound.bits().div_ceil(64) as usize + 2;
            let v = BigUint::from_slice(
                &(0..2 * words)
                    .map(|_| self.0.next_u32())
                    .collect::<Vec<_>>(),
            );
            v % bound
        }
    }
}

#[test]
fn crt_roundtrip_unsigned_and_centered() {
    let ps = primes(16);
    let basis = RnsBasis::new(&ps).unwrap();
    let q = basis.product().clone();
    let mut rng = big_rng(1);
    let mut values = vec![
        BigUint::zero(),
        BigUint::one(),
        &q - 1u32,
        &q >> 1u32,
        (&q >> 1u32) + 1u32,
    ];
    values.extend((0..200).map(|_| rng.below(&q)));
    for x in values {
        let r = basis.decompose(&x);
        assert_eq!(basis.reconstruct(&r).unwrap(), x);
        let c = basis.reconstruct_centered(&r).unwrap();
        let qi = BigInt::from(q.clone());
        assert!(c.clone() * 2 > -qi.clone() && c.clone() * 2 <= qi.clone());
        assert_eq!(mod_floor(&c, &qi), BigInt::from(x.clone()));
        assert_eq!(basis.decompose_signed(&c), r);
    }
    assert!(matches!(
        basis.reconstruct(&[0; 3]),
        Err(Error::WrongLength { .. })
    ));
    let mut bad = vec![0u64; ps.len()];
    bad[2] = ps[2];
    assert!(matches!(
        basis.reconstruct(&bad),
        Err(Error::UnreducedResidue { .. })
    ));
    assert!(matches!(
        RnsBasis::new(&[ps[0], ps[0]]),
        Err(Error::InvalidBasis { .. })
    ));
    assert!(matches!(
        RnsBasis::new(&[]),
        Err(Error::InvalidBasis { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// conv(x) = x + e*Q with 0 <= e < k.
    #[test]
    fn fast_basis_conversion_error_bound(seed in any::<u64>(), split in 1usize..11, perm in any::<u64>()) {
        let mut ps = primes(16);
        // Deterministic shuffle so both sides mix prime sizes.
        let len = ps.len();
        for i in (1..len).rev() { ps.swap(i, (perm as usize).wrapping_mul(i + 7) % (i + 1)); }
        let from = RnsBasis::new(&ps[..split]).unwrap();
        let to = RnsBasis::new(&ps[split..]).unwrap();
        let conv = BasisConverter::new(&from, &to).unwrap();
        let n = 8;
        let mut rng = big_rng(seed);
        let q = from.product();
        let mut xs: Vec<BigUint> = (0..n - 2).map(|_| rng.below(q)).collect();
        xs.push(BigUint::zero());
        xs.push(q - 1u32);
        let mut input = vec![0u64; split * n];
        for (j, x) in xs.iter().enumerate() {
            for (i, r) in from.decompose(x).into_iter().enumerate() { input[i * n + j] = r; }
        }
        let mut out = vec![0u64; (len - split) * n];
        conv.convert(&input, &mut out, n).unwrap();
        for (j, x) in xs.iter().enumerate() {
            let col: Vec<u64> = (0..len - split).map(|i| out[i * n + j]).collect();
            let y = to.reconstruct(&col).unwrap();
            let ok = (0..split as u32).any(|e| (x + q * e) % to.product() == y);
            prop_assert!(ok, "no e in [0, {split}) explains the output");
        }
    }
}

fn random_poly_big(ctx: &Arc<Context>, seed: u64) -> (Poly<Coeff>, Vec<BigUint>) {
    let mut rng = big_rng(seed);
    let q = ctx.basis().product().clone();
    let mut xs: Vec<BigUint> = (0..ctx.n()).map(|_| rng.below(&q)).collect();
    xs[0] = BigUint::zero();
    xs[1] = &q - 1u32;
    xs[2] = &q >> 1u32;
    (Poly::from_biguint(ctx, &xs).unwrap(), xs)
}

#[test]
fn mod_up_matches_big_integers() {
    let n = 64;
    let ps = primes(n);
    let qp = Context::new(n, &ps).unwrap(); // Q = first 9, P = last 3
    let q_len = 9;
    let q = qp.prefix(q_len).unwrap();
    for digit in [0..9, 0..3, 3..6, 6..9, 4..5] {
        let up = ModUp::new(&qp, q_len, digit.clone()).unwrap();
        let (x, xs) = random_poly_big(&q, 7 + digit.start as u64);
        let dbasis = RnsBasis::new(&ps[digit.clone()]).unwrap();
        let d = dbasis.product();
        let k = digit.len() as u32;
        let check = |y: &Poly<Coeff>| {
            let ys = y.to_biguint();
            for j in 0..n {
                let xd = &xs[j] % d;
                let ok = (0..k).any(|e| (&xd + d * e) % qp.basis().product() == ys[j]);
                assert!(ok, "ModUp digit {digit:?} coefficient {j}");
            }
        };
        let y = up.apply(&x).unwrap();
        check(&y);
        let y_ntt = up.apply_ntt(&x.clone().to_ntt()).unwrap().to_coeff();
        assert_eq!(y_ntt, y);
    }
    assert!(ModUp::new(&qp, q_len, 3..3).is_err());
    assert!(ModUp::new(&qp, q_len, 5..10).is_err());
    let up = ModUp::new(&qp, q_len, 0..3).unwrap();
    assert!(matches!(
        up.apply(&Poly::zero(&qp)),
        Err(Error::MismatchedBases { .. })
    ));
}

#[test]
fn mod_down_matches_big_integers() {
    let n = 64;
    let ps = primes(n);
    for q_len in [1usize, 5, 9, 11] {
        let qp = Context::new(n, &ps).unwrap();
        let down = ModDown::new(&qp, q_len).unwrap();
        let (x, xs) = random_poly_big(&qp, 11 + q_len as u64);
        let pbasis = RnsBasis::new(&ps[q_len..]).unwrap();
        let p = pbasis.product();
        let qbig = RnsBasis::new(&ps[..q_len]).unwrap().product().clone();
        let kp = (ps.len() - q_len) as u32;
        let y = down.apply(&x).unwrap();
        assert_eq!(y.num_limbs(), q_len);
        let ys = y.to_biguint();
        for j in 0..n {
            let rounded = (&xs[j] + (p >> 1u32)) / p;
            let ok = (0..kp).any(|e| (&ys[j] + e) % &qbig == &rounded % &qbig);
            assert!(ok, "ModDown q_len {q_len} coefficient {j}");
        }
        let y_ntt = down.apply_ntt(&x.to_ntt()).unwrap().to_coeff();
        assert_eq!(y_ntt, y);
    }
    let qp = Context::new(n, &ps).unwrap();
    assert!(ModDown::new(&qp, 0).is_err());
    assert!(ModDown::new(&qp, ps.len()).is_err());
}

#[test]
fn rescale_is_exact_rounding() {
    let n = 64;
    let ps = primes(n);
    for k in [2usize, 4, 12] {
        let ctx = Context::new(n, &ps[..k]).unwrap();
        let (x, xs) = random_poly_big(&ctx, 100 + k as u64);
        let ql = ps[k - 1];
        let y = x.divide_round_by_last().unwrap();
        assert_eq!(y.num_limbs(), k - 1);
        let qprime = ctx.prefix(k - 1).unwrap().basis().product().clone();
        let ys = y.to_biguint();
        for j in 0..n {
            let expect = (&xs[j] + (ql - 1) / 2) / ql % &qprime;
            assert_eq!(ys[j], expect, "rescale k={k} coefficient {j}");
        }
        // Centered interpretation: round(x_c / q_l) agrees modulo Q/q_l.
        let xc = x.to_bigint_centered();
        let yc = y.to_bigint_centered();
        for j in 0..n {
            let ql_big = BigInt::from(ql);
            let r = mod_floor(&xc[j], &ql_big);
            let d = (&xc[j] - &r) / &ql_big;
            let rounded = if r * 2 > ql_big { d + 1 } else { d };
            assert_eq!(
                mod_floor(&(rounded - &yc[j]), &BigInt::from(qprime.clone())),
                BigInt::zero()
            );
        }
        let y_ntt = x
            .clone()
            .to_ntt()
            .divide_round_by_last()
            .unwrap()
            .to_coeff();
        assert_eq!(y_ntt, y);
    }
    let one = Context::new(n, &ps[..1]).unwrap();
    assert!(Poly::<Coeff>::zero(&one).divide_round_by_last().is_err());
}

#[test]
fn drop_limbs_and_chain_contexts() {
    let n = 32;
    let q = generate_ntt_primes(50, n, 5).unwrap();
    let p = generate_ntt_primes(58, n, 2).unwrap();
    let chain = RnsChain::new(n, &q, &p).unwrap();
    assert_eq!(chain.max_level(), 4);
    for l in 0..=4 {
        let ql = chain.q_context(l).unwrap();
        let qpl = chain.qp_context(l).unwrap();
        assert_eq!(ql.num_limbs(), l + 1);
        assert_eq!(qpl.num_limbs(), l + 3);
        assert!(Arc::ptr_eq(&ql, &chain.q_context(l).unwrap()));
        assert!(Arc::ptr_eq(&ql, &qpl.prefix(l + 1).unwrap()));
        let down = chain.mod_down(l).unwrap();
        assert!(Arc::ptr_eq(&down, &chain.mod_down(l).unwrap()));
        assert!(down.q_context().same_ring(&ql));
        let up = chain.mod_up(l, 0..l + 1).unwrap();
        assert!(Arc::ptr_eq(&up, &chain.mod_up(l, 0..l + 1).unwrap()));
    }
    assert!(chain.q_context(5).is_err());
    assert!(chain.mod_up(2, 1..4).is_err());
    let top = chain.q_context(4).unwrap();
    let (x, xs) = random_poly_big(&top, 5);
    let dropped = x.clone().drop_last_limbs(2).unwrap();
    assert!(Arc::ptr_eq(dropped.context(), &chain.q_context(2).unwrap()));
    let q2 = chain.q_context(2).unwrap().basis().product().clone();
    assert_eq!(
        dropped.to_biguint(),
        xs.iter().map(|v| v % &q2).collect::<Vec<_>>()
    );
    assert_eq!(x.prefix(3).unwrap(), dropped);
    assert!(x.clone().drop_last_limbs(5).is_err());
    assert_eq!(x.to_ntt().drop_last_limbs(2).unwrap().to_coeff(), dropped);
    // Round trip through signed big integers.
    let c: Vec<BigInt> = (0..n as i64)
        .map(|v| BigInt::from(v - 16) * BigInt::from(1u128 << 100))
        .collect();
    let pc = Poly::from_bigint(&top, &c).unwrap();
    assert_eq!(pc.to_bigint_centered(), c);
}
