//! How numbers are written in the report and its charts: percentages, counts with thousands separators, the
//! rounded population estimate ("about 400,000"), the status text of withheld estimates and the labels of codes
//! (domains and their values: "Government duty bearer", not `government_duty_bearer`). One place, so the pages,
//! the charts and the tests that compare them with the indicator table agree.

/// `1234567` -> `"1,234,567"` (rounded to an integer first).
pub fn thousands(x: f64) -> String {
    let rounded = x.round();
    let negative = rounded < 0.0;
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if negative && out != "0" {
        format!("-{out}")
    } else {
        out
    }
}

/// A proportion as a percentage with one decimal: `0.0912` -> `"9.1%"`.
pub fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// How the values of a statistic are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Shares and relative changes: `9.1%`.
    Percent,
    /// Counts and totals: `1,234`.
    Whole,
    /// Means and rates: `2.35`.
    Decimal,
    /// Calendar years: `2013`, never `2,013`.
    Year,
}

/// The scale of a statistic named as in the catalogues (survey and other families).
pub fn scale_of(statistic: &str) -> Scale {
    match statistic {
        "proportion" | "unweighted_proportion" | "share" | "change" => Scale::Percent,
        "count" | "total" => Scale::Whole,
        "year" => Scale::Year,
        _ => Scale::Decimal,
    }
}

/// A value of a statistic: shares as percentages, counts as whole numbers, means and rates with two decimals,
/// years as written on a calendar.
pub fn statistic_value(statistic: &str, x: f64) -> String {
    match scale_of(statistic) {
        Scale::Percent => percent(x),
        Scale::Whole => thousands(x),
        Scale::Decimal => format!("{x:.2}"),
        Scale::Year => format!("{:.0}", x.round()),
    }
}

/// A population figure rounded to two significant digits, as the country reports write it:
/// `412_345.0` -> `"about 410,000"`; below 100 the whole number.
pub fn about(x: f64) -> String {
    if !x.is_finite() {
        return "not available".into();
    }
    let abs = x.abs();
    if abs < 100.0 {
        return format!("about {}", thousands(x));
    }
    let magnitude = 10f64.powi(abs.log10().floor() as i32 - 1);
    format!("about {}", thousands((x / magnitude).round() * magnitude))
}

/// Status text of an estimate that is not drawn.
pub fn withheld_text(flag: &str, suppress_below: u32) -> String {
    match flag {
        "suppressed" => format!("suppressed (n < {suppress_below})"),
        "not_collected" => "not collected".into(),
        "suppressed_small_count" => "<5".into(),
        other => format!("not published ({other})"),
    }
}

/// Words with a fixed spelling (acronyms, names) wherever they appear in a code.
const SPELLINGS: [(&str, &str); 7] = [
    ("cybertipline", "CyberTipline"),
    ("ngo", "NGO"),
    ("csam", "CSAM"),
    ("ocsea", "OCSEA"),
    ("icse", "ICSE"),
    ("ict", "ICT"),
    ("un", "UN"),
];

/// Codes whose words alone do not read well.
const PHRASES: [(&str, &str); 3] = [
    ("urban_rural", "Urban / rural"),
    ("faith_based", "Faith-based"),
    (
        "trafficking_sexual_purposes",
        "Trafficking for sexual purposes",
    ),
];

/// The label of a code (a domain or a domain value) as the report prints it: words separated by spaces, the
/// first capitalised, acronyms in capitals (`government_duty_bearer` -> "Government duty bearer", `ngo` ->
/// "NGO", `csam_offence` -> "CSAM offence"). Values without letters stay as they are ("12-13", "2019"), and so
/// does an empty code. The one humaniser of the report and the workbook.
pub fn humanise(code: &str) -> String {
    if let Some((_, phrase)) = PHRASES.iter().find(|(c, _)| *c == code) {
        return (*phrase).to_string();
    }
    if !code.chars().any(|c| c.is_alphabetic()) {
        return code.to_string();
    }
    let words: Vec<String> = code
        .split(['_', ' '])
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, w)| {
            if let Some((_, up)) = SPELLINGS.iter().find(|(a, _)| a.eq_ignore_ascii_case(w)) {
                return (*up).to_string();
            }
            if i > 0 {
                return w.to_string();
            }
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect();
    words.join(" ")
}

/// The noun for people in a source table's universe (used after a population figure).
pub fn population_noun(table: &str) -> &'static str {
    if table.starts_with("child") {
        "children"
    } else if table.starts_with("caregiver") {
        "caregivers"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(-12_345.0), "-12,345");
    }

    #[test]
    fn percentages_and_statistics() {
        assert_eq!(percent(0.0912), "9.1%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(statistic_value("proportion", 0.5), "50.0%");
        assert_eq!(statistic_value("count", 412_345.6), "412,346");
        assert_eq!(statistic_value("mean", 2.345), "2.35");
        assert_eq!(statistic_value("share", 0.25), "25.0%");
        assert_eq!(statistic_value("change", -0.125), "-12.5%");
        assert_eq!(statistic_value("total", 20_625.0), "20,625");
        assert_eq!(statistic_value("rate_per_10000", 12.3456), "12.35");
        assert_eq!(statistic_value("year", 2013.0), "2013");
        assert_eq!(scale_of("year"), Scale::Year);
    }

    #[test]
    fn about_rounds_to_two_significant_digits() {
        assert_eq!(about(412_345.0), "about 410,000");
        assert_eq!(about(396_000.0), "about 400,000");
        assert_eq!(about(1_960_000.0), "about 2,000,000");
        assert_eq!(about(20_400.0), "about 20,000");
        assert_eq!(about(57.0), "about 57");
        assert_eq!(about(f64::NAN), "not available");
    }

    #[test]
    fn codes_read_as_labels_and_bands_stay_as_they_are() {
        assert_eq!(humanise("government_duty_bearer"), "Government duty bearer");
        assert_eq!(humanise("ngo"), "NGO");
        assert_eq!(humanise("csam_offence"), "CSAM offence");
        assert_eq!(humanise("faith_based"), "Faith-based");
        assert_eq!(
            humanise("international_organisation"),
            "International organisation"
        );
        assert_eq!(humanise("age_band"), "Age band");
        assert_eq!(humanise("urban_rural"), "Urban / rural");
        assert_eq!(humanise("male"), "Male");
        assert_eq!(humanise("12-13"), "12-13");
        assert_eq!(humanise("15"), "15");
        assert_eq!(humanise("2019"), "2019");
        assert_eq!(humanise("0-11"), "0-11");
        assert_eq!(humanise(""), "");
        // Words that only start like an acronym keep their case.
        assert_eq!(humanise("unknown_status"), "Unknown status");
        assert_eq!(humanise("cybertipline_reports"), "CyberTipline reports");
    }

    #[test]
    fn withheld_texts() {
        assert_eq!(withheld_text("suppressed", 25), "suppressed (n < 25)");
        assert_eq!(withheld_text("not_collected", 25), "not collected");
        assert_eq!(withheld_text("weird", 25), "not published (weird)");
        assert_eq!(withheld_text("suppressed_small_count", 25), "<5");
        assert_eq!(population_noun("child_survey"), "children");
        assert_eq!(population_noun("police_cases"), "");
    }
}
