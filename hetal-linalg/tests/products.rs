//! Correctness of every product against an f64 matmul on PlainBackend (exact and noisy), level
//! accounting, rotation keys, and errors for shapes and layouts that do not fit.

mod common;

use common::random;
use hetal_ckks::backend::{
    Complex64, CountingBackend, NoiseModel, PlainBackend, ScaleChain, SlotBackend, SlotClient,
};
use hetal_linalg::{
    AtbVariant, BlockShape, CrockettKind, CrockettPlan, DiagAbtPlan, DiagAtbPlan, EncryptedMatrix,
    Error, Layout, class_period,
};
use proptest::prelude::*;
use std::collections::BTreeSet;

const LEVELS: usize = 6;

fn chain() -> ScaleChain {
    ScaleChain::uniform(LEVELS, 40.0)
}

/// Checks all products for one shape on `slots` slots with block-shape hint `batch`.
fn check_all(slots: usize, batch: usize, a: usize, b: usize, c: usize, seed: u64) {
    let backend = CountingBackend::new(PlainBackend::new(slots, chain()));
    let client = backend.inner();
    let block = BlockShape::select(slots, batch, c).unwrap();
    let x = random(a, b, seed);
    let w = random(c, b, seed + 1);
    let g = random(a, c, seed + 2);
    let xwt = x.matmul(&w.transpose()).unwrap();
    let gtx = g.transpose().matmul(&x).unwrap();
    let tol = 1e-9 * (b.max(a) as f64);

    let abt = DiagAbtPlan::new(block, a, b, c).unwrap();
    let ex = EncryptedMatrix::encrypt(client, &x, abt.layout_a(), LEVELS).unwrap();
    let ew = EncryptedMatrix::encrypt(client, &w, abt.layout_b(), LEVELS - 1).unwrap();
    backend.take_counts();
    let out = abt.run(&backend, &ex, &ew).unwrap();
    assert_eq!(backend.take_counts().rotations, abt.counts().rot);
    assert_eq!(
        out.level(&backend),
        abt.depth().output_level("t", LEVELS, LEVELS - 1).unwrap()
    );
    assert_eq!(out.layout(), Layout::horizontal(block, class_period(c)));
    let err = out.decrypt(client).unwrap().max_abs_diff(&xwt).unwrap();
    assert!(err < tol, "DiagABT {a}x{b}x{c} on {block:?}: error {err}");

    for (variant, la, lb) in [
        (AtbVariant::RotateA, LEVELS, LEVELS),
        (AtbVariant::RotateA, LEVELS, LEVELS - 2),
        (
            AtbVariant::PRotUp {
                share_rotation: false,
            },
            LEVELS - 2,
            LEVELS,
        ),
        (
            AtbVariant::PRotUp {
                share_rotation: true,
            },
            LEVELS - 1,
            LEVELS,
        ),
    ] {
        let atb = DiagAtbPlan::new(block, a, b, c, variant).unwrap();
        let eg = EncryptedMatrix::encrypt(client, &g, atb.layout_a(), la).unwrap();
        let ex = EncryptedMatrix::encrypt(client, &x, atb.layout_b(), lb).unwrap();
        backend.take_counts();
        let out = atb.run(&backend, &eg, &ex).unwrap();
        let k = backend.take_counts();
        assert_eq!((k.rotations, k.plain_mults, k.ct_mults), {
            let p = atb.counts();
            (p.rot, p.cmult, p.mult)
        });
        assert_eq!(
            out.level(&backend),
            atb.depth().output_level("t", la, lb).unwrap()
        );
        let err = out.decrypt(client).unwrap().max_abs_diff(&gtx).unwrap();
        assert!(
            err < tol,
            "{variant:?} {a}x{b}x{c} on {block:?}: error {err}"
        );
    }

    for kind in [CrockettKind::Abt, CrockettKind::Atb] {
        let plan = CrockettPlan::new(kind, block, a, b, c).unwrap();
        let (lhs, rhs, want) = match kind {
            CrockettKind::Abt => (&x, &w, &xwt),
            CrockettKind::Atb => (&g, &x, &gtx),
        };
        let el = EncryptedMatrix::encrypt(client, lhs, plan.layout_a(), LEVELS).unwrap();
        let er = EncryptedMatrix::encrypt(client, rhs, plan.layout_b(), LEVELS).unwrap();
        let out = plan.run(&backend, &el, &er).unwrap();
        let err = out.decrypt(client).unwrap().max_abs_diff(want).unwrap();
        assert!(err < tol, "Crockett {kind:?} {a}x{b}x{c}: error {err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random shapes on 64 and 256 slots: several block rows (a > s0), b not a multiple of s1,
    /// c not a power of two, c = 1 and c = 2.
    #[test]
    fn products_match_f64(
        log_slots in prop::sample::select(vec![6u32, 8]),
        log_batch in 0u32..6,
        c in 1usize..=8,
        a_frac in 1usize..=40,
        b in 1usize..=70,
        seed in any::<u64>(),
    ) {
        let slots = 1usize << log_slots;
        let block = BlockShape::select(slots, 1 << log_batch, c).unwrap();
        let a = 1 + (a_frac * block.rows() * 5 / 2) / 40; // up to 2.5 block rows
        check_all(slots, 1 << log_batch, a, b, c, seed);
    }
}

#[test]
fn training_like_shape_on_4096_slots() {
    // A mini-batch of 64 MNIST-like rows, 10 classes, 769 features.
    check_all(4096, 64, 64, 769, 10, 7);
}

#[test]
fn noisy_backend_stays_within_its_error_budget() {
    let sigma = 1e-7;
    let backend = PlainBackend::new(256, chain()).with_noise(NoiseModel {
        per_operation: sigma,
        bootstrap: 0.0,
        seed: 11,
    });
    let block = BlockShape::select(256, 16, 4).unwrap();
    let (a, b, c) = (16, 50, 4);
    let x = random(a, b, 1);
    let w = random(c, b, 2);
    let plan = DiagAbtPlan::new(block, a, b, c).unwrap();
    let ex = EncryptedMatrix::encrypt(&backend, &x, plan.layout_a(), LEVELS).unwrap();
    let ew = EncryptedMatrix::encrypt(&backend, &w, plan.layout_b(), LEVELS).unwrap();
    let got = plan
        .run(&backend, &ex, &ew)
        .unwrap()
        .decrypt(&backend)
        .unwrap();
    let err = got
        .max_abs_diff(&x.matmul(&w.transpose()).unwrap())
        .unwrap();
    // Each output sums ~b·(rotations) noisy terms of magnitude <= 1: a loose, sigma-relative bound.
    assert!(err > 0.0 && err < 1e4 * sigma, "error {err}");
}

/// A PlainBackend that refuses rotations whose key was not generated.
struct KeyedBackend {
    inner: PlainBackend,
    keys: BTreeSet<i64>,
}

impl KeyedBackend {
    fn check(&self, k: i32) -> hetal_ckks::Result<()> {
        let k = (k as i64).rem_euclid(self.inner.slots() as i64);
        if k != 0 && !self.keys.contains(&k) {
            return Err(hetal_ckks::Error::MissingKey {
                op: "rotate",
                what: format!("rotation by {k}"),
            });
        }
        Ok(())
    }
}

impl SlotBackend for KeyedBackend {
    type Ct = <PlainBackend as SlotBackend>::Ct;
    type Pt = <PlainBackend as SlotBackend>::Pt;
    fn slots(&self) -> usize {
        self.inner.slots()
    }
    fn max_level(&self) -> usize {
        self.inner.max_level()
    }
    fn scale_at(&self, l: usize) -> f64 {
        self.inner.scale_at(l)
    }
    fn level(&self, ct: &Self::Ct) -> usize {
        self.inner.level(ct)
    }
    fn scale(&self, ct: &Self::Ct) -> f64 {
        self.inner.scale(ct)
    }
    fn degree(&self, ct: &Self::Ct) -> usize {
        self.inner.degree(ct)
    }
    fn plaintext_level(&self, pt: &Self::Pt) -> usize {
        self.inner.plaintext_level(pt)
    }
    fn encode_at_scale(&self, v: &[Complex64], l: usize, s: f64) -> hetal_ckks::Result<Self::Pt> {
        self.inner.encode_at_scale(v, l, s)
    }
    fn add(&self, a: &Self::Ct, b: &Self::Ct) -> hetal_ckks::Result<Self::Ct> {
        self.inner.add(a, b)
    }
    fn sub(&self, a: &Self::Ct, b: &Self::Ct) -> hetal_ckks::Result<Self::Ct> {
        self.inner.sub(a, b)
    }
    fn neg(&self, a: &Self::Ct) -> hetal_ckks::Result<Self::Ct> {
        self.inner.neg(a)
    }
    fn add_plain(&self, a: &Self::Ct, p: &Self::Pt) -> hetal_ckks::Result<Self::Ct> {
        self.inner.add_plain(a, p)
    }
    fn add_const(&self, a: &Self::Ct, c: Complex64) -> hetal_ckks::Result<Self::Ct> {
        self.inner.add_const(a, c)
    }
    fn mul_plain(&self, a: &Self::Ct, p: &Self::Pt) -> hetal_ckks::Result<Self::Ct> {
        self.inner.mul_plain(a, p)
    }
    fn mul_const(&self, a: &Self::Ct, c: Complex64) -> hetal_ckks::Result<Self::Ct> {
        self.inner.mul_const(a, c)
    }
    fn mul_int(&self, a: &Self::Ct, k: i64) -> hetal_ckks::Result<Self::Ct> {
        self.inner.mul_int(a, k)
    }
    fn tensor(&self, a: &Self::Ct, b: &Self::Ct) -> hetal_ckks::Result<Self::Ct> {
        self.inner.tensor(a, b)
    }
    fn relinearize(&self, a: &Self::Ct) -> hetal_ckks::Result<Self::Ct> {
        self.inner.relinearize(a)
    }
    fn rescale(&self, a: &Self::Ct) -> hetal_ckks::Result<Self::Ct> {
        self.inner.rescale(a)
    }
    fn drop_to_level(&self, a: &Self::Ct, l: usize) -> hetal_ckks::Result<Self::Ct> {
        self.inner.drop_to_level(a, l)
    }
    fn truncate_to_level(&self, a: &Self::Ct, l: usize) -> hetal_ckks::Result<Self::Ct> {
        self.inner.truncate_to_level(a, l)
    }
    fn modulus_at(&self, l: usize) -> f64 {
        self.inner.modulus_at(l)
    }
    fn rotate(&self, a: &Self::Ct, k: i32) -> hetal_ckks::Result<Self::Ct> {
        self.check(k)?;
        self.inner.rotate(a, k)
    }
    fn rotate_hoisted(&self, a: &Self::Ct, ks: &[i32]) -> hetal_ckks::Result<Vec<Self::Ct>> {
        for &k in ks {
            self.check(k)?;
        }
        self.inner.rotate_hoisted(a, ks)
    }
    fn conjugate(&self, a: &Self::Ct) -> hetal_ckks::Result<Self::Ct> {
        self.inner.conjugate(a)
    }
    fn mul_i(&self, a: &Self::Ct) -> hetal_ckks::Result<Self::Ct> {
        self.inner.mul_i(a)
    }
}

#[test]
fn the_declared_rotation_steps_are_exactly_the_keys_needed() {
    let slots = 256;
    let (a, b, c) = (40, 45, 5);
    let block = BlockShape::select(slots, 16, c).unwrap();
    let client = PlainBackend::new(slots, chain());
    let keyed = |steps: Vec<i32>| KeyedBackend {
        inner: PlainBackend::new(slots, chain()),
        keys: steps.into_iter().map(i64::from).collect(),
    };
    let x = random(a, b, 3);
    let w = random(c, b, 4);
    let g = random(a, c, 5);

    let abt = DiagAbtPlan::<KeyedBackend>::new(block, a, b, c).unwrap();
    let ex = EncryptedMatrix::<KeyedBackend>::encrypt(&client, &x, abt.layout_a(), LEVELS).unwrap();
    let ew = EncryptedMatrix::<KeyedBackend>::encrypt(&client, &w, abt.layout_b(), LEVELS).unwrap();
    let steps = abt.rotation_steps();
    assert!(abt.run(&keyed(steps.clone()), &ex, &ew).is_ok());
    for drop in 0..steps.len() {
        let mut fewer = steps.clone();
        fewer.remove(drop);
        assert!(matches!(
            abt.run(&keyed(fewer), &ex, &ew),
            Err(Error::Ckks(hetal_ckks::Error::MissingKey { .. }))
        ));
    }

    for variant in [
        AtbVariant::RotateA,
        AtbVariant::PRotUp {
            share_rotation: true,
        },
    ] {
        let atb = DiagAtbPlan::<KeyedBackend>::new(block, a, b, c, variant).unwrap();
        let eg =
            EncryptedMatrix::<KeyedBackend>::encrypt(&client, &g, atb.layout_a(), LEVELS).unwrap();
        let ex =
            EncryptedMatrix::<KeyedBackend>::encrypt(&client, &x, atb.layout_b(), LEVELS).unwrap();
        let steps = atb.rotation_steps();
        assert!(atb.run(&keyed(steps.clone()), &eg, &ex).is_ok());
        for drop in 0..steps.len() {
            let mut fewer = steps.clone();
            fewer.remove(drop);
            assert!(
                atb.run(&keyed(fewer), &eg, &ex).is_err(),
                "{variant:?} without step {}",
                steps[drop]
            );
        }
    }

    for kind in [CrockettKind::Abt, CrockettKind::Atb] {
        let plan = CrockettPlan::<KeyedBackend>::new(kind, block, a, b, c).unwrap();
        let (lhs, rhs) = match kind {
            CrockettKind::Abt => (&x, &w),
            CrockettKind::Atb => (&g, &x),
        };
        let el = EncryptedMatrix::<KeyedBackend>::encrypt(&client, lhs, plan.layout_a(), LEVELS)
            .unwrap();
        let er = EncryptedMatrix::<KeyedBackend>::encrypt(&client, rhs, plan.layout_b(), LEVELS)
            .unwrap();
        let steps = plan.rotation_steps();
        assert!(plan.run(&keyed(steps.clone()), &el, &er).is_ok());
        for drop in 0..steps.len() {
            let mut fewer = steps.clone();
            fewer.remove(drop);
            assert!(plan.run(&keyed(fewer), &el, &er).is_err());
        }
    }
}

#[test]
fn prot_up_saves_a_level_of_a() {
    let block = BlockShape::select(256, 16, 8).unwrap();
    let rotate_a = DiagAtbPlan::<PlainBackend>::new(block, 16, 20, 8, AtbVariant::RotateA).unwrap();
    let prot_up =
        DiagAtbPlan::<PlainBackend>::new(block, 16, 20, 8, AtbVariant::for_levels(4, 6)).unwrap();
    assert_eq!(rotate_a.depth().output_level("t", 4, 6).unwrap(), 0);
    assert_eq!(prot_up.depth().output_level("t", 4, 6).unwrap(), 1);
    assert!(matches!(
        rotate_a.depth().output_level("t", 3, 6),
        Err(Error::InsufficientLevels { operand: "A", .. })
    ));
}

#[test]
fn masks_are_encoded_once_per_level() {
    let backend = PlainBackend::new(64, chain());
    let block = BlockShape::select(64, 8, 4).unwrap();
    let plan = DiagAbtPlan::new(block, 8, 10, 4).unwrap();
    let x = random(8, 10, 1);
    let w = random(4, 10, 2);
    let ex = EncryptedMatrix::encrypt(&backend, &x, plan.layout_a(), LEVELS).unwrap();
    let ew = EncryptedMatrix::encrypt(&backend, &w, plan.layout_b(), LEVELS).unwrap();
    let first = plan.run(&backend, &ex, &ew).unwrap();
    assert_eq!(plan.cached_levels(), 2);
    let again = plan.run(&backend, &ex, &ew).unwrap();
    assert_eq!(plan.cached_levels(), 2);
    assert_eq!(
        first.decrypt(&backend).unwrap(),
        again.decrypt(&backend).unwrap()
    );
    let low = EncryptedMatrix::encrypt(&backend, &x, plan.layout_a(), LEVELS - 1).unwrap();
    plan.run(&backend, &low, &ew).unwrap();
    assert_eq!(plan.cached_levels(), 4);
}

#[test]
fn shape_layout_and_level_errors_are_errors() {
    let backend = PlainBackend::new(64, chain());
    assert!(matches!(
        BlockShape::new(8, 4, 64),
        Err(Error::InvalidBlockShape { .. })
    ));
    assert!(matches!(
        BlockShape::new(6, 8, 48),
        Err(Error::InvalidBlockShape { .. })
    ));
    assert!(matches!(
        BlockShape::select(64, 8, 9),
        Err(Error::InvalidBlockShape { .. })
    ));
    let block = BlockShape::select(64, 8, 4).unwrap();
    assert!(DiagAbtPlan::<PlainBackend>::new(block, 0, 3, 4).is_err());
    // c' = 16 does not divide s0 = 8.
    assert!(DiagAbtPlan::<PlainBackend>::new(block, 8, 3, 9).is_err());
    assert!(DiagAtbPlan::<PlainBackend>::new(block, 8, 3, 9, AtbVariant::RotateA).is_err());
    assert!(CrockettPlan::<PlainBackend>::new(CrockettKind::Abt, block, 8, 3, 9).is_err());

    let plan = DiagAbtPlan::new(block, 8, 10, 4).unwrap();
    let x = random(8, 10, 1);
    let w = random(4, 10, 2);
    let ex = EncryptedMatrix::encrypt(&backend, &x, plan.layout_a(), LEVELS).unwrap();
    let ew = EncryptedMatrix::encrypt(&backend, &w, plan.layout_b(), LEVELS).unwrap();
    // Operands swapped: layouts do not match.
    assert!(matches!(
        plan.run(&backend, &ew, &ex),
        Err(Error::LayoutMismatch { .. })
    ));
    // B in plain tiling instead of vertical.
    let ew_plain = EncryptedMatrix::encrypt(&backend, &w, Layout::plain(block), LEVELS).unwrap();
    assert!(matches!(
        plan.run(&backend, &ex, &ew_plain),
        Err(Error::LayoutMismatch { .. })
    ));
    // Wrong logical shape.
    let x9 = EncryptedMatrix::encrypt(&backend, &random(8, 9, 1), plan.layout_a(), LEVELS).unwrap();
    assert!(matches!(
        plan.run(&backend, &x9, &ew),
        Err(Error::ShapeMismatch { .. })
    ));
    // Too few levels.
    let low = EncryptedMatrix::encrypt(&backend, &x, plan.layout_a(), 2).unwrap();
    assert!(matches!(
        plan.run(&backend, &low, &ew),
        Err(Error::InsufficientLevels {
            operand: "A",
            level: 2,
            needed: 3,
            ..
        })
    ));
    // A layout for another slot count.
    let other = Layout::plain(BlockShape::new(8, 16, 128).unwrap());
    assert!(matches!(
        EncryptedMatrix::<PlainBackend>::encrypt(&backend, &x, other, LEVELS),
        Err(Error::InvalidBlockShape { .. })
    ));
    // More rows than the period.
    assert!(matches!(
        EncryptedMatrix::<PlainBackend>::encrypt(
            &backend,
            &random(5, 10, 1),
            plan.layout_b(),
            LEVELS
        ),
        Err(Error::ShapeMismatch { .. })
    ));
    // A CKKS error surfaces wrapped.
    assert!(matches!(
        EncryptedMatrix::<PlainBackend>::encrypt(&backend, &x, plan.layout_a(), LEVELS + 1),
        Err(Error::Ckks(hetal_ckks::Error::LevelTooHigh { .. }))
    ));
    assert!(EncryptedMatrix::<PlainBackend>::from_blocks(8, 10, plan.layout_a(), vec![]).is_err());
}

#[test]
fn mul_i_is_exact_free_and_uncounted() {
    let backend = PlainBackend::new(8, chain());
    let x = backend.encrypt_real(&[1.0, -2.0], 3).unwrap();
    let y = backend.mul_i(&x).unwrap();
    assert_eq!(
        (backend.level(&y), backend.scale(&y)),
        (3, backend.scale(&x))
    );
    assert_eq!(backend.decrypt(&y).unwrap()[1], Complex64::new(0.0, -2.0));
    // Pending rescale and degree 2 are carried through unchanged, as in CKKS.
    let t = backend.tensor(&x, &x).unwrap();
    let ti = backend.mul_i(&t).unwrap();
    assert_eq!(backend.degree(&ti), 2);
    assert_eq!(backend.scale(&ti), backend.scale(&t));
    let counting = CountingBackend::new(PlainBackend::new(8, chain()));
    counting.mul_i(&x).unwrap();
    assert_eq!(counting.counts(), Default::default());
}
