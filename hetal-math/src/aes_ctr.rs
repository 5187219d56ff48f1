//! AES-128 in counter mode (NIST SP 800-38A), the expander of public uniform polynomials
//! ([`crate::sampling::uniform_limb_from_seed`]).
//!
//! Key switching can regenerate the uniform halves of its keys at use instead of keeping them
//! in memory, so the expander sits on a hot path: on CPUs with VAES and AVX-512 it encrypts
//! sixteen counter blocks per round of four 512-bit `vaesenc` chains (~28 us per `2^16` words
//! with rejection sampling, ~20 GB/s on one core); elsewhere it falls back to the `aes` crate (AES-NI or its
//! constant-time software implementation).

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};

/// Counter blocks per batch of the portable path.
const PORTABLE_BATCH: usize = 64;

/// Rejection sampling over the AES-CTR word stream: fills `out` with the first `out.len()`
/// words `w & mask` of the stream of `counter` that are below `bound`, and returns the number
/// of blocks consumed.
pub(crate) fn fill_below(
    key: &[u8; 16],
    counter: Counter,
    mask: u64,
    bound: u64,
    out: &mut [u64],
) -> u64 {
    let mut filled = 0;
    let mut blocks = 0u64;
    #[cfg(target_arch = "x86_64")]
    if vaes::available() {
        // SAFETY: the CPU supports AES-NI, VAES and AVX-512F (checked just above).
        (filled, blocks) = unsafe { vaes::fill_below(key, counter, mask, bound, out) };
    }
    // The rest (all of it without VAES): batches of the portable path, filtered.
    let mut words = [0u64; 2 * PORTABLE_BATCH];
    while filled < out.len() {
        let at = Counter {
            first: counter.first + blocks,
            ..counter
        };
        fill_words_portable(key, at, &mut words);
        blocks += PORTABLE_BATCH as u64;
        for &w in &words {
            let v = w & mask;
            if v < bound && filled < out.len() {
                out[filled] = v;
                filled += 1;
            }
        }
    }
    blocks
}

/// The counter blocks `(lo, hi XOR (first + i))`, `i = 0, 1, ...`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Counter {
    pub(crate) lo: u64,
    pub(crate) hi: u64,
    pub(crate) first: u64,
}

/// The `aes` crate path: writes the AES-128 encryptions of the counter blocks
/// `(lo, hi XOR (first + i))`, `i = 0, 1, ...`, under `key`, two little-endian words per
/// block, into `out` (as bytes, block `i` is `lo.to_le_bytes()` followed by
/// `(hi ^ (first + i)).to_le_bytes()`).
fn fill_words_portable(key: &[u8; 16], counter: Counter, out: &mut [u64]) {
    let Counter { lo, hi, first } = counter;
    let cipher = Aes128::new(&GenericArray::from(*key));
    let mut blocks = [GenericArray::from([0u8; 16]); PORTABLE_BATCH];
    let mut counter = first;
    for chunk in out.chunks_mut(2 * PORTABLE_BATCH) {
        let used = chunk.len() / 2;
        for block in blocks[..used].iter_mut() {
            let words = u128::from(lo) | (u128::from(hi ^ counter) << 64);
            *block = GenericArray::from(words.to_le_bytes());
            counter += 1;
        }
        cipher.encrypt_blocks(&mut blocks[..used]);
        for (pair, block) in chunk.chunks_exact_mut(2).zip(&blocks) {
            let w = u128::from_le_bytes((*block).into());
            pair[0] = w as u64;
            pair[1] = (w >> 64) as u64;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod vaes {
    //! VAES kernel. Soundness: `fill_words` is only called after `available()` confirmed
    //! AES-NI, VAES and AVX-512F at run time; its stores write 8 words at `8 j` of a chunk of
    //! exactly 32 words (`chunks_exact_mut`).

    use std::arch::x86_64::*;

    /// Whether the CPU has AES-NI, VAES and AVX-512F.
    pub(super) fn available() -> bool {
        use std::sync::OnceLock;
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            std::arch::is_x86_feature_detected!("aes")
                && std::arch::is_x86_feature_detected!("vaes")
                && std::arch::is_x86_feature_detected!("avx512f")
        })
    }

    /// The AES-128 key schedule (FIPS-197, Sec. 5.2) with `aeskeygenassist`.
    #[target_feature(enable = "aes")]
    fn round_keys(key: &[u8; 16]) -> [__m128i; 11] {
        let mut rk = [_mm_setzero_si128(); 11];
        // SAFETY: an unaligned 16-byte load of a 16-byte array.
        rk[0] = unsafe { _mm_loadu_si128(key.as_ptr().cast()) };
        macro_rules! next {
            ($i:expr, $rcon:expr) => {{
                let assist =
                    _mm_shuffle_epi32::<0xff>(_mm_aeskeygenassist_si128::<$rcon>(rk[$i - 1]));
                let mut k = rk[$i - 1];
                k = _mm_xor_si128(k, _mm_slli_si128::<4>(k));
                k = _mm_xor_si128(k, _mm_slli_si128::<4>(k));
                k = _mm_xor_si128(k, _mm_slli_si128::<4>(k));
                rk[$i] = _mm_xor_si128(k, assist);
            }};
        }
        next!(1, 0x01);
        next!(2, 0x02);
        next!(3, 0x04);
        next!(4, 0x08);
        next!(5, 0x10);
        next!(6, 0x20);
        next!(7, 0x40);
        next!(8, 0x80);
        next!(9, 0x1b);
        next!(10, 0x36);
        rk
    }

    /// Rejection sampling 16 blocks (32 words) at a time, four independent `vaesenc` chains
    /// of four blocks each to cover the instruction's latency: the accepted words of each
    /// 8-word vector are compressed to the front of a register and stored whole at the fill
    /// position (the next store overwrites the unused tail). Stops while at least 32 words of
    /// room are left, so every store is in bounds; returns the words filled and the blocks
    /// consumed.
    #[target_feature(enable = "aes,vaes,avx512f")]
    pub(super) fn fill_below(
        key: &[u8; 16],
        counter: super::Counter,
        mask: u64,
        bound: u64,
        out: &mut [u64],
    ) -> (usize, u64) {
        let rk = round_keys(key);
        let rks: [__m512i; 11] = core::array::from_fn(|i| _mm512_broadcast_i32x4(rk[i]));
        let (lo, hi) = (counter.lo as i64, counter.hi as i64);
        let base = _mm512_set_epi64(hi, lo, hi, lo, hi, lo, hi, lo);
        let mask = _mm512_set1_epi64(mask as i64);
        let bound = _mm512_set1_epi64(bound as i64);
        let mut blocks = 0u64;
        let mut filled = 0;
        while out.len() - filled >= 32 {
            let mut b = [_mm512_setzero_si512(); 4];
            for (j, bj) in b.iter_mut().enumerate() {
                let c = counter.first.wrapping_add(blocks + 4 * j as u64);
                let counters = _mm512_set_epi64(
                    c.wrapping_add(3) as i64,
                    0,
                    c.wrapping_add(2) as i64,
                    0,
                    c.wrapping_add(1) as i64,
                    0,
                    c as i64,
                    0,
                );
                *bj = _mm512_xor_si512(_mm512_xor_si512(base, counters), rks[0]);
            }
            for rk in &rks[1..10] {
                for bj in b.iter_mut() {
                    *bj = _mm512_aesenc_epi128(*bj, *rk);
                }
            }
            let v = b.map(|bj| _mm512_and_si512(_mm512_aesenclast_epi128(bj, rks[10]), mask));
            let accepted = v.map(|vj| _mm512_cmplt_epu64_mask(vj, bound));
            if accepted.iter().all(|&k| k == 0xff) {
                // The common case for primes just below a power of two: no compression.
                for (j, vj) in v.iter().enumerate() {
                    // SAFETY: words `filled + 8j .. filled + 8j + 8` of the 32 words of room.
                    unsafe {
                        _mm512_storeu_si512(out.as_mut_ptr().add(filled + 8 * j).cast(), *vj)
                    };
                }
                filled += 32;
            } else {
                for (vj, kj) in v.iter().zip(accepted) {
                    let packed = _mm512_maskz_compress_epi64(kj, *vj);
                    // SAFETY: `filled + 8 <= out.len()`: at most 24 words were filled since
                    // the loop checked for 32 words of room.
                    unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(filled).cast(), packed) };
                    filled += kj.count_ones() as usize;
                }
            }
            blocks += 16;
        }
        (filled, blocks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The raw portable words are AES-128 of the counter blocks (checked block by block
    /// against the `aes` crate), and the fast path's rejection sampling equals a scalar filter
    /// of them, for lengths with and without a tail and for bounds that reject often.
    #[test]
    fn rejection_sampling_filters_the_block_cipher_stream() {
        let key = [0x5au8; 16];
        let counter = Counter {
            lo: 0x0123_4567_89ab_cdef,
            hi: 0xfedc_ba98_7654_3210,
            first: 1000,
        };
        let cipher = Aes128::new(&GenericArray::from(key));
        let mut stream = vec![0u64; 8192];
        fill_words_portable(&key, counter, &mut stream);
        for (i, pair) in stream.chunks_exact(2).enumerate() {
            let words = u128::from(counter.lo)
                | (u128::from(counter.hi ^ (counter.first + i as u64)) << 64);
            let mut block = GenericArray::from(words.to_le_bytes());
            cipher.encrypt_block(&mut block);
            let w = u128::from_le_bytes(block.into());
            assert_eq!(pair, [w as u64, (w >> 64) as u64], "block {i}");
        }
        let mask = (1u64 << 41) - 1;
        for bound in [mask + 1, (1u64 << 40) + 12345, 1 << 38] {
            let accepted: Vec<u64> = stream
                .iter()
                .map(|w| w & mask)
                .filter(|&v| v < bound)
                .collect();
            for len in [0usize, 1, 31, 32, 33, 100, 1000] {
                let mut out = vec![0u64; len];
                let blocks = fill_below(&key, counter, mask, bound, &mut out);
                assert_eq!(out, accepted[..len], "bound {bound}, len {len}");
                assert!(
                    2 * blocks as usize <= stream.len(),
                    "bound {bound}, len {len}"
                );
            }
        }
    }
}
