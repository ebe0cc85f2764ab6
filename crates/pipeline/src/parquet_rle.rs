//! The RLE / bit-packed hybrid encoding of Parquet (definition levels, dictionary indices): decoding and a
//! deterministic encoder, used by [`crate::parquet_dict`] to remap the indices of dictionary-encoded pages.
//!
//! A stream is a sequence of runs, each starting with a ULEB128 header: an even header `n << 1` is a repeated run
//! (`n` copies of one value stored in `ceil(bit_width / 8)` little-endian bytes); an odd header `(g << 1) | 1` is a
//! bit-packed run of `g` groups of 8 values, `bit_width` bits each, least significant bit first.
//!
//! [`encode`] is this crate's encoder of dictionary indices; [`ParquetRle`] reproduces, byte for byte, the
//! encoder the `parquet` crate uses for definition levels (its state machine decides runs differently), so that
//! [`crate::parquet_chunk`] can write the levels of a page without the crate's column writer.

/// A malformed hybrid stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RleError {
    #[error("the encoded values end after {read} of {expected} values")]
    Truncated { expected: usize, read: usize },
    #[error("bit width {0} is above 32")]
    BitWidth(u8),
    #[error("a run header does not fit in 64 bits")]
    Header,
}

/// Largest number of 8-value groups in one bit-packed run (a one-byte header, as the `parquet` crate writes).
const MAX_GROUPS: usize = 63;
/// A repeated value this often or more is written as a repeated run.
const MIN_REPEAT: usize = 8;

/// Bits needed for values up to `max` (0 for 0).
pub fn bit_width(max: u32) -> u8 {
    (32 - max.leading_zeros()) as u8
}

/// Decodes `count` values from `data`; returns them and the number of bytes read.
pub fn decode(data: &[u8], bit_width: u8, count: usize) -> Result<(Vec<u32>, usize), RleError> {
    if bit_width > 32 {
        return Err(RleError::BitWidth(bit_width));
    }
    let width = bit_width as usize;
    let value_bytes = width.div_ceil(8);
    // Every value takes at least one bit or one run header, so the data bound the allocation.
    let mut out = Vec::with_capacity(count.min(data.len().saturating_mul(8)));
    let mut pos = 0;
    let truncated = |read: usize| RleError::Truncated {
        expected: count,
        read,
    };
    while out.len() < count {
        let header = read_uleb(data, &mut pos).ok_or_else(|| truncated(out.len()))?;
        let wanted = count - out.len();
        if header & 1 == 1 {
            let groups = usize::try_from(header >> 1).map_err(|_| RleError::Header)?;
            let len = groups.checked_mul(width).ok_or(RleError::Header)?;
            let end = pos.checked_add(len).ok_or(RleError::Header)?;
            let bytes = data.get(pos..end).ok_or_else(|| truncated(out.len()))?;
            pos = end;
            let values = groups.saturating_mul(8).min(wanted);
            out.extend((0..values).map(|i| read_bits(bytes, i * width, width)));
        } else {
            let run = usize::try_from(header >> 1).map_err(|_| RleError::Header)?;
            let bytes = data
                .get(pos..pos + value_bytes)
                .ok_or_else(|| truncated(out.len()))?;
            pos += value_bytes;
            let value = bytes
                .iter()
                .rev()
                .fold(0u32, |v, b| (v << 8) | u32::from(*b));
            out.extend(std::iter::repeat_n(value, run.min(wanted)));
        }
    }
    Ok((out, pos))
}

/// Encodes `values` (each below `2^bit_width`): repeated runs for values repeated at least 8 times, bit-packed
/// runs otherwise (the last group padded with zeros). The same values always give the same bytes.
pub fn encode(values: &[u32], bit_width: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * usize::from(bit_width.min(32)) / 8 + 16);
    encode_into(&mut out, values, bit_width);
    out
}

/// [`encode`], appending to `out`.
pub fn encode_into(out: &mut Vec<u8>, values: &[u32], bit_width: u8) {
    let width = bit_width.min(32) as usize;
    let mut i = 0;
    while i < values.len() {
        let run = repeat_len(values, i, usize::MAX);
        if run >= MIN_REPEAT {
            write_uleb(out, (run as u64) << 1);
            let value = values[i];
            out.extend((0..width.div_ceil(8)).map(|b| (value >> (8 * b)) as u8));
            i += run;
            continue;
        }
        let start = i;
        let mut groups = 0;
        loop {
            i += 8;
            groups += 1;
            if i >= values.len()
                || groups == MAX_GROUPS
                || repeat_len(values, i, MIN_REPEAT) >= MIN_REPEAT
            {
                break;
            }
        }
        write_uleb(out, ((groups as u64) << 1) | 1);
        let literal = values.get(start..i.min(values.len())).unwrap_or_default();
        pack(out, literal, groups * 8, width);
    }
}

/// Appends `count` values bit-packed with `width` bits each (least significant bit first): `values`, then zeros.
/// `count * width` is a multiple of 8.
fn pack(out: &mut Vec<u8>, values: &[u32], count: usize, width: usize) {
    let mask = if width >= 32 {
        u64::from(u32::MAX)
    } else {
        (1u64 << width) - 1
    };
    let mut acc = 0u64;
    let mut bits = 0usize;
    let padded = values.iter().copied().chain(std::iter::repeat(0));
    for v in padded.take(count) {
        // fewer than 8 bits are pending, so at most 39 are
        acc |= (u64::from(v) & mask) << bits;
        bits += width;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
}

/// Largest number of 8-value groups in one bit-packed run of [`ParquetRle`] (the `parquet` crate closes a run when
/// one more group would reach 64).
const PARQUET_MAX_GROUPS: usize = 64;

/// The RLE / bit-packed hybrid encoder of the `parquet` crate (`encodings::rle::RleEncoder`, version 57), ported
/// so that the same values give the same bytes: values are buffered in groups of 8; a group whose values all
/// repeat the current value (8 times or more) starts a repeated run, other groups join a bit-packed run.
#[derive(Debug)]
pub struct ParquetRle {
    width: usize,
    out: Vec<u8>,
    buffered: [u32; 8],
    num_buffered: usize,
    current: u32,
    repeat: usize,
    bit_packed: usize,
    /// Position of the header byte of the open bit-packed run.
    indicator: Option<usize>,
}

impl ParquetRle {
    /// An encoder of values below `2^bit_width` (at most 32 bits) appending to `out`.
    pub fn new(bit_width: u8, out: Vec<u8>) -> Self {
        ParquetRle {
            width: usize::from(bit_width.min(32)),
            out,
            buffered: [0; 8],
            num_buffered: 0,
            current: 0,
            repeat: 0,
            bit_packed: 0,
            indicator: None,
        }
    }

    pub fn put(&mut self, value: u32) {
        if self.current == value {
            self.repeat += 1;
            if self.repeat > 8 {
                return;
            }
        } else {
            if self.repeat >= 8 {
                self.flush_repeated_run();
            }
            self.repeat = 1;
            self.current = value;
        }
        if let Some(slot) = self.buffered.get_mut(self.num_buffered) {
            *slot = value;
        }
        self.num_buffered += 1;
        if self.num_buffered == 8 {
            self.flush_buffered();
        }
    }

    /// Puts `count` copies of `value`; the bytes are those of `count` calls of [`ParquetRle::put`].
    pub fn put_repeated(&mut self, value: u32, count: usize) {
        let mut left = count;
        while left > 0 {
            if self.current == value && self.repeat >= 8 {
                // a continuation of the repeated run: only counted
                self.repeat += left;
                return;
            }
            self.put(value);
            left -= 1;
        }
    }

    /// Closes the open run and returns the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.flush();
        self.out
    }

    fn flush(&mut self) {
        if self.bit_packed == 0 && self.repeat == 0 && self.num_buffered == 0 {
            return;
        }
        let all_repeat =
            self.bit_packed == 0 && (self.repeat == self.num_buffered || self.num_buffered == 0);
        if self.repeat > 0 && all_repeat {
            self.flush_repeated_run();
        } else {
            if self.num_buffered > 0 {
                self.buffered[self.num_buffered.min(8)..].fill(0);
                self.num_buffered = 8;
            }
            self.bit_packed += self.num_buffered;
            self.flush_bit_packed(true);
            self.repeat = 0;
        }
    }

    fn flush_repeated_run(&mut self) {
        write_uleb(&mut self.out, (self.repeat as u64) << 1);
        let value = self.current;
        self.out
            .extend((0..self.width.div_ceil(8)).map(|b| (value >> (8 * b)) as u8));
        self.num_buffered = 0;
        self.repeat = 0;
    }

    fn flush_bit_packed(&mut self, close: bool) {
        let indicator = match self.indicator {
            Some(at) => at,
            None => {
                self.out.push(0);
                let at = self.out.len() - 1;
                self.indicator = Some(at);
                at
            }
        };
        // the buffer holds 0 or 8 values: a group is a whole number of bytes
        if self.num_buffered > 0 {
            pack(&mut self.out, &self.buffered, 8, self.width);
        }
        self.num_buffered = 0;
        if close {
            if let Some(byte) = self.out.get_mut(indicator) {
                *byte = (((self.bit_packed / 8) << 1) | 1) as u8;
            }
            self.indicator = None;
            self.bit_packed = 0;
        }
    }

    fn flush_buffered(&mut self) {
        if self.repeat >= 8 {
            self.num_buffered = 0;
            if self.bit_packed > 0 {
                self.flush_bit_packed(true);
            }
            return;
        }
        self.bit_packed += self.num_buffered;
        let close = self.bit_packed / 8 + 1 >= PARQUET_MAX_GROUPS;
        self.flush_bit_packed(close);
        self.repeat = 0;
    }
}

/// The definition (or repetition) levels of a v1 data page as the `parquet` crate writes them: the byte length
/// (u32, little-endian), then the levels encoded by [`ParquetRle`] with the bit width of `max_level`. `levels`
/// are runs of (level, count).
pub fn levels_v1(runs: impl IntoIterator<Item = (u32, usize)>, max_level: u32) -> Vec<u8> {
    let mut encoder = ParquetRle::new(bit_width(max_level), vec![0; 4]);
    for (level, count) in runs {
        encoder.put_repeated(level, count);
    }
    let mut out = encoder.finish();
    let len = (out.len() - 4) as u32;
    if let Some(head) = out.get_mut(..4) {
        head.copy_from_slice(&len.to_le_bytes());
    }
    out
}

/// How often `values[i]` repeats from `i` on, counting at most `limit`.
fn repeat_len(values: &[u32], i: usize, limit: usize) -> usize {
    let Some(first) = values.get(i) else {
        return 0;
    };
    values[i..]
        .iter()
        .take(limit)
        .take_while(|v| *v == first)
        .count()
}

fn read_bits(bytes: &[u8], start: usize, width: usize) -> u32 {
    let mut v = 0u32;
    for b in 0..width {
        let bit = start + b;
        let set = bytes
            .get(bit / 8)
            .is_some_and(|byte| byte >> (bit % 8) & 1 == 1);
        if set {
            v |= 1 << b;
        }
    }
    v
}

fn read_uleb(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn write_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(values: &[u32], width: u8) {
        let encoded = encode(values, width);
        let (decoded, read) = decode(&encoded, width, values.len()).unwrap();
        assert_eq!(decoded, values, "width {width}");
        assert_eq!(read, encoded.len());
    }

    #[test]
    fn bit_widths() {
        assert_eq!(bit_width(0), 0);
        assert_eq!(bit_width(1), 1);
        assert_eq!(bit_width(2), 2);
        assert_eq!(bit_width(7), 3);
        assert_eq!(bit_width(8), 4);
        assert_eq!(bit_width(u32::MAX), 32);
    }

    #[test]
    fn known_streams_decode() {
        // repeated run: 10 x value 3 (header 20), one value byte
        assert_eq!(decode(&[20, 3], 2, 10).unwrap(), (vec![3; 10], 2));
        // bit-packed run of one group, width 3: 0..8 -> the example of the Parquet specification
        let (v, read) = decode(&[3, 0b1000_1000, 0b1100_0110, 0b1111_1010], 3, 8).unwrap();
        assert_eq!((v, read), ((0..8).collect(), 4));
        // only the wanted values of the padded group are returned
        assert_eq!(
            decode(&[3, 0b1000_1000, 0b1100_0110, 0b1111_1010], 3, 5)
                .unwrap()
                .0,
            vec![0, 1, 2, 3, 4]
        );
        // a two-byte value of a repeated run, little-endian
        assert_eq!(decode(&[4, 0x34, 0x12], 13, 2).unwrap().0, vec![0x1234; 2]);
    }

    #[test]
    fn encoder_matches_the_specification_example() {
        assert_eq!(
            encode(&(0..8).collect::<Vec<_>>(), 3),
            vec![3, 0b1000_1000, 0b1100_0110, 0b1111_1010]
        );
        assert_eq!(encode(&[5; 300], 3), vec![0b1101_1000, 0b0000_0100, 5]);
    }

    #[test]
    fn round_trips_of_runs_literals_and_mixtures() {
        round_trip(&[], 1);
        round_trip(&[1], 1);
        round_trip(&[0; 9], 0);
        let mixed: Vec<u32> = (0..2000u32)
            .map(|i| if (i / 37) % 3 == 0 { 2 } else { (i * 7919) % 6 })
            .collect();
        for width in [3, 4, 8, 9, 16, 17, 32] {
            round_trip(&mixed, width);
        }
        // long literal stretches are split into runs of at most 63 groups
        let literal: Vec<u32> = (0..5000u32).map(|i| i % 5).collect();
        round_trip(&literal, 3);
        let encoded = encode(&literal, 3);
        assert_eq!(encoded[0], ((63 << 1) | 1) as u8);
        // a repeat that starts inside a group: the group absorbs its head, the rest is a repeated run
        let mut v = vec![1, 2, 3];
        v.extend([4; 20]);
        round_trip(&v, 3);
        round_trip(&[u32::MAX, 0, u32::MAX], 32);
    }

    /// The encoder as first written (bit by bit), which fixed the bytes of the files: the word-wise packing must
    /// give the same.
    fn encode_bit_by_bit(values: &[u32], bit_width: u8) -> Vec<u8> {
        let width = bit_width.min(32) as usize;
        let mut out = Vec::new();
        let mut i = 0;
        while i < values.len() {
            let run = repeat_len(values, i, usize::MAX);
            if run >= MIN_REPEAT {
                write_uleb(&mut out, (run as u64) << 1);
                out.extend((0..width.div_ceil(8)).map(|b| (values[i] >> (8 * b)) as u8));
                i += run;
                continue;
            }
            let start = i;
            let mut groups = 0;
            loop {
                i += 8;
                groups += 1;
                if i >= values.len()
                    || groups == MAX_GROUPS
                    || repeat_len(values, i, MIN_REPEAT) >= MIN_REPEAT
                {
                    break;
                }
            }
            write_uleb(&mut out, ((groups as u64) << 1) | 1);
            let mut packed = vec![0u8; groups * width];
            for (k, v) in values[start..i.min(values.len())].iter().enumerate() {
                for b in 0..width {
                    if v >> b & 1 == 1 {
                        let bit = k * width + b;
                        packed[bit / 8] |= 1 << (bit % 8);
                    }
                }
            }
            out.extend_from_slice(&packed);
        }
        out
    }

    #[test]
    fn word_packing_gives_the_bytes_of_bit_packing() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for width in [1u8, 2, 3, 5, 7, 8, 9, 13, 16, 17, 24, 31, 32] {
            for len in [0usize, 1, 7, 8, 9, 63, 64, 65, 500, 513, 5000] {
                let max = if width == 32 {
                    u64::from(u32::MAX)
                } else {
                    (1u64 << width) - 1
                };
                let runs = next() % 3;
                let values: Vec<u32> = (0..len)
                    .map(|i| match runs {
                        0 => (next() & max) as u32,
                        1 => ((i as u64 / 11) & max) as u32,
                        _ => ((next() % 3).min(max)) as u32,
                    })
                    .collect();
                assert_eq!(
                    encode(&values, width),
                    encode_bit_by_bit(&values, width),
                    "width {width} len {len}"
                );
                // values above the width keep only their low bits, as before
                let wide: Vec<u32> = values.iter().map(|v| v | (1 << 31)).collect();
                assert_eq!(encode(&wide, width), encode_bit_by_bit(&wide, width));
            }
        }
    }

    fn parquet_rle(values: &[u32], width: u8) -> Vec<u8> {
        let mut encoder = ParquetRle::new(width, Vec::new());
        values.iter().for_each(|v| encoder.put(*v));
        encoder.finish()
    }

    /// Streams worked out from the `parquet` crate's encoder (the chunk tests of `parquet_chunk` compare whole
    /// pages with the crate's own).
    #[test]
    fn parquet_rle_writes_the_crate_streams() {
        // fewer than 8 repeats at the end: a repeated run
        assert_eq!(parquet_rle(&[1; 5], 1), vec![10, 1]);
        // a short mixture: one bit-packed group padded with zeros
        assert_eq!(parquet_rle(&[1, 0, 1], 1), vec![3, 0b101]);
        assert_eq!(parquet_rle(&[1; 20], 1), vec![40, 1]);
        // a repeat that fills a group after a literal group: the literal run closes, the repeat is one run
        let mut v = vec![0, 1, 0, 1, 0, 1, 0, 1];
        v.extend([1; 12]);
        assert_eq!(parquet_rle(&v, 1), vec![3, 0b1010_1010, 24, 1]);
        // a repeat that starts inside a group stays bit-packed until a whole group repeats
        let mut v = vec![0, 0, 0, 0, 1, 1, 1, 1];
        v.extend([1; 8]);
        assert_eq!(parquet_rle(&v, 1), vec![3, 0b1111_0000, 16, 1]);
        // long literal stretches: 63 groups per run at most
        let literal: Vec<u32> = (0..1000).map(|i| i % 2).collect();
        let encoded = parquet_rle(&literal, 1);
        assert_eq!(encoded[0], (63 << 1) | 1);
        assert_eq!(decode(&encoded, 1, 1000).unwrap().0, literal);
        assert_eq!(parquet_rle(&[], 1), Vec::<u8>::new());
    }

    #[test]
    fn parquet_rle_round_trips_and_runs_equal_single_puts() {
        let mixed: Vec<u32> = (0..3000u32)
            .map(|i| if (i / 37) % 3 == 0 { 2 } else { (i * 7919) % 6 })
            .collect();
        for width in [3, 4, 9, 17, 32] {
            let encoded = parquet_rle(&mixed, width);
            assert_eq!(decode(&encoded, width, mixed.len()).unwrap().0, mixed);
        }
        // runs of (level, count) give the bytes of one put per level
        let runs = [
            (1, 3),
            (0, 1),
            (1, 40),
            (0, 9),
            (1, 1),
            (0, 8),
            (1, 2000),
            (0, 2),
        ];
        let single: Vec<u32> = runs
            .iter()
            .flat_map(|(v, n)| std::iter::repeat_n(*v, *n))
            .collect();
        let levels = levels_v1(runs, 1);
        let body = parquet_rle(&single, 1);
        assert_eq!(&levels[..4], &(body.len() as u32).to_le_bytes());
        assert_eq!(&levels[4..], &body[..]);
        assert_eq!(decode(&body, 1, single.len()).unwrap().0, single);
    }

    #[test]
    fn malformed_streams_are_errors() {
        assert_eq!(
            decode(&[20], 2, 10),
            Err(RleError::Truncated {
                expected: 10,
                read: 0
            })
        );
        assert_eq!(
            decode(&[20, 3], 2, 11),
            Err(RleError::Truncated {
                expected: 11,
                read: 10
            })
        );
        assert!(matches!(
            decode(&[3, 0], 3, 8),
            Err(RleError::Truncated { .. })
        ));
        assert_eq!(decode(&[2, 0], 33, 1), Err(RleError::BitWidth(33)));
        // a run header longer than 64 bits ends the data as read
        assert_eq!(
            decode(&[0xff; 12], 1, 1),
            Err(RleError::Truncated {
                expected: 1,
                read: 0
            })
        );
        // a zero-length run cannot loop forever
        assert_eq!(
            decode(&[0, 0, 0], 1, 1),
            Err(RleError::Truncated {
                expected: 1,
                read: 0
            })
        );
    }
}
