//! Counts the operations of DiagABT, DiagATB (both level cases) and Crockett's baselines on a
//! `CountingBackend` over `PlainBackend`, one JSON object per algorithm and shape.
//!
//! ```text
//! cargo run --release -p hetal-linalg --example matmul_counts -- --slots 32768 \
//!     --shapes "128,128,4;256,256,8;512,769,4;1024,769,8;2048,769,16"
//! ```
//! A shape `a,b,c` is: A Bᵀ with A `a x b` and B `c x b`; Aᵀ B with A `a x c` and B `a x b`.
//! Add `--check` to also compare each product with an f64 matmul.

mod common;

use common::{Operands, cases, parse_shapes};
use hetal_ckks::backend::{CountingBackend, PlainBackend, ScaleChain};
use hetal_linalg::EncryptedMatrix;

type Backend = CountingBackend<PlainBackend>;

const LEVELS: usize = 6;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut slots = 1usize << 15;
    let mut shapes = "128,128,4;256,256,8;512,769,4;1024,769,8;2048,769,16".to_string();
    let mut check = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--slots" => {
                slots = args.get(i + 1).ok_or("--slots needs a value")?.parse()?;
                i += 1;
            }
            "--shapes" => {
                shapes = args.get(i + 1).ok_or("--shapes needs a value")?.clone();
                i += 1;
            }
            "--check" => check = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
        i += 1;
    }
    let backend = CountingBackend::new(PlainBackend::new(slots, ScaleChain::uniform(LEVELS, 40.0)));
    for (a, b, c) in parse_shapes(&shapes)? {
        let ops = Operands::new(a, b, c)?;
        let (block, cases) = cases::<Backend>(slots, (a, b, c), &ops, &[])?;
        for case in cases {
            let plan = &case.plan;
            let (la, lb) = (LEVELS - case.level_offsets.0, LEVELS - case.level_offsets.1);
            let ea = EncryptedMatrix::<Backend>::encrypt(
                backend.inner(),
                case.lhs,
                plan.layout_a(),
                la,
            )?;
            let eb = EncryptedMatrix::<Backend>::encrypt(
                backend.inner(),
                case.rhs,
                plan.layout_b(),
                lb,
            )?;
            backend.take_counts();
            let out = plan.run(&backend, &ea, &eb)?;
            let k = backend.take_counts();
            let p = plan.counts();
            let plan_matches = k.plain_mults == p.cmult
                && k.ct_mults == p.mult
                && k.rotations == p.rot
                && k.conjugations == p.conj
                && k.relinearizations == p.relin
                && k.rescales == p.rescale
                && k.key_switches == p.key_switches
                && k.decompositions == p.decompositions;
            let depth = plan.depth();
            let mut obj = serde_json::json!({
                "algo": plan.name(), "a": a, "b": b, "c": c,
                "s0": block.rows(), "s1": block.cols(),
                "cmult": k.plain_mults, "mult": k.ct_mults, "rot": k.rotations,
                "conj": k.conjugations, "relin": k.relinearizations, "rescale": k.rescales,
                "key_switches": k.key_switches, "decompositions": k.decompositions,
                "depth": depth.max(), "depth_a": depth.a, "depth_b": depth.b,
                "plan_matches": plan_matches,
            });
            if check {
                let err = out.decrypt(backend.inner())?.max_abs_diff(case.want)?;
                obj["max_abs_error"] = serde_json::json!(err);
            }
            println!("{obj}");
        }
    }
    Ok(())
}
