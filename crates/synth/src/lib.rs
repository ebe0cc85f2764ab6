//! `dh-synth`: synthetic deliveries. Real Disrupting Harm deliveries are confidential, so the built-in data are
//! simulated, but shaped like real ones and driven entirely by the configuration:
//!
//! 1. [`SynthPopulation::simulate`] builds a finite population of internet-using children per country
//!    ([`frame`]: strata = region x urban/rural, enumeration areas, sex/age from the config's population cells)
//!    and calibrates every harmonised item to the config's `[synth]` targets ([`items`], [`calibrate`]);
//! 2. [`SynthPopulation::truth`] counts the finite-population proportions ([`truth`] documents `truth.json`);
//! 3. [`SynthPopulation::draw_sample`] draws a two-stage cluster sample with base weights ([`sample`]);
//! 4. [`write_deliveries`] ([`deliveries`]) writes the sample through the inverse of the country's column mapping,
//!    in the delivery's own file name, delimiter, encoding and line ending, with direct identifiers
//!    ([`identifiers`]) and a small share of bad rows ([`messy`]) recorded for `injected.json`; the other data
//!    families' deliveries come from [`families`]; both hand their cells to the generic writer layer ([`write`]:
//!    cells -> a file of a format, no knowledge of tables);
//! 5. [`synth_countries`] does all of it for many countries in parallel (bytes independent of thread count);
//!    [`resize`] writes chosen tables with millions of rows, for benchmarks (`dh synth --tables T --rows N`).
//!
//! Coded answers only: no free text about abuse is generated anywhere.
//!
//! Other modules:
//!
//! - `cell`: [`Cell`]: one harmonised value of one synthetic respondent, before it is written in a country's own
//!   codes
//! - `error`: Typed errors of `dh-synth`
//! - `rng`: Deterministic randomness
//! - `run`: Synthesising many countries at once: `dh synth` and the built-in data of `dh run` call [`synth_to_dir`]
//! - `settings`: Synth parameters of one country: the config's `[synth]` section (`regions`, `sample_children`,
//!   `settings`, `prevalence`, `distribution`) with the defaults below
//! - `universe`: Universes of generated columns (`"true"`, `age >= 15`, `x == "yes" and y in ["online", "both"]`),
//!   read by the pipeline's own expression language: [`dh_expr::compile`] parses the text and checks it against the
//!   table's columns (same grammar, same errors as `dh validate`), and the checked tree is lowered onto the
//!   generator's row of [`Cell`]s, where it is evaluated row by row while a synthetic respondent is generated

pub mod calibrate;
pub mod cell;
pub mod deliveries;
pub mod error;
pub mod families;
pub mod frame;
pub mod identifiers;
pub mod items;
pub mod messy;
pub mod population;
pub mod resize;
pub mod rng;
pub mod run;
pub mod sample;
pub mod settings;
pub mod truth;
pub mod universe;
pub mod write;

pub use deliveries::write_deliveries;
pub use error::SynthError;
pub use messy::{InjectedProblem, ProblemKind};
pub use population::SynthPopulation;
pub use resize::Resize;
pub use run::{SynthOptions, SynthSummary, synth_countries, synth_to_dir, synth_to_dir_resized};
pub use sample::SynthSample;
pub use truth::{CountryTruth, Truth};
