//! `dh bench run`: generates synthetic deliveries (`dh synth --scale N`, not timed), then times `dh run --force
//! --jobs J` over them and DuckDB converting the same deliveries' CSV files to Parquet on J threads
//! ([`crate::duckdb`]), each in its own process, and reports wall time, CPU time, peak memory, rows/s and the
//! ratio of each tool's wall time to DuckDB's. dh's rows are the rows its run read (the manifest's
//! `totals.rows_read`, every delivery whatever its format); DuckDB's the rows it wrote to Parquet.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::csv_inputs::csv_inputs;
use crate::duckdb::{Engine, convert, parse_rows};
use crate::error::BenchError;
use crate::measure::run_measured;
use crate::report::{Figures, ToolLine, table};
use crate::work::{Work, rows_read, synth};

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub scale: f64,
    pub seed: u64,
    /// Threads of both tools (`dh run --jobs`, DuckDB `threads`).
    pub jobs: usize,
    /// Countries (ISO3); empty: every configured country.
    pub countries: Vec<String>,
    pub work_dir: Option<PathBuf>,
    pub keep: bool,
    /// The `dh` binary timed.
    pub dh: PathBuf,
    /// The `dh` binary that generates the deliveries.
    pub synth_with: PathBuf,
    pub config_dir: PathBuf,
    pub schema_dir: PathBuf,
    pub pipelines_dir: PathBuf,
    /// Time DuckDB too (when it is installed).
    pub duckdb: bool,
}

/// Everything `dh bench run` measured.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub scale: f64,
    pub jobs: usize,
    pub countries: usize,
    /// CSV deliveries DuckDB converted.
    pub csv_files: usize,
    /// CSV deliveries DuckDB decoded as Latin-1.
    pub latin1_files: usize,
    /// CSV deliveries transcoded to UTF-8 before timing (`ISO3/table from encoding`).
    pub transcoded: Vec<String>,
    /// DuckDB's name and version, when found.
    pub duckdb: Option<String>,
    pub tools: Vec<ToolLine>,
    /// The work folder, when kept.
    pub work_dir: Option<PathBuf>,
}

impl RunReport {
    /// dh did not run to the end.
    pub fn dh_failed(&self) -> bool {
        self.tools
            .iter()
            .any(|t| t.tool == "dh" && t.measured.is_none())
    }
}

/// Runs the benchmark.
pub fn run_benchmark(options: &RunOptions) -> Result<RunReport, BenchError> {
    let mut work = Work::new(options.work_dir.as_deref(), options.keep)?;
    let raw = work.fresh("raw")?;
    let mut synth_args = vec![
        "--scale".to_string(),
        options.scale.to_string(),
        "--seed".to_string(),
        options.seed.to_string(),
        "--config-dir".to_string(),
        options.config_dir.display().to_string(),
        "--schema-dir".to_string(),
        options.schema_dir.display().to_string(),
    ];
    if !options.countries.is_empty() {
        synth_args.push("--countries".into());
        synth_args.push(options.countries.join(","));
    }
    synth(&options.synth_with, &raw, &synth_args)?;
    let key = work.key_file()?;
    let out = work.fresh("out")?;
    let dh_line = time_dh_run(options, &raw, &out, &key)?;

    let configs = dh_config::load_countries(&options.config_dir, &options.countries)?;
    let prepared = work.fresh("duckdb-utf8")?;
    let inputs = csv_inputs(&configs, &raw, &prepared)?;
    let mut report = RunReport {
        scale: options.scale,
        jobs: options.jobs,
        countries: configs.len(),
        csv_files: inputs.len(),
        latin1_files: inputs.iter().filter(|i| i.encoding == "latin-1").count(),
        transcoded: inputs
            .iter()
            .filter_map(|i| {
                i.transcoded_from
                    .as_ref()
                    .map(|from| format!("{}/{} from {from}", i.iso3, i.table))
            })
            .collect(),
        duckdb: None,
        tools: vec![dh_line],
        work_dir: None,
    };
    let duckdb_line = if !options.duckdb {
        ToolLine::skipped("duckdb", "not asked for (--no-duckdb)")
    } else {
        match Engine::find() {
            Err(why) => ToolLine::skipped("duckdb", why),
            Ok(engine) => {
                report.duckdb = Some(engine.describe());
                let parquet = work.fresh("duckdb")?;
                time_duckdb(&engine, &inputs, options.jobs, &parquet)?
            }
        }
    };
    report.tools.push(duckdb_line);
    set_ratios(&mut report.tools, "duckdb");
    report.work_dir = work.finish();
    Ok(report)
}

/// `dh run --force` over `raw`, measured.
fn time_dh_run(
    options: &RunOptions,
    raw: &Path,
    out: &Path,
    key: &Path,
) -> Result<ToolLine, BenchError> {
    let mut command = Command::new(&options.dh);
    command
        .arg("run")
        .arg("--force")
        .arg("--quiet")
        .arg("--jobs")
        .arg(options.jobs.to_string())
        .arg("--raw-dir")
        .arg(raw)
        .arg("--out-dir")
        .arg(out)
        .arg("--key-file")
        .arg(key)
        .arg("--config-dir")
        .arg(&options.config_dir)
        .arg("--schema-dir")
        .arg(&options.schema_dir)
        .arg("--pipelines-dir")
        .arg(&options.pipelines_dir);
    if !options.countries.is_empty() {
        command.arg("--countries").arg(options.countries.join(","));
    }
    let m = run_measured(&mut command, None).map_err(|e| BenchError::io(&options.dh, e))?;
    if !m.success() {
        return Ok(ToolLine::skipped(
            "dh",
            format!(
                "dh run failed (exit {}): {}",
                m.code
                    .map_or_else(|| "by a signal".into(), |c| c.to_string()),
                m.last_error_line()
            ),
        ));
    }
    Ok(ToolLine::measured(
        "dh",
        Figures::from_measured(&m, rows_read(out)?),
    ))
}

fn time_duckdb(
    engine: &Engine,
    inputs: &[crate::csv_inputs::CsvInput],
    jobs: usize,
    parquet: &Path,
) -> Result<ToolLine, BenchError> {
    let m = convert(engine, inputs, jobs, parquet).map_err(|e| BenchError::io(parquet, e))?;
    if !m.success() {
        return Ok(ToolLine::skipped(
            "duckdb",
            format!("DuckDB failed: {}", m.last_error_line()),
        ));
    }
    Ok(match parse_rows(&m.stdout) {
        Some(rows) => ToolLine::measured("duckdb", Figures::from_measured(&m, rows)),
        None => ToolLine::skipped("duckdb", "DuckDB printed no row count"),
    })
}

/// Sets each measured line's ratio: its wall time over the reference tool's.
pub fn set_ratios(lines: &mut [ToolLine], reference: &str) {
    let Some(base) = lines
        .iter()
        .find(|l| l.tool == reference)
        .and_then(|l| l.measured.as_ref())
        .map(|f| f.wall_s)
        .filter(|w| *w > 0.0)
    else {
        return;
    };
    for line in lines.iter_mut() {
        if let Some(f) = &mut line.measured {
            f.ratio = Some(f.wall_s / base);
        }
    }
}

impl std::fmt::Display for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "dh bench run: scale {}, {} countries, {} threads for each tool",
            self.scale, self.countries, self.jobs
        )?;
        writeln!(
            f,
            "dh: `dh run --force` over every delivery (all formats); rows = rows read (manifest)"
        )?;
        let transcoded = if self.transcoded.is_empty() {
            "none".to_string()
        } else {
            self.transcoded.join(", ")
        };
        writeln!(
            f,
            "duckdb: {}: COPY of the {} CSV deliveries to Parquet ({} read as latin-1 by DuckDB; transcoded to \
             UTF-8 before timing: {transcoded}); rows = rows written",
            self.duckdb.as_deref().unwrap_or("DuckDB"),
            self.csv_files,
            self.latin1_files,
        )?;
        write!(f, "{}", table(&self.tools))?;
        writeln!(
            f,
            "ratio: wall time over DuckDB's; peak_MB: peak resident memory of the process (MiB)"
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

    fn line(tool: &str, wall_s: f64) -> ToolLine {
        ToolLine::measured(
            tool,
            Figures {
                wall_s,
                cpu_s: 1.0,
                peak_mb: 1.0,
                rows: 1,
                rows_per_s: 1.0,
                ratio: None,
            },
        )
    }

    #[test]
    fn ratios_are_wall_times_over_the_reference() {
        let mut lines = vec![line("dh", 3.0), line("duckdb", 2.0)];
        set_ratios(&mut lines, "duckdb");
        let ratios: Vec<Option<f64>> = lines
            .iter()
            .map(|l| l.measured.as_ref().and_then(|f| f.ratio))
            .collect();
        assert_eq!(ratios, [Some(1.5), Some(1.0)]);
        let mut alone = vec![line("dh", 3.0), ToolLine::skipped("duckdb", "missing")];
        set_ratios(&mut alone, "duckdb");
        assert_eq!(alone[0].measured.as_ref().and_then(|f| f.ratio), None);
    }
}
