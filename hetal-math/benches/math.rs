//! Criterion benchmarks for hetal-math (single thread).
//!
//! `cargo bench -p hetal-math --bench math` (append `--features concrete-ntt` for the other
//! NTT backend). Measurement times are short so the whole run takes a few minutes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_main};
use hetal_math::sampling::uniform_poly;
use hetal_math::{Context, NTT_BACKEND, NttPlan, RnsChain, generate_ntt_primes};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn ntt(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("ntt/{NTT_BACKEND}"));
    g.warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(700));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for log_n in 12..=16u32 {
        let n = 1usize << log_n;
        for bits in [40u32, 50, 60] {
            let p = generate_ntt_primes(bits, n, 1).unwrap()[0];
            let plan = NttPlan::get(n, p).unwrap();
            let mut a: Vec<u64> = (0..n).map(|_| rng.next_u64() % p).collect();
            let id = format!("logn{log_n}/{bits}bit");
            g.bench_function(BenchmarkId::new("forward", &id), |b| {
                b.iter(|| plan.forward(black_box(&mut a)))
            });
            g.bench_function(BenchmarkId::new("inverse", &id), |b| {
                b.iter(|| plan.inverse(black_box(&mut a)))
            });
        }
    }
    g.finish();
}

fn pointwise(c: &mut Criterion) {
    let mut g = c.benchmark_group("pointwise");
    g.warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(700));
    let n = 1usize << 16;
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for bits in [40u32, 50, 60] {
        let m = hetal_math::Modulus::new(generate_ntt_primes(bits, n, 1).unwrap()[0]).unwrap();
        let p = m.value();
        let mut a: Vec<u64> = (0..n).map(|_| rng.next_u64() % p).collect();
        let b: Vec<u64> = (0..n).map(|_| rng.next_u64() % p).collect();
        let cc: Vec<u64> = (0..n).map(|_| rng.next_u64() % p).collect();
        let id = format!("logn16/{bits}bit");
        g.bench_function(BenchmarkId::new("mul", &id), |bch| {
            bch.iter(|| m.mul_assign_slice(black_box(&mut a), &b))
        });
        g.bench_function(BenchmarkId::new("mul_add", &id), |bch| {
            bch.iter(|| m.mul_add_assign_slice(black_box(&mut a), &b, &cc))
        });
        g.bench_function(BenchmarkId::new("mul_scalar_shoup", &id), |bch| {
            bch.iter(|| m.mul_scalar_assign_slice(black_box(&mut a), 12345))
        });
        g.bench_function(BenchmarkId::new("add", &id), |bch| {
            bch.iter(|| m.add_assign_slice(black_box(&mut a), &b))
        });
    }
    g.finish();
}

fn switching(c: &mut Criterion) {
    let mut g = c.benchmark_group("switch");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    let n = 1usize << 16;
    let q = generate_ntt_primes(50, n, 25).unwrap();
    let p = generate_ntt_primes(60, n, 5).unwrap();
    let chain = RnsChain::new(n, &q, &p).unwrap();
    let top = chain.max_level();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let x_q = uniform_poly(&chain.q_context(top).unwrap(), &mut rng);
    let x_qp = uniform_poly(&chain.qp_context(top).unwrap(), &mut rng);
    let up = chain.mod_up(top, 0..q.len()).unwrap();
    let down = chain.mod_down(top).unwrap();
    let x_q_coeff = x_q.clone().to_coeff();
    let x_qp_coeff = x_qp.clone().to_coeff();
    g.bench_function("modup_ntt/logn16/q25p5", |b| {
        b.iter(|| up.apply_ntt(black_box(&x_q)).unwrap())
    });
    g.bench_function("modup_coeff/logn16/q25p5", |b| {
        b.iter(|| up.apply(black_box(&x_q_coeff)).unwrap())
    });
    g.bench_function("moddown_ntt/logn16/q25p5", |b| {
        b.iter(|| down.apply_ntt(black_box(&x_qp)).unwrap())
    });
    g.bench_function("moddown_coeff/logn16/q25p5", |b| {
        b.iter(|| down.apply(black_box(&x_qp_coeff)).unwrap())
    });
    g.bench_function("rescale_ntt/logn16/q25", |b| {
        b.iter(|| x_q.divide_round_by_last().unwrap())
    });
    g.bench_function("automorphism_ntt/logn16/q25", |b| {
        b.iter(|| x_q.automorphism(5).unwrap())
    });
    g.bench_function("automorphism_coeff/logn16/q25", |b| {
        b.iter(|| x_q_coeff.automorphism(5).unwrap())
    });
    g.bench_function("to_ntt/logn16/q25", |b| {
        b.iter(|| x_q_coeff.clone().to_ntt())
    });
    let ctx1 = Context::new(n, &q[..1]).unwrap();
    let one = uniform_poly(&ctx1, &mut rng);
    g.bench_function("automorphism_ntt/logn16/q1", |b| {
        b.iter(|| one.automorphism(5).unwrap())
    });
    g.finish();
}

/// The criterion group (its generated function has no doc comment of its own).
mod group {
    #![allow(missing_docs)]
    use super::{ntt, pointwise, switching};
    criterion::criterion_group!(benches, ntt, pointwise, switching);
}
criterion_main!(group::benches);
