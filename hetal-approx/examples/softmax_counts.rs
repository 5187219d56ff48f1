//! Operation counts of one softmax evaluation per variant (one ciphertext, CountingBackend over
//! PlainBackend), for c in {2, 4, 10, 16}.
//!
//! `cargo run --release -p hetal-approx --example softmax_counts`
use hetal_approx::softmax::{SoftmaxLayout, SoftmaxPlan, Variant};
use hetal_ckks::backend::{CountingBackend, PlainBackend, ScaleChain, SlotClient};

fn main() -> Result<(), hetal_ckks::Error> {
    println!("| variant | c | depth | Mult (ct x ct) | CMult (plain/const) | Rot | rescales |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for c in [2usize, 4, 10, 16] {
        for v in Variant::ALL {
            let cp = c.next_power_of_two();
            let plan = SoftmaxPlan::new(v, SoftmaxLayout::new(cp, cp, c)?);
            let be = CountingBackend::new(PlainBackend::new(
                cp,
                ScaleChain::uniform(plan.depth(), 40.0),
            ));
            let x = be.encrypt_real(&vec![1.0; c], plan.depth())?;
            plan.evaluate(&be, &x)?;
            let k = be.counts();
            println!(
                "| {} | {c} | {} | {} | {} | {} | {} |",
                v.name(),
                plan.depth(),
                k.ct_mults,
                k.plain_mults,
                k.rotations,
                k.rescales
            );
        }
    }
    Ok(())
}
