//! Checks of the `[country]` section: non-empty names, ISO dates, fieldwork window order.

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

/// Parses `YYYY-MM-DD` into a comparable (year, month, day).
pub(super) fn parse_date(s: &str) -> Option<(u32, u32, u32)> {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return None;
    }
    let y: u32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let d: u32 = parts[2].parse().ok()?;
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&d).then_some((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates() {
        assert_eq!(parse_date("2021-03-01"), Some((2021, 3, 1)));
        assert_eq!(parse_date("2021-02-29"), None);
        assert_eq!(parse_date("2020-02-29"), Some((2020, 2, 29)));
        assert_eq!(parse_date("2021-10"), None);
        assert_eq!(parse_date("21-10-01"), None);
    }
}
