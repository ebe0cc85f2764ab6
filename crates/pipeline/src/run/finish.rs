//! The cross-country end of `dh run` and `dh merge`: indicator tables, codebook, manifest, report and workbook,
//! export, publication and the run log, from the countries' assembled results.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use dh_indicators::estimate::EstimateRow;

use crate::abort_point;
use crate::error::{CountryError, PipelineError};
use crate::indicator_stage::{IndicatorSetup, headline_row, write_indicator_tables};
use crate::layout::{MANIFEST_FILE, Staging};
use crate::manifest::{Manifest, manifest_bytes};
use crate::runlog::{CountryTiming, RunLog, millis, rfc3339};

use super::{LoadedConfig, RunPolicy, RunSummary};

/// What the per-country part of a run (or of a merge) hands to the cross-country outputs: the manifest with the
/// run's definitions and every country's entries, each published country's indicator rows, the failures and
/// the run log's country lines.
pub(crate) struct Assembled {
    pub manifest: Manifest,
    pub estimates: Vec<(String, Vec<EstimateRow>)>,
    pub failures: Vec<CountryError>,
    pub timings: Vec<CountryTiming>,
}

/// The cross-country end of `dh run` and `dh merge` (one function, so that a merge of shards writes the bytes a
/// single run writes): indicator tables, codebook, manifest, report and workbook, export, publication, run log.
pub(crate) struct Finish<'a> {
    pub out_dir: &'a Path,
    /// Every country of the result (published, stale or failed), sorted by code.
    pub config: &'a LoadedConfig,
    pub indicators: Option<&'a IndicatorSetup>,
    pub policy: &'a RunPolicy,
    /// Started with the command, for the run log's duration.
    pub clock: Instant,
}

impl Finish<'_> {
    /// Writes the cross-country outputs into `staging`, publishes it into `OUT` and writes `log` (completed here:
    /// end time, duration, outcome, country lines) to `OUT/runs/`.
    pub(crate) fn publish(
        &self,
        staging: Staging,
        assembled: Assembled,
        mut log: RunLog,
    ) -> Result<RunSummary, PipelineError> {
        let Assembled {
            mut manifest,
            mut estimates,
            mut failures,
            timings,
        } = assembled;
        estimates.sort_by(|a, b| a.0.cmp(&b.0));
        let headline = self.indicator_tables(&staging, &estimates, &mut manifest)?;
        failures.sort_by(|a, b| a.country.cmp(&b.country));
        self.manifest_report_export(&staging, &mut manifest)?;
        abort_point::reached("before-publish");
        staging.publish()?;

        let duration_ms = millis(self.clock.elapsed());
        log.finished_at = rfc3339(SystemTime::now());
        log.duration_ms = duration_ms;
        log.outcome = if failures.is_empty() {
            "ok"
        } else {
            "data_error"
        }
        .to_string();
        log.countries = timings;
        let (run_log, warnings) = self.write_log(&log);
        Ok(RunSummary {
            warnings,
            manifest,
            failures,
            out_dir: self.out_dir.to_path_buf(),
            run_log,
            duration_ms,
            headline,
            headline_id: self
                .indicators
                .and_then(|s| s.headline().map(str::to_string)),
        })
    }

    /// The indicator tables (when the run has an indicator stage) and the codebook, listed in the manifest; returns
    /// the headline indicator's row per country.
    fn indicator_tables(
        &self,
        staging: &Staging,
        estimates: &[(String, Vec<EstimateRow>)],
        manifest: &mut Manifest,
    ) -> Result<Vec<(String, EstimateRow)>, PipelineError> {
        let mut headline = Vec::new();
        if let Some(setup) = self.indicators {
            manifest.outputs.extend(write_indicator_tables(
                staging,
                estimates,
                setup,
                &self.config.countries,
            )?);
            if let Some(id) = setup.headline() {
                for (country, rows) in estimates {
                    if let Some(row) = headline_row(rows, id) {
                        headline.push((country.clone(), row.clone()));
                    }
                }
            }
        }
        // OUT/codebook.md: the codebook of this run's schemas, published and listed like every output.
        manifest.outputs.push(crate::codebook_out::write_codebook(
            staging,
            &self.config.schemas,
        )?);
        manifest.finalise();
        Ok(headline)
    }

    /// Writes the manifest, then the report and workbook and the Stata/SPSS export when asked for, each time
    /// listing the new files and writing the manifest again.
    fn manifest_report_export(
        &self,
        staging: &Staging,
        manifest: &mut Manifest,
    ) -> Result<(), PipelineError> {
        let (config, policy) = (self.config, self.policy);
        let manifest_path = staging.path(MANIFEST_FILE);
        let write = |manifest: &Manifest| {
            std::fs::write(&manifest_path, manifest_bytes(manifest)?)
                .map_err(|e| PipelineError::io(&manifest_path, e))
        };
        abort_point::fault("manifest-write").map_err(|e| PipelineError::io(&manifest_path, e))?;
        write(manifest)?;
        if let Some(setup) = self.indicators {
            // The report and workbook (dh-report), built from the staged outputs and published with them.
            let context = dh_report::ReportContext::from_run(
                &config.countries,
                &setup.catalogue,
                &setup.pipeline,
            );
            dh_report::build(staging.root(), Some(&context)).map_err(|e| match e {
                dh_report::ReportError::Io { path, source } => PipelineError::Io { path, source },
                e => PipelineError::Internal(format!("report: {e}")),
            })?;
            // The report and workbook are outputs too: list them and write the manifest again.
            manifest.outputs.extend(crate::layout::hashed_files(
                staging,
                &[crate::layout::REPORT_DIR, crate::layout::TABLES_DIR],
                "report",
            )?);
            manifest.finalise();
            write(manifest)?;
        }
        if !policy.export.is_empty() {
            // Stata/SPSS files from the staged normalised tables (carried over when their inputs are unchanged).
            let (entries, _) = crate::export_stage::export(
                staging,
                self.out_dir,
                &config.schemas,
                &policy.export,
                manifest,
                policy.privacy,
            )?;
            manifest.outputs.extend(entries);
            manifest.finalise();
            write(manifest)?;
        }
        Ok(())
    }

    /// Writes the run log; the outputs are already published, so a log that cannot be written is a warning, not a
    /// failure of the run. Returns its path and the warnings.
    fn write_log(&self, log: &RunLog) -> (PathBuf, Vec<String>) {
        match log.write_private(self.out_dir, self.policy.privacy) {
            Ok(path) => (path, Vec::new()),
            Err(e) => (
                self.out_dir
                    .join(crate::layout::RUNS_DIR)
                    .join(format!("{}.json", log.run_id)),
                vec![format!(
                    "the outputs were published, but the run log could not be written: {e}"
                )],
            ),
        }
    }
}
