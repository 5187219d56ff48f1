//! What every matrix-product plan reports before it runs: operation counts, depth, rotation
//! steps; and the per-level mask cache the plans share.

use crate::{BlockShape, EncryptedMatrix, Error, Layout, Result};
use hetal_ckks::backend::{Complex64, SlotBackend};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Operation counts of one run of a plan, in HETAL's vocabulary (CMult, Mult, Rot) plus what a
/// CKKS implementation pays for. They are exactly what a
/// [`CountingBackend`](hetal_ckks::backend::CountingBackend) records for the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanCounts {
    /// Plaintext (mask) multiplications: HETAL's CMult.
    pub cmult: u64,
    /// Ciphertext-ciphertext (tensor) products: HETAL's Mult.
    pub mult: u64,
    /// Nonzero rotations, hoisted or not: HETAL's Rot.
    pub rot: u64,
    /// Conjugations (one per output block for the complex-packed products).
    pub conj: u64,
    /// Relinearizations (one per sum of products, thanks to lazy relinearization).
    pub relin: u64,
    /// Rescales.
    pub rescale: u64,
    /// Key switches: `rot + conj + relin`.
    pub key_switches: u64,
    /// Key-switching decompositions (ModUp): hoisted rotations of one input share one.
    pub decompositions: u64,
}

impl PlanCounts {
    pub(crate) fn finish(mut self) -> Self {
        self.key_switches = self.rot + self.conj + self.relin;
        self
    }
}

/// Multiplicative depth of a product on each operand: the output is at level
/// `min(level(A) - a, level(B) - b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    /// Levels taken from `A`.
    pub a: usize,
    /// Levels taken from `B`.
    pub b: usize,
}

impl Depth {
    /// The larger of the two.
    pub fn max(&self) -> usize {
        self.a.max(self.b)
    }

    /// The output level for operands at `level_a` and `level_b`; `Err` if either is too low.
    ///
    /// ```
    /// use hetal_linalg::Depth;
    /// let d = Depth { a: 4, b: 2 };
    /// assert_eq!(d.output_level("example", 6, 9).unwrap(), 2);
    /// assert!(d.output_level("example", 3, 9).is_err());
    /// ```
    pub fn output_level(&self, op: &'static str, level_a: usize, level_b: usize) -> Result<usize> {
        if level_a < self.a {
            return Err(Error::InsufficientLevels {
                op,
                operand: "A",
                level: level_a,
                needed: self.a,
            });
        }
        if level_b < self.b {
            return Err(Error::InsufficientLevels {
                op,
                operand: "B",
                level: level_b,
                needed: self.b,
            });
        }
        Ok((level_a - self.a).min(level_b - self.b))
    }
}

/// The geometry every plan starts from: the block shape, the product's shape `(a, b, c)` (in
/// HETAL's table order) and the block grid `na = ceil(a/s0)`, `nb = ceil(b/s1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlanShape {
    pub(crate) block: BlockShape,
    pub(crate) a: usize,
    pub(crate) b: usize,
    pub(crate) c: usize,
    pub(crate) na: usize,
    pub(crate) nb: usize,
}

impl PlanShape {
    /// `Err` if a dimension is zero.
    pub(crate) fn new(
        op: &'static str,
        block: BlockShape,
        a: usize,
        b: usize,
        c: usize,
    ) -> Result<Self> {
        if a == 0 || b == 0 || c == 0 {
            return Err(Error::ShapeMismatch {
                op,
                reason: format!("empty shape (a, b, c) = ({a}, {b}, {c})"),
            });
        }
        Ok(Self {
            block,
            a,
            b,
            c,
            na: a.div_ceil(block.rows()),
            nb: b.div_ceil(block.cols()),
        })
    }
}

/// `log2` of a power of two.
pub(crate) fn log2(x: usize) -> u64 {
    u64::from(x.trailing_zeros())
}

/// Rotation steps normalized into `[0, slots)`, sorted, without duplicates or zero.
pub(crate) fn normalize_steps(steps: impl IntoIterator<Item = i64>, slots: usize) -> Vec<i32> {
    let n = slots as i64;
    let mut out: Vec<i32> = steps
        .into_iter()
        .map(|k| k.rem_euclid(n))
        .filter(|&k| k != 0)
        .map(|k| k as i32)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The steps `± 2^j` (`j < log2 count`) of a rotate-and-sum over `count` terms of `step`.
pub(crate) fn sum_steps(step: i64, count: usize) -> impl Iterator<Item = i64> {
    (0..log2(count)).map(move |j| step << j)
}

/// A mask set's key: (kind, level, bits of the level's scale).
type MaskKey = (u8, usize, u64);

/// Plaintext masks, encoded once per level (and scale) and shared by every run of a plan.
pub(crate) struct MaskCache<P> {
    map: Mutex<HashMap<MaskKey, Arc<Vec<P>>>>,
}

impl<P> Default for MaskCache<P> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<P: Clone> MaskCache<P> {
    /// The masks of `kind` at `level`, built by `values` (one slot vector per mask) on first
    /// use.
    pub(crate) fn get<B>(
        &self,
        backend: &B,
        kind: u8,
        level: usize,
        values: impl FnOnce() -> Vec<Vec<Complex64>>,
    ) -> Result<Arc<Vec<P>>>
    where
        B: SlotBackend<Pt = P>,
    {
        let key = (kind, level, backend.scale_at(level).to_bits());
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = map.get(&key) {
            return Ok(Arc::clone(m));
        }
        let masks = values()
            .iter()
            .map(|v| backend.encode(v, level))
            .collect::<hetal_ckks::Result<Vec<_>>>()?;
        let masks = Arc::new(masks);
        map.insert(key, Arc::clone(&masks));
        Ok(masks)
    }

    /// Number of cached mask sets (kind and level).
    pub(crate) fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A real 0/1 (times `scale`) mask over an `s0 x s1` block from a predicate on `(row, col)`.
pub(crate) fn mask(
    s0: usize,
    s1: usize,
    value: Complex64,
    pred: impl Fn(usize, usize) -> bool,
) -> Vec<Complex64> {
    let zero = Complex64::new(0.0, 0.0);
    let mut out = vec![zero; s0 * s1];
    for r in 0..s0 {
        for l in 0..s1 {
            if pred(r, l) {
                out[r * s1 + l] = value;
            }
        }
    }
    out
}

/// Adds up a list of ciphertexts (same level and scale) in order.
pub(crate) fn sum_all<B: SlotBackend>(backend: &B, cts: &[B::Ct]) -> Result<B::Ct> {
    let (first, rest) = cts.split_first().ok_or_else(|| Error::ShapeMismatch {
        op: "sum",
        reason: "nothing to add".into(),
    })?;
    let mut acc = first.clone();
    for ct in rest {
        acc = backend.add(&acc, ct)?;
    }
    Ok(acc)
}

/// `acc + conj(acc)`: the real part of a complex-packed accumulator whose masks carry the 1/2.
pub(crate) fn real_part<B: SlotBackend>(backend: &B, acc: &B::Ct) -> Result<B::Ct> {
    Ok(backend.add(acc, &backend.conjugate(acc)?)?)
}

/// What every matrix-product plan offers ([`DiagAbtPlan`](crate::DiagAbtPlan),
/// [`DiagAtbPlan`](crate::DiagAtbPlan), [`CrockettPlan`](crate::CrockettPlan)), so that callers
/// (the trainer, benchmarks) can hold any of them behind one type and generate keys for them.
///
/// The methods forward to the plans' inherent methods of the same names.
///
/// ```
/// use hetal_ckks::backend::{PlainBackend, ScaleChain};
/// use hetal_linalg::{AtbVariant, BlockShape, DiagAbtPlan, DiagAtbPlan, MatmulPlan};
/// # fn main() -> hetal_linalg::Result<()> {
/// let block = BlockShape::select(256, 16, 4)?;
/// let plans: Vec<Box<dyn MatmulPlan<PlainBackend>>> = vec![
///     Box::new(DiagAbtPlan::new(block, 16, 40, 4)?),
///     Box::new(DiagAtbPlan::new(block, 16, 40, 4, AtbVariant::RotateA)?),
/// ];
/// let mut steps: Vec<i32> = plans.iter().flat_map(|p| p.rotation_steps()).collect();
/// steps.sort_unstable();
/// steps.dedup();
/// assert!(plans.iter().all(|p| p.depth().max() <= 4));
/// # Ok(())
/// # }
/// ```
pub trait MatmulPlan<B: SlotBackend>: Send + Sync {
    /// A short name for reports: `diag_abt`, `diag_atb`, `diag_atb_protup`, `crockett_abt`,
    /// `crockett_atb`.
    fn name(&self) -> &'static str;
    /// The layout the left operand must be in.
    fn layout_a(&self) -> Layout;
    /// The layout the right operand must be in.
    fn layout_b(&self) -> Layout;
    /// The layout of the product.
    fn layout_out(&self) -> Layout;
    /// Levels taken from each operand.
    fn depth(&self) -> Depth;
    /// The rotation steps (normalized into `[0, n)`) whose Galois keys a run needs (every plan
    /// also needs the relinearization key; the complex-packed ones the conjugation key).
    fn rotation_steps(&self) -> Vec<i32>;
    /// The operation counts of one run.
    fn counts(&self) -> PlanCounts;
    /// Runs the product.
    fn run(
        &self,
        backend: &B,
        a: &EncryptedMatrix<B>,
        b: &EncryptedMatrix<B>,
    ) -> Result<EncryptedMatrix<B>>;
}

/// Implements [`MatmulPlan`] for a plan type by forwarding to its inherent methods.
macro_rules! forward_matmul_plan {
    ($plan:ident, |$this:ident| $name:expr) => {
        impl<B: SlotBackend> $crate::plan::MatmulPlan<B> for $plan<B> {
            fn name(&self) -> &'static str {
                let $this = self;
                $name
            }
            fn layout_a(&self) -> $crate::Layout {
                $plan::layout_a(self)
            }
            fn layout_b(&self) -> $crate::Layout {
                $plan::layout_b(self)
            }
            fn layout_out(&self) -> $crate::Layout {
                $plan::layout_out(self)
            }
            fn depth(&self) -> $crate::Depth {
                $plan::depth(self)
            }
            fn rotation_steps(&self) -> Vec<i32> {
                $plan::rotation_steps(self)
            }
            fn counts(&self) -> $crate::PlanCounts {
                $plan::counts(self)
            }
            fn run(
                &self,
                backend: &B,
                a: &$crate::EncryptedMatrix<B>,
                b: &$crate::EncryptedMatrix<B>,
            ) -> $crate::Result<$crate::EncryptedMatrix<B>> {
                $plan::run(self, backend, a, b)
            }
        }
    };
}
pub(crate) use forward_matmul_plan;
