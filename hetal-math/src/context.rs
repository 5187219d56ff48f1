//! Ring contexts: `Z_Q[X]/(X^N + 1)` for an RNS modulus `Q`, with cached sub-contexts.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::error::{Error, Result};
use crate::modulus::Modulus;
use crate::ntt::NttPlan;
use crate::prime::check_degree;
use crate::rns::RnsBasis;
use crate::switch::{ModDown, ModUp};

/// The ring `Z_Q[X]/(X^N + 1)` with `Q = q_0 * ... * q_{k-1}`: degree, moduli, NTT plans and the
/// RNS basis. Shared through `Arc` by every [`crate::Poly`] in the ring.
///
/// Prefix sub-contexts (`q_0..q_{l}`) are cached on the context, so dropping limbs is cheap.
///
/// ```
/// use hetal_math::Context;
/// let primes = hetal_math::generate_ntt_primes(50, 1 << 10, 3).unwrap();
/// let ctx = Context::new(1 << 10, &primes).unwrap();
/// let sub = ctx.prefix(2).unwrap();
/// assert_eq!(sub.moduli().len(), 2);
/// assert!(std::sync::Arc::ptr_eq(&sub, &ctx.prefix(2).unwrap()));
/// ```
pub struct Context {
    n: usize,
    log_n: u32,
    basis: RnsBasis,
    plans: Vec<Arc<NttPlan>>,
    prefixes: Vec<OnceLock<Arc<Context>>>,
    /// A context whose first primes equal ours, and how many: prefixes up to that length are
    /// taken from it, so that every route to `q_0..q_l` yields the same `Arc`.
    prefix_source: Option<(Weak<Context>, usize)>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ps: Vec<u64> = self.basis.moduli().iter().map(|m| m.value()).collect();
        f.debug_struct("Context")
            .field("n", &self.n)
            .field("moduli", &ps)
            .finish()
    }
}

impl Context {
    /// Creates the ring of degree `n` (a power of two, `16 <= n <= 2^17`) over distinct
    /// NTT-friendly primes.
    ///
    /// # Errors
    /// [`Error::InvalidDegree`], [`Error::InvalidModulus`], [`Error::NotNttFriendly`],
    /// [`Error::InvalidBasis`].
    pub fn new(n: usize, primes: &[u64]) -> Result<Arc<Self>> {
        check_degree(n)?;
        let basis = RnsBasis::new(primes)?;
        let plans = primes
            .iter()
            .map(|&p| NttPlan::get(n, p))
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(Self::from_parts(n, basis, plans, None)))
    }

    /// Like [`Context::new`], but prefixes of length up to `shared` come from `source` (whose
    /// first `shared` primes must equal ours).
    fn new_sharing_prefixes(
        n: usize,
        primes: &[u64],
        source: &Arc<Context>,
        shared: usize,
    ) -> Result<Arc<Self>> {
        let c = Self::new(n, primes)?;
        let mut c = Arc::into_inner(c).expect("freshly created");
        debug_assert!(source.moduli()[..shared] == c.moduli()[..shared]);
        c.prefix_source = Some((Arc::downgrade(source), shared));
        Ok(Arc::new(c))
    }

    fn from_parts(
        n: usize,
        basis: RnsBasis,
        plans: Vec<Arc<NttPlan>>,
        prefix_source: Option<(Weak<Context>, usize)>,
    ) -> Self {
        let k = plans.len();
        Self {
            n,
            log_n: n.trailing_zeros(),
            basis,
            plans,
            prefixes: (0..k).map(|_| OnceLock::new()).collect(),
            prefix_source,
        }
    }

    /// Ring degree `N`.
    #[inline]
    pub fn n(&self) -> usize {
        self.n
    }

    /// `log2(N)`.
    #[inline]
    pub fn log_n(&self) -> u32 {
        self.log_n
    }

    /// The moduli `q_i`.
    #[inline]
    pub fn moduli(&self) -> &[Modulus] {
        self.basis.moduli()
    }

    /// Number of RNS limbs.
    #[inline]
    pub fn num_limbs(&self) -> usize {
        self.plans.len()
    }

    /// The RNS basis (CRT constants).
    #[inline]
    pub fn basis(&self) -> &RnsBasis {
        &self.basis
    }

    /// The NTT plans, one per limb.
    #[inline]
    pub fn plans(&self) -> &[Arc<NttPlan>] {
        &self.plans
    }

    /// Whether `self` and `other` describe the same ring (same `N`, same primes in order).
    pub fn same_ring(&self, other: &Context) -> bool {
        std::ptr::eq(self, other) || (self.n == other.n && self.basis.same_primes(&other.basis))
    }

    /// The context over the first `len` primes, cached (the same `Arc` on every call).
    /// `len == num_limbs()` returns `self`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `1 <= len <= num_limbs()`.
    pub fn prefix(self: &Arc<Self>, len: usize) -> Result<Arc<Context>> {
        if len == 0 || len > self.num_limbs() {
            return Err(Error::InvalidArgument {
                op: "Context::prefix",
                reason: "length must be in [1, num_limbs]",
            });
        }
        if len == self.num_limbs() {
            return Ok(self.clone());
        }
        if let Some((source, shared)) = &self.prefix_source
            && len <= *shared
            && let Some(source) = source.upgrade()
        {
            return source.prefix(len);
        }
        Ok(self.prefixes[len - 1]
            .get_or_init(|| {
                let basis = RnsBasis::from_moduli(self.moduli()[..len].to_vec())
                    .expect("a prefix of a valid basis is valid");
                let source = Some((Arc::downgrade(self), len));
                Arc::new(Self::from_parts(
                    self.n,
                    basis,
                    self.plans[..len].to_vec(),
                    source,
                ))
            })
            .clone())
    }
}

/// A modulus chain `q_0, ..., q_L` with special primes `p_0, ..., p_{K-1}`, with all the
/// contexts the CKKS layer needs precomputed: `Q_l = q_0..q_l` for every level `l` and
/// `Q_l ∪ P` (ordered `q_0..q_l, p_0..p_{K-1}`), plus cached ModUp/ModDown tables for hybrid key
/// switching (Han-Ki, CT-RSA 2020).
///
/// ```
/// use hetal_math::RnsChain;
/// let n = 1 << 10;
/// let q = hetal_math::generate_ntt_primes(50, n, 4).unwrap();
/// let p = hetal_math::generate_ntt_primes(55, n, 2).unwrap();
/// let chain = RnsChain::new(n, &q, &p).unwrap();
/// assert_eq!(chain.q_context(2).unwrap().num_limbs(), 3);
/// assert_eq!(chain.qp_context(2).unwrap().num_limbs(), 5);
/// ```
pub struct RnsChain {
    n: usize,
    q: Vec<u64>,
    p: Vec<u64>,
    qp_ctx: Vec<Arc<Context>>,
    p_ctx: Option<Arc<Context>>,
    mod_down: Vec<OnceLock<Arc<ModDown>>>,
    mod_up: Mutex<HashMap<(usize, usize, usize), Arc<ModUp>>>,
}

impl std::fmt::Debug for RnsChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RnsChain")
            .field("n", &self.n)
            .field("q", &self.q)
            .field("p", &self.p)
            .finish()
    }
}

impl RnsChain {
    /// Builds the chain; `p` may be empty (then `qp_context(l) == q_context(l)`).
    ///
    /// # Errors
    /// As [`Context::new`] (all `q` and `p` primes together must be distinct).
    pub fn new(n: usize, q: &[u64], p: &[u64]) -> Result<Self> {
        if q.is_empty() {
            return Err(Error::InvalidBasis {
                reason: "empty Q chain",
            });
        }
        let all: Vec<u64> = q.iter().chain(p).copied().collect();
        let full = Context::new(n, &all)?;
        let mut qp_ctx = Vec::with_capacity(q.len());
        for l in 0..q.len() {
            let primes: Vec<u64> = q[..=l].iter().chain(p).copied().collect();
            qp_ctx.push(if l + 1 == q.len() {
                full.clone()
            } else {
                Context::new_sharing_prefixes(n, &primes, &full, l + 1)?
            });
        }
        let p_ctx = if p.is_empty() {
            None
        } else {
            Some(Context::new(n, p)?)
        };
        Ok(Self {
            n,
            q: q.to_vec(),
            p: p.to_vec(),
            qp_ctx,
            p_ctx,
            mod_down: (0..q.len()).map(|_| OnceLock::new()).collect(),
            mod_up: Mutex::new(HashMap::new()),
        })
    }

    /// Ring degree.
    #[inline]
    pub fn n(&self) -> usize {
        self.n
    }

    /// The `Q` primes.
    #[inline]
    pub fn q_primes(&self) -> &[u64] {
        &self.q
    }

    /// The special primes `P`.
    #[inline]
    pub fn p_primes(&self) -> &[u64] {
        &self.p
    }

    /// Highest level `L` (`q_context(L)` holds all `Q` primes).
    #[inline]
    pub fn max_level(&self) -> usize {
        self.q.len() - 1
    }

    fn check_level(&self, level: usize) -> Result<()> {
        if level >= self.q.len() {
            return Err(Error::InvalidArgument {
                op: "RnsChain",
                reason: "level above max_level",
            });
        }
        Ok(())
    }

    /// The context `q_0..q_level` (cached).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `level > max_level()`.
    pub fn q_context(&self, level: usize) -> Result<Arc<Context>> {
        self.check_level(level)?;
        self.qp_ctx[self.q.len() - 1].prefix(level + 1)
    }

    /// The context `q_0..q_level, p_0..p_{K-1}` (precomputed).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `level > max_level()`.
    pub fn qp_context(&self, level: usize) -> Result<Arc<Context>> {
        self.check_level(level)?;
        Ok(self.qp_ctx[level].clone())
    }

    /// The context over `P` alone, if `P` is non-empty.
    pub fn p_context(&self) -> Option<Arc<Context>> {
        self.p_ctx.clone()
    }

    /// Cached ModDown from `Q_level ∪ P` to `Q_level`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad level or an empty `P`.
    pub fn mod_down(&self, level: usize) -> Result<Arc<ModDown>> {
        self.check_level(level)?;
        if let Some(m) = self.mod_down[level].get() {
            return Ok(m.clone());
        }
        let m = Arc::new(ModDown::new(&self.qp_ctx[level], level + 1)?);
        Ok(self.mod_down[level].get_or_init(|| m).clone())
    }

    /// Cached ModUp of the digit `digit` (a range of `Q` indices within `0..=level`) to
    /// `Q_level ∪ P`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad level or digit range.
    pub fn mod_up(&self, level: usize, digit: Range<usize>) -> Result<Arc<ModUp>> {
        self.check_level(level)?;
        let key = (level, digit.start, digit.end);
        if let Some(m) = self
            .mod_up
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(m.clone());
        }
        let m = Arc::new(ModUp::new(&self.qp_ctx[level], level + 1, digit)?);
        let mut g = self.mod_up.lock().unwrap_or_else(|e| e.into_inner());
        Ok(g.entry(key).or_insert(m).clone())
    }
}
