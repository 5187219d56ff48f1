//! Fast, exact RNS polynomial arithmetic: the ring layer under hetal's CKKS.
//!
//! This crate knows nothing about encryption (no keys, scales or levels). It provides word-size
//! moduli with Barrett and Shoup multiplication ([`Modulus`]), NTT-friendly prime generation
//! ([`generate_ntt_primes`], [`closest_ntt_prime`]), negacyclic NTTs backed by `tfhe-ntt`
//! ([`NttPlan`]), RNS bases with CRT and fast basis conversion ([`RnsBasis`],
//! [`BasisConverter`]), RNS polynomials with their representation in the type
//! ([`Poly<Coeff>`], [`Poly<Ntt>`]) over shared [`Context`]s, modulus switching for hybrid key
//! switching ([`ModUp`], [`ModDown`], [`Poly::divide_round_by_last`]), automorphisms, and
//! samplers driven by a caller-supplied cryptographic RNG ([`sampling`]).
//!
//! ```
//! use hetal_math::{Context, Poly, Coeff};
//! let n = 1 << 10;
//! let primes = hetal_math::generate_ntt_primes(50, n, 3).unwrap();
//! let ctx = Context::new(n, &primes).unwrap();
//! let mut c = vec![0i64; n];
//! c[0] = 3;
//! c[1] = -2;
//! let a = Poly::<Coeff>::from_i64(&ctx, &c).unwrap().to_ntt();
//! let sq = a.mul(&a).unwrap().to_coeff().to_bigint_centered(); // (3 - 2X)^2
//! assert_eq!(&sq[..3], &[9.into(), (-12).into(), 4.into()]);
//! ```

mod aes_ctr;
pub mod context;
pub mod dot;
pub mod error;
pub mod modulus;
pub mod ntt;
pub mod poly;
pub mod prime;
pub mod rns;
pub mod sampling;
pub mod switch;

pub use context::{Context, RnsChain};
pub use error::{Error, Result};
pub use modulus::{MAX_MODULUS_BITS, Modulus};
pub use ntt::{NTT_BACKEND, NttPlan, bit_reverse};
pub use poly::{Coeff, Ntt, Poly, Representation, automorphism_permutation};
pub use prime::{
    check_degree, closest_ntt_prime, closest_ntt_prime_f64, generate_ntt_primes, is_prime,
};
pub use rns::{BasisConverter, RnsBasis};
pub use switch::{ModDown, ModUp};

/// Compiles and runs the README example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
