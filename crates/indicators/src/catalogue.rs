//! The indicator catalogue (`pipelines/indicators.toml`): reading, validation against the harmonised schemas and
//! the validated [`Indicator`] type the estimation stage uses.
//!
//! Format (see the file itself for the full commented reference):
//!
//! ```toml
//! format_version = 1
//! [defaults]
//! disaggregations = ["sex", "age_band", "urban_rural"]
//! [missing_rules.item_nonresponse_excluded]
//! description = "..."
//! null = "exclude"            # one entry per labelled missing code of the table, plus `null`
//! dont_know = "exclude"       # "exclude" (leaves the denominator) or "no" (counted as no)
//! ...
//! [[indicator]]
//! id = "ocsea_clear_any"
//! label = "..."
//! version = "1.0.0"
//! table = "child_survey"
//! universe = 'true'
//! universe_label = "Internet-using children aged 12-17"
//! numerator = 'any(offered_money_images == "yes", ...)'
//! missing_rule = "item_nonresponse_excluded"
//! missing_rationale = "..."   # why this treatment of missing answers fits what the indicator means (required)
//! statistic = "proportion"    # proportion | mean (with `variable`) | count
//! unit = "hours"              # what the value measures: required for a mean, and for a count of a table whose
//!                             # records crate::units does not name; derived otherwise (proportion, children)
//! ci_method = "logit"         # proportions: logit (default) | korn_graubard; mean and count: wald (a count's
//!                             # published interval is derived from its proportion: see crate::estimate)
//! comparability = "..."
//! [nonresponse.caregiver_survey]   # required for every table estimated on the child design
//! description = "..."
//! classes = ["urban_rural", "age_band"]   # design-table columns crossed into weighting classes
//! min_respondents = 30                     # classes with fewer respondents are pooled
//! ```
//!
//! Every problem is collected (not only the first) and located at file, line, column, indicator and key.
//! `not_collected` must always be `exclude`: a question a country did not ask can never count as "no".

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use dh_config::SchemaSet;
use dh_expr::error::caret;
use dh_expr::{ColumnKind, Columns, Compiled, ExprError, MissingTreatment, compile};
use serde::Deserialize;
use toml::Spanned;

use crate::columns::{join_problems, table_columns};
use crate::error::{CatalogError, CatalogErrors};
use crate::location::{line_column, position_in_string};
use crate::pipeline_config::{PipelineConfig, read, toml_error};
use crate::stage::DESIGN_TABLE;

/// The key of a missing-code rule entry that stands for Arrow nulls (no labelled code).
pub const NULL_CAUSE: &str = "null";
/// The labelled missing code a country's config assigns to questions it did not ask.
pub const NOT_COLLECTED: &str = "not_collected";

/// What an indicator estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// Weighted share of the universe for which the numerator is true.
    Proportion,
    /// Weighted mean of a numeric `variable` over the universe.
    Mean,
    /// Weighted number of people in the universe for whom the numerator is true (a population total).
    Count,
}

impl Statistic {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "proportion" => Some(Statistic::Proportion),
            "mean" => Some(Statistic::Mean),
            "count" => Some(Statistic::Count),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Statistic::Proportion => "proportion",
            Statistic::Mean => "mean",
            Statistic::Count => "count",
        }
    }
}

/// How the confidence interval is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiMethod {
    /// Logit-transformed interval, as R `survey::svyciprop(method = "logit")` (proportions; the default).
    Logit,
    /// Korn-Graubard (Clopper-Pearson with design-effect-adjusted n and design df), for proportions near 0 or 1.
    KornGraubard,
    /// Estimate ± t(df) x SE (means and counts).
    Wald,
}

impl CiMethod {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "logit" => Some(CiMethod::Logit),
            "korn_graubard" => Some(CiMethod::KornGraubard),
            "wald" => Some(CiMethod::Wald),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CiMethod::Logit => "logit",
            CiMethod::KornGraubard => "korn_graubard",
            CiMethod::Wald => "wald",
        }
    }

    fn fits(self, statistic: Statistic) -> bool {
        match statistic {
            Statistic::Proportion => matches!(self, CiMethod::Logit | CiMethod::KornGraubard),
            Statistic::Mean | Statistic::Count => self == CiMethod::Wald,
        }
    }

    fn default_for(statistic: Statistic) -> Self {
        match statistic {
            Statistic::Proportion => CiMethod::Logit,
            Statistic::Mean | Statistic::Count => CiMethod::Wald,
        }
    }
}

/// A named rule saying, for `null` and every labelled missing code, whether the row leaves the denominator or
/// counts as "no" when the numerator cannot be decided because of it.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingRule {
    pub name: String,
    pub description: String,
    /// Keyed by missing-code label, with [`NULL_CAUSE`] for nulls.
    pub treatments: BTreeMap<String, MissingTreatment>,
}

impl MissingRule {
    /// The treatment of a cause as reported by [`dh_expr::Evaluation`] (`None` = null). Causes the rule does not
    /// list (impossible after validation) are excluded.
    pub fn treatment(&self, cause: Option<&str>) -> MissingTreatment {
        self.treatments
            .get(cause.unwrap_or(NULL_CAUSE))
            .copied()
            .unwrap_or(MissingTreatment::Exclude)
    }
}

/// Where an indicator is defined.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
}

/// A validated indicator definition.
#[derive(Debug, Clone)]
pub struct Indicator {
    pub id: String,
    pub label: String,
    pub version: String,
    /// Harmonised source table (`child_survey`, `caregiver_survey`).
    pub table: String,
    pub universe: Compiled,
    /// Who the universe is, in words (the population base).
    pub universe_label: String,
    /// The condition counted (proportion, count); `None` for means.
    pub numerator: Option<Compiled>,
    /// The numeric column averaged (mean); `None` otherwise.
    pub variable: Option<String>,
    pub missing_rule: MissingRule,
    /// Why the missing rule fits the indicator's meaning (`missing_rationale`).
    pub missing_rationale: String,
    pub statistic: Statistic,
    /// What the value counts or measures (the `unit` column; [`crate::units`]).
    pub unit: String,
    pub ci_method: CiMethod,
    /// The non-response adjustment of the indicator's table (tables other than the design table).
    pub nonresponse: Option<NonresponseRule>,
    /// Categorical columns to break the estimate down by (the total is always produced as well).
    pub disaggregations: Vec<Disaggregation>,
    pub comparability: String,
    pub notes: String,
    pub location: Location,
}

/// A categorical column an estimate is broken down by, with its levels in the schema's code order.
#[derive(Debug, Clone, PartialEq)]
pub struct Disaggregation {
    pub column: String,
    pub levels: Vec<String>,
}

/// `[nonresponse.<table>]`: how a table estimated on the child design (caregivers) is weighted for the children
/// whose row in it is missing (caregiver not interviewed): a weighting-class adjustment
/// ([`crate::weighting::adjust_for_nonresponse`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NonresponseRule {
    pub table: String,
    pub description: String,
    /// Columns of the design table whose crossed levels form the weighting classes, the most important first
    /// (pooling drops the last column first).
    pub classes: Vec<String>,
    /// Classes with fewer responding units than this are pooled.
    pub min_respondents: usize,
}

/// The validated catalogue, indicators in file order.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub file: PathBuf,
    pub indicators: Vec<Indicator>,
    /// Non-response adjustments by table (`[nonresponse.<table>]`).
    pub nonresponse: BTreeMap<String, NonresponseRule>,
    /// Indicators of the other data families (`families.toml` beside this catalogue; empty if absent).
    pub families: crate::families::FamilyCatalogue,
}

impl Catalogue {
    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

impl fmt::Display for Indicator {
    /// The full definition, as printed by `dh indicators show`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "id:              {}", self.id)?;
        writeln!(f, "label:           {}", self.label)?;
        writeln!(f, "version:         {}", self.version)?;
        writeln!(
            f,
            "defined in:      {}:{}",
            self.location.file.display(),
            self.location.line
        )?;
        writeln!(f, "source table:    {}", self.table)?;
        writeln!(f, "statistic:       {}", self.statistic.name())?;
        writeln!(f, "unit:            {}", self.unit)?;
        writeln!(f, "universe:        {}", self.universe_label)?;
        writeln!(f, "  expression:    {}", indent(self.universe.source()))?;
        if let Some(n) = &self.numerator {
            writeln!(f, "numerator:       {}", indent(n.source()))?;
            writeln!(f, "  parsed as:     {}", n.expr())?;
        }
        if let Some(v) = &self.variable {
            writeln!(f, "variable:        {v}")?;
        }
        writeln!(
            f,
            "missing codes:   rule `{}`: {}",
            self.missing_rule.name, self.missing_rule.description
        )?;
        for (code, t) in &self.missing_rule.treatments {
            let what = match t {
                MissingTreatment::Exclude => "excluded from the denominator",
                MissingTreatment::CountAsNo => "counted as no (stays in the denominator)",
            };
            writeln!(f, "  {code:<15}{what}")?;
        }
        writeln!(
            f,
            "  universe rows whose universe expression is unknown are outside the universe"
        )?;
        writeln!(f, "  rationale:     {}", self.missing_rationale)?;
        if let Some(nr) = &self.nonresponse {
            writeln!(
                f,
                "weighting:       child design, adjusted for missing `{}` rows within classes of {} (at least {} respondents per class, smaller classes pooled): {}",
                nr.table,
                nr.classes.join(" x "),
                nr.min_respondents,
                nr.description
            )?;
        }
        writeln!(f, "ci method:       {}", self.ci_method.name())?;
        writeln!(
            f,
            "disaggregations: total, {}",
            self.disaggregations
                .iter()
                .map(|d| format!("{} ({})", d.column, d.levels.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        )?;
        writeln!(f, "comparability:   {}", self.comparability)?;
        if !self.notes.is_empty() {
            writeln!(f, "notes:           {}", self.notes)?;
        }
        Ok(())
    }
}

/// Expression text with continuation lines indented under the value column of `show`.
/// Multi-line text aligned under the value column of `dh indicators show`.
pub(crate) fn indent(text: &str) -> String {
    text.trim()
        .lines()
        .collect::<Vec<_>>()
        .join(&format!("\n{}", " ".repeat(17)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    format_version: Spanned<u32>,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    missing_rules: BTreeMap<String, Spanned<BTreeMap<String, Spanned<String>>>>,
    #[serde(default, rename = "indicator")]
    indicators: Vec<RawIndicator>,
    #[serde(default)]
    nonresponse: BTreeMap<String, Spanned<RawNonresponse>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNonresponse {
    description: String,
    classes: Spanned<Vec<String>>,
    min_respondents: Spanned<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    disaggregations: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: Spanned<String>,
    label: String,
    version: Spanned<String>,
    table: Spanned<String>,
    universe: Spanned<String>,
    universe_label: String,
    numerator: Option<Spanned<String>>,
    variable: Option<Spanned<String>>,
    missing_rule: Spanned<String>,
    missing_rationale: String,
    statistic: Spanned<String>,
    ci_method: Option<Spanned<String>>,
    unit: Option<Spanned<String>>,
    disaggregations: Option<Spanned<Vec<String>>>,
    comparability: String,
    #[serde(default)]
    notes: String,
}

/// Reads the catalogue named in `pipeline` and validates it against `schemas`.
pub fn load_catalogue(
    pipeline: &PipelineConfig,
    schemas: &SchemaSet,
) -> Result<Catalogue, CatalogErrors> {
    let file = pipeline.catalogue.clone();
    let text = read(&file)?;
    let mut catalogue = parse_catalogue(&file, &text, pipeline, schemas)?;
    let dir = file.parent().unwrap_or(Path::new("."));
    catalogue.families = crate::families::load_family_catalogue(dir, schemas)?;
    Ok(catalogue)
}

/// Parses and validates catalogue text (`file` is used in messages).
pub fn parse_catalogue(
    file: &Path,
    text: &str,
    pipeline: &PipelineConfig,
    schemas: &SchemaSet,
) -> Result<Catalogue, CatalogErrors> {
    let raw: RawCatalogue = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
    let mut v = Validator {
        file,
        text,
        errors: Vec::new(),
    };
    if *raw.format_version.get_ref() != 1 {
        v.error(
            None,
            "format_version",
            raw.format_version.span(),
            format!(
                "is {}, this program reads format_version = 1",
                raw.format_version.get_ref()
            ),
        );
    }
    for problem in join_problems(schemas, pipeline) {
        v.errors.push(CatalogError {
            file: pipeline.file.clone(),
            line: 0,
            column: 0,
            indicator: None,
            key: String::new(),
            message: problem,
        });
    }
    let rules = v.missing_rules(&raw.missing_rules);
    let nonresponse = v.nonresponse(&raw.nonresponse, pipeline, schemas);
    let mut seen = BTreeSet::new();
    let mut indicators = Vec::new();
    for ind in &raw.indicators {
        if !seen.insert(ind.id.get_ref().clone()) {
            v.error(
                Some(ind.id.get_ref()),
                "id",
                ind.id.span(),
                "is used by an earlier indicator; ids must be unique".into(),
            );
        }
        if let Some(mut i) = v.indicator(ind, &raw.defaults, &rules, pipeline, schemas) {
            i.nonresponse = nonresponse.get(&i.table).cloned();
            if i.table != DESIGN_TABLE
                && i.nonresponse.is_none()
                && !raw.nonresponse.contains_key(&i.table)
            {
                v.error(
                    Some(&i.id),
                    "table",
                    ind.table.span(),
                    format!(
                        "`{}` is estimated on the `{DESIGN_TABLE}` design: add a [nonresponse.{}] section saying how children without a row in it are adjusted for",
                        i.table, i.table
                    ),
                );
            }
            indicators.push(i);
        }
    }
    if raw.indicators.is_empty() {
        v.error(
            None,
            "indicator",
            0..0,
            "the catalogue defines no [[indicator]]".into(),
        );
    }
    if v.errors.is_empty() {
        Ok(Catalogue {
            file: file.to_path_buf(),
            indicators,
            nonresponse,
            families: Default::default(),
        })
    } else {
        Err(CatalogErrors(v.errors))
    }
}

/// A missing rule as written, before checking it against a table's codes.
struct RuleDraft {
    rule: MissingRule,
    span: Range<usize>,
}

struct Validator<'a> {
    file: &'a Path,
    text: &'a str,
    errors: Vec<CatalogError>,
}

impl Validator<'_> {
    fn error(&mut self, indicator: Option<&str>, key: &str, span: Range<usize>, message: String) {
        self.error_at(indicator, key, span.start, message);
    }

    fn error_at(&mut self, indicator: Option<&str>, key: &str, pos: usize, message: String) {
        let (line, column) = if pos == 0 && self.text.is_empty() {
            (0, 0)
        } else {
            line_column(self.text, pos)
        };
        self.errors.push(CatalogError {
            file: self.file.to_path_buf(),
            line,
            column,
            indicator: indicator.map(str::to_string),
            key: key.to_string(),
            message,
        });
    }

    fn missing_rules(
        &mut self,
        raw: &BTreeMap<String, Spanned<BTreeMap<String, Spanned<String>>>>,
    ) -> BTreeMap<String, RuleDraft> {
        let mut out = BTreeMap::new();
        for (name, entries) in raw {
            let mut rule = MissingRule {
                name: name.clone(),
                description: String::new(),
                treatments: BTreeMap::new(),
            };
            for (code, value) in entries.get_ref() {
                if code == "description" {
                    rule.description = value.get_ref().clone();
                    continue;
                }
                let treatment = match value.get_ref().as_str() {
                    "exclude" => MissingTreatment::Exclude,
                    "no" => MissingTreatment::CountAsNo,
                    other => {
                        self.error(None, &format!("missing_rules.{name}.{code}"), value.span(), format!("is \"{other}\": expected \"exclude\" (leaves the denominator) or \"no\" (counted as no)"));
                        continue;
                    }
                };
                if code == NOT_COLLECTED && treatment != MissingTreatment::Exclude {
                    self.error(None, &format!("missing_rules.{name}.{code}"), value.span(), "must be \"exclude\": a question the country did not ask is flagged not_collected, never counted as no".into());
                }
                rule.treatments.insert(code.clone(), treatment);
            }
            if rule.description.trim().is_empty() {
                self.error(
                    None,
                    &format!("missing_rules.{name}"),
                    entries.span(),
                    "needs a `description` saying what the rule means".into(),
                );
            }
            out.insert(
                name.clone(),
                RuleDraft {
                    rule,
                    span: entries.span(),
                },
            );
        }
        out
    }

    /// The `[nonresponse.<table>]` sections: a table other than the design table that joins it, class columns of
    /// the design table (labels or text, each once), at least one respondent per class and a description.
    fn nonresponse(
        &mut self,
        raw: &BTreeMap<String, Spanned<RawNonresponse>>,
        pipeline: &PipelineConfig,
        schemas: &SchemaSet,
    ) -> BTreeMap<String, NonresponseRule> {
        let mut out = BTreeMap::new();
        for (table, section) in raw {
            let key = format!("nonresponse.{table}");
            let span = section.span();
            let section = section.get_ref();
            let errors_before = self.errors.len();
            let joined = pipeline
                .joins
                .get(table)
                .is_some_and(|j| j.table == DESIGN_TABLE);
            if table == DESIGN_TABLE || !joined {
                self.error(None, &key, span.clone(), format!("`{table}` is not a table estimated on the `{DESIGN_TABLE}` design (it needs a join to `{DESIGN_TABLE}` in {})", pipeline.file.display()));
            }
            if section.description.trim().is_empty() {
                self.error(
                    None,
                    &key,
                    span.clone(),
                    "needs a `description` of the adjustment".into(),
                );
            }
            let classes = section.classes.get_ref();
            let design = schemas.get(DESIGN_TABLE);
            if classes.is_empty() {
                self.error(
                    None,
                    &format!("{key}.classes"),
                    section.classes.span(),
                    "names no column: give at least one column of the design table".into(),
                );
            }
            for (i, c) in classes.iter().enumerate() {
                let field = design.and_then(|d| d.field(c));
                let usable = field.is_some_and(|f| {
                    f.categories.is_some() || f.field_type == dh_config::FieldType::String
                });
                if classes[..i].contains(c) {
                    self.error(
                        None,
                        &format!("{key}.classes"),
                        section.classes.span(),
                        format!("`{c}` is listed twice"),
                    );
                } else if !usable {
                    self.error(None, &format!("{key}.classes"), section.classes.span(), format!("`{c}` is not a categorical or text column of `{DESIGN_TABLE}` (classes are formed for every child, interviewed caregiver or not)"));
                }
            }
            let min = *section.min_respondents.get_ref();
            if min < 1 {
                self.error(
                    None,
                    &format!("{key}.min_respondents"),
                    section.min_respondents.span(),
                    format!("is {min}: a class needs at least 1 respondent"),
                );
            }
            if self.errors.len() == errors_before {
                out.insert(
                    table.clone(),
                    NonresponseRule {
                        table: table.clone(),
                        description: section.description.clone(),
                        classes: classes.clone(),
                        min_respondents: min as usize,
                    },
                );
            }
        }
        out
    }

    fn indicator(
        &mut self,
        raw: &RawIndicator,
        defaults: &RawDefaults,
        rules: &BTreeMap<String, RuleDraft>,
        pipeline: &PipelineConfig,
        schemas: &SchemaSet,
    ) -> Option<Indicator> {
        let id = raw.id.get_ref().as_str();
        let errors_before = self.errors.len();
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            self.error(
                Some(id),
                "id",
                raw.id.span(),
                "must be non-empty lowercase letters, digits and `_`".into(),
            );
        }
        let version = raw.version.get_ref();
        let parts: Vec<&str> = version.split('.').collect();
        if parts.len() != 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            self.error(
                Some(id),
                "version",
                raw.version.span(),
                format!("is \"{version}\": expected MAJOR.MINOR.PATCH, e.g. \"1.0.0\""),
            );
        }
        let table = raw.table.get_ref();
        let Some(columns) = table_columns(schemas, pipeline, table) else {
            let known: Vec<&str> = schemas.tables.keys().map(String::as_str).collect();
            self.error(
                Some(id),
                "table",
                raw.table.span(),
                format!(
                    "no harmonised schema defines table `{table}` (known: {})",
                    known.join(", ")
                ),
            );
            return None;
        };
        let statistic = Statistic::parse(raw.statistic.get_ref());
        if statistic.is_none() {
            self.error(
                Some(id),
                "statistic",
                raw.statistic.span(),
                format!(
                    "is \"{}\": expected \"proportion\", \"mean\" or \"count\"",
                    raw.statistic.get_ref()
                ),
            );
        }
        let universe = self.expression(id, "universe", &raw.universe, &columns);
        let numerator = raw
            .numerator
            .as_ref()
            .and_then(|n| self.expression(id, "numerator", n, &columns));
        let variable = raw.variable.as_ref().map(|v| v.get_ref().clone());
        if let Some(stat) = statistic {
            self.statistic_fields(id, raw, stat, &columns);
        }
        let ci_method = match (&raw.ci_method, statistic) {
            (Some(m), Some(stat)) => match CiMethod::parse(m.get_ref()) {
                Some(method) if method.fits(stat) => Some(method),
                _ => {
                    self.error(
                        Some(id),
                        "ci_method",
                        m.span(),
                        format!(
                            "is \"{}\": a {} takes {}",
                            m.get_ref(),
                            stat.name(),
                            match stat {
                                Statistic::Proportion => "\"logit\" or \"korn_graubard\"",
                                _ => "\"wald\"",
                            }
                        ),
                    );
                    None
                }
            },
            (None, Some(stat)) => Some(CiMethod::default_for(stat)),
            _ => None,
        };
        let unit = statistic.and_then(|stat| {
            let declared = raw.unit.as_ref().map(|u| u.get_ref().as_str());
            match crate::units::resolve(stat.name(), table, declared) {
                Ok(unit) => Some(unit),
                Err(message) => {
                    let span = raw.unit.as_ref().map_or(raw.statistic.span(), |u| u.span());
                    self.error(Some(id), "unit", span, message);
                    None
                }
            }
        });
        let missing_rule = self.rule_for(id, &raw.missing_rule, rules, &columns);
        let disaggregations = self.disaggregations(id, raw, defaults, pipeline, &columns);
        for (key, text) in [
            ("label", &raw.label),
            ("universe_label", &raw.universe_label),
            ("missing_rationale", &raw.missing_rationale),
            ("comparability", &raw.comparability),
        ] {
            if text.trim().is_empty() {
                self.error(Some(id), key, raw.id.span(), "must not be empty".into());
            }
        }
        if self.errors.len() > errors_before {
            return None;
        }
        let (line, _) = line_column(self.text, raw.id.span().start);
        Some(Indicator {
            id: id.to_string(),
            label: raw.label.clone(),
            version: version.clone(),
            table: table.clone(),
            universe: universe?,
            universe_label: raw.universe_label.clone(),
            numerator,
            variable,
            missing_rule: missing_rule?,
            missing_rationale: raw.missing_rationale.clone(),
            statistic: statistic?,
            unit: unit?,
            ci_method: ci_method?,
            nonresponse: None,
            disaggregations,
            comparability: raw.comparability.clone(),
            notes: raw.notes.clone(),
            location: Location {
                file: self.file.to_path_buf(),
                line,
            },
        })
    }

    fn expression(
        &mut self,
        id: &str,
        key: &str,
        raw: &Spanned<String>,
        columns: &Columns,
    ) -> Option<Compiled> {
        let source = raw.get_ref();
        match compile(source, columns) {
            Ok(c) => Some(c),
            Err(ExprError::Parse(p)) => {
                let pos = position_in_string(self.text, &raw.span(), source, p.offset);
                self.error_at(Some(id), key, pos, p.to_string());
                None
            }
            Err(ExprError::Check(c)) => {
                // One located error per problem, so each points at its own line and column.
                for e in &c.errors {
                    let pos = position_in_string(self.text, &raw.span(), source, e.offset);
                    let message = format!(
                        "{} at byte {}\n{}",
                        e.kind,
                        e.offset,
                        caret(source, e.offset)
                    );
                    self.error_at(Some(id), key, pos, message);
                }
                None
            }
        }
    }

    fn statistic_fields(
        &mut self,
        id: &str,
        raw: &RawIndicator,
        stat: Statistic,
        columns: &Columns,
    ) {
        match stat {
            Statistic::Proportion | Statistic::Count => {
                if raw.numerator.is_none() {
                    self.error(
                        Some(id),
                        "numerator",
                        raw.statistic.span(),
                        format!("a {} needs a `numerator` expression", stat.name()),
                    );
                }
                if let Some(v) = &raw.variable {
                    self.error(
                        Some(id),
                        "variable",
                        v.span(),
                        format!("a {} has no `variable`; use `numerator`", stat.name()),
                    );
                }
            }
            Statistic::Mean => {
                if let Some(n) = &raw.numerator {
                    self.error(
                        Some(id),
                        "numerator",
                        n.span(),
                        "a mean has no `numerator`; name the numeric column in `variable`".into(),
                    );
                }
                match &raw.variable {
                    None => self.error(
                        Some(id),
                        "variable",
                        raw.statistic.span(),
                        "a mean needs a numeric `variable`".into(),
                    ),
                    Some(v) => {
                        if columns.get(v.get_ref()) != Some(&ColumnKind::Number) {
                            self.error(
                                Some(id),
                                "variable",
                                v.span(),
                                format!("`{}` is not a numeric column of the table", v.get_ref()),
                            );
                        }
                    }
                }
            }
        }
    }

    /// The named rule, checked to cover exactly `null` plus the table's missing codes.
    fn rule_for(
        &mut self,
        id: &str,
        name: &Spanned<String>,
        rules: &BTreeMap<String, RuleDraft>,
        columns: &Columns,
    ) -> Option<MissingRule> {
        let Some(draft) = rules.get(name.get_ref()) else {
            let known: Vec<&str> = rules.keys().map(String::as_str).collect();
            self.error(
                Some(id),
                "missing_rule",
                name.span(),
                format!(
                    "no [missing_rules.{}] is defined (known: {})",
                    name.get_ref(),
                    known.join(", ")
                ),
            );
            return None;
        };
        let expected: BTreeSet<&str> = std::iter::once(NULL_CAUSE)
            .chain(columns.missing_codes().iter().map(String::as_str))
            .collect();
        let given: BTreeSet<&str> = draft.rule.treatments.keys().map(String::as_str).collect();
        let absent: Vec<&str> = expected.difference(&given).copied().collect();
        let extra: Vec<&str> = given.difference(&expected).copied().collect();
        let mut ok = true;
        if !absent.is_empty() {
            ok = false;
            self.error(Some(id), "missing_rule", name.span(), format!("rule `{}` does not say how {} are treated (state \"exclude\" or \"no\" for each)", draft.rule.name, absent.join(", ")));
        }
        if !extra.is_empty() {
            ok = false;
            self.error(
                Some(id),
                "missing_rule",
                draft.span.clone(),
                format!(
                    "rule `{}` names {}, which the table does not declare as missing codes",
                    draft.rule.name,
                    extra.join(", ")
                ),
            );
        }
        ok.then(|| draft.rule.clone())
    }

    fn disaggregations(
        &mut self,
        id: &str,
        raw: &RawIndicator,
        defaults: &RawDefaults,
        pipeline: &PipelineConfig,
        columns: &Columns,
    ) -> Vec<Disaggregation> {
        let Some(list) = raw
            .disaggregations
            .as_ref()
            .or(defaults.disaggregations.as_ref())
        else {
            self.error(
                Some(id),
                "disaggregations",
                raw.id.span(),
                "no disaggregations given and no [defaults] disaggregations".into(),
            );
            return Vec::new();
        };
        let mut out: Vec<Disaggregation> = Vec::new();
        for d in list.get_ref() {
            let levels = match columns.get(d) {
                Some(ColumnKind::Categorical { labels }) => labels.clone(),
                _ => Vec::new(),
            };
            if out.iter().any(|x| &x.column == d) {
                self.error(
                    Some(id),
                    "disaggregations",
                    list.span(),
                    format!("`{d}` is listed twice"),
                );
            } else if !matches!(columns.get(d), Some(ColumnKind::Categorical { .. })) {
                self.error(
                    Some(id),
                    "disaggregations",
                    list.span(),
                    format!(
                        "`{d}` is not a categorical column of `{}`",
                        raw.table.get_ref()
                    ),
                );
            }
            out.push(Disaggregation {
                column: d.clone(),
                levels,
            });
        }
        for required in &pipeline.required_disaggregations {
            if !out.iter().any(|x| &x.column == required) {
                self.error(
                    Some(id),
                    "disaggregations",
                    list.span(),
                    format!(
                        "must include `{required}` (required by {})",
                        pipeline.file.display()
                    ),
                );
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "catalogue_tests.rs"]
mod tests;
