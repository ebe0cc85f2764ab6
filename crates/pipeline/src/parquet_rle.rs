//! The RLE / bit-packed hybrid encoding of Parquet (definition levels, dictionary indices): decoding and a
//! deterministic encoder, used by [`crate::parquet_dict`] to remap the indices of dictionary-encoded pages.
//!
//! A stream is a sequence of runs, each starting with a ULEB128 header: an even header `n << 1` is a repeated run
//! (`n` copies of one value stored in `ceil(bit_width / 8)` little-endian bytes); an odd header `(g << 1) | 1` is a
//! bit-packed run of `g` groups of 8 values, `bit_width` bits each, least significant bit first.

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
    let width = bit_width.min(32) as usize;
    let mut out = Vec::with_capacity(values.len() * width / 8 + 16);
    let mut i = 0;
    while i < values.len() {
        let run = repeat_len(values, i, usize::MAX);
        if run >= MIN_REPEAT {
            write_uleb(&mut out, (run as u64) << 1);
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
        write_uleb(&mut out, ((groups as u64) << 1) | 1);
        let mut packed = vec![0u8; groups * width];
        for (k, v) in values[start..i.min(values.len())].iter().enumerate() {
            write_bits(&mut packed, k * width, width, *v);
        }
        out.extend_from_slice(&packed);
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

fn write_bits(bytes: &mut [u8], start: usize, width: usize, value: u32) {
    for b in 0..width {
        if value >> b & 1 == 1 {
            let bit = start + b;
            if let Some(byte) = bytes.get_mut(bit / 8) {
                *byte |= 1 << (bit % 8);
            }
        }
    }
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
