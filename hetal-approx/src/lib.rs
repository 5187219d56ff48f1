//! Polynomial approximation toolkit and HETAL's wide-range softmax, generic over a slot backend.
//!
//! - [`fit`]: Chebyshev interpolation and Remez minimax on an interval, with measured errors;
//! - [`elementary`]: Cheon–Kim–Kim composite sign and max, domain extension, exp (HETAL's and a
//!   fitted-then-squared one), Goldschmidt and Newton inverses;
//! - [`bootstrap`]: refresh a ciphertext before a stage that needs more levels than it has;
//! - [`softmax`]: the row-wise softmax of a packed block of logits, in HETAL's "normal" and
//!   "precise" variants and a lower-depth variant, with a plan that declares rotations and depth.
//!
//! Circuits are written against [`hetal_ckks::backend::SlotBackend`] and evaluate polynomials
//! through [`hetal_ckks::polyeval`].

pub mod bootstrap;
pub mod elementary;
pub mod fit;
pub mod softmax;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
