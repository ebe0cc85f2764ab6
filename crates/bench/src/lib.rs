//! `dh-bench`: the benchmarks behind `dh bench`, each timing separate processes (never in-process code) so that
//! wall time, CPU time and peak memory are what a user of the command would see.
//!
//! - [`measure`]: one child process's wall clock, CPU time and peak resident memory (`wait4`), with a memory
//!   guard.
//! - [`dh_run`]: `dh bench run`, `dh run --force` against DuckDB converting the same CSV deliveries to Parquet
//!   ([`duckdb`], [`csv_inputs`]), with ratio, rows/s and peak memory.
//! - [`memory`]: `dh bench memory`, peak memory of `dh run` on a 10,000,000-row police-case CSV and a
//!   5,000,000-row child-survey `.sav` against a limit.
//! - [`report`]: the result table and JSON; [`work`]: the work folder, generating deliveries, manifest rows.
//! - [`estimate`]: `dh bench estimate`, `dh estimate` against R `survey` and Python `svy` on a generated design.
//!
//! Other modules:
//!
//! - `error`: Typed errors of `dh-bench`: a benchmark that cannot be set up (work folder, configuration, generating
//!   the deliveries)

pub mod csv_inputs;
pub mod dh_run;
pub mod duckdb;
pub mod error;
pub mod estimate;
pub mod measure;
pub mod memory;
pub mod report;
pub mod work;

pub use error::BenchError;
