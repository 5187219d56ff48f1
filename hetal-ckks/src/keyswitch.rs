//! Hybrid key switching (Han-Ki, CT-RSA 2020): digit decomposition with ModUp, the inner
//! product with a switching key, and an exact ModDown. Galois keys are stored pre-rotated
//! (see [`crate::keys::GaloisKeys`]), so rotations reuse one decomposition (hoisting) and apply
//! the automorphism to the two output polynomials only.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use hetal_math::dot::{dot_const, dot_var, dot_var2, mul_scalar_add2};
use hetal_math::sampling::uniform_limb_from_seed;
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

/// Precomputed exact basis extension of one digit `D` of `Q_l` to the other primes of
/// `Q_l ∪ P`, to the **centered** representative of `x mod D` in `[-D/2, D/2)`.
///
/// The fast conversion `Σ_i y_i (D/q_i)` (`y_i = [x (D/q_i)^{-1}]_{q_i}`) is `[x]_D + u·D`
/// with `0 <= u < |D|`: correct modulo `D`, and hybrid key switching tolerates the multiple of
/// `D`, but the digit is then a non-negative integer of mean about `|D|·D/2` in every
/// coefficient. Its key-switching error `Σ_j d_j e_j / P` has that mean times `e_j` times the
/// all-ones polynomial, which evaluates to `~2N/π` at the slots nearest `ζ = 1`: a
/// deterministic, key-dependent error on two coefficients of every bootstrapped message,
/// several bits of precision at `N = 2^16`. As in [`ModDownExact`], the floating-point
/// overflow estimate `v = round(Σ_i y_i / q_i)` of Halevi-Polyakov-Shoup (CT-RSA 2019,
/// Sec. 2.2) subtracts the right multiple: `Σ_i y_i (D/q_i) - v·D` is the centered residue
/// (zero mean, and at most `D/2` instead of `|D|·D` in size).
#[derive(Debug)]
pub(crate) struct ModUpDigit {
    digit: Range<usize>,
    /// Target limb indices (in `Q_l ∪ P`) outside the digit.
    others: Vec<usize>,
    /// `[(D/q_i)^{-1}]_{q_i}` and Shoup constants.
    d_hat_inv: Vec<(u64, u64)>,
    /// `1 / q_i` for the digit's primes.
    q_inv_f64: Vec<f64>,
    /// Row-major `[o * (|D| + 1) + i]` for `t = others[o]`: `[D/q_i]_t` for `i < |D|`, then
    /// `[-D]_t` (the constant of `v`).
    conv_consts: Vec<u64>,
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
        let mut conv_consts = vec![0u64; others.len() * (alpha + 1)];
        for (o, &t) in others.iter().enumerate() {
            let m = &moduli[t];
            let row = &mut conv_consts[o * (alpha + 1)..(o + 1) * (alpha + 1)];
            for (i, c) in row[..alpha].iter_mut().enumerate() {
                *c = prod_except(m, Some(i));
            }
            row[alpha] = m.neg(prod_except(m, None));
        }
        Self {
            digit,
            others,
            d_hat_inv,
            q_inv_f64: src.iter().map(|m| 1.0 / m.value() as f64).collect(),
            conv_consts,
        }
    }

    /// The conversion constants of target limb `t` (`|D| + 1` of them, see the type docs).
    fn consts_for(&self, t: usize) -> &[u64] {
        let width = self.digit.len() + 1;
        let o = self.others.iter().position(|&x| x == t).expect("target");
        &self.conv_consts[o * width..(o + 1) * width]
    }

    /// Bit bounds of the conversion rows: the digit's residues, then `v <= |D|`.
    fn row_bits(&self, moduli: &[Modulus]) -> Vec<u32> {
        let alpha = self.digit.len();
        let mut bits: Vec<u32> = moduli[self.digit.clone()]
            .iter()
            .map(|m| m.bits())
            .collect();
        bits.push(usize::BITS - alpha.leading_zeros() + 1);
        bits
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

/// The input rows of every digit's basis extension (pooled buffers): the coefficient form of
/// `d` (NTT over `Q_level`) with `y_i = [x_i (D/q_i)^{-1}]_{q_i}` for the digit `D` of each limb,
/// and per digit the multiple `v = round(Σ_{i ∈ D} y_i / q_i)` of `D` to subtract
/// ([`ModUpDigit`]).
struct DigitInputs {
    /// Limb-major, `level + 1` rows.
    y: Vec<u64>,
    /// Digit-major, one row per digit.
    v: Vec<u64>,
}

impl DigitInputs {
    /// The conversion rows of digit `j`: its residues `y_i`, then `v`.
    fn rows(&self, tab: &ModUpDigit, j: usize, n: usize) -> Vec<&[u64]> {
        let mut rows: Vec<&[u64]> = self.y[tab.digit.start * n..tab.digit.end * n]
            .chunks(n)
            .collect();
        rows.push(&self.v[j * n..(j + 1) * n]);
        rows
    }
}

impl Drop for DigitInputs {
    fn drop(&mut self) {
        give_buffer(std::mem::take(&mut self.y));
        give_buffer(std::mem::take(&mut self.v));
    }
}

fn digit_inputs(params: &Parameters, d: &Poly<Ntt>, level: usize) -> Result<DigitInputs> {
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
    let mut v = take_buffer(tables.len() * n);
    v.par_chunks_mut(n)
        .zip(tables.par_iter())
        .for_each(|(vj, tab)| {
            let rows: Vec<&[u64]> = y[tab.digit.start * n..tab.digit.end * n]
                .chunks(n)
                .collect();
            nearest_multiples(&rows, &tab.q_inv_f64, vj);
        });
    Ok(DigitInputs { y, v })
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

/// Calls `f` with limb `kt` (prime `m`) of the first `digits` key components: the `b` rows
/// and the `a` rows of one key-switching inner product. A
/// [`KeyStorage::Seeded`](crate::keys::KeyStorage) key regenerates its `a` rows into a
/// buffer of the calling thread (`digits · N` words, reused: a fresh buffer per limb and key
/// switch would cost more in zeroing than the regeneration itself).
fn with_key_rows<R>(
    key: &SwitchingKey,
    digits: usize,
    kt: usize,
    m: &Modulus,
    n: usize,
    f: impl FnOnce(&[&[u64]], &[&[u64]]) -> R,
) -> R {
    thread_local! {
        static A_ROWS: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let b = limb_rows(&key.b[..digits], kt, n);
    match &key.a {
        Some(a) => f(&b, &limb_rows(&a[..digits], kt, n)),
        None => A_ROWS.with_borrow_mut(|rows| {
            if rows.len() < digits * n {
                rows.resize(digits * n, 0);
            }
            for (seed, row) in key.seeds[..digits].iter().zip(rows.chunks_mut(n)) {
                uniform_limb_from_seed(seed, kt as u64, m, row);
            }
            let a: Vec<&[u64]> = rows.chunks(n).take(digits).collect();
            f(&b, &a)
        }),
    }
}

fn limb_rows(polys: &[Poly<Ntt>], kt: usize, n: usize) -> Vec<&[u64]> {
    polys
        .iter()
        .map(|k| &k.data()[kt * n..(kt + 1) * n])
        .collect()
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
    let (out0, out1) = key_switch_single_ip(params, d, level, key)?;
    let r = mod_down_pair_with(params, level, &out0, &out1, f0, f1);
    give_buffer(out0);
    give_buffer(out1);
    r
}

/// Relinearization fused with the rescale that follows it (`d_0 + d_1 s + d_2 s²` over `Q_l`,
/// `l >= 1`, to `(c_0, c_1)` over `Q_{l-1}`): one exact ModDown by `P·q_l` instead of a ModDown
/// by `P` and a rescale by `q_l`. The key-switching inner product `x` of `d_2` (over
/// `Q_l ∪ P`) gets `P·d_t` added on its `q_l` limb, so that `q_l` joins the special primes:
/// `c_t = round((x_t + P·d_t)/(P·q_l))`, whose limbs below `l` are
/// `x_t·(P q_l)^{-1} + d_t·q_l^{-1} + conv_t`. One rounding instead of two, and
/// `l + 1` fewer NTTs per output polynomial (the rescale's inverse NTT and its forward NTT per
/// limb, and the ModDown's NTT of limb `l`, against one more inverse NTT).
pub(crate) fn relinearize_rescale(
    params: &Parameters,
    d: [&Poly<Ntt>; 3],
    level: usize,
    key: &SwitchingKey,
) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
    let n = params.n();
    let (mut x0, mut x1) = key_switch_single_ip(params, d[2], level, key)?;
    let q_ctx = params.q_context(level)?;
    let ql = &q_ctx.moduli()[level];
    let p_mod_ql = params
        .p_primes()
        .iter()
        .fold(1u64, |acc, &p| ql.mul(acc, ql.reduce(p)));
    for (x, dt) in [(&mut x0, d[0]), (&mut x1, d[1])] {
        let limb = &mut x[level * n..(level + 1) * n];
        ql.mul_scalar_add_assign_slice(limb, dt.limb(level), p_mod_ql);
    }
    let down = params.mod_down_rescale(level)?;
    let qp = params.qp_context(level)?;
    let q = params.q_context(level - 1)?;
    let weights = down.last_special_inverse();
    let finish = |dt| Finish {
        add: Some(dt),
        add_weight: Some(weights),
        perm: None,
    };
    let (r0, r1) = rayon::join(
        || down.apply_with(&qp, &q, &x0, finish(d[0])),
        || down.apply_with(&qp, &q, &x1, finish(d[1])),
    );
    give_buffer(x0);
    give_buffer(x1);
    Ok((r0?, r1?))
}

/// The key-switching inner product of [`key_switch_single`] over `Q_level ∪ P` (NTT form,
/// pooled buffers), before ModDown.
fn key_switch_single_ip(
    params: &Parameters,
    d: &Poly<Ntt>,
    level: usize,
    key: &SwitchingKey,
) -> Result<(Vec<u64>, Vec<u64>)> {
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
    let inputs = digit_inputs(params, d, level)?;
    let rows: Vec<Vec<&[u64]>> = tables
        .iter()
        .enumerate()
        .map(|(j, t)| inputs.rows(t, j, n))
        .collect();
    let row_bits: Vec<Vec<u32>> = tables.iter().map(|t| t.row_bits(moduli)).collect();
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
                dot_const(m, &rows[j], &row_bits[j], tab.consts_for(t), dst);
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
            with_key_rows(key, dnum, key_limb(t, level, big_l), m, n, |kb, ka| {
                dot_var2(m, &u, kb, ka, o0, o1);
            });
            give_buffer(scratch);
        });
    drop(rows);
    drop(inputs);
    Ok((out0, out1))
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
    let inputs = digit_inputs(params, d, level)?;
    let digits: Vec<Vec<u64>> = tables
        .par_iter()
        .enumerate()
        .map(|(j, t)| {
            let mut out = take_buffer(limbs * n);
            let dr = t.digit.clone();
            out[dr.start * n..dr.end * n].copy_from_slice(&d.data()[dr.start * n..dr.end * n]);
            let mut targets: Vec<(usize, &mut [u64])> = out
                .chunks_mut(n)
                .enumerate()
                .filter(|(i, _)| !dr.contains(i))
                .collect();
            let rows = inputs.rows(t, j, n);
            let row_bits = t.row_bits(moduli);
            targets.par_iter_mut().for_each(|(tgt, dst)| {
                dot_const(&moduli[*tgt], &rows, &row_bits, t.consts_for(*tgt), dst);
                plans[*tgt].forward(dst);
            });
            out
        })
        .collect();
    drop(inputs);
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
            let u: Vec<&[u64]> = digits.iter().map(|d| &d[t * n..(t + 1) * n]).collect();
            let m = &moduli[t];
            with_key_rows(
                key,
                digits.len(),
                key_limb(t, level, big_l),
                m,
                n,
                |kb, ka| {
                    dot_var2(m, &u, kb, ka, o0, o1);
                },
            );
        });
    Ok((out0, out1))
}

/// What to do with each ModDown output limb before it is stored: `x -> σ(x + w·add)` where
/// `add` is an optional polynomial over (a chain extending) the output basis, `w` an optional
/// constant per output limb (1 if absent) and `σ` an optional NTT-domain automorphism (index
/// permutation). `Default` is the identity.
#[derive(Clone, Copy, Default)]
pub(crate) struct Finish<'a> {
    pub(crate) add: Option<&'a Poly<Ntt>>,
    pub(crate) add_weight: Option<&'a [u64]>,
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
///
/// With `y_i = [x (P/p_i)^{-1}]_{p_i}` and `v = round(Σ y_i / p_i)`, the centered remainder is
/// `Σ y_i (P/p_i) - v P`, so limb `j` of the result is
/// `x_j P^{-1} + conv_j` with `conv_j = Σ y_i [-(P/p_i) P^{-1}]_{q_j} + v` (the factor `-P^{-1}`
/// is folded into the conversion constants, and the constant of `v` becomes 1).
#[derive(Debug)]
pub(crate) struct ModDownExact {
    q_len: usize,
    p: Vec<Modulus>,
    /// `1 / p_i`.
    p_inv_f64: Vec<f64>,
    /// `[(P/p_i)^{-1} N^{-1}]_{p_i}` (the `1/N` of the inverse NTT is folded in).
    p_hat_inv: Vec<u64>,
    /// `[-(P/p_i) P^{-1}]_{q_j}` for `i < k`, then `1` (the constant of `v`), row-major
    /// `[j * (k + 1) + i]`.
    conv_consts: Vec<u64>,
    /// `[P^{-1}]_{q_j}`.
    p_inv_mod_q: Vec<u64>,
    /// `[p_0^{-1}]_{q_j}` (see [`ModDownExact::last_special_inverse`]).
    first_special_inv: Vec<u64>,
}

/// `v[c] = round(Σ_i ys[i][c] · p_inv[i])` (`f64` arithmetic, accumulated in the order
/// `i = 0, 1, ...`, rounded half away from zero: bit for bit the scalar
/// `s += y as f64 * p_inv; s.round()`). `s` is scratch of the same length as `v`; every row is
/// at least as long.
#[inline(always)]
fn nearest_multiple_body(ys: &[&[u64]], p_inv: &[f64], s: &mut [f64], v: &mut [u64]) {
    for (i, (yi, &pi)) in ys.iter().zip(p_inv).enumerate() {
        let yi = &yi[..s.len()];
        if i == 0 {
            for (sc, &yc) in s.iter_mut().zip(yi) {
                *sc = yc as f64 * pi;
            }
        } else {
            for (sc, &yc) in s.iter_mut().zip(yi) {
                *sc += yc as f64 * pi;
            }
        }
    }
    for (vc, &sc) in v.iter_mut().zip(s.iter()) {
        // For s >= 0: trunc(s) and s - trunc(s) are exact, so this is f64::round(s).
        let t = sc as u64;
        *vc = t + ((sc - t as f64) >= 0.5) as u64;
    }
}

/// [`nearest_multiple_body`] compiled for AVX-512 (vectorized conversions).
///
/// # Safety
/// AVX-512F and AVX-512DQ must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn nearest_multiple_avx512(ys: &[&[u64]], p_inv: &[f64], s: &mut [f64], v: &mut [u64]) {
    nearest_multiple_body(ys, p_inv, s, v);
}

/// `v[c] = round(Σ_i ys[i][c] · inv[i])` for every column (the multiple of the basis product
/// to subtract in an exact conversion), in cache-sized blocks; every row is at least as long as
/// `v`.
fn nearest_multiples(ys: &[&[u64]], inv: &[f64], v: &mut [u64]) {
    let mut s = [0f64; 1024];
    for (b, vb) in v.chunks_mut(s.len()).enumerate() {
        let yb: Vec<&[u64]> = ys.iter().map(|r| &r[b * s.len()..]).collect();
        nearest_multiple(&yb, inv, &mut s[..vb.len()], vb);
    }
}

/// [`nearest_multiple_body`] with the best code path for this CPU.
fn nearest_multiple(ys: &[&[u64]], p_inv: &[f64], s: &mut [f64], v: &mut [u64]) {
    assert_eq!(s.len(), v.len());
    #[cfg(target_arch = "x86_64")]
    {
        static AVX512: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *AVX512.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
        }) {
            // SAFETY: the features were detected at run time.
            unsafe { nearest_multiple_avx512(ys, p_inv, s, v) };
            return;
        }
    }
    nearest_multiple_body(ys, p_inv, s, v);
}

/// `dst[i] = src[perm[i] mod N]` for `N = src.len()` (a power of two; `perm` is a permutation
/// of `0..N` in practice, the mask only keeps every read in bounds).
pub(crate) fn gather(dst: &mut [u64], src: &[u64], perm: &[u32]) {
    let n = src.len();
    assert!(n.is_power_of_two() && n <= 1 << 31 && dst.len() == n && perm.len() == n);
    let mask = n - 1;
    #[cfg(target_arch = "x86_64")]
    let done = {
        static AVX512: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *AVX512.get_or_init(|| std::arch::is_x86_feature_detected!("avx512f")) {
            // SAFETY: AVX-512F was detected at run time; the lengths were checked above.
            unsafe { gather_avx512(dst, src, perm) }
        } else {
            0
        }
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    for (d, &p) in dst[done..].iter_mut().zip(&perm[done..]) {
        *d = src[p as usize & mask];
    }
}

/// The first `8 * floor(N / 8)` elements of [`gather`]; returns how many.
///
/// # Safety
/// AVX-512F must be available; `src.len()` a power of two below `2^31`, `dst` and `perm` as
/// long as `src`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn gather_avx512(dst: &mut [u64], src: &[u64], perm: &[u32]) -> usize {
    use std::arch::x86_64::*;
    let n = dst.len() / 8 * 8;
    let mask = _mm256_set1_epi32((src.len() - 1) as i32);
    let mut c = 0;
    while c < n {
        // SAFETY: c + 8 <= n <= perm.len() = dst.len(); every index is masked below src.len().
        unsafe {
            let idx = _mm256_loadu_si256(perm.as_ptr().add(c).cast());
            let idx = _mm256_and_si256(idx, mask);
            let v = _mm512_i32gather_epi64::<8>(idx, src.as_ptr().cast());
            _mm512_storeu_si512(dst.as_mut_ptr().add(c).cast(), v);
        }
        c += 8;
    }
    n
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
        let n = qp.n() as u64;
        let p_hat_inv = p
            .iter()
            .enumerate()
            .map(|(i, pi)| {
                pi.inv(pi.mul(prod_except(pi, Some(i)), pi.reduce(n)))
                    .expect("coprime primes")
            })
            .collect();
        let mut conv_consts = vec![0u64; q_len * (k + 1)];
        let mut p_inv_mod_q = Vec::with_capacity(q_len);
        for (j, qj) in q.iter().enumerate() {
            let inv = qj.inv(prod_except(qj, None)).expect("coprime primes");
            let neg_inv = qj.neg(inv);
            for i in 0..k {
                conv_consts[j * (k + 1) + i] = qj.mul(prod_except(qj, Some(i)), neg_inv);
            }
            conv_consts[j * (k + 1) + k] = 1;
            p_inv_mod_q.push(inv);
        }
        let first_special_inv = q
            .iter()
            .map(|qj| qj.inv(qj.reduce(p[0].value())).expect("coprime primes"))
            .collect();
        Self {
            q_len,
            p: p.to_vec(),
            p_inv_f64: p.iter().map(|m| 1.0 / m.value() as f64).collect(),
            p_hat_inv,
            conv_consts,
            p_inv_mod_q,
            first_special_inv,
        }
    }

    /// `[p_0^{-1}]_{q_j}` for the first special prime `p_0`: with `q_l` as the first special
    /// prime (the fused relinearize-and-rescale), the weight of the `d_t` term.
    pub(crate) fn last_special_inverse(&self) -> &[u64] {
        &self.first_special_inv
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
            && (a.num_limbs() < q.num_limbs() || !a.context().prefix(q.num_limbs())?.same_ring(q))
        {
            return Err(hetal_math::Error::MismatchedBases {
                op: "key switch",
                reason: "operands live in different rings",
            }
            .into());
        }
        if let Some(w) = finish.add_weight {
            assert_eq!(
                w.len(),
                q.num_limbs(),
                "ModDown: one add weight per output limb"
            );
        }
        let n = qp.n();
        if let Some(perm) = finish.perm {
            assert_eq!(perm.len(), n, "ModDown: permutation of the wrong length");
        }
        let k = self.p.len();
        let q_len = self.q_len;
        let plans = qp.plans();
        // y_i = [x_i (P/p_i)^{-1}]_{p_i} in coefficient form: the constant (with the 1/N of the
        // inverse NTT folded in) is applied in the NTT domain, where it is a pointwise product.
        let mut y = take_buffer(k * n);
        y.par_chunks_mut(n).enumerate().for_each(|(i, yi)| {
            let m = &self.p[i];
            let xi = &data[(q_len + i) * n..(q_len + i + 1) * n];
            dot_const(m, &[xi], &[m.bits()], &[self.p_hat_inv[i]], yi);
            plans[q_len + i].inverse_unnormalized(yi);
        });
        // v = round(Σ y_i / p_i) (at most k): the multiple of P to subtract for the centered
        // remainder.
        let mut v = take_buffer(n);
        let mut rows: Vec<&[u64]> = y.chunks(n).collect();
        nearest_multiples(&rows, &self.p_inv_f64, &mut v);
        rows.push(&v);
        let q_moduli = q.moduli();
        // Rows of the conversion: the k residues y_i, then v.
        let mut row_bits: Vec<u32> = self.p.iter().map(|m| m.bits()).collect();
        row_bits.push(usize::BITS - k.leading_zeros() + 1);
        // The output escapes as a ciphertext polynomial. A pooled buffer (already paged in) is
        // still the cheapest memory for it when one is free: a fresh allocation of this size is
        // `mmap`ed and page-faulted on first write.
        let mut out = take_buffer(q_len * n);
        out.par_chunks_mut(n).enumerate().for_each(|(j, oj)| {
            let m = &q_moduli[j];
            let mut conv = take_buffer(n);
            let w = &self.conv_consts[j * (k + 1)..(j + 1) * (k + 1)];
            dot_const(m, &rows, &row_bits, w, &mut conv);
            plans[j].forward(&mut conv);
            // x_j·P^{-1} + conv_j (+ add_j), in place in the L2-resident scratch.
            let xj = &data[j * n..(j + 1) * n];
            let w = self.p_inv_mod_q[j];
            match (finish.add, finish.add_weight) {
                (None, _) => m.mul_scalar_add_assign_slice(&mut conv, xj, w),
                (Some(a), None) => mul_scalar_add2(m, &mut conv, xj, w, a.limb(j)),
                (Some(a), Some(aw)) => {
                    let mut sum = take_buffer(n);
                    let bits = m.bits();
                    dot_const(
                        m,
                        &[&conv, xj, a.limb(j)],
                        &[bits, bits, bits],
                        &[1, w, aw[j]],
                        &mut sum,
                    );
                    give_buffer(std::mem::replace(&mut conv, sum));
                }
            }
            match finish.perm {
                None => oj.copy_from_slice(&conv),
                Some(perm) => gather(oj, &conv, perm),
            }
            give_buffer(conv);
        });
        give_buffer(v);
        give_buffer(y);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ParametersLiteral;
    use num_bigint::BigUint;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};

    /// Uniform residues over `ctx` (limb-major).
    fn random_limbs(ctx: &Context, rng: &mut ChaCha20Rng) -> Vec<u64> {
        let n = ctx.n();
        let mut v = vec![0u64; ctx.num_limbs() * n];
        for (limb, m) in v.chunks_mut(n).zip(ctx.moduli()) {
            for x in limb {
                *x = rng.next_u64() % m.value();
            }
        }
        v
    }

    /// `round(x / P)` over `Q` with the centered remainder, by big-integer CRT of `x mod P`
    /// (NTT form in and out).
    fn reference_mod_down(qp: &Context, q_len: usize, data: &[u64]) -> Vec<u64> {
        let n = qp.n();
        let moduli = qp.moduli();
        let mut coeffs = data.to_vec();
        for (limb, plan) in coeffs.chunks_mut(n).zip(qp.plans()) {
            plan.inverse(limb);
        }
        let p: Vec<u64> = moduli[q_len..].iter().map(|m| m.value()).collect();
        let big_p = p.iter().fold(BigUint::from(1u32), |a, &x| a * x);
        // CRT: r = Σ [y_i (P/p_i)^{-1}]_{p_i} (P/p_i) mod P.
        let terms: Vec<(BigUint, u64)> = p
            .iter()
            .map(|&pi| {
                let hat = &big_p / pi;
                let hat_mod = (&hat % pi).to_u64_digits().first().copied().unwrap_or(0);
                let inv = Modulus::new(pi).unwrap().inv(hat_mod).unwrap();
                (hat, inv)
            })
            .collect();
        let half = &big_p >> 1;
        let mut out = vec![0u64; q_len * n];
        for c in 0..n {
            let mut r = BigUint::from(0u32);
            for (i, (hat, inv)) in terms.iter().enumerate() {
                let m = &moduli[q_len + i];
                r += hat * m.mul(coeffs[(q_len + i) * n + c], *inv);
            }
            r %= &big_p;
            let neg = r > half;
            for j in 0..q_len {
                let m = &moduli[j];
                let qj = m.value();
                let r_mod = |v: &BigUint| (v % qj).to_u64_digits().first().copied().unwrap_or(0);
                // x - r_centered, where r_centered = r or r - P.
                let mut d = m.sub(coeffs[j * n + c], r_mod(&r));
                if neg {
                    d = m.add(d, r_mod(&big_p));
                }
                let p_inv = m.inv(r_mod(&big_p)).unwrap();
                out[j * n + c] = m.mul(d, p_inv);
            }
        }
        for (limb, plan) in out.chunks_mut(n).zip(qp.plans()) {
            plan.forward(limb);
        }
        out
    }

    /// Every digit's extension is the centered residue `[x]_D ∈ [-D/2, D/2)`, limb by limb of
    /// `Q_level ∪ P` (big-integer CRT oracle), in both ModUp paths (the stored decomposition
    /// and the fused single key switch, which must agree), at every level shape: full digits,
    /// a partial last digit, one digit.
    #[test]
    fn mod_up_extends_each_digit_to_its_centered_residue() {
        let params = Parameters::new(ParametersLiteral::insecure_n12()).unwrap();
        let n = params.n();
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        for level in [params.max_level(), 4, 1] {
            let q = params.q_context(level).unwrap();
            let qp = params.qp_context(level).unwrap();
            let d = Poly::from_reduced_limbs(&q, random_limbs(&q, &mut rng)).unwrap();
            let x = d.clone().to_coeff();
            let dec = decompose(&params, &d, level).unwrap();
            let tables = params.mod_up(level).unwrap();
            assert!(!tables.is_empty() && dec.digits.len() == tables.len());
            let (mut below, mut above) = (0usize, 0usize);
            for (tab, ext) in tables.iter().zip(&dec.digits) {
                let digit: Vec<u64> = qp.moduli()[tab.digit.clone()]
                    .iter()
                    .map(|m| m.value())
                    .collect();
                let big_d = digit.iter().fold(BigUint::from(1u32), |a, &v| a * v);
                let half = &big_d >> 1;
                let basis =
                    hetal_math::RnsBasis::from_moduli(qp.moduli()[tab.digit.clone()].to_vec())
                        .unwrap();
                let mut ext = ext.clone();
                for (limb, plan) in ext.chunks_mut(n).zip(qp.plans()) {
                    plan.inverse(limb);
                }
                for c in 0..n {
                    let residues: Vec<u64> = tab.digit.clone().map(|i| x.limb(i)[c]).collect();
                    let r = basis.reconstruct(&residues).unwrap();
                    // Centered: r in [-D/2, D/2), written as r or r - D.
                    let neg = r >= half;
                    if neg {
                        above += 1;
                    } else {
                        below += 1;
                    }
                    for (t, m) in qp.moduli().iter().enumerate() {
                        let r_t = (&r % m.value())
                            .to_u64_digits()
                            .first()
                            .copied()
                            .unwrap_or(0);
                        let d_t = (&big_d % m.value())
                            .to_u64_digits()
                            .first()
                            .copied()
                            .unwrap_or(0);
                        let want = if neg { m.sub(r_t, d_t) } else { r_t };
                        assert_eq!(ext[t * n + c], want, "level {level}, limb {t}, coeff {c}");
                    }
                }
            }
            // Uniform inputs: about half of the residues are negative once centered.
            assert!(below > 0 && above > 0);
        }
    }

    /// The fused single key switch (ModUp per target limb) equals the stored decomposition
    /// followed by the inner product, at every level shape.
    #[test]
    fn fused_mod_up_equals_stored_decomposition() {
        let params = Parameters::new(ParametersLiteral::insecure_n12()).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let sk = crate::keys::SecretKey::generate(&params, &mut rng).unwrap();
        let key = sk.relinearization_key(&mut rng).unwrap();
        for level in [params.max_level(), 4, 1] {
            let q = params.q_context(level).unwrap();
            let d = Poly::from_reduced_limbs(&q, random_limbs(&q, &mut rng)).unwrap();
            let dec = decompose(&params, &d, level).unwrap();
            let (a0, a1) = key_switch_with(
                &params,
                &dec,
                key.switching_key(),
                Finish::default(),
                Finish::default(),
            )
            .unwrap();
            let (b0, b1) = key_switch_single(&params, &d, level, key.switching_key()).unwrap();
            assert_eq!(a0, b0, "level {level}");
            assert_eq!(a1, b1, "level {level}");
        }
    }

    /// ModDown equals the big-integer `round(x / P)` on the primes of the `N = 2^16` chain (in a
    /// smaller ring), with and without a fused addition and automorphism.
    #[test]
    fn mod_down_matches_big_integer_reference() {
        let lit = ParametersLiteral::n16_qp1325();
        let params = Parameters::new(lit).unwrap();
        let primes: Vec<u64> = params
            .q_primes()
            .iter()
            .chain(params.p_primes())
            .copied()
            .collect();
        let n = 1 << 10;
        let q_len = params.q_primes().len();
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        for q_len in [q_len, 3, 1] {
            let mut sel: Vec<u64> = primes[..q_len].to_vec();
            sel.extend(params.p_primes());
            let qp = Context::new(n, &sel).unwrap();
            let q = Context::new(n, &sel[..q_len]).unwrap();
            let down = ModDownExact::new(&qp, q_len);
            let data = random_limbs(&qp, &mut rng);
            let want = reference_mod_down(&qp, q_len, &data);
            let got = down.apply(&qp, &q, &data).unwrap();
            assert_eq!(got.data(), &want[..], "q_len {q_len}");
            // Fused finish: σ(x + a).
            let add = Poly::from_reduced_limbs(&q, random_limbs(&q, &mut rng)).unwrap();
            let perm = hetal_math::automorphism_permutation(n, 5).unwrap();
            let finish = Finish {
                add: Some(&add),
                add_weight: None,
                perm: Some(&perm),
            };
            let got = down.apply_with(&qp, &q, &data, finish).unwrap();
            for j in 0..q_len {
                let m = &q.moduli()[j];
                let sum: Vec<u64> = (0..n)
                    .map(|c| m.add(want[j * n + c], add.limb(j)[c]))
                    .collect();
                let expect: Vec<u64> = perm.iter().map(|&p| sum[p as usize]).collect();
                assert_eq!(&got.data()[j * n..(j + 1) * n], &expect[..], "limb {j}");
            }
        }
    }
}
