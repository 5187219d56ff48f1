//! The whole softmax on real CKKS ciphertexts **with real bootstrapping** between its stages
//! (`SoftmaxPlan::evaluate_bootstrapped` on a `CkksBackend` that implements `Bootstrap`), from
//! logits at level 1, against the exact softmax.
//!
//! The parameters are the insecure `N = 2^11` bootstrapping test preset with its residual chain
//! lengthened to 10 levels (what the `fast` softmax needs between bootstraps, like the 128-bit
//! preset's 9 plus one).

mod common;

use common::{random_logits, softmax_error};
use std::sync::Arc;

use hetal_approx::softmax::{SoftmaxLayout, SoftmaxPlan, Variant};
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

    let logits = random_logits(n, 16, classes, 128.0, 0xfeed);
    // Logits as they come out of a matrix product: low in the chain.
    let x = client.encrypt_real(&logits, 1).unwrap();
    let y = plan.evaluate_bootstrapped(&server, &x).unwrap();
    let out = client.decrypt_real(&y).unwrap();
    let err = softmax_error(&logits, &out, 16, classes);
    let bootstraps = server.counts().bootstraps;
    eprintln!(
        "fast softmax on bootstrapped CKKS (N = 2^11, c = 10, [-128, 128]): max error {err:e}, \
         {bootstraps} bootstraps"
    );
    assert!(bootstraps as usize >= plan.depth() / RESIDUAL);
    // Bootstrapping at N = 2^11 keeps ~21 bits of values scaled into [-1, 1] (2^8 times the
    // logits range): a few 1e-5 on probabilities.
    assert!(err < 5e-4, "max error {err:e}");
}
