//! Fitting: Chebyshev interpolation and Remez minimax approximation on an interval.
//!
//! Both return a [`Fit`]: the polynomial in the Chebyshev basis of the interval (ready for
//! [`hetal_ckks::polyeval`]) and the achieved max error, measured on a dense grid.
//!
//! ```
//! use hetal_approx::fit;
//! let f = fit::chebyshev(f64::exp, -1.0, 1.0, 12);
//! assert!(f.max_error < 1e-13);
//! let r = fit::remez(f64::exp, -1.0, 1.0, 5);
//! assert!(r.max_error < 5e-5 && r.max_error <= fit::chebyshev(f64::exp, -1.0, 1.0, 5).max_error);
//! ```

use hetal_ckks::polyeval::Polynomial;

/// Points of the dense grid [`max_error`] measures on.
pub const GRID: usize = 20_001;

/// A fitted polynomial and its measured max error on its interval.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The polynomial, in the Chebyshev basis of `[a, b]`.
    pub poly: Polynomial,
    /// `max |f - poly|` on a grid of [`GRID`] points of `[a, b]` (plus the Chebyshev nodes).
    pub max_error: f64,
}

/// `max |f(x) - p(x)|` on `GRID` evenly spaced points of `[a, b]`.
pub fn max_error(f: impl Fn(f64) -> f64, p: &Polynomial, a: f64, b: f64) -> f64 {
    (0..GRID)
        .map(|i| a + (b - a) * i as f64 / (GRID - 1) as f64)
        .map(|x| (f(x) - p.eval_f64(x)).abs())
        .fold(0.0, f64::max)
}

/// Interpolates `f` at the `degree + 1` Chebyshev nodes of `[a, b]`.
///
/// # Panics
/// If `a >= b`.
pub fn chebyshev(f: impl Fn(f64) -> f64, a: f64, b: f64, degree: usize) -> Fit {
    let n = degree + 1;
    let values: Vec<f64> = (0..n)
        .map(|k| {
            let t = (std::f64::consts::PI * (k as f64 + 0.5) / n as f64).cos();
            f(0.5 * (b - a) * t + 0.5 * (a + b))
        })
        .collect();
    let coeffs: Vec<f64> = (0..n)
        .map(|j| {
            let s: f64 = values
                .iter()
                .enumerate()
                .map(|(k, v)| {
                    v * (std::f64::consts::PI * j as f64 * (k as f64 + 0.5) / n as f64).cos()
                })
                .sum();
            s * if j == 0 { 1.0 } else { 2.0 } / n as f64
        })
        .collect();
    let poly = Polynomial::chebyshev(coeffs, a, b);
    let max_error = max_error(&f, &poly, a, b);
    Fit { poly, max_error }
}

/// Solves `m · x = rhs` by Gaussian elimination with partial pivoting.
fn solve(mut m: Vec<Vec<f64>>, mut rhs: Vec<f64>) -> Vec<f64> {
    let n = rhs.len();
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))
            .expect("non-empty");
        m.swap(col, piv);
        rhs.swap(col, piv);
        for row in col + 1..n {
            let factor = m[row][col] / m[col][col];
            if factor != 0.0 {
                for k in col..n {
                    m[row][k] -= factor * m[col][k];
                }
                rhs[row] -= factor * rhs[col];
            }
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| m[row][k] * x[k]).sum();
        x[row] = (rhs[row] - s) / m[row][row];
    }
    x
}

fn cheb_values(t: f64, n: usize) -> Vec<f64> {
    let mut v = vec![1.0; n];
    if n > 1 {
        v[1] = t;
    }
    for i in 2..n {
        v[i] = 2.0 * t * v[i - 1] - v[i - 2];
    }
    v
}

/// Minimax (Remez exchange) approximation of degree `degree` of `f` on `[a, b]`.
///
/// Starts from the Chebyshev extrema, iterates the exchange on a dense grid (at most 30 rounds,
/// or until the levelled error and the grid maximum agree to 1e-6 relative), and returns the
/// best polynomial seen. For a continuous `f` the result is within a few percent of the true
/// minimax error; [`Fit::max_error`] is measured, not the levelled estimate.
///
/// # Panics
/// If `a >= b`.
pub fn remez(f: impl Fn(f64) -> f64, a: f64, b: f64, degree: usize) -> Fit {
    let n = degree + 2;
    let to_x = |t: f64| 0.5 * (b - a) * t + 0.5 * (a + b);
    let mut best = chebyshev(&f, a, b, degree);
    let mut refs: Vec<f64> = (0..n)
        .map(|k| -(std::f64::consts::PI * k as f64 / (n - 1) as f64).cos())
        .collect();
    let grid: Vec<f64> = (0..GRID)
        .map(|i| -1.0 + 2.0 * i as f64 / (GRID - 1) as f64)
        .collect();
    for _ in 0..30 {
        let m: Vec<Vec<f64>> = refs
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let mut row = cheb_values(t, degree + 1);
                row.push(if i % 2 == 0 { 1.0 } else { -1.0 });
                row
            })
            .collect();
        let rhs: Vec<f64> = refs.iter().map(|&t| f(to_x(t))).collect();
        let sol = solve(m, rhs);
        let levelled = sol[degree + 1].abs();
        let poly = Polynomial::chebyshev(sol[..=degree].to_vec(), a, b);
        let err: Vec<f64> = grid
            .iter()
            .map(|&t| f(to_x(t)) - poly.eval_f64(to_x(t)))
            .collect();
        let max = err.iter().fold(0.0f64, |m, e| m.max(e.abs()));
        if max < best.max_error {
            best = Fit {
                poly: poly.clone(),
                max_error: max,
            };
        }
        if (max - levelled) <= 1e-6 * max {
            break;
        }
        // New reference: the extremum of each maximal same-sign run of the error.
        let mut new_refs: Vec<(f64, f64)> = Vec::new();
        let mut i = 0;
        while i < grid.len() {
            let sign = err[i] >= 0.0;
            let mut j = i;
            let mut arg = i;
            while j < grid.len() && (err[j] >= 0.0) == sign {
                if err[j].abs() > err[arg].abs() {
                    arg = j;
                }
                j += 1;
            }
            new_refs.push((grid[arg], err[arg]));
            i = j;
        }
        // Keep n alternating points: drop the smallest of adjacent extra points from the ends.
        while new_refs.len() > n {
            let first = new_refs[0].1.abs();
            let last = new_refs[new_refs.len() - 1].1.abs();
            if first < last {
                new_refs.remove(0);
            } else {
                new_refs.pop();
            }
        }
        if new_refs.len() < n {
            break;
        }
        refs = new_refs.into_iter().map(|(t, _)| t).collect();
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chebyshev_interpolation_converges_for_smooth_functions() {
        let e8 = chebyshev(f64::exp, -1.0, 1.0, 8);
        assert!(
            e8.max_error < 1.3e-8 && e8.max_error > 1e-12,
            "{}",
            e8.max_error
        );
        let wide = chebyshev(|x| (x / 8.0).exp(), -12.0, 4.0, 24);
        assert!(wide.max_error < 1e-13);
    }

    #[test]
    fn remez_beats_interpolation_and_equioscillates() {
        for (deg, f) in [
            (4usize, f64::exp as fn(f64) -> f64),
            (7, |x: f64| (3.0 * x).tanh()),
        ] {
            let c = chebyshev(f, -1.0, 1.0, deg);
            let r = remez(f, -1.0, 1.0, deg);
            assert!(
                r.max_error <= c.max_error,
                "{deg}: {} vs {}",
                r.max_error,
                c.max_error
            );
        }
        // Known value: the minimax error of degree-1 approximation of exp on [-1,1] is ~0.2788.
        let r1 = remez(f64::exp, -1.0, 1.0, 1);
        assert!((r1.max_error - 0.2788).abs() < 1e-3, "{}", r1.max_error);
    }

    #[test]
    fn inverse_on_a_range() {
        // 1/x on [0.5, 2], degree 6: minimax 1.03e-3 vs interpolation 1.83e-3.
        let r = remez(|x| 1.0 / x, 0.5, 2.0, 6);
        assert!(r.max_error < 1.05e-3, "{}", r.max_error);
        assert!(r.max_error < 0.6 * chebyshev(|x| 1.0 / x, 0.5, 2.0, 6).max_error);
        // |x| on [-1, 1], degree 16: Bernstein's constant 0.2802/16 = 0.0175.
        let a = remez(f64::abs, -1.0, 1.0, 16);
        assert!(a.max_error < 0.0176, "{}", a.max_error);
    }
}
