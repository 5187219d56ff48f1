//! Keys: the secret key, the public key, and switching keys (relinearization, Galois).
//!
//! Switching keys use hybrid key switching (Han-Ki, CT-RSA 2020): the `Q` primes are split into
//! `dnum` digits `D_j`; the key for switching from `s'` to `s` holds, for each digit,
//! `(b_j, a_j)` over `Q_L ∪ P` with `b_j = -a_j s + e_j + P · g_j · s'`, where `g_j` is the
//! CRT idempotent of `D_j` (`1` modulo the primes of `D_j`, `0` modulo the other `Q` primes).
//! The uniform halves `a_j` are expanded from 32-byte seeds, and only the seeds are serialized.
//!
//! ```
//! use hetal_ckks::prelude::*;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
//! let mut rng = ChaCha20Rng::seed_from_u64(1);
//! let sk = SecretKey::generate(&params, &mut rng).unwrap();
//! let gk = sk.rotation_keys(&[1, -1], true, &mut rng).unwrap();
//! assert_eq!(gk.len(), 3);
//! assert!(format!("{sk:?}").contains("redacted"));
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use hetal_math::sampling::{gaussian_poly, ternary, ternary_hamming, uniform_poly_from_seed};
use hetal_math::{Context, Ntt, Poly};
use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::params::Parameters;
use crate::security::SecretDistribution;

/// Copies limbs `0..=level` and the `P` limbs of a polynomial over the top `Q_L ∪ P` context
/// into a polynomial over `Q_level ∪ P` (or over `Q_level` alone when `with_p` is false).
pub(crate) fn restrict(
    params: &Parameters,
    top: &Poly<Ntt>,
    level: usize,
    with_p: bool,
) -> Result<Poly<Ntt>> {
    let n = params.n();
    let big_l = params.max_level();
    let k = params.p_primes().len();
    let ctx = if with_p {
        params.qp_context(level)?
    } else {
        params.q_context(level)?
    };
    let mut data = Vec::with_capacity(ctx.num_limbs() * n);
    data.extend_from_slice(&top.data()[..(level + 1) * n]);
    if with_p {
        data.extend_from_slice(&top.data()[(big_l + 1) * n..(big_l + 1 + k) * n]);
    }
    Ok(Poly::from_limbs(&ctx, data)?)
}

/// The secret key: a ternary polynomial, zeroized on drop.
///
/// It has a redacted `Debug`, no `Serialize`, and is exported only through
/// [`SecretKey::export_secret_bytes`].
pub struct SecretKey {
    params: Parameters,
    coeffs: Zeroizing<Vec<i64>>,
    /// NTT form over the top context `Q_L ∪ P`.
    ntt: Poly<Ntt>,
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.ntt.zeroize();
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey { <redacted> }")
    }
}

const SK_MAGIC: &[u8; 8] = b"HCKS-SK1";

impl SecretKey {
    /// Samples a secret key with the parameters' secret distribution. The secret is drawn from
    /// its own ChaCha20 stream, seeded from `rng`.
    ///
    /// # Errors
    /// [`Error::Math`] if sampling fails (invalid Hamming weight).
    pub fn generate(params: &Parameters, rng: &mut impl CryptoRng) -> Result<Self> {
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng;
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        let mut own = ChaCha20Rng::from_seed(*seed);
        let coeffs = match params.secret_distribution() {
            SecretDistribution::UniformTernary => ternary(params.n(), &mut own),
            SecretDistribution::HammingWeight(h) => ternary_hamming(params.n(), h, &mut own)?,
        };
        Self::from_coeffs(params, coeffs)
    }

    fn from_coeffs(params: &Parameters, coeffs: Zeroizing<Vec<i64>>) -> Result<Self> {
        let ctx = params.qp_context(params.max_level())?;
        let ntt = Poly::from_i64(&ctx, &coeffs)?.to_ntt();
        Ok(Self {
            params: params.clone(),
            coeffs,
            ntt,
        })
    }

    /// The parameters the key belongs to.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// Exports the secret (explicitly; handle the bytes as secret): a magic, the parameter
    /// fingerprint, then one byte per coefficient (`0`, `1`, or `2` for `-1`).
    pub fn export_secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(16 + self.coeffs.len()));
        out.extend_from_slice(SK_MAGIC);
        out.extend_from_slice(&self.params.fingerprint().to_le_bytes());
        out.extend(self.coeffs.iter().map(|&c| match c {
            0 => 0u8,
            1 => 1,
            _ => 2,
        }));
        out
    }

    /// Imports a secret exported with [`SecretKey::export_secret_bytes`].
    ///
    /// # Errors
    /// [`Error::Deserialize`] for a wrong magic, foreign parameters, a wrong length or an
    /// invalid coefficient.
    pub fn import_secret_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        let err = |reason: &str| Error::Deserialize {
            what: "secret key",
            reason: reason.into(),
        };
        if bytes.len() != 16 + params.n() {
            return Err(err("wrong length"));
        }
        if &bytes[..8] != SK_MAGIC {
            return Err(err("bad magic"));
        }
        if bytes[8..16] != params.fingerprint().to_le_bytes() {
            return Err(err("parameter fingerprint mismatch"));
        }
        let mut coeffs = Zeroizing::new(vec![0i64; params.n()]);
        for (c, &b) in coeffs.iter_mut().zip(&bytes[16..]) {
            *c = match b {
                0 => 0,
                1 => 1,
                2 => -1,
                _ => return Err(err("coefficient outside {-1, 0, 1}")),
            };
        }
        Self::from_coeffs(params, coeffs)
    }

    /// The secret over `Q_level` (NTT form), zeroized when dropped.
    pub(crate) fn at_level(&self, level: usize) -> Result<Zeroizing<Poly<Ntt>>> {
        Ok(Zeroizing::new(restrict(
            &self.params,
            &self.ntt,
            level,
            false,
        )?))
    }

    /// Generates the public key `(b, a) = (-a s + e, a)` over `Q_L ∪ P` (encryption works
    /// over `Q_l ∪ P` and divides by `P`, so the public-key encryption noise almost vanishes),
    /// `a` expanded from a seed.
    ///
    /// # Errors
    /// [`Error::Math`] on sampling failure.
    pub fn public_key(&self, rng: &mut impl CryptoRng) -> Result<PublicKey> {
        let ctx = self.params.qp_context(self.params.max_level())?;
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let a = uniform_poly_from_seed(&ctx, seed);
        let e = gaussian_poly(&ctx, self.params.sigma(), rng)?.to_ntt();
        let mut b = a.mul(&self.ntt)?;
        b.neg_assign();
        b.add_assign(&e)?;
        Ok(PublicKey {
            params: self.params.clone(),
            b,
            a,
            seed,
        })
    }

    /// Generates a switching key from `s_from` to `s_to` (both NTT over the top `Q_L ∪ P`).
    fn switching_key(
        &self,
        s_from: &Poly<Ntt>,
        s_to: &Poly<Ntt>,
        rng: &mut impl CryptoRng,
    ) -> Result<SwitchingKey> {
        self.switching_key_at(s_from, s_to, self.params.max_level(), rng)
    }

    /// Samples a ternary secret with exactly `h` non-zero coefficients (each `±1`), whatever
    /// the parameters' own secret distribution: the ephemeral sparse secret of sparse-secret
    /// encapsulation (Bossuat, Troncoso-Pastoriza, Hubaux, ACNS 2022, Sec. 4), used only in
    /// switching keys at a low level, where a small weight is secure.
    ///
    /// ```
    /// use hetal_ckks::prelude::*;
    /// use rand_chacha::ChaCha20Rng;
    /// use rand_core::SeedableRng;
    /// let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
    /// let mut rng = ChaCha20Rng::seed_from_u64(5);
    /// let sk = SecretKey::generate_with_hamming_weight(&params, 32, &mut rng).unwrap();
    /// assert_eq!(sk.hamming_weight(), 32);
    /// assert!(SecretKey::generate_with_hamming_weight(&params, 2000, &mut rng).is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `h = 0` or `h > N`.
    pub fn generate_with_hamming_weight(
        params: &Parameters,
        h: usize,
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng;
        if h == 0 || h > params.n() {
            return Err(Error::InvalidArgument {
                op: "SecretKey::generate_with_hamming_weight",
                reason: format!("Hamming weight {h} is not in 1..={}", params.n()),
            });
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        let mut own = ChaCha20Rng::from_seed(*seed);
        Self::from_coeffs(params, ternary_hamming(params.n(), h, &mut own)?)
    }

    /// Number of non-zero coefficients of the secret.
    pub fn hamming_weight(&self) -> usize {
        self.coeffs.iter().filter(|&&c| c != 0).count()
    }

    /// The secret in NTT form over the top `Q_L ∪ P` (crate-internal, for diagnostics such as
    /// [`crate::bootstrap::encapsulation::mod_raise_overflow`]).
    pub(crate) fn ntt_top(&self) -> &Poly<Ntt> {
        &self.ntt
    }

    /// Generates a hybrid switching key from this secret to `target` over `Q_level ∪ P` only:
    /// it switches ciphertexts at any level `<= level` (its limbs above a ciphertext's level
    /// are skipped) and is refused above (see [`crate::evaluator::Evaluator::switch_key`]).
    /// Generating it at the highest level it is used at keeps it small, and for a key towards a
    /// sparse secret it is what makes that secret secure: the key is an RLWE sample under
    /// `target` modulo `Q_level · P` only (Bossuat et al., ACNS 2022, Sec. 4).
    ///
    /// ```
    /// use hetal_ckks::prelude::*;
    /// use rand_chacha::ChaCha20Rng;
    /// use rand_core::SeedableRng;
    /// let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
    /// let mut rng = ChaCha20Rng::seed_from_u64(6);
    /// let s = SecretKey::generate(&params, &mut rng).unwrap();
    /// let t = SecretKey::generate_with_hamming_weight(&params, 32, &mut rng).unwrap();
    /// let key = s.switching_key_to(&t, 0, &mut rng).unwrap();
    /// assert_eq!(key.level(&params), 0);
    /// assert_eq!(key.digits(), 1);
    /// ```
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`] above the top level; [`Error::InvalidArgument`] if `target`
    /// belongs to other parameters; [`Error::Math`] on sampling failure.
    pub fn switching_key_to(
        &self,
        target: &SecretKey,
        level: usize,
        rng: &mut impl CryptoRng,
    ) -> Result<SwitchingKey> {
        self.params
            .check_level("SecretKey::switching_key_to", level)?;
        if target.params != self.params {
            return Err(Error::InvalidArgument {
                op: "SecretKey::switching_key_to",
                reason: "the target secret belongs to other parameters".into(),
            });
        }
        let s_from = Zeroizing::new(restrict(&self.params, &self.ntt, level, true)?);
        let s_to = Zeroizing::new(restrict(&self.params, &target.ntt, level, true)?);
        self.switching_key_at(&s_from, &s_to, level, rng)
    }

    /// As `switching_key`, over `Q_level ∪ P` with the digits of `level` (`s_from` and `s_to`
    /// NTT over `Q_level ∪ P`).
    fn switching_key_at(
        &self,
        s_from: &Poly<Ntt>,
        s_to: &Poly<Ntt>,
        level: usize,
        rng: &mut impl CryptoRng,
    ) -> Result<SwitchingKey> {
        let params = &self.params;
        let ctx: Arc<Context> = params.qp_context(level)?;
        let n = params.n();
        let moduli = ctx.moduli();
        // [P]_{q_i}: the gadget of digit j is P times the CRT idempotent of D_j, which modulo
        // q_i is [P]_{q_i} on the primes of D_j and 0 elsewhere.
        let p_mod: Vec<u64> = moduli[..=level]
            .iter()
            .map(|m| {
                params
                    .p_primes()
                    .iter()
                    .fold(1u64, |acc, &p| m.mul(acc, m.reduce(p)))
            })
            .collect();
        let digits = params.digits_at(level);
        let mut b = Vec::with_capacity(digits.len());
        let mut a = Vec::with_capacity(digits.len());
        let mut seeds = Vec::with_capacity(digits.len());
        for digit in digits {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            let aj = uniform_poly_from_seed(&ctx, seed);
            let e = gaussian_poly(&ctx, params.sigma(), rng)?.to_ntt();
            let mut bj = aj.mul(s_to)?;
            bj.neg_assign();
            bj.add_assign(&e)?;
            let data = bj.data_mut();
            for i in digit {
                let m = &moduli[i];
                let (w, ws) = (p_mod[i], m.shoup(p_mod[i]));
                let src = &s_from.data()[i * n..(i + 1) * n];
                for (x, &s) in data[i * n..(i + 1) * n].iter_mut().zip(src) {
                    *x = m.add(*x, m.mul_shoup(s, w, ws));
                }
            }
            b.push(bj);
            a.push(aj);
            seeds.push(seed);
        }
        Ok(SwitchingKey {
            b,
            a: Some(a),
            seeds,
        })
    }

    /// Generates the relinearization key (switching from `s^2` to `s`).
    ///
    /// # Errors
    /// [`Error::Math`] on sampling failure.
    pub fn relinearization_key(&self, rng: &mut impl CryptoRng) -> Result<RelinearizationKey> {
        let mut s2 = self.ntt.mul(&self.ntt)?;
        let key = self.switching_key(&s2, &self.ntt, rng);
        s2.zeroize();
        Ok(RelinearizationKey {
            params: self.params.clone(),
            key: key?,
        })
    }

    /// Generates Galois keys for exactly the given Galois elements (odd, modulo `2N`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an even element; [`Error::Math`] on sampling failure.
    pub fn galois_keys(&self, elements: &[usize], rng: &mut impl CryptoRng) -> Result<GaloisKeys> {
        let two_n = 2 * self.params.n();
        let mut keys = BTreeMap::new();
        for &g in elements {
            let g = g % two_n;
            if g.is_multiple_of(2) {
                return Err(Error::InvalidArgument {
                    op: "galois_keys",
                    reason: format!("Galois element {g} is even"),
                });
            }
            if g == 1 || keys.contains_key(&g) {
                continue;
            }
            // Stored "pre-rotated": a key from s to σ_g^{-1}(s). Key switching then works on the
            // unrotated decomposition and σ_g is applied to the result, so hoisted and plain
            // rotations share one code path and the inner product reads memory contiguously.
            let g_inv = inverse_mod_2n(g, two_n);
            let mut s_to = self.ntt.automorphism(g_inv)?;
            let key = self.switching_key(&self.ntt, &s_to, rng);
            s_to.zeroize();
            keys.insert(g, key?);
        }
        Ok(GaloisKeys {
            params: self.params.clone(),
            keys,
        })
    }

    /// Galois keys for exactly the given elements generated over `Q_level ∪ P` with the digits
    /// of `level` (as [`SecretKey::switching_key_to`]): they rotate ciphertexts at any level
    /// `<= level`. Bootstrapping generates the keys used only by SlotsToCoeffs at the level it
    /// starts at, which makes each key `(digits(level)·(level + 1 + |P|)) / (dnum·(L + 1 + |P|))`
    /// of a top-level one (about a third at `N = 2^16`).
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`] above the top level; as [`SecretKey::galois_keys`].
    pub fn galois_keys_at(
        &self,
        elements: &[usize],
        level: usize,
        rng: &mut impl CryptoRng,
    ) -> Result<GaloisKeys> {
        self.params
            .check_level("SecretKey::galois_keys_at", level)?;
        let two_n = 2 * self.params.n();
        let s_from = Zeroizing::new(restrict(&self.params, &self.ntt, level, true)?);
        let mut keys = BTreeMap::new();
        for &g in elements {
            let g = g % two_n;
            if g.is_multiple_of(2) {
                return Err(Error::InvalidArgument {
                    op: "galois_keys_at",
                    reason: format!("Galois element {g} is even"),
                });
            }
            if g == 1 || keys.contains_key(&g) {
                continue;
            }
            // Pre-rotated as in `galois_keys`: from s to σ_g^{-1}(s).
            let mut rotated = self.ntt.automorphism(inverse_mod_2n(g, two_n))?;
            let s_to = restrict(&self.params, &rotated, level, true);
            rotated.zeroize();
            let s_to = Zeroizing::new(s_to?);
            let key = self.switching_key_at(&s_from, &s_to, level, rng);
            keys.insert(g, key?);
        }
        Ok(GaloisKeys {
            params: self.params.clone(),
            keys,
        })
    }

    /// Galois keys for the given slot rotations (left by `k`, negative: right) and, if
    /// `conjugation`, for complex conjugation.
    ///
    /// # Errors
    /// As [`SecretKey::galois_keys`].
    pub fn rotation_keys(
        &self,
        steps: &[i64],
        conjugation: bool,
        rng: &mut impl CryptoRng,
    ) -> Result<GaloisKeys> {
        let mut els: Vec<usize> = steps
            .iter()
            .map(|&k| self.params.galois_element(k))
            .collect();
        if conjugation {
            els.push(self.params.conjugation_element());
        }
        self.galois_keys(&els, rng)
    }
}

/// `g^{-1} mod 2N` for odd `g`.
pub(crate) fn inverse_mod_2n(g: usize, two_n: usize) -> usize {
    // The group (Z/2NZ)^* has exponent dividing N/2 = two_n/4 (for N >= 4): g^{-1} = g^{N/2 - 1}.
    let m = two_n as u64;
    let mut e = (two_n / 4).max(2) as u64 - 1;
    let (mut r, mut b) = (1u64, g as u64 % m);
    while e > 0 {
        if e & 1 == 1 {
            r = r * b % m;
        }
        b = b * b % m;
        e >>= 1;
    }
    debug_assert_eq!(r * g as u64 % m, 1);
    r as usize
}

/// The public key `(b, a) = (-a s + e, a)` over `Q_L ∪ P`.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicKey {
    pub(crate) params: Parameters,
    pub(crate) b: Poly<Ntt>,
    pub(crate) a: Poly<Ntt>,
    pub(crate) seed: [u8; 32],
}

impl PublicKey {
    /// The parameters the key belongs to.
    pub fn params(&self) -> &Parameters {
        &self.params
    }
}

/// How switching keys hold their uniform halves `a_j` in memory.
///
/// Every `a_j` is expanded from a 32-byte seed
/// ([`uniform_poly_from_seed`]: AES-128 in counter mode, one stream per limb) and is
/// public. Keeping it expanded costs as much memory as the `b_j` halves; a seeded key keeps
/// only the seeds and regenerates, during each key switch, exactly the rows that key switch
/// reads, limb by limb into a small scratch buffer. Half the key memory (about 3 GB of a
/// bootstrapping key set at `N = 2^16`) against ~8 GB/s of AES output per key switch.
///
/// ```
/// use hetal_ckks::keys::KeyStorage;
/// assert_eq!(KeyStorage::default(), KeyStorage::Expanded);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyStorage {
    /// The `a_j` polynomials are kept in memory (fastest key switching).
    #[default]
    Expanded,
    /// Only the seeds are kept; key switching regenerates the rows it needs.
    Seeded,
}

/// A hybrid key-switching key: one `(b_j, a_j)` pair over `Q_L ∪ P` per digit, the `a_j`
/// expanded from `seeds[j]` and kept in memory or not ([`KeyStorage`]).
#[derive(Clone, Debug)]
pub struct SwitchingKey {
    pub(crate) b: Vec<Poly<Ntt>>,
    /// The expanded `a_j` ([`KeyStorage::Expanded`]), or `None` ([`KeyStorage::Seeded`]).
    pub(crate) a: Option<Vec<Poly<Ntt>>>,
    pub(crate) seeds: Vec<[u8; 32]>,
}

/// Keys are equal when their `b_j` and their seeds are: the `a_j` are a function of the seeds,
/// whether expanded or not.
impl PartialEq for SwitchingKey {
    fn eq(&self, other: &Self) -> bool {
        self.b == other.b && self.seeds == other.seeds
    }
}

impl SwitchingKey {
    /// Whether the `a_j` are kept expanded or regenerated from their seeds at use.
    pub fn storage(&self) -> KeyStorage {
        if self.a.is_some() {
            KeyStorage::Expanded
        } else {
            KeyStorage::Seeded
        }
    }

    /// Switches to `storage`: drops the expanded `a_j`, or expands them again from the seeds.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the key does not belong to `params`.
    pub fn set_storage(&mut self, params: &Parameters, storage: KeyStorage) -> Result<()> {
        match (storage, self.a.is_some()) {
            (KeyStorage::Seeded, _) => self.a = None,
            (KeyStorage::Expanded, true) => {}
            (KeyStorage::Expanded, false) => {
                let limbs = self.b.first().map_or(0, |b| b.num_limbs());
                let k = params.p_primes().len();
                if limbs <= k || limbs - k - 1 > params.max_level() {
                    return Err(Error::InvalidArgument {
                        op: "SwitchingKey::set_storage",
                        reason: "the switching key does not belong to these parameters".into(),
                    });
                }
                let ctx = params.qp_context(limbs - k - 1)?;
                self.a = Some(
                    self.seeds
                        .iter()
                        .map(|&s| uniform_poly_from_seed(&ctx, s))
                        .collect(),
                );
            }
        }
        Ok(())
    }

    /// Bytes held in memory: the `b_j`, the `a_j` if expanded, and the seeds.
    pub fn memory_bytes(&self) -> usize {
        let polys = |v: &[Poly<Ntt>]| v.iter().map(|p| p.data().len() * 8).sum::<usize>();
        polys(&self.b) + self.a.as_deref().map_or(0, polys) + self.seeds.len() * 32
    }

    /// Number of digits.
    pub fn digits(&self) -> usize {
        self.b.len()
    }

    /// The highest level the key switches at: its polynomials are over `Q_level ∪ P` (the top
    /// level for relinearization and Galois keys; possibly lower for keys from
    /// [`SecretKey::switching_key_to`]).
    pub fn level(&self, params: &Parameters) -> usize {
        (self.b[0].num_limbs() - params.p_primes().len()).saturating_sub(1)
    }

    /// Size in bytes of the seed-compressed serialization (without header).
    pub fn compressed_bytes(&self) -> usize {
        self.b
            .iter()
            .map(|b| b.data().len() * 8 + 32)
            .sum::<usize>()
            + 4
    }
}

/// The relinearization key (switching from `s^2` to `s`).
#[derive(Clone, Debug, PartialEq)]
pub struct RelinearizationKey {
    pub(crate) params: Parameters,
    pub(crate) key: SwitchingKey,
}

impl RelinearizationKey {
    /// The underlying switching key.
    pub fn switching_key(&self) -> &SwitchingKey {
        &self.key
    }

    /// Keeps the key's uniform halves expanded or regenerates them at use ([`KeyStorage`]).
    pub fn set_storage(&mut self, storage: KeyStorage) {
        self.key
            .set_storage(&self.params, storage)
            .expect("the key was made for its own parameters");
    }
}

/// Galois keys for exactly the generated elements `g`. The key for `g` switches from `s` to
/// `σ_g^{-1}(s)` (equivalently: `σ_g^{-1}` of the key from `σ_g(s)` to `s`), so that a rotation is
/// `σ_g` applied after key switching the unrotated `c_1`.
#[derive(Clone, Debug, PartialEq)]
pub struct GaloisKeys {
    pub(crate) params: Parameters,
    pub(crate) keys: BTreeMap<usize, SwitchingKey>,
}

impl GaloisKeys {
    /// The key for Galois element `g`, if generated.
    pub fn get(&self, g: usize) -> Option<&SwitchingKey> {
        self.keys.get(&g)
    }

    /// Keeps every key's uniform halves expanded or regenerates them at use ([`KeyStorage`]).
    pub fn set_storage(&mut self, storage: KeyStorage) {
        for key in self.keys.values_mut() {
            key.set_storage(&self.params, storage)
                .expect("the keys were made for their own parameters");
        }
    }

    /// The Galois elements present.
    pub fn elements(&self) -> Vec<usize> {
        self.keys.keys().copied().collect()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Merges other keys into these (same parameters).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for keys of other parameters.
    pub fn extend(&mut self, other: GaloisKeys) -> Result<()> {
        if self.params != other.params {
            return Err(Error::InvalidArgument {
                op: "GaloisKeys::extend",
                reason: "keys belong to different parameters".into(),
            });
        }
        self.keys.extend(other.keys);
        Ok(())
    }
}
