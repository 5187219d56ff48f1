//! Bootstrapping presets: a parameter literal (the full chain, with its residual top as
//! `scale_level`) and the circuit configuration that consumes exactly the levels above it.
//!
//! The chain is, bottom to top: the residual chain (`q_0` and the user levels, scale
//! `2^log_scale`), the SlotsToCoeffs primes, the EvalMod primes, the CoeffsToSlots primes. The
//! measured precision and time of each preset are in `docs/performance.md`.

use super::bootstrapper::BootstrapConfig;
use super::evalmod::EvalModConfig;
use crate::keys::KeyStorage;
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
    ephemeral_weight: Option<usize>,
    insecure: bool,
}

impl Layout {
    /// The 128-bit `N = 2^16` layouts: full slots, a Hamming-weight-192 secret with a
    /// weight-32 ephemeral one, `levels` residual levels at `2^40` over a 60-bit `q_0`,
    /// SlotsToCoeffs 3 × 39 bits, the given EvalMod primes and `P` = 5 × 61 bits; the caller
    /// sets CoeffsToSlots and `dnum`.
    fn n16_h192h32(levels: usize, evalmod: Vec<u32>) -> Self {
        Layout {
            log_n: 16,
            log_slots: None,
            residual: [vec![60], vec![40; levels]].concat(),
            s2c: vec![39; 3],
            evalmod,
            c2s: Vec::new(),
            p: vec![61; 5],
            dnum: 0,
            log_scale: 40,
            secret: SecretDistribution::HammingWeight(192),
            ephemeral_weight: Some(super::encapsulation::DEFAULT_EPHEMERAL_WEIGHT),
            insecure: false,
        }
    }

    fn build(self, evalmod: EvalModConfig, evalmod_log_scale: f64) -> BootstrapPreset {
        let scale_level = self.residual.len() - 1;
        let config = BootstrapConfig {
            c2s_levels: self.c2s.len(),
            s2c_levels: self.s2c.len(),
            evalmod,
            evalmod_log_scale,
            bsgs: BsgsConfig::default(),
            ephemeral_weight: self.ephemeral_weight,
            s2c_keys_at_level: true,
            iterations: 1,
            meta_log_gain: super::bootstrapper::DEFAULT_META_LOG_GAIN,
            // The 128-bit presets hold their keys seeded: 3.2 instead of 6.3 GB at
            // `N = 2^16` for about 5 % of the bootstrap's time; the small test presets keep
            // the expanded form (both are bit-identical, tested).
            key_storage: if self.insecure {
                KeyStorage::Expanded
            } else {
                KeyStorage::Seeded
            },
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

/// EvalMod of the presets: Lattigo's, `K = 16` (covers the `|I| <= 15` of ModRaise under a
/// Hamming-weight-32 (ephemeral) secret with overwhelming probability: `I` has standard
/// deviation 1.7 and the measured `max |I|` is 7 at `N = 2^16`), a degree-30 cosine interpolated
/// at the 31 integers of `(-16, 16)` and 3 double angles: **8 levels**. The continuous
/// Chebyshev fit of the same degree would need a fourth double angle (a ninth level) for the
/// same precision ([`super::evalmod::CosineFit`]).
fn evalmod_k16() -> EvalModConfig {
    EvalModConfig::n16qp1546h192h32()
}

/// The EvalMod primes of every preset: 61 bits, one more than Lattigo's 60. Every noise term
/// of EvalMod's eight levels is relative to these primes (the rescale rounding after each
/// product, amplified 16-20x by the three double angles), and the error it leaves in
/// `x = t/q_0` is multiplied by `2^ratio·sqrt(2n)` on its way to the slots: with 54-bit primes
/// that error capped a bootstrap at 21 bits on average at `N = 2^16`, 27.22 with 60 bits and
/// 27.92 with 61 (measured, after the exact ModUp).
const EVALMOD_BITS: u32 = 61;

/// `log2` of the scale EvalMod ends on (see [`BootstrapConfig::evalmod_log_scale`]), a few bits
/// below the primes. Precision is flat in it (`2^54` to `2^59` at `N = 2^13` and `N = 2^16`
/// with 60-bit primes, `2^55` to `2^60` after the exact ModUp; measured): EvalMod's last
/// rescale is not the limiting noise, the ones at its top levels are.
const EVALMOD_LOG_SCALE: f64 = 58.0;

impl BootstrapPreset {
    /// **128-bit**, `N = 2^16`, 2^15 slots: Lattigo's `N16QP1546H192H32` with its 7 spare
    /// bits of the security budget spent on EvalMod, with sparse-secret encapsulation (a
    /// Hamming-weight-192 computation secret, a weight-32 ephemeral secret for ModRaise, so
    /// EvalMod's `K = 16`).
    ///
    /// Chain: residual `Q` = one 60-bit and nine 40-bit primes (**9 levels left** at scale
    /// `2^40`), SlotsToCoeffs 3 × 39 bits, EvalMod 8 × **61** bits (degree-30 cosine at the
    /// integers of `(-16, 16)`, 3 double angles), CoeffsToSlots 55 + 3 × 56 bits, `P` = five
    /// 61-bit primes (5 digits of 5 of the 25 `Q` primes, each at most 305 bits):
    /// `log QP = 1553.0 <= 1553`, the 128-bit bound for a Hamming-weight-192 secret
    /// ([`crate::security`]; Lattigo's `N16QP1553H192H32` sits at the same bound). Against
    /// Lattigo's 60-bit EvalMod primes (`log QP` 1546) the 61-bit ones halve EvalMod's noise:
    /// 27.92 instead of 27.22 bits on average, measured. The encapsulation key `s → s'` lives
    /// over `q_0 · P` only. The Galois keys used only by SlotsToCoeffs are generated at its
    /// start level (level 12: 3 digits of 18 limbs instead of 5 of 30). The server holds the
    /// keys [`KeyStorage::Seeded`] and the DFT plaintexts compacted
    /// ([`crate::plaintext::Plaintext::compacted`]): about 5 GB at its peak.
    pub fn n16_qp1553_h192h32() -> Self {
        Layout {
            // One 55-bit prime (the last CoeffsToSlots level) keeps log QP within 1553.
            c2s: vec![55, 56, 56, 56],
            // 25 Q primes in 5 digits of 5 primes (<= 305 bits), covered by P = 5 × 61 bits.
            dnum: 5,
            ..Layout::n16_h192h32(9, vec![EVALMOD_BITS; 8])
        }
        .build(evalmod_k16(), EVALMOD_LOG_SCALE)
    }

    /// **128-bit**, `N = 2^16`, 2^15 slots, **12 levels left** (HETAL's training step used
    /// 12): the structure of [`BootstrapPreset::n16_qp1553_h192h32`] with three more residual
    /// levels, paid for by the other primes of the same 1553-bit budget.
    ///
    /// Chain: residual `Q` = one 60-bit and twelve 40-bit primes, SlotsToCoeffs 3 × 39 bits,
    /// EvalMod 8 × 55 bits (the same degree-30 integer cosine fit, 3 double angles, ending on
    /// `2^53`), CoeffsToSlots **3** × 50 bits (five stages per level), `P` = five 61-bit
    /// primes, 27 `Q` primes in 6 digits of at most 5: `log QP = 1552`. EvalMod's noise is
    /// relative to its primes, so precision drops to about 20.4 bits on average (against 27.9
    /// with 61-bit EvalMod primes), and the three larger CoeffsToSlots levels make keys and
    /// DFT plaintexts about a third larger; measured figures in `docs/performance.md`.
    /// Meta-bootstrapping ([`BootstrapConfig::iterations`] `= 2`) buys precision back for one
    /// level.
    pub fn n16_qp1552_h192h32_l12() -> Self {
        Layout {
            c2s: vec![50; 3],
            // 27 Q primes in 6 digits of at most 5 (<= 275 bits).
            dnum: 6,
            ..Layout::n16_h192h32(12, vec![55; 8])
        }
        .build(evalmod_k16(), 53.0)
    }

    fn insecure_small(log_n: u32, log_slots: Option<u32>, c2s: usize, s2c: usize) -> Self {
        // Digits of at most 5 primes, so that P = 5 × 61 bits covers every digit.
        let dnum = (3 + s2c + 8 + c2s).div_ceil(5);
        Layout {
            log_n,
            log_slots,
            residual: vec![60, 40, 40],
            s2c: vec![39; s2c],
            evalmod: vec![EVALMOD_BITS; 8],
            c2s: vec![56; c2s],
            p: vec![61; 5],
            dnum,
            log_scale: 40,
            secret: SecretDistribution::HammingWeight(192),
            ephemeral_weight: Some(super::encapsulation::DEFAULT_EPHEMERAL_WEIGHT),
            insecure: true,
        }
        .build(evalmod_k16(), EVALMOD_LOG_SCALE)
    }

    /// **Insecure** test preset: `N = 2^10`, full slots (512), the structure of the 128-bit
    /// preset with fewer levels: residual 60 + 2 × 40 bits (2 levels left), SlotsToCoeffs
    /// 2 × 39, EvalMod 8 × 61, CoeffsToSlots 3 × 56, `P` 5 × 61; secret weight 192 with a
    /// weight-32 ephemeral secret for ModRaise (encapsulation).
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

    /// A preset by name (`n16_qp1553_h192h32`, `n16_qp1552_h192h32_l12`, `insecure_n10`,
    /// `insecure_n11`, `insecure_n12_sparse`, `insecure_n13`).
    pub fn by_name(name: &str) -> Option<Self> {
        Some(match name {
            "n16_qp1553_h192h32" => Self::n16_qp1553_h192h32(),
            "insecure_n10" => Self::insecure_n10(),
            "insecure_n11" => Self::insecure_n11(),
            "insecure_n12_sparse" => Self::insecure_n12_sparse(),
            "insecure_n13" => Self::insecure_n13(),
            "n16_qp1552_h192h32_l12" => Self::n16_qp1552_h192h32_l12(),
            _ => return None,
        })
    }
}
