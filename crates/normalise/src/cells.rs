//! Per-cell primitives of the columnar mapping: the trim every cell goes through ([`trim`], equal to `str::trim`
//! without its per-character scan for the usual cell), short cells packed into one integer ([`pack`]) and the
//! per-column memo of cell outcomes keyed by that integer ([`CellMemo`]), so that a column's distinct short cells
//! (codes such as `1`, `98`, `-9`, blanks) are translated and checked once per column instead of once per cell,
//! and the validity bitmap a column's builder fills a bit at a time ([`Validity`]).

use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer};

/// Longest cell (in bytes) that [`pack`] packs and [`CellMemo`] remembers.
pub const PACKED_BYTES: usize = 7;

/// `cell.trim()`, without scanning characters when the first and last bytes are printable ASCII (neither can then
/// be, or end, a whitespace character).
#[inline]
pub fn trim(cell: &str) -> &str {
    let plain = |b: u8| b > b' ' && b < 0x7f;
    match cell.as_bytes() {
        [] => cell,
        [first, .., last] if plain(*first) && plain(*last) => cell,
        [only] if plain(*only) => cell,
        _ => cell.trim(),
    }
}

/// Text of at most [`PACKED_BYTES`] bytes as one integer: the bytes (little-endian), then the length plus one in
/// the top byte, so that no two texts share a value and none is 0.
#[inline]
pub fn pack(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let n = b.len();
    let low = match n {
        0 => 0,
        1 => b[0] as u64,
        2 | 3 => {
            // Two overlapping 2-byte reads cover 2 or 3 bytes.
            let head = u16::from_le_bytes([b[0], b[1]]) as u64;
            let tail = u16::from_le_bytes([b[n - 2], b[n - 1]]) as u64;
            head | tail << (8 * (n - 2))
        }
        4..=PACKED_BYTES => {
            let head = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
            let tail = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
            head | tail << (8 * (n - 4))
        }
        _ => return None,
    };
    Some(low | (n as u64 + 1) << 56)
}

/// Slots of a [`CellMemo`] (a power of two): many more than the codes of a coded column.
pub const MEMO_SLOTS: usize = 128;

/// A direct-mapped memo from short raw cells (as delivered, before trimming) to a column's outcome for them. A
/// collision only evicts: the evicted cell is worked out again when it comes back. The builder stores only outcomes
/// that do not depend on the row (cells without problems), so a hit may be used in any row.
#[derive(Debug, Clone)]
pub struct CellMemo<V: Copy + Default> {
    /// (packed cell, outcome); packed 0 marks an empty slot ([`pack`] never gives 0).
    slots: Vec<(u64, V)>,
    shift: u32,
}

impl<V: Copy + Default> CellMemo<V> {
    /// A memo with `slots` slots (rounded up to a power of two); 0 gives a memo that remembers nothing.
    pub fn new(slots: usize) -> Self {
        // At least 2 slots, so that the shift stays below 64; with none, every lookup misses.
        let slots = if slots == 0 {
            0
        } else {
            slots.next_power_of_two().max(2)
        };
        CellMemo {
            slots: vec![(0, V::default()); slots],
            shift: 64 - slots.max(2).trailing_zeros(),
        }
    }

    #[inline]
    fn slot(&self, packed: u64) -> usize {
        // Fibonacci hashing: the top bits of the product.
        (packed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The remembered outcome of a raw cell.
    #[inline]
    pub fn get(&self, cell: &str) -> Option<V> {
        let packed = pack(cell)?;
        match self.slots.get(self.slot(packed)) {
            Some(&(key, value)) if key == packed => Some(value),
            _ => None,
        }
    }

    /// Remembers the outcome of a raw cell (cells longer than [`PACKED_BYTES`] are not remembered).
    #[inline]
    pub fn insert(&mut self, cell: &str, value: V) {
        let Some(packed) = pack(cell) else {
            return;
        };
        let slot = self.slot(packed);
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = (packed, value);
        }
    }
}

/// A column's validity bitmap, built one row at a time (Arrow's bit order: row `i` is bit `i % 64` of word
/// `i / 64`, little-endian).
#[derive(Debug, Default)]
pub struct Validity {
    words: Vec<u64>,
    len: usize,
    nulls: usize,
}

impl Validity {
    pub fn with_capacity(rows: usize) -> Self {
        Validity {
            words: Vec::with_capacity(rows.div_ceil(64)),
            len: 0,
            nulls: 0,
        }
    }

    #[inline]
    pub fn push(&mut self, valid: bool) {
        let bit = self.len % 64;
        if bit == 0 {
            self.words.push(0);
        }
        if let Some(word) = self.words.last_mut() {
            *word |= (valid as u64) << bit;
        }
        self.nulls += !valid as usize;
        self.len += 1;
    }

    /// The null buffer, `None` when every row is valid.
    pub fn finish(self) -> Option<NullBuffer> {
        if self.nulls == 0 {
            return None;
        }
        let bits = BooleanBuffer::new(Buffer::from_vec(self.words), 0, self.len);
        // The count is exact by construction.
        Some(NullBuffer::new(bits))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Cells as deliveries have them: codes, blanks, padding, non-ASCII text and whitespace of every kind.
    pub(crate) fn random_cell(rng: &mut ChaCha8Rng) -> String {
        const PARTS: &[&str] = &[
            "1", "2", "3", "98", "99", "-1", "-9", "01", "1.0", " ", "\t", "\u{a0}", "\u{3000}",
            "\u{85}", "\u{1f}", "\n", "é", "Bangkok", "NS", "a", "ñ", "x y", ".a", "+", "0", "1e3",
            "nan", "",
        ];
        let parts = rng.random_range(0..4);
        (0..parts)
            .map(|_| PARTS[rng.random_range(0..PARTS.len())])
            .collect()
    }

    fn pack_simple(text: &str) -> Option<u64> {
        let bytes = text.as_bytes();
        if bytes.len() > PACKED_BYTES {
            return None;
        }
        let mut packed = (bytes.len() as u64 + 1) << 56;
        for (i, b) in bytes.iter().enumerate() {
            packed |= (*b as u64) << (8 * i);
        }
        Some(packed)
    }

    #[test]
    fn trim_equals_str_trim() {
        for cell in [
            "", " ", "a", " a", "a ", "\u{a0}1", "1\u{a0}", "\u{3000}", "\u{1f}", "1\u{1f}",
            "\u{85}x", "é", "x\u{b}", "\u{b}", "~", "\u{7f}",
        ] {
            assert_eq!(trim(cell), cell.trim(), "{cell:?}");
        }
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20_000 {
            let cell = random_cell(&mut rng);
            assert_eq!(trim(&cell), cell.trim(), "{cell:?}");
        }
    }

    #[test]
    fn pack_is_injective_and_equals_the_bytewise_packing() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut seen = std::collections::HashMap::new();
        for _ in 0..20_000 {
            let len = rng.random_range(0..10);
            let bytes: Vec<u8> = (0..len).map(|_| rng.random_range(0..4u8)).collect();
            let text = String::from_utf8(bytes).unwrap_or_default();
            assert_eq!(pack(&text), pack_simple(&text), "{text:?}");
            if let Some(p) = pack(&text) {
                assert_ne!(p, 0);
                assert_eq!(seen.entry(p).or_insert_with(|| text.clone()), &text);
            }
        }
    }

    #[test]
    fn validity_equals_arrows_builder() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for rows in [0, 1, 63, 64, 65, 200] {
            for share in [0.0, 0.5, 1.0] {
                let bits: Vec<bool> = (0..rows).map(|_| rng.random_bool(share)).collect();
                let mut ours = Validity::with_capacity(rows);
                let mut arrows = arrow::array::builder::NullBufferBuilder::new(rows);
                for &b in &bits {
                    ours.push(b);
                    arrows.append(b);
                }
                let (ours, arrows) = (ours.finish(), arrows.finish());
                assert_eq!(ours, arrows, "{rows} rows, share {share}");
            }
        }
    }

    #[test]
    fn memo_remembers_short_cells_and_evicts_on_collision() {
        let mut memo: CellMemo<u32> = CellMemo::new(4);
        assert_eq!(memo.get("1"), None);
        memo.insert("1", 10);
        assert_eq!(memo.get("1"), Some(10));
        assert_eq!(memo.get(" 1"), None);
        memo.insert("12345678", 3);
        assert_eq!(memo.get("12345678"), None);
        for i in 0..100u32 {
            memo.insert(&i.to_string(), i);
            assert_eq!(memo.get(&i.to_string()), Some(i));
        }
        // Every value still remembered is the right one.
        for i in 0..100u32 {
            assert!(memo.get(&i.to_string()).is_none_or(|v| v == i));
        }
        let off: CellMemo<u32> = CellMemo::new(0);
        assert_eq!(off.get("1"), None);
        let mut off = off;
        off.insert("1", 1);
        assert_eq!(off.get("1"), None);
    }
}
