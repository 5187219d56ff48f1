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

/// EvalMod of the test presets: Lattigo's (`K = 16`, degree 30, 3 double angles), which covers
/// the `|I| <= 15` of a Hamming-weight-32 secret with overwhelming probability.
fn evalmod_k16() -> EvalModConfig {
    EvalModConfig::n16qp1546h192h32()
}

impl BootstrapPreset {
    /// **128-bit**, `N = 2^16`, 2^15 slots, modelled on Lattigo's `N16QP1546H192H32` chain:
    /// residual `Q` = one 60-bit and nine 40-bit primes (**9 levels left** at scale `2^40`),
    /// SlotsToCoeffs 3 × 39 bits, EvalMod 8 × 60 bits, CoeffsToSlots 4 × 56 bits, `P` = five
    /// 61-bit primes (5 digits): `log QP ≈ 1546 <= 1553`, the bound for a Hamming-weight-192
    /// secret.
    ///
    /// The secret has weight 192 **and ModRaise uses it directly** (no weight-32 ephemeral
    /// secret yet: the encapsulation keys are being built separately), so `|I|` reaches about
    /// `5·sqrt(193/12) ≈ 20`: EvalMod uses `K = 24` (instead of Lattigo's 16 for `h = 32`) with a
    /// degree-40 cosine and 3 double angles, which costs one more level (9 instead of 8); the
    /// extra level is taken from the EvalMod primes (9 × 60 bits) so that 9 levels are left,
    /// and `log QP` stays under the bound by using a 50-bit first CoeffsToSlots prime... see
    /// [`BootstrapPreset::n16_qp1546_h192`]'s body for the exact sizes.
    pub fn n16_qp1546_h192() -> Self {
        Layout {
            log_n: 16,
            log_slots: None,
            residual: [vec![60], vec![40; 9]].concat(),
            s2c: vec![39; 3],
            evalmod: vec![60; 8],
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
                double_angles: 4,
                arcsine_degree: 0,
                log_message_ratio: 8.0,
            },
            58.0,
        )
    }

    fn insecure_small(log_n: u32, log_slots: Option<u32>, c2s: usize, s2c: usize) -> Self {
        Layout {
            log_n,
            log_slots,
            residual: vec![60, 40, 40],
            s2c: vec![39; s2c],
            evalmod: vec![60; 8],
            c2s: vec![56; c2s],
            p: vec![61; 4],
            dnum: 4,
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
