//! Full-RNS CKKS homomorphic encryption for hetal, and the backend seam the upper layers use.

pub mod encoding;
pub mod params;
pub mod security;
pub mod error;

pub use error::{Error, Result};
