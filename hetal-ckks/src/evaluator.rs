//! The homomorphic evaluator: immutable, `Send + Sync`, holding the evaluation keys.
//!
//! Rules (see [`crate::params`] for the scale convention):
//! * binary additive operations need equal levels and equal scales; the error names the
//!   operation, both levels or both scales;
//! * multiplication multiplies the scales; [`Evaluator::rescale`] divides by the last prime
//!   and consumes a level (an error at level 0);
//! * a tensor product has degree 2 and can be added to others before a single
//!   [`Evaluator::relinearize`] (lazy relinearization).
//!
//! ```
//! use hetal_ckks::prelude::*;
//! use num_complex::Complex64;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
//! let mut rng = ChaCha20Rng::seed_from_u64(3);
//! let sk = SecretKey::generate(&params, &mut rng).unwrap();
//! let pk = sk.public_key(&mut rng).unwrap();
//! let eval = Evaluator::new(&params)
//!     .with_relinearization_key(sk.relinearization_key(&mut rng).unwrap())
//!     .with_galois_keys(sk.rotation_keys(&[1], false, &mut rng).unwrap());
//! let x: Vec<Complex64> = (0..params.slots()).map(|i| Complex64::new(i as f64 / 512.0, 0.0)).collect();
//! let ct = Encryptor::new(&pk).encrypt_values(&x, params.max_level(), &mut rng).unwrap();
//! let sq = eval.rescale(&eval.mul_relin(&ct, &ct).unwrap()).unwrap();
//! let rot = eval.rotate(&sq, 1).unwrap();
//! let out = Decryptor::new(&sk).decrypt_decode(&rot).unwrap();
//! assert!((out[0] - x[1] * x[1]).norm() < 1e-4);
//! ```

use std::sync::Arc;

use hetal_math::{Ntt, Poly, automorphism_permutation};
use num_complex::Complex64;
use rayon::prelude::*;

use crate::backend::scales_match;
use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{GaloisKeys, RelinearizationKey, SwitchingKey};
use crate::keyswitch::{
    Decomposition, Finish, add_permuted, decompose, gather, give_buffer, inner_product,
    key_switch_single, key_switch_single_with, key_switch_with, mod_down_pair, pointwise_product,
    take_buffer,
};
use crate::params::Parameters;
use crate::plaintext::{Plaintext, coeffs_to_poly, f64_to_residue};
use hetal_math::dot::dot_var;

pub use crate::backend::SCALE_TOLERANCE;

/// The homomorphic evaluator.
#[derive(Clone, Debug)]
pub struct Evaluator {
    params: Parameters,
    rlk: Option<Arc<RelinearizationKey>>,
    gks: Option<Arc<GaloisKeys>>,
}

impl Evaluator {
    /// An evaluator without keys (enough for additions, plaintext and constant products,
    /// tensor products and rescaling).
    pub fn new(params: &Parameters) -> Self {
        Self {
            params: params.clone(),
            rlk: None,
            gks: None,
        }
    }

    /// Adds the relinearization key.
    pub fn with_relinearization_key(mut self, rlk: RelinearizationKey) -> Self {
        self.rlk = Some(Arc::new(rlk));
        self
    }

    /// Adds Galois keys (rotations, conjugation).
    pub fn with_galois_keys(mut self, gks: GaloisKeys) -> Self {
        self.gks = Some(Arc::new(gks));
        self
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// The Galois keys, if any.
    pub fn galois_keys(&self) -> Option<&GaloisKeys> {
        self.gks.as_deref()
    }

    fn check_ct(&self, op: &'static str, ct: &Ciphertext) -> Result<()> {
        self.params.check_level(op, ct.level)?;
        let ctx = self.params.q_context(ct.level)?;
        if ct.c.len() < 2 || ct.c.iter().any(|c| !c.context().same_ring(&ctx)) {
            return Err(Error::InvalidArgument {
                op,
                reason: "ciphertext does not belong to these parameters".into(),
            });
        }
        Ok(())
    }

    /// A ciphertext of these parameters at `level` or above.
    fn check_reaches(&self, op: &'static str, ct: &Ciphertext, level: usize) -> Result<()> {
        self.check_ct(op, ct)?;
        if level > ct.level {
            return Err(Error::LevelTooHigh {
                op,
                level,
                max: ct.level,
            });
        }
        Ok(())
    }

    fn check_same(&self, op: &'static str, a: &Ciphertext, b: &Ciphertext) -> Result<()> {
        self.check_ct(op, a)?;
        self.check_ct(op, b)?;
        if a.level != b.level {
            return Err(Error::LevelMismatch {
                op,
                left: a.level,
                right: b.level,
            });
        }
        if !scales_match(a.scale, b.scale) {
            return Err(Error::ScaleMismatch {
                op,
                level: a.level,
                left: a.scale,
                right: b.scale,
            });
        }
        Ok(())
    }

    /// `a ± b` component by component (each in one pass, no copy first); the extra components
    /// of the longer ciphertext are copied (negated for `a - b` with `b` longer).
    fn combine(
        &self,
        op: &'static str,
        a: &Ciphertext,
        b: &Ciphertext,
        sub: bool,
    ) -> Result<Ciphertext> {
        self.check_same(op, a, b)?;
        let len = a.c.len().max(b.c.len());
        let c = (0..len)
            .map(|i| match (a.c.get(i), b.c.get(i)) {
                (Some(x), Some(y)) => Ok(if sub { x.sub(y)? } else { x.add(y)? }),
                (Some(x), None) => Ok(x.clone()),
                (None, Some(y)) => Ok(if sub { y.neg() } else { y.clone() }),
                (None, None) => unreachable!("i < the longer length"),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Ciphertext {
            c,
            level: a.level,
            scale: a.scale,
            seed: None,
        })
    }

    /// `a + b` (degrees may differ: a degree-1 and a degree-2 ciphertext add to degree 2).
    ///
    /// # Errors
    /// [`Error::LevelMismatch`] or [`Error::ScaleMismatch`].
    pub fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.combine("add", a, b, false)
    }

    /// `a - b`.
    ///
    /// # Errors
    /// [`Error::LevelMismatch`] or [`Error::ScaleMismatch`].
    pub fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.combine("sub", a, b, true)
    }

    /// `-a`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a foreign ciphertext.
    pub fn negate(&self, a: &Ciphertext) -> Result<Ciphertext> {
        self.check_ct("negate", a)?;
        let mut out = a.clone();
        out.seed = None;
        for x in out.c.iter_mut() {
            x.neg_assign();
        }
        Ok(out)
    }

    fn plain_at(&self, op: &'static str, ct: &Ciphertext, pt: &Plaintext) -> Result<Poly<Ntt>> {
        if pt.level < ct.level {
            return Err(Error::LevelMismatch {
                op,
                left: ct.level,
                right: pt.level,
            });
        }
        // The plaintext's first `level + 1` limbs (it may be at a higher level, or carry its
        // `P` limbs: `Parameters::encode_extended`).
        let full = pt.poly();
        let p = if full.num_limbs() == ct.level + 1 {
            full.into_owned()
        } else {
            full.prefix(ct.level + 1)?
        };
        if !p.context().same_ring(&*self.params.q_context(ct.level)?) {
            return Err(Error::InvalidArgument {
                op,
                reason: "plaintext does not belong to these parameters".into(),
            });
        }
        Ok(p)
    }

    /// `ct + pt`. The plaintext may be at a higher level (its first limbs are used); scales
    /// must match.
    ///
    /// # Errors
    /// [`Error::LevelMismatch`] if the plaintext is below the ciphertext, or
    /// [`Error::ScaleMismatch`].
    pub fn add_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        self.plain_additive("add_plain", ct, pt, false)
    }

    /// `ct - pt`.
    ///
    /// # Errors
    /// As [`Evaluator::add_plain`].
    pub fn sub_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        self.plain_additive("sub_plain", ct, pt, true)
    }

    fn plain_additive(
        &self,
        op: &'static str,
        ct: &Ciphertext,
        pt: &Plaintext,
        sub: bool,
    ) -> Result<Ciphertext> {
        self.check_ct(op, ct)?;
        let p = self.plain_at(op, ct, pt)?;
        if !scales_match(ct.scale, pt.scale) {
            return Err(Error::ScaleMismatch {
                op,
                level: ct.level,
                left: ct.scale,
                right: pt.scale,
            });
        }
        let mut out = ct.clone();
        out.seed = None;
        if sub {
            out.c[0].sub_assign(&p)?;
        } else {
            out.c[0].add_assign(&p)?;
        }
        Ok(out)
    }

    /// `ct · pt`: the scale becomes `ct.scale · pt.scale` (rescale afterwards).
    ///
    /// # Errors
    /// [`Error::LevelMismatch`] if the plaintext is below the ciphertext.
    pub fn mul_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        const OP: &str = "mul_plain";
        self.check_ct(OP, ct)?;
        if pt.level < ct.level {
            return Err(Error::LevelMismatch {
                op: OP,
                left: ct.level,
                right: pt.level,
            });
        }
        // The plaintext's first limbs are used in place (no copy of either operand: these
        // products dominate the linear transforms of bootstrapping).
        let full = pt.poly();
        let c =
            ct.c.iter()
                .map(|x| x.mul_prefix(&full))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| Error::InvalidArgument {
                    op: OP,
                    reason: "plaintext does not belong to these parameters".into(),
                })?;
        Ok(Ciphertext {
            c,
            level: ct.level,
            scale: ct.scale * pt.scale,
            seed: None,
        })
    }

    fn const_rns(&self, level: usize, x: f64) -> Vec<u64> {
        let ctx = self
            .params
            .q_context(level)
            .expect("level checked by the caller");
        ctx.moduli().iter().map(|m| f64_to_residue(x, m)).collect()
    }

    fn check_finite(op: &'static str, c: Complex64, scale: f64) -> Result<()> {
        let ok = (c.re * scale).is_finite() && (c.im * scale).is_finite() && scale > 0.0;
        if !ok {
            return Err(Error::InvalidArgument {
                op,
                reason: format!("constant {c} at scale {scale} is not finite"),
            });
        }
        Ok(())
    }

    /// `ct + c` for a complex constant (encoded at the ciphertext's scale; no level consumed).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a non-finite constant.
    pub fn add_const(&self, ct: &Ciphertext, c: Complex64) -> Result<Ciphertext> {
        const OP: &str = "add_const";
        self.check_ct(OP, ct)?;
        Self::check_finite(OP, c, ct.scale)?;
        let ctx = self.params.q_context(ct.level)?;
        let mut out = ct.clone();
        out.seed = None;
        let re = (c.re * ct.scale).round();
        let im = (c.im * ct.scale).round();
        if im == 0.0 {
            // The NTT of a constant polynomial is that constant in every slot.
            let n = self.params.n();
            let rns = self.const_rns(ct.level, re);
            let data = out.c[0].data_mut();
            for (i, m) in ctx.moduli().iter().enumerate() {
                for x in data[i * n..(i + 1) * n].iter_mut() {
                    *x = m.add(*x, rns[i]);
                }
            }
        } else {
            let mut coeffs = vec![0.0; self.params.n()];
            coeffs[0] = re;
            coeffs[self.params.n() / 2] = im;
            let p = coeffs_to_poly(&ctx, &coeffs)?.to_ntt();
            out.c[0].add_assign(&p)?;
        }
        Ok(out)
    }

    /// `ct · c` with `c` encoded at the canonical scale `Δ_level`; the scale becomes
    /// `ct.scale · Δ_level`, so that after [`Evaluator::rescale`] it is `Δ_{level-1}` (for a
    /// ciphertext at the canonical scale).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a non-finite constant.
    pub fn mul_const(&self, ct: &Ciphertext, c: Complex64) -> Result<Ciphertext> {
        self.check_ct("mul_const", ct)?;
        self.mul_const_at_scale(ct, c, self.params.scale_at(ct.level))
    }

    /// `ct · c` with `c` encoded at an explicit `scale`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a non-finite constant or scale.
    pub fn mul_const_at_scale(
        &self,
        ct: &Ciphertext,
        c: Complex64,
        scale: f64,
    ) -> Result<Ciphertext> {
        const OP: &str = "mul_const";
        self.check_ct(OP, ct)?;
        Self::check_finite(OP, c, scale)?;
        let re = (c.re * scale).round();
        let im = (c.im * scale).round();
        let rns_re = self.const_rns(ct.level, re);
        let mut out = ct.clone();
        out.seed = None;
        out.scale = ct.scale * scale;
        if im == 0.0 {
            for x in out.c.iter_mut() {
                x.mul_scalar_rns_assign(&rns_re)?;
            }
        } else {
            // c·X = re·X + im·(X^{N/2}·X): X^{N/2} is i in every slot.
            let rns_im = self.const_rns(ct.level, im);
            let half = self.params.n() / 2;
            for (x, src) in out.c.iter_mut().zip(&ct.c) {
                x.mul_scalar_rns_assign(&rns_re)?;
                let rot = src.mul_monomial(half);
                x.mul_scalar_rns_add_assign(&rot, &rns_im)?;
            }
        }
        Ok(out)
    }

    /// `Σ_i c_i · ct_i` at `level` with scale exactly `scale`, **without** rescaling: each
    /// `ct_i` (at `level` or above, of any scale; all of one degree) is read over `Q_level` and
    /// multiplied by the integer `round(c_i · scale / scale_i)` (a complex `c_i` through the
    /// monomial `X^{N/2}`, which is `i` in every slot), and the products are summed in one
    /// lazy-reduction pass per limb. Followed by [`Evaluator::rescale`], this lands a linear
    /// combination of ciphertexts of different levels and scales on one exact scale with a
    /// single rescale: what polynomial evaluation needs instead of a rescale per term and a
    /// scale-fixing product per level drop. The integers carry the scale ratios, so the
    /// relative error of each term is that of rounding `c_i · scale / scale_i` (about `2^-60`
    /// when the ratio is `~2^60`, as in a `scale·q` target).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] without terms, for a foreign ciphertext, mixed degrees or a
    /// non-finite constant; [`Error::LevelTooHigh`] if `level` is above a term's level.
    pub fn linear_combination(
        &self,
        terms: &[(&Ciphertext, Complex64)],
        level: usize,
        scale: f64,
    ) -> Result<Ciphertext> {
        const OP: &str = "linear_combination";
        let Some((first, _)) = terms.first() else {
            return Err(Error::InvalidArgument {
                op: OP,
                reason: "no terms".into(),
            });
        };
        let parts = first.c.len();
        for (ct, c) in terms {
            self.check_reaches(OP, ct, level)?;
            if ct.c.len() != parts {
                return Err(Error::InvalidArgument {
                    op: OP,
                    reason: format!(
                        "terms of degrees {} and {} cannot be combined",
                        parts - 1,
                        ct.c.len() - 1
                    ),
                });
            }
            Self::check_finite(OP, *c, scale / ct.scale)?;
        }
        let half = self.params.n() / 2;
        // Per term: the RNS integers of the real and (if any) imaginary parts, and the
        // polynomials `X^{N/2}·c_j` the imaginary part multiplies.
        let mut scalars: Vec<Vec<u64>> = Vec::new();
        let mut rows: Vec<Vec<Poly<Ntt>>> = Vec::new();
        let mut sources: Vec<(usize, Option<usize>)> = Vec::new();
        for (ct, c) in terms {
            let factor = scale / ct.scale;
            let (re, im) = ((c.re * factor).round(), (c.im * factor).round());
            scalars.push(self.const_rns(level, re));
            let re_idx = scalars.len() - 1;
            let im_idx = if im == 0.0 {
                None
            } else {
                scalars.push(self.const_rns(level, im));
                rows.push(ct.c.iter().map(|x| x.mul_monomial(half)).collect());
                Some(scalars.len() - 1)
            };
            sources.push((re_idx, im_idx));
        }
        let c = (0..parts)
            .map(|j| {
                let mut args: Vec<(&Poly<Ntt>, &[u64])> = Vec::with_capacity(scalars.len());
                let mut rotated = rows.iter();
                for ((ct, _), &(re, im)) in terms.iter().zip(&sources) {
                    args.push((&ct.c[j], scalars[re].as_slice()));
                    if let Some(im) = im {
                        let rot = rotated.next().expect("one rotated row per imaginary part");
                        args.push((&rot[j], scalars[im].as_slice()));
                    }
                }
                Ok(Poly::scalar_dot(&args, level + 1)?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Ciphertext {
            c,
            level,
            scale,
            seed: None,
        })
    }

    /// `ct · k` for an integer `k`: no level consumed, the scale is unchanged.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a foreign ciphertext.
    pub fn mul_int(&self, ct: &Ciphertext, k: i64) -> Result<Ciphertext> {
        self.check_ct("mul_int", ct)?;
        let mut out = ct.clone();
        out.seed = None;
        for x in out.c.iter_mut() {
            x.mul_scalar_i64_assign(k);
        }
        Ok(out)
    }

    /// `i · ct`: every polynomial times the monomial `X^{N/2}`, which is `i` at every slot's
    /// root of unity `ζ^{5^j}` (because `ζ^{N/2} = i` and `5^j ≡ 1 mod 4`). Exact: no level, no
    /// noise, no key; scale and degree are unchanged.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a foreign ciphertext.
    pub fn mul_i(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        self.check_ct("mul_i", ct)?;
        let half = self.params.n() / 2;
        let mut out = ct.clone();
        out.seed = None;
        for x in out.c.iter_mut() {
            *x = x.mul_monomial(half);
        }
        Ok(out)
    }

    /// The tensor product `(a_0 b_0, a_0 b_1 + a_1 b_0, a_1 b_1)`, a degree-2 ciphertext with
    /// scale `a.scale · b.scale`. Relinearize once after summing several of them.
    ///
    /// # Errors
    /// [`Error::LevelMismatch`]; [`Error::DegreeTooHigh`] for an input of degree 2.
    pub fn tensor(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        const OP: &str = "mul";
        self.check_ct(OP, a)?;
        self.check_ct(OP, b)?;
        if a.level != b.level {
            return Err(Error::LevelMismatch {
                op: OP,
                left: a.level,
                right: b.level,
            });
        }
        for x in [a, b] {
            if x.degree() != 1 {
                return Err(Error::DegreeTooHigh {
                    op: OP,
                    degree: x.degree(),
                    max: 1,
                });
            }
        }
        let (d0, (d1, d2)) = rayon::join(
            || a.c[0].mul(&b.c[0]),
            || {
                rayon::join(
                    || -> hetal_math::Result<Poly<Ntt>> {
                        let mut d1 = a.c[0].mul(&b.c[1])?;
                        d1.mul_add_assign(&a.c[1], &b.c[0])?;
                        Ok(d1)
                    },
                    || a.c[1].mul(&b.c[1]),
                )
            },
        );
        Ok(Ciphertext {
            c: vec![d0?, d1?, d2?],
            level: a.level,
            scale: a.scale * b.scale,
            seed: None,
        })
    }

    /// Relinearizes a degree-2 ciphertext to degree 1 (a degree-1 input is returned as is).
    ///
    /// # Errors
    /// [`Error::MissingKey`] without a relinearization key; [`Error::DegreeTooHigh`] above 2.
    pub fn relinearize(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        const OP: &str = "relinearize";
        self.check_ct(OP, ct)?;
        match ct.degree() {
            1 => return Ok(ct.clone()),
            2 => {}
            d => {
                return Err(Error::DegreeTooHigh {
                    op: OP,
                    degree: d,
                    max: 2,
                });
            }
        }
        let rlk = self.rlk.as_ref().ok_or_else(|| Error::MissingKey {
            op: OP,
            what: "relinearization key".into(),
        })?;
        let (mut c0, mut c1) = key_switch_single(&self.params, &ct.c[2], ct.level, &rlk.key)?;
        c0.add_assign(&ct.c[0])?;
        c1.add_assign(&ct.c[1])?;
        Ok(Ciphertext {
            c: vec![c0, c1],
            level: ct.level,
            scale: ct.scale,
            seed: None,
        })
    }

    /// The relinearization key when `a · b` can take a fused path: both valid degree-1
    /// ciphertexts of one level and the key present. Otherwise the caller runs the two-step
    /// form, which reports the error.
    fn fusable_product(&self, a: &Ciphertext, b: &Ciphertext) -> Option<&RelinearizationKey> {
        self.rlk.as_deref().filter(|_| {
            self.check_ct("mul", a).is_ok()
                && self.check_ct("mul", b).is_ok()
                && a.level == b.level
                && a.degree() == 1
                && b.degree() == 1
        })
    }

    /// Tensor product followed by relinearization (no rescale).
    ///
    /// # Errors
    /// As [`Evaluator::tensor`] and [`Evaluator::relinearize`].
    pub fn mul_relin(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        // Every error case (and its message) is exactly that of the two-step form.
        let Some(rlk) = self.fusable_product(a, b) else {
            return self.relinearize(&self.tensor(a, b)?);
        };
        // Fused: key-switch a_1 b_1 (a pooled temporary), then add a_0 b_0 and a_0 b_1 + a_1 b_0
        // in place into the two outputs. Same result as `relinearize(tensor(a, b))` without
        // materializing the degree-2 ciphertext.
        let level = a.level;
        let d2 = pointwise_product(&a.c[1], &b.c[1])?;
        let switched = key_switch_single(&self.params, &d2, level, &rlk.key);
        give_buffer(d2.into_data());
        let (mut c0, mut c1) = switched?;
        let (r0, r1) = rayon::join(
            || c0.mul_add_assign(&a.c[0], &b.c[0]),
            || -> hetal_math::Result<()> {
                c1.mul_add_assign(&a.c[0], &b.c[1])?;
                c1.mul_add_assign(&a.c[1], &b.c[0])
            },
        );
        r0?;
        r1?;
        Ok(Ciphertext {
            c: vec![c0, c1],
            level,
            scale: a.scale * b.scale,
            seed: None,
        })
    }

    /// `rescale(mul_relin(a, b))` in one step: the relinearization's ModDown divides by
    /// `P·q_l` at once (`q_l` joins the special primes), so the separate rescale and its NTTs
    /// disappear and the result has one rounding instead of two. Level `l -> l - 1`, scale
    /// `s_a·s_b / q_l`.
    ///
    /// # Errors
    /// As [`Evaluator::mul_relin`] and [`Evaluator::rescale`].
    pub fn mul_relin_rescale(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        // Every error case (and its message) is exactly that of the two-step form.
        let rlk = match self.fusable_product(a, b) {
            Some(rlk) if a.level >= 1 => rlk,
            _ => return self.rescale(&self.mul_relin(a, b)?),
        };
        let level = a.level;
        let d2 = pointwise_product(&a.c[1], &b.c[1])?;
        let d0 = pointwise_product(&a.c[0], &b.c[0])?;
        let mut d1 = pointwise_product(&a.c[0], &b.c[1])?;
        d1.mul_add_assign(&a.c[1], &b.c[0])?;
        let switched =
            crate::keyswitch::relinearize_rescale(&self.params, [&d0, &d1, &d2], level, &rlk.key);
        for d in [d0, d1, d2] {
            give_buffer(d.into_data());
        }
        let (c0, c1) = switched?;
        Ok(Ciphertext {
            c: vec![c0, c1],
            level: level - 1,
            scale: a.scale * b.scale / self.params.q_primes()[level] as f64,
            seed: None,
        })
    }

    /// Divides by the last prime `q_level` with exact rounding: level `l -> l - 1`, scale
    /// `s -> s / q_l`.
    ///
    /// # Errors
    /// [`Error::LevelExhausted`] at level 0.
    pub fn rescale(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        const OP: &str = "rescale";
        self.check_ct(OP, ct)?;
        if ct.level == 0 {
            return Err(Error::LevelExhausted {
                op: OP,
                level: 0,
                needed: 1,
            });
        }
        let q = self.params.q_primes()[ct.level] as f64;
        let c: Result<Vec<Poly<Ntt>>> =
            ct.c.par_iter()
                .map(|x| Ok(x.divide_round_by_last()?))
                .collect();
        Ok(Ciphertext {
            c: c?,
            level: ct.level - 1,
            scale: ct.scale / q,
            seed: None,
        })
    }

    /// Drops the ciphertext to `level` (removes primes; the scale is unchanged, so it no
    /// longer equals the canonical `Δ_level` in general: see
    /// [`Evaluator::drop_to_level_canonical`]).
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`] if `level` is above the ciphertext's level.
    pub fn drop_to_level(&self, ct: &Ciphertext, level: usize) -> Result<Ciphertext> {
        self.check_reaches("drop_to_level", ct, level)?;
        // Copies only the kept limbs (the truncation in polynomial evaluation and the plaintext
        // terms of a linear combination go through here).
        let c: Result<Vec<Poly<Ntt>>> = ct.c.iter().map(|x| Ok(x.prefix(level + 1)?)).collect();
        Ok(Ciphertext {
            c: c?,
            level,
            scale: ct.scale,
            seed: None,
        })
    }

    /// Moves a ciphertext at the canonical scale `Δ_l` to level `t < l` with the canonical
    /// scale `Δ_t` ([`Evaluator::drop_to_level_at_scale`] with `Δ_t`).
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`] unless `t < ct.level()`.
    pub fn drop_to_level_canonical(&self, ct: &Ciphertext, t: usize) -> Result<Ciphertext> {
        self.drop_to_level_at_scale(ct, t, self.params.scale_at(t))
    }

    /// Moves a ciphertext to level `t < l` with the scale `target`: drop to `t + 1`, multiply
    /// by the constant 1 encoded at `target · q_{t+1} / scale`, rescale. The constant is rounded
    /// to an integer of about the size of `target`, so the recorded scale is exact up to the
    /// relative rounding of that integer.
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`] unless `t < ct.level()`.
    pub fn drop_to_level_at_scale(
        &self,
        ct: &Ciphertext,
        t: usize,
        target: f64,
    ) -> Result<Ciphertext> {
        const OP: &str = "drop_to_level_at_scale";
        self.check_ct(OP, ct)?;
        if t >= ct.level {
            return Err(Error::LevelTooHigh {
                op: OP,
                level: t,
                max: ct.level.saturating_sub(1),
            });
        }
        let dropped = self.drop_to_level(ct, t + 1)?;
        let q = self.params.q_primes()[t + 1] as f64;
        let m =
            self.mul_const_at_scale(&dropped, Complex64::new(1.0, 0.0), target * q / ct.scale)?;
        let mut out = self.rescale(&m)?;
        out.scale = target;
        Ok(out)
    }

    /// The Galois key of `g` for a ciphertext at `level`: `MissingKey` if absent, an error if
    /// the key was generated below `level` (bootstrapping generates its SlotsToCoeffs keys at
    /// the level they are used at).
    fn key_for(
        &self,
        op: &'static str,
        g: usize,
        level: usize,
        what: impl Fn() -> String,
    ) -> Result<&SwitchingKey> {
        let key = self
            .gks
            .as_ref()
            .and_then(|k| k.get(g))
            .ok_or_else(|| Error::MissingKey { op, what: what() })?;
        let key_level = key.level(&self.params);
        if level > key_level {
            return Err(Error::InvalidArgument {
                op,
                reason: format!(
                    "the key for {} was generated at level {key_level}, below the ciphertext's \
                     level {level}",
                    what()
                ),
            });
        }
        Ok(key)
    }

    fn check_degree1(op: &'static str, ct: &Ciphertext) -> Result<()> {
        if ct.degree() != 1 {
            return Err(Error::DegreeTooHigh {
                op,
                degree: ct.degree(),
                max: 1,
            });
        }
        Ok(())
    }

    /// `σ_g((c_0, 0) + KeySwitch(c_1))` with the pre-rotated key of `g` and a decomposition of
    /// the unrotated `c_1`. The addition and `σ_g` are fused into ModDown's last pass.
    fn galois_from_decomposition(
        &self,
        ct: &Ciphertext,
        dec: &Decomposition,
        g: usize,
        key: &SwitchingKey,
    ) -> Result<Ciphertext> {
        let perm = automorphism_permutation(self.params.n(), g)?;
        let (f0, f1) = Self::galois_finish(ct, &perm);
        let (c0, c1) = key_switch_with(&self.params, dec, key, f0, f1)?;
        Ok(Ciphertext {
            c: vec![c0, c1],
            level: ct.level,
            scale: ct.scale,
            seed: None,
        })
    }

    /// ModDown finishes `(σ(· + c_0), σ(·))` of a Galois key switch of `ct`.
    fn galois_finish<'a>(ct: &'a Ciphertext, perm: &'a [u32]) -> (Finish<'a>, Finish<'a>) {
        (
            Finish {
                add: Some(&ct.c[0]),
                add_weight: None,
                perm: Some(perm),
            },
            Finish {
                add: None,
                add_weight: None,
                perm: Some(perm),
            },
        )
    }

    fn apply_galois(&self, ct: &Ciphertext, g: usize, key: &SwitchingKey) -> Result<Ciphertext> {
        let perm = automorphism_permutation(self.params.n(), g)?;
        let (f0, f1) = Self::galois_finish(ct, &perm);
        let (c0, c1) = key_switch_single_with(&self.params, &ct.c[1], ct.level, key, f0, f1)?;
        Ok(Ciphertext {
            c: vec![c0, c1],
            level: ct.level,
            scale: ct.scale,
            seed: None,
        })
    }

    /// Applies the automorphism `X -> X^g` and switches back to the secret key.
    ///
    /// # Errors
    /// [`Error::MissingKey`] without the key for `g`; [`Error::DegreeTooHigh`] for degree 2.
    pub fn automorphism(&self, ct: &Ciphertext, g: usize) -> Result<Ciphertext> {
        const OP: &str = "automorphism";
        self.check_ct(OP, ct)?;
        Self::check_degree1(OP, ct)?;
        let g = g % (2 * self.params.n());
        if g == 1 {
            return Ok(ct.clone());
        }
        let key = self.key_for(OP, g, ct.level, || format!("Galois element {g}"))?;
        self.apply_galois(ct, g, key)
    }

    /// Rotates the slots left by `k` (negative: right), cyclically over the slots.
    ///
    /// # Errors
    /// [`Error::MissingKey`] without the rotation key; [`Error::DegreeTooHigh`] for degree 2.
    pub fn rotate(&self, ct: &Ciphertext, k: i64) -> Result<Ciphertext> {
        const OP: &str = "rotate";
        self.check_ct(OP, ct)?;
        Self::check_degree1(OP, ct)?;
        let g = self.params.galois_element(k);
        if g == 1 {
            return Ok(ct.clone());
        }
        let key = self.key_for(OP, g, ct.level, || {
            format!("rotation by {k} (Galois element {g})")
        })?;
        self.apply_galois(ct, g, key)
    }

    /// Complex conjugation of every slot.
    ///
    /// # Errors
    /// [`Error::MissingKey`] without the conjugation key; [`Error::DegreeTooHigh`].
    pub fn conjugate(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        const OP: &str = "conjugate";
        self.check_ct(OP, ct)?;
        Self::check_degree1(OP, ct)?;
        let g = self.params.conjugation_element();
        let key = self.key_for(OP, g, ct.level, || {
            format!("conjugation (Galois element {g})")
        })?;
        self.apply_galois(ct, g, key)
    }

    /// Switches a degree-1 ciphertext to the secret a general switching key targets (from
    /// [`SecretKey::switching_key_to`](crate::keys::SecretKey::switching_key_to)): `(c_0, 0) +
    /// KeySwitch(c_1)`, at the same level and scale. Works at any level up to the key's
    /// [`level`](SwitchingKey::level); used by sparse-secret encapsulation
    /// ([`crate::bootstrap::encapsulation`]).
    ///
    /// ```
    /// use hetal_ckks::prelude::*;
    /// use rand_chacha::ChaCha20Rng;
    /// use rand_core::SeedableRng;
    /// let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
    /// let mut rng = ChaCha20Rng::seed_from_u64(7);
    /// let s = SecretKey::generate(&params, &mut rng).unwrap();
    /// let t = SecretKey::generate_with_hamming_weight(&params, 32, &mut rng).unwrap();
    /// let key = s.switching_key_to(&t, 1, &mut rng).unwrap();
    /// let eval = Evaluator::new(&params);
    /// let pt = params.encode_real(&[0.5, -0.25], 1, params.scale_at(1)).unwrap();
    /// let ct = Decryptor::new(&s).encrypt_symmetric(&pt, &mut rng).unwrap();
    /// let out = Decryptor::new(&t).decrypt_decode(&eval.switch_key(&ct, &key).unwrap()).unwrap();
    /// assert!((out[0].re - 0.5).abs() < 1e-4 && (out[1].re + 0.25).abs() < 1e-4);
    /// // Above the key's level: refused.
    /// let high = params.encode_real(&[0.5], 2, params.scale_at(2)).unwrap();
    /// let ct2 = Decryptor::new(&s).encrypt_symmetric(&high, &mut rng).unwrap();
    /// assert!(eval.switch_key(&ct2, &key).is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::DegreeTooHigh`] for degree 2; [`Error::InvalidArgument`] for a key of other
    /// parameters or a ciphertext above the key's level.
    pub fn switch_key(&self, ct: &Ciphertext, key: &SwitchingKey) -> Result<Ciphertext> {
        const OP: &str = "switch_key";
        self.check_ct(OP, ct)?;
        Self::check_degree1(OP, ct)?;
        let k = self.params.p_primes().len();
        let limbs = key.b.first().map_or(0, |b| b.num_limbs());
        let key_level = limbs.saturating_sub(k + 1);
        let foreign = || Error::InvalidArgument {
            op: OP,
            reason: "the switching key does not belong to these parameters".into(),
        };
        if limbs <= k || key_level > self.params.max_level() {
            return Err(foreign());
        }
        let ctx = self.params.qp_context(key_level)?;
        if key.b.len() != self.params.digits_at(key_level).len()
            || key
                .b
                .iter()
                .chain(key.a.iter().flatten())
                .any(|p| !p.context().same_ring(&ctx))
        {
            return Err(foreign());
        }
        if ct.level > key_level {
            return Err(Error::InvalidArgument {
                op: OP,
                reason: format!(
                    "ciphertext at level {} is above level {key_level}, the highest level the \
                     switching key was generated for (generate it at level >= {})",
                    ct.level, ct.level
                ),
            });
        }
        let (mut c0, c1) = key_switch_single(&self.params, &ct.c[1], ct.level, key)?;
        c0.add_assign(&ct.c[0])?;
        Ok(Ciphertext {
            c: vec![c0, c1],
            level: ct.level,
            scale: ct.scale,
            seed: None,
        })
    }

    /// Decomposes `c_1` once for several rotations (hoisting).
    ///
    /// # Errors
    /// [`Error::DegreeTooHigh`] for degree 2.
    pub fn decompose(&self, ct: &Ciphertext) -> Result<Decomposition> {
        const OP: &str = "decompose";
        self.check_ct(OP, ct)?;
        Self::check_degree1(OP, ct)?;
        decompose(&self.params, &ct.c[1], ct.level)
    }

    /// Rotation by `k` reusing a decomposition of the same ciphertext's `c_1`.
    ///
    /// # Errors
    /// [`Error::MissingKey`]; [`Error::InvalidArgument`] if the decomposition is of another
    /// level.
    pub fn rotate_with_decomposition(
        &self,
        ct: &Ciphertext,
        dec: &Decomposition,
        k: i64,
    ) -> Result<Ciphertext> {
        const OP: &str = "rotate_hoisted";
        if dec.level != ct.level {
            return Err(Error::LevelMismatch {
                op: OP,
                left: ct.level,
                right: dec.level,
            });
        }
        let g = self.params.galois_element(k);
        if g == 1 {
            return Ok(ct.clone());
        }
        let key = self.key_for(OP, g, ct.level, || {
            format!("rotation by {k} (Galois element {g})")
        })?;
        self.galois_from_decomposition(ct, dec, g, key)
    }

    /// Hoisted rotations: one decomposition (ModUp) of `c_1`, then one key-switching inner
    /// product and ModDown per step. Returns the rotations in the order of `steps`.
    ///
    /// # Errors
    /// [`Error::MissingKey`] for a missing step; [`Error::DegreeTooHigh`] for degree 2.
    pub fn rotate_hoisted(&self, ct: &Ciphertext, steps: &[i64]) -> Result<Vec<Ciphertext>> {
        const OP: &str = "rotate_hoisted";
        self.check_ct(OP, ct)?;
        Self::check_degree1(OP, ct)?;
        for &k in steps {
            let g = self.params.galois_element(k);
            if g != 1 {
                self.key_for(OP, g, ct.level, || {
                    format!("rotation by {k} (Galois element {g})")
                })?;
            }
        }
        let dec = self.decompose(ct)?;
        steps
            .par_iter()
            .map(|&k| self.rotate_with_decomposition(ct, &dec, k))
            .collect()
    }

    /// Hoisted automorphisms `X -> X^g` for explicit Galois elements (one decomposition of
    /// `c_1`, then one inner product and ModDown per element). Bootstrapping uses it on slot
    /// "views" whose rotations are not those of the parameters' own slot count (the `2n`-slot
    /// view of sparse packing). Element 1 returns the input.
    ///
    /// # Errors
    /// [`Error::MissingKey`] for a missing element; [`Error::DegreeTooHigh`] for degree 2.
    pub fn automorphisms_hoisted(
        &self,
        ct: &Ciphertext,
        elements: &[usize],
    ) -> Result<Vec<Ciphertext>> {
        const OP: &str = "automorphisms_hoisted";
        self.check_ct(OP, ct)?;
        Self::check_degree1(OP, ct)?;
        let two_n = 2 * self.params.n();
        let mut keys = Vec::with_capacity(elements.len());
        for &g in elements {
            let g = g % two_n;
            if g == 1 {
                keys.push((g, None));
            } else {
                keys.push((
                    g,
                    Some(self.key_for(OP, g, ct.level, || format!("Galois element {g}"))?),
                ));
            }
        }
        let dec = self.decompose(ct)?;
        keys.par_iter()
            .map(|&(g, key)| match key {
                None => Ok(ct.clone()),
                Some(key) => self.galois_from_decomposition(ct, &dec, g, key),
            })
            .collect()
    }

    /// The inner sums of a baby-step giant-step linear transform: for every group,
    /// `Σ_(g, p) p ⊙ σ_g(ct)` (no rescale; scale `scale(ct)·scale(p)`, the same for every
    /// plaintext of a group) over automorphisms `X -> X^g` of the same ciphertext.
    ///
    /// With plaintexts that carry their `P` limbs ([`Parameters::encode_extended`]) this is
    /// **double hoisting** (Bossuat, Mouchet, Troncoso-Pastoriza, Hubaux, Eurocrypt 2021,
    /// Sec. 3.3): one decomposition of `c_1`, one key-switching inner product per element, the
    /// automorphisms kept over `Q_l ∪ P` (`σ(x + P·c_0)`, `σ(x')`, no division), each group
    /// summed there in one lazy-reduction pass per limb, and **one ModDown per group** instead
    /// of one per automorphism: fewer NTTs and one rounding instead of one per term.
    /// Otherwise the automorphisms are hoisted ([`Evaluator::automorphisms_hoisted`]) and the
    /// products summed.
    ///
    /// # Errors
    /// [`Error::MissingKey`] for a missing element; [`Error::DegreeTooHigh`];
    /// [`Error::LevelMismatch`] for a plaintext below the ciphertext;
    /// [`Error::ScaleMismatch`] for plaintexts of different scales in a group;
    /// [`Error::InvalidArgument`] for an empty group or foreign plaintexts.
    pub fn automorphism_sums(
        &self,
        ct: &Ciphertext,
        groups: &[Vec<(usize, &Plaintext)>],
    ) -> Result<Vec<Ciphertext>> {
        const OP: &str = "automorphism_sums";
        self.check_ct(OP, ct)?;
        Self::check_degree1(OP, ct)?;
        let level = ct.level;
        let two_n = 2 * self.params.n();
        let k = self.params.p_primes().len();
        for group in groups {
            let Some((_, first)) = group.first() else {
                return Err(Error::InvalidArgument {
                    op: OP,
                    reason: "an empty group".into(),
                });
            };
            for (_, pt) in group {
                if pt.level < level {
                    return Err(Error::LevelMismatch {
                        op: OP,
                        left: level,
                        right: pt.level,
                    });
                }
                if !scales_match(pt.scale, first.scale) {
                    return Err(Error::ScaleMismatch {
                        op: OP,
                        level,
                        left: first.scale,
                        right: pt.scale,
                    });
                }
            }
        }
        let mut elements: Vec<usize> = groups.iter().flatten().map(|(g, _)| g % two_n).collect();
        elements.sort_unstable();
        elements.dedup();
        let extended = groups.iter().flatten().all(|(_, pt)| {
            pt.num_limbs() == pt.level + 1 + k
                && self
                    .params
                    .qp_context(pt.level)
                    .is_ok_and(|c| pt.context().same_ring(&c))
        });
        if !extended || k == 0 {
            let rotated = self.automorphisms_hoisted(ct, &elements)?;
            return groups
                .iter()
                .map(|group| {
                    let mut acc: Option<Ciphertext> = None;
                    for (g, pt) in group {
                        let i = elements.binary_search(&(g % two_n)).expect("collected");
                        let prod = self.mul_plain(&rotated[i], pt)?;
                        acc = Some(match acc {
                            None => prod,
                            Some(a) => self.add(&a, &prod)?,
                        });
                    }
                    Ok(acc.expect("groups are not empty"))
                })
                .collect();
        }
        let keys: Vec<Option<&SwitchingKey>> = elements
            .iter()
            .map(|&g| {
                if g == 1 {
                    Ok(None)
                } else {
                    self.key_for(OP, g, level, || format!("Galois element {g}"))
                        .map(Some)
                }
            })
            .collect::<Result<_>>()?;
        let n = self.params.n();
        let qp = self.params.qp_context(level)?;
        let q_len = level + 1;
        let limbs = q_len + k;
        let moduli = qp.moduli();
        // [P]_{q_j}: the ciphertext lifted to Q_l ∪ P as P·ct (zero modulo P).
        let p_mod_q: Vec<u64> = moduli[..q_len]
            .iter()
            .map(|m| {
                self.params
                    .p_primes()
                    .iter()
                    .fold(1u64, |acc, &p| m.mul(acc, m.reduce(p)))
            })
            .collect();
        // P·c_0 and P·c_1 over Q_l (computed once; every automorphism adds σ of them).
        let lift = |c: &Poly<Ntt>| -> Vec<u64> {
            let mut out = vec![0u64; q_len * n];
            out.par_chunks_mut(n).enumerate().for_each(|(j, dst)| {
                let (m, w) = (&moduli[j], p_mod_q[j]);
                for (d, &x) in dst.iter_mut().zip(c.limb(j)) {
                    *d = m.mul(x, w);
                }
            });
            out
        };
        let p_c0 = lift(&ct.c[0]);
        let dec = if keys.iter().any(Option::is_some) {
            Some(decompose(&self.params, &ct.c[1], level)?)
        } else {
            None
        };
        // Every automorphism over Q_l ∪ P: (σ(x_0 + P·c_0), σ(x_1)), limb-major.
        let rotated: Vec<[Vec<u64>; 2]> = elements
            .iter()
            .zip(&keys)
            .map(|(&g, key)| {
                let Some(key) = key else {
                    // The identity: (P·c_0, P·c_1), zero modulo P.
                    let mut r0 = p_c0.clone();
                    let mut r1 = lift(&ct.c[1]);
                    r0.resize(limbs * n, 0);
                    r1.resize(limbs * n, 0);
                    return Ok([r0, r1]);
                };
                let dec = dec.as_ref().expect("decomposed when a key is used");
                let (mut x0, x1) = inner_product(&self.params, dec, key)?;
                let perm = automorphism_permutation(n, g)?;
                // Pooled outputs (fully overwritten: no zeroing), P·c_0 added before the
                // permutation, vectorized gathers.
                let mut r0 = take_buffer(limbs * n);
                let mut r1 = take_buffer(limbs * n);
                r0.par_chunks_mut(n)
                    .zip(r1.par_chunks_mut(n))
                    .zip(x0.par_chunks_mut(n))
                    .enumerate()
                    .for_each(|(t, ((d0, d1), s0))| {
                        if t < q_len {
                            let m = &moduli[t];
                            for (v, &c) in s0.iter_mut().zip(&p_c0[t * n..(t + 1) * n]) {
                                *v = m.add(*v, c);
                            }
                        }
                        gather(d0, s0, &perm);
                        gather(d1, &x1[t * n..(t + 1) * n], &perm);
                    });
                give_buffer(x0);
                give_buffer(x1);
                Ok([r0, r1])
            })
            .collect::<Result<_>>()?;
        let sums = groups
            .iter()
            .map(|group| {
                // Pooled: `dot_var` overwrites every element.
                let mut acc = [take_buffer(limbs * n), take_buffer(limbs * n)];
                for (part, out) in acc.iter_mut().enumerate() {
                    out.par_chunks_mut(n).enumerate().for_each(|(t, dst)| {
                        let rows: Vec<&[u64]> = group
                            .iter()
                            .map(|(g, _)| {
                                let i = elements.binary_search(&(g % two_n)).expect("collected");
                                &rotated[i][part][t * n..(t + 1) * n]
                            })
                            .collect();
                        // Q limb t, or P limb t - q_len (after the plaintext's own Q).
                        let limb_of = |pt: &Plaintext| {
                            if t < q_len {
                                t
                            } else {
                                pt.level + 1 + (t - q_len)
                            }
                        };
                        plain_dot(&moduli[t], &rows, group, limb_of, dst);
                    });
                }
                let down = mod_down_pair(&self.params, level, &acc[0], &acc[1]);
                let [a0, a1] = acc;
                give_buffer(a0);
                give_buffer(a1);
                let (c0, c1) = down?;
                Ok(Ciphertext {
                    c: vec![c0, c1],
                    level,
                    scale: ct.scale * group[0].1.scale,
                    seed: None,
                })
            })
            .collect::<Result<Vec<_>>>();
        for [r0, r1] in rotated {
            give_buffer(r0);
            give_buffer(r1);
        }
        sums
    }

    /// `Σ_k rotate(ct, k)` over `steps` with one decomposition (ModUp) and a single ModDown:
    /// the key-switching inner products of all steps are rotated and summed over `Q_l ∪ P`
    /// before dividing by `P` (hoisting both ends, as in BSGS linear transforms). A step of 0
    /// (or a multiple of the slot count) adds `ct` itself.
    ///
    /// # Errors
    /// [`Error::MissingKey`] for a missing step; [`Error::DegreeTooHigh`] for degree 2;
    /// [`Error::InvalidArgument`] for an empty `steps`.
    pub fn sum_rotations_hoisted(&self, ct: &Ciphertext, steps: &[i64]) -> Result<Ciphertext> {
        const OP: &str = "sum_rotations_hoisted";
        self.check_ct(OP, ct)?;
        Self::check_degree1(OP, ct)?;
        if steps.is_empty() {
            return Err(Error::InvalidArgument {
                op: OP,
                reason: "no rotation steps".into(),
            });
        }
        let mut keyed = Vec::with_capacity(steps.len());
        let mut identity = 0i64;
        for &k in steps {
            let g = self.params.galois_element(k);
            if g == 1 {
                identity += 1;
            } else {
                let key = self.key_for(OP, g, ct.level, || {
                    format!("rotation by {k} (Galois element {g})")
                })?;
                keyed.push((g, key));
            }
        }
        let n = self.params.n();
        let level = ct.level;
        let qp = self.params.qp_context(level)?;
        let q = self.params.q_context(level)?;
        let mut c0 = ct.c[0].clone();
        let mut c1 = ct.c[1].clone();
        c0.mul_scalar_i64_assign(identity);
        c1.mul_scalar_i64_assign(identity);
        if !keyed.is_empty() {
            let dec = decompose(&self.params, &ct.c[1], level)?;
            let limbs = qp.num_limbs();
            let mut acc0 = vec![0u64; limbs * n];
            let mut acc1 = vec![0u64; limbs * n];
            let mut c0_acc = vec![0u64; (level + 1) * n];
            for (g, key) in keyed {
                let perm = automorphism_permutation(n, g)?;
                let (x0, x1) = inner_product(&self.params, &dec, key)?;
                add_permuted(&mut acc0, &x0, &perm, qp.moduli());
                add_permuted(&mut acc1, &x1, &perm, qp.moduli());
                add_permuted(&mut c0_acc, ct.c[0].data(), &perm, q.moduli());
                give_buffer(x0);
                give_buffer(x1);
            }
            let (d0, d1) = mod_down_pair(&self.params, level, &acc0, &acc1)?;
            c0.add_assign(&d0)?;
            c0.add_assign(&Poly::from_limbs(&q, c0_acc)?)?;
            c1.add_assign(&d1)?;
        }
        Ok(Ciphertext {
            c: vec![c0, c1],
            level,
            scale: ct.scale,
            seed: None,
        })
    }

    /// The rotation steps [`Evaluator::rotate_and_sum`] needs: `step · 2^i` for
    /// `2^i < count`.
    pub fn rotate_and_sum_steps(step: i64, count: usize) -> Vec<i64> {
        let mut out = Vec::new();
        let mut k = 1usize;
        while k < count {
            out.push(step * k as i64);
            k <<= 1;
        }
        out
    }

    /// `Σ_{j < count} rotate(ct, j · step)` with `log2(count)` rotations (`count` a power of
    /// two). With `step = 1` and `count = slots` every slot ends up holding the total.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `count` is not a power of two; [`Error::MissingKey`].
    pub fn rotate_and_sum(&self, ct: &Ciphertext, step: i64, count: usize) -> Result<Ciphertext> {
        if !count.is_power_of_two() {
            return Err(Error::InvalidArgument {
                op: "rotate_and_sum",
                reason: format!("count {count} is not a power of two"),
            });
        }
        let mut acc = ct.clone();
        for k in Self::rotate_and_sum_steps(step, count) {
            let r = self.rotate(&acc, k)?;
            acc = self.add(&acc, &r)?;
        }
        Ok(acc)
    }
}

/// Columns per chunk of [`plain_dot`] for compacted plaintexts (32 KiB per row: a group's
/// expanded rows stay in L2).
const PLAIN_DOT_CHUNK: usize = 4096;

/// `dst = Σ_j rows_j ⊙ pt_j` on one limb (`limb_of(pt_j)` is the plaintext's limb index), with
/// compacted plaintexts ([`Plaintext::compacted`]) expanded chunk by chunk into a buffer of
/// the calling thread: the group's plaintext rows then come from cache, not from memory.
fn plain_dot(
    m: &hetal_math::Modulus,
    rows: &[&[u64]],
    group: &[(usize, &Plaintext)],
    limb_of: impl Fn(&Plaintext) -> usize,
    dst: &mut [u64],
) {
    let full: Option<Vec<&[u64]>> = group
        .iter()
        .map(|(_, pt)| pt.full_limb(limb_of(pt)))
        .collect();
    if let Some(pts) = full {
        dot_var(m, rows, &pts, dst);
        return;
    }
    thread_local! {
        static EXPANDED: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    EXPANDED.with_borrow_mut(|scratch| {
        let chunk = PLAIN_DOT_CHUNK.min(dst.len());
        if scratch.len() < group.len() * chunk {
            scratch.resize(group.len() * chunk, 0);
        }
        for start in (0..dst.len()).step_by(chunk) {
            let len = chunk.min(dst.len() - start);
            for ((_, pt), buf) in group.iter().zip(scratch.chunks_mut(chunk)) {
                if pt.full_limb(limb_of(pt)).is_none() {
                    pt.write_limb_segment(limb_of(pt), start, &mut buf[..len]);
                }
            }
            let pts: Vec<&[u64]> = group
                .iter()
                .zip(scratch.chunks(chunk))
                .map(|((_, pt), buf)| match pt.full_limb(limb_of(pt)) {
                    Some(limb) => &limb[start..start + len],
                    None => &buf[..len],
                })
                .collect();
            let row_chunks: Vec<&[u64]> = rows.iter().map(|r| &r[start..start + len]).collect();
            dot_var(m, &row_chunks, &pts, &mut dst[start..start + len]);
        }
    });
}

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn evaluator_is_send_sync() {
        assert_send_sync::<super::Evaluator>();
        assert_send_sync::<crate::keys::GaloisKeys>();
        assert_send_sync::<crate::ciphertext::Ciphertext>();
    }
}
