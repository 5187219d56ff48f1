//! Loops one key-switching operation on the 128-bit `N = 2^16` chain, for profiling with `perf`.
//!
//! ```text
//! cargo run --release -p hetal-ckks --example ks_profile -- [mul_relin|rotate|hoisted] [reps] [threads]
//! ```
//! Prints the median time per operation in ms.

use std::time::Instant;

use hetal_ckks::prelude::*;
use num_complex::Complex64;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// User + system CPU time of the whole process in ms (Linux `/proc/self/stat`, 100 Hz ticks);
/// robust against other processes on a shared machine, unlike wall time. NaN elsewhere.
fn process_cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f[11] + f[12]) * 10.0
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    // Keep freed polynomial buffers in the process (see `hetal_ckks::memory`).
    hetal_ckks::memory::retain_freed_memory();
    let op = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("rotate")
        .to_string();
    let reps: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(20);
    let threads: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("thread pool");
    let params = Parameters::new(ParametersLiteral::n16_qp1325())?;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let sk = SecretKey::generate(&params, &mut rng)?;
    let pk = sk.public_key(&mut rng)?;
    let steps: Vec<i64> = (1..=8).collect();
    let mut eval = Evaluator::new(&params);
    if op == "mul_relin" {
        eval = eval.with_relinearization_key(sk.relinearization_key(&mut rng)?);
    } else {
        eval = eval.with_galois_keys(sk.rotation_keys(&steps, false, &mut rng)?);
    }
    let enc = Encryptor::new(&pk);
    let n = params.slots();
    let a: Vec<Complex64> = (0..n)
        .map(|i| Complex64::new((i % 13) as f64 / 13.0 - 0.5, 0.25))
        .collect();
    let level = params.max_level();
    let ct = enc.encrypt(&params.encode_at(&a, level)?, &mut rng)?;
    let mut times = Vec::new();
    let cpu0 = process_cpu_ms();
    for _ in 0..reps {
        let t = Instant::now();
        match op.as_str() {
            "mul_relin" => drop(eval.mul_relin(&ct, &ct)?),
            "hoisted" => drop(eval.rotate_hoisted(&ct, &steps)?),
            _ => drop(eval.rotate(&ct, 1)?),
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let cpu = (process_cpu_ms() - cpu0) / reps as f64;
    times.sort_by(|x, y| x.partial_cmp(y).unwrap());
    println!(
        "{op}: median {:.1} ms, min {:.1} ms, mean CPU {cpu:.1} ms over {reps} reps, {threads} thread(s)",
        times[reps / 2],
        times[0]
    );
    Ok(())
}
