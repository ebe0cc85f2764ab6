//! `dh-bench`: the benchmarks behind `dh bench`, each timing separate processes (never in-process code) so that
//! wall time, CPU time and peak memory are what a user of the command would see.
//!
//! - [`measure`]: one child process's wall clock, CPU time and peak resident memory (`wait4`), with a memory
//!   guard.
//! - [`estimate`]: `dh bench estimate`, `dh estimate` against R `survey` and Python `svy` on a generated design.

pub mod estimate;
pub mod measure;
