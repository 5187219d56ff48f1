//! Bootstrapping, in progress: the parts that are linear algebra and numerical fitting.
//!
//! CKKS bootstrapping (Cheon, Han, Kim, Kim, Song 2018, with the improvements of Chen-Chillotti-
//! Song, Cheon-Han-Hhan and Bossuat et al.) is `ModRaise → CoeffsToSlots → EvalMod →
//! SlotsToCoeffs`. This module has:
//!
//! - [`dft`]: the homomorphic special FFT of the encoder (CoeffsToSlots and SlotsToCoeffs) as
//!   products of sparse butterfly matrices merged into a configurable number of levels,
//!   evaluated with [`crate::lintrans`] over any [`crate::backend::SlotBackend`];
//! - [`evalmod`]: the fit (pure `f64`) of the scaled cosine that EvalMod evaluates, with its
//!   double-angle steps and optional arcsine correction, and the achieved error against
//!   `x mod 1`;
//! - [`levels`]: the level budget of a bootstrapping configuration.
//!
//! Not here yet: ModRaise and the sparse-slot SubSum (they act on the ring, below the slot
//! seam), the key-level glue (which Galois keys, at which levels), the evaluation of EvalMod
//! (it needs the polynomial evaluator of `polyeval`), the assembled pipeline implementing
//! [`crate::backend::Bootstrap`] for CKKS, presets and benchmarks.

pub mod bootstrapper;
pub mod dft;
pub mod evalmod;
pub mod levels;
pub mod modraise;
pub mod presets;
pub mod view;

pub use bootstrapper::{BootstrapConfig, BootstrapContext, Bootstrapper, BootstrappingKeys};
pub use presets::BootstrapPreset;

#[cfg(test)]
mod tests;
