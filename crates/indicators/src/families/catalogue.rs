//! The family indicator catalogue, `pipelines/families.toml` (beside the survey catalogue): indicators of the
//! frontline-worker survey, the interviews and the law-enforcement tables. Unweighted by design: these tables are
//! not probability samples (frontline workers, interviews) or are administrative records (police cases,
//! CyberTipline counts), so they have their own statistics ([`FamilyStatistic`]) instead of the survey design.
//!
//! ```toml
//! format_version = 1
//! [[indicator]]
//! id = "le_cases_technology_share"
//! label = "..."
//! version = "1.0.0"
//! table = "police_cases"          # a harmonised table, or `interview_themes` (one row per interview, see below)
//! statistic = "share"             # unweighted_proportion | share | count | total | rate_per_10000 | change
//!                                 # | categorical
//! universe = 'technology_involved in ["yes", "no"]'
//! universe_label = "..."
//! numerator = 'technology_involved == "yes"'   # proportion, share; optional filter for count and total
//! variable = "reports"            # total, rate_per_10000, change: the numeric column summed; share: optional,
//!                                 # a share of its sum (not of rows); categorical: the categorical column
//! baseline = 'year == {ref_first}' # change: the rows of the earlier period (universe = the later period)
//! disaggregations = ["year"]      # categorical or integer columns (integer levels come from the data)
//! disclosure_control = true       # withhold cells under 5 (default: true except for unweighted_proportion and
//!                                 # categorical, which has none)
//! unit = "reports"                # what the value counts or measures: required where it does not follow from
//!                                 # the statistic and table (total, rate_per_10000, counts of other tables;
//!                                 # see crate::units), e.g. "year" for a year (written 2013)
//! comparability = "..."
//! ```
//!
//! `{ref_first}`, `{ref_last}` (and `{reference_years}` in labels) are the country's reference years
//! ([`super::reference_years`]).
//!
//! `interview_themes` is built from `interview_register` and `interview_segments`: one row per registered
//! interview with its `participant_group` and one yes/no column `theme_<label>` per harmonised theme (`yes` when
//! at least one segment of the interview was coded with it).

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use dh_config::SchemaSet;
use dh_config::schema::FieldType;
use dh_expr::{ColumnKind, Columns, Compiled, compile};
use serde::Deserialize;
use toml::Spanned;

use super::reference_years::{
    REF_FIRST, REF_LAST, REFERENCE_YEARS, generic_text, substitute, unknown_placeholder,
    uses_reference_years,
};
use crate::error::{CatalogError, CatalogErrors};
use crate::location::line_column;
use crate::pipeline_config::{read, toml_error};
use dh_config::country::ReferenceYears;

/// File name of the family catalogue, beside the survey catalogue.
pub const FAMILY_CATALOGUE_FILE: &str = "families.toml";
/// The per-interview table built from the register and the coded segments.
pub const INTERVIEW_THEMES: &str = "interview_themes";
pub const REGISTER_TABLE: &str = "interview_register";
pub const SEGMENTS_TABLE: &str = "interview_segments";
/// Prefix of the per-theme columns of [`INTERVIEW_THEMES`].
pub const THEME_PREFIX: &str = "theme_";

/// What a family indicator computes (always unweighted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyStatistic {
    /// Share of the universe with the numerator, Wilson interval, flagged `non_representative`.
    UnweightedProportion,
    /// Share of the universe with the numerator (records, not a sample), Wilson interval, small-count control.
    Share,
    /// Number of rows of the universe with the numerator; counts under 5 withheld.
    Count,
    /// Sum of `variable` over the universe; sums under 5 withheld.
    Total,
    /// Sum of `variable` per 10,000 internet-using children aged 12-17 (config population).
    RatePer10000,
    /// Relative change of the sum of `variable` from the `baseline` rows to the universe rows.
    Change,
    /// The codebook code of the categorical `variable` in the one record of each level of its breakdown (e.g. a
    /// provision's status: 1 yes ... 4 unclear), its label in `estimate_label`; no total row, no disclosure
    /// control; a level without a record is `not_collected`.
    Categorical,
}

impl FamilyStatistic {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "unweighted_proportion" => Self::UnweightedProportion,
            "share" => Self::Share,
            "count" => Self::Count,
            "total" => Self::Total,
            "rate_per_10000" => Self::RatePer10000,
            "change" => Self::Change,
            "categorical" => Self::Categorical,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::UnweightedProportion => "unweighted_proportion",
            Self::Share => "share",
            Self::Count => "count",
            Self::Total => "total",
            Self::RatePer10000 => "rate_per_10000",
            Self::Change => "change",
            Self::Categorical => "categorical",
        }
    }

    fn needs_variable(self) -> bool {
        matches!(
            self,
            Self::Total | Self::RatePer10000 | Self::Change | Self::Categorical
        )
    }

    /// Whether `variable` may be given (required or optional).
    fn takes_variable(self) -> bool {
        self.needs_variable() || self == Self::Share
    }

    fn needs_numerator(self) -> bool {
        matches!(self, Self::UnweightedProportion | Self::Share)
    }
}

/// A breakdown column: categorical levels in schema order, or integer levels taken from the data.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyDomain {
    pub column: String,
    /// Empty for integer columns (levels = the distinct values present, ascending).
    pub levels: Vec<String>,
    /// The wording of levels whose schema category has a `title` (a checklist provision's text), by label.
    pub titles: std::collections::BTreeMap<String, String>,
}

/// A validated family indicator. Expressions and labels may name the country's reference years
/// (`{ref_first}`, `{ref_last}`, `{reference_years}`: [`super::reference_years`]); the catalogue holds them
/// compiled with the default years (2017-2019) and [`FamilyIndicator::for_country`] gives a country's copy.
#[derive(Debug, Clone)]
pub struct FamilyIndicator {
    pub id: String,
    /// The label as one text for every country: reference-year constants in words when it has any (see
    /// [`super::reference_years::generic_text`]); a country's copy has its years.
    pub label: String,
    pub version: String,
    pub table: String,
    pub statistic: FamilyStatistic,
    /// What the value counts or measures (the `unit` column; [`crate::units`]).
    pub unit: String,
    pub universe: Compiled,
    pub universe_label: String,
    pub numerator: Option<Compiled>,
    pub variable: Option<String>,
    pub baseline: Option<Compiled>,
    pub disaggregations: Vec<FamilyDomain>,
    /// A categorical statistic's codebook (code, label) of `variable`, in schema order; empty otherwise.
    pub codes: Vec<(i64, String)>,
    /// Withhold cells under 5 (default: on for every statistic except `unweighted_proportion`).
    pub disclosure_control: bool,
    pub comparability: String,
    /// The texts as written in the catalogue, constants included.
    pub templates: Templates,
    /// The expression columns of `table` (to compile a country's copy).
    pub columns: Columns,
}

/// An indicator's texts as written, before the reference years are substituted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Templates {
    pub label: String,
    pub universe_label: String,
    pub universe: String,
    pub numerator: Option<String>,
    pub baseline: Option<String>,
}

impl Templates {
    fn texts(&self) -> impl Iterator<Item = &str> {
        [
            self.label.as_str(),
            self.universe_label.as_str(),
            self.universe.as_str(),
        ]
        .into_iter()
        .chain(self.numerator.as_deref())
        .chain(self.baseline.as_deref())
    }

    /// True when any text names a reference-year constant.
    pub fn uses_reference_years(&self) -> bool {
        self.texts().any(uses_reference_years)
    }
}

impl FamilyIndicator {
    /// True when the indicator depends on the country's reference years.
    pub fn uses_reference_years(&self) -> bool {
        self.templates.uses_reference_years()
    }

    /// The indicator for a country whose administrative data cover `years`: its expressions compiled and its
    /// labels written with those years (the indicator itself when it names no reference year).
    pub fn for_country(
        &self,
        years: ReferenceYears,
    ) -> Result<std::borrow::Cow<'_, FamilyIndicator>, dh_expr::ExprError> {
        if !self.uses_reference_years() {
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        let t = &self.templates;
        let expr = |text: &str| compile(&substitute(text, years), &self.columns);
        let mut copy = self.clone();
        copy.label = substitute(&t.label, years);
        copy.universe_label = substitute(&t.universe_label, years);
        copy.universe = expr(&t.universe)?;
        copy.numerator = t.numerator.as_deref().map(expr).transpose()?;
        copy.baseline = t.baseline.as_deref().map(expr).transpose()?;
        Ok(std::borrow::Cow::Owned(copy))
    }
}

impl std::fmt::Display for FamilyIndicator {
    /// The full definition, as printed by `dh indicators show`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::catalogue::indent;
        writeln!(f, "id:              {}", self.id)?;
        writeln!(f, "label:           {}", self.templates.label)?;
        writeln!(f, "version:         {}", self.version)?;
        writeln!(f, "defined in:      {FAMILY_CATALOGUE_FILE}")?;
        writeln!(f, "source table:    {}", self.table)?;
        writeln!(f, "statistic:       {} (unweighted)", self.statistic.name())?;
        writeln!(f, "unit:            {}", self.unit)?;
        writeln!(f, "universe:        {}", self.templates.universe_label)?;
        writeln!(f, "  expression:    {}", indent(&self.templates.universe))?;
        if let Some(n) = &self.templates.numerator {
            writeln!(f, "numerator:       {}", indent(n))?;
        }
        if let Some(v) = &self.variable {
            writeln!(f, "variable:        {v}")?;
        }
        if let Some(b) = &self.templates.baseline {
            writeln!(f, "baseline:        {}", indent(b))?;
        }
        if self.uses_reference_years() {
            writeln!(
                f,
                "reference years: {{ref_first}}, {{ref_last}} are each country's country.reference_years \
                 (default {}-{}); no row in them gives not_collected",
                ReferenceYears::default().first,
                ReferenceYears::default().last
            )?;
        }
        let breakdowns: Vec<String> = self
            .disaggregations
            .iter()
            .map(|d| {
                if d.levels.is_empty() {
                    format!("{} (values present)", d.column)
                } else {
                    format!("{} ({})", d.column, d.levels.join(", "))
                }
            })
            .collect();
        writeln!(
            f,
            "disaggregations: total{}{}",
            if breakdowns.is_empty() { "" } else { ", " },
            breakdowns.join("; ")
        )?;
        writeln!(
            f,
            "disclosure:      {}",
            if self.disclosure_control {
                "counts from 1 to 4 withheld (shown as <5), with complementary withholding"
            } else if self.statistic == FamilyStatistic::Categorical {
                "none (a status, not a count of people)"
            } else {
                "none (non-representative proportions with Wilson intervals)"
            }
        )?;
        writeln!(f, "comparability:   {}", self.comparability)
    }
}

/// The validated family catalogue (empty when `pipelines/families.toml` does not exist).
#[derive(Debug, Clone, Default)]
pub struct FamilyCatalogue {
    pub file: PathBuf,
    pub indicators: Vec<FamilyIndicator>,
    /// Harmonised theme labels of `interview_segments` (the columns of `interview_themes`).
    pub themes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    format_version: Spanned<i64>,
    #[serde(default, rename = "indicator")]
    indicators: Vec<RawIndicator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: Spanned<String>,
    label: String,
    version: String,
    table: Spanned<String>,
    statistic: Spanned<String>,
    universe: Spanned<String>,
    universe_label: String,
    #[serde(default)]
    numerator: Option<Spanned<String>>,
    #[serde(default)]
    variable: Option<Spanned<String>>,
    #[serde(default)]
    baseline: Option<Spanned<String>>,
    #[serde(default)]
    disaggregations: Vec<Spanned<String>>,
    #[serde(default)]
    disclosure_control: Option<bool>,
    #[serde(default)]
    unit: Option<Spanned<String>>,
    #[serde(default)]
    comparability: String,
}

/// Loads `<dir>/families.toml` if it exists (an absent file is an empty catalogue).
pub fn load_family_catalogue(
    dir: &Path,
    schemas: &SchemaSet,
) -> Result<FamilyCatalogue, CatalogErrors> {
    let file = dir.join(FAMILY_CATALOGUE_FILE);
    if !file.is_file() {
        return Ok(FamilyCatalogue::default());
    }
    let text = read(&file).map_err(|e| CatalogErrors(vec![e]))?;
    parse_family_catalogue(&file, &text, schemas)
}

/// The expression columns of a family table (harmonised or [`INTERVIEW_THEMES`]) and its integer columns.
pub fn family_columns(schemas: &SchemaSet, table: &str) -> Option<(Columns, BTreeSet<String>)> {
    if table == INTERVIEW_THEMES {
        let register = schemas.get(REGISTER_TABLE)?;
        let segments = schemas.get(SEGMENTS_TABLE)?;
        let mut columns = Columns::new(Vec::<String>::new());
        columns.insert(
            "participant_group",
            register.expr_columns().get("participant_group")?.clone(),
        );
        for theme in theme_labels(segments) {
            columns.insert(
                format!("{THEME_PREFIX}{theme}"),
                ColumnKind::Categorical {
                    labels: vec!["yes".into(), "no".into()],
                },
            );
        }
        return Some((columns, BTreeSet::new()));
    }
    let schema = schemas.get(table)?;
    let integers = schema
        .fields
        .iter()
        .filter(|f| matches!(f.field_type, FieldType::Integer | FieldType::Number))
        .map(|f| f.name.clone())
        .collect();
    Some((schema.expr_columns(), integers))
}

/// The harmonised theme labels of the coded-segments table.
pub fn theme_labels(segments: &dh_config::TableSchema) -> Vec<String> {
    segments
        .field("theme")
        .and_then(|f| f.categories.as_ref())
        .map(|c| c.iter().map(|c| c.label.clone()).collect())
        .unwrap_or_default()
}

struct Validator<'a> {
    file: &'a Path,
    text: &'a str,
    errors: Vec<CatalogError>,
}

impl Validator<'_> {
    fn error(&mut self, indicator: &str, key: &str, span: Range<usize>, message: String) {
        let (line, column) = line_column(self.text, span.start);
        self.errors.push(CatalogError {
            file: self.file.to_path_buf(),
            line,
            column,
            indicator: (!indicator.is_empty()).then(|| indicator.to_string()),
            key: key.to_string(),
            message,
        });
    }

    fn expression(
        &mut self,
        id: &str,
        key: &str,
        source: &Spanned<String>,
        columns: &Columns,
    ) -> Option<Compiled> {
        if let Some(unknown) = unknown_placeholder(source.get_ref()) {
            self.error(id, key, source.span(), unknown_constant(&unknown));
            return None;
        }
        match compile(
            &substitute(source.get_ref(), ReferenceYears::default()),
            columns,
        ) {
            Ok(c) => Some(c),
            Err(e) => {
                self.error(id, key, source.span(), e.to_string());
                None
            }
        }
    }

    fn indicator(&mut self, raw: &RawIndicator, schemas: &SchemaSet) -> Option<FamilyIndicator> {
        let id = raw.id.get_ref().as_str();
        let statistic = FamilyStatistic::parse(raw.statistic.get_ref());
        if statistic.is_none() {
            self.error(
                id,
                "statistic",
                raw.statistic.span(),
                format!(
                    "`{}` is not a family statistic; use unweighted_proportion, share, count, total, \
                     rate_per_10000, change or categorical",
                    raw.statistic.get_ref()
                ),
            );
        }
        let table = raw.table.get_ref();
        let Some((columns, numeric)) = family_columns(schemas, table) else {
            self.error(
                id,
                "table",
                raw.table.span(),
                format!("no harmonised table `{table}` (nor `{INTERVIEW_THEMES}`)"),
            );
            return None;
        };
        let universe = self.expression(id, "universe", &raw.universe, &columns);
        let numerator = match &raw.numerator {
            Some(n) => self.expression(id, "numerator", n, &columns).map(Some),
            None => Some(None),
        };
        let baseline = match &raw.baseline {
            Some(b) => self.expression(id, "baseline", b, &columns).map(Some),
            None => Some(None),
        };
        let codes = match statistic {
            Some(stat) => self.statistic_rules(id, raw, stat, table, schemas, &numeric),
            None => Vec::new(),
        };
        let disaggregations = self.breakdowns(id, raw, table, schemas, &columns, &numeric);
        for (key, text) in [
            ("label", &raw.label),
            ("universe_label", &raw.universe_label),
        ] {
            if let Some(unknown) = unknown_placeholder(text) {
                self.error(id, key, raw.id.span(), unknown_constant(&unknown));
            }
        }
        let unit = statistic.and_then(|stat| {
            let declared = raw.unit.as_ref().map(|u| u.get_ref().as_str());
            match crate::units::resolve(stat.name(), table, declared) {
                Ok(unit) => Some(unit),
                Err(message) => {
                    let span = raw.unit.as_ref().map_or(raw.id.span(), |u| u.span());
                    self.error(id, "unit", span, message);
                    None
                }
            }
        });
        let templates = Templates {
            label: raw.label.clone(),
            universe_label: raw.universe_label.clone(),
            universe: raw.universe.get_ref().clone(),
            numerator: raw.numerator.as_ref().map(|n| n.get_ref().clone()),
            baseline: raw.baseline.as_ref().map(|b| b.get_ref().clone()),
        };
        Some(FamilyIndicator {
            id: id.to_string(),
            label: generic_text(&raw.label),
            version: raw.version.clone(),
            table: table.clone(),
            statistic: statistic?,
            unit: unit?,
            universe: universe?,
            universe_label: generic_text(&raw.universe_label),
            numerator: numerator?,
            variable: raw.variable.as_ref().map(|v| v.get_ref().clone()),
            baseline: baseline?,
            disaggregations,
            codes,
            disclosure_control: raw.disclosure_control.unwrap_or(!matches!(
                statistic?,
                FamilyStatistic::UnweightedProportion | FamilyStatistic::Categorical
            )),
            comparability: raw.comparability.clone(),
            templates,
            columns,
        })
    }
}

impl Validator<'_> {
    /// The breakdown columns of an indicator: categorical (levels and their titles from the schema) or integer.
    fn breakdowns(
        &mut self,
        id: &str,
        raw: &RawIndicator,
        table: &str,
        schemas: &SchemaSet,
        columns: &Columns,
        numeric: &BTreeSet<String>,
    ) -> Vec<FamilyDomain> {
        let mut out = Vec::new();
        for d in &raw.disaggregations {
            let name = d.get_ref();
            match columns.get(name) {
                Some(ColumnKind::Categorical { labels }) => out.push(FamilyDomain {
                    column: name.clone(),
                    levels: labels.clone(),
                    titles: category_titles(schemas, table, name),
                }),
                Some(_) if numeric.contains(name) => out.push(FamilyDomain {
                    column: name.clone(),
                    levels: Vec::new(),
                    titles: Default::default(),
                }),
                _ => self.error(
                    id,
                    "disaggregations",
                    d.span(),
                    format!("`{name}` is not a categorical or integer column of `{table}`"),
                ),
            }
        }
        out
    }

    /// `variable`: required, optional (a share of a sum) or refused by the statistic; categorical for a
    /// `categorical`, numeric otherwise.
    fn variable_rule(
        &mut self,
        id: &str,
        raw: &RawIndicator,
        stat: FamilyStatistic,
        table: &str,
        numeric: &BTreeSet<String>,
        categorical_column: bool,
    ) {
        match (&raw.variable, stat.needs_variable(), stat.takes_variable()) {
            (None, true, _) => self.error(
                id,
                "variable",
                raw.id.span(),
                format!(
                    "a {} needs a {} `variable`",
                    stat.name(),
                    if stat == FamilyStatistic::Categorical {
                        "categorical"
                    } else {
                        "numeric"
                    }
                ),
            ),
            (Some(v), _, false) => self.error(
                id,
                "variable",
                v.span(),
                format!("a {} has no `variable`", stat.name()),
            ),
            (Some(v), _, true) if stat == FamilyStatistic::Categorical && !categorical_column => {
                self.error(
                    id,
                    "variable",
                    v.span(),
                    format!("`{}` is not a categorical column of `{table}`", v.get_ref()),
                )
            }
            (Some(v), _, true)
                if stat != FamilyStatistic::Categorical && !numeric.contains(v.get_ref()) =>
            {
                self.error(
                    id,
                    "variable",
                    v.span(),
                    format!("`{}` is not a numeric column of `{table}`", v.get_ref()),
                )
            }
            _ => {}
        }
    }

    /// The rules that tie a statistic to `numerator`, `variable`, `baseline`, `disaggregations` and
    /// `disclosure_control`; returns a categorical statistic's codebook of `variable`.
    fn statistic_rules(
        &mut self,
        id: &str,
        raw: &RawIndicator,
        stat: FamilyStatistic,
        table: &str,
        schemas: &SchemaSet,
        numeric: &BTreeSet<String>,
    ) -> Vec<(i64, String)> {
        if stat.needs_numerator() && raw.numerator.is_none() {
            self.error(
                id,
                "numerator",
                raw.id.span(),
                format!("a {} needs a `numerator`", stat.name()),
            );
        }
        let categories = raw.variable.as_ref().and_then(|v| {
            schemas
                .get(table)?
                .field(v.get_ref())?
                .categories
                .as_ref()
                .map(|c| {
                    c.iter()
                        .map(|c| (c.value, c.label.clone()))
                        .collect::<Vec<_>>()
                })
        });
        self.variable_rule(id, raw, stat, table, numeric, categories.is_some());
        if (stat == FamilyStatistic::Change) != raw.baseline.is_some() {
            self.error(
                id,
                "baseline",
                raw.id.span(),
                "`baseline` is required for `change` and only for it".into(),
            );
        }
        if stat != FamilyStatistic::Categorical {
            return Vec::new();
        }
        if raw.disaggregations.len() != 1 {
            self.error(
                id,
                "disaggregations",
                raw.id.span(),
                "a categorical needs exactly one breakdown (its rows: one per level, e.g. per provision)"
                    .into(),
            );
        }
        if raw.disclosure_control == Some(true) {
            self.error(
                id,
                "disclosure_control",
                raw.id.span(),
                "a categorical publishes a status, not a count: it has no disclosure control"
                    .into(),
            );
        }
        categories.unwrap_or_default()
    }
}

/// The `title` of each category of `table.column` that has one, by label.
fn category_titles(
    schemas: &SchemaSet,
    table: &str,
    column: &str,
) -> std::collections::BTreeMap<String, String> {
    schemas
        .get(table)
        .and_then(|t| t.field(column))
        .and_then(|f| f.categories.as_ref())
        .map(|c| {
            c.iter()
                .filter_map(|c| Some((c.label.clone(), c.title.clone()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn unknown_constant(token: &str) -> String {
    format!(
        "`{token}` is not a known constant; write {REF_FIRST} or {REF_LAST} (the country's \
         reference_years) or {REFERENCE_YEARS} (first-last, in labels)"
    )
}

/// Parses and validates family catalogue text against `schemas`; every problem is reported.
pub fn parse_family_catalogue(
    file: &Path,
    text: &str,
    schemas: &SchemaSet,
) -> Result<FamilyCatalogue, CatalogErrors> {
    let raw: RawCatalogue =
        toml::from_str(text).map_err(|e| CatalogErrors(vec![toml_error(file, text, &e)]))?;
    let mut v = Validator {
        file,
        text,
        errors: Vec::new(),
    };
    if *raw.format_version.get_ref() != 1 {
        v.error(
            "",
            "format_version",
            raw.format_version.span(),
            "this program reads format_version = 1".into(),
        );
    }
    let mut seen = BTreeSet::new();
    let mut indicators = Vec::new();
    for ind in &raw.indicators {
        if !seen.insert(ind.id.get_ref().clone()) {
            v.error(
                ind.id.get_ref(),
                "id",
                ind.id.span(),
                "is used by an earlier indicator; ids must be unique".into(),
            );
        }
        if let Some(i) = v.indicator(ind, schemas) {
            indicators.push(i);
        }
    }
    if v.errors.is_empty() {
        Ok(FamilyCatalogue {
            file: file.to_path_buf(),
            indicators,
            themes: schemas
                .get(SEGMENTS_TABLE)
                .map(theme_labels)
                .unwrap_or_default(),
        })
    } else {
        Err(CatalogErrors(v.errors))
    }
}
