//! Tests of whole skeletons: hostile delivered text always gives a parseable file whose keys come from the schemas
//! (a seeded property test), real CSV and `.xlsx` files with title, cover and label rows, code pages, `.zsav`
//! discovery, and what the skeleton must never carry (identifier and free-text values, identifier labels).

use std::collections::BTreeSet;

use dh_config::SchemaSet;
use dh_config::country::{Encoding, Format, LineEnding};
use dh_ingest::readers::xlsx::SheetSummary;
use rand::{Rng, SeedableRng};

use crate::inspect::{DateLayout, FileLayout, InspectedFile, VariableProfile};
use crate::test_support::{defaults, repo, sav_file, schemas, variable};
use crate::{OnboardOptions, onboard, skeleton, skeleton_text};

/// Parses the skeleton and checks that every key is one the config allows: top-level tables, `[country] iso3`,
/// delivery settings, harmonised table and column names from the schemas, column-map keys; inside `codes` and
/// `missing` the keys are delivered codes (quoted) and the values harmonised labels. Returns the parsed file.
fn check_keys(text: &str, schemas: &SchemaSet) -> toml::Table {
    let parsed: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for key in parsed.keys() {
        assert!(
            ["country", "deliveries"].contains(&key.as_str()),
            "{key}\n{text}"
        );
    }
    let country = parsed["country"].as_table().expect("country");
    assert_eq!(country.keys().collect::<Vec<_>>(), vec!["iso3"], "{text}");
    let Some(deliveries) = parsed.get("deliveries").and_then(|d| d.as_table()) else {
        return parsed;
    };
    let settings = [
        "file",
        "format",
        "encoding",
        "delimiter",
        "line_ending",
        "sheet",
        "header_row",
        "skip_rows",
        "identifiers",
        "missing",
        "columns",
    ];
    let column_keys = ["source", "codes", "missing", "value", "date_format"];
    for (table, delivery) in deliveries {
        let schema = schemas
            .get(table)
            .unwrap_or_else(|| panic!("table {table}\n{text}"));
        let delivery = delivery.as_table().expect("delivery table");
        for key in delivery.keys() {
            assert!(settings.contains(&key.as_str()), "{key}\n{text}");
        }
        // The delivery deserialises as the config's own type.
        let typed: Result<dh_config::Delivery, _> = toml::Value::Table(delivery.clone()).try_into();
        assert!(typed.is_ok(), "{typed:?}\n{text}");
        let Some(columns) = delivery.get("columns").and_then(|c| c.as_table()) else {
            continue;
        };
        for (column, map) in columns {
            let field = schema
                .field(column)
                .unwrap_or_else(|| panic!("column {column}\n{text}"));
            let map = map.as_table().expect("column map");
            for key in map.keys() {
                assert!(column_keys.contains(&key.as_str()), "{key}\n{text}");
            }
            if let Some(codes) = map.get("codes").and_then(|c| c.as_table()) {
                for label in codes.values() {
                    let label = label.as_str().expect("label");
                    assert!(field.category_by_label(label).is_some(), "{label}\n{text}");
                }
            }
            if let Some(missing) = map.get("missing").and_then(|c| c.as_table()) {
                for label in missing.values() {
                    let label = label.as_str().expect("label");
                    assert!(
                        field.missing_values.iter().any(|m| m == label),
                        "{label}\n{text}"
                    );
                }
            }
        }
    }
    parsed
}

const NASTY: &[&str] = &[
    "a\nb",
    "line\r\nbreak",
    "\"\"\"",
    "#",
    "# TODO",
    "]",
    "[country]",
    "x = 1",
    "=",
    "back\\slash\\",
    "nul\0",
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\u{1B}[31m",
    "\u{202E}",
    "\t",
    "'",
    "\"",
    "",
    " ",
    "é",
    "عمّان",
    "ไทย",
    "😀",
    "\u{FEFF}",
];

/// Names that recognise harmonised columns, so random files get proposals too.
const NAMES: &[&str] = &[
    "GENDER",
    "SEX",
    "AGE",
    "REGION",
    "GOV",
    "HHID",
    "SBJNUM",
    "CLUSTER_NO",
    "STRATA",
    "WT",
    "URBRUR",
    "Q1",
    "date",
    "interview_code",
    "RESP_NAME",
];

fn random_text(rng: &mut impl Rng) -> String {
    let parts = rng.random_range(0..4);
    (0..parts)
        .map(|_| {
            if rng.random_bool(0.6) {
                NASTY[rng.random_range(0..NASTY.len())].to_string()
            } else {
                (0..rng.random_range(1..6))
                    .map(|_| char::from_u32(rng.random_range(0..0x3000)).unwrap_or('?'))
                    .collect()
            }
        })
        .collect()
}

fn random_variable(rng: &mut impl Rng) -> VariableProfile {
    let name = if rng.random_bool(0.4) {
        NAMES[rng.random_range(0..NAMES.len())].to_string()
    } else {
        random_text(rng)
    };
    let n = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<String> {
        (0..rng.random_range(0..5))
            .map(|_| random_text(rng))
            .collect()
    };
    let mut rng2 = rand_chacha::ChaCha8Rng::seed_from_u64(rng.random());
    let values = n(&mut rng2);
    let labels: Vec<(String, String)> = (0..rng.random_range(0..4))
        .map(|i| {
            let code = if rng.random_bool(0.5) {
                i.to_string()
            } else {
                random_text(rng)
            };
            let label = if rng.random_bool(0.3) {
                [
                    "Male",
                    "Female",
                    "Urban",
                    "Rural",
                    "Don't know",
                    "Refused",
                    "Amman",
                ][rng.random_range(0..7)]
                .to_string()
            } else {
                random_text(rng)
            };
            (code, label)
        })
        .collect();
    VariableProfile {
        likely_identifier: crate::inspect::looks_like_identifier(&name),
        name,
        kind: ["integer", "text", "date", "number", "empty"][rng.random_range(0..5)],
        variable_label: rng.random_bool(0.5).then(|| {
            if rng.random_bool(0.3) {
                "Sex of respondent".to_string()
            } else {
                random_text(rng)
            }
        }),
        value_labels: labels,
        declared_missing: n(&mut rng2),
        missing_ranges: if rng.random_bool(0.3) {
            vec![(f64::NEG_INFINITY, 0.0), (97.0, 99.0)]
        } else {
            Vec::new()
        },
        distinct: values.len(),
        values,
        has_empty: rng.random_bool(0.5),
        free_text: rng.random_bool(0.1),
        dates: [
            DateLayout::None,
            DateLayout::Iso,
            DateLayout::Format("%d/%m/%Y"),
            DateLayout::Ambiguous("%d/%m/%Y", "%m/%d/%Y"),
        ][rng.random_range(0..4)],
    }
}

fn random_file(rng: &mut impl Rng, i: usize) -> InspectedFile {
    let format = [Format::Csv, Format::Sav, Format::Dta, Format::Xlsx][rng.random_range(0..4)];
    let stem = [
        "child",
        "caregiver",
        "register",
        "police",
        "frontline",
        "export",
    ][rng.random_range(0..6)];
    let sheets: Vec<SheetSummary> = if format == Format::Xlsx {
        (0..rng.random_range(1..4))
            .map(|_| SheetSummary {
                name: random_text(rng),
                rows: rng.random_range(0..100),
                columns: rng.random_range(0..10),
            })
            .collect()
    } else {
        Vec::new()
    };
    InspectedFile {
        file_name: format!("{stem}{}{i}.{}", random_text(rng), format.name()),
        layout: FileLayout {
            format,
            encoding: [Encoding::UTF8, Encoding::WINDOWS_1252][rng.random_range(0..2)],
            encoding_decided: rng.random_bool(0.7),
            encoding_note: rng.random_bool(0.5).then(|| random_text(rng)),
            encoding_check: rng.random_bool(0.5),
            delimiter: [",", ";", "\t", "|"][rng.random_range(0..4)].to_string(),
            line_ending: LineEnding::Crlf,
            sheet: sheets
                .first()
                .map(|s| s.name.clone())
                .filter(|_| rng.random_bool(0.5)),
            header_row: rng.random_range(1..4),
            skip_rows: rng.random_range(0..2),
            rows_above: rng.random_range(0..3),
        },
        sheets,
        rows: rng.random_range(0..1000),
        variables: (0..rng.random_range(0..12))
            .map(|_| random_variable(rng))
            .collect(),
    }
}

/// Property: whatever the delivered names, values, labels, sheet and file names hold (newlines, CR, U+2028, quotes,
/// backslashes, `#`, `[`, NUL ...), the skeleton parses with `toml` and its keys are exactly what the schemas allow.
#[test]
fn random_hostile_text_always_gives_a_parseable_skeleton_with_schema_keys_only() {
    let (s, d) = (schemas(), defaults());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(10);
    for case in 0..400 {
        let files: Vec<InspectedFile> = (0..rng.random_range(1..4))
            .map(|i| random_file(&mut rng, i))
            .collect();
        let from = random_text(&mut rng);
        let iso3 = if case % 10 == 0 {
            random_text(&mut rng)
        } else {
            "XXX".to_string()
        };
        let out = skeleton_text(&iso3, &from, &files, &s, &d);
        let parsed = check_keys(&out.text, &s);
        assert_eq!(
            parsed["country"]["iso3"].as_str(),
            Some(iso3.as_str()),
            "case {case}"
        );
    }
}

fn onboard_dir(files: &[(&str, &[u8])]) -> (tempfile::TempDir, crate::Onboarded) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let delivery = tmp.path().join("XXX");
    std::fs::create_dir_all(&delivery).expect("mkdir");
    for (name, bytes) in files {
        std::fs::write(delivery.join(name), bytes).expect("write");
    }
    let out = skeleton("XXX", &delivery, &schemas(), &defaults()).expect("skeleton");
    (tmp, out)
}

#[test]
fn csv_headers_and_values_with_newlines_quotes_and_comment_marks_give_a_parseable_skeleton() {
    // Excel Alt+Enter in a header cell, `#`, quotes, `"""`, `]`, `=` and a NUL in header cells and listed values.
    let csv = "ID,\"GENDER\",\"Q1\nHow often\",\"Q2 # \"\"\"\" ]\",\"a = b\",Q3\r\n\
               1,1,\"x\ny\",\"[country]\",\"# TODO\",\"n\0l\"\n2,2,1,2,3,4\n";
    let (_tmp, out) = onboard_dir(&[("xxx_child.csv", csv.as_bytes())]);
    let parsed = check_keys(&out.text, &schemas());
    let columns = &parsed["deliveries"]["child_survey"]["columns"];
    assert_eq!(
        columns["sex"]["source"].as_str(),
        Some("GENDER"),
        "{}",
        out.text
    );
    assert!(out.text.contains("Q1\\nHow often"), "{}", out.text);
}

#[test]
fn zsav_files_are_found() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for name in ["a.zsav", "B.ZSAV", "c.sav", "d.pdf"] {
        std::fs::write(tmp.path().join(name), b"x").expect("write");
    }
    let files = crate::inspect::delivery_files(tmp.path()).expect("list");
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .collect();
    assert_eq!(names, vec!["B.ZSAV", "a.zsav", "c.sav"]);
    for (ext, format) in Format::EXTENSIONS {
        let parsed: Format = toml::Value::String(format.name().into())
            .try_into()
            .expect("format name");
        assert_eq!(parsed, *format, "{ext}");
    }
}

#[test]
fn agency_names_variable_labels_value_labels_and_missing_ranges() {
    let (s, d) = (schemas(), defaults());
    let mut q101 = variable("Q101", &["1", "2"], &[]);
    q101.variable_label = Some("Sex of respondent\n(interviewer: observe)".into());
    let mut q102 = variable(
        "Q102",
        &["1", "2", "98"],
        &[("1", "Urban"), ("2", "Rural"), ("98", "Don't know")],
    );
    q102.variable_label = Some("Where do you live?".into());
    let mut q7 = variable("Q7", &["1", "2", "97"], &[]);
    q7.missing_ranges = vec![(97.0, 99.0), (f64::NEG_INFINITY, 0.0)];
    q7.declared_missing = vec!["-9".into()];
    let mut long = variable("Q8", &["1"], &[]);
    long.variable_label = Some("x".repeat(200));
    let file = sav_file(
        "xxx_child.sav",
        vec![
            variable("SBJNUM", &["1001", "1002"], &[]),
            variable("HH_NO", &["5", "6"], &[]),
            variable("CLUSTER_NO", &["3"], &[]),
            variable("STRATA", &["1"], &[]),
            variable("WT", &["1.5"], &[]),
            variable("AGE", &["13"], &[]),
            variable("GOV", &["11", "12"], &[("11", "Amman"), ("12", "Irbid")]),
            q101,
            q102,
            q7,
            long,
        ],
    );
    let out = skeleton_text("XXX", "in", &[file], &s, &d);
    let parsed = check_keys(&out.text, &s);
    let text = &out.text;
    let c = &parsed["deliveries"]["child_survey"]["columns"];
    for (column, source) in [
        ("respondent_id", "SBJNUM"),
        ("household_id", "HH_NO"),
        ("psu", "CLUSTER_NO"),
        ("stratum", "STRATA"),
        ("base_weight", "WT"),
        ("age", "AGE"),
        ("region", "GOV"),
        ("sex", "Q101"),
        ("urban_rural", "Q102"),
    ] {
        assert_eq!(
            c.get(column).and_then(|m| m["source"].as_str()),
            Some(source),
            "{column}\n{text}"
        );
    }
    assert_eq!(c["region"]["value"].as_str(), Some("label"), "{text}");
    assert!(c["sex"].get("value").is_none(), "{text}");
    assert!(
        text.contains("sex = { source = \"Q101\" }  # proposed: variable label"),
        "{text}"
    );
    assert!(
        text.contains("# proposed: value labels name its categories"),
        "{text}"
    );
    assert!(
        text.contains("label \"Sex of respondent\\n(interviewer: observe)\""),
        "{text}"
    );
    assert!(
        text.contains(&format!("label \"{}…\"", "x".repeat(79))),
        "{text}"
    );
    assert!(
        text.contains("declared missing: -9; declared missing ranges: 97 THRU 99, LO THRU 0"),
        "{text}"
    );
    assert!(
        !text.contains("values 97"),
        "97 is inside a declared range: {text}"
    );
    assert!(!text.contains("1001"), "identifier values listed: {text}");
}

#[test]
fn identifier_and_free_text_values_and_identifier_labels_never_reach_the_skeleton() {
    let (s, d) = (schemas(), defaults());
    let mut free = variable("Q20_OTHER", &[], &[]);
    free.kind = "text";
    free.free_text = true;
    free.distinct = 3;
    let file = sav_file(
        "xxx_child.sav",
        vec![
            variable(
                "RESPID",
                &["7001", "7002"],
                &[("7001", "Fatima Khalil"), ("7002", "Omar Said")],
            ),
            variable("RESP_NAME", &[], &[("1", "Layla Haddad")]),
            free,
        ],
    );
    let out = skeleton_text("XXX", "in", &[file], &s, &d);
    check_keys(&out.text, &s);
    for secret in ["7001", "Fatima", "Omar", "Layla"] {
        assert!(!out.text.contains(secret), "{secret}:\n{}", out.text);
    }
    assert!(out.text.contains("RESPID"), "{}", out.text);
    assert!(
        out.text.contains("2 value labels, not listed"),
        "{}",
        out.text
    );
    assert!(
        out.text
            .contains("free text: 3 distinct values, not listed"),
        "{}",
        out.text
    );
}

#[test]
fn date_formats_proposed_for_date_columns() {
    let (s, d) = (schemas(), defaults());
    let mut date = variable("date", &[], &[]);
    date.kind = "date";
    date.dates = DateLayout::Format("%d/%m/%Y");
    let mut csv = sav_file("interview_register.csv", vec![date]);
    csv.layout.format = Format::Csv;
    let out = skeleton_text("XXX", "in", &[csv.clone()], &s, &d);
    let parsed = check_keys(&out.text, &s);
    let c = &parsed["deliveries"]["interview_register"]["columns"];
    assert_eq!(
        c["interview_date"]["date_format"].as_str(),
        Some("%d/%m/%Y"),
        "{}",
        out.text
    );
    csv.variables[0].dates = DateLayout::Ambiguous("%d/%m/%Y", "%m/%d/%Y");
    let out = skeleton_text("XXX", "in", &[csv], &s, &d);
    assert!(
        out.text.contains(
            "# TODO interview_date: the dates of date fit both \"%d/%m/%Y\" and \"%m/%d/%Y\""
        ),
        "{}",
        out.text
    );
}

#[test]
fn windows_1256_csv_with_a_title_row_and_dd_mm_yyyy_dates() {
    let text = "Interview register, Jordan\n\
                interview_code,group,date,region,mode\n\
                J01,1,31/01/2025,عمّان,1\nJ02,2,02/02/2025,إربد,2\nJ03,1,15/02/2025,الزرقاء,1\n\
                J04,2,16/02/2025,عمّان,2\nJ05,1,17/02/2025,إربد,1\nJ06,2,18/02/2025,الزرقاء,2\n";
    let (bytes, _, bad) = encoding_rs::WINDOWS_1256.encode(text);
    assert!(!bad);
    let (_tmp, out) = onboard_dir(&[("interview_register.csv", &bytes)]);
    let parsed = check_keys(&out.text, &schemas());
    let r = &parsed["deliveries"]["interview_register"];
    assert_eq!(r["encoding"].as_str(), Some("windows-1256"), "{}", out.text);
    assert_eq!(r["header_row"].as_integer(), Some(2), "{}", out.text);
    assert!(r.get("skip_rows").is_none(), "{}", out.text);
    assert_eq!(
        r["columns"]["interview_date"]["date_format"].as_str(),
        Some("%d/%m/%Y"),
        "{}",
        out.text
    );
    assert!(out.text.contains("decodes as Arabic text"), "{}", out.text);
    assert!(
        out.text.contains("\"عمّان\""),
        "region values listed decoded: {}",
        out.text
    );
}

#[test]
fn double_encoded_utf8_and_ambiguous_code_pages_are_todos() {
    let (twice, _, _) = encoding_rs::WINDOWS_1252.decode("ID,REGION\n1,Élève\n2,عمّان\n".as_bytes());
    let (_tmp, out) = onboard_dir(&[("xxx_child.csv", twice.as_bytes())]);
    check_keys(&out.text, &schemas());
    assert!(
        out.text.contains("# TODO encoding: 2 of 2 words"),
        "{}",
        out.text
    );
    assert!(out.text.contains("encoded twice"), "{}", out.text);
    let (short, _, _) = encoding_rs::WINDOWS_1256.encode("ID,REGION\n1,ءا\n");
    let (_tmp, out) = onboard_dir(&[("xxx_child.csv", &short)]);
    let parsed = check_keys(&out.text, &schemas());
    assert!(
        parsed["deliveries"]["child_survey"]
            .get("encoding")
            .is_none(),
        "{}",
        out.text
    );
    assert!(
        out.text.contains(
            "# TODO encoding = \"...\"  (the file is not UTF-8 and several code pages fit: "
        ) && out.text.contains("windows-1256 (Arabic letters"),
        "{}",
        out.text
    );
}

#[test]
fn utf16_tab_separated_and_thai_windows_874_csvs() {
    // Each province twice: values are listed only when they repeat (a column of values that occur once each could
    // be a small register of names).
    let text = "ID\tGENDER\tPROVINCE\r\n1\t1\tกรุงเทพมหานคร\r\n2\t2\tเชียงใหม่\r\n\
                3\t2\tกรุงเทพมหานคร\r\n4\t1\tเชียงใหม่\r\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let commas = text.replace('\t', ",");
    let (thai, _, bad) = encoding_rs::WINDOWS_874.encode(&commas);
    assert!(!bad);
    let (_tmp, out) = onboard_dir(&[("xxx_child.tsv", &utf16), ("xxx_caregiver.csv", &thai)]);
    let parsed = check_keys(&out.text, &schemas());
    let child = &parsed["deliveries"]["child_survey"];
    assert_eq!(child["encoding"].as_str(), Some("utf-16le"), "{}", out.text);
    assert_eq!(child["delimiter"].as_str(), Some("\t"), "{}", out.text);
    assert_eq!(
        child["columns"]["region"]["source"].as_str(),
        Some("PROVINCE"),
        "{}",
        out.text
    );
    let caregiver = &parsed["deliveries"]["caregiver_survey"];
    assert_eq!(
        caregiver["encoding"].as_str(),
        Some("windows-874"),
        "{}",
        out.text
    );
    assert!(out.text.contains("\"เชียงใหม่\""), "{}", out.text);
}

#[test]
fn xlsx_cover_sheet_title_rows_and_label_row() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let delivery = tmp.path().join("XXX");
    std::fs::create_dir_all(&delivery).expect("mkdir");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let cover = wb.add_worksheet();
    cover.set_name("Cover").expect("name");
    for (r, line) in [
        "Caregiver survey, Jordan 2025",
        "Agency notes",
        "Contact: field office",
    ]
    .iter()
    .enumerate()
    {
        cover.write_string(r as u32, 0, *line).expect("write");
    }
    let data = wb.add_worksheet();
    data.set_name("Data 2025").expect("name");
    data.write_string(0, 0, "Caregiver questionnaire")
        .expect("write");
    data.write_string(1, 0, "Exported 3 March").expect("write");
    let header = ["CG_ID", "HHID", "CG_SEX", "CG_AGE", "Q1"];
    let labels = [
        "Caregiver id",
        "Household",
        "Sex of caregiver",
        "Age",
        "Uses internet",
    ];
    for (c, (h, l)) in header.iter().zip(labels).enumerate() {
        data.write_string(2, c as u16, *h).expect("write");
        data.write_string(3, c as u16, l).expect("write");
    }
    for r in 0..5u32 {
        for c in 0..5u16 {
            data.write_number(4 + r, c, f64::from(r * 10 + u32::from(c) % 2 + 1))
                .expect("write");
        }
    }
    wb.add_worksheet().set_name("Empty").expect("name");
    wb.save(delivery.join("xxx_caregiver.xlsx")).expect("save");
    let out = skeleton("XXX", &delivery, &schemas(), &defaults()).expect("skeleton");
    let parsed = check_keys(&out.text, &schemas());
    let c = &parsed["deliveries"]["caregiver_survey"];
    assert_eq!(c["sheet"].as_str(), Some("Data 2025"), "{}", out.text);
    assert_eq!(c["header_row"].as_integer(), Some(3), "{}", out.text);
    assert_eq!(c["skip_rows"].as_integer(), Some(1), "{}", out.text);
    assert_eq!(
        c["columns"]["caregiver_id"]["source"].as_str(),
        Some("CG_ID"),
        "{}",
        out.text
    );
    assert_eq!(
        c["columns"]["caregiver_sex"]["source"].as_str(),
        Some("CG_SEX"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("#   sheets: \"Cover\" (3 rows x 1 columns), \"Data 2025\" (9 rows x 5 columns) <- read, \"Empty\" (0 rows x 0 columns)"),
        "{}",
        out.text
    );
    assert!(out.text.contains("#   5 rows, 5 variables"), "{}", out.text);
    let keys: BTreeSet<&str> = c
        .as_table()
        .expect("table")
        .keys()
        .map(String::as_str)
        .collect();
    assert!(keys.contains("file") && keys.contains("format"), "{keys:?}");
}

#[test]
fn onboard_writes_what_it_returns() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let delivery = tmp.path().join("d");
    std::fs::create_dir_all(&delivery).expect("mkdir");
    std::fs::write(delivery.join("child.csv"), "ID,GENDER\n1,2\n").expect("write");
    let config = tmp.path().join("countries");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::copy(
        repo().join("countries/_defaults.toml"),
        config.join("_defaults.toml"),
    )
    .expect("copy");
    let done = onboard(&OnboardOptions {
        iso3: "xxx".into(),
        delivery_dir: delivery,
        config_dir: config.clone(),
        schema_dir: repo().join("schemas"),
        force: false,
    })
    .expect("onboard");
    assert_eq!(
        std::fs::read_to_string(config.join("XXX.toml")).expect("read"),
        done.text
    );
}
