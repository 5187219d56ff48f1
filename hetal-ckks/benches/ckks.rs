//! Criterion benchmarks of the core CKKS operations.
//!
//! `cargo bench -p hetal-ckks` runs them on the insecure `N = 2^13` test set; set
//! `HETAL_BENCH_N16=1` to add the 128-bit `N = 2^16` chain (top level, 25 Q limbs).

use criterion::{Criterion, criterion_main};
use hetal_ckks::prelude::*;
use num_complex::Complex64;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn bench_set(c: &mut Criterion, name: &str, lit: ParametersLiteral) {
    let params = Parameters::new(lit).expect("valid preset");
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let sk = SecretKey::generate(&params, &mut rng).expect("keygen");
    let pk = sk.public_key(&mut rng).expect("pk");
    let steps: Vec<i64> = (1..=8).collect();
    let eval = Evaluator::new(&params)
        .with_relinearization_key(sk.relinearization_key(&mut rng).expect("rlk"))
        .with_galois_keys(sk.rotation_keys(&steps, true, &mut rng).expect("gk"));
    let values: Vec<Complex64> = (0..params.slots())
        .map(|i| Complex64::new((i % 17) as f64 / 17.0, 0.25))
        .collect();
    let top = params.max_level();
    let enc = Encryptor::new(&pk);
    let ct = enc.encrypt_values(&values, top, &mut rng).expect("encrypt");
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.bench_function("encode", |b| b.iter(|| params.encode_at(&values, top)));
    g.bench_function("encrypt", |b| {
        let pt = params.encode_at(&values, top).expect("encode");
        b.iter(|| enc.encrypt(&pt, &mut rng))
    });
    g.bench_function("add", |b| b.iter(|| eval.add(&ct, &ct)));
    g.bench_function("mul_relin", |b| b.iter(|| eval.mul_relin(&ct, &ct)));
    let prod = eval.mul_relin(&ct, &ct).expect("mul");
    g.bench_function("rescale", |b| b.iter(|| eval.rescale(&prod)));
    g.bench_function("rotate", |b| b.iter(|| eval.rotate(&ct, 1)));
    g.bench_function("hoisted_rotations_8", |b| {
        b.iter(|| eval.rotate_hoisted(&ct, &steps))
    });
    g.bench_function("conjugate", |b| b.iter(|| eval.conjugate(&ct)));
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_set(c, "insecure_n13", ParametersLiteral::insecure_n13());
    if std::env::var_os("HETAL_BENCH_N16").is_some() {
        bench_set(c, "n16_qp1325", ParametersLiteral::n16_qp1325());
    }
}

#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(ckks, super::benches);
}
criterion_main!(group::ckks);
