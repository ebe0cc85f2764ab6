//! Date layouts of a variable's text values, for proposing a column's `date_format`: ISO `YYYY-MM-DD` (needs none),
//! `DD/MM/YYYY` or `MM/DD/YYYY` (told apart by a number above 12, else ambiguous), with `/`, `.` or `-` between,
//! `YYYY/MM/DD`, `YYYY.MM.DD` and `YYYYMMDD`.

/// How a variable's text values write dates, when they all do in one layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateLayout {
    /// Not dates (or mixed layouts).
    #[default]
    None,
    /// ISO `YYYY-MM-DD`: no `date_format` needed.
    Iso,
    /// One strftime layout fits every value (`%d/%m/%Y` when some first number is above 12).
    Format(&'static str),
    /// Day-first and month-first both fit (no number above 12): the skeleton asks.
    Ambiguous(&'static str, &'static str),
}

/// The date layout every value fits: ISO, `DD/MM/YYYY` or `MM/DD/YYYY` (told apart by a number above 12; `/`, `.`
/// or `-` between), `YYYY/MM/DD`, `YYYYMMDD`. [`DateLayout::None`] when a value fits none or layouts are mixed.
pub fn date_layout<'a>(values: impl Iterator<Item = &'a str>) -> DateLayout {
    let mut seen = DateLayout::None;
    let (mut first_over_12, mut second_over_12) = (false, false);
    let mut any = false;
    for v in values {
        any = true;
        let this = if is_iso_date(v) {
            DateLayout::Iso
        } else if let Some(f) = compact_date(v) {
            DateLayout::Format(f)
        } else if let Some((f, a, b)) = numeric_date(v) {
            first_over_12 |= a > 12;
            second_over_12 |= b > 12;
            DateLayout::Format(f)
        } else {
            return DateLayout::None;
        };
        match (seen, this) {
            (DateLayout::None, t) => seen = t,
            (s, t) if s == t => {}
            _ => return DateLayout::None,
        }
    }
    if !any {
        return DateLayout::None;
    }
    let DateLayout::Format(f) = seen else {
        return seen;
    };
    let Some(sep) = f.strip_prefix("%d").and_then(|r| r.chars().next()) else {
        return seen;
    };
    let (dmy, mdy) = match sep {
        '/' => ("%d/%m/%Y", "%m/%d/%Y"),
        '.' => ("%d.%m.%Y", "%m.%d.%Y"),
        _ => ("%d-%m-%Y", "%m-%d-%Y"),
    };
    match (first_over_12, second_over_12) {
        (true, false) => DateLayout::Format(dmy),
        (false, true) => DateLayout::Format(mdy),
        (false, false) => DateLayout::Ambiguous(dmy, mdy),
        (true, true) => DateLayout::None,
    }
}

/// `YYYYMMDD` (year 1900-2100) or `YYYY/MM/DD`, `YYYY.MM.DD`.
fn compact_date(v: &str) -> Option<&'static str> {
    let b = v.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = v.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d, f) = match b.len() {
        8 => (digits(0..4)?, digits(4..6)?, digits(6..8)?, "%Y%m%d"),
        10 if b[4] == b[7] && (b[4] == b'/' || b[4] == b'.') => (
            digits(0..4)?,
            digits(5..7)?,
            digits(8..10)?,
            if b[4] == b'/' { "%Y/%m/%d" } else { "%Y.%m.%d" },
        ),
        _ => return None,
    };
    ((1900..=2100).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)).then_some(f)
}

/// `D/M/YYYY`-like: two numbers of one or two digits and a four-digit year, `/`, `.` or `-` between; the layout
/// (day first until decided) and the two numbers.
fn numeric_date(v: &str) -> Option<(&'static str, u32, u32)> {
    let sep = v.chars().find(|c| matches!(c, '/' | '.' | '-'))?;
    let parts: Vec<&str> = v.split(sep).collect();
    let [a, b, y] = parts.as_slice() else {
        return None;
    };
    let small = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())?
    };
    let (a, b) = (small(a)?, small(b)?);
    let year_ok = y.len() == 4 && y.bytes().all(|c| c.is_ascii_digit());
    if !year_ok || a == 0 || b == 0 || a > 31 || b > 31 {
        return None;
    }
    let f = match sep {
        '/' => "%d/%m/%Y",
        '.' => "%d.%m.%Y",
        _ => "%d-%m-%Y",
    };
    Some((f, a, b))
}

pub use dh_config::calendar::is_iso_date;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_layouts_decided_by_numbers_above_12() {
        let d = |v: &[&str]| date_layout(v.iter().copied());
        assert_eq!(
            d(&["31/01/2025", "02/03/2025"]),
            DateLayout::Format("%d/%m/%Y")
        );
        assert_eq!(
            d(&["01/31/2025", "02/03/2025"]),
            DateLayout::Format("%m/%d/%Y")
        );
        assert_eq!(
            d(&["01/02/2025", "3/4/2025"]),
            DateLayout::Ambiguous("%d/%m/%Y", "%m/%d/%Y")
        );
        assert_eq!(
            d(&["13.01.2025", "2.3.2025"]),
            DateLayout::Format("%d.%m.%Y")
        );
        assert_eq!(d(&["20250131", "20250201"]), DateLayout::Format("%Y%m%d"));
        assert_eq!(d(&["2025/01/31"]), DateLayout::Format("%Y/%m/%d"));
        assert_eq!(d(&["2025-01-31"]), DateLayout::Iso);
        assert_eq!(d(&["31/01/2025", "2025-01-31"]), DateLayout::None);
        assert_eq!(d(&["13/13/2025"]), DateLayout::None);
        assert_eq!(d(&["12345678", "1"]), DateLayout::None);
        assert_eq!(d(&["1.5", "2.25"]), DateLayout::None);
        assert_eq!(d(&[]), DateLayout::None);
    }
}
