//! 128-bit security bounds on `log2(QP)` for RLWE with ternary secrets.
//!
//! # Uniform ternary secrets
//! The bounds for `N = 2^10 ..= 2^15` are the classical 128-bit column of Table 1 ("uniform
//! ternary secret") of the Homomorphic Encryption Standard (Albrecht et al., *Homomorphic
//! Encryption Security Standard*, HomomorphicEncryption.org, November 2018): 27, 54, 109, 218,
//! 438, 881. The standard stops at `N = 2^15`; for `N = 2^16` we use 1761, the value obtained with
//! the same lattice-estimator methodology and used for Lattigo's `PN16QP1761` and SEAL-style
//! tables. `N = 2^17` has no tabulated bound here: such literals must be marked insecure.
//!
//! # Sparse ternary secrets
//! A secret with a small fixed Hamming weight `h` is easier to attack (hybrid / sparse-secret
//! attacks), so the admissible modulus is smaller. We accept `h >= 192` only where a published
//! estimate exists: Bossuat, Troncoso-Pastoriza, Hubaux (*Bootstrapping for approximate
//! homomorphic encryption with negligible failure-probability by using sparse-secret
//! encapsulation*, ACNS 2022) and Lattigo's bootstrapping presets `N15QP768H192H32` and
//! `N16QP1553H192H32` (both documented as 128-bit): `log QP <= 768` at `N = 2^15` and
//! `log QP <= 1553` at `N = 2^16` for `h = 192`. A larger weight is at least as hard, so the same
//! bound applies for `192 <= h < N/2`; from `h >= N/2` on the secret is treated as dense. Any
//! other sparse combination is refused unless marked insecure.
//!
//! ```
//! use hetal_ckks::security::{max_log_qp_128, SecretDistribution};
//! assert_eq!(max_log_qp_128(16, SecretDistribution::UniformTernary), Some(1761));
//! assert_eq!(max_log_qp_128(16, SecretDistribution::HammingWeight(192)), Some(1553));
//! assert_eq!(max_log_qp_128(16, SecretDistribution::HammingWeight(64)), None);
//! ```

use serde::{Deserialize, Serialize};

/// Distribution of the secret key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecretDistribution {
    /// Every coefficient uniform in `{-1, 0, 1}`.
    UniformTernary,
    /// Ternary with exactly this many non-zero coefficients (each `±1` uniformly).
    HammingWeight(usize),
}

/// Uniform-ternary 128-bit bounds on `log2(QP)`, indexed by `log N - 10`.
pub const HE_STANDARD_TERNARY_128: [(u32, u32); 7] = [
    (10, 27),
    (11, 54),
    (12, 109),
    (13, 218),
    (14, 438),
    (15, 881),
    (16, 1761),
];

/// Sparse-secret 128-bit bounds `(log N, minimum Hamming weight, max log QP)`.
pub const SPARSE_TERNARY_128: [(u32, usize, u32); 2] = [(15, 192, 768), (16, 192, 1553)];

/// The largest `log2(QP)` that gives 128-bit security for `N = 2^log_n` and `secret`, or `None`
/// if no published bound covers the combination (then only insecure test parameters may use
/// it).
pub fn max_log_qp_128(log_n: u32, secret: SecretDistribution) -> Option<u32> {
    let dense = || {
        HE_STANDARD_TERNARY_128
            .iter()
            .find(|(l, _)| *l == log_n)
            .map(|(_, b)| *b)
    };
    match secret {
        SecretDistribution::UniformTernary => dense(),
        SecretDistribution::HammingWeight(h) => {
            let n = 1usize.checked_shl(log_n)?;
            if h >= n / 2 {
                dense()
            } else {
                SPARSE_TERNARY_128
                    .iter()
                    .find(|(l, min_h, _)| *l == log_n && h >= *min_h)
                    .map(|(_, _, b)| *b)
            }
        }
    }
}

/// The security assessment of a parameter set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum SecurityLevel {
    /// `log2(QP)` is within the 128-bit bound.
    Bits128 {
        /// The bound that was checked.
        max_log_qp: u32,
    },
    /// Explicitly marked insecure (tests only).
    InsecureForTesting,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_values() {
        let want = [27, 54, 109, 218, 438, 881, 1761];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(
                max_log_qp_128(10 + i as u32, SecretDistribution::UniformTernary),
                Some(*w)
            );
        }
        assert_eq!(max_log_qp_128(17, SecretDistribution::UniformTernary), None);
        assert_eq!(max_log_qp_128(9, SecretDistribution::UniformTernary), None);
        assert_eq!(
            max_log_qp_128(15, SecretDistribution::HammingWeight(192)),
            Some(768)
        );
        assert_eq!(
            max_log_qp_128(16, SecretDistribution::HammingWeight(1 << 15)),
            Some(1761)
        );
        assert_eq!(
            max_log_qp_128(14, SecretDistribution::HammingWeight(192)),
            None
        );
        assert_eq!(
            max_log_qp_128(16, SecretDistribution::HammingWeight(191)),
            None
        );
    }
}
