//! `OUT/tables/indicators.xlsx`: a "Read me" sheet first (the sheets, every column, the flags from the flag
//! registry, the suppression rules), one sheet per indicator family (source table) with the cross-country table
//! (every country x indicator x domain level: label, estimate, SE, interval, unweighted base, population
//! estimate, the primary flag, every condition of the row and a note saying why a value is withheld), one sheet
//! per country, and a "Definitions" sheet. The legal review's status matrix gets one sheet of its own, "Legal
//! provisions" ([`LEGAL_SHEET`]: countries x provisions in words, each citation in the cell's note), in place of
//! its family sheet; its rows stay on the country sheets (the code as estimate, the status in the note). Withheld cells are grey, with the reason in italics ("<5",
//! "suppressed (n < 25)") and in the note. Sheet names are readable and valid ([`sheet_name`]). Bytes are
//! deterministic: fixed creation date, no timestamps (rust_xlsxwriter also fixes zip times).

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, Note, Workbook, Worksheet,
};

use crate::model::{Model, slug};
use crate::pages::family_title;
use crate::table::IndicatorRow;

type XlsxResult<T> = Result<T, rust_xlsxwriter::XlsxError>;

/// Name of the first sheet, which explains the others.
pub const README_SHEET: &str = "Read me";

/// Name of the sheet of the legal review's status matrix.
pub const LEGAL_SHEET: &str = "Legal provisions";

/// Name of the definitions sheet.
pub const DEFINITIONS_SHEET: &str = "Definitions";

/// Excel's limit on the length of a sheet name.
pub const SHEET_NAME_MAX: usize = 31;

/// One column of the family and country sheets: header, width, and what it holds (the "Read me" sheet).
pub struct Column {
    pub header: &'static str,
    width: f64,
    pub about: &'static str,
}

/// The columns of the family and country sheets, in order: the one list the header, the widths and the "Read
/// me" sheet are written from.
pub const COLUMNS: [Column; 16] = [
    Column {
        header: "Country",
        width: 8.0,
        about: "ISO 3166-1 alpha-3 code of the country.",
    },
    Column {
        header: "Country name",
        width: 16.0,
        about: "Name of the country.",
    },
    Column {
        header: "Indicator",
        width: 28.0,
        about: "Indicator id, as in indicators/indicators.parquet and the report.",
    },
    Column {
        header: "Indicator label",
        width: 44.0,
        about: "What the indicator measures (on a country sheet, with that country's reference years).",
    },
    Column {
        header: "Version",
        width: 8.0,
        about: "Version of the indicator's definition.",
    },
    Column {
        header: "Domain",
        width: 14.0,
        about: "\"total\" for the whole population base, otherwise the column the row is broken down by (sex, \
                age_band, ...).",
    },
    Column {
        header: "Domain value",
        width: 14.0,
        about: "The level of the breakdown, as coded in the data (\"total\" for the whole population base).",
    },
    Column {
        header: "Estimate",
        width: 12.0,
        about: "The estimate: proportions and shares as percentages (stored as proportions: 0.091 is shown as \
                9.1%), counts and totals as whole numbers, means and rates with two decimals. A withheld estimate is a grey cell saying why in italics: <5, \
                suppressed (n < 25), suppressed (complementary), not collected.",
    },
    Column {
        header: "SE",
        width: 10.0,
        about: "Standard error of the estimate, in its unit. Empty for withheld estimates and for statistics \
                without a design-based standard error (unweighted and administrative figures).",
    },
    Column {
        header: "CI lower (95%)",
        width: 11.0,
        about: "Lower end of the 95% confidence interval (the method is on the Definitions sheet and the \
                report's methods page).",
    },
    Column {
        header: "CI upper (95%)",
        width: 11.0,
        about: "Upper end of the 95% confidence interval.",
    },
    Column {
        header: "n (unweighted)",
        width: 11.0,
        about: "Unweighted number of cases in the denominator. \"withheld\" where disclosure control withholds \
                it with the estimate (small counts and the other data families' withheld cells).",
    },
    Column {
        header: "Population estimate",
        width: 14.0,
        about: "For a proportion: the proportion times the weighted size of its population base (people); for a \
                count: the count. Empty for means, unweighted and administrative figures, and withheld rows.",
    },
    Column {
        header: "Flag",
        width: 14.0,
        about: "The row's primary flag: the first condition in the order of the Flags table below.",
    },
    Column {
        header: "All flags",
        width: 28.0,
        about: "Every condition that holds for the row, separated by \"; \".",
    },
    Column {
        header: "Note",
        width: 50.0,
        about: "Why the estimate is withheld, or the warnings on a published one, in words.",
    },
];

/// The header of the family and country sheets.
pub fn header() -> Vec<&'static str> {
    COLUMNS.iter().map(|c| c.header).collect()
}

/// Positions of the columns in [`COLUMNS`].
mod col {
    pub const COUNTRY: u16 = 0;
    pub const COUNTRY_NAME: u16 = 1;
    pub const INDICATOR: u16 = 2;
    pub const LABEL: u16 = 3;
    pub const VERSION: u16 = 4;
    pub const DOMAIN: u16 = 5;
    pub const DOMAIN_VALUE: u16 = 6;
    pub const ESTIMATE: u16 = 7;
    pub const SE: u16 = 8;
    pub const CI_LOWER: u16 = 9;
    pub const CI_UPPER: u16 = 10;
    pub const N: u16 = 11;
    pub const POPULATION: u16 = 12;
    pub const FLAG: u16 = 13;
    pub const FLAGS: u16 = 14;
    pub const NOTE: u16 = 15;
}

/// The text of a withheld base in the `n (unweighted)` column.
pub const WITHHELD: &str = "withheld";

/// Fill of withheld cells.
pub const WITHHELD_FILL: &str = "#E7E6E6";

struct Formats {
    header: Format,
    title: Format,
    bold: Format,
    percent: Format,
    count: Format,
    decimal: Format,
    integer: Format,
    wrap: Format,
    /// A withheld value: grey fill, italic grey text.
    withheld: Format,
    /// A withheld row's empty numeric cells: grey fill.
    withheld_blank: Format,
}

fn formats() -> Formats {
    Formats {
        header: Format::new()
            .set_bold()
            .set_background_color("#DDDDDD")
            .set_text_wrap()
            .set_align(FormatAlign::Top),
        title: Format::new().set_bold().set_font_size(14),
        bold: Format::new().set_bold().set_align(FormatAlign::Top),
        percent: Format::new().set_num_format("0.0%"),
        count: Format::new().set_num_format("#,##0"),
        decimal: Format::new().set_num_format("0.00"),
        integer: Format::new().set_num_format("0"),
        wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
        withheld: Format::new()
            .set_italic()
            .set_font_color("#595959")
            .set_background_color(WITHHELD_FILL),
        withheld_blank: Format::new().set_background_color(WITHHELD_FILL),
    }
}

/// Characters Excel does not accept in a sheet name, and what is written instead.
fn replacement(c: char) -> Option<&'static str> {
    match c {
        ':' => Some(" - "),
        '/' | '\\' => Some("-"),
        '[' => Some("("),
        ']' => Some(")"),
        '*' | '?' => Some(""),
        _ => None,
    }
}

/// `text` cut to at most `max` characters, at a word boundary when there is one in the second half, without a
/// trailing separator.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let ends_a_word = text.chars().nth(max).is_some_and(|c| c == ' ');
    let at_word = match cut.rfind(' ') {
        _ if ends_a_word => cut,
        Some(i) if cut[..i].chars().count() * 2 >= max => cut[..i].to_string(),
        _ => cut,
    };
    at_word
        .trim_end_matches([' ', '-', '(', ',', '.'])
        .to_string()
}

/// A readable sheet name Excel accepts, unique within `taken` (compared as Excel does, ignoring case): `:`
/// becomes " - " ("Household survey: children" -> "Household survey - children"), `/` and `\` a hyphen,
/// brackets parentheses, `*` and `?` are dropped, runs of spaces and the apostrophes Excel refuses at either end
/// are removed; a name over 31 characters is cut at a word; a taken name gets " (2)", " (3)", ... within the 31.
pub fn sheet_name(wanted: &str, taken: &mut Vec<String>) -> String {
    let mut clean = String::with_capacity(wanted.len());
    for c in wanted.chars() {
        match replacement(c) {
            Some(r) => clean.push_str(r),
            None if c.is_control() => clean.push(' '),
            None => clean.push(c),
        }
    }
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    let clean = clean.trim_matches(['\'', ' ']);
    // "History" is reserved by Excel.
    let clean = if clean.is_empty() || clean.eq_ignore_ascii_case("history") {
        format!("{clean} sheet").trim().to_string()
    } else {
        clean.to_string()
    };
    let base = shorten(&clean, SHEET_NAME_MAX);
    let mut name = base.clone();
    let mut k = 2;
    while taken
        .iter()
        .any(|t| t.to_lowercase() == name.to_lowercase())
    {
        let suffix = format!(" ({k})");
        name = format!(
            "{}{suffix}",
            shorten(&base, SHEET_NAME_MAX - suffix.chars().count())
        );
        k += 1;
    }
    taken.push(name.clone());
    name
}

/// What a sheet of the workbook holds (the "Read me" lists them).
struct Planned {
    name: String,
    about: String,
    kind: Kind,
}

enum Kind {
    Family(String),
    /// The status matrix of a grid indicator ([`crate::legal::is_grid`]).
    Legal(String),
    Country(String),
    Definitions,
}

/// The sheets after "Read me", in order, with their names.
fn plan(model: &Model<'_>) -> Vec<Planned> {
    let mut taken = vec![README_SHEET.to_string()];
    let mut out = Vec::new();
    let mut families: Vec<String> = Vec::new();
    for id in &model.indicators {
        let table = family_of(model, id);
        if !families.contains(&table) {
            families.push(table);
        }
    }
    for family in families {
        let ids: Vec<&String> = model
            .indicators
            .iter()
            .filter(|id| family_of(model, id) == family)
            .collect();
        if let [id] = ids.as_slice()
            && crate::legal::is_grid(model, id)
        {
            out.push(Planned {
                name: sheet_name(LEGAL_SHEET, &mut taken),
                about: "The legal and policy review: one row per country, one column per checklist provision, \
                        the status in words (yes, partial, no, unclear; not reviewed when the country's review \
                        lacks it); a cell's note holds the instrument's citation and the review date."
                    .into(),
                kind: Kind::Legal((*id).clone()),
            });
            continue;
        }
        out.push(Planned {
            name: sheet_name(&family_title(&family), &mut taken),
            about: if family.is_empty() {
                "Every country and breakdown of the indicators the run recorded no definition for."
                    .into()
            } else {
                format!(
                    "Every country and breakdown of the indicators computed from the {} table.",
                    slug(&family)
                )
            },
            kind: Kind::Family(family),
        });
    }
    for c in &model.countries {
        if model
            .indicators
            .iter()
            .all(|id| model.rows_of(&c.iso3, id).is_empty())
        {
            continue;
        }
        out.push(Planned {
            name: sheet_name(&c.iso3, &mut taken),
            about: format!("{}: every indicator and breakdown of the country.", c.name),
            kind: Kind::Country(c.iso3.clone()),
        });
    }
    out.push(Planned {
        name: sheet_name(DEFINITIONS_SHEET, &mut taken),
        about: "The definition of every indicator: universe, numerator, missing-code rule, interval method, \
                disaggregations, comparability."
            .into(),
        kind: Kind::Definitions,
    });
    out
}

/// Builds the workbook in memory.
pub fn workbook_bytes(model: &Model<'_>) -> XlsxResult<Vec<u8>> {
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
    let planned = plan(model);
    let mut readme = Worksheet::new();
    readme.set_name(README_SHEET)?;
    write_readme(&mut readme, model, &planned, &f)?;
    wb.push_worksheet(readme);
    for p in &planned {
        let mut sheet = Worksheet::new();
        sheet.set_name(&p.name)?;
        match &p.kind {
            Kind::Family(family) => {
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
                write_rows(&mut sheet, model, &rows, false, &f)?;
            }
            Kind::Country(iso3) => {
                let rows: Vec<&IndicatorRow> = model
                    .indicators
                    .iter()
                    .flat_map(|id| model.rows_of(iso3, id))
                    .collect();
                write_rows(&mut sheet, model, &rows, true, &f)?;
            }
            Kind::Legal(id) => write_legal(&mut sheet, model, id, &f)?,
            Kind::Definitions => write_definitions(&mut sheet, model, &f)?,
        }
        wb.push_worksheet(sheet);
    }
    wb.save_to_buffer()
}

fn family_of(model: &Model<'_>, id: &str) -> String {
    model
        .definition(id)
        .map(|d| d.table.clone())
        .unwrap_or_default()
}

/// The "Read me" sheet: two columns (item, text), in sections.
fn write_readme(
    sheet: &mut Worksheet,
    model: &Model<'_>,
    planned: &[Planned],
    f: &Formats,
) -> XlsxResult<()> {
    let ctx = model.context;
    let mut y = 0u32;
    let line = |sheet: &mut Worksheet, y: &mut u32, a: &str, b: &str, c: &str| -> XlsxResult<()> {
        sheet.write_string_with_format(*y, 0, a, &f.bold)?;
        sheet.write_string_with_format(*y, 1, b, &f.wrap)?;
        if !c.is_empty() {
            sheet.write_string_with_format(*y, 2, c, &f.wrap)?;
        }
        *y += 1;
        Ok(())
    };
    let section = |sheet: &mut Worksheet, y: &mut u32, title: &str| -> XlsxResult<()> {
        *y += 1;
        sheet.write_string_with_format(*y, 0, title, &f.header)?;
        sheet.write_blank(*y, 1, &f.header)?;
        sheet.write_blank(*y, 2, &f.header)?;
        *y += 1;
        Ok(())
    };
    sheet.write_string_with_format(y, 0, "Disrupting Harm indicators", &f.title)?;
    y += 1;
    sheet.merge_range(
        y,
        0,
        y,
        2,
        "Every published estimate of the run, as in indicators/indicators.parquet and indicators.csv, with labels, \
         formatting and the reasons for withheld values. The report's methods page (report/methods.html) explains \
         the estimates, intervals and population estimates.",
        &f.wrap,
    )?;
    sheet.set_row_height(y, 45)?;
    y += 1;

    section(sheet, &mut y, "Sheets")?;
    line(sheet, &mut y, README_SHEET, "This sheet.", "")?;
    for p in planned {
        line(sheet, &mut y, &p.name, &p.about, "")?;
    }

    section(sheet, &mut y, "Columns")?;
    for c in &COLUMNS {
        line(sheet, &mut y, c.header, c.about, "")?;
    }

    section(sheet, &mut y, "Flags")?;
    sheet.write_string_with_format(y, 0, "Flag", &f.bold)?;
    sheet.write_string_with_format(y, 1, "Meaning", &f.bold)?;
    sheet.write_string_with_format(y, 2, "Rule", &f.bold)?;
    y += 1;
    let thresholds = ctx.thresholds();
    for flag in crate::model::legend_flags() {
        line(
            sheet,
            &mut y,
            flag.as_str(),
            flag.meaning(),
            &flag.rule(&thresholds),
        )?;
    }

    section(sheet, &mut y, "Suppression")?;
    let rules = [
        (
            "Small base",
            format!(
                "Survey estimates, and frontline-worker, interview and case-record proportions and shares, with \
                 fewer than {} unweighted cases in the denominator are withheld (suppressed); {} to {} cases are \
                 published and flagged low_base.",
                ctx.suppress_below,
                ctx.suppress_below,
                ctx.low_base_below.saturating_sub(1)
            ),
        ),
        (
            "Small counts",
            "Counts from 1 to 4 in case and interview tables, and any cell that would reveal one, are withheld \
             and shown as <5 (suppressed_small_count); so is their number of cases."
                .to_string(),
        ),
        (
            "Complementary suppression",
            "A withheld value must not be recoverable by subtraction: when exactly one level of a breakdown is \
             withheld, the level with the fewest cases is withheld too (survey estimates: suppressed, shown as \
             \"suppressed (complementary)\"; other families: <5), and a cell withheld in one indicator is \
             withheld in every indicator that publishes the same records (a proportion and its count)."
                .to_string(),
        ),
        (
            "Withheld cells",
            format!(
                "Grey cells. The Estimate cell says why in italics, the Note column gives the reason in a \
                 sentence, and n (unweighted) says \"{WITHHELD}\" where the number of cases is withheld too. A \
                 withheld value is never written as 0."
            ),
        ),
    ];
    for (what, text) in &rules {
        line(sheet, &mut y, what, text, "")?;
    }
    sheet.set_column_width(0, 26.0)?;
    sheet.set_column_width(1, 90.0)?;
    sheet.set_column_width(2, 70.0)?;
    Ok(())
}

fn write_header(sheet: &mut Worksheet, names: &[&str], f: &Formats) -> XlsxResult<()> {
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
    country_sheet: bool,
    f: &Formats,
) -> XlsxResult<()> {
    write_header(sheet, &header(), f)?;
    for (i, r) in rows.iter().enumerate() {
        let y = i as u32 + 1;
        let status = model.review.label(r);
        let value_format = match crate::format::scale_of(model.value_kind(&r.indicator)) {
            _ if status.is_some() => &f.integer,
            crate::format::Scale::Percent => &f.percent,
            crate::format::Scale::Whole => &f.count,
            crate::format::Scale::Decimal => &f.decimal,
            crate::format::Scale::Year => &f.integer,
        };
        let definition = model.definition(&r.indicator);
        let label = match definition {
            Some(d) if country_sheet => d.label_for(model.context.country(&r.country)),
            Some(d) => d.label.clone(),
            None => String::new(),
        };
        sheet.write_string(y, col::COUNTRY, &r.country)?;
        sheet.write_string(y, col::COUNTRY_NAME, model.country_name(&r.country))?;
        sheet.write_string(y, col::INDICATOR, &r.indicator)?;
        sheet.write_string(y, col::LABEL, &label)?;
        sheet.write_string(y, col::VERSION, &r.indicator_version)?;
        sheet.write_string(y, col::DOMAIN, &r.domain)?;
        sheet.write_string(y, col::DOMAIN_VALUE, &r.domain_value)?;
        let number = |sheet: &mut Worksheet, c: u16, x: Option<f64>, format: &Format| match x
            .filter(|v| v.is_finite())
        {
            Some(v) => sheet.write_number_with_format(y, c, v, format).map(|_| ()),
            None => Ok(()),
        };
        match r.shown() {
            Some(shown) => {
                sheet.write_number_with_format(y, col::ESTIMATE, shown.estimate, value_format)?;
                number(sheet, col::SE, r.se, value_format)?;
                if let Some((lo, hi)) = shown.ci {
                    sheet.write_number_with_format(y, col::CI_LOWER, lo, value_format)?;
                    sheet.write_number_with_format(y, col::CI_UPPER, hi, value_format)?;
                }
                number(sheet, col::POPULATION, r.shown_population(), &f.count)?;
                let warnings = match status {
                    Some(status) => format!("status: {status}"),
                    None => model.warnings(&shown).join("; "),
                };
                if !warnings.is_empty() {
                    sheet.write_string(y, col::NOTE, &warnings)?;
                }
            }
            None => {
                sheet.write_string_with_format(
                    y,
                    col::ESTIMATE,
                    model.withheld_label(r),
                    &f.withheld,
                )?;
                for c in [col::SE, col::CI_LOWER, col::CI_UPPER, col::POPULATION] {
                    sheet.write_blank(y, c, &f.withheld_blank)?;
                }
                let reason = model.withheld_reason(r).unwrap_or_default();
                sheet.write_string_with_format(y, col::NOTE, &reason, &f.withheld)?;
            }
        }
        if model.n_withheld(r) {
            sheet.write_string_with_format(y, col::N, WITHHELD, &f.withheld)?;
        } else {
            sheet.write_number_with_format(y, col::N, r.n_unweighted as f64, &f.integer)?;
        }
        sheet.write_string(y, col::FLAG, &r.flag)?;
        sheet.write_string(y, col::FLAGS, r.flags.join("; "))?;
    }
    for (c, column) in COLUMNS.iter().enumerate() {
        sheet.set_column_width(c as u16, column.width)?;
    }
    Ok(())
}

/// The "Legal provisions" sheet: country code and name, then one column per provision (its id as header) with
/// the status in words; the citation and review date in the cell's note.
fn write_legal(sheet: &mut Worksheet, model: &Model<'_>, id: &str, f: &Formats) -> XlsxResult<()> {
    let provisions = crate::legal::provisions(model, id);
    let mut names: Vec<&str> = vec!["Country", "Country name"];
    names.extend(provisions.iter().map(|p| p.id.as_str()));
    write_header(sheet, &names, f)?;
    for (k, p) in provisions.iter().enumerate() {
        sheet.insert_note(
            0,
            k as u16 + 2,
            &Note::new(&p.wording).add_author_prefix(false),
        )?;
    }
    let countries = model.countries_with(id);
    for (i, c) in countries.iter().enumerate() {
        let y = i as u32 + 1;
        sheet.write_string(y, 0, &c.iso3)?;
        sheet.write_string(y, 1, &c.name)?;
        for (k, p) in provisions.iter().enumerate() {
            let x = k as u16 + 2;
            let row = model
                .rows_of(&c.iso3, id)
                .into_iter()
                .find(|r| !r.is_total() && r.domain_value == p.id);
            let cell = crate::legal::status_cell(model, row, &c.iso3, &p.id);
            if cell.class == crate::legal::style(None).class {
                sheet.write_string_with_format(y, x, cell.words, &f.withheld)?;
            } else {
                sheet.write_string(y, x, cell.words)?;
            }
            if !cell.citation.is_empty() || !cell.review_date.is_empty() {
                sheet.insert_note(y, x, &Note::new(&cell.title).add_author_prefix(false))?;
            }
        }
    }
    sheet.set_column_width(0, 8.0)?;
    sheet.set_column_width(1, 16.0)?;
    for k in 0..provisions.len() {
        sheet.set_column_width(k as u16 + 2, 16.0)?;
    }
    Ok(())
}

fn write_definitions(sheet: &mut Worksheet, model: &Model<'_>, f: &Formats) -> XlsxResult<()> {
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

    fn valid(name: &str) -> bool {
        !name.is_empty()
            && name.chars().count() <= SHEET_NAME_MAX
            && !name.contains(['[', ']', ':', '*', '?', '/', '\\'])
            && !name.starts_with('\'')
            && !name.ends_with('\'')
    }

    #[test]
    fn family_titles_become_readable_sheet_names() {
        let mut taken = Vec::new();
        assert_eq!(
            sheet_name("Household survey: children", &mut taken),
            "Household survey - children"
        );
        assert_eq!(
            sheet_name("Household survey: caregivers", &mut taken),
            "Household survey - caregivers"
        );
        assert_eq!(
            sheet_name("Frontline survey", &mut taken),
            "Frontline survey"
        );
        assert_eq!(sheet_name("a/b\\c [x] *?", &mut taken), "a-b-c (x)");
    }

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut taken = Vec::new();
        assert_eq!(sheet_name("THA", &mut taken), "THA");
        assert_eq!(sheet_name("tha", &mut taken), "tha (2)");
        assert_eq!(sheet_name("THA", &mut taken), "THA (3)");
        let long = sheet_name("Household survey: children and more words here", &mut taken);
        assert_eq!(long, "Household survey - children and");
        assert!(valid(&long), "{long}");
        // The same long title again: a suffix within the 31 characters, cut at a word.
        let again = sheet_name("Household survey: children and more words here", &mut taken);
        assert_eq!(again, "Household survey - children (2)");
        assert!(valid(&again), "{again}");
        // A long word has no boundary to cut at.
        let word = sheet_name(&"x".repeat(40), &mut taken);
        assert_eq!(word.chars().count(), SHEET_NAME_MAX);
        for odd in ["'quoted'", "::", "", "History", "   ", "a\tb"] {
            let name = sheet_name(odd, &mut taken);
            assert!(valid(&name), "{odd:?} -> {name:?}");
            assert!(!name.eq_ignore_ascii_case("history"));
        }
        let lower: Vec<String> = taken.iter().map(|t| t.to_lowercase()).collect();
        let unique: std::collections::BTreeSet<&String> = lower.iter().collect();
        assert_eq!(unique.len(), lower.len(), "{taken:?}");
    }

    #[test]
    fn every_column_is_explained_and_the_positions_match() {
        let h = header();
        assert_eq!(h[col::ESTIMATE as usize], "Estimate");
        assert_eq!(h[col::SE as usize], "SE");
        assert_eq!(h[col::N as usize], "n (unweighted)");
        assert_eq!(h[col::NOTE as usize], "Note");
        assert_eq!(h[col::LABEL as usize], "Indicator label");
        assert_eq!(h[col::DOMAIN_VALUE as usize], "Domain value");
        assert_eq!(h[col::POPULATION as usize], "Population estimate");
        assert_eq!(h[col::FLAG as usize], "Flag");
        assert_eq!(h[col::FLAGS as usize], "All flags");
        assert_eq!(h[col::CI_UPPER as usize], "CI upper (95%)");
        assert!(COLUMNS.iter().all(|c| c.about.ends_with('.')));
    }
}
