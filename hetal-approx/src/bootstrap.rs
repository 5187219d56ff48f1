//! Bootstrap-aware evaluation: refresh a ciphertext when the next stage needs more levels than
//! it has left, scaling its values into [`Bootstrap::bootstrap_bound`] first and back after.

use hetal_ckks::backend::{Bootstrap, Complex64, SlotBackend};
use hetal_ckks::{Error, Result};

/// Returns `ct` if it has at least `needed` levels; otherwise bootstraps it. When `bound` (a
/// bound on the magnitude of its slots) exceeds the bootstrap bound, the values are first
/// divided by `S`, the smallest power of two with `bound / S <= bootstrap_bound()` (one level,
/// so `ct` needs at least one), and multiplied back by `S` after the bootstrap (an exact integer
/// product, no level; it also scales the bootstrap error by `S`). In that case `ct` is also
/// refreshed when it has exactly `needed` levels: one level is kept in reserve so that the
/// stage's output can still be scaled before the next bootstrap.
///
/// Errors if even a bootstrapped ciphertext would have fewer than `needed` levels, or if the
/// scaling needs a level that `ct` does not have.
///
/// ```
/// use hetal_ckks::backend::{Bootstrap, PlainBackend, PlainBootstrap, ScaleChain, SlotBackend, SlotClient};
/// # fn main() -> hetal_ckks::Result<()> {
/// let be = PlainBackend::new(2, ScaleChain::uniform(8, 40.0))
///     .with_bootstrap(PlainBootstrap { output_level: 6, bound: 1.0 });
/// let x = be.encrypt_real(&[10.0, -3.0], 2)?;
/// let y = hetal_approx::bootstrap::ensure_levels(&be, &x, 4, 16.0)?;
/// assert_eq!(be.level(&y), 6);
/// assert_eq!(be.decrypt_real(&y)?, vec![10.0, -3.0]);
/// # Ok(())
/// # }
/// ```
pub fn ensure_levels<B: SlotBackend + Bootstrap + ?Sized>(
    backend: &B,
    ct: &B::Ct,
    needed: usize,
    bound: f64,
) -> Result<B::Ct> {
    let limit = backend.bootstrap_bound();
    let needed = needed + usize::from(bound > limit);
    if backend.level(ct) >= needed {
        return Ok(ct.clone());
    }
    if backend.bootstrap_level() < needed {
        return Err(Error::LevelExhausted {
            op: "ensure_levels (after bootstrapping)",
            level: backend.bootstrap_level(),
            needed,
        });
    }
    if bound <= limit {
        return backend.bootstrap(ct);
    }
    let mut s: i64 = 1;
    while bound / s as f64 > limit {
        s = s.checked_mul(2).ok_or_else(|| Error::InvalidArgument {
            op: "ensure_levels",
            reason: format!("bound {bound} is too large for bootstrap bound {limit}"),
        })?;
    }
    let scaled = backend.mul_const_rescale(ct, Complex64::new(1.0 / s as f64, 0.0))?;
    let fresh = backend.bootstrap(&scaled)?;
    backend.mul_int(&fresh, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hetal_ckks::backend::{PlainBackend, PlainBootstrap, ScaleChain, SlotClient};

    #[test]
    fn refreshes_only_when_needed_and_scales_into_the_bound() {
        let be =
            PlainBackend::new(2, ScaleChain::uniform(8, 40.0)).with_bootstrap(PlainBootstrap {
                output_level: 6,
                bound: 1.0,
            });
        let small = be.encrypt_real(&[0.5, -0.25], 3).unwrap();
        assert_eq!(be.level(&ensure_levels(&be, &small, 3, 1.0).unwrap()), 3);
        assert_eq!(be.level(&ensure_levels(&be, &small, 4, 1.0).unwrap()), 6);
        let big = be.encrypt_real(&[100.0, -3.0], 3).unwrap();
        // One level in reserve when scaling: refreshed at exactly `needed` levels.
        let y = ensure_levels(&be, &big, 3, 128.0).unwrap();
        assert_eq!(be.level(&y), 6);
        assert_eq!(be.decrypt_real(&y).unwrap(), vec![100.0, -3.0]);
        let at0 = be.encrypt_real(&[100.0], 0).unwrap();
        assert!(ensure_levels(&be, &at0, 1, 128.0).is_err());
        assert!(matches!(
            ensure_levels(&be, &small, 7, 1.0),
            Err(Error::LevelExhausted { .. })
        ));
    }
}
