//! The report's view of a run: the indicator rows joined with the recorded definitions and country metadata,
//! ordered for display (regions, countries, indicators, domains), and the cell texts every page and sheet uses.
//! Nothing here reads files; [`crate::build`] passes in what it read.

use std::collections::BTreeMap;

use crate::context::{CountryInfo, Definition, ReportContext};
use crate::format::{about, humanise, population_noun, statistic_value, thousands, withheld_text};
use crate::table::IndicatorRow;

/// The flags of the registry in the order their legend lists them (the methods page, the workbook's "Read me"):
/// `ok`, then the precedence order of the `flag` column.
pub fn legend_flags() -> impl Iterator<Item = dh_indicators::Flag> {
    std::iter::once(dh_indicators::Flag::Ok).chain(dh_indicators::Flag::PRECEDENCE)
}

/// What stands in place of a survey estimate withheld by complementary suppression.
pub const COMPLEMENTARY: &str = "suppressed (complementary)";

/// What stands in place of a sum with no record in it.
pub const NO_RECORD: &str = "no record";

/// Region used for countries the context does not describe.
pub const OTHER_REGION: &str = "Other";

pub struct Model<'a> {
    pub context: &'a ReportContext,
    pub rows: &'a [IndicatorRow],
    /// Countries in display order: regions alphabetically, countries by name within a region.
    pub countries: Vec<CountryInfo>,
    /// Indicator ids: the recorded definitions' order, then ids only the table has (first-seen order).
    pub indicators: Vec<String>,
    /// (country, indicator) -> row indices, in table order.
    index: BTreeMap<(String, String), Vec<usize>>,
    /// The labels of categorical rows and the legal review's citations ([`crate::legal`]).
    pub review: crate::legal::Review,
}

impl<'a> Model<'a> {
    pub fn new(context: &'a ReportContext, rows: &'a [IndicatorRow]) -> Model<'a> {
        let mut countries: Vec<CountryInfo> = context.countries.clone();
        for r in rows {
            if !countries.iter().any(|c| c.iso3 == r.country) {
                countries.push(CountryInfo {
                    iso3: r.country.clone(),
                    name: r.country.clone(),
                    region: OTHER_REGION.into(),
                    fieldwork_start: String::new(),
                    fieldwork_end: String::new(),
                    population: f64::NAN,
                    population_source: String::new(),
                    reference_years: None,
                });
            }
        }
        countries.sort_by(|a, b| {
            (a.region == OTHER_REGION, &a.region, &a.name, &a.iso3).cmp(&(
                b.region == OTHER_REGION,
                &b.region,
                &b.name,
                &b.iso3,
            ))
        });
        let mut indicators: Vec<String> = context.indicators.iter().map(|d| d.id.clone()).collect();
        let mut index: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            if !indicators.contains(&r.indicator) {
                indicators.push(r.indicator.clone());
            }
            index
                .entry((r.country.clone(), r.indicator.clone()))
                .or_default()
                .push(i);
        }
        Model {
            context,
            rows,
            countries,
            indicators,
            index,
            review: crate::legal::Review::default(),
        }
    }

    /// The model with the labels of categorical rows and the legal review's citations.
    pub fn with_review(mut self, review: crate::legal::Review) -> Self {
        self.review = review;
        self
    }

    pub fn definition(&self, id: &str) -> Option<&'a Definition> {
        self.context.definition(id)
    }

    /// `proportion`, `mean`, `count`, or `value` when the indicator has no recorded definition.
    pub fn statistic(&self, id: &str) -> &'a str {
        self.definition(id)
            .map(|d| d.statistic.as_str())
            .unwrap_or("value")
    }

    /// How values of the indicator are written ([`Definition::value_kind`]): the statistic, or `year`.
    pub fn value_kind(&self, id: &str) -> &'a str {
        self.definition(id)
            .map(Definition::value_kind)
            .unwrap_or("value")
    }

    /// Rows of one country and indicator, in table order (total first as the stage writes it).
    pub fn rows_of(&self, country: &str, indicator: &str) -> Vec<&'a IndicatorRow> {
        self.index
            .get(&(country.to_string(), indicator.to_string()))
            .map(|ix| ix.iter().map(|i| &self.rows[*i]).collect())
            .unwrap_or_default()
    }

    pub fn total(&self, country: &str, indicator: &str) -> Option<&'a IndicatorRow> {
        self.rows_of(country, indicator)
            .into_iter()
            .find(|r| r.is_total())
    }

    /// Countries that have at least one row of `indicator`, in display order.
    pub fn countries_with(&self, indicator: &str) -> Vec<&CountryInfo> {
        self.countries
            .iter()
            .filter(|c| {
                self.index
                    .contains_key(&(c.iso3.clone(), indicator.to_string()))
            })
            .collect()
    }

    /// Disaggregations of an indicator as (domain, levels), in first-seen table order.
    pub fn domains(&self, indicator: &str) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for r in self
            .rows
            .iter()
            .filter(|r| r.indicator == indicator && !r.is_total())
        {
            match out.iter_mut().find(|(d, _)| *d == r.domain) {
                Some((_, levels)) => {
                    if !levels.contains(&r.domain_value) {
                        levels.push(r.domain_value.clone());
                    }
                }
                None => out.push((r.domain.clone(), vec![r.domain_value.clone()])),
            }
        }
        out
    }

    /// Regions in display order.
    pub fn regions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.countries {
            if !out.contains(&c.region) {
                out.push(c.region.clone());
            }
        }
        out
    }

    pub fn country_name(&self, iso3: &str) -> String {
        self.countries
            .iter()
            .find(|c| c.iso3 == iso3)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| iso3.to_string())
    }

    /// The texts of one row's cells.
    pub fn cells(&self, row: &IndicatorRow) -> Cells {
        let statistic = self.statistic(&row.indicator);
        let value = |x: f64| statistic_value(self.value_kind(&row.indicator), x);
        let table = self
            .definition(&row.indicator)
            .map(|d| d.table.as_str())
            .unwrap_or("");
        let label = self.review.label(row);
        match row.shown() {
            Some(shown) => Cells {
                // A categorical row (a provision's status) shows its label, not its code.
                estimate: label.map_or_else(|| value(shown.estimate), humanise),
                interval: shown
                    .ci
                    .map(|(l, h)| format!("{} to {}", value(l), value(h)))
                    .unwrap_or_default(),
                population: match (statistic, row.shown_population()) {
                    ("proportion", Some(p)) => format!("{} {}", about(p), population_noun(table))
                        .trim_end()
                        .to_string(),
                    _ => String::new(),
                },
                n: thousands(row.n_unweighted as f64),
                status: self.warnings(&shown).join("; "),
                shown: true,
                low_base: shown.low_base,
            },
            None => Cells {
                estimate: self.withheld_label(row),
                interval: String::new(),
                population: String::new(),
                n: if self.n_withheld(row) {
                    "withheld".to_string()
                } else {
                    thousands(row.n_unweighted as f64)
                },
                status: self.withheld_label(row),
                shown: false,
                low_base: false,
            },
        }
    }
}

impl Model<'_> {
    /// Whether the row's number of cases is withheld (and so written "withheld", never as "0"): a row withheld by
    /// the small-count rule ([`IndicatorRow::n_withheld`]), or a withheld row of an indicator whose disclosure
    /// control hides the base with the estimate ([`crate::Definition::hides_withheld_base`]). A survey row keeps
    /// its base, and a not-collected row has none.
    pub fn n_withheld(&self, row: &IndicatorRow) -> bool {
        row.n_withheld()
            || (row.n_unweighted == 0
                && row.shown().is_none()
                && !row.has("not_collected")
                && self
                    .definition(&row.indicator)
                    .is_some_and(|d| d.hides_withheld_base()))
    }

    /// What stands in place of a withheld estimate: "suppressed (n < 25)", "suppressed (complementary)" for a
    /// survey level withheld with enough cases so that another withheld level cannot be recovered, "<5", "not
    /// collected", "no record" for a sum with no record in it (a contact category nobody recorded).
    pub fn withheld_label(&self, row: &IndicatorRow) -> String {
        if self.complementary(row) {
            COMPLEMENTARY.to_string()
        } else if self.no_record(row) {
            NO_RECORD.to_string()
        } else {
            withheld_text(&row.flag, self.context.suppress_below)
        }
    }

    /// A sum (a total or a rate of a count column) flagged `suppressed`: the family engine's "nothing to estimate",
    /// no record in the cell (no base rule applies to administrative sums).
    fn no_record(&self, row: &IndicatorRow) -> bool {
        row.flag == "suppressed"
            && matches!(self.statistic(&row.indicator), "total" | "rate_per_10000")
            && self
                .definition(&row.indicator)
                .is_some_and(|d| d.hides_withheld_base())
    }

    /// A row flagged `suppressed` whose published base is not small: withheld by complementary suppression.
    fn complementary(&self, row: &IndicatorRow) -> bool {
        row.flag == "suppressed" && row.n_unweighted >= u64::from(self.context.suppress_below)
    }

    /// Why a row's estimate is withheld, in a sentence (`None` for a shown estimate): the meaning of its flag in
    /// the registry, told apart for a survey level withheld by complementary suppression.
    pub fn withheld_reason(&self, row: &IndicatorRow) -> Option<String> {
        if row.shown().is_some() {
            return None;
        }
        if self.complementary(row) {
            return Some(
                "Withheld so that another withheld level of the same breakdown cannot be recovered by \
                 subtraction (complementary suppression)."
                    .to_string(),
            );
        }
        if self.no_record(row) {
            return Some(
                "No record: nothing was recorded in this cell, so there is nothing to estimate."
                    .into(),
            );
        }
        Some(match row.flag.as_str() {
            "suppressed" => format!(
                "Withheld: fewer than {} unweighted cases in the denominator.",
                self.context.suppress_below
            ),
            other => match dh_indicators::Flag::parse(other) {
                Some(flag) => flag.meaning().to_string(),
                None => format!("Not published (unknown flag {other})."),
            },
        })
    }

    /// The warning texts of a shown estimate, one per condition, in the stage's precedence order (low base,
    /// unreliable, non-representative); empty for an `ok` row.
    pub fn warnings(&self, shown: &crate::table::Shown) -> Vec<String> {
        [
            (shown.low_base, "low_base"),
            (shown.unreliable, "unreliable"),
            (shown.non_representative, "non_representative"),
        ]
        .into_iter()
        .filter(|(holds, _)| *holds)
        .map(|(_, flag)| self.flag_text(flag))
        .collect()
    }

    /// How the report writes a flag beside (or in place of) an estimate: the warning of a shown estimate
    /// ("low base (n < 50)"), the text of a withheld one ("suppressed (n < 25)", "<5"), empty for `ok`.
    pub fn flag_text(&self, flag: &str) -> String {
        match flag {
            "ok" => String::new(),
            "low_base" => format!("low base (n < {})", self.context.low_base_below),
            "unreliable" => "unreliable (imprecise estimate)".to_string(),
            "non_representative" => "non-representative (unweighted)".to_string(),
            other => withheld_text(other, self.context.suppress_below),
        }
    }
}

/// Display texts of one estimate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cells {
    /// The estimate, or the withheld text ("suppressed (n < 25)", "not collected").
    pub estimate: String,
    /// "7.2% to 11.4%", empty when there is none.
    pub interval: String,
    /// "about 400,000 children" for proportions, empty otherwise.
    pub population: String,
    /// Unweighted cases in the denominator.
    pub n: String,
    /// Empty, the warnings joined by "; " ("low base (n < 50); non-representative (unweighted)"), or the
    /// withheld text.
    pub status: String,
    pub shown: bool,
    pub low_base: bool,
}

/// A file-name-safe form of an identifier (letters, digits, `-`, `_`; anything else becomes `_`).
pub fn slug(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_slugs() {
        assert_eq!(slug("ocsea_clear_any"), "ocsea_clear_any");
        assert_eq!(slug("../x y"), "___x_y");
    }

    #[test]
    fn countries_are_grouped_by_region_and_unknown_ones_come_last() {
        let ctx = crate::test_data::context();
        let mut rows = crate::test_data::rows(&ctx);
        let mut extra = rows[0].clone();
        extra.country = "ZZZ".into();
        rows.push(extra);
        let model = Model::new(&ctx, &rows);
        let regions = model.regions();
        assert_eq!(
            regions,
            vec![
                "Eastern and Southern Africa".to_string(),
                "Southeast Asia".to_string(),
                OTHER_REGION.to_string()
            ]
        );
        assert_eq!(
            model.countries.first().map(|c| c.iso3.as_str()),
            Some("ETH")
        );
        assert_eq!(model.countries.last().map(|c| c.iso3.as_str()), Some("ZZZ"));
    }

    #[test]
    fn withheld_cells_carry_no_number() {
        let ctx = crate::test_data::context();
        let rows = crate::test_data::rows(&ctx);
        let model = Model::new(&ctx, &rows);
        let mut r = rows[0].clone();
        r.flag = "suppressed".into();
        r.n_unweighted = 20;
        r.estimate = Some(0.777);
        r.population_estimate = Some(777_777.0);
        let c = model.cells(&r);
        assert_eq!(c.estimate, "suppressed (n < 25)");
        assert!(c.interval.is_empty() && c.population.is_empty() && !c.shown);
        r.flag = "low_base".into();
        r.flags = vec!["low_base".into()];
        let c = model.cells(&r);
        assert_eq!(c.estimate, "77.7%");
        assert_eq!(c.status, "low base (n < 50)");
        assert!(c.population.starts_with("about 780,000 children"), "{c:?}");
    }

    #[test]
    fn a_withheld_family_row_reads_withheld_not_n_0_and_a_survey_row_keeps_its_base() {
        let mut ctx = crate::test_data::context();
        let rows = crate::test_data::rows(&ctx);
        let mut family = rows[0].clone();
        family.indicator = "fw_training_received".into();
        family.flag = "suppressed".into();
        family.flags = vec!["suppressed".into(), "non_representative".into()];
        family.estimate = None;
        family.n_unweighted = 0;
        let mut def = ctx.indicators[0].clone();
        def.id = family.indicator.clone();
        def.withheld_base_hidden = Some(true);
        ctx.indicators.push(def);
        let model = Model::new(&ctx, &rows);
        assert_eq!(model.cells(&family).n, "withheld");
        // Not collected: there is no base to withhold.
        let mut absent = family.clone();
        absent.flag = "not_collected".into();
        absent.flags = vec!["not_collected".into()];
        assert_eq!(model.cells(&absent).n, "0");
        // A suppressed survey row shows its real base, and an empty survey level its 0.
        let mut survey = rows[0].clone();
        survey.flag = "suppressed".into();
        survey.flags = vec!["suppressed".into()];
        survey.n_unweighted = 12;
        assert_eq!(model.cells(&survey).n, "12");
        survey.n_unweighted = 0;
        assert_eq!(model.cells(&survey).n, "0");
    }

    #[test]
    fn a_survey_level_withheld_with_enough_cases_is_complementary_not_n_below_25() {
        let ctx = crate::test_data::context();
        let rows = crate::test_data::rows(&ctx);
        let model = Model::new(&ctx, &rows);
        let mut r = rows[0].clone();
        r.flag = "suppressed".into();
        r.flags = vec!["suppressed".into()];
        r.estimate = None;
        r.n_unweighted = 60;
        let c = model.cells(&r);
        assert_eq!(c.estimate, "suppressed (complementary)");
        assert_eq!(c.n, "60");
        assert!(
            model
                .withheld_reason(&r)
                .is_some_and(|w| w.contains("complementary suppression"))
        );
        r.n_unweighted = 24;
        assert_eq!(model.cells(&r).estimate, "suppressed (n < 25)");
        assert_eq!(
            model.withheld_reason(&r).as_deref(),
            Some("Withheld: fewer than 25 unweighted cases in the denominator.")
        );
        r.flag = "suppressed_small_count".into();
        assert!(
            model
                .withheld_reason(&r)
                .is_some_and(|w| w.starts_with("Withheld and shown as <5"))
        );
        assert_eq!(model.withheld_reason(&rows[0]), None);
    }

    #[test]
    fn the_legend_lists_every_flag_of_the_registry_once() {
        let listed: Vec<_> = legend_flags().collect();
        assert_eq!(listed.len(), dh_indicators::Flag::ALL.len());
        for f in dh_indicators::Flag::ALL {
            assert_eq!(listed.iter().filter(|l| **l == f).count(), 1, "{f:?}");
        }
    }

    #[test]
    fn a_row_with_several_conditions_shows_every_warning() {
        let ctx = crate::test_data::context();
        let rows = crate::test_data::rows(&ctx);
        let model = Model::new(&ctx, &rows);
        let mut r = rows[0].clone();
        r.estimate = Some(0.4);
        r.flag = "low_base".into();
        r.flags = vec!["low_base".into(), "non_representative".into()];
        let c = model.cells(&r);
        assert_eq!(
            c.status,
            "low base (n < 50); non-representative (unweighted)"
        );
        assert!(c.shown && c.low_base);
        r.flag = "unreliable".into();
        r.flags = vec!["unreliable".into()];
        assert_eq!(model.cells(&r).status, "unreliable (imprecise estimate)");
    }
}
