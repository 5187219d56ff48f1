//! The slot backend bootstrapping runs its generic circuits on: CKKS with **explicit scales**.
//!
//! The seam's canonical rule `Δ_{l-1} = Δ_l² / q_l` does not fit a bootstrapping chain (a
//! `2^60` ciphertext on 56-bit CoeffsToSlots primes would grow by 4 bits per level). The
//! generic circuits ([`crate::lintrans`], [`crate::polyeval`], [`super::dft`]) only ever
//! (a) encode plaintexts and constants "for level `l`" and (b) ask for the canonical scale of a
//! level when they align levels. A [`BootView`] answers both from two tables fixed when the
//! bootstrapper is built:
//!
//! - `ct_scale[l]`: the scale a ciphertext at level `l` has in this phase (`scale_at`);
//! - `pt_scale[l]`: the scale plaintexts and constants multiplied into level `l` are encoded at.
//!
//! A plaintext product followed by a rescale maps `ct_scale[l]` to
//! `ct_scale[l]·pt_scale[l]/q_l`, and the tables are built so that this is `ct_scale[l-1]`.
//! CoeffsToSlots uses `pt_scale = q_l` (the scale is preserved); EvalMod uses the canonical rule
//! (`pt_scale = ct_scale`, needed for ciphertext products) run backwards from the scale it must
//! end on; SlotsToCoeffs uses `pt_scale = q_l·ρ` with `ρ` chosen so that it lands exactly on the
//! canonical scale of the output level.
//!
//! The view also has its own slot count: `2n` for the packed sparse DFT (on which an `n`-slot
//! ciphertext reads `[z, z]`), with its own encoder and Galois elements.

use num_complex::Complex64;

use crate::backend::SlotBackend;
use crate::ciphertext::Ciphertext;
use crate::encoding::{Encoder, galois_element};
use crate::error::{Error, Result};
use crate::evaluator::Evaluator;
use crate::plaintext::{Plaintext, encode_extended_with};

/// CKKS with per-level ciphertext and plaintext scales, on a `2^log_slots`-slot view.
#[derive(Clone, Debug)]
pub struct BootView {
    eval: Evaluator,
    encoder: Encoder,
    ct_scale: Vec<f64>,
    pt_scale: Vec<f64>,
}

impl BootView {
    /// A view over `eval` with the given scale tables (one entry per level of the full chain)
    /// and slot count `2^log_slots` (at most `N/2`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for tables of the wrong length or an invalid slot count.
    pub fn new(
        eval: Evaluator,
        log_slots: u32,
        ct_scale: Vec<f64>,
        pt_scale: Vec<f64>,
    ) -> Result<Self> {
        let levels = eval.params().max_level() + 1;
        if ct_scale.len() != levels || pt_scale.len() != levels {
            return Err(Error::InvalidArgument {
                op: "BootView::new",
                reason: format!("scale tables must have {levels} entries"),
            });
        }
        let encoder = Encoder::new(eval.params().log_n(), log_slots)?;
        Ok(Self {
            eval,
            encoder,
            ct_scale,
            pt_scale,
        })
    }

    /// The same tables over another evaluator (the one holding the bootstrapping keys).
    pub fn with_evaluator(&self, eval: Evaluator) -> Self {
        Self {
            eval,
            ..self.clone()
        }
    }

    /// The evaluator.
    pub fn evaluator(&self) -> &Evaluator {
        &self.eval
    }

    /// The plaintext scale of `level`.
    pub fn pt_scale(&self, level: usize) -> f64 {
        self.pt_scale[level]
    }

    /// The Galois element of a left rotation by `k` slots of this view.
    pub fn galois_element(&self, k: i32) -> usize {
        galois_element(
            self.eval.params().log_n(),
            self.encoder.log_slots(),
            k as i64,
        )
    }

    fn check_level(&self, op: &'static str, level: usize) -> Result<()> {
        self.eval.params().check_level(op, level)
    }
}

impl SlotBackend for BootView {
    type Ct = Ciphertext;
    type Pt = Plaintext;

    crate::ckks_backend::evaluator_slot_ops!();

    fn slots(&self) -> usize {
        self.encoder.slots()
    }

    fn max_level(&self) -> usize {
        self.eval.params().max_level()
    }

    fn scale_at(&self, level: usize) -> f64 {
        self.ct_scale[level]
    }

    fn encode(&self, values: &[Complex64], level: usize) -> Result<Plaintext> {
        self.check_level("BootView::encode", level)?;
        self.encode_at_scale(values, level, self.pt_scale[level])
    }

    fn encode_at_scale(&self, values: &[Complex64], level: usize, scale: f64) -> Result<Plaintext> {
        self.check_level("BootView::encode", level)?;
        // Over Q_level ∪ P, for the double-hoisted linear transforms (`rotation_sums`): the
        // DFT plaintexts are encoded once, at setup, and compacted: the diagonals of every DFT
        // level but one per transform are periodic slot vectors (`Plaintext::compacted`).
        encode_extended_with(self.eval.params(), &self.encoder, values, level, scale)
            .map(Plaintext::compacted)
    }

    fn mul_const(&self, a: &Ciphertext, c: Complex64) -> Result<Ciphertext> {
        self.check_level("mul_const", a.level())?;
        self.eval.mul_const_at_scale(a, c, self.pt_scale[a.level()])
    }

    /// Lands exactly on `ct_scale[level]` ([`Evaluator::drop_to_level_at_scale`]).
    fn drop_to_level(&self, a: &Ciphertext, level: usize) -> Result<Ciphertext> {
        crate::ckks_backend::drop_to_level_with_scales(&self.eval, a, level, |l| self.ct_scale[l])
    }

    fn rotate(&self, a: &Ciphertext, steps: i32) -> Result<Ciphertext> {
        self.eval.automorphism(a, self.galois_element(steps))
    }

    fn rotate_hoisted(&self, a: &Ciphertext, steps: &[i32]) -> Result<Vec<Ciphertext>> {
        let elements: Vec<usize> = steps.iter().map(|&k| self.galois_element(k)).collect();
        self.eval.automorphisms_hoisted(a, &elements)
    }

    /// Double hoisting: the view's plaintexts carry their `P` limbs (`encode_at_scale`).
    fn rotation_sums(
        &self,
        a: &Ciphertext,
        groups: &[Vec<(i32, &Plaintext)>],
    ) -> Result<Vec<Ciphertext>> {
        self.eval.automorphism_sums(
            a,
            &crate::ckks_backend::galois_groups(groups, |k| self.galois_element(k)),
        )
    }
}
