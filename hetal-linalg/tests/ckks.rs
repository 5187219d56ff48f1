//! The products on real CKKS ciphertexts (small insecure parameters): they agree with the f64
//! matmul and with the same circuit on `PlainBackend` within CKKS noise, consume exactly the
//! levels their plans declare, and run with exactly the rotation keys their plans declare.

mod common;

use common::random;
use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotBackend};
use hetal_ckks::ckks_backend::{CkksBackend, CkksClient, KeyRequest};
use hetal_ckks::prelude::*;
use hetal_linalg::{
    AtbVariant, BlockShape, CrockettKind, CrockettPlan, DiagAbtPlan, DiagAtbPlan, EncryptedMatrix,
    Matrix,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::collections::BTreeSet;

/// `-log2` of the largest entry-wise error.
fn bits(got: &Matrix, want: &Matrix) -> f64 {
    -got.max_abs_diff(want).unwrap().max(1e-300).log2()
}

/// The plans of one shape, with the union of their rotation steps.
struct Plans {
    abt: DiagAbtPlan<CkksBackend>,
    atb: Vec<DiagAtbPlan<CkksBackend>>,
    crockett: Vec<CrockettPlan<CkksBackend>>,
}

impl Plans {
    fn new(block: BlockShape, a: usize, b: usize, c: usize) -> Self {
        Self {
            abt: DiagAbtPlan::new(block, a, b, c).unwrap(),
            atb: [
                AtbVariant::RotateA,
                AtbVariant::PRotUp {
                    share_rotation: true,
                },
            ]
            .into_iter()
            .map(|v| DiagAtbPlan::new(block, a, b, c, v).unwrap())
            .collect(),
            crockett: [CrockettKind::Abt, CrockettKind::Atb]
                .into_iter()
                .map(|k| CrockettPlan::new(k, block, a, b, c).unwrap())
                .collect(),
        }
    }

    fn rotation_steps(&self) -> Vec<i64> {
        let mut steps: BTreeSet<i32> = self.abt.rotation_steps().into_iter().collect();
        for p in &self.atb {
            steps.extend(p.rotation_steps());
        }
        for p in &self.crockett {
            steps.extend(p.rotation_steps());
        }
        steps.into_iter().map(i64::from).collect()
    }
}

/// `N = 2^12` (2048 slots), 8 levels at `2^40`, insecure (a test set).
fn client(steps: Vec<i64>) -> CkksClient {
    let params = Parameters::new(ParametersLiteral::insecure_n12()).unwrap();
    let request = KeyRequest {
        relinearization: true,
        rotations: steps,
        conjugation: true,
    };
    CkksClient::new(&params, &request, &mut ChaCha20Rng::seed_from_u64(0x11a1)).unwrap()
}

#[test]
fn products_on_ckks_match_f64_and_plain_backend() {
    // b = 45 is not a multiple of s1; c = 5 is not a power of two; a = 40 spans several block
    // rows for the 16-row blocks HETAL's rule picks for a batch of 16.
    let (a, b, c) = (40, 45, 5);
    let slots = 2048;
    let block = BlockShape::select(slots, 16, c).unwrap();
    let plans = Plans::new(block, a, b, c);
    let client = client(plans.rotation_steps());
    let server = client.server_backend();
    let top = server.max_level();
    let plain = PlainBackend::new(
        slots,
        ScaleChain::from_moduli(client.params().q_primes(), 40.0),
    );
    assert_eq!(plain.max_level(), top);

    let x = random(a, b, 1);
    let w = random(c, b, 2);
    let g = random(a, c, 3);
    let xwt = x.matmul(&w.transpose()).unwrap();
    let gtx = g.transpose().matmul(&x).unwrap();

    // DiagABT: CKKS against f64, and against the same circuit on PlainBackend.
    let ex = EncryptedMatrix::encrypt(&client, &x, plans.abt.layout_a(), top).unwrap();
    let ew = EncryptedMatrix::encrypt(&client, &w, plans.abt.layout_b(), top).unwrap();
    let out = plans.abt.run(&server, &ex, &ew).unwrap();
    assert_eq!(
        out.level(&server),
        plans.abt.depth().output_level("abt", top, top).unwrap()
    );
    let got = out.decrypt(&client).unwrap();
    let px = EncryptedMatrix::encrypt(&plain, &x, plans.abt.layout_a(), top).unwrap();
    let pw = EncryptedMatrix::encrypt(&plain, &w, plans.abt.layout_b(), top).unwrap();
    let plain_plan = DiagAbtPlan::<PlainBackend>::new(block, a, b, c).unwrap();
    let twin = plain_plan
        .run(&plain, &px, &pw)
        .unwrap()
        .decrypt(&plain)
        .unwrap();
    let (b_f64, b_twin) = (bits(&got, &xwt), bits(&got, &twin));
    eprintln!("DiagABT on CKKS: {b_f64:.1} bits vs f64, {b_twin:.1} bits vs PlainBackend");
    assert!(
        b_f64 > 20.0 && b_twin > 20.0,
        "DiagABT: {b_f64:.1} / {b_twin:.1} bits"
    );

    // DiagATB, both variants, A one level below B for PRotUp (A comes out of the softmax).
    for plan in &plans.atb {
        let la = match plan.variant() {
            AtbVariant::RotateA => top,
            AtbVariant::PRotUp { .. } => top - 1,
        };
        let eg = EncryptedMatrix::encrypt(&client, &g, plan.layout_a(), la).unwrap();
        let ex = EncryptedMatrix::encrypt(&client, &x, plan.layout_b(), top).unwrap();
        let out = plan.run(&server, &eg, &ex).unwrap();
        assert_eq!(
            out.level(&server),
            plan.depth().output_level("atb", la, top).unwrap()
        );
        let b = bits(&out.decrypt(&client).unwrap(), &gtx);
        eprintln!("{:?} on CKKS: {b:.1} bits vs f64", plan.variant());
        assert!(b > 20.0, "{:?}: {b:.1} bits", plan.variant());
    }

    // The baselines.
    for (plan, (lhs, rhs, want)) in plans.crockett.iter().zip([(&x, &w, &xwt), (&g, &x, &gtx)]) {
        let el = EncryptedMatrix::encrypt(&client, lhs, plan.layout_a(), top).unwrap();
        let er = EncryptedMatrix::encrypt(&client, rhs, plan.layout_b(), top).unwrap();
        let out = plan.run(&server, &el, &er).unwrap();
        let b = bits(&out.decrypt(&client).unwrap(), want);
        eprintln!("Crockett on CKKS: {b:.1} bits vs f64");
        assert!(b > 20.0, "Crockett: {b:.1} bits");
    }
}

#[test]
fn a_missing_rotation_key_is_an_error_not_a_wrong_result() {
    let (a, b, c) = (16, 20, 3);
    let block = BlockShape::select(2048, 16, c).unwrap();
    let plan = DiagAbtPlan::<CkksBackend>::new(block, a, b, c).unwrap();
    let mut steps: Vec<i64> = plan.rotation_steps().into_iter().map(i64::from).collect();
    steps.pop();
    let client = client(steps);
    let server = client.server_backend();
    let top = server.max_level();
    let ex = EncryptedMatrix::encrypt(&client, &random(a, b, 4), plan.layout_a(), top).unwrap();
    let ew = EncryptedMatrix::encrypt(&client, &random(c, b, 5), plan.layout_b(), top).unwrap();
    let err = plan.run(&server, &ex, &ew).unwrap_err();
    assert!(err.to_string().contains("key"), "{err}");
}
