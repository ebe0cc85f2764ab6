//! Units of the published indicator values (the `unit` column) and how a value is written as text
//! ([`ValueFormat`], used by `comparison.csv`). One place for both: the unit is derived from the statistic and,
//! for counts, from what one record of the source table is ([`RECORDS`]); where it cannot be derived (means,
//! sums of a column, rates, counts of a table not listed) the catalogue entry declares it with `unit = "..."`,
//! checked by [`resolve`]. A value whose unit is [`YEAR`] is a calendar year and is written `2013`, never as a
//! quantity.

/// The unit of every share: a number from 0 to 1.
pub const PROPORTION: &str = "proportion";
/// The unit of a relative change (0.25 = 25% more than in the baseline period).
pub const RELATIVE_CHANGE: &str = "relative change";
/// The unit of a calendar year (e.g. the year of connection to a database).
pub const YEAR: &str = "year";
/// Longest declared unit.
const MAX_LEN: usize = 80;

/// What one record of a source table is, for the unit of a count (survey counts are population totals of
/// children: caregiver rows are estimated on the child design, one caregiver per child).
pub const RECORDS: [(&str, &str); 6] = [
    ("child_survey", "children"),
    ("caregiver_survey", "children"),
    ("frontline_survey", "people"),
    ("interview_register", "interviews"),
    ("interview_themes", "interviews"),
    ("police_cases", "cases"),
];

/// What the outputs need to know of one statistic (the value of the `statistic` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatisticKind {
    pub name: &'static str,
    /// The unit every value has (`None`: from the table's records for a count, else declared in the catalogue).
    pub unit: Option<&'static str>,
    /// How its values are written as text.
    pub format: ValueFormat,
    /// A codebook code whose label is in the `estimate_label` column (not a quantity).
    pub categorical: bool,
}

const fn kind(
    name: &'static str,
    unit: Option<&'static str>,
    format: ValueFormat,
) -> StatisticKind {
    StatisticKind {
        name,
        unit,
        format,
        categorical: false,
    }
}

/// The one registry of statistics of the indicator tables (survey and other families): a new statistic is one
/// entry here (and its computation).
pub const STATISTICS: [StatisticKind; 9] = [
    kind("proportion", Some(PROPORTION), ValueFormat::Proportion),
    kind("mean", None, ValueFormat::Decimal),
    kind("count", None, ValueFormat::Whole),
    kind(
        "unweighted_proportion",
        Some(PROPORTION),
        ValueFormat::Proportion,
    ),
    kind("share", Some(PROPORTION), ValueFormat::Proportion),
    kind("total", None, ValueFormat::Whole),
    kind("rate_per_10000", None, ValueFormat::Rate),
    kind("change", Some(RELATIVE_CHANGE), ValueFormat::Proportion),
    StatisticKind {
        categorical: true,
        ..kind("categorical", None, ValueFormat::Whole)
    },
];

/// The registry entry of a statistic.
pub fn statistic(name: &str) -> Option<&'static StatisticKind> {
    STATISTICS.iter().find(|s| s.name == name)
}

/// The unit of `statistic` (as named in the `statistic` column) over `table`, when it follows from them.
pub fn derived(statistic: &str, table: &str) -> Option<&'static str> {
    match self::statistic(statistic)? {
        StatisticKind { unit: Some(u), .. } => Some(u),
        StatisticKind { name: "count", .. } => {
            RECORDS.iter().find(|(t, _)| *t == table).map(|(_, u)| *u)
        }
        _ => None,
    }
}

/// The unit of an indicator: derived ([`derived`]) or declared in the catalogue. A declared unit must be one
/// line of at most 80 characters without braces, and may only restate a unit that can be derived. The error is
/// the message for the catalogue's `unit` key.
pub fn resolve(statistic: &str, table: &str, declared: Option<&str>) -> Result<String, String> {
    match (derived(statistic, table), declared) {
        (Some(d), None) => Ok(d.to_string()),
        (Some(d), Some(u)) if u == d => Ok(d.to_string()),
        (Some(d), Some(u)) => Err(format!(
            "is \"{u}\", but a {statistic} of `{table}` is in {d}; remove `unit`"
        )),
        (None, Some(u)) => check(u).map(|()| u.to_string()),
        (None, None) => Err(format!(
            "a {statistic} of `{table}` needs `unit`: what the value counts or measures (e.g. \"reports\", \
             \"reports per 10,000 internet-using children aged 12-17\", \"{YEAR}\")"
        )),
    }
}

fn check(unit: &str) -> Result<(), String> {
    if unit.trim().is_empty() {
        Err("must not be empty".into())
    } else if unit.trim() != unit {
        Err("must not start or end with spaces".into())
    } else if unit.chars().count() > MAX_LEN {
        Err(format!("is longer than {MAX_LEN} characters"))
    } else if unit.chars().any(|c| c.is_control() || c == '{' || c == '}') {
        Err("must be one line without `{` or `}`".into())
    } else {
        Ok(())
    }
}

fn statistic_format(name: &str) -> ValueFormat {
    statistic(name).map_or(ValueFormat::Decimal, |s| s.format)
}

/// How the values (estimate and interval) of a statistic are written as text: the same rule for every row of
/// a statistic, whatever the size of the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    /// Proportions, shares and relative changes: 4 decimals (`0.1250`).
    Proportion,
    /// Counts and totals: whole numbers without separators (`412345`).
    Whole,
    /// Calendar years: `2013`.
    Year,
    /// Rates: 1 decimal (`96.3`).
    Rate,
    /// Means and anything else: 2 decimals.
    Decimal,
}

impl ValueFormat {
    /// The format of a value of `statistic` in `unit` (a year whatever its statistic).
    pub fn of(statistic: &str, unit: &str) -> ValueFormat {
        if unit == YEAR {
            return ValueFormat::Year;
        }
        statistic_format(statistic)
    }

    /// `x` as text (`-0` is written `0`).
    pub fn text(self, x: f64) -> String {
        let s = match self {
            ValueFormat::Proportion => format!("{x:.4}"),
            ValueFormat::Whole | ValueFormat::Year => format!("{x:.0}"),
            ValueFormat::Rate => format!("{x:.1}"),
            ValueFormat::Decimal => format!("{x:.2}"),
        };
        if s.starts_with('-') && s[1..].bytes().all(|b| b == b'0' || b == b'.') {
            s[1..].to_string()
        } else {
            s
        }
    }

    /// The rule in words (for the legend of `comparison.csv`).
    pub fn describe(self) -> &'static str {
        match self {
            ValueFormat::Proportion => {
                "proportions, shares and relative changes: 4 decimals (0.1250 = 12.5%)"
            }
            ValueFormat::Whole => "counts and totals: whole numbers, no thousands separator",
            ValueFormat::Year => "years: the year as written (2013)",
            ValueFormat::Rate => "rates: 1 decimal",
            ValueFormat::Decimal => "means: 2 decimals",
        }
    }

    /// A value written in this format (for the legend).
    pub fn example(self) -> String {
        self.text(match self {
            ValueFormat::Proportion => 0.125,
            ValueFormat::Whole => 412_345.0,
            ValueFormat::Year => 2013.0,
            ValueFormat::Rate => 96.3,
            ValueFormat::Decimal => 2.35,
        })
    }

    /// Every format, in the order the legend lists them.
    pub const ALL: [ValueFormat; 5] = [
        ValueFormat::Proportion,
        ValueFormat::Whole,
        ValueFormat::Year,
        ValueFormat::Rate,
        ValueFormat::Decimal,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_from_the_statistic_and_the_table() {
        assert_eq!(derived("proportion", "child_survey"), Some(PROPORTION));
        assert_eq!(
            derived("unweighted_proportion", "frontline_survey"),
            Some(PROPORTION)
        );
        assert_eq!(derived("share", "police_cases"), Some(PROPORTION));
        assert_eq!(
            derived("change", "cybertipline_reports"),
            Some(RELATIVE_CHANGE)
        );
        assert_eq!(derived("count", "child_survey"), Some("children"));
        assert_eq!(derived("count", "caregiver_survey"), Some("children"));
        assert_eq!(derived("count", "police_cases"), Some("cases"));
        assert_eq!(derived("count", "icse_connection"), None);
        assert_eq!(derived("total", "cybertipline_reports"), None);
        assert_eq!(derived("mean", "child_survey"), None);
        assert_eq!(derived("rate_per_10000", "cybertipline_reports"), None);
        assert_eq!(derived("categorical", "legal_provisions"), None);
        assert_eq!(derived("nonsense", "child_survey"), None);
    }

    #[test]
    fn every_statistic_is_one_entry_of_the_registry() {
        let mut names: Vec<&str> = STATISTICS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), STATISTICS.len(), "names are unique");
        assert!(statistic("categorical").is_some_and(|s| s.categorical));
        assert_eq!(STATISTICS.iter().filter(|s| s.categorical).count(), 1);
        assert_eq!(ValueFormat::of("categorical", "status code").text(2.0), "2");
    }

    #[test]
    fn a_declared_unit_is_needed_where_none_follows_and_may_not_contradict_one() {
        assert_eq!(
            resolve("share", "police_cases", None).as_deref(),
            Ok(PROPORTION)
        );
        assert_eq!(
            resolve("share", "police_cases", Some("proportion")).as_deref(),
            Ok(PROPORTION)
        );
        let e = resolve("share", "police_cases", Some("cases")).unwrap_err();
        assert!(e.contains("remove `unit`"), "{e}");
        assert_eq!(
            resolve("total", "icse_connection", Some("year")).as_deref(),
            Ok(YEAR)
        );
        let e = resolve("total", "cybertipline_reports", None).unwrap_err();
        assert!(e.contains("needs `unit`"), "{e}");
        for (bad, why) in [
            ("", "must not be empty"),
            (" reports", "must not start or end with spaces"),
            ("a\nb", "must be one line"),
            ("{ref_first}", "must be one line"),
            (&"x".repeat(81), "is longer than 80 characters"),
        ] {
            let e = resolve("mean", "child_survey", Some(bad)).unwrap_err();
            assert!(e.starts_with(why), "{bad:?}: {e}");
        }
        assert!(resolve("mean", "child_survey", Some(&"x".repeat(80))).is_ok());
    }

    #[test]
    fn values_are_written_by_statistic_and_years_plainly() {
        assert_eq!(ValueFormat::of("total", YEAR), ValueFormat::Year);
        assert_eq!(ValueFormat::of("count", YEAR).text(2013.0), "2013");
        assert_eq!(
            ValueFormat::of("proportion", PROPORTION).text(0.125),
            "0.1250"
        );
        assert_eq!(
            ValueFormat::of("change", RELATIVE_CHANGE).text(-0.5),
            "-0.5000"
        );
        assert_eq!(ValueFormat::of("count", "children").text(12.0), "12");
        assert_eq!(
            ValueFormat::of("count", "children").text(412_345.4),
            "412345"
        );
        assert_eq!(ValueFormat::of("total", "reports").text(20_625.0), "20625");
        assert_eq!(
            ValueFormat::of("rate_per_10000", "reports").text(96.349),
            "96.3"
        );
        assert_eq!(ValueFormat::of("mean", "hours").text(2.345_6), "2.35");
        assert_eq!(ValueFormat::Proportion.text(-0.000_01), "0.0000");
        assert_eq!(ValueFormat::Whole.text(-0.2), "0");
    }
}
