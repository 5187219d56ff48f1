//! What the matmul examples share: test matrices, shape parsing, and the list of products run
//! for one shape (every algorithm with its operands, levels and f64 oracle).

use hetal_ckks::backend::SlotBackend;
use hetal_linalg::{
    AtbVariant, BlockShape, CrockettKind, CrockettPlan, DiagAbtPlan, DiagAtbPlan, MatmulPlan,
    Matrix,
};

/// A reproducible matrix with entries uniform in [-1, 1) (splitmix64).
pub fn random_matrix(rows: usize, cols: usize, seed: u64) -> Matrix {
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

/// Parses `a,b,c[;a,b,c...]`.
pub fn parse_shapes(spec: &str) -> Result<Vec<(usize, usize, usize)>, String> {
    spec.split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|shape| {
            let dims: Vec<usize> = shape
                .split(',')
                .map(|x| x.trim().parse::<usize>())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("bad shape {shape:?}: {e}"))?;
            match dims[..] {
                [a, b, c] if a > 0 && b > 0 && c > 0 => Ok((a, b, c)),
                _ => Err(format!(
                    "a shape is a,b,c of positive integers; got {shape:?}"
                )),
            }
        })
        .collect()
}

/// One product to run: the plan, its operands, the levels they are encrypted at (`top` minus
/// the offset: PRotUp takes `A` one level lower, as it comes out of the softmax) and the f64
/// result.
pub struct Case<'m, B: SlotBackend> {
    pub plan: Box<dyn MatmulPlan<B>>,
    pub lhs: &'m Matrix,
    pub rhs: &'m Matrix,
    pub want: &'m Matrix,
    pub level_offsets: (usize, usize),
}

/// The operands and oracles of shape `(a, b, c)`: `X` (`a x b`), `W` (`c x b`), `G` (`a x c`),
/// `X Wᵀ` and `Gᵀ X`.
pub struct Operands {
    pub x: Matrix,
    pub w: Matrix,
    pub g: Matrix,
    pub xwt: Matrix,
    pub gtx: Matrix,
}

impl Operands {
    pub fn new(a: usize, b: usize, c: usize) -> Result<Self, hetal_linalg::Error> {
        let x = random_matrix(a, b, 1);
        let w = random_matrix(c, b, 2);
        let g = random_matrix(a, c, 3);
        let xwt = x.matmul(&w.transpose())?;
        let gtx = g.transpose().matmul(&x)?;
        Ok(Self { x, w, g, xwt, gtx })
    }
}

/// All products of HETAL's comparison for one shape, on HETAL's block shape for a batch of `a`,
/// restricted to the algorithm names in `only` (all if empty).
pub fn cases<'m, B: SlotBackend + 'static>(
    slots: usize,
    (a, b, c): (usize, usize, usize),
    ops: &'m Operands,
    only: &[String],
) -> Result<(BlockShape, Vec<Case<'m, B>>), hetal_linalg::Error> {
    let block = BlockShape::select(slots, a, c)?;
    let abt = |plan: Box<dyn MatmulPlan<B>>| Case {
        plan,
        lhs: &ops.x,
        rhs: &ops.w,
        want: &ops.xwt,
        level_offsets: (0, 0),
    };
    let atb = |plan: Box<dyn MatmulPlan<B>>, offset_a| Case {
        plan,
        lhs: &ops.g,
        rhs: &ops.x,
        want: &ops.gtx,
        level_offsets: (offset_a, 0),
    };
    let all = vec![
        abt(Box::new(DiagAbtPlan::new(block, a, b, c)?)),
        atb(
            Box::new(DiagAtbPlan::new(block, a, b, c, AtbVariant::RotateA)?),
            0,
        ),
        atb(
            Box::new(DiagAtbPlan::new(
                block,
                a,
                b,
                c,
                AtbVariant::PRotUp {
                    share_rotation: false,
                },
            )?),
            1,
        ),
        atb(
            Box::new(DiagAtbPlan::new(
                block,
                a,
                b,
                c,
                AtbVariant::PRotUp {
                    share_rotation: true,
                },
            )?),
            1,
        ),
        abt(Box::new(CrockettPlan::new(
            CrockettKind::Abt,
            block,
            a,
            b,
            c,
        )?)),
        atb(
            Box::new(CrockettPlan::new(CrockettKind::Atb, block, a, b, c)?),
            0,
        ),
    ];
    let selected = all
        .into_iter()
        .filter(|case| only.is_empty() || only.iter().any(|n| n == case.plan.name()))
        .collect();
    Ok((block, selected))
}
