//! Calendar dates in the three epochs involved: Arrow/Parquet `date32` (days since 1970-01-01), Stata `%td` (days
//! since 1960-01-01) and SPSS (seconds since 1582-10-14, the start of the Gregorian calendar). Only the epoch
//! shifts live here (day counts need no calendar); they are checked against the workspace's one calendar,
//! `dh_config::calendar`.

/// Days from 1960-01-01 to 1970-01-01.
pub const STATA_EPOCH_OFFSET_DAYS: i32 = 3_653;
/// Days from 1582-10-14 to 1970-01-01.
pub const SPSS_EPOCH_OFFSET_DAYS: i64 = 141_428;

/// Stata `%td` value of a date given as days since 1970-01-01.
pub fn stata_days(unix_days: i32) -> i32 {
    unix_days + STATA_EPOCH_OFFSET_DAYS
}

/// SPSS date value (seconds since 1582-10-14) of a date given as days since 1970-01-01.
pub fn spss_seconds(unix_days: i32) -> f64 {
    (i64::from(unix_days) + SPSS_EPOCH_OFFSET_DAYS) as f64 * 86_400.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs() {
        // 1970-01-01
        assert_eq!(stata_days(0), 3_653);
        assert_eq!(spss_seconds(0), 12_219_379_200.0);
        // 1960-01-01 is Stata's day 0; 1582-10-14 is SPSS's second 0.
        assert_eq!(stata_days(-3_653), 0);
        assert_eq!(spss_seconds(-141_428), 0.0);
        // 2021-03-28 = 18,714 days after 1970-01-01 (Stata: td(28mar2021) = 22,367).
        assert_eq!(stata_days(18_714), 22_367);
        assert_eq!(spss_seconds(18_714), 13_836_268_800.0);
    }

    #[test]
    fn epoch_shifts_are_the_calendars() {
        use dh_config::calendar::days_from_civil;
        assert_eq!(
            i64::from(STATA_EPOCH_OFFSET_DAYS),
            -days_from_civil(1960, 1, 1)
        );
        assert_eq!(SPSS_EPOCH_OFFSET_DAYS, -days_from_civil(1582, 10, 14));
        let day = dh_config::calendar::iso_date_days("2021-03-28").unwrap();
        assert_eq!(
            i64::from(stata_days(day as i32)),
            day - days_from_civil(1960, 1, 1)
        );
    }
}
