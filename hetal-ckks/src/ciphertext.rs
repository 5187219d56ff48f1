//! Ciphertexts.

use hetal_math::{Ntt, Poly};

/// A CKKS ciphertext `(c_0, c_1[, c_2])` over `Q_level` in NTT form, with its exact scale.
///
/// Degree 1 (two components) is the normal form; a tensor product gives degree 2 (three
/// components) until it is relinearized. A fresh secret-key encryption may keep `c_1` as a
/// 32-byte seed for compact serialization (`c_1` is still materialized in memory).
#[derive(Clone, Debug, PartialEq)]
pub struct Ciphertext {
    pub(crate) c: Vec<Poly<Ntt>>,
    pub(crate) level: usize,
    pub(crate) scale: f64,
    pub(crate) seed: Option<[u8; 32]>,
}

impl Ciphertext {
    /// The level (`level + 1` Q primes).
    pub fn level(&self) -> usize {
        self.level
    }

    /// The exact scale.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Overrides the recorded scale (for circuits that track scales themselves; the value is
    /// not changed, only its interpretation).
    pub fn set_scale(&mut self, scale: f64) {
        self.scale = scale;
    }

    /// Degree (number of components minus one): 1 normally, 2 after a tensor product.
    pub fn degree(&self) -> usize {
        self.c.len() - 1
    }

    /// The components (NTT form over `Q_level`).
    pub fn components(&self) -> &[Poly<Ntt>] {
        &self.c
    }

    /// Whether `c_1` is stored as a seed when serialized.
    pub fn is_seeded(&self) -> bool {
        self.seed.is_some()
    }
}
