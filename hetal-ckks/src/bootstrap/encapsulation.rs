//! Sparse-secret encapsulation for bootstrapping (Bossuat, Troncoso-Pastoriza, Hubaux,
//! *Bootstrapping for Approximate Homomorphic Encryption with Negligible Failure-Probability by
//! Using Sparse-Secret Encapsulation*, ACNS 2022; Lattigo's `N16QP1546H192H32`).
//!
//! ModRaise reinterprets a level-0 ciphertext `(c_0, c_1)` modulo `q_0` as one modulo the
//! whole chain; decryption then gives `m + q_0 · I(X)` with `I = round((c_0 + c_1 s) / q_0)`
//! for the centered lifts of `c_0, c_1`. Each coefficient of `I` is a sum of about `h`
//! (the secret's Hamming weight) terms uniform in `(-1/2, 1/2)`, so `|I|` grows like `√h`, and
//! EvalMod must approximate `x mod 1` on `(-K, K)` with `K` above `max |I|`: a larger `K`
//! costs a higher-degree polynomial or a higher failure probability. Encapsulation keeps the
//! computation secret `s` (dense, or weight 192 for a larger modulus budget) and brings in an
//! ephemeral secret `s'` of weight 32 only around ModRaise:
//!
//! 1. at level 0, key-switch the ciphertext from `s` to `s'` ([`EncapsulationKeys::to_sparse`]);
//! 2. ModRaise: now `I` is small, as `s'` is sparse;
//! 3. at the top level, key-switch back from `s'` to `s` ([`EncapsulationKeys::to_dense`]),
//!    so the rest of the bootstrapping (rotations, relinearization) uses the keys of `s`.
//!
//! Each key is generated at the lowest level it is used at ([`SecretKey::switching_key_to`]):
//! the `s → s'` key over `q_0 · P` only, the `s' → s` key over `Q_L · P`. That keeps the first
//! key small and is also why the sparse `s'` is secure: the only RLWE samples under `s'` are
//! the `s → s'` key, modulo `q_0 · P` (the `s' → s` key is a sample under `s`). Lattigo goes
//! one step further and uses only the first `P` prime for that key (`q_0 · p_0`); here every
//! `P` prime is used, because the key-switching tables are those of the parameters. With the
//! 128-bit `N = 2^16` chains (`log(q_0 P) ≈ 365`) this is a modulus far below the dense-secret
//! bound, but we have not run the lattice estimator for weight 32 at that modulus.
//!
//! The ephemeral secret exists only inside [`EncapsulationKeys::generate`] and is zeroized when
//! it returns.
//!
//! Measured ([`mod_raise_overflow`] of one level-0 ciphertext, `max |I|` over all
//! coefficients; the tests of this module): at `N = 2^12`, dense ternary `s` (weight 2729): 59,
//! weight 192: 14, weight 32: 6; at `N = 2^16` (`n16_qp1325`), dense: 252, weight 192: 18,
//! weight 32: 7.
//!
//! Noise: each switch adds the ModDown rounding `r_0 + r_1 · s_target` (`|r_i| <= 1/2`), like
//! any key switch: negligible towards the weight-32 `s'`, about `0.3 · √(2N/3)` per coefficient
//! towards a dense `s`. With the message at `Δ_0 ≈ 2^40`, the round trip `s → s' → s` at level 0
//! keeps 28.0 bits at `N = 2^12` (fresh: 30.9) and 23.7 bits at `N = 2^16` (fresh: 28.7);
//! bootstrapping first scales the level-0 message up towards `q_0`, where this error is far
//! below its precision. Key sizes (seed-compressed): `insecure_n12`: `to_sparse` 131 108 bytes,
//! `to_dense` 1 179 748; `n16_qp1325`: 3 145 764 (3 MiB) and 78 643 364 (75 MiB).
//!
//! ```
//! use hetal_ckks::bootstrap::encapsulation::{EncapsulationKeys, DEFAULT_EPHEMERAL_WEIGHT};
//! use hetal_ckks::prelude::*;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
//! let mut rng = ChaCha20Rng::seed_from_u64(1);
//! let sk = SecretKey::generate(&params, &mut rng).unwrap();
//! let keys = EncapsulationKeys::generate(&sk, DEFAULT_EPHEMERAL_WEIGHT, &mut rng).unwrap();
//! let eval = Evaluator::new(&params);
//! let pt = params.encode_real(&[0.25, -0.5], 0, params.scale_at(0)).unwrap();
//! let ct = Decryptor::new(&sk).encrypt_symmetric(&pt, &mut rng).unwrap();
//! let sparse = keys.to_sparse(&eval, &ct).unwrap(); // now under the ephemeral secret
//! // (ModRaise would go here.)
//! let back = keys.to_dense(&eval, &sparse).unwrap();
//! let out = Decryptor::new(&sk).decrypt_decode(&back).unwrap();
//! assert!((out[0].re - 0.25).abs() < 1e-3 && (out[1].re + 0.5).abs() < 1e-3);
//! let bytes = keys.to_bytes();
//! assert_eq!(EncapsulationKeys::from_bytes(&params, &bytes).unwrap(), keys);
//! ```

use hetal_math::Poly;
use rand_core::CryptoRng;
use serde::Serialize;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::evaluator::Evaluator;
use crate::keys::{KeyStorage, SecretKey, SwitchingKey};
use crate::params::Parameters;
use crate::plaintext::crt_centered_f64;
use crate::serialization::{ObjectKind, leveled_keys_from_bytes, leveled_keys_to_bytes};

/// The Hamming weight of the ephemeral secret in Bossuat et al. (ACNS 2022) and Lattigo's
/// `H32` presets.
pub const DEFAULT_EPHEMERAL_WEIGHT: usize = 32;

/// The two switching keys of sparse-secret encapsulation: from the computation secret `s` to an
/// ephemeral sparse secret `s'` at level 0, and back at the top level.
#[derive(Clone, Debug, PartialEq)]
pub struct EncapsulationKeys {
    params: Parameters,
    ephemeral_weight: usize,
    /// `s → s'`, over `q_0 · P`.
    to_sparse: SwitchingKey,
    /// `s' → s`, over `Q_L · P`.
    to_dense: SwitchingKey,
}

impl EncapsulationKeys {
    /// Samples an ephemeral secret of Hamming weight `ephemeral_weight` and generates both keys;
    /// the ephemeral secret is zeroized before returning.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a weight outside `1..=N`; [`Error::Math`] on sampling
    /// failure.
    pub fn generate(
        sk: &SecretKey,
        ephemeral_weight: usize,
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        let ephemeral =
            SecretKey::generate_with_hamming_weight(sk.params(), ephemeral_weight, rng)?;
        // `ephemeral` is dropped (and zeroized, see `SecretKey`'s `Drop`) at the end of this
        // call, whatever the outcome.
        Self::from_secrets(sk, &ephemeral, rng)
    }

    /// Both keys for a given ephemeral secret (tests keep the secret to look inside).
    fn from_secrets(
        sk: &SecretKey,
        ephemeral: &SecretKey,
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        let params = sk.params();
        let to_sparse = sk.switching_key_to(ephemeral, 0, rng)?;
        let to_dense = ephemeral.switching_key_to(sk, params.max_level(), rng)?;
        Ok(Self {
            params: params.clone(),
            ephemeral_weight: ephemeral.hamming_weight(),
            to_sparse,
            to_dense,
        })
    }

    /// The parameters the keys belong to.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// Keeps both keys' uniform halves expanded or regenerates them at use ([`KeyStorage`]).
    pub fn set_key_storage(&mut self, storage: KeyStorage) {
        for key in [&mut self.to_sparse, &mut self.to_dense] {
            key.set_storage(&self.params, storage)
                .expect("the keys were made for their own parameters");
        }
    }

    /// The Hamming weight of the ephemeral secret (it bounds the ModRaise overflow `I`, so
    /// EvalMod's interval depends on it).
    pub fn ephemeral_weight(&self) -> usize {
        self.ephemeral_weight
    }

    /// The `s → s'` key (level 0).
    pub fn to_sparse_key(&self) -> &SwitchingKey {
        &self.to_sparse
    }

    /// The `s' → s` key (top level).
    pub fn to_dense_key(&self) -> &SwitchingKey {
        &self.to_dense
    }

    fn check_eval(&self, op: &'static str, eval: &Evaluator) -> Result<()> {
        if eval.params() != &self.params {
            return Err(Error::InvalidArgument {
                op,
                reason: "the evaluator and the encapsulation keys have different parameters".into(),
            });
        }
        Ok(())
    }

    /// Switches a level-0 ciphertext under `s` to the ephemeral sparse secret, right before
    /// ModRaise.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] above level 0 (the key exists only over `q_0 · P`) or for
    /// other parameters; [`Error::DegreeTooHigh`] for degree 2.
    pub fn to_sparse(&self, eval: &Evaluator, ct: &Ciphertext) -> Result<Ciphertext> {
        self.check_eval("EncapsulationKeys::to_sparse", eval)?;
        eval.switch_key(ct, &self.to_sparse)
    }

    /// Switches a ciphertext under the ephemeral secret back to `s`, right after ModRaise (at
    /// the top level; any lower level works as well).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for other parameters; [`Error::DegreeTooHigh`] for degree 2.
    pub fn to_dense(&self, eval: &Evaluator, ct: &Ciphertext) -> Result<Ciphertext> {
        self.check_eval("EncapsulationKeys::to_dense", eval)?;
        eval.switch_key(ct, &self.to_dense)
    }

    /// Size in bytes of [`EncapsulationKeys::to_bytes`].
    pub fn serialized_bytes(&self) -> usize {
        crate::serialization::HEADER_LEN
            + 8
            + 8
            + self.to_sparse.compressed_bytes()
            + self.to_dense.compressed_bytes()
    }

    /// Serializes (seed-compressed) in the format of [`crate::serialization`], object kind 5:
    /// the ephemeral weight, then each key with its level.
    pub fn to_bytes(&self) -> Vec<u8> {
        leveled_keys_to_bytes(
            ObjectKind::EncapsulationKeys,
            &self.params,
            &[self.ephemeral_weight as u32],
            &[
                (0, &self.to_sparse),
                (self.params.max_level(), &self.to_dense),
            ],
        )
    }

    /// Loads and validates encapsulation keys: header (magic, version, kind, parameter
    /// fingerprint, exact length), an ephemeral weight in `1..=N`, exactly two keys at levels
    /// 0 and the top level with the digit counts of those levels, every residue below its
    /// prime. The keys load [`KeyStorage::Seeded`], as serialized.
    ///
    /// # Errors
    /// [`Error::Deserialize`] for truncated, corrupted or foreign data.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        let err = |reason: String| Error::Deserialize {
            what: "encapsulation keys",
            reason,
        };
        let (prefix, mut keys) =
            leveled_keys_from_bytes(ObjectKind::EncapsulationKeys, params, bytes, 1)?;
        let weight = prefix[0] as usize;
        if weight == 0 || weight > params.n() {
            return Err(err(format!(
                "ephemeral weight {weight} not in 1..={}",
                params.n()
            )));
        }
        let levels: Vec<usize> = keys.iter().map(|(l, _)| *l).collect();
        if levels != [0, params.max_level()] {
            return Err(err(format!(
                "key levels {levels:?}, expected [0, {}]",
                params.max_level()
            )));
        }
        let (_, to_dense) = keys.pop().expect("two keys");
        let (_, to_sparse) = keys.pop().expect("two keys");
        Ok(Self {
            params: params.clone(),
            ephemeral_weight: weight,
            to_sparse,
            to_dense,
        })
    }
}

impl Serialize for EncapsulationKeys {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.to_bytes())
    }
}

/// The ModRaise overflow of a level-0 ciphertext `(c_0, c_1)` under `sk`: the integer
/// polynomial `I = round((c_0 + c_1 s) / q_0)`, with `c_0, c_1` lifted to their centered
/// representatives modulo `q_0` (as ModRaise lifts them), so that after ModRaise the
/// ciphertext decrypts to `m + q_0 · I`. `max |I|` is what EvalMod's interval must cover.
///
/// A diagnostic that needs the secret key (tests, parameter studies). The product `c_1 s` is
/// computed exactly over `Q_L · P`, which must exceed `(N + 1) · q_0` by a margin.
///
/// ```
/// use hetal_ckks::bootstrap::encapsulation::mod_raise_overflow;
/// use hetal_ckks::prelude::*;
/// use rand_chacha::ChaCha20Rng;
/// use rand_core::SeedableRng;
/// let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
/// let mut rng = ChaCha20Rng::seed_from_u64(2);
/// let sk = SecretKey::generate_with_hamming_weight(&params, 32, &mut rng).unwrap();
/// let pt = params.encode_real(&[0.5], 0, params.scale_at(0)).unwrap();
/// let ct = Decryptor::new(&sk).encrypt_symmetric(&pt, &mut rng).unwrap();
/// let i = mod_raise_overflow(&ct, &sk).unwrap();
/// // Each coefficient sums 33 terms in (-1/2, 1/2].
/// assert!(i.iter().all(|x| x.abs() <= 17));
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] unless the ciphertext is at level 0 and belongs to the key's
/// parameters, or if `Q_L · P` is too small; [`Error::DegreeTooHigh`] for degree 2.
pub fn mod_raise_overflow(ct: &Ciphertext, sk: &SecretKey) -> Result<Vec<i64>> {
    const OP: &str = "mod_raise_overflow";
    let params = sk.params();
    let centered = super::modraise::centered_level0(params, ct, OP)?;
    let q0 = params.q_primes()[0];
    let top = params.qp_context(params.max_level())?;
    // |c_0 + c_1 s| <= (h + 1) q_0 / 2 <= (N + 1) q_0 / 2: enough leading primes of Q_L · P
    // for an exact centered CRT, with two bits to spare.
    let need = (q0 as f64).log2() + ((params.n() + 1) as f64).log2() + 2.0;
    let mut bits = 0.0;
    let mut k = 0;
    for m in top.moduli() {
        if bits >= need {
            break;
        }
        bits += (m.value() as f64).log2();
        k += 1;
    }
    if bits < need {
        return Err(Error::InvalidArgument {
            op: OP,
            reason: format!(
                "Q_L · P has {bits:.0} bits, {need:.0} are needed for an exact c_1 · s"
            ),
        });
    }
    let mut v = Poly::from_i64(&top, &centered[1])?.par_to_ntt();
    v.mul_assign(sk.ntt_top())?;
    v.add_assign(&Poly::from_i64(&top, &centered[0])?.par_to_ntt())?;
    // The f64 values carry a relative error of 2^-53, i.e. below N · 2^-53 after the
    // division: rounding is exact while |m| is well below q_0 / 2.
    let q0f = q0 as f64;
    Ok(crt_centered_f64(&v.par_to_coeff(), k)
        .into_iter()
        .map(|x| (x / q0f).round() as i64)
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use num_complex::Complex64;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::prelude::*;
    use crate::tests::{precision_bits, values};

    struct Setup {
        params: Parameters,
        sk: SecretKey,
        ephemeral: SecretKey,
        keys: EncapsulationKeys,
        eval: Evaluator,
    }

    fn setup(lit: ParametersLiteral, seed: u64) -> Setup {
        let params = Parameters::new(lit).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let sk = SecretKey::generate(&params, &mut rng).unwrap();
        let ephemeral =
            SecretKey::generate_with_hamming_weight(&params, DEFAULT_EPHEMERAL_WEIGHT, &mut rng)
                .unwrap();
        let keys = EncapsulationKeys::from_secrets(&sk, &ephemeral, &mut rng).unwrap();
        let eval = Evaluator::new(&params);
        Setup {
            params,
            sk,
            ephemeral,
            keys,
            eval,
        }
    }

    fn n12() -> &'static Setup {
        static S: OnceLock<Setup> = OnceLock::new();
        S.get_or_init(|| setup(ParametersLiteral::insecure_n12(), 0xe4ca_0012))
    }

    fn encrypt(sk: &SecretKey, v: &[Complex64], level: usize, rng: &mut ChaCha20Rng) -> Ciphertext {
        let params = sk.params();
        let pt = params.encode(v, level, params.scale_at(level)).unwrap();
        Decryptor::new(sk).encrypt_symmetric(&pt, rng).unwrap()
    }

    fn max_abs(v: &[i64]) -> i64 {
        v.iter().map(|x| x.abs()).max().unwrap()
    }

    /// ModRaise of `sparse` (`ct` switched to the ephemeral secret), switched back to `s` at
    /// the top: the worst `|x - q_0 I - m|` over the coefficients, against the `I` measured
    /// under the ephemeral secret and the message `m` of `ct` (two key switches of noise).
    fn mod_raise_deviation(
        s: &Setup,
        ct: &Ciphertext,
        sparse: &Ciphertext,
        i_sparse: &[i64],
    ) -> f64 {
        let raised = s
            .keys
            .to_dense(
                &s.eval,
                &super::super::modraise::mod_raise(&s.params, sparse).unwrap(),
            )
            .unwrap();
        let got = decrypt_coeffs(&s.sk, &raised, 3);
        let m = decrypt_coeffs(&s.sk, ct, 1);
        let q0 = s.params.q_primes()[0] as f64;
        got.iter()
            .zip(i_sparse)
            .zip(&m)
            .map(|((g, &i), m)| (g - q0 * i as f64 - m).abs())
            .fold(0.0, f64::max)
    }

    /// Centered integer coefficients (as `f64`, exact below `2^53`) of a decryption.
    fn decrypt_coeffs(sk: &SecretKey, ct: &Ciphertext, limbs: usize) -> Vec<f64> {
        let pt = Decryptor::new(sk).decrypt(ct).unwrap();
        crt_centered_f64(&pt.poly().into_owned().to_coeff(), limbs)
    }

    #[test]
    fn round_trip_sparse_and_back_at_level_0() {
        let s = n12();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let v = values(s.params.slots(), 41);
        let ct = encrypt(&s.sk, &v, 0, &mut rng);
        let fresh = precision_bits(&Decryptor::new(&s.sk).decrypt_decode(&ct).unwrap(), &v);
        let sparse = s.keys.to_sparse(&s.eval, &ct).unwrap();
        assert_eq!((sparse.level(), sparse.scale()), (0, ct.scale()));
        let mid = precision_bits(
            &Decryptor::new(&s.ephemeral)
                .decrypt_decode(&sparse)
                .unwrap(),
            &v,
        );
        let back = s.keys.to_dense(&s.eval, &sparse).unwrap();
        let end = precision_bits(&Decryptor::new(&s.sk).decrypt_decode(&back).unwrap(), &v);
        eprintln!("N=2^12 level 0: fresh {fresh:.1} bits, under s' {mid:.1}, back {end:.1}");
        // Each switch adds the ModDown rounding error `r_0 + r_1 · s_target`: small towards the
        // weight-32 `s'`, about `√N` towards the dense `s` (as for any rotation at level 0).
        assert!(
            mid > fresh - 1.5 && end > fresh - 4.0,
            "{fresh:.1}: {mid:.1} / {end:.1} bits"
        );
        assert!(end > 26.0, "{end:.1} bits");
        // Not decryptable under the computation secret in between.
        let wrong = precision_bits(&Decryptor::new(&s.sk).decrypt_decode(&sparse).unwrap(), &v);
        assert!(wrong < 0.0, "{wrong:.1} bits under the wrong key");
    }

    #[test]
    fn to_dense_at_top_and_lower_levels() {
        let s = n12();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let v = values(s.params.slots(), 42);
        for level in [s.params.max_level(), s.params.max_level() / 2, 1] {
            let ct = encrypt(&s.ephemeral, &v, level, &mut rng);
            let out = s.keys.to_dense(&s.eval, &ct).unwrap();
            assert_eq!(out.level(), level);
            let bits = precision_bits(&Decryptor::new(&s.sk).decrypt_decode(&out).unwrap(), &v);
            assert!(bits > 26.0, "level {level}: {bits:.1} bits");
        }
    }

    #[test]
    fn level_0_key_refused_above_level_0() {
        let s = n12();
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let v = values(8, 43);
        let ct = encrypt(&s.sk, &v, 1, &mut rng);
        let e = s.keys.to_sparse(&s.eval, &ct).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(
                e,
                Error::InvalidArgument {
                    op: "switch_key",
                    ..
                }
            ) && msg.contains("level 1 is above level 0"),
            "{msg}"
        );
        assert_eq!(s.keys.to_sparse_key().level(&s.params), 0);
        assert_eq!(s.keys.to_dense_key().level(&s.params), s.params.max_level());
        assert_eq!(s.keys.to_sparse_key().digits(), 1);
        assert_eq!(s.keys.to_dense_key().digits(), s.params.dnum());
        // Keys and evaluators of other parameters are refused.
        let other = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
        let e = s.keys.to_sparse(&Evaluator::new(&other), &ct).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
        let ct0 = encrypt(&s.sk, &v, 0, &mut rng);
        let other_sk = SecretKey::generate(&other, &mut rng).unwrap();
        let foreign = other_sk.switching_key_to(&other_sk, 0, &mut rng).unwrap();
        let e = s.eval.switch_key(&ct0, &foreign).unwrap_err();
        assert!(e.to_string().contains("does not belong"), "{e}");
        // A degree-2 ciphertext is refused.
        let sq = s.eval.tensor(&ct0, &ct0).unwrap();
        assert!(matches!(
            s.keys.to_sparse(&s.eval, &sq),
            Err(Error::DegreeTooHigh { .. })
        ));
    }

    /// The point of encapsulation: the ModRaise overflow is much smaller under the weight-32
    /// ephemeral secret; and ModRaise followed by `to_dense` decrypts under `s` to exactly
    /// `m + q_0 · I` for the `I` reported under `s'`.
    #[test]
    fn mod_raise_overflow_is_smaller_under_the_sparse_secret() {
        let s = n12();
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let v = values(s.params.slots(), 44);
        let ct = encrypt(&s.sk, &v, 0, &mut rng);
        let i_dense = max_abs(&mod_raise_overflow(&ct, &s.sk).unwrap());
        let sk192 = SecretKey::generate_with_hamming_weight(&s.params, 192, &mut rng).unwrap();
        let ct192 = encrypt(&sk192, &v, 0, &mut rng);
        let i_192 = max_abs(&mod_raise_overflow(&ct192, &sk192).unwrap());
        let sparse = s.keys.to_sparse(&s.eval, &ct).unwrap();
        let i_sparse = mod_raise_overflow(&sparse, &s.ephemeral).unwrap();
        let i_32 = max_abs(&i_sparse);
        eprintln!(
            "N=2^12 max|I|: dense (h={}) {i_dense}, h=192 {i_192}, h=32 {i_32}",
            s.sk.hamming_weight()
        );
        assert!(
            2 * i_32 < i_192 && 4 * i_192 < 3 * i_dense,
            "{i_32} {i_192} {i_dense}"
        );
        // √(h/12) standard deviation, max over 4096 coefficients: about 4 sigma.
        assert!((2..=12).contains(&i_32), "{i_32}");

        // ModRaise, back to s at the top level, decrypt: m + q_0 I with the I above.
        let worst = mod_raise_deviation(s, &ct, &sparse, &i_sparse);
        // Two key switches of noise against a message at Δ_0 ≈ 2^40.
        eprintln!("N=2^12 ModRaise + to_dense: worst |x - q0 I - m| = {worst}");
        assert!(worst < 2f64.powi(12), "worst deviation {worst}");
    }

    #[test]
    fn serialization_round_trip_and_rejections() {
        let s = n12();
        let bytes = s.keys.to_bytes();
        assert_eq!(bytes.len(), s.keys.serialized_bytes());
        eprintln!(
            "N=2^12 encapsulation keys: {} bytes (to_sparse {}, to_dense {})",
            bytes.len(),
            s.keys.to_sparse_key().compressed_bytes(),
            s.keys.to_dense_key().compressed_bytes()
        );
        // The level-0 key is a small fraction of the top-level one.
        assert!(
            8 * s.keys.to_sparse_key().compressed_bytes()
                < s.keys.to_dense_key().compressed_bytes()
        );
        let back = EncapsulationKeys::from_bytes(&s.params, &bytes).unwrap();
        assert_eq!(back, s.keys);
        assert_eq!(back.ephemeral_weight(), DEFAULT_EPHEMERAL_WEIGHT);
        // Serde carries the same bytes.
        let json = serde_json::to_string(&s.keys).unwrap();
        let blob: crate::serialization::Blob = serde_json::from_str(&json).unwrap();
        assert_eq!(blob.0, bytes);

        let rejected = |b: &[u8], why: &str| {
            let e = EncapsulationKeys::from_bytes(&s.params, b).unwrap_err();
            assert!(matches!(e, Error::Deserialize { .. }), "{why}: {e}");
        };
        rejected(&bytes[..bytes.len() - 1], "truncated");
        rejected(&bytes[..10], "truncated header");
        let mut padded = bytes.clone();
        padded.push(0);
        rejected(&padded, "padded");
        let corrupt = |pos: usize, val: u8| {
            let mut b = bytes.clone();
            b[pos] = val;
            b
        };
        rejected(&corrupt(0, b'X'), "magic");
        rejected(&corrupt(6, 3), "kind");
        rejected(&corrupt(9, bytes[9] ^ 1), "fingerprint");
        // Body: weight (u32), count (u32), level of the first key (u32), its digit count.
        let h = crate::serialization::HEADER_LEN;
        rejected(&corrupt(h, 0), "weight 0");
        rejected(&corrupt(h + 4, 3), "key count");
        rejected(&corrupt(h + 8, 1), "first key's level");
        rejected(&corrupt(h + 12, 2), "digit count");
        // A residue at or above its prime.
        let mut b = bytes.clone();
        b[h + 16..h + 24].copy_from_slice(&u64::MAX.to_le_bytes());
        rejected(&b, "unreduced residue");
        // Other object kinds and other parameters.
        let rlk =
            s.sk.relinearization_key(&mut ChaCha20Rng::seed_from_u64(5))
                .unwrap();
        rejected(&rlk.to_bytes(), "relinearization key");
        assert!(RelinearizationKey::from_bytes(&s.params, &bytes).is_err());
        let other = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
        assert!(EncapsulationKeys::from_bytes(&other, &bytes).is_err());
    }

    /// The 128-bit `N = 2^16` chain (`n16_qp1325`): keys, round trip at level 0, ModRaise and
    /// back at the top level, and the overflow bound of each secret distribution.
    #[test]
    fn n16_encapsulation() {
        let s = setup(ParametersLiteral::n16_qp1325(), 0xe4ca_0016);
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let (ks, kd) = (s.keys.to_sparse_key(), s.keys.to_dense_key());
        eprintln!(
            "N=2^16 key bytes: to_sparse {}, to_dense {}",
            ks.compressed_bytes(),
            kd.compressed_bytes()
        );
        assert_eq!(ks.level(&s.params), 0);
        assert_eq!(kd.level(&s.params), s.params.max_level());
        let v = values(s.params.slots(), 160);
        let ct = encrypt(&s.sk, &v, 0, &mut rng);
        let fresh = precision_bits(&Decryptor::new(&s.sk).decrypt_decode(&ct).unwrap(), &v);
        let sparse = s.keys.to_sparse(&s.eval, &ct).unwrap();
        let back = s.keys.to_dense(&s.eval, &sparse).unwrap();
        let bits = precision_bits(&Decryptor::new(&s.sk).decrypt_decode(&back).unwrap(), &v);
        let i_dense = max_abs(&mod_raise_overflow(&ct, &s.sk).unwrap());
        let i_sparse = mod_raise_overflow(&sparse, &s.ephemeral).unwrap();
        let i_32 = max_abs(&i_sparse);
        let sk192 = SecretKey::generate_with_hamming_weight(&s.params, 192, &mut rng).unwrap();
        let ct192 = encrypt(&sk192, &v, 0, &mut rng);
        let i_192 = max_abs(&mod_raise_overflow(&ct192, &sk192).unwrap());
        eprintln!(
            "N=2^16: fresh {fresh:.1} bits, round trip {bits:.1}; max|I| dense {i_dense}, \
             h=192 {i_192}, h=32 {i_32}"
        );
        // As at N = 2^12, the switch back to the dense `s` adds about `√N` of rounding error.
        assert!(
            bits > 22.0 && bits > fresh - 6.0,
            "{fresh:.1}: {bits:.1} bits"
        );
        assert!(
            2 * i_32 < i_192 && 2 * i_192 < i_dense,
            "{i_32} {i_192} {i_dense}"
        );
        let worst = mod_raise_deviation(&s, &ct, &sparse, &i_sparse);
        eprintln!("N=2^16 ModRaise + to_dense: worst |x - q0 I - m| = {worst}");
        assert!(worst < 2f64.powi(14), "worst deviation {worst}");
    }
}
