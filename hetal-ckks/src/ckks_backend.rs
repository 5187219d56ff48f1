//! The real CKKS backend: a server-side [`CkksBackend`] holding only public evaluation keys,
//! and a client-side [`CkksClient`] holding the secret key.
//!
//! [`CkksBackend`] implements [`SlotBackend`]; [`CkksClient`] implements [`SlotBackend`] and
//! [`SlotClient`]. The server type has no secret key and no way to obtain one: it cannot
//! decrypt. The client generates exactly the evaluation keys a circuit declares
//! ([`KeyRequest`]) and hands the server a [`CkksBackend`] built from them. The checks mirror
//! [`crate::backend::PlainBackend`] (same levels for plaintext operations, canonical scale for
//! `drop_to_level`), so a circuit behaves identically on both.
//!
//! Bootstrapping is not implemented: [`CkksBackend`] does not implement
//! [`crate::backend::Bootstrap`].
//!
//! ```
//! use hetal_ckks::backend::{SlotBackend, SlotClient};
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
//! let ct = client.encrypt(&x, server.max_level()).unwrap();
//! let y = server.rotate(&server.mul_relin_rescale(&ct, &ct).unwrap(), 1).unwrap();
//! assert_eq!(server.level(&y), server.max_level() - 1);
//! assert!((client.decrypt(&y).unwrap()[0] - x[1] * x[1]).norm() < 1e-4);
//! ```

use std::sync::{Arc, Mutex};

use num_complex::Complex64;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, SeedableRng};

use crate::backend::{Bootstrap, SlotBackend, SlotClient, Weight, scales_match};
use crate::bootstrap::{BootstrapContext, Bootstrapper, BootstrappingKeys};
use crate::ciphertext::Ciphertext;
use crate::encryption::{Decryptor, Encryptor};
use crate::error::{Error, Result};
use crate::evaluator::Evaluator;
use crate::keys::{PublicKey, SecretKey};
use crate::params::Parameters;
use crate::plaintext::Plaintext;

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
///
/// With [`CkksBackend::with_bootstrapping`] it also holds a [`Bootstrapper`] and the
/// bootstrapping keys, and implements [`Bootstrap`].
#[derive(Clone, Debug)]
pub struct CkksBackend {
    eval: Evaluator,
    boot: Option<Arc<BootstrapContext>>,
}

impl CkksBackend {
    /// Wraps an evaluator (with the evaluation keys it needs).
    pub fn new(eval: Evaluator) -> Self {
        Self { eval, boot: None }
    }

    /// Adds bootstrapping: the precomputed circuit and the keys the client generated for it
    /// ([`CkksClient::bootstrapping_keys`] or [`BootstrappingKeys::generate`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the bootstrapper or the keys belong to other parameters;
    /// [`Error::MissingKey`] if a needed Galois key is absent.
    pub fn with_bootstrapping(
        mut self,
        bootstrapper: Arc<Bootstrapper>,
        keys: BootstrappingKeys,
    ) -> Result<Self> {
        if bootstrapper.params() != self.params() {
            return Err(Error::InvalidArgument {
                op: "CkksBackend::with_bootstrapping",
                reason: "the bootstrapper belongs to other parameters".into(),
            });
        }
        self.boot = Some(Arc::new(BootstrapContext::new(bootstrapper, keys)?));
        Ok(self)
    }

    /// The bootstrapping context, if any.
    pub fn bootstrap_context(&self) -> Option<&BootstrapContext> {
        self.boot.as_deref()
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

    /// Generates the bootstrapping keys for `bootstrapper` (relinearization and exactly the
    /// Galois keys it needs), to send to the server.
    ///
    /// # Errors
    /// As [`BootstrappingKeys::generate`].
    pub fn bootstrapping_keys(&self, bootstrapper: &Bootstrapper) -> Result<BootstrappingKeys> {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        BootstrappingKeys::generate(&self.sk, bootstrapper, &mut *rng)
    }

    /// Generates bootstrapping keys and attaches them (with `bootstrapper`) to this client's
    /// backend, so that [`CkksClient::server_backend`] can bootstrap.
    ///
    /// # Errors
    /// As [`CkksClient::bootstrapping_keys`] and [`CkksBackend::with_bootstrapping`].
    pub fn with_bootstrapping(mut self, bootstrapper: Arc<Bootstrapper>) -> Result<Self> {
        let keys = self.bootstrapping_keys(&bootstrapper)?;
        self.backend = self.backend.with_bootstrapping(bootstrapper, keys)?;
        Ok(self)
    }

    /// The evaluator holding the bootstrapping keys (tests of the individual phases).
    #[cfg(test)]
    pub(crate) fn bootstrap_context_eval(&self) -> &Evaluator {
        self.backend
            .bootstrap_context()
            .expect("bootstrapping attached")
            .evaluator()
    }

    /// The encapsulation keys of the bootstrapping context (tests of the individual phases).
    #[cfg(test)]
    pub(crate) fn bootstrap_context_encapsulation(
        &self,
    ) -> Option<&crate::bootstrap::encapsulation::EncapsulationKeys> {
        self.backend
            .bootstrap_context()
            .expect("bootstrapping attached")
            .encapsulation_keys()
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

pub(crate) fn same_level(op: &'static str, ct: &Ciphertext, pt: &Plaintext) -> Result<()> {
    if ct.level() != pt.level() {
        return Err(Error::LevelMismatch {
            op,
            left: ct.level(),
            right: pt.level(),
        });
    }
    Ok(())
}

/// The seam's `drop_to_level` for a backend whose level-`l` ciphertexts have the scale
/// `scale_at(l)` (the canonical chain for [`CkksBackend`], bootstrapping's own tables for its
/// view): the input must sit at its level's scale, the output lands on the target level's.
pub(crate) fn drop_to_level_with_scales(
    eval: &Evaluator,
    a: &Ciphertext,
    level: usize,
    scale_at: impl Fn(usize) -> f64,
) -> Result<Ciphertext> {
    const OP: &str = "drop_to_level";
    if level > a.level() {
        return Err(Error::InvalidArgument {
            op: OP,
            reason: format!(
                "target level {level} is above the ciphertext's level {}",
                a.level()
            ),
        });
    }
    let own = scale_at(a.level());
    if !scales_match(a.scale(), own) {
        return Err(Error::ScaleMismatch {
            op: OP,
            level: a.level(),
            left: a.scale(),
            right: own,
        });
    }
    if level == a.level() {
        return Ok(a.clone());
    }
    eval.drop_to_level_at_scale(a, level, scale_at(level))
}

/// The [`SlotBackend`] methods that are a direct call of the evaluator (with the plaintext
/// level check), shared by [`CkksBackend`] and bootstrapping's explicit-scale view
/// ([`crate::bootstrap::view::BootView`]); both have an `eval` field holding an [`Evaluator`].
macro_rules! evaluator_slot_ops {
    () => {
        fn level(&self, ct: &Ciphertext) -> usize {
            ct.level()
        }

        fn scale(&self, ct: &Ciphertext) -> f64 {
            ct.scale()
        }

        fn degree(&self, ct: &Ciphertext) -> usize {
            ct.degree()
        }

        fn plaintext_level(&self, pt: &Plaintext) -> usize {
            pt.level()
        }

        fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
            self.eval.add(a, b)
        }

        fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
            self.eval.sub(a, b)
        }

        fn neg(&self, a: &Ciphertext) -> Result<Ciphertext> {
            self.eval.negate(a)
        }

        fn add_plain(&self, a: &Ciphertext, p: &Plaintext) -> Result<Ciphertext> {
            $crate::ckks_backend::same_level("add_plain", a, p)?;
            self.eval.add_plain(a, p)
        }

        fn sub_plain(&self, a: &Ciphertext, p: &Plaintext) -> Result<Ciphertext> {
            $crate::ckks_backend::same_level("sub_plain", a, p)?;
            self.eval.sub_plain(a, p)
        }

        fn add_const(&self, a: &Ciphertext, c: Complex64) -> Result<Ciphertext> {
            self.eval.add_const(a, c)
        }

        fn mul_plain(&self, a: &Ciphertext, p: &Plaintext) -> Result<Ciphertext> {
            $crate::ckks_backend::same_level("mul_plain", a, p)?;
            self.eval.mul_plain(a, p)
        }

        fn mul_int(&self, a: &Ciphertext, k: i64) -> Result<Ciphertext> {
            self.eval.mul_int(a, k)
        }

        fn mul_i(&self, a: &Ciphertext) -> Result<Ciphertext> {
            self.eval.mul_i(a)
        }

        fn tensor(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
            self.eval.tensor(a, b)
        }

        fn relinearize(&self, a: &Ciphertext) -> Result<Ciphertext> {
            self.eval.relinearize(a)
        }

        /// Fused tensor product and relinearization ([`Evaluator::mul_relin`]).
        fn mul_relin(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
            self.eval.mul_relin(a, b)
        }

        /// Relinearization fused with the rescale ([`Evaluator::mul_relin_rescale`]).
        fn mul_relin_rescale(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
            self.eval.mul_relin_rescale(a, b)
        }

        fn rescale(&self, a: &Ciphertext) -> Result<Ciphertext> {
            self.eval.rescale(a)
        }

        fn conjugate(&self, a: &Ciphertext) -> Result<Ciphertext> {
            self.eval.conjugate(a)
        }

        fn truncate_to_level(&self, a: &Ciphertext, level: usize) -> Result<Ciphertext> {
            self.eval.drop_to_level(a, level)
        }

        fn modulus_at(&self, level: usize) -> f64 {
            self.eval.params().q_primes()[level] as f64
        }

        fn linear_combination(
            &self,
            terms: &[(&Ciphertext, $crate::backend::Weight<'_>)],
            level: usize,
            scale: f64,
        ) -> Result<Ciphertext> {
            $crate::ckks_backend::linear_combination_with(self, &self.eval, terms, level, scale)
        }
    };
}

/// The CKKS [`SlotBackend::linear_combination`]: the constant terms multiplied by integers and
/// summed in one pass ([`Evaluator::linear_combination`]), the slot-vector terms encoded at
/// their scale (`encode_at_scale` of the backend: the canonical or bootstrapping view) and
/// multiplied, one rescale, the scale set exactly.
pub(crate) fn linear_combination_with<B: SlotBackend<Ct = Ciphertext, Pt = Plaintext> + ?Sized>(
    backend: &B,
    eval: &Evaluator,
    terms: &[(&Ciphertext, Weight<'_>)],
    level: usize,
    scale: f64,
) -> Result<Ciphertext> {
    crate::backend::check_linear_combination(backend, terms, level)?;
    let pre = level + 1;
    let target = scale * eval.params().q_primes()[pre] as f64;
    let consts: Vec<(&Ciphertext, Complex64)> = terms
        .iter()
        .filter_map(|(x, w)| match w {
            Weight::Const(c) => Some((*x, *c)),
            Weight::Slots(_) => None,
        })
        .collect();
    let mut acc = if consts.is_empty() {
        None
    } else {
        Some(eval.linear_combination(&consts, pre, target)?)
    };
    for (x, w) in terms {
        let Weight::Slots(v) = w else { continue };
        let x = eval.drop_to_level(x, pre)?;
        let pt = backend.encode_at_scale(v, pre, target / x.scale())?;
        let mut product = eval.mul_plain(&x, &pt)?;
        product.set_scale(target);
        acc = Some(match acc {
            None => product,
            Some(a) => eval.add(&a, &product)?,
        });
    }
    let mut out = eval.rescale(&acc.expect("terms checked non-empty"))?;
    out.set_scale(scale);
    Ok(out)
}
pub(crate) use evaluator_slot_ops;

impl SlotBackend for CkksBackend {
    type Ct = Ciphertext;
    type Pt = Plaintext;

    evaluator_slot_ops!();

    fn slots(&self) -> usize {
        self.params().slots()
    }

    fn max_level(&self) -> usize {
        // The user-visible top: for bootstrapping parameters the levels above the residual chain
        // belong to bootstrapping (see `Parameters::residual_level`).
        self.params().residual_level()
    }

    fn scale_at(&self, level: usize) -> f64 {
        self.params().scale_at(level)
    }

    fn encode_at_scale(&self, values: &[Complex64], level: usize, scale: f64) -> Result<Plaintext> {
        self.params().encode(values, level, scale)
    }

    fn mul_const(&self, a: &Ciphertext, c: Complex64) -> Result<Ciphertext> {
        self.eval.mul_const(a, c)
    }

    fn drop_to_level(&self, a: &Ciphertext, level: usize) -> Result<Ciphertext> {
        drop_to_level_with_scales(&self.eval, a, level, |l| self.params().scale_at(l))
    }

    fn rotate(&self, a: &Ciphertext, steps: i32) -> Result<Ciphertext> {
        self.eval.rotate(a, steps as i64)
    }

    fn rotate_hoisted(&self, a: &Ciphertext, steps: &[i32]) -> Result<Vec<Ciphertext>> {
        let steps: Vec<i64> = steps.iter().map(|&k| k as i64).collect();
        self.eval.rotate_hoisted(a, &steps)
    }

    fn rotation_sums(
        &self,
        a: &Ciphertext,
        groups: &[Vec<(i32, &Plaintext)>],
    ) -> Result<Vec<Ciphertext>> {
        let params = self.params();
        self.eval.automorphism_sums(
            a,
            &galois_groups(groups, |k| params.galois_element(k as i64)),
        )
    }
}

/// Rotation steps to Galois elements, group by group (for `Evaluator::automorphism_sums`).
pub(crate) fn galois_groups<'p>(
    groups: &[Vec<(i32, &'p Plaintext)>],
    element: impl Fn(i32) -> usize,
) -> Vec<Vec<(usize, &'p Plaintext)>> {
    groups
        .iter()
        .map(|g| g.iter().map(|&(k, p)| (element(k), p)).collect())
        .collect()
}

/// Delegates every [`SlotBackend`] method of the client to its [`CkksBackend`].
macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&self, $($arg: $ty),*) -> $ret { self.backend.$name($($arg),*) })*
    };
}

impl SlotBackend for CkksClient {
    type Ct = Ciphertext;
    type Pt = Plaintext;

    delegate! {
        slots() -> usize;
        max_level() -> usize;
        scale_at(level: usize) -> f64;
        level(ct: &Ciphertext) -> usize;
        scale(ct: &Ciphertext) -> f64;
        degree(ct: &Ciphertext) -> usize;
        plaintext_level(pt: &Plaintext) -> usize;
        encode_at_scale(values: &[Complex64], level: usize, scale: f64) -> Result<Plaintext>;
        add(a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext>;
        sub(a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext>;
        neg(a: &Ciphertext) -> Result<Ciphertext>;
        add_plain(a: &Ciphertext, p: &Plaintext) -> Result<Ciphertext>;
        sub_plain(a: &Ciphertext, p: &Plaintext) -> Result<Ciphertext>;
        add_const(a: &Ciphertext, c: Complex64) -> Result<Ciphertext>;
        mul_plain(a: &Ciphertext, p: &Plaintext) -> Result<Ciphertext>;
        mul_const(a: &Ciphertext, c: Complex64) -> Result<Ciphertext>;
        mul_int(a: &Ciphertext, k: i64) -> Result<Ciphertext>;
        mul_i(a: &Ciphertext) -> Result<Ciphertext>;
        tensor(a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext>;
        relinearize(a: &Ciphertext) -> Result<Ciphertext>;
        mul_relin(a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext>;
        mul_relin_rescale(a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext>;
        rescale(a: &Ciphertext) -> Result<Ciphertext>;
        drop_to_level(a: &Ciphertext, level: usize) -> Result<Ciphertext>;
        rotate(a: &Ciphertext, steps: i32) -> Result<Ciphertext>;
        conjugate(a: &Ciphertext) -> Result<Ciphertext>;
        rotate_hoisted(a: &Ciphertext, steps: &[i32]) -> Result<Vec<Ciphertext>>;
        rotation_sums(a: &Ciphertext, groups: &[Vec<(i32, &Plaintext)>]) -> Result<Vec<Ciphertext>>;
        truncate_to_level(a: &Ciphertext, level: usize) -> Result<Ciphertext>;
        modulus_at(level: usize) -> f64;
        linear_combination(terms: &[(&Ciphertext, Weight<'_>)], level: usize, scale: f64) -> Result<Ciphertext>;
    }
}

impl Bootstrap for CkksBackend {
    fn bootstrap_level(&self) -> usize {
        self.boot
            .as_ref()
            .map_or(self.params().residual_level(), |b| {
                b.bootstrapper().output_level()
            })
    }

    fn bootstrap_bound(&self) -> f64 {
        self.boot.as_ref().map_or(1.0, |b| b.bootstrapper().bound())
    }

    fn bootstrap(&self, a: &Ciphertext) -> Result<Ciphertext> {
        match &self.boot {
            Some(b) => b.bootstrap(a),
            None => Err(Error::MissingKey {
                op: "bootstrap",
                what: "bootstrapping keys (CkksBackend::with_bootstrapping)".into(),
            }),
        }
    }
}

impl Bootstrap for CkksClient {
    fn bootstrap_level(&self) -> usize {
        self.backend.bootstrap_level()
    }

    fn bootstrap_bound(&self) -> f64 {
        self.backend.bootstrap_bound()
    }

    fn bootstrap(&self, a: &Ciphertext) -> Result<Ciphertext> {
        self.backend.bootstrap(a)
    }
}

impl SlotClient for CkksClient {
    fn encrypt(&self, values: &[Complex64], level: usize) -> Result<Ciphertext> {
        self.encrypt_values(values, level)
    }

    fn decrypt(&self, a: &Ciphertext) -> Result<Vec<Complex64>> {
        self.decrypt_values(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{PlainBackend, ScaleChain};
    use crate::params::ParametersLiteral;

    /// The same small circuit on the CKKS backend and on the plaintext twin with the same
    /// scale chain: same levels, same scales, values within CKKS precision.
    fn circuit<B: SlotBackend>(b: &B, x: &B::Ct, y: &B::Ct) -> Result<B::Ct> {
        let top = b.level(x);
        let p = b.encode(&vec![Complex64::new(0.5, -0.25); b.slots()], top)?;
        let xy = b.mul_relin_rescale(x, y)?;
        let xp = b.mul_plain_rescale(x, &p)?;
        let s = b.add(&xy, &xp)?;
        let s = b.add_const(&b.mul_int(&s, 3)?, Complex64::new(0.125, 0.0))?;
        let lazy = b.rescale(&b.relinearize(&b.add(&b.tensor(x, x)?, &b.tensor(y, y)?)?)?)?;
        let s = b.sub(&s, &lazy)?;
        let r = b.rotate_hoisted(&s, &[1, -2])?;
        let s = b.add(&b.add(&r[0], &r[1])?, &b.conjugate(&s)?)?;
        let s = b.mul_const_rescale(&s, Complex64::new(0.0, 1.0))?;
        let low = b.drop_to_level(&s, b.level(&s) - 2)?;
        let fresh = b.drop_to_level(x, b.level(&low))?;
        let s = b.add(&low, &fresh)?;
        // Terms of different levels and scales (one truncated off its canonical scale), a
        // complex constant and a slot vector, landing on one exact level and scale; the
        // backend's fused combination and the default one by plaintext products agree.
        let off = b.truncate_to_level(&xy, b.level(&xy) - 1)?;
        let w: Vec<Complex64> = (0..b.slots())
            .map(|i| Complex64::new(1.0 - i as f64 / 64.0, 0.5))
            .collect();
        let terms = [
            (x, Weight::Const(Complex64::new(0.75, -0.5))),
            (&off, Weight::Slots(&w)),
            (&s, Weight::Const(Complex64::new(-2.0, 0.0))),
        ];
        let level = b.level(&s) - 1;
        let fused = b.linear_combination(&terms, level, b.scale_at(level))?;
        let by_products =
            crate::backend::linear_combination_by_products(b, &terms, level, b.scale_at(level))?;
        b.add(&fused, &by_products)
    }

    #[test]
    fn matches_plain_backend() {
        let mut lit = ParametersLiteral::insecure_n12();
        lit.log_slots = Some(6);
        let params = Parameters::new(lit).unwrap();
        let request = KeyRequest {
            relinearization: true,
            rotations: vec![1, -2],
            conjugation: true,
        };
        let client =
            CkksClient::new(&params, &request, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
        let server = client.server_backend();
        let plain = PlainBackend::new(
            params.slots(),
            ScaleChain::from_moduli(params.q_primes(), params.log_scale() as f64),
        );
        let n = params.slots();
        let xv: Vec<Complex64> = (0..n)
            .map(|i| Complex64::new((i as f64 / n as f64) - 0.5, 0.1))
            .collect();
        let yv: Vec<Complex64> = xv.iter().map(|v| v * Complex64::new(0.3, 0.6)).collect();
        let top = server.max_level();
        assert_eq!(plain.max_level(), top);
        let (cx, cy) = (
            client.encrypt(&xv, top).unwrap(),
            client.encrypt(&yv, top).unwrap(),
        );
        let (px, py) = (
            plain.encrypt(&xv, top).unwrap(),
            plain.encrypt(&yv, top).unwrap(),
        );
        let c = circuit(&server, &cx, &cy).unwrap();
        let p = circuit(&plain, &px, &py).unwrap();
        assert_eq!(server.level(&c), plain.level(&p));
        assert!(scales_match(server.scale(&c), plain.scale(&p)));
        let (dc, dp) = (client.decrypt(&c).unwrap(), plain.decrypt(&p).unwrap());
        let err = dc
            .iter()
            .zip(&dp)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(-err.log2() > 18.0, "precision {:.1} bits", -err.log2());
        // Level rules are the same as the plaintext twin's.
        let pt_low = server.encode(&xv, top - 1).unwrap();
        assert!(matches!(
            server.mul_plain(&cx, &pt_low),
            Err(Error::LevelMismatch {
                op: "mul_plain",
                ..
            })
        ));
        // A term not above the target level, or no term at all, is an error.
        let one = Weight::Const(Complex64::new(1.0, 0.0));
        for b in [
            server.linear_combination(&[(&cx, one)], top, 1.0).err(),
            server.linear_combination(&[], 0, 1.0).err(),
        ] {
            assert!(matches!(
                b,
                Some(Error::LevelExhausted { .. } | Error::InvalidArgument { .. })
            ));
        }
        let pending = server.mul_relin(&cx, &cy).unwrap();
        assert!(matches!(
            server.drop_to_level(&pending, 1),
            Err(Error::ScaleMismatch { .. })
        ));
    }
}
