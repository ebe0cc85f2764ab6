//! Proleptic Gregorian calendar arithmetic shared by every crate that turns dates into day counts or back (readers,
//! normalisation, `dh synth`, the run log): day counts since 1970-01-01 (Howard Hinnant's algorithms), real
//! calendar days, and an ISO `YYYY-MM-DD` text read ([`iso_date_days`]) or written ([`write_iso_date`],
//! [`iso_date`]). One implementation, so a date means the same day whichever stage reads or writes it; a test
//! checks it against `chrono` over eight centuries.

use std::fmt;

/// (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day count since 1970-01-01 of (year, month, day); the inverse of [`civil_from_days`] for real days (out-of-range
/// months and days are not checked here: see [`is_real_day`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether `year` is a leap year.
pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Whether (year, month, day) is a day of the calendar (month 1-12, day within the month).
pub fn is_real_day(year: i64, month: u32, day: u32) -> bool {
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

/// Whether `text` has the shape `YYYY-MM-DD` (ten characters, digits and two dashes); see [`iso_date_days`] for a
/// checked day.
pub fn is_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Day count since 1970-01-01 of an ISO date `YYYY-MM-DD` that is a real calendar day.
pub fn iso_date_days(text: &str) -> Option<i64> {
    if !is_iso_date(text) {
        return None;
    }
    let year: i64 = text[..4].parse().ok()?;
    let month: u32 = text[5..7].parse().ok()?;
    let day: u32 = text[8..].parse().ok()?;
    is_real_day(year, month, day).then(|| days_from_civil(year, month, day))
}

/// Writes the ISO date `YYYY-MM-DD` of a day count since 1970-01-01 (years below 1000 zero-padded, the inverse
/// of [`iso_date_days`] for years 0-9999).
pub fn write_iso_date(out: &mut impl fmt::Write, days: i64) -> fmt::Result {
    let (y, m, d) = civil_from_days(days);
    write!(out, "{y:04}-{m:02}-{d:02}")
}

/// The ISO date `YYYY-MM-DD` of a day count since 1970-01-01 ([`write_iso_date`]).
pub fn iso_date(days: i64) -> String {
    let mut out = String::with_capacity(10);
    let _ = write_iso_date(&mut out, days);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_counts_round_trip_over_four_centuries() {
        for days in (-146_097 * 3)..(146_097 * 2) {
            let (y, m, d) = civil_from_days(days);
            assert!(is_real_day(y, m, d), "{days}");
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(18_690), (2021, 3, 4));
        assert_eq!(civil_from_days(-141_428), (1582, 10, 14));
    }

    #[test]
    fn iso_dates_are_checked_for_shape_and_day() {
        assert_eq!(iso_date_days("2021-03-04"), Some(18_690));
        assert_eq!(
            iso_date_days("2020-02-29"),
            Some(days_from_civil(2020, 2, 29))
        );
        assert_eq!(iso_date_days("2021-02-29"), None);
        assert_eq!(iso_date_days("1900-02-29"), None);
        assert_eq!(
            iso_date_days("2000-02-29"),
            Some(days_from_civil(2000, 2, 29))
        );
        assert_eq!(iso_date_days("2021-13-01"), None);
        assert_eq!(iso_date_days("2021-3-4"), None);
        assert!(is_iso_date("0000-00-00") && !is_iso_date("2021/03/04"));
    }

    #[test]
    fn iso_dates_are_written_and_read_back() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(18_690), "2021-03-04");
        assert_eq!(iso_date(-141_428), "1582-10-14");
        assert_eq!(iso_date(days_from_civil(99, 1, 2)), "0099-01-02");
        for days in (-719_528..2_932_897).step_by(997) {
            assert_eq!(iso_date_days(&iso_date(days)), Some(days), "{days}");
        }
    }

    #[test]
    fn agrees_with_chrono_over_eight_centuries() {
        use chrono::{Datelike, NaiveDate, TimeDelta};
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for days in (-146_097 * 2)..(146_097 * 2) {
            let date = epoch + TimeDelta::days(days);
            let year = i64::from(date.year());
            assert_eq!(
                civil_from_days(days),
                (year, date.month(), date.day()),
                "{days}"
            );
            assert_eq!(
                iso_date(days),
                date.format("%Y-%m-%d").to_string(),
                "{days}"
            );
            let leap = NaiveDate::from_ymd_opt(date.year(), 2, 29).is_some();
            assert_eq!(is_leap(year), leap, "{days}");
        }
    }
}
