//! Full-RNS CKKS homomorphic encryption for hetal, and the backend seam the upper layers use.
//!
//! The [`backend`] module is the seam: circuits (matrix products, the softmax, training) are
//! written against [`backend::SlotBackend`] and run unchanged on the plaintext twin
//! [`backend::PlainBackend`], on [`backend::CountingBackend`] for cost models, and on CKKS
//! ([`ckks_backend::CkksBackend`], with [`ckks_backend::CkksClient`] holding the secret key).
//!
//! The scheme:
//!
//! * [`params`]: the parameter literal, validation against the 128-bit security table
//!   ([`security`]), presets, and the canonical scale of every level;
//! * [`encoding`]: the canonical embedding (special FFT, sparse packing);
//! * [`keys`]: secret, public, relinearization and Galois keys (hybrid key switching,
//!   seed-compressed);
//! * [`encryption`]: public- and secret-key encryption, decryption, the public decode;
//! * [`evaluator`]: every homomorphic operation, hoisted rotations, lazy relinearization;
//! * [`serialization`]: a compact, versioned, validated binary format (and serde).

pub mod backend;
pub mod bootstrap;
pub mod ciphertext;
pub mod ckks_backend;
pub mod encoding;
pub mod encryption;
mod error;
pub mod evaluator;
pub mod keys;
pub mod keyswitch;
pub mod lintrans;
pub mod memory;
pub mod params;
pub mod plaintext;
pub mod polyeval;
pub mod security;
pub mod serialization;

pub use error::{Error, Result};

/// The types most programs need.
pub mod prelude {
    pub use crate::ciphertext::Ciphertext;
    pub use crate::encryption::{Decryptor, Encryptor};
    pub use crate::error::{Error, Result};
    pub use crate::evaluator::Evaluator;
    pub use crate::keys::{
        GaloisKeys, KeyStorage, PublicKey, RelinearizationKey, SecretKey, SwitchingKey,
    };
    pub use crate::params::{Moduli, Parameters, ParametersLiteral};
    pub use crate::plaintext::Plaintext;
    pub use crate::security::SecretDistribution;
}

#[cfg(test)]
mod tests;
