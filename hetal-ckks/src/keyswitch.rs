//! Hybrid key switching (Han-Ki, CT-RSA 2020): digit decomposition with ModUp, the inner
//! product with a switching key (optionally fused with an automorphism, for hoisting), and
//! ModDown.

use hetal_math::{Ntt, Poly};
use rayon::prelude::*;

use crate::error::Result;
use crate::keys::SwitchingKey;
use crate::params::Parameters;

/// A polynomial over `Q_level`, decomposed into digits and extended to `Q_level ∪ P`
/// (one ModUp per digit). Computing it once and applying several keys is "hoisting".
#[derive(Clone, Debug)]
pub struct Decomposition {
    pub(crate) level: usize,
    pub(crate) digits: Vec<Poly<Ntt>>,
}

impl Decomposition {
    /// The level of the decomposed polynomial.
    pub fn level(&self) -> usize {
        self.level
    }

    /// Number of digits.
    pub fn digit_count(&self) -> usize {
        self.digits.len()
    }
}

/// Decomposes `d` (NTT over `Q_level`) into the digits of `level` and extends each to
/// `Q_level ∪ P`.
pub(crate) fn decompose(params: &Parameters, d: &Poly<Ntt>, level: usize) -> Result<Decomposition> {
    let ranges = params.digits_at(level);
    let chain = params.chain();
    let digits: Result<Vec<Poly<Ntt>>> = ranges
        .into_par_iter()
        .map(|r| Ok(chain.mod_up(level, r)?.apply_ntt(d)?))
        .collect();
    Ok(Decomposition {
        level,
        digits: digits?,
    })
}

const BLOCK: usize = 256;

/// `ModDown(Σ_j perm(u_j) · (b_j, a_j))` over `Q_level`. `perm` (an NTT-domain index
/// permutation, `out[i] = in[perm[i]]`) applies an automorphism to the decomposition on the fly.
pub(crate) fn key_switch(
    params: &Parameters,
    dec: &Decomposition,
    key: &SwitchingKey,
    perm: Option<&[u32]>,
) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
    let level = dec.level;
    let n = params.n();
    let qp = params.qp_context(level)?;
    let big_l = params.max_level();
    let limbs = qp.num_limbs();
    debug_assert!(dec.digits.len() <= key.b.len());
    let mut out0 = vec![0u64; limbs * n];
    let mut out1 = vec![0u64; limbs * n];
    let moduli = qp.moduli();
    out0.par_chunks_mut(n)
        .zip(out1.par_chunks_mut(n))
        .enumerate()
        .for_each(|(t, (o0, o1))| {
            let m = &moduli[t];
            let kt = if t <= level { t } else { t - (level + 1) + big_l + 1 };
            let mut acc0 = [0u128; BLOCK];
            let mut acc1 = [0u128; BLOCK];
            for start in (0..n).step_by(BLOCK) {
                let len = BLOCK.min(n - start);
                acc0[..len].fill(0);
                acc1[..len].fill(0);
                for (j, u) in dec.digits.iter().enumerate() {
                    let u = u.limb(t);
                    let kb = &key.b[j].data()[kt * n + start..kt * n + start + len];
                    let ka = &key.a[j].data()[kt * n + start..kt * n + start + len];
                    match perm {
                        None => {
                            let u = &u[start..start + len];
                            for i in 0..len {
                                let x = u[i] as u128;
                                acc0[i] += x * kb[i] as u128;
                                acc1[i] += x * ka[i] as u128;
                            }
                        }
                        Some(p) => {
                            let p = &p[start..start + len];
                            for i in 0..len {
                                let x = u[p[i] as usize] as u128;
                                acc0[i] += x * kb[i] as u128;
                                acc1[i] += x * ka[i] as u128;
                            }
                        }
                    }
                    // Products are below 2^122: reduce every 32 digits to stay below 2^128.
                    if j % 32 == 31 {
                        for i in 0..len {
                            acc0[i] = m.reduce_u128(acc0[i]) as u128;
                            acc1[i] = m.reduce_u128(acc1[i]) as u128;
                        }
                    }
                }
                for i in 0..len {
                    o0[start + i] = m.reduce_u128(acc0[i]);
                    o1[start + i] = m.reduce_u128(acc1[i]);
                }
            }
        });
    let down = params.chain().mod_down(level)?;
    let p0 = Poly::from_limbs(&qp, out0)?;
    let p1 = Poly::from_limbs(&qp, out1)?;
    let (r0, r1) = rayon::join(|| down.apply_ntt(&p0), || down.apply_ntt(&p1));
    Ok((r0?, r1?))
}
