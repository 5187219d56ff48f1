//! DiagABT: `A Bᵀ` with two diagonals per ciphertext product (HETAL, section 3 of the
//! reference).

use crate::plan::{
    MaskCache, PlanShape, log2, mask, normalize_steps, real_part, sum_all, sum_steps,
};
use crate::{BlockShape, Depth, EncryptedMatrix, Error, Layout, PlanCounts, Result, class_period};
use hetal_ckks::backend::{Complex64, SlotBackend};
use rayon::prelude::*;

/// A plan for `A Bᵀ` with `A` an `a x b` matrix in plain tiling and `B` a `c x b` matrix tiled
/// vertically with period `c' = class_period(c)` (`c' | s0`, `c' <= s1`). The product is
/// `a x c`, tiled horizontally with period `c'`: HETAL's logits `X Wᵀ`.
///
/// Circuit, per output block row `p` and pair `m < c'/2` of diagonals:
/// `B' = B~ + i·Rot(B~, s1)` once per column block (hoisted rotations by `2m·s1` give the pairs),
/// `Z = Σ_q A[p,q] ⊗ Rot(B'_q, 2m·s1)` with one relinearization and one rescale per sum,
/// row sums into column 0 (`log2 s1` rotations), the column-0 mask (carrying the 1/2 of the real
/// part), replication along the row (`log2 s1` rotations), the complex mask
/// `M_2m - i·M_2m+1`, accumulated over `m` before a single rescale; finally `acc + conj(acc)`.
///
/// Depth 3 on both operands (product, column-0 mask, complex mask): multiplication by `i` is
/// exact ([`SlotBackend::mul_i`](hetal_ckks::backend::SlotBackend::mul_i)) and the 1/2 of the real part rides on the column-0 mask.
///
/// ```
/// use hetal_ckks::backend::{PlainBackend, ScaleChain};
/// use hetal_linalg::{BlockShape, DiagAbtPlan, EncryptedMatrix, Layout, Matrix};
/// # fn main() -> hetal_linalg::Result<()> {
/// let backend = PlainBackend::new(64, ScaleChain::uniform(3, 40.0));
/// let block = BlockShape::select(64, 8, 3)?; // 8 x 8, c' = 4
/// let plan = DiagAbtPlan::<PlainBackend>::new(block, 8, 11, 3)?;
/// assert_eq!(plan.depth().max(), 3);
/// let a = Matrix::from_fn(8, 11, |i, j| (i as f64 - j as f64) / 10.0);
/// let b = Matrix::from_fn(3, 11, |i, j| ((i * j) % 5) as f64 / 4.0);
/// let ea = EncryptedMatrix::encrypt(&backend, &a, plan.layout_a(), 3)?;
/// let eb = EncryptedMatrix::encrypt(&backend, &b, plan.layout_b(), 3)?;
/// let out = plan.run(&backend, &ea, &eb)?.decrypt(&backend)?;
/// assert!(out.max_abs_diff(&a.matmul(&b.transpose())?)? < 1e-9);
/// # Ok(())
/// # }
/// ```
pub struct DiagAbtPlan<B: SlotBackend> {
    shape: PlanShape,
    period: usize,
    masks: MaskCache<B::Pt>,
}

impl<B: SlotBackend> std::fmt::Debug for DiagAbtPlan<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiagAbtPlan")
            .field("shape", &self.shape)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

impl<B: SlotBackend> DiagAbtPlan<B> {
    /// A plan for `A (a x b) · Bᵀ (b x c)` on `block`; `Err` if `c' = class_period(c)` does not
    /// divide `s0` or exceeds `s1`, or a dimension is zero.
    pub fn new(block: BlockShape, a: usize, b: usize, c: usize) -> Result<Self> {
        let shape = PlanShape::new("DiagAbtPlan::new", block, a, b, c)?;
        let period = class_period(c);
        let (s0, s1) = (block.rows(), block.cols());
        if s0 % period != 0 || period > s1 {
            return Err(Error::ShapeMismatch {
                op: "DiagAbtPlan::new",
                reason: format!("class period {period} must divide s0 = {s0} and fit s1 = {s1}"),
            });
        }
        Ok(Self {
            shape,
            period,
            masks: MaskCache::default(),
        })
    }

    /// The layout `A` must be in: plain tiling.
    pub fn layout_a(&self) -> Layout {
        Layout::plain(self.shape.block)
    }

    /// The layout `B` must be in: tiled vertically with period `c'`.
    pub fn layout_b(&self) -> Layout {
        Layout::vertical(self.shape.block, self.period)
    }

    /// The layout of the product: tiled horizontally with period `c'`.
    pub fn layout_out(&self) -> Layout {
        Layout::horizontal(self.shape.block, self.period)
    }

    /// Levels taken from each operand: 3 and 3.
    pub fn depth(&self) -> Depth {
        Depth { a: 3, b: 3 }
    }

    /// The rotation steps (normalized into `[0, n)`) whose keys the run needs; it also needs the
    /// conjugation key and the relinearization key.
    pub fn rotation_steps(&self) -> Vec<i32> {
        let (s0, s1) = (self.shape.block.rows(), self.shape.block.cols());
        let s1i = s1 as i64;
        let pairs = (1..self.period / 2).map(|m| 2 * m as i64 * s1i);
        let steps = std::iter::once(s1i)
            .chain(pairs)
            .chain(sum_steps(1, s1))
            .chain(sum_steps(-1, s1));
        normalize_steps(steps, s0 * s1)
    }

    /// The operation counts of one run (exactly what a `CountingBackend` records). With
    /// `h = c'/2`, `na = ceil(a/s0)`, `nb = ceil(b/s1)`: CMult `c'·na`, Mult `h·na·nb`,
    /// Rot `h·(nb + 2·na·log2 s1)`, one conjugation per output block.
    pub fn counts(&self) -> PlanCounts {
        let (na, nb) = (self.shape.na as u64, self.shape.nb as u64);
        let h = (self.period / 2) as u64;
        let ls1 = log2(self.shape.block.cols());
        let hoisted_groups = if h > 1 { nb } else { 0 };
        PlanCounts {
            cmult: 2 * h * na,
            mult: h * na * nb,
            rot: nb + (h - 1) * nb + h * na * 2 * ls1,
            conj: na,
            relin: h * na,
            rescale: 2 * h * na + na,
            key_switches: 0,
            decompositions: nb + hoisted_groups + h * na * 2 * ls1 + h * na + na,
        }
        .finish()
    }

    /// Number of cached mask sets (the masks are encoded on the first run at a level and
    /// reused by every later run).
    pub fn cached_levels(&self) -> usize {
        self.masks.len()
    }

    fn check(&self, a: &EncryptedMatrix<B>, b: &EncryptedMatrix<B>) -> Result<()> {
        check_operand(
            "DiagABT",
            "A",
            a,
            self.layout_a(),
            (self.shape.a, self.shape.b),
        )?;
        check_operand(
            "DiagABT",
            "B",
            b,
            self.layout_b(),
            (self.shape.c, self.shape.b),
        )
    }
}

impl<B: SlotBackend> DiagAbtPlan<B> {
    /// Computes `A Bᵀ`. Both operands are first brought to the lower of their levels `l` (so
    /// every rotation happens at the lowest level that suffices); the output is at `l - 3`.
    pub fn run(
        &self,
        backend: &B,
        a: &EncryptedMatrix<B>,
        b: &EncryptedMatrix<B>,
    ) -> Result<EncryptedMatrix<B>> {
        self.check(a, b)?;
        crate::matrix::check_slots("DiagABT", backend.slots(), self.block_layout())?;
        let (la, lb) = (a.level(backend), b.level(backend));
        self.depth().output_level("DiagABT", la, lb)?;
        let l = la.min(lb);
        let (s0, s1) = (self.shape.block.rows(), self.shape.block.cols());
        let (na, nb, h, c) = (self.shape.na, self.shape.nb, self.period / 2, self.period);

        // Column-0 mask (with the 1/2 of the real part) at l - 1, complex masks at l - 2.
        let col0 = self.masks.get(backend, 0, l - 1, || {
            vec![mask(s0, s1, Complex64::new(0.5, 0.0), |_, j| j == 0)]
        })?;
        let complex = self.masks.get(backend, 1, l - 2, || {
            (0..h)
                .map(|m| {
                    let mut v = mask(s0, s1, Complex64::new(1.0, 0.0), |i, j| {
                        (j + c - i % c) % c == 2 * m
                    });
                    let odd = mask(s0, s1, Complex64::new(0.0, -1.0), |i, j| {
                        (j + c - i % c) % c == 2 * m + 1
                    });
                    for (x, y) in v.iter_mut().zip(odd) {
                        *x += y;
                    }
                    v
                })
                .collect()
        })?;

        let a_blocks: Vec<B::Ct> = a
            .blocks()
            .par_iter()
            .map(|ct| backend.drop_to_level(ct, l))
            .collect::<hetal_ckks::Result<_>>()?;
        // bp[q][m] = Rot(B'_q, 2m s1), B'_q = B~_q + i Rot(B~_q, s1).
        let pair_steps: Vec<i32> = (1..h).map(|m| (2 * m * s1) as i32).collect();
        let bp: Vec<Vec<B::Ct>> = b
            .blocks()
            .par_iter()
            .map(|ct| -> Result<Vec<B::Ct>> {
                let bt = backend.drop_to_level(ct, l)?;
                let up = backend.rotate(&bt, s1 as i32)?;
                let prime = backend.add(&bt, &backend.mul_i(&up)?)?;
                let mut out = Vec::with_capacity(h);
                if !pair_steps.is_empty() {
                    out.extend(backend.rotate_hoisted(&prime, &pair_steps)?);
                }
                out.insert(0, prime);
                Ok(out)
            })
            .collect::<Result<_>>()?;

        // One pending (un-rescaled) masked term per (p, m).
        let terms: Vec<B::Ct> = (0..na * h)
            .into_par_iter()
            .map(|k| -> Result<B::Ct> {
                let (p, m) = (k / h, k % h);
                let products = (0..nb)
                    .map(|q| backend.tensor(&a_blocks[p * nb + q], &bp[q][m]))
                    .collect::<hetal_ckks::Result<Vec<_>>>()?;
                let z = backend.rescale(&backend.relinearize(&sum_all(backend, &products)?)?)?;
                let z = backend.rotate_and_sum(&z, 1, s1)?;
                let z = backend.rescale(&backend.mul_plain(&z, &col0[0])?)?;
                let z = backend.rotate_and_sum(&z, -1, s1)?;
                Ok(backend.mul_plain(&z, &complex[m])?)
            })
            .collect::<Result<_>>()?;

        let out: Vec<B::Ct> = (0..na)
            .into_par_iter()
            .map(|p| -> Result<B::Ct> {
                let acc = backend.rescale(&sum_all(backend, &terms[p * h..(p + 1) * h])?)?;
                real_part(backend, &acc)
            })
            .collect::<Result<_>>()?;
        EncryptedMatrix::from_blocks(self.shape.a, self.shape.c, self.layout_out(), out)
    }

    fn block_layout(&self) -> Layout {
        self.layout_a()
    }
}

/// `Err` unless `m` is a `shape` matrix in `layout`.
pub(crate) fn check_operand<B: SlotBackend>(
    op: &'static str,
    name: &'static str,
    m: &EncryptedMatrix<B>,
    layout: Layout,
    shape: (usize, usize),
) -> Result<()> {
    if m.layout() != layout {
        return Err(Error::LayoutMismatch {
            op,
            expected: format!("{name} in {layout}"),
            got: m.layout().to_string(),
        });
    }
    if (m.rows(), m.cols()) != shape {
        return Err(Error::ShapeMismatch {
            op,
            reason: format!(
                "{name} is {} x {}, the plan expects {} x {}",
                m.rows(),
                m.cols(),
                shape.0,
                shape.1
            ),
        });
    }
    Ok(())
}

crate::plan::forward_matmul_plan!(DiagAbtPlan, |_plan| "diag_abt");
