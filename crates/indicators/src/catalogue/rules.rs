//! The catalogue's missing-code rules (`[missing_rules.*]`) and nonresponse sections (`[nonresponse.*]`), and the
//! check that an indicator's rule covers exactly `null` plus its table's missing codes.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use dh_config::SchemaSet;
use dh_expr::{Columns, MissingTreatment};
use toml::Spanned;

use crate::pipeline_config::PipelineConfig;

use super::read::RawNonresponse;
use super::types::{MissingRule, NOT_COLLECTED, NULL_CAUSE, NonresponseRule};
use super::validate::Validator;

/// A missing rule as written, before checking it against a table's codes.
pub(super) struct RuleDraft {
    pub(super) rule: MissingRule,
    pub(super) span: Range<usize>,
}

impl Validator<'_> {
    pub(super) fn missing_rules(
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
    pub(super) fn nonresponse(
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
            let design_table = design_table(pipeline, schemas);
            let joined = pipeline
                .joins
                .get(table)
                .is_some_and(|j| j.table == design_table);
            if table == design_table || !joined {
                self.error(None, &key, span.clone(), format!("`{table}` is not a table estimated on the `{design_table}` design (it needs a join to `{design_table}` in {})", pipeline.file.display()));
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
            let design = schemas.get(design_table);
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
                    self.error(None, &format!("{key}.classes"), section.classes.span(), format!("`{c}` is not a categorical or text column of `{design_table}` (classes are formed for every child, interviewed caregiver or not)"));
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
    /// The named rule, checked to cover exactly `null` plus the table's missing codes.
    pub(super) fn rule_for(
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
}

/// The design table: the one the pipeline configuration recorded, else the one the schemas define
/// ([`dh_config::design_table`]; empty when they define none, which loading reports).
pub(super) fn design_table<'a>(pipeline: &'a PipelineConfig, schemas: &'a SchemaSet) -> &'a str {
    if pipeline.design_table.is_empty() {
        dh_config::design_table(schemas).unwrap_or_default()
    } else {
        &pipeline.design_table
    }
}
