//! Encrypted matrices and HETAL's matrix products (DiagABT, DiagATB) over any CKKS slot backend.
//!
//! - [`Matrix`], [`BlockShape`], [`Tiling`], [`Layout`]: where each entry of a matrix lives in
//!   which slot of which ciphertext; [`BlockShape::select`] is HETAL's block-shape rule.
//! - [`EncryptedMatrix`]: one ciphertext per block, with shape and layout as data; encrypted and
//!   decrypted by the key holder (`SlotClient`) only.
//! - [`DiagAbtPlan`] (`A Bᵀ`) and [`DiagAtbPlan`] (`Aᵀ B`, with [`AtbVariant::PRotUp`] for an
//!   `A` below `B`'s level): plans that report, before running, their rotation steps (for key
//!   generation), their depth and their exact operation counts, cache their masks per level,
//!   and run on any [`SlotBackend`](hetal_ckks::backend::SlotBackend).
//! - [`CrockettPlan`]: the baselines of HETAL's comparison.
//!
//! ```
//! use hetal_ckks::backend::{CountingBackend, PlainBackend, ScaleChain};
//! use hetal_linalg::{BlockShape, DiagAbtPlan, EncryptedMatrix, Matrix};
//! # fn main() -> hetal_linalg::Result<()> {
//! let backend = CountingBackend::new(PlainBackend::new(256, ScaleChain::uniform(4, 40.0)));
//! let block = BlockShape::select(256, 16, 4)?; // 16 x 16
//! let plan = DiagAbtPlan::new(block, 16, 40, 4)?;
//! let x = Matrix::from_fn(16, 40, |i, j| ((i * 7 + j) % 11) as f64 / 11.0);
//! let w = Matrix::from_fn(4, 40, |i, j| ((i + j) % 5) as f64 / 5.0);
//! let ex = EncryptedMatrix::encrypt(backend.inner(), &x, plan.layout_a(), 4)?;
//! let ew = EncryptedMatrix::encrypt(backend.inner(), &w, plan.layout_b(), 4)?;
//! let logits = plan.run(&backend, &ex, &ew)?;
//! let counts = backend.counts();
//! assert_eq!(counts.rotations, plan.counts().rot);
//! assert_eq!(counts.ct_mults, plan.counts().mult);
//! let got = logits.decrypt(backend.inner())?;
//! assert!(got.max_abs_diff(&x.matmul(&w.transpose())?)? < 1e-9);
//! # Ok(())
//! # }
//! ```

mod abt;
mod atb;
mod crockett;
mod error;
mod layout;
mod matrix;
mod plan;

pub use abt::DiagAbtPlan;
pub use atb::{AtbVariant, DiagAtbPlan};
pub use crockett::{CrockettKind, CrockettPlan};
pub use error::{Error, Result};
pub use layout::{BlockShape, Layout, Matrix, Tiling, class_period};
pub use matrix::EncryptedMatrix;
pub use plan::{Depth, MatmulPlan, PlanCounts};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
