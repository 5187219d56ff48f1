//! Full-RNS CKKS homomorphic encryption for hetal, and the backend seam the upper layers use.
//!
//! The [`backend`] module is the seam: circuits (matrix products, the softmax, training) are
//! written against [`backend::SlotBackend`] and run unchanged on the plaintext twin
//! [`backend::PlainBackend`], on [`backend::CountingBackend`] for cost models, and on CKKS.

pub mod backend;
mod error;
pub mod polyeval;

pub use error::{Error, Result};
