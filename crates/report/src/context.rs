//! What the report needs to know about the run besides the indicator table and the manifest: the indicator
//! definitions as the catalogue stated them, the countries' names, regions and populations, and the publication
//! thresholds. `dh run` records it as `OUT/report/context.json` ([`ReportContext::from_run`]) from the same
//! configuration the run used; `dh report` reads it back, so a rebuilt report depends on the run's outputs only.

use std::collections::BTreeMap;
use std::path::Path;

use dh_config::CountryConfig;
use dh_indicators::{Catalogue, PipelineConfig};
use serde::{Deserialize, Serialize};

use crate::error::ReportError;

/// Version of the layout of `context.json`.
pub const CONTEXT_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportContext {
    pub context_format: u32,
    /// The headline indicator (the catalogue's first).
    pub headline: Option<String>,
    pub suppress_below: u32,
    pub low_base_below: u32,
    /// The NCHS reliability thresholds of the run (absent in older contexts: the values of `pipeline.toml`).
    #[serde(default)]
    pub reliability: Reliability,
    pub countries: Vec<CountryInfo>,
    pub indicators: Vec<Definition>,
}

/// When an estimate is flagged `unreliable` (`pipelines/pipeline.toml` `[thresholds]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    /// Counts, totals, means: relative standard error above this.
    pub rse_above: f64,
    /// Proportions: 95% interval wider than this (a proportion: 0.30 = 30 percentage points).
    pub ci_width_above: f64,
    /// Proportions: effective sample size (n / design effect) below this.
    pub effective_n_below: f64,
}

impl Default for Reliability {
    fn default() -> Self {
        Reliability::from(&dh_indicators::Thresholds::NCHS)
    }
}

impl From<&dh_indicators::Thresholds> for Reliability {
    fn from(t: &dh_indicators::Thresholds) -> Self {
        Reliability {
            rse_above: t.unreliable_rse_above,
            ci_width_above: t.unreliable_ci_width_above,
            effective_n_below: t.unreliable_effective_n_below,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountryInfo {
    pub iso3: String,
    pub name: String,
    pub region: String,
    pub fieldwork_start: String,
    pub fieldwork_end: String,
    /// Internet-using 12-17 population the weights are raked to (sum of the config's cells).
    pub population: f64,
    pub population_source: String,
    /// Years of the country's administrative data (`country.reference_years`); absent in older contexts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_years: Option<dh_config::ReferenceYears>,
}

/// One indicator definition as recorded for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub id: String,
    pub label: String,
    pub version: String,
    /// Source table; also the indicator's family in the workbook.
    pub table: String,
    pub statistic: String,
    pub universe_label: String,
    pub universe: String,
    pub numerator: Option<String>,
    pub variable: Option<String>,
    pub missing_rule: String,
    pub missing_rule_description: String,
    /// Why that rule fits what the indicator means (the catalogue's `missing_rationale`; empty in contexts
    /// recorded before it existed).
    #[serde(default)]
    pub missing_rationale: String,
    /// Missing code -> `excluded from the denominator` or `counted as no`.
    pub missing_codes: BTreeMap<String, String>,
    pub ci_method: String,
    pub disaggregations: Vec<String>,
    pub comparability: String,
    pub notes: String,
    /// The label as written in the catalogue when it names the reference years (`{ref_first}`, ...): a country's
    /// page writes it with that country's years ([`Definition::label_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_template: Option<String>,
    /// A withheld row of this indicator publishes `n_unweighted` = 0 in place of its number of cases: the
    /// disclosure control of the other data families hides the base with the estimate
    /// (`dh_indicators::families::protect::hide`), while a survey row keeps it. Absent in contexts recorded
    /// before it existed: see [`Definition::hides_withheld_base`].
    #[serde(default, rename = "hides_withheld_base")]
    pub withheld_base_hidden: Option<bool>,
    /// What the value counts or measures (the `unit` column of the indicator tables, e.g. `children`, `year`);
    /// empty in contexts recorded before it existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    /// The wording of breakdown levels whose schema category has a title (a legal checklist provision's text), by
    /// level; absent when none has one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub level_titles: BTreeMap<String, String>,
}

impl Definition {
    /// How a value of this indicator is written: its statistic, or `year` when the unit is calendar years (a
    /// year is `2013`, never `2,013`; see `format::scale_of`).
    pub fn value_kind(&self) -> &str {
        if self.unit == "year" {
            "year"
        } else {
            &self.statistic
        }
    }

    /// Whether a withheld row of this indicator hides its base (see the field). In a context recorded before the
    /// field existed, an indicator without a missing-code rule is one of the other data families (the survey
    /// catalogue requires a rule, [`family_definition`] records none), and those hide it.
    pub fn hides_withheld_base(&self) -> bool {
        self.withheld_base_hidden
            .unwrap_or(self.missing_rule.is_empty())
    }

    /// The label for one country: with its reference years when the label names them and they are known.
    pub fn label_for(&self, country: Option<&CountryInfo>) -> String {
        match (
            &self.label_template,
            country.and_then(|c| c.reference_years),
        ) {
            (Some(template), Some(years)) => {
                dh_indicators::families::reference_years::substitute(template, years)
            }
            _ => self.label.clone(),
        }
    }
}

/// A definition of the other data families' catalogue (`pipelines/families.toml`): unweighted statistics,
/// no missing-code rule; Wilson intervals for shares. With `years` (every country of the run has the same
/// reference years) the labels and expressions name them; otherwise the labels word them generically and the
/// expressions keep the constants.
fn family_definition(
    i: &dh_indicators::families::FamilyIndicator,
    years: Option<dh_config::country::ReferenceYears>,
) -> Definition {
    use dh_indicators::families::FamilyStatistic;
    let country_copy = years.and_then(|y| i.for_country(y).ok());
    // Without common years the expressions are shown as written ({ref_first}, {ref_last}), never with the default
    // years a country of the run may not use.
    let (universe, numerator) = match &country_copy {
        Some(c) => (
            c.universe.source().to_string(),
            c.numerator.as_ref().map(|n| n.source().to_string()),
        ),
        None => (i.templates.universe.clone(), i.templates.numerator.clone()),
    };
    let label_template = i.uses_reference_years().then(|| i.templates.label.clone());
    let i = country_copy.as_deref().unwrap_or(i);
    let ci_method = match i.statistic {
        FamilyStatistic::UnweightedProportion | FamilyStatistic::Share => "wilson",
        _ => "",
    };
    Definition {
        id: i.id.clone(),
        label: i.label.clone(),
        version: i.version.clone(),
        table: i.table.clone(),
        statistic: i.statistic.name().into(),
        universe_label: i.universe_label.clone(),
        universe: universe.trim().to_string(),
        numerator: numerator.map(|n| n.trim().to_string()),
        variable: i.variable.clone(),
        missing_rule: String::new(),
        missing_rule_description: String::new(),
        missing_rationale: String::new(),
        missing_codes: BTreeMap::new(),
        ci_method: ci_method.into(),
        disaggregations: i.disaggregations.iter().map(|d| d.column.clone()).collect(),
        comparability: i.comparability.clone(),
        notes: if i.disclosure_control {
            "Counts from 1 to 4 (and cells that would reveal them) are withheld and shown as <5."
                .into()
        } else {
            String::new()
        },
        label_template,
        withheld_base_hidden: Some(true),
        unit: i.unit.clone(),
        level_titles: i
            .disaggregations
            .iter()
            .flat_map(|d| d.titles.clone())
            .collect(),
    }
}

/// The reference years of the run's countries when they all have the same.
fn common_years(countries: &[CountryConfig]) -> Option<dh_config::country::ReferenceYears> {
    let first = countries.first()?.country.reference_years;
    countries
        .iter()
        .all(|c| c.country.reference_years == first)
        .then_some(first)
}

impl ReportContext {
    /// The context of a run from its configuration (countries in the order given).
    pub fn from_run(
        countries: &[CountryConfig],
        catalogue: &Catalogue,
        pipeline: &PipelineConfig,
    ) -> ReportContext {
        ReportContext {
            context_format: CONTEXT_FORMAT,
            headline: catalogue.indicators.first().map(|i| i.id.clone()),
            suppress_below: pipeline.thresholds.suppress_below,
            low_base_below: pipeline.thresholds.low_base_below,
            reliability: Reliability::from(&pipeline.thresholds),
            countries: countries
                .iter()
                .map(|c| CountryInfo {
                    iso3: c.country.iso3.clone(),
                    name: c.country.name.clone(),
                    region: c.country.region.clone(),
                    fieldwork_start: c.country.fieldwork_start.clone(),
                    fieldwork_end: c.country.fieldwork_end.clone(),
                    population: c.population.cells.iter().map(|cell| cell.count).sum(),
                    population_source: c.population.source.clone(),
                    reference_years: Some(c.country.reference_years),
                })
                .collect(),
            indicators: catalogue
                .indicators
                .iter()
                .map(|i| Definition {
                    id: i.id.clone(),
                    label: i.label.clone(),
                    version: i.version.clone(),
                    table: i.table.clone(),
                    statistic: i.statistic.name().into(),
                    universe_label: i.universe_label.clone(),
                    universe: i.universe.source().trim().to_string(),
                    numerator: i.numerator.as_ref().map(|n| n.source().trim().to_string()),
                    variable: i.variable.clone(),
                    missing_rule: i.missing_rule.name.clone(),
                    missing_rule_description: i.missing_rule.description.clone(),
                    missing_rationale: i.missing_rationale.clone(),
                    missing_codes: i
                        .missing_rule
                        .treatments
                        .iter()
                        .map(|(code, t)| {
                            let what = match t {
                                dh_expr::MissingTreatment::Exclude => {
                                    "excluded from the denominator"
                                }
                                dh_expr::MissingTreatment::CountAsNo => "counted as no",
                            };
                            (code.clone(), what.to_string())
                        })
                        .collect(),
                    ci_method: i.ci_method.name().into(),
                    disaggregations: i.disaggregations.iter().map(|d| d.column.clone()).collect(),
                    comparability: i.comparability.clone(),
                    notes: i.notes.clone(),
                    label_template: None,
                    withheld_base_hidden: Some(false),
                    unit: i.unit.clone(),
                    level_titles: BTreeMap::new(),
                })
                .chain(
                    catalogue
                        .families
                        .indicators
                        .iter()
                        .map(|i| family_definition(i, common_years(countries))),
                )
                .collect(),
        }
    }

    /// The publication thresholds of the run, as the flag rules state them.
    pub fn thresholds(&self) -> dh_indicators::Thresholds {
        dh_indicators::Thresholds {
            suppress_below: self.suppress_below,
            low_base_below: self.low_base_below,
            unreliable_rse_above: self.reliability.rse_above,
            unreliable_ci_width_above: self.reliability.ci_width_above,
            unreliable_effective_n_below: self.reliability.effective_n_below,
        }
    }

    pub fn definition(&self, id: &str) -> Option<&Definition> {
        self.indicators.iter().find(|d| d.id == id)
    }

    pub fn country(&self, iso3: &str) -> Option<&CountryInfo> {
        self.countries.iter().find(|c| c.iso3 == iso3)
    }

    /// Pretty JSON with a trailing newline (deterministic: fields in declaration order, maps sorted).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    pub fn read(path: &Path) -> Result<ReportContext, ReportError> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ReportError::MissingInput {
                path: path.to_path_buf(),
                hint: "written by `dh run`; rerun it to record the indicator definitions".into(),
            },
            _ => ReportError::io(path, e),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| ReportError::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_labels_name_the_years_only_when_every_country_shares_them() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let schemas =
            dh_config::load_schemas(&repo.join("schemas")).unwrap_or_else(|e| panic!("{e}"));
        let (pipeline, catalogue) = dh_indicators::load(&repo.join("pipelines"), &schemas)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut countries =
            dh_config::load_countries(&repo.join("countries"), &["KEN".into(), "THA".into()])
                .unwrap_or_else(|e| panic!("{e}"));
        let id = "le_cybertipline_change_2017_2019";
        let ctx = ReportContext::from_run(&countries, &catalogue, &pipeline);
        let d = ctx.definition(id).unwrap_or_else(|| panic!("{id}"));
        assert_eq!(
            d.label,
            "Relative change in CyberTipline reports from 2017 to 2019"
        );
        assert_eq!(d.universe, "year == 2019");
        countries[0].country.reference_years = dh_config::ReferenceYears {
            first: 2021,
            last: 2023,
        };
        let ctx = ReportContext::from_run(&countries, &catalogue, &pipeline);
        let d = ctx.definition(id).unwrap_or_else(|| panic!("{id}"));
        assert_eq!(
            d.label,
            "Relative change in CyberTipline reports from the first reference year to the last reference year"
        );
        assert_eq!(d.universe, "year == {ref_last}");
        // Each country's page writes the label with its own years.
        let label = |iso3: &str| d.label_for(ctx.country(iso3));
        assert_eq!(
            label("KEN"),
            "Relative change in CyberTipline reports from 2021 to 2023"
        );
        assert_eq!(
            label("THA"),
            "Relative change in CyberTipline reports from 2017 to 2019"
        );
        assert_eq!(d.label_for(None), d.label);
    }

    #[test]
    fn an_older_context_without_the_field_reads_family_definitions_as_hiding_the_base() {
        let ctx = crate::test_data::context();
        let mut json: serde_json::Value =
            serde_json::from_slice(&ctx.to_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let defs = json["indicators"]
            .as_array_mut()
            .unwrap_or_else(|| panic!("indicators"));
        assert_eq!(
            defs[0]["hides_withheld_base"],
            serde_json::Value::Bool(false)
        );
        for d in defs.iter_mut() {
            d.as_object_mut().map(|o| o.remove("hides_withheld_base"));
        }
        defs[1]["missing_rule"] = serde_json::Value::String(String::new());
        let old: ReportContext = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !old.indicators[0].hides_withheld_base(),
            "a survey definition"
        );
        assert!(
            old.indicators[1].hides_withheld_base(),
            "no missing-code rule: a family"
        );
    }

    #[test]
    fn round_trips_through_json() {
        let ctx = crate::test_data::context();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("context.json");
        std::fs::write(&path, ctx.to_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let back = ReportContext::read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, ctx);
        assert!(
            ReportContext::read(&dir.path().join("none.json"))
                .unwrap_err()
                .to_string()
                .contains("dh run")
        );
    }
}
