//! `dh validate` as a library call: configuration checks and delivery checks (read and normalise in memory,
//! nothing written) for the selected countries, collecting every problem rather than stopping at the first.
//!
//! Problems come from four places: the configuration (`dh_config` diagnostics: file, line, key), the deliveries
//! (every missing file of a delivered table, each on its own; a file that cannot be read), rows that normalisation
//! would quarantine (file, row, column, value, reason), and rows that would be written but lose their link because
//! the row they point to is quarantined (a caregiver whose child's row is rejected: [`crate::links`]).
//! Normalising needs a pseudonym key; validation uses a fresh random one because nothing is kept, and shows the id as
//! delivered for key problems (duplicate ids, missing links) instead of its pseudonym.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, RecordBatch, StringArray, UInt64Array};
use dh_config::{CountryConfig, SchemaSet};
use rayon::prelude::*;

use crate::country::{normalise_borrowed, read_deliveries};
use crate::error::PipelineError;

/// Inputs of a validation.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    pub raw_dir: PathBuf,
    pub config_dir: PathBuf,
    pub schema_dir: PathBuf,
    /// ISO3 codes; empty = every country file.
    pub countries: Vec<String>,
    pub jobs: usize,
    /// Only check the configuration (no deliveries are read).
    pub config_only: bool,
}

/// Where a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// Country file, defaults file or schema.
    Config,
    /// A delivery that cannot be read or normalised at all.
    Delivery,
    /// One row that would be quarantined.
    Row,
    /// Rows kept as delivered whose answer disagrees with the column's universe (a warning: see
    /// `dh_normalise::consistency`); the row is the first such row.
    Routing,
    /// Something a reader noticed in a file it still read (a warning: a formula without a cached value, text
    /// decoded with the configured code page); names places and variables, never cell contents.
    Reader,
}

/// One problem, with as much location as is known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub country: String,
    pub kind: ProblemKind,
    pub file: String,
    /// Line (config) or source row number (delivery); 0 when not tied to one.
    pub line: u64,
    pub column: String,
    pub value: String,
    /// Machine-readable reason (`unknown_code`, `config`, `read`, ...).
    pub code: String,
    pub message: String,
    /// Rows it stands for: 1, or for a routing warning every row of the column with that finding.
    pub rows: u64,
}

/// One line per problem, cut to [`dh_ingest::message::MAX_MESSAGE_CHARS`] (control characters escaped).
impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut line = String::new();
        self.write_line(&mut line)?;
        f.write_str(&dh_ingest::message::cap(line))
    }
}

impl Problem {
    fn write_line(&self, f: &mut String) -> std::fmt::Result {
        use std::fmt::Write as _;
        write!(f, "{}: {}", self.country, self.file)?;
        match self.kind {
            ProblemKind::Config => {
                if self.line > 0 {
                    write!(f, ":{}", self.line)?;
                }
                if !self.column.is_empty() {
                    write!(f, ": key `{}`", self.column)?;
                }
            }
            ProblemKind::Delivery | ProblemKind::Reader => {}
            ProblemKind::Row | ProblemKind::Routing => {
                write!(f, ": row {}", self.line)?;
                if !self.column.is_empty() {
                    write!(f, ", column `{}`, value `{}`", self.column, self.value)?;
                }
            }
        }
        write!(f, ": {} [{}]", self.message, self.code)
    }
}

/// Result of a validation.
#[derive(Debug, Default)]
pub struct ValidateReport {
    pub countries: Vec<String>,
    /// Sorted by country, kind, file, line.
    pub problems: Vec<Problem>,
    /// Routing findings ([`ProblemKind::Routing`]) and reader warnings ([`ProblemKind::Reader`]): reported, not
    /// counted as problems.
    pub warnings: Vec<Problem>,
    pub rows_checked: u64,
}

impl ValidateReport {
    pub fn count(&self, kind: ProblemKind) -> usize {
        self.problems.iter().filter(|p| p.kind == kind).count()
    }

    /// Warnings of one kind (routing findings, reader warnings).
    pub fn count_warnings(&self, kind: ProblemKind) -> usize {
        self.warnings.iter().filter(|p| p.kind == kind).count()
    }
}

/// Validates the selected countries. `Err` only when nothing can be checked (e.g. unreadable schema folder).
pub fn validate(opts: &ValidateOptions) -> Result<ValidateReport, PipelineError> {
    let mut report = ValidateReport::default();
    let schemas = match dh_config::load_schemas(&opts.schema_dir) {
        Ok(s) => s,
        Err(e) => {
            report.problems.extend(config_problems("*", &e));
            return Ok(report);
        }
    };
    let codes = if opts.countries.is_empty() {
        dh_config::country::list_countries(&opts.config_dir)?
    } else {
        opts.countries.clone()
    };
    report.countries = codes.clone();
    let key_bytes: [u8; 32] = rand::random();
    let key = dh_normalise::PseudonymKey::from_bytes(&key_bytes)
        .map_err(|e| PipelineError::Key(e.to_string()))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build()
        .map_err(|e| PipelineError::ThreadPool {
            jobs: opts.jobs,
            message: e.to_string(),
        })?;
    let per_country: Vec<(u64, Vec<Problem>, Vec<Problem>)> = pool.install(|| {
        codes
            .par_iter()
            .map(|code| validate_country(opts, &schemas, &key, code))
            .collect()
    });
    for (rows, problems, warnings) in per_country {
        report.rows_checked += rows;
        report.problems.extend(problems);
        report.warnings.extend(warnings);
    }
    report.problems.sort();
    report.warnings.sort();
    Ok(report)
}

/// Checks one country; returns rows checked, problems and warnings.
fn validate_country(
    opts: &ValidateOptions,
    schemas: &SchemaSet,
    key: &dh_normalise::PseudonymKey,
    code: &str,
) -> (u64, Vec<Problem>, Vec<Problem>) {
    let (config, diagnostics) = dh_config::load_and_validate(&opts.config_dir, code, schemas);
    // Validation warnings are not problems (a config that does not load gives only errors).
    let mut problems: Vec<Problem> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| diagnostic_problem(code, d))
        .collect();
    let Some(config) = config.filter(|_| problems.is_empty() && !opts.config_only) else {
        return (0, problems, Vec::new());
    };
    match check_deliveries(&config, schemas, key, &opts.raw_dir) {
        Ok((rows, mut found, warnings)) => {
            problems.append(&mut found);
            (rows, problems, warnings)
        }
        Err(p) => {
            problems.push(*p);
            (0, problems, Vec::new())
        }
    }
}

fn check_deliveries(
    config: &CountryConfig,
    schemas: &SchemaSet,
    key: &dh_normalise::PseudonymKey,
    raw_dir: &Path,
) -> Result<(u64, Vec<Problem>, Vec<Problem>), Box<Problem>> {
    let iso3 = config.country.iso3.as_str();
    let delivery_problem = |stage: &str, message: String| -> Box<Problem> {
        Box::new(Problem {
            country: iso3.to_string(),
            kind: ProblemKind::Delivery,
            file: raw_dir.join(iso3).display().to_string(),
            line: 0,
            column: String::new(),
            value: String::new(),
            code: stage.to_string(),
            message,
            rows: 0,
        })
    };
    // Every missing file at once, each with its table.
    let missing = crate::deliveries::missing_files(config, raw_dir);
    if !missing.is_empty() {
        let problems = missing
            .into_iter()
            .map(|f| Problem {
                country: iso3.to_string(),
                kind: ProblemKind::Delivery,
                file: f.path.display().to_string(),
                line: 0,
                column: String::new(),
                value: String::new(),
                code: match f.problem {
                    crate::deliveries::FileProblem::Missing => "missing_file",
                    crate::deliveries::FileProblem::NotRegular(_) => "not_regular_file",
                    crate::deliveries::FileProblem::OutsideRaw => "outside_raw_folder",
                }
                .to_string(),
                message: f.describe(),
                rows: 0,
            })
            .collect();
        return Ok((0, problems, Vec::new()));
    }
    let read = read_deliveries(config, raw_dir, false)
        .map_err(|e| delivery_problem(&e.stage, e.message))?;
    let rows: u64 = read
        .iter()
        .flat_map(|d| &d.raw)
        .map(|r| r.num_rows() as u64)
        .sum();
    let mut warnings: Vec<Problem> = read
        .iter()
        .flat_map(|d| d.paths.iter().zip(&d.raw))
        .flat_map(|(path, raw)| {
            raw.warnings.iter().map(|w| Problem {
                country: iso3.to_string(),
                kind: ProblemKind::Reader,
                file: path.display().to_string(),
                line: 0,
                column: String::new(),
                value: String::new(),
                code: "reader_warning".to_string(),
                message: w.clone(),
                rows: 0,
            })
        })
        .collect();
    let raw: BTreeMap<_, _> = read.into_iter().map(|d| (d.table, d.raw)).collect();
    let tables = normalise_borrowed(config, schemas, key, &raw)
        .map_err(|e| delivery_problem(&e.stage, e.message))?;
    // Rows whose linked row was quarantined (caregivers of a rejected child), with their raw ids.
    let mut problems = crate::links::lost_links(config, schemas, &raw, &tables)
        .map_err(|m| delivery_problem("internal", m))?;
    drop(raw);
    for t in &tables {
        let mut line = 0;
        for batch in &t.quarantine {
            let mut found =
                quarantine_problems(iso3, batch).map_err(|m| delivery_problem("internal", m))?;
            show_raw_ids(&mut found, t.raw_ids.get(line..).unwrap_or_default());
            line += batch.num_rows();
            problems.extend(found);
        }
        warnings.extend(t.universe_findings.iter().map(|f| Problem {
            country: iso3.to_string(),
            kind: ProblemKind::Routing,
            file: t.source_file.clone(),
            line: f.first_row,
            column: f.column.clone(),
            value: f.first_value.clone(),
            code: f.issue.code().to_string(),
            message: format!(
                "{} (universe `{}`); {} such rows in this file, this is the first",
                f.issue.describe(),
                f.universe,
                f.rows
            ),
            rows: f.rows,
        }));
    }
    Ok((rows, problems, warnings))
}

/// Problem reports of `dh validate` are for the data manager: a key problem (duplicate id, missing link) shows the
/// id as delivered, which the agency can look up, instead of the pseudonym of the quarantine table (different on
/// every validation, whose key is random). `raw_ids` runs parallel to `problems`. Only validation does this; a run
/// writes quarantine lines as they are.
fn show_raw_ids(problems: &mut [Problem], raw_ids: &[Option<dh_normalise::RawId>]) {
    for (problem, id) in problems.iter_mut().zip(raw_ids) {
        if let Some(id) = id {
            problem.value = id.as_delivered().to_string();
        }
    }
}

/// Turns quarantine lines into problems.
pub fn quarantine_problems(iso3: &str, batch: &RecordBatch) -> Result<Vec<Problem>, String> {
    let text = |name: &str| -> Result<&StringArray, String> {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| format!("quarantine batch has no text column `{name}`"))
    };
    let file = text("source_file")?;
    let column = text("column")?;
    let value = text("raw_value")?;
    let code = text("reason_code")?;
    let reason = text("reason")?;
    let row = batch
        .column_by_name("row_number")
        .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
        .ok_or_else(|| "quarantine batch has no UInt64 column `row_number`".to_string())?;
    let cell = |a: &StringArray, i: usize| {
        if a.is_null(i) {
            String::new()
        } else {
            a.value(i).to_string()
        }
    };
    Ok((0..batch.num_rows())
        .map(|i| Problem {
            country: iso3.to_string(),
            kind: ProblemKind::Row,
            file: cell(file, i),
            line: row.value(i),
            column: cell(column, i),
            value: cell(value, i),
            code: cell(code, i),
            message: cell(reason, i),
            rows: 1,
        })
        .collect())
}

fn config_problems(country: &str, err: &dh_config::ConfigError) -> Vec<Problem> {
    err.diagnostics()
        .iter()
        .map(|d| diagnostic_problem(country, d))
        .collect()
}

fn diagnostic_problem(country: &str, d: &dh_config::Diagnostic) -> Problem {
    Problem {
        country: country.to_string(),
        kind: ProblemKind::Config,
        file: d.file.display().to_string(),
        line: d.line as u64,
        column: d.key.clone(),
        value: String::new(),
        code: "config".to_string(),
        message: d.message.clone(),
        rows: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dh_normalise::ReasonCode;
    use dh_normalise::quarantine::{Problem as QProblem, quarantine_batch};

    #[test]
    fn quarantine_lines_become_located_problems() {
        let problems = vec![
            QProblem {
                row: 1,
                field: Some(3),
                code: ReasonCode::OutOfRange,
                source_column: "AGE".into(),
                raw_value: "19".into(),
                reason: "age 19 is above the maximum 17".into(),
                raw_id: None,
            },
            QProblem {
                row: 2,
                field: None,
                code: ReasonCode::RaggedRow,
                source_column: String::new(),
                raw_value: String::new(),
                reason: "row has 3 fields".into(),
                raw_id: None,
            },
        ];
        let batch = quarantine_batch("child.csv", &[10, 11, 12], &problems).unwrap();
        let found = quarantine_problems("THA", &batch).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            (
                found[0].line,
                found[0].column.as_str(),
                found[0].value.as_str()
            ),
            (11, "AGE", "19")
        );
        assert_eq!(
            found[0].to_string(),
            "THA: child.csv: row 11, column `AGE`, value `19`: age 19 is above the maximum 17 [out_of_range]"
        );
        assert_eq!(
            found[1].to_string(),
            "THA: child.csv: row 12: row has 3 fields [ragged_row]"
        );
    }

    #[test]
    fn key_problems_show_the_id_as_delivered() {
        let problems = vec![
            QProblem {
                row: 0,
                field: Some(0),
                code: ReasonCode::DuplicateId,
                source_column: "RESP_ID".into(),
                raw_value: "9f86d081884c7d65".into(),
                reason: "shared by 2 rows".into(),
                raw_id: Some(dh_normalise::RawId::new("TH-0042")),
            },
            QProblem {
                row: 1,
                field: Some(3),
                code: ReasonCode::OutOfRange,
                source_column: "AGE".into(),
                raw_value: "19".into(),
                reason: "too old".into(),
                raw_id: None,
            },
        ];
        let raw_ids: Vec<_> = problems.iter().map(|p| p.raw_id.clone()).collect();
        let batch = quarantine_batch("child.csv", &[1, 2], &problems).unwrap();
        let mut found = quarantine_problems("THA", &batch).unwrap();
        assert_eq!(
            found[0].value, "9f86d081884c7d65",
            "the quarantine line holds the pseudonym"
        );
        show_raw_ids(&mut found, &raw_ids);
        assert_eq!(
            found[0].to_string(),
            "THA: child.csv: row 1, column `RESP_ID`, value `TH-0042`: shared by 2 rows [duplicate_id]"
        );
        assert_eq!(found[1].value, "19");
    }

    #[test]
    fn printed_problems_are_capped_and_escape_control_characters() {
        let p = Problem {
            country: "THA".into(),
            kind: ProblemKind::Delivery,
            file: "raw/THA/child.csv".into(),
            line: 0,
            column: String::new(),
            value: String::new(),
            code: "read".into(),
            message: "\0".repeat(1_000_000),
            rows: 0,
        };
        let text = p.to_string();
        assert!(
            text.chars().count() < dh_ingest::message::MAX_MESSAGE_CHARS + 60,
            "{}",
            text.len()
        );
        assert!(text.starts_with("THA: raw/THA/child.csv: \\u{0}") && !text.contains('\0'));
    }

    #[test]
    fn config_problems_show_file_line_and_key() {
        let d = dh_config::Diagnostic::error(
            "countries/THA.toml",
            7,
            "deliveries.child_survey.columns.sex",
            "bad",
        );
        let p = diagnostic_problem("THA", &d);
        assert_eq!(
            p.to_string(),
            "THA: countries/THA.toml:7: key `deliveries.child_survey.columns.sex`: bad [config]"
        );
    }
}
