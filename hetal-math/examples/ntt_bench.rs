//! Median forward / inverse NTT times at N = 2^16, one JSON object per line.
//!
//! ```text
//! cargo run --release -p hetal-math --example ntt_bench                        # tfhe-ntt only
//! cargo run --release -p hetal-math --features concrete-ntt --example ntt_bench # both backends
//! ```
//!
//! "inv" is the inverse transform followed by the `1/N` normalisation (what
//! `hetal_math::NttPlan::inverse` does). Single thread; median of `RUNS` runs after warm-up.

use std::hint::black_box;
use std::time::Instant;

use hetal_math::generate_ntt_primes;

const LOG_N: u32 = 16;
const RUNS: usize = 301;

fn median_us(mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let mut t: Vec<f64> = (0..RUNS)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[RUNS / 2]
}

fn report(backend: &str, bits: u32, fwd: f64, inv: f64) {
    println!(
        "{{\"backend\": \"{backend}\", \"log_n\": {LOG_N}, \"prime_bits\": {bits}, \"fwd_us\": {fwd:.1}, \"inv_us\": {inv:.1}}}"
    );
}

fn main() {
    let n = 1usize << LOG_N;
    for bits in [40u32, 50, 60] {
        let p = generate_ntt_primes(bits, n, 1).expect("primes exist")[0];
        let data: Vec<u64> = (0..n as u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % p)
            .collect();

        let plan = tfhe_ntt::prime64::Plan::try_new(n, p).expect("NTT-friendly prime");
        let mut buf = data.clone();
        let fwd = median_us(|| plan.fwd(black_box(&mut buf)));
        let inv = median_us(|| {
            plan.inv(black_box(&mut buf));
            plan.normalize(&mut buf);
        });
        report("tfhe-ntt", bits, fwd, inv);

        #[cfg(feature = "concrete-ntt")]
        {
            let plan = concrete_ntt::prime64::Plan::try_new(n, p).expect("NTT-friendly prime");
            let mut buf = data.clone();
            let fwd = median_us(|| plan.fwd(black_box(&mut buf)));
            let inv = median_us(|| {
                plan.inv(black_box(&mut buf));
                plan.normalize(&mut buf);
            });
            report("concrete-ntt", bits, fwd, inv);
        }
    }
}
