//! `dh bench memory`: peak resident memory of `dh run` on large deliveries, against a limit (issue 14: 1 GB with
//! 2 workers). Each case generates one country's deliveries with one table resized (`dh synth --tables T --rows N
//! [--format F]`, not timed), then measures `dh run --force --countries ISO3`:
//!
//! - `police-csv`: Thailand's police cases as a 10,000,000-row CSV file (configured as `.xlsx`; the generated
//!   configuration in the synth folder reads the CSV);
//! - `child-sav`: Kenya's child survey as a 5,000,000-row SPSS `.sav` file (its configured format).
//!
//! A memory guard kills a `dh run` whose resident memory passes `guard_mb`, so a run that would exhaust the
//! machine is reported as over the limit instead.

use std::path::PathBuf;
use std::process::Command;

use serde::Serialize;

use crate::error::BenchError;
use crate::measure::run_measured;
use crate::report::{Figures, ToolLine, table};
use crate::work::{Work, rows_read, synth};

/// A memory case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    PoliceCsv,
    ChildSav,
}

impl Case {
    pub const ALL: [Case; 2] = [Case::PoliceCsv, Case::ChildSav];

    pub fn name(self) -> &'static str {
        match self {
            Case::PoliceCsv => "police-csv",
            Case::ChildSav => "child-sav",
        }
    }

    pub fn from_name(name: &str) -> Option<Case> {
        Case::ALL.into_iter().find(|c| c.name() == name)
    }

    fn iso3(self) -> &'static str {
        match self {
            Case::PoliceCsv => "THA",
            Case::ChildSav => "KEN",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Case::PoliceCsv => "police_cases",
            Case::ChildSav => "child_survey",
        }
    }

    /// Rows of the resized table.
    pub fn default_rows(self) -> u64 {
        match self {
            Case::PoliceCsv => 10_000_000,
            Case::ChildSav => 5_000_000,
        }
    }

    /// `--format` given to `dh synth` (`None`: the configured format).
    fn format(self) -> Option<&'static str> {
        match self {
            Case::PoliceCsv => Some("csv"),
            Case::ChildSav => None,
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct MemoryOptions {
    pub cases: Vec<Case>,
    /// Rows of each case's table instead of its default.
    pub rows: Option<u64>,
    /// The limit peak memory is held to (MiB).
    pub limit_mb: f64,
    /// A run is killed above this resident memory (MiB).
    pub guard_mb: f64,
    pub jobs: usize,
    pub seed: u64,
    pub work_dir: Option<PathBuf>,
    pub keep: bool,
    pub dh: PathBuf,
    pub synth_with: PathBuf,
    pub config_dir: PathBuf,
    pub schema_dir: PathBuf,
    pub pipelines_dir: PathBuf,
}

/// One case's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub case: &'static str,
    pub country: &'static str,
    pub table: &'static str,
    /// Rows of the resized table.
    pub table_rows: u64,
    #[serde(flatten)]
    pub line: ToolLine,
    /// Peak memory at most the limit (false when the run failed or was stopped).
    pub within_limit: bool,
    /// Resident memory (MiB) at which the guard stopped the run, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at_mb: Option<f64>,
}

/// Everything `dh bench memory` measured.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryReport {
    pub jobs: usize,
    pub limit_mb: f64,
    pub guard_mb: f64,
    pub cases: Vec<CaseResult>,
    pub work_dir: Option<PathBuf>,
}

impl MemoryReport {
    /// Every case ran and stayed within the limit.
    pub fn all_within_limit(&self) -> bool {
        self.cases.iter().all(|c| c.within_limit)
    }
}

/// Runs the cases one after the other.
pub fn run_memory(options: &MemoryOptions) -> Result<MemoryReport, BenchError> {
    let mut work = Work::new(options.work_dir.as_deref(), options.keep)?;
    let key = work.key_file()?;
    let mut cases = Vec::new();
    for &case in &options.cases {
        let rows = options.rows.unwrap_or(case.default_rows());
        let raw = work.fresh(&format!("raw-{}", case.name()))?;
        let mut args = vec![
            "--countries".to_string(),
            case.iso3().to_string(),
            "--seed".to_string(),
            options.seed.to_string(),
            "--config-dir".to_string(),
            options.config_dir.display().to_string(),
            "--schema-dir".to_string(),
            options.schema_dir.display().to_string(),
            "--tables".to_string(),
            case.table().to_string(),
            "--rows".to_string(),
            rows.to_string(),
        ];
        if let Some(format) = case.format() {
            args.extend(["--format".to_string(), format.to_string()]);
        }
        synth(&options.synth_with, &raw, &args)?;
        let config_dir = match case.format() {
            Some(_) => raw.join("config"),
            None => options.config_dir.clone(),
        };
        let out = work.fresh(&format!("out-{}", case.name()))?;
        let mut command = Command::new(&options.dh);
        command
            .arg("run")
            .arg("--force")
            .arg("--quiet")
            .arg("--jobs")
            .arg(options.jobs.to_string())
            .arg("--countries")
            .arg(case.iso3())
            .arg("--raw-dir")
            .arg(&raw)
            .arg("--out-dir")
            .arg(&out)
            .arg("--key-file")
            .arg(&key)
            .arg("--config-dir")
            .arg(&config_dir)
            .arg("--schema-dir")
            .arg(&options.schema_dir)
            .arg("--pipelines-dir")
            .arg(&options.pipelines_dir);
        let guard_kb = (options.guard_mb * 1024.0) as u64;
        let m = run_measured(&mut command, Some(guard_kb))
            .map_err(|e| BenchError::io(&options.dh, e))?;
        let stopped_at_mb = m.stopped_at_kb.map(|kb| kb as f64 / 1024.0);
        let line = if let Some(mb) = stopped_at_mb {
            ToolLine::skipped(
                case.name(),
                format!(
                    "stopped by the memory guard at {mb:.0} MB (peak {:.0} MB)",
                    m.peak_mb()
                ),
            )
        } else if !m.success() {
            ToolLine::skipped(
                case.name(),
                format!(
                    "dh run failed (exit {}, peak {:.0} MB): {}",
                    m.code
                        .map_or_else(|| "by a signal".into(), |c| c.to_string()),
                    m.peak_mb(),
                    m.last_error_line()
                ),
            )
        } else {
            ToolLine::measured(case.name(), Figures::from_measured(&m, rows_read(&out)?))
        };
        let within_limit = line.measured.is_some() && m.peak_mb() <= options.limit_mb;
        cases.push(CaseResult {
            case: case.name(),
            country: case.iso3(),
            table: case.table(),
            table_rows: rows,
            line,
            within_limit,
            stopped_at_mb,
        });
        // A case's files can be large: remove them before the next case unless kept.
        if !work.kept() {
            let _ = std::fs::remove_dir_all(&raw);
            let _ = std::fs::remove_dir_all(&out);
        }
    }
    Ok(MemoryReport {
        jobs: options.jobs,
        limit_mb: options.limit_mb,
        guard_mb: options.guard_mb,
        cases,
        work_dir: work.finish(),
    })
}

impl std::fmt::Display for MemoryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "dh bench memory: `dh run --force --jobs {}` on one country with one large table; limit {:.0} MB",
            self.jobs, self.limit_mb
        )?;
        let lines: Vec<ToolLine> = self.cases.iter().map(|c| c.line.clone()).collect();
        write!(f, "{}", table(&lines))?;
        for c in &self.cases {
            let verdict = if c.within_limit {
                "within the limit"
            } else {
                "OVER THE LIMIT or not run to the end"
            };
            writeln!(
                f,
                "{}: {} {} with {} rows: {verdict}",
                c.case, c.country, c.table, c.table_rows
            )?;
        }
        writeln!(
            f,
            "peak_MB: peak resident memory of the process (MiB); rows: rows read by the run (all the country's tables)"
        )?;
        if let Some(dir) = &self.work_dir {
            writeln!(f, "work folder kept: {}", dir.display())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_named_and_sized_as_the_issue_says() {
        assert_eq!(Case::from_name("police-csv"), Some(Case::PoliceCsv));
        assert_eq!(Case::from_name("child-sav"), Some(Case::ChildSav));
        assert_eq!(Case::from_name("other"), None);
        assert_eq!(Case::PoliceCsv.default_rows(), 10_000_000);
        assert_eq!(Case::ChildSav.default_rows(), 5_000_000);
        assert_eq!(Case::PoliceCsv.format(), Some("csv"));
        assert_eq!(Case::ChildSav.format(), None);
    }
}
