//! Country onboarding end to end with the real binary: `dh synth` writes Thailand's deliveries, they are copied
//! to a folder for a new country (ARM, Armenia, a Phase 2 country), `dh country new ARM --from ...` writes a
//! skeleton into a copy of countries/, and filling its TODOs from Thailand's mapping makes
//! `dh validate --countries ARM` report exactly what it reports for Thailand on the same files.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Output};

use common::{describe, s, workspace};

/// Copies every key of `from` that `into` lacks, recursing into tables (the skeleton's own values win).
fn fill_missing(into: &mut toml::Table, from: &toml::Table) {
    for (key, value) in from {
        match (into.get_mut(key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(f)) => fill_missing(inner, f),
            (Some(_), _) => {}
            (None, v) => {
                into.insert(key.clone(), v.clone());
            }
        }
    }
}

/// The problem lines of a `dh validate` run with the country prefix removed and key values (keyed pseudonyms,
/// which differ by country) replaced by `<pseudonym>`.
fn problems(out: &Output, iso3: &str) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{iso3}: ")))
        .map(|l| {
            l.split('`')
                .map(|part| {
                    if part.len() == 64 && part.bytes().all(|b| b.is_ascii_hexdigit()) {
                        "<pseudonym>"
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("`")
        })
        .collect()
}

#[test]
fn onboarding_a_new_country_from_a_synthetic_delivery_validates_clean_once_filled() {
    let root = workspace();
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    let out = common::dh(None, &["synth", "--out", s(&raw), "--countries", "THA"]);
    assert!(out.status.success(), "{}", describe(&out));

    // Armenia's delivery folder: Thailand's files under a new code.
    let arm_raw = raw.join("ARM");
    std::fs::create_dir_all(&arm_raw).expect("mkdir");
    let mut delivered = Vec::new();
    for entry in std::fs::read_dir(raw.join("THA")).expect("THA deliveries") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_owned();
        std::fs::copy(&path, arm_raw.join(&name)).expect("copy");
        delivered.push(name.to_string_lossy().to_string());
    }
    let config = tmp.path().join("countries");
    std::fs::create_dir_all(&config).expect("mkdir");
    for f in ["_defaults.toml", "THA.toml"] {
        std::fs::copy(root.join("countries").join(f), config.join(f)).expect("copy config");
    }
    let schemas = root.join("schemas");
    let new = |force: bool| {
        let mut args = vec![
            "country",
            "new",
            "ARM",
            "--from",
            s(&arm_raw),
            "--config-dir",
            s(&config),
            "--schema-dir",
            s(&schemas),
        ];
        if force {
            args.push("--force");
        }
        common::dh(None, &args)
    };
    let out = new(false);
    assert!(out.status.success(), "{}", describe(&out));
    let skeleton_path = config.join("ARM.toml");
    let skeleton = std::fs::read_to_string(&skeleton_path).expect("skeleton written");

    // Every delivery file is named, every variable listed, proposals made and the rest marked TODO.
    for file in &delivered {
        assert!(
            skeleton.contains(file.as_str()),
            "{file} not in the skeleton"
        );
    }
    for variable in [
        "Q02_OFFER_IMG",
        "Q77_SAFETY_INFO",
        "Q12_CG_SAFETY_INFO",
        "RESP_NAME",
    ] {
        assert!(skeleton.contains(variable), "{variable} not listed");
    }
    assert!(skeleton.contains("respondent_id = { source = \"RESP_ID\" }"));
    assert!(skeleton.contains("psu = { source = \"EA\" }"));
    assert!(skeleton.contains("# TODO offered_money_images = "));
    assert!(skeleton.contains("# TODO name = "));
    // No value of a direct identifier reaches the config file.
    let child = std::fs::read_to_string(arm_raw.join("TH_DH_child_final.csv")).expect("child csv");
    let mut rows = csv::Reader::from_reader(child.as_bytes());
    let headers = rows.headers().expect("header").clone();
    let name_col = headers
        .iter()
        .position(|h| h == "RESP_NAME")
        .expect("RESP_NAME");
    for record in rows.records().take(50) {
        let record = record.expect("record");
        let name = &record[name_col];
        assert!(
            name.is_empty() || !skeleton.contains(name),
            "identifier `{name}` leaked"
        );
    }

    // Refuses to overwrite without --force; --force rewrites the same bytes.
    std::fs::write(&skeleton_path, "# edited\n").expect("edit");
    let out = new(false);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert_eq!(
        std::fs::read_to_string(&skeleton_path).expect("read"),
        "# edited\n"
    );
    let out = new(true);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        std::fs::read_to_string(&skeleton_path).expect("read"),
        skeleton
    );

    // The skeleton loads as TOML; validate lists what is left (the country keys and population) and fails.
    let validate = |iso3: &str, config_only: bool| {
        let mut args = vec![
            "validate",
            "--countries",
            iso3,
            "--config-dir",
            s(&config),
            "--schema-dir",
            s(&schemas),
            "--raw-dir",
            s(&raw),
        ];
        if config_only {
            args.push("--config-only");
        }
        common::dh(None, &args)
    };
    let out = validate("ARM", true);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("population") && text.contains("fieldwork_start"),
        "{text}"
    );

    // Fill the TODOs from Thailand's mapping, keeping every proposal; each proposal must agree with Thailand.
    let mut filled: toml::Table = toml::from_str(&skeleton).expect("skeleton is TOML");
    let tha: toml::Table =
        toml::from_str(&std::fs::read_to_string(config.join("THA.toml")).expect("THA.toml"))
            .expect("THA is TOML");
    let tables = filled
        .get("deliveries")
        .and_then(|d| d.as_table())
        .expect("deliveries in the skeleton")
        .clone();
    for (table, delivery) in &tables {
        let proposed = delivery.get("columns").and_then(|c| c.as_table());
        for (column, mapping) in proposed.into_iter().flatten() {
            let tha_source = tha["deliveries"][table]["columns"]
                .get(column)
                .and_then(|m| m.get("source"));
            assert_eq!(mapping.get("source"), tha_source, "{table}.{column}");
        }
    }
    let mut from_tha = tha.clone();
    from_tha.remove("synth");
    if let Some(toml::Value::Table(country)) = from_tha.get_mut("country") {
        country.insert("name".into(), "Armenia".into());
        country.insert("region".into(), "Europe and Central Asia".into());
    }
    fill_missing(&mut filled, &from_tha);
    // A table Thailand delivers in several files (one per organisation) is named by its parts: the data manager
    // replaces the skeleton's one `file` (and its TODO pointing at `[[deliveries.<table>.parts]]`) by them.
    for (table, delivery) in tha["deliveries"].as_table().expect("deliveries") {
        if delivery.get("parts").is_some()
            && let Some(toml::Value::Table(d)) = filled
                .get_mut("deliveries")
                .and_then(|d| d.get_mut(table.as_str()))
        {
            d.remove("file");
        }
    }
    std::fs::write(&skeleton_path, toml::to_string(&filled).expect("serialise")).expect("write");

    let out = validate("ARM", true);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // With the deliveries: no configuration or delivery problem, and exactly Thailand's row problems (the faults
    // `dh synth` injects on purpose, listed in injected.json).
    let arm = validate("ARM", false);
    let tha = validate("THA", false);
    let summary = String::from_utf8_lossy(&arm.stdout);
    assert!(
        summary.contains(": 0 configuration, 0 delivery,"),
        "{}",
        describe(&arm)
    );
    let arm_problems = problems(&arm, "ARM");
    assert!(!arm_problems.is_empty(), "{}", describe(&arm));
    assert_eq!(arm_problems, problems(&tha, "THA"));
    assert_eq!(arm.status.code(), tha.status.code());

    // The new country runs end to end: its child survey is published as a Parquet partition.
    let out_dir = tmp.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_dh"))
        .args([
            "run",
            "--countries",
            "ARM",
            "--config-dir",
            s(&config),
            "--schema-dir",
            s(&schemas),
            "--raw-dir",
            s(&raw),
            "--out-dir",
            s(&out_dir),
            "--quiet",
        ])
        .current_dir(workspace())
        .env("DH_PSEUDONYM_KEY", "onboarding-test-key-0123456789abcdef")
        .output()
        .expect("run dh");
    assert_eq!(run.status.code(), Some(0), "{}", describe(&run));
    let partition = out_dir.join("normalised/child_survey/country=ARM/part-0.parquet");
    assert!(partition.is_file(), "{}", describe(&run));
}

/// A delivery whose file name and header cells carry newlines and TOML table headers, and a small register of
/// participants under harmless column names: the skeleton parses with exactly the expected tables, and no name,
/// phone number or e-mail address of the register is written into it.
#[test]
fn hostile_file_names_and_small_registers_leak_nothing_into_the_skeleton() {
    let root = workspace();
    let tmp = tempfile::tempdir().expect("tempdir");
    let delivery = tmp.path().join("raw/XXX");
    std::fs::create_dir_all(&delivery).expect("mkdir");
    let names = [
        "Somchai Jaidee",
        "Baré Pakiso",
        "Mene Réneré",
        "Doki Ñarémü",
        "Kiwa Visaha",
        "Müjo Ravime",
        "Teña Domito",
        "Basa Ñadolo",
    ];
    let mut register = String::from(
        "interview_code,WHO,CONTACT,MAIL,group,date,region,\"mode\n[deliveries.evil]\nx = 1\"\n",
    );
    for (i, name) in names.iter().enumerate() {
        register.push_str(&format!(
            "XXX-INT-{i:03},{name},08{:08},p{i}@example.org,GOV,2020-11-{:02},{},F2F\n",
            99990001 + i,
            10 + i,
            if i % 2 == 0 { "North" } else { "South" }
        ));
    }
    let hostile_name = "interview_register\n[deliveries.injected]\nfile = \"x\"\n#.csv";
    std::fs::write(delivery.join(hostile_name), &register).expect("write register");
    let config = tmp.path().join("countries");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::copy(
        root.join("countries/_defaults.toml"),
        config.join("_defaults.toml"),
    )
    .expect("copy defaults");
    let out = common::dh(
        None,
        &[
            "country",
            "new",
            "XXX",
            "--from",
            s(&delivery),
            "--config-dir",
            s(&config),
            "--schema-dir",
            s(&root.join("schemas")),
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let skeleton = std::fs::read_to_string(config.join("XXX.toml")).expect("skeleton written");
    let parsed: toml::Table = toml::from_str(&skeleton).expect("skeleton is TOML");
    let top: Vec<&str> = parsed.keys().map(String::as_str).collect();
    assert_eq!(top, ["country", "deliveries"], "{skeleton}");
    let deliveries: Vec<&str> = parsed["deliveries"]
        .as_table()
        .expect("deliveries")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(deliveries, ["interview_register"], "{skeleton}");
    assert_eq!(
        parsed["deliveries"]["interview_register"]["file"].as_str(),
        Some(hostile_name),
        "the file name round-trips through the TOML string"
    );
    for name in names {
        assert!(
            !skeleton.contains(name),
            "name `{name}` written:\n{skeleton}"
        );
    }
    assert!(
        !skeleton.contains("@example.org") && !skeleton.contains("0899990001"),
        "{skeleton}"
    );
    // The repeated codes of the register are still listed as examples.
    assert!(skeleton.contains("\"North\", \"South\""), "{skeleton}");
}
