//! Markdown codebook of the harmonised schemas (`dh codebook`): one section per table with its keys and labelled
//! missing codes, then one row per column with type, flags, description, codes (with a category's wording, its
//! `title`, where the schema gives one), allowed missing codes, valid range (or a text column's `maxLength`) and
//! universe.

use std::fmt::Write;

use crate::error::ConfigError;
use crate::schema::{Field, FieldType, Role, SchemaSet, TableSchema};

/// Renders every table of `set`, or only `only` when given (an unknown name is an error listing the known ones).
pub fn render_codebook(set: &SchemaSet, only: Option<&str>) -> Result<String, ConfigError> {
    let tables: Vec<&TableSchema> = match only {
        Some(name) => match set.get(name) {
            Some(t) => vec![t],
            None => {
                let known: Vec<&str> = set.tables.keys().map(String::as_str).collect();
                return Err(ConfigError::invalid(
                    set.files
                        .values()
                        .next()
                        .and_then(|p| p.parent())
                        .unwrap_or(std::path::Path::new(".")),
                    0,
                    format!("no table `{name}`; known tables: {}", known.join(", ")),
                ));
            }
        },
        None => set.tables.values().collect(),
    };
    let mut out = String::from("# Codebook of the harmonised tables\n\n");
    out.push_str(
        "Generated from the schema files by `dh codebook`. Categorical columns are stored as their labels; \
         numeric codes are given for reference. Missing codes are kept distinct from answers and from each other; \
         `not_collected` (the country did not ask) may appear in any column that is not required.\n",
    );
    for table in tables {
        render_table(&mut out, table);
    }
    Ok(out)
}

fn render_table(out: &mut String, t: &TableSchema) {
    let _ = writeln!(
        out,
        "\n## `{}`: {} (version {})\n",
        t.name,
        escape(&t.title),
        t.version
    );
    if !t.description.is_empty() {
        let _ = writeln!(out, "{}\n", t.description);
    }
    if !t.primary_key.is_empty() {
        let _ = writeln!(out, "- Primary key: {}", ticks(&t.primary_key));
    }
    for fk in &t.foreign_keys {
        let _ = writeln!(
            out,
            "- Foreign key: {} references `{}`({})",
            ticks(&fk.fields),
            fk.reference.resource,
            ticks(&fk.reference.fields)
        );
    }
    let _ = writeln!(out, "- Columns: {}\n", t.fields.len());
    if !t.missing_values.is_empty() {
        out.push_str("Labelled missing codes:\n\n| code | label | meaning |\n|---|---|---|\n");
        for m in &t.missing_values {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} |",
                m.value,
                m.label,
                escape(&m.description)
            );
        }
        out.push('\n');
    }
    out.push_str("| column | type | description | codes | missing codes | range | universe |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for f in &t.fields {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            f.name,
            type_cell(f),
            escape(&f.description),
            codes_cell(f),
            if f.missing_values.is_empty() {
                "-".to_string()
            } else {
                ticks(&f.missing_values)
            },
            range_cell(f),
            universe_cell(f)
        );
    }
    render_short_names(out, t);
}

/// The Stata/SPSS names (`dh export`) of the columns whose harmonised name is longer than Stata's 32 bytes or is a
/// reserved word ([`crate::short_names`]); nothing when every name is kept.
fn render_short_names(out: &mut String, t: &TableSchema) {
    let names: Vec<&str> = t.fields.iter().map(|f| f.name.as_str()).collect();
    let short = crate::short_names::short_names(&names);
    let renamed: Vec<(&str, &String)> = names
        .iter()
        .zip(&short)
        .filter(|(long, s)| **long != s.as_str())
        .map(|(long, s)| (*long, s))
        .collect();
    if renamed.is_empty() {
        return;
    }
    out.push_str(
        "\nStata/SPSS names (`dh export`): columns longer than Stata's 32 characters get a stable short name \
         (first 27 characters, `_`, 4 hex digits of a hash of the full name), a Stata or SPSS reserved word gets \
         `_v`; the others keep their name.\n\n\
         | column | Stata/SPSS name |\n|---|---|\n",
    );
    for (long, s) in renamed {
        let _ = writeln!(out, "| `{long}` | `{s}` |");
    }
}

fn type_cell(f: &Field) -> String {
    let mut parts = vec![
        match f.field_type {
            FieldType::String if f.categories.is_some() && f.ordered => "categorical, ordered",
            FieldType::String if f.categories.is_some() => "categorical",
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
        }
        .to_string(),
    ];
    match f.role {
        Role::Design => parts.push("design".into()),
        Role::Key => parts.push("key".into()),
        Role::Demographic => parts.push("demographic".into()),
        Role::Derived => parts.push(format!(
            "derived from `{}`",
            f.derived_from.as_deref().unwrap_or("?")
        )),
        Role::Item => {}
    }
    if f.constraints.required {
        parts.push("required".into());
    }
    if f.constraints.unique {
        parts.push("unique".into());
    }
    if f.pseudonymise {
        parts.push("pseudonymised".into());
    }
    parts.join(", ")
}

fn codes_cell(f: &Field) -> String {
    let Some(categories) = &f.categories else {
        return "-".into();
    };
    categories
        .iter()
        .map(|c| {
            let mut cell = match c.range {
                Some([lo, hi]) => format!("{} = `{}` ({lo}-{hi})", c.value, c.label),
                None => format!("{} = `{}`", c.value, c.label),
            };
            if let Some(title) = &c.title {
                let _ = write!(cell, ": {}", escape(title));
            }
            cell
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn range_cell(f: &Field) -> String {
    match (f.constraints.minimum, f.constraints.maximum) {
        (Some(lo), Some(hi)) => format!("{lo} to {hi}"),
        (Some(lo), None) => format!(">= {lo}"),
        (None, Some(hi)) => format!("<= {hi}"),
        (None, None) => match f.constraints.max_length {
            Some(n) => format!("at most {n} characters"),
            None => "-".into(),
        },
    }
}

fn universe_cell(f: &Field) -> String {
    if f.universe.trim() == "true" {
        "all".into()
    } else {
        format!("`{}`", escape(&f.universe))
    }
}

fn ticks(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes characters that would break a Markdown table cell.
fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> SchemaSet {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
        crate::load_schemas(&dir).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn one_section_per_table_and_one_row_per_column() {
        let set = shipped();
        let md = render_codebook(&set, None).unwrap();
        for (name, table) in &set.tables {
            assert!(md.contains(&format!("## `{name}`")), "{name}");
            for f in &table.fields {
                assert!(
                    md.contains(&format!("\n| `{}` |", f.name)),
                    "{name}.{}",
                    f.name
                );
            }
        }
        assert!(md.contains("| `age` | integer, demographic, required | "));
        assert!(
            md.contains("| `age_band` | categorical, ordered, derived from `age`, required | ")
        );
        assert!(md.contains("| `sex` | categorical, demographic"));
        assert!(md.contains("1 = `12-13` (12-13); 2 = `14-15` (14-15); 3 = `16-17` (16-17)"));
        assert!(md.contains("| `accepted_money_images` |") && md.contains("`age >= 15`"));
    }

    #[test]
    fn long_names_have_their_stata_spss_name() {
        let md = render_codebook(&shipped(), None).unwrap();
        assert!(md.contains(
            "| `caregiver_would_contact_social_worker` | `caregiver_would_contact_soc_d44d` |"
        ));
        assert!(md.contains(
            "| `offered_money_images_told_caregiver` | `offered_money_images_told_c_94fb` |"
        ));
        // Names that fit are not listed.
        assert!(!md.contains("| `offered_money_images_told_nobody` | `"));
    }

    #[test]
    fn single_table_and_unknown_table() {
        let set = shipped();
        let md = render_codebook(&set, Some("caregiver_survey")).unwrap();
        assert!(md.contains("## `caregiver_survey`") && !md.contains("## `child_survey`"));
        let err = render_codebook(&set, Some("child"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no table `child`") && err.contains("child_survey"),
            "{err}"
        );
    }

    #[test]
    fn category_titles_and_max_length_are_shown() {
        let md = render_codebook(&shipped(), Some("legal_provisions")).unwrap();
        assert!(
            md.contains(
                "1 = `criminalises_grooming`: The law criminalises online grooming of children for sexual purposes; \
                 2 = `criminalises_csam_production`: "
            ),
            "{md}"
        );
        assert!(
            md.contains("| `citation` | string | ")
                && md.contains("| at most 120 characters | all |"),
            "{md}"
        );
        // Categories without a title keep the plain form.
        assert!(
            md.contains("1 = `yes`; 2 = `partial`; 3 = `no`; 4 = `unclear` |"),
            "{md}"
        );
    }

    #[test]
    fn pipes_are_escaped() {
        assert_eq!(escape("a | b\nc"), "a \\| b c");
    }
}
