//! Multiplication by the imaginary unit, which the backend seam does not (yet) provide.
//!
//! HETAL packs two diagonals into one ciphertext as `x + i·y`. In CKKS, `i·ct` is exact and
//! free: a multiplication of both ciphertext polynomials by the monomial `X^{N/2}` (no level,
//! no key switch, no noise). [`hetal_ckks::backend::SlotBackend`] has no such operation; with
//! `mul_const(ct, i)` the packing would cost one CMult and one level per packed block and
//! HETAL's operation counts would not be met. Until the seam grows a `mul_i`, this trait
//! supplies it for the backends hetal-linalg is run on.

use hetal_ckks::backend::{
    Complex64, CountingBackend, PlainBackend, SlotBackend, SlotClient, scales_match,
};

/// `i · ct`, exactly, without consuming a level or changing the scale.
///
/// ```
/// use hetal_ckks::backend::{Complex64, PlainBackend, ScaleChain, SlotClient};
/// use hetal_linalg::MulByI;
/// # fn main() -> hetal_linalg::Result<()> {
/// let b = PlainBackend::new(4, ScaleChain::uniform(2, 40.0));
/// let x = b.encrypt_real(&[1.0, 2.0], 2)?;
/// let y = b.decrypt(&b.mul_by_i(&x)?)?;
/// assert_eq!(y[1], Complex64::new(0.0, 2.0));
/// # Ok(())
/// # }
/// ```
pub trait MulByI: SlotBackend {
    /// Multiplies every slot by the imaginary unit: same level, same scale, no key switch.
    fn mul_by_i(&self, a: &Self::Ct) -> hetal_ckks::Result<Self::Ct>;
}

/// On [`PlainBackend`] (its own client, there is no secret) the product is re-encoded at the
/// ciphertext's level. The input must be a canonical, degree-1 ciphertext (everything
/// hetal-linalg multiplies by `i` is). With a noise model the re-encryption adds one fresh
/// encryption noise, which CKKS's exact monomial product would not: a slightly pessimistic
/// emulation.
impl MulByI for PlainBackend {
    fn mul_by_i(&self, a: &Self::Ct) -> hetal_ckks::Result<Self::Ct> {
        let level = self.level(a);
        if self.degree(a) != 1 {
            return Err(hetal_ckks::Error::DegreeTooHigh {
                op: "mul_by_i",
                degree: self.degree(a),
                max: 1,
            });
        }
        if !scales_match(self.scale(a), self.scale_at(level)) {
            return Err(hetal_ckks::Error::ScaleMismatch {
                op: "mul_by_i",
                level,
                left: self.scale(a),
                right: self.scale_at(level),
            });
        }
        let i = Complex64::new(0.0, 1.0);
        let values: Vec<Complex64> = self.decrypt(a)?.into_iter().map(|z| z * i).collect();
        self.encrypt(&values, level)
    }
}

/// Counted as nothing: it is neither a CMult nor a key switch in CKKS.
impl<B: MulByI> MulByI for CountingBackend<B> {
    fn mul_by_i(&self, a: &Self::Ct) -> hetal_ckks::Result<Self::Ct> {
        self.inner().mul_by_i(a)
    }
}
