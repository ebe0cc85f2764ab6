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
