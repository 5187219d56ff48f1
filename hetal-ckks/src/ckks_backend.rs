//! The real CKKS backend: a server-side [`CkksBackend`] holding only public evaluation keys,
//! and a client-side [`CkksClient`] holding the secret key.
//!
//! The server type has no secret key and no way to obtain one: it cannot decrypt. The client
//! generates exactly the evaluation keys a circuit declares ([`KeyRequest`]) and hands the
//! server a [`CkksBackend`] built from them.
//!
//! ```
//! use hetal_ckks::ckks_backend::{CkksClient, KeyRequest};
//! use hetal_ckks::prelude::*;
//! use num_complex::Complex64;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
//! let request = KeyRequest { relinearization: true, rotations: vec![1], conjugation: false };
//! let client = CkksClient::new(&params, &request, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
//! let server = client.server_backend();
//! let x = vec![Complex64::new(0.5, 0.0); 4];
//! let ct = client.encrypt_values(&x, params.max_level()).unwrap();
//! let y = server.evaluator().rotate(&ct, 1).unwrap();
//! assert!((client.decrypt_values(&y).unwrap()[0] - x[1]).norm() < 1e-4);
//! ```

use std::sync::Mutex;

use num_complex::Complex64;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, SeedableRng};

use crate::ciphertext::Ciphertext;
use crate::encryption::{Decryptor, Encryptor};
use crate::error::Result;
use crate::evaluator::Evaluator;
use crate::keys::{PublicKey, SecretKey};
use crate::params::Parameters;

/// The evaluation keys a circuit needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyRequest {
    /// Whether ciphertext products are relinearized.
    pub relinearization: bool,
    /// Slot rotation steps (left by `k`, negative: right).
    pub rotations: Vec<i64>,
    /// Whether complex conjugation is used.
    pub conjugation: bool,
}

/// The server-side backend: an [`Evaluator`] with public evaluation keys. It cannot decrypt.
#[derive(Clone, Debug)]
pub struct CkksBackend {
    eval: Evaluator,
}

impl CkksBackend {
    /// Wraps an evaluator (with the evaluation keys it needs).
    pub fn new(eval: Evaluator) -> Self {
        Self { eval }
    }

    /// The evaluator.
    pub fn evaluator(&self) -> &Evaluator {
        &self.eval
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        self.eval.params()
    }
}

/// The client: holds the secret key, encrypts and decrypts, and derives the server backend.
pub struct CkksClient {
    backend: CkksBackend,
    sk: SecretKey,
    pk: PublicKey,
    rng: Mutex<ChaCha20Rng>,
}

impl std::fmt::Debug for CkksClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CkksClient")
            .field("params", self.backend.params())
            .field("sk", &self.sk)
            .finish_non_exhaustive()
    }
}

impl CkksClient {
    /// Generates a secret key, a public key and the requested evaluation keys. `rng` seeds
    /// the client's own ChaCha20 stream used for later encryptions.
    ///
    /// # Errors
    /// [`crate::Error::Math`] on sampling failure.
    pub fn new(
        params: &Parameters,
        request: &KeyRequest,
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        let sk = SecretKey::generate(params, rng)?;
        let pk = sk.public_key(rng)?;
        let mut eval = Evaluator::new(params);
        if request.relinearization {
            eval = eval.with_relinearization_key(sk.relinearization_key(rng)?);
        }
        if !request.rotations.is_empty() || request.conjugation {
            eval = eval.with_galois_keys(sk.rotation_keys(
                &request.rotations,
                request.conjugation,
                rng,
            )?);
        }
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Ok(Self {
            backend: CkksBackend::new(eval),
            sk,
            pk,
            rng: Mutex::new(ChaCha20Rng::from_seed(seed)),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        self.backend.params()
    }

    /// The backend to hand to the server (public evaluation keys only).
    pub fn server_backend(&self) -> CkksBackend {
        self.backend.clone()
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.pk
    }

    /// The secret key (stays on the client).
    pub fn secret_key(&self) -> &SecretKey {
        &self.sk
    }

    /// Encrypts values at `level` and its canonical scale (secret-key encryption, seeded
    /// `c_1`: half-size when serialized).
    ///
    /// # Errors
    /// As [`Parameters::encode_at`].
    pub fn encrypt_values(&self, values: &[Complex64], level: usize) -> Result<Ciphertext> {
        let pt = self.params().encode_at(values, level)?;
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        Decryptor::new(&self.sk).encrypt_symmetric(&pt, &mut *rng)
    }

    /// Encrypts with the public key.
    ///
    /// # Errors
    /// As [`Parameters::encode_at`].
    pub fn encrypt_values_public(&self, values: &[Complex64], level: usize) -> Result<Ciphertext> {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        Encryptor::new(&self.pk).encrypt_values(values, level, &mut *rng)
    }

    /// Decrypts and decodes (for the client's own use; see
    /// [`Decryptor::decrypt_decode_public`] for values that leave the client).
    ///
    /// # Errors
    /// As [`Decryptor::decrypt`].
    pub fn decrypt_values(&self, ct: &Ciphertext) -> Result<Vec<Complex64>> {
        Decryptor::new(&self.sk).decrypt_decode(ct)
    }
}
