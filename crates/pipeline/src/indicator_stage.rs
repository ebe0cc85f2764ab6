//! The weighting and indicator stage inside `dh run`, glue around `dh-indicators`:
//! per country, after normalisation, rake the child table's weights ([`weigh_and_estimate`]), put `final_weight`
//! into the normalised child table and keep the indicator rows; after every country, write the cross-country
//! tables `OUT/indicators/indicators.parquet`, `indicators.csv` and `comparison.csv`, with their legends
//! `flags.csv` (every flag, its meaning and rule, from the flag registry) and `comparison_legend.csv` (the marks
//! and number formats of `comparison.csv`) ([`write_indicator_tables`]).

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::RecordBatch;
use dh_config::{CountryConfig, SchemaSet};
use dh_indicators::design_columns::DesignColumns;
use dh_indicators::estimate::{EstimateRow, TOTAL};
use dh_indicators::weighting::WeightDiagnostics;
use dh_indicators::{Catalogue, Descriptions, PipelineConfig};

use crate::country::NormalisedTable;
use crate::error::{CountryError, PipelineError};
use crate::hashing::sha256_hex;
use crate::layout::{INDICATORS_DIR, Staging};
use crate::manifest::{NonresponseClassEntry, OutputEntry, WeightStats, WeightingEntry};

/// Stage name in errors and progress.
pub const STAGE: &str = "indicators";
/// `OUT`-relative paths of the cross-country tables.
pub const INDICATORS_PARQUET: &str = "indicators/indicators.parquet";
pub const INDICATORS_CSV: &str = "indicators/indicators.csv";
pub const COMPARISON_CSV: &str = "indicators/comparison.csv";
pub const COMPARISON_LEGEND_CSV: &str = "indicators/comparison_legend.csv";
pub const FLAGS_CSV: &str = "indicators/flags.csv";

/// The indicator catalogue and pipeline settings of a run, loaded once from `pipelines/`.
pub struct IndicatorSetup {
    pub pipeline: PipelineConfig,
    pub catalogue: Catalogue,
    /// `pipeline.toml` and the catalogue files with their paths (for the manifest's hashes).
    pub files: Vec<std::path::PathBuf>,
}

impl IndicatorSetup {
    /// Loads `<dir>/pipeline.toml` and the catalogue it names, validated against the harmonised schemas.
    pub fn load(dir: &Path, schemas: &SchemaSet) -> Result<IndicatorSetup, PipelineError> {
        let (pipeline, catalogue) = dh_indicators::load(dir, schemas).map_err(|e| {
            PipelineError::ConfigMessage(format!("indicator catalogue in {}: {e}", dir.display()))
        })?;
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| PipelineError::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        Ok(IndicatorSetup {
            pipeline,
            catalogue,
            files,
        })
    }

    /// Id of the headline indicator: the first of the catalogue.
    pub fn headline(&self) -> Option<&str> {
        self.catalogue.indicators.first().map(|i| i.id.as_str())
    }
}

/// What the stage produced for one country.
#[derive(Debug, Clone, Default)]
pub struct CountryEstimates {
    pub rows: Vec<EstimateRow>,
    pub weighting: Option<WeightingEntry>,
}

/// Weights the country's normalised tables and estimates every indicator. The child table's batches are replaced
/// by the same rows with `final_weight` filled in (a child table written batch by batch, in `streamed`, has its
/// file rewritten with it). A country without a child survey table (not delivered) is not weighted: its survey
/// indicators are `not_collected` and its family indicators are still estimated. Tables in `streamed` are read
/// back with the columns the stage may use only ([`used_by_indicators`]; for the design table and the tables
/// joined to it, only the columns the survey estimation reads, [`dh_indicators::columns::survey_stage_columns`]).
pub fn weigh_and_estimate(
    config: &CountryConfig,
    setup: &IndicatorSetup,
    schemas: &SchemaSet,
    tables: &mut [NormalisedTable],
    streamed: &mut [crate::batched::StreamedTable],
) -> Result<CountryEstimates, CountryError> {
    let iso3 = config.country.iso3.as_str();
    let err = |m: String| CountryError::new(iso3, STAGE, m);
    let mut batches: BTreeMap<String, RecordBatch> = BTreeMap::new();
    for t in tables.iter() {
        let batch = arrow::compute::concat_batches(&t.schema, &t.batches)
            .map_err(|e| err(e.to_string()))?;
        batches.insert(t.table.clone(), batch);
    }
    // the margins' variables; a population the weighting refuses keeps every column (its error comes below)
    let margin_variables: Vec<String> =
        dh_indicators::weighting::population_margins(&config.population)
            .map(|m| m.into_iter().map(|m| m.variable).collect())
            .unwrap_or_default();
    let design_table = setup.pipeline.design_table.as_str();
    // a streamed design table is held with the columns every indicator uses; the others are read per indicator
    let mut outside: Option<StreamedColumns<'_>> = None;
    for t in streamed.iter() {
        let survey = if margin_variables.is_empty() {
            None
        } else {
            dh_indicators::columns::survey_stage_columns(
                &setup.catalogue,
                &setup.pipeline,
                &margin_variables,
                &t.table,
            )
        };
        let resident = (t.table == design_table && survey.is_some()).then(|| {
            dh_indicators::design_columns::resident_columns(&setup.catalogue, &margin_variables)
        });
        // a held design table leaves out `final_weight` (all null until the stage computes it, which then appends
        // it) and holds its strata and PSU labels as dictionaries
        let held = resident.is_some();
        let batch = crate::batched::projected(t, |f| {
            used_by_indicators(setup, &t.table, f)
                && survey.as_ref().is_none_or(|s| s.contains(f.name()))
                && resident.as_ref().is_none_or(|r| r.contains(f.name()))
                && !(held && f.name() == dh_indicators::stage::FINAL_WEIGHT)
        })
        .map_err(|e| err(e.to_string()))?;
        let batch = if held {
            design_labels_as_dictionaries(setup, batch).map_err(|e| err(e.to_string()))?
        } else {
            batch
        };
        batches.insert(t.table.clone(), batch);
        if let (Some(resident), Some(survey)) = (resident, survey) {
            outside = Some(StreamedColumns {
                setup,
                table: t,
                survey,
                resident,
            });
        }
    }
    if !batches.contains_key(design_table) {
        let rows = dh_indicators::stage::without_survey(
            iso3,
            &batches,
            &config.population,
            config.country.reference_years,
            &setup.catalogue,
            &setup.pipeline.thresholds,
        )
        .map_err(|e| err(e.to_string()))?;
        return Ok(CountryEstimates {
            rows,
            weighting: None,
        });
    }
    let all_resident = dh_indicators::design_columns::AllResident;
    let source: &dyn DesignColumns = match &outside {
        Some(columns) => columns,
        None => &all_resident,
    };
    let result = dh_indicators::stage::country_indicators_from(
        iso3,
        &batches,
        &config.population,
        config.country.reference_years,
        &setup.catalogue,
        &setup.pipeline,
        source,
    )
    .map_err(|e| err(e.to_string()))?;
    drop(batches);
    drop(outside);
    if let Some(child) = tables.iter_mut().find(|t| t.table == design_table) {
        child.schema = result.weighted_child.schema();
        child.batches = vec![result.weighted_child];
    } else if let Some(child) = streamed.iter_mut().find(|t| t.table == design_table) {
        let weights = result
            .weighted_child
            .column_by_name(dh_indicators::stage::FINAL_WEIGHT)
            .ok_or_else(|| {
                err(format!(
                    "no `{}` was computed",
                    dh_indicators::stage::FINAL_WEIGHT
                ))
            })?;
        let schema = schemas
            .get(design_table)
            .ok_or_else(|| err(format!("no harmonised schema for table `{design_table}`")))?;
        crate::batched::fill_column(child, schema, dh_indicators::stage::FINAL_WEIGHT, weights)
            .map_err(|e| {
                if e.is_io() {
                    CountryError::io_fault(iso3, STAGE, e.to_string())
                } else {
                    err(e.to_string())
                }
            })?;
    }
    let w = &result.weighting;
    Ok(CountryEstimates {
        rows: result.rows,
        weighting: Some(WeightingEntry {
            country: iso3.to_string(),
            n: w.after.n as u64,
            base: stats(&w.before),
            final_weights: stats(&w.after),
            converged: w.converged,
            iterations: w.iterations as u64,
            rounds: w.rounds as u64,
            trimmed: w.trimmed as u64,
            max_margin_error: w.max_margin_error,
            unweighted_rows: result
                .unmatched
                .iter()
                .map(|(table, rows)| (table.clone(), *rows as u64))
                .collect(),
            nonresponse: result
                .nonresponse
                .iter()
                .map(|(table, classes)| {
                    let entries = classes
                        .iter()
                        .map(|c| NonresponseClassEntry {
                            class: c.label.clone(),
                            rows: c.rows as u64,
                            respondents: c.respondents as u64,
                            factor: c.factor,
                        })
                        .collect();
                    (table.clone(), entries)
                })
                .collect(),
        }),
    })
}

/// `batch` (the held columns of a streamed design table) with its text `stratum` and `psu` columns as
/// dictionaries (16-bit keys, or 32-bit when there are more labels), unless an indicator refers to them: the
/// stage reads them only to build the design, which codes them the same from either form.
fn design_labels_as_dictionaries(
    setup: &IndicatorSetup,
    batch: RecordBatch,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    use arrow::datatypes::DataType;
    let referred: std::collections::BTreeSet<String> = setup
        .catalogue
        .indicators
        .iter()
        .flat_map(dh_indicators::design_columns::indicator_columns)
        .collect();
    let schema = batch.schema();
    let mut fields: Vec<arrow::datatypes::FieldRef> = schema.fields().iter().cloned().collect();
    let mut columns: Vec<arrow::array::ArrayRef> = batch.columns().to_vec();
    for name in [dh_indicators::stage::STRATUM, dh_indicators::stage::PSU] {
        let Some(i) = fields.iter().position(|f| f.name() == name) else {
            continue;
        };
        if fields[i].data_type() != &DataType::Utf8 || referred.contains(name) {
            continue;
        }
        let keyed = [DataType::Int16, DataType::Int32]
            .into_iter()
            .find_map(|key| {
                let to = DataType::Dictionary(Box::new(key), Box::new(DataType::Utf8));
                arrow::compute::cast(&columns[i], &to).ok()
            });
        if let Some(keyed) = keyed {
            fields[i] = std::sync::Arc::new(
                fields[i]
                    .as_ref()
                    .clone()
                    .with_data_type(keyed.data_type().clone()),
            );
            columns[i] = keyed;
        }
    }
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(
        std::sync::Arc::new(arrow::datatypes::Schema::new_with_metadata(
            fields,
            schema.metadata().clone(),
        )),
        columns,
        &options,
    )
}

/// The columns of a streamed design table the stage does not hold, read back from its file when an indicator
/// refers to them: those the survey estimation reads ([`dh_indicators::columns::survey_stage_columns`]) and the
/// stage may read ([`used_by_indicators`]), other than the held ones
/// ([`dh_indicators::design_columns::resident_columns`]).
struct StreamedColumns<'a> {
    setup: &'a IndicatorSetup,
    table: &'a crate::batched::StreamedTable,
    survey: std::collections::BTreeSet<String>,
    resident: std::collections::BTreeSet<String>,
}

impl StreamedColumns<'_> {
    fn outside(&self, field: &arrow::datatypes::Field) -> bool {
        !self.resident.contains(field.name())
            && self.survey.contains(field.name())
            && used_by_indicators(self.setup, &self.table.table, field)
    }
}

impl DesignColumns for StreamedColumns<'_> {
    /// One indicator at a time: the table is read per indicator because it is too large to hold.
    fn in_parallel(&self) -> bool {
        false
    }

    fn has(&self, name: &str) -> bool {
        self.table
            .schema
            .field_with_name(name)
            .is_ok_and(|f| self.outside(f))
    }

    fn read(
        &self,
        names: &std::collections::BTreeSet<String>,
    ) -> Result<Option<RecordBatch>, String> {
        if !names.iter().any(|n| self.has(n)) {
            return Ok(None);
        }
        crate::batched::projected(self.table, |f| names.contains(f.name()) && self.outside(f))
            .map(Some)
            .map_err(|e| e.to_string())
    }

    fn data_type(&self, name: &str) -> Result<Option<arrow::datatypes::DataType>, String> {
        Ok(self
            .table
            .schema
            .field_with_name(name)
            .ok()
            .filter(|f| self.outside(f))
            .map(|f| f.data_type().clone()))
    }

    /// Row group by row group: a key column of millions of rows is never held whole.
    fn for_each_piece(
        &self,
        name: &str,
        f: &mut dyn FnMut(&arrow::array::ArrayRef),
    ) -> Result<(), String> {
        if self.has(name) {
            row_group_pieces(&self.table.normalised, name, f).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Calls `f` with the column `name` of the Parquet file `path`, one row group at a time, in row order.
fn row_group_pieces(
    path: &Path,
    name: &str,
    f: &mut dyn FnMut(&arrow::array::ArrayRef),
) -> Result<(), PipelineError> {
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
    let err = |message: String| PipelineError::Parquet {
        path: path.to_path_buf(),
        message,
    };
    let io = |e: std::io::Error| PipelineError::io(path, e);
    let file = std::fs::File::open(path).map_err(io)?;
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
        .map_err(|e| err(e.to_string()))?;
    let Some(index) = metadata
        .schema()
        .fields()
        .iter()
        .position(|f| f.name() == name)
    else {
        return Err(err(format!("no column `{name}`")));
    };
    let mask = ProjectionMask::roots(metadata.parquet_schema(), [index]);
    crate::batched::each_row_group(path, &file, &metadata, &mask, &mut |batch| {
        f(batch.column(0));
    })
}

/// Whether the indicator stage may read `field` of a table written batch by batch: every column except the
/// pseudonymised ids, which only the joins to the child table (their `on` column) and the interview themes (which
/// match segments to interviews by id) use. Dropping the others keeps a large case table's ids out of memory.
pub fn used_by_indicators(
    setup: &IndicatorSetup,
    table: &str,
    field: &arrow::datatypes::Field,
) -> bool {
    use dh_indicators::families::catalogue::{REGISTER_TABLE, SEGMENTS_TABLE};
    if !field.metadata().contains_key("pseudonymised") {
        return true;
    }
    table == REGISTER_TABLE
        || table == SEGMENTS_TABLE
        || setup.pipeline.joins.values().any(|j| j.on == *field.name())
}

fn stats(d: &WeightDiagnostics) -> WeightStats {
    WeightStats {
        min: d.min,
        max: d.max,
        ratio: d.ratio,
        sum: d.sum,
        kish_deff: d.kish_deff,
    }
}

/// Writes the cross-country tables and their legends into the staging folder (countries in code order) and
/// returns their manifest entries. Labels, units and universes come from the catalogue of `setup`, with each
/// country's reference years from `configs` (the default years for a country without one).
pub fn write_indicator_tables(
    staging: &Staging,
    countries: &[(String, Vec<EstimateRow>)],
    setup: &IndicatorSetup,
    configs: &[CountryConfig],
) -> Result<Vec<OutputEntry>, PipelineError> {
    let rows: Vec<dh_indicators::output::CountryRows<'_>> = countries
        .iter()
        .map(|(c, r)| (c.as_str(), r.as_slice()))
        .collect();
    let years = countries.iter().map(|(c, _)| {
        let years = configs
            .iter()
            .find(|k| k.country.iso3 == *c)
            .map(|k| k.country.reference_years)
            .unwrap_or_default();
        (c.as_str(), years)
    });
    let descriptions = Descriptions::new(&setup.catalogue, years);
    let thresholds = &setup.pipeline.thresholds;
    let dir = staging.path(INDICATORS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| PipelineError::io(&dir, e))?;
    let n_rows: u64 = countries.iter().map(|(_, r)| r.len() as u64).sum();
    let mut entries = Vec::with_capacity(5);

    let batch = dh_indicators::output::indicators_table(&rows, &descriptions, thresholds)
        .map_err(|e| PipelineError::Internal(format!("indicator table: {e}")))?;
    let written =
        crate::parquet_out::write_plain_parquet(&staging.path(INDICATORS_PARQUET), &batch)?;
    entries.push(entry(
        INDICATORS_PARQUET,
        written.rows,
        written.bytes,
        written.sha256,
    ));

    for (rel, text, n) in [
        (
            INDICATORS_CSV,
            dh_indicators::output::indicators_csv(&rows, &descriptions),
            n_rows,
        ),
        (
            COMPARISON_CSV,
            dh_indicators::output::comparison_csv(&rows, &descriptions),
            0,
        ),
        (
            COMPARISON_LEGEND_CSV,
            dh_indicators::output::comparison_legend_csv(),
            0,
        ),
        (FLAGS_CSV, dh_indicators::flags::legend_csv(thresholds), 0),
    ] {
        let path = staging.path(rel);
        std::fs::write(&path, text.as_bytes()).map_err(|e| PipelineError::io(&path, e))?;
        let n = if n == 0 {
            text.lines().count().saturating_sub(1) as u64
        } else {
            n
        };
        entries.push(entry(
            rel,
            n,
            text.len() as u64,
            sha256_hex(text.as_bytes()),
        ));
    }
    Ok(entries)
}

fn entry(path: &str, rows: u64, bytes: u64, sha256: String) -> OutputEntry {
    OutputEntry {
        path: path.to_string(),
        country: String::new(),
        table: "indicators".to_string(),
        kind: "indicators".to_string(),
        rows,
        bytes,
        sha256,
    }
}

/// The headline indicator's total row of a country, if estimated.
pub fn headline_row<'a>(rows: &'a [EstimateRow], headline: &str) -> Option<&'a EstimateRow> {
    rows.iter()
        .find(|r| r.indicator == headline && r.domain == TOTAL)
}
