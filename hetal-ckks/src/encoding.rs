//! The CKKS encoder: the canonical embedding computed with the "special FFT".
//!
//! A plaintext polynomial `m(X)` in `Z[X]/(X^N + 1)` holds `n <= N/2` complex slots
//! `z_j = m(ζ^{5^j})`, `j = 0..n`, where `ζ = exp(iπ/N)` is a primitive `2N`-th root of unity.
//! With this ordering (the 5^j rotation group) the automorphism `X -> X^{5^k}` rotates the slots
//! left by `k` and `X -> X^{-1}` conjugates them.
//!
//! With sparse packing (`n < N/2`, a power of two) the polynomial lives in the subring
//! `Z[Y]`, `Y = X^{N/(2n)}`: its only non-zero coefficients are at multiples of
//! `gap = N/(2n)`. The coefficients at `i·gap` hold the real parts and those at `N/2 + i·gap`
//! the imaginary parts of the `n` complex "coefficients" `u_i` of `p(Y) = Σ u_i Y^i`, whose
//! values at the `4n`-th roots `ζ_{4n}^{5^j}` are the slots. [`Encoder::special_fft`] and
//! [`Encoder::special_ifft`] compute that evaluation and its inverse in `O(n log n)`.
//!
//! ```
//! use hetal_ckks::encoding::Encoder;
//! use num_complex::Complex64;
//! let enc = Encoder::new(10, 3).unwrap(); // N = 2^10, 8 slots
//! let values: Vec<Complex64> = (0..8).map(|i| Complex64::new(i as f64, -0.5)).collect();
//! let coeffs = enc.encode_i64(&values, (1u64 << 30) as f64).unwrap();
//! let back = enc.decode_i64(&coeffs, (1u64 << 30) as f64).unwrap();
//! for (a, b) in values.iter().zip(&back) {
//!     assert!((a - b).norm() < 1e-8);
//! }
//! ```

use num_complex::Complex64;
use std::f64::consts::PI;

use crate::error::{Error, Result};

/// Largest supported `log2 N`.
pub const MAX_LOG_N: u32 = 17;
/// Smallest supported `log2 N`.
pub const MIN_LOG_N: u32 = 1;

/// The canonical-embedding encoder for a ring degree `N` and a number of slots `n`.
///
/// Immutable and cheap to share; all tables are precomputed by [`Encoder::new`].
#[derive(Clone, Debug)]
pub struct Encoder {
    log_n: u32,
    log_slots: u32,
    /// `roots[k] = exp(2πi k / (4n))`, `k = 0..=4n`.
    roots: Vec<Complex64>,
    /// `rot_group[j] = 5^j mod 4n`, `j = 0..n`.
    rot_group: Vec<usize>,
}

impl Encoder {
    /// An encoder for `N = 2^log_n` and `n = 2^log_slots` slots, `log_slots <= log_n - 1`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `log_n` is outside `1..=17` or `log_slots >= log_n`.
    pub fn new(log_n: u32, log_slots: u32) -> Result<Self> {
        if !(MIN_LOG_N..=MAX_LOG_N).contains(&log_n) {
            return Err(Error::InvalidArgument {
                op: "Encoder::new",
                reason: format!("log N = {log_n} is outside {MIN_LOG_N}..={MAX_LOG_N}"),
            });
        }
        if log_slots >= log_n {
            return Err(Error::InvalidArgument {
                op: "Encoder::new",
                reason: format!("log slots = {log_slots} must be below log N = {log_n}"),
            });
        }
        let n = 1usize << log_slots;
        let m = 4 * n;
        let roots = (0..=m)
            .map(|k| {
                // Exact values at the quarter points keep symmetric inputs exact.
                let angle = 2.0 * PI * (k as f64) / (m as f64);
                Complex64::new(angle.cos(), angle.sin())
            })
            .collect();
        let mut rot_group = Vec::with_capacity(n);
        let mut g = 1usize;
        for _ in 0..n {
            rot_group.push(g);
            g = (g * 5) % m;
        }
        Ok(Self {
            log_n,
            log_slots,
            roots,
            rot_group,
        })
    }

    /// `log2 N`.
    pub fn log_n(&self) -> u32 {
        self.log_n
    }

    /// Ring degree `N`.
    pub fn n(&self) -> usize {
        1 << self.log_n
    }

    /// `log2` of the number of slots.
    pub fn log_slots(&self) -> u32 {
        self.log_slots
    }

    /// Number of complex slots `n`.
    pub fn slots(&self) -> usize {
        1 << self.log_slots
    }

    /// Distance `N/(2n)` between the coefficients a sparse plaintext uses.
    pub fn gap(&self) -> usize {
        self.n() / (2 * self.slots())
    }

    /// Evaluates `p(Y) = Σ_i vals[i] Y^i` at `ζ_{4n}^{5^j}` for `j = 0..n`, in place
    /// (coefficients to slots, the decoding direction). `vals.len()` must be `n`.
    ///
    /// # Panics
    /// If `vals.len() != self.slots()` (an internal invariant of the callers).
    pub fn special_fft(&self, vals: &mut [Complex64]) {
        let size = vals.len();
        assert_eq!(size, self.slots(), "special_fft length");
        let m = 4 * size;
        bit_reverse(vals);
        let mut len = 2;
        while len <= size {
            let lenh = len >> 1;
            let lenq = len << 2;
            let step = m / lenq;
            for chunk in vals.chunks_exact_mut(len) {
                let (lo, hi) = chunk.split_at_mut(lenh);
                for j in 0..lenh {
                    let idx = (self.rot_group[j] % lenq) * step;
                    let u = lo[j];
                    let v = hi[j] * self.roots[idx];
                    lo[j] = u + v;
                    hi[j] = u - v;
                }
            }
            len <<= 1;
        }
    }

    /// Inverse of [`Encoder::special_fft`] (slots to coefficients, the encoding direction),
    /// normalized, in place. `vals.len()` must be `n`.
    ///
    /// # Panics
    /// If `vals.len() != self.slots()`.
    pub fn special_ifft(&self, vals: &mut [Complex64]) {
        let size = vals.len();
        assert_eq!(size, self.slots(), "special_ifft length");
        let m = 4 * size;
        let mut len = size;
        while len >= 2 {
            let lenh = len >> 1;
            let lenq = len << 2;
            let step = m / lenq;
            for chunk in vals.chunks_exact_mut(len) {
                let (lo, hi) = chunk.split_at_mut(lenh);
                for j in 0..lenh {
                    let idx = (lenq - (self.rot_group[j] % lenq)) * step;
                    let u = lo[j] + hi[j];
                    let v = (lo[j] - hi[j]) * self.roots[idx];
                    lo[j] = u;
                    hi[j] = v;
                }
            }
            len >>= 1;
        }
        bit_reverse(vals);
        let inv = 1.0 / size as f64;
        for v in vals.iter_mut() {
            *v *= inv;
        }
    }

    /// The naive `O(n^2)` evaluation of the canonical embedding, for tests and as a reference:
    /// `z_j = Σ_i coeffs[i] ζ_{4n}^{i·5^j}`.
    pub fn naive_embedding(&self, coeffs: &[Complex64]) -> Vec<Complex64> {
        let n = self.slots();
        let m = 4 * n;
        (0..n)
            .map(|j| {
                let g = self.rot_group[j];
                coeffs
                    .iter()
                    .enumerate()
                    .map(|(i, c)| c * self.roots[(i * g) % m])
                    .sum()
            })
            .collect()
    }

    fn check_len(&self, op: &'static str, values: &[Complex64]) -> Result<()> {
        if values.len() > self.slots() {
            return Err(Error::TooManyValues {
                op,
                got: values.len(),
                slots: self.slots(),
            });
        }
        Ok(())
    }

    fn check_scale(op: &'static str, scale: f64) -> Result<()> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::InvalidArgument {
                op,
                reason: format!("scale {scale} must be finite and positive"),
            });
        }
        Ok(())
    }

    /// Encodes up to `n` values (missing ones are zero) into `N` rounded, scaled coefficients,
    /// returned as exactly-integral `f64`s (they may exceed `i64` for very large scales).
    ///
    /// # Errors
    /// [`Error::TooManyValues`] for more than `n` values; [`Error::InvalidArgument`] for a
    /// non-positive or non-finite scale or a non-finite input value.
    pub fn encode_f64(&self, values: &[Complex64], scale: f64) -> Result<Vec<f64>> {
        const OP: &str = "encode";
        self.check_len(OP, values)?;
        Self::check_scale(OP, scale)?;
        if values
            .iter()
            .any(|v| !(v.re.is_finite() && v.im.is_finite()))
        {
            return Err(Error::InvalidArgument {
                op: OP,
                reason: "a value is not finite".into(),
            });
        }
        let n = self.slots();
        let mut u = vec![Complex64::new(0.0, 0.0); n];
        u[..values.len()].copy_from_slice(values);
        self.special_ifft(&mut u);
        let big_n = self.n();
        let gap = self.gap();
        let half = big_n / 2;
        let mut out = vec![0.0f64; big_n];
        for (i, c) in u.iter().enumerate() {
            out[i * gap] = (c.re * scale).round();
            out[half + i * gap] = (c.im * scale).round();
        }
        if out.iter().any(|c| !c.is_finite()) {
            return Err(Error::InvalidArgument {
                op: OP,
                reason: "scaled coefficients overflow f64".into(),
            });
        }
        Ok(out)
    }

    /// Encodes into `i64` coefficients.
    ///
    /// # Errors
    /// As [`Encoder::encode_f64`], and [`Error::InvalidArgument`] if a scaled coefficient does
    /// not fit in `i64` (use [`Encoder::encode_f64`] for such scales).
    pub fn encode_i64(&self, values: &[Complex64], scale: f64) -> Result<Vec<i64>> {
        let f = self.encode_f64(values, scale)?;
        let limit = 9.223_372_036_854_775e18; // 2^63
        if f.iter().any(|c| c.abs() >= limit) {
            return Err(Error::InvalidArgument {
                op: "encode_i64",
                reason: "a scaled coefficient does not fit in i64".into(),
            });
        }
        Ok(f.into_iter().map(|c| c as i64).collect())
    }

    /// Decodes `N` centered coefficients (given as `f64`, already exact or approximate) at
    /// `scale` into `n` slots.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a wrong length or a bad scale.
    pub fn decode_f64(&self, coeffs: &[f64], scale: f64) -> Result<Vec<Complex64>> {
        const OP: &str = "decode";
        Self::check_scale(OP, scale)?;
        if coeffs.len() != self.n() {
            return Err(Error::InvalidArgument {
                op: OP,
                reason: format!("{} coefficients for N = {}", coeffs.len(), self.n()),
            });
        }
        let gap = self.gap();
        let half = self.n() / 2;
        let inv = 1.0 / scale;
        let mut u: Vec<Complex64> = (0..self.slots())
            .map(|i| Complex64::new(coeffs[i * gap] * inv, coeffs[half + i * gap] * inv))
            .collect();
        self.special_fft(&mut u);
        Ok(u)
    }

    /// Decodes `N` centered `i64` coefficients at `scale`.
    ///
    /// # Errors
    /// As [`Encoder::decode_f64`].
    pub fn decode_i64(&self, coeffs: &[i64], scale: f64) -> Result<Vec<Complex64>> {
        let f: Vec<f64> = coeffs.iter().map(|&c| c as f64).collect();
        self.decode_f64(&f, scale)
    }

    /// The Galois element `5^k mod 2N` that rotates the slots left by `k` (negative `k` rotates
    /// right). Rotations are cyclic modulo the number of slots `n`.
    pub fn galois_element_for_rotation(&self, k: i64) -> usize {
        galois_element(self.log_n, self.log_slots, k)
    }
}

/// The Galois element `5^k mod 2N` for a left rotation by `k` of `2^log_slots` slots.
pub fn galois_element(log_n: u32, log_slots: u32, k: i64) -> usize {
    let m = 2usize << log_n;
    // 5 has order N/2 mod 2N; rotating n slots is cyclic with period n.
    let n = 1i64 << log_slots;
    let k = k.rem_euclid(n) as u64;
    let mut result = 1u64;
    let mut base = 5u64;
    let mut e = k;
    let mm = m as u64;
    while e > 0 {
        if e & 1 == 1 {
            result = result * base % mm;
        }
        base = base * base % mm;
        e >>= 1;
    }
    result as usize
}

/// The Galois element `2N - 1` of complex conjugation.
pub fn conjugation_element(log_n: u32) -> usize {
    (2usize << log_n) - 1
}

/// Permutes `v` (length a power of two) into bit-reversed index order.
///
/// # Panics
/// If the length is not a power of two.
pub fn bit_reverse<T>(v: &mut [T]) {
    let n = v.len();
    assert!(
        n.is_power_of_two(),
        "bit reversal of a non-power-of-two length"
    );
    if n <= 2 {
        return;
    }
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if i < j {
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(re: f64, im: f64) -> Complex64 {
        Complex64::new(re, im)
    }

    fn values_strategy(max_log: u32) -> impl Strategy<Value = (u32, u32, Vec<(f64, f64)>)> {
        (2u32..=max_log).prop_flat_map(|log_n| {
            (0..log_n).prop_flat_map(move |log_slots| {
                (
                    Just(log_n),
                    Just(log_slots),
                    proptest::collection::vec((-1.0f64..1.0, -1.0f64..1.0), 1usize << log_slots),
                )
            })
        })
    }

    /// Negacyclic product in `Z[X]/(X^N+1)` over i128.
    fn negacyclic(a: &[i64], b: &[i64]) -> Vec<i128> {
        let n = a.len();
        let mut out = vec![0i128; n];
        for i in 0..n {
            if a[i] == 0 {
                continue;
            }
            for j in 0..n {
                let p = a[i] as i128 * b[j] as i128;
                let k = i + j;
                if k < n {
                    out[k] += p;
                } else {
                    out[k - n] -= p;
                }
            }
        }
        out
    }

    fn max_err(a: &[Complex64], b: &[Complex64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).norm())
            .fold(0.0, f64::max)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn fft_matches_naive((log_n, log_slots, v) in values_strategy(11)) {
            let enc = Encoder::new(log_n, log_slots).unwrap();
            let coeffs: Vec<Complex64> = v.iter().map(|&(a, b)| c(a, b)).collect();
            let naive = enc.naive_embedding(&coeffs);
            let mut fast = coeffs.clone();
            enc.special_fft(&mut fast);
            prop_assert!(max_err(&naive, &fast) < 1e-9 * (coeffs.len() as f64));
            enc.special_ifft(&mut fast);
            prop_assert!(max_err(&coeffs, &fast) < 1e-12 * (coeffs.len() as f64));
        }

        #[test]
        fn round_trip((log_n, log_slots, v) in values_strategy(12)) {
            let enc = Encoder::new(log_n, log_slots).unwrap();
            let values: Vec<Complex64> = v.iter().map(|&(a, b)| c(a, b)).collect();
            let scale = 2f64.powi(40);
            let coeffs = enc.encode_i64(&values, scale).unwrap();
            // Sparse packing: only multiples of the gap are used.
            for (i, &x) in coeffs.iter().enumerate() {
                if i % enc.gap() != 0 {
                    prop_assert_eq!(x, 0);
                }
            }
            let back = enc.decode_i64(&coeffs, scale).unwrap();
            prop_assert!(max_err(&values, &back) < 1e-9);
        }

        #[test]
        fn embedding_is_canonical((log_n, log_slots, v) in values_strategy(9)) {
            // Decoding equals evaluating the real polynomial at ζ_{2N}^{5^j}.
            let enc = Encoder::new(log_n, log_slots).unwrap();
            let values: Vec<Complex64> = v.iter().map(|&(a, b)| c(a, b)).collect();
            let scale = 2f64.powi(30);
            let coeffs = enc.encode_i64(&values, scale).unwrap();
            let big_n = enc.n();
            let m = 2 * big_n;
            for j in 0..enc.slots() {
                let g = galois_element(log_n, log_slots, j as i64);
                let mut acc = c(0.0, 0.0);
                for (i, &x) in coeffs.iter().enumerate() {
                    let ang = 2.0 * PI * ((i * g) % m) as f64 / m as f64;
                    acc += c(ang.cos(), ang.sin()) * (x as f64 / scale);
                }
                prop_assert!((acc - values[j]).norm() < 1e-6);
            }
        }

        #[test]
        fn homomorphic((log_n, log_slots, v) in values_strategy(8), shift in 0i64..64) {
            let enc = Encoder::new(log_n, log_slots).unwrap();
            let n = enc.slots();
            let a: Vec<Complex64> = v.iter().map(|&(x, y)| c(x, y)).collect();
            let b: Vec<Complex64> = v.iter().rev().map(|&(x, y)| c(y, -x)).collect();
            let scale = 2f64.powi(25);
            let ea = enc.encode_i64(&a, scale).unwrap();
            let eb = enc.encode_i64(&b, scale).unwrap();
            // Additive.
            let sum: Vec<i64> = ea.iter().zip(&eb).map(|(x, y)| x + y).collect();
            let want: Vec<Complex64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
            prop_assert!(max_err(&enc.decode_i64(&sum, scale).unwrap(), &want) < 1e-6);
            // Multiplicative: negacyclic product <-> slot-wise product.
            let prod: Vec<f64> = negacyclic(&ea, &eb).into_iter().map(|x| x as f64).collect();
            let want: Vec<Complex64> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
            let got = enc.decode_f64(&prod, scale * scale).unwrap();
            prop_assert!(max_err(&got, &want) < 1e-5);
            // Rotation is the automorphism X -> X^{5^k}; conjugation is X -> X^{-1}.
            let m = 2 * enc.n();
            let apply = |g: usize| {
                let mut out = vec![0i64; enc.n()];
                for (i, &x) in ea.iter().enumerate() {
                    let e = (i * g) % m;
                    if e < enc.n() { out[e] += x } else { out[e - enc.n()] -= x }
                }
                enc.decode_i64(&out, scale).unwrap()
            };
            let rot = apply(galois_element(log_n, log_slots, shift));
            let want: Vec<Complex64> = (0..n).map(|j| a[(j + shift as usize) % n]).collect();
            prop_assert!(max_err(&rot, &want) < 1e-6);
            let conj = apply(conjugation_element(log_n));
            let want: Vec<Complex64> = a.iter().map(|x| x.conj()).collect();
            prop_assert!(max_err(&conj, &want) < 1e-6);
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(Encoder::new(0, 0).is_err());
        assert!(Encoder::new(10, 10).is_err());
        let enc = Encoder::new(4, 2).unwrap();
        assert!(matches!(
            enc.encode_f64(&[c(0.0, 0.0); 5], 1.0),
            Err(Error::TooManyValues {
                got: 5,
                slots: 4,
                ..
            })
        ));
        assert!(enc.encode_f64(&[c(f64::NAN, 0.0)], 1.0).is_err());
        assert!(enc.encode_f64(&[c(1.0, 0.0)], -1.0).is_err());
        assert!(enc.encode_i64(&[c(1.0, 0.0)], 1e30).is_err());
        assert!(enc.decode_f64(&[0.0; 3], 1.0).is_err());
    }

    #[test]
    fn full_packing_large_n_precision() {
        let enc = Encoder::new(16, 15).unwrap();
        let values: Vec<Complex64> = (0..enc.slots())
            .map(|i| {
                c(
                    ((i * 7919) % 1000) as f64 / 1000.0 - 0.5,
                    (i % 13) as f64 / 13.0,
                )
            })
            .collect();
        let scale = 2f64.powi(40);
        let coeffs = enc.encode_i64(&values, scale).unwrap();
        let back = enc.decode_i64(&coeffs, scale).unwrap();
        let err = max_err(&values, &back);
        assert!(-err.log2() > 30.0, "precision {} bits", -err.log2());
    }
}
