//! Hybrid key switching (Han-Ki, CT-RSA 2020): digit decomposition with ModUp, the inner
//! product with a switching key, and an exact ModDown. Galois keys are stored pre-rotated
//! (see [`crate::keys::GaloisKeys`]), so rotations reuse one decomposition (hoisting) and apply
//! the automorphism to the two output polynomials only.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use hetal_math::dot::{dot_const, dot_var, dot_var2};
use hetal_math::{Context, Modulus, Ntt, Poly};
use rayon::prelude::*;

use crate::error::Result;
use crate::keys::SwitchingKey;
use crate::params::Parameters;

/// A pool of large `u64` buffers reused across key switches.
///
/// Key switching at `N = 2^16` allocates tens of megabytes per operation; fresh allocations of
/// that size are `mmap`ed and page-faulted on every use, which cost ~25% of a rotation. Buffers
/// given back are kept (up to [`POOL_MAX_BYTES`] in total) and handed out again.
static POOL: Mutex<Vec<Vec<u64>>> = Mutex::new(Vec::new());

/// Upper bound on the memory the buffer pool retains.
pub const POOL_MAX_BYTES: usize = 1 << 30;

/// Releases every buffer the key-switching pool retains (up to [`POOL_MAX_BYTES`]) back to the
/// allocator, e.g. after a burst of `N = 2^16` operations.
pub fn clear_buffer_pool() {
    POOL.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

/// A buffer of exactly `len` elements with unspecified contents.
pub(crate) fn take_buffer(len: usize) -> Vec<u64> {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let best = pool
        .iter()
        .enumerate()
        .filter(|(_, v)| v.capacity() >= len)
        .min_by_key(|(_, v)| v.capacity())
        .map(|(i, _)| i);
    match best {
        Some(i) => {
            let mut v = pool.swap_remove(i);
            drop(pool);
            // Contents are overwritten by every caller; resizing only touches new elements.
            v.resize(len, 0);
            v
        }
        None => {
            drop(pool);
            vec![0u64; len]
        }
    }
}

/// Returns a buffer to the pool (dropped if the pool is full).
pub(crate) fn give_buffer(v: Vec<u64>) {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let held: usize = pool.iter().map(|b| b.capacity() * 8).sum();
    if held + v.capacity() * 8 <= POOL_MAX_BYTES {
        pool.push(v);
    }
}

/// Precomputed fast basis extension of one digit `D` of `Q_l` to the other primes of
/// `Q_l ∪ P` (Halevi-Polyakov-Shoup conversion; exact modulo `D`, off by a small multiple of `D`
/// elsewhere, which hybrid key switching tolerates).
#[derive(Debug)]
pub(crate) struct ModUpDigit {
    digit: Range<usize>,
    /// Target limb indices (in `Q_l ∪ P`) outside the digit.
    others: Vec<usize>,
    /// `[(D/q_i)^{-1}]_{q_i}` and Shoup constants.
    d_hat_inv: Vec<(u64, u64)>,
    /// `[D/q_i]_{t}`, row-major `[o * |D| + i]` for `t = others[o]`.
    d_hat_mod_t: Vec<u64>,
}

impl ModUpDigit {
    pub(crate) fn new(qp: &Context, digit: Range<usize>) -> Self {
        let moduli = qp.moduli();
        let src = &moduli[digit.clone()];
        let alpha = src.len();
        let prod_except = |m: &Modulus, skip: Option<usize>| {
            src.iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != skip)
                .fold(1u64, |acc, (_, qi)| m.mul(acc, m.reduce(qi.value())))
        };
        let d_hat_inv = src
            .iter()
            .enumerate()
            .map(|(i, qi)| {
                let v = qi.inv(prod_except(qi, Some(i))).expect("coprime primes");
                (v, qi.shoup(v))
            })
            .collect();
        let others: Vec<usize> = (0..moduli.len()).filter(|t| !digit.contains(t)).collect();
        let mut d_hat_mod_t = vec![0u64; others.len() * alpha];
        for (o, &t) in others.iter().enumerate() {
            for i in 0..alpha {
                d_hat_mod_t[o * alpha + i] = prod_except(&moduli[t], Some(i));
            }
        }
        Self {
            digit,
            others,
            d_hat_inv,
            d_hat_mod_t,
        }
    }
}

/// A polynomial over `Q_level`, decomposed into digits and extended to `Q_level ∪ P`
/// (one ModUp per digit). Computing it once and applying several keys is "hoisting".
#[derive(Debug)]
pub struct Decomposition {
    pub(crate) level: usize,
    /// Limb-major residues over `Q_level ∪ P` (NTT form), one buffer per digit.
    pub(crate) digits: Vec<Vec<u64>>,
}

impl Drop for Decomposition {
    fn drop(&mut self) {
        for d in self.digits.drain(..) {
            give_buffer(d);
        }
    }
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

/// Coefficient form of `d` (NTT over `Q_level`) with `y_i = [x_i (D/q_i)^{-1}]_{q_i}` for the
/// digit `D` of each limb: the input rows of every digit's basis extension (pooled buffer).
fn digit_inputs(params: &Parameters, d: &Poly<Ntt>, level: usize) -> Result<Vec<u64>> {
    let n = params.n();
    let qp = params.qp_context(level)?;
    let plans = qp.plans();
    let moduli = qp.moduli();
    let tables = params.mod_up(level)?;
    let mut y = take_buffer((level + 1) * n);
    y.copy_from_slice(d.data());
    y.par_chunks_mut(n).enumerate().for_each(|(i, yi)| {
        plans[i].inverse(yi);
        let t = tables
            .iter()
            .find(|t| t.digit.contains(&i))
            .expect("digits cover the level");
        moduli[i].mul_scalar_assign_slice(yi, t.d_hat_inv[i - t.digit.start].0);
    });
    Ok(y)
}

/// Limb `t` of `Q_level ∪ P` is limb `key_limb(t)` of the key's `Q_L ∪ P`, where `L` is the
/// level the key was generated at (the top for most keys; lower for bootstrapping's
/// SlotsToCoeffs keys and the level-0 encapsulation key): Q limbs keep their index, P limbs
/// follow the key's own Q limbs.
fn key_limb(t: usize, level: usize, big_l: usize) -> usize {
    if t <= level {
        t
    } else {
        t - (level + 1) + big_l + 1
    }
}

/// `KeySwitch(d)` = `ModDown(Σ_j ModUp(d)_j · (b_j, a_j))` without materializing the
/// decomposition: each limb of `Q_level ∪ P` extends every digit to that limb (basis
/// conversion + NTT into a small per-task scratch buffer, or the digit's own limb of `d`), and
/// immediately takes its inner product with the key. Same result as [`decompose`] followed by
/// [`key_switch_with`], with far less memory traffic (used when a decomposition is not reused).
pub(crate) fn key_switch_single(
    params: &Parameters,
    d: &Poly<Ntt>,
    level: usize,
    key: &SwitchingKey,
) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
    key_switch_single_with(params, d, level, key, Finish::default(), Finish::default())
}

/// [`key_switch_single`] with a [`Finish`] applied to each output during ModDown.
pub(crate) fn key_switch_single_with(
    params: &Parameters,
    d: &Poly<Ntt>,
    level: usize,
    key: &SwitchingKey,
    f0: Finish<'_>,
    f1: Finish<'_>,
) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
    let n = params.n();
    let qp = params.qp_context(level)?;
    let plans = qp.plans();
    let moduli = qp.moduli();
    let limbs = qp.num_limbs();
    let big_l = key.level(params);
    debug_assert!(level <= big_l, "key generated below the ciphertext's level");
    let tables = params.mod_up(level)?;
    let dnum = tables.len();
    debug_assert!(dnum <= key.b.len());
    let y = digit_inputs(params, d, level)?;
    let rows: Vec<Vec<&[u64]>> = tables
        .iter()
        .map(|t| y[t.digit.start * n..t.digit.end * n].chunks(n).collect())
        .collect();
    let row_bits: Vec<Vec<u32>> = tables
        .iter()
        .map(|t| moduli[t.digit.clone()].iter().map(|m| m.bits()).collect())
        .collect();
    let mut out0 = take_buffer(limbs * n);
    let mut out1 = take_buffer(limbs * n);
    out0.par_chunks_mut(n)
        .zip(out1.par_chunks_mut(n))
        .enumerate()
        .for_each(|(t, (o0, o1))| {
            let m = &moduli[t];
            let mut scratch = take_buffer(dnum * n);
            for (j, (tab, dst)) in tables.iter().zip(scratch.chunks_mut(n)).enumerate() {
                if tab.digit.contains(&t) {
                    continue;
                }
                let alpha = tab.digit.len();
                let o = tab.others.iter().position(|&x| x == t).expect("target");
                let consts = &tab.d_hat_mod_t[o * alpha..(o + 1) * alpha];
                dot_const(m, &rows[j], &row_bits[j], consts, dst);
                plans[t].forward(dst);
            }
            let u: Vec<&[u64]> = tables
                .iter()
                .zip(scratch.chunks(n))
                .map(|(tab, s)| {
                    if tab.digit.contains(&t) {
                        &d.data()[t * n..(t + 1) * n]
                    } else {
                        s
                    }
                })
                .collect();
            let kt = key_limb(t, level, big_l);
            let kb: Vec<&[u64]> = key.b[..dnum]
                .iter()
                .map(|k| &k.data()[kt * n..(kt + 1) * n])
                .collect();
            let ka: Vec<&[u64]> = key.a[..dnum]
                .iter()
                .map(|k| &k.data()[kt * n..(kt + 1) * n])
                .collect();
            dot_var2(m, &u, &kb, &ka, o0, o1);
            give_buffer(scratch);
        });
    give_buffer(y);
    let r = mod_down_pair_with(params, level, &out0, &out1, f0, f1);
    give_buffer(out0);
    give_buffer(out1);
    r
}

/// Decomposes `d` (NTT over `Q_level`) into the digits of `level` and extends each to
/// `Q_level ∪ P`.
pub(crate) fn decompose(params: &Parameters, d: &Poly<Ntt>, level: usize) -> Result<Decomposition> {
    let n = params.n();
    let qp = params.qp_context(level)?;
    let plans = qp.plans();
    let moduli = qp.moduli();
    let limbs = qp.num_limbs();
    let tables = params.mod_up(level)?;
    let y = digit_inputs(params, d, level)?;
    let digits: Vec<Vec<u64>> = tables
        .par_iter()
        .map(|t| {
            let mut out = take_buffer(limbs * n);
            let dr = t.digit.clone();
            out[dr.start * n..dr.end * n].copy_from_slice(&d.data()[dr.start * n..dr.end * n]);
            let alpha = dr.len();
            let ys = &y[dr.start * n..dr.end * n];
            let mut targets: Vec<(usize, &mut [u64])> = out
                .chunks_mut(n)
                .enumerate()
                .filter(|(i, _)| !dr.contains(i))
                .collect();
            let rows: Vec<&[u64]> = ys.chunks(n).collect();
            let row_bits: Vec<u32> = moduli[dr.clone()].iter().map(|m| m.bits()).collect();
            targets.par_iter_mut().for_each(|(tgt, dst)| {
                let o = t.others.iter().position(|x| x == tgt).expect("target");
                let row = &t.d_hat_mod_t[o * alpha..(o + 1) * alpha];
                dot_const(&moduli[*tgt], &rows, &row_bits, row, dst);
                plans[*tgt].forward(dst);
            });
            out
        })
        .collect();
    give_buffer(y);
    Ok(Decomposition { level, digits })
}

/// `ModDown(Σ_j u_j · (b_j, a_j))` over `Q_level` for a stored decomposition, with a
/// [`Finish`] applied to each output during ModDown.
pub(crate) fn key_switch_with(
    params: &Parameters,
    dec: &Decomposition,
    key: &SwitchingKey,
    f0: Finish<'_>,
    f1: Finish<'_>,
) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
    let (out0, out1) = inner_product(params, dec, key)?;
    let r = mod_down_pair_with(params, dec.level, &out0, &out1, f0, f1);
    give_buffer(out0);
    give_buffer(out1);
    r
}

/// ModDown of two limb-major buffers over `Q_level ∪ P` (NTT form) to `Q_level`.
pub(crate) fn mod_down_pair(
    params: &Parameters,
    level: usize,
    x0: &[u64],
    x1: &[u64],
) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
    mod_down_pair_with(params, level, x0, x1, Finish::default(), Finish::default())
}

/// [`mod_down_pair`] with a [`Finish`] per output.
pub(crate) fn mod_down_pair_with(
    params: &Parameters,
    level: usize,
    x0: &[u64],
    x1: &[u64],
    f0: Finish<'_>,
    f1: Finish<'_>,
) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
    let qp = params.qp_context(level)?;
    let down = params.mod_down(level)?;
    let q = params.q_context(level)?;
    let (r0, r1) = rayon::join(
        || down.apply_with(&qp, &q, x0, f0),
        || down.apply_with(&qp, &q, x1, f1),
    );
    Ok((r0?, r1?))
}

/// `Σ_j u_j · (b_j, a_j)` over `Q_level ∪ P` (NTT form, pooled buffers), before ModDown.
pub(crate) fn inner_product(
    params: &Parameters,
    dec: &Decomposition,
    key: &SwitchingKey,
) -> Result<(Vec<u64>, Vec<u64>)> {
    let level = dec.level;
    let n = params.n();
    let qp = params.qp_context(level)?;
    let big_l = key.level(params);
    debug_assert!(level <= big_l, "key generated below the ciphertext's level");
    let limbs = qp.num_limbs();
    debug_assert!(dec.digits.len() <= key.b.len());
    let mut out0 = take_buffer(limbs * n);
    let mut out1 = take_buffer(limbs * n);
    let moduli = qp.moduli();
    let digits = &dec.digits;
    out0.par_chunks_mut(n)
        .zip(out1.par_chunks_mut(n))
        .enumerate()
        .for_each(|(t, (o0, o1))| {
            let kt = key_limb(t, level, big_l);
            let u: Vec<&[u64]> = digits.iter().map(|d| &d[t * n..(t + 1) * n]).collect();
            let kb: Vec<&[u64]> = key.b[..digits.len()]
                .iter()
                .map(|k| &k.data()[kt * n..(kt + 1) * n])
                .collect();
            let ka: Vec<&[u64]> = key.a[..digits.len()]
                .iter()
                .map(|k| &k.data()[kt * n..(kt + 1) * n])
                .collect();
            dot_var2(&moduli[t], &u, &kb, &ka, o0, o1);
        });
    Ok((out0, out1))
}

/// What to do with each ModDown output limb before it is stored: `x -> σ(x + add)` where
/// `add` is an optional polynomial over `Q_l` and `σ` an optional NTT-domain automorphism
/// (index permutation). `Default` is the identity.
#[derive(Clone, Copy, Default)]
pub(crate) struct Finish<'a> {
    pub(crate) add: Option<&'a Poly<Ntt>>,
    pub(crate) perm: Option<&'a [u32]>,
}

/// Exact ModDown from `Q_l ∪ P` to `Q_l`: `round(x / P)` with the centered representative of
/// `x mod P`, recovered with the floating-point overflow correction of Halevi-Polyakov-Shoup
/// (CT-RSA 2019, Sec. 2.2).
///
/// The fast (approximate) conversion leaves `round(x/P) - e` with `0 <= e < |P|`: a biased
/// error whose mean, multiplied by the secret, concentrates in the slots near `ζ = 1`
/// (the all-ones polynomial evaluates to `~2N/π` there) and costs several bits of precision
/// at `N = 2^16`. The exact version leaves only the rounding error of `1/2`.
#[derive(Debug)]
pub(crate) struct ModDownExact {
    q_len: usize,
    p: Vec<Modulus>,
    /// `1 / p_i`.
    p_inv_f64: Vec<f64>,
    /// `[(P/p_i)^{-1}]_{p_i}` and its Shoup constant.
    p_hat_inv: Vec<(u64, u64)>,
    /// `[P/p_i]_{q_j}`, row-major `[j * k + i]`.
    p_hat_mod_q: Vec<u64>,
    /// `[P]_{q_j}`.
    p_mod_q: Vec<u64>,
    /// `[P^{-1}]_{q_j}` and its Shoup constant.
    p_inv_mod_q: Vec<(u64, u64)>,
}

impl ModDownExact {
    pub(crate) fn new(qp: &Context, q_len: usize) -> Self {
        let moduli = qp.moduli();
        let (q, p) = moduli.split_at(q_len);
        let k = p.len();
        let prod_except = |m: &Modulus, skip: Option<usize>| {
            p.iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != skip)
                .fold(1u64, |acc, (_, pi)| m.mul(acc, m.reduce(pi.value())))
        };
        let p_hat_inv = p
            .iter()
            .enumerate()
            .map(|(i, pi)| {
                let v = pi.inv(prod_except(pi, Some(i))).expect("coprime primes");
                (v, pi.shoup(v))
            })
            .collect();
        let mut p_hat_mod_q = vec![0u64; q_len * k];
        let mut p_mod_q = Vec::with_capacity(q_len);
        let mut p_inv_mod_q = Vec::with_capacity(q_len);
        for (j, qj) in q.iter().enumerate() {
            for i in 0..k {
                p_hat_mod_q[j * k + i] = prod_except(qj, Some(i));
            }
            let pm = prod_except(qj, None);
            p_mod_q.push(pm);
            let inv = qj.inv(pm).expect("coprime primes");
            p_inv_mod_q.push((inv, qj.shoup(inv)));
        }
        Self {
            q_len,
            p: p.to_vec(),
            p_inv_f64: p.iter().map(|m| 1.0 / m.value() as f64).collect(),
            p_hat_inv,
            p_hat_mod_q,
            p_mod_q,
            p_inv_mod_q,
        }
    }

    /// `data`: limb-major residues over `qp` in NTT form; output over `q` (NTT form).
    pub(crate) fn apply(
        &self,
        qp: &Arc<Context>,
        q: &Arc<Context>,
        data: &[u64],
    ) -> Result<Poly<Ntt>> {
        self.apply_with(qp, q, data, Finish::default())
    }

    /// [`ModDownExact::apply`] followed by `x -> σ(x + add)` (see [`Finish`]), fused into the
    /// last pass of each limb while it is in cache.
    pub(crate) fn apply_with(
        &self,
        qp: &Arc<Context>,
        q: &Arc<Context>,
        data: &[u64],
        finish: Finish<'_>,
    ) -> Result<Poly<Ntt>> {
        if let Some(a) = finish.add
            && !a.context().same_ring(q)
        {
            return Err(hetal_math::Error::MismatchedBases {
                op: "key switch",
                reason: "operands live in different rings",
            }
            .into());
        }
        let n = qp.n();
        let k = self.p.len();
        let plans = qp.plans();
        // y_i = [x_i (P/p_i)^{-1}]_{p_i} in coefficient form.
        let mut y = take_buffer(k * n);
        y.copy_from_slice(&data[self.q_len * n..]);
        y.par_chunks_mut(n).enumerate().for_each(|(i, yi)| {
            plans[self.q_len + i].inverse(yi);
            let (w, ws) = self.p_hat_inv[i];
            let m = &self.p[i];
            for v in yi.iter_mut() {
                *v = m.mul_shoup(*v, w, ws);
            }
        });
        // v = round(Σ y_i / p_i): the multiple of P to subtract for the centered remainder.
        let mut v = take_buffer(n);
        for (c, vc) in v.iter_mut().enumerate() {
            let mut s = 0.0f64;
            for i in 0..k {
                s += y[i * n + c] as f64 * self.p_inv_f64[i];
            }
            *vc = s.round() as u64;
        }
        let q_moduli = q.moduli();
        // Rows of the conversion: the k residues y_i, then v (at most k) with constant -[P]_q.
        let mut row_bits: Vec<u32> = self.p.iter().map(|m| m.bits()).collect();
        row_bits.push(usize::BITS - k.leading_zeros() + 1);
        // The output escapes (as a ciphertext polynomial), so it is a plain allocation, not a
        // pooled buffer: the pool only lends buffers that come back.
        let mut out = take_buffer(self.q_len * n);
        out.par_chunks_mut(n).enumerate().for_each(|(j, oj)| {
            let m = &q_moduli[j];
            let row = &self.p_hat_mod_q[j * k..(j + 1) * k];
            let pm = self.p_mod_q[j];
            let mut conv = take_buffer(n);
            let mut rows: Vec<&[u64]> = y.chunks(n).collect();
            rows.push(&v);
            let mut w = row.to_vec();
            w.push(m.value() - pm);
            dot_const(m, &rows, &row_bits, &w, &mut conv);
            plans[j].forward(&mut conv);
            // (x_j - conv_j)·P^{-1} = x_j·P^{-1} + conv_j·(q_j - P^{-1}).
            let w = self.p_inv_mod_q[j].0;
            let xj = &data[j * n..(j + 1) * n];
            let bits = m.bits();
            let (rows, consts) = ([xj, &conv[..]], [w, m.neg(w)]);
            match finish.perm {
                None => {
                    dot_const(m, &rows, &[bits, bits], &consts, oj);
                    if let Some(a) = finish.add {
                        m.add_assign_slice(oj, a.limb(j));
                    }
                }
                Some(perm) => {
                    // The limb is finished in an L2-sized scratch, then gathered.
                    let mut tmp = take_buffer(n);
                    dot_const(m, &rows, &[bits, bits], &consts, &mut tmp);
                    if let Some(a) = finish.add {
                        m.add_assign_slice(&mut tmp, a.limb(j));
                    }
                    for (d, &p) in oj.iter_mut().zip(perm) {
                        *d = tmp[p as usize];
                    }
                    give_buffer(tmp);
                }
            }
            give_buffer(conv);
        });
        give_buffer(y);
        give_buffer(v);
        Ok(Poly::from_reduced_limbs(q, out)?)
    }
}

/// `acc += σ(x)` limb by limb for limb-major NTT-form buffers over `moduli`, where `σ` is the
/// NTT-domain index permutation `perm`.
pub(crate) fn add_permuted(acc: &mut [u64], x: &[u64], perm: &[u32], moduli: &[Modulus]) {
    let n = perm.len();
    acc.par_chunks_mut(n)
        .zip(x.par_chunks(n))
        .zip(moduli.par_iter())
        .for_each(|((a, src), m)| {
            for (d, &p) in a.iter_mut().zip(perm) {
                *d = m.add(*d, src[p as usize]);
            }
        });
}

/// `a ⊙ b` (NTT form, same ring) into a pooled buffer: a temporary to give back.
pub(crate) fn pointwise_product(a: &Poly<Ntt>, b: &Poly<Ntt>) -> Result<Poly<Ntt>> {
    if !a.context().same_ring(b.context()) {
        return Err(hetal_math::Error::MismatchedBases {
            op: "mul",
            reason: "operands live in different rings",
        }
        .into());
    }
    let n = a.n();
    let moduli = a.context().moduli();
    let mut out = take_buffer(a.data().len());
    out.par_chunks_mut(n)
        .zip(a.data().par_chunks(n).zip(b.data().par_chunks(n)))
        .enumerate()
        .for_each(|(i, (dst, (x, y)))| dot_var(&moduli[i], &[x], &[y], dst));
    Ok(Poly::from_reduced_limbs(a.context(), out)?)
}
