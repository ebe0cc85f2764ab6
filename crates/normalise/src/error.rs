//! Typed normalisation errors: configuration gaps found while planning a table (they stop that country, never the
//! run) and pseudonym-key problems. Row-level data problems are not errors: they are quarantined.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NormaliseError {
    #[error(
        "{country}: {config}: delivery `{table}` has no harmonised schema (known tables: {known}); fix the table name"
    )]
    UnknownTable {
        country: String,
        config: PathBuf,
        table: String,
        known: String,
    },

    #[error(
        "{country}: no raw data was passed for table `{table}` (delivery file {file}); read the delivery first"
    )]
    MissingRawTable {
        country: String,
        table: String,
        file: String,
    },

    #[error(
        "{country}: raw data was passed for table `{table}`, which the country config does not deliver"
    )]
    UnexpectedRawTable { country: String, table: String },

    #[error(
        "{country}: {config}: harmonised column `{column}` of `{table}` has no mapping; add \
         `{column} = {{ source = \"...\" }}` or `{column} = {{ not_collected = true }}` under \
         [deliveries.{table}.columns]"
    )]
    MissingMapping {
        country: String,
        config: PathBuf,
        table: String,
        column: String,
    },

    #[error(
        "{country}: {config}: [deliveries.{table}.columns] maps `{column}`, which schema `{table}` does not have"
    )]
    UnknownColumn {
        country: String,
        config: PathBuf,
        table: String,
        column: String,
    },

    #[error("{country}: {config}: [deliveries.{table}.columns.{column}]: {message}")]
    BadMapping {
        country: String,
        config: PathBuf,
        table: String,
        column: String,
        message: String,
    },

    #[error(
        "{country}: {file}: source column `{source_column}` (for `{table}.{column}`) is missing from the data that was read"
    )]
    MissingSourceColumn {
        country: String,
        file: String,
        table: String,
        column: String,
        source_column: String,
    },

    #[error(
        "{country}: table `{table}` links `{fields}` to `{resource}`, but the country delivers no `{resource}`; add \
         that delivery or remove the link from the schema"
    )]
    MissingReferencedTable {
        country: String,
        table: String,
        fields: String,
        resource: String,
    },

    #[error(
        "{country}: table `{table}` links `{fields}` to `{resource}`, but `{resource}.{column}` is not read from its \
         delivery (not mapped or not collected); map it so the link can be checked"
    )]
    UncheckableLink {
        country: String,
        table: String,
        fields: String,
        resource: String,
        column: String,
    },

    #[error(
        "{country}: table `{table}` links `{fields}` to `{resource}`, but the keys of `{resource}` were not collected \
         before its rows were checked (an internal error of the batch order)"
    )]
    LinkKeysNotCollected {
        country: String,
        table: String,
        fields: String,
        resource: String,
    },

    #[error(
        "{country}: {file}: table `{table}` fails its content checks, so the country is not published: {findings}. \
         Values are not shown. Check that the config maps the right source columns and that the delivery's header \
         row names its columns correctly; thresholds are in the table's schema (contentLimits, contentChecks)"
    )]
    ContentCheck {
        country: String,
        file: String,
        table: String,
        /// Every finding (file, column, check, counts), joined; never a value.
        findings: String,
    },

    #[error(
        "table `{table}` of country {country} has no rows: delivery file {file} holds no data rows; ask the agency \
         for the data, or set `delivered = false` for this table if the country did not deliver it"
    )]
    NoRows {
        country: String,
        table: String,
        file: String,
    },

    #[error(
        "{country}: {file}: the `constant` of `{table}.{column}` cannot be given to every row: {message}"
    )]
    Constant {
        country: String,
        file: String,
        table: String,
        column: String,
        message: String,
    },

    #[error("pseudonym key: {0}")]
    Key(String),

    #[error("{country}: cannot build the Arrow batch for `{table}`: {message}")]
    Arrow {
        country: String,
        table: String,
        message: String,
    },
}
