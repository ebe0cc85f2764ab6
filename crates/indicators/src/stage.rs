//! The weighting and indicator stage for one country: rake the child table's base weights to the country's
//! population margins, build the calibrated design (strata, PSUs, raked weights, raking residualisation), then
//! prepare and estimate every indicator of the catalogue.
//!
//! Design: the child table carries `stratum`, `psu` and `base_weight` (schemas/child_survey.json, role design);
//! PSUs are nested in strata; a stratum with a single PSU is handled like R's `survey.lonely.psu = "adjust"`.
//! Tables other than the child table (caregivers: one per household, interviewed with the child) are estimated on
//! the child's calibrated design: each child row takes its household's caregiver answers through the join of
//! `pipelines/pipeline.toml` (key `household_id`), and the caregivers are the domain of children whose caregiver
//! was interviewed. Children whose caregiver was not interviewed are adjusted for by weighting classes
//! (`[nonresponse.<table>]` of the catalogue, [`crate::weighting::adjust_for_nonresponse`]): within a class, the
//! interviewed caregivers' households carry the raked weight of every child of the class, so caregiver estimates
//! and their `population_estimate` are about all internet-using children 12-17 (through their caregiver), and the
//! variance adds the adjustment's step to the raking's residualisation
//! ([`crate::weighting::NonresponseCalibration`]). Caregiver rows without a matching child cannot be weighted and
//! are left out (counted).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, DictionaryArray, Float64Array, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Schema};
use dh_config::country::{Population, ReferenceYears};
use dh_survey::{Design, DesignSpec, Factor, LonelyPsu, SurveyDesign, SurveyError, WeightSpec};
use rayon::prelude::*;

use crate::catalogue::{Catalogue, Indicator};
use crate::design_columns::{AllResident, DesignColumns, indicator_columns, with_design_columns};
use crate::estimate::{
    EstimateError, EstimateRow, Settings, estimate_indicator, not_delivered_row,
};
use crate::join::JoinError;
use crate::pipeline_config::PipelineConfig;
use crate::prepare::{PrepareError, prepare_present};
use crate::weighting::{
    Margin, NonresponseCalibration, NonresponseClass, SharedCalibration, Weighted, WeightingError,
    WeightingOptions, adjust_for_nonresponse, check_weights, population_margins, rake_coded,
};

pub const STRATUM: &str = "stratum";
pub const PSU: &str = "psu";
pub const BASE_WEIGHT: &str = "base_weight";
/// Column added to every table given to the estimator: the raked weight.
pub const FINAL_WEIGHT: &str = "final_weight";

/// One country's indicator rows, weighting report and weighted tables.
#[derive(Debug)]
pub struct CountryIndicators {
    pub rows: Vec<EstimateRow>,
    pub weighting: Weighted,
    /// The child table with `final_weight` appended (for writing back into the normalised outputs).
    pub weighted_child: RecordBatch,
    /// Rows of other tables left out because they matched no child, by table.
    pub unmatched: BTreeMap<String, usize>,
    /// Non-response weighting classes of the other tables (caregivers), by table.
    pub nonresponse: BTreeMap<String, Vec<NonresponseClass>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("{iso3}: table `{table}` is missing")]
    MissingTable { iso3: String, table: String },
    #[error(
        "{iso3}: table `{table}`: column `{column}` is missing or has Arrow type {data_type} ({expected})"
    )]
    Column {
        iso3: String,
        table: String,
        column: String,
        data_type: String,
        expected: String,
    },
    #[error(
        "{iso3}: table `{table}` has no join to `{design}` in pipeline.toml, so its rows cannot be weighted"
    )]
    NoJoin {
        iso3: String,
        table: String,
        design: String,
    },
    #[error(
        "{iso3}: table `{table}` has no [nonresponse.{table}] adjustment in the catalogue, so its rows cannot be weighted"
    )]
    NoNonresponse { iso3: String, table: String },
    #[error("{iso3}: weighting: {source}")]
    Weighting {
        iso3: String,
        source: Box<WeightingError>,
    },
    #[error("{iso3}: design of `{table}`: {source}")]
    Design {
        iso3: String,
        table: String,
        source: Box<SurveyError>,
    },
    #[error("{iso3}: {source}")]
    Join {
        iso3: String,
        source: Box<JoinError>,
    },
    #[error("{iso3}: {source}")]
    Prepare {
        iso3: String,
        source: Box<PrepareError>,
    },
    #[error("{iso3}: {source}")]
    Estimate {
        iso3: String,
        source: Box<EstimateError>,
    },
    #[error("{iso3}: {message}")]
    Arrow { iso3: String, message: String },
    #[error("{iso3}: {breach}")]
    Invariant {
        iso3: String,
        breach: Box<crate::invariants::Breach>,
    },
}

/// Weights the country's tables and estimates every indicator of `catalogue`. An indicator whose table is not
/// among `tables` (the country did not deliver it) gets one `not_collected` row.
pub fn country_indicators(
    iso3: &str,
    tables: &BTreeMap<String, RecordBatch>,
    population: &Population,
    years: ReferenceYears,
    catalogue: &Catalogue,
    pipeline: &PipelineConfig,
) -> Result<CountryIndicators, StageError> {
    country_indicators_from(
        iso3,
        tables,
        population,
        years,
        catalogue,
        pipeline,
        &AllResident,
    )
}

/// [`country_indicators`] with a design table given with only some of its columns (at least
/// [`crate::design_columns::resident_columns`]): each indicator reads the others it refers to from `source` and
/// drops them after its estimate, so that they are never all held at once.
pub fn country_indicators_from(
    iso3: &str,
    tables: &BTreeMap<String, RecordBatch>,
    population: &Population,
    years: ReferenceYears,
    catalogue: &Catalogue,
    pipeline: &PipelineConfig,
    source: &dyn DesignColumns,
) -> Result<CountryIndicators, StageError> {
    let arrow_err = |e: arrow::error::ArrowError| StageError::Arrow {
        iso3: iso3.to_string(),
        message: e.to_string(),
    };
    let design_table = pipeline.design_table.as_str();
    let child = tables
        .get(design_table)
        .ok_or_else(|| StageError::MissingTable {
            iso3: iso3.into(),
            table: design_table.into(),
        })?;
    let base = numbers(iso3, design_table, child, BASE_WEIGHT)?;
    let margins = population_margins(population).map_err(|source| StageError::Weighting {
        iso3: iso3.into(),
        source: Box::new(source),
    })?;
    let options = WeightingOptions {
        trim_cap: pipeline.weighting.trim_cap,
        max_rounds: pipeline.weighting.max_rounds,
        ..WeightingOptions::default()
    };
    // the base weights and the margins' labels per row are needed by the rake only: dropped at its end
    // (each margin's level per row read from the column's dictionary: a code per row, no label per row)
    let weighting_err = |source| StageError::Weighting {
        iso3: iso3.into(),
        source: Box::new(source),
    };
    check_weights(&base).map_err(weighting_err)?;
    let weighted = {
        let mut codes = Vec::with_capacity(margins.len());
        for m in &margins {
            let labels = texts(iso3, design_table, child, &m.variable)?;
            codes.push(labels.margin_codes(m).map_err(weighting_err)?);
        }
        rake_coded(&base, &codes, &margins, &options)
    }
    .map_err(weighting_err)?;
    drop(base);
    let weighted_child = with_column(
        child,
        FINAL_WEIGHT,
        Arc::new(Float64Array::from(weighted.weights.to_vec())),
    )
    .map_err(arrow_err)?;
    // the design's structure with the raked weights, which it then shares with `weighted` (and the caregiver
    // designs share its structure): no base-weight design is kept
    let child_taylor = design(iso3, design_table, child, &weighted.weights)?
        .with_weights(Arc::clone(&weighted.weights))
        .map_err(|source| StageError::Design {
            iso3: iso3.into(),
            table: design_table.into(),
            source: Box::new(source),
        })?;
    let child_design = SurveyDesign::calibrated_design(
        child_taylor,
        Box::new(SharedCalibration(weighted.calibration.clone())),
    );
    let base_taylor = child_design
        .taylor_design()
        .ok_or_else(|| StageError::Arrow {
            iso3: iso3.into(),
            message: "the child design is not a Taylor design".into(),
        })?;

    let calibrated: Vec<String> = margins.iter().map(|m| m.variable.clone()).collect();
    let settings = Settings {
        thresholds: &pipeline.thresholds,
        calibrated: &calibrated,
        bands: &pipeline.bands,
    };
    // Every table estimated on the child design is aligned to it once, in catalogue order.
    let mut aligned_tables: HashMap<&str, (Aligned, Vec<bool>, SurveyDesign)> = HashMap::new();
    let mut unmatched = BTreeMap::new();
    let mut nonresponse = BTreeMap::new();
    for indicator in &catalogue.indicators {
        let table = indicator.table.as_str();
        if table == design_table
            || !tables.contains_key(table)
            || aligned_tables.contains_key(table)
        {
            continue;
        }
        let (batch, present, dropped) =
            aligned_to_design(iso3, table, tables, (&weighted_child, source), pipeline)?;
        let (design, classes) = adjusted_design(
            iso3,
            (table, design_table),
            catalogue,
            (&weighted_child, base_taylor, &weighted),
            &present,
        )?;
        unmatched.insert(table.to_string(), dropped);
        nonresponse.insert(table.to_string(), classes);
        aligned_tables.insert(table, (batch, present, design));
    }
    // The indicators are independent: estimated in parallel on the current rayon pool (one thread: in order;
    // never for a source read per indicator, see `DesignColumns::in_parallel`),
    // their rows kept in catalogue order and the first error in catalogue order returned, so the result does not
    // depend on the threads.
    let context = IndicatorContext {
        iso3,
        tables,
        design_table,
        weighted_child: &weighted_child,
        child_design: &child_design,
        aligned_tables: &aligned_tables,
        source,
        settings: &settings,
    };
    let per_indicator: Vec<Result<Vec<EstimateRow>, StageError>> = if source.in_parallel() {
        catalogue
            .indicators
            .par_iter()
            .map(|indicator| context.rows(indicator))
            .collect()
    } else {
        catalogue
            .indicators
            .iter()
            .map(|indicator| context.rows(indicator))
            .collect()
    };
    let mut rows = Vec::new();
    for estimates in per_indicator {
        rows.extend(estimates?);
    }
    // The other data families: unweighted, on their own tables (crate::families).
    rows.extend(
        crate::families::family_indicators(
            iso3,
            tables,
            population,
            years,
            &catalogue.families,
            &pipeline.thresholds,
        )
        .map_err(|e| StageError::Arrow {
            iso3: iso3.into(),
            message: e.to_string(),
        })?,
    );
    for row in &rows {
        crate::invariants::check(row, &pipeline.thresholds).map_err(|violation| {
            StageError::Invariant {
                iso3: iso3.into(),
                breach: Box::new(crate::invariants::Breach::of(row, violation)),
            }
        })?;
    }
    Ok(CountryIndicators {
        rows,
        weighting: weighted,
        weighted_child,
        unmatched,
        nonresponse,
    })
}

/// What estimating one survey indicator of a country reads (shared by the indicators estimated in parallel).
struct IndicatorContext<'a> {
    iso3: &'a str,
    tables: &'a BTreeMap<String, RecordBatch>,
    design_table: &'a str,
    weighted_child: &'a RecordBatch,
    child_design: &'a SurveyDesign,
    aligned_tables: &'a HashMap<&'a str, (Aligned, Vec<bool>, SurveyDesign)>,
    source: &'a dyn DesignColumns,
    settings: &'a Settings<'a>,
}

impl IndicatorContext<'_> {
    /// The rows of one indicator: `not_collected` when its table was not delivered, else its estimates.
    fn rows(&self, indicator: &Indicator) -> Result<Vec<EstimateRow>, StageError> {
        let iso3 = self.iso3;
        let table = indicator.table.as_str();
        if !self.tables.contains_key(table) {
            // The country did not deliver the table (`delivered = false`).
            return Ok(vec![not_delivered_row(indicator)]);
        }
        let columns = indicator_columns(indicator);
        let (batch, present, design) = if table == self.design_table {
            (self.weighted_child.clone(), None, self.child_design)
        } else {
            let (aligned, p, d) =
                self.aligned_tables
                    .get(table)
                    .ok_or_else(|| StageError::MissingTable {
                        iso3: iso3.into(),
                        table: table.into(),
                    })?;
            // the child rows with the columns of `table` this indicator refers to
            let batch = aligned
                .batch(self.weighted_child, &columns)
                .map_err(|source| StageError::Join {
                    iso3: iso3.into(),
                    source: Box::new(source),
                })?;
            (batch, Some(p.as_slice()), d)
        };
        // the design table's columns this indicator refers to that are not held, read for it and dropped after
        let batch = with_design_columns(&batch, &columns, self.source).map_err(|message| {
            StageError::Arrow {
                iso3: iso3.into(),
                message,
            }
        })?;
        let prepared =
            prepare_present(indicator, &batch, present).map_err(|source| StageError::Prepare {
                iso3: iso3.into(),
                source: Box::new(source),
            })?;
        estimate_indicator(design, indicator, &prepared, self.settings).map_err(|source| {
            StageError::Estimate {
                iso3: iso3.into(),
                source: Box::new(source),
            }
        })
    }
}

/// The design of a table estimated on the child design: the raked weights adjusted for the children without a
/// row in `table` (`present` false), within the classes of the catalogue's `[nonresponse.<table>]`.
fn adjusted_design(
    iso3: &str,
    (table, design_table): (&str, &str),
    catalogue: &Catalogue,
    (weighted_child, base, weighted): (&RecordBatch, &Design, &Weighted),
    present: &[bool],
) -> Result<(SurveyDesign, Vec<NonresponseClass>), StageError> {
    let rule = catalogue
        .nonresponse
        .get(table)
        .ok_or_else(|| StageError::NoNonresponse {
            iso3: iso3.into(),
            table: table.into(),
        })?;
    let labels: Vec<Labels> = rule
        .classes
        .iter()
        .map(|c| texts(iso3, design_table, weighted_child, c))
        .collect::<Result<_, _>>()?;
    let label_refs: Vec<Vec<Option<&str>>> = labels.iter().map(Labels::refs).collect();
    let weighting_err = |source| StageError::Weighting {
        iso3: iso3.into(),
        source: Box::new(source),
    };
    let adjusted = adjust_for_nonresponse(
        &weighted.weights,
        present,
        &label_refs,
        rule.min_respondents,
    )
    .map_err(weighting_err)?;
    drop(label_refs);
    drop(labels);
    // the raked and adjusted weights shared by the design and its variance step
    let adjusted_weights: Arc<[f64]> = adjusted.weights.into();
    let step = NonresponseCalibration::shared(
        Arc::clone(&weighted.weights),
        Arc::clone(&adjusted_weights),
        adjusted.class_of_row,
        &adjusted.classes,
        weighted.calibration.clone(),
    );
    let design =
        SurveyDesign::calibrated(base, adjusted_weights, Box::new(step)).map_err(|source| {
            StageError::Design {
                iso3: iso3.into(),
                table: table.into(),
                source: Box::new(source),
            }
        })?;
    let classes = adjusted
        .classes
        .into_iter()
        .map(|mut c| {
            c.label = named_class_label(&rule.classes, &c.label);
            c
        })
        .collect();
    Ok((design, classes))
}

/// `urban; 16-17` -> `urban_rural=urban; age_band=16-17` (the pooled last pool keeps its label).
fn named_class_label(columns: &[String], label: &str) -> String {
    let parts: Vec<&str> = label.split("; ").collect();
    if parts.len() != columns.len() {
        return label.to_string();
    }
    columns
        .iter()
        .zip(parts)
        .map(|(c, v)| format!("{c}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A non-design table (caregivers) laid over the rows of the design table: its row for each design row, taken
/// per indicator for the columns the indicator refers to (a column per design row each, so never all at once).
struct Aligned {
    join: crate::pipeline_config::Join,
    design_table: String,
    /// The table's rows.
    other: RecordBatch,
    /// Per design row: the matching row of `other`, null where none.
    rows: arrow::array::UInt32Array,
}

impl Aligned {
    /// `child` (the design rows) with those of the table's columns (all but the key) that are in `wanted`.
    fn batch(
        &self,
        child: &RecordBatch,
        wanted: &std::collections::BTreeSet<String>,
    ) -> Result<RecordBatch, JoinError> {
        let columns: Vec<String> = self
            .join
            .columns
            .iter()
            .filter(|c| wanted.contains(*c))
            .cloned()
            .collect();
        crate::join::with_taken_columns(
            &self.design_table,
            child,
            &self.other,
            &self.join,
            &self.rows,
            &columns,
        )
    }
}

/// A non-design table (caregivers) laid over the rows of the weighted child table: each child row gets the
/// columns of its household's row of `table` (null where there is none), with a flag per child row saying
/// whether it has one; also the number of `table` rows that match no child (left out, counted). The child
/// table's key is read from `source` when the batch lacks it, for the match only.
fn aligned_to_design(
    iso3: &str,
    table: &str,
    tables: &BTreeMap<String, RecordBatch>,
    (weighted_child, source): (&RecordBatch, &dyn DesignColumns),
    pipeline: &PipelineConfig,
) -> Result<(Aligned, Vec<bool>, usize), StageError> {
    let batch = tables.get(table).ok_or_else(|| StageError::MissingTable {
        iso3: iso3.into(),
        table: table.into(),
    })?;
    let join = pipeline
        .joins
        .get(table)
        .filter(|j| j.table == pipeline.design_table)
        .ok_or_else(|| StageError::NoJoin {
            iso3: iso3.into(),
            table: table.into(),
            design: pipeline.design_table.clone(),
        })?;
    let join_err = |source| StageError::Join {
        iso3: iso3.into(),
        source: Box::new(source),
    };
    // The child key, held or read back in pieces for the match only. Rows of `table` without a child are
    // counted (manifest weighting `unweighted_rows`); the match also checks that the child keys are unique.
    let source_err = |message| StageError::Arrow {
        iso3: iso3.into(),
        message,
    };
    let held = weighted_child.column_by_name(&join.on);
    let key_type = match held {
        Some(column) => Some(column.data_type().clone()),
        None => source.data_type(&join.on).map_err(source_err)?,
    };
    let mut pieces = |f: &mut dyn FnMut(&ArrayRef)| -> Result<(), String> {
        match held {
            Some(column) => {
                f(column);
                Ok(())
            }
            None => source.for_each_piece(&join.on, f),
        }
    };
    let matched = crate::join::design_rows(
        (table, &pipeline.design_table),
        batch,
        &join.on,
        key_type.as_ref(),
        &mut pieces,
    )
    .map_err(source_err)?
    .map_err(join_err)?;
    if matched.rows.len() != weighted_child.num_rows() {
        return Err(source_err(format!(
            "{} rows read back for column `{}`, but the design table has {}",
            matched.rows.len(),
            join.on,
            weighted_child.num_rows()
        )));
    }
    let (rows, without_child) = (matched.rows, matched.other_unmatched);
    // Every column of `table` but the key, onto the child rows (a column both tables have is an error of
    // the join, never a silent choice of the child's values).
    let own_columns: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|name| *name != join.on)
        .collect();
    let onto_child = crate::pipeline_config::Join {
        table: table.to_string(),
        on: join.on.clone(),
        columns: own_columns,
    };
    // the first column both have, whether the child's is held or not
    if let Some(column) = onto_child
        .columns
        .iter()
        .find(|c| weighted_child.column_by_name(c).is_some() || source.has(c))
    {
        return Err(join_err(JoinError::ColumnExists {
            table: pipeline.design_table.clone(),
            other: table.to_string(),
            column: column.clone(),
        }));
    }
    let present = (0..rows.len()).map(|i| rows.is_valid(i)).collect();
    let aligned = Aligned {
        join: onto_child,
        design_table: pipeline.design_table.clone(),
        other: batch.clone(),
        rows,
    };
    Ok((aligned, present, without_child))
}

/// The rows of a country that delivered no design table (no survey at all): one `not_collected` row per survey
/// indicator, then the family indicators on the tables it did deliver.
pub fn without_survey(
    iso3: &str,
    tables: &BTreeMap<String, RecordBatch>,
    population: &Population,
    years: ReferenceYears,
    catalogue: &Catalogue,
    thresholds: &crate::pipeline_config::Thresholds,
) -> Result<Vec<EstimateRow>, StageError> {
    let mut rows: Vec<EstimateRow> = catalogue.indicators.iter().map(not_delivered_row).collect();
    rows.extend(
        crate::families::family_indicators(
            iso3,
            tables,
            population,
            years,
            &catalogue.families,
            thresholds,
        )
        .map_err(|e| StageError::Arrow {
            iso3: iso3.into(),
            message: e.to_string(),
        })?,
    );
    Ok(rows)
}

/// Taylor design structure with PSUs nested in strata and the given weights.
fn design(
    iso3: &str,
    table: &str,
    batch: &RecordBatch,
    weights: &[f64],
) -> Result<Design, StageError> {
    let (strata_codes, strata_labels) = texts(iso3, table, batch, STRATUM)?.dense_codes();
    let (psu_codes, _) = texts(iso3, table, batch, PSU)?.dense_codes();
    let spec = DesignSpec {
        ids: vec![&psu_codes],
        strata: Some(Factor {
            codes: &strata_codes,
            labels: &strata_labels,
        }),
        fpc: vec![],
        weights: WeightSpec::Weights(weights),
        nest: true,
        lonely_psu: LonelyPsu::Adjust,
    };
    Design::new(&spec).map_err(|source| StageError::Design {
        iso3: iso3.into(),
        table: table.into(),
        source: Box::new(source),
    })
}

/// Codes in order of first appearance (missing values get `NA_CODE`, which the design rejects with a message).
#[cfg(test)]
fn dense_codes(values: &[Option<&str>]) -> (Vec<u32>, Vec<String>) {
    let mut labels: Vec<String> = Vec::new();
    let mut index: HashMap<&str, u32> = HashMap::new();
    let mut codes = Vec::with_capacity(values.len());
    for v in values {
        match v {
            Some(s) => {
                let next = index.len() as u32;
                let code = *index.entry(s).or_insert_with(|| {
                    labels.push((*s).to_string());
                    next
                });
                codes.push(code);
            }
            None => codes.push(dh_survey::NA_CODE),
        }
    }
    (codes, labels)
}

fn column<'b>(
    iso3: &str,
    table: &str,
    batch: &'b RecordBatch,
    name: &str,
    expected: &str,
) -> Result<&'b ArrayRef, StageError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| StageError::Column {
            iso3: iso3.into(),
            table: table.into(),
            column: name.into(),
            data_type: "none".into(),
            expected: expected.into(),
        })
}

fn numbers(
    iso3: &str,
    table: &str,
    batch: &RecordBatch,
    name: &str,
) -> Result<Vec<f64>, StageError> {
    let array = column(iso3, table, batch, name, "numeric")?;
    let err = || StageError::Column {
        iso3: iso3.into(),
        table: table.into(),
        column: name.into(),
        data_type: array.data_type().to_string(),
        expected: "numeric, no nulls".into(),
    };
    if !array.data_type().is_numeric() {
        return Err(err());
    }
    let floats = cast(array, &DataType::Float64).map_err(|_| err())?;
    let floats = floats.as_primitive::<Float64Type>();
    if floats.null_count() > 0 {
        return Err(err());
    }
    Ok(floats.values().to_vec())
}

/// A text column as a dictionary: each distinct text once and a key per row, so that a column of millions of
/// rows costs four bytes a row instead of a `String` per row.
struct Labels(DictionaryArray<Int32Type>);

impl Labels {
    /// The text of dictionary entry `k` of the column (`None`: a null key or value).
    fn entry(&self, key: Option<i32>) -> Option<&str> {
        let values = self.0.values().as_string::<i32>();
        let k = usize::try_from(key?).ok()?;
        (k < values.len() && values.is_valid(k)).then(|| values.value(k))
    }

    /// The codes of `dense_codes(&self.refs())` (levels in order of first appearance, `NA_CODE` for nulls), each
    /// dictionary entry looked up once.
    fn dense_codes(&self) -> (Vec<u32>, Vec<String>) {
        let mut labels: Vec<String> = Vec::new();
        let mut index: HashMap<&str, u32> = HashMap::new();
        let mut per_entry: Vec<Option<u32>> = vec![None; self.0.values().len()];
        let mut codes = Vec::with_capacity(self.0.len());
        for key in self.0.keys().iter() {
            let slot = key
                .and_then(|k| usize::try_from(k).ok())
                .filter(|&k| k < per_entry.len());
            let cached = slot.and_then(|k| per_entry[k]);
            let code = match (cached, self.entry(key)) {
                (Some(code), _) => code,
                (None, None) => dh_survey::NA_CODE,
                (None, Some(s)) => {
                    let next = index.len() as u32;
                    let code = *index.entry(s).or_insert_with(|| {
                        labels.push(s.to_string());
                        next
                    });
                    if let Some(k) = slot {
                        per_entry[k] = Some(code);
                    }
                    code
                }
            };
            codes.push(code);
        }
        (codes, labels)
    }

    /// Each row's index into `margin.levels` (the codes `rake_to_margins` finds from the rows' labels), or the
    /// error it reports for rows whose label is not a level.
    fn margin_codes(&self, margin: &Margin) -> Result<Vec<u32>, WeightingError> {
        let level_of = |label: Option<&str>| {
            label.and_then(|l| margin.levels.iter().position(|x| x == l).map(|p| p as u32))
        };
        let per_entry: Vec<Option<u32>> = (0..self.0.values().len())
            .map(|k| level_of(self.entry(i32::try_from(k).ok())))
            .collect();
        let mut codes = Vec::with_capacity(self.0.len());
        let mut unplaced = crate::weighting::Unplaced::default();
        for (i, key) in self.0.keys().iter().enumerate() {
            let slot = key.and_then(|k| usize::try_from(k).ok());
            match slot.and_then(|k| per_entry.get(k).copied().flatten()) {
                Some(code) => codes.push(code),
                None => {
                    unplaced.add(i, self.entry(key));
                    codes.push(dh_survey::NA_CODE);
                }
            }
        }
        unplaced.codes_or_error(margin, codes)
    }

    /// The text of every row (`None`: null), borrowed from the dictionary.
    fn refs(&self) -> Vec<Option<&str>> {
        let values = self.0.values().as_string::<i32>();
        self.0
            .keys()
            .iter()
            .map(|k| {
                let k = usize::try_from(k?).ok()?;
                values.is_valid(k).then(|| values.value(k))
            })
            .collect()
    }
}

fn texts(iso3: &str, table: &str, batch: &RecordBatch, name: &str) -> Result<Labels, StageError> {
    let array = column(iso3, table, batch, name, "text or dictionary of labels")?;
    let error = || StageError::Column {
        iso3: iso3.into(),
        table: table.into(),
        column: name.into(),
        data_type: array.data_type().to_string(),
        expected: "text or dictionary of labels".into(),
    };
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let keyed = match array.data_type() {
        DataType::Dictionary(_, _) => cast(array, &dictionary),
        _ => cast(array, &DataType::Utf8).and_then(|text| cast(&text, &dictionary)),
    }
    .map_err(|_| error())?;
    let keyed = keyed
        .as_any()
        .downcast_ref::<DictionaryArray<Int32Type>>()
        .ok_or_else(error)?;
    Ok(Labels(keyed.clone()))
}

/// `batch` with the column `name` set to `values`: a column the schema already declares (e.g. `final_weight`,
/// written all-null by normalisation) is filled in place, keeping its position and field metadata; otherwise the
/// column is appended.
fn with_column(
    batch: &RecordBatch,
    name: &str,
    values: ArrayRef,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let schema = batch.schema();
    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let nullable = values.null_count() > 0;
    match fields.iter().position(|f| f.name() == name) {
        Some(i) => {
            let field = Field::new(name, values.data_type().clone(), nullable)
                .with_metadata(fields[i].metadata().clone());
            fields[i] = Arc::new(field);
            columns[i] = values;
        }
        None => {
            fields.push(Arc::new(Field::new(
                name,
                values.data_type().clone(),
                nullable,
            )));
            columns.push(values);
        }
    }
    RecordBatch::try_new(
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
        columns,
    )
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int32Array, StringArray};

    use super::*;

    /// A dictionary column with repeated, null and unused entries, keys null or not.
    fn labels() -> Labels {
        let values = StringArray::from(vec![Some("b"), None, Some("a"), Some("b"), Some("zz")]);
        let keys = Int32Array::from(vec![
            Some(2),
            Some(0),
            None,
            Some(3),
            Some(1),
            Some(2),
            Some(0),
        ]);
        Labels(
            DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values))
                .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    #[test]
    fn dictionary_codes_are_those_of_the_labels_per_row() {
        let l = labels();
        assert_eq!(l.dense_codes(), dense_codes(&l.refs()));
        let (codes, names) = l.dense_codes();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(codes[..2], [0, 1]);
        assert_eq!(codes[2], dh_survey::NA_CODE);
        let margin = |levels: &[&str]| Margin {
            variable: "sex".into(),
            levels: levels.iter().map(|s| s.to_string()).collect(),
            totals: vec![1.0; levels.len()],
        };
        for levels in [&["b", "a"][..], &["a"], &["a", "b", "zz"]] {
            let m = margin(levels);
            assert_eq!(
                l.margin_codes(&m),
                crate::weighting::level_codes(&m, &l.refs(), 7),
                "{levels:?}"
            );
        }
        let placed = Labels(
            DictionaryArray::<Int32Type>::try_new(
                Int32Array::from(vec![1, 0, 1]),
                Arc::new(StringArray::from(vec!["a", "b"])),
            )
            .unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(placed.margin_codes(&margin(&["b", "a"])), Ok(vec![0, 1, 0]));
    }
}
