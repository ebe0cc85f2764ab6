//! Caregiver non-response on the real path (synthesise, read, normalise, rake, estimate): when caregivers of rural
//! children are missing more often and the answer differs between urban and rural households, the weighting-class
//! adjustment of `[nonresponse.caregiver_survey]` brings the estimate back to what the full set of caregivers
//! gives, where the unadjusted domain estimate (the method before issue 11) is biased; and the rows keep counting
//! children (`n_weighted`, `population_estimate`).

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DictionaryArray, Int16Array, RecordBatch, StringArray,
};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Field, Float64Type, Int16Type, Schema};
use dh_indicators::estimate::{EstimateRow, TOTAL};
use dh_indicators::{country_indicators, load};

const INDICATOR: &str = "caregiver_would_report_police";
const ANSWER: &str = "caregiver_would_report_police";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn normalised(
    config: &dh_config::CountryConfig,
    schemas: &dh_config::SchemaSet,
    raw_dir: &Path,
) -> BTreeMap<String, RecordBatch> {
    let key = dh_normalise::PseudonymKey::from_bytes(&[7u8; 32]).unwrap_or_else(|e| panic!("{e}"));
    let mut config = config.clone();
    config
        .deliveries
        .retain(|table, _| table == "child_survey" || table == "caregiver_survey");
    let read = dh_pipeline::country::read_deliveries(&config, raw_dir, false)
        .unwrap_or_else(|e| panic!("{e}"));
    let raw = read.into_iter().map(|d| (d.table, d.raw)).collect();
    dh_pipeline::country::normalise(&config, schemas, &key, raw)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|t| {
            let batch = arrow::compute::concat_batches(&t.schema, &t.batches)
                .unwrap_or_else(|e| panic!("{e}"));
            (t.table, batch)
        })
        .collect()
}

fn texts(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let array = batch
        .column_by_name(column)
        .unwrap_or_else(|| panic!("no column {column}"));
    let text = cast(array, &DataType::Utf8).unwrap_or_else(|e| panic!("{e}"));
    text.as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

/// `batch` with `column` replaced by a dictionary column of `values`.
fn replaced(batch: &RecordBatch, column: &str, values: &[Option<String>]) -> RecordBatch {
    let mut dict: Vec<&str> = Vec::new();
    let keys: Vec<Option<i16>> = values
        .iter()
        .map(|v| {
            v.as_deref().map(|v| {
                let k = dict.iter().position(|d| *d == v).unwrap_or_else(|| {
                    dict.push(v);
                    dict.len() - 1
                });
                k as i16
            })
        })
        .collect();
    let array: ArrayRef = Arc::new(
        DictionaryArray::<Int16Type>::try_new(
            Int16Array::from(keys),
            Arc::new(StringArray::from(dict)),
        )
        .unwrap_or_else(|e| panic!("{e}")),
    );
    let schema = batch.schema();
    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    let mut columns = batch.columns().to_vec();
    let i = fields
        .iter()
        .position(|f| f.name() == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    fields[i] = Arc::new(
        Field::new(column, array.data_type().clone(), true)
            .with_metadata(fields[i].metadata().clone()),
    );
    columns[i] = array;
    RecordBatch::try_new(
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
        columns,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn total_row(rows: &[EstimateRow]) -> EstimateRow {
    rows.iter()
        .find(|r| r.indicator == INDICATOR && r.domain == TOTAL)
        .cloned()
        .unwrap_or_else(|| panic!("no total row"))
}

#[test]
fn class_dependent_caregiver_nonresponse_is_corrected() {
    let schemas =
        dh_config::load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let configs = dh_config::load_countries(&repo().join("countries"), &["THA".to_string()])
        .unwrap_or_else(|e| panic!("{e}"));
    let config = &configs[0];
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    dh_synth::synth_countries(&configs, &schemas, dir.path(), 1, 1.0)
        .unwrap_or_else(|e| panic!("{e}"));
    let (pipeline, catalogue) =
        load(&repo().join("pipelines"), &schemas).unwrap_or_else(|e| panic!("{e}"));
    let mut tables = normalised(config, &schemas, dir.path());

    // Urban households' caregivers all answer yes; rural ones keep their answers (about 17% yes).
    let child = &tables["child_survey"];
    let area: HashMap<String, String> = texts(child, "household_id")
        .into_iter()
        .zip(texts(child, "urban_rural"))
        .filter_map(|(h, a)| Some((h?, a?)))
        .collect();
    let caregivers = &tables["caregiver_survey"];
    let households = texts(caregivers, "household_id");
    let urban: Vec<bool> = households
        .iter()
        .map(|h| h.as_ref().and_then(|h| area.get(h)).map(String::as_str) == Some("urban"))
        .collect();
    let answers: Vec<Option<String>> = texts(caregivers, ANSWER)
        .into_iter()
        .zip(&urban)
        .map(|(a, u)| if *u { Some("yes".to_string()) } else { a })
        .collect();
    let caregivers = replaced(caregivers, ANSWER, &answers);
    tables.insert("caregiver_survey".into(), caregivers.clone());
    let run = |tables: &BTreeMap<String, RecordBatch>| {
        country_indicators(
            "THA",
            tables,
            &config.population,
            config.country.reference_years,
            &catalogue,
            &pipeline,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let all = run(&tables);
    let full = total_row(&all.rows);

    // Two of every three rural caregivers not interviewed.
    let mut rural_seen = 0usize;
    let keep: BooleanArray = urban
        .iter()
        .map(|u| {
            Some(
                *u || {
                    rural_seen += 1;
                    rural_seen.is_multiple_of(3)
                },
            )
        })
        .collect();
    let kept = filter_record_batch(&caregivers, &keep).unwrap_or_else(|e| panic!("{e}"));
    tables.insert("caregiver_survey".into(), kept.clone());
    let out = run(&tables);
    let adjusted = total_row(&out.rows);

    // The estimate before the adjustment: the raked child weights of the households with a caregiver answer.
    let weights: HashMap<String, f64> = texts(&out.weighted_child, "household_id")
        .into_iter()
        .zip(
            out.weighted_child
                .column_by_name("final_weight")
                .map(|c| c.as_primitive::<Float64Type>().values().to_vec())
                .unwrap_or_default(),
        )
        .filter_map(|(h, w)| Some((h?, w)))
        .collect();
    let (mut sw, mut swy) = (0.0, 0.0);
    for (h, a) in texts(&kept, "household_id")
        .iter()
        .zip(texts(&kept, ANSWER))
    {
        let (Some(w), Some(a)) = (h.as_ref().and_then(|h| weights.get(h)), a) else {
            continue;
        };
        if a != "refused" {
            sw += w;
            swy += w * f64::from(u8::from(a == "yes"));
        }
    }
    let unadjusted = swy / sw;
    let (p_full, p_adj) = (
        full.estimate.unwrap_or(f64::NAN),
        adjusted.estimate.unwrap_or(f64::NAN),
    );
    eprintln!(
        "full {p_full:.4} (n {}), adjusted {p_adj:.4} (n {}), unadjusted {unadjusted:.4}; classes {:#?}",
        full.n_unweighted, adjusted.n_unweighted, out.nonresponse["caregiver_survey"]
    );
    assert!(
        unadjusted - p_full > 0.05,
        "the scenario must bias the unadjusted estimate"
    );
    assert!(
        (p_adj - p_full).abs() < 0.25 * (unadjusted - p_full),
        "adjusted {p_adj} vs full {p_full} (unadjusted {unadjusted})"
    );
    // The rows count children: the adjusted weighted denominator is the full one (refusals aside), not the
    // weight of the interviewed caregivers' children.
    assert!(
        (adjusted.n_weighted - full.n_weighted).abs() < 0.01 * full.n_weighted,
        "{} vs {}",
        adjusted.n_weighted,
        full.n_weighted
    );
    assert!(sw < 0.85 * full.n_weighted);
    // Fewer respondents: a wider interval.
    assert!(adjusted.se.unwrap_or(0.0) > full.se.unwrap_or(f64::INFINITY));
    // Rural classes carry about three times their respondents' weight (weights vary, so not exactly), urban
    // ones their own.
    let classes = &out.nonresponse["caregiver_survey"];
    for c in classes {
        let range = if c.label.starts_with("urban_rural=rural") {
            2.0..4.5
        } else {
            0.95..1.05
        };
        assert!(range.contains(&c.factor), "{c:?}");
        assert!(c.respondents >= 30, "{c:?}");
    }
    assert!(
        classes
            .iter()
            .any(|c| c.label.starts_with("urban_rural=rural"))
    );
    // Without any non-response (all caregivers), every class factor is 1 up to caregivers whose child row is
    // quarantined, and the estimate is the domain estimate of the child design.
    assert!(
        all.nonresponse["caregiver_survey"]
            .iter()
            .all(|c| (c.factor - 1.0).abs() < 0.05),
        "{:?}",
        all.nonresponse["caregiver_survey"]
    );
    assert!(keep.len() == caregivers.num_rows() && kept.num_rows() < caregivers.num_rows());
    assert!(
        kept.column_by_name(ANSWER)
            .is_some_and(|c| c.len() == kept.num_rows())
    );
}
