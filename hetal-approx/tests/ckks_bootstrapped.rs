//! The whole softmax on real CKKS ciphertexts **with real bootstrapping** between its stages
//! (`SoftmaxPlan::evaluate_bootstrapped` on a `CkksBackend` that implements `Bootstrap`), from
//! logits at level 1, against the exact softmax.
//!
//! The parameters are the insecure `N = 2^11` bootstrapping test preset with its residual chain
//! lengthened to 10 levels (what the `fast` softmax needs between bootstraps, like the 128-bit
//! preset's 9 plus one).

use std::sync::Arc;

use hetal_approx::softmax::{SoftmaxLayout, SoftmaxPlan, Variant, softmax_f64};
use hetal_ckks::backend::{Bootstrap, CountingBackend, SlotBackend, SlotClient};
use hetal_ckks::bootstrap::{BootstrapPreset, Bootstrapper};
use hetal_ckks::ckks_backend::{CkksClient, KeyRequest};
use hetal_ckks::params::Moduli;
use hetal_ckks::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Levels above `q_0` in the residual chain.
const RESIDUAL: usize = 10;

fn client() -> CkksClient {
    let mut preset = BootstrapPreset::insecure_n11();
    let old_top = preset.params.scale_level.expect("a bootstrapping preset");
    let Moduli::Bits(q) = &mut preset.params.q else {
        panic!("the preset is given in bits");
    };
    // More 40-bit primes at the bottom of the residual chain.
    q.splice(1..1, std::iter::repeat_n(40, RESIDUAL - old_top));
    // Digits of at most 4 primes (P is 4 x 61 bits).
    preset.params.dnum = q.len().div_ceil(4);
    preset.params.scale_level = Some(RESIDUAL);
    let params = Parameters::new(preset.params).unwrap();
    let request = KeyRequest {
        relinearization: true,
        rotations: (0..4).flat_map(|j| [1i64 << j, -(1i64 << j)]).collect(),
        conjugation: false,
    };
    let bootstrapper = Arc::new(Bootstrapper::new(&params, preset.config).unwrap());
    CkksClient::new(&params, &request, &mut ChaCha20Rng::seed_from_u64(0xb007))
        .unwrap()
        .with_bootstrapping(bootstrapper)
        .unwrap()
}

#[test]
fn fast_softmax_with_bootstrapping_on_ckks() {
    let client = client();
    let server = CountingBackend::new(client.server_backend());
    assert_eq!(server.bootstrap_level(), RESIDUAL);
    let n = server.slots();
    let classes = 10;
    let layout = SoftmaxLayout::new(n, 16, classes).unwrap();
    let plan = SoftmaxPlan::new(Variant::Fast, layout);
    assert!(plan.stage_depth() <= RESIDUAL);

    let mut state = 0xfeed_u64;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 256.0 - 128.0
    };
    let logits: Vec<f64> = (0..n)
        .map(|i| if i % 16 < classes { uniform() } else { 0.0 })
        .collect();
    // Logits as they come out of a matrix product: low in the chain.
    let x = client.encrypt_real(&logits, 1).unwrap();
    let y = plan.evaluate_bootstrapped(&server, &x).unwrap();
    let out = client.decrypt_real(&y).unwrap();
    let err = logits
        .chunks(16)
        .zip(out.chunks(16))
        .map(|(row, got)| {
            softmax_f64(&row[..classes])
                .iter()
                .zip(&got[..classes])
                .map(|(w, g)| (w - g).abs())
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max);
    let bootstraps = server.counts().bootstraps;
    eprintln!(
        "fast softmax on bootstrapped CKKS (N = 2^11, c = 10, [-128, 128]): max error {err:e}, \
         {bootstraps} bootstraps"
    );
    assert!(bootstraps as usize >= plan.depth() / RESIDUAL);
    assert!(err < 1e-4, "max error {err:e}");
}
