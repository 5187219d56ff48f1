//! CKKS parameters: a serde-friendly literal validated into immutable, `Arc`-shared
//! [`Parameters`].
//!
//! # The scale convention
//! Every level `l` of the chain has a canonical scale `Δ_l`: `Δ_top = 2^log_scale` and
//! `Δ_{l-1} = Δ_l^2 / q_l`, where `q_l` is the prime removed when rescaling from level `l`.
//! When the `Q` primes are given as bit sizes, they are chosen from the top down adaptively:
//! `q_l` is the NTT-friendly prime nearest `Δ_l^2 / 2^log_scale · 2^(bits_l - log_scale)`, so with
//! `bits_l = log_scale` every `Δ_l` stays within about `2^-15` (relative, at `N = 2^16` where
//! NTT-friendly primes are `2^17` apart) of `2^log_scale`: the deviation does not accumulate.
//! With explicit primes `Δ_l` follows the same recurrence. Consequences for circuits:
//! * a plaintext or constant multiplied into a level-`l` ciphertext is encoded at `Δ_l`;
//! * after multiply + rescale the result has exactly `Δ_{l-1}`;
//! * operands at the same level therefore always have matching scales.
//!
//! ```
//! use hetal_ckks::params::{Parameters, ParametersLiteral};
//! let params = Parameters::new(ParametersLiteral::insecure_n10()).unwrap();
//! assert_eq!(params.n(), 1024);
//! let top = params.max_level();
//! assert_eq!(params.scale_at(top), 2f64.powi(params.log_scale() as i32));
//! // Δ_{l-1} = Δ_l^2 / q_l.
//! let q = params.q_primes()[top] as f64;
//! assert_eq!(params.scale_at(top - 1), params.scale_at(top).powi(2) / q);
//! ```

use std::ops::Range;
use std::sync::Arc;

use hetal_math::{Context, RnsChain};
use serde::{Deserialize, Serialize};

use crate::encoding::{Encoder, MAX_LOG_N};
use crate::error::{Error, Result};
use crate::security::{SecretDistribution, SecurityLevel, max_log_qp_128};

/// How a list of primes is specified in a literal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Moduli {
    /// Bit sizes; primes are generated (for `Q`: adaptively, see the module docs).
    Bits(Vec<u32>),
    /// Explicit NTT-friendly primes (`p = 1 mod 2N`, at most 61 bits, all distinct).
    Primes(Vec<u64>),
}

impl Moduli {
    fn len(&self) -> usize {
        match self {
            Moduli::Bits(b) => b.len(),
            Moduli::Primes(p) => p.len(),
        }
    }
}

/// Distribution of the encryption and key errors.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum ErrorDistribution {
    /// Rounded Gaussian with standard deviation `sigma`, truncated at `6·sigma`.
    Gaussian {
        /// Standard deviation (3.2 in the Homomorphic Encryption Standard).
        sigma: f64,
    },
}

impl Default for ErrorDistribution {
    fn default() -> Self {
        ErrorDistribution::Gaussian {
            sigma: hetal_math::sampling::DEFAULT_SIGMA,
        }
    }
}

/// The unchecked parameter literal. Validate it with [`Parameters::new`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParametersLiteral {
    /// `log2` of the ring degree `N`.
    pub log_n: u32,
    /// The ciphertext modulus chain `q_0, ..., q_L` (`q_0` is the base prime).
    pub q: Moduli,
    /// The special primes `P` of hybrid key switching (at least one).
    pub p: Moduli,
    /// `log2` of the top-level scale `Δ_L`.
    pub log_scale: u32,
    /// Distribution of the secret key.
    pub secret: SecretDistribution,
    /// Distribution of the errors.
    pub error: ErrorDistribution,
    /// Number of key-switching digits at the top level (`dnum`), `1 ..= L + 1`.
    pub dnum: usize,
    /// `log2` of the number of slots; `None` means `N/2` (full packing).
    pub log_slots: Option<u32>,
    /// Skips the security check. Only for tests and experiments.
    pub insecure_for_testing: bool,
    /// The level at which the scale is `2^log_scale`: the top of the *user-visible* chain.
    /// `None` (the default) means the top level. A bootstrapping chain sets it to the top of its
    /// residual chain: the primes above it (SlotsToCoeffs, EvalMod, CoeffsToSlots) are used only
    /// inside bootstrapping, with explicit scales (see [`crate::bootstrap`]); with bit sizes
    /// they are generated as plain NTT-friendly primes of those sizes, not adaptively.
    #[serde(default)]
    pub scale_level: Option<usize>,
}

impl ParametersLiteral {
    fn insecure(log_n: u32, levels: usize, log_scale: u32, dnum: usize) -> Self {
        let mut q = vec![log_scale + 15];
        q.extend(std::iter::repeat_n(log_scale, levels));
        Self {
            log_n,
            q: Moduli::Bits(q),
            p: Moduli::Bits(vec![log_scale + 16; (levels + 1).div_ceil(dnum)]),
            log_scale,
            secret: SecretDistribution::UniformTernary,
            error: ErrorDistribution::default(),
            dnum,
            log_slots: None,
            insecure_for_testing: true,
            scale_level: None,
        }
    }

    /// Insecure test set: `N = 2^10`, 4 levels at `2^30` (5 Q primes), 2 digits.
    pub fn insecure_n10() -> Self {
        Self::insecure(10, 4, 30, 2)
    }

    /// Insecure test set: `N = 2^11`, 6 levels at `2^35`, 3 digits.
    pub fn insecure_n11() -> Self {
        Self::insecure(11, 6, 35, 3)
    }

    /// Insecure test set: `N = 2^12`, 8 levels at `2^40`, 3 digits.
    pub fn insecure_n12() -> Self {
        Self::insecure(12, 8, 40, 3)
    }

    /// Insecure test set: `N = 2^13`, 10 levels at `2^40`, 4 digits.
    pub fn insecure_n13() -> Self {
        Self::insecure(13, 10, 40, 4)
    }

    /// The 128-bit `N = 2^16` chain: `Q` = one 60-bit prime and 24 primes at a `2^40` scale,
    /// `P` = five 61-bit primes (5 digits of 5 primes), uniform ternary secret. `log QP ≈ 1325`,
    /// below the 1761-bit bound for uniform ternary secrets and also below the 1553-bit bound of
    /// a Hamming-weight-192 secret.
    pub fn n16_qp1325() -> Self {
        let mut q = vec![60];
        q.extend(std::iter::repeat_n(40, 24));
        Self {
            log_n: 16,
            q: Moduli::Bits(q),
            p: Moduli::Bits(vec![61; 5]),
            log_scale: 40,
            secret: SecretDistribution::UniformTernary,
            error: ErrorDistribution::default(),
            dnum: 5,
            log_slots: None,
            insecure_for_testing: false,
            scale_level: None,
        }
    }

    /// The same chain truncated to its first `q_limbs` Q primes (for benchmarks at lower
    /// levels); 128-bit secure as the full chain is.
    pub fn n16_qp1325_limbs(q_limbs: usize) -> Self {
        let mut lit = Self::n16_qp1325();
        if let Moduli::Bits(b) = &mut lit.q {
            b.truncate(q_limbs.max(1));
        }
        lit.dnum = lit.dnum.min(q_limbs.max(1));
        lit
    }
}

struct Inner {
    literal: ParametersLiteral,
    log_n: u32,
    q: Vec<u64>,
    p: Vec<u64>,
    scales: Vec<f64>,
    chain: RnsChain,
    encoder: Encoder,
    digit_size: usize,
    security: SecurityLevel,
    log_qp: f64,
    fingerprint: u64,
    sigma: f64,
    mod_down: Vec<std::sync::OnceLock<Arc<crate::keyswitch::ModDownExact>>>,
    mod_down_rescale: Vec<std::sync::OnceLock<Arc<crate::keyswitch::ModDownExact>>>,
    mod_up: Vec<std::sync::OnceLock<Arc<Vec<crate::keyswitch::ModUpDigit>>>>,
}

/// Validated, immutable CKKS parameters. Cloning is cheap (an `Arc`).
#[derive(Clone)]
pub struct Parameters {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Parameters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parameters")
            .field("log_n", &self.inner.log_n)
            .field("q", &self.inner.q)
            .field("p", &self.inner.p)
            .field("log_scale", &self.inner.literal.log_scale)
            .field("dnum", &self.dnum())
            .field("log_slots", &self.inner.encoder.log_slots())
            .field("security", &self.inner.security)
            .finish()
    }
}

impl PartialEq for Parameters {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.inner.literal == other.inner.literal
    }
}

fn bad(reason: String) -> Error {
    Error::InvalidArgument {
        op: "Parameters::new",
        reason,
    }
}

fn generate_q(lit: &ParametersLiteral, n: usize, exclude: &mut Vec<u64>) -> Result<Vec<u64>> {
    let Moduli::Bits(bits) = &lit.q else {
        unreachable!()
    };
    let levels = bits.len();
    let top = lit.scale_level.unwrap_or(levels - 1);
    let mut q = vec![0u64; levels];
    // Base prime first, as a plain prime of the requested size.
    let base = generate_distinct(bits[0], n, 1, exclude)?;
    q[0] = base[0];
    exclude.push(q[0]);
    // Bootstrapping primes above the scale level: plain primes of the requested sizes.
    for l in top + 1..levels {
        let p = generate_distinct(bits[l], n, 1, exclude)?[0];
        q[l] = p;
        exclude.push(p);
    }
    let ideal = 2f64.powi(lit.log_scale as i32);
    let mut scale = ideal;
    for l in (1..=top).rev() {
        let target = scale * scale / ideal * 2f64.powi(bits[l] as i32 - lit.log_scale as i32);
        let p = hetal_math::closest_ntt_prime_f64(target, n, exclude)?;
        q[l] = p;
        exclude.push(p);
        scale = scale * scale / p as f64;
    }
    Ok(q)
}

fn generate_distinct(bits: u32, n: usize, count: usize, exclude: &[u64]) -> Result<Vec<u64>> {
    let extra = exclude.len();
    let cand = hetal_math::generate_ntt_primes(bits, n, count + extra).or_else(|_| {
        // Fewer candidates exist; take what there is and filter.
        hetal_math::generate_ntt_primes(bits, n, count)
    })?;
    let out: Vec<u64> = cand
        .into_iter()
        .filter(|p| !exclude.contains(p))
        .take(count)
        .collect();
    if out.len() < count {
        return Err(bad(format!(
            "not enough distinct {bits}-bit NTT-friendly primes for N = {n}"
        )));
    }
    Ok(out)
}

fn fingerprint(lit: &ParametersLiteral, q: &[u64], p: &[u64], log_slots: u32) -> u64 {
    // FNV-1a over a canonical byte encoding; an identity check, not a MAC.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(b"hetal-ckks-params-v1");
    eat(&lit.log_n.to_le_bytes());
    eat(&(q.len() as u64).to_le_bytes());
    for x in q {
        eat(&x.to_le_bytes());
    }
    eat(&(p.len() as u64).to_le_bytes());
    for x in p {
        eat(&x.to_le_bytes());
    }
    eat(&lit.log_scale.to_le_bytes());
    match lit.secret {
        SecretDistribution::UniformTernary => eat(&[0]),
        SecretDistribution::HammingWeight(w) => {
            eat(&[1]);
            eat(&(w as u64).to_le_bytes());
        }
    }
    let ErrorDistribution::Gaussian { sigma } = lit.error;
    eat(&sigma.to_bits().to_le_bytes());
    eat(&(lit.dnum as u64).to_le_bytes());
    eat(&log_slots.to_le_bytes());
    if let Some(t) = lit.scale_level {
        // Only when set, so the fingerprints of ordinary parameters are unchanged.
        eat(b"scale-level");
        eat(&(t as u64).to_le_bytes());
    }
    h
}

impl Parameters {
    /// Validates a literal: ring degree, prime sizes and distinctness, NTT-friendliness,
    /// digits, slots, error distribution, secret weight, and security (refused unless
    /// `insecure_for_testing`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the problem, [`Error::Insecure`] for a combination
    /// above the 128-bit bound, [`Error::Math`] from prime generation.
    pub fn new(lit: ParametersLiteral) -> Result<Self> {
        if !(10..=MAX_LOG_N).contains(&lit.log_n) {
            return Err(bad(format!("log N = {} outside 10..=17", lit.log_n)));
        }
        let n = 1usize << lit.log_n;
        if lit.q.len() == 0 {
            return Err(bad("Q is empty".into()));
        }
        if lit.p.len() == 0 {
            return Err(bad("P is empty (hybrid key switching needs P)".into()));
        }
        if !(10..=60).contains(&lit.log_scale) {
            return Err(bad(format!("log scale {} outside 10..=60", lit.log_scale)));
        }
        let levels = lit.q.len();
        if lit.dnum == 0 || lit.dnum > levels {
            return Err(bad(format!(
                "dnum = {} must be in 1..={levels} (the number of Q primes)",
                lit.dnum
            )));
        }
        let log_slots = lit.log_slots.unwrap_or(lit.log_n - 1);
        if log_slots >= lit.log_n {
            return Err(bad(format!(
                "log slots {log_slots} must be below log N {}",
                lit.log_n
            )));
        }
        if let Some(t) = lit.scale_level
            && t >= levels
        {
            return Err(bad(format!(
                "scale level {t} must be below the number of Q primes {levels}"
            )));
        }
        let ErrorDistribution::Gaussian { sigma } = lit.error;
        if !(sigma > 0.0 && sigma <= 64.0) {
            return Err(bad(format!("error sigma {sigma} outside (0, 64]")));
        }
        if let SecretDistribution::HammingWeight(h) = lit.secret
            && (h == 0 || h > n)
        {
            return Err(bad(format!("Hamming weight {h} outside 1..={n}")));
        }
        for b in match (&lit.q, &lit.p) {
            (Moduli::Bits(a), Moduli::Bits(b)) => a.iter().chain(b).copied().collect(),
            (Moduli::Bits(a), _) | (_, Moduli::Bits(a)) => a.clone(),
            _ => vec![],
        } {
            if !(lit.log_n + 3..=61).contains(&b) {
                return Err(bad(format!(
                    "prime size {b} bits outside {}..=61",
                    lit.log_n + 3
                )));
            }
        }
        // Primes: P first, then the base prime, then the chain from the top down.
        let mut used: Vec<u64> = Vec::new();
        if let Moduli::Primes(q) = &lit.q {
            used.extend(q);
        }
        if let Moduli::Primes(p) = &lit.p {
            used.extend(p);
        }
        let p = match &lit.p {
            Moduli::Primes(p) => p.clone(),
            Moduli::Bits(bits) => {
                let mut out = Vec::new();
                for &b in bits {
                    let cand = generate_distinct(b, n, 1, &used)?;
                    used.push(cand[0]);
                    out.push(cand[0]);
                }
                out
            }
        };
        let q = match &lit.q {
            Moduli::Primes(q) => q.clone(),
            Moduli::Bits(_) => generate_q(&lit, n, &mut used)?,
        };
        let mut all: Vec<u64> = q.iter().chain(&p).copied().collect();
        for &x in &all {
            if x >= 1 << 61 || !hetal_math::is_prime(x) || x % (2 * n as u64) != 1 {
                return Err(bad(format!(
                    "{x} is not an NTT-friendly prime (p = 1 mod 2N, p < 2^61) for N = {n}"
                )));
            }
        }
        all.sort_unstable();
        if all.windows(2).any(|w| w[0] == w[1]) {
            return Err(bad("a prime appears twice in Q ∪ P".into()));
        }
        let digit_size = q.len().div_ceil(lit.dnum);
        let log_p: f64 = p.iter().map(|&x| (x as f64).log2()).sum();
        for (j, digit) in q.chunks(digit_size).enumerate() {
            let log_d: f64 = digit.iter().map(|&x| (x as f64).log2()).sum();
            if log_d > log_p {
                return Err(bad(format!(
                    "P ({log_p:.1} bits) must be at least the largest key-switching digit \
                     (digit {j}: {log_d:.1} bits); add P primes or increase dnum"
                )));
            }
        }
        let log_qp: f64 = q.iter().chain(&p).map(|&x| (x as f64).log2()).sum();
        let security = if lit.insecure_for_testing {
            SecurityLevel::InsecureForTesting
        } else {
            match max_log_qp_128(lit.log_n, lit.secret) {
                Some(max) if log_qp <= max as f64 => SecurityLevel::Bits128 { max_log_qp: max },
                bound => {
                    return Err(Error::Insecure {
                        log_n: lit.log_n,
                        log_qp,
                        bound,
                    });
                }
            }
        };
        // Scales: canonical below the scale level; above it the same recurrence run upwards,
        // `Δ_l = sqrt(Δ_{l-1} · q_l)`, so the rule `Δ_{l-1} = Δ_l² / q_l` holds on every level.
        let levels = q.len();
        let top = lit.scale_level.unwrap_or(levels - 1);
        let mut scales = vec![0.0; levels];
        scales[top] = 2f64.powi(lit.log_scale as i32);
        for l in (1..=top).rev() {
            scales[l - 1] = scales[l] * scales[l] / q[l] as f64;
        }
        for l in top + 1..levels {
            scales[l] = (scales[l - 1] * q[l] as f64).sqrt();
        }
        let chain = RnsChain::new(n, &q, &p)?;
        let encoder = Encoder::new(lit.log_n, log_slots)?;
        let fp = fingerprint(&lit, &q, &p, log_slots);
        let mut resolved = lit.clone();
        resolved.q = Moduli::Primes(q.clone());
        resolved.p = Moduli::Primes(p.clone());
        resolved.log_slots = Some(log_slots);
        Ok(Self {
            inner: Arc::new(Inner {
                literal: resolved,
                log_n: lit.log_n,
                q,
                p,
                scales,
                chain,
                encoder,
                digit_size,
                security,
                log_qp,
                fingerprint: fp,
                sigma,
                mod_down: (0..levels).map(|_| std::sync::OnceLock::new()).collect(),
                mod_down_rescale: (0..levels).map(|_| std::sync::OnceLock::new()).collect(),
                mod_up: (0..levels).map(|_| std::sync::OnceLock::new()).collect(),
            }),
        })
    }

    /// The literal with every prime made explicit (re-validating it gives the same parameters).
    pub fn literal(&self) -> &ParametersLiteral {
        &self.inner.literal
    }

    /// `log2 N`.
    pub fn log_n(&self) -> u32 {
        self.inner.log_n
    }

    /// Ring degree `N`.
    pub fn n(&self) -> usize {
        1 << self.inner.log_n
    }

    /// Number of complex slots.
    pub fn slots(&self) -> usize {
        self.inner.encoder.slots()
    }

    /// `log2` of the number of slots.
    pub fn log_slots(&self) -> u32 {
        self.inner.encoder.log_slots()
    }

    /// The `Q` primes `q_0, ..., q_L`.
    pub fn q_primes(&self) -> &[u64] {
        &self.inner.q
    }

    /// The special primes `P`.
    pub fn p_primes(&self) -> &[u64] {
        &self.inner.p
    }

    /// The top level `L` (a fresh ciphertext's level; `L + 1` Q primes).
    pub fn max_level(&self) -> usize {
        self.inner.q.len() - 1
    }

    /// The top of the user-visible chain: the level at which the scale is `2^log_scale` and
    /// fresh ciphertexts are encrypted. Equal to [`Parameters::max_level`] except for
    /// bootstrapping parameters, whose levels above it are used only inside bootstrapping.
    pub fn residual_level(&self) -> usize {
        self.inner.literal.scale_level.unwrap_or(self.max_level())
    }

    /// `log2` of the default (top-level) scale.
    pub fn log_scale(&self) -> u32 {
        self.inner.literal.log_scale
    }

    /// The canonical scale `Δ_level` (see the module docs).
    ///
    /// # Panics
    /// If `level > max_level()`.
    pub fn scale_at(&self, level: usize) -> f64 {
        self.inner.scales[level]
    }

    /// The canonical scales of all levels, `Δ_0 ..= Δ_L`.
    pub fn scales(&self) -> &[f64] {
        &self.inner.scales
    }

    /// Number of key-switching digits at the top level.
    pub fn dnum(&self) -> usize {
        self.inner.literal.dnum
    }

    /// Number of Q primes per key-switching digit (`ceil((L+1)/dnum)`).
    pub fn digit_size(&self) -> usize {
        self.inner.digit_size
    }

    /// The digits (ranges of Q indices) used at `level`: the top-level digits intersected
    /// with `0..=level`, empty ones removed.
    pub fn digits_at(&self, level: usize) -> Vec<Range<usize>> {
        let a = self.inner.digit_size;
        (0..self.dnum())
            .map(|j| (j * a)..((j + 1) * a).min(level + 1))
            .filter(|r| r.start < r.end)
            .collect()
    }

    /// The secret distribution.
    pub fn secret_distribution(&self) -> SecretDistribution {
        self.inner.literal.secret
    }

    /// Standard deviation of the error distribution.
    pub fn sigma(&self) -> f64 {
        self.inner.sigma
    }

    /// The security assessment made at validation.
    pub fn security(&self) -> SecurityLevel {
        self.inner.security
    }

    /// `log2(Q_L · P)`.
    pub fn log_qp(&self) -> f64 {
        self.inner.log_qp
    }

    /// A 64-bit fingerprint of the parameters, stored in serialized objects.
    pub fn fingerprint(&self) -> u64 {
        self.inner.fingerprint
    }

    /// The encoder for these parameters.
    pub fn encoder(&self) -> &Encoder {
        &self.inner.encoder
    }

    /// The RNS chain (contexts, ModUp/ModDown tables).
    pub fn chain(&self) -> &RnsChain {
        &self.inner.chain
    }

    /// The ring context of `Q_level`.
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`] above the top level.
    pub fn q_context(&self, level: usize) -> Result<Arc<Context>> {
        self.check_level("q_context", level)?;
        Ok(self.inner.chain.q_context(level)?)
    }

    /// The ring context of `Q_level ∪ P`.
    ///
    /// # Errors
    /// [`Error::LevelTooHigh`] above the top level.
    pub fn qp_context(&self, level: usize) -> Result<Arc<Context>> {
        self.check_level("qp_context", level)?;
        Ok(self.inner.chain.qp_context(level)?)
    }

    /// The cached exact ModDown from `Q_level ∪ P` to `Q_level`.
    pub(crate) fn mod_down(&self, level: usize) -> Result<Arc<crate::keyswitch::ModDownExact>> {
        self.check_level("mod_down", level)?;
        let qp = self.qp_context(level)?;
        Ok(self.inner.mod_down[level]
            .get_or_init(|| Arc::new(crate::keyswitch::ModDownExact::new(&qp, level + 1)))
            .clone())
    }

    /// The cached ModDown from `Q_level ∪ P` to `Q_{level-1}` (`q_level` as one more special
    /// prime: relinearization fused with the rescale), `level >= 1`.
    pub(crate) fn mod_down_rescale(
        &self,
        level: usize,
    ) -> Result<Arc<crate::keyswitch::ModDownExact>> {
        self.check_level("mod_down_rescale", level)?;
        if level == 0 {
            return Err(Error::LevelExhausted {
                op: "rescale",
                level: 0,
                needed: 1,
            });
        }
        let qp = self.qp_context(level)?;
        Ok(self.inner.mod_down_rescale[level]
            .get_or_init(|| Arc::new(crate::keyswitch::ModDownExact::new(&qp, level)))
            .clone())
    }

    /// The cached ModUp tables of every digit of `level`.
    pub(crate) fn mod_up(&self, level: usize) -> Result<Arc<Vec<crate::keyswitch::ModUpDigit>>> {
        self.check_level("mod_up", level)?;
        let qp = self.qp_context(level)?;
        Ok(self.inner.mod_up[level]
            .get_or_init(|| {
                Arc::new(
                    self.digits_at(level)
                        .into_iter()
                        .map(|r| crate::keyswitch::ModUpDigit::new(&qp, r))
                        .collect(),
                )
            })
            .clone())
    }

    pub(crate) fn check_level(&self, op: &'static str, level: usize) -> Result<()> {
        if level > self.max_level() {
            return Err(Error::LevelTooHigh {
                op,
                level,
                max: self.max_level(),
            });
        }
        Ok(())
    }

    /// The Galois element rotating the slots left by `k` (negative: right).
    pub fn galois_element(&self, k: i64) -> usize {
        crate::encoding::galois_element(self.log_n(), self.log_slots(), k)
    }

    /// The Galois element of complex conjugation (`2N - 1`).
    pub fn conjugation_element(&self) -> usize {
        crate::encoding::conjugation_element(self.log_n())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_presets_validate() {
        for lit in [
            ParametersLiteral::insecure_n10(),
            ParametersLiteral::insecure_n11(),
            ParametersLiteral::insecure_n12(),
            ParametersLiteral::insecure_n13(),
        ] {
            let p = Parameters::new(lit.clone()).unwrap();
            assert_eq!(p.security(), SecurityLevel::InsecureForTesting);
            // Scales stay close to 2^log_scale.
            for &s in p.scales() {
                let rel = (s / 2f64.powi(p.log_scale() as i32) - 1.0).abs();
                assert!(rel < 1e-4, "scale drift {rel}");
            }
            // Re-validating the resolved literal gives the same fingerprint.
            let again = Parameters::new(p.literal().clone()).unwrap();
            assert_eq!(again.fingerprint(), p.fingerprint());
            assert_eq!(again.q_primes(), p.q_primes());
        }
    }

    #[test]
    fn refuses_insecure_unless_marked() {
        let mut lit = ParametersLiteral::insecure_n10();
        lit.insecure_for_testing = false;
        assert!(matches!(Parameters::new(lit), Err(Error::Insecure { .. })));
        let mut lit = ParametersLiteral::n16_qp1325();
        lit.secret = SecretDistribution::HammingWeight(32);
        assert!(matches!(
            Parameters::new(lit),
            Err(Error::Insecure { bound: None, .. })
        ));
    }

    #[test]
    fn secure_preset_fits() {
        let lit = ParametersLiteral::n16_qp1325();
        let p = Parameters::new(lit.clone()).unwrap();
        assert_eq!(p.q_primes().len(), 25);
        assert_eq!(p.p_primes().len(), 5);
        assert!(p.log_qp() < 1553.0);
        assert_eq!(p.security(), SecurityLevel::Bits128 { max_log_qp: 1761 });
        let mut sparse = lit;
        sparse.secret = SecretDistribution::HammingWeight(192);
        let s = Parameters::new(sparse).unwrap();
        assert_eq!(s.security(), SecurityLevel::Bits128 { max_log_qp: 1553 });
        let drift = p
            .scales()
            .iter()
            .map(|&sc| (sc / 2f64.powi(40) - 1.0).abs())
            .fold(0.0, f64::max);
        assert!(drift < 2f64.powi(-14), "scale drift {drift}");
        assert_eq!(p.digits_at(24).len(), 5);
        assert_eq!(p.digits_at(7), vec![0..5, 5..8]);
    }

    #[test]
    fn rejects_bad_literals() {
        let base = ParametersLiteral::insecure_n10();
        let mut l = base.clone();
        l.dnum = 0;
        assert!(Parameters::new(l).is_err());
        let mut l = base.clone();
        l.log_slots = Some(10);
        assert!(Parameters::new(l).is_err());
        let mut l = base.clone();
        l.q = Moduli::Primes(vec![12289, 12289]);
        assert!(Parameters::new(l).is_err());
        let mut l = base.clone();
        l.q = Moduli::Primes(vec![1_000_003]);
        assert!(Parameters::new(l).is_err());
        let mut l = base;
        l.p = Moduli::Bits(vec![]);
        assert!(Parameters::new(l).is_err());
    }

    #[test]
    fn serde_literal_round_trip() {
        let lit = ParametersLiteral::insecure_n11();
        let s = serde_json::to_string(&lit).unwrap();
        let back: ParametersLiteral = serde_json::from_str(&s).unwrap();
        assert_eq!(back, lit);
    }
}
