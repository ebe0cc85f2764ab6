//! Checks of the `[country]` section: non-empty names, ISO dates, fieldwork window order.

use crate::calendar;
use crate::country::CountryConfig;
use crate::diagnostic::Diagnostic;

pub(super) fn check(config: &CountryConfig, out: &mut Vec<Diagnostic>) {
    let loc = &config.locations;
    let meta = &config.country;
    for (key, value) in [("name", &meta.name), ("region", &meta.region)] {
        if value.trim().is_empty() {
            out.push(loc.error(
                &["country", key],
                format!("`country.{key}` is empty; give the {key}"),
            ));
        }
    }
    let mut dates = Vec::new();
    for (key, value) in [
        ("fieldwork_start", &meta.fieldwork_start),
        ("fieldwork_end", &meta.fieldwork_end),
        ("report_launch", &meta.report_launch),
    ] {
        if key == "report_launch" && value.is_empty() {
            continue;
        }
        match parse_date(value) {
            Some(d) => dates.push((key, d)),
            None => out.push(loc.error(
                &["country", key],
                format!("`{value}` is not a date; write it as YYYY-MM-DD (e.g. 2021-03-01)"),
            )),
        }
    }
    let get = |k: &str| dates.iter().find(|(key, _)| *key == k).map(|(_, d)| *d);
    if let (Some(start), Some(end)) = (get("fieldwork_start"), get("fieldwork_end"))
        && start > end
    {
        out.push(loc.error(
            &["country", "fieldwork_end"],
            "fieldwork ends before it starts; swap or fix the dates",
        ));
    }
}

/// The day count of a `YYYY-MM-DD` text that is a real calendar day ([`calendar::iso_date_days`]); comparable.
pub(super) fn parse_date(s: &str) -> Option<i64> {
    calendar::iso_date_days(s)
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates() {
        assert_eq!(parse_date("2021-03-01"), Some(18_687));
        assert_eq!(parse_date("2021-02-29"), None);
        assert!(parse_date("2020-02-29") < parse_date("2020-03-01"));
        assert_eq!(parse_date("2021-10"), None);
        assert_eq!(parse_date("21-10-01"), None);
        assert_eq!(parse_date("+202-10-01"), None);
    }
}
