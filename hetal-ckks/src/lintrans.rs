//! Slot-level linear transforms evaluated with the baby-step giant-step algorithm.
//!
//! A matrix `M` of dimension `n` (the backend's slot count) is stored by its non-zero
//! **generalized diagonals** `diag_k[i] = M[i][(i + k) mod n]`, so that
//! `M·v = Σ_k diag_k ⊙ Rot(v, k)` (left rotations). Evaluating that sum naively costs one
//! rotation per diagonal. The baby-step giant-step algorithm (Halevi–Shoup) writes every offset
//! as `k = g·j + i` with `0 <= i < g` and pre-rotates the diagonals in the plaintexts:
//!
//! ```text
//! M·v = Σ_j Rot( Σ_i Rot^{-g·j}(diag_{g·j+i}) ⊙ Rot(v, i),  g·j )
//! ```
//!
//! The baby-step rotations `Rot(v, i)` all rotate the same ciphertext, so the inner sums are
//! computed together by [`SlotBackend::rotation_sums`] (one key-switching decomposition; on
//! CKKS with plaintexts over `Q ∪ P`, double hoisting: one ModDown per inner sum instead of
//! one per rotation); each inner sum is rotated once by its giant step, and everything is
//! rescaled once at the end. A transform therefore consumes exactly **one level**.
//!
//! [`LinearTransform`] is the backend-independent description (diagonals and the BSGS split);
//! [`LinearTransformPlan`] adds, per backend, the plaintext encodings of the pre-rotated
//! diagonals, encoded once per level and cached.
//!
//! ```
//! use hetal_ckks::backend::{Complex64, PlainBackend, ScaleChain, SlotBackend, SlotClient};
//! use hetal_ckks::lintrans::{BsgsConfig, Diagonals, LinearTransform, LinearTransformPlan};
//!
//! # fn main() -> hetal_ckks::Result<()> {
//! let n = 8;
//! // M = 2·I + (shift left by one).
//! let mut d = Diagonals::new(n);
//! d.set(0, vec![Complex64::new(2.0, 0.0); n])?;
//! d.set(1, vec![Complex64::new(1.0, 0.0); n])?;
//! let lt = LinearTransform::new(d, BsgsConfig::default())?;
//! let backend = PlainBackend::new(n, ScaleChain::uniform(2, 40.0));
//! let plan = LinearTransformPlan::<PlainBackend>::new(lt);
//! let x = backend.encrypt_real(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 2)?;
//! let y = plan.evaluate(&backend, &x)?;
//! assert_eq!(backend.level(&y), 1);
//! let out = backend.decrypt_real(&y)?;
//! assert!((out[0] - (2.0 + 2.0)).abs() < 1e-9 && (out[7] - (16.0 + 1.0)).abs() < 1e-9);
//! # Ok(())
//! # }
//! ```

use crate::backend::{Complex64, SlotBackend};
use crate::{Error, Result};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// A square complex matrix of dimension `n` stored by its non-zero generalized diagonals:
/// `diag_k[i] = M[i][(i + k) mod n]` for offsets `0 <= k < n`.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagonals {
    dim: usize,
    diags: BTreeMap<usize, Vec<Complex64>>,
}

impl Diagonals {
    /// The zero matrix of dimension `dim` (no diagonals).
    ///
    /// # Panics
    /// If `dim` is zero.
    pub fn new(dim: usize) -> Self {
        assert!(dim > 0, "a matrix has a positive dimension");
        Self {
            dim,
            diags: BTreeMap::new(),
        }
    }

    /// The identity matrix.
    pub fn identity(dim: usize) -> Self {
        let mut d = Self::new(dim);
        d.diags.insert(0, vec![Complex64::new(1.0, 0.0); dim]);
        d
    }

    /// The diagonals of a dense row-major matrix; diagonals whose entries are all at most `tol`
    /// in magnitude are omitted.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the matrix is empty or not square.
    pub fn from_dense(rows: &[Vec<Complex64>], tol: f64) -> Result<Self> {
        let n = rows.len();
        if n == 0 || rows.iter().any(|r| r.len() != n) {
            return Err(Error::InvalidArgument {
                op: "Diagonals::from_dense",
                reason: "the matrix must be square and non-empty".into(),
            });
        }
        let mut d = Self::new(n);
        for k in 0..n {
            let diag: Vec<Complex64> = (0..n).map(|i| rows[i][(i + k) % n]).collect();
            if diag.iter().any(|z| z.norm() > tol) {
                d.diags.insert(k, diag);
            }
        }
        Ok(d)
    }

    /// The dimension `n`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of stored diagonals.
    pub fn len(&self) -> usize {
        self.diags.len()
    }

    /// Whether no diagonal is stored (the zero matrix).
    pub fn is_empty(&self) -> bool {
        self.diags.is_empty()
    }

    /// The stored offsets, increasing.
    pub fn offsets(&self) -> Vec<usize> {
        self.diags.keys().copied().collect()
    }

    /// The diagonal at offset `k` (taken modulo `n`), if stored.
    pub fn get(&self, k: usize) -> Option<&[Complex64]> {
        self.diags.get(&(k % self.dim)).map(Vec::as_slice)
    }

    /// Iterates over `(offset, diagonal)` pairs, offsets increasing.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &[Complex64])> {
        self.diags.iter().map(|(&k, d)| (k, d.as_slice()))
    }

    /// Sets the diagonal at offset `k` (modulo `n`), replacing any previous one.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `diag.len() != n`.
    pub fn set(&mut self, k: usize, diag: Vec<Complex64>) -> Result<()> {
        if diag.len() != self.dim {
            return Err(Error::InvalidArgument {
                op: "Diagonals::set",
                reason: format!(
                    "diagonal of length {} for dimension {}",
                    diag.len(),
                    self.dim
                ),
            });
        }
        self.diags.insert(k % self.dim, diag);
        Ok(())
    }

    /// Adds `value` to the entry `M[row][col]` (indices modulo `n`).
    pub fn add_entry(&mut self, row: usize, col: usize, value: Complex64) {
        let n = self.dim;
        let (row, col) = (row % n, col % n);
        let k = (col + n - row) % n;
        self.diags
            .entry(k)
            .or_insert_with(|| vec![Complex64::new(0.0, 0.0); n])[row] += value;
    }

    /// The entry `M[row][col]`.
    pub fn entry(&self, row: usize, col: usize) -> Complex64 {
        let n = self.dim;
        let k = (col % n + n - row % n) % n;
        self.diags
            .get(&k)
            .map_or(Complex64::new(0.0, 0.0), |d| d[row % n])
    }

    /// The dense row-major matrix.
    pub fn to_dense(&self) -> Vec<Vec<Complex64>> {
        let n = self.dim;
        let mut m = vec![vec![Complex64::new(0.0, 0.0); n]; n];
        for (&k, d) in &self.diags {
            for i in 0..n {
                m[i][(i + k) % n] += d[i];
            }
        }
        m
    }

    /// `M·v` in the clear (the reference for the homomorphic evaluation).
    ///
    /// # Panics
    /// If `v.len() != n`.
    pub fn apply(&self, v: &[Complex64]) -> Vec<Complex64> {
        let n = self.dim;
        assert_eq!(v.len(), n, "vector length");
        let mut out = vec![Complex64::new(0.0, 0.0); n];
        for (&k, d) in &self.diags {
            for i in 0..n {
                out[i] += d[i] * v[(i + k) % n];
            }
        }
        out
    }

    /// The product `self · rhs` (apply `rhs` first). Offsets add: diagonal `a` of `self` and
    /// diagonal `b` of `rhs` contribute `diag_a[i]·diag_b[(i + a) mod n]` to diagonal `a + b`.
    ///
    /// # Panics
    /// If the dimensions differ.
    pub fn compose(&self, rhs: &Diagonals) -> Diagonals {
        assert_eq!(self.dim, rhs.dim, "dimensions of a product");
        let n = self.dim;
        let mut out = Diagonals::new(n);
        for (&a, da) in &self.diags {
            for (&b, db) in &rhs.diags {
                let k = (a + b) % n;
                let acc = out
                    .diags
                    .entry(k)
                    .or_insert_with(|| vec![Complex64::new(0.0, 0.0); n]);
                for i in 0..n {
                    acc[i] += da[i] * db[(i + a) % n];
                }
            }
        }
        out
    }

    /// Multiplies every entry by `c`.
    pub fn scale(&mut self, c: Complex64) {
        for d in self.diags.values_mut() {
            for z in d {
                *z *= c;
            }
        }
    }

    /// Multiplies row `i` by `row_factors[i]` (the product `diag(row_factors) · M`).
    ///
    /// # Panics
    /// If `row_factors.len() != n`.
    pub fn scale_rows(&mut self, row_factors: &[Complex64]) {
        assert_eq!(row_factors.len(), self.dim, "row factor length");
        for d in self.diags.values_mut() {
            for (z, f) in d.iter_mut().zip(row_factors) {
                *z *= f;
            }
        }
    }

    /// Removes diagonals whose entries are all at most `tol` in magnitude.
    pub fn prune(&mut self, tol: f64) {
        self.diags.retain(|_, d| d.iter().any(|z| z.norm() > tol));
    }
}

/// How the offsets are split into baby steps and giant steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BsgsConfig {
    /// Choose the giant step `g` (a power of two) minimizing
    /// `#baby rotations + giant_cost · #giant rotations`: `giant_cost` is the cost of a giant-step
    /// rotation relative to a hoisted baby-step rotation (the "BSGS ratio"; hoisted rotations
    /// share their decomposition, so a full rotation costs about twice as much). Ties go to the
    /// fewer giant steps.
    Auto {
        /// Relative cost of a giant-step rotation, `> 0`.
        giant_cost: f64,
    },
    /// A fixed giant step `g >= 1` (`g = 1`: no baby steps; `g >= n`: no giant steps).
    GiantStep(usize),
}

impl Default for BsgsConfig {
    fn default() -> Self {
        BsgsConfig::Auto { giant_cost: 2.0 }
    }
}

/// One giant step: its rotation `g·j` and its `(baby index, pre-rotated diagonal)` terms.
#[derive(Debug, Clone, PartialEq)]
struct GiantStep {
    rotation: usize,
    terms: Vec<(usize, Vec<Complex64>)>,
}

/// How the giant-step sums `Σ_j Rot_{j·g}(v_j)` are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GiantPlan {
    /// One rotation per non-zero giant step, each by its own amount (one key each).
    Direct,
    /// Two-sided Horner: with the giant indices read as signed `j ∈ [-neg, pos]` (all present),
    /// `v_0 + Rot_g(v_1 + Rot_g(v_2 + …)) + Rot_{-g}(v_{-1} + Rot_{-g}(…))`: the same number
    /// of rotations (`pos + neg`), but only the keys of `g` and `-g`.
    Horner { pos: usize, neg: usize },
}

/// A linear transform ready for BSGS evaluation, independent of any backend: the diagonals,
/// the giant step, the baby and giant rotations, and the pre-rotated diagonals.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearTransform {
    diagonals: Diagonals,
    giant_step: usize,
    /// Baby-step rotations `i` in use (increasing; `0` first if used).
    baby_steps: Vec<usize>,
    giants: Vec<GiantStep>,
    giant_plan: GiantPlan,
}

impl LinearTransform {
    /// Splits `diagonals` according to `config` and pre-rotates them.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for the zero matrix, a non-positive `giant_cost` or a zero
    /// giant step.
    pub fn new(diagonals: Diagonals, config: BsgsConfig) -> Result<Self> {
        Self::new_sharing_keys(diagonals, config, &BTreeSet::new())
    }

    /// [`LinearTransform::new`] for a circuit that already has Galois keys for the rotation
    /// steps in `available` (e.g. SlotsToCoeffs after CoeffsToSlots): with
    /// [`BsgsConfig::Auto`], each rotation key the split would add beyond them costs as much
    /// as one baby-step rotation, so among splits of about the same rotation cost the one
    /// reusing keys wins (fewer keys to generate, store and hold in memory). A fixed
    /// [`BsgsConfig::GiantStep`] is taken as is.
    ///
    /// # Errors
    /// As [`LinearTransform::new`].
    pub fn new_sharing_keys(
        diagonals: Diagonals,
        config: BsgsConfig,
        available: &BTreeSet<i32>,
    ) -> Result<Self> {
        const OP: &str = "LinearTransform::new";
        if diagonals.is_empty() {
            return Err(Error::InvalidArgument {
                op: OP,
                reason: "the zero matrix has no diagonals to evaluate".into(),
            });
        }
        let n = diagonals.dim();
        let offsets = diagonals.offsets();
        let g = match config {
            BsgsConfig::GiantStep(0) => {
                return Err(Error::InvalidArgument {
                    op: OP,
                    reason: "the giant step must be at least 1".into(),
                });
            }
            BsgsConfig::GiantStep(g) => g.min(n),
            BsgsConfig::Auto { giant_cost } => {
                if !(giant_cost > 0.0 && giant_cost.is_finite()) {
                    return Err(Error::InvalidArgument {
                        op: OP,
                        reason: format!("giant_cost {giant_cost} must be positive and finite"),
                    });
                }
                choose_giant_step(&offsets, n, giant_cost, available)
            }
        };
        let (babies, giants_used) = split_counts(&offsets, g);
        let baby_steps: Vec<usize> = babies.into_iter().collect();
        let baby_index: HashMap<usize, usize> = baby_steps
            .iter()
            .enumerate()
            .map(|(i, &b)| (b, i))
            .collect();
        let mut giants = Vec::with_capacity(giants_used.len());
        for &j in &giants_used {
            let rotation = g * j;
            let mut terms = Vec::new();
            for &k in offsets.iter().filter(|&&k| k / g == j) {
                let d = diagonals.get(k).expect("offset present");
                // Rot^{-rotation}(d)[r] = d[(r - rotation) mod n].
                let pre: Vec<Complex64> = (0..n).map(|r| d[(r + n - rotation % n) % n]).collect();
                terms.push((baby_index[&(k % g)], pre));
            }
            giants.push(GiantStep { rotation, terms });
        }
        let giant_plan = giant_plan(&giants_used, n, g);
        Ok(Self {
            diagonals,
            giant_step: g,
            baby_steps,
            giants,
            giant_plan,
        })
    }

    /// The matrix.
    pub fn diagonals(&self) -> &Diagonals {
        &self.diagonals
    }

    /// The dimension (must equal the backend's slot count).
    pub fn dim(&self) -> usize {
        self.diagonals.dim()
    }

    /// The giant step `g`.
    pub fn giant_step(&self) -> usize {
        self.giant_step
    }

    /// The non-zero baby-step rotations (hoisted together).
    pub fn baby_rotations(&self) -> Vec<i32> {
        self.baby_steps
            .iter()
            .filter(|&&i| i != 0)
            .map(|&i| i as i32)
            .collect()
    }

    /// The giant-step rotations one evaluation performs, in slots (left rotations in
    /// `1..n`; with the two-sided Horner combination, `pos` times `g` and `neg` times `n - g`).
    pub fn giant_rotations(&self) -> Vec<i32> {
        let g = self.giant_step;
        giant_rotations_of(
            self.giant_plan,
            self.giants.iter().map(|s| s.rotation / g),
            g,
            self.dim(),
        )
    }

    /// Every rotation step the evaluation uses (baby and giant, deduplicated, increasing): the
    /// Galois keys to generate.
    pub fn rotation_steps(&self) -> Vec<i32> {
        let mut steps = self.baby_rotations();
        steps.extend(self.giant_rotations());
        steps.sort_unstable();
        steps.dedup();
        steps
    }

    /// Number of rotations one evaluation performs (hoisted baby steps + giant steps).
    pub fn rotation_count(&self) -> usize {
        self.baby_rotations().len() + self.giant_rotations().len()
    }

    /// Number of plaintext multiplications one evaluation performs (one per diagonal).
    pub fn plain_mult_count(&self) -> usize {
        self.diagonals.len()
    }

    /// Levels consumed: always 1 (one plaintext product, one rescale).
    pub fn depth(&self) -> usize {
        1
    }

    /// `Σ_j Rot_{rotation_j}(v_j)` for the inner sums `(rotation_j, v_j)` of the giant steps,
    /// in the order of [`GiantPlan`].
    fn combine_giants<B: SlotBackend>(
        &self,
        backend: &B,
        inner: Vec<(usize, B::Ct)>,
    ) -> Result<B::Ct> {
        let empty = || Error::InvalidArgument {
            op: "LinearTransformPlan::evaluate",
            reason: "a transform without diagonals".into(),
        };
        let GiantPlan::Horner { pos, neg } = self.giant_plan else {
            let rotated = inner.into_iter().map(|(rotation, v)| {
                if rotation == 0 {
                    Ok(v)
                } else {
                    backend.rotate(&v, rotation as i32)
                }
            });
            return crate::backend::sum_terms(backend, rotated)?.ok_or_else(empty);
        };
        let (g, n) = (self.giant_step, self.dim());
        let (mut zero, mut plus, mut minus) = (None, vec![None; pos + 1], vec![None; neg + 1]);
        for (rotation, v) in inner {
            match signed_giant(rotation / g, n / g) {
                0 => zero = Some(v),
                j if j < 0 => minus[j.unsigned_abs() as usize] = Some(v),
                j => plus[j as usize] = Some(v),
            }
        }
        // v_1 + Rot_s(v_2 + Rot_s(… + v_k)), then one more Rot_s.
        let side = |mut terms: Vec<Option<B::Ct>>, step: usize| -> Result<Option<B::Ct>> {
            let Some(mut acc) = terms.pop().flatten() else {
                return Ok(None);
            };
            while terms.len() > 1 {
                let v = terms.pop().flatten().expect("contiguous giant steps");
                acc = backend.add(&backend.rotate(&acc, step as i32)?, &v)?;
            }
            Ok(Some(backend.rotate(&acc, step as i32)?))
        };
        let parts = [zero, side(plus, g)?, side(minus, n - g)?];
        crate::backend::sum_terms(backend, parts.into_iter().flatten().map(Ok))?.ok_or_else(empty)
    }
}

/// Horner when `g` divides `n` (so that `Rot_{-g}` repeated is `Rot_{(m - j)·g}`, `m = n/g`),
/// the non-zero giant indices, read as signed residues modulo `m`, are all of `-neg..=pos`
/// without gaps, and one side has at least two (otherwise the direct combination uses no more
/// keys): the rotation count is the same, and the keys drop to those of `±g`.
fn giant_plan(giants_used: &BTreeSet<usize>, n: usize, g: usize) -> GiantPlan {
    if !n.is_multiple_of(g) {
        return GiantPlan::Direct;
    }
    let signed: Vec<i64> = giants_used
        .iter()
        .filter(|&&j| j != 0)
        .map(|&j| signed_giant(j, n / g))
        .collect();
    let pos = signed.iter().copied().max().unwrap_or(0).max(0) as usize;
    let neg = (-signed.iter().copied().min().unwrap_or(0)).max(0) as usize;
    if pos + neg == signed.len() && (pos >= 2 || neg >= 2) {
        GiantPlan::Horner { pos, neg }
    } else {
        GiantPlan::Direct
    }
}

/// The distinct baby indices and giant indices of a split with giant step `g`.
fn split_counts(
    offsets: &[usize],
    g: usize,
) -> (
    std::collections::BTreeSet<usize>,
    std::collections::BTreeSet<usize>,
) {
    let babies = offsets.iter().map(|&k| k % g).collect();
    let giants = offsets.iter().map(|&k| k / g).collect();
    (babies, giants)
}

/// Giant index `j` of `m = n/g` read as a signed residue in `(-m/2, m/2]`.
fn signed_giant(j: usize, m: usize) -> i64 {
    if 2 * j > m {
        j as i64 - m as i64
    } else {
        j as i64
    }
}

/// The giant-step rotations one evaluation performs for the giant indices `giants` under
/// `plan`: one per non-zero index (direct), or `pos` times `g` and `neg` times `n - g`.
fn giant_rotations_of(
    plan: GiantPlan,
    giants: impl Iterator<Item = usize>,
    g: usize,
    n: usize,
) -> Vec<i32> {
    match plan {
        GiantPlan::Direct => giants.filter(|&j| j != 0).map(|j| (g * j) as i32).collect(),
        GiantPlan::Horner { pos, neg } => {
            let mut r = vec![g as i32; pos];
            r.extend(std::iter::repeat_n((n - g) as i32, neg));
            r
        }
    }
}

/// The rotation keys a split with giant step `g` needs: its non-zero baby steps and the
/// distinct amounts of its giant rotations.
fn split_keys(
    babies: &BTreeSet<usize>,
    giants: &BTreeSet<usize>,
    g: usize,
    n: usize,
) -> BTreeSet<i32> {
    let mut keys: BTreeSet<i32> = babies
        .iter()
        .filter(|&&i| i != 0)
        .map(|&i| i as i32)
        .collect();
    keys.extend(giant_rotations_of(
        giant_plan(giants, n, g),
        giants.iter().copied(),
        g,
        n,
    ));
    keys
}

/// The power-of-two giant step minimizing `#baby + giant_cost·#giant` rotations plus one per
/// rotation key not in `available`; ties go to the fewer giant steps.
fn choose_giant_step(
    offsets: &[usize],
    n: usize,
    giant_cost: f64,
    available: &BTreeSet<i32>,
) -> usize {
    let mut best = (f64::INFINITY, usize::MAX, 1usize);
    let mut g = 1usize;
    loop {
        let (babies, giants) = split_counts(offsets, g);
        let nb = babies.iter().filter(|&&i| i != 0).count();
        let ng = giants.iter().filter(|&&j| j != 0).count();
        let new_keys = if available.is_empty() {
            0
        } else {
            split_keys(&babies, &giants, g, n)
                .difference(available)
                .count()
        };
        let cost = nb as f64 + giant_cost * ng as f64 + new_keys as f64;
        if cost < best.0 - 1e-12 || ((cost - best.0).abs() <= 1e-12 && ng < best.1) {
            best = (cost, ng, g);
        }
        if g >= n {
            break;
        }
        g *= 2;
    }
    best.2
}

type EncodedGiants<P> = Vec<(usize, Vec<(usize, P)>)>;

/// A [`LinearTransform`] bound to a backend type: evaluates it homomorphically and caches the
/// plaintext encodings of its pre-rotated diagonals per level (encoded on first use at a level).
pub struct LinearTransformPlan<B: SlotBackend> {
    transform: Arc<LinearTransform>,
    cache: Mutex<HashMap<usize, Arc<EncodedGiants<B::Pt>>>>,
}

impl<B: SlotBackend> std::fmt::Debug for LinearTransformPlan<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let levels: Vec<usize> = {
            let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let mut l: Vec<usize> = c.keys().copied().collect();
            l.sort_unstable();
            l
        };
        f.debug_struct("LinearTransformPlan")
            .field("dim", &self.transform.dim())
            .field("diagonals", &self.transform.diagonals.len())
            .field("giant_step", &self.transform.giant_step)
            .field("cached_levels", &levels)
            .finish()
    }
}

impl<B: SlotBackend> LinearTransformPlan<B> {
    /// A plan for `transform` (nothing is encoded yet).
    pub fn new(transform: LinearTransform) -> Self {
        Self {
            transform: Arc::new(transform),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The underlying transform.
    pub fn transform(&self) -> &LinearTransform {
        &self.transform
    }

    /// Every rotation step the evaluation uses (see [`LinearTransform::rotation_steps`]).
    pub fn rotation_steps(&self) -> Vec<i32> {
        self.transform.rotation_steps()
    }

    /// Levels consumed: 1.
    pub fn depth(&self) -> usize {
        self.transform.depth()
    }

    /// The levels at which encodings are cached.
    pub fn cached_levels(&self) -> Vec<usize> {
        let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let mut l: Vec<usize> = c.keys().copied().collect();
        l.sort_unstable();
        l
    }

    /// Encodes the pre-rotated diagonals at `level` (at the canonical scale `Δ_level`) unless
    /// they are cached already.
    ///
    /// # Errors
    /// Encoding errors of the backend (e.g. a level above the chain).
    pub fn prepare(&self, backend: &B, level: usize) -> Result<()> {
        self.encodings(backend, level).map(|_| ())
    }

    fn encodings(&self, backend: &B, level: usize) -> Result<Arc<EncodedGiants<B::Pt>>> {
        if let Some(e) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&level)
        {
            return Ok(Arc::clone(e));
        }
        let mut encoded = Vec::with_capacity(self.transform.giants.len());
        for giant in &self.transform.giants {
            let mut terms = Vec::with_capacity(giant.terms.len());
            for (baby, diag) in &giant.terms {
                terms.push((*baby, backend.encode(diag, level)?));
            }
            encoded.push((giant.rotation, terms));
        }
        let encoded = Arc::new(encoded);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(level)
            .or_insert_with(|| Arc::clone(&encoded));
        Ok(encoded)
    }

    fn check_dim(&self, backend: &B) -> Result<()> {
        let t = &self.transform;
        if backend.slots() != t.dim() {
            return Err(Error::InvalidArgument {
                op: "LinearTransformPlan::evaluate",
                reason: format!(
                    "transform of dimension {} on a backend with {} slots",
                    t.dim(),
                    backend.slots()
                ),
            });
        }
        Ok(())
    }

    /// `M·ct` without the final rescale: the result has scale `scale(ct)·Δ_level` (pending its
    /// rescale), so several transforms of the same input level can be summed before one rescale.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the backend's slot count differs from the dimension;
    /// backend errors (missing keys, an unrelinearized input).
    pub fn evaluate_no_rescale(&self, backend: &B, ct: &B::Ct) -> Result<B::Ct> {
        Ok(Self::evaluate_shared_no_rescale(&[self], backend, ct)?
            .pop()
            .expect("one plan, one output"))
    }

    /// Several transforms of the **same** ciphertext, sharing one hoisted call for the union of
    /// their baby-step rotations; each output is pending its rescale (see
    /// [`evaluate_no_rescale`](Self::evaluate_no_rescale)).
    ///
    /// # Errors
    /// As [`evaluate_no_rescale`](Self::evaluate_no_rescale).
    pub fn evaluate_shared_no_rescale(
        plans: &[&Self],
        backend: &B,
        ct: &B::Ct,
    ) -> Result<Vec<B::Ct>> {
        for p in plans {
            p.check_dim(backend)?;
        }
        let level = backend.level(ct);
        let encoded: Vec<Arc<EncodedGiants<B::Pt>>> = plans
            .iter()
            .map(|p| p.encodings(backend, level))
            .collect::<Result<_>>()?;
        // Every inner sum of every plan in one backend call: the baby-step rotations of the
        // union of steps are hoisted together (doubly hoisted on CKKS: see
        // `SlotBackend::rotation_sums`).
        let mut groups: Vec<Vec<(i32, &B::Pt)>> = Vec::new();
        for (p, giants) in plans.iter().zip(&encoded) {
            for (_, terms) in giants.iter() {
                groups.push(
                    terms
                        .iter()
                        .map(|(baby, pt)| (p.transform.baby_steps[*baby] as i32, pt))
                        .collect(),
                );
            }
        }
        let mut sums = backend.rotation_sums(ct, &groups)?.into_iter();
        plans
            .iter()
            .zip(&encoded)
            .map(|(p, giants)| {
                let inner: Vec<(usize, B::Ct)> = giants
                    .iter()
                    .map(|(rotation, _)| (*rotation, sums.next().expect("one sum per giant step")))
                    .collect();
                p.transform.combine_giants(backend, inner)
            })
            .collect()
    }

    /// `M·ct`, rescaled: one level consumed; a canonical input gives a canonical output.
    ///
    /// # Errors
    /// As [`evaluate_no_rescale`](Self::evaluate_no_rescale), and
    /// [`Error::LevelExhausted`] at level 0.
    pub fn evaluate(&self, backend: &B, ct: &B::Ct) -> Result<B::Ct> {
        if backend.level(ct) == 0 {
            return Err(Error::LevelExhausted {
                op: "LinearTransformPlan::evaluate",
                level: 0,
                needed: 1,
            });
        }
        backend.rescale(&self.evaluate_no_rescale(backend, ct)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{CountingBackend, PlainBackend, ScaleChain, SlotClient};
    use proptest::prelude::*;

    fn c(re: f64, im: f64) -> Complex64 {
        Complex64::new(re, im)
    }

    fn dense_matvec(m: &[Vec<Complex64>], v: &[Complex64]) -> Vec<Complex64> {
        m.iter()
            .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
            .collect()
    }

    fn max_err(a: &[Complex64], b: &[Complex64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).norm())
            .fold(0.0, f64::max)
    }

    type Pairs = Vec<(f64, f64)>;

    /// `(log n, offsets, diagonal entries, vector, giant-step choice)`.
    fn case() -> impl Strategy<Value = (usize, Vec<usize>, Pairs, Pairs, u8)> {
        (6usize..=9).prop_flat_map(|log_n| {
            let n = 1usize << log_n;
            (
                Just(log_n),
                proptest::collection::vec(0..n, 1..24),
                proptest::collection::vec((-1.0f64..1.0, -1.0f64..1.0), 24 * n),
                proptest::collection::vec((-1.0f64..1.0, -1.0f64..1.0), n),
                0u8..4,
            )
        })
    }

    /// A band `|offset| <= 15` with giant step 4: giant indices `-4..=3` around 0, combined by
    /// two-sided Horner with the keys of `±4` only; a gap in the giant indices falls back to
    /// one rotation per giant step. Both equal the dense product, with the declared rotation
    /// counts and keys.
    #[test]
    fn horner_giant_steps_need_only_two_keys() {
        let n = 64;
        let entry = |k: usize, r: usize| c((k * 7 + r) as f64 / 500.0 - 0.3, (r % 5) as f64 / 9.0);
        let v: Vec<Complex64> = (0..n).map(|i| c(i as f64 / 50.0 - 0.4, 0.1)).collect();
        let band: Vec<usize> = (0..=15).chain(n - 15..n).collect();
        for (offsets, g, horner) in [
            (band.clone(), 4, true),
            (vec![0, 1, 5, 4 * 9 + 2], 4, false),
            // A giant step that does not divide n: Rot_{-g} repeated is not Rot_{(m-j)·g}.
            (band, 12, false),
        ] {
            let mut d = Diagonals::new(n);
            for &k in &offsets {
                d.set(k, (0..n).map(|r| entry(k, r)).collect()).unwrap();
            }
            let want = dense_matvec(&d.to_dense(), &v);
            let lt = LinearTransform::new(d, BsgsConfig::GiantStep(g)).unwrap();
            assert_eq!(
                matches!(lt.giant_plan, GiantPlan::Horner { .. }),
                horner,
                "{offsets:?}"
            );
            let backend = CountingBackend::new(PlainBackend::new(n, ScaleChain::uniform(2, 40.0)));
            let plan = LinearTransformPlan::new(lt);
            let y = plan
                .evaluate(&backend, &backend.inner().encrypt(&v, 2).unwrap())
                .unwrap();
            assert!(max_err(&backend.inner().decrypt(&y).unwrap(), &want) < 1e-9);
            let t = plan.transform();
            assert_eq!(backend.counts().rotations as usize, t.rotation_count());
            match (horner, g) {
                // Babies 1, 2, 3 and giants 4 (3 times) and 60 (4 times).
                (true, _) => {
                    assert_eq!(t.rotation_steps(), vec![1, 2, 3, 4, 60]);
                    assert_eq!(t.giant_rotations().len(), 7);
                }
                (false, 4) => assert_eq!(t.giant_rotations(), vec![4, 36]),
                _ => assert_eq!(t.giant_rotations(), vec![12, 48, 60]),
            }
        }
    }

    /// With the keys of another circuit available, the automatic split prefers them: a band
    /// `|offset| <= 31` (default split: giant step 16, keys 1..15, 16 and 48) fits entirely in the
    /// keys `1..=8` and `56` with giant step 8, at the same weighted rotation cost.
    #[test]
    fn automatic_split_reuses_available_keys() {
        let n = 64;
        let mut d = Diagonals::new(n);
        for k in (0..=31).chain(n - 31..n) {
            d.set(k, vec![c(1.0 + k as f64 / 64.0, 0.5); n]).unwrap();
        }
        let alone = LinearTransform::new(d.clone(), BsgsConfig::default()).unwrap();
        assert_eq!(alone.giant_step(), 16);
        let available: BTreeSet<i32> = (1..=8).chain([56]).collect();
        let shared =
            LinearTransform::new_sharing_keys(d.clone(), BsgsConfig::default(), &available)
                .unwrap();
        assert_eq!(shared.giant_step(), 8);
        assert!(
            shared
                .rotation_steps()
                .iter()
                .all(|k| available.contains(k)),
            "{:?}",
            shared.rotation_steps()
        );
        // The same cost with giant rotations at twice a baby step: 15 + 2·3 = 7 + 2·7.
        assert_eq!(
            (alone.baby_rotations().len(), alone.giant_rotations().len()),
            (15, 3)
        );
        assert_eq!(
            (
                shared.baby_rotations().len(),
                shared.giant_rotations().len()
            ),
            (7, 7)
        );
        // Nothing available: the same split as `new`; a fixed giant step is kept as is.
        assert_eq!(
            LinearTransform::new_sharing_keys(d.clone(), BsgsConfig::default(), &BTreeSet::new())
                .unwrap(),
            alone
        );
        let fixed =
            LinearTransform::new_sharing_keys(d, BsgsConfig::GiantStep(16), &available).unwrap();
        assert_eq!(fixed.giant_step(), 16);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn bsgs_matches_dense((log_n, offsets, entries, v, cfg) in case()) {
            let n = 1usize << log_n;
            let mut d = Diagonals::new(n);
            for (idx, &k) in offsets.iter().enumerate() {
                let diag = entries[idx * n..(idx + 1) * n].iter().map(|&(a, b)| c(a, b)).collect();
                d.set(k, diag).unwrap();
            }
            let config = match cfg {
                0 => BsgsConfig::default(),
                1 => BsgsConfig::Auto { giant_cost: 0.5 },
                2 => BsgsConfig::GiantStep(1),
                _ => BsgsConfig::GiantStep(8),
            };
            let dense = d.to_dense();
            let v: Vec<Complex64> = v.iter().map(|&(a, b)| c(a, b)).collect();
            let want = dense_matvec(&dense, &v);
            prop_assert!(max_err(&d.apply(&v), &want) < 1e-9);

            let lt = LinearTransform::new(d.clone(), config).unwrap();
            let backend = CountingBackend::new(PlainBackend::new(n, ScaleChain::uniform(3, 40.0)));
            let plan = LinearTransformPlan::new(lt);
            let x = backend.inner().encrypt(&v, 3).unwrap();
            let y = plan.evaluate(&backend, &x).unwrap();
            prop_assert_eq!(backend.level(&y), 2);
            prop_assert!((backend.scale(&y) - backend.scale_at(2)).abs() < 1e-3);
            let got = backend.inner().decrypt(&y).unwrap();
            prop_assert!(max_err(&got, &want) < 1e-9, "err {}", max_err(&got, &want));
            let counts = backend.counts();
            prop_assert_eq!(counts.rotations as usize, plan.transform().rotation_count());
            prop_assert_eq!(counts.plain_mults as usize, d.len());
            prop_assert_eq!(counts.rescales, 1);
            // Every rotation used is in the declared list.
            let steps = plan.rotation_steps();
            for s in plan.transform().baby_rotations().iter().chain(&plan.transform().giant_rotations()) {
                prop_assert!(steps.contains(s));
                prop_assert!(*s > 0 && (*s as usize) < n);
            }
            prop_assert_eq!(plan.cached_levels(), vec![3]);
        }

        #[test]
        fn compose_matches_dense(log_n in 2usize..6, seed in any::<u64>()) {
            let n = 1usize << log_n;
            let mut s = seed | 1;
            let mut next = || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; (s % 2000) as f64 / 1000.0 - 1.0 };
            let mut a = Diagonals::new(n);
            let mut b = Diagonals::new(n);
            for _ in 0..3 {
                let ka = ((next() + 1.0) * n as f64) as usize % n;
                let kb = ((next() + 1.0) * n as f64) as usize % n;
                a.set(ka, (0..n).map(|_| c(next(), next())).collect()).unwrap();
                b.set(kb, (0..n).map(|_| c(next(), next())).collect()).unwrap();
            }
            let (da, db) = (a.to_dense(), b.to_dense());
            let prod = a.compose(&b).to_dense();
            for i in 0..n {
                for j in 0..n {
                    let want: Complex64 = (0..n).map(|m| da[i][m] * db[m][j]).sum();
                    prop_assert!((prod[i][j] - want).norm() < 1e-12);
                }
            }
            prop_assert_eq!(Diagonals::from_dense(&da, 0.0).unwrap().to_dense(), da);
        }
    }

    #[test]
    fn cache_and_levels() {
        let n = 16;
        let mut d = Diagonals::identity(n);
        d.add_entry(0, 5, c(2.0, 1.0));
        d.add_entry(3, 1, c(-1.0, 0.0));
        let plan = LinearTransformPlan::<PlainBackend>::new(
            LinearTransform::new(d.clone(), BsgsConfig::GiantStep(4)).unwrap(),
        );
        assert_eq!(plan.transform().giant_step(), 4);
        assert_eq!(plan.depth(), 1);
        let backend = PlainBackend::new(n, ScaleChain::uniform(2, 40.0));
        let v: Vec<Complex64> = (0..n).map(|i| c(i as f64, 1.0)).collect();
        let x = backend.encrypt(&v, 2).unwrap();
        let y = plan.evaluate(&backend, &x).unwrap();
        let z = plan.evaluate(&backend, &y).unwrap();
        assert_eq!(plan.cached_levels(), vec![1, 2]);
        let want = d.apply(&d.apply(&v));
        assert!(max_err(&backend.decrypt(&z).unwrap(), &want) < 1e-9);
        // Level 0 cannot absorb another transform.
        assert!(matches!(
            plan.evaluate(&backend, &z),
            Err(Error::LevelExhausted { .. })
        ));
        // Wrong dimension.
        let other = PlainBackend::new(8, ScaleChain::uniform(2, 40.0));
        let x8 = other.encrypt(&v[..8], 2).unwrap();
        let plan8 = LinearTransformPlan::<PlainBackend>::new(
            LinearTransform::new(d, BsgsConfig::default()).unwrap(),
        );
        assert!(plan8.evaluate(&other, &x8).is_err());
        assert!(LinearTransform::new(Diagonals::new(4), BsgsConfig::default()).is_err());
        assert!(LinearTransform::new(Diagonals::identity(4), BsgsConfig::GiantStep(0)).is_err());
    }

    #[test]
    fn auto_split_of_a_dense_band() {
        // 64 consecutive diagonals: the classic sqrt split, ratio steered by giant_cost.
        let n = 256;
        let mut d = Diagonals::new(n);
        for k in 0..64 {
            d.set(k, vec![c(1.0, 0.0); n]).unwrap();
        }
        let cheap = LinearTransform::new(d.clone(), BsgsConfig::Auto { giant_cost: 1.0 }).unwrap();
        assert_eq!(cheap.giant_step(), 8);
        assert_eq!(cheap.rotation_count(), 7 + 7);
        let costly = LinearTransform::new(d, BsgsConfig::Auto { giant_cost: 4.0 }).unwrap();
        assert_eq!(costly.giant_step(), 16);
        assert_eq!(costly.baby_rotations().len(), 15);
        assert_eq!(costly.giant_rotations().len(), 3);
    }
}
