//! `OUT/tables/indicators.xlsx`: one sheet per indicator family (source table) with the cross-country table
//! (every country x indicator x domain level: estimate, interval, unweighted base, population estimate, the
//! primary flag and every condition of the row, so a low-base non-representative row shows both),
//! one sheet per country, and a "Definitions" sheet. Withheld estimates are empty cells with the flag beside
//! them. Bytes are deterministic: fixed creation date, no timestamps (rust_xlsxwriter also fixes zip times).

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet};

use crate::model::{Model, slug};
use crate::pages::family_title;
use crate::table::IndicatorRow;

/// Name of the definitions sheet.
pub const DEFINITIONS_SHEET: &str = "Definitions";

/// Header of the family and country sheets.
pub const HEADER: [&str; 13] = [
    "Country",
    "Country name",
    "Indicator",
    "Version",
    "Domain",
    "Domain value",
    "Estimate",
    "CI lower (95%)",
    "CI upper (95%)",
    "n (unweighted)",
    "Population estimate",
    "Flag",
    "All flags",
];

struct Formats {
    header: Format,
    percent: Format,
    count: Format,
    decimal: Format,
    integer: Format,
    wrap: Format,
}

fn formats() -> Formats {
    Formats {
        header: Format::new()
            .set_bold()
            .set_background_color("#DDDDDD")
            .set_text_wrap()
            .set_align(FormatAlign::Top),
        percent: Format::new().set_num_format("0.0%"),
        count: Format::new().set_num_format("#,##0"),
        decimal: Format::new().set_num_format("0.00"),
        integer: Format::new().set_num_format("0"),
        wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
    }
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, unique within `taken`.
pub fn sheet_name(wanted: &str, taken: &mut Vec<String>) -> String {
    let clean: String = wanted
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let base: String = clean.chars().take(31).collect();
    let mut name = base.clone();
    let mut k = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        let suffix = format!(" ({k})");
        name = format!(
            "{}{suffix}",
            base.chars().take(31 - suffix.len()).collect::<String>()
        );
        k += 1;
    }
    taken.push(name.clone());
    name
}

/// Builds the workbook in memory.
pub fn workbook_bytes(model: &Model<'_>) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let f = formats();
    let mut wb = Workbook::new();
    // Fast deflate: the file is a little larger, written several times faster.
    wb.set_zip_compression_level(1);
    let fixed = ExcelDateTime::from_ymd(2000, 1, 1)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title("Disrupting Harm indicators")
            .set_creation_datetime(&fixed),
    );
    let mut taken = Vec::new();

    let mut families: Vec<String> = Vec::new();
    for id in &model.indicators {
        let table = family_of(model, id);
        if !families.contains(&table) {
            families.push(table);
        }
    }
    for family in &families {
        let sheet = wb.add_worksheet();
        sheet.set_name(sheet_name(&family_title(family), &mut taken))?;
        let rows: Vec<&IndicatorRow> = model
            .indicators
            .iter()
            .filter(|id| &family_of(model, id) == family)
            .flat_map(|id| {
                model
                    .countries
                    .iter()
                    .flat_map(move |c| model.rows_of(&c.iso3, id))
            })
            .collect();
        write_rows(sheet, model, &rows, &f)?;
    }
    for c in &model.countries {
        let rows: Vec<&IndicatorRow> = model
            .indicators
            .iter()
            .flat_map(|id| model.rows_of(&c.iso3, id))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let sheet = wb.add_worksheet();
        sheet.set_name(sheet_name(&c.iso3, &mut taken))?;
        write_rows(sheet, model, &rows, &f)?;
    }
    let sheet = wb.add_worksheet();
    sheet.set_name(sheet_name(DEFINITIONS_SHEET, &mut taken))?;
    write_definitions(sheet, model, &f)?;
    wb.save_to_buffer()
}

fn family_of(model: &Model<'_>, id: &str) -> String {
    model
        .definition(id)
        .map(|d| d.table.clone())
        .unwrap_or_default()
}

fn write_header(
    sheet: &mut Worksheet,
    names: &[&str],
    f: &Formats,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (c, name) in names.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &f.header)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, 0, names.len().saturating_sub(1) as u16)?;
    Ok(())
}

fn write_rows(
    sheet: &mut Worksheet,
    model: &Model<'_>,
    rows: &[&IndicatorRow],
    f: &Formats,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    write_header(sheet, &HEADER, f)?;
    for (i, r) in rows.iter().enumerate() {
        let y = i as u32 + 1;
        let value_format = match crate::format::scale_of(model.statistic(&r.indicator)) {
            crate::format::Scale::Percent => &f.percent,
            crate::format::Scale::Whole => &f.count,
            crate::format::Scale::Decimal => &f.decimal,
        };
        sheet.write_string(y, 0, &r.country)?;
        sheet.write_string(y, 1, model.country_name(&r.country))?;
        sheet.write_string(y, 2, &r.indicator)?;
        sheet.write_string(y, 3, &r.indicator_version)?;
        sheet.write_string(y, 4, &r.domain)?;
        sheet.write_string(y, 5, &r.domain_value)?;
        if let Some(shown) = r.shown() {
            sheet.write_number_with_format(y, 6, shown.estimate, value_format)?;
            if let Some((lo, hi)) = shown.ci {
                sheet.write_number_with_format(y, 7, lo, value_format)?;
                sheet.write_number_with_format(y, 8, hi, value_format)?;
            }
            if let Some(p) = r.shown_population() {
                sheet.write_number_with_format(y, 10, p, &f.count)?;
            }
        }
        if !r.n_withheld() {
            sheet.write_number_with_format(y, 9, r.n_unweighted as f64, &f.integer)?;
        }
        sheet.write_string(y, 11, &r.flag)?;
        sheet.write_string(y, 12, r.flags.join("; "))?;
    }
    for (c, width) in [
        6.0, 16.0, 30.0, 8.0, 12.0, 12.0, 10.0, 10.0, 10.0, 10.0, 14.0, 13.0, 30.0,
    ]
    .iter()
    .enumerate()
    {
        sheet.set_column_width(c as u16, *width)?;
    }
    Ok(())
}

fn write_definitions(
    sheet: &mut Worksheet,
    model: &Model<'_>,
    f: &Formats,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let names = [
        "Indicator",
        "Label",
        "Version",
        "Family",
        "Statistic",
        "Universe",
        "Universe expression",
        "Numerator",
        "Missing-code rule",
        "Missing codes",
        "CI method",
        "Disaggregations",
        "Comparability",
        "Notes",
    ];
    write_header(sheet, &names, f)?;
    let mut y = 1u32;
    for id in &model.indicators {
        let Some(d) = model.definition(id) else {
            sheet.write_string(y, 0, id)?;
            sheet.write_string(y, 1, "(no definition recorded by the run)")?;
            y += 1;
            continue;
        };
        let codes = d
            .missing_codes
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let cells = [
            d.id.clone(),
            d.label.clone(),
            d.version.clone(),
            slug(&d.table),
            d.statistic.clone(),
            d.universe_label.clone(),
            d.universe.clone(),
            d.numerator
                .clone()
                .or(d.variable.clone())
                .unwrap_or_default(),
            if d.missing_rationale.is_empty() {
                format!("{}: {}", d.missing_rule, d.missing_rule_description)
            } else {
                format!(
                    "{}: {} Why: {}",
                    d.missing_rule, d.missing_rule_description, d.missing_rationale
                )
            },
            codes,
            d.ci_method.clone(),
            d.disaggregations.join(", "),
            d.comparability.clone(),
            d.notes.clone(),
        ];
        for (c, text) in cells.iter().enumerate() {
            sheet.write_string_with_format(y, c as u16, text, &f.wrap)?;
        }
        y += 1;
    }
    for (c, width) in [
        26.0, 40.0, 8.0, 16.0, 10.0, 30.0, 30.0, 40.0, 40.0, 40.0, 12.0, 24.0, 60.0, 40.0,
    ]
    .iter()
    .enumerate()
    {
        sheet.set_column_width(c as u16, *width)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut taken = Vec::new();
        assert_eq!(sheet_name("THA", &mut taken), "THA");
        assert_eq!(sheet_name("tha", &mut taken), "tha (2)");
        let long = sheet_name("Household survey: children and more words here", &mut taken);
        assert!(long.chars().count() <= 31 && !long.contains(':'), "{long}");
    }
}
