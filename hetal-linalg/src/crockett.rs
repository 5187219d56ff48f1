//! Baselines: Crockett's products without diagonal packing ("A low-depth homomorphic circuit
//! for logistic regression model training", 2020), reconstructed to the operation counts of
//! HETAL's comparison table: one class (row of `B`, column of `A`) at a time.

use crate::abt::check_operand;
use crate::plan::{MaskCache, PlanShape, log2, mask, normalize_steps, sum_all, sum_steps};
use crate::{BlockShape, Depth, EncryptedMatrix, Error, Layout, PlanCounts, Result};
use hetal_ckks::backend::{Complex64, SlotBackend};
use rayon::prelude::*;

/// Which product a [`CrockettPlan`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrockettKind {
    /// "Column-major" `A Bᵀ`: for each row `j` of `B` (`c x b`, plain tiling, `c <= s0`): mask
    /// the row, replicate it down the block (`log2 s0` rotations), multiply by `A` (`a x b`),
    /// row sums (`log2 s1` rotations), column-0 mask, move to column `j` (one rotation for
    /// `j > 0`). Output `a x c` in plain tiling (`c <= s1`). Depth 2 on `A`, 3 on `B`.
    Abt,
    /// "Row-major" `Aᵀ B`: for each column `j` of `A` (`a x c`, plain tiling, `c <= s1`): mask
    /// the column, move it to column 0 (one rotation for `j > 0`), replicate it along the row
    /// (`log2 s1` rotations), multiply by `B` (`a x b`), column sums (`log2 s0` rotations), row-`j`
    /// mask. Output `c x b` in plain tiling (`c <= s0`). Depth 3 on `A`, 2 on `B`.
    Atb,
}

/// A plan for a baseline product (see [`CrockettKind`]). Counts, `na = ceil(a/s0)`,
/// `nb = ceil(b/s1)`: CMult `c·(na + nb)`, Mult `c·na·nb`, and Rot
/// `c·nb·log2 s0 + na·(c·log2 s1 + c - 1)` for both kinds (HETAL's table, `na = 1`).
///
/// ```
/// use hetal_ckks::backend::{PlainBackend, ScaleChain};
/// use hetal_linalg::{BlockShape, CrockettKind, CrockettPlan, EncryptedMatrix, Matrix};
/// # fn main() -> hetal_linalg::Result<()> {
/// let backend = PlainBackend::new(64, ScaleChain::uniform(3, 40.0));
/// let block = BlockShape::new(8, 8, 64)?;
/// let plan = CrockettPlan::<PlainBackend>::new(CrockettKind::Abt, block, 8, 11, 3)?;
/// let a = Matrix::from_fn(8, 11, |i, j| (i + j) as f64 / 16.0);
/// let b = Matrix::from_fn(3, 11, |i, j| (i * j) as f64 / 32.0);
/// let ea = EncryptedMatrix::encrypt(&backend, &a, plan.layout_a(), 3)?;
/// let eb = EncryptedMatrix::encrypt(&backend, &b, plan.layout_b(), 3)?;
/// let out = plan.run(&backend, &ea, &eb)?.decrypt(&backend)?;
/// assert!(out.max_abs_diff(&a.matmul(&b.transpose())?)? < 1e-9);
/// # Ok(())
/// # }
/// ```
pub struct CrockettPlan<B: SlotBackend> {
    kind: CrockettKind,
    shape: PlanShape,
    masks: MaskCache<B::Pt>,
}

impl<B: SlotBackend> std::fmt::Debug for CrockettPlan<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrockettPlan")
            .field("kind", &self.kind)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

impl<B: SlotBackend> CrockettPlan<B> {
    /// A plan on `block`: for [`CrockettKind::Abt`], `A` is `a x b` and `B` is `c x b`; for
    /// [`CrockettKind::Atb`], `A` is `a x c` and `B` is `a x b`. `Err` if `c` exceeds a block
    /// side or a dimension is zero.
    pub fn new(
        kind: CrockettKind,
        block: BlockShape,
        a: usize,
        b: usize,
        c: usize,
    ) -> Result<Self> {
        let shape = PlanShape::new("CrockettPlan::new", block, a, b, c)?;
        let (s0, s1) = (block.rows(), block.cols());
        if c > s0 || c > s1 {
            return Err(Error::ShapeMismatch {
                op: "CrockettPlan::new",
                reason: format!("shape ({a}, {b}, {c}) on {s0} x {s1} blocks (needs c <= s0, s1)"),
            });
        }
        Ok(Self {
            kind,
            shape,
            masks: MaskCache::default(),
        })
    }

    /// The layout of `A` (plain).
    pub fn layout_a(&self) -> Layout {
        Layout::plain(self.shape.block)
    }

    /// The layout of `B` (plain).
    pub fn layout_b(&self) -> Layout {
        Layout::plain(self.shape.block)
    }

    /// The layout of the product (plain).
    pub fn layout_out(&self) -> Layout {
        Layout::plain(self.shape.block)
    }

    /// Levels taken from each operand.
    pub fn depth(&self) -> Depth {
        match self.kind {
            CrockettKind::Abt => Depth { a: 2, b: 3 },
            CrockettKind::Atb => Depth { a: 3, b: 2 },
        }
    }

    /// The rotation steps (normalized into `[0, n)`) whose keys the run needs (and the
    /// relinearization key; no conjugation).
    pub fn rotation_steps(&self) -> Vec<i32> {
        let (s0, s1) = (self.shape.block.rows(), self.shape.block.cols());
        let c = self.shape.c as i64;
        let steps: Vec<i64> = match self.kind {
            CrockettKind::Abt => sum_steps(-(s1 as i64), s0)
                .chain(sum_steps(1, s1))
                .chain((1..c).map(|j| -j))
                .collect(),
            CrockettKind::Atb => (1..c)
                .chain(sum_steps(-1, s1))
                .chain(sum_steps(s1 as i64, s0))
                .collect(),
        };
        normalize_steps(steps, s0 * s1)
    }

    /// The operation counts of one run (exactly what a `CountingBackend` records).
    pub fn counts(&self) -> PlanCounts {
        let (na, nb, c) = (
            self.shape.na as u64,
            self.shape.nb as u64,
            self.shape.c as u64,
        );
        let (ls0, ls1) = (log2(self.shape.block.rows()), log2(self.shape.block.cols()));
        let rot = c * nb * ls0 + na * (c * ls1 + c - 1);
        let (relin, rescale) = match self.kind {
            CrockettKind::Abt => (c * na, c * nb + c * na + na),
            CrockettKind::Atb => (c * nb, c * na + c * nb + nb),
        };
        PlanCounts {
            cmult: c * (na + nb),
            mult: c * na * nb,
            rot,
            conj: 0,
            relin,
            rescale,
            key_switches: 0,
            decompositions: rot + relin,
        }
        .finish()
    }

    /// Computes the product (see [`CrockettKind`]).
    pub fn run(
        &self,
        backend: &B,
        a: &EncryptedMatrix<B>,
        b: &EncryptedMatrix<B>,
    ) -> Result<EncryptedMatrix<B>> {
        crate::matrix::check_slots("Crockett", backend.slots(), self.layout_a())?;
        match self.kind {
            CrockettKind::Abt => {
                check_operand(
                    "CrockettABT",
                    "A",
                    a,
                    self.layout_a(),
                    (self.shape.a, self.shape.b),
                )?;
                check_operand(
                    "CrockettABT",
                    "B",
                    b,
                    self.layout_b(),
                    (self.shape.c, self.shape.b),
                )?;
                self.run_abt(backend, a, b)
            }
            CrockettKind::Atb => {
                check_operand(
                    "CrockettATB",
                    "A",
                    a,
                    self.layout_a(),
                    (self.shape.a, self.shape.c),
                )?;
                check_operand(
                    "CrockettATB",
                    "B",
                    b,
                    self.layout_b(),
                    (self.shape.a, self.shape.b),
                )?;
                self.run_atb(backend, a, b)
            }
        }
    }

    fn run_abt(
        &self,
        backend: &B,
        a: &EncryptedMatrix<B>,
        b: &EncryptedMatrix<B>,
    ) -> Result<EncryptedMatrix<B>> {
        let (la, lb) = (a.level(backend), b.level(backend));
        self.depth().output_level("CrockettABT", la, lb)?;
        let l = la.min(lb - 1);
        let (s0, s1) = (self.shape.block.rows(), self.shape.block.cols());
        let (na, nb, c) = (self.shape.na, self.shape.nb, self.shape.c);
        let one = Complex64::new(1.0, 0.0);
        let rows = self.masks.get(backend, 0, l + 1, || {
            (0..c).map(|j| mask(s0, s1, one, |i, _| i == j)).collect()
        })?;
        let col0 = self
            .masks
            .get(backend, 1, l - 1, || vec![mask(s0, s1, one, |_, k| k == 0)])?;
        let a_blocks: Vec<B::Ct> = a
            .blocks()
            .par_iter()
            .map(|ct| backend.drop_to_level(ct, l))
            .collect::<hetal_ckks::Result<_>>()?;
        let b_blocks: Vec<B::Ct> = b
            .blocks()
            .par_iter()
            .map(|ct| backend.drop_to_level(ct, l + 1))
            .collect::<hetal_ckks::Result<_>>()?;
        // per class j: one pending column-j term per output block row p.
        let terms: Vec<Vec<B::Ct>> = (0..c)
            .into_par_iter()
            .map(|j| -> Result<Vec<B::Ct>> {
                let bj = b_blocks
                    .iter()
                    .map(|ct| -> Result<B::Ct> {
                        let row = backend.rescale(&backend.mul_plain(ct, &rows[j])?)?;
                        Ok(backend.rotate_and_sum(&row, -(s1 as i32), s0)?)
                    })
                    .collect::<Result<Vec<_>>>()?;
                (0..na)
                    .map(|p| -> Result<B::Ct> {
                        let products = (0..nb)
                            .map(|q| backend.tensor(&a_blocks[p * nb + q], &bj[q]))
                            .collect::<hetal_ckks::Result<Vec<_>>>()?;
                        let z = backend
                            .rescale(&backend.relinearize(&sum_all(backend, &products)?)?)?;
                        let z = backend.rotate_and_sum(&z, 1, s1)?;
                        let z = backend.mul_plain(&z, &col0[0])?;
                        Ok(backend.rotate(&z, -(j as i32))?)
                    })
                    .collect()
            })
            .collect::<Result<_>>()?;
        let out = rescaled_sums_across(backend, &terms, na)?;
        EncryptedMatrix::from_blocks(self.shape.a, self.shape.c, self.layout_out(), out)
    }

    fn run_atb(
        &self,
        backend: &B,
        a: &EncryptedMatrix<B>,
        b: &EncryptedMatrix<B>,
    ) -> Result<EncryptedMatrix<B>> {
        let (la, lb) = (a.level(backend), b.level(backend));
        self.depth().output_level("CrockettATB", la, lb)?;
        let l = (la - 1).min(lb);
        let (s0, s1) = (self.shape.block.rows(), self.shape.block.cols());
        let (na, nb, c) = (self.shape.na, self.shape.nb, self.shape.c);
        let one = Complex64::new(1.0, 0.0);
        let cols = self.masks.get(backend, 0, l + 1, || {
            (0..c).map(|j| mask(s0, s1, one, |_, k| k == j)).collect()
        })?;
        let rows = self.masks.get(backend, 1, l - 1, || {
            (0..c).map(|j| mask(s0, s1, one, |i, _| i == j)).collect()
        })?;
        let a_blocks: Vec<B::Ct> = a
            .blocks()
            .par_iter()
            .map(|ct| backend.drop_to_level(ct, l + 1))
            .collect::<hetal_ckks::Result<_>>()?;
        let b_blocks: Vec<B::Ct> = b
            .blocks()
            .par_iter()
            .map(|ct| backend.drop_to_level(ct, l))
            .collect::<hetal_ckks::Result<_>>()?;
        // per class j: one pending row-j term per output block column q.
        let terms: Vec<Vec<B::Ct>> = (0..c)
            .into_par_iter()
            .map(|j| -> Result<Vec<B::Ct>> {
                let aj = a_blocks
                    .iter()
                    .map(|ct| -> Result<B::Ct> {
                        let col = backend.rescale(&backend.mul_plain(ct, &cols[j])?)?;
                        let col = backend.rotate(&col, j as i32)?;
                        Ok(backend.rotate_and_sum(&col, -1, s1)?)
                    })
                    .collect::<Result<Vec<_>>>()?;
                (0..nb)
                    .map(|q| -> Result<B::Ct> {
                        let products = (0..na)
                            .map(|p| backend.tensor(&aj[p], &b_blocks[p * nb + q]))
                            .collect::<hetal_ckks::Result<Vec<_>>>()?;
                        let z = backend
                            .rescale(&backend.relinearize(&sum_all(backend, &products)?)?)?;
                        let z = backend.rotate_and_sum(&z, s1 as i32, s0)?;
                        Ok(backend.mul_plain(&z, &rows[j])?)
                    })
                    .collect()
            })
            .collect::<Result<_>>()?;
        let out = rescaled_sums_across(backend, &terms, nb)?;
        EncryptedMatrix::from_blocks(self.shape.c, self.shape.b, self.layout_out(), out)
    }
}

crate::plan::forward_matmul_plan!(CrockettPlan, |plan| match plan.kind {
    CrockettKind::Abt => "crockett_abt",
    CrockettKind::Atb => "crockett_atb",
});

/// Output block `k` = `rescale(Σ_j terms[j][k])` for `k < count` (one product per class `j`,
/// summed across classes before a single rescale), in parallel over `k`.
fn rescaled_sums_across<B: SlotBackend>(
    backend: &B,
    terms: &[Vec<B::Ct>],
    count: usize,
) -> Result<Vec<B::Ct>> {
    (0..count)
        .into_par_iter()
        .map(|k| -> Result<B::Ct> {
            let across: Vec<B::Ct> = terms.iter().map(|t| t[k].clone()).collect();
            Ok(backend.rescale(&sum_all(backend, &across)?)?)
        })
        .collect()
}
