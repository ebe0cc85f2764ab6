//! `dh-report`: the cross-country report (`OUT/report/`, a static site with inline SVG charts, readable offline
//! without JavaScript) and the Excel tables (`OUT/tables/indicators.xlsx`), built from a run's outputs only:
//! `indicators/indicators.parquet`, `manifest.json` (and the quarantine and normalised tables it lists) and
//! `report/context.json` (indicator definitions and country metadata recorded by the run).
//!
//! Modules: [`table`] reads the indicator table and decides what may be shown, [`context`] is the recorded
//! definitions, [`run_info`] the manifest, ledger and design summary, [`model`] joins them for display,
//! [`format`] writes numbers, [`svg`] draws charts, [`tilemap`] the cross-country tile map, [`pages`] renders the HTML through minijinja templates,
//! [`workbook`] writes the Excel file, [`error`] holds the typed errors. [`legal`] (the legal review's grid and
//! status symbols) and [`services`] (helpline and NGO contacts on a country page) are issue 16's sources.
//! [`build`] is the one entry point.
//!
//! Other modules:
//!
//! - `fixtures`: Synthetic run outputs for tests (feature `fixtures`): a context with the 13 Phase 1 countries and
//!   four indicators of two families, indicator rows with every flag (ok, low base, suppressed, not collected), and
//!   an `OUT` folder holding them as the pipeline writes them (the Parquet columns come from
//!   `dh_indicators::output::indicators_batch`, the contract of the indicator stage)

pub mod context;
pub mod error;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod format;
pub mod legal;
pub mod model;
pub mod pages;
pub mod run_info;
pub mod services;
pub mod svg;
pub mod table;
pub mod tilemap;
pub mod workbook;

#[cfg(test)]
pub(crate) use fixtures as test_data;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use context::{CountryInfo, Definition, ReportContext};
pub use error::ReportError;

/// The report folder inside `OUT`.
pub const REPORT_DIR: &str = "report";
/// The tables folder inside `OUT`.
pub const TABLES_DIR: &str = "tables";
/// The workbook inside [`TABLES_DIR`].
pub const WORKBOOK_FILE: &str = "indicators.xlsx";
/// The recorded context inside [`REPORT_DIR`].
pub const CONTEXT_FILE: &str = "context.json";
/// The indicator table, relative to `OUT`.
pub const INDICATORS_FILE: &str = "indicators/indicators.parquet";

/// What [`build`] wrote.
#[derive(Debug, Clone)]
pub struct Built {
    pub report_dir: PathBuf,
    pub workbook: PathBuf,
    /// HTML pages written.
    pub pages: usize,
}

/// Builds `out_dir/report/` and `out_dir/tables/indicators.xlsx` from the outputs in `out_dir`.
///
/// `context`: `Some` during a run (it is recorded as `report/context.json`); `None` to rebuild from the context a
/// previous run recorded. Call it after `manifest.json` is final (the report shows the manifest's SHA-256).
/// The previous report folder is replaced only once the new one is complete.
pub fn build(out_dir: &Path, context: Option<&ReportContext>) -> Result<Built, ReportError> {
    let report_dir = out_dir.join(REPORT_DIR);
    let recorded;
    let context = match context {
        Some(c) => c,
        None => {
            recorded = ReportContext::read(&report_dir.join(CONTEXT_FILE))?;
            &recorded
        }
    };
    let indicators_path = out_dir.join(INDICATORS_FILE);
    if !indicators_path.is_file() {
        return Err(ReportError::MissingInput {
            path: indicators_path,
            hint: "the run wrote no indicator table".into(),
        });
    }
    let rows = table::read_indicators(&indicators_path)?;
    let run = run_info::read_run_info(out_dir)?;
    let model = model::Model::new(context, &rows).with_review(legal::read_review(out_dir)?);
    // Pages and workbook are independent: build them side by side.
    let (pages, workbook_bytes) = rayon::join(
        || pages::render_pages(&model, &run),
        || workbook::workbook_bytes(&model),
    );
    let pages = pages?;

    let fresh = out_dir.join(".report-new");
    remove_dir_if_present(&fresh)?;
    create_dir(&fresh)?;
    pages
        .par_iter()
        .try_for_each(|page| write(&fresh.join(&page.file), page.html.as_bytes()))?;
    write(&fresh.join(CONTEXT_FILE), &context.to_bytes())?;

    let tables_dir = out_dir.join(TABLES_DIR);
    create_dir(&tables_dir)?;
    let workbook = tables_dir.join(WORKBOOK_FILE);
    let bytes = workbook_bytes.map_err(|e| ReportError::Workbook {
        path: workbook.clone(),
        message: e.to_string(),
    })?;
    let partial = tables_dir.join(format!(".{WORKBOOK_FILE}.new"));
    write(&partial, &bytes)?;
    std::fs::rename(&partial, &workbook).map_err(|e| ReportError::io(&workbook, e))?;

    let old = out_dir.join(".report-old");
    remove_dir_if_present(&old)?;
    if report_dir.exists() {
        std::fs::rename(&report_dir, &old).map_err(|e| ReportError::io(&report_dir, e))?;
    }
    std::fs::rename(&fresh, &report_dir).map_err(|e| ReportError::io(&fresh, e))?;
    remove_dir_if_present(&old)?;
    Ok(Built {
        report_dir,
        workbook,
        pages: pages.len(),
    })
}

fn create_dir(path: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(path).map_err(|e| ReportError::io(path, e))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))
}

fn remove_dir_if_present(path: &Path) -> Result<(), ReportError> {
    if path.exists() {
        std::fs::remove_dir_all(path).map_err(|e| ReportError::io(path, e))?;
    }
    Ok(())
}
