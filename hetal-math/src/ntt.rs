//! Negacyclic NTT plans, cached per `(N, p)`.
//!
//! The transform itself comes from `tfhe-ntt` (default) or `concrete-ntt` 0.2 (feature
//! `concrete-ntt`); only `try_new`, `fwd`, `inv` and `normalize` are used. Pointwise products are
//! our own ([`crate::Modulus::mul_assign_slice`]).
//!
//! **Ordering.** `fwd` maps coefficients in natural order to evaluations in bit-reversed order:
//! slot `j` holds `a(psi^(2*bitrev(j)+1))`, where `psi` is the backend's primitive `2N`-th root of
//! unity ([`NttPlan::psi`]). This is verified by the crate's tests, and automorphism tables are
//! index permutations in this order.
//!
//! **Ranges.** Both `fwd` and `inv` take inputs in `[0, p)` and return outputs in `[0, p)` (the
//! backends reduce fully in their last pass; the crate's tests check this on random and edge
//! inputs). [`NttPlan::inverse`] applies the `1/N` normalisation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::modulus::Modulus;
use crate::prime::check_degree;

#[cfg(not(feature = "concrete-ntt"))]
use tfhe_ntt::prime64::Plan as BackendPlan;

#[cfg(feature = "concrete-ntt")]
use concrete_ntt::prime64::Plan as BackendPlan;

/// Name of the NTT backend compiled in: `"tfhe-ntt"` or `"concrete-ntt"`.
pub const NTT_BACKEND: &str = if cfg!(feature = "concrete-ntt") {
    "concrete-ntt"
} else {
    "tfhe-ntt"
};

/// A negacyclic NTT of size `N` modulo a prime `p = 1 mod 2N`.
///
/// Plans are immutable and shared: [`NttPlan::get`] returns the cached `Arc` for `(N, p)`.
///
/// ```
/// use hetal_math::NttPlan;
/// let p = hetal_math::generate_ntt_primes(40, 16, 1).unwrap()[0];
/// let plan = NttPlan::get(16, p).unwrap();
/// let mut a: Vec<u64> = (0..16).collect();
/// let orig = a.clone();
/// plan.forward(&mut a);
/// plan.inverse(&mut a);
/// assert_eq!(a, orig);
/// ```
pub struct NttPlan {
    plan: BackendPlan,
    n: usize,
    modulus: Modulus,
    psi: u64,
}

impl std::fmt::Debug for NttPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NttPlan")
            .field("n", &self.n)
            .field("p", &self.modulus.value())
            .finish()
    }
}

type PlanCache = Mutex<HashMap<(usize, u64), Arc<NttPlan>>>;

fn cache() -> &'static PlanCache {
    static CACHE: OnceLock<PlanCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Reverses the low `bits` bits of `j`.
#[inline]
pub fn bit_reverse(j: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        j.reverse_bits() >> (usize::BITS - bits)
    }
}

impl NttPlan {
    /// Returns the shared plan for `(n, p)`, building it on first use.
    ///
    /// # Errors
    /// [`Error::InvalidDegree`], [`Error::InvalidModulus`] or [`Error::NotNttFriendly`].
    pub fn get(n: usize, p: u64) -> Result<Arc<NttPlan>> {
        if let Some(plan) = cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(n, p))
        {
            return Ok(plan.clone());
        }
        // Build outside the lock; a racing builder produces an identical plan.
        let plan = Arc::new(Self::build(n, p)?);
        let mut guard = cache().lock().unwrap_or_else(|e| e.into_inner());
        Ok(guard.entry((n, p)).or_insert(plan).clone())
    }

    fn build(n: usize, p: u64) -> Result<Self> {
        check_degree(n)?;
        let modulus = Modulus::new(p)?;
        if !(p - 1).is_multiple_of(2 * n as u64) {
            return Err(Error::NotNttFriendly { modulus: p, n });
        }
        let plan = BackendPlan::try_new(n, p).ok_or(Error::NotNttFriendly { modulus: p, n })?;
        // Recover psi = the evaluation point of slot 0 (bitrev(0) = 0): fwd(X) puts psi^(2*0+1)
        // there.
        let mut x = vec![0u64; n];
        x[1] = 1;
        plan.fwd(&mut x);
        let psi = x[0] % p;
        Ok(Self {
            plan,
            n,
            modulus,
            psi,
        })
    }

    /// The ring degree `N`.
    #[inline]
    pub fn n(&self) -> usize {
        self.n
    }

    /// The modulus.
    #[inline]
    pub fn modulus(&self) -> &Modulus {
        &self.modulus
    }

    /// The primitive `2N`-th root of unity `psi` of this plan: slot `j` of the forward transform
    /// holds `a(psi^(2*bitrev(j)+1))`.
    #[inline]
    pub fn psi(&self) -> u64 {
        self.psi
    }

    /// Forward negacyclic NTT in place: natural-order coefficients in `[0, p)` to bit-reversed
    /// evaluations in `[0, p)`. `a.len()` must be `N` (internal invariant; callers go through
    /// [`crate::Poly`], which checks lengths).
    #[inline]
    pub fn forward(&self, a: &mut [u64]) {
        debug_assert_eq!(a.len(), self.n);
        self.plan.fwd(a);
    }

    /// Inverse negacyclic NTT in place including the `1/N` factor: bit-reversed evaluations in
    /// `[0, p)` to natural-order coefficients in `[0, p)`.
    #[inline]
    pub fn inverse(&self, a: &mut [u64]) {
        debug_assert_eq!(a.len(), self.n);
        self.plan.inv(a);
        self.plan.normalize(a);
    }

    /// Inverse transform without the `1/N` factor (output is `N` times the coefficients),
    /// fully reduced to `[0, p)` like every transform here (the backend's last butterfly
    /// reduces; `tests/ntt.rs` checks it for every prime size it dispatches on).
    #[inline]
    pub fn inverse_unnormalized(&self, a: &mut [u64]) {
        debug_assert_eq!(a.len(), self.n);
        self.plan.inv(a);
    }
}
