//! [`CountingBackend`]: counts the operations a circuit performs, for cost-model tests.

use super::{Bootstrap, Complex64, SlotBackend, SlotClient};
use crate::Result;
use std::sync::atomic::{AtomicU64, Ordering};

/// Operation counts, in the vocabulary of the HETAL paper and of a CKKS implementation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpCounts {
    /// Nonzero rotations (hoisted or not): HETAL's "Rot".
    pub rotations: u64,
    /// Conjugations.
    pub conjugations: u64,
    /// Plaintext and non-integer constant multiplications: HETAL's "CMult".
    pub plain_mults: u64,
    /// Multiplications by an integer (no level consumed).
    pub int_mults: u64,
    /// Ciphertext-ciphertext (tensor) products: HETAL's "Mult".
    pub ct_mults: u64,
    /// Relinearizations of degree-2 ciphertexts.
    pub relinearizations: u64,
    /// Rescales.
    pub rescales: u64,
    /// Key switches performed: relinearizations, rotations and conjugations.
    pub key_switches: u64,
    /// Key-switching decompositions (ModUp): one per plain key switch, one per hoisted group.
    pub decompositions: u64,
    /// Bootstraps.
    pub bootstraps: u64,
}

#[derive(Debug, Default)]
struct AtomicCounts([AtomicU64; 10]);

// Indices into `AtomicCounts`, in the field order of `OpCounts`.
const ROT: usize = 0;
const CONJ: usize = 1;
const PMUL: usize = 2;
const IMUL: usize = 3;
const CMUL: usize = 4;
const RELIN: usize = 5;
const RESCALE: usize = 6;
const KS: usize = 7;
const DECOMP: usize = 8;
const BOOT: usize = 9;

impl AtomicCounts {
    fn bump(&self, index: usize, by: u64) {
        self.0[index].fetch_add(by, Ordering::Relaxed);
    }

    fn read(&self, take: bool) -> OpCounts {
        let get = |i: usize| {
            if take {
                self.0[i].swap(0, Ordering::Relaxed)
            } else {
                self.0[i].load(Ordering::Relaxed)
            }
        };
        OpCounts {
            rotations: get(ROT),
            conjugations: get(CONJ),
            plain_mults: get(PMUL),
            int_mults: get(IMUL),
            ct_mults: get(CMUL),
            relinearizations: get(RELIN),
            rescales: get(RESCALE),
            key_switches: get(KS),
            decompositions: get(DECOMP),
            bootstraps: get(BOOT),
        }
    }
}

/// Wraps any backend and counts what passes through it. Encryption and decryption are not
/// counted (they are the client's).
///
/// ```
/// use hetal_ckks::backend::{CountingBackend, PlainBackend, ScaleChain, SlotBackend, SlotClient};
///
/// # fn main() -> hetal_ckks::Result<()> {
/// let b = CountingBackend::new(PlainBackend::new(16, ScaleChain::uniform(2, 40.0)));
/// let x = b.encrypt_real(&[1.0; 16], 2)?;
/// let s = b.rotate_and_sum(&x, 1, 16)?;
/// assert_eq!(b.counts().rotations, 4);
/// assert_eq!(b.decrypt_real(&s)?[0], 16.0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct CountingBackend<B> {
    inner: B,
    counts: AtomicCounts,
}

impl<B> CountingBackend<B> {
    /// Wraps `inner` with all counts at zero.
    pub fn new(inner: B) -> Self {
        Self {
            inner,
            counts: AtomicCounts::default(),
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> OpCounts {
        self.counts.read(false)
    }

    /// Returns the counts so far and resets them to zero.
    pub fn take_counts(&self) -> OpCounts {
        self.counts.read(true)
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &B {
        &self.inner
    }
}

impl<B: SlotBackend> SlotBackend for CountingBackend<B> {
    type Ct = B::Ct;
    type Pt = B::Pt;

    fn slots(&self) -> usize {
        self.inner.slots()
    }
    fn max_level(&self) -> usize {
        self.inner.max_level()
    }
    fn scale_at(&self, level: usize) -> f64 {
        self.inner.scale_at(level)
    }
    fn level(&self, ct: &Self::Ct) -> usize {
        self.inner.level(ct)
    }
    fn scale(&self, ct: &Self::Ct) -> f64 {
        self.inner.scale(ct)
    }
    fn degree(&self, ct: &Self::Ct) -> usize {
        self.inner.degree(ct)
    }
    fn plaintext_level(&self, pt: &Self::Pt) -> usize {
        self.inner.plaintext_level(pt)
    }
    fn encode_at_scale(&self, values: &[Complex64], level: usize, scale: f64) -> Result<Self::Pt> {
        self.inner.encode_at_scale(values, level, scale)
    }
    fn add(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct> {
        self.inner.add(a, b)
    }
    fn sub(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct> {
        self.inner.sub(a, b)
    }
    fn neg(&self, a: &Self::Ct) -> Result<Self::Ct> {
        self.inner.neg(a)
    }
    fn add_plain(&self, a: &Self::Ct, p: &Self::Pt) -> Result<Self::Ct> {
        self.inner.add_plain(a, p)
    }
    fn sub_plain(&self, a: &Self::Ct, p: &Self::Pt) -> Result<Self::Ct> {
        self.inner.sub_plain(a, p)
    }
    fn add_const(&self, a: &Self::Ct, c: Complex64) -> Result<Self::Ct> {
        self.inner.add_const(a, c)
    }
    fn mul_plain(&self, a: &Self::Ct, p: &Self::Pt) -> Result<Self::Ct> {
        let out = self.inner.mul_plain(a, p)?;
        self.counts.bump(PMUL, 1);
        Ok(out)
    }
    fn mul_const(&self, a: &Self::Ct, c: Complex64) -> Result<Self::Ct> {
        let out = self.inner.mul_const(a, c)?;
        self.counts.bump(PMUL, 1);
        Ok(out)
    }
    fn mul_int(&self, a: &Self::Ct, k: i64) -> Result<Self::Ct> {
        let out = self.inner.mul_int(a, k)?;
        self.counts.bump(IMUL, 1);
        Ok(out)
    }
    /// Counted as nothing: neither a multiplication nor a key switch.
    fn mul_i(&self, a: &Self::Ct) -> Result<Self::Ct> {
        self.inner.mul_i(a)
    }
    fn tensor(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct> {
        let out = self.inner.tensor(a, b)?;
        self.counts.bump(CMUL, 1);
        Ok(out)
    }
    fn relinearize(&self, a: &Self::Ct) -> Result<Self::Ct> {
        let out = self.inner.relinearize(a)?;
        // Relinearizing a degree-1 ciphertext is a no-op, not a key switch.
        if self.inner.degree(a) > 1 {
            self.counts.bump(RELIN, 1);
            self.counts.bump(KS, 1);
            self.counts.bump(DECOMP, 1);
        }
        Ok(out)
    }
    fn rescale(&self, a: &Self::Ct) -> Result<Self::Ct> {
        let out = self.inner.rescale(a)?;
        self.counts.bump(RESCALE, 1);
        Ok(out)
    }
    fn drop_to_level(&self, a: &Self::Ct, level: usize) -> Result<Self::Ct> {
        self.inner.drop_to_level(a, level)
    }
    fn truncate_to_level(&self, a: &Self::Ct, level: usize) -> Result<Self::Ct> {
        self.inner.truncate_to_level(a, level)
    }
    fn modulus_at(&self, level: usize) -> f64 {
        self.inner.modulus_at(level)
    }
    /// Counted as one plaintext or constant multiplication per term and one rescale.
    fn linear_combination(
        &self,
        terms: &[(&Self::Ct, super::Weight<'_>)],
        level: usize,
        scale: f64,
    ) -> Result<Self::Ct> {
        let out = self.inner.linear_combination(terms, level, scale)?;
        self.counts.bump(PMUL, terms.len() as u64);
        self.counts.bump(RESCALE, 1);
        Ok(out)
    }
    fn rotate(&self, a: &Self::Ct, steps: i32) -> Result<Self::Ct> {
        let out = self.inner.rotate(a, steps)?;
        if (steps as i64).rem_euclid(self.slots() as i64) != 0 {
            self.counts.bump(ROT, 1);
            self.counts.bump(KS, 1);
            self.counts.bump(DECOMP, 1);
        }
        Ok(out)
    }
    fn rotate_hoisted(&self, a: &Self::Ct, steps: &[i32]) -> Result<Vec<Self::Ct>> {
        let out = self.inner.rotate_hoisted(a, steps)?;
        let n = self.slots() as i64;
        let nonzero = steps
            .iter()
            .filter(|&&k| (k as i64).rem_euclid(n) != 0)
            .count() as u64;
        if nonzero > 0 {
            self.counts.bump(ROT, nonzero);
            self.counts.bump(KS, nonzero);
            self.counts.bump(DECOMP, 1);
        }
        Ok(out)
    }
    fn conjugate(&self, a: &Self::Ct) -> Result<Self::Ct> {
        let out = self.inner.conjugate(a)?;
        self.counts.bump(CONJ, 1);
        self.counts.bump(KS, 1);
        self.counts.bump(DECOMP, 1);
        Ok(out)
    }
}

impl<B: Bootstrap> Bootstrap for CountingBackend<B> {
    fn bootstrap_level(&self) -> usize {
        self.inner.bootstrap_level()
    }
    fn bootstrap_bound(&self) -> f64 {
        self.inner.bootstrap_bound()
    }
    fn bootstrap(&self, a: &Self::Ct) -> Result<Self::Ct> {
        let out = self.inner.bootstrap(a)?;
        self.counts.bump(BOOT, 1);
        Ok(out)
    }
}

impl<B: SlotClient> SlotClient for CountingBackend<B> {
    fn encrypt(&self, values: &[Complex64], level: usize) -> Result<Self::Ct> {
        self.inner.encrypt(values, level)
    }
    fn decrypt(&self, a: &Self::Ct) -> Result<Vec<Complex64>> {
        self.inner.decrypt(a)
    }
}
