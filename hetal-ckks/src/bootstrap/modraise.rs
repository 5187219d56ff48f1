//! ModRaise and the sparse-slot SubSum: the two bootstrapping steps that act on the ring,
//! below the slot seam.
//!
//! **ModRaise** (Cheon, Han, Kim, Kim, Song, Eurocrypt 2018, Sec. 3.1) reinterprets a level-0
//! ciphertext `(c_0, c_1)` over `q_0` as a ciphertext over the whole chain `Q_L`: each residue is
//! centered in `(-q_0/2, q_0/2]` and the same integer is taken modulo every prime. Decryption
//! over `Q_L` then gives `t = c_0 + c_1·s = m + q_0·I` exactly (as integers, before any
//! reduction), where `m = [c_0 + c_1 s]_{q_0}` is the level-0 plaintext and `I` is a small
//! integer polynomial: `|I_i| <= (1 + ||s||_1)/2`, in practice a few standard deviations of
//! `sqrt((h + 1)/12)` for a secret of Hamming weight `h`. EvalMod removes `q_0·I`.
//!
//! **SubSum** (Cheon, Han, Hhan, "Faster homomorphic DFT and speeding up CKKS bootstrapping",
//! 2018; Lattigo's `Trace`): with `n < N/2` slots the message lives in the subring of
//! `Y = X^{gap}`, `gap = N/(2n)`, but `q_0·I` has all `N` coefficients. Summing the automorphisms
//! `X -> X^g` over the subgroup `{g ≡ 1 mod 4n} = <5^n>` of `(Z/2NZ)^*` (the trace onto the
//! subring) multiplies the coefficients of the subring by `gap` and cancels all others:
//! `log2(gap)` rotate-and-add steps with the elements `5^{n·2^j}`. The factor `gap` is undone
//! in the CoeffsToSlots matrices. Full packing needs no SubSum.

use hetal_math::{Ntt, Poly};
use rayon::prelude::*;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::evaluator::Evaluator;
use crate::params::Parameters;

/// Lifts a degree-1 level-0 ciphertext to the top level `params.max_level()` of the chain
/// (NTT form in, NTT form out), with centered residues.
///
/// The result decrypts (over `Q_L`) to `m + q_0·I` where `m` is what the input decrypts to
/// (see the module docs). Its recorded scale is the input's; the value it holds *as a CKKS
/// ciphertext* is meaningless until EvalMod has removed `q_0·I`, so the caller re-declares the
/// scale it works with.
///
/// # Errors
/// [`Error::InvalidArgument`] if the input is not at level 0 (ModRaise discards nothing: a
/// higher-level input must first be dropped to level 0 by the caller, who knows its scale) or
/// does not belong to `params`; [`Error::DegreeTooHigh`] for an unrelinearized input.
pub fn mod_raise(params: &Parameters, ct: &Ciphertext) -> Result<Ciphertext> {
    let centered = centered_level0(params, ct, "mod_raise")?;
    let top = params.max_level();
    let ctx = params.q_context(top)?;
    let n = params.n();
    let c: Result<Vec<Poly<Ntt>>> = centered
        .iter()
        .map(|src| {
            let mut data = vec![0u64; n * (top + 1)];
            data.par_chunks_mut(n)
                .zip(ctx.moduli().par_iter())
                .for_each(|(dst, m)| {
                    for (d, &v) in dst.iter_mut().zip(src) {
                        *d = m.reduce_i64(v);
                    }
                });
            Ok(Poly::from_limbs(&ctx, data)?.par_to_ntt())
        })
        .collect();
    Ok(Ciphertext {
        c: c?,
        level: top,
        scale: ct.scale(),
        seed: None,
    })
}

/// The centered coefficients, in `(-q_0/2, q_0/2]`, of each component of a level-0, degree-1
/// ciphertext of `params`: what ModRaise lifts (shared with the diagnostics of
/// [`super::encapsulation::mod_raise_overflow`]). `op` names the caller in errors.
pub(crate) fn centered_level0(
    params: &Parameters,
    ct: &Ciphertext,
    op: &'static str,
) -> Result<Vec<Vec<i64>>> {
    if ct.level() != 0 {
        return Err(Error::InvalidArgument {
            op,
            reason: format!("the input must be at level 0, got level {}", ct.level()),
        });
    }
    if ct.degree() != 1 {
        return Err(Error::DegreeTooHigh {
            op,
            degree: ct.degree(),
            max: 1,
        });
    }
    let q0_ctx = params.q_context(0)?;
    if ct.c.iter().any(|c| !c.context().same_ring(&q0_ctx)) {
        return Err(Error::InvalidArgument {
            op,
            reason: "ciphertext does not belong to these parameters".into(),
        });
    }
    let q0 = params.q_primes()[0];
    Ok(ct
        .c
        .iter()
        .map(|x| {
            x.clone()
                .to_coeff()
                .data()
                .iter()
                .map(|&v| {
                    if v > q0 / 2 {
                        -((q0 - v) as i64)
                    } else {
                        v as i64
                    }
                })
                .collect()
        })
        .collect())
}

/// The Galois elements of the SubSum for `params` (empty for full packing): `5^{n·2^j} mod 2N`,
/// `j < log2(N/(2n))`.
pub fn sub_sum_elements(params: &Parameters) -> Vec<usize> {
    let n = params.slots();
    let two_n = 2 * params.n();
    let gap = params.n() / (2 * n);
    let mut out = Vec::new();
    let mut step = n;
    while step < n * gap {
        out.push(crate::encoding::galois_element(
            params.log_n(),
            params.log_n() - 1,
            step as i64,
        ));
        step *= 2;
    }
    debug_assert!(out.iter().all(|&g| g % (4 * n) == 1 && g < two_n));
    out
}

/// The trace onto the `n`-slot subring (see the module docs): multiplies the coefficients of
/// the subring by `gap = N/(2n)` and cancels all others. No level is consumed. A no-op for full
/// packing.
///
/// # Errors
/// [`Error::MissingKey`] without the Galois keys of [`sub_sum_elements`]; errors of
/// [`Evaluator::automorphism`].
pub fn sub_sum(eval: &Evaluator, ct: &Ciphertext) -> Result<Ciphertext> {
    let mut acc = ct.clone();
    for g in sub_sum_elements(eval.params()) {
        let rotated = eval.automorphism(&acc, g)?;
        acc = eval.add(&acc, &rotated)?;
    }
    Ok(acc)
}
