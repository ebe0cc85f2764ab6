//! A design table given with its design, margin and non-response columns only, the others read per indicator from a
//! `DesignColumns` source (as `dh run` does for a child survey written batch by batch), gives the rows, weights and
//! errors of the table given whole.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{Field, Schema};
use dh_indicators::design_columns::{DesignColumns, indicator_columns, resident_columns};
use dh_indicators::stage::{StageError, country_indicators_from};
use dh_indicators::{JoinError, country_indicators, load};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn normalised(
    config: &dh_config::CountryConfig,
    schemas: &dh_config::SchemaSet,
    raw_dir: &Path,
) -> BTreeMap<String, RecordBatch> {
    let key = dh_normalise::PseudonymKey::from_bytes(&[7u8; 32]).unwrap();
    let read = dh_pipeline::country::read_deliveries(config, raw_dir, false).unwrap();
    let raw = read.into_iter().map(|d| (d.table, d.raw)).collect();
    dh_pipeline::country::normalise(config, schemas, &key, raw)
        .unwrap()
        .into_iter()
        .map(|t| {
            let batch = arrow::compute::concat_batches(&t.schema, &t.batches).unwrap();
            (t.table, batch)
        })
        .collect()
}

/// The columns of a whole table that are not held, served on request (and every request counted).
struct Outside {
    whole: RecordBatch,
    held: BTreeSet<String>,
    reads: AtomicUsize,
}

impl DesignColumns for Outside {
    fn has(&self, name: &str) -> bool {
        !self.held.contains(name) && self.whole.column_by_name(name).is_some()
    }

    fn data_type(&self, name: &str) -> Result<Option<arrow::datatypes::DataType>, String> {
        Ok(self
            .whole
            .column_by_name(name)
            .filter(|_| self.has(name))
            .map(|c| c.data_type().clone()))
    }

    fn read(&self, names: &BTreeSet<String>) -> Result<Option<RecordBatch>, String> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let indices: Vec<usize> = (0..self.whole.num_columns())
            .filter(|&i| {
                let name = self.whole.schema().field(i).name().clone();
                names.contains(&name) && self.has(&name)
            })
            .collect();
        if indices.is_empty() {
            return Ok(None);
        }
        self.whole
            .project(&indices)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

fn held_only(whole: &RecordBatch, held: &BTreeSet<String>) -> RecordBatch {
    let indices: Vec<usize> = (0..whole.num_columns())
        .filter(|&i| held.contains(whole.schema().field(i).name()))
        .collect();
    whole.project(&indices).unwrap()
}

/// `batch` with one more column `name` (a copy of column `like`).
fn with_copy(batch: &RecordBatch, name: &str, like: &str) -> RecordBatch {
    let schema = batch.schema();
    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let (i, field) = schema.column_with_name(like).unwrap();
    fields.push(Arc::new(field.clone().with_name(name)));
    columns.push(columns[i].clone());
    RecordBatch::try_new(
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
        columns,
    )
    .unwrap()
}

#[test]
fn columns_read_per_indicator_give_the_rows_of_the_whole_table() {
    let schemas = dh_config::load_schemas(&repo().join("schemas")).unwrap();
    let configs =
        dh_config::load_countries(&repo().join("countries"), &["KEN".to_string()]).unwrap();
    let mut config = configs[0].clone();
    config
        .deliveries
        .retain(|table, _| table == "child_survey" || table == "caregiver_survey");
    let dir = tempfile::tempdir().unwrap();
    dh_synth::synth_countries(&configs, &schemas, dir.path(), 1, 1.0).unwrap();
    let (pipeline, catalogue) = load(&repo().join("pipelines"), &schemas).unwrap();
    let tables = normalised(&config, &schemas, dir.path());
    let margins: Vec<String> = dh_indicators::weighting::population_margins(&config.population)
        .unwrap()
        .into_iter()
        .map(|m| m.variable)
        .collect();
    let held = resident_columns(&catalogue, &margins);
    let whole = tables["child_survey"].clone();
    assert!(held.len() < whole.num_columns() / 4, "{held:?}");
    let run = |tables: &BTreeMap<String, RecordBatch>, source: Option<&Outside>| match source {
        None => country_indicators(
            "KEN",
            tables,
            &config.population,
            config.country.reference_years,
            &catalogue,
            &pipeline,
        ),
        Some(source) => country_indicators_from(
            "KEN",
            tables,
            &config.population,
            config.country.reference_years,
            &catalogue,
            &pipeline,
            source,
        ),
    };
    let expected = run(&tables, None).unwrap();
    let source = Outside {
        whole: whole.clone(),
        held: held.clone(),
        reads: AtomicUsize::new(0),
    };
    let mut reduced = tables.clone();
    reduced.insert("child_survey".into(), held_only(&whole, &held));
    let got = run(&reduced, Some(&source)).unwrap();
    assert!(expected.rows.len() > 100);
    assert_eq!(got.rows, expected.rows);
    assert_eq!(got.weighting.weights, expected.weighting.weights);
    assert_eq!(got.unmatched, expected.unmatched);
    assert_eq!(got.nonresponse, expected.nonresponse);
    assert_eq!(
        got.weighted_child.column_by_name("final_weight"),
        expected.weighted_child.column_by_name("final_weight")
    );
    // each indicator that refers to a column not held read it for itself, and the caregiver join its key
    let reading = catalogue
        .indicators
        .iter()
        .filter(|i| indicator_columns(i).iter().any(|c| source.has(c)))
        .count();
    assert!(reading > catalogue.indicators.len() / 2, "{reading}");
    assert_eq!(source.reads.load(Ordering::SeqCst), reading + 1);

    // A caregiver column named like a child column that is not held is the same error of the join.
    let clash = with_copy(
        &tables["caregiver_survey"],
        "internet_use_frequency",
        "household_id",
    );
    assert!(whole.column_by_name("internet_use_frequency").is_some());
    assert!(!held.contains("internet_use_frequency"));
    let mut clashing = tables.clone();
    clashing.insert("caregiver_survey".into(), clash.clone());
    let whole_error = run(&clashing, None).err().unwrap();
    reduced.insert("caregiver_survey".into(), clash);
    let reduced_error = run(&reduced, Some(&source)).err().unwrap();
    assert!(
        matches!(&whole_error, StageError::Join { source, .. }
            if matches!(**source, JoinError::ColumnExists { ref column, .. } if column == "internet_use_frequency")),
        "{whole_error}"
    );
    assert_eq!(reduced_error.to_string(), whole_error.to_string());
}
