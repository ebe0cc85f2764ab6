//! `dh-config` owns the two kinds of user-edited configuration that drive every stage:
//!
//! * harmonised table schemas (`schemas/<table>.json`, modelled on Frictionless Table Schema), see [`schema`];
//! * country configurations (`countries/<ISO3>.toml` merged over `countries/_defaults.toml`), see [`country`].
//! * value shapes for the content checks and the quarantine table (phone, e-mail, coordinates, names, codes), see
//!   [`content`].
//!
//! Everything is validated on load; errors name the file, line and key and say what to do.
//!
//! Other modules:
//!
//! - `calendar`: Proleptic Gregorian calendar arithmetic shared by every crate that turns dates into day counts or
//!   back (readers, normalisation, `dh synth`, the run log): day counts since 1970-01-01 (Howard Hinnant's
//!   algorithms), real calendar days, and an ISO `YYYY-MM-DD` text read ([`iso_date_days`]) or written
//!   ([`write_iso_date`], [`iso_date`])
//! - `codebook`: Markdown codebook of the harmonised schemas (`dh codebook`): one section per table with its keys
//!   and labelled missing codes, then one row per column with type, flags, description, codes (with a category's
//!   wording, its `title`, where the schema gives one), allowed missing codes, valid range (or a text column's
//!   `maxLength`) and universe
//! - `date_format`: The `date_format` of a column mapping: the small, strict strftime-style subset `dh` reads,
//!   compiled once into [`DateItem`]s
//! - `design`: The design table: the one harmonised table whose schema declares the survey design (fields with
//!   `role: "design"`: stratum, PSU, base weight)
//! - `diagnostic`: Configuration diagnostics: one problem found in a schema or country file, with the file, line
//!   and key it concerns and what to do about it
//! - `encoding`: The character encoding of a delivery ([`Encoding`]): any label of the WHATWG Encoding Standard
//!   (`windows-1256`, `iso-8859-6`, `windows-874`, `gb18030`, `shift_jis`, `utf-16le`, ...), plus the project's own
//!   spellings `utf-8-bom` (UTF-8 with a byte-order mark) and `latin-1` (decoded as windows-1252, as WHATWG does
//!   for every Latin-1 label)
//! - `error`: Typed configuration errors
//! - `layered`: Layered TOML: parse the defaults file and a country file with spans, merge them, and remember for
//!   every key path which file and line set it, so diagnostics after the merge point into the file that set the
//!   value
//! - `limits`: Size limits of the hand-edited configuration files (countries/, schemas/, pipelines/) and their
//!   bounded reader
//! - `resolve`: Resolution of column mappings after the merge: a column's `scheme` is expanded into its `codes`,
//!   and coded columns inherit missing codes (the column's own, else its scheme's, else its delivery's)
//! - `schema_check`: Validation of harmonised table schemas on load: names, missing codes, categories (and
//!   `ordered` only on them), derived bands, constraints, keys, and every field's universe, which must parse and
//!   check in the expression language (`dh-expr`) against the table's own columns
//! - `shape`: The layout of a country configuration: which keys exist where and what type their values have
//! - `short_names`: Stata/SPSS variable names of the harmonised columns (`dh export`, the codebook's "Stata/SPSS
//!   name")
//! - `suggest`: "Did you mean ...?" suggestions for misspelt names (columns, labels, schemes)
//! - `validate`: Semantic validation of a loaded country configuration against the harmonised schemas: every
//!   problem is returned as a [`Diagnostic`] naming the file and line that set the value, the key, and what to do
//! - `shipped_tests`: Tests over the shipped `schemas/` and `countries/` folders of the repository

pub mod calendar;
pub mod codebook;
pub mod content;
pub mod country;
pub mod date_format;
pub mod design;
pub mod diagnostic;
pub mod encoding;
pub mod error;
pub mod layered;
pub mod limits;
pub mod resolve;
pub mod schema;
pub mod schema_check;
pub mod shape;
pub mod short_names;
pub mod suggest;
pub mod validate;

pub use codebook::render_codebook;
pub use country::{
    CodeScheme, ColumnMap, CountryConfig, Delivery, ReferenceYears, ValueSource, load_countries,
    load_country,
};
pub use design::{DesignTableError, design_schema, design_table};
pub use diagnostic::{Diagnostic, Severity};
pub use encoding::Encoding;
pub use error::ConfigError;
pub use schema::{Category, Field, FieldType, MissingCode, SchemaSet, TableSchema, load_schemas};
pub use validate::{country_errors, load_and_validate, validate_country};

#[cfg(test)]
mod shipped_tests;
