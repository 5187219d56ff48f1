//! Counts the operations of DiagABT, DiagATB (both level cases) and Crockett's baselines on a
//! `CountingBackend` over `PlainBackend`, one JSON object per algorithm and shape.
//!
//! ```text
//! cargo run --release -p hetal-linalg --example matmul_counts -- --slots 32768 \
//!     --shapes "128,128,4;256,256,8;512,769,4;1024,769,8;2048,769,16"
//! ```
//! A shape `a,b,c` is: A Bᵀ with A `a x b` and B `c x b`; Aᵀ B with A `a x c` and B `a x b`.
//! Add `--check` to also compare each product with an f64 matmul.

use hetal_ckks::backend::{CountingBackend, PlainBackend, ScaleChain};
use hetal_linalg::{
    AtbVariant, BlockShape, CrockettKind, CrockettPlan, Depth, DiagAbtPlan, DiagAtbPlan,
    EncryptedMatrix, Layout, Matrix, PlanCounts,
};

type Backend = CountingBackend<PlainBackend>;

const LEVELS: usize = 6;

fn random_matrix(rows: usize, cols: usize, seed: u64) -> Matrix {
    let mut state = seed;
    Matrix::from_fn(rows, cols, |_, _| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    })
}

struct Run {
    counts: hetal_ckks::backend::OpCounts,
    plan: PlanCounts,
    depth: Depth,
    error: f64,
}

fn measure(
    backend: &Backend,
    (a, b): (&Matrix, &Matrix),
    (la, lb): (Layout, Layout),
    (level_a, level_b): (usize, usize),
    expected: &Matrix,
    plan: PlanCounts,
    depth: Depth,
    run: impl FnOnce(
        &Backend,
        &EncryptedMatrix<Backend>,
        &EncryptedMatrix<Backend>,
    ) -> hetal_linalg::Result<EncryptedMatrix<Backend>>,
    check: bool,
) -> hetal_linalg::Result<Run> {
    let ea = EncryptedMatrix::<Backend>::encrypt(backend.inner(), a, la, level_a)?;
    let eb = EncryptedMatrix::<Backend>::encrypt(backend.inner(), b, lb, level_b)?;
    backend.take_counts();
    let out = run(backend, &ea, &eb)?;
    let counts = backend.take_counts();
    let error = if check {
        out.decrypt(backend.inner())?.max_abs_diff(expected)?
    } else {
        f64::NAN
    };
    Ok(Run {
        counts,
        plan,
        depth,
        error,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut slots = 1usize << 15;
    let mut shapes = "128,128,4;256,256,8;512,769,4;1024,769,8;2048,769,16".to_string();
    let mut check = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--slots" => {
                slots = args.get(i + 1).ok_or("--slots needs a value")?.parse()?;
                i += 1;
            }
            "--shapes" => {
                shapes = args.get(i + 1).ok_or("--shapes needs a value")?.clone();
                i += 1;
            }
            "--check" => check = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
        i += 1;
    }
    let backend = CountingBackend::new(PlainBackend::new(slots, ScaleChain::uniform(LEVELS, 40.0)));
    for shape in shapes.split(';').filter(|s| !s.trim().is_empty()) {
        let dims: Vec<usize> = shape
            .split(',')
            .map(|x| x.trim().parse())
            .collect::<Result<_, _>>()?;
        let [a, b, c] = dims[..] else {
            return Err(format!("a shape is a,b,c; got {shape}").into());
        };
        let block = BlockShape::select(slots, a, c)?;
        let x = random_matrix(a, b, 1);
        let w = random_matrix(c, b, 2);
        let g = random_matrix(a, c, 3);
        let xwt = x.matmul(&w.transpose())?;
        let gtx = g.transpose().matmul(&x)?;
        let mut runs = Vec::new();

        let abt = DiagAbtPlan::<Backend>::new(block, a, b, c)?;
        runs.push((
            "diag_abt",
            measure(
                &backend,
                (&x, &w),
                (abt.layout_a(), abt.layout_b()),
                (LEVELS, LEVELS),
                &xwt,
                abt.counts(),
                abt.depth(),
                |be, ea, eb| abt.run(be, ea, eb),
                check,
            )?,
        ));
        for (name, variant, level_a) in [
            ("diag_atb", AtbVariant::RotateA, LEVELS),
            (
                "diag_atb_protup",
                AtbVariant::PRotUp {
                    share_rotation: false,
                },
                LEVELS - 1,
            ),
            (
                "diag_atb_protup_shared",
                AtbVariant::PRotUp {
                    share_rotation: true,
                },
                LEVELS - 1,
            ),
        ] {
            let atb = DiagAtbPlan::<Backend>::new(block, a, b, c, variant)?;
            runs.push((
                name,
                measure(
                    &backend,
                    (&g, &x),
                    (atb.layout_a(), atb.layout_b()),
                    (level_a, LEVELS),
                    &gtx,
                    atb.counts(),
                    atb.depth(),
                    |be, ea, eb| atb.run(be, ea, eb),
                    check,
                )?,
            ));
        }
        let cabt = CrockettPlan::<Backend>::new(CrockettKind::Abt, block, a, b, c)?;
        runs.push((
            "crockett_abt",
            measure(
                &backend,
                (&x, &w),
                (cabt.layout_a(), cabt.layout_b()),
                (LEVELS, LEVELS),
                &xwt,
                cabt.counts(),
                cabt.depth(),
                |be, ea, eb| cabt.run(be, ea, eb),
                check,
            )?,
        ));
        let catb = CrockettPlan::<Backend>::new(CrockettKind::Atb, block, a, b, c)?;
        runs.push((
            "crockett_atb",
            measure(
                &backend,
                (&g, &x),
                (catb.layout_a(), catb.layout_b()),
                (LEVELS, LEVELS),
                &gtx,
                catb.counts(),
                catb.depth(),
                |be, ea, eb| catb.run(be, ea, eb),
                check,
            )?,
        ));

        for (name, r) in runs {
            let k = r.counts;
            let plan_matches = k.plain_mults == r.plan.cmult
                && k.ct_mults == r.plan.mult
                && k.rotations == r.plan.rot
                && k.conjugations == r.plan.conj
                && k.relinearizations == r.plan.relin
                && k.rescales == r.plan.rescale
                && k.key_switches == r.plan.key_switches
                && k.decompositions == r.plan.decompositions;
            let mut obj = serde_json::json!({
                "algo": name, "a": a, "b": b, "c": c,
                "s0": block.rows(), "s1": block.cols(),
                "cmult": k.plain_mults, "mult": k.ct_mults, "rot": k.rotations,
                "conj": k.conjugations, "relin": k.relinearizations, "rescale": k.rescales,
                "key_switches": k.key_switches, "decompositions": k.decompositions,
                "depth": r.depth.max(), "depth_a": r.depth.a, "depth_b": r.depth.b,
                "plan_matches": plan_matches,
            });
            if check {
                obj["max_abs_error"] = serde_json::json!(r.error);
            }
            println!("{obj}");
        }
    }
    Ok(())
}
