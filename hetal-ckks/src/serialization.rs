//! A compact, versioned binary format for ciphertexts and public evaluation material, with
//! validation on load, and serde support on top of it.
//!
//! Every object starts with a 24-byte header:
//!
//! | bytes  | content                                                        |
//! |--------|----------------------------------------------------------------|
//! | 0..4   | magic `HCKS`                                                    |
//! | 4..6   | format version (little endian, currently 1)                    |
//! | 6      | object kind (1 ciphertext, 2 public key, 3 relinearization key, 4 Galois keys, 5 encapsulation keys, 6 leveled keys) |
//! | 7      | reserved, 0                                                    |
//! | 8..16  | parameter fingerprint ([`Parameters::fingerprint`])            |
//! | 16..24 | body length in bytes                                           |
//!
//! followed by the body: residues as little-endian `u64` in NTT form, limb-major, and uniform
//! halves as 32-byte seeds (seed-compressed keys and fresh secret-key ciphertexts).
//! Loading checks the magic, version, kind, fingerprint, a size limit, the exact length, levels,
//! degrees, Galois elements, and that every residue is below its prime; any failure is an
//! [`Error::Deserialize`], never a panic.
//!
//! Serde: [`Blob`] carries these bytes through any serde format (keys also implement
//! `Serialize` directly, as their bytes); deserialize a [`Blob`] and call the type's
//! `from_bytes` with the parameters, since validation needs them.
//!
//! ```
//! use hetal_ckks::prelude::*;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
//! let mut rng = ChaCha20Rng::seed_from_u64(1);
//! let sk = SecretKey::generate(&params, &mut rng).unwrap();
//! let pt = params.encode_real(&[1.0, 2.0], 2, params.scale_at(2)).unwrap();
//! let ct = Decryptor::new(&sk).encrypt_symmetric(&pt, &mut rng).unwrap();
//! let bytes = ct.to_bytes(&params).unwrap();
//! assert_eq!(Ciphertext::from_bytes(&params, &bytes).unwrap(), ct);
//! assert!(Ciphertext::from_bytes(&params, &bytes[..bytes.len() - 1]).is_err());
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use hetal_math::sampling::uniform_poly_from_seed;
use hetal_math::{Context, Ntt, Poly};
use serde::{Deserialize, Serialize};

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{GaloisKeys, PublicKey, RelinearizationKey, SwitchingKey};
use crate::params::Parameters;

/// Magic bytes of every serialized object.
pub const MAGIC: &[u8; 4] = b"HCKS";
/// Current format version. Version 2 expands seeds with AES-128 in counter mode, one stream
/// per limb ([`hetal_math::sampling::uniform_limb_from_seed`]); version 1 (one ChaCha20 stream
/// over all limbs) is refused rather than expanded into the wrong polynomials.
pub const FORMAT_VERSION: u16 = 2;
/// Header length in bytes.
pub const HEADER_LEN: usize = 24;
/// Default limit on the size of an object accepted by `from_bytes` (8 GiB).
pub const DEFAULT_SIZE_LIMIT: usize = 8 << 30;

/// Kind of a serialized object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ObjectKind {
    /// A [`Ciphertext`].
    Ciphertext = 1,
    /// A [`PublicKey`].
    PublicKey = 2,
    /// A [`RelinearizationKey`].
    RelinearizationKey = 3,
    /// [`GaloisKeys`].
    GaloisKeys = 4,
    /// [`EncapsulationKeys`](crate::bootstrap::encapsulation::EncapsulationKeys).
    EncapsulationKeys = 5,
    /// Switching keys generated at their own levels without a further meaning (e.g. the
    /// leveled Galois keys of [`BootstrappingKeys`](crate::bootstrap::BootstrappingKeys)).
    LeveledKeys = 6,
}

impl ObjectKind {
    fn name(self) -> &'static str {
        match self {
            ObjectKind::Ciphertext => "ciphertext",
            ObjectKind::PublicKey => "public key",
            ObjectKind::RelinearizationKey => "relinearization key",
            ObjectKind::GaloisKeys => "Galois keys",
            ObjectKind::EncapsulationKeys => "encapsulation keys",
            ObjectKind::LeveledKeys => "leveled switching keys",
        }
    }
}

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn new(kind: ObjectKind, params: &Parameters, body_len: usize) -> Self {
        let mut buf = Vec::with_capacity(HEADER_LEN + body_len);
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        buf.push(kind as u8);
        buf.push(0);
        buf.extend_from_slice(&params.fingerprint().to_le_bytes());
        buf.extend_from_slice(&(body_len as u64).to_le_bytes());
        Self { buf }
    }
    fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn poly(&mut self, p: &Poly<Ntt>) {
        for &x in p.data() {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
    }
    fn seed(&mut self, s: &[u8; 32]) {
        self.buf.extend_from_slice(s);
    }
    fn finish(self) -> Vec<u8> {
        debug_assert_eq!(
            self.buf.len() as u64 - HEADER_LEN as u64,
            u64::from_le_bytes(self.buf[16..24].try_into().unwrap())
        );
        self.buf
    }
}

struct Reader<'a> {
    what: &'static str,
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, reason: impl Into<String>) -> Error {
        Error::Deserialize {
            what: self.what,
            reason: reason.into(),
        }
    }

    fn open(bytes: &'a [u8], kind: ObjectKind, params: &Parameters, limit: usize) -> Result<Self> {
        let what = kind.name();
        let e = |reason: String| Error::Deserialize { what, reason };
        if bytes.len() > limit {
            return Err(e(format!(
                "{} bytes exceed the limit of {limit}",
                bytes.len()
            )));
        }
        if bytes.len() < HEADER_LEN {
            return Err(e("truncated header".into()));
        }
        if &bytes[..4] != MAGIC {
            return Err(e("bad magic (not a hetal-ckks object)".into()));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != FORMAT_VERSION {
            return Err(e(format!("unsupported format version {version}")));
        }
        if bytes[6] != kind as u8 {
            return Err(e(format!("object kind {} is not a {what}", bytes[6])));
        }
        if bytes[7] != 0 {
            return Err(e("reserved header byte is not zero".into()));
        }
        let fp = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
        if fp != params.fingerprint() {
            return Err(e(format!(
                "parameter fingerprint {fp:#018x} does not match {:#018x}",
                params.fingerprint()
            )));
        }
        let len = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
        if len != (bytes.len() - HEADER_LEN) as u64 {
            return Err(e(format!(
                "body length {len} does not match the {} bytes present (truncated or padded)",
                bytes.len() - HEADER_LEN
            )));
        }
        Ok(Self {
            what,
            data: &bytes[HEADER_LEN..],
            pos: 0,
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.data.len() - self.pos < n {
            return Err(self.err("truncated body"));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn seed(&mut self) -> Result<[u8; 32]> {
        Ok(self.take(32)?.try_into().expect("32"))
    }
    fn poly(&mut self, ctx: &Arc<Context>) -> Result<Poly<Ntt>> {
        let count = ctx.n() * ctx.num_limbs();
        let raw = self.take(count * 8)?;
        let data: Vec<u64> = raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
            .collect();
        Poly::from_limbs(ctx, data).map_err(|e| self.err(format!("invalid residues: {e}")))
    }
    fn done(&self) -> Result<()> {
        if self.pos != self.data.len() {
            return Err(self.err("trailing bytes after the object"));
        }
        Ok(())
    }
}

fn poly_bytes(p: &Poly<Ntt>) -> usize {
    p.data().len() * 8
}

fn switching_key_len(k: &SwitchingKey) -> usize {
    4 + k.b.iter().map(|b| poly_bytes(b) + 32).sum::<usize>()
}

fn write_switching_key(w: &mut Writer, k: &SwitchingKey) {
    w.u32(k.b.len() as u32);
    for (b, s) in k.b.iter().zip(&k.seeds) {
        w.poly(b);
        w.seed(s);
    }
}

fn read_switching_key(r: &mut Reader<'_>, params: &Parameters) -> Result<SwitchingKey> {
    read_switching_key_at(r, params, params.max_level())
}

/// What [`write_switching_key`] wrote for a key generated at `level`: the digit count (that of
/// the level), then per digit `b_j` over `Q_level ∪ P` and the seed of `a_j`. Loaded as
/// serialized, [`KeyStorage::Seeded`](crate::keys::KeyStorage::Seeded); the holder expands it
/// if it wants to.
fn read_switching_key_at(
    r: &mut Reader<'_>,
    params: &Parameters,
    level: usize,
) -> Result<SwitchingKey> {
    let digits = params.digits_at(level).len();
    let count = r.u32()? as usize;
    if count != digits {
        return Err(r.err(format!("{count} digits, level {level} has {digits}")));
    }
    let ctx = params.qp_context(level)?;
    let mut b = Vec::with_capacity(count);
    let mut seeds = Vec::with_capacity(count);
    for _ in 0..count {
        b.push(r.poly(&ctx)?);
        seeds.push(r.seed()?);
    }
    Ok(SwitchingKey { b, a: None, seeds })
}

/// Switching keys, each with the level it was generated at.
pub(crate) type LeveledKeys = Vec<(usize, SwitchingKey)>;

/// Serializes switching keys generated at their own levels (e.g. sparse-secret encapsulation
/// keys): the header, the `u32` values of `prefix`, the key count, then per key its level, its
/// digit count and, per digit, `b_j` over `Q_level ∪ P` and the seed of `a_j`.
pub(crate) fn leveled_keys_to_bytes(
    kind: ObjectKind,
    params: &Parameters,
    prefix: &[u32],
    keys: &[(usize, &SwitchingKey)],
) -> Vec<u8> {
    let body = 4 * prefix.len()
        + 4
        + keys
            .iter()
            .map(|(_, k)| 4 + switching_key_len(k))
            .sum::<usize>();
    let mut w = Writer::new(kind, params, body);
    prefix.iter().for_each(|&v| w.u32(v));
    w.u32(keys.len() as u32);
    for &(level, k) in keys {
        w.u32(level as u32);
        write_switching_key(&mut w, k);
    }
    w.finish()
}

/// Loads what [`leveled_keys_to_bytes`] wrote, with `prefix_len` prefix values, validating the
/// header, each level (at most the top), each digit count (that of the level) and every
/// residue (below its prime).
pub(crate) fn leveled_keys_from_bytes(
    kind: ObjectKind,
    params: &Parameters,
    bytes: &[u8],
    prefix_len: usize,
) -> Result<(Vec<u32>, LeveledKeys)> {
    let mut r = Reader::open(bytes, kind, params, DEFAULT_SIZE_LIMIT)?;
    let prefix = (0..prefix_len)
        .map(|_| r.u32())
        .collect::<Result<Vec<_>>>()?;
    let count = r.u32()? as usize;
    // Every key needs at least a level, a digit count and one seed: refuse absurd counts before
    // allocating.
    if count > r.data.len() / 40 {
        return Err(r.err(format!("{count} keys cannot fit in the body")));
    }
    let mut keys = Vec::with_capacity(count);
    for _ in 0..count {
        let level = r.u32()? as usize;
        if level > params.max_level() {
            return Err(r.err(format!(
                "key level {level} above the top level {}",
                params.max_level()
            )));
        }
        let key = read_switching_key_at(&mut r, params, level)?;
        keys.push((level, key));
    }
    r.done()?;
    Ok((prefix, keys))
}

impl Ciphertext {
    /// Serializes under `params` (compact: a fresh secret-key encryption stores `c_1` as a
    /// seed).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the ciphertext does not belong to `params`.
    pub fn to_bytes(&self, params: &Parameters) -> Result<Vec<u8>> {
        params.check_level("Ciphertext::to_bytes", self.level)?;
        let ctx = params.q_context(self.level)?;
        if self.c.iter().any(|c| !c.context().same_ring(&ctx)) {
            return Err(Error::InvalidArgument {
                op: "Ciphertext::to_bytes",
                reason: "ciphertext does not belong to these parameters".into(),
            });
        }
        let comps = if self.seed.is_some() { 1 } else { self.c.len() };
        let body = 4 + 8 + 1 + 1 + comps * poly_bytes(&self.c[0]) + self.seed.map_or(0, |_| 32);
        let mut w = Writer::new(ObjectKind::Ciphertext, params, body);
        w.u32(self.level as u32);
        w.u64(self.scale.to_bits());
        w.u8(self.c.len() as u8);
        w.u8(self.seed.is_some() as u8);
        match &self.seed {
            Some(s) => {
                w.poly(&self.c[0]);
                w.seed(s);
            }
            None => self.c.iter().for_each(|c| w.poly(c)),
        }
        Ok(w.finish())
    }

    /// Loads and validates a ciphertext (size limit [`DEFAULT_SIZE_LIMIT`]).
    ///
    /// # Errors
    /// [`Error::Deserialize`] for truncated, corrupted or foreign data.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_with_limit(params, bytes, DEFAULT_SIZE_LIMIT)
    }

    /// Loads with an explicit size limit in bytes.
    ///
    /// # Errors
    /// As [`Ciphertext::from_bytes`].
    pub fn from_bytes_with_limit(params: &Parameters, bytes: &[u8], limit: usize) -> Result<Self> {
        let mut r = Reader::open(bytes, ObjectKind::Ciphertext, params, limit)?;
        let level = r.u32()? as usize;
        if level > params.max_level() {
            return Err(r.err(format!(
                "level {level} above the top level {}",
                params.max_level()
            )));
        }
        let scale = f64::from_bits(r.u64()?);
        if !(scale.is_finite() && scale > 0.0) {
            return Err(r.err(format!("scale {scale} is not finite and positive")));
        }
        let comps = r.u8()? as usize;
        if !(2..=3).contains(&comps) {
            return Err(r.err(format!("{comps} components (expected 2 or 3)")));
        }
        let seeded = match r.u8()? {
            0 => false,
            1 => true,
            x => return Err(r.err(format!("seed flag {x}"))),
        };
        if seeded && comps != 2 {
            return Err(r.err("a seeded ciphertext must have two components"));
        }
        let ctx = params.q_context(level)?;
        let (c, seed) = if seeded {
            let c0 = r.poly(&ctx)?;
            let s = r.seed()?;
            (vec![c0, uniform_poly_from_seed(&ctx, s)], Some(s))
        } else {
            let c = (0..comps)
                .map(|_| r.poly(&ctx))
                .collect::<Result<Vec<_>>>()?;
            (c, None)
        };
        r.done()?;
        Ok(Self {
            c,
            level,
            scale,
            seed,
        })
    }
}

impl PublicKey {
    /// Serializes (seed-compressed: `b` and the seed of `a`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = poly_bytes(&self.b) + 32;
        let mut w = Writer::new(ObjectKind::PublicKey, &self.params, body);
        w.poly(&self.b);
        w.seed(&self.seed);
        w.finish()
    }

    /// Loads and validates a public key.
    ///
    /// # Errors
    /// [`Error::Deserialize`] for truncated, corrupted or foreign data.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::open(bytes, ObjectKind::PublicKey, params, DEFAULT_SIZE_LIMIT)?;
        let ctx = params.qp_context(params.max_level())?;
        let b = r.poly(&ctx)?;
        let seed = r.seed()?;
        r.done()?;
        Ok(Self {
            params: params.clone(),
            a: uniform_poly_from_seed(&ctx, seed),
            b,
            seed,
        })
    }
}

impl RelinearizationKey {
    /// Serializes (seed-compressed).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(
            ObjectKind::RelinearizationKey,
            &self.params,
            switching_key_len(&self.key),
        );
        write_switching_key(&mut w, &self.key);
        w.finish()
    }

    /// Loads and validates a relinearization key, held
    /// [`KeyStorage::Seeded`](crate::keys::KeyStorage::Seeded) as serialized (call
    /// [`RelinearizationKey::set_storage`] to expand it).
    ///
    /// # Errors
    /// [`Error::Deserialize`] for truncated, corrupted or foreign data.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::open(
            bytes,
            ObjectKind::RelinearizationKey,
            params,
            DEFAULT_SIZE_LIMIT,
        )?;
        let key = read_switching_key(&mut r, params)?;
        r.done()?;
        Ok(Self {
            params: params.clone(),
            key,
        })
    }
}

impl GaloisKeys {
    /// Serializes (seed-compressed), in increasing order of Galois element.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = 4 + self
            .keys
            .values()
            .map(|k| 8 + switching_key_len(k))
            .sum::<usize>();
        let mut w = Writer::new(ObjectKind::GaloisKeys, &self.params, body);
        w.u32(self.keys.len() as u32);
        for (&g, k) in &self.keys {
            w.u64(g as u64);
            write_switching_key(&mut w, k);
        }
        w.finish()
    }

    /// Loads and validates Galois keys (elements odd, below `2N`, not 1, strictly increasing),
    /// held [`KeyStorage::Seeded`](crate::keys::KeyStorage::Seeded) as serialized (call
    /// [`GaloisKeys::set_storage`] to expand them).
    ///
    /// # Errors
    /// [`Error::Deserialize`] for truncated, corrupted or foreign data.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::open(bytes, ObjectKind::GaloisKeys, params, DEFAULT_SIZE_LIMIT)?;
        let count = r.u32()? as usize;
        let two_n = 2 * params.n() as u64;
        let mut keys = BTreeMap::new();
        let mut prev = 1u64;
        for _ in 0..count {
            let g = r.u64()?;
            if g % 2 == 0 || g >= two_n || g <= prev {
                return Err(r.err(format!(
                    "invalid or unordered Galois element {g} (previous {prev})"
                )));
            }
            prev = g;
            let k = read_switching_key(&mut r, params)?;
            keys.insert(g as usize, k);
        }
        r.done()?;
        Ok(Self {
            params: params.clone(),
            keys,
        })
    }
}

/// Serialized bytes of any object, for serde: deserialize a `Blob`, then call the type's
/// `from_bytes` with the parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Blob;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes of a hetal-ckks object")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> std::result::Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(
                self,
                v: Vec<u8>,
            ) -> std::result::Result<Blob, E> {
                Ok(Blob(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Blob, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(Blob(out))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

macro_rules! serialize_as_bytes {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.to_bytes())
            }
        }
    };
}
serialize_as_bytes!(PublicKey);
serialize_as_bytes!(RelinearizationKey);
serialize_as_bytes!(GaloisKeys);
