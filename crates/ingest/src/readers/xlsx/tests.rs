//! Tests of the `.xlsx` reader on workbooks built here part by part, so that each odd layout or cell is exact.

use std::io::Write;

use dh_config::country::Format;
use dh_config::{ColumnMap, Delivery};
use rand::{Rng, SeedableRng};
use zip::write::{SimpleFileOptions, ZipWriter};

use super::*;

/// Styles: 0 general, 1 date (`mm-dd-yy`), 2 time (`h:mm:ss`), 3 date-time (`m/d/yy h:mm`).
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="21" applyNumberFormat="1"/><xf numFmtId="22" applyNumberFormat="1"/></cellXfs></styleSheet>"#;

/// A workbook with one worksheet per (name, sheetData rows, extra XML after sheetData), text cells inline.
fn workbook(sheets: &[(&str, &str, &str)], date1904: bool) -> Vec<u8> {
    let ns = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    let xml: Vec<(&str, Vec<u8>)> = sheets
        .iter()
        .map(|(name, rows, extra)| {
            let body = format!(r#"<?xml version="1.0"?><worksheet {ns}><sheetData>{rows}</sheetData>{extra}</worksheet>"#);
            (*name, body.into_bytes())
        })
        .collect();
    workbook_parts(&xml, date1904)
}

/// A workbook with one worksheet per (name, whole sheet XML).
fn workbook_parts(sheets: &[(&str, Vec<u8>)], date1904: bool) -> Vec<u8> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut part = |name: &str, body: &[u8]| {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body).unwrap();
    };
    let ns = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    part(
        "[Content_Types].xml",
        br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#,
    );
    part(
        "_rels/.rels",
        format!(
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        )
        .as_bytes(),
    );
    let mut book = format!(
        r#"<?xml version="1.0"?><workbook {ns}><workbookPr{}/><sheets>"#,
        if date1904 { r#" date1904="1""# } else { "" }
    );
    let mut rels = String::from(
        r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for (i, (name, _)) in sheets.iter().enumerate() {
        let n = i + 1;
        book.push_str(&format!(
            r#"<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>"#
        ));
        rels.push_str(&format!(
            r#"<Relationship Id="rId{n}" Type="{rel}/worksheet" Target="worksheets/sheet{n}.xml"/>"#
        ));
    }
    book.push_str("</sheets></workbook>");
    rels.push_str(&format!(
        r#"<Relationship Id="rIdS" Type="{rel}/styles" Target="styles.xml"/></Relationships>"#
    ));
    part("xl/workbook.xml", book.as_bytes());
    part("xl/_rels/workbook.xml.rels", rels.as_bytes());
    part("xl/styles.xml", STYLES.as_bytes());
    for (i, (_, xml)) in sheets.iter().enumerate() {
        part(&format!("xl/worksheets/sheet{}.xml", i + 1), xml);
    }
    zip.finish().unwrap().into_inner()
}

/// An inline text cell.
fn s(cell: &str, text: &str) -> String {
    format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// A number cell with a style (see [`STYLES`]).
fn n(cell: &str, value: &str, style: u32) -> String {
    format!(r#"<c r="{cell}" s="{style}"><v>{value}</v></c>"#)
}

fn row(r: u32, cells: &[String]) -> String {
    format!(r#"<row r="{r}">{}</row>"#, cells.concat())
}

fn delivery(sources: &[&str]) -> Delivery {
    Delivery {
        columns: sources
            .iter()
            .map(|s| {
                (
                    format!("h_{s}"),
                    ColumnMap {
                        source: Some(s.to_string()),
                        ..Default::default()
                    },
                )
            })
            .collect(),
        ..Delivery::new("w.xlsx", Format::Xlsx)
    }
}

fn read(bytes: &[u8], d: &Delivery) -> Result<RawTable, IngestError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.xlsx");
    std::fs::write(&path, bytes).unwrap();
    crate::read_delivery(&path, d)
}

fn cells(t: &RawTable, col: &str) -> Vec<String> {
    t.column(col).unwrap().iter().map(str::to_string).collect()
}

#[test]
fn leading_blank_in_a_number_cell_reads_as_the_number() {
    // calamine alone refuses the whole sheet ("Parse float error") over `<v> 41</v>`.
    let rows = [
        row(1, &[s("A1", "id"), s("B1", "age")]),
        row(
            2,
            &[
                n("A2", "1", 0),
                r#"<c r="B2" t="n"><v> 41</v></c>"#.to_string(),
            ],
        ),
        row(
            3,
            &[
                n("A3", "2", 0),
                r#"<c r="B3" t="n"><v>13 </v></c>"#.to_string(),
            ],
        ),
    ]
    .concat();
    let t = read(
        &workbook(&[("Data", &rows, "")], false),
        &delivery(&["id", "age"]),
    )
    .unwrap();
    assert_eq!(cells(&t, "age"), ["41", "13"]);
    assert_eq!(cells(&t, "id"), ["1", "2"]);
}

/// `bytes` (a workbook) with a shared-strings part holding `Amman` (index 0) and `Irbid` (index 1).
fn with_shared_strings(bytes: Vec<u8>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new_append(std::io::Cursor::new(bytes)).unwrap();
    zip.start_file("xl/sharedStrings.xml", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(
        br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>Amman</t></si><si><t>Irbid</t></si></sst>"#,
    )
    .unwrap();
    zip.finish().unwrap().into_inner()
}

/// calamine reads a shared-string index with a blank (`<v> 1</v>`) as string 0 without an error: the cell would
/// silently hold another cell's text. Such a sheet is read through the repaired copy.
#[test]
fn padded_shared_string_index_reads_its_own_string() {
    let rows = [
        row(1, &[s("A1", "id"), s("B1", "place")]),
        row(
            2,
            &[
                n("A2", "1", 0),
                r#"<c r="B2" t="s"><v> 1</v></c>"#.to_string(),
            ],
        ),
        row(
            3,
            &[
                n("A3", "2", 0),
                r#"<c r="B3" t="s"><v>0</v></c>"#.to_string(),
            ],
        ),
    ]
    .concat();
    let bytes = with_shared_strings(workbook(&[("Sheet1", &rows, "")], false));
    let t = read(&bytes, &delivery(&["id", "place"])).unwrap();
    assert_eq!(cells(&t, "place"), ["Irbid", "Amman"]);

    // An index that is not a number is named as an unreadable cell, never read as string 0.
    let rows = rows.replace(r#"<v> 1</v>"#, "<v>x1</v>");
    let bytes = with_shared_strings(workbook(&[("Sheet1", &rows, "")], false));
    let err = read(&bytes, &delivery(&["id", "place"])).unwrap_err();
    assert!(
        matches!(err, IngestError::UnreadableCell { ref cell, .. } if cell == "B2"),
        "{err}"
    );
}

#[test]
fn unreadable_cell_is_an_error_naming_sheet_and_cell_not_content() {
    let rows = [
        row(1, &[s("A1", "id"), s("B1", "age")]),
        row(
            7,
            &[
                n("A7", "1", 0),
                r#"<c r="C7" t="n"><v>4x1</v></c>"#.to_string(),
            ],
        ),
    ]
    .concat();
    let err = read(&workbook(&[("Data", &rows, "")], false), &delivery(&["id"])).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, IngestError::UnreadableCell { ref cell, ref sheet, .. } if cell == "C7" && sheet == "Data"),
        "{text}"
    );
    assert!(text.contains("w.xlsx") && !text.contains("4x1"), "{text}");
}

#[test]
fn formulas_without_cached_value_are_warned_per_cell_with_a_cap() {
    let mut rows = vec![row(1, &[s("A1", "id"), s("B1", "total"), s("C1", "other")])];
    rows.push(row(
        2,
        &[
            n("A2", "1", 0),
            r#"<c r="B2"><f>1+1</f><v>2</v></c>"#.into(),
            r#"<c r="C2"><f>1+1</f></c>"#.into(),
        ],
    ));
    for r in 3..=27 {
        rows.push(row(
            r,
            &[
                n(&format!("A{r}"), &r.to_string(), 0),
                format!(r#"<c r="B{r}"><f>A{r}*2</f></c>"#),
            ],
        ));
    }
    let t = read(
        &workbook(&[("My data", &rows.concat(), "")], false),
        &delivery(&["id", "total"]),
    )
    .unwrap();
    assert_eq!(t.num_rows(), 26);
    assert_eq!(cells(&t, "total")[..2], ["2".to_string(), String::new()]);
    // 25 formula cells without a value in the kept column (C2 is not kept): 20 named, 5 counted.
    assert_eq!(t.warnings.len(), 21, "{:#?}", t.warnings);
    assert!(
        t.warnings[0].starts_with("'My data'!B3: formula without a cached value"),
        "{}",
        t.warnings[0]
    );
    assert!(t.warnings[20].contains("and 5 more"), "{}", t.warnings[20]);
}

#[test]
fn dates_times_and_date_times_by_value_in_both_date_systems() {
    // 2021-03-04 is serial 44259 in the 1900 system and 42797 in the 1904 one.
    let secs = (13 * 3600 + 30 * 60 + 15) as f64;
    for (date1904, day) in [(false, 44259.0), (true, 42797.0)] {
        let rows = [
            row(
                1,
                &[
                    s("A1", "date"),
                    s("B1", "time"),
                    s("C1", "when"),
                    s("D1", "ms"),
                    s("E1", "timefmt"),
                ],
            ),
            row(
                2,
                &[
                    n("A2", &format!("{day}"), 1),
                    n("B2", &format!("{}", secs / 86400.0), 2),
                    n("C2", &format!("{}", day + secs / 86400.0), 3),
                    n("D2", &format!("{}", day + (secs + 0.5) / 86400.0), 3),
                    // A time format over a value with a date part keeps the date (one instant, one text).
                    n("E2", &format!("{}", day + secs / 86400.0), 2),
                ],
            ),
            row(
                3,
                &[
                    n("A3", "0", 1),
                    n("B3", &format!("{}", (secs + 0.123) / 86400.0), 2),
                    n("C3", "1", 3),
                    n("D3", &format!("{}", day + 0.999_999_999_9), 3),
                ],
            ),
        ]
        .concat();
        let d = delivery(&["date", "time", "when", "ms", "timefmt"]);
        let t = read(&workbook(&[("S", &rows, "")], date1904), &d).unwrap();
        assert_eq!(
            cells(&t, "date"),
            ["2021-03-04", "00:00:00"],
            "1904: {date1904}"
        );
        assert_eq!(
            cells(&t, "time"),
            ["13:30:15", "13:30:15.123"],
            "1904: {date1904}"
        );
        assert_eq!(cells(&t, "when")[0], "2021-03-04 13:30:15");
        assert_eq!(
            cells(&t, "when")[1],
            if date1904 { "1904-01-02" } else { "1900-01-01" }
        );
        assert_eq!(cells(&t, "ms"), ["2021-03-04 13:30:15.5", "2021-03-05"]);
        assert_eq!(cells(&t, "timefmt")[0], "2021-03-04 13:30:15");
    }
}

#[test]
fn serials_round_to_the_millisecond_and_leave_excel_range_as_numbers() {
    let text = |x: f64, date1904: bool| {
        let mut s = String::new();
        push_serial(&mut s, x, date1904);
        s
    };
    assert_eq!(text(0.5, false), "12:00:00");
    assert_eq!(text(59.0, false), "1900-02-28");
    assert_eq!(text(61.0, false), "1900-03-01");
    assert_eq!(text(1.0, true), "1904-01-02");
    assert_eq!(text(44259.0 + 0.999_999_999_9, false), "2021-03-05");
    assert_eq!(
        text(44259.0 + 0.999_999_99, false),
        "2021-03-04 23:59:59.999"
    );
    assert_eq!(text(-1.0, false), "-1");
    assert_eq!(text(3e6, false), "3000000");
    assert_eq!(text(f64::NAN, false), "NaN");
    let mut s = String::new();
    for iso in [
        "2021-03-04T13:30:15Z",
        "2021-03-04T00:00:00",
        "13:30:15.250",
        "not a date",
    ] {
        push_iso(&mut s, iso);
        s.push('|');
    }
    assert_eq!(s, "2021-03-04 13:30:15|2021-03-04|13:30:15.25|not a date|");
}

#[test]
fn durations_read_as_hours_minutes_seconds_like_spss_durations() {
    let text = |x: f64| {
        cell_text(&Data::DateTime(ExcelDateTime::new(
            x,
            ExcelDateTimeType::TimeDelta,
            false,
        )))
    };
    assert_eq!(text(1.5), "36:00:00");
    assert_eq!(text(0.5625 + 15.0 / 86_400.0), "13:30:15");
    assert_eq!(text(0.0), "00:00:00");
    assert_eq!(text(-0.0625), "-01:30:00");
    assert_eq!(text(1.0 / 86_400.0 * 2.5), "00:00:02.5");
    assert!(!text(1e300).contains(':'));
    // The same time of day under a time format and under a duration format.
    let mut as_time = String::new();
    push_serial(&mut as_time, 0.5625 + 15.0 / 86_400.0, false);
    assert_eq!(as_time, text(0.5625 + 15.0 / 86_400.0));
}

/// A cover text above the table, a blank row, the header lower and not in column A, a label row under it, blank
/// rows inside the data.
fn layout_workbook() -> Vec<u8> {
    let rows = [
        row(1, &[s("A1", "Caregiver survey, wave 1 (cover)")]),
        row(3, &[s("B3", "id"), s("C3", "q1"), s("D3", "q2")]),
        row(
            4,
            &[
                s("B4", "Respondent"),
                s("C4", "Question one"),
                s("D4", "Question two"),
            ],
        ),
        row(5, &[n("B5", "1", 0), n("C5", "3", 0), n("D5", "4", 0)]),
        row(6, &[s("B6", " ")]),
        row(
            7,
            &[
                n("B7", "2", 0),
                n("C7", "5", 0),
                n("D7", "6", 0),
                s("E7", "extra"),
            ],
        ),
    ]
    .concat();
    let merged =
        r#"<mergeCells count="2"><mergeCell ref="A1:D1"/><mergeCell ref="C5:C7"/></mergeCells>"#;
    workbook(
        &[
            ("Cover", &row(1, &[s("A1", "About")]), ""),
            ("Data", &rows, merged),
        ],
        false,
    )
}

#[test]
fn header_row_and_skip_rows_count_excel_rows() {
    let bytes = layout_workbook();
    let mut d = delivery(&["id", "q1"]);
    d.sheet = Some("Data".into());
    d.header_row = 3;
    d.skip_rows = 1;
    let t = read(&bytes, &d).unwrap();
    assert_eq!(cells(&t, "id"), ["1", "2"]);
    assert_eq!(cells(&t, "q1"), ["3", "5"]);
    // Data record indexes, not Excel rows; the label row, the cover and the blank row are not records.
    assert_eq!(t.row_numbers, [1, 2]);
    assert_eq!(t.row_issues.len(), 1, "E7 makes the second record ragged");
    assert_eq!(
        t.warnings,
        ["Data!C5:C7: merged cells: only the first cell holds the value, the others read as empty"]
    );

    // Without skip_rows the label row is a record (visible, it does not read as codes).
    d.skip_rows = 0;
    assert_eq!(
        cells(&read(&bytes, &d).unwrap(), "id"),
        ["Respondent", "1", "2"]
    );
    // skip_rows counts Excel rows: the blank row 6 counts.
    d.skip_rows = 3;
    assert_eq!(cells(&read(&bytes, &d).unwrap(), "id"), ["2"]);
    // Default: the first non-blank row (here the cover text) is the header.
    d.header_row = 1;
    d.skip_rows = 0;
    let err = read(&bytes, &d).unwrap_err();
    assert!(matches!(err, IngestError::MissingColumn { .. }), "{err}");
}

#[test]
fn header_row_past_the_end_or_on_a_blank_row_is_an_error_naming_the_file() {
    let bytes = layout_workbook();
    let mut d = delivery(&["id"]);
    d.sheet = Some("Data".into());
    d.header_row = 40;
    let err = read(&bytes, &d).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, IngestError::HeaderRow { header_row: 40, .. }),
        "{text}"
    );
    assert!(
        text.contains("w.xlsx") && text.contains("ends at row 7"),
        "{text}"
    );
    d.header_row = 2;
    let text = read(&bytes, &d).unwrap_err().to_string();
    assert!(
        text.contains("row 2 of worksheet `Data` is empty"),
        "{text}"
    );
}

#[test]
fn absent_sheet_lists_the_sheets_and_sheets_gives_sizes() {
    let bytes = layout_workbook();
    let mut d = delivery(&["id"]);
    d.sheet = Some("data".into());
    let err = read(&bytes, &d).unwrap_err();
    assert!(err.to_string().contains("(sheets: Cover, Data)"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.xlsx");
    std::fs::write(&path, &bytes).unwrap();
    let list = sheets(&path).unwrap();
    assert_eq!(
        list,
        [
            SheetSummary {
                name: "Cover".into(),
                rows: 1,
                columns: 1
            },
            SheetSummary {
                name: "Data".into(),
                rows: 7,
                columns: 5
            }
        ]
    );
}

#[test]
fn cell_names_and_sheet_references() {
    assert_eq!(cell_name(0, 0), "A1");
    assert_eq!(cell_name(6, 2), "C7");
    assert_eq!(cell_name(9, 26), "AA10");
    assert_eq!(cell_name(0, 16_383), "XFD1");
    assert_eq!(sheet_ref("Sheet1"), "Sheet1");
    assert_eq!(sheet_ref("Kid's data"), "'Kid''s data'");
}

/// Fuzz-style: a valid zip whose sheet XML is random bytes, or valid rows with random cell values and types, never
/// panics; when it reads, every column has one cell per row.
#[test]
fn garbage_sheet_xml_never_panics() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(10);
    let pieces = [
        "<row>",
        "</row>",
        "<row r=\"2\">",
        "<c r=\"A1\">",
        "<c t=\"n\">",
        "<c t=\"s\">",
        "<c t=\"e\">",
        "<c t=\"b\">",
        "<c t=\"d\">",
        "<c r=\"XFE9\">",
        "</c>",
        "<v>",
        "</v>",
        " 41",
        "x",
        "#N/A",
        "1e999",
        "-",
        "<f>1</f>",
        "<is><t>",
        "</t></is>",
        "&amp;",
        "&bogus;",
        "<",
        ">",
        "\u{e9}",
        "99999999999999999999",
    ];
    let d = delivery(&[]);
    for case in 0..300 {
        let xml: String = if case % 3 == 0 {
            let len = rng.random_range(0..300);
            (0..len)
                .map(|_| rng.random_range(0x20u8..0x7f) as char)
                .collect()
        } else {
            (0..rng.random_range(0..60))
                .map(|_| pieces[rng.random_range(0..pieces.len())])
                .collect()
        };
        let bytes = match case % 5 {
            // Random bytes (any value) as the whole sheet XML.
            4 => {
                let len = rng.random_range(0..400);
                let xml: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                workbook_parts(&[("S", xml)], false)
            }
            _ => workbook(&[("S", &xml, "")], case % 2 == 0),
        };
        let mut d = d.clone();
        d.header_row = rng.random_range(0..4);
        d.skip_rows = rng.random_range(0..3);
        if let Ok(t) = read(&bytes, &d) {
            assert!(t.columns.iter().all(|c| c.len() == t.num_rows()));
        }
        // Random bytes as the whole file, and a valid workbook with random bytes flipped.
        let len = rng.random_range(0..300);
        let junk: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let err = read(&junk, &d).unwrap_err();
        assert!(
            matches!(err, IngestError::Empty { .. } | IngestError::Format { .. }),
            "{err}"
        );
        let mut flipped = layout_workbook();
        for _ in 0..rng.random_range(1..6) {
            let at = rng.random_range(0..flipped.len());
            flipped[at] = rng.random();
        }
        let _ = read(&flipped, &d);
    }
}

#[test]
fn formula_without_value_left_of_the_table_is_not_a_cell_of_it() {
    let rows = [
        row(1, &[s("B1", "id")]),
        row(
            2,
            &[r#"<c r="A2"><f>1+1</f></c>"#.to_string(), n("B2", "1", 0)],
        ),
    ]
    .concat();
    let t = read(&workbook(&[("S", &rows, "")], false), &delivery(&["id"])).unwrap();
    assert_eq!(cells(&t, "id"), ["1"]);
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
}

/// Fuzz-style, well-formed: random sheets of random cells (text that may be a header name, numbers, dates, formulas
/// with and without cached value, blanks) at random places, random merges, header_row, skip_rows and mapped columns,
/// never panic; when they read, every column has one cell per row and every warning names a cell of the sheet.
#[test]
fn random_layouts_never_panic() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    for _ in 0..400 {
        let mut xml = String::new();
        for r in 1..=rng.random_range(0..9u32) {
            if rng.random_bool(0.2) {
                continue;
            }
            let mut cells = Vec::new();
            let mut col = 0u32;
            while rng.random_bool(0.7) && col < 6 {
                col += rng.random_range(0..2);
                let name = cell_name(r - 1, col);
                cells.push(match rng.random_range(0..7) {
                    0 => s(&name, ["a", "b", "c", " "][rng.random_range(0..4)]),
                    1 => n(
                        &name,
                        &rng.random_range(-5.0..50_000.0f64).to_string(),
                        rng.random_range(0..4),
                    ),
                    2 => format!(r#"<c r="{name}"><f>1+1</f></c>"#),
                    3 => format!(r#"<c r="{name}"><f>1+1</f><v>2</v></c>"#),
                    4 => format!(r#"<c r="{name}" t="b"><v>1</v></c>"#),
                    5 => format!(r#"<c r="{name}" t="n"><v> 7</v></c>"#),
                    _ => format!(r#"<c r="{name}"/>"#),
                });
                col += 1;
            }
            xml.push_str(&row(r, &cells));
        }
        let merge = if rng.random_bool(0.3) {
            let (r0, c0) = (rng.random_range(0..6), rng.random_range(0..6));
            format!(
                r#"<mergeCells count="1"><mergeCell ref="{}:{}"/></mergeCells>"#,
                cell_name(r0, c0),
                cell_name(r0 + rng.random_range(0..3), c0 + rng.random_range(0..3))
            )
        } else {
            String::new()
        };
        let mapped: Vec<&str> = ["a", "b"]
            .into_iter()
            .filter(|_| rng.random_bool(0.5))
            .collect();
        let mut d = delivery(&mapped);
        d.header_row = rng.random_range(0..5);
        d.skip_rows = rng.random_range(0..3);
        if let Ok(t) = read(&workbook(&[("S", &xml, &merge)], rng.random_bool(0.5)), &d) {
            assert!(t.columns.iter().all(|c| c.len() == t.num_rows()));
            assert!(
                t.warnings
                    .iter()
                    .all(|w| w.starts_with("S!") || w.starts_with("worksheet")),
                "{:?}",
                t.warnings
            );
        }
    }
}

/// `bytes` (a workbook) with a member added, deflated.
fn with_member(bytes: Vec<u8>, name: &str, body: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new_append(std::io::Cursor::new(bytes)).unwrap();
    zip.start_file(name, SimpleFileOptions::default()).unwrap();
    zip.write_all(body).unwrap();
    zip.finish().unwrap().into_inner()
}

fn id_sheet(extra_rows: &str) -> Vec<u8> {
    workbook(
        &[(
            "Data",
            &format!("{}{extra_rows}", row(1, &[s("A1", "id")])),
            "",
        )],
        false,
    )
}

/// A member that inflates more than the ratio allows is refused before calamine reads it, naming the member; the
/// check streams, so the test's memory stays at the compressed size.
#[test]
fn zip_bomb_member_is_refused_by_its_ratio() {
    let padding = " ".repeat(8 << 20);
    let bytes = with_member(id_sheet(""), "xl/padding.xml", padding.as_bytes());
    assert!(bytes.len() < 100_000, "{}", bytes.len());
    let err = read(&bytes, &delivery(&["id"])).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, IngestError::Format { .. })
            && text.contains("`xl/padding.xml` expands more than 250 times"),
        "{text}"
    );
}

/// The ceiling counts the bytes actually produced by every member together.
#[test]
fn workbook_over_the_uncompressed_ceiling_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.xlsx");
    std::fs::write(&path, id_sheet("")).unwrap();
    assert!(bounds::check(&path, 1 << 20).is_ok());
    let err = bounds::check(&path, 500).unwrap_err().to_string();
    assert!(
        err.contains("expands to more than 500 bytes")
            && err.contains(bounds::MAX_UNCOMPRESSED_ENV),
        "{err}"
    );
}

/// calamine reserves room for the shared-string count the table declares: 4,000,000,000 strings (96 GB) declared
/// in a table of two aborted the process. Refused before calamine opens the workbook.
#[test]
fn shared_string_count_beyond_the_strings_held_is_refused() {
    let sst = br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="4000000000"><si><t>Amman</t></si><si><t>Irbid</t></si></sst>"#;
    let bytes = with_member(id_sheet(""), "xl/sharedStrings.xml", sst);
    let err = read(&bytes, &delivery(&["id"])).unwrap_err().to_string();
    assert!(
        err.contains("declares 4000000000 strings but holds 2") && !err.contains("Amman"),
        "{err}"
    );
    // A table that declares what it holds reads.
    let ok = with_shared_strings(id_sheet(&row(2, &[s("A2", "7")])));
    assert_eq!(cells(&read(&ok, &delivery(&["id"])).unwrap(), "id"), ["7"]);
}

/// One cell at the last cell of a sheet (XFD1048576) reads as one ragged record, without sizing anything by the
/// sheet's dimension.
#[test]
fn far_cell_reads_as_a_ragged_record() {
    let bytes = workbook_parts(
        &[(
            "Data",
            format!(
                r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData>{}<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#,
                row(1, &[s("A1", "id")])
            )
            .into_bytes(),
        )],
        false,
    );
    let t = read(&bytes, &delivery(&["id"])).unwrap();
    assert_eq!(t.num_rows(), 1);
    assert_eq!(t.row_issues.len(), 1);
}

/// Laying the far-cell sheet out densely would take 512 GiB: [`check_dense`] refuses it, naming the corners.
#[test]
fn far_cell_sheet_is_too_large_to_lay_out_densely() {
    let far = workbook_parts(
        &[(
            "Data",
            format!(
                r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{}<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#,
                row(1, &[s("A1", "secret-name")])
            )
            .into_bytes(),
        )],
        false,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.xlsx");
    std::fs::write(&path, &far).unwrap();
    let err = check_dense(&path, "Data").unwrap_err().to_string();
    assert!(
        err.contains("spans A1:XFD1048576") && !err.contains("secret"),
        "{err}"
    );
    std::fs::write(&path, id_sheet(&row(2, &[s("A2", "7")]))).unwrap();
    check_dense(&path, "Data").unwrap();
}
