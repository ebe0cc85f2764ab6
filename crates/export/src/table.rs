//! One harmonised table as a labelled table for Stata and SPSS.
//!
//! - File label: the table's title and schema version (at most 64 bytes, else the title or the table name).
//! - Rows: every country's part in country order, rows in file order; a first column `country` (ISO3 text).
//! - Columns in schema order, named by [`dh_config::short_names`] (names longer than 32 bytes get their stable short
//!   name; the codebook lists them); variable label = the field's `title` (its name when the title is empty).
//! - Categorical columns: the codebook's numeric codes (`categories[].value`) with value labels in codebook order,
//!   the label text being the category label as in Parquet and the codebook (`several_times_a_day`). Stored as the
//!   smallest Stata integer type holding the codes.
//! - The table's labelled missing codes (`missingValues`, e.g. `dont_know` -1, `refused` -2, `not_applicable` -3,
//!   `not_collected` -4), in their schema order, are Stata's extended missing values `.a`, `.b`, `.c`, `.d` and SPSS
//!   user-missing values with their numeric code (declared as one range, `-4 THRU -1`, when no category code lies
//!   inside it, else as up to three discrete values); every categorical column labels all of them.
//! - Integer columns: Stata's smallest integer type (double when a value needs it); number columns double; boolean
//!   columns 0/1; date columns dates (`%td`, SPSS `DATE11`); text columns text (pseudonyms as they are). A null cell
//!   is system missing (`.`, SYSMIS) or empty text (numeric missing codes became null at normalisation).

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type};
use dh_config::short_names::short_names;
use dh_config::{Field, FieldType, TableSchema};
use dh_statfile::{
    Column, LabelledTable, MissingCode, Num, Storage, UserMissing, ValueKey, Values,
};

use crate::error::ExportError;
use crate::read::Part;

/// Name and variable label of the leading country column.
pub const COUNTRY_COLUMN: &str = "country";
pub const COUNTRY_LABEL: &str = "Country (ISO 3166-1 alpha-3 code)";

/// Cells of one field, gathered over the parts.
enum Cells {
    Coded(Vec<Num>),
    Numbers(Vec<Num>),
    Text(Vec<String>),
    Dates(Vec<Option<i32>>),
}

/// The labelled table of `schema` from its parts (see the module documentation).
pub fn build(schema: &TableSchema, parts: &[Part]) -> Result<LabelledTable, ExportError> {
    let missing_index: HashMap<&str, u8> = schema
        .missing_values
        .iter()
        .enumerate()
        .map(|(i, m)| (m.label.as_str(), i as u8))
        .collect();
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    let short = short_names(&names);
    let mut country = Vec::new();
    let mut cells: Vec<Cells> = schema
        .fields
        .iter()
        .map(|f| match (f.is_categorical(), f.field_type) {
            (true, _) => Cells::Coded(Vec::new()),
            (false, FieldType::Integer | FieldType::Number | FieldType::Boolean) => {
                Cells::Numbers(Vec::new())
            }
            (false, FieldType::Date) => Cells::Dates(Vec::new()),
            (false, FieldType::String) => Cells::Text(Vec::new()),
        })
        .collect();
    for part in parts {
        let mismatch = |message: String| ExportError::Mismatch {
            path: part.path.clone(),
            message,
        };
        if let Some(v) = &part.schema_version
            && *v != schema.version
        {
            return Err(mismatch(format!(
                "written with schema version {v}, the schema of `{}` is {}; run `dh run` again",
                schema.name, schema.version
            )));
        }
        for batch in &part.batches {
            country.extend(std::iter::repeat_n(part.country.clone(), batch.num_rows()));
            for (field, out) in schema.fields.iter().zip(cells.iter_mut()) {
                let array = batch
                    .column_by_name(&field.name)
                    .ok_or_else(|| mismatch(format!("no column `{}`", field.name)))?;
                append(field, array, &missing_index, out).map_err(&mismatch)?;
            }
        }
    }
    let missing: Vec<MissingCode> = schema
        .missing_values
        .iter()
        .map(|m| MissingCode {
            spss_value: m.value as f64,
            label: m.label.clone(),
        })
        .collect();
    let mut columns =
        vec![Column::new(COUNTRY_COLUMN, Values::Text(country)).with_label(COUNTRY_LABEL)];
    for ((field, name), cells) in schema.fields.iter().zip(short).zip(cells) {
        if name == COUNTRY_COLUMN {
            return Err(ExportError::Mismatch {
                path: schema.name.clone().into(),
                message: format!("column `{COUNTRY_COLUMN}` clashes with the added country column"),
            });
        }
        let label = if field.title.is_empty() {
            field.name.clone()
        } else {
            field.title.clone()
        };
        let values = match cells {
            Cells::Coded(cells) => {
                let codes = field.categories.iter().flatten().map(|c| c.value as f64);
                Values::Numeric {
                    storage: Storage::smallest_for(codes),
                    cells,
                }
            }
            Cells::Numbers(cells) => Values::Numeric {
                storage: match field.field_type {
                    FieldType::Number => Storage::Double,
                    _ => Storage::smallest_for(cells.iter().filter_map(|c| match c {
                        Num::Value(v) => Some(*v),
                        _ => None,
                    })),
                },
                cells,
            },
            Cells::Text(cells) => Values::Text(cells),
            Cells::Dates(cells) => Values::Date(cells),
        };
        let mut column = Column::new(name, values).with_label(label);
        if let Some(categories) = &field.categories {
            column.ordinal = field.ordered;
            column.value_labels = categories
                .iter()
                .map(|c| (ValueKey::Code(c.value as f64), c.label.clone()))
                .chain(
                    (0..missing.len())
                        .map(|i| (ValueKey::Missing(i as u8), missing[i].label.clone())),
                )
                .collect();
            column.user_missing = user_missing(
                &missing,
                &categories
                    .iter()
                    .map(|c| c.value as f64)
                    .collect::<Vec<_>>(),
            );
        }
        columns.push(column);
    }
    // SPSS file labels hold 64 bytes (Stata 80): the title with the schema version, else the title, else the name.
    let label = [
        format!("{} (schema {})", schema.title, schema.version),
        schema.title.clone(),
    ]
    .into_iter()
    .find(|l| !l.is_empty() && l.len() <= 64)
    .unwrap_or_else(|| schema.name.clone());
    Ok(LabelledTable {
        label,
        columns,
        missing,
    })
}

/// The SPSS user-missing declaration of a categorical column: one range over the missing codes when no category
/// code lies inside it, else the first three codes.
pub fn user_missing(missing: &[MissingCode], categories: &[f64]) -> UserMissing {
    let mut codes: Vec<f64> = missing.iter().map(|m| m.spss_value).collect();
    codes.sort_by(f64::total_cmp);
    codes.dedup();
    match (codes.first(), codes.last()) {
        (None, _) | (_, None) => UserMissing::None,
        (Some(&lo), Some(&hi))
            if codes.len() > 1 && !categories.iter().any(|c| lo <= *c && *c <= hi) =>
        {
            UserMissing::Range { lo, hi }
        }
        _ => {
            codes.truncate(3);
            UserMissing::Discrete(codes)
        }
    }
}

/// Appends the cells of one Arrow column; `Err` names the column and what is wrong (never a text cell's value).
fn append(
    field: &Field,
    array: &ArrayRef,
    missing: &HashMap<&str, u8>,
    out: &mut Cells,
) -> Result<(), String> {
    let cast = |to: &DataType| {
        // the cast error is not shown: it can quote a cell
        arrow::compute::cast(array, to).map_err(|_| {
            format!(
                "column `{}` of type {} cannot be read as {to}",
                field.name,
                array.data_type()
            )
        })
    };
    match out {
        Cells::Coded(cells) => {
            let text = cast(&DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let mut codes: HashMap<&str, Num> = missing
                .iter()
                .map(|(label, tag)| (*label, Num::Tagged(*tag)))
                .collect();
            for c in field.categories.iter().flatten() {
                codes.insert(c.label.as_str(), Num::Value(c.value as f64));
            }
            for i in 0..text.len() {
                if text.is_null(i) {
                    cells.push(Num::System);
                    continue;
                }
                let label = text.value(i);
                // the label itself is not shown: a file that is not dh's could hold any text there
                let code = codes.get(label).ok_or_else(|| {
                    format!(
                        "column `{}`, row {}: a label that is neither a category nor a missing code of the \
                         schema",
                        field.name,
                        i + 1
                    )
                })?;
                cells.push(*code);
            }
        }
        Cells::Numbers(cells) => {
            if field.field_type == FieldType::Boolean {
                let values = cast(&DataType::Boolean)?;
                let values = values.as_boolean();
                cells.extend((0..values.len()).map(|i| match values.is_null(i) {
                    true => Num::System,
                    false => Num::Value(if values.value(i) { 1.0 } else { 0.0 }),
                }));
            } else if field.field_type == FieldType::Integer {
                let values = cast(&DataType::Int64)?;
                let values = values.as_primitive::<Int64Type>();
                cells.extend(
                    values
                        .iter()
                        .map(|v| v.map_or(Num::System, |v| Num::Value(v as f64))),
                );
            } else {
                let values = cast(&DataType::Float64)?;
                let values = values.as_primitive::<Float64Type>();
                cells.extend(values.iter().map(|v| match v {
                    Some(v) if v.is_finite() => Num::Value(v),
                    _ => Num::System,
                }));
            }
        }
        Cells::Text(cells) => {
            let text = cast(&DataType::Utf8)?;
            let text = text.as_string::<i32>();
            cells.extend(text.iter().map(|v| v.unwrap_or_default().to_string()));
        }
        Cells::Dates(cells) => {
            let values = cast(&DataType::Date32)?;
            cells.extend(values.as_primitive::<Date32Type>().iter());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn codes() -> Vec<MissingCode> {
        [
            (-1.0, "dont_know"),
            (-2.0, "refused"),
            (-3.0, "not_applicable"),
            (-4.0, "not_collected"),
        ]
        .into_iter()
        .map(|(v, l)| MissingCode {
            spss_value: v,
            label: l.into(),
        })
        .collect()
    }

    fn schema() -> TableSchema {
        let json = r#"{
            "name": "t", "title": "T", "version": "1.0.0",
            "missingValues": [
                {"value": -1, "label": "dont_know"}, {"value": -2, "label": "refused"},
                {"value": -3, "label": "not_applicable"}, {"value": -4, "label": "not_collected"}],
            "fields": [
                {"name": "id", "type": "string", "title": "Id", "description": ""},
                {"name": "offered_money_images_told_caregiver", "type": "string", "title": "Told caregiver",
                 "description": "", "categories": [{"value": 1, "label": "yes"}, {"value": 2, "label": "no"}]},
                {"name": "age", "type": "integer", "title": "Age", "description": ""},
                {"name": "day", "type": "date", "title": "", "description": ""}]
        }"#;
        serde_json::from_str(json).unwrap()
    }

    fn part(country: &str, told: Vec<Option<&str>>, version: &str) -> Part {
        use arrow::array::{Date32Array, DictionaryArray, Int64Array, StringArray};
        use arrow::datatypes::Int16Type;
        let n = told.len();
        let told: DictionaryArray<Int16Type> = told.into_iter().collect();
        let batch = arrow::record_batch::RecordBatch::try_from_iter(vec![
            ("id", Arc::new(StringArray::from(vec!["x"; n])) as ArrayRef),
            (
                "offered_money_images_told_caregiver",
                Arc::new(told) as ArrayRef,
            ),
            (
                "age",
                Arc::new(Int64Array::from(
                    vec![Some(300), None, Some(12)][..n].to_vec(),
                )) as ArrayRef,
            ),
            (
                "day",
                Arc::new(Date32Array::from(
                    vec![Some(18_714), None, Some(0)][..n].to_vec(),
                )) as ArrayRef,
            ),
        ])
        .unwrap();
        Part {
            country: country.into(),
            path: format!("normalised/t/country={country}/part-0.parquet").into(),
            schema_version: Some(version.into()),
            batches: vec![batch],
        }
    }

    #[test]
    fn builds_codes_tags_labels_and_short_names() {
        let parts = [
            part("ETH", vec![Some("no"), Some("refused"), None], "1.0.0"),
            part("KEN", vec![Some("not_collected"), Some("yes")], "1.0.0"),
        ];
        let t = build(&schema(), &parts).unwrap();
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "country",
                "id",
                "offered_money_images_told_c_94fb",
                "age",
                "day"
            ]
        );
        let Values::Text(country) = &t.columns[0].values else {
            panic!()
        };
        assert_eq!(country, &["ETH", "ETH", "ETH", "KEN", "KEN"]);
        let told = &t.columns[2];
        assert_eq!(told.label.as_deref(), Some("Told caregiver"));
        let Values::Numeric { storage, cells } = &told.values else {
            panic!()
        };
        assert_eq!(*storage, Storage::Byte);
        assert_eq!(
            cells,
            &[
                Num::Value(2.0),
                Num::Tagged(1),
                Num::System,
                Num::Tagged(3),
                Num::Value(1.0)
            ]
        );
        let labels: Vec<(ValueKey, &str)> = told
            .value_labels
            .iter()
            .map(|(k, l)| (*k, l.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                (ValueKey::Code(1.0), "yes"),
                (ValueKey::Code(2.0), "no"),
                (ValueKey::Missing(0), "dont_know"),
                (ValueKey::Missing(1), "refused"),
                (ValueKey::Missing(2), "not_applicable"),
                (ValueKey::Missing(3), "not_collected"),
            ]
        );
        assert_eq!(told.user_missing, UserMissing::Range { lo: -4.0, hi: -1.0 });
        let Values::Numeric { storage, .. } = &t.columns[3].values else {
            panic!()
        };
        assert_eq!(*storage, Storage::Int, "300 needs an int");
        let Values::Date(days) = &t.columns[4].values else {
            panic!()
        };
        assert_eq!(days, &[Some(18_714), None, Some(0), Some(18_714), None]);
        assert_eq!(
            t.columns[4].label.as_deref(),
            Some("day"),
            "an empty title falls back to the name"
        );
        assert_eq!(t.missing[3].spss_value, -4.0);
        assert_eq!(t.label, "T (schema 1.0.0)");
    }

    #[test]
    fn refuses_unknown_labels_and_other_schema_versions() {
        let err = build(
            &schema(),
            &[part("ETH", vec![Some("yes"), Some("Jane Doe")], "1.0.0")],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("row 2: a label that is neither a category"),
            "{err}"
        );
        assert!(!err.contains("Jane"), "the message quotes the cell: {err}");
        let err = build(&schema(), &[part("ETH", vec![Some("yes")], "0.9.0")]).unwrap_err();
        assert!(err.to_string().contains("schema version 0.9.0"), "{err}");
    }

    #[test]
    fn user_missing_is_a_range_unless_a_category_is_inside() {
        assert_eq!(
            user_missing(&codes(), &[1.0, 2.0]),
            UserMissing::Range { lo: -4.0, hi: -1.0 }
        );
        assert_eq!(
            user_missing(&codes(), &[-2.0, 1.0]),
            UserMissing::Discrete(vec![-4.0, -3.0, -2.0])
        );
        assert_eq!(user_missing(&[], &[1.0]), UserMissing::None);
    }
}
