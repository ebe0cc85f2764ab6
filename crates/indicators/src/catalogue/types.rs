//! The validated catalogue: [`Catalogue`], [`Indicator`] and their parts, and how `dh indicators show` prints an
//! indicator.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use dh_expr::{Compiled, MissingTreatment};

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
    pub(super) fn parse(s: &str) -> Option<Self> {
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
    pub(super) fn parse(s: &str) -> Option<Self> {
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

    pub(super) fn fits(self, statistic: Statistic) -> bool {
        match statistic {
            Statistic::Proportion => matches!(self, CiMethod::Logit | CiMethod::KornGraubard),
            Statistic::Mean | Statistic::Count => self == CiMethod::Wald,
        }
    }

    pub(super) fn default_for(statistic: Statistic) -> Self {
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
