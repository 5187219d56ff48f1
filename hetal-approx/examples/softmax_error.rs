//! Measures a softmax variant's error on PlainBackend and prints one JSON object.
//!
//! `cargo run --release -p hetal-approx --example softmax_error -- [--variant NAME] --classes C
//! --range R --samples S --seed K`

use hetal_approx::softmax::{Variant, measure};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut variant = Variant::Fast;
    let (mut classes, mut range, mut samples, mut seed) = (10usize, 128.0f64, 1000usize, 0u64);
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).unwrap_or_else(|| {
            eprintln!("missing value after {}", args[i]);
            std::process::exit(2)
        });
        let bad = |what: &str| -> ! {
            eprintln!("invalid {what}: {value}");
            std::process::exit(2)
        };
        match args[i].as_str() {
            "--variant" => {
                variant = Variant::from_name(value).unwrap_or_else(|| bad("variant"));
            }
            "--classes" => classes = value.parse().unwrap_or_else(|_| bad("classes")),
            "--range" => range = value.parse().unwrap_or_else(|_| bad("range")),
            "--samples" => samples = value.parse().unwrap_or_else(|_| bad("samples")),
            "--seed" => seed = value.parse().unwrap_or_else(|_| bad("seed")),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2)
            }
        }
        i += 2;
    }
    match measure(variant, classes, range, samples, seed) {
        Ok(s) => println!(
            "{}",
            serde_json::json!({
                "variant": variant.name(),
                "classes": classes,
                "range": range,
                "samples": samples,
                "max_err": s.max_err,
                "mean_err": s.mean_err,
                "depth": s.depth,
            })
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}
