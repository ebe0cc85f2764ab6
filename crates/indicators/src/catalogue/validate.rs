//! Validation of one indicator against the harmonised schemas: id and version, table, statistic and its fields,
//! expressions (compiled with `dh-expr`), confidence-interval method, unit, missing rule and disaggregations.
//! Every problem is recorded with its file, line, column, indicator and key.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use dh_config::SchemaSet;
use dh_expr::error::caret;
use dh_expr::{ColumnKind, Columns, Compiled, ExprError, compile};
use toml::Spanned;

use crate::columns::table_columns;
use crate::error::CatalogError;
use crate::location::{line_column, position_in_string};
use crate::pipeline_config::PipelineConfig;

use super::read::{RawDefaults, RawIndicator};
use super::rules::RuleDraft;
use super::types::{CiMethod, Disaggregation, Indicator, Location, Statistic};

pub(super) struct Validator<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
    pub(super) errors: Vec<CatalogError>,
}

impl Validator<'_> {
    pub(super) fn error(
        &mut self,
        indicator: Option<&str>,
        key: &str,
        span: Range<usize>,
        message: String,
    ) {
        self.error_at(indicator, key, span.start, message);
    }

    pub(super) fn error_at(
        &mut self,
        indicator: Option<&str>,
        key: &str,
        pos: usize,
        message: String,
    ) {
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

    /// One indicator, checked against its table's schema; `None` when any problem was recorded for it.
    pub(super) fn indicator(
        &mut self,
        raw: &RawIndicator,
        defaults: &RawDefaults,
        rules: &BTreeMap<String, RuleDraft>,
        pipeline: &PipelineConfig,
        schemas: &SchemaSet,
    ) -> Option<Indicator> {
        let id = raw.id.get_ref().as_str();
        let errors_before = self.errors.len();
        self.id_and_version(id, raw);
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
        let ci_method = self.ci_method(id, raw, statistic);
        let unit = self.unit(id, raw, table, statistic);
        let missing_rule = self.rule_for(id, &raw.missing_rule, rules, &columns);
        let disaggregations = self.disaggregations(id, raw, defaults, pipeline, &columns);
        self.texts_present(id, raw);
        if self.errors.len() > errors_before {
            return None;
        }
        let (line, _) = line_column(self.text, raw.id.span().start);
        Some(Indicator {
            id: id.to_string(),
            label: raw.label.clone(),
            version: raw.version.get_ref().clone(),
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

    /// The id is lowercase letters, digits and `_`; the version is MAJOR.MINOR.PATCH.
    fn id_and_version(&mut self, id: &str, raw: &RawIndicator) {
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
    }

    /// The confidence-interval method: as written if it fits the statistic, the statistic's default if absent.
    fn ci_method(
        &mut self,
        id: &str,
        raw: &RawIndicator,
        statistic: Option<Statistic>,
    ) -> Option<CiMethod> {
        match (&raw.ci_method, statistic) {
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
        }
    }

    /// The unit of the values: derived from the statistic and table, or declared (and checked).
    fn unit(
        &mut self,
        id: &str,
        raw: &RawIndicator,
        table: &str,
        statistic: Option<Statistic>,
    ) -> Option<String> {
        statistic.and_then(|stat| {
            let declared = raw.unit.as_ref().map(|u| u.get_ref().as_str());
            match crate::units::resolve(stat.name(), table, declared) {
                Ok(unit) => Some(unit),
                Err(message) => {
                    let span = raw.unit.as_ref().map_or(raw.statistic.span(), |u| u.span());
                    self.error(Some(id), "unit", span, message);
                    None
                }
            }
        })
    }

    /// The free-text fields a reader relies on are not empty.
    fn texts_present(&mut self, id: &str, raw: &RawIndicator) {
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
    }

    pub(super) fn expression(
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

    pub(super) fn statistic_fields(
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

    pub(super) fn disaggregations(
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
