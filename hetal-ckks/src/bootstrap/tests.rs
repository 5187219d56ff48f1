//! End-to-end bootstrapping tests on the insecure presets.

use std::sync::Arc;

use num_complex::Complex64;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::backend::{Bootstrap, SlotBackend, SlotClient};
use crate::ckks_backend::{CkksClient, KeyRequest};
use crate::params::Parameters;

/// Precision in bits: (min over slots, average over slots) of `-log2 |got - want|`, real and
/// imaginary parts counted separately.
pub(crate) fn precision_bits(got: &[Complex64], want: &[Complex64]) -> (f64, f64) {
    let mut min = f64::INFINITY;
    let mut sum = 0.0;
    let mut count = 0.0;
    for (g, w) in got.iter().zip(want) {
        for e in [(g.re - w.re).abs(), (g.im - w.im).abs()] {
            let b = -e.max(1e-300).log2();
            min = min.min(b);
            sum += b;
            count += 1.0;
        }
    }
    (min, sum / count)
}

pub(crate) fn random_slots(n: usize, bound: f64, seed: u64) -> Vec<Complex64> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * bound
    };
    (0..n).map(|_| Complex64::new(next(), next())).collect()
}

fn setup(preset: BootstrapPreset, seed: u64) -> (CkksClient, Arc<Bootstrapper>) {
    let params = Parameters::new(preset.params).unwrap();
    let boot = Arc::new(Bootstrapper::new(&params, preset.config).unwrap());
    let client = CkksClient::new(
        &params,
        &KeyRequest::default(),
        &mut ChaCha20Rng::seed_from_u64(seed),
    )
    .unwrap()
    .with_bootstrapping(boot.clone())
    .unwrap();
    (client, boot)
}

fn run(name: &str, preset: BootstrapPreset) -> (f64, f64) {
    let (client, boot) = setup(preset, 7);
    let server = client.server_backend();
    let n = server.slots();
    let z = random_slots(n, 1.0, 11);
    let ct = client.encrypt(&z, 0).unwrap();
    let out = server.bootstrap(&ct).unwrap();
    assert_eq!(server.level(&out), boot.output_level());
    assert_eq!(out.scale(), server.scale_at(out.level()));
    let got = client.decrypt(&out).unwrap();
    let p = precision_bits(&got, &z);
    eprintln!("{name}: precision min {:.1} avg {:.1} bits", p.0, p.1);
    p
}

#[test]
fn bootstrap_full_n10() {
    let (min, avg) = run("insecure_n10", BootstrapPreset::insecure_n10());
    assert!(min > 15.0 && avg > 20.0);
}

#[test]
fn bootstrap_sparse_n12() {
    let (min, avg) = run(
        "insecure_n12_sparse",
        BootstrapPreset::insecure_n12_sparse(),
    );
    assert!(min > 15.0 && avg > 20.0);
}
