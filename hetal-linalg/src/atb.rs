//! DiagATB: `Aᵀ B` with two diagonals per ciphertext product, in both level cases (HETAL,
//! section 4 of the reference).

use crate::abt::check_operand;
use crate::plan::{
    MaskCache, PlanShape, log2, mask, normalize_steps, real_part, sum_all, sum_steps,
};
use crate::{BlockShape, Depth, EncryptedMatrix, Error, Layout, PlanCounts, Result, class_period};
use hetal_ckks::backend::{Complex64, SlotBackend};
use rayon::prelude::*;

/// Which operand pays for the in-row rotations of `A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtbVariant {
    /// `level(A) >= level(B)`: masked in-row rotations of `A`
    /// (`RotLeft(A, k) = M ⊙ (Rot(A, k) - Rot(A, k - s1)) + Rot(A, k - s1)`); depth 4 on `A`,
    /// 2 on `B` (3 and 2 when `c' = 2`).
    RotateA,
    /// `level(A) < level(B)` (A comes out of the softmax): plain rotations of `A`, the
    /// wrap-around repaired on `B` with `PRotUp(B, k) = M ⊙ (B - Rot(B, s1)) + Rot(B, s1)`;
    /// depth 3 on `A`, 3 on `B` (3 and 2 when `c' = 2`).
    PRotUp {
        /// Compute `Rot(B, s1)` once per block and reuse it for every diagonal pair instead of
        /// once per pair as HETAL counts it: `(c'/2 - 2)·na·nb` fewer rotations, same result.
        /// `false` reproduces HETAL's table exactly.
        share_rotation: bool,
    },
}

impl AtbVariant {
    /// The variant that leaves the output at the highest level for operands at these levels:
    /// [`PRotUp`](Self::PRotUp) (sharing the rotation) when `level_a < level_b`.
    ///
    /// ```
    /// use hetal_linalg::AtbVariant;
    /// assert_eq!(AtbVariant::for_levels(9, 9), AtbVariant::RotateA);
    /// assert!(matches!(AtbVariant::for_levels(5, 9), AtbVariant::PRotUp { .. }));
    /// ```
    pub fn for_levels(level_a: usize, level_b: usize) -> Self {
        if level_a < level_b {
            Self::PRotUp {
                share_rotation: true,
            }
        } else {
            Self::RotateA
        }
    }
}

/// A plan for `Aᵀ B` with `A` an `a x c` matrix tiled horizontally with period
/// `c' = class_period(c)` (`c' | s1`, `c' <= s0`) and `B` an `a x b` matrix in plain tiling. The
/// product is `c x b`, tiled vertically with period `c'`: the layout of the weights, so the
/// update `W - lr·grad` is slot-wise.
///
/// Circuit: `A' = A~ + i·RotLeft(A~, 1)` per row block; for each pair `m < c'/2`, the `2m`-th
/// in-row rotation of `A'` (masked on `A` or repaired on `B`, see [`AtbVariant`]),
/// `Z = Σ_p A'_m[p] ⊗ B_m[p, q]` with one relinearization and one rescale, column sums
/// (`log2 s0` rotations by `s1·2^j`, replicated in every row), the mask `D_2m - i·D_2m+1`
/// (carrying the 1/2 of the real part), accumulated before one rescale; then `acc + conj(acc)`.
///
/// ```
/// use hetal_ckks::backend::{PlainBackend, ScaleChain};
/// use hetal_linalg::{AtbVariant, BlockShape, DiagAtbPlan, EncryptedMatrix, Matrix};
/// # fn main() -> hetal_linalg::Result<()> {
/// let backend = PlainBackend::new(64, ScaleChain::uniform(5, 40.0));
/// let block = BlockShape::select(64, 8, 4)?; // 8 x 8
/// let plan = DiagAtbPlan::<PlainBackend>::new(block, 8, 13, 4, AtbVariant::RotateA)?;
/// let a = Matrix::from_fn(8, 4, |i, j| (i as f64 - j as f64) / 8.0);
/// let b = Matrix::from_fn(8, 13, |i, j| ((i + 2 * j) % 7) as f64 / 7.0);
/// let ea = EncryptedMatrix::encrypt(&backend, &a, plan.layout_a(), 5)?;
/// let eb = EncryptedMatrix::encrypt(&backend, &b, plan.layout_b(), 5)?;
/// let out = plan.run(&backend, &ea, &eb)?;
/// assert_eq!(out.level(&backend), 1); // min(5 - 4, 5 - 2)
/// assert!(out.decrypt(&backend)?.max_abs_diff(&a.transpose().matmul(&b)?)? < 1e-9);
/// # Ok(())
/// # }
/// ```
pub struct DiagAtbPlan<B: SlotBackend> {
    shape: PlanShape,
    period: usize,
    variant: AtbVariant,
    masks: MaskCache<B::Pt>,
}

impl<B: SlotBackend> std::fmt::Debug for DiagAtbPlan<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiagAtbPlan")
            .field("shape", &self.shape)
            .field("variant", &self.variant)
            .finish_non_exhaustive()
    }
}

impl<B: SlotBackend> DiagAtbPlan<B> {
    /// A plan for `Aᵀ B` with `A` an `a x c` and `B` an `a x b` matrix (the shape `(a, b, c)` of
    /// HETAL's table) on `block`; `Err` if `c' = class_period(c)` does not divide `s1` or exceeds
    /// `s0`, or a dimension is zero.
    pub fn new(
        block: BlockShape,
        a: usize,
        b: usize,
        c: usize,
        variant: AtbVariant,
    ) -> Result<Self> {
        let shape = PlanShape::new("DiagAtbPlan::new", block, a, b, c)?;
        let period = class_period(c);
        let (s0, s1) = (block.rows(), block.cols());
        if s1 % period != 0 || period > s0 {
            return Err(Error::ShapeMismatch {
                op: "DiagAtbPlan::new",
                reason: format!("class period {period} must divide s1 = {s1} and fit s0 = {s0}"),
            });
        }
        Ok(Self {
            shape,
            period,
            variant,
            masks: MaskCache::default(),
        })
    }

    /// The variant.
    pub fn variant(&self) -> AtbVariant {
        self.variant
    }

    /// The layout `A` must be in: tiled horizontally with period `c'`.
    pub fn layout_a(&self) -> Layout {
        Layout::horizontal(self.shape.block, self.period)
    }

    /// The layout `B` must be in: plain tiling.
    pub fn layout_b(&self) -> Layout {
        Layout::plain(self.shape.block)
    }

    /// The layout of the product: tiled vertically with period `c'`.
    pub fn layout_out(&self) -> Layout {
        Layout::vertical(self.shape.block, self.period)
    }

    /// Levels taken from each operand (see [`AtbVariant`]).
    pub fn depth(&self) -> Depth {
        let pairs = self.period > 2;
        match (self.variant, pairs) {
            (_, false) => Depth { a: 3, b: 2 },
            (AtbVariant::RotateA, true) => Depth { a: 4, b: 2 },
            (AtbVariant::PRotUp { .. }, true) => Depth { a: 3, b: 3 },
        }
    }

    /// The level all products are taken at for operands at `la`, `lb`.
    fn product_level(&self, la: usize, lb: usize) -> usize {
        let d = self.depth();
        (la - (d.a - 2)).min(lb - (d.b - 2))
    }

    /// The rotation steps (normalized into `[0, n)`) whose keys the run needs; it also needs the
    /// conjugation key and the relinearization key.
    pub fn rotation_steps(&self) -> Vec<i32> {
        let (s0, s1) = (
            self.shape.block.rows() as i64,
            self.shape.block.cols() as i64,
        );
        let h = (self.period / 2) as i64;
        let mut steps: Vec<i64> = vec![1, 1 - s1];
        match self.variant {
            AtbVariant::RotateA => {
                for m in 1..h {
                    steps.extend([2 * m, 2 * m - s1]);
                }
            }
            AtbVariant::PRotUp { .. } => {
                steps.extend((1..h).map(|m| 2 * m));
                if h > 1 {
                    steps.push(s1);
                }
            }
        }
        steps.extend(sum_steps(s1, s0 as usize));
        normalize_steps(steps, (s0 * s1) as usize)
    }

    /// The operation counts of one run (exactly what a `CountingBackend` records). With
    /// `h = c'/2`: Mult `h·na·nb`; `RotateA`: CMult `h·(na + nb)`, Rot `h·(2na + nb·log2 s0)`;
    /// `PRotUp`: CMult `na + (h-1)·na·nb + h·nb`, Rot `2na + (h-1)(na + na·nb) + h·nb·log2 s0`
    /// (HETAL's formulas, which write `1` and `2` for `na` and `2na`: equal for `na = 1`).
    pub fn counts(&self) -> PlanCounts {
        let (na, nb) = (self.shape.na as u64, self.shape.nb as u64);
        let h = (self.period / 2) as u64;
        let ls0 = log2(self.shape.block.rows());
        let column_sums = h * nb * ls0;
        let relin = h * nb;
        let conj = nb;
        let pair_groups = if h > 1 { na } else { 0 };
        let mut counts = PlanCounts {
            mult: h * na * nb,
            conj,
            relin,
            ..PlanCounts::default()
        };
        match self.variant {
            AtbVariant::RotateA => {
                counts.cmult = na + (h - 1) * na + h * nb;
                counts.rot = 2 * na + 2 * (h - 1) * na + column_sums;
                counts.rescale = na + (h - 1) * na + h * nb + nb;
                counts.decompositions = na + pair_groups + column_sums + relin + conj;
            }
            AtbVariant::PRotUp { share_rotation } => {
                let b_rots = if !share_rotation {
                    (h - 1) * na * nb
                } else if h > 1 {
                    na * nb
                } else {
                    0
                };
                counts.cmult = na + (h - 1) * na * nb + h * nb;
                counts.rot = 2 * na + (h - 1) * na + b_rots + column_sums;
                counts.rescale = na + (h - 1) * na * nb + h * nb + nb;
                counts.decompositions = na + pair_groups + b_rots + column_sums + relin + conj;
            }
        }
        counts.finish()
    }

    /// Number of cached mask sets (kind and level).
    pub fn cached_levels(&self) -> usize {
        self.masks.len()
    }
}

impl<B: SlotBackend> DiagAtbPlan<B> {
    /// Computes `Aᵀ B`. The output is at `min(level(A) - depth.a, level(B) - depth.b)`; the
    /// operands are first dropped to the lowest levels that still reach it, so every rotation
    /// is done as low as possible.
    pub fn run(
        &self,
        backend: &B,
        a: &EncryptedMatrix<B>,
        b: &EncryptedMatrix<B>,
    ) -> Result<EncryptedMatrix<B>> {
        check_operand(
            "DiagATB",
            "A",
            a,
            self.layout_a(),
            (self.shape.a, self.shape.c),
        )?;
        check_operand(
            "DiagATB",
            "B",
            b,
            self.layout_b(),
            (self.shape.a, self.shape.b),
        )?;
        crate::matrix::check_slots("DiagATB", backend.slots(), self.layout_b())?;
        let (la, lb) = (a.level(backend), b.level(backend));
        self.depth().output_level("DiagATB", la, lb)?;
        let l = self.product_level(la, lb);
        let (s0, s1) = (self.shape.block.rows(), self.shape.block.cols());
        let (na, nb, h, c) = (self.shape.na, self.shape.nb, self.period / 2, self.period);
        let rotate_a = self.variant == AtbVariant::RotateA;
        // Level at which A' is formed (its in-row rotation by 1 costs a level).
        let a_prime_level = if rotate_a && h > 1 { l + 1 } else { l };

        // In-row masks M_k = [col < s1 - k] for k = 1 (at a_prime_level + 1) and k = 2m (at l + 1,
        // on A for RotateA, on B for PRotUp); D masks at l - 1.
        let one = Complex64::new(1.0, 0.0);
        let row_mask = |k: usize| mask(s0, s1, one, move |_, j| j < s1 - k);
        let first = self
            .masks
            .get(backend, 0, a_prime_level + 1, || vec![row_mask(1)])?;
        let pair_masks = if h > 1 {
            Some(self.masks.get(backend, 1, l + 1, || {
                (1..h).map(|m| row_mask(2 * m)).collect()
            })?)
        } else {
            None
        };
        let d_masks = self.masks.get(backend, 2, l - 1, || {
            (0..h)
                .map(|m| {
                    let half = 0.5;
                    let mut v = mask(s0, s1, Complex64::new(half, 0.0), |i, j| {
                        i % c == (j + 2 * m) % c
                    });
                    let odd = mask(s0, s1, Complex64::new(0.0, -half), |i, j| {
                        i % c == (j + 2 * m + 1) % c
                    });
                    for (x, y) in v.iter_mut().zip(odd) {
                        *x += y;
                    }
                    v
                })
                .collect()
        })?;

        // a_rot[p][m]: the 2m-th in-row rotation of A'_p (exact for RotateA, plain for PRotUp).
        let a_rot: Vec<Vec<B::Ct>> = a
            .blocks()
            .par_iter()
            .map(|ct| -> Result<Vec<B::Ct>> {
                let at = backend.drop_to_level(ct, a_prime_level + 1)?;
                let rl = rot_left(backend, &at, 1, s1, &first[0])?;
                let at = backend.drop_to_level(&at, a_prime_level)?;
                let prime = backend.add(&at, &backend.mul_i(&rl)?)?;
                let mut out = vec![backend.drop_to_level(&prime, l)?];
                if h > 1 {
                    let masks = pair_masks.as_ref().expect("pair masks exist when h > 1");
                    if rotate_a {
                        let steps: Vec<i32> = (1..h)
                            .flat_map(|m| [(2 * m) as i32, (2 * m) as i32 - s1 as i32])
                            .collect();
                        let rots = backend.rotate_hoisted(&prime, &steps)?;
                        for m in 1..h {
                            let (r1, r2) = (&rots[2 * (m - 1)], &rots[2 * (m - 1) + 1]);
                            out.push(masked_select(backend, r1, r2, &masks[m - 1])?);
                        }
                    } else {
                        let steps: Vec<i32> = (1..h).map(|m| (2 * m) as i32).collect();
                        out.extend(backend.rotate_hoisted(&prime, &steps)?);
                    }
                }
                Ok(out)
            })
            .collect::<Result<_>>()?;

        // B at the level it is used: l, and l + 1 where PRotUp repairs it.
        let b_top = if !rotate_a && h > 1 { l + 1 } else { l };
        let b_blocks: Vec<B::Ct> = b
            .blocks()
            .par_iter()
            .map(|ct| backend.drop_to_level(ct, b_top))
            .collect::<hetal_ckks::Result<_>>()?;
        let share = matches!(
            self.variant,
            AtbVariant::PRotUp {
                share_rotation: true
            }
        );
        let shared_up: Vec<B::Ct> = if share && h > 1 {
            b_blocks
                .par_iter()
                .map(|ct| backend.rotate(ct, s1 as i32))
                .collect::<hetal_ckks::Result<_>>()?
        } else {
            Vec::new()
        };

        let terms: Vec<B::Ct> = (0..nb * h)
            .into_par_iter()
            .map(|k| -> Result<B::Ct> {
                let (q, m) = (k / h, k % h);
                let mut products = Vec::with_capacity(na);
                for p in 0..na {
                    let bpq = &b_blocks[p * nb + q];
                    let bm = if m == 0 || rotate_a {
                        backend.drop_to_level(bpq, l)?
                    } else {
                        let masks = pair_masks.as_ref().expect("pair masks exist when h > 1");
                        let up = if share {
                            shared_up[p * nb + q].clone()
                        } else {
                            backend.rotate(bpq, s1 as i32)?
                        };
                        // PRotUp(B, 2m) = M ⊙ (B - up) + up
                        masked_select(backend, bpq, &up, &masks[m - 1])?
                    };
                    products.push(backend.tensor(&a_rot[p][m], &bm)?);
                }
                let z = backend.rescale(&backend.relinearize(&sum_all(backend, &products)?)?)?;
                let z = backend.rotate_and_sum(&z, s1 as i32, s0)?;
                Ok(backend.mul_plain(&z, &d_masks[m])?)
            })
            .collect::<Result<_>>()?;

        let out: Vec<B::Ct> = (0..nb)
            .into_par_iter()
            .map(|q| -> Result<B::Ct> {
                let acc = backend.rescale(&sum_all(backend, &terms[q * h..(q + 1) * h])?)?;
                real_part(backend, &acc)
            })
            .collect::<Result<_>>()?;
        EncryptedMatrix::from_blocks(self.shape.c, self.shape.b, self.layout_out(), out)
    }
}

/// `M ⊙ (x - y) + y`, rescaled: `x` where the mask is 1, `y` elsewhere; one CMult, one level.
fn masked_select<B: SlotBackend>(backend: &B, x: &B::Ct, y: &B::Ct, m: &B::Pt) -> Result<B::Ct> {
    let t = backend.rescale(&backend.mul_plain(&backend.sub(x, y)?, m)?)?;
    let y = backend.drop_to_level(y, backend.level(&t))?;
    Ok(backend.add(&t, &y)?)
}

/// Cyclic left rotation by `k` inside every row: two hoisted rotations and one masked select.
fn rot_left<B: SlotBackend>(
    backend: &B,
    x: &B::Ct,
    k: usize,
    s1: usize,
    m: &B::Pt,
) -> Result<B::Ct> {
    let rots = backend.rotate_hoisted(x, &[k as i32, k as i32 - s1 as i32])?;
    masked_select(backend, &rots[0], &rots[1], m)
}

crate::plan::forward_matmul_plan!(DiagAtbPlan, |plan| match plan.variant() {
    AtbVariant::RotateA => "diag_atb",
    AtbVariant::PRotUp {
        share_rotation: false,
    } => "diag_atb_protup",
    AtbVariant::PRotUp {
        share_rotation: true,
    } => "diag_atb_protup_shared",
});
