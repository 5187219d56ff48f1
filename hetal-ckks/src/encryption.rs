//! Encryption (public key, secret key with a seeded second half), decryption, and the public
//! decode for values that leave the client.
//!
//! ```
//! use hetal_ckks::prelude::*;
//! use num_complex::Complex64;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
//! let mut rng = ChaCha20Rng::seed_from_u64(7);
//! let sk = SecretKey::generate(&params, &mut rng).unwrap();
//! let pk = sk.public_key(&mut rng).unwrap();
//! let values = vec![Complex64::new(0.25, -0.5); params.slots()];
//! let pt = params.encode_at(&values, params.max_level()).unwrap();
//! let ct = Encryptor::new(&pk).encrypt(&pt, &mut rng).unwrap();
//! let back = Decryptor::new(&sk).decrypt_decode(&ct).unwrap();
//! assert!((back[3] - values[3]).norm() < 1e-5);
//! ```

use hetal_math::sampling::{gaussian, gaussian_poly, ternary, uniform_poly_from_seed};
use hetal_math::{Ntt, Poly};
use num_complex::Complex64;
use rand_core::CryptoRng;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SecretKey, restrict};
use crate::params::Parameters;
use crate::plaintext::{Plaintext, crt_centered_f64, decode_limbs};

/// Public-key encryption.
#[derive(Clone, Debug)]
pub struct Encryptor {
    pk: PublicKey,
}

impl Encryptor {
    /// An encryptor for a public key.
    pub fn new(pk: &PublicKey) -> Self {
        Self { pk: pk.clone() }
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        &self.pk.params
    }

    /// Encrypts a plaintext at its level: `(v·b + e_0, v·a + e_1)` over `Q_l ∪ P` with a
    /// ternary `v`, divided by `P` (ModDown), plus `(m, 0)`. The division leaves only a
    /// rounding error of the size of the secret's `ℓ_1` norm instead of `v·e + e_1·s`.
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`] for a foreign plaintext; [`Error::Math`] on sampling failure.
    pub fn encrypt(&self, pt: &Plaintext, rng: &mut impl CryptoRng) -> Result<Ciphertext> {
        let params = &self.pk.params;
        params.check_level("encrypt", pt.level)?;
        let level = pt.level;
        if !pt.context().same_ring(&*params.q_context(level)?) {
            return Err(Error::InvalidArgument {
                op: "encrypt",
                reason: "plaintext does not belong to the key's parameters".into(),
            });
        }
        let qp = params.qp_context(level)?;
        let q = params.q_context(level)?;
        let v = Poly::from_i64(&qp, &ternary(params.n(), rng))?.to_ntt();
        let b = restrict(params, &self.pk.b, level, true)?;
        let a = restrict(params, &self.pk.a, level, true)?;
        let e0 = gaussian_poly(&qp, params.sigma(), rng)?.to_ntt();
        let e1 = gaussian_poly(&qp, params.sigma(), rng)?.to_ntt();
        let down = params.mod_down(level)?;
        let (c0, c1) = rayon::join(
            || -> Result<Poly<Ntt>> {
                let mut c0 = v.mul(&b)?;
                c0.add_assign(&e0)?;
                let mut c0 = down.apply(&qp, &q, c0.data())?;
                c0.add_assign(&pt.poly())?;
                Ok(c0)
            },
            || -> Result<Poly<Ntt>> {
                let mut c1 = v.mul(&a)?;
                c1.add_assign(&e1)?;
                down.apply(&qp, &q, c1.data())
            },
        );
        Ok(Ciphertext {
            c: vec![c0?, c1?],
            level,
            scale: pt.scale,
            seed: None,
        })
    }

    /// Encodes at the canonical scale of `level` and encrypts.
    ///
    /// # Errors
    /// As [`Parameters::encode_at`] and [`Encryptor::encrypt`].
    pub fn encrypt_values(
        &self,
        values: &[Complex64],
        level: usize,
        rng: &mut impl CryptoRng,
    ) -> Result<Ciphertext> {
        let pt = self.pk.params.encode_at(values, level)?;
        self.encrypt(&pt, rng)
    }
}

/// Decryption and secret-key encryption. Holds a reference to the secret key.
#[derive(Debug)]
pub struct Decryptor<'a> {
    sk: &'a SecretKey,
}

impl<'a> Decryptor<'a> {
    /// A decryptor for a secret key.
    pub fn new(sk: &'a SecretKey) -> Self {
        Self { sk }
    }

    /// Secret-key encryption `(-a s + e + m, a)`, with `a` expanded from a fresh seed (the
    /// ciphertext serializes to half the size).
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`] for a foreign plaintext; [`Error::Math`] on sampling failure.
    pub fn encrypt_symmetric(
        &self,
        pt: &Plaintext,
        rng: &mut impl CryptoRng,
    ) -> Result<Ciphertext> {
        let params = self.sk.params();
        params.check_level("encrypt_symmetric", pt.level)?;
        let ctx = params.q_context(pt.level)?;
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let a = uniform_poly_from_seed(&ctx, seed);
        let s = self.sk.at_level(pt.level)?;
        let mut c0 = a.mul(&s)?;
        c0.neg_assign();
        c0.add_assign(&gaussian_poly(&ctx, params.sigma(), rng)?.to_ntt())?;
        c0.add_assign(&pt.poly())?;
        Ok(Ciphertext {
            c: vec![c0, a],
            level: pt.level,
            scale: pt.scale,
            seed: Some(seed),
        })
    }

    /// Decrypts to a plaintext `c_0 + c_1 s (+ c_2 s^2)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a ciphertext of other parameters.
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Plaintext> {
        let params = self.sk.params();
        params.check_level("decrypt", ct.level)?;
        let ctx = params.q_context(ct.level)?;
        if ct.c.iter().any(|c| !c.context().same_ring(&ctx)) {
            return Err(Error::InvalidArgument {
                op: "decrypt",
                reason: "ciphertext does not match the key's parameters".into(),
            });
        }
        let s = self.sk.at_level(ct.level)?;
        // Horner: c_0 + s (c_1 + s c_2).
        let mut acc = ct.c[ct.c.len() - 1].clone();
        for c in ct.c[..ct.c.len() - 1].iter().rev() {
            acc.mul_assign(&s)?;
            acc.add_assign(c)?;
        }
        Ok(Plaintext::full(acc, ct.level, ct.scale))
    }

    /// Decrypts and decodes. The result carries the CKKS error: do not publish it (see
    /// [`Decryptor::decrypt_decode_public`]).
    ///
    /// # Errors
    /// As [`Decryptor::decrypt`].
    pub fn decrypt_decode(&self, ct: &Ciphertext) -> Result<Vec<Complex64>> {
        let pt = self.decrypt(ct)?;
        self.sk.params().decode(&pt)
    }

    /// Decrypts and decodes a value that will leave the client (sent back to a server,
    /// published).
    ///
    /// Approximate decryptions leak the error term, and with it the secret key, to whoever
    /// sees them together with the ciphertext (Li and Micciancio, *On the security of
    /// homomorphic encryption on approximate numbers*, EUROCRYPT 2021: IND-CPA-D). This call
    /// applies both standard mitigations:
    /// 1. **noise flooding**: a fresh rounded Gaussian with standard deviation
    ///    `2^flood_log2_sigma` is added to every decrypted coefficient before decoding. Choose it
    ///    well above the ciphertext error (e.g. 20+ bits above it; the error of a fresh
    ///    ciphertext is a few bits, after key switching ~10-20 bits);
    /// 2. **rounding**: every real and imaginary part is rounded to a multiple of
    ///    `2^-precision_bits`, discarding low-order bits that would carry the residual error.
    ///
    /// # Errors
    /// As [`Decryptor::decrypt`]; [`Error::InvalidArgument`] for a `flood_log2_sigma` outside
    /// `0..=20` (beyond the sampler's range, flood with a smaller scale instead).
    pub fn decrypt_decode_public(
        &self,
        ct: &Ciphertext,
        flood_log2_sigma: u32,
        precision_bits: u32,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Complex64>> {
        if flood_log2_sigma > 20 || precision_bits > 52 {
            return Err(Error::InvalidArgument {
                op: "decrypt_decode_public",
                reason: "flood_log2_sigma must be <= 20 and precision_bits <= 52".into(),
            });
        }
        let params = self.sk.params();
        let pt = self.decrypt(ct)?;
        let k = decode_limbs(params, pt.level, pt.scale);
        let coeff = pt.poly().prefix(k)?.to_coeff();
        let mut c = crt_centered_f64(&coeff, k);
        let sigma = 2f64.powi(flood_log2_sigma as i32);
        let noise = gaussian(params.n(), sigma, rng)?;
        for (x, e) in c.iter_mut().zip(noise.iter()) {
            *x += *e as f64;
        }
        let vals = params.encoder().decode_f64(&c, pt.scale)?;
        let grid = 2f64.powi(precision_bits as i32);
        Ok(vals
            .into_iter()
            .map(|v| Complex64::new((v.re * grid).round() / grid, (v.im * grid).round() / grid))
            .collect())
    }
}
