//! `dh_estimate::estimate` on the oracle's CSVs, for key values of the oracle README and the error
//! paths (missing values, unknown columns, lonely PSUs), without going through the binary.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use dh_estimate::request::{Analysis, DesignOptions, EstimateRequest, Statistic, StatisticOptions};
use dh_estimate::{EstimateError, estimate};

fn oracle(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../survey/tests/oracle")
        .join(file)
}

fn request(file: &str, design: DesignOptions, stat: Statistic, var: &str) -> EstimateRequest {
    EstimateRequest {
        data: oracle(file),
        design,
        replicates: None,
        calibration: None,
        analyses: vec![Analysis {
            statistic: StatisticOptions {
                stat,
                vars: vec![var.to_string()],
                ..StatisticOptions::default()
            },
            ..Analysis::default()
        }],
    }
}

fn dstrat() -> DesignOptions {
    DesignOptions {
        strata: Some("stype".into()),
        fpc: vec!["fpc".into()],
        weights: Some("pw".into()),
        ..DesignOptions::default()
    }
}

fn dclus1() -> DesignOptions {
    DesignOptions {
        ids: vec!["dnum".into()],
        fpc: vec!["fpc".into()],
        weights: Some("pw".into()),
        ..DesignOptions::default()
    }
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn stratified_mean_matches_r() {
    let report = estimate(&request("apistrat.csv", dstrat(), Statistic::Mean, "api00")).unwrap();
    assert_eq!(report.design.n_rows, 200);
    assert_eq!(report.design.n_strata, Some(3));
    assert_eq!(report.design.n_psu, Some(200));
    assert_eq!(report.design.degf, 197);
    let e = &report.estimates[0];
    assert_eq!(e.name, "api00");
    assert!(rel(e.estimate, 662.2873631593208) < 1e-12);
    assert!(rel(e.se, 9.408940802784583) < 1e-9);
    assert_eq!(e.n_unweighted, 200);
}

#[test]
fn cluster_factor_mean_and_by_labels() {
    let report = estimate(&request("apiclus1.csv", dclus1(), Statistic::Mean, "stype")).unwrap();
    let names: Vec<&str> = report.estimates.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["stypeE", "stypeH", "stypeM"]);
    assert!(rel(report.estimates[0].estimate, 0.7868852459016393) < 1e-12);
    assert!(rel(report.estimates[0].se, 0.0463365536499119) < 1e-9);

    let mut r = request("apiclus1.csv", dclus1(), Statistic::Mean, "api00");
    r.analyses[0].by = vec!["stype".into(), "awards".into()];
    let report = estimate(&r).unwrap();
    let names: Vec<&str> = report.estimates.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["E.No", "H.No", "M.No", "E.Yes", "H.Yes", "M.Yes"]
    );
    let d = report.estimates[3].domain.as_ref().unwrap();
    assert_eq!(
        d.0,
        vec![
            ("stype".to_string(), "E".to_string()),
            ("awards".to_string(), "Yes".to_string())
        ]
    );
}

#[test]
fn missing_values_need_na_rm() {
    let design = DesignOptions {
        ids: vec!["dnum".into(), "snum".into()],
        fpc: vec!["fpc1".into(), "fpc2".into()],
        ..DesignOptions::default()
    };
    let mut r = request("apiclus2.csv", design, Statistic::Total, "enroll");
    let err = estimate(&r).unwrap_err().to_string();
    assert!(err.contains("6 missing") && err.contains("enroll"), "{err}");
    r.analyses[0].statistic.na_rm = true;
    let report = estimate(&r).unwrap();
    assert_eq!(report.estimates[0].n_unweighted, 120);
}

#[test]
fn unknown_column_names_flag_and_lonely_psu_names_stratum() {
    let mut d = dclus1();
    d.strata = Some("nope".into());
    let err = estimate(&request("apiclus1.csv", d, Statistic::Mean, "api00")).unwrap_err();
    assert!(
        matches!(&err, EstimateError::ColumnNotFound { flag, column, .. } if flag == "--strata" && column == "nope"),
        "{err}"
    );
    let design = DesignOptions {
        ids: vec!["dnum".into()],
        strata: Some("stype".into()),
        weights: Some("pw".into()),
        ..DesignOptions::default()
    };
    // apiclus1 districts sit in several school types: not nested without --nest
    let err = estimate(&request("apiclus1.csv", design, Statistic::Mean, "api00")).unwrap_err();
    assert!(err.to_string().contains("nest"), "{err}");
}

/// The same data as Parquet (numbers as Float64/Int64, text as Utf8) gives the same report.
#[test]
fn parquet_input_equals_csv_input() {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use dh_estimate::Column;

    let csv = oracle("apistrat.csv");
    let names: Vec<String> = ["stype", "pw", "fpc", "api00", "enroll"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let table = dh_estimate::read_table(&csv, &names).unwrap();
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, column) in table.names.iter().zip(&table.columns) {
        match column {
            Column::Numeric(v) if name == "api00" => {
                fields.push(Field::new(name, DataType::Int64, true));
                arrays.push(Arc::new(Int64Array::from_iter(
                    v.iter().map(|x| (!x.is_nan()).then_some(*x as i64)),
                )));
            }
            Column::Numeric(v) => {
                fields.push(Field::new(name, DataType::Float64, true));
                arrays.push(Arc::new(Float64Array::from_iter(
                    v.iter().map(|x| (!x.is_nan()).then_some(*x)),
                )));
            }
            Column::Categorical(c) => {
                fields.push(Field::new(name, DataType::Utf8, true));
                arrays.push(Arc::new(StringArray::from_iter(
                    (0..c.codes.len()).map(|i| c.label(i)),
                )));
            }
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("apistrat.parquet");
    let file = std::fs::File::create(&parquet).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();

    for (stat, var) in [(Statistic::Mean, "api00"), (Statistic::Total, "enroll")] {
        let mut from_csv = request("apistrat.csv", dstrat(), stat, var);
        from_csv.analyses[0].by = vec!["stype".into()];
        from_csv.analyses[0].statistic.na_rm = true;
        let mut from_parquet = from_csv.clone();
        from_parquet.data = parquet.clone();
        assert_eq!(
            estimate(&from_csv).unwrap(),
            estimate(&from_parquet).unwrap()
        );
    }
}

#[test]
fn a_text_value_in_a_numeric_role_is_named_with_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.csv");
    std::fs::write(&path, "psu,w,y\n1,2.5,3\n2,heavy,4\n3,1,5\n").unwrap();
    let mut r = request(
        "unused.csv",
        DesignOptions {
            ids: vec!["psu".into()],
            weights: Some("w".into()),
            ..DesignOptions::default()
        },
        Statistic::Mean,
        "y",
    );
    r.data = path;
    let err = estimate(&r).unwrap_err().to_string();
    assert_eq!(
        err,
        "--weights: column `w` must be numeric, but holds text such as `heavy` (data row 2)"
    );
}

/// A calibrated replicate design keeps the degrees of freedom of the design it was calibrated from, as R:
/// `postStratify(as.svrepdesign(dclus1, type="JK1"), ~stype, ...)$degf` is 14 (R 4.2.2 / survey 4.1-1), and the
/// estimate is R's (642.31078821158223, see crates/survey/tests/calibration_weights.rs).
#[test]
fn calibrated_replicate_design_keeps_its_degrees_of_freedom() {
    use dh_estimate::request::{
        CalibrationMethod, CalibrationOptions, ReplicateKind, ReplicateOptions,
    };
    let dir = tempfile::tempdir().unwrap();
    let population = dir.path().join("population.json");
    std::fs::write(
        &population,
        r#"[{"variable": "stype", "levels": ["E", "H", "M"], "totals": [4421, 755, 1018]}]"#,
    )
    .unwrap();
    let mut r = request("apiclus1.csv", dclus1(), Statistic::Mean, "api00");
    r.replicates = Some(ReplicateOptions::Convert {
        kind: ReplicateKind::Jk1,
        fay_rho: None,
        mse: false,
        seed: None,
        n_replicates: None,
    });
    r.calibration = Some(CalibrationOptions {
        method: CalibrationMethod::PostStratify,
        population,
    });
    let report = estimate(&r).unwrap();
    assert_eq!(report.design.degf, 14);
    let e = &report.estimates[0];
    assert_eq!(e.df, Some(14.0));
    assert!(
        rel(e.estimate, 642.310_788_211_582_2) < 1e-12,
        "{}",
        e.estimate
    );
}
