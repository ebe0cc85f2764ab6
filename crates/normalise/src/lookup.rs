//! Source code -> target index lookup, built once per source column so that each cell costs one comparison scan
//! (few codes) or one hash probe (many codes), with no allocation.
//!
//! Matching is on the trimmed cell text first; if that fails and the cell is a number, it is compared numerically
//! with the numeric codes, so `"01"`, `"1.0"` and `"1"` all match the code `"1"` (SPSS and Excel deliveries often
//! write codes as decimals). Non-numeric codes (`"NS"`, `"Y"`) match exactly.

use std::collections::HashMap;

use crate::cells::pack;

/// Above this many codes a hash map is used instead of a linear scan.
const SCAN_LIMIT: usize = 24;

#[derive(Debug, Clone, Default)]
pub struct CodeLookup<T: Copy> {
    exact: Vec<(Box<str>, T)>,
    /// Codes of at most 7 bytes packed into integers ([`pack`]), scanned without calling `memcmp`.
    short: Vec<(u64, T)>,
    exact_map: Option<HashMap<Box<str>, T>>,
    numeric: Vec<(f64, T)>,
}

impl<T: Copy> CodeLookup<T> {
    /// Builds a lookup; the first entry wins when two codes are equal after trimming.
    pub fn new(entries: impl IntoIterator<Item = (String, T)>) -> Self {
        let mut exact: Vec<(Box<str>, T)> = Vec::new();
        let mut numeric = Vec::new();
        for (code, target) in entries {
            let code = code.trim();
            if exact.iter().any(|(c, _)| &**c == code) {
                continue;
            }
            if let Some(x) = parse_number(code) {
                numeric.push((x, target));
            }
            exact.push((code.into(), target));
        }
        let exact_map = (exact.len() > SCAN_LIMIT).then(|| exact.iter().cloned().collect());
        let short = exact
            .iter()
            .filter_map(|(c, t)| pack(c).map(|p| (p, *t)))
            .collect();
        CodeLookup {
            exact,
            short,
            exact_map,
            numeric,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    /// The target of a (trimmed) cell, if its code is known.
    pub fn get(&self, cell: &str) -> Option<T> {
        let found = match (&self.exact_map, pack(cell)) {
            (Some(map), _) => map.get(cell).copied(),
            (None, Some(packed)) => self
                .short
                .iter()
                .find(|(p, _)| *p == packed)
                .map(|(_, t)| *t),
            (None, None) => self
                .exact
                .iter()
                .find(|(c, _)| &**c == cell)
                .map(|(_, t)| *t),
        };
        if found.is_some() || self.numeric.is_empty() {
            return found;
        }
        let x = parse_number(cell)?;
        self.numeric.iter().find(|(c, _)| *c == x).map(|(_, t)| *t)
    }
}

/// A finite number, or `None`. Empty text is not a number.
pub fn parse_number(text: &str) -> Option<f64> {
    let first = *text.as_bytes().first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    text.parse::<f64>().ok().filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_numeric_matching() {
        let l = CodeLookup::new([
            ("1".to_string(), 0u16),
            ("2".into(), 1),
            ("NS".into(), 2),
            ("".into(), 3),
        ]);
        assert_eq!(l.get("1"), Some(0));
        assert_eq!(l.get("1.0"), Some(0));
        assert_eq!(l.get("01"), Some(0));
        assert_eq!(l.get("NS"), Some(2));
        assert_eq!(l.get("ns"), None);
        assert_eq!(l.get(""), Some(3));
        assert_eq!(l.get("3"), None);
        assert_eq!(l.get("inf"), None);
    }

    #[test]
    fn many_codes_use_the_map_and_agree_with_the_scan() {
        let entries: Vec<(String, u16)> = (0..100u16).map(|i| (i.to_string(), i)).collect();
        let l = CodeLookup::new(entries);
        for i in 0..100u16 {
            assert_eq!(l.get(&i.to_string()), Some(i));
            assert_eq!(l.get(&format!("{i}.0")), Some(i));
        }
        assert_eq!(l.get("100"), None);
    }

    #[test]
    fn short_and_long_codes_do_not_collide() {
        let l = CodeLookup::new([
            ("a".to_string(), 0u8),
            ("a\0".into(), 1),
            ("abcdefgh".into(), 2),
            ("".into(), 3),
        ]);
        assert_eq!(l.get("a"), Some(0));
        assert_eq!(l.get("a\0"), Some(1));
        assert_eq!(l.get("abcdefgh"), Some(2));
        assert_eq!(l.get("abcdefg"), None);
        assert_eq!(l.get(""), Some(3));
    }

    #[test]
    fn parse_number_rejects_text() {
        assert_eq!(parse_number("12"), Some(12.0));
        assert_eq!(parse_number("-1"), Some(-1.0));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("1e400"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("x1"), None);
    }
}
