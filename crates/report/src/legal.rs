//! The legal-framework review in the report and the workbook: the status of each checklist provision per country
//! (the rows of a `categorical` indicator of the `legal_provisions` table, with their `estimate_label`), each
//! status's symbol, words and colour ([`STATUSES`]: the symbol and the words carry the meaning, so the grid reads
//! in grey scale and aloud), the citation and review date of each cell (read from the normalised
//! `legal_provisions` tables the manifest lists), the cross-country grid page ([`grid_page`]) and a country's list
//! of provisions ([`country_provisions`]).

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::AsArray;
use arrow::datatypes::DataType;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use serde_json::Value;

use crate::error::ReportError;
use crate::format::humanise;
use crate::model::Model;
use crate::table::IndicatorRow;

/// The harmonised table of the review.
pub const LEGAL_TABLE: &str = "legal_provisions";
/// The statistic of an indicator whose estimate is a codebook code (its label in `estimate_label`).
pub const CATEGORICAL: &str = "categorical";

/// How one status is shown.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StatusStyle {
    /// The status label (`estimate_label`), or `not_collected`.
    pub status: &'static str,
    /// A symbol that tells the statuses apart without colour.
    pub symbol: &'static str,
    /// The words shown beside the symbol.
    pub words: &'static str,
    /// What the status means (the legend).
    pub meaning: &'static str,
    /// CSS class of the cell (its background colour).
    pub class: &'static str,
}

/// Every status the grid shows, in legend order; the last stands for a provision not in the country's review.
pub const STATUSES: [StatusStyle; 5] = [
    StatusStyle {
        status: "yes",
        symbol: "●",
        words: "yes",
        meaning: "National law or policy provides it.",
        class: "st-yes",
    },
    StatusStyle {
        status: "partial",
        symbol: "◐",
        words: "partial",
        meaning: "Provided in part, or with conditions.",
        class: "st-partial",
    },
    StatusStyle {
        status: "no",
        symbol: "○",
        words: "no",
        meaning: "Not provided.",
        class: "st-no",
    },
    StatusStyle {
        status: "unclear",
        symbol: "?",
        words: "unclear",
        meaning: "The review could not establish it.",
        class: "st-unclear",
    },
    StatusStyle {
        status: "not_collected",
        symbol: "–",
        words: "not reviewed",
        meaning: "Not in the country's review (not collected), or the country did not deliver one.",
        class: "st-none",
    },
];

/// The style of a status label; anything unknown (or a withheld row) is shown as not reviewed.
pub fn style(status: Option<&str>) -> &'static StatusStyle {
    let last = &STATUSES[STATUSES.len() - 1];
    status
        .and_then(|s| STATUSES.iter().find(|st| st.status == s))
        .unwrap_or(last)
}

/// Where a provision's status comes from in one country.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    /// Short reference to the instrument (law, article, year); empty when there is none.
    pub citation: String,
    /// Date of the review (`YYYY-MM-DD`).
    pub review_date: String,
}

/// Key of one indicator row: country, indicator, domain, domain value.
type RowKey = (String, String, String, String);

/// What the report knows of categorical rows besides the indicator table's numbers: each row's `estimate_label`
/// and, for the legal review, each (country, provision)'s citation and review date.
#[derive(Debug, Clone, Default)]
pub struct Review {
    labels: BTreeMap<RowKey, String>,
    sources: BTreeMap<(String, String), Source>,
}

impl Review {
    /// A review given directly (tests, fixtures).
    pub fn from_parts(
        labels: impl IntoIterator<Item = (RowKey, String)>,
        sources: impl IntoIterator<Item = ((String, String), Source)>,
    ) -> Review {
        Review {
            labels: labels.into_iter().collect(),
            sources: sources.into_iter().collect(),
        }
    }

    /// The `estimate_label` of a row (categorical rows only).
    pub fn label(&self, row: &IndicatorRow) -> Option<&str> {
        self.labels
            .get(&(
                row.country.clone(),
                row.indicator.clone(),
                row.domain.clone(),
                row.domain_value.clone(),
            ))
            .map(String::as_str)
    }

    /// The citation and review date of a provision in a country, when the country's table holds it.
    pub fn source(&self, iso3: &str, provision: &str) -> Option<&Source> {
        self.sources.get(&(iso3.to_string(), provision.to_string()))
    }
}

/// Reads the `estimate_label` of every categorical row of `OUT/indicators/indicators.parquet` (none when the
/// table predates the column) and the citations of the normalised `legal_provisions` tables the manifest lists.
pub fn read_review(out_dir: &Path) -> Result<Review, ReportError> {
    let mut review = Review::default();
    let indicators = out_dir.join(crate::INDICATORS_FILE);
    if has_column(&indicators, "estimate_label")? {
        let names = [
            "country",
            "indicator",
            "domain",
            "domain_value",
            "estimate_label",
        ];
        for batch in crate::run_info::open_columns(&indicators, &names)? {
            let batch = batch.map_err(|e| parquet_error(&indicators, &e))?;
            let column = |name: &str| crate::run_info::cells(&indicators, &batch, name);
            let (c, i, d, v) = (
                column("country")?,
                column("indicator")?,
                column("domain")?,
                column("domain_value")?,
            );
            let label = batch
                .column_by_name("estimate_label")
                .map(|a| arrow::compute::cast(a, &DataType::Utf8))
                .transpose()
                .map_err(|e| parquet_error(&indicators, &e))?;
            let Some(label) = label else { continue };
            for (k, l) in label.as_string::<i32>().iter().enumerate() {
                if let Some(l) = l {
                    let key = (c[k].clone(), i[k].clone(), d[k].clone(), v[k].clone());
                    review.labels.insert(key, l.to_string());
                }
            }
        }
    }
    for (iso3, file) in normalised_parts(out_dir, LEGAL_TABLE)? {
        for batch in
            crate::run_info::open_columns(&file, &["provision", "citation", "review_date"])?
        {
            let batch = batch.map_err(|e| parquet_error(&file, &e))?;
            let column = |name: &str| crate::run_info::cells(&file, &batch, name);
            let (p, c, d) = (
                column("provision")?,
                column("citation")?,
                column("review_date")?,
            );
            for k in 0..p.len() {
                let citation = if is_missing_label(&c[k]) {
                    String::new()
                } else {
                    c[k].clone()
                };
                review.sources.insert(
                    (iso3.clone(), p[k].clone()),
                    Source {
                        citation,
                        review_date: d[k].clone(),
                    },
                );
            }
        }
    }
    Ok(review)
}

/// A missing-value label standing in a text column (no citation).
fn is_missing_label(text: &str) -> bool {
    matches!(
        text,
        "" | "not_applicable" | "not_collected" | "dont_know" | "refused"
    )
}

fn parquet_error(path: &Path, e: &dyn std::fmt::Display) -> ReportError {
    ReportError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn has_column(path: &Path, name: &str) -> Result<bool, ReportError> {
    let file = std::fs::File::open(path).map_err(|e| ReportError::io(path, e))?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| parquet_error(path, &e))?;
    Ok(builder.schema().field_with_name(name).is_ok())
}

/// (country, file) of every normalised part of `table` the manifest lists and the folder holds.
fn normalised_parts(
    out_dir: &Path,
    table: &str,
) -> Result<Vec<(String, std::path::PathBuf)>, ReportError> {
    let path = out_dir.join("manifest.json");
    let bytes = std::fs::read(&path).map_err(|e| ReportError::io(&path, e))?;
    let manifest: Value = serde_json::from_slice(&bytes).map_err(|e| ReportError::Json {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let mut out = Vec::new();
    for output in manifest
        .get("outputs")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let file = out_dir.join(text(output, "path"));
        if text(output, "kind") == "normalised" && text(output, "table") == table && file.is_file()
        {
            out.push((text(output, "country"), file));
        }
    }
    Ok(out)
}

/// Whether `id` is an indicator of the legal review shown as a grid (a categorical indicator of
/// [`LEGAL_TABLE`]).
pub fn is_grid(model: &Model<'_>, id: &str) -> bool {
    model
        .definition(id)
        .is_some_and(|d| d.table == LEGAL_TABLE && d.statistic == CATEGORICAL)
}

/// The first grid indicator of the run, if any.
pub fn grid_indicator(model: &Model<'_>) -> Option<String> {
    model
        .indicators
        .iter()
        .find(|id| is_grid(model, id))
        .cloned()
}

/// One cell of the grid or of a country's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusCell {
    pub symbol: &'static str,
    pub words: &'static str,
    pub class: &'static str,
    /// The citation (and review date): the cell's `title`.
    pub title: String,
    pub citation: String,
    pub review_date: String,
}

/// The status cell of one row (`None`: the country has no row for the provision).
pub fn status_cell(
    model: &Model<'_>,
    row: Option<&IndicatorRow>,
    iso3: &str,
    provision: &str,
) -> StatusCell {
    let label = row
        .filter(|r| r.shown().is_some())
        .and_then(|r| model.review.label(r));
    let st = style(label);
    let source = model
        .review
        .source(iso3, provision)
        .filter(|_| label.is_some());
    let citation = source.map(|s| s.citation.clone()).unwrap_or_default();
    let review_date = source.map(|s| s.review_date.clone()).unwrap_or_default();
    let title = match (citation.is_empty(), review_date.is_empty()) {
        (false, false) => format!("{citation} (reviewed {review_date})"),
        (false, true) => citation.clone(),
        (true, false) => format!("No citation (reviewed {review_date})"),
        (true, true) => st.meaning.to_string(),
    };
    StatusCell {
        symbol: st.symbol,
        words: st.words,
        class: st.class,
        title,
        citation,
        review_date,
    }
}

/// One provision of the checklist as the report names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provision {
    /// The harmonised id (`criminalises_grooming`).
    pub id: String,
    /// The id in words, for a column heading ("Criminalises grooming").
    pub heading: String,
    /// The checklist's wording (the schema category's title, recorded by the run; the heading when absent).
    pub wording: String,
}

/// The provisions of a grid indicator (its domain values, first-seen table order) with their headings and
/// wording.
pub fn provisions(model: &Model<'_>, id: &str) -> Vec<Provision> {
    let titles = model.definition(id).map(|d| &d.level_titles);
    model
        .domains(id)
        .into_iter()
        .flat_map(|(_, levels)| levels)
        .map(|p| {
            let heading = humanise(&p);
            let wording = titles
                .and_then(|t| t.get(&p))
                .cloned()
                .unwrap_or_else(|| heading.clone());
            Provision {
                id: p,
                heading,
                wording,
            }
        })
        .collect()
}

fn row_of<'a>(
    model: &Model<'a>,
    iso3: &str,
    id: &str,
    provision: &str,
) -> Option<&'a IndicatorRow> {
    model
        .rows_of(iso3, id)
        .into_iter()
        .find(|r| !r.is_total() && r.domain_value == provision)
}

/// The context of the grid page of indicator `id`: one row per country with rows of it, one column per
/// provision, and the legend.
pub fn grid_page(model: &Model<'_>, id: &str) -> minijinja::Value {
    #[derive(Serialize)]
    struct GridRow {
        href: String,
        name: String,
        cells: Vec<StatusCell>,
    }
    let provisions = provisions(model, id);
    let rows: Vec<GridRow> = model
        .countries_with(id)
        .into_iter()
        .map(|c| GridRow {
            href: crate::pages::country_file(&c.iso3),
            name: c.name.clone(),
            cells: provisions
                .iter()
                .map(|p| status_cell(model, row_of(model, &c.iso3, id, &p.id), &c.iso3, &p.id))
                .collect(),
        })
        .collect();
    let label = model
        .definition(id)
        .map(|d| d.label.clone())
        .unwrap_or_else(|| id.to_string());
    context! {
        id => id,
        label => label,
        def => Serde(model.definition(id)),
        provisions => Serde(provisions),
        rows => Serde(rows),
        legend => Serde(STATUSES.to_vec()),
    }
}

/// One provision of a country's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProvisionLine {
    pub provision: Provision,
    pub cell: StatusCell,
}

/// The provisions of a country (every grid indicator's levels), for its page; empty when the run has no grid
/// indicator or the country no collected row of it (a review not delivered: the page's family table says so,
/// the grid shows the country as not reviewed).
pub fn country_provisions(model: &Model<'_>, iso3: &str) -> Vec<ProvisionLine> {
    let Some(id) = grid_indicator(model) else {
        return Vec::new();
    };
    if model
        .rows_of(iso3, &id)
        .iter()
        .all(|r| r.has("not_collected"))
    {
        return Vec::new();
    }
    provisions(model, &id)
        .into_iter()
        .map(|p| ProvisionLine {
            cell: status_cell(model, row_of(model, iso3, &id, &p.id), iso3, &p.id),
            provision: p,
        })
        .collect()
}

/// What a country's page adds for issue 16's sources: its service contacts ([`crate::services`]) and its
/// provisions, with a link to the grid.
pub fn country_context(model: &Model<'_>, iso3: &str) -> minijinja::Value {
    context! {
        services => Serde(crate::services::country_sections(model, iso3)),
        provisions => Serde(country_provisions(model, iso3)),
        legal_href => grid_indicator(model).map(|id| crate::pages::indicator_file(&id)).unwrap_or_default(),
    }
}

#[cfg(test)]
#[path = "legal_tests.rs"]
mod tests;
