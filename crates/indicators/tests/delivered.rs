//! Issue 10, end to end through the library (`dh run`, `dh validate`) on `dh synth` deliveries of one country:
//! a table marked `delivered = false` is absent from the outputs and its indicators are `not_collected` while
//! everything else runs; `dh validate` lists every missing file at once; and it lists, as row problems with their
//! raw ids, the caregivers that `dh run` leaves out of the caregiver indicators because their child's row was
//! quarantined.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dh_pipeline::run::{RunOptions, RunSummary};
use dh_pipeline::validate::{ProblemKind, ValidateOptions, ValidateReport};

const KEY: &str = "delivered-test-key-0123456789abcdef0123";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Synthetic deliveries of `countries` (from the shipped configs) into `raw`.
fn synth(raw: &Path, countries: &[&str], seed: u64) {
    let options = dh_synth::SynthOptions {
        seed,
        scale: 0.3,
        countries: countries.iter().map(|c| c.to_string()).collect(),
    };
    dh_synth::synth_to_dir(
        &repo().join("countries"),
        &repo().join("schemas"),
        raw,
        &options,
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// A config folder with the shipped `_defaults.toml` and `<iso3>.toml` edited by `edit`.
fn config_dir(dir: &Path, iso3: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let cfg = dir.join("countries");
    std::fs::create_dir_all(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let read = |name: &str| {
        std::fs::read_to_string(repo().join("countries").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let write = |name: &str, text: String| {
        std::fs::write(cfg.join(name), text).unwrap_or_else(|e| panic!("{e}"))
    };
    write("_defaults.toml", read("_defaults.toml"));
    let country = format!("{iso3}.toml");
    write(&country, edit(read(&country)));
    cfg
}

/// Marks `table` as not delivered in a country file that has a `[deliveries.<table>]` section.
fn not_delivered(text: String, table: &str) -> String {
    let header = format!("[deliveries.{table}]\n");
    if text.contains(&header) {
        text.replacen(&header, &format!("{header}delivered = false\n"), 1)
    } else {
        format!("{text}\n{header}delivered = false\n")
    }
}

fn run(raw: &Path, config: &Path, out: &Path, countries: &[&str]) -> RunSummary {
    let opts = RunOptions {
        raw_dir: raw.to_path_buf(),
        out_dir: out.to_path_buf(),
        config_dir: config.to_path_buf(),
        schema_dir: repo().join("schemas"),
        pipelines_dir: Some(repo().join("pipelines")),
        countries: countries.iter().map(|c| c.to_string()).collect(),
        jobs: 2,
        key: dh_pipeline::key::KeySource {
            key_file: None,
            env_value: Some(KEY.into()),
            generated_file: None,
        },
        force: false,
    };
    dh_pipeline::run::run(&opts, &dh_pipeline::progress::Silent).unwrap_or_else(|e| panic!("{e}"))
}

fn validate(raw: &Path, config: &Path, countries: &[&str]) -> ValidateReport {
    dh_pipeline::validate::validate(&ValidateOptions {
        raw_dir: raw.to_path_buf(),
        config_dir: config.to_path_buf(),
        schema_dir: repo().join("schemas"),
        countries: countries.iter().map(|c| c.to_string()).collect(),
        jobs: 2,
        config_only: false,
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// `OUT/indicators/indicators.csv` as (indicator -> [(domain, flags)]) for one country (`flags`: every condition
/// of the row, `;`-separated, the primary flag first).
fn indicator_flags(out: &Path, iso3: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let csv = std::fs::read_to_string(out.join("indicators/indicators.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let header = csv_cells(csv.lines().next().unwrap_or_default());
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (country, indicator, domain, flag) = (
        col("country"),
        col("indicator"),
        col("domain"),
        col("flags"),
    );
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let cells = csv_cells(line);
        if cells[country] == iso3 {
            out.entry(cells[indicator].to_string())
                .or_default()
                .push((cells[domain].to_string(), cells[flag].to_string()));
        }
    }
    out
}

/// Splits one CSV line (fields quoted when they hold a comma or a quote).
fn csv_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().map(|s| s.push('"')).unwrap_or_default();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().map(|s| s.push(c)).unwrap_or_default(),
        }
    }
    cells
}

/// Every row of `OUT/indicators/indicators.csv` as column -> cell.
fn indicator_rows(out: &Path) -> Vec<BTreeMap<String, String>> {
    let csv = std::fs::read_to_string(out.join("indicators/indicators.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut lines = csv.lines();
    let header = csv_cells(lines.next().unwrap_or_default());
    lines
        .map(|l| header.iter().cloned().zip(csv_cells(l)).collect())
        .collect()
}

/// The publication rules over every row of a run: `statistic` and `flags` columns, the primary flag first in
/// `flags`, counts and family proportions inside their intervals with no bound below 0, proportions in [0, 1],
/// nothing under 25 cases or with an RSE above 30% published `ok`, and the true label of a cut age band.
fn assert_published_rows_are_defensible(out: &Path) {
    let rows = indicator_rows(out);
    assert!(!rows.is_empty());
    let num = |r: &BTreeMap<String, String>, c: &str| r[c].parse::<f64>().ok();
    for r in &rows {
        let flags: Vec<&str> = r["flags"].split(';').collect();
        assert_eq!(flags[0], r["flag"], "{r:?}");
        let statistic = r["statistic"].as_str();
        assert!(
            dh_indicators::units::statistic(statistic).is_some(),
            "{r:?}"
        );
        let sampling_error = r["ci_method"] != "none";
        let n: usize = r["n_unweighted"].parse().unwrap_or(0);
        if let (Some(e), Some(lo), Some(hi)) =
            (num(r, "estimate"), num(r, "ci_lower"), num(r, "ci_upper"))
        {
            if statistic != "change" {
                assert!(lo >= 0.0, "negative bound: {r:?}");
            }
            if statistic.ends_with("proportion") || statistic == "share" {
                assert!(hi <= 1.0, "{r:?}");
            }
            if statistic != "proportion" {
                // Survey proportions' intervals are dh-survey's (svyciprop); counts and family rows are built here.
                assert!(lo <= e && e <= hi, "estimate outside its interval: {r:?}");
            }
        }
        if r["flag"] == "ok" && sampling_error {
            assert!(n >= 25, "{r:?}");
            if let (Some(e), Some(se)) = (num(r, "estimate"), num(r, "se"))
                && matches!(statistic, "count" | "mean")
            {
                assert!(se <= 0.3 * e.abs(), "RSE above 30% published ok: {r:?}");
            }
        }
    }
    // `accepted_money_images` is asked from age 15: its "14-15" band holds 15-year-olds only.
    let bands: Vec<&str> = rows
        .iter()
        .filter(|r| r["indicator"] == "accepted_money_images" && r["domain"] == "age_band")
        .map(|r| r["domain_value"].as_str())
        .collect();
    assert!(
        !bands.is_empty() && bands.chunks(3).all(|c| c == ["12-13", "15", "16-17"]),
        "{bands:?}"
    );
    assert!(rows.iter().any(|r| r["flags"].contains("unreliable")));
}

fn catalogue() -> dh_indicators::Catalogue {
    let schemas =
        dh_config::load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    dh_indicators::load(&repo().join("pipelines"), &schemas)
        .unwrap_or_else(|e| panic!("{e}"))
        .1
}

#[test]
fn an_undelivered_table_is_absent_from_the_outputs_and_its_indicators_are_not_collected() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let raw = dir.path().join("raw");
    synth(&raw, &["THA"], 3);
    let config = config_dir(dir.path(), "THA", |t| not_delivered(t, "police_cases"));
    // The undelivered table's file is not read (nor hashed): remove it.
    let police = dh_config::load_country(&config, "THA")
        .unwrap_or_else(|e| panic!("{e}"))
        .deliveries["police_cases"]
        .file
        .clone();
    std::fs::remove_file(raw.join("THA").join(police)).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("out");
    let summary = run(&raw, &config, &out, &[]);
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let m = &summary.manifest;
    let tha = &m.countries[0];
    assert_eq!(
        (tha.status.as_str(), tha.not_delivered.clone()),
        ("ok", vec!["police_cases".to_string()])
    );
    assert!(!m.inputs.iter().any(|i| i.table == "police_cases"));
    assert!(!m.outputs.iter().any(|o| o.table == "police_cases"));
    assert!(!out.join("normalised/police_cases").exists());
    assert!(m.inputs.iter().any(|i| i.table == "cybertipline_reports"));
    let page = std::fs::read_to_string(out.join("report/country-THA.html"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        page.contains("Not delivered by the country: police_cases."),
        "the country page says which table was not delivered"
    );
    assert_published_rows_are_defensible(&out);
    let json = std::fs::read_to_string(out.join("manifest.json")).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        json.contains("\"not_delivered\": [\n        \"police_cases\"\n      ]"),
        "{json}"
    );

    let flags = indicator_flags(&out, "THA");
    let cat = catalogue();
    for ind in &cat.families.indicators {
        let rows = &flags[&ind.id];
        if ind.table == "police_cases" {
            assert_eq!(
                rows,
                &[("total".to_string(), "not_collected".to_string())],
                "{}",
                ind.id
            );
        } else if ind.table == "cybertipline_reports" {
            assert!(
                rows.iter().all(|(_, f)| f != "not_collected"),
                "{}: {rows:?}",
                ind.id
            );
        }
    }
    // The survey ran as usual.
    assert!(m.weighting.iter().any(|w| w.country == "THA" && w.n > 0));
    let headline = &cat.indicators[0].id;
    assert!(flags[headline].iter().all(|(_, f)| f != "not_collected"));

    // Children delivered, caregivers not: the caregiver indicators are not_collected, the child's are estimated.
    let dir3 = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = config_dir(dir3.path(), "THA", |t| {
        not_delivered(not_delivered(t, "police_cases"), "caregiver_survey")
    });
    let out = dir3.path().join("out");
    let summary = run(&raw, &config, &out, &[]);
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let w = &summary.manifest.weighting[0];
    assert!(
        w.n > 0 && !w.unweighted_rows.contains_key("caregiver_survey"),
        "{w:?}"
    );
    let flags = indicator_flags(&out, "THA");
    for ind in &cat.indicators {
        let not_collected = flags[&ind.id] == [("total".to_string(), "not_collected".to_string())];
        assert_eq!(not_collected, ind.table == "caregiver_survey", "{}", ind.id);
    }

    // A country that delivered no household survey at all: child and caregiver tables not delivered (one without
    // the other is a configuration error), survey indicators not_collected, the other families estimated.
    let dir2 = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = config_dir(dir2.path(), "THA", |t| {
        let t = not_delivered(t, "police_cases");
        not_delivered(not_delivered(t, "child_survey"), "caregiver_survey")
    });
    let out = dir2.path().join("out");
    let summary = run(&raw, &config, &out, &[]);
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert_eq!(
        summary.manifest.countries[0].not_delivered,
        ["caregiver_survey", "child_survey", "police_cases"].map(String::from)
    );
    assert!(summary.manifest.weighting.is_empty());
    let flags = indicator_flags(&out, "THA");
    for ind in &cat.indicators {
        assert_eq!(
            flags[&ind.id],
            [("total".to_string(), "not_collected".to_string())],
            "{}",
            ind.id
        );
    }
    assert!(
        flags["fw_barrier_stigma"]
            .iter()
            .any(|(_, f)| f.split(';').any(|f| f == "non_representative"))
    );
}

#[test]
fn validate_lists_every_missing_file_at_once_but_not_an_undelivered_table() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let raw = dir.path().join("raw");
    synth(&raw, &["KEN", "THA"], 5);
    let config = config_dir(dir.path(), "THA", |t| not_delivered(t, "icse_connection"));
    std::fs::copy(repo().join("countries/KEN.toml"), config.join("KEN.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let tha = dh_config::load_country(&config, "THA").unwrap_or_else(|e| panic!("{e}"));
    let ken = dh_config::load_country(&config, "KEN").unwrap_or_else(|e| panic!("{e}"));
    let mut removed = Vec::new();
    for (c, tables) in [
        (
            &tha,
            &["caregiver_survey", "police_cases", "icse_connection"][..],
        ),
        (&ken, &["frontline_survey"][..]),
    ] {
        for t in tables {
            let path = raw.join(&c.country.iso3).join(&c.deliveries[*t].file);
            std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if *t != "icse_connection" {
                removed.push(path.display().to_string());
            }
        }
    }
    let report = validate(&raw, &config, &[]);
    let missing: Vec<&str> = report
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Delivery)
        .map(|p| {
            assert_eq!(p.code, "missing_file", "{p}");
            p.file.as_str()
        })
        .collect();
    removed.sort();
    let mut found: Vec<String> = missing.iter().map(|s| s.to_string()).collect();
    found.sort();
    assert_eq!(found, removed, "{:#?}", report.problems);
    let text = report.problems[0].to_string();
    assert!(text.contains("delivered = false"), "{text}");
}

#[test]
fn validate_lists_caregivers_whose_child_row_is_quarantined_with_their_raw_ids() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let raw = dir.path().join("raw");
    synth(&raw, &["THA"], 11);
    let config = repo().join("countries");
    let report = validate(&raw, &config, &["THA"]);
    let tha = dh_config::load_country(&config, "THA").unwrap_or_else(|e| panic!("{e}"));
    let child_file = &tha.deliveries["child_survey"].file;
    let caregiver_file = &tha.deliveries["caregiver_survey"].file;
    let lost: Vec<_> = report
        .problems
        .iter()
        .filter(|p| {
            p.code == dh_pipeline::links::LINKED_ROW_QUARANTINED && &p.file == caregiver_file
        })
        .collect();
    // The same caregivers `dh run` leaves out of the caregiver indicators (manifest weighting `unweighted_rows`).
    let out = dir.path().join("out");
    let summary = run(&raw, &config, &out, &["THA"]);
    let unweighted = summary.manifest.weighting[0].unweighted_rows["caregiver_survey"];
    assert!(
        unweighted > 0,
        "the synthetic data plant quarantined children"
    );
    assert_eq!(lost.len() as u64, unweighted, "{lost:#?}");
    let child_rows: Vec<u64> = report
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Row && &p.file == child_file)
        .map(|p| p.line)
        .collect();
    for p in &lost {
        let text = p.to_string();
        assert_eq!(&p.file, caregiver_file, "{text}");
        assert!(p.line > 0 && !p.value.is_empty(), "{text}");
        assert_eq!(p.column, "HH_ID", "{text}");
        assert!(
            text.contains("`caregiver_id` (CG_ID) `")
                && text.contains("`respondent_id` (RESP_ID) `"),
            "{text}"
        );
        // It names the quarantined child row it points to.
        let target: u64 = text
            .split("points to child_survey row ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no child row in {text}"));
        assert!(child_rows.contains(&target), "{text}");
    }
    // Raw ids stay in `dh validate`: the run's outputs never hold them.
    let manifest =
        std::fs::read_to_string(out.join("manifest.json")).unwrap_or_else(|e| panic!("{e}"));
    for p in &lost {
        assert!(
            !manifest.contains(&format!("\"{}\"", p.value)),
            "{}",
            p.value
        );
    }
}

/// What a reader notices without refusing a file reaches the data manager: `dh validate` lists it as a warning
/// (the exit code is unchanged) and `dh run` records it in the manifest's input entry. An SPSS header that declares
/// 0 cases (older writers do) is such a finding: every case is still read.
#[test]
fn reader_warnings_reach_validate_and_the_manifest() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let raw = tmp.path().join("raw");
    synth(&raw, &["KEN"], 11);
    let config = config_dir(tmp.path(), "KEN", |t| t);
    let child = raw.join("KEN/KE_child_2021.sav");
    let mut bytes = std::fs::read(&child).unwrap_or_else(|e| panic!("{e}"));
    let clean = validate(&raw, &config, &["KEN"]);
    assert_eq!(clean.count_warnings(ProblemKind::Reader), 0);
    // The header's case count (int32 at byte 80) set to 0.
    bytes[80..84].copy_from_slice(&0i32.to_le_bytes());
    std::fs::write(&child, &bytes).unwrap_or_else(|e| panic!("{e}"));

    let report = validate(&raw, &config, &["KEN"]);
    assert_eq!(
        report.rows_checked, clean.rows_checked,
        "every case still read"
    );
    let reader: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.kind == ProblemKind::Reader)
        .collect();
    assert!(
        reader
            .iter()
            .any(|w| w.file.ends_with("KE_child_2021.sav") && w.message.contains('0')),
        "{reader:#?}"
    );
    assert_eq!(
        report.problems.len(),
        clean.problems.len(),
        "a warning is not a problem"
    );

    let out = tmp.path().join("out");
    run(&raw, &config, &out, &["KEN"]);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("manifest.json")).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let inputs = manifest["inputs"].as_array().cloned().unwrap_or_default();
    let entry = inputs
        .iter()
        .find(|i| i["path"].as_str() == Some("KEN/KE_child_2021.sav"))
        .unwrap_or_else(|| panic!("no input entry: {inputs:#?}"));
    assert!(
        entry["warnings"].as_array().is_some_and(|w| !w.is_empty()),
        "{entry:#?}"
    );
    assert!(
        inputs
            .iter()
            .filter(|i| i["path"].as_str() != Some("KEN/KE_child_2021.sav"))
            .all(|i| i.get("warnings").is_none()),
        "no warnings field where there are none"
    );
}
