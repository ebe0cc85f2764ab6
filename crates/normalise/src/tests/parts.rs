//! Tables delivered as several files (`parts`) and constant columns: each file mapped with its own effective
//! delivery, the duplicate and link checks across files, quarantine lines and the ledger naming each file.

use super::*;

/// The child survey as two files: `child_a.csv` as usual, `child_b.csv` without a sex column (`sex` is a constant
/// of the file, `extra` is added to its column mappings).
fn parts_config(constant: &str) -> CountryConfig {
    let text = CONFIG.replace(
        "[deliveries.child_survey]\nfile = \"child.csv\"\nidentifiers = [\"NAME\", \"PHONE\"]\n",
        &format!(
            "[deliveries.child_survey]\nidentifiers = [\"NAME\", \"PHONE\"]\n\
             [[deliveries.child_survey.parts]]\nfile = \"child_a.csv\"\n\
             [[deliveries.child_survey.parts]]\nfile = \"child_b.csv\"\n\
             [deliveries.child_survey.parts.columns]\n\
             sex = {{ constant = \"{constant}\", codes = {{ \"1\" = \"male\", \"2\" = \"female\" }} }}\n"
        ),
    );
    let c: CountryConfig = toml::from_str(&text).unwrap();
    assert_eq!(c.deliveries["child_survey"].parts.len(), 2);
    c
}

const B_HEADER: [&str; 7] = ["ID", "HH", "EA", "WT", "AGE", "Q1", "HRS"];

fn part_b(rows: &[&[&str]]) -> RawTable {
    table("child_b.csv", &B_HEADER, rows)
}

fn run_parts(
    config: &CountryConfig,
    a: RawTable,
    b: RawTable,
    caregiver: RawTable,
) -> CountryOutput {
    let raw: BTreeMap<String, Vec<RawTable>> = BTreeMap::from([
        ("child_survey".to_string(), vec![a, b]),
        ("caregiver_survey".to_string(), vec![caregiver]),
    ]);
    normalise_country(config, &schemas(), &raw, &key()).unwrap()
}

fn caregivers() -> RawTable {
    // G2's household is only in the second file
    table(
        "caregiver.csv",
        &["CG", "HH"],
        &[&["G1", "H1"], &["G2", "H6"]],
    )
}

#[test]
fn two_files_give_the_rows_of_one_and_a_constant_is_translated_like_a_cell() {
    let a = table("child_a.csv", &CHILD_HEADER, &good_child_rows());
    let b = part_b(&[
        &["C5", "H5", "EA3", "1.0", "13", "1", "2"],
        &["C6", "H6", "EA3", "1.0", "16", "2", "4"],
    ]);
    let out = run_parts(&parts_config("2"), a, b, caregivers());
    let child = &out.tables["child_survey"];
    assert_eq!((child.rows_read, child.rows_written), (6, 6));
    assert_eq!(child.source_file, "child_a.csv, child_b.csv");
    assert_eq!(
        child
            .files
            .iter()
            .map(|f| (f.file.as_str(), f.rows_read, f.rows_written))
            .collect::<Vec<_>>(),
        vec![("child_a.csv", 4, 4), ("child_b.csv", 2, 2)]
    );
    // the same rows delivered as one file with a sex column give the same batch
    let mut rows = good_child_rows();
    rows.push(&["C5", "H5", "EA3", "1.0", "2", "13", "1", "2"]);
    rows.push(&["C6", "H6", "EA3", "1.0", "2", "16", "2", "4"]);
    let whole = run(table("child.csv", &CHILD_HEADER, &rows), caregivers());
    assert_eq!(child.batch, whole.tables["child_survey"].batch);
    // the caregiver whose household is in the second file links
    assert_eq!(out.tables["caregiver_survey"].rows_quarantined, 0);
}

#[test]
fn duplicates_across_files_are_found_and_lines_name_each_file() {
    let a = table("child_a.csv", &CHILD_HEADER, &good_child_rows());
    let b = part_b(&[&["C1", "H5", "EA3", "1.0", "13", "1", "2"]]);
    let out = run_parts(&parts_config("2"), a, b, caregivers());
    let child = &out.tables["child_survey"];
    assert_eq!(child.rows_quarantined, 2);
    let q = &child.quarantine;
    let files = q.column_by_name("source_file").unwrap();
    let files = arrow::compute::cast(files, &DataType::Utf8).unwrap();
    let files = files.as_string::<i32>();
    let reasons = q.column_by_name("reason").unwrap();
    let reasons = arrow::compute::cast(reasons, &DataType::Utf8).unwrap();
    let reasons = reasons.as_string::<i32>();
    assert_eq!(q.num_rows(), 2);
    assert_eq!(
        (files.value(0), files.value(1)),
        ("child_a.csv", "child_b.csv")
    );
    assert!(
        reasons
            .value(0)
            .contains("rows child_a.csv row 1, child_b.csv row 1"),
        "{}",
        reasons.value(0)
    );
    assert_eq!(
        child
            .files
            .iter()
            .map(|f| f.rows_quarantined)
            .collect::<Vec<_>>(),
        vec![1, 1]
    );
}

#[test]
fn a_constant_that_is_no_code_is_quarantined_in_every_row_like_a_delivered_cell() {
    let a = table("child_a.csv", &CHILD_HEADER, &good_child_rows());
    let b = part_b(&[
        &["C5", "H5", "EA3", "1.0", "13", "1", "2"],
        &["C6", "H6", "EA3", "1.0", "16", "2", "4"],
    ]);
    let out = run_parts(&parts_config("7"), a, b, caregivers());
    let child = &out.tables["child_survey"];
    assert_eq!(child.files[1].rows_quarantined, 2);
    assert_eq!(
        child.problems_by_reason.get(&ReasonCode::UnknownCode),
        Some(&2)
    );
}
