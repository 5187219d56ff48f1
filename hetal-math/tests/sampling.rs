//! Samplers: exact Hamming weight, moments, bounds, determinism.

use hetal_math::sampling::{
    DEFAULT_SIGMA, gaussian, gaussian_poly, ternary, ternary_hamming, ternary_poly,
    uniform_limb_from_seed, uniform_mod, uniform_poly, uniform_poly_from_seed,
};
use hetal_math::{Context, Modulus, generate_ntt_primes};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn moments(v: &[i64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<i64>() as f64 / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

#[test]
fn ternary_hamming_weight_is_exact() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for (n, h) in [(16usize, 0usize), (16, 16), (1 << 12, 64), (1 << 16, 192)] {
        for _ in 0..3 {
            let s = ternary_hamming(n, h, &mut rng).unwrap();
            assert_eq!(s.iter().filter(|&&x| x != 0).count(), h);
            assert!(s.iter().all(|&x| (-1..=1).contains(&x)));
        }
    }
    assert!(ternary_hamming(16, 17, &mut rng).is_err());
    // Signs are balanced over many draws.
    let s = ternary_hamming(1 << 16, 1 << 14, &mut rng).unwrap();
    let sum: i64 = s.iter().sum();
    assert!(sum.abs() < 600, "sign imbalance {sum}"); // ~4.7 standard deviations
}

#[test]
fn ternary_moments() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let s = ternary(1 << 16, &mut rng);
    assert!(s.iter().all(|&x| (-1..=1).contains(&x)));
    let (mean, var) = moments(&s);
    // Var = 2/3; std error of the mean ~ 0.0032, of the variance ~ 0.0018.
    assert!(mean.abs() < 0.02, "mean {mean}");
    assert!((var - 2.0 / 3.0).abs() < 0.015, "var {var}");
}

#[test]
fn gaussian_moments_and_tail_bound() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let e = gaussian(1 << 17, DEFAULT_SIGMA, &mut rng).unwrap();
    let (mean, var) = moments(&e);
    // The discrete Gaussian of parameter 3.2 has variance sigma² (to ~1e-9).
    let expect = DEFAULT_SIGMA * DEFAULT_SIGMA;
    assert!(mean.abs() < 0.05, "mean {mean}");
    assert!(
        (var - expect).abs() / expect < 0.03,
        "var {var} vs {expect}"
    );
    assert!(e.iter().all(|x| x.abs() <= 19));
    assert!(gaussian(16, 0.0, &mut rng).is_err());
    assert!(gaussian(16, f64::NAN, &mut rng).is_err());
}

#[test]
fn uniform_is_in_range_and_unbiased() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    for p in [3u64, 97, (1 << 61) - 1] {
        let m = Modulus::new(p).unwrap();
        let k = 30_000;
        let mut sum = 0f64;
        for _ in 0..k {
            let v = uniform_mod(&m, &mut rng);
            assert!(v < p);
            sum += v as f64 / (p - 1) as f64;
        }
        // Mean of v/(p-1) is 1/2, std error ~ 0.29/sqrt(k) = 0.0017.
        assert!((sum / k as f64 - 0.5).abs() < 0.01);
    }
    // Each residue of a small prime appears about equally often.
    let m = Modulus::new(5).unwrap();
    let mut counts = [0u32; 5];
    for _ in 0..50_000 {
        counts[uniform_mod(&m, &mut rng) as usize] += 1;
    }
    assert!(
        counts.iter().all(|&c| (9_500..10_500).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn same_seed_same_output() {
    let n = 1 << 10;
    let ctx = Context::new(n, &generate_ntt_primes(50, n, 3).unwrap()).unwrap();
    assert_eq!(
        uniform_poly_from_seed(&ctx, [9; 32]),
        uniform_poly_from_seed(&ctx, [9; 32])
    );
    assert_ne!(
        uniform_poly_from_seed(&ctx, [9; 32]),
        uniform_poly_from_seed(&ctx, [8; 32])
    );
    let draw = |seed: u64| {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        (
            uniform_poly(&ctx, &mut rng),
            ternary_poly(&ctx, &mut rng),
            gaussian_poly(&ctx, DEFAULT_SIGMA, &mut rng).unwrap(),
            ternary_hamming(n, 64, &mut rng).unwrap(),
        )
    };
    let (a, b) = (draw(5), draw(5));
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
    assert_eq!(a.2, b.2);
    assert_eq!(*a.3, *b.3);
    let u = uniform_poly(&ctx, &mut ChaCha20Rng::seed_from_u64(6));
    for (i, m) in ctx.moduli().iter().enumerate() {
        assert!(u.limb(i).iter().all(|&v| v < m.value()));
    }
}

#[test]
fn ternary_hamming_subsets_are_uniform() {
    // n = 8, h = 3: 56 subsets, 56 000 draws: each subset ~1000 times (std ~31).
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let mut counts = std::collections::HashMap::new();
    let draws = 56_000;
    for _ in 0..draws {
        let s = ternary_hamming(8, 3, &mut rng).unwrap();
        let mask: u32 = s
            .iter()
            .enumerate()
            .filter(|(_, x)| **x != 0)
            .map(|(i, _)| 1 << i)
            .sum();
        *counts.entry(mask).or_insert(0u32) += 1;
    }
    assert_eq!(counts.len(), 56);
    let chi2: f64 = counts
        .values()
        .map(|&c| (c as f64 - 1000.0).powi(2) / 1000.0)
        .sum();
    // 55 degrees of freedom: the 99.9 % quantile is ~93.
    assert!(chi2 < 93.0, "chi-square {chi2}");
}

#[test]
fn gaussian_matches_the_discrete_gaussian_and_falls_back_for_flooding() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let k = 1 << 18;
    let e = gaussian(k, DEFAULT_SIGMA, &mut rng).unwrap();
    let weight = |x: i64| (-((x * x) as f64) / (2.0 * DEFAULT_SIGMA * DEFAULT_SIGMA)).exp();
    let total: f64 = (-19..=19).map(weight).sum();
    for x in -6..=6 {
        let want = weight(x) / total;
        let got = e.iter().filter(|&&v| v == x).count() as f64 / k as f64;
        // Binomial standard error sqrt(p/k) <= 0.0008: 5 of them.
        assert!(
            (got - want).abs() < 5.0 * (want / k as f64).sqrt(),
            "{x}: {got} vs {want}"
        );
    }
    // Above the constant-time range: the rounded Box-Muller sampler, same bound rule.
    let sigma = 100.0;
    let f = gaussian(1 << 14, sigma, &mut rng).unwrap();
    let (mean, var) = moments(&f);
    assert!(mean.abs() < 3.0 && (var.sqrt() / sigma - 1.0).abs() < 0.03);
    assert!(f.iter().all(|x| x.abs() <= 600));
}

/// Pins the expansion format of seed-compressed keys: with the all-zero seed, stream 0 starts
/// with AES-128 of the zero block under the zero key (FIPS-197 / NIST test vector
/// `66e94bd4ef8a2c3b884cfa59ca342b2e`), read as two little-endian words masked to 61 bits.
#[test]
fn seed_expansion_is_aes128_ctr() {
    let q = generate_ntt_primes(61, 1 << 10, 1).unwrap()[0];
    let m = Modulus::new(q).unwrap();
    let mut out = [0u64; 2];
    uniform_limb_from_seed(&[0; 32], 0, &m, &mut out);
    let mask = (1u64 << 61) - 1;
    assert_eq!(out, [0x3b2c8aefd44be966 & mask, 0x2e2b34ca59fa4c88 & mask]);
}

/// Every limb of a seeded polynomial is its own stream: a key switch can regenerate any limb
/// alone, and the values are reduced and spread over the whole range.
#[test]
fn seeded_limbs_are_independent_streams() {
    let n = 1 << 12;
    let primes = generate_ntt_primes(40, n, 3).unwrap();
    let ctx = Context::new(n, &primes).unwrap();
    let seed = [5u8; 32];
    let poly = uniform_poly_from_seed(&ctx, seed);
    for (i, m) in ctx.moduli().iter().enumerate() {
        let mut row = vec![0u64; n];
        uniform_limb_from_seed(&seed, i as u64, m, &mut row);
        assert_eq!(poly.limb(i), &row[..]);
        assert!(row.iter().all(|&x| x < m.value()));
        let mean = row.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        // Uniform on [0, q): mean q/2 with standard deviation q/sqrt(12 n) ~ 0.0045 q.
        assert!(
            (mean / m.value() as f64 - 0.5).abs() < 0.03,
            "limb {i}: mean {mean}"
        );
    }
    let mut other = vec![0u64; n];
    uniform_limb_from_seed(&seed, 0, &ctx.moduli()[1], &mut other);
    assert_ne!(
        poly.limb(1),
        &other[..],
        "streams must differ between limbs"
    );
}
