//! `dh-pipeline` runs the stages of `dh run` and `dh validate`: per country (in parallel, `--jobs` threads) it reads
//! the deliveries, normalises them through the country config, and writes harmonised Parquet, quarantine Parquet
//! and the manifest's entries; then it publishes the staged result into `OUT` and writes a run log.
//!
//! Modules: [`run`] (the `dh run` orchestration), [`incremental`] (stage keys; which countries run, are reused or
//! kept), [`merge`] (`dh merge`: shards' per-country outputs into one `OUT`,
//! cross-country outputs written by the same function as `dh run`), [`country`] (one country's stages), [`deliveries`] (delivered
//! and undelivered tables, missing files), [`indicator_stage`] (weighting and
//! indicators), [`validate`] (checks without
//! writing), [`links`] (rows whose linked row was quarantined, for `dh validate`), [`parquet_out`] (deterministic Parquet; [`parquet_dict`], [`parquet_chunk`] and [`parquet_rle`] write codebook-ordered dictionaries), [`manifest`] and [`runlog`] (provenance), [`codebook_out`] (`OUT/codebook.md`), [`layout`] (paths
//! and staged publication), [`schedule`] (country threads and their time limit), [`key`] (pseudonym key), [`hashing`], [`memory`], [`progress`] (observer hooks for progress bars),
//! [`error`], [`build_info`] (version, commit and build date).
//!
//! Other modules:
//!
//! - `abort_point`: Named points of a run where tests can make the process die abruptly, fail with an I/O error or
//!   wait, to check that an interrupted or failing run leaves `OUT` valid and that the next run converges
//! - `batched`: Deliveries larger than one batch ([`dh_ingest::open_delivery`], [`batch_rows`] rows): read twice,
//!   never held whole
//! - `export_stage`: `dh run --export dta,sav`: the harmonised tables of the run as Stata/SPSS files in
//!   `OUT/export/<table>.dta|.sav` (written by `dh_export` from the staged normalised files, published with the
//!   rest of the run)
//! - `message`: The cap on every message the pipeline stores or prints (manifest, run log, report, stderr, JSON
//!   log, `dh validate`): [`dh_ingest::message`], re-exported so the command line applies the same rule

pub mod abort_point;
pub mod batched;
pub mod build_info;
pub mod codebook_out;
pub mod country;
pub mod deliveries;
pub mod error;
pub mod export_stage;
pub mod hashing;
pub mod incremental;
pub mod indicator_stage;
pub mod key;
pub mod layout;
pub mod links;
pub mod manifest;
pub mod memory;
pub mod merge;
pub mod message;
pub mod parquet_chunk;
pub mod parquet_dict;
pub mod parquet_out;
pub mod parquet_rle;
pub mod progress;
pub mod run;
pub mod runlog;
pub mod schedule;
pub mod validate;

pub use error::{CountryError, PipelineError};
pub use manifest::Manifest;
