//! Bootstrapping presets: a parameter literal (the full chain, with its residual top as
//! `scale_level`) and the circuit configuration that consumes exactly the levels above it.
//!
//! The chain is, bottom to top: the residual chain (`q_0` and the user levels, scale
//! `2^log_scale`), the SlotsToCoeffs primes, the EvalMod primes, the CoeffsToSlots primes. The
//! measured precision and time of each preset are in `docs/performance.md`.

use super::bootstrapper::BootstrapConfig;
use super::evalmod::EvalModConfig;
use crate::lintrans::BsgsConfig;
use crate::params::{ErrorDistribution, Moduli, ParametersLiteral};
use crate::security::SecretDistribution;

/// A bootstrappable parameter literal and its bootstrapping configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapPreset {
    /// The full chain (`scale_level` = the residual top).
    pub params: ParametersLiteral,
    /// The circuit.
    pub config: BootstrapConfig,
}

/// The chain layout of a preset, in bits.
struct Layout {
    log_n: u32,
    log_slots: Option<u32>,
    residual: Vec<u32>,
    s2c: Vec<u32>,
    evalmod: Vec<u32>,
    c2s: Vec<u32>,
    p: Vec<u32>,
    dnum: usize,
    log_scale: u32,
    secret: SecretDistribution,
    insecure: bool,
}

impl Layout {
    fn build(self, evalmod: EvalModConfig, evalmod_log_scale: f64) -> BootstrapPreset {
        let scale_level = self.residual.len() - 1;
        let config = BootstrapConfig {
            c2s_levels: self.c2s.len(),
            s2c_levels: self.s2c.len(),
            evalmod,
            evalmod_log_scale,
            bsgs: BsgsConfig::default(),
        };
        let mut q = self.residual;
        q.extend(self.s2c);
        q.extend(self.evalmod);
        q.extend(self.c2s);
        BootstrapPreset {
            params: ParametersLiteral {
                log_n: self.log_n,
                q: Moduli::Bits(q),
                p: Moduli::Bits(self.p),
                log_scale: self.log_scale,
                secret: self.secret,
                error: ErrorDistribution::default(),
                dnum: self.dnum,
                log_slots: self.log_slots,
                insecure_for_testing: self.insecure,
                scale_level: Some(scale_level),
            },
            config,
        }
    }
}

/// EvalMod of the test presets: `K = 16` (covers the `|I| <= 15` of a Hamming-weight-32 secret
/// with overwhelming probability), a degree-30 cosine and **4** double angles (9 levels). With
/// Lattigo's 3 double angles the interpolant's error on all of `[-K, K]` (2.2e-10, times `4^3`
/// through the double angles) is ~`2^-29` in units of `q_0`, which SlotsToCoeffs amplifies by
/// `sqrt(n)·2^ratio` into ~15 bits (measured); halving the cosine's frequency makes the degree-30
/// fit exact to `f64` precision. (Lattigo fits only near the integers instead, its
/// `CosDiscrete`; not implemented here.)
fn evalmod_k16() -> EvalModConfig {
    EvalModConfig {
        double_angles: 4,
        ..EvalModConfig::n16qp1546h192h32()
    }
}

impl BootstrapPreset {
    /// **128-bit**, `N = 2^16`, 2^15 slots, modelled on Lattigo's `N16QP1546H192H32` chain
    /// but **without the weight-32 ephemeral secret** (sparse-secret encapsulation is built on
    /// another branch and not merged yet): ModRaise uses the weight-192 secret directly, so
    /// `|I|` reaches about `5·sqrt(193/12) ≈ 20` and EvalMod needs `K = 24` (instead of 16).
    /// For the interpolant to be exact to `f64` precision on all of `[-24, 24]` (its error is
    /// amplified by `sqrt(n)·2^ratio ≈ 2^15.5` into the slots) the degree-30 cosine is followed
    /// by 5 double angles: 10 EvalMod levels instead of Lattigo's 8.
    ///
    /// Chain: residual `Q` = one 60-bit and seven 40-bit primes (**7 levels left** at scale
    /// `2^40`), SlotsToCoeffs 3 × 39 bits, EvalMod 10 × 55 bits, CoeffsToSlots 4 × 56 bits,
    /// `P` = five 61-bit primes (5 digits of 5 primes): `log QP ≈ 1536 <= 1553`, the 128-bit
    /// bound for a Hamming-weight-192 secret. With the encapsulation merged, `K = 16` and two
    /// more levels left become possible.
    pub fn n16_qp1546_h192() -> Self {
        Layout {
            log_n: 16,
            log_slots: None,
            residual: [vec![60], vec![40; 7]].concat(),
            s2c: vec![39; 3],
            evalmod: vec![55; 10],
            c2s: vec![56; 4],
            p: vec![61; 5],
            dnum: 5,
            log_scale: 40,
            secret: SecretDistribution::HammingWeight(192),
            insecure: false,
        }
        .build(
            EvalModConfig {
                k: 24.0,
                degree: 30,
                double_angles: 5,
                arcsine_degree: 0,
                log_message_ratio: 8.0,
            },
            53.0,
        )
    }

    fn insecure_small(log_n: u32, log_slots: Option<u32>, c2s: usize, s2c: usize) -> Self {
        // Digits of at most 4 primes, so that P = 4 × 61 bits covers every digit.
        let dnum = (3 + s2c + 9 + c2s).div_ceil(4);
        Layout {
            log_n,
            log_slots,
            residual: vec![60, 40, 40],
            s2c: vec![39; s2c],
            evalmod: vec![60; 9],
            c2s: vec![56; c2s],
            p: vec![61; 4],
            dnum,
            log_scale: 40,
            secret: SecretDistribution::HammingWeight(32),
            insecure: true,
        }
        .build(evalmod_k16(), 58.0)
    }

    /// **Insecure** test preset: `N = 2^10`, full slots (512), the structure of the 128-bit
    /// preset with fewer levels: residual 60 + 2 × 40 bits (2 levels left), SlotsToCoeffs
    /// 2 × 39, EvalMod 8 × 60, CoeffsToSlots 3 × 56, `P` 4 × 61; secret weight 32.
    pub fn insecure_n10() -> Self {
        Self::insecure_small(10, None, 3, 2)
    }

    /// **Insecure** test preset: `N = 2^11`, full slots (1024); chain as
    /// [`BootstrapPreset::insecure_n10`].
    pub fn insecure_n11() -> Self {
        Self::insecure_small(11, None, 3, 2)
    }

    /// **Insecure** test preset: `N = 2^12`, **sparse** slots (2^7 = 128, packed DFT and
    /// SubSum); chain as [`BootstrapPreset::insecure_n10`].
    pub fn insecure_n12_sparse() -> Self {
        Self::insecure_small(12, Some(7), 3, 2)
    }

    /// **Insecure** test preset: `N = 2^13`, full slots (4096), 4 CoeffsToSlots and 3
    /// SlotsToCoeffs levels as in the 128-bit preset.
    pub fn insecure_n13() -> Self {
        Self::insecure_small(13, None, 4, 3)
    }

    /// A preset by name (`n16_qp1546_h192`, `insecure_n10`, `insecure_n11`,
    /// `insecure_n12_sparse`, `insecure_n13`).
    pub fn by_name(name: &str) -> Option<Self> {
        Some(match name {
            "n16_qp1546_h192" => Self::n16_qp1546_h192(),
            "insecure_n10" => Self::insecure_n10(),
            "insecure_n11" => Self::insecure_n11(),
            "insecure_n12_sparse" => Self::insecure_n12_sparse(),
            "insecure_n13" => Self::insecure_n13(),
            _ => return None,
        })
    }
}
