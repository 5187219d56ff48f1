//! The crate's error type.

/// Everything that can go wrong in hetal-ckks, with the operation that failed and why.
///
/// Variants carry named fields so that a message reads like
/// `level mismatch in add: 5 vs 4`. Library code returns these instead of panicking on bad
/// input; `assert!` is kept for internal invariants.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two operands of a binary operation are at different levels.
    #[error("level mismatch in {op}: {left} vs {right}")]
    LevelMismatch {
        /// The operation that failed.
        op: &'static str,
        /// Level of the left operand.
        left: usize,
        /// Level of the right operand.
        right: usize,
    },
    /// Two operands of an addition-like operation have different scales.
    #[error("scale mismatch in {op} at level {level}: 2^{:.6} vs 2^{:.6}", left.log2(), right.log2())]
    ScaleMismatch {
        /// The operation that failed.
        op: &'static str,
        /// The (common) level of the operands.
        level: usize,
        /// Scale of the left operand.
        left: f64,
        /// Scale of the right operand.
        right: f64,
    },
    /// The operation needs more levels than the ciphertext has left.
    #[error("level exhausted in {op}: ciphertext at level {level}, needs {needed}")]
    LevelExhausted {
        /// The operation that failed.
        op: &'static str,
        /// Level of the operand.
        level: usize,
        /// Levels the operation needs.
        needed: usize,
    },
    /// A level above the top of the modulus chain was requested.
    #[error("invalid level in {op}: {level} is above the top level {max}")]
    LevelTooHigh {
        /// The operation that failed.
        op: &'static str,
        /// The requested level.
        level: usize,
        /// The highest level of the chain.
        max: usize,
    },
    /// More values than slots were given to an encoder.
    #[error("too many values in {op}: {got} values for {slots} slots")]
    TooManyValues {
        /// The operation that failed.
        op: &'static str,
        /// Number of values given.
        got: usize,
        /// Number of slots available.
        slots: usize,
    },
    /// The ciphertext has the wrong degree for the operation (e.g. an unrelinearized product
    /// given to a rotation).
    #[error("{op} needs a ciphertext of degree at most {max}, got degree {degree}")]
    DegreeTooHigh {
        /// The operation that failed.
        op: &'static str,
        /// Degree of the operand (number of components minus one).
        degree: usize,
        /// Highest degree the operation accepts.
        max: usize,
    },
    /// A value given to bootstrapping is outside the interval it can refresh.
    #[error(
        "bootstrap input out of range: a slot holds magnitude {magnitude:.4}, the bound is {bound}"
    )]
    BootstrapInputOutOfRange {
        /// Largest real or imaginary magnitude found.
        magnitude: f64,
        /// The bound the bootstrapping configuration accepts.
        bound: f64,
    },
    /// An evaluation key needed by the operation was not generated.
    #[error("missing key for {op}: {what}")]
    MissingKey {
        /// The operation that failed.
        op: &'static str,
        /// Which key is missing (e.g. `rotation by 3 (Galois element 125)`).
        what: String,
    },
    /// An argument is invalid for a reason not covered by a more specific variant.
    #[error("invalid argument to {op}: {reason}")]
    InvalidArgument {
        /// The operation that failed.
        op: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A parameter literal exceeds the 128-bit security bound and is not marked insecure.
    #[error(
        "insecure parameters: log N = {log_n}, log QP = {log_qp:.1} exceeds the 128-bit bound {bound:?} (set insecure_for_testing to use them in tests)"
    )]
    Insecure {
        /// `log2 N`.
        log_n: u32,
        /// `log2(QP)` of the literal.
        log_qp: f64,
        /// The applicable bound, `None` if no published bound covers the combination.
        bound: Option<u32>,
    },
    /// An error from the ring layer.
    #[error("ring arithmetic: {0}")]
    Math(#[from] hetal_math::Error),
    /// Serialized data is malformed, truncated, foreign or too large.
    #[error("deserialization of {what} failed: {reason}")]
    Deserialize {
        /// What was being loaded.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}

/// Result alias for hetal-ckks.
pub type Result<T, E = Error> = std::result::Result<T, E>;
