//! Sweeps the parameters of the `fast` softmax variant: error and depth on PlainBackend, inputs
//! uniform in [-128, 128]^c, 1000 samples, seed 1.
//!
//! `cargo run --release -p hetal-approx --example fast_sweep`
use hetal_approx::softmax::{FastConfig, Variant, measure_with};

fn main() {
    for relu_degree in [31, 63, 127] {
        for (squarings, exp_degree) in [(6, 15), (5, 15), (7, 7)] {
            for inverse_eps in [1e-6, 1e-4] {
                let f = FastConfig {
                    relu_degree,
                    squarings,
                    exp_degree,
                    inverse_eps,
                };
                for c in [4, 16] {
                    let s = measure_with(Variant::Fast, Some(f), c, 128.0, 1000, 1).expect("runs");
                    println!(
                        "relu={relu_degree} s={squarings} deg={exp_degree} eps={inverse_eps:e} c={c}: depth {} max {:.2e} mean {:.2e}",
                        s.depth, s.max_err, s.mean_err
                    );
                }
            }
        }
    }
}
