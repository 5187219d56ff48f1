//! The crate's error type.

/// Everything that can go wrong in hetal-linalg: a shape or layout that does not fit, too few
/// levels, or an error of the backend underneath.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the CKKS backend (level or scale mismatch, missing key, ...).
    #[error(transparent)]
    Ckks(#[from] hetal_ckks::Error),
    /// A block shape that does not tile the slots of a ciphertext.
    #[error("invalid block shape {rows} x {cols} for {slots} slots: {reason}")]
    InvalidBlockShape {
        /// Rows of the block (`s0`).
        rows: usize,
        /// Columns of the block (`s1`).
        cols: usize,
        /// Slots of the backend.
        slots: usize,
        /// What is wrong.
        reason: String,
    },
    /// Matrix dimensions that do not fit the operation or the layout.
    #[error("shape mismatch in {op}: {reason}")]
    ShapeMismatch {
        /// The operation that failed.
        op: &'static str,
        /// What did not fit.
        reason: String,
    },
    /// An operand stored in another layout than the operation needs.
    #[error("layout mismatch in {op}: expected {expected}, got {got}")]
    LayoutMismatch {
        /// The operation that failed.
        op: &'static str,
        /// The layout the operation needs.
        expected: String,
        /// The layout the operand has.
        got: String,
    },
    /// The operands do not have enough levels left for the circuit.
    #[error(
        "not enough levels in {op}: operand {operand} is at level {level}, the circuit needs {needed}"
    )]
    InsufficientLevels {
        /// The operation that failed.
        op: &'static str,
        /// Which operand (`"A"` or `"B"`).
        operand: &'static str,
        /// The operand's level.
        level: usize,
        /// The level it needs at least.
        needed: usize,
    },
}

/// Result alias for hetal-linalg.
pub type Result<T, E = Error> = std::result::Result<T, E>;
