//! Double-double arithmetic (an unevaluated sum `hi + lo` of two `f64`, about 106 bits),
//! enough to solve the small, ill-conditioned interpolation systems of EvalMod's near-integer
//! cosine fit without losing the `f64` precision of the result (Dekker 1971; Knuth's
//! two-sum; the two-product through a fused multiply-add).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// `hi + lo` with `|lo| <= ulp(hi)/2`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Dd {
    hi: f64,
    lo: f64,
}

/// `a + b = s + e` exactly (Knuth).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `a + b = s + e` exactly when `|a| >= |b|` (Dekker).
fn quick_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a·b = p + e` exactly (one fused multiply-add).
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

impl Dd {
    pub(crate) const ZERO: Dd = Dd { hi: 0.0, lo: 0.0 };
    pub(crate) const ONE: Dd = Dd { hi: 1.0, lo: 0.0 };

    /// The nearest `f64`.
    pub(crate) fn to_f64(self) -> f64 {
        self.hi + self.lo
    }

    pub(crate) fn abs(self) -> Dd {
        if self.hi < 0.0 { -self } else { self }
    }
}

impl From<f64> for Dd {
    fn from(hi: f64) -> Self {
        Dd { hi, lo: 0.0 }
    }
}

impl Add for Dd {
    type Output = Dd;
    fn add(self, o: Dd) -> Dd {
        let (s, e) = two_sum(self.hi, o.hi);
        let (t, f) = two_sum(self.lo, o.lo);
        let (s, e) = quick_two_sum(s, e + t);
        let (hi, lo) = quick_two_sum(s, e + f);
        Dd { hi, lo }
    }
}

impl Neg for Dd {
    type Output = Dd;
    fn neg(self) -> Dd {
        Dd {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
}

impl Sub for Dd {
    type Output = Dd;
    fn sub(self, o: Dd) -> Dd {
        self + (-o)
    }
}

impl Mul for Dd {
    type Output = Dd;
    fn mul(self, o: Dd) -> Dd {
        let (p, e) = two_prod(self.hi, o.hi);
        let e = e + (self.hi * o.lo + self.lo * o.hi);
        let (hi, lo) = quick_two_sum(p, e);
        Dd { hi, lo }
    }
}

impl Div for Dd {
    type Output = Dd;
    /// Long division: two quotient digits and a correction.
    fn div(self, o: Dd) -> Dd {
        let q1 = self.hi / o.hi;
        let r = self - o * Dd::from(q1);
        let q2 = r.hi / o.hi;
        let r = r - o * Dd::from(q2);
        let q3 = r.hi / o.hi;
        let (hi, lo) = quick_two_sum(q1, q2);
        Dd { hi, lo } + Dd::from(q3)
    }
}

/// Solves the square system `a·x = b` by Gaussian elimination with partial pivoting in
/// double-double. `None` if the matrix is singular to working precision.
pub(crate) fn solve(mut a: Vec<Vec<Dd>>, mut b: Vec<Dd>) -> Option<Vec<Dd>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| {
            a[i][col]
                .abs()
                .hi
                .partial_cmp(&a[j][col].abs().hi)
                .unwrap_or(std::cmp::Ordering::Equal)
        })?;
        if a[pivot][col].hi == 0.0 || !a[pivot][col].hi.is_finite() {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let factor = a[row][col] / a[col][col];
            for k in col..n {
                let delta = factor * a[col][k];
                a[row][k] = a[row][k] - delta;
            }
            b[row] = b[row] - factor * b[col];
        }
    }
    let mut x = vec![Dd::ZERO; n];
    for row in (0..n).rev() {
        let mut s = b[row];
        for k in row + 1..n {
            s = s - a[row][k] * x[k];
        }
        x[row] = s / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_carries_about_106_bits() {
        let third = Dd::ONE / Dd::from(3.0);
        // 3 · (1/3) - 1 vanishes far below f64's 2^-53.
        let r = (third * Dd::from(3.0) - Dd::ONE).to_f64();
        assert!(r.abs() < 1e-31, "{r:e}");
        // (1 + 2^-60) - 1 keeps the 2^-60 that f64 rounds away.
        let tiny = 2f64.powi(-60);
        assert_eq!(((Dd::ONE + Dd::from(tiny)) - Dd::ONE).to_f64(), tiny);
        assert_eq!((-Dd::from(2.5)).abs().to_f64(), 2.5);
    }

    #[test]
    fn solves_a_hilbert_system_beyond_f64() {
        // The 10×10 Hilbert matrix has condition ~1.6e13: f64 elimination keeps ~3 digits,
        // double-double all of f64's.
        let n = 10;
        let h: Vec<Vec<Dd>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| Dd::ONE / Dd::from((i + j + 1) as f64))
                    .collect()
            })
            .collect();
        let ones = vec![Dd::ONE; n];
        let b: Vec<Dd> = h
            .iter()
            .map(|row| row.iter().fold(Dd::ZERO, |s, &v| s + v))
            .collect();
        let x = solve(h, b).unwrap();
        for (xi, one) in x.iter().zip(&ones) {
            assert!((xi.to_f64() - one.to_f64()).abs() < 1e-15, "{xi:?}");
        }
        assert!(solve(vec![vec![Dd::ZERO; 2]; 2], vec![Dd::ONE; 2]).is_none());
    }
}
