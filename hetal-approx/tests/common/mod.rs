//! Helpers shared by the integration tests.

use hetal_approx::softmax::softmax_f64;

/// Packed logits for `slots` slots in rows of `row_len`: the first `classes` slots of every
/// row uniform in `[-range, range]` (xorshift64 from `seed`), the pads 0.
pub fn random_logits(
    slots: usize,
    row_len: usize,
    classes: usize,
    range: f64,
    seed: u64,
) -> Vec<f64> {
    let mut state = seed | 1;
    (0..slots)
        .map(|i| {
            if i % row_len >= classes {
                return 0.0;
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * range
        })
        .collect()
}

/// The largest error of `got` against the exact softmax of each row's `classes` logits.
pub fn softmax_error(logits: &[f64], got: &[f64], row_len: usize, classes: usize) -> f64 {
    logits
        .chunks(row_len)
        .zip(got.chunks(row_len))
        .flat_map(|(row, out)| {
            softmax_f64(&row[..classes])
                .into_iter()
                .zip(&out[..classes])
                .map(|(w, g)| (w - g).abs())
                .collect::<Vec<_>>()
        })
        .fold(0.0, f64::max)
}
