//! The `hetal` command-line tool.
//!
//! Only `--version` exists so far; the subcommands (keygen, encrypt, train, decrypt, predict,
//! demo, bench, params) arrive with the trainer.

fn main() {
    println!("hetal {}", env!("CARGO_PKG_VERSION"));
}
