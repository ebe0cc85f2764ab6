//! The layout of a country configuration: which keys exist where and what type their values have. Checked on the
//! merged TOML before deserialising, so every unknown key, misspelt key, wrong type and missing required key is
//! reported at once with the file and line that set it (serde would stop at the first, without a line).

use crate::country::Format;
use crate::diagnostic::Diagnostic;
use crate::layered::Locations;

/// Expected shape of a TOML value.
pub enum Shape {
    /// A table with known keys: (key, shape, required).
    Table(&'static [(&'static str, Shape, bool)]),
    /// A table whose keys are free (names, codes) and whose values all have one shape.
    Map(&'static Shape),
    /// An array whose items all have one shape.
    Array(&'static Shape),
    Str,
    /// Integer or float.
    Num,
    /// Non-negative integer.
    Count,
    Bool,
    /// A string from a fixed list.
    OneOf(&'static [&'static str]),
    /// Anything (free-form settings).
    Any,
    /// A string the function accepts (`Err` says why not, e.g. an unknown encoding label).
    Checked(fn(&str) -> Result<(), String>),
}

static NUM_MAP: Shape = Shape::Map(&Shape::Num);

static COLUMN: Shape = Shape::Table(&[
    ("source", Shape::Str, false),
    ("scheme", Shape::Str, false),
    ("codes", Shape::Map(&Shape::Str), false),
    ("missing", Shape::Map(&Shape::Str), false),
    ("not_collected", Shape::Bool, false),
    ("value", Shape::OneOf(&["code", "label"]), false),
    ("date_format", Shape::Str, false),
    ("constant", Shape::Str, false),
]);

/// The file settings a delivery and each of its parts share (after `file`), in one list: `delivery_table!` builds
/// both tables from it, so a new file setting is one line here.
macro_rules! delivery_table {
    ($($head:expr,)* ; $($tail:expr,)*) => {
        Shape::Table(&[
            $($head,)*
            ("format", Shape::OneOf(&Format::NAMES), false),
            (
                "encoding",
                Shape::Checked(crate::encoding::Encoding::check_label),
                false,
            ),
            ("delimiter", Shape::Str, false),
            ("line_ending", Shape::OneOf(&["lf", "crlf"]), false),
            ("sheet", Shape::Str, false),
            ("header_row", Shape::Count, false),
            ("skip_rows", Shape::Count, false),
            ("identifiers", Shape::Array(&Shape::Str), false),
            ("missing", Shape::Map(&Shape::Str), false),
            ("columns", Shape::Map(&COLUMN), false),
            $($tail,)*
        ])
    };
}

/// One file of a delivery in several files (`[[deliveries.<table>.parts]]`): its `file` is required.
static PART: Shape = delivery_table!(("file", Shape::Str, true), ;);

static DELIVERY: Shape = delivery_table!(
    // Required unless `delivered = false` or `parts` are given; checked by validate_country.
    ("file", Shape::Str, false),
    ("delivered", Shape::Bool, false),
    ;
    ("parts", Shape::Array(&PART), false),
);

static CELL: Shape = Shape::Table(&[
    ("sex", Shape::Str, true),
    ("age_band", Shape::Str, true),
    ("urban_rural", Shape::Str, true),
    ("count", Shape::Num, true),
]);

static SCHEME: Shape = Shape::Table(&[
    ("codes", Shape::Map(&Shape::Str), true),
    ("missing", Shape::Map(&Shape::Str), false),
]);

/// The whole country file (after the merge).
pub static COUNTRY: Shape = Shape::Table(&[
    (
        "country",
        Shape::Table(&[
            ("iso3", Shape::Str, true),
            ("name", Shape::Str, true),
            ("region", Shape::Str, true),
            ("fieldwork_start", Shape::Str, true),
            ("fieldwork_end", Shape::Str, true),
            ("report_launch", Shape::Str, false),
            (
                "reference_years",
                Shape::Table(&[("first", Shape::Count, true), ("last", Shape::Count, true)]),
                false,
            ),
        ]),
        true,
    ),
    (
        "population",
        Shape::Table(&[
            ("source", Shape::Str, true),
            ("population_12_17", Shape::Num, true),
            ("internet_share", Shape::Num, true),
            ("cells", Shape::Array(&CELL), true),
        ]),
        true,
    ),
    ("code_schemes", Shape::Map(&SCHEME), false),
    ("deliveries", Shape::Map(&DELIVERY), false),
    (
        "synth",
        Shape::Table(&[
            ("regions", Shape::Array(&Shape::Str), false),
            ("sample_children", Shape::Count, false),
            ("settings", Shape::Map(&Shape::Any), false),
            ("prevalence", Shape::Map(&Shape::Num), false),
            ("distribution", Shape::Map(&NUM_MAP), false),
            // Parameters of the other data families, one table per harmonised table; each generator in
            // crates/synth/src/families checks its own keys.
            ("families", Shape::Map(&Shape::Any), false),
        ]),
        false,
    ),
]);

/// Checks the merged country table against [`COUNTRY`].
pub fn check_country(table: &toml::Table, locations: &Locations) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_table_entries(table, &COUNTRY, &mut Vec::new(), locations, &mut out);
    out
}

fn check_table_entries(
    table: &toml::Table,
    shape: &Shape,
    path: &mut Vec<String>,
    locations: &Locations,
    out: &mut Vec<Diagnostic>,
) {
    match shape {
        Shape::Table(entries) => {
            for (key, value) in table {
                path.push(key.clone());
                match entries.iter().find(|(k, _, _)| k == key) {
                    Some((_, s, _)) => check_value(value, s, path, locations, out),
                    None => {
                        let known: Vec<&str> = entries.iter().map(|(k, _, _)| *k).collect();
                        out.push(locations.error(
                            path,
                            format!(
                                "unknown key `{key}`; check the spelling (allowed here: {})",
                                known.join(", ")
                            ),
                        ));
                    }
                }
                path.pop();
            }
            for (key, _, required) in entries.iter() {
                if *required && !table.contains_key(*key) {
                    out.push(locations.error(
                        path,
                        format!("required key `{key}` is missing here; add it to the country file or the defaults"),
                    ));
                }
            }
        }
        Shape::Map(inner) => {
            for (key, value) in table {
                path.push(key.clone());
                check_value(value, inner, path, locations, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn check_value(
    value: &toml::Value,
    shape: &Shape,
    path: &mut Vec<String>,
    locations: &Locations,
    out: &mut Vec<Diagnostic>,
) {
    let found = value.type_str();
    let mismatch = |expected: &str| format!("expected {expected}, found {found}");
    match (shape, value) {
        (Shape::Any, _) => {}
        (Shape::Table(_) | Shape::Map(_), toml::Value::Table(t)) => {
            check_table_entries(t, shape, path, locations, out)
        }
        (Shape::Table(_) | Shape::Map(_), _) => {
            out.push(locations.error(path, mismatch("a table")))
        }
        (Shape::Array(inner), toml::Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                check_value(item, inner, path, locations, out);
                path.pop();
            }
        }
        (Shape::Array(_), _) => out.push(locations.error(path, mismatch("an array"))),
        (Shape::Str, toml::Value::String(_)) => {}
        (Shape::Str, _) => out.push(locations.error(path, mismatch("a string (quote it)"))),
        (Shape::Num, toml::Value::Integer(_) | toml::Value::Float(_)) => {}
        (Shape::Num, _) => out.push(locations.error(path, mismatch("a number"))),
        (Shape::Count, toml::Value::Integer(n)) if *n >= 0 => {}
        (Shape::Count, _) => out.push(locations.error(path, mismatch("a non-negative integer"))),
        (Shape::Bool, toml::Value::Boolean(_)) => {}
        (Shape::Bool, _) => out.push(locations.error(path, mismatch("true or false"))),
        (Shape::OneOf(allowed), toml::Value::String(s)) if allowed.contains(&s.as_str()) => {}
        (Shape::Checked(check), toml::Value::String(s)) => {
            if let Err(message) = check(s) {
                out.push(locations.error(path, message));
            }
        }
        (Shape::Checked(_), _) => out.push(locations.error(path, mismatch("a string (quote it)"))),
        (Shape::OneOf(allowed), _) => out.push(locations.error(
            path,
            format!(
                "`{value}` is not allowed here; use one of: {}",
                allowed.join(", ")
            ),
        )),
    }
}
