//! `dh-fuzz`: fuzzing of everything that parses outside input. [`targets`] feeds arbitrary bytes to the delivery
//! readers (CSV, SPSS `.sav`, Stata `.dta`, Excel `.xlsx`), the configuration loaders (country TOML merged over the
//! shipped defaults and validated; schema JSON) and the expression parser; [`mutate`] and [`runner`] are a
//! time-bounded, seeded mutation loop over the committed seed corpus (`fuzz/corpus/<target>/`) that runs on stable
//! Rust (CI runs each target for a fixed time); [`guard`] turns allocation above a cap and hangs into findings.
//! A finding's input is saved (`<findings>/<target>-<kind>-<hash>.bin`) and the run fails; `dh-fuzz replay`
//! reproduces it. See the README's "Fuzzing" section.

pub mod guard;
pub mod mutate;
pub mod runner;
pub mod targets;

pub use runner::{Options, Report, fuzz};
pub use targets::{Harness, Target};
