//! Reading date cells: ISO `YYYY-MM-DD` by default ([`parse_iso_date`]), or the column's `date_format`
//! ([`CellDateFormat`], the strict strftime subset of [`dh_config::date_format`]). Both give days since 1970-01-01
//! of a real calendar day (proleptic Gregorian) or nothing.
//!
//! Matching a format is strict: the whole (trimmed) cell must match; `%Y` takes exactly four digits and `%y` two;
//! `%m`, `%d`, `%H`, `%M`, `%S` take one or two digits, or exactly two when a number directive is right next to them
//! (`%Y%m%d` reads `20210301` only); month names are English, any case; a time is checked (hour 0-23, minute and
//! second 0-59, `%S` with an optional fraction such as `30.9`) and dropped. A cell may leave out a time the format
//! ends with (`2021-03-04` for `%Y-%m-%d %H:%M:%S`): the readers write a typed date-time at midnight as the date
//! alone, and the time is dropped anyway. Time zones, weekday names and other languages are not read.

use dh_config::calendar;
use dh_config::date_format::{DateFormat, DateItem};

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A compiled `date_format` with the digit width each number directive takes.
#[derive(Debug, Clone)]
pub struct CellDateFormat {
    format: DateFormat,
    /// Per item: (fewest, most) digits for number items; unused for the others.
    widths: Vec<(usize, usize)>,
    /// Index of the first item of the time the format ends with (the separator after the last date item), when
    /// it ends with one: a cell may stop there.
    time_from: Option<usize>,
}

impl CellDateFormat {
    pub fn new(format: DateFormat) -> Self {
        let items = format.items();
        let widths = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let most = match item {
                    DateItem::Year => 4,
                    _ => 2,
                };
                let beside_number = (i > 0 && items[i - 1].is_number())
                    || items.get(i + 1).is_some_and(|n| n.is_number());
                let fewest = if matches!(item, DateItem::Year | DateItem::Year2) || beside_number {
                    most
                } else {
                    1
                };
                (fewest, most)
            })
            .collect();
        let time_from = trailing_time(items);
        CellDateFormat {
            format,
            widths,
            time_from,
        }
    }

    /// The format as written in the config.
    pub fn as_str(&self) -> &str {
        self.format.as_str()
    }

    /// 31 December 2021 written in this format, for messages.
    pub fn example(&self) -> String {
        self.format.example()
    }

    /// Days since 1970-01-01 of a cell written in this format, if it matches and names a real day.
    pub fn parse(&self, cell: &str) -> Option<i32> {
        let mut rest = cell;
        let (mut year, mut month, mut day) = (None, None, None);
        let items = self.format.items();
        for (i, (item, &(fewest, most))) in items.iter().zip(&self.widths).enumerate() {
            if rest.is_empty() && self.time_from == Some(i) {
                break;
            }
            match *item {
                DateItem::Literal(c) => rest = rest.strip_prefix(c)?,
                DateItem::MonthAbbr | DateItem::MonthName => {
                    let (m, after) = month_name(rest, matches!(item, DateItem::MonthAbbr))?;
                    month = Some(m);
                    rest = after;
                }
                number => {
                    let digits = rest
                        .bytes()
                        .take(most)
                        .take_while(u8::is_ascii_digit)
                        .count();
                    if digits < fewest {
                        return None;
                    }
                    let value: i64 = rest[..digits].parse().ok()?;
                    rest = &rest[digits..];
                    match number {
                        DateItem::Year => year = Some(value),
                        DateItem::Year2 => {
                            year = Some(if value >= 69 { 1900 } else { 2000 } + value)
                        }
                        DateItem::Month => month = Some(value),
                        DateItem::Day => day = Some(value),
                        DateItem::Hour if value > 23 => return None,
                        DateItem::Minute | DateItem::Second if value > 59 => return None,
                        _ => {}
                    }
                    if number == DateItem::Second
                        && items.get(i + 1) != Some(&DateItem::Literal('.'))
                    {
                        rest = skip_fraction(rest);
                    }
                }
            }
        }
        if !rest.is_empty() {
            return None;
        }
        days_from_civil(year?, month?, day?)
    }
}

/// Where the time a format ends with starts: the item after the last date directive, when every item from there
/// on is a time directive or a separator and there is an hour among them.
fn trailing_time(items: &[DateItem]) -> Option<usize> {
    let last_date = items.iter().rposition(|item| {
        matches!(
            item,
            DateItem::Year
                | DateItem::Year2
                | DateItem::Month
                | DateItem::MonthAbbr
                | DateItem::MonthName
                | DateItem::Day
        )
    })?;
    let time = &items[last_date + 1..];
    let only_time = time.iter().all(|item| {
        matches!(
            item,
            DateItem::Hour | DateItem::Minute | DateItem::Second | DateItem::Literal(_)
        )
    });
    (only_time && time.contains(&DateItem::Hour)).then_some(last_date + 1)
}

/// `rest` after a fraction of a second (`.9`, `.250`) at its start, if any: typed date-times come with one
/// (SPSS, Excel), and the time is dropped anyway.
fn skip_fraction(rest: &str) -> &str {
    let Some(after) = rest.strip_prefix('.') else {
        return rest;
    };
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 { rest } else { &after[digits..] }
}

/// An English month name (full, or its first three letters when `abbreviated`) at the start of `text`, any case.
fn month_name(text: &str, abbreviated: bool) -> Option<(i64, &str)> {
    MONTHS.iter().enumerate().find_map(|(i, name)| {
        let name = if abbreviated { &name[..3] } else { name };
        let head = text.get(..name.len())?;
        head.eq_ignore_ascii_case(name)
            .then(|| (i as i64 + 1, &text[name.len()..]))
    })
}

/// Days since 1970-01-01 of an ISO date `YYYY-MM-DD` (proleptic Gregorian), checked for a real calendar day.
pub fn parse_iso_date(text: &str) -> Option<i32> {
    let mut parts = text.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    days_from_civil(y, m, d)
}

/// Days since 1970-01-01 of year `y` (1-9999), month `m`, day `d`, if that day exists.
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i32> {
    let (m, d) = (u32::try_from(m).ok()?, u32::try_from(d).ok()?);
    if !(1..=9999).contains(&y) || !calendar::is_real_day(y, m, d) {
        return None;
    }
    i32::try_from(calendar::days_from_civil(y, m, d)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(text: &str) -> CellDateFormat {
        CellDateFormat::new(DateFormat::compile(text).unwrap())
    }

    /// 2021-03-01 and 2021-12-31 as days since 1970-01-01.
    const MAR_1: i32 = 18687;
    const DEC_31: i32 = 18992;

    #[test]
    fn iso_dates_are_checked_calendar_days() {
        assert_eq!(parse_iso_date("1970-01-01"), Some(0));
        assert_eq!(parse_iso_date("2021-03-01"), Some(MAR_1));
        assert_eq!(parse_iso_date("2020-02-29"), Some(18321));
        assert_eq!(parse_iso_date("2021-02-29"), None);
        assert_eq!(parse_iso_date("2021-13-01"), None);
        assert_eq!(parse_iso_date("01/02/2021"), None);
    }

    #[test]
    fn each_supported_format_reads_its_cells() {
        for (f, cell, expected) in [
            ("%d/%m/%Y", "01/03/2021", MAR_1),
            ("%d/%m/%Y", "1/3/2021", MAR_1),
            ("%m/%d/%Y", "03/01/2021", MAR_1),
            ("%m/%d/%Y", "12/31/2021", DEC_31),
            ("%d.%m.%Y", "31.12.2021", DEC_31),
            ("%Y%m%d", "20210301", MAR_1),
            ("%d-%b-%Y", "01-Mar-2021", MAR_1),
            ("%d-%b-%Y", "31-DEC-2021", DEC_31),
            ("%d %B %Y", "1 march 2021", MAR_1),
            ("%d/%m/%y", "01/03/21", MAR_1),
            ("%d/%m/%Y %H:%M", "31/12/2021 23:59", DEC_31),
            ("%d/%m/%Y %H:%M:%S", "01/03/2021 9:05:00", MAR_1),
            ("%Y-%m-%dT%H:%M:%S", "2021-03-01T00:00:00", MAR_1),
            ("%Y-%m-%d %H:%M:%S", "2021-03-01 10:20:30.9", MAR_1),
            ("%S.%d/%m/%Y %H:%M", "30.01/03/2021 10:20", MAR_1),
        ] {
            assert_eq!(format(f).parse(cell), Some(expected), "{f} {cell}");
        }
        assert_eq!(
            format("%d/%m/%y").parse("01/03/69"),
            parse_iso_date("1969-03-01")
        );
        assert_eq!(
            format("%d/%m/%y").parse("01/03/68"),
            parse_iso_date("2068-03-01")
        );
    }

    /// Issue 10 (found by the corpus run test): the readers write a typed date-time at midnight as the date alone
    /// (`2021-03-04`), so with the README's `%Y-%m-%d %H:%M:%S` every midnight instant was quarantined.
    #[test]
    fn a_cell_may_leave_out_the_time_the_format_ends_with() {
        for (f, cell) in [
            ("%Y-%m-%d %H:%M:%S", "2021-03-01"),
            ("%Y-%m-%dT%H:%M:%S", "2021-03-01"),
            ("%d/%m/%Y %H:%M", "01/03/2021"),
            ("%d/%m/%Y %H:%M", "01/03/2021 00:00"),
        ] {
            assert_eq!(format(f).parse(cell), Some(MAR_1), "{f} {cell}");
        }
        assert_eq!(trailing_time(format("%d/%m/%Y").format.items()), None);
        assert_eq!(trailing_time(format("%H:%M %d/%m/%Y").format.items()), None);
        assert_eq!(
            trailing_time(format("%Y-%m-%d %H:%M:%S").format.items()),
            Some(5)
        );
    }

    #[test]
    fn cells_that_do_not_match_exactly_are_refused() {
        for (f, cell) in [
            ("%d/%m/%Y", "2021-03-01"),
            ("%d/%m/%Y", "31/02/2021"),
            ("%d/%m/%Y", "01/13/2021"),
            ("%m/%d/%Y", "31/12/2021"),
            ("%d/%m/%Y", "01/03/21"),
            ("%d/%m/%Y", "01/03/2021x"),
            ("%d/%m/%Y", "01-03-2021"),
            ("%d/%m/%Y", "001/03/2021"),
            ("%d/%m/%Y", ""),
            ("%Y%m%d", "2021031"),
            ("%Y%m%d", "202103011"),
            ("%d-%b-%Y", "01-Mrz-2021"),
            ("%d-%b-%Y", "01-March-2021"),
            ("%d %B %Y", "01 Mar 2021"),
            ("%d/%m/%Y %H:%M", "01/03/2021 "),
            ("%d/%m/%Y %H:%M", "01/03/2021 10"),
            ("%d/%m/%Y %H:%M", "01/03/2021 24:00"),
            ("%d/%m/%Y %H:%M", "01/03/20"),
            ("%H:%M %d/%m/%Y", "01/03/2021"),
            ("%d/%m/%Y %H:%M:%S", "01/03/2021 10:60:00"),
            ("%d/%m/%Y %H:%M:%S", "01/03/2021 10:20:30."),
            ("%d/%m/%Y %H:%M:%S", "01/03/2021 10:20:30.5x"),
            ("%d/%m/%Y", "０1/03/2021"),
            ("%d-%b-%Y", "01-Mä-2021"),
        ] {
            assert_eq!(format(f).parse(cell), None, "{f} {cell}");
        }
    }
}
