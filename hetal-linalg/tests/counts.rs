//! The operation counts of HETAL's (corrected) comparison table, reproduced on CountingBackend
//! with 2^15 slots, and every count a plan reports equal to what the backend records.

use hetal_ckks::backend::{CountingBackend, OpCounts, PlainBackend, ScaleChain};
use hetal_linalg::{
    AtbVariant, BlockShape, CrockettKind, CrockettPlan, DiagAbtPlan, DiagAtbPlan, EncryptedMatrix,
    Matrix, PlanCounts,
};

type Backend = CountingBackend<PlainBackend>;
const SLOTS: usize = 1 << 15;
const LEVELS: usize = 6;

/// (a, b, c), then CMult / Mult / Rot for DiagABT, DiagATB, DiagATB with PRotUp, Crockett.
type Row = ((usize, usize, usize), [[u64; 3]; 4]);
const TABLE: [Row; 5] = [
    (
        (128, 128, 4),
        [[4, 2, 34], [4, 2, 18], [4, 2, 18], [8, 4, 63]],
    ),
    (
        (256, 256, 8),
        [[8, 8, 64], [12, 8, 72], [15, 8, 75], [24, 16, 191]],
    ),
    (
        (512, 769, 4),
        [[4, 26, 50], [28, 26, 238], [40, 26, 250], [56, 52, 495]],
    ),
    (
        (1024, 769, 8),
        [
            [8, 100, 140],
            [104, 100, 1008],
            [176, 100, 1080],
            [208, 200, 2047],
        ],
    ),
    (
        (2048, 769, 16),
        [
            [16, 392, 456],
            [400, 392, 4328],
            [736, 392, 4664],
            [800, 784, 8703],
        ],
    ),
];

fn filled(rows: usize, cols: usize, salt: usize) -> Matrix {
    Matrix::from_fn(rows, cols, |i, j| {
        ((i * 31 + j * 17 + salt) % 13) as f64 / 13.0 - 0.5
    })
}

fn assert_same(recorded: OpCounts, plan: PlanCounts, what: &str) {
    let got = PlanCounts {
        cmult: recorded.plain_mults,
        mult: recorded.ct_mults,
        rot: recorded.rotations,
        conj: recorded.conjugations,
        relin: recorded.relinearizations,
        rescale: recorded.rescales,
        key_switches: recorded.key_switches,
        decompositions: recorded.decompositions,
    };
    assert_eq!(got, plan, "{what}: recorded counts differ from the plan's");
    assert_eq!(recorded.bootstraps, 0);
}

fn table_row(c: OpCounts) -> [u64; 3] {
    [c.plain_mults, c.ct_mults, c.rotations]
}

#[test]
fn reference_table_is_reproduced() {
    let backend: Backend =
        CountingBackend::new(PlainBackend::new(SLOTS, ScaleChain::uniform(LEVELS, 40.0)));
    let client = backend.inner();
    for ((a, b, c), expected) in TABLE {
        let block = BlockShape::select(SLOTS, a, c).unwrap();
        assert_eq!(block.rows(), a, "the table uses s0 = a");
        let x = filled(a, b, 1);
        let w = filled(c, b, 2);
        let g = filled(a, c, 3);

        let abt = DiagAbtPlan::<Backend>::new(block, a, b, c).unwrap();
        let ex = EncryptedMatrix::<Backend>::encrypt(client, &x, abt.layout_a(), LEVELS).unwrap();
        let ew = EncryptedMatrix::<Backend>::encrypt(client, &w, abt.layout_b(), LEVELS).unwrap();
        backend.take_counts();
        abt.run(&backend, &ex, &ew).unwrap();
        let k = backend.take_counts();
        assert_eq!(table_row(k), expected[0], "DiagABT {:?}", (a, b, c));
        assert_eq!(k.conjugations, 1);
        assert_same(k, abt.counts(), "DiagABT");

        for (variant, level_a, row) in [
            (AtbVariant::RotateA, LEVELS, 1),
            (
                AtbVariant::PRotUp {
                    share_rotation: false,
                },
                LEVELS - 1,
                2,
            ),
        ] {
            let atb = DiagAtbPlan::<Backend>::new(block, a, b, c, variant).unwrap();
            let eg =
                EncryptedMatrix::<Backend>::encrypt(client, &g, atb.layout_a(), level_a).unwrap();
            let ex =
                EncryptedMatrix::<Backend>::encrypt(client, &x, atb.layout_b(), LEVELS).unwrap();
            backend.take_counts();
            atb.run(&backend, &eg, &ex).unwrap();
            let k = backend.take_counts();
            assert_eq!(table_row(k), expected[row], "{variant:?} {:?}", (a, b, c));
            assert_same(k, atb.counts(), "DiagATB");
        }

        for kind in [CrockettKind::Abt, CrockettKind::Atb] {
            let plan = CrockettPlan::<Backend>::new(kind, block, a, b, c).unwrap();
            let (lhs, rhs) = match kind {
                CrockettKind::Abt => (&x, &w),
                CrockettKind::Atb => (&g, &x),
            };
            let el =
                EncryptedMatrix::<Backend>::encrypt(client, lhs, plan.layout_a(), LEVELS).unwrap();
            let er =
                EncryptedMatrix::<Backend>::encrypt(client, rhs, plan.layout_b(), LEVELS).unwrap();
            backend.take_counts();
            plan.run(&backend, &el, &er).unwrap();
            let k = backend.take_counts();
            assert_eq!(
                table_row(k),
                expected[3],
                "Crockett {kind:?} {:?}",
                (a, b, c)
            );
            assert_same(k, plan.counts(), "Crockett");
        }
    }
}

#[test]
fn hoisting_keeps_rotation_counts_and_saves_decompositions() {
    // (2048, 769, 16): the B' rotations of DiagABT share one decomposition per column block.
    let block = BlockShape::select(SLOTS, 2048, 16).unwrap();
    let plan = DiagAbtPlan::<Backend>::new(block, 2048, 769, 16).unwrap();
    let k = plan.counts();
    assert_eq!(k.rot, 456);
    // 49 single rotations + 49 hoisted groups of 7 + 8 * 2 * 4 rotate-and-sum rotations.
    assert_eq!(k.decompositions - k.relin - k.conj, 49 + 49 + 64);
    assert!(k.decompositions < k.key_switches);
}

#[test]
fn shared_prot_up_rotation_goes_below_the_table() {
    let block = BlockShape::select(SLOTS, 2048, 16).unwrap();
    let faithful = DiagAtbPlan::<Backend>::new(
        block,
        2048,
        769,
        16,
        AtbVariant::PRotUp {
            share_rotation: false,
        },
    )
    .unwrap();
    let shared = DiagAtbPlan::<Backend>::new(
        block,
        2048,
        769,
        16,
        AtbVariant::PRotUp {
            share_rotation: true,
        },
    )
    .unwrap();
    // (c/2 - 2) * na * nb = 6 * 49 rotations fewer, everything else equal.
    assert_eq!(faithful.counts().rot - shared.counts().rot, 6 * 49);
    assert_eq!(faithful.counts().cmult, shared.counts().cmult);
    assert_eq!(faithful.counts().mult, shared.counts().mult);
}

#[test]
fn the_simulation_extra_row_is_reproduced_by_the_plans() {
    // diag_matmul_sim.py also prints (1024, 769, 16): 16/200/280, 208/200/2016, 376/200/2184.
    let block = BlockShape::select(SLOTS, 1024, 16).unwrap();
    let abt = DiagAbtPlan::<Backend>::new(block, 1024, 769, 16)
        .unwrap()
        .counts();
    assert_eq!([abt.cmult, abt.mult, abt.rot], [16, 200, 280]);
    let atb = DiagAtbPlan::<Backend>::new(block, 1024, 769, 16, AtbVariant::RotateA)
        .unwrap()
        .counts();
    assert_eq!([atb.cmult, atb.mult, atb.rot], [208, 200, 2016]);
    let prot = DiagAtbPlan::<Backend>::new(
        block,
        1024,
        769,
        16,
        AtbVariant::PRotUp {
            share_rotation: false,
        },
    )
    .unwrap()
    .counts();
    assert_eq!([prot.cmult, prot.mult, prot.rot], [376, 200, 2184]);
}
