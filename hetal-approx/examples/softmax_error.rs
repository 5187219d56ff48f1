//! Measures a softmax variant's error on PlainBackend and prints one JSON object.
//!
//! `cargo run --release -p hetal-approx --example softmax_error -- [--variant NAME] --classes C
//! --range R --samples S --seed K [--bootstrap-level B]`
//!
//! With `--bootstrap-level B` the object also has `"bootstraps"`: how many bootstraps the
//! bootstrap-aware evaluation needs for one ciphertext when bootstrapping refreshes to level B
//! (inputs bounded by 1).

use hetal_approx::softmax::{Variant, count_bootstraps, measure};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut variant = Variant::Fast;
    let (mut classes, mut range, mut samples, mut seed) = (10usize, 128.0f64, 1000usize, 0u64);
    let mut boot_level: Option<usize> = None;
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
            "--bootstrap-level" => {
                boot_level = Some(value.parse().unwrap_or_else(|_| bad("bootstrap level")));
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2)
            }
        }
        i += 2;
    }
    let result = measure(variant, classes, range, samples, seed).and_then(|s| {
        let boots = boot_level
            .map(|b| count_bootstraps(variant, classes, b, 1.0))
            .transpose()?;
        Ok((s, boots))
    });
    match result {
        Ok((s, boots)) => {
            let mut obj = serde_json::json!({
                "variant": variant.name(),
                "classes": classes,
                "range": range,
                "samples": samples,
                "max_err": s.max_err,
                "mean_err": s.mean_err,
                "depth": s.depth,
            });
            if let Some(b) = boots {
                obj["bootstraps"] = b.into();
            }
            println!("{obj}");
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}
