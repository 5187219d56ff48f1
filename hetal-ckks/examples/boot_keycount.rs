//! Counts the Galois keys of a bootstrapping preset per DFT (no key generation).
use hetal_ckks::backend::PlainBackend;
use hetal_ckks::bootstrap::dft::{CoeffsToSlots, DftConfig, DftPacking, SlotsToCoeffs};
use hetal_ckks::lintrans::BsgsConfig;

fn main() {
    let log_slots: u32 = std::env::args().nth(1).map_or(15, |s| s.parse().unwrap());
    for gc in [1.0, 2.0, 4.0, 8.0] {
        let mut c = DftConfig::new(log_slots, 4, DftPacking::TwoCiphertexts).unwrap();
        c.bsgs = BsgsConfig::Auto { giant_cost: gc };
        let mut s = DftConfig::new(log_slots, 3, DftPacking::TwoCiphertexts).unwrap();
        s.bsgs = BsgsConfig::Auto { giant_cost: gc };
        let c2s = CoeffsToSlots::<PlainBackend>::new(c).unwrap();
        let s2c = SlotsToCoeffs::<PlainBackend>::new(s).unwrap();
        let a = c2s.rotation_steps();
        let b = s2c.rotation_steps();
        let mut u = a.clone();
        u.extend(&b);
        u.sort();
        u.dedup();
        println!(
            "giant_cost {gc}: c2s {} s2c {} union {}",
            a.len(),
            b.len(),
            u.len()
        );
    }
}
