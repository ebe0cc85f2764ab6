//! Both writers read back by the project's own readers (`dh-ingest`): every storage type, extended missing values
//! with labels, SPSS user-missing codes, dates, text and variable labels; every compression of `.sav`.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use dh_config::country::{ColumnMap, Delivery, Format};
use dh_statfile::{
    Column, LabelledTable, MissingCode, Num, SavCompression, Storage, UserMissing, ValueKey, Values,
};

fn table() -> LabelledTable {
    let numeric = |name: &str, storage: Storage, cells: Vec<Num>| {
        Column::new(name, Values::Numeric { storage, cells }).with_label(format!("{name} label"))
    };
    let mut coded = numeric(
        "answer",
        Storage::Byte,
        vec![
            Num::Value(1.0),
            Num::Tagged(0),
            Num::Value(2.0),
            Num::Tagged(1),
        ],
    );
    coded.value_labels = vec![
        (ValueKey::Code(1.0), "yes".into()),
        (ValueKey::Code(2.0), "no".into()),
        (ValueKey::Missing(0), "dont_know".into()),
        (ValueKey::Missing(1), "refused".into()),
    ];
    coded.user_missing = UserMissing::Range { lo: -2.0, hi: -1.0 };
    LabelledTable {
        label: "readback".into(),
        columns: vec![
            Column::new(
                "country",
                Values::Text(vec![
                    "KEN".into(),
                    "THA".into(),
                    "".into(),
                    "Ünïcode".into(),
                ]),
            ),
            coded,
            numeric(
                "small",
                Storage::Int,
                vec![
                    Num::Value(-32_767.0),
                    Num::Value(32_740.0),
                    Num::System,
                    Num::Tagged(1),
                ],
            ),
            numeric(
                "big",
                Storage::Long,
                vec![
                    Num::Value(2_000_000_000.0),
                    Num::Value(-5.0),
                    Num::Value(0.0),
                    Num::System,
                ],
            ),
            numeric(
                "weight",
                Storage::Double,
                vec![
                    Num::Value(186.85),
                    Num::Value(0.5),
                    Num::Tagged(0),
                    Num::System,
                ],
            ),
            Column::new(
                "when",
                Values::Date(vec![Some(18_714), None, Some(0), Some(-3_653)]),
            ),
        ],
        missing: vec![
            MissingCode {
                spss_value: -1.0,
                label: "dont_know".into(),
            },
            MissingCode {
                spss_value: -2.0,
                label: "refused".into(),
            },
        ],
    }
}

fn read(path: &Path, format: Format, t: &LabelledTable) -> dh_ingest::RawTable {
    let mut delivery = Delivery::new(path.file_name().unwrap().to_string_lossy().as_ref(), format);
    for c in &t.columns {
        delivery.columns.insert(
            c.name.clone(),
            ColumnMap {
                source: Some(c.name.clone()),
                ..Default::default()
            },
        );
    }
    dh_ingest::read_delivery(path, &delivery).unwrap_or_else(|e| panic!("{e}"))
}

fn cells(raw: &dh_ingest::RawTable, name: &str) -> Vec<String> {
    raw.column(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .iter()
        .map(str::to_string)
        .collect()
}

#[test]
fn dta_reads_back() {
    let t = table();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.dta");
    let bytes = dh_statfile::dta::encode(&t).unwrap();
    assert_eq!(
        bytes,
        dh_statfile::dta::encode(&t).unwrap(),
        "deterministic"
    );
    std::fs::write(&path, bytes).unwrap();
    let raw = read(&path, Format::Dta, &t);
    assert_eq!(cells(&raw, "country"), ["KEN", "THA", "", "Ünïcode"]);
    assert_eq!(cells(&raw, "answer"), ["1", ".a", "2", ".b"]);
    assert_eq!(cells(&raw, "small"), ["-32767", "32740", "", ".b"]);
    assert_eq!(cells(&raw, "big"), ["2000000000", "-5", "0", ""]);
    assert_eq!(cells(&raw, "weight"), ["186.85", "0.5", ".a", ""]);
    assert_eq!(
        cells(&raw, "when"),
        ["2021-03-28", "", "1970-01-01", "1960-01-01"]
    );
    let labels = &raw.column("answer").unwrap().labels;
    assert_eq!(labels.variable_label.as_deref(), Some("answer label"));
    assert_eq!(labels.label_of("1"), Some("yes"));
    assert_eq!(labels.label_of(".a"), Some("dont_know"));
    assert_eq!(labels.label_of(".b"), Some("refused"));
    assert!(labels.is_declared_missing(".a") && labels.is_declared_missing(".b"));
}

#[test]
fn sav_reads_back_in_every_compression() {
    let t = table();
    let dir = tempfile::tempdir().unwrap();
    for compression in [
        SavCompression::Bytecode,
        SavCompression::Zlib,
        SavCompression::None,
    ] {
        let path = dir.path().join(format!("t-{compression:?}.sav"));
        let bytes = dh_statfile::sav::encode(&t, compression).unwrap();
        assert_eq!(
            bytes,
            dh_statfile::sav::encode(&t, compression).unwrap(),
            "deterministic"
        );
        std::fs::write(&path, bytes).unwrap();
        let raw = read(&path, Format::Sav, &t);
        assert_eq!(
            cells(&raw, "country"),
            ["KEN", "THA", "", "Ünïcode"],
            "{compression:?}"
        );
        assert_eq!(
            cells(&raw, "answer"),
            ["1", "-1", "2", "-2"],
            "{compression:?}"
        );
        assert_eq!(
            cells(&raw, "small"),
            ["-32767", "32740", "", "-2"],
            "{compression:?}"
        );
        assert_eq!(
            cells(&raw, "weight"),
            ["186.85", "0.5", "-1", ""],
            "{compression:?}"
        );
        assert_eq!(
            cells(&raw, "when"),
            ["2021-03-28", "", "1970-01-01", "1960-01-01"],
            "{compression:?}"
        );
        let labels = &raw.column("answer").unwrap().labels;
        assert_eq!(labels.variable_label.as_deref(), Some("answer label"));
        assert_eq!(labels.label_of("-1"), Some("dont_know"));
        assert_eq!(labels.label_of("2"), Some("no"));
        assert!(labels.is_declared_missing("-1") && labels.is_declared_missing("-2"));
        assert!(!labels.is_declared_missing("1"));
    }
}

#[test]
fn sav_dates_may_use_edate10() {
    let mut t = table();
    t.columns[5].spss_format = Some("EDATE10".into());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edate.sav");
    let bytes = dh_statfile::sav::encode(&t, SavCompression::Bytecode).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let meta = ambers::read_sav_metadata(&path).unwrap();
    assert_eq!(meta.format("when"), Some("EDATE10"));
    let raw = read(&path, Format::Sav, &t);
    assert_eq!(
        cells(&raw, "when"),
        ["2021-03-28", "", "1970-01-01", "1960-01-01"]
    );
}

#[test]
fn sav_measurement_level_is_ordinal_for_ordered_codes_and_nominal_otherwise() {
    let mut t = table();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("measure.sav");
    for (ordinal, expected) in [
        (false, ambers::Measure::Nominal),
        (true, ambers::Measure::Ordinal),
    ] {
        t.columns[1].ordinal = ordinal;
        let bytes = dh_statfile::sav::encode(&t, SavCompression::Bytecode).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let meta = ambers::read_sav_metadata(&path).unwrap();
        assert_eq!(meta.variable_measures.get("answer"), Some(&expected));
    }
}
