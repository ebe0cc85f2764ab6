//! Byte-level mutations of a corpus input (bit flips, random and "interesting" bytes and integers, inserted
//! dictionary tokens, deleted, duplicated and spliced ranges), driven by a seeded RNG so a run is reproducible.

use rand::{Rng, RngCore};

/// Little-endian integers that hit the edges of length fields and counts in binary formats.
const INTERESTING: [u64; 12] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    0xffff_ffff,
    0x8000_0000,
    0x7fff_ffff_ffff_ffff,
    u64::MAX,
];

/// Applies 1-8 random mutations to `data` in place, keeping it at most `max_len` bytes. `other` is another corpus
/// input to splice from; `dictionary` holds the target's tokens.
pub fn mutate(
    rng: &mut impl RngCore,
    data: &mut Vec<u8>,
    other: &[u8],
    dictionary: &[&[u8]],
    max_len: usize,
) {
    let rounds = 1 + rng.random_range(0..8);
    for _ in 0..rounds {
        mutate_once(rng, data, other, dictionary);
    }
    data.truncate(max_len);
}

fn mutate_once(rng: &mut impl RngCore, data: &mut Vec<u8>, other: &[u8], dictionary: &[&[u8]]) {
    let len = data.len();
    let pos = |rng: &mut dyn RngCore, n: usize| if n == 0 { 0 } else { rng.random_range(0..n) };
    match rng.random_range(0..10) {
        0 if len > 0 => {
            let i = pos(rng, len);
            data[i] ^= 1 << rng.random_range(0..8);
        }
        1 if len > 0 => {
            let i = pos(rng, len);
            data[i] = rng.random();
        }
        2 if len > 0 => {
            // An interesting integer of 1, 2, 4 or 8 bytes, little or big endian.
            let value = INTERESTING[rng.random_range(0..INTERESTING.len())];
            let width = [1, 2, 4, 8][rng.random_range(0..4)];
            let mut bytes = value.to_le_bytes()[..width].to_vec();
            if rng.random_bool(0.3) {
                bytes.reverse();
            }
            let i = pos(rng, len);
            for (k, b) in bytes.into_iter().enumerate() {
                if let Some(slot) = data.get_mut(i + k) {
                    *slot = b;
                }
            }
        }
        3 | 4 if !dictionary.is_empty() => {
            let token = dictionary[rng.random_range(0..dictionary.len())];
            let i = pos(rng, len + 1);
            data.splice(i..i, token.iter().copied());
        }
        5 if len > 0 => {
            let start = pos(rng, len);
            let end = (start + 1 + pos(rng, 64.min(len - start))).min(len);
            data.drain(start..end);
        }
        6 if len > 0 => {
            // Duplicate a range (repeated records, long runs).
            let start = pos(rng, len);
            let end = (start + 1 + pos(rng, 256.min(len - start))).min(len);
            let copy = data[start..end].to_vec();
            let at = pos(rng, len + 1);
            data.splice(at..at, copy);
        }
        7 if !other.is_empty() => {
            // Splice: head of this input, tail of the other.
            let cut = pos(rng, len + 1);
            let from = pos(rng, other.len());
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        8 if len > 0 => {
            let cut = pos(rng, len);
            data.truncate(cut);
        }
        _ => {
            let i = pos(rng, len + 1);
            let n = 1 + rng.random_range(0..8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            data.splice(i..i, bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn mutations_are_reproducible_and_bounded() {
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut data = b"a,b,c\n1,2,3\n".to_vec();
            for _ in 0..1000 {
                mutate(&mut rng, &mut data, b"x;y\n", &[b"\"", b"\r\n"], 64);
                assert!(data.len() <= 64);
            }
            data
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn empty_inputs_grow() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut data = Vec::new();
        for _ in 0..100 {
            mutate(&mut rng, &mut data, b"", &[b"tok"], 1024);
        }
        assert!(!data.is_empty());
    }
}
