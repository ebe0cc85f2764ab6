//! Normalising a table in batches (first pass: key sets; second pass: one batch at a time) gives the rows, the
//! quarantine lines and the counts of normalising it whole, including duplicate ids and links whose rows fall in
//! different batches.

use arrow::compute::concat_batches;

use super::*;
use crate::checks::{ReferencedKeyCollector, TableKeyCollector, link_sources};

/// Normalises every table of `raw` in slices of `batch_rows` rows, the way `dh run` does for a large delivery,
/// and puts the batches of each table back together.
fn run_in_batches(raw: &BTreeMap<String, RawTable>, batch_rows: usize) -> CountryOutput {
    let config = config();
    let schemas = schemas();
    let key = key();
    let hasher = KeyHasher::new(&key);
    let slices = |t: &RawTable| -> Vec<RawTable> {
        (0..t.num_rows())
            .step_by(batch_rows)
            .map(|s| t.slice(s, s + batch_rows, s == 0))
            .collect()
    };
    let ctx = |table: &'static str| PlanContext {
        iso3: "TST",
        config_file: "TST.toml".into(),
        table,
    };
    // first pass over every table
    let mut referenced = BTreeMap::new();
    let mut plans = BTreeMap::new();
    let mut keys = BTreeMap::new();
    for (table, delivery) in &config.deliveries {
        let name: &'static str = if table == "child_survey" {
            "child_survey"
        } else {
            "caregiver_survey"
        };
        let schema = schemas.get(table).unwrap();
        let batches = slices(&raw[table]);
        let plan = plan::plan_table(&ctx(name), schema, delivery, &batches[0], &key).unwrap();
        let mut collector = TableKeyCollector::new(schema, &plan, hasher);
        let sources = link_sources(
            table,
            delivery,
            config.deliveries.keys().filter_map(|t| schemas.get(t)),
        );
        let mut ref_collector = sources.map(|s| ReferencedKeyCollector::new(s, hasher));
        for b in &batches {
            collector.add_batch(&plan, b);
            if let Some(c) = ref_collector.as_mut() {
                c.add_batch(b);
            }
        }
        if let Some(c) = ref_collector {
            referenced.insert(table.clone(), c.finish());
        }
        keys.insert(table.clone(), collector.finish());
        plans.insert(table.clone(), plan);
    }
    // second pass
    let mut tables = BTreeMap::new();
    for (table, delivery) in &config.deliveries {
        let name: &'static str = if table == "child_survey" {
            "child_survey"
        } else {
            "caregiver_survey"
        };
        let schema = schemas.get(table).unwrap();
        let mut outputs = Vec::new();
        for (i, b) in slices(&raw[table]).iter().enumerate() {
            let context = BatchContext {
                plan: &plans[table],
                keys: &keys[table],
                content_checks: i == 0,
            };
            let out = normalise_batch(&ctx(name), schema, delivery, b, &context, |r: &str| {
                Some(checks::Referenced {
                    keys: referenced.get(r)?,
                    delivery: config.deliveries.get(r)?,
                })
            })
            .unwrap();
            outputs.push(out);
        }
        let first = outputs[0].clone();
        let batch =
            concat_batches(&first.batch.schema(), outputs.iter().map(|o| &o.batch)).unwrap();
        let quarantine = concat_batches(
            &first.quarantine.schema(),
            outputs.iter().map(|o| &o.quarantine),
        )
        .unwrap();
        let mut findings = Vec::new();
        let mut by_reason = BTreeMap::new();
        for o in &outputs {
            merge_universe_findings(schema, &mut findings, o.universe_findings.clone());
            for (code, n) in &o.problems_by_reason {
                *by_reason.entry(*code).or_insert(0) += n;
            }
        }
        tables.insert(
            table.clone(),
            TableOutput {
                table: table.clone(),
                source_file: first.source_file.clone(),
                batch,
                quarantine,
                rows_read: outputs.iter().map(|o| o.rows_read).sum(),
                rows_written: outputs.iter().map(|o| o.rows_written).sum(),
                rows_quarantined: outputs.iter().map(|o| o.rows_quarantined).sum(),
                problems_by_reason: by_reason,
                raw_ids: outputs.iter().flat_map(|o| o.raw_ids.clone()).collect(),
                universe_findings: findings,
                files: vec![crate::FileLedger {
                    file: first.source_file.clone(),
                    rows_read: outputs.iter().map(|o| o.rows_read).sum(),
                    rows_written: outputs.iter().map(|o| o.rows_written).sum(),
                    rows_quarantined: outputs.iter().map(|o| o.rows_quarantined).sum(),
                }],
            },
        );
    }
    CountryOutput {
        iso3: "TST".into(),
        tables,
    }
}

fn delivery_with_problems_across_batches() -> BTreeMap<String, RawTable> {
    let child = table(
        "child.csv",
        &CHILD_HEADER,
        &[
            &["C1", "H1", "EA1", "1.5", "1", "12", "1", "3"],
            &["C2", "H2", "EA1", "2.0", "2", "15", "2", "98"],
            &["C3", "H3", "EA2", "0.5", "2", "17", "", "0"],
            &["C1", "H9", "EA2", "1", "1", "14", "9", ""], // duplicate of row 1
            &["C5", "H5", "EA1", "1", "7", "13", "1", "2"], // unknown code
            &["C6", "H6", "EA1", "1", "1"],                // ragged
            &["C7", "H3", "EA2", "1", "2", "16", "2", "1"], // household shared with row 3
            &["C8", "H8", "EA2", "1", "2", "16", "3", "1"],
            &["C1", "H10", "EA1", "1", "1", "12", "1", "1"], // third row of C1
        ],
    );
    let caregiver = table(
        "caregiver.csv",
        &["CG", "HH"],
        &[
            &["G1", "H8"], // child in a later batch
            &["G2", "H2"],
            &["G3", "H404"], // no such child
            &["G4", "H6"],   // its child row is ragged: not a link target
            &["G2", "H1"],   // duplicate caregiver
        ],
    );
    BTreeMap::from([
        ("child_survey".to_string(), child),
        ("caregiver_survey".to_string(), caregiver),
    ])
}

#[test]
fn batches_of_any_size_give_the_whole_table_result() {
    let raw = delivery_with_problems_across_batches();
    let whole = normalise_country(&config(), &schemas(), &raw, &key()).unwrap();
    assert_ledger(&whole);
    let child = &whole.tables["child_survey"];
    let codes: Vec<String> = reasons(child).into_iter().map(|r| r.1).collect();
    assert!(codes.contains(&"duplicate_id".to_string()), "{codes:?}");
    let cg = &whole.tables["caregiver_survey"];
    let cg_codes: Vec<String> = reasons(cg).into_iter().map(|r| r.1).collect();
    assert!(
        cg_codes.contains(&"missing_link".to_string()),
        "{cg_codes:?}"
    );
    for batch_rows in [1, 2, 3, 4, 100] {
        let batched = run_in_batches(&raw, batch_rows);
        assert_ledger(&batched);
        for (name, w) in &whole.tables {
            let b = &batched.tables[name];
            assert_eq!(b.batch, w.batch, "{name} rows, batch size {batch_rows}");
            assert_eq!(
                b.quarantine, w.quarantine,
                "{name} quarantine, batch size {batch_rows}"
            );
            assert_eq!(
                (b.rows_read, b.rows_written, b.rows_quarantined),
                (w.rows_read, w.rows_written, w.rows_quarantined)
            );
            assert_eq!(b.problems_by_reason, w.problems_by_reason);
            assert_eq!(b.raw_ids, w.raw_ids);
            assert_eq!(b.universe_findings, w.universe_findings);
        }
    }
}

#[test]
fn a_duplicate_reason_lists_rows_of_every_batch() {
    let raw = delivery_with_problems_across_batches();
    let batched = run_in_batches(&raw, 2);
    let q = &batched.tables["child_survey"].quarantine;
    let reasons = q.column_by_name("reason").unwrap().as_string::<i32>();
    let shared = reasons
        .iter()
        .flatten()
        .find(|r| r.contains("shared by 3 rows"))
        .expect("the three C1 rows");
    assert!(shared.contains("rows 1, 4, 9"), "{shared}");
}
