//! Checks of the deliveries and their column mappings against the harmonised schemas: unknown tables and columns,
//! unknown code labels, undeclared missing labels, ambiguous or duplicate mappings, `not_collected` misuse, unmapped
//! required columns, identifiers that are also mapped, `value = "label"` and `date_format` where they cannot apply.

use std::collections::BTreeMap;

use crate::country::{ColumnMap, CountryConfig, Delivery, Format, ValueSource};
use crate::date_format::DateFormat;
use crate::diagnostic::Diagnostic;
use crate::layered::Locations;
use crate::schema::{Field, FieldType, Role, SchemaSet, TableSchema};
use crate::suggest::did_you_mean;

/// Label used for "the country did not ask"; set through `not_collected = true`, never through a missing code.
const NOT_COLLECTED: &str = "not_collected";

pub(super) fn check(config: &CountryConfig, schemas: &SchemaSet, out: &mut Vec<Diagnostic>) {
    for (table, delivery) in &config.deliveries {
        let Some(schema) = schemas.get(table) else {
            let known: Vec<&str> = schemas.tables.keys().map(String::as_str).collect();
            out.push(config.locations.error(
                &["deliveries", table],
                format!(
                    "no harmonised schema `{table}` in the schema folder{}; known tables: {}",
                    did_you_mean(table, known.iter().copied()),
                    known.join(", ")
                ),
            ));
            continue;
        };
        if !delivery.delivered {
            // Nothing of it is read: the mapping it inherits from the defaults need not be complete (police cases
            // have no offence codes until a country maps its own).
            continue;
        }
        if delivery.parts.is_empty() {
            let ctx = Ctx {
                config,
                table,
                delivery,
                schema,
                loc: &config.locations,
                part: None,
            };
            ctx.check_delivery(out);
            continue;
        }
        // A delivery in parts: each file's effective delivery (the part over the delivery) is checked on its own.
        for (i, file) in delivery.files().iter().enumerate() {
            let ctx = Ctx {
                config,
                table,
                delivery: file,
                schema,
                loc: &config.locations,
                part: Some(i),
            };
            ctx.check_delivery(out);
        }
    }
}

struct Ctx<'a> {
    config: &'a CountryConfig,
    table: &'a str,
    delivery: &'a Delivery,
    schema: &'a TableSchema,
    loc: &'a Locations,
    /// Index of the part (`[[deliveries.<table>.parts]]`) whose effective delivery is checked.
    part: Option<usize>,
}

impl Ctx<'_> {
    fn path(&self, rest: &[&str]) -> Vec<String> {
        let mut p = vec!["deliveries".to_string(), self.table.to_string()];
        if let Some(i) = self.part {
            p.extend(["parts".to_string(), i.to_string()]);
        }
        p.extend(rest.iter().map(|s| s.to_string()));
        p
    }

    fn check_delivery(&self, out: &mut Vec<Diagnostic>) {
        let d = self.delivery;
        if d.delivered && d.file.trim().is_empty() {
            out.push(self.loc.error(
                &self.path(&["file"]),
                "`file` is empty or missing; give the delivery's file name, or set `delivered = false` if the \
                 country did not deliver this table",
            ));
        }
        if d.header_row == 0 {
            out.push(self.loc.error(
                &self.path(&["header_row"]),
                "`header_row` counts from 1 (the first row of the sheet or file)",
            ));
        }
        if d.delimiter.chars().count() != 1 {
            out.push(self.loc.error(
                &self.path(&["delimiter"]),
                format!(
                    "delimiter `{}` must be exactly one character (e.g. \",\", \";\", \"\\t\")",
                    d.delimiter
                ),
            ));
        }
        let mut seen = BTreeMap::new();
        for (i, id) in d.identifiers.iter().enumerate() {
            if seen.insert(id.as_str(), i).is_some() {
                out.push(self.loc.error(
                    &self.path(&["identifiers", &i.to_string()]),
                    format!("identifier `{id}` is listed twice; keep one"),
                ));
            }
        }
        for (code, label) in &d.missing {
            self.check_missing_label(&self.path(&["missing", code]), label, None, out);
            self.check_label_key(&self.path(&["missing", code]), code, out);
        }
        self.check_columns(out);
    }

    fn check_columns(&self, out: &mut Vec<Diagnostic>) {
        let mut sources: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, map) in &self.delivery.columns {
            let col_path = self.path(&["columns", name]);
            let Some(field) = self.schema.field(name) else {
                out.push(self.loc.error(
                    &col_path,
                    format!(
                        "unknown harmonised column `{name}` for table `{}`{}; the columns are listed in the schema file (see `dh codebook`)",
                        self.table,
                        did_you_mean(name, self.schema.fields.iter().map(|f| f.name.as_str()))
                    ),
                ));
                continue;
            };
            if field.role == Role::Derived {
                out.push(self.loc.error(
                    &col_path,
                    format!(
                        "`{name}` is derived by the pipeline from `{}`; remove this mapping",
                        field.derived_from.as_deref().unwrap_or("other columns")
                    ),
                ));
                continue;
            }
            if map.not_collected {
                self.check_not_collected(name, map, field, out);
                continue;
            }
            if let Some(constant) = map.constant.as_deref() {
                // A value every row of the file has (e.g. the organisation of one part): mapped like a cell.
                if map.source.is_some() {
                    out.push(self.loc.error(
                        &self.path(&["columns", name, "constant"]),
                        format!("`{name}` has both `source` and `constant`; keep one"),
                    ));
                } else if constant.trim().is_empty() && field.constraints.required {
                    out.push(self.loc.error(
                        &self.path(&["columns", name, "constant"]),
                        format!("`{name}` is required but its `constant` is empty"),
                    ));
                } else if !map.codes.is_empty()
                    && !map.codes.contains_key(constant)
                    && !map.missing.contains_key(constant)
                {
                    out.push(self.loc.error(
                        &self.path(&["columns", name, "constant"]),
                        format!(
                            "constant `{constant}` of `{name}` is not one of the column's codes; use a code its `codes` or \
                             `scheme` maps"
                        ),
                    ));
                }
                self.check_codes(name, map, field, out);
                self.check_missing(name, map, field, out);
                continue;
            }
            let Some(source) = map.source.as_deref() else {
                out.push(self.loc.missing_error(
                    &col_path,
                    format!("`{name}` has no `source`; set source = \"<variable in the delivery>\", or not_collected = true if the country did not ask it"),
                ));
                continue;
            };
            if source.trim().is_empty() {
                out.push(self.loc.error(
                    &self.path(&["columns", name, "source"]),
                    "`source` is empty; give the variable name",
                ));
            }
            if let Some(other) = sources.insert(source, name) {
                out.push(self.loc.error(
                    &self.path(&["columns", name, "source"]),
                    format!("source variable `{source}` is already mapped to `{other}`; a source variable maps to one harmonised column"),
                ));
            }
            if self.delivery.identifiers.iter().any(|i| i == source) {
                out.push(self.loc.error(
                    &self.path(&["columns", name, "source"]),
                    format!("source variable `{source}` is also listed in `identifiers` (dropped at ingest); remove it from one of them"),
                ));
            }
            self.check_codes(name, map, field, out);
            self.check_missing(name, map, field, out);
            self.check_value_source(name, map, field, out);
            self.check_date_format(name, map, field, out);
        }
        self.check_routing(out);
        for field in &self.schema.fields {
            if field.role == Role::Derived || self.delivery.columns.contains_key(&field.name) {
                continue;
            }
            let path = self.path(&["columns"]);
            if field.constraints.required {
                out.push(self.loc.missing_error(
                    &path,
                    format!("required column `{}` is not mapped; add `{} = {{ source = \"<variable>\" }}`", field.name, field.name),
                ));
            } else {
                out.push(self.loc.warning(
                    &path,
                    format!("column `{}` is not mapped; map it, or add `{} = {{ not_collected = true }}` if the country did not ask it", field.name, field.name),
                ));
            }
        }
    }

    /// A collected follow-up whose universe reads a column the country did not collect could never be routed.
    fn check_routing(&self, out: &mut Vec<Diagnostic>) {
        for (name, map) in &self.delivery.columns {
            let Some(field) = self.schema.field(name) else {
                continue;
            };
            if map.not_collected {
                continue;
            }
            // Universes are checked when the schema loads; one that does not parse here has been reported there.
            let Ok(universe) = dh_expr::parse(&field.universe) else {
                continue;
            };
            for parent in universe.columns() {
                if self
                    .delivery
                    .columns
                    .get(parent)
                    .is_some_and(|m| m.not_collected)
                {
                    out.push(self.loc.error(
                        &self.path(&["columns", name]),
                        format!(
                            "`{name}` is asked only when `{}`, but `{parent}` is not collected in this country; mark `{name}` not_collected too, or collect `{parent}`",
                            field.universe
                        ),
                    ));
                }
            }
        }
    }

    fn check_not_collected(
        &self,
        name: &str,
        map: &ColumnMap,
        field: &Field,
        out: &mut Vec<Diagnostic>,
    ) {
        let set: Vec<&str> = [
            ("source", map.source.is_some()),
            ("scheme", map.scheme.is_some()),
            ("codes", !map.codes.is_empty()),
            ("missing", !map.missing.is_empty()),
            ("value", map.value != ValueSource::Code),
            ("date_format", map.date_format.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, on)| on.then_some(k))
        .collect();
        if let Some(first) = set.first() {
            out.push(self.loc.error(
                &self.path(&["columns", name, first]),
                format!("`{name}` has `not_collected = true` together with {}; remove them, or remove not_collected", set.join(", ")),
            ));
        }
        if field.constraints.required {
            out.push(self.loc.error(
                &self.path(&["columns", name, "not_collected"]),
                format!("`{name}` is required by the schema and cannot be not_collected; map its source variable"),
            ));
        }
    }

    /// Key path of the table that supplied a column's `codes` (its own, or its scheme's).
    fn codes_origin(&self, name: &str, map: &ColumnMap) -> Vec<String> {
        let own = self.path(&["columns", name, "codes"]);
        match &map.scheme {
            Some(s) if !self.loc.contains(&own) => {
                vec!["code_schemes".into(), s.clone(), "codes".into()]
            }
            _ => own,
        }
    }

    fn check_codes(&self, name: &str, map: &ColumnMap, field: &Field, out: &mut Vec<Diagnostic>) {
        if let Some(scheme) = &map.scheme
            && !self.config.code_schemes.contains_key(scheme)
        {
            let known: Vec<&str> = self
                .config
                .code_schemes
                .keys()
                .map(String::as_str)
                .collect();
            out.push(self.loc.error(
                &self.path(&["columns", name, "scheme"]),
                format!(
                    "unknown code scheme `{scheme}`{}; defined schemes: {}",
                    did_you_mean(scheme, known.iter().copied()),
                    known.join(", ")
                ),
            ));
            return;
        }
        let origin = self.codes_origin(name, map);
        let Some(categories) = &field.categories else {
            if !map.codes.is_empty() {
                out.push(
                    self.loc.error(
                        &origin,
                        format!(
                            "`{name}` is a {:?} column without categories; remove `codes`/`scheme`",
                            field.field_type
                        )
                        .to_lowercase(),
                    ),
                );
            }
            return;
        };
        if map.codes.is_empty() {
            out.push(self.loc.error(
                &self.path(&["columns", name]),
                format!("`{name}` is coded; set `scheme = \"...\"` or `codes = {{ \"<source code>\" = \"<label>\" }}`"),
            ));
            return;
        }
        let labels: Vec<&str> = categories.iter().map(|c| c.label.as_str()).collect();
        let mut by_label: BTreeMap<&str, &str> = BTreeMap::new();
        for (code, label) in &map.codes {
            let mut at = origin.clone();
            at.push(code.clone());
            self.check_label_key(&at, code, out);
            if !labels.contains(&label.as_str()) {
                out.push(self.loc.error(
                    &at,
                    format!(
                        "`{label}` is not a harmonised category of `{name}`{}; allowed labels: {}",
                        did_you_mean(label, labels.iter().copied()),
                        labels.join(", ")
                    ),
                ));
            } else if let Some(first) = by_label.insert(label.as_str(), code.as_str())
                && !field.many_to_one
            {
                out.push(self.loc.error(
                    &at,
                    format!("source codes `{first}` and `{code}` both map to `{label}`: ambiguous (a delivery cannot be regenerated); keep one"),
                ));
            }
            if map.missing.contains_key(code) {
                out.push(self.loc.error(
                    &at,
                    format!("source code `{code}` is both a category (`{label}`) and a missing code (`{}`); keep one", map.missing[code]),
                ));
            }
        }
        let uncovered: Vec<&str> = labels
            .iter()
            .copied()
            .filter(|l| !by_label.contains_key(l))
            .collect();
        if !uncovered.is_empty() {
            out.push(self.loc.warning(
                &origin,
                format!(
                        "no source code maps to {} of `{name}`; add the codes the delivery uses",
                        uncovered
                            .iter()
                            .map(|l| format!("`{l}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
            ));
        }
    }

    fn check_missing(&self, name: &str, map: &ColumnMap, field: &Field, out: &mut Vec<Diagnostic>) {
        let own = self.path(&["columns", name, "missing"]);
        let explicit = self.loc.contains(&own);
        let origin = if explicit {
            own
        } else {
            match &map.scheme {
                Some(s)
                    if self
                        .config
                        .code_schemes
                        .get(s)
                        .is_some_and(|cs| !cs.missing.is_empty()) =>
                {
                    vec!["code_schemes".into(), s.clone(), "missing".into()]
                }
                // Inherited from the delivery: checked once in check_delivery.
                _ => return,
            }
        };
        for (code, label) in &map.missing {
            let mut at = origin.clone();
            at.push(code.clone());
            self.check_missing_label(&at, label, explicit.then_some(field), out);
            self.check_label_key(&at, code, out);
        }
    }

    /// `value = "label"` needs a text column without categories (a coded column maps labels with `label:` keys) in a
    /// delivery that carries value labels (`.sav`, `.dta`).
    fn check_value_source(
        &self,
        name: &str,
        map: &ColumnMap,
        field: &Field,
        out: &mut Vec<Diagnostic>,
    ) {
        if map.value != ValueSource::Label {
            return;
        }
        let at = self.path(&["columns", name, "value"]);
        if field.categories.is_some() {
            out.push(self.loc.error(
                &at,
                format!(
                    "`{name}` is coded: map its codes with `codes` (keys may name value labels: \"label:<value label>\" = \"<category>\") and remove value = \"label\""
                ),
            ));
        } else if field.field_type != FieldType::String || field.pseudonymise {
            out.push(self.loc.error(
                &at,
                format!(
                    "value = \"label\" works for text columns only; `{name}` is {}; remove it",
                    if field.pseudonymise {
                        "a pseudonymised key".to_string()
                    } else {
                        format!("of type {:?}", field.field_type).to_lowercase()
                    }
                ),
            ));
        } else if !matches!(self.delivery.format, Format::Sav | Format::Dta) {
            out.push(self.loc.error(
                &at,
                format!(
                    "value = \"label\" takes the value label of each code, but a {} delivery has no value labels; remove it (labels work for format = \"sav\" or \"dta\")",
                    format_name(self.delivery.format)
                ),
            ));
        }
    }

    /// `date_format` only on date columns, and only with directives `dh` reads ([`DateFormat::compile`]).
    fn check_date_format(
        &self,
        name: &str,
        map: &ColumnMap,
        field: &Field,
        out: &mut Vec<Diagnostic>,
    ) {
        let Some(format) = &map.date_format else {
            return;
        };
        let at = self.path(&["columns", name, "date_format"]);
        if field.field_type != FieldType::Date {
            out.push(self.loc.error(
                &at,
                format!(
                    "`{name}` is a {} column, not a date; remove date_format",
                    format!("{:?}", field.field_type).to_lowercase()
                ),
            ));
        } else if let Err(message) = DateFormat::compile(format) {
            out.push(self.loc.error(&at, message));
        }
    }

    /// A `label:<value label>` key needs a delivery that carries value labels (`.sav`, `.dta`) and a non-empty label.
    fn check_label_key(&self, at: &[String], code: &str, out: &mut Vec<Diagnostic>) {
        let Some(label) = crate::country::label_key(code) else {
            return;
        };
        if label.trim().is_empty() {
            out.push(self.loc.error(
                at,
                format!("`{code}` names an empty value label; write `label:<value label as in the file>`"),
            ));
        } else if !matches!(self.delivery.format, Format::Sav | Format::Dta) {
            out.push(self.loc.error(
                at,
                format!(
                    "`{code}` maps by value label, but a {} delivery has no value labels; use the codes themselves (labels work for format = \"sav\" or \"dta\")",
                    format_name(self.delivery.format)
                ),
            ));
        }
    }

    /// A missing label must be declared by the table; when set on the column itself, the field must allow it.
    fn check_missing_label(
        &self,
        at: &[String],
        label: &str,
        field: Option<&Field>,
        out: &mut Vec<Diagnostic>,
    ) {
        let declared: Vec<&str> = self
            .schema
            .missing_values
            .iter()
            .map(|m| m.label.as_str())
            .collect();
        if label == NOT_COLLECTED {
            out.push(self.loc.error(at, "`not_collected` is not a source missing code; set `not_collected = true` on the column instead"));
        } else if !declared.contains(&label) {
            out.push(self.loc.error(
                at,
                format!(
                    "`{label}` is not a missing label of table `{}`{}; declared: {}",
                    self.table,
                    did_you_mean(label, declared.iter().copied()),
                    declared.join(", ")
                ),
            ));
        } else if let Some(field) = field
            && !field.missing_values.iter().any(|m| m == label)
        {
            out.push(self.loc.error(
                at,
                format!(
                    "column `{}` does not allow the missing label `{label}` (allowed: {}); remove it here or allow it in the schema",
                    field.name,
                    if field.missing_values.is_empty() { "none".to_string() } else { field.missing_values.join(", ") }
                ),
            ));
        }
    }
}

/// A delivery format as users write it in messages (`CSV`, `XLSX`, `SAV`, `DTA`).
fn format_name(format: Format) -> &'static str {
    match format {
        Format::Csv => "CSV",
        Format::Xlsx => "XLSX",
        Format::Sav => "SAV",
        Format::Dta => "DTA",
    }
}
