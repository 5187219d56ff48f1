//! The level budget of a bootstrapping configuration (in the spirit of OpenFHE's single
//! function that reports bootstrapping depth).
//!
//! Bootstrapping runs `ModRaise → CoeffsToSlots → EvalMod → SlotsToCoeffs` from the top of the
//! chain down: ModRaise, the sparse SubSum and the conjugate-and-add of the real/imaginary split
//! consume no level; every merged DFT level consumes one; EvalMod consumes the depth of its
//! polynomials. The polynomial depths assume a depth-optimal evaluation (baby-step giant-step in
//! the Chebyshev basis with `ceil(log2(d + 1))` levels for degree `d`, the scalings folded into
//! the coefficients), which is what the polynomial evaluator must deliver. Meta-bootstrapping
//! (Bae, Cheon, Cho, Kim, Kim, CCS 2022) adds one level after SlotsToCoeffs
//! ([`BootstrapLevels::meta`]): the product by `2^-k` that brings the second bootstrap's
//! correction back to the error's size.
//!
//! ```
//! use hetal_ckks::bootstrap::evalmod::EvalModConfig;
//! use hetal_ckks::bootstrap::levels::{BootstrapLevels, EvalModLevels};
//!
//! // Lattigo's N16QP1546H192H32: 4 + 8 + 3 levels, 24 levels above q_0, 9 left.
//! let b = BootstrapLevels {
//!     c2s: 4,
//!     evalmod: EvalModLevels::from_config(&EvalModConfig::n16qp1546h192h32()),
//!     s2c: 3,
//!     meta: 0,
//! };
//! let report = b.report(24).unwrap();
//! assert_eq!(report.consumed, 15);
//! assert_eq!(report.levels_after, 9);
//! ```

use super::evalmod::EvalModConfig;
use crate::{Error, Result};

/// `ceil(log2(d + 1))`: the multiplicative depth of a degree-`d` polynomial with
/// non-trivial coefficients (a degree-1 polynomial still needs one level for its scalar
/// product; a constant needs none).
pub fn polynomial_depth(degree: usize) -> usize {
    if degree == 0 {
        0
    } else {
        (usize::BITS - degree.leading_zeros()) as usize
    }
}

/// Levels EvalMod consumes, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalModLevels {
    /// The Chebyshev interpolant of the inner cosine.
    pub cosine: usize,
    /// The double-angle steps (one level each).
    pub double_angles: usize,
    /// The arcsine correction (0 if none).
    pub arcsine: usize,
}

impl EvalModLevels {
    /// From polynomial degrees: `ceil(log2(d + 1))` per polynomial, one level per double angle.
    pub fn new(cosine_degree: usize, double_angles: usize, arcsine_degree: usize) -> Self {
        Self {
            cosine: polynomial_depth(cosine_degree),
            double_angles,
            arcsine: polynomial_depth(arcsine_degree),
        }
    }

    /// From an EvalMod configuration.
    pub fn from_config(config: &EvalModConfig) -> Self {
        Self::new(
            config.degree,
            config.double_angles as usize,
            config.arcsine_degree,
        )
    }

    /// Total levels.
    pub fn total(&self) -> usize {
        self.cosine + self.double_angles + self.arcsine
    }
}

/// The levels of each bootstrapping step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootstrapLevels {
    /// CoeffsToSlots levels (merged DFT levels).
    pub c2s: usize,
    /// EvalMod levels.
    pub evalmod: EvalModLevels,
    /// SlotsToCoeffs levels.
    pub s2c: usize,
    /// Levels consumed after SlotsToCoeffs: 1 for meta-bootstrapping (the constant product by
    /// `2^-k` of the correction, see [`super::bootstrapper::Bootstrapper::meta_bootstrap`]), 0
    /// for a single bootstrap. These levels come out of the residual chain, not out of the
    /// bootstrapping primes.
    pub meta: usize,
}

/// Where each step starts and what is left, for a chain whose top level is `max_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelReport {
    /// Levels consumed by bootstrapping.
    pub consumed: usize,
    /// Level of the ciphertext entering CoeffsToSlots (the top, after ModRaise).
    pub c2s_start: usize,
    /// Level entering EvalMod.
    pub evalmod_start: usize,
    /// Level entering SlotsToCoeffs.
    pub s2c_start: usize,
    /// Level of a bootstrapped ciphertext: the levels the application can use.
    pub levels_after: usize,
}

impl BootstrapLevels {
    /// Total levels consumed (including [`BootstrapLevels::meta`]).
    pub fn total(&self) -> usize {
        self.circuit() + self.meta
    }

    /// Levels of the bootstrapping circuit proper (CoeffsToSlots, EvalMod, SlotsToCoeffs): the
    /// primes the chain holds above its residual top.
    pub fn circuit(&self) -> usize {
        self.c2s + self.evalmod.total() + self.s2c
    }

    /// The report for a chain with top level `max_level` (`max_level + 1` Q primes).
    ///
    /// # Errors
    /// [`Error::LevelExhausted`] if the chain is too short to bootstrap at all (the output
    /// would be below level 0); [`Error::InvalidArgument`] if a DFT has no level.
    pub fn report(&self, max_level: usize) -> Result<LevelReport> {
        if self.c2s == 0 || self.s2c == 0 {
            return Err(Error::InvalidArgument {
                op: "BootstrapLevels::report",
                reason: "CoeffsToSlots and SlotsToCoeffs need at least one level each".into(),
            });
        }
        let consumed = self.total();
        if consumed > max_level {
            return Err(Error::LevelExhausted {
                op: "bootstrap",
                level: max_level,
                needed: consumed,
            });
        }
        let evalmod_start = max_level - self.c2s;
        let s2c_start = evalmod_start - self.evalmod.total();
        Ok(LevelReport {
            consumed,
            c2s_start: max_level,
            evalmod_start,
            s2c_start,
            levels_after: s2c_start - self.s2c - self.meta,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_depths() {
        assert_eq!(polynomial_depth(0), 0);
        assert_eq!(polynomial_depth(1), 1);
        assert_eq!(polynomial_depth(3), 2);
        assert_eq!(polynomial_depth(4), 3);
        assert_eq!(polynomial_depth(7), 3);
        assert_eq!(polynomial_depth(30), 5);
        assert_eq!(polynomial_depth(31), 5);
        assert_eq!(polynomial_depth(32), 6);
        assert_eq!(polynomial_depth(63), 6);
    }

    #[test]
    fn lattigo_n16qp1546h192h32() {
        let evalmod = EvalModLevels::from_config(&EvalModConfig::n16qp1546h192h32());
        assert_eq!(
            evalmod,
            EvalModLevels {
                cosine: 5,
                double_angles: 3,
                arcsine: 0
            }
        );
        let b = BootstrapLevels {
            c2s: 4,
            evalmod,
            s2c: 3,
            meta: 0,
        };
        assert_eq!(b.total(), 15);
        let r = b.report(24).unwrap();
        assert_eq!(
            r,
            LevelReport {
                consumed: 15,
                c2s_start: 24,
                evalmod_start: 20,
                s2c_start: 12,
                levels_after: 9
            }
        );
        // Meta-bootstrapping: one residual level more.
        let meta = BootstrapLevels { meta: 1, ..b };
        assert_eq!(meta.circuit(), 15);
        let r = meta.report(24).unwrap();
        assert_eq!((r.consumed, r.s2c_start, r.levels_after), (16, 12, 8));
    }

    #[test]
    fn arcsine_and_short_chains() {
        let b = BootstrapLevels {
            c2s: 3,
            evalmod: EvalModLevels::new(30, 3, 7),
            s2c: 2,
            meta: 0,
        };
        assert_eq!(b.evalmod.total(), 11);
        assert_eq!(b.total(), 16);
        assert_eq!(b.report(16).unwrap().levels_after, 0);
        assert!(matches!(
            b.report(15),
            Err(Error::LevelExhausted { needed: 16, .. })
        ));
        // Meta-bootstrapping needs a residual level to spend.
        assert!(matches!(
            BootstrapLevels { meta: 1, ..b }.report(16),
            Err(Error::LevelExhausted { needed: 17, .. })
        ));
        let no_dft = BootstrapLevels { c2s: 0, ..b };
        assert!(no_dft.report(30).is_err());
    }
}
