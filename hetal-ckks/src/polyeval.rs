//! Level-optimal polynomial evaluation over any [`SlotBackend`].
//!
//! A [`Polynomial`] is given either in the Chebyshev basis on an interval `[a, b]` (the input is
//! first mapped affinely to `[-1, 1]`) or in the power basis. Evaluation splits the polynomial
//! recursively, `p = r + T_m · q` with `m` the largest power of two not above the degree
//! (Paterson–Stockmeyer / baby-step giant-step), down to *leaf* polynomials of degree below a
//! baby-step size `k`, which are evaluated as `Σ c_i T_i` with one constant product each. Powers
//! `T_i` (or `x^i`) are computed on demand, each at the highest level it can have
//! (`T_i` costs `ceil(log2 i)` levels), and shared between the polynomials of
//! [`evaluate_many`].
//!
//! # Depth
//!
//! A polynomial of degree `d` consumes exactly `ceil(log2(d + 1))` levels (the optimum): the
//! baby-step size `k` is chosen, among powers of two, as the one with the fewest ciphertext
//! products **among those reaching the optimal depth** (`k = 2` always does). Zero coefficients
//! are skipped, so odd polynomials only compute odd powers in their leaves.
//!
//! The affine map `t = α x + β` of the Chebyshev basis, `α = 2 / (b - a)`, costs **one extra
//! level unless `α` is an integer** (for instance `[-1, 1]`, or `[0, 1]` where `α = 2`): then it
//! is an exact integer multiplication and a constant addition, both free. The power basis never
//! needs it. [`Polynomial::depth`] reports the total before anything runs, and the tests check it
//! against the levels actually consumed on [`PlainBackend`](crate::backend::PlainBackend).
//!
//! Every intermediate ciphertext is rescaled right after its product, so all operands sit on the
//! canonical scale of their level and additions only need [`SlotBackend::drop_to_level`].
//!
//! # Example
//!
//! ```
//! use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotBackend, SlotClient};
//! use hetal_ckks::polyeval::{self, Polynomial};
//!
//! # fn main() -> hetal_ckks::Result<()> {
//! let backend = PlainBackend::new(4, ScaleChain::uniform(10, 40.0));
//! // 1 + 2x + 3x^2 on the power basis: degree 2, depth ceil(log2 3) = 2.
//! let p = Polynomial::power(vec![1.0, 2.0, 3.0]);
//! assert_eq!(p.depth(), 2);
//! let x = backend.encrypt_real(&[0.5, -1.0, 2.0, 0.0], 10)?;
//! let y = polyeval::evaluate(&backend, &x, &p)?;
//! assert_eq!(backend.level(&y), 8);
//! let out = backend.decrypt_real(&y)?;
//! assert!((out[0] - p.eval_f64(0.5)).abs() < 1e-9);
//! # Ok(())
//! # }
//! ```

use crate::backend::{Complex64, SlotBackend, Weight};
use crate::{Error, Result};
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

/// The basis a [`Polynomial`]'s coefficients are expressed in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Basis {
    /// `Σ c_i x^i`.
    Power,
    /// `Σ c_i T_i(t)` with `t = (2x - a - b) / (b - a)`, the Chebyshev basis on `[a, b]`.
    Chebyshev {
        /// Left end of the interval.
        a: f64,
        /// Right end of the interval.
        b: f64,
    },
}

/// A real polynomial in the power or Chebyshev basis.
///
/// ```
/// use hetal_ckks::polyeval::Polynomial;
/// // T_2 on [0, 2]: t = x - 1, T_2(t) = 2t^2 - 1.
/// let p = Polynomial::chebyshev(vec![0.0, 0.0, 1.0], 0.0, 2.0);
/// assert!((p.eval_f64(0.5) - (2.0 * 0.25 - 1.0)).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Polynomial {
    basis: Basis,
    coeffs: Vec<f64>,
}

impl Polynomial {
    /// `Σ coeffs[i] x^i`.
    pub fn power(coeffs: Vec<f64>) -> Self {
        Self {
            basis: Basis::Power,
            coeffs,
        }
    }

    /// `Σ coeffs[i] T_i(t)`, `t` the affine image of `x ∈ [a, b]` in `[-1, 1]`.
    ///
    /// # Panics
    /// If `a >= b` or either is not finite.
    pub fn chebyshev(coeffs: Vec<f64>, a: f64, b: f64) -> Self {
        assert!(a.is_finite() && b.is_finite() && a < b, "invalid interval");
        Self {
            basis: Basis::Chebyshev { a, b },
            coeffs,
        }
    }

    /// The basis.
    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// The coefficients, lowest degree first.
    pub fn coeffs(&self) -> &[f64] {
        &self.coeffs
    }

    /// The degree (index of the last nonzero coefficient; 0 for a constant or empty polynomial).
    pub fn degree(&self) -> usize {
        self.coeffs.iter().rposition(|&c| c != 0.0).unwrap_or(0)
    }

    /// Whether every even-index coefficient is zero (an odd polynomial in the power basis, or in
    /// the Chebyshev basis on a symmetric interval).
    pub fn is_odd(&self) -> bool {
        self.coeffs.iter().step_by(2).all(|&c| c == 0.0)
    }

    /// Evaluates in f64 (Horner, or Clenshaw for the Chebyshev basis).
    pub fn eval_f64(&self, x: f64) -> f64 {
        match self.basis {
            Basis::Power => self.coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c),
            Basis::Chebyshev { a, b } => {
                let t = (2.0 * x - a - b) / (b - a);
                clenshaw(&self.coeffs, t)
            }
        }
    }

    /// `(α, β)` of the affine map `t = α x + β`, if the basis needs one.
    fn affine(&self) -> Option<(f64, f64)> {
        match self.basis {
            Basis::Power => None,
            Basis::Chebyshev { a, b } => Some((2.0 / (b - a), -(a + b) / (b - a))),
        }
    }

    /// Levels the affine map consumes: 0 without one or when `α` is an integer, else 1.
    pub fn affine_depth(&self) -> usize {
        match self.affine() {
            Some((alpha, _)) if !is_small_integer(alpha) => 1,
            _ => 0,
        }
    }

    /// Total levels [`evaluate`] consumes: `ceil(log2(degree + 1))` plus
    /// [`affine_depth`](Self::affine_depth); 0 for a constant.
    pub fn depth(&self) -> usize {
        if self.degree() == 0 {
            return 0;
        }
        self.affine_depth() + plan(self).depth
    }
}

/// Clenshaw's recurrence for `Σ c_i T_i(t)`.
fn clenshaw(c: &[f64], t: f64) -> f64 {
    let (mut b1, mut b2) = (0.0, 0.0);
    for &ci in c.iter().skip(1).rev() {
        let b0 = 2.0 * t * b1 - b2 + ci;
        b2 = b1;
        b1 = b0;
    }
    t * b1 - b2 + c.first().copied().unwrap_or(0.0)
}

fn is_small_integer(v: f64) -> bool {
    v == v.round() && v.abs() < (1u64 << 50) as f64
}

fn ceil_log2(i: usize) -> usize {
    if i <= 1 {
        0
    } else {
        (usize::BITS - (i - 1).leading_zeros()) as usize
    }
}

fn floor_pow2(i: usize) -> usize {
    1 << (usize::BITS - 1 - i.leading_zeros())
}

fn trimmed(c: &[f64]) -> &[f64] {
    let len = c.iter().rposition(|&v| v != 0.0).map_or(1, |p| p + 1);
    &c[..len.min(c.len())]
}

/// `p = r + T_m q` (or `x^m q`), `deg r < m`.
fn split(c: &[f64], m: usize, chebyshev: bool) -> (Vec<f64>, Vec<f64>) {
    let d = c.len() - 1;
    if !chebyshev {
        return (c[..m].to_vec(), c[m..].to_vec());
    }
    let mut r = c[..m].to_vec();
    let mut q = vec![0.0; d - m + 1];
    q[0] = c[m];
    for i in m + 1..=d {
        let j = i - m;
        q[j] += 2.0 * c[i];
        r[m - j] -= c[i];
    }
    (r, q)
}

/// The evaluation plan of a coefficient vector for one baby-step size.
#[derive(Debug, Clone)]
struct Plan {
    baby: usize,
    depth: usize,
    products: usize,
}

/// Walks the recursion: returns the levels consumed (None for a constant) and collects the
/// powers and giant-step products it needs.
fn walk(
    c: &[f64],
    k: usize,
    cheb: bool,
    powers: &mut BTreeSet<usize>,
    giants: &mut usize,
) -> Option<usize> {
    let c = trimmed(c);
    let d = c.len() - 1;
    if d == 0 {
        return None;
    }
    if d < k {
        let mut depth = 0;
        for (i, &ci) in c.iter().enumerate().skip(1) {
            if ci != 0.0 {
                powers.insert(i);
                depth = depth.max(ceil_log2(i) + 1);
            }
        }
        return Some(depth);
    }
    let m = floor_pow2(d);
    let (r, q) = split(c, m, cheb);
    powers.insert(m);
    let lm = ceil_log2(m);
    let qd = match walk(&q, k, cheb, powers, giants) {
        None => lm + 1,
        Some(h) => {
            *giants += 1;
            h.max(lm) + 1
        }
    };
    let rd = walk(&r, k, cheb, powers, giants).unwrap_or(0);
    Some(qd.max(rd))
}

/// Closes a set of powers under the dependencies of [`Powers::get`].
fn power_closure(needed: &BTreeSet<usize>, cheb: bool) -> BTreeSet<usize> {
    let mut all = BTreeSet::new();
    let mut stack: Vec<usize> = needed.iter().copied().collect();
    while let Some(i) = stack.pop() {
        if i <= 1 || !all.insert(i) {
            continue;
        }
        if i.is_power_of_two() {
            stack.push(i / 2);
        } else {
            let e = floor_pow2(i);
            stack.push(e);
            stack.push(i - e);
            if cheb {
                stack.push(e - (i - e));
            }
        }
    }
    all
}

fn plan_for(polys: &[&[f64]], cheb: bool) -> Plan {
    let max_deg = polys
        .iter()
        .map(|c| trimmed(c).len() - 1)
        .max()
        .unwrap_or(0);
    let mut best: Option<Plan> = None;
    let mut k = 2;
    loop {
        let mut powers = BTreeSet::new();
        let mut giants = 0;
        let mut depth = 0;
        for c in polys {
            depth = depth.max(walk(c, k, cheb, &mut powers, &mut giants).unwrap_or(0));
        }
        let products = power_closure(&powers, cheb).len() + giants;
        let cand = Plan {
            baby: k,
            depth,
            products,
        };
        let better = match &best {
            None => true,
            Some(b) => (cand.depth, cand.products) < (b.depth, b.products),
        };
        if better {
            best = Some(cand);
        }
        if k > max_deg {
            break;
        }
        k *= 2;
    }
    best.expect("at least one baby-step size is tried")
}

fn plan(p: &Polynomial) -> Plan {
    plan_for(&[&p.coeffs], matches!(p.basis, Basis::Chebyshev { .. }))
}

/// Evaluates `p(x)` slot-wise. Consumes exactly [`Polynomial::depth`] levels.
///
/// Errors if `x` has fewer levels than that, or on any backend error.
pub fn evaluate<B: SlotBackend + ?Sized>(backend: &B, x: &B::Ct, p: &Polynomial) -> Result<B::Ct> {
    Ok(evaluate_many(backend, x, std::slice::from_ref(p), None)?.remove(0))
}

/// Evaluates `mask ⊙ p(x)` slot-wise for a plaintext vector `mask` (e.g. a 0/1 selection), at no
/// extra depth: the mask is folded into the coefficient products of the leaves.
///
/// The depth is still [`Polynomial::depth`] (at least 1 for a non-constant polynomial).
///
/// ```
/// use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotBackend, SlotClient};
/// use hetal_ckks::polyeval::{self, Polynomial};
///
/// # fn main() -> hetal_ckks::Result<()> {
/// let backend = PlainBackend::new(2, ScaleChain::uniform(4, 40.0));
/// let x = backend.encrypt_real(&[2.0, 3.0], 4)?;
/// let p = Polynomial::power(vec![1.0, 1.0]); // 1 + x
/// let y = polyeval::evaluate_masked(&backend, &x, &p, &[1.0, 0.0])?;
/// let out = backend.decrypt_real(&y)?;
/// assert!((out[0] - 3.0).abs() < 1e-12 && out[1].abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
pub fn evaluate_masked<B: SlotBackend + ?Sized>(
    backend: &B,
    x: &B::Ct,
    p: &Polynomial,
    mask: &[f64],
) -> Result<B::Ct> {
    Ok(evaluate_many(backend, x, std::slice::from_ref(p), Some(mask))?.remove(0))
}

/// The depth [`evaluate_many`] consumes for these polynomials: the largest of their depths.
pub fn depth_many(polys: &[Polynomial]) -> usize {
    polys.iter().map(Polynomial::depth).max().unwrap_or(0)
}

/// Evaluates several polynomials of the same basis (and interval) on `x`, computing each power
/// of `x` once. Optionally multiplies every result by the plaintext vector `mask` at no extra
/// depth. Each result consumes its own polynomial's [`Polynomial::depth`].
///
/// ```
/// use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotClient};
/// use hetal_ckks::polyeval::{self, Polynomial};
///
/// # fn main() -> hetal_ckks::Result<()> {
/// let backend = PlainBackend::new(1, ScaleChain::uniform(6, 40.0));
/// let x = backend.encrypt_real(&[0.3], 6)?;
/// let ps = [Polynomial::chebyshev(vec![0.0, 1.0, 0.5], -1.0, 1.0),
///           Polynomial::chebyshev(vec![1.0, 0.0, 0.0, 0.25], -1.0, 1.0)];
/// let ys = polyeval::evaluate_many(&backend, &x, &ps, None)?;
/// for (p, y) in ps.iter().zip(&ys) {
///     assert!((backend.decrypt_real(y)?[0] - p.eval_f64(0.3)).abs() < 1e-12);
/// }
/// # Ok(())
/// # }
/// ```
pub fn evaluate_many<B: SlotBackend + ?Sized>(
    backend: &B,
    x: &B::Ct,
    polys: &[Polynomial],
    mask: Option<&[f64]>,
) -> Result<Vec<B::Ct>> {
    let Some(first) = polys.first() else {
        return Ok(Vec::new());
    };
    if polys.iter().any(|p| p.basis != first.basis) {
        return Err(Error::InvalidArgument {
            op: "polyeval::evaluate_many",
            reason: "all polynomials must share one basis and interval".into(),
        });
    }
    if let Some(m) = mask
        && m.len() > backend.slots()
    {
        return Err(Error::TooManyValues {
            op: "polyeval::evaluate_many",
            got: m.len(),
            slots: backend.slots(),
        });
    }
    let needed = depth_many(polys);
    let level = backend.level(x);
    if level < needed {
        return Err(Error::LevelExhausted {
            op: "polyeval::evaluate",
            level,
            needed,
        });
    }
    let cheb = matches!(first.basis, Basis::Chebyshev { .. });
    // The affine map to [-1, 1].
    let t = match first.affine() {
        None => x.clone(),
        Some((alpha, beta)) => {
            let scaled = if alpha == 1.0 {
                x.clone()
            } else if is_small_integer(alpha) {
                backend.mul_int(x, alpha as i64)?
            } else {
                backend.mul_const_rescale(x, Complex64::new(alpha, 0.0))?
            };
            if beta == 0.0 {
                scaled
            } else {
                backend.add_const(&scaled, Complex64::new(beta, 0.0))?
            }
        }
    };
    let slices: Vec<&[f64]> = polys.iter().map(|p| p.coeffs.as_slice()).collect();
    let baby = plan_for(&slices, cheb).baby;
    let mut ev = Evaluator {
        backend,
        cheb,
        mask,
        cache: HashMap::new(),
    };
    ev.cache.insert(1, Rc::new(t.clone()));
    let top = backend.level(&t);
    polys
        .iter()
        .map(|p| {
            // Every result lands on the canonical scale of its own depth below the input.
            let depth = walk(&p.coeffs, baby, cheb, &mut BTreeSet::new(), &mut 0).unwrap_or(0);
            let level = top - depth;
            match ev.eval_rec(&p.coeffs, baby, level, backend.scale_at(level))? {
                Term::Ct(ct) => Ok(ct),
                Term::Const(c) => {
                    // A constant: zero times the input plus the constant, no level.
                    let zero = backend.mul_int(&t, 0)?;
                    ev.add_constant(&zero, c)
                }
            }
        })
        .collect()
}

enum Term<C> {
    Const(f64),
    Ct(C),
}

struct Evaluator<'a, B: SlotBackend + ?Sized> {
    backend: &'a B,
    cheb: bool,
    mask: Option<&'a [f64]>,
    /// Computed powers (or Chebyshev polynomials) of the input, shared without copies.
    cache: HashMap<usize, Rc<B::Ct>>,
}

impl<B: SlotBackend + ?Sized> Evaluator<'_, B> {
    /// `T_i` (or `x^i`) at level `top - ceil(log2 i)`, at whatever scale the products give:
    /// operands of different levels are truncated (free), not dropped to a canonical scale,
    /// because the leaves land every term on an exact scale anyway
    /// ([`SlotBackend::linear_combination`]).
    fn power(&mut self, i: usize) -> Result<Rc<B::Ct>> {
        if let Some(ct) = self.cache.get(&i) {
            return Ok(Rc::clone(ct));
        }
        let b = self.backend;
        let ct = if i.is_power_of_two() {
            let h = self.power(i / 2)?;
            let sq = b.mul_relin_rescale(&h, &h)?;
            if self.cheb {
                b.add_const(&b.mul_int(&sq, 2)?, Complex64::new(-1.0, 0.0))?
            } else {
                sq
            }
        } else {
            let e = floor_pow2(i);
            let (pe, pr) = (self.power(e)?, self.power(i - e)?);
            let level = b.level(&pe).min(b.level(&pr));
            let (pe, pr) = (
                b.truncate_to_level(&pe, level)?,
                b.truncate_to_level(&pr, level)?,
            );
            let prod = b.mul_relin_rescale(&pe, &pr)?;
            if self.cheb {
                // T_i = 2·T_e·T_{i-e} - T_{2e-i}: the last term (above the product's level)
                // lands on the product's level and scale in one rescale.
                let d = self.power(e - (i - e))?;
                let one = Weight::Const(Complex64::new(1.0, 0.0));
                let d = b.linear_combination(&[(&d, one)], b.level(&prod), b.scale(&prod))?;
                b.sub(&b.mul_int(&prod, 2)?, &d)?
            } else {
                prod
            }
        };
        let ct = Rc::new(ct);
        self.cache.insert(i, Rc::clone(&ct));
        Ok(ct)
    }

    /// The weight of coefficient `c`: the constant, or `c · mask`.
    fn weight(&self, c: f64) -> WeightBuf {
        match self.mask {
            None => WeightBuf::Const(Complex64::new(c, 0.0)),
            Some(m) => WeightBuf::Slots(m.iter().map(|&w| Complex64::new(w * c, 0.0)).collect()),
        }
    }

    /// `ct + c` (or `ct + c · mask`).
    fn add_constant(&self, ct: &B::Ct, c: f64) -> Result<B::Ct> {
        let b = self.backend;
        match self.mask {
            None if c == 0.0 => Ok(ct.clone()),
            None => b.add_const(ct, Complex64::new(c, 0.0)),
            Some(m) => {
                let v: Vec<Complex64> = m.iter().map(|&w| Complex64::new(w * c, 0.0)).collect();
                let pt = b.encode_at_scale(&v, b.level(ct), b.scale(ct))?;
                b.add_plain(ct, &pt)
            }
        }
    }

    fn add_terms(&self, a: B::Ct, t: Term<B::Ct>) -> Result<B::Ct> {
        match t {
            Term::Const(c) => self.add_constant(&a, c),
            Term::Ct(ct) => self.backend.add(&a, &ct),
        }
    }

    /// `Σ c_i T_i` (times the mask, if any) landing exactly at `level` and `scale`
    /// (Lattigo-style scale-exact evaluation): a leaf is one linear combination of the cached
    /// powers (one rescale); an inner node `q·T_m + r` evaluates `q` at the level above with
    /// the scale that the product with `T_m` (truncated there) turns into `scale`, and `r` at
    /// `(level, scale)` directly. No level drop is ever needed: the plan's depth
    /// ([`walk`]) guarantees every operand sits above the level it must land on.
    fn eval_rec(&mut self, c: &[f64], k: usize, level: usize, scale: f64) -> Result<Term<B::Ct>> {
        let b = self.backend;
        let c = trimmed(c);
        let d = c.len() - 1;
        if d == 0 {
            return Ok(Term::Const(c.first().copied().unwrap_or(0.0)));
        }
        if d < k {
            let mut powers = Vec::new();
            let mut weights = Vec::new();
            for (i, &ci) in c.iter().enumerate().skip(1) {
                if ci != 0.0 {
                    powers.push(self.power(i)?);
                    weights.push(self.weight(ci));
                }
            }
            let terms: Vec<(&B::Ct, Weight<'_>)> = powers
                .iter()
                .zip(&weights)
                .map(|(p, w)| (p.as_ref(), w.as_weight()))
                .collect();
            let sum = b.linear_combination(&terms, level, scale)?;
            return Ok(Term::Ct(self.add_constant(&sum, c[0])?));
        }
        let m = floor_pow2(d);
        let (r, q) = split(c, m, self.cheb);
        let tm = self.power(m)?;
        let prod = if trimmed(&q).len() == 1 {
            let w = self.weight(q[0]);
            b.linear_combination(&[(tm.as_ref(), w.as_weight())], level, scale)?
        } else {
            let tm = b.truncate_to_level(&tm, level + 1)?;
            let q_scale = scale * b.modulus_at(level + 1) / b.scale(&tm);
            match self.eval_rec(&q, k, level + 1, q_scale)? {
                Term::Ct(qc) => b.mul_relin_rescale(&qc, &tm)?,
                // Not reached (`q` has positive degree), but correct if it were.
                Term::Const(cq) => {
                    let w = self.weight(cq);
                    b.linear_combination(&[(&tm, w.as_weight())], level, scale)?
                }
            }
        };
        let rest = self.eval_rec(&r, k, level, scale)?;
        Ok(Term::Ct(self.add_terms(prod, rest)?))
    }
}

/// An owned [`Weight`].
enum WeightBuf {
    Const(Complex64),
    Slots(Vec<Complex64>),
}

impl WeightBuf {
    fn as_weight(&self) -> Weight<'_> {
        match self {
            WeightBuf::Const(c) => Weight::Const(*c),
            WeightBuf::Slots(v) => Weight::Slots(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{CountingBackend, PlainBackend, ScaleChain, SlotClient};
    use proptest::prelude::*;

    const TOP: usize = 20;

    fn backend(slots: usize) -> PlainBackend {
        PlainBackend::new(slots, ScaleChain::uniform(TOP, 40.0))
    }

    fn check(p: &Polynomial, xs: &[f64]) -> (f64, usize) {
        let b = backend(xs.len());
        let x = b.encrypt_real(xs, TOP).unwrap();
        let y = evaluate(&b, &x, p).unwrap();
        let out = b.decrypt_real(&y).unwrap();
        let scale = p.coeffs().iter().map(|c| c.abs()).sum::<f64>().max(1.0);
        let err = xs
            .iter()
            .zip(&out)
            .map(|(&x, &o)| (o - p.eval_f64(x)).abs() / scale)
            .fold(0.0, f64::max);
        (err, TOP - b.level(&y))
    }

    #[test]
    fn depth_is_optimal_for_every_degree() {
        for d in 1..=70usize {
            let c: Vec<f64> = (0..=d).map(|i| 1.0 / (1.0 + i as f64)).collect();
            for p in [
                Polynomial::power(c.clone()),
                Polynomial::chebyshev(c.clone(), -1.0, 1.0),
            ] {
                assert_eq!(p.depth(), ceil_log2(d + 1), "degree {d}");
                let xs: Vec<f64> = (0..9).map(|i| -1.0 + 0.25 * i as f64).collect();
                let (err, used) = check(&p, &xs);
                assert_eq!(used, p.depth(), "degree {d}");
                assert!(err < 1e-9, "degree {d}: {err}");
            }
        }
    }

    #[test]
    fn affine_map_costs_one_level_only_when_not_integer() {
        let c = vec![0.3, -0.2, 0.7, 0.1];
        let p = Polynomial::chebyshev(c.clone(), 0.0, 1.0); // alpha = 2
        assert_eq!(p.depth(), 2);
        let p2 = Polynomial::chebyshev(c, -3.0, 5.0); // alpha = 1/4
        assert_eq!(p2.depth(), 3);
        for (p, xs) in [(p, [0.0, 0.3, 1.0]), (p2, [-3.0, 0.5, 5.0])] {
            let (err, used) = check(&p, &xs);
            assert_eq!(used, p.depth());
            assert!(err < 1e-10);
        }
    }

    #[test]
    fn odd_polynomials_skip_even_powers_and_bsgs_saves_products() {
        // The Cheon-Kim-Kim g polynomial, degree 7.
        let g = Polynomial::power(vec![
            0.0,
            4589.0 / 1024.0,
            0.0,
            -16577.0 / 1024.0,
            0.0,
            25614.0 / 1024.0,
            0.0,
            -12860.0 / 1024.0,
        ]);
        assert!(g.is_odd());
        let (err, used) = check(&g, &[-1.0, -0.5, 0.0, 0.01, 0.7, 1.0]);
        assert_eq!(used, 3);
        assert!(err < 1e-12);
        // A degree-63 Chebyshev polynomial: optimal depth 6 with far fewer than 63 products.
        let c: Vec<f64> = (0..64)
            .map(|i| ((i * 7 % 11) as f64 - 5.0) / 50.0)
            .collect();
        let p = Polynomial::chebyshev(c, -1.0, 1.0);
        let b = CountingBackend::new(backend(4));
        let x = b.encrypt_real(&[0.1, -0.9, 0.5, 1.0], TOP).unwrap();
        let y = evaluate(&b, &x, &p).unwrap();
        assert_eq!(TOP - b.level(&y), 6);
        let counts = b.counts();
        assert!(counts.ct_mults < 40, "{counts:?}");
    }

    #[test]
    fn many_polynomials_share_powers_and_masks_are_free() {
        let b = backend(3);
        let x = b.encrypt_real(&[0.2, -0.4, 0.9], TOP).unwrap();
        let ps = vec![
            Polynomial::chebyshev(vec![0.1, 0.2, 0.3, 0.4, 0.5], -1.0, 1.0),
            Polynomial::chebyshev(vec![1.0, 0.0, -1.0], -1.0, 1.0),
            Polynomial::chebyshev(vec![2.5], -1.0, 1.0),
        ];
        let mask = [1.0, 0.0, 0.5];
        let ys = evaluate_many(&b, &x, &ps, Some(&mask)).unwrap();
        for (p, y) in ps.iter().zip(&ys) {
            assert_eq!(TOP - b.level(y), p.depth());
            let out = b.decrypt_real(y).unwrap();
            for (i, &xi) in [0.2, -0.4, 0.9].iter().enumerate() {
                assert!((out[i] - mask[i] * p.eval_f64(xi)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn too_few_levels_is_an_error_before_any_work() {
        let b = PlainBackend::new(1, ScaleChain::uniform(2, 40.0));
        let x = b.encrypt_real(&[0.5], 2).unwrap();
        let p = Polynomial::power(vec![0.0, 0.0, 0.0, 0.0, 1.0]);
        assert!(matches!(
            evaluate(&b, &x, &p),
            Err(Error::LevelExhausted { needed: 3, .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn random_polynomials_match_f64(
            coeffs in prop::collection::vec(-1.0f64..1.0, 1..40),
            cheb in any::<bool>(),
            xs in prop::collection::vec(-1.0f64..1.0, 1..8),
        ) {
            let p = if cheb {
                Polynomial::chebyshev(coeffs, -1.0, 1.0)
            } else {
                Polynomial::power(coeffs)
            };
            let (err, used) = check(&p, &xs);
            prop_assert_eq!(used, p.depth());
            prop_assert!(err < 1e-9);
        }
    }
}
