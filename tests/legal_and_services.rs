//! Helpline/NGO contacts and the legal-framework review end to end (issue 16), on hand-made deliveries: Kenya
//! delivers one contacts file for two organisations (each with its own categories, mapped many-to-one) and a
//! legal review that lacks one checklist provision and cites an instrument with `"<>&` in its citation; Thailand
//! delivers contacts but no legal review (`delivered = false`). The run must publish the service-contact
//! indicators (totals, the OCSEA share of the contacts, change, rate) under the small-count rule, the status
//! matrix as categorical rows with `estimate_label`, a "Legal provisions" workbook sheet and a grid page whose
//! cells carry a symbol, a word and the escaped citation, and both sections on the country page.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use common::{describe, dh, s};

const KEY: &str = "legal-and-services-test-key-0123456789abcdef";
/// At most 8 words: a longer text cell is taken for free text and quarantined (`dh-normalise`).
const CITATION: &str = r#"Penal Code "A" <b> & c. (2015)"#;

/// Kenya's contacts: (organisation, type, year, channel, own category, sex, age, contacts).
const KEN_CONTACTS: &[(&str, &str, &str, &str, &str, &str, &str, u32)] = &[
    (
        "Childline KE",
        "H",
        "2017",
        "Phone",
        "Online grooming",
        "F",
        "14-15",
        40,
    ),
    (
        "Childline KE",
        "H",
        "2017",
        "Phone",
        "Bullying",
        "F",
        "14-15",
        200,
    ),
    (
        "Childline KE",
        "H",
        "2018",
        "Chat",
        "Online grooming",
        "M",
        "16-17",
        50,
    ),
    (
        "Childline KE",
        "H",
        "2018",
        "Chat",
        "Sextortion",
        "F",
        "16-17",
        30,
    ),
    (
        "Childline KE",
        "H",
        "2019",
        "Phone",
        "Online grooming",
        "F",
        "12-13",
        70,
    ),
    (
        "Childline KE",
        "H",
        "2019",
        "Phone",
        "Bullying",
        "M",
        "12-13",
        260,
    ),
    (
        "Childline KE",
        "H",
        "2019",
        "Chat",
        "Live abuse",
        "F",
        "14-15",
        3,
    ),
    ("Hotline KE", "I", "2017", "Web", "CSAM report", "", "", 120),
    ("Hotline KE", "I", "2018", "Web", "CSAM report", "", "", 150),
    ("Hotline KE", "I", "2019", "Web", "CSAM report", "", "", 180),
];

/// Kenya's legal review: (own checklist number, status code, citation); Q11 (national action plan) is missing.
fn ken_review() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("Q1", "Y", CITATION),
        ("Q2", "Y", "Penal Code s. 13 (2015)"),
        ("Q3", "P", "Penal Code s. 14 (2015)"),
        ("Q4", "Y", "Penal Code s. 15 (2015)"),
        ("Q5", "N", ""),
        ("Q6", "U", ""),
        ("Q7", "Y", "Sexual Offences Act s. 8 (2006)"),
        ("Q8", "N", ""),
        ("Q9", "P", "Data Act s. 4 (2019)"),
        ("Q10", "Y", "Police Order 7 (2018)"),
    ]
}

const PROVISIONS: [&str; 11] = [
    "criminalises_grooming",
    "criminalises_csam_production",
    "criminalises_csam_possession",
    "criminalises_csam_distribution",
    "criminalises_live_streaming",
    "criminalises_sexual_extortion",
    "age_of_consent_set",
    "isp_mandatory_reporting",
    "data_retention_duty",
    "specialised_le_unit",
    "national_action_plan",
];

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_deliveries(raw: &Path) {
    let mut ken = String::from("org,org_type,year,channel,category,sex,age,contacts,vintage\n");
    for (org, kind, year, channel, category, sex, age, n) in KEN_CONTACTS {
        ken.push_str(&format!(
            "{org},{kind},{year},{channel},{category},{sex},{age},{n},2020-06-30\n"
        ));
    }
    fs::write(raw.join("KEN/service_contacts.csv"), ken).expect("write");
    let mut legal = String::from("item,status,citation,reviewed\n");
    for (item, status, citation) in ken_review() {
        legal.push_str(&format!(
            "{item},{status},{},2023-05-01\n",
            csv_cell(citation)
        ));
    }
    fs::write(raw.join("KEN/legal_provisions.csv"), legal).expect("write");
    let tha = "org,org_type,year,channel,category,sex,age,contacts,vintage\n\
               TH1,H,2017,Phone,Online grooming,F,14-15,25\n\
               TH1,H,2018,Phone,Online grooming,F,14-15,30\n\
               TH1,H,2019,Phone,Online grooming,F,14-15,35\n\
               TH1,H,2019,Phone,Bullying,F,14-15,100\n";
    let tha: String = tha
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                format!("{l},2024-01-31\n")
            }
        })
        .collect();
    fs::write(raw.join("THA/service_contacts.csv"), tha).expect("write");
}

/// The mapping of the two new tables (written into the countries' own files).
fn delivery_config(legal_delivered: bool) -> String {
    let mut out = String::from(
        r#"
[deliveries.service_contacts]
file = "service_contacts.csv"
format = "csv"

[deliveries.service_contacts.columns]
organisation = { source = "org" }
organisation_type = { source = "org_type", codes = { "H" = "helpline", "I" = "hotline", "N" = "ngo" } }
year = { source = "year" }
channel = { source = "channel", codes = { "Phone" = "phone", "Chat" = "chat", "Web" = "web_form" } }
category = { source = "category", codes = { "Online grooming" = "grooming", "Sextortion" = "sextortion", "CSAM report" = "csam", "Live abuse" = "live_streaming", "Bullying" = "not_ocsea" } }
child_sex = { source = "sex", codes = { "M" = "male", "F" = "female" }, missing = { "" = "dont_know" } }
child_age_band = { source = "age", codes = { "12-13" = "12-13", "14-15" = "14-15", "16-17" = "16-17" }, missing = { "" = "dont_know" } }
contacts = { source = "contacts" }
data_vintage = { source = "vintage" }
"#,
    );
    if legal_delivered {
        out.push_str(
            r#"
[deliveries.legal_provisions]
file = "legal_provisions.csv"
format = "csv"

[deliveries.legal_provisions.columns]
provision = { source = "item", codes = { "Q1" = "criminalises_grooming", "Q2" = "criminalises_csam_production", "Q3" = "criminalises_csam_possession", "Q4" = "criminalises_csam_distribution", "Q5" = "criminalises_live_streaming", "Q6" = "criminalises_sexual_extortion", "Q7" = "age_of_consent_set", "Q8" = "isp_mandatory_reporting", "Q9" = "data_retention_duty", "Q10" = "specialised_le_unit", "Q11" = "national_action_plan" } }
status = { source = "status", codes = { "Y" = "yes", "P" = "partial", "N" = "no", "U" = "unclear" } }
citation = { source = "citation", missing = { "" = "not_applicable" } }
review_date = { source = "reviewed" }
"#,
        );
    } else {
        out.push_str("\n[deliveries.legal_provisions]\ndelivered = false\n");
    }
    out
}

/// `text` without the TOML tables whose header starts with one of `prefixes` (so that the test's own mapping
/// replaces whatever the real configuration says about these tables).
fn without_sections(text: &str, prefixes: &[&str]) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('[') {
            // `[table]` and `[[array of tables]]` (a delivery's parts) alike.
            let header = t.trim_start_matches('[');
            skipping = prefixes
                .iter()
                .any(|p| header.starts_with(p.trim_start_matches('[')));
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A config folder with `_defaults.toml`, KEN and THA, the two tables mapped by the test.
fn config_dir(dir: &Path) {
    let real = common::workspace().join("countries");
    let prefixes = [
        "[deliveries.service_contacts",
        "[deliveries.legal_provisions",
    ];
    fs::create_dir_all(dir).expect("mkdir");
    for (file, legal) in [
        ("_defaults.toml", None),
        ("KEN.toml", Some(true)),
        ("THA.toml", Some(false)),
    ] {
        let text = fs::read_to_string(real.join(file)).expect("country file");
        let mut text = without_sections(&text, &prefixes);
        if let Some(legal) = legal {
            text.push_str(&delivery_config(legal));
        }
        fs::write(dir.join(file), text).expect("write");
    }
}

#[derive(Debug, Clone)]
struct Row {
    statistic: String,
    estimate: Option<f64>,
    ci_lower: Option<f64>,
    ci_method: String,
    n_unweighted: u64,
    flag: String,
    label: Option<String>,
}

/// (country, indicator, domain, domain_value) -> row, and the column names.
fn read_rows(path: &Path) -> (BTreeMap<(String, String, String, String), Row>, Vec<String>) {
    let mut rows = BTreeMap::new();
    let mut names = Vec::new();
    for b in common::read_parquet(path) {
        names = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let text = |name: &str, i: usize| -> Option<String> {
            let c = arrow::compute::cast(b.column_by_name(name).expect(name), &DataType::Utf8)
                .expect("text");
            let c = c.as_string::<i32>();
            c.is_valid(i).then(|| c.value(i).to_string())
        };
        let float = |name: &str, i: usize| -> Option<f64> {
            let c = b
                .column_by_name(name)
                .expect(name)
                .as_primitive::<Float64Type>();
            c.is_valid(i).then(|| c.value(i))
        };
        for i in 0..b.num_rows() {
            let key = (
                text("country", i).unwrap_or_default(),
                text("indicator", i).unwrap_or_default(),
                text("domain", i).unwrap_or_default(),
                text("domain_value", i).unwrap_or_default(),
            );
            rows.insert(
                key,
                Row {
                    statistic: text("statistic", i).unwrap_or_default(),
                    estimate: float("estimate", i),
                    ci_lower: float("ci_lower", i),
                    ci_method: text("ci_method", i).unwrap_or_default(),
                    n_unweighted: text("n_unweighted", i)
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(u64::MAX),
                    flag: text("flag", i).unwrap_or_default(),
                    label: text("estimate_label", i),
                },
            );
        }
    }
    (rows, names)
}

fn key(c: &str, i: &str, d: &str, v: &str) -> (String, String, String, String) {
    (c.into(), i.into(), d.into(), v.into())
}

#[test]
fn contacts_and_the_legal_review_reach_indicators_workbook_and_report() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    let out = tmp.path().join("out");
    let config = tmp.path().join("countries");
    common::synth(&raw, "KEN,THA", "7");
    write_deliveries(&raw);
    config_dir(&config);
    let run = dh(
        Some(KEY),
        &[
            "run",
            "--raw-dir",
            s(&raw),
            "--out-dir",
            s(&out),
            "--config-dir",
            s(&config),
            "--quiet",
        ],
    );
    assert!(run.status.success(), "dh run: {}", describe(&run));
    if std::env::var_os("DH_TEST_KEEP").is_some() {
        eprintln!("kept {}", tmp.path().display());
        std::mem::forget(tmp);
        return;
    }

    // Every delivered row is written: the ledger of the two new tables has no quarantined row.
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    let inputs = manifest["inputs"].as_array().cloned().unwrap_or_default();
    let new_tables: Vec<&serde_json::Value> = inputs
        .iter()
        .filter(|i| i["table"] == "service_contacts" || i["table"] == "legal_provisions")
        .collect();
    assert_eq!(new_tables.len(), 3, "{new_tables:?}");
    for i in new_tables {
        assert_eq!(i["rows_quarantined"], 0, "{i}");
    }

    let (rows, names) = read_rows(&out.join("indicators/indicators.parquet"));
    assert_eq!(names.last().map(String::as_str), Some("estimate_label"));
    let get = |c: &str, i: &str, d: &str, v: &str| {
        rows.get(&key(c, i, d, v))
            .unwrap_or_else(|| panic!("no row {c} {i} {d}={v}"))
            .clone()
    };

    // The status matrix: one categorical row per provision, the code as estimate and the label beside it.
    let expected = [
        ("criminalises_grooming", 1.0, "yes"),
        ("criminalises_csam_possession", 2.0, "partial"),
        ("criminalises_live_streaming", 3.0, "no"),
        ("criminalises_sexual_extortion", 4.0, "unclear"),
    ];
    for (provision, code, label) in expected {
        let r = get("KEN", "legal_provision_status", "provision", provision);
        assert_eq!(r.statistic, "categorical");
        assert_eq!((r.estimate, r.label.as_deref()), (Some(code), Some(label)));
        assert_eq!((r.flag.as_str(), r.ci_method.as_str()), ("ok", "none"));
    }
    let lacking = get(
        "KEN",
        "legal_provision_status",
        "provision",
        "national_action_plan",
    );
    assert_eq!(
        (lacking.flag.as_str(), lacking.estimate, lacking.label),
        ("not_collected", None, None)
    );
    let ken_legal = rows
        .keys()
        .filter(|(c, i, _, _)| c == "KEN" && i == "legal_provision_status")
        .count();
    assert_eq!(
        ken_legal,
        PROVISIONS.len(),
        "one row per provision, no total"
    );
    let tha = get("THA", "legal_provision_status", "total", "total");
    assert_eq!(tha.flag, "not_collected");
    for (k, r) in &rows {
        if k.1 != "legal_provision_status" {
            assert_eq!(r.label, None, "{k:?}: a label only on categorical rows");
        }
    }

    // Contacts: totals by year and category, <5 withheld with a complement.
    let all: u32 = KEN_CONTACTS.iter().map(|c| c.7).sum();
    assert_eq!(
        get("KEN", "sc_contacts", "total", "total").estimate,
        Some(all as f64)
    );
    assert_eq!(
        get("KEN", "sc_contacts", "year", "2018").estimate,
        Some(230.0)
    );
    let live = get("KEN", "sc_contacts", "category", "live_streaming");
    assert_eq!(
        (live.flag.as_str(), live.estimate),
        ("suppressed_small_count", None)
    );
    let withheld_categories = rows
        .iter()
        .filter(|(k, r)| {
            k.0 == "KEN"
                && k.1 == "sc_contacts"
                && k.2 == "category"
                && r.estimate.is_none()
                && r.flag == "suppressed_small_count"
        })
        .count();
    assert!(
        withheld_categories >= 2,
        "a second category hides the <5 one"
    );

    // The OCSEA share is a share of contacts (not of rows), without an interval.
    let ocsea: u32 = KEN_CONTACTS
        .iter()
        .filter(|c| c.4 != "Bullying")
        .map(|c| c.7)
        .sum();
    let share = get("KEN", "sc_ocsea_share", "total", "total");
    let expected_share = ocsea as f64 / all as f64;
    assert!(
        share
            .estimate
            .is_some_and(|e| (e - expected_share).abs() < 1e-12),
        "{share:?} vs {expected_share}"
    );
    assert_eq!((share.ci_method.as_str(), share.ci_lower), ("none", None));
    assert_eq!(share.n_unweighted, u64::from(all));

    // Change 2017 -> 2019 of the OCSEA contacts (2019 holds 70 + 3 + 180).
    let first = 40.0 + 120.0;
    let last = 70.0 + 3.0 + 180.0;
    let change = get("KEN", "sc_ocsea_change", "total", "total");
    assert!(
        change
            .estimate
            .is_some_and(|e| (e - (last - first) / first).abs() < 1e-12),
        "{change:?}"
    );
    let rate = get("KEN", "sc_ocsea_rate", "year", "2019");
    assert!(rate.estimate.is_some_and(|e| e > 0.0), "{rate:?}");
    // Thailand: one helpline, 25 -> 35 OCSEA contacts.
    let tha_change = get("THA", "sc_ocsea_change", "total", "total");
    assert!(
        tha_change.estimate.is_some_and(|e| (e - 0.4).abs() < 1e-12),
        "{tha_change:?}"
    );

    // Workbook: one "Legal provisions" sheet, countries x provisions in words.
    use calamine::{Data, Reader};
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook(out.join("tables/indicators.xlsx")).expect("workbook");
    let sheets = workbook.sheet_names();
    assert!(sheets.iter().any(|n| n == "Service contacts"), "{sheets:?}");
    let range = workbook
        .worksheet_range("Legal provisions")
        .expect("Legal provisions sheet");
    let cells: Vec<Vec<String>> = range
        .rows()
        .map(|r| {
            r.iter()
                .map(|d| match d {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    let head = &cells[0];
    let ken_line = cells
        .iter()
        .find(|r| r.first().is_some_and(|c| c == "KEN"))
        .expect("KEN row");
    let col = |provision: &str| {
        head.iter()
            .position(|h| h.contains(provision))
            .unwrap_or_else(|| panic!("no column {provision}: {head:?}"))
    };
    assert_eq!(ken_line[col("criminalises_grooming")], "yes");
    assert_eq!(ken_line[col("criminalises_csam_possession")], "partial");
    assert_eq!(ken_line[col("national_action_plan")], "not reviewed");
    let tha_line = cells
        .iter()
        .find(|r| r.first().is_some_and(|c| c == "THA"))
        .expect("THA row");
    assert_eq!(tha_line[col("criminalises_grooming")], "not reviewed");

    citation_notes_read_by_openpyxl(&out.join("tables/indicators.xlsx"));

    // Report: the grid (symbols, words, escaped citation in the cell's title) and the country sections.
    let grid =
        fs::read_to_string(out.join("report/indicator-legal_provision_status.html")).expect("grid");
    for symbol in ["●", "◐", "○", "?"] {
        assert!(grid.contains(symbol), "{symbol} missing");
    }
    assert!(
        grid.contains(
            "title=\"Penal Code &quot;A&quot; &lt;b&gt; &amp; c. (2015) (reviewed 2023-05-01)\""
        ),
        "the citation is escaped in the title"
    );
    assert!(!grid.contains("<b>"), "no citation markup in the page");
    assert!(
        grid.contains("The law criminalises online grooming of children for sexual purposes"),
        "the checklist's wording (schema category titles, recorded by the run)"
    );
    assert!(grid.contains("<th scope=\"col\""), "a table with headers");
    let country = fs::read_to_string(out.join("report/country-KEN.html")).expect("country page");
    assert!(country.contains("Legal and policy review"));
    assert!(country.contains("Helplines, hotlines and NGOs"));
    let tha_page = fs::read_to_string(out.join("report/country-THA.html")).expect("country page");
    assert!(tha_page.contains("Helplines, hotlines and NGOs"));
}

/// The citation is the note of its status cell, read back by openpyxl (an independent reader; skipped without
/// it unless `CI` is set).
fn citation_notes_read_by_openpyxl(workbook: &Path) {
    let script = r#"
import sys, openpyxl
ws = openpyxl.load_workbook(sys.argv[1])["Legal provisions"]
head = [c.value for c in ws[1]]
col = head.index("criminalises_grooming") + 1
for row in ws.iter_rows(min_row=2):
    if row[0].value == "KEN":
        note = ws.cell(row=row[0].row, column=col).comment
        print(note.text if note else "")
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, s(workbook)])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            assert_eq!(text.trim(), format!("{CITATION} (reviewed 2023-05-01)"));
        }
        Ok(o) => common::optional::tool_missing(
            "the workbook's notes",
            &format!(
                "python3 with openpyxl failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => {
            common::optional::tool_missing("the workbook's notes", &format!("no python3: {e}"))
        }
    }
}
