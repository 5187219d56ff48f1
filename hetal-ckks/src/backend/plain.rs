//! [`PlainBackend`]: the plaintext twin of CKKS, with exact level and scale accounting.

use super::{Bootstrap, Complex64, ScaleChain, SlotBackend, SlotClient, scales_match};
use crate::{Error, Result};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use std::sync::Mutex;

/// Gaussian noise added to emulate CKKS error, in slot units (absolute, per real component).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseModel {
    /// Standard deviation added by encryption, rescaling and every key switch (relinearization,
    /// rotation, conjugation).
    pub per_operation: f64,
    /// Standard deviation added by a bootstrap.
    pub bootstrap: f64,
    /// Seed of the noise stream (ChaCha20), so that a failing run can be replayed.
    pub seed: u64,
}

/// What [`Bootstrap`] does on a [`PlainBackend`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlainBootstrap {
    /// The level a bootstrapped ciphertext has.
    pub output_level: usize,
    /// The magnitude bound of the input (real and imaginary parts); larger inputs are an error,
    /// because CKKS bootstrapping would silently return garbage for them.
    pub bound: f64,
}

/// A simulated ciphertext: exact slot values with the level, scale and degree CKKS would have.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainCiphertext {
    values: Vec<Complex64>,
    level: usize,
    scale: f64,
    degree: usize,
}

impl PlainCiphertext {
    /// The slot values (what a decryption would return, without CKKS error).
    pub fn values(&self) -> &[Complex64] {
        &self.values
    }

    /// Degree: 1 for a normal ciphertext, 2 for an unrelinearized product.
    pub fn degree(&self) -> usize {
        self.degree
    }
}

/// A simulated plaintext.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainPlaintext {
    values: Vec<Complex64>,
    level: usize,
    scale: f64,
}

/// Exact complex arithmetic on plain vectors, with levels and scales accounted exactly as CKKS
/// accounts them: a rescale at level 0, a level or scale mismatch, a rotation of an
/// unrelinearized product are all errors here as they are there. Optional [`NoiseModel`]
/// emulates CKKS error; optional [`PlainBootstrap`] implements [`Bootstrap`].
///
/// It is also its own [`SlotClient`] (there is no secret): circuits are developed and tested on
/// it first, then run unchanged on CKKS.
#[derive(Debug)]
pub struct PlainBackend {
    slots: usize,
    chain: ScaleChain,
    noise: Option<NoiseModel>,
    bootstrap: Option<PlainBootstrap>,
    rng: Mutex<ChaCha20Rng>,
}

impl PlainBackend {
    /// A noiseless backend with `slots` slots over `chain`, without bootstrapping.
    ///
    /// # Panics
    /// If `slots` is zero.
    pub fn new(slots: usize, chain: ScaleChain) -> Self {
        assert!(slots > 0, "a backend has at least one slot");
        Self {
            slots,
            chain,
            noise: None,
            bootstrap: None,
            rng: Mutex::new(ChaCha20Rng::seed_from_u64(0)),
        }
    }

    /// Adds Gaussian noise to emulate CKKS error.
    pub fn with_noise(mut self, noise: NoiseModel) -> Self {
        self.rng = Mutex::new(ChaCha20Rng::seed_from_u64(noise.seed));
        self.noise = Some(noise);
        self
    }

    /// Enables [`Bootstrap`].
    ///
    /// # Panics
    /// If the output level is above the chain's top level.
    pub fn with_bootstrap(mut self, bootstrap: PlainBootstrap) -> Self {
        assert!(bootstrap.output_level <= self.chain.max_level());
        self.bootstrap = Some(bootstrap);
        self
    }

    /// The chain of levels and scales.
    pub fn chain(&self) -> &ScaleChain {
        &self.chain
    }

    fn check_level(&self, op: &'static str, level: usize) -> Result<()> {
        if level > self.chain.max_level() {
            return Err(Error::LevelTooHigh {
                op,
                level,
                max: self.chain.max_level(),
            });
        }
        Ok(())
    }

    fn padded(&self, op: &'static str, values: &[Complex64]) -> Result<Vec<Complex64>> {
        if values.len() > self.slots {
            return Err(Error::TooManyValues {
                op,
                got: values.len(),
                slots: self.slots,
            });
        }
        let mut v = values.to_vec();
        v.resize(self.slots, Complex64::new(0.0, 0.0));
        Ok(v)
    }

    fn add_noise(&self, values: &mut [Complex64], sigma: f64) {
        if sigma <= 0.0 {
            return;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        for v in values {
            let (a, b) = standard_normal_pair(&mut *rng);
            *v += Complex64::new(a * sigma, b * sigma);
        }
    }

    fn op_noise(&self, mut ct: PlainCiphertext) -> PlainCiphertext {
        if let Some(n) = self.noise {
            self.add_noise(&mut ct.values, n.per_operation);
        }
        ct
    }

    fn same_level_scale(
        op: &'static str,
        level_a: usize,
        scale_a: f64,
        level_b: usize,
        scale_b: f64,
    ) -> Result<()> {
        if level_a != level_b {
            return Err(Error::LevelMismatch {
                op,
                left: level_a,
                right: level_b,
            });
        }
        if !scales_match(scale_a, scale_b) {
            return Err(Error::ScaleMismatch {
                op,
                level: level_a,
                left: scale_a,
                right: scale_b,
            });
        }
        Ok(())
    }

    fn map(&self, a: &PlainCiphertext, f: impl Fn(Complex64) -> Complex64) -> PlainCiphertext {
        PlainCiphertext {
            values: a.values.iter().map(|&v| f(v)).collect(),
            ..a.clone()
        }
    }

    fn zip(
        a: &PlainCiphertext,
        b: &[Complex64],
        f: impl Fn(Complex64, Complex64) -> Complex64,
    ) -> Vec<Complex64> {
        a.values.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
    }

    /// A target level at most the ciphertext's.
    fn not_above(op: &'static str, level: usize, a: &PlainCiphertext) -> Result<()> {
        if level > a.level {
            return Err(Error::InvalidArgument {
                op,
                reason: format!(
                    "target level {level} is above the ciphertext's level {}",
                    a.level
                ),
            });
        }
        Ok(())
    }

    fn degree_at_most(op: &'static str, a: &PlainCiphertext, max: usize) -> Result<()> {
        if a.degree > max {
            return Err(Error::DegreeTooHigh {
                op,
                degree: a.degree,
                max,
            });
        }
        Ok(())
    }
}

/// Two independent standard normal samples (Box-Muller).
fn standard_normal_pair(rng: &mut impl RngCore) -> (f64, f64) {
    // 53 random bits in (0, 1]: never zero, so the logarithm is finite.
    let u1 = ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let r = (-2.0 * u1.ln()).sqrt();
    let t = 2.0 * std::f64::consts::PI * u2;
    (r * t.cos(), r * t.sin())
}

impl SlotBackend for PlainBackend {
    type Ct = PlainCiphertext;
    type Pt = PlainPlaintext;

    fn slots(&self) -> usize {
        self.slots
    }

    fn max_level(&self) -> usize {
        self.chain.max_level()
    }

    fn scale_at(&self, level: usize) -> f64 {
        self.chain.scale_at(level)
    }

    fn level(&self, ct: &Self::Ct) -> usize {
        ct.level
    }

    fn scale(&self, ct: &Self::Ct) -> f64 {
        ct.scale
    }

    fn degree(&self, ct: &Self::Ct) -> usize {
        ct.degree
    }

    fn plaintext_level(&self, pt: &Self::Pt) -> usize {
        pt.level
    }

    fn encode_at_scale(&self, values: &[Complex64], level: usize, scale: f64) -> Result<Self::Pt> {
        self.check_level("encode", level)?;
        Ok(PlainPlaintext {
            values: self.padded("encode", values)?,
            level,
            scale,
        })
    }

    fn add(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct> {
        Self::same_level_scale("add", a.level, a.scale, b.level, b.scale)?;
        Ok(PlainCiphertext {
            values: Self::zip(a, &b.values, |x, y| x + y),
            degree: a.degree.max(b.degree),
            ..a.clone()
        })
    }

    fn sub(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct> {
        Self::same_level_scale("sub", a.level, a.scale, b.level, b.scale)?;
        Ok(PlainCiphertext {
            values: Self::zip(a, &b.values, |x, y| x - y),
            degree: a.degree.max(b.degree),
            ..a.clone()
        })
    }

    fn neg(&self, a: &Self::Ct) -> Result<Self::Ct> {
        Ok(self.map(a, |x| -x))
    }

    fn add_plain(&self, a: &Self::Ct, p: &Self::Pt) -> Result<Self::Ct> {
        Self::same_level_scale("add_plain", a.level, a.scale, p.level, p.scale)?;
        Ok(PlainCiphertext {
            values: Self::zip(a, &p.values, |x, y| x + y),
            ..a.clone()
        })
    }

    fn sub_plain(&self, a: &Self::Ct, p: &Self::Pt) -> Result<Self::Ct> {
        Self::same_level_scale("sub_plain", a.level, a.scale, p.level, p.scale)?;
        Ok(PlainCiphertext {
            values: Self::zip(a, &p.values, |x, y| x - y),
            ..a.clone()
        })
    }

    fn add_const(&self, a: &Self::Ct, c: Complex64) -> Result<Self::Ct> {
        Ok(self.map(a, |x| x + c))
    }

    fn mul_plain(&self, a: &Self::Ct, p: &Self::Pt) -> Result<Self::Ct> {
        if a.level != p.level {
            return Err(Error::LevelMismatch {
                op: "mul_plain",
                left: a.level,
                right: p.level,
            });
        }
        Ok(PlainCiphertext {
            values: Self::zip(a, &p.values, |x, y| x * y),
            scale: a.scale * p.scale,
            ..a.clone()
        })
    }

    fn mul_const(&self, a: &Self::Ct, c: Complex64) -> Result<Self::Ct> {
        let scale = a.scale * self.chain.scale_at(a.level);
        Ok(PlainCiphertext {
            scale,
            ..self.map(a, |x| x * c)
        })
    }

    fn mul_int(&self, a: &Self::Ct, k: i64) -> Result<Self::Ct> {
        let k = k as f64;
        Ok(self.map(a, |x| x * k))
    }

    fn mul_i(&self, a: &Self::Ct) -> Result<Self::Ct> {
        // Exact in CKKS too (a monomial product), so no noise is added.
        Ok(self.map(a, |x| Complex64::new(-x.im, x.re)))
    }

    fn tensor(&self, a: &Self::Ct, b: &Self::Ct) -> Result<Self::Ct> {
        if a.level != b.level {
            return Err(Error::LevelMismatch {
                op: "tensor",
                left: a.level,
                right: b.level,
            });
        }
        Self::degree_at_most("tensor", a, 1)?;
        Self::degree_at_most("tensor", b, 1)?;
        Ok(PlainCiphertext {
            values: Self::zip(a, &b.values, |x, y| x * y),
            level: a.level,
            scale: a.scale * b.scale,
            degree: 2,
        })
    }

    fn relinearize(&self, a: &Self::Ct) -> Result<Self::Ct> {
        if a.degree <= 1 {
            return Ok(a.clone());
        }
        Ok(self.op_noise(PlainCiphertext {
            degree: 1,
            ..a.clone()
        }))
    }

    fn rescale(&self, a: &Self::Ct) -> Result<Self::Ct> {
        if a.level == 0 {
            return Err(Error::LevelExhausted {
                op: "rescale",
                level: 0,
                needed: 1,
            });
        }
        let q = self.chain.modulus_at(a.level);
        Ok(self.op_noise(PlainCiphertext {
            level: a.level - 1,
            scale: a.scale / q,
            ..a.clone()
        }))
    }

    fn truncate_to_level(&self, a: &Self::Ct, level: usize) -> Result<Self::Ct> {
        Self::not_above("truncate_to_level", level, a)?;
        Ok(PlainCiphertext { level, ..a.clone() })
    }

    fn modulus_at(&self, level: usize) -> f64 {
        self.chain.modulus_at(level)
    }

    /// Exact: `Σ w_i ⊙ x_i` at `level` and `scale`, one rescale's noise (if any).
    fn linear_combination(
        &self,
        terms: &[(&Self::Ct, super::Weight<'_>)],
        level: usize,
        scale: f64,
    ) -> Result<Self::Ct> {
        super::check_linear_combination(self, terms, level)?;
        let mut values = vec![Complex64::new(0.0, 0.0); self.slots];
        let mut degree = 1;
        for (x, w) in terms {
            degree = degree.max(x.degree);
            match w {
                super::Weight::Const(c) => {
                    for (v, &xv) in values.iter_mut().zip(&x.values) {
                        *v += c * xv;
                    }
                }
                super::Weight::Slots(ws) => {
                    let ws = self.padded("linear_combination", ws)?;
                    for ((v, &xv), wv) in values.iter_mut().zip(&x.values).zip(ws) {
                        *v += wv * xv;
                    }
                }
            }
        }
        Ok(self.op_noise(PlainCiphertext {
            values,
            level,
            scale,
            degree,
        }))
    }

    fn drop_to_level(&self, a: &Self::Ct, level: usize) -> Result<Self::Ct> {
        Self::not_above("drop_to_level", level, a)?;
        if !scales_match(a.scale, self.chain.scale_at(a.level)) {
            return Err(Error::ScaleMismatch {
                op: "drop_to_level",
                level: a.level,
                left: a.scale,
                right: self.chain.scale_at(a.level),
            });
        }
        if level == a.level {
            return Ok(a.clone());
        }
        Ok(PlainCiphertext {
            level,
            scale: self.chain.scale_at(level),
            ..a.clone()
        })
    }

    fn rotate(&self, a: &Self::Ct, steps: i32) -> Result<Self::Ct> {
        Self::degree_at_most("rotate", a, 1)?;
        let n = self.slots as i64;
        let k = (steps as i64).rem_euclid(n) as usize;
        if k == 0 {
            return Ok(a.clone());
        }
        let mut values = a.values.clone();
        values.rotate_left(k);
        Ok(self.op_noise(PlainCiphertext {
            values,
            ..a.clone()
        }))
    }

    fn conjugate(&self, a: &Self::Ct) -> Result<Self::Ct> {
        Self::degree_at_most("conjugate", a, 1)?;
        Ok(self.op_noise(self.map(a, |x| x.conj())))
    }
}

impl Bootstrap for PlainBackend {
    fn bootstrap_level(&self) -> usize {
        self.bootstrap.map_or(0, |b| b.output_level)
    }

    fn bootstrap_bound(&self) -> f64 {
        self.bootstrap.map_or(0.0, |b| b.bound)
    }

    fn bootstrap(&self, a: &Self::Ct) -> Result<Self::Ct> {
        let Some(config) = self.bootstrap else {
            return Err(Error::MissingKey {
                op: "bootstrap",
                what: "this PlainBackend was built without bootstrapping".into(),
            });
        };
        Self::degree_at_most("bootstrap", a, 1)?;
        if !scales_match(a.scale, self.chain.scale_at(a.level)) {
            return Err(Error::ScaleMismatch {
                op: "bootstrap",
                level: a.level,
                left: a.scale,
                right: self.chain.scale_at(a.level),
            });
        }
        let magnitude = a
            .values
            .iter()
            .fold(0.0f64, |m, v| m.max(v.re.abs()).max(v.im.abs()));
        if magnitude > config.bound {
            return Err(Error::BootstrapInputOutOfRange {
                magnitude,
                bound: config.bound,
            });
        }
        let mut out = PlainCiphertext {
            values: a.values.clone(),
            level: config.output_level,
            scale: self.chain.scale_at(config.output_level),
            degree: 1,
        };
        if let Some(n) = self.noise {
            self.add_noise(&mut out.values, n.bootstrap);
        }
        Ok(out)
    }
}

impl SlotClient for PlainBackend {
    fn encrypt(&self, values: &[Complex64], level: usize) -> Result<Self::Ct> {
        self.check_level("encrypt", level)?;
        let ct = PlainCiphertext {
            values: self.padded("encrypt", values)?,
            level,
            scale: self.chain.scale_at(level),
            degree: 1,
        };
        Ok(self.op_noise(ct))
    }

    fn decrypt(&self, a: &Self::Ct) -> Result<Vec<Complex64>> {
        Ok(a.values.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend() -> PlainBackend {
        let moduli = [
            (1u64 << 60) - 93,
            1_099_511_922_689,
            1_099_512_004_609,
            1_099_510_054_913,
        ];
        PlainBackend::new(8, ScaleChain::from_moduli(&moduli, 40.0))
    }

    fn c(re: f64) -> Complex64 {
        Complex64::new(re, 0.0)
    }

    #[test]
    fn products_land_on_the_canonical_scale() {
        let b = backend();
        let x = b.encrypt_real(&[1.0, -2.0, 0.5], 3).unwrap();
        let y = b.mul_relin_rescale(&x, &x).unwrap();
        assert_eq!(b.level(&y), 2);
        assert!(scales_match(b.scale(&y), b.scale_at(2)));
        let z = b.mul_const_rescale(&y, c(3.0)).unwrap();
        let p = b.encode(&[c(2.0); 8], 1).unwrap();
        let w = b.mul_plain_rescale(&z, &p).unwrap();
        assert!(scales_match(b.scale(&w), b.scale_at(0)));
        let x0 = b.drop_to_level(&x, 0).unwrap();
        let sum = b.add(&w, &x0).unwrap();
        let out = b.decrypt_real(&sum).unwrap();
        assert_eq!(&out[..3], &[7.0, 22.0, 2.0]);
    }

    #[test]
    fn ckks_errors_are_reproduced() {
        let b = backend();
        let x = b.encrypt_real(&[1.0], 1).unwrap();
        let y = b.encrypt_real(&[1.0], 2).unwrap();
        assert!(matches!(
            b.add(&x, &y),
            Err(Error::LevelMismatch {
                op: "add",
                left: 1,
                right: 2
            })
        ));
        let pending = b.mul_const(&x, c(2.0)).unwrap();
        assert!(matches!(
            b.add(&pending, &x),
            Err(Error::ScaleMismatch { .. })
        ));
        let t = b.tensor(&x, &x).unwrap();
        assert!(matches!(
            b.rotate(&t, 1),
            Err(Error::DegreeTooHigh { op: "rotate", .. })
        ));
        let x0 = b.drop_to_level(&x, 0).unwrap();
        assert!(matches!(
            b.rescale(&x0),
            Err(Error::LevelExhausted { op: "rescale", .. })
        ));
        assert!(matches!(
            b.encrypt_real(&[0.0; 9], 0),
            Err(Error::TooManyValues { .. })
        ));
        assert!(matches!(
            b.encrypt_real(&[0.0], 4),
            Err(Error::LevelTooHigh { .. })
        ));
        assert!(matches!(b.bootstrap(&x), Err(Error::MissingKey { .. })));
    }

    #[test]
    fn rotations_are_left_rotations_and_sums_tree() {
        let b = backend();
        let v: Vec<f64> = (0..8).map(f64::from).collect();
        let x = b.encrypt_real(&v, 3).unwrap();
        let r = b.decrypt_real(&b.rotate(&x, 3).unwrap()).unwrap();
        assert_eq!(r, vec![3.0, 4.0, 5.0, 6.0, 7.0, 0.0, 1.0, 2.0]);
        let r = b.decrypt_real(&b.rotate(&x, -1).unwrap()).unwrap();
        assert_eq!(r[0], 7.0);
        let s = b
            .decrypt_real(&b.rotate_and_sum(&x, 1, 4).unwrap())
            .unwrap();
        assert_eq!(s[0], 6.0);
        assert_eq!(s[5], 5.0 + 6.0 + 7.0);
        let hoisted = b.rotate_hoisted(&x, &[1, 2]).unwrap();
        assert_eq!(hoisted[1], b.rotate(&x, 2).unwrap());
        let z = b.encrypt(&[Complex64::new(1.0, 2.0)], 3).unwrap();
        assert_eq!(
            b.decrypt(&b.conjugate(&z).unwrap()).unwrap()[0],
            Complex64::new(1.0, -2.0)
        );
    }

    #[test]
    fn bootstrap_resets_the_level_and_checks_its_range() {
        let b = backend().with_bootstrap(PlainBootstrap {
            output_level: 2,
            bound: 1.0,
        });
        let x = b.encrypt_real(&[0.5], 0).unwrap();
        let y = b.bootstrap(&x).unwrap();
        assert_eq!((b.level(&y), b.scale(&y)), (2, b.scale_at(2)));
        let big = b.encrypt_real(&[1.5], 0).unwrap();
        assert!(matches!(
            b.bootstrap(&big),
            Err(Error::BootstrapInputOutOfRange { .. })
        ));
    }

    #[test]
    fn noise_is_seeded_and_of_the_requested_size() {
        let noise = NoiseModel {
            per_operation: 1e-3,
            bootstrap: 0.0,
            seed: 7,
        };
        let run = || {
            let b = PlainBackend::new(4096, ScaleChain::uniform(2, 40.0)).with_noise(noise);
            b.decrypt_real(&b.encrypt_real(&[0.0; 4096], 2).unwrap())
                .unwrap()
        };
        let (a, bb) = (run(), run());
        assert_eq!(a, bb);
        let var = a.iter().map(|x| x * x).sum::<f64>() / a.len() as f64;
        assert!((var.sqrt() / 1e-3 - 1.0).abs() < 0.1, "std {}", var.sqrt());
    }
}
