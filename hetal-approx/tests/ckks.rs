//! The approximation circuits on real CKKS ciphertexts agree with the same circuits on
//! `PlainBackend` within the CKKS noise, and consume exactly the same levels.
//!
//! The parameters are an insecure `N = 2^11` test chain deep enough to run the whole softmax
//! without bootstrapping (56 levels at `2^40`); `PlainBackend` gets the same primes, so the
//! canonical scales of both backends are identical.

mod common;

use common::{random_logits, softmax_error};
use std::sync::OnceLock;

use hetal_approx::elementary::{self, Goldschmidt, ReluMax};
use hetal_approx::softmax::{self, SoftmaxLayout, SoftmaxPlan, Variant};
use hetal_ckks::backend::{PlainBackend, ScaleChain, SlotBackend, SlotClient};
use hetal_ckks::ckks_backend::{CkksClient, KeyRequest};
use hetal_ckks::params::{ErrorDistribution, Moduli};
use hetal_ckks::polyeval::{self, Polynomial};
use hetal_ckks::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const LEVELS: usize = 56;

/// One client for every test: relinearization, conjugation and the softmax's `±2^j` rotations
/// (`j < 4`, enough for 16 padded classes).
fn client() -> &'static CkksClient {
    static CLIENT: OnceLock<CkksClient> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut q = vec![60];
        q.extend(std::iter::repeat_n(40, LEVELS));
        let lit = ParametersLiteral {
            log_n: 11,
            q: Moduli::Bits(q),
            p: Moduli::Bits(vec![61; 6]),
            log_scale: 40,
            secret: SecretDistribution::UniformTernary,
            error: ErrorDistribution::default(),
            dnum: 8,
            log_slots: None,
            scale_level: None,
            insecure_for_testing: true,
        };
        let params = Parameters::new(lit).unwrap();
        let rotations = (0..4).flat_map(|j| [1i64 << j, -(1i64 << j)]).collect();
        let request = KeyRequest {
            relinearization: true,
            rotations,
            conjugation: true,
        };
        CkksClient::new(&params, &request, &mut ChaCha20Rng::seed_from_u64(0xa990)).unwrap()
    })
}

/// The plaintext twin with the client's exact chain.
fn plain() -> PlainBackend {
    let c = client();
    PlainBackend::new(
        c.slots(),
        ScaleChain::from_moduli(c.params().q_primes(), 40.0),
    )
}

/// Runs `$body` (written once, instantiated for both backends, with `$be` the backend and `$x`
/// the encrypted inputs) on CKKS and on the twin; asserts equal output levels and returns
/// `(ckks output, twin output, output level)`.
macro_rules! on_both {
    ($inputs:expr, $level:expr, |$be:ident, $x:ident| $body:expr) => {{
        let inputs: Vec<Vec<f64>> = $inputs;
        let twin = plain();
        let out_ckks = {
            let $be = client();
            let $x: Vec<_> = inputs
                .iter()
                .map(|v| $be.encrypt_real(v, $level).unwrap())
                .collect();
            let y = $body;
            ($be.level(&y), $be.decrypt_real(&y).unwrap())
        };
        let out_plain = {
            let $be = &twin;
            let $x: Vec<_> = inputs
                .iter()
                .map(|v| $be.encrypt_real(v, $level).unwrap())
                .collect();
            let y = $body;
            ($be.level(&y), $be.decrypt_real(&y).unwrap())
        };
        assert_eq!(
            out_ckks.0, out_plain.0,
            "levels differ between CKKS and the twin"
        );
        (out_ckks.1, out_plain.1, out_ckks.0)
    }};
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect()
}

#[test]
fn polynomials_agree() {
    let n = client().slots();
    let xs = grid(-1.0, 1.0, n);
    for p in [
        Polynomial::chebyshev((0..32).map(|k| 1.0 / f64::from(k + 1)).collect(), -1.0, 1.0),
        elementary::ckk_g(),
        elementary::hetal_exp_poly(),
    ] {
        let (got, want, level) = on_both!(vec![xs.clone()], LEVELS, |be, x| {
            polyeval::evaluate(be, &x[0], &p).unwrap()
        });
        assert_eq!(LEVELS - level, p.depth());
        let d = max_diff(&got, &want);
        eprintln!("degree-{} polynomial: CKKS vs twin {d:e}", p.degree());
        assert!(d < 1e-6, "degree {}: {d:e}", p.degree());
    }
}

#[test]
fn max_relu_max_exp_and_inverse_agree() {
    let n = client().slots();
    let a = grid(-0.5, 0.5, n);
    let b: Vec<f64> = a.iter().map(|x| 0.3 * (7.0 * x).sin()).collect();

    let (got, want, level) = on_both!(vec![a.clone(), b.clone()], LEVELS, |be, x| {
        elementary::max(be, &x[0], &x[1], 2, None).unwrap()
    });
    assert_eq!(LEVELS - level, elementary::max_depth(2));
    let d = max_diff(&got, &want);
    eprintln!("CKK max: CKKS vs twin {d:e}");
    assert!(d < 1e-5, "CKK max: {d:e}");

    let relu = ReluMax::fit(63);
    let (got, want, level) = on_both!(vec![a.clone(), b], LEVELS, |be, x| {
        relu.max(be, &x[0], &x[1], None).unwrap()
    });
    assert_eq!(LEVELS - level, relu.depth());
    let d = max_diff(&got, &want);
    eprintln!("ReLU max: CKKS vs twin {d:e}");
    assert!(d < 1e-6, "ReLU max: {d:e}");

    // e^(256 x) on [-40/256, 8/256] (values from e^-40 to e^8): errors relative to max(1, e^x),
    // since CKKS noise is absolute.
    let e = elementary::exp_squaring(-1.5, 0.5, 256.0, 5, 32);
    let xs = grid(-40.0 / 256.0, 8.0 / 256.0, n);
    let (got, want, level) = on_both!(vec![xs], LEVELS, |be, x| {
        elementary::exp_circuit(be, &x[0], &e, None).unwrap()
    });
    assert_eq!(LEVELS - level, e.depth());
    let rel = got
        .iter()
        .zip(&want)
        .map(|(g, w)| ((g - w) / w.max(1.0)).abs())
        .fold(0.0, f64::max);
    eprintln!("exp by squaring: CKKS vs twin relative {rel:e}");
    assert!(rel < 1e-5, "exp: relative {rel:e}");

    // Goldschmidt 1/z on [1, 100].
    let zs = grid(1.0, 100.0, n);
    let (got, want, level) = on_both!(vec![zs], LEVELS, |be, x| {
        elementary::goldschmidt(be, &x[0], Goldschmidt::HETAL, None).unwrap()
    });
    assert_eq!(LEVELS - level, Goldschmidt::HETAL.depth());
    let d = max_diff(&got, &want);
    eprintln!("Goldschmidt: CKKS vs twin {d:e}");
    assert!(d < 1e-6, "Goldschmidt: {d:e}");

    // Newton 1/z on [1, 16] from a degree-7 minimax start.
    let y0 = hetal_approx::fit::remez(|z| 1.0 / z, 1.0, 16.0, 7).poly;
    let zs = grid(1.0, 16.0, n);
    let (got, want, _) = on_both!(vec![zs], LEVELS, |be, x| {
        elementary::newton_inverse(be, &x[0], &y0, 5).unwrap()
    });
    let d = max_diff(&got, &want);
    eprintln!("Newton: CKKS vs twin {d:e}");
    assert!(d < 1e-6, "Newton: {d:e}");

    // HETAL's domain extension: [-128, 128] down to [-4, 4] in five steps, then the correction.
    let xs = grid(-128.0, 128.0, n);
    let (got, want, level) = on_both!(vec![xs], LEVELS, |be, x| {
        let mut y = x[0].clone();
        for i in (0..softmax::N).rev() {
            let p = elementary::domain_extension(softmax::R, softmax::L, i);
            y = polyeval::evaluate(be, &y, &p).unwrap();
        }
        let c = elementary::domain_extension_correction(softmax::R, softmax::L, softmax::N);
        polyeval::evaluate(be, &y, &c).unwrap()
    });
    assert_eq!(LEVELS - level, 5 * 2 + 3);
    let d = max_diff(&got, &want);
    eprintln!("domain extension: CKKS vs twin {d:e}");
    assert!(d < 5e-5, "domain extension: {d:e}");
}

/// The whole softmax over `[-128, 128]`, 10 classes padded to 16, every row of the block a
/// different random sample: CKKS agrees with the twin, and both with the exact softmax.
#[test]
fn softmax_agrees() {
    let n = client().slots();
    let classes = 10;
    let layout = SoftmaxLayout::new(n, 16, classes).unwrap();
    let logits = random_logits(n, 16, classes, 128.0, 0x5eed);
    let plan = SoftmaxPlan::new(Variant::Fast, layout);
    assert!(plan.depth() <= LEVELS);
    let (got, want, level) = on_both!(vec![logits.clone()], LEVELS, |be, x| {
        plan.evaluate(be, &x[0]).unwrap()
    });
    assert_eq!(LEVELS - level, plan.depth());
    let d = max_diff(&got, &want);
    let exact_err = softmax_error(&logits, &got, 16, classes);
    eprintln!(
        "softmax fast: CKKS vs twin {d:e}, CKKS vs exact {exact_err:e}, depth {}",
        plan.depth()
    );
    assert!(d < 1e-5 && exact_err < 1e-5, "{d:e} / {exact_err:e}");
}
