//! Writers of the statistical-package formats: Stata `.dta` format 118 ([`dta`]) and SPSS `.sav` ([`sav`]) over
//! one typed labelled-table model ([`model`]). `dh synth` (raw deliveries) and `dh export` (harmonised microdata)
//! both call these writers; there is no second copy. The bytes depend only on the table (no clock in headers).

pub mod dates;
pub mod dta;
pub mod error;
pub mod model;
pub mod sav;

pub use error::StatfileError;
pub use model::{Column, LabelledTable, MissingCode, Num, Storage, UserMissing, ValueKey, Values};
pub use sav::SavCompression;
