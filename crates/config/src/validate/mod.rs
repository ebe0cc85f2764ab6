//! Semantic validation of a loaded country configuration against the harmonised schemas: every problem is returned
//! as a [`Diagnostic`] naming the file and line that set the value, the key, and what to do. `dh validate` and the
//! pipeline call [`validate_country`]; an empty result (or one with warnings only) means the config is usable.

mod columns;
mod delivered;
mod meta;
mod parts;
mod population;
mod synth;

use std::path::Path;

use crate::country::{CountryConfig, load_country};
use crate::diagnostic::Diagnostic;
use crate::schema::SchemaSet;

/// Every problem of `config` against `schemas`, sorted by file and line, without duplicates.
pub fn validate_country(config: &CountryConfig, schemas: &SchemaSet) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    meta::check(config, &mut out);
    parts::check(config, &mut out);
    columns::check(config, schemas, &mut out);
    delivered::check(config, schemas, &mut out);
    population::check(config, schemas, &mut out);
    synth::check(config, schemas, &mut out);
    out.sort();
    out.dedup();
    out
}

/// Only the errors of [`validate_country`] (warnings dropped).
pub fn country_errors(config: &CountryConfig, schemas: &SchemaSet) -> Vec<Diagnostic> {
    validate_country(config, schemas)
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect()
}

/// Loads `<dir>/<iso3>.toml` and validates it: the config when it has no errors, plus every diagnostic (load
/// errors, or validation errors and warnings). What `dh validate` and the pipeline need per country.
pub fn load_and_validate(
    dir: &Path,
    iso3: &str,
    schemas: &SchemaSet,
) -> (Option<CountryConfig>, Vec<Diagnostic>) {
    match load_country(dir, iso3) {
        Err(e) => (None, e.diagnostics()),
        Ok(config) => {
            let diagnostics = validate_country(&config, schemas);
            let usable = !diagnostics.iter().any(Diagnostic::is_error);
            (usable.then_some(config), diagnostics)
        }
    }
}

#[cfg(test)]
mod tests;
