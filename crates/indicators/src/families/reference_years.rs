//! Country constants in the family catalogue: the reference years of the administrative data (law enforcement,
//! CyberTipline), `country.reference_years = { first, last }` in each country config (default 2017-2019; Phase 2
//! countries report 2021-2023).
//!
//! An indicator writes `{ref_first}` and `{ref_last}` where a year belongs, in `universe`, `numerator`, `baseline`,
//! `label` and `universe_label` (`universe = 'year >= {ref_first} and year <= {ref_last}'`, `baseline = 'year ==
//! {ref_first}'`), and `{reference_years}` (`2017-2019`) in the two labels. The catalogue is checked with the
//! default years; each country's copy ([`super::FamilyIndicator::for_country`]) has its own years substituted, so
//! the expression language itself knows no constants and an indicator keeps its id whatever the years (ids are a
//! contract: `le_cybertipline_change_2017_2019` keeps its id and says "2021-2023" for a Phase 2 country). Where
//! one text must serve countries with different years (the cross-country report), [`generic_text`] words them.

use dh_config::country::ReferenceYears;

pub const REF_FIRST: &str = "{ref_first}";
pub const REF_LAST: &str = "{ref_last}";
pub const REFERENCE_YEARS: &str = "{reference_years}";

/// True when `text` names a reference-year constant.
pub fn uses_reference_years(text: &str) -> bool {
    [REF_FIRST, REF_LAST, REFERENCE_YEARS]
        .iter()
        .any(|p| text.contains(p))
}

/// `text` with the country's years in place of the constants.
pub fn substitute(text: &str, years: ReferenceYears) -> String {
    text.replace(REF_FIRST, &years.first.to_string())
        .replace(REF_LAST, &years.last.to_string())
        .replace(REFERENCE_YEARS, &format!("{}-{}", years.first, years.last))
}

/// A label for several countries whose years differ: the constants in words.
pub fn generic_text(text: &str) -> String {
    text.replace(REF_FIRST, "the first reference year")
        .replace(REF_LAST, "the last reference year")
        .replace(REFERENCE_YEARS, "the country's reference years")
}

/// The first `{...}` in `text` that is not a known constant (a typo such as `{ref_frist}`).
pub fn unknown_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let Some(close) = after.find('}') else {
            return Some(after.to_string());
        };
        let token = &after[..=close];
        if ![REF_FIRST, REF_LAST, REFERENCE_YEARS].contains(&token) {
            return Some(token.to_string());
        }
        rest = &after[close + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHASE2: ReferenceYears = ReferenceYears {
        first: 2021,
        last: 2023,
    };

    #[test]
    fn constants_are_replaced_by_the_country_years() {
        assert_eq!(
            substitute("year >= {ref_first} and year <= {ref_last}", PHASE2),
            "year >= 2021 and year <= 2023"
        );
        assert_eq!(
            substitute("reports, {reference_years}", ReferenceYears::default()),
            "reports, 2017-2019"
        );
        assert_eq!(
            generic_text("from {ref_first} to {ref_last} ({reference_years})"),
            "from the first reference year to the last reference year (the country's reference years)"
        );
        assert!(uses_reference_years("year == {ref_first}"));
        assert!(!uses_reference_years("year == 2017"));
    }

    #[test]
    fn unknown_placeholders_are_found() {
        assert_eq!(unknown_placeholder("year == {ref_first}"), None);
        assert_eq!(
            unknown_placeholder("year == {ref_frist}"),
            Some("{ref_frist}".into())
        );
        assert_eq!(unknown_placeholder("a {b"), Some("{b".into()));
        assert_eq!(unknown_placeholder("plain"), None);
    }
}
