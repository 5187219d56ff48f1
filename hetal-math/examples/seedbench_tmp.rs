//! tmp
use hetal_math::{Modulus, generate_ntt_primes, sampling::uniform_limb_from_seed};
use std::time::Instant;
fn main() {
    let n = 1 << 16;
    let above = hetal_math::prime::closest_ntt_prime((1u64 << 40) + (1 << 30), n, &[]).unwrap();
    for q in [
        generate_ntt_primes(40, n, 1).unwrap()[0],
        generate_ntt_primes(61, n, 1).unwrap()[0],
        above,
    ] {
        let m = Modulus::new(q).unwrap();
        let mut out = vec![0u64; n];
        let t = Instant::now();
        for i in 0..200u64 {
            uniform_limb_from_seed(&[i as u8; 32], i, &m, &mut out);
        }
        let e = t.elapsed().as_secs_f64() / 200.0;
        println!("{}-bit limb: {:.1} us", m.bits(), e * 1e6);
    }
}
