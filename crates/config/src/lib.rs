//! `dh-config` owns the two kinds of user-edited configuration that drive every stage:
//!
//! * harmonised table schemas (`schemas/<table>.json`, modelled on Frictionless Table Schema), see [`schema`];
//! * country configurations (`countries/<ISO3>.toml` merged over `countries/_defaults.toml`), see [`country`].
//! * value shapes for the content checks and the quarantine table (phone, e-mail, coordinates, names, codes), see
//!   [`content`].
//!
//! Everything is validated on load; errors name the file, line and key and say what to do.

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
