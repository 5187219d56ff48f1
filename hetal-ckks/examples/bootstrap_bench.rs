//! Bootstrapping benchmark: one JSON line with key generation time, the median bootstrapping
//! time, precision (bits, min and average over all slots) and peak memory.
//!
//! ```text
//! cargo run --release -p hetal-ckks --example bootstrap_bench -- [--preset NAME] [--threads T] [--runs R] [--seed S] [--top-level-keys] [--meta] [--no-malloc-tuning] [--phases] [--evalmod-log-scale X] [--seeded-keys | --expanded-keys]
//! ```
//!
//! Presets: `n16_qp1553_h192h32` (default, 128-bit), `n16_qp1552_h192h32_l12` (128-bit, 12
//! levels left), `insecure_n10`, `insecure_n11`,
//! `insecure_n12_sparse`, `insecure_n13`. Single thread unless `--threads`. Inputs are uniform
//! in `[-1, 1] + i[-1, 1]`. `--meta`: meta-bootstrapping (`BootstrapConfig::iterations = 2`,
//! the preset's `meta_log_gain`), the JSON line says `"iterations": 2`. `--phases`: one more
//! bootstrap, step by step, and a second JSON line with the seconds of each step
//! (`scale_down`, `mod_raise` with encapsulation, `c2s`, `eval_mod` per part, `s2c`).
//! `--error-spectrum`: a JSON line with the largest coefficients of the last bootstrap's error
//! polynomial (the slot errors mapped back to coefficients), in units of their RMS, and the
//! average precision without the largest one: an error concentrated in a few coefficients
//! (one EvalMod slot) shows up there. `--seeded-keys` / `--expanded-keys`: the server keeps only
//! the seeds of the keys' uniform halves and regenerates them at use (`KeyStorage::Seeded`,
//! the default of the 128-bit presets), or keeps them expanded (the insecure presets' default).

use std::sync::Arc;
use std::time::Instant;

use hetal_ckks::backend::{Bootstrap, Complex64, SlotBackend, SlotClient};
use hetal_ckks::bootstrap::{BootstrapPreset, Bootstrapper};
use hetal_ckks::ckks_backend::{CkksClient, KeyRequest};
use hetal_ckks::params::Parameters;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

/// A memory line of `/proc/self/status` in MiB (`VmHWM:` the peak, `VmRSS:` the current).
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    // Keep freed polynomial buffers in the process (see `hetal_ckks::memory`);
    // `--no-malloc-tuning` measures with the C allocator's defaults.
    let malloc_tuned = !args.iter().any(|a| a == "--no-malloc-tuning")
        && hetal_ckks::memory::retain_freed_memory();
    let preset_name = arg("--preset").unwrap_or_else(|| "n16_qp1553_h192h32".into());
    let threads: usize = arg("--threads").map_or(1, |t| t.parse().expect("--threads T"));
    let runs: usize = arg("--runs").map_or(3, |t| t.parse().expect("--runs R"));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("thread pool");
    let mut preset = BootstrapPreset::by_name(&preset_name).unwrap_or_else(|| {
        eprintln!("unknown preset {preset_name}");
        std::process::exit(2)
    });
    // `--top-level-keys`: every Galois key at the top level (to compare time and memory with
    // the SlotsToCoeffs keys generated at their level).
    let top_level_keys = args.iter().any(|a| a == "--top-level-keys");
    if top_level_keys {
        preset.config.s2c_keys_at_level = false;
    }

    // `--meta`: bootstrap twice (Bae et al., CCS 2022), same keys.
    if args.iter().any(|a| a == "--meta") {
        preset.config.iterations = 2;
    }
    // `--evalmod-log-scale X`: the scale EvalMod ends on (the preset's by default).
    if let Some(x) = arg("--evalmod-log-scale") {
        preset.config.evalmod_log_scale = x.parse().expect("--evalmod-log-scale X");
    }
    if args.iter().any(|a| a == "--seeded-keys") {
        preset.config.key_storage = hetal_ckks::keys::KeyStorage::Seeded;
    }
    if args.iter().any(|a| a == "--expanded-keys") {
        preset.config.key_storage = hetal_ckks::keys::KeyStorage::Expanded;
    }
    let key_storage = preset.config.key_storage;
    let (iterations, meta_log_gain) = (preset.config.iterations, preset.config.meta_log_gain);
    let evalmod_log_scale = preset.config.evalmod_log_scale;

    let params = Parameters::new(preset.params).expect("parameters");
    let t = Instant::now();
    let boot = Arc::new(Bootstrapper::new(&params, preset.config).expect("bootstrapper"));
    let setup_s = t.elapsed().as_secs_f64();
    let rss_setup_mb = status_mb("VmRSS:");
    // `--seed S`: the keys' randomness (precision varies a little from key to key).
    let seed: u64 = arg("--seed").map_or(1, |t| t.parse().expect("--seed S"));
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t = Instant::now();
    let client = CkksClient::new(&params, &KeyRequest::default(), &mut rng).expect("client");
    let keys = client.bootstrapping_keys(&boot).expect("keys");
    let keygen_s = t.elapsed().as_secs_f64();
    let rss_keys_mb = status_mb("VmRSS:");
    let key_bytes = keys.serialized_len();
    let key_memory_bytes = keys.memory_bytes();
    let server = client
        .server_backend()
        .with_bootstrapping(boot.clone(), keys)
        .expect("server");

    let n = server.slots();
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let z: Vec<Complex64> = (0..n).map(|_| Complex64::new(next(), next())).collect();
    let ct = client.encrypt(&z, 0).expect("encrypt");
    let mut times = Vec::new();
    let mut precision = (f64::INFINITY, 0.0);
    let mut last = Vec::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let out = server.bootstrap(&ct).expect("bootstrap");
        times.push(t.elapsed().as_secs_f64());
        let got = client.decrypt(&out).expect("decrypt");
        last.clone_from(&got);
        let (mut min, mut sum) = (f64::INFINITY, 0.0);
        for (g, w) in got.iter().zip(&z) {
            for e in [(g.re - w.re).abs(), (g.im - w.im).abs()] {
                let b = -e.max(1e-300).log2();
                min = min.min(b);
                sum += b;
            }
        }
        precision = (min.min(precision.0), sum / (2 * n) as f64);
    }
    if args.iter().any(|a| a == "--error-spectrum") {
        print_error_spectrum(&params, &last, &z);
    }
    if args.iter().any(|a| a == "--phases") {
        print_phases(&server, &ct);
    }
    times.sort_by(f64::total_cmp);
    let boot_s = times[times.len() / 2];
    println!(
        "{{\"preset\": \"{preset_name}\", \"log_n\": {}, \"log_qp\": {:.1}, \"slots\": {n}, \"threads\": {threads}, \"seed\": {seed}, \
         \"s2c_keys_at_level\": {}, \"malloc_tuned\": {malloc_tuned}, \"iterations\": {iterations}, \"meta_log_gain\": {meta_log_gain}, \"evalmod_log_scale\": {evalmod_log_scale}, \
         \"keygen_s\": {keygen_s:.2}, \"setup_s\": {setup_s:.2}, \"boot_s\": {boot_s:.3}, \
         \"precision_bits_avg\": {:.2}, \"precision_bits_min\": {:.2}, \"levels_left\": {}, \
         \"key_storage\": \"{key_storage:?}\", \"key_bytes\": {key_bytes}, \"key_memory_bytes\": {key_memory_bytes}, \"rss_after_setup_mb\": {rss_setup_mb:.0}, \"rss_after_keygen_mb\": {rss_keys_mb:.0}, \"peak_rss_mb\": {:.0}}}",
        params.log_n(),
        params.log_qp(),
        !top_level_keys,
        precision.1,
        precision.0,
        server.bootstrap_level(),
        peak_rss_mb()
    );
}

/// One bootstrap through the public steps of [`Bootstrapper`], each timed.
fn print_phases(
    server: &hetal_ckks::ckks_backend::CkksBackend,
    ct: &hetal_ckks::prelude::Ciphertext,
) {
    use hetal_ckks::bootstrap::dft::SlotParts;
    let ctx = server.bootstrap_context().expect("bootstrapping keys");
    let (boot, eval, enc) = (
        ctx.bootstrapper(),
        ctx.evaluator(),
        ctx.encapsulation_keys(),
    );
    let mut timed = Vec::new();
    let mut time = |name: &'static str, t: Instant| timed.push((name, t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let low = boot.scale_down(eval, ct).expect("scale_down");
    time("scale_down", t);
    let t = Instant::now();
    boot.mod_raise(eval, enc, &low).expect("mod_raise");
    time("mod_raise", t);
    let t = Instant::now();
    let parts = boot.mod_raise_and_c2s(eval, enc, &low).expect("c2s");
    time("mod_raise_and_c2s", t);
    let t = Instant::now();
    let parts = match parts {
        SlotParts::Two { real, imag } => SlotParts::Two {
            real: boot.eval_mod(eval, &real).expect("eval_mod"),
            imag: boot.eval_mod(eval, &imag).expect("eval_mod"),
        },
        SlotParts::Packed(p) => SlotParts::Packed(boot.eval_mod(eval, &p).expect("eval_mod")),
    };
    time("eval_mod", t);
    let t = Instant::now();
    boot.s2c(eval, parts).expect("s2c");
    time("s2c", t);
    let fields: Vec<String> = timed
        .iter()
        .map(|(name, s)| format!("\"{name}_s\": {s:.3}"))
        .collect();
    println!("{{\"phases\": {{{}}}}}", fields.join(", "));
}

/// Average bits of precision of slot errors (real and imaginary parts).
fn avg_bits(err: &[Complex64]) -> f64 {
    let sum: f64 = err
        .iter()
        .flat_map(|e| [e.re.abs(), e.im.abs()])
        .map(|e| -e.max(1e-300).log2())
        .sum();
    sum / (2 * err.len()) as f64
}

/// The bootstrap's error as a polynomial (the inverse canonical embedding of the slot errors):
/// its largest coefficients in units of the RMS, and the precision without the largest.
fn print_error_spectrum(params: &Parameters, got: &[Complex64], want: &[Complex64]) {
    use hetal_ckks::encoding::Encoder;
    let err: Vec<Complex64> = got.iter().zip(want).map(|(g, w)| g - w).collect();
    let enc = Encoder::new(params.log_n(), params.log_slots()).expect("encoder");
    // A large scale keeps the (rounded) coefficients exact enough.
    let scale = 2f64.powi(50);
    let coeffs = enc.encode_f64(&err, scale).expect("encode");
    let rms = (coeffs.iter().map(|c| c * c).sum::<f64>() / coeffs.len() as f64).sqrt();
    let mut idx: Vec<usize> = (0..coeffs.len()).collect();
    idx.sort_by(|&a, &b| coeffs[b].abs().total_cmp(&coeffs[a].abs()));
    let top: Vec<String> = idx
        .iter()
        .take(6)
        .map(|&i| format!("[{i}, {:.1}]", coeffs[i].abs() / rms))
        .collect();
    let mut without = coeffs.clone();
    without[idx[0]] = 0.0;
    let rest = enc.decode_f64(&without, scale).expect("decode");
    println!(
        "{{\"error_spectrum\": {{\"top_coefficients_in_rms\": [{}], \"avg_bits\": {:.2}, \"avg_bits_without_top\": {:.2}}}}}",
        top.join(", "),
        avg_bits(&err),
        avg_bits(&rest)
    );
}
