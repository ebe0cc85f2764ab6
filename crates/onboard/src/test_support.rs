//! Shared test fixtures: the repository's schemas and defaults, and hand-built variables and `.sav` files.

use std::path::Path;

use dh_config::SchemaSet;
use dh_config::country::Format;

use crate::inspect::{FileLayout, InspectedFile, VariableProfile, looks_like_identifier};

pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

pub fn schemas() -> SchemaSet {
    dh_config::load_schemas(&repo().join("schemas")).expect("schemas")
}

pub fn defaults() -> toml::Table {
    let text = std::fs::read_to_string(repo().join("countries/_defaults.toml")).expect("defaults");
    toml::from_str(&text).expect("defaults parse")
}

/// An integer variable with these distinct values and value labels, and empty cells.
pub fn variable(name: &str, values: &[&str], labels: &[(&str, &str)]) -> VariableProfile {
    VariableProfile {
        name: name.into(),
        kind: "integer",
        likely_identifier: looks_like_identifier(name),
        value_labels: labels
            .iter()
            .map(|(c, l)| (c.to_string(), l.to_string()))
            .collect(),
        values: values.iter().map(|v| v.to_string()).collect(),
        distinct: values.len(),
        has_empty: true,
        ..Default::default()
    }
}

/// A UTF-8 `.sav` file of 10 rows holding `variables`.
pub fn sav_file(name: &str, variables: Vec<VariableProfile>) -> InspectedFile {
    InspectedFile {
        file_name: name.into(),
        layout: FileLayout::new(Format::Sav),
        sheets: Vec::new(),
        rows: 10,
        variables,
    }
}
