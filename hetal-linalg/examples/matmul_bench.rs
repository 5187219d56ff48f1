//! Times DiagABT, DiagATB (both variants) and Crockett's baselines on real CKKS ciphertexts,
//! printing one JSON object per algorithm and shape with seconds and precision in bits.
//!
//! ```text
//! cargo run --release -p hetal-linalg --example matmul_bench -- --preset n16 --shape 128,128,4 \
//!     [--level 9] [--threads T] [--algos diag_abt,crockett_abt] [--reps R]
//! ```
//! Presets: `n16` (128-bit, `N = 2^16`, 2^15 slots: the 60-bit base prime and `level` 40-bit
//! primes of the `n16_qp1325` chain, five 61-bit P primes, the fewest key-switching digits P
//! allows), or the insecure test sets `insecure_n12` / `insecure_n13` (for a smoke run).
//! `--level` is where the operands sit, as after a bootstrap in training (default 9, the
//! levels HETAL-like bootstrapping leaves); PRotUp takes `A` one level lower. Only the Galois
//! keys the selected plans declare are generated. Timings are wall-clock medians of `--reps`
//! runs (single thread unless `--threads`), excluding key generation and encryption, and
//! `cpu_s` the process CPU time of the same runs (meaningful on a busy machine); the precision is `-log2` of the largest entry-wise error against the f64 product.

mod common;

use std::collections::BTreeSet;
use std::time::Instant;

use common::{Operands, cases, parse_shapes};
use hetal_ckks::backend::SlotBackend;
use hetal_ckks::ckks_backend::{CkksBackend, CkksClient, KeyRequest};
use hetal_ckks::params::Moduli;
use hetal_ckks::prelude::*;
use hetal_linalg::EncryptedMatrix;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

struct Args {
    preset: String,
    shapes: String,
    level: usize,
    threads: usize,
    reps: usize,
    algos: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut out = Args {
        preset: "n16".into(),
        shapes: "128,128,4".into(),
        level: 9,
        threads: 1,
        reps: 1,
        algos: Vec::new(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args
            .get(i + 1)
            .ok_or_else(|| format!("{} needs a value", args[i]))?;
        let number = |v: &str| v.parse::<usize>().map_err(|e| format!("{}: {e}", args[i]));
        match args[i].as_str() {
            "--preset" => out.preset = value.clone(),
            "--shape" | "--shapes" => out.shapes = value.clone(),
            "--level" => out.level = number(value)?,
            "--threads" => out.threads = number(value)?.max(1),
            "--reps" => out.reps = number(value)?.max(1),
            "--algos" => out.algos = value.split(',').map(|s| s.trim().to_string()).collect(),
            other => return Err(format!("unknown argument {other}")),
        }
        i += 2;
    }
    Ok(out)
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat` (Linux; `None`
/// elsewhere). With one thread it is the work done, even on a machine shared with other jobs.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// The parameters of a preset with `level` levels above the base prime.
fn parameters(preset: &str, level: usize) -> Result<Parameters, Box<dyn std::error::Error>> {
    let mut lit = match preset {
        "n16" => ParametersLiteral::n16_qp1325_limbs(level + 1),
        "insecure_n12" => ParametersLiteral::insecure_n12(),
        "insecure_n13" => ParametersLiteral::insecure_n13(),
        other => {
            return Err(format!("unknown preset {other} (n16, insecure_n12, insecure_n13)").into());
        }
    };
    if let Moduli::Bits(q) = &mut lit.q {
        if level + 1 > q.len() {
            return Err(format!("preset {preset} has only {} levels", q.len() - 1).into());
        }
        q.truncate(level + 1);
    }
    // The fewest digits P allows: fewer, larger digits make smaller keys and faster switches.
    let mut last = None;
    for dnum in 1..=level + 1 {
        lit.dnum = dnum;
        match Parameters::new(lit.clone()) {
            Ok(p) => return Ok(p),
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or_else(|| "no valid digit count".into(), |e| e.into()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep freed polynomial buffers in the process (see `hetal_ckks::memory`).
    hetal_ckks::memory::retain_freed_memory();
    let args = parse_args()?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build_global()?;
    let params = parameters(&args.preset, args.level)?;
    let slots = params.slots();
    for (a, b, c) in parse_shapes(&args.shapes)? {
        let ops = Operands::new(a, b, c)?;
        let (block, cases) = cases::<CkksBackend>(slots, (a, b, c), &ops, &args.algos)?;
        if cases.is_empty() {
            return Err(format!("no algorithm matches {:?}", args.algos).into());
        }
        let steps: BTreeSet<i64> = cases
            .iter()
            .flat_map(|case| case.plan.rotation_steps())
            .map(i64::from)
            .collect();
        eprintln!(
            "shape ({a}, {b}, {c}) on {} x {} blocks: generating the relinearization, conjugation \
             and {} rotation keys (N = 2^{}, {} Q + {} P primes, {} digits)...",
            block.rows(),
            block.cols(),
            steps.len(),
            params.log_n(),
            params.q_primes().len(),
            params.p_primes().len(),
            params.dnum()
        );
        let t = Instant::now();
        let request = KeyRequest {
            relinearization: true,
            rotations: steps.into_iter().collect(),
            conjugation: true,
        };
        let client = CkksClient::new(&params, &request, &mut ChaCha20Rng::seed_from_u64(7))?;
        let keygen_s = t.elapsed().as_secs_f64();
        let server = client.server_backend();
        let top = server.max_level();
        for case in &cases {
            let plan = &case.plan;
            let (la, lb) = (top - case.level_offsets.0, top - case.level_offsets.1);
            let ea = EncryptedMatrix::encrypt(&client, case.lhs, plan.layout_a(), la)?;
            let eb = EncryptedMatrix::encrypt(&client, case.rhs, plan.layout_b(), lb)?;
            eprintln!(
                "  {} ({} rotations per run)...",
                plan.name(),
                plan.counts().rot
            );
            let mut times = Vec::with_capacity(args.reps);
            let mut cpu_times = Vec::with_capacity(args.reps);
            let mut out = None;
            for _ in 0..args.reps {
                let (t, cpu) = (Instant::now(), cpu_seconds());
                out = Some(plan.run(&server, &ea, &eb)?);
                times.push(t.elapsed().as_secs_f64());
                if let (Some(before), Some(after)) = (cpu, cpu_seconds()) {
                    cpu_times.push(after - before);
                }
            }
            times.sort_by(f64::total_cmp);
            cpu_times.sort_by(f64::total_cmp);
            let out = out.ok_or("no run")?;
            let err = out.decrypt(&client)?.max_abs_diff(case.want)?;
            let counts = plan.counts();
            println!(
                "{}",
                serde_json::json!({
                    "algo": plan.name(), "a": a, "b": b, "c": c,
                    "preset": args.preset, "log_n": params.log_n(), "slots": slots,
                    "s0": block.rows(), "s1": block.cols(),
                    "level_a": la, "level_b": lb, "level_out": out.level(&server),
                    "threads": args.threads, "reps": args.reps,
                    "s": times[times.len() / 2],
                    "cpu_s": cpu_times.get(cpu_times.len() / 2),
                    "precision_bits": -err.max(1e-300).log2(),
                    "cmult": counts.cmult, "mult": counts.mult, "rot": counts.rot,
                    "key_switches": counts.key_switches,
                    "keygen_s": keygen_s,
                })
            );
        }
    }
    Ok(())
}
