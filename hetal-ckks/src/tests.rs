//! Scheme tests: every homomorphic operation against its plaintext twin, precision in bits.

use std::sync::{Arc, OnceLock};

use num_complex::Complex64;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::plaintext::crt_centered_f64;
use crate::prelude::*;

pub(crate) struct Fixture {
    pub params: Parameters,
    pub sk: SecretKey,
    pub pk: PublicKey,
    pub eval: Evaluator,
}

fn c(re: f64, im: f64) -> Complex64 {
    Complex64::new(re, im)
}

/// Deterministic test values in the unit disk.
pub(crate) fn values(n: usize, seed: u64) -> Vec<Complex64> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    (0..n).map(|_| c(next() * 0.7, next() * 0.7)).collect()
}

pub(crate) fn precision_bits(got: &[Complex64], want: &[Complex64]) -> f64 {
    let err = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).re.abs().max((a - b).im.abs()))
        .fold(0.0, f64::max);
    -err.max(1e-300).log2()
}

fn rotation_steps_n12() -> Vec<i64> {
    vec![1, 2, 3, 5, 16, -1, -7, 1000, 1 << 10]
}

/// N = 2^12 fixture with the relinearization key, a set of rotations and conjugation.
pub(crate) fn n12() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let params = Parameters::new(ParametersLiteral::insecure_n12()).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(0x5eed_0012);
        let sk = SecretKey::generate(&params, &mut rng).unwrap();
        let pk = sk.public_key(&mut rng).unwrap();
        let mut steps = rotation_steps_n12();
        steps.extend(Evaluator::rotate_and_sum_steps(1, params.slots()));
        let eval = Evaluator::new(&params)
            .with_relinearization_key(sk.relinearization_key(&mut rng).unwrap())
            .with_galois_keys(sk.rotation_keys(&steps, true, &mut rng).unwrap());
        Fixture {
            params,
            sk,
            pk,
            eval,
        }
    })
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn enc(f: &Fixture, v: &[Complex64], level: usize, seed: u64) -> Ciphertext {
    Encryptor::new(&f.pk)
        .encrypt_values(v, level, &mut rng(seed))
        .unwrap()
}

fn dec(f: &Fixture, ct: &Ciphertext) -> Vec<Complex64> {
    Decryptor::new(&f.sk).decrypt_decode(ct).unwrap()
}

#[test]
fn encrypt_decrypt_every_level() {
    let f = n12();
    let v = values(f.params.slots(), 1);
    for level in 0..=f.params.max_level() {
        let ct = enc(f, &v, level, level as u64);
        assert_eq!(ct.level(), level);
        assert_eq!(ct.scale(), f.params.scale_at(level));
        let bits = precision_bits(&dec(f, &ct), &v);
        assert!(bits > 26.0, "pk level {level}: {bits:.1} bits");
        let pt = f.params.encode_at(&v, level).unwrap();
        let ct = Decryptor::new(&f.sk)
            .encrypt_symmetric(&pt, &mut rng(9))
            .unwrap();
        assert!(ct.is_seeded());
        let bits = precision_bits(&dec(f, &ct), &v);
        assert!(bits > 26.0, "sk level {level}: {bits:.1} bits");
    }
}

#[test]
fn additive_ops() {
    let f = n12();
    let e = &f.eval;
    let (a, b) = (values(f.params.slots(), 2), values(f.params.slots(), 3));
    let l = f.params.max_level();
    let (ca, cb) = (enc(f, &a, l, 1), enc(f, &b, l, 2));
    let sum: Vec<_> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    let diff: Vec<_> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    let neg: Vec<_> = a.iter().map(|x| -x).collect();
    assert!(precision_bits(&dec(f, &e.add(&ca, &cb).unwrap()), &sum) > 20.0);
    assert!(precision_bits(&dec(f, &e.sub(&ca, &cb).unwrap()), &diff) > 20.0);
    assert!(precision_bits(&dec(f, &e.negate(&ca).unwrap()), &neg) > 20.0);
    let pb = f.params.encode_at(&b, l).unwrap();
    assert!(precision_bits(&dec(f, &e.add_plain(&ca, &pb).unwrap()), &sum) > 20.0);
    assert!(precision_bits(&dec(f, &e.sub_plain(&ca, &pb).unwrap()), &diff) > 20.0);
    for k in [c(0.5, 0.0), c(-1.25, 0.75)] {
        let want: Vec<_> = a.iter().map(|x| x + k).collect();
        let bits = precision_bits(&dec(f, &e.add_const(&ca, k).unwrap()), &want);
        assert!(bits > 20.0, "add_const {k}: {bits:.1}");
    }
    let want: Vec<_> = a.iter().map(|x| x * 3.0).collect();
    let got = e.mul_int(&ca, -3).and_then(|x| e.negate(&x)).unwrap();
    assert_eq!(got.level(), l);
    assert!(precision_bits(&dec(f, &got), &want) > 18.0);
}

#[test]
fn mul_i_is_exact_and_free() {
    let f = n12();
    let e = &f.eval;
    let a = values(f.params.slots(), 6);
    let l = f.params.max_level();
    let ca = enc(f, &a, l, 6);
    let want: Vec<_> = a.iter().map(|x| x * c(0.0, 1.0)).collect();
    let got = e.mul_i(&ca).unwrap();
    assert_eq!((got.level(), got.scale()), (l, ca.scale()));
    // The monomial product adds no noise: i·ct decrypts as well as ct does.
    let fresh = precision_bits(&dec(f, &ca), &a);
    let bits = precision_bits(&dec(f, &got), &want);
    assert!(bits > fresh - 0.5, "mul_i {bits:.1} vs fresh {fresh:.1}");
    // i·i = -1, also on a degree-2 tensor product before relinearization.
    let t = e.tensor(&ca, &ca).unwrap();
    let minus = e
        .relinearize(&e.mul_i(&e.mul_i(&t).unwrap()).unwrap())
        .unwrap();
    let want: Vec<_> = a.iter().map(|x| -(x * x)).collect();
    let bits = precision_bits(&dec(f, &e.rescale(&minus).unwrap()), &want);
    assert!(bits > 20.0, "i·i·a²: {bits:.1}");
}

/// Galois keys generated below the top (bootstrapping's SlotsToCoeffs keys) rotate at their
/// level and below through the same fast kernels, and are refused above it.
#[test]
fn leveled_galois_keys() {
    let f = n12();
    let key_level = 4;
    let g = f.params.galois_element(3);
    let keys = f.sk.galois_keys_at(&[g], key_level, &mut rng(41)).unwrap();
    let eval = Evaluator::new(&f.params).with_galois_keys(keys);
    let a = values(f.params.slots(), 41);
    let n = a.len();
    let want: Vec<_> = (0..n).map(|i| a[(i + 3) % n]).collect();
    for level in [key_level, 1] {
        let ct = enc(f, &a, level, 41);
        let bits = precision_bits(&dec(f, &eval.rotate(&ct, 3).unwrap()), &want);
        assert!(bits > 20.0, "level {level}: {bits:.1} bits");
        let hoisted = eval.rotate_hoisted(&ct, &[3]).unwrap();
        assert_eq!(hoisted[0], eval.rotate(&ct, 3).unwrap());
    }
    let high = enc(f, &a, key_level + 1, 42);
    let err = eval.rotate(&high, 3).unwrap_err();
    assert!(err.to_string().contains("generated at level 4"), "{err}");
}

/// Seeded keys ([`KeyStorage::Seeded`]) regenerate exactly the rows expanded keys hold:
/// every key switch gives the same ciphertext, at the top level and with keys generated below
/// it (whose `P` limbs follow fewer `Q` limbs); the storage round-trips and does not change the
/// serialized key.
#[test]
fn seeded_keys_switch_exactly_like_expanded_keys() {
    let f = n12();
    let mut r = rng(77);
    let steps = [1i64, -3, 100];
    let expanded_rlk = f.sk.relinearization_key(&mut r).unwrap();
    let expanded_gks = f.sk.rotation_keys(&steps, true, &mut r).unwrap();
    let low_level = 3;
    let g = f.params.galois_element(5);
    let expanded_low = f.sk.galois_keys_at(&[g], low_level, &mut r).unwrap();
    let (mut rlk, mut gks, mut low) = (
        expanded_rlk.clone(),
        expanded_gks.clone(),
        expanded_low.clone(),
    );
    rlk.set_storage(KeyStorage::Seeded);
    gks.set_storage(KeyStorage::Seeded);
    low.set_storage(KeyStorage::Seeded);
    let key = rlk.switching_key();
    assert_eq!(key.storage(), KeyStorage::Seeded);
    let full = expanded_rlk.switching_key().memory_bytes();
    assert_eq!(key.memory_bytes(), full / 2 + 16 * key.digits());
    assert_eq!(rlk.to_bytes(), expanded_rlk.to_bytes());
    assert_eq!(gks.to_bytes(), expanded_gks.to_bytes());

    let expanded = Evaluator::new(&f.params)
        .with_relinearization_key(expanded_rlk.clone())
        .with_galois_keys(expanded_gks.clone());
    let seeded = Evaluator::new(&f.params)
        .with_relinearization_key(rlk.clone())
        .with_galois_keys(gks.clone());
    let n = f.params.slots();
    let ct = enc(f, &values(n, 78), f.params.max_level(), 78);
    let ct2 = enc(f, &values(n, 79), f.params.max_level(), 79);
    for e in [&expanded, &seeded] {
        assert!(e.mul_relin(&ct, &ct2).is_ok());
    }
    assert_eq!(
        seeded.mul_relin(&ct, &ct2).unwrap(),
        expanded.mul_relin(&ct, &ct2).unwrap()
    );
    assert_eq!(
        seeded.mul_relin_rescale(&ct, &ct2).unwrap(),
        expanded.mul_relin_rescale(&ct, &ct2).unwrap()
    );
    assert_eq!(
        seeded.rotate_hoisted(&ct, &steps).unwrap(),
        expanded.rotate_hoisted(&ct, &steps).unwrap()
    );
    assert_eq!(
        seeded.rotate(&ct, -3).unwrap(),
        expanded.rotate(&ct, -3).unwrap()
    );
    assert_eq!(
        seeded.conjugate(&ct).unwrap(),
        expanded.conjugate(&ct).unwrap()
    );
    let at_low = enc(f, &values(n, 80), low_level, 80);
    let (low_seeded, low_expanded) = (
        Evaluator::new(&f.params).with_galois_keys(low.clone()),
        Evaluator::new(&f.params).with_galois_keys(expanded_low.clone()),
    );
    assert_eq!(
        low_seeded.rotate(&at_low, 5).unwrap(),
        low_expanded.rotate(&at_low, 5).unwrap()
    );

    // Back to expanded: the same polynomials as generated.
    low.set_storage(KeyStorage::Expanded);
    let (back, original) = (low.get(g).unwrap(), expanded_low.get(g).unwrap());
    assert_eq!(back.storage(), KeyStorage::Expanded);
    assert_eq!(back.a, original.a);
    assert_eq!(back, original);
}

#[test]
fn multiplicative_ops() {
    let f = n12();
    let e = &f.eval;
    let (a, b) = (values(f.params.slots(), 4), values(f.params.slots(), 5));
    let l = f.params.max_level();
    let (ca, cb) = (enc(f, &a, l, 3), enc(f, &b, l, 4));
    let prod: Vec<_> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
    // Ciphertext product, relinearized and rescaled: canonical scale of the next level.
    let m = e.rescale(&e.mul_relin(&ca, &cb).unwrap()).unwrap();
    assert_eq!(m.level(), l - 1);
    assert_eq!(m.scale(), f.params.scale_at(l - 1));
    let bits = precision_bits(&dec(f, &m), &prod);
    assert!(bits > 20.0, "mul_relin: {bits:.1}");
    // Plaintext product.
    let pb = f.params.encode_at(&b, l).unwrap();
    let m = e.rescale(&e.mul_plain(&ca, &pb).unwrap()).unwrap();
    assert_eq!(m.scale(), f.params.scale_at(l - 1));
    assert!(precision_bits(&dec(f, &m), &prod) > 22.0);
    // Constants (real and complex).
    for k in [c(0.3, 0.0), c(-0.5, 1.5)] {
        let want: Vec<_> = a.iter().map(|x| x * k).collect();
        let m = e.rescale(&e.mul_const(&ca, k).unwrap()).unwrap();
        assert_eq!(m.scale(), f.params.scale_at(l - 1));
        let bits = precision_bits(&dec(f, &m), &want);
        assert!(bits > 22.0, "mul_const {k}: {bits:.1}");
    }
}

#[test]
fn depth_to_the_bottom_and_level_errors() {
    let f = n12();
    let e = &f.eval;
    let mut v: Vec<Complex64> = values(f.params.slots(), 6);
    let mut ct = enc(f, &v, f.params.max_level(), 5);
    while ct.level() > 0 {
        ct = e.rescale(&e.mul_relin(&ct, &ct).unwrap()).unwrap();
        v = v.iter().map(|x| x * x).collect();
        assert_eq!(ct.scale(), f.params.scale_at(ct.level()));
    }
    let bits = precision_bits(&dec(f, &ct), &v);
    assert!(bits > 12.0, "after full depth: {bits:.1}");
    let err = e.rescale(&ct).unwrap_err();
    assert!(matches!(
        err,
        Error::LevelExhausted {
            op: "rescale",
            level: 0,
            ..
        }
    ));
    // Level and scale mismatches name the operation and both sides.
    let top = enc(f, &v, 5, 1);
    let low = enc(f, &v, 4, 2);
    let msg = e.add(&top, &low).unwrap_err().to_string();
    assert_eq!(msg, "level mismatch in add: 5 vs 4");
    let mut other = enc(f, &v, 5, 3);
    other.set_scale(top.scale() * 2.0);
    let err = e.sub(&top, &other).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ScaleMismatch {
                op: "sub",
                level: 5,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("scale mismatch in sub"));
    let err = e.mul_relin(&top, &low).unwrap_err().to_string();
    assert_eq!(err, "level mismatch in mul: 5 vs 4");
    // Missing keys.
    let err = e.rotate(&top, 7).unwrap_err();
    assert!(
        matches!(err, Error::MissingKey { op: "rotate", .. }),
        "{err}"
    );
    let bare = Evaluator::new(&f.params);
    assert!(matches!(
        bare.mul_relin(&top, &top),
        Err(Error::MissingKey { .. })
    ));
    // A degree-2 ciphertext cannot be rotated.
    let t = e.tensor(&top, &top).unwrap();
    assert!(matches!(e.rotate(&t, 1), Err(Error::DegreeTooHigh { .. })));
}

#[test]
fn lazy_relinearization_equals_eager() {
    let f = n12();
    let e = &f.eval;
    let n = f.params.slots();
    let l = f.params.max_level();
    let xs: Vec<_> = (0..4).map(|i| values(n, 10 + i)).collect();
    let cts: Vec<_> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| enc(f, x, l, i as u64))
        .collect();
    // x0*x1 + x2*x3
    let want: Vec<_> = (0..n)
        .map(|j| xs[0][j] * xs[1][j] + xs[2][j] * xs[3][j])
        .collect();
    let lazy = e
        .add(
            &e.tensor(&cts[0], &cts[1]).unwrap(),
            &e.tensor(&cts[2], &cts[3]).unwrap(),
        )
        .unwrap();
    assert_eq!(lazy.degree(), 2);
    let lazy = e.rescale(&e.relinearize(&lazy).unwrap()).unwrap();
    let eager = e
        .add(
            &e.mul_relin(&cts[0], &cts[1]).unwrap(),
            &e.mul_relin(&cts[2], &cts[3]).unwrap(),
        )
        .unwrap();
    let eager = e.rescale(&eager).unwrap();
    // The fused mul_relin is exactly relinearize(tensor), at the top and at a lower level.
    for lvl in [l, 1] {
        let (x, y) = (
            e.drop_to_level(&cts[0], lvl).unwrap(),
            e.drop_to_level(&cts[1], lvl).unwrap(),
        );
        let two_step = e.relinearize(&e.tensor(&x, &y).unwrap()).unwrap();
        assert_eq!(e.mul_relin(&x, &y).unwrap(), two_step, "level {lvl}");
    }
    let (dl, de) = (dec(f, &lazy), dec(f, &eager));
    assert!(precision_bits(&dl, &want) > 20.0);
    assert!(precision_bits(&de, &want) > 20.0);
    assert!(precision_bits(&dl, &de) > 20.0);
    // Degree 2 decrypts directly, too.
    let raw = e.tensor(&cts[0], &cts[1]).unwrap();
    let d = Decryptor::new(&f.sk).decrypt(&raw).unwrap();
    let want: Vec<_> = (0..n).map(|j| xs[0][j] * xs[1][j]).collect();
    assert!(precision_bits(&f.params.decode(&d).unwrap(), &want) > 20.0);
}

#[test]
fn fused_relinearize_rescale_matches_two_step() {
    let f = n12();
    let e = &f.eval;
    let n = f.params.slots();
    let l = f.params.max_level();
    let (xv, yv) = (values(n, 31), values(n, 32));
    let want: Vec<_> = xv.iter().zip(&yv).map(|(x, y)| x * y).collect();
    let (x, y) = (enc(f, &xv, l, 1), enc(f, &yv, l, 2));
    for lvl in [l, l / 2, 1] {
        let (x, y) = (
            e.drop_to_level(&x, lvl).unwrap(),
            e.drop_to_level(&y, lvl).unwrap(),
        );
        let fused = e.mul_relin_rescale(&x, &y).unwrap();
        let two_step = e.rescale(&e.mul_relin(&x, &y).unwrap()).unwrap();
        assert_eq!(fused.level(), lvl - 1);
        assert_eq!(fused.scale(), two_step.scale());
        let (df, dt) = (dec(f, &fused), dec(f, &two_step));
        // One exact division by P·q_l instead of two roundings: the same product, at least as
        // precise.
        assert!(precision_bits(&df, &dt) > 24.0, "level {lvl}");
        assert!(
            precision_bits(&df, &want) >= precision_bits(&dt, &want) - 0.5,
            "level {lvl}: fused {} vs two-step {}",
            precision_bits(&df, &want),
            precision_bits(&dt, &want)
        );
    }
    // At level 0 it fails exactly as the two-step form does.
    let (x0, y0) = (
        e.drop_to_level(&x, 0).unwrap(),
        e.drop_to_level(&y, 0).unwrap(),
    );
    assert!(matches!(
        e.mul_relin_rescale(&x0, &y0),
        Err(Error::LevelExhausted { .. })
    ));
}

#[test]
fn rotations_conjugation_and_hoisting() {
    let f = n12();
    let e = &f.eval;
    let n = f.params.slots();
    let l = f.params.max_level();
    let a = values(n, 20);
    let ct = enc(f, &a, l, 7);
    let steps = rotation_steps_n12();
    let hoisted = e.rotate_hoisted(&ct, &steps).unwrap();
    for (k, h) in steps.iter().zip(&hoisted) {
        let want: Vec<_> = (0..n)
            .map(|j| a[(j as i64 + k).rem_euclid(n as i64) as usize])
            .collect();
        let plain = e.rotate(&ct, *k).unwrap();
        // Plain and hoisted rotations share one code path: identical ciphertexts.
        assert_eq!(h, &plain, "hoisted vs plain {k}");
        let (dp, dh) = (dec(f, &plain), dec(f, h));
        let bits = precision_bits(&dp, &want);
        assert!(bits > 22.0, "rotate {k}: {bits:.1}");
        assert!(precision_bits(&dh, &want) > 22.0, "hoisted {k}");
        assert!(precision_bits(&dh, &dp) > 22.0, "hoisted vs plain {k}");
    }
    let conj = e.conjugate(&ct).unwrap();
    let want: Vec<_> = a.iter().map(|x| x.conj()).collect();
    assert!(precision_bits(&dec(f, &conj), &want) > 22.0);
    // Rotations at a lower level.
    let low = e.drop_to_level(&ct, 2).unwrap();
    let r = e.rotate(&low, 3).unwrap();
    let want: Vec<_> = (0..n).map(|j| a[(j + 3) % n]).collect();
    assert!(precision_bits(&dec(f, &r), &want) > 20.0);
    // Hoisted sum of rotations (one ModUp, one ModDown) equals the sum of rotations.
    let sum_steps = [0i64, 1, 2, 3, 5, -7];
    let hs = e.sum_rotations_hoisted(&ct, &sum_steps).unwrap();
    let want: Vec<_> = (0..n)
        .map(|j| {
            sum_steps
                .iter()
                .map(|k| a[(j as i64 + k).rem_euclid(n as i64) as usize])
                .sum::<Complex64>()
        })
        .collect();
    let bits = precision_bits(&dec(f, &hs), &want);
    assert!(bits > 20.0, "sum_rotations_hoisted: {bits:.1}");
    assert!(e.sum_rotations_hoisted(&ct, &[]).is_err());
    assert!(e.sum_rotations_hoisted(&ct, &[7]).is_err());
    // Sum of all slots.
    let total: Complex64 = a.iter().sum();
    let s = e.rotate_and_sum(&ct, 1, n).unwrap();
    let got = dec(f, &s);
    assert!(precision_bits(&got, &vec![total; n]) > 14.0);
}

#[test]
fn all_rotation_steps_small_n() {
    let mut lit = ParametersLiteral::insecure_n10();
    lit.log_slots = Some(4);
    let params = Parameters::new(lit).unwrap();
    let mut r = rng(77);
    let sk = SecretKey::generate(&params, &mut r).unwrap();
    let pk = sk.public_key(&mut r).unwrap();
    let n = params.slots() as i64;
    let steps: Vec<i64> = (-n + 1..n).collect();
    let gk = sk.rotation_keys(&steps, true, &mut r).unwrap();
    // k and k - n are the same rotation; 0 needs no key; plus conjugation.
    assert_eq!(gk.len(), n as usize);
    let eval = Evaluator::new(&params).with_galois_keys(gk);
    let a = values(n as usize, 33);
    let ct = Encryptor::new(&pk)
        .encrypt_values(&a, params.max_level(), &mut r)
        .unwrap();
    let d = Decryptor::new(&sk);
    for k in steps {
        let want: Vec<_> = (0..n).map(|j| a[(j + k).rem_euclid(n) as usize]).collect();
        let got = d.decrypt_decode(&eval.rotate(&ct, k).unwrap()).unwrap();
        let bits = precision_bits(&got, &want);
        assert!(bits > 12.0, "step {k}: {bits:.1}");
    }
    let got = d.decrypt_decode(&eval.conjugate(&ct).unwrap()).unwrap();
    let want: Vec<_> = a.iter().map(|x| x.conj()).collect();
    assert!(precision_bits(&got, &want) > 12.0);
}

#[test]
fn drop_levels_canonical() {
    let f = n12();
    let e = &f.eval;
    let a = values(f.params.slots(), 40);
    let l = f.params.max_level();
    let ct = enc(f, &a, l, 8);
    let t = 3;
    let moved = e.drop_to_level_canonical(&ct, t).unwrap();
    assert_eq!(moved.level(), t);
    assert_eq!(moved.scale(), f.params.scale_at(t));
    assert!(precision_bits(&dec(f, &moved), &a) > 22.0);
    // It adds to a fresh ciphertext at level t without a scale mismatch.
    let fresh = enc(f, &a, t, 9);
    let s = e.add(&moved, &fresh).unwrap();
    let want: Vec<_> = a.iter().map(|x| x * 2.0).collect();
    assert!(precision_bits(&dec(f, &s), &want) > 21.0);
    assert!(e.drop_to_level_canonical(&ct, l).is_err());
}

#[test]
fn key_switching_noise_within_bound() {
    // Compare the decryption of a rotation with the exact automorphism of the decryption, in
    // coefficients: the difference is the key-switching noise. Worst-case bound
    // dnum·N·α·6σ·max(D_j)/P (inner product over ModUp representatives) + (K+1)·N (ModDown
    // rounding times the ternary secret) + 1.
    let f = n12();
    let p = &f.params;
    let l = p.max_level();
    let ct = enc(f, &values(p.slots(), 50), l, 10);
    let d = Decryptor::new(&f.sk);
    let k = 5;
    let g = p.galois_element(k);
    let before = d
        .decrypt(&ct)
        .unwrap()
        .poly()
        .automorphism(g)
        .unwrap()
        .to_coeff();
    let after = d
        .decrypt(&f.eval.rotate(&ct, k).unwrap())
        .unwrap()
        .poly()
        .into_owned()
        .to_coeff();
    let (b, a) = (
        crt_centered_f64(&before, l + 1),
        crt_centered_f64(&after, l + 1),
    );
    let noise = b
        .iter()
        .zip(&a)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    let n = p.n() as f64;
    let log_p: f64 = p.p_primes().iter().map(|&x| (x as f64).log2()).sum();
    let digits = p.digits_at(l);
    let log_dmax = digits
        .iter()
        .map(|r| {
            p.q_primes()[r.clone()]
                .iter()
                .map(|&x| (x as f64).log2())
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let alpha = p.digit_size() as f64;
    let bound = digits.len() as f64 * n * alpha * 6.0 * p.sigma() * 2f64.powf(log_dmax - log_p)
        + (p.p_primes().len() as f64 + 1.0) * n
        + 1.0;
    assert!(
        noise > 0.0 && noise <= bound,
        "noise {noise} vs bound {bound}"
    );
    // The noise is tiny compared to the scale.
    assert!(
        noise.log2() < p.scale_at(l).log2() - 25.0,
        "noise 2^{:.1}",
        noise.log2()
    );
}

#[test]
fn public_decode_and_secret_export() {
    let f = n12();
    let a = values(f.params.slots(), 60);
    let ct = enc(f, &a, 2, 11);
    let d = Decryptor::new(&f.sk);
    let out = d.decrypt_decode_public(&ct, 16, 12, &mut rng(5)).unwrap();
    let bits = precision_bits(&out, &a);
    assert!(bits > 10.0, "{bits:.1}");
    for v in &out {
        assert_eq!((v.re * 4096.0).fract(), 0.0);
    }
    assert!(d.decrypt_decode_public(&ct, 40, 12, &mut rng(5)).is_err());
    // Export / import of the secret key.
    let bytes = f.sk.export_secret_bytes();
    let sk2 = SecretKey::import_secret_bytes(&f.params, &bytes).unwrap();
    let got = Decryptor::new(&sk2).decrypt_decode(&ct).unwrap();
    assert!(precision_bits(&got, &a) > 20.0);
    let mut bad = bytes.to_vec();
    bad[20] = 7;
    assert!(SecretKey::import_secret_bytes(&f.params, &bad).is_err());
    let other = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
    assert!(SecretKey::import_secret_bytes(&other, &bytes).is_err());
}

#[test]
fn concurrent_use_of_one_evaluator() {
    let f = n12();
    let eval = Arc::new(f.eval.clone());
    let l = f.params.max_level();
    let inputs: Vec<_> = (0..4).map(|i| values(f.params.slots(), 70 + i)).collect();
    let cts: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, x)| enc(f, x, l, i as u64))
        .collect();
    let results: Vec<Ciphertext> = std::thread::scope(|s| {
        let handles: Vec<_> = cts
            .iter()
            .map(|ct| {
                let eval = eval.clone();
                s.spawn(move || {
                    let sq = eval.rescale(&eval.mul_relin(ct, ct).unwrap()).unwrap();
                    eval.rotate(&sq, 1).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Releasing the key-switching buffer pool is always safe.
    crate::keyswitch::clear_buffer_pool();
    let n = f.params.slots();
    for (x, r) in inputs.iter().zip(&results) {
        let want: Vec<_> = (0..n).map(|j| x[(j + 1) % n] * x[(j + 1) % n]).collect();
        assert!(precision_bits(&dec(f, r), &want) > 20.0);
    }
}

#[test]
fn serialization_round_trips_and_rejections() {
    use crate::serialization::{Blob, HEADER_LEN};
    let mut lit = ParametersLiteral::insecure_n10();
    lit.log_slots = Some(5);
    let params = Parameters::new(lit).unwrap();
    let mut r = rng(99);
    let sk = SecretKey::generate(&params, &mut r).unwrap();
    let pk = sk.public_key(&mut r).unwrap();
    let rlk = sk.relinearization_key(&mut r).unwrap();
    let gk = sk.rotation_keys(&[1, -3], true, &mut r).unwrap();
    let a = values(params.slots(), 5);
    let d = Decryptor::new(&sk);
    let fresh = d
        .encrypt_symmetric(&params.encode_at(&a, 3).unwrap(), &mut r)
        .unwrap();
    let pub_ct = Encryptor::new(&pk).encrypt_values(&a, 3, &mut r).unwrap();
    let e = Evaluator::new(&params).with_relinearization_key(rlk.clone());
    let deg2 = e.tensor(&pub_ct, &pub_ct).unwrap();

    // Round trips.
    let fresh_bytes = fresh.to_bytes(&params).unwrap();
    let full_bytes = pub_ct.to_bytes(&params).unwrap();
    assert!(
        fresh_bytes.len() * 2 < full_bytes.len() + 200,
        "seeded is half size"
    );
    for (ct, bytes) in [(&fresh, fresh_bytes.clone()), (&pub_ct, full_bytes.clone())] {
        assert_eq!(&Ciphertext::from_bytes(&params, &bytes).unwrap(), ct);
    }
    let b = deg2.to_bytes(&params).unwrap();
    assert_eq!(Ciphertext::from_bytes(&params, &b).unwrap(), deg2);
    let pk2 = PublicKey::from_bytes(&params, &pk.to_bytes()).unwrap();
    assert_eq!(pk2, pk);
    let rlk2 = RelinearizationKey::from_bytes(&params, &rlk.to_bytes()).unwrap();
    assert_eq!(rlk2, rlk);
    let gk_bytes = gk.to_bytes();
    let gk2 = GaloisKeys::from_bytes(&params, &gk_bytes).unwrap();
    assert_eq!(gk2, gk);
    // Reloaded keys work.
    let e2 = Evaluator::new(&params)
        .with_relinearization_key(rlk2)
        .with_galois_keys(gk2);
    let ct = Encryptor::new(&pk2).encrypt_values(&a, 3, &mut r).unwrap();
    let out = d
        .decrypt_decode(
            &e2.rotate(&e2.rescale(&e2.mul_relin(&ct, &ct).unwrap()).unwrap(), 1)
                .unwrap(),
        )
        .unwrap();
    let n = params.slots();
    let want: Vec<_> = (0..n).map(|j| a[(j + 1) % n] * a[(j + 1) % n]).collect();
    assert!(precision_bits(&out, &want) > 12.0);
    // Serde through JSON.
    let json = serde_json::to_string(&Blob(full_bytes.clone())).unwrap();
    let blob: Blob = serde_json::from_str(&json).unwrap();
    assert_eq!(Ciphertext::from_bytes(&params, &blob.0).unwrap(), pub_ct);
    let json = serde_json::to_string(&pk).unwrap();
    let blob: Blob = serde_json::from_str(&json).unwrap();
    assert_eq!(PublicKey::from_bytes(&params, &blob.0).unwrap(), pk);

    // Rejections: every truncation, corrupted header fields, residues, trailing bytes.
    for cut in [
        0,
        3,
        HEADER_LEN - 1,
        HEADER_LEN,
        HEADER_LEN + 5,
        full_bytes.len() - 1,
    ] {
        assert!(
            Ciphertext::from_bytes(&params, &full_bytes[..cut]).is_err(),
            "cut {cut}"
        );
    }
    for cut in (0..gk_bytes.len()).step_by(gk_bytes.len() / 17) {
        assert!(GaloisKeys::from_bytes(&params, &gk_bytes[..cut]).is_err());
    }
    let corrupt = |at: usize, v: u8| {
        let mut b = full_bytes.clone();
        b[at] = v;
        Ciphertext::from_bytes(&params, &b)
    };
    assert!(corrupt(0, b'X').is_err(), "magic");
    assert!(corrupt(4, 9).is_err(), "version");
    assert!(corrupt(6, 2).is_err(), "kind");
    assert!(corrupt(7, 1).is_err(), "reserved");
    assert!(corrupt(9, full_bytes[9] ^ 1).is_err(), "fingerprint");
    assert!(corrupt(HEADER_LEN, 200).is_err(), "level");
    assert!(corrupt(HEADER_LEN + 12, 7).is_err(), "components");
    // A residue set to all ones is above every prime.
    let mut b = full_bytes.clone();
    let at = b.len() - 8;
    b[at..].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = Ciphertext::from_bytes(&params, &b).unwrap_err();
    assert!(err.to_string().contains("residue"), "{err}");
    let mut b = full_bytes.clone();
    b.push(0);
    assert!(
        Ciphertext::from_bytes(&params, &b).is_err(),
        "trailing byte"
    );
    assert!(Ciphertext::from_bytes_with_limit(&params, &full_bytes, 100).is_err());
    // Wrong object kind and foreign parameters.
    assert!(PublicKey::from_bytes(&params, &full_bytes).is_err());
    let other = Parameters::new(ParametersLiteral::insecure_n11()).unwrap();
    assert!(Ciphertext::from_bytes(&other, &full_bytes).is_err());
    assert!(pub_ct.to_bytes(&other).is_err());
    // Unordered / even Galois elements.
    let mut b = gk_bytes.clone();
    b[HEADER_LEN + 4..HEADER_LEN + 12].copy_from_slice(&4u64.to_le_bytes());
    assert!(GaloisKeys::from_bytes(&params, &b).is_err());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]

        /// A random small circuit against its plaintext twin: (a·b + c)·k rotated by r,
        /// conjugated, with a plaintext added.
        #[test]
        fn random_circuit_matches_plaintext(seed in any::<u64>(), r in -40i64..40, k in -2.0f64..2.0) {
            let f = n12();
            let e = &f.eval;
            let n = f.params.slots();
            let l = f.params.max_level();
            let (a, b, c) = (values(n, seed), values(n, seed ^ 1), values(n, seed ^ 2));
            let ca = enc(f, &a, l, seed);
            let cb = enc(f, &b, l, seed ^ 3);
            let ab = e.rescale(&e.mul_relin(&ca, &cb).unwrap()).unwrap();
            let pc = f.params.encode_at(&c, l - 1).unwrap();
            let s = e.add_plain(&ab, &pc).unwrap();
            let s = e.rescale(&e.mul_const(&s, Complex64::new(k, 0.0)).unwrap()).unwrap();
            // Rotation keys exist for the powers of two; compose r from them.
            let mut out = s;
            let mut rem = r.rem_euclid(n as i64);
            let mut bit = 1i64;
            while rem > 0 {
                if rem & 1 == 1 {
                    out = e.rotate(&out, bit).unwrap();
                }
                rem >>= 1;
                bit <<= 1;
            }
            let out = e.conjugate(&out).unwrap();
            let want: Vec<Complex64> = (0..n)
                .map(|j| {
                    let i = (j as i64 + r).rem_euclid(n as i64) as usize;
                    ((a[i] * b[i] + c[i]) * k).conj()
                })
                .collect();
            let bits = precision_bits(&dec(f, &out), &want);
            prop_assert!(bits > 18.0, "{bits:.1} bits");
        }
    }
}

/// The 128-bit `N = 2^16` preset end to end (kept cheap: one relinearization key, one
/// product, sparse test values).
#[test]
fn n16_128_bit_multiply() {
    let params = Parameters::new(ParametersLiteral::n16_qp1325()).unwrap();
    let mut r = rng(16);
    let sk = SecretKey::generate(&params, &mut r).unwrap();
    let pk = sk.public_key(&mut r).unwrap();
    let eval =
        Evaluator::new(&params).with_relinearization_key(sk.relinearization_key(&mut r).unwrap());
    let a = values(params.slots(), 160);
    let ct = Encryptor::new(&pk)
        .encrypt_values(&a, params.max_level(), &mut r)
        .unwrap();
    let sq = eval.rescale(&eval.mul_relin(&ct, &ct).unwrap()).unwrap();
    assert_eq!(sq.scale(), params.scale_at(params.max_level() - 1));
    let want: Vec<_> = a.iter().map(|x| x * x).collect();
    let d = Decryptor::new(&sk);
    let bits = precision_bits(&d.decrypt_decode(&sq).unwrap(), &want);
    assert!(bits > 22.0, "{bits:.1} bits");
    let bits = precision_bits(&d.decrypt_decode(&ct).unwrap(), &a);
    assert!(bits > 22.0, "fresh {bits:.1} bits");
}

/// `Σ p ⊙ Rot(ct, k)` per group: double hoisting (plaintexts over `Q ∪ P`) and the hoisted
/// fallback (ordinary plaintexts) both match the f64 twin (measured 27.4 and 27.2 bits: one
/// ModDown rounding per group instead of one per rotation).
/// Compacted plaintexts (rows kept as one value per run, [`Plaintext::compacted`]): a slot
/// vector of period `p` compacts to runs of `n/p` (and nothing else does), expands back to the
/// same polynomial, and gives bit for bit the same products, sums and decodings as the full
/// plaintext, including double-hoisted sums that mix both forms.
#[test]
fn compacted_plaintexts_act_like_full_ones() {
    let f = n12();
    let e = &f.eval;
    let n = f.params.slots();
    let level = 2;
    let scale = f.params.q_primes()[level] as f64;
    let v = values(n, 51);
    let ct = enc(f, &v, level, 52);
    let periodic = |p: usize, seed: u64| -> Vec<Complex64> {
        let base = values(p, seed);
        (0..n).map(|i| base[i % p]).collect()
    };
    let cases = [(1, 53), (4, 54), (64, 55), (n, 56)];
    let mut full_pts = Vec::new();
    let mut compact_pts = Vec::new();
    for &(p, seed) in &cases {
        let pt = f
            .params
            .encode_extended(&periodic(p, seed), level, scale)
            .unwrap();
        let compact = pt.clone().compacted();
        let want_run = if p == n { 1 } else { n / p };
        assert_eq!(compact.run_length(), want_run, "period {p}");
        assert_eq!(compact.memory_bytes() * want_run, pt.memory_bytes());
        assert_eq!(compact.poly(), pt.poly(), "period {p}");
        // Any segment of any limb.
        for (t, start, len) in [(0, 0, 2 * n), (1, 5, 300), (level + 1, 2 * n - 7, 7)] {
            let mut seg = vec![0u64; len];
            compact.write_limb_segment(t, start, &mut seg);
            assert_eq!(
                seg,
                pt.poly().limb(t)[start..start + len],
                "period {p}, limb {t}"
            );
        }
        assert_eq!(
            e.mul_plain(&ct, &compact).unwrap(),
            e.mul_plain(&ct, &pt).unwrap()
        );
        let addend = f
            .params
            .encode(&periodic(p, seed), level, ct.scale())
            .unwrap();
        let compact_addend = addend.clone().compacted();
        assert_eq!(
            e.add_plain(&ct, &compact_addend).unwrap(),
            e.add_plain(&ct, &addend).unwrap()
        );
        assert_eq!(
            f.params.decode(&compact_addend).unwrap(),
            f.params.decode(&addend).unwrap()
        );
        full_pts.push(pt);
        compact_pts.push(compact);
    }
    let steps = [0i64, 1, -7, 16];
    fn group<'a>(
        params: &Parameters,
        steps: &[i64],
        pts: &'a [Plaintext],
    ) -> Vec<(usize, &'a Plaintext)> {
        steps
            .iter()
            .zip(pts)
            .map(|(&k, pt)| (params.galois_element(k), pt))
            .collect()
    }
    let group = |pts| group(&f.params, &steps, pts);
    let want = e
        .automorphism_sums(&ct, &[group(&full_pts), group(&full_pts[1..])])
        .unwrap();
    let got = e
        .automorphism_sums(&ct, &[group(&compact_pts), group(&compact_pts[1..])])
        .unwrap();
    assert_eq!(got, want);
    let mixed: Vec<Plaintext> = vec![
        full_pts[0].clone(),
        compact_pts[1].clone(),
        full_pts[2].clone(),
        compact_pts[3].clone(),
    ];
    let got = e.automorphism_sums(&ct, &[group(&mixed)]).unwrap();
    assert_eq!(got[0], want[0]);
}

#[test]
fn automorphism_sums_double_hoisting() {
    let f = n12();
    let e = &f.eval;
    let n = f.params.slots();
    let level = 2;
    let v = values(n, 41);
    let ct = enc(f, &v, level, 42);
    let rot = |x: &[Complex64], k: i64| -> Vec<Complex64> {
        (0..n)
            .map(|i| x[(i as i64 + k).rem_euclid(n as i64) as usize])
            .collect()
    };
    let groups_steps: [&[i64]; 2] = [&[0, 1, 2, 3], &[5, 16, -1]];
    let diag = |g: usize, j: usize| values(n, 100 + 10 * g as u64 + j as u64);
    let scale = f.params.q_primes()[level] as f64;
    let want: Vec<Vec<Complex64>> = groups_steps
        .iter()
        .enumerate()
        .map(|(g, steps)| {
            let mut acc = vec![c(0.0, 0.0); n];
            for (j, &k) in steps.iter().enumerate() {
                for ((a, d), r) in acc.iter_mut().zip(diag(g, j)).zip(rot(&v, k)) {
                    *a += d * r;
                }
            }
            acc
        })
        .collect();
    let mut bits = Vec::new();
    for extended in [true, false] {
        let pts: Vec<Vec<(usize, Plaintext)>> = groups_steps
            .iter()
            .enumerate()
            .map(|(g, steps)| {
                steps
                    .iter()
                    .enumerate()
                    .map(|(j, &k)| {
                        let pt = if extended {
                            f.params.encode_extended(&diag(g, j), level, scale)
                        } else {
                            f.params.encode(&diag(g, j), level, scale)
                        };
                        (f.params.galois_element(k), pt.unwrap())
                    })
                    .collect()
            })
            .collect();
        let groups: Vec<Vec<(usize, &Plaintext)>> = pts
            .iter()
            .map(|g| g.iter().map(|(k, p)| (*k, p)).collect())
            .collect();
        let out = e.automorphism_sums(&ct, &groups).unwrap();
        assert_eq!(out.len(), 2);
        let mut worst = f64::INFINITY;
        for (o, w) in out.iter().zip(&want) {
            assert_eq!(o.level(), level);
            let r = e.rescale(o).unwrap();
            let b = precision_bits(&dec(f, &r), w);
            worst = worst.min(b);
        }
        assert!(worst > 18.0, "extended {extended}: {worst:.1} bits");
        bits.push(worst);
        // The extended plaintexts also work as ordinary ones.
        let p = &pts[0][1].1;
        let direct = e.rescale(&e.mul_plain(&ct, p).unwrap()).unwrap();
        let w: Vec<Complex64> = diag(0, 1).iter().zip(&v).map(|(d, x)| d * x).collect();
        assert!(precision_bits(&dec(f, &direct), &w) > 18.0);
    }
    eprintln!(
        "automorphism sums: double hoisting {:.1} bits, hoisted {:.1} bits",
        bits[0], bits[1]
    );
    // A missing key, an empty group, a plaintext below the ciphertext: errors.
    let pt = f.params.encode_extended(&v, level, scale).unwrap();
    assert!(matches!(
        e.automorphism_sums(&ct, &[vec![(f.params.galois_element(9), &pt)]]),
        Err(Error::MissingKey { .. })
    ));
    assert!(e.automorphism_sums(&ct, &[vec![]]).is_err());
    let low = f.params.encode_extended(&v, level - 1, scale).unwrap();
    assert!(matches!(
        e.automorphism_sums(&ct, &[vec![(1, &low)]]),
        Err(Error::LevelMismatch { .. })
    ));
}
