//! Sweeps the parameters of the `fast` softmax variant (error and depth on PlainBackend).
use hetal_approx::softmax::{FastConfig, Variant, measure_with};

fn main() {
    for (squarings, exp_degree) in [(5, 31), (5, 15), (4, 31), (3, 63), (6, 15), (6, 7), (7, 7), (7, 15)] {
        for inverse_eps in [1e-10, 1e-6, 1e-4] {
            let f = FastConfig { squarings, exp_degree, inverse_eps };
            for c in [4, 10, 16] {
                let s = measure_with(Variant::Fast, Some(f), c, 128.0, 1000, 1).expect("runs");
                println!("s={squarings} deg={exp_degree} eps={inverse_eps:e} c={c}: depth {} max {:.2e} mean {:.2e}", s.depth, s.max_err, s.mean_err);
            }
        }
    }
}
