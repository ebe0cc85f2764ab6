//! Reading `indicators.toml`: its raw (span-carrying) form, and the assembly of the validated [`Catalogue`] from it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use dh_config::SchemaSet;
use serde::Deserialize;
use toml::Spanned;

use crate::columns::join_problems;
use crate::error::{CatalogError, CatalogErrors};
use crate::pipeline_config::{PipelineConfig, read, toml_error};

use super::types::Catalogue;
use super::validate::Validator;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCatalogue {
    pub(super) format_version: Spanned<u32>,
    #[serde(default)]
    pub(super) defaults: RawDefaults,
    #[serde(default)]
    pub(super) missing_rules: BTreeMap<String, Spanned<BTreeMap<String, Spanned<String>>>>,
    #[serde(default, rename = "indicator")]
    pub(super) indicators: Vec<RawIndicator>,
    #[serde(default)]
    pub(super) nonresponse: BTreeMap<String, Spanned<RawNonresponse>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNonresponse {
    pub(super) description: String,
    pub(super) classes: Spanned<Vec<String>>,
    pub(super) min_respondents: Spanned<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub(super) disaggregations: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIndicator {
    pub(super) id: Spanned<String>,
    pub(super) label: String,
    pub(super) version: Spanned<String>,
    pub(super) table: Spanned<String>,
    pub(super) universe: Spanned<String>,
    pub(super) universe_label: String,
    pub(super) numerator: Option<Spanned<String>>,
    pub(super) variable: Option<Spanned<String>>,
    pub(super) missing_rule: Spanned<String>,
    pub(super) missing_rationale: String,
    pub(super) statistic: Spanned<String>,
    pub(super) ci_method: Option<Spanned<String>>,
    pub(super) unit: Option<Spanned<String>>,
    pub(super) disaggregations: Option<Spanned<Vec<String>>>,
    pub(super) comparability: String,
    #[serde(default)]
    pub(super) notes: String,
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
    let design_table = super::rules::design_table(pipeline, schemas);
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
            if i.table != design_table
                && i.nonresponse.is_none()
                && !raw.nonresponse.contains_key(&i.table)
            {
                v.error(
                    Some(&i.id),
                    "table",
                    ind.table.span(),
                    format!(
                        "`{}` is estimated on the `{design_table}` design: add a [nonresponse.{}] section saying how children without a row in it are adjusted for",
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
