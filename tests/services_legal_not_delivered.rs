//! Issue 16: a country that did not deliver one of the new tables still runs. On a copy of `countries/`, Ethiopia
//! marks its legal review and Tanzania its service contacts `delivered = false`: `dh synth` writes no file for them,
//! `dh run` succeeds, the manifest lists each under the country's `not_delivered`, and the country's other new
//! table is normalised as usual (the harmonised tables hold rows of the other country only).

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;

use common::{describe, dh, s, workspace};
use serde_json::Value;

const KEY: &str = "services-legal-not-delivered-key-0123456789";

/// Inserts `delivered = false` right under the `[deliveries.<table>]` header of a country file.
fn not_delivered(config_dir: &Path, iso3: &str, table: &str) {
    let path = config_dir.join(format!("{iso3}.toml"));
    let text = fs::read_to_string(&path).expect("country file");
    let header = format!("[deliveries.{table}]\n");
    assert!(text.contains(&header), "{iso3}: no {header}");
    fs::write(
        &path,
        text.replacen(&header, &format!("{header}delivered = false\n"), 1),
    )
    .expect("write");
}

/// The countries that have a partition in a harmonised table's folder.
fn partitions(out: &Path, table: &str) -> Vec<String> {
    let mut found: Vec<String> = fs::read_dir(out.join("normalised").join(table))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()?
                        .strip_prefix("country=")
                        .map(String::from)
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[test]
fn a_country_without_its_legal_review_or_service_contacts_still_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config_dir = tmp.path().join("countries");
    fs::create_dir_all(&config_dir).expect("config dir");
    for entry in fs::read_dir(workspace().join("countries")).expect("countries") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            fs::copy(&path, config_dir.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    not_delivered(&config_dir, "ETH", "legal_provisions");
    not_delivered(&config_dir, "TZA", "service_contacts");
    let raw = tmp.path().join("raw");
    let out = tmp.path().join("out");
    let synth = dh(
        None,
        &[
            "synth",
            "--out",
            s(&raw),
            "--seed",
            "3",
            "--countries",
            "ETH,TZA",
            "--config-dir",
            s(&config_dir),
        ],
    );
    assert!(synth.status.success(), "dh synth: {}", describe(&synth));
    assert!(!raw.join("ETH/ETH_legal_review.csv").exists());
    assert!(raw.join("ETH/ETH_service_contacts_2017_2019.csv").exists());
    assert!(!raw.join("TZA/TZA_service_contacts.csv").exists());
    assert!(raw.join("TZA/TZA_legal_review.csv").exists());

    let run = dh(
        Some(KEY),
        &[
            "run",
            "--raw-dir",
            s(&raw),
            "--out-dir",
            s(&out),
            "--config-dir",
            s(&config_dir),
            "--countries",
            "ETH,TZA",
            "--quiet",
        ],
    );
    assert!(run.status.success(), "dh run: {}", describe(&run));
    let manifest: Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("manifest parses");
    let listed = |iso3: &str| manifest.to_string().contains(iso3);
    assert!(listed("ETH") && listed("TZA"));
    let text = manifest.to_string();
    assert!(
        text.contains(r#""not_delivered":["legal_provisions"]"#)
            && text.contains(r#""not_delivered":["service_contacts"]"#),
        "{text}"
    );
    assert_eq!(
        partitions(&out, "legal_provisions"),
        vec!["TZA".to_string()]
    );
    assert_eq!(
        partitions(&out, "service_contacts"),
        vec!["ETH".to_string()]
    );
}
