//! Writers of the statistical-package formats: Stata `.dta` format 118 ([`dta`]) and SPSS `.sav` ([`sav`]) over
//! one typed labelled-table model ([`model`]). `dh synth` (raw deliveries) and `dh export` (harmonised microdata)
//! both call these writers; there is no second copy. The bytes depend only on the table (no clock in headers).
//!
//! Other modules:
//!
//! - `dates`: Calendar dates in the three epochs involved: Arrow/Parquet `date32` (days since 1970-01-01), Stata
//!   `%td` (days since 1960-01-01) and SPSS (seconds since 1582-10-14, the start of the Gregorian calendar)
//! - `sav_chunks`: a `.sav` written chunk by chunk (bytecode), for files too large to hold in memory
//! - `error`: Errors of the writers: a table the format cannot hold (names, sizes, values), or the SPSS library's
//!   refusal

pub mod dates;
pub mod dta;
pub mod error;
pub mod model;
pub mod sav;
pub mod sav_chunks;

pub use error::StatfileError;
pub use model::{Column, LabelledTable, MissingCode, Num, Storage, UserMissing, ValueKey, Values};
pub use sav::SavCompression;
