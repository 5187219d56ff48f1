//! Seed expansion speed: microseconds to expand one `N = 2^16` limb of a uniform polynomial
//! from its seed ([`uniform_limb_from_seed`], AES-128-CTR with rejection sampling), for a
//! 40-bit and a 61-bit NTT prime just below a power of two and for a prime just above `2^40`
//! (41 bits: about half of the words are rejected).
//!
//! ```text
//! cargo run --release -p hetal-math --example seed_bench
//! ```

use std::time::Instant;

use hetal_math::prime::closest_ntt_prime;
use hetal_math::{Modulus, generate_ntt_primes, sampling::uniform_limb_from_seed};

fn main() {
    let n = 1 << 16;
    let reps = 200u64;
    let above = closest_ntt_prime((1u64 << 40) + (1 << 30), n, &[]).expect("prime");
    let primes = [
        generate_ntt_primes(40, n, 1).expect("prime")[0],
        generate_ntt_primes(61, n, 1).expect("prime")[0],
        above,
    ];
    for q in primes {
        let m = Modulus::new(q).expect("modulus");
        let mut out = vec![0u64; n];
        let t = Instant::now();
        for i in 0..reps {
            uniform_limb_from_seed(&[i as u8; 32], i, &m, &mut out);
        }
        let us = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
        println!(
            "{{\"op\": \"uniform_limb_from_seed\", \"log_n\": 16, \"prime_bits\": {}, \"us\": {us:.1}}}",
            m.bits()
        );
    }
}
