//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong when a caller hands hetal-math invalid input.
///
/// Internal invariants are checked with `debug_assert!`; every condition a caller can trigger is
/// reported through this enum instead of a panic.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A modulus is not usable (zero, one, even, too large, or not prime).
    #[error("invalid modulus {modulus}: {reason}")]
    InvalidModulus {
        /// The rejected value.
        modulus: u64,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The ring degree is not a power of two in the supported range.
    #[error("invalid ring degree N = {n}: {reason}")]
    InvalidDegree {
        /// The rejected degree.
        n: usize,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A prime is not NTT-friendly for the requested degree (p != 1 mod 2N).
    #[error("modulus {modulus} does not support a negacyclic NTT of size {n} (needs p = 1 mod 2N)")]
    NotNttFriendly {
        /// The prime.
        modulus: u64,
        /// The ring degree.
        n: usize,
    },
    /// Prime generation could not find enough primes.
    #[error(
        "prime search failed: wanted {wanted} NTT-friendly primes of {bits} bits for N = {n}, found {found}"
    )]
    NotEnoughPrimes {
        /// Requested bit size.
        bits: u32,
        /// Ring degree.
        n: usize,
        /// How many were requested.
        wanted: usize,
        /// How many exist / were found.
        found: usize,
    },
    /// A prime search around a target value found nothing admissible.
    #[error("no NTT-friendly prime near target {target} for N = {n}: {reason}")]
    NoPrimeNearTarget {
        /// The target (as a float, to cover both integer and float targets).
        target: f64,
        /// Ring degree.
        n: usize,
        /// Why.
        reason: &'static str,
    },
    /// A slice or vector had the wrong length.
    #[error("wrong length in {what}: expected {expected}, got {got}")]
    WrongLength {
        /// Which argument.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// Two operands live in different rings / RNS bases.
    #[error("mismatched bases in {op}: {reason}")]
    MismatchedBases {
        /// The operation.
        op: &'static str,
        /// What differs.
        reason: &'static str,
    },
    /// An RNS basis contains the same prime twice or is empty.
    #[error("invalid RNS basis: {reason}")]
    InvalidBasis {
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A residue is not reduced modulo its prime.
    #[error("residue {value} at limb {limb} is not below its modulus {modulus}")]
    UnreducedResidue {
        /// The limb index.
        limb: usize,
        /// The offending value.
        value: u64,
        /// The modulus.
        modulus: u64,
    },
    /// An argument is outside its documented domain.
    #[error("invalid argument to {op}: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
}

/// Shorthand for `Result<T, hetal_math::Error>`.
pub type Result<T> = std::result::Result<T, Error>;
