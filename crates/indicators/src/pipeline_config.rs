//! `pipelines/pipeline.toml`: publication thresholds, where the catalogue is, the disaggregations every indicator
//! must have, and which columns a table borrows from another (caregiver rows take the child's design and
//! demographic columns through `household_id`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{CatalogError, CatalogErrors};
use crate::location::line_column;

/// Name of the pipeline configuration file inside the pipelines directory.
pub const PIPELINE_FILE: &str = "pipeline.toml";

/// The validated pipeline configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// The file it was read from.
    pub file: PathBuf,
    /// The indicator catalogue file (resolved against the pipelines directory).
    pub catalogue: PathBuf,
    /// Disaggregations every indicator must list (e.g. sex, age band, urban/rural).
    pub required_disaggregations: Vec<String>,
    pub thresholds: Thresholds,
    /// Per table: columns borrowed from another table.
    pub joins: BTreeMap<String, Join>,
    pub weighting: WeightingSettings,
    /// Banded columns derived from numeric ones, from the schemas (filled by [`crate::load`]; empty when the
    /// configuration is read alone). Used for the true labels of bands an indicator's universe cuts.
    pub bands: Vec<crate::bands::DerivedBand>,
    /// The table that carries the survey design and is raked, found from the schemas by
    /// [`dh_config::design_table`] (filled by [`crate::load`]; empty when the configuration is read alone).
    pub design_table: String,
}

/// `[weighting]`: raking and trimming settings (see `weighting.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightingSettings {
    /// Cap on weight / mean weight after raking; absent = no trimming.
    #[serde(default)]
    pub trim_cap: Option<f64>,
    /// Most rakes when trimming (rake, trim, rake, ...); the last step is always a rake.
    #[serde(default = "default_max_rounds")]
    pub max_rounds: usize,
}

impl Default for WeightingSettings {
    fn default() -> Self {
        WeightingSettings {
            trim_cap: None,
            max_rounds: default_max_rounds(),
        }
    }
}

fn default_max_rounds() -> usize {
    10
}

/// Precision rules for publication: the base rules on the unweighted denominator (DHS/MICS convention) and the
/// reliability rules of the NCHS Data Presentation Standards (see [`crate::flags::reliability`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Fewer unweighted cases than this in the denominator: estimate, SE and interval are suppressed.
    pub suppress_below: u32,
    /// Fewer than this (and not suppressed): shown with the `low_base` flag.
    pub low_base_below: u32,
    /// A count, total or mean whose relative standard error (se / estimate) is above this is `unreliable`.
    pub unreliable_rse_above: f64,
    /// A proportion whose 95% interval is wider than this (as a proportion: 0.30 = 30 points) is `unreliable`.
    pub unreliable_ci_width_above: f64,
    /// A proportion whose effective sample size (unweighted n / design effect) is below this is `unreliable`.
    pub unreliable_effective_n_below: f64,
}

impl Thresholds {
    /// The values of `pipelines/pipeline.toml`: 25 / 50 cases, NCHS 30% RSE, 30-point width, effective n 30.
    pub const NCHS: Thresholds = Thresholds {
        suppress_below: 25,
        low_base_below: 50,
        unreliable_rse_above: 0.30,
        unreliable_ci_width_above: 0.30,
        unreliable_effective_n_below: 30.0,
    };
}

/// `[thresholds]` as written, with positions for error messages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    suppress_below: Spanned<u32>,
    low_base_below: Spanned<u32>,
    unreliable_rse_above: Spanned<f64>,
    unreliable_ci_width_above: Spanned<f64>,
    unreliable_effective_n_below: Spanned<f64>,
}

/// Columns a table takes from another table, matched on a key present in both.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Join {
    /// The table the columns come from.
    pub table: String,
    /// The key column present in both tables.
    pub on: String,
    /// Columns taken from `table`.
    pub columns: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    format_version: u32,
    indicators: RawIndicatorsSection,
    thresholds: RawThresholds,
    #[serde(default)]
    tables: BTreeMap<String, RawTableSection>,
    #[serde(default)]
    weighting: WeightingSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicatorsSection {
    catalogue: String,
    #[serde(default)]
    required_disaggregations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTableSection {
    join: Join,
}

/// Reads `<dir>/pipeline.toml`.
pub fn load_pipeline_config(dir: &Path) -> Result<PipelineConfig, CatalogErrors> {
    let file = dir.join(PIPELINE_FILE);
    let text = read(&file)?;
    parse_pipeline_config(&file, &text, dir)
}

/// Parses pipeline configuration text; `dir` resolves the catalogue path.
pub fn parse_pipeline_config(
    file: &Path,
    text: &str,
    dir: &Path,
) -> Result<PipelineConfig, CatalogErrors> {
    let raw: RawPipeline = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
    let error = |key: &str, message: String| CatalogError {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        indicator: None,
        key: key.to_string(),
        message,
    };
    let mut errors = Vec::new();
    if raw.format_version != 1 {
        errors.push(error(
            "format_version",
            format!(
                "is {}, this program reads format_version = 1",
                raw.format_version
            ),
        ));
    }
    let located = |key: &str, span: std::ops::Range<usize>, message: String| {
        let (line, column) = line_column(text, span.start);
        CatalogError {
            line,
            column,
            ..error(key, message)
        }
    };
    let rt = &raw.thresholds;
    let t = Thresholds {
        suppress_below: *rt.suppress_below.get_ref(),
        low_base_below: *rt.low_base_below.get_ref(),
        unreliable_rse_above: *rt.unreliable_rse_above.get_ref(),
        unreliable_ci_width_above: *rt.unreliable_ci_width_above.get_ref(),
        unreliable_effective_n_below: *rt.unreliable_effective_n_below.get_ref(),
    };
    if t.suppress_below == 0 || t.low_base_below < t.suppress_below {
        let span = if t.suppress_below == 0 {
            rt.suppress_below.span()
        } else {
            rt.low_base_below.span()
        };
        errors.push(located(
            "thresholds",
            span,
            format!(
                "suppress_below = {} and low_base_below = {}: expected 1 <= suppress_below <= low_base_below",
                t.suppress_below, t.low_base_below
            ),
        ));
    }
    for (key, value, span, ok, expected) in [
        (
            "thresholds.unreliable_rse_above",
            t.unreliable_rse_above,
            rt.unreliable_rse_above.span(),
            t.unreliable_rse_above > 0.0,
            "a relative standard error > 0 (0.30 = 30%)",
        ),
        (
            "thresholds.unreliable_ci_width_above",
            t.unreliable_ci_width_above,
            rt.unreliable_ci_width_above.span(),
            t.unreliable_ci_width_above > 0.0 && t.unreliable_ci_width_above <= 1.0,
            "an interval width as a proportion, 0 < width <= 1 (0.30 = 30 percentage points)",
        ),
        (
            "thresholds.unreliable_effective_n_below",
            t.unreliable_effective_n_below,
            rt.unreliable_effective_n_below.span(),
            t.unreliable_effective_n_below >= 0.0,
            "a number of cases >= 0",
        ),
    ] {
        if !value.is_finite() || !ok {
            errors.push(located(
                key,
                span,
                format!("is {value}: expected {expected}"),
            ));
        }
    }
    if let Some(cap) = raw.weighting.trim_cap
        && (!cap.is_finite() || cap <= 1.0)
    {
        errors.push(error(
            "weighting.trim_cap",
            format!("is {cap}: expected a number > 1 (a multiple of the mean weight)"),
        ));
    }
    if raw.weighting.max_rounds == 0 {
        errors.push(error("weighting.max_rounds", "must be at least 1".into()));
    }
    if !errors.is_empty() {
        return Err(CatalogErrors(errors));
    }
    Ok(PipelineConfig {
        file: file.to_path_buf(),
        catalogue: dir.join(&raw.indicators.catalogue),
        required_disaggregations: raw.indicators.required_disaggregations,
        thresholds: t,
        joins: raw.tables.into_iter().map(|(k, v)| (k, v.join)).collect(),
        weighting: raw.weighting,
        bands: Vec::new(),
        design_table: String::new(),
    })
}

/// Reads a pipelines/ file within the configuration size limits of `dh_config::limits` (a regular file of at most
/// 1 MiB, no line above 64 KiB), before any parsing.
pub(crate) fn read(file: &Path) -> Result<String, CatalogError> {
    dh_config::limits::read_bounded(file, dh_config::limits::MAX_CONFIG_BYTES).map_err(|e| {
        CatalogError {
            file: file.to_path_buf(),
            line: e.line(),
            column: 0,
            indicator: None,
            key: String::new(),
            message: e.to_string(),
        }
    })
}

/// A TOML syntax or shape error, located at its span.
pub(crate) fn toml_error(file: &Path, text: &str, e: &toml::de::Error) -> CatalogError {
    let (line, column) = e
        .span()
        .map(|s| line_column(text, s.start))
        .unwrap_or((0, 0));
    CatalogError {
        file: file.to_path_buf(),
        line,
        column,
        indicator: None,
        key: String::new(),
        message: e.message().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
format_version = 1
[indicators]
catalogue = "indicators.toml"
required_disaggregations = ["sex"]
[thresholds]
suppress_below = 25
low_base_below = 50
unreliable_rse_above = 0.30
unreliable_ci_width_above = 0.30
unreliable_effective_n_below = 30
[tables.caregiver_survey.join]
table = "child_survey"
on = "household_id"
columns = ["sex"]
"#;

    #[test]
    fn parses_thresholds_and_joins() {
        let c = parse_pipeline_config(Path::new("p/pipeline.toml"), GOOD, Path::new("p"));
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.thresholds, Thresholds::NCHS);
        assert_eq!(c.catalogue, Path::new("p/indicators.toml"));
        assert_eq!(c.joins["caregiver_survey"].on, "household_id");
    }

    #[test]
    fn weighting_settings_default_and_validate() {
        let c = parse_pipeline_config(Path::new("p.toml"), GOOD, Path::new("."));
        assert_eq!(
            c.map(|c| c.weighting),
            Ok(WeightingSettings {
                trim_cap: None,
                max_rounds: 10
            })
        );
        let text = format!("{GOOD}[weighting]\ntrim_cap = 4.5\n");
        let c = parse_pipeline_config(Path::new("p.toml"), &text, Path::new("."));
        assert_eq!(c.map(|c| c.weighting.trim_cap), Ok(Some(4.5)));
        let text = format!("{GOOD}[weighting]\ntrim_cap = 0.5\nmax_rounds = 0\n");
        let e = parse_pipeline_config(Path::new("p.toml"), &text, Path::new(".")).err();
        assert_eq!(e.map(|e| e.0.len()), Some(2));
    }

    #[test]
    fn rejects_inverted_thresholds() {
        let text = GOOD.replace("low_base_below = 50", "low_base_below = 10");
        let e = parse_pipeline_config(Path::new("p.toml"), &text, Path::new(".")).err();
        assert!(e.is_some_and(|e| {
            e.to_string()
                .contains("expected 1 <= suppress_below <= low_base_below")
        }));
    }

    #[test]
    fn reliability_thresholds_are_validated_at_their_line() {
        let text = GOOD
            .replace("unreliable_rse_above = 0.30", "unreliable_rse_above = -1")
            .replace(
                "unreliable_ci_width_above = 0.30",
                "unreliable_ci_width_above = 30",
            );
        let e = parse_pipeline_config(Path::new("p.toml"), &text, Path::new(".")).err();
        let e = e.map(|e| e.0).unwrap_or_default();
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(
            (e[0].line, e[0].key.as_str()),
            (9, "thresholds.unreliable_rse_above")
        );
        assert_eq!(e[1].line, 10);
        assert!(e[1].message.contains("30 percentage points"), "{}", e[1]);
        assert!(e[1].to_string().starts_with("p.toml:10:"), "{}", e[1]);
        // Edges: a width of exactly 1 and an effective n of 0 are allowed; a missing key is an error.
        let text = GOOD
            .replace(
                "unreliable_ci_width_above = 0.30",
                "unreliable_ci_width_above = 1",
            )
            .replace(
                "unreliable_effective_n_below = 30",
                "unreliable_effective_n_below = 0",
            );
        assert!(parse_pipeline_config(Path::new("p.toml"), &text, Path::new(".")).is_ok());
        let text = GOOD.replace("unreliable_effective_n_below = 30\n", "");
        let e = parse_pipeline_config(Path::new("p.toml"), &text, Path::new(".")).err();
        assert!(e.is_some_and(|e| e.to_string().contains("unreliable_effective_n_below")));
        let text = GOOD.replace("low_base_below = 50", "low_base_below = 10");
        let e = parse_pipeline_config(Path::new("p.toml"), &text, Path::new(".")).err();
        assert_eq!(e.map(|e| e.0[0].line), Some(8));
    }

    #[test]
    fn unknown_key_is_located() {
        let text = GOOD.replace("suppress_below = 25", "suppress_below = 25\nsupress = 3");
        let e = parse_pipeline_config(Path::new("p.toml"), &text, Path::new(".")).err();
        let e = e.map(|e| e.0[0].clone());
        assert_eq!(e.as_ref().map(|e| e.line), Some(8));
        assert!(e.is_some_and(|e| e.message.contains("supress")));
    }
}
