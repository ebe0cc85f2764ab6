//! The report's view of a run: the indicator rows joined with the recorded definitions and country metadata,
//! ordered for display (regions, countries, indicators, domains), and the cell texts every page and sheet uses.
//! Nothing here reads files; [`crate::build`] passes in what it read.

use std::collections::BTreeMap;

use crate::context::{CountryInfo, Definition, ReportContext};
use crate::format::{about, population_noun, statistic_value, thousands, withheld_text};
use crate::table::IndicatorRow;

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
        }
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
        let value = |x: f64| statistic_value(statistic, x);
        let table = self
            .definition(&row.indicator)
            .map(|d| d.table.as_str())
            .unwrap_or("");
        match row.shown() {
            Some(shown) => Cells {
                estimate: value(shown.estimate),
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
                estimate: withheld_text(&row.flag, self.context.suppress_below),
                interval: String::new(),
                population: String::new(),
                n: if row.n_withheld() {
                    "withheld".to_string()
                } else {
                    thousands(row.n_unweighted as f64)
                },
                status: withheld_text(&row.flag, self.context.suppress_below),
                shown: false,
                low_base: false,
            },
        }
    }
}

impl Model<'_> {
    /// The warning texts of a shown estimate, one per condition, in the stage's precedence order (low base,
    /// unreliable, non-representative); empty for an `ok` row.
    pub fn warnings(&self, shown: &crate::table::Shown) -> Vec<String> {
        let mut out = Vec::new();
        if shown.low_base {
            out.push(format!("low base (n < {})", self.context.low_base_below));
        }
        if shown.unreliable {
            out.push("unreliable (imprecise estimate)".to_string());
        }
        if shown.non_representative {
            out.push("non-representative (unweighted)".to_string());
        }
        out
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

/// A label for a disaggregation column.
pub fn domain_label(domain: &str) -> String {
    match domain {
        "sex" => "Sex".into(),
        "age_band" => "Age band".into(),
        "urban_rural" => "Urban / rural".into(),
        other => {
            let mut s = other.replace('_', " ");
            if let Some(first) = s.get(..1) {
                let upper = first.to_uppercase();
                s.replace_range(..1, &upper);
            }
            s
        }
    }
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
        assert_eq!(domain_label("age_band"), "Age band");
        assert_eq!(domain_label("offence_category"), "Offence category");
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
