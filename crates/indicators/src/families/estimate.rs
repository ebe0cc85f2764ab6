//! Family indicator rows for one country, in the same [`EstimateRow`] shape as the survey estimates (so they land
//! in `indicators.parquet`/`.csv` and `comparison.csv`): unweighted, with `ci_method` `wilson` for proportions
//! and shares and `none` otherwise, `df`/`deff`/`se` empty, `n_weighted` = `n_unweighted`.
//!
//! Flags (every condition that holds is kept, see [`crate::flags`]):
//! * proportions and shares (frontline workers, interviews, shares of case records; Wilson intervals) follow the
//!   survey's base rules on their denominator: fewer than `suppress_below` cases (25) are not published as a
//!   number (`suppressed`, or `suppressed_small_count` where the disclosure rule below applies), fewer than
//!   `low_base_below` (50) are `low_base`, and the NCHS rules can add `unreliable` (interval wider than 30
//!   points or fewer than 30 cases: the effective sample size of an unweighted proportion is its n).
//!   `non_representative` is on every row of an unweighted proportion (frontline workers and interviews are not
//!   probability samples), alongside the other conditions;
//! * administrative counts, sums, rates and changes have no sampling error (`ci_method` `none`): only the
//!   disclosure rule applies to them, no base or reliability rule;
//! * disclosure: `suppressed_small_count` (shown as `<5`) on a count, sum or rate whose count is 1-4, on a share
//!   whose numerator or its complement is 1-4 (case and interview tables, or any indicator with
//!   `disclosure_control = true`; a count publishes its universe as `n_unweighted`, so the same holds for its
//!   complement), and on any proportion whose denominator is under 5;
//! * complementary suppression ([`super::protect`]), for every statistic but a change, whatever its
//!   `disclosure_control`: in a breakdown (total and levels) where exactly one non-empty cell is withheld, for any
//!   reason, the smallest other is withheld too, and a cell withheld in one indicator is withheld in every
//!   indicator that publishes the same records (a count and a share with the same universe and numerator, a total
//!   and a rate of the same years). A withheld row hides its estimate, interval, `n_unweighted` and `n_weighted`;
//! * `not_collected` when the country delivered no such table, or when an indicator over the reference years finds
//!   no row in them (for a change: in the first or last year); `suppressed` when nothing is left to estimate (no
//!   row in the universe, a change from zero).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use dh_config::country::{Population, ReferenceYears};
use dh_expr::MissingTreatment;

use super::catalogue::{
    FamilyCatalogue, FamilyIndicator, FamilyStatistic, INTERVIEW_THEMES, REGISTER_TABLE,
    SEGMENTS_TABLE,
};
use super::disclosure::{SMALL_COUNT_THRESHOLD, is_small, wilson};
use super::protect::{Breakdown, Cell as ProtectedCell, CellKey, RowSetBuilder, hide, protect};
use super::themes::interview_themes;
use crate::estimate::{EstimateRow, TOTAL};
use crate::flags::{Flag, Flags, Precision, publication_flag, reliability};
use crate::pipeline_config::Thresholds;

#[derive(Debug, thiserror::Error)]
pub enum FamilyError {
    #[error("{iso3}: family indicator `{indicator}`: {message}")]
    Indicator {
        iso3: String,
        indicator: String,
        message: String,
    },
}

/// Sums of one domain level.
#[derive(Debug, Clone, Default)]
struct Cell {
    /// Rows of the universe (counted: numerator known).
    n: usize,
    /// Rows with the numerator true.
    x: usize,
    /// Sum of the variable over the universe rows with the numerator.
    sum: f64,
    /// Sum of the variable over every counted row (the denominator of a share of a sum).
    counted_sum: f64,
    /// Sum of the variable over the baseline rows (change).
    base: f64,
    base_rows: usize,
    /// The codes of a categorical variable in the cell's records (distinct, ascending).
    codes: BTreeSet<i64>,
    /// The baseline rows of a change (they identify its earlier period's cell).
    baseline_rows: RowSetBuilder,
    /// The counted rows and the numerator rows (table positions), which identify the cell across indicators.
    counted_rows: RowSetBuilder,
    numerator_rows: RowSetBuilder,
}

/// Per-row inputs of one indicator.
struct Inputs {
    in_universe: Vec<bool>,
    counted: Vec<bool>,
    value: Vec<bool>,
    in_baseline: Vec<bool>,
    variable: Vec<Option<f64>>,
    /// The codebook code of a categorical variable in each row.
    code: Vec<Option<i64>>,
}

fn mask(a: &BooleanArray) -> Vec<bool> {
    (0..a.len()).map(|i| a.is_valid(i) && a.value(i)).collect()
}

fn inputs(ind: &FamilyIndicator, batch: &RecordBatch) -> Result<Inputs, String> {
    let rows = batch.num_rows();
    let universe = ind.universe.evaluate(batch).map_err(|e| e.to_string())?;
    let (value, counted) = match &ind.numerator {
        Some(n) => {
            let r = n
                .evaluate(batch)
                .map_err(|e| e.to_string())?
                .resolve(|_| MissingTreatment::Exclude);
            (mask(&r.value), mask(&r.counted))
        }
        None => (vec![true; rows], vec![true; rows]),
    };
    let in_baseline = match &ind.baseline {
        Some(b) => mask(&b.evaluate(batch).map_err(|e| e.to_string())?.is_true()),
        None => vec![false; rows],
    };
    let categorical = ind.statistic == FamilyStatistic::Categorical;
    let code = match &ind.variable {
        Some(name) if categorical => codes_of(batch, name, &ind.codes)?,
        _ => vec![None; rows],
    };
    let variable = match &ind.variable {
        Some(name) if !categorical => {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| format!("column `{name}` is missing"))?;
            let f = cast(column, &DataType::Float64).map_err(|e| e.to_string())?;
            f.as_primitive::<Float64Type>().iter().collect()
        }
        _ => vec![None; rows],
    };
    Ok(Inputs {
        in_universe: mask(&universe.is_true()),
        counted,
        value,
        in_baseline,
        variable,
        code,
    })
}

/// The code of each row's label of the categorical column `name` (`None` for a null or a missing label).
fn codes_of(
    batch: &RecordBatch,
    name: &str,
    codes: &[(i64, String)],
) -> Result<Vec<Option<i64>>, String> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| format!("column `{name}` is missing"))?;
    let text = cast(column, &DataType::Utf8).map_err(|e| e.to_string())?;
    Ok(text
        .as_string::<i32>()
        .iter()
        .map(|v| v.and_then(|v| codes.iter().find(|(_, l)| l == v).map(|(c, _)| *c)))
        .collect())
}

/// The levels of a breakdown column: its distinct values (as text) and each row's index into them (`None` for a
/// null). One small integer per row, not a string: a 10,000,000-row table costs 40 MB here, not 500.
struct Levels {
    values: Vec<String>,
    rows: Vec<Option<u32>>,
}

fn levels_of(batch: &RecordBatch, column: &str) -> Result<Levels, String> {
    let array = batch
        .column_by_name(column)
        .ok_or_else(|| format!("column `{column}` is missing"))?;
    let text = cast(array, &DataType::Utf8).map_err(|e| e.to_string())?;
    let mut index: HashMap<&str, u32> = HashMap::new();
    let mut values: Vec<String> = Vec::new();
    let mut rows = Vec::with_capacity(text.len());
    for v in text.as_string::<i32>().iter() {
        rows.push(match v {
            Some(v) => Some(match index.get(v) {
                Some(&i) => i,
                None => {
                    let i = u32::try_from(values.len())
                        .map_err(|_| format!("column `{column}` has too many distinct values"))?;
                    index.insert(v, i);
                    values.push(v.to_string());
                    i
                }
            }),
            None => None,
        });
    }
    Ok(Levels { values, rows })
}

fn cell(inputs: &Inputs, rows: impl Iterator<Item = usize>) -> Cell {
    let mut c = Cell::default();
    for r in rows {
        if inputs.in_universe[r] && inputs.counted[r] {
            c.n += 1;
            c.counted_rows.push(r as u32);
            c.counted_sum += inputs.variable[r].unwrap_or(0.0);
            if let Some(code) = inputs.code[r] {
                c.codes.insert(code);
            }
            if inputs.value[r] {
                c.x += 1;
                c.sum += inputs.variable[r].unwrap_or(0.0);
                c.numerator_rows.push(r as u32);
            }
        }
        if inputs.in_baseline[r] && inputs.counted[r] && inputs.value[r] {
            c.base += inputs.variable[r].unwrap_or(0.0);
            c.base_rows += 1;
            c.baseline_rows.push(r as u32);
        }
    }
    c
}

/// The published row of one cell (before secondary suppression).
fn row(
    ind: &FamilyIndicator,
    domain: &str,
    level: &str,
    c: &Cell,
    internet_users: f64,
    thresholds: &Thresholds,
) -> EstimateRow {
    let mut r = EstimateRow {
        indicator: ind.id.clone(),
        indicator_version: ind.version.clone(),
        statistic: ind.statistic.name(),
        domain: domain.to_string(),
        domain_value: level.to_string(),
        estimate: None,
        se: None,
        ci_lower: None,
        ci_upper: None,
        ci_method: "none",
        df: None,
        deff: None,
        n_unweighted: c.n,
        n_weighted: c.n as f64,
        population_estimate: None,
        flag: Flag::Ok,
        flags: Flags::OK,
    };
    let flags = match ind.statistic {
        FamilyStatistic::Share if ind.variable.is_some() => share_of_sum(ind, c, &mut r),
        FamilyStatistic::UnweightedProportion | FamilyStatistic::Share => {
            proportion(ind, c, thresholds, &mut r)
        }
        FamilyStatistic::Count => {
            r.estimate = Some(c.x as f64);
            let mut flags = Flags::OK;
            // n_unweighted is published with the count, so its complement in the universe is a cell too.
            if ind.disclosure_control && (small(c.x as f64) || small((c.n - c.x) as f64)) {
                flags.insert(Flag::SmallCount);
            }
            flags
        }
        FamilyStatistic::Total | FamilyStatistic::RatePer10000 => {
            total(ind, c, internet_users, &mut r)
        }
        FamilyStatistic::Change => change(ind, c, &mut r),
        FamilyStatistic::Categorical => categorical(c, &mut r),
    };
    r.set_flags(flags);
    hide(&mut r);
    r
}

/// A count (or a sum) that the small-count rule withholds: 1 to 4.
fn small(v: f64) -> bool {
    is_small(v.round().max(0.0) as u64, SMALL_COUNT_THRESHOLD)
}

/// A share of records or an unweighted proportion: base rules, Wilson interval, reliability.
fn proportion(
    ind: &FamilyIndicator,
    c: &Cell,
    thresholds: &Thresholds,
    r: &mut EstimateRow,
) -> Flags {
    let mut flags = Flags::OK;
    r.ci_method = "wilson";
    let controlled = ind.disclosure_control;
    if ind.statistic == FamilyStatistic::UnweightedProportion {
        flags.insert(Flag::NonRepresentative);
    }
    if c.n == 0 {
        flags.insert(Flag::Suppressed);
    } else if c.n < SMALL_COUNT_THRESHOLD as usize
        || (controlled && (small(c.x as f64) || small((c.n - c.x) as f64)))
    {
        flags.insert(Flag::SmallCount);
    } else {
        flags.insert(publication_flag(c.n, false, thresholds));
    }
    if !flags.hides_estimate() {
        r.estimate = Some(c.x as f64 / c.n as f64);
        if let Some((lo, hi)) = wilson(c.x, c.n) {
            r.ci_lower = Some(lo);
            r.ci_upper = Some(hi);
            let precision = Precision::Proportion {
                ci_lower: lo,
                ci_upper: hi,
                n_unweighted: c.n,
                deff: None,
            };
            if let Some(f) = reliability(precision, thresholds) {
                flags.insert(f);
            }
        }
    }
    flags
}

/// A share of the sum of a count column (e.g. OCSEA contacts among all contacts): a census of administrative
/// counts, so no sampling error and no interval (`ci_method` `none`) and no base rule; `n_unweighted` is the
/// sum of the denominator (so estimate x n is the numerator). Withheld when the denominator is under 5 or, under
/// disclosure control, the numerator or its complement is 1 to 4; `suppressed` when the denominator is 0.
fn share_of_sum(ind: &FamilyIndicator, c: &Cell, r: &mut EstimateRow) -> Flags {
    let mut flags = Flags::OK;
    let (x, n) = (c.sum, c.counted_sum);
    r.n_unweighted = n.round().max(0.0) as usize;
    r.n_weighted = r.n_unweighted as f64;
    if n <= 0.0 {
        flags.insert(Flag::Suppressed);
    } else if n < SMALL_COUNT_THRESHOLD as f64
        || (ind.disclosure_control && (small(x) || small(n - x)))
    {
        flags.insert(Flag::SmallCount);
    } else {
        r.estimate = Some(x / n);
    }
    flags
}

/// A sum of a column, or that sum per 10,000 internet-using children: only the small-count rule.
fn total(ind: &FamilyIndicator, c: &Cell, internet_users: f64, r: &mut EstimateRow) -> Flags {
    let mut flags = Flags::OK;
    r.estimate = Some(match ind.statistic {
        FamilyStatistic::Total => c.sum,
        _ => c.sum / internet_users * 10_000.0,
    });
    if ind.statistic == FamilyStatistic::Total {
        r.population_estimate = Some(c.sum);
    }
    if c.x == 0 {
        flags.insert(Flag::Suppressed);
    } else if ind.disclosure_control && small(c.sum) {
        flags.insert(Flag::SmallCount);
    }
    flags
}

/// The relative change of a sum from the baseline rows to the universe rows.
fn change(ind: &FamilyIndicator, c: &Cell, r: &mut EstimateRow) -> Flags {
    let mut flags = Flags::OK;
    r.n_unweighted = c.n + c.base_rows;
    r.n_weighted = r.n_unweighted as f64;
    if ind.disclosure_control && (small(c.sum) || small(c.base)) {
        flags.insert(Flag::SmallCount);
    } else if c.base <= 0.0 || c.base_rows == 0 {
        flags.insert(Flag::Suppressed);
    } else {
        r.estimate = Some((c.sum - c.base) / c.base);
    }
    flags
}

/// The code of the cell's one record: `not_collected` without a record (or without a known code), `suppressed`
/// when the records disagree (nothing to publish as one status).
fn categorical(c: &Cell, r: &mut EstimateRow) -> Flags {
    r.n_weighted = c.n as f64;
    match (c.codes.len(), c.codes.first()) {
        (1, Some(code)) => {
            r.estimate = Some(*code as f64);
            Flags::OK
        }
        (0, _) => {
            r.n_unweighted = 0;
            r.n_weighted = 0.0;
            Flags::of(Flag::NotCollected)
        }
        _ => Flags::of(Flag::Suppressed),
    }
}

/// A cell of the sums of `variable` over `rows` (a total or rate publishes it; so do the numerator of a share of a
/// sum and each period of a change).
fn sum_key(ind: &FamilyIndicator, rows: &RowSetBuilder) -> CellKey {
    let rows = rows.clone().finish();
    CellKey {
        table: ind.table.clone(),
        variable: ind.variable.clone(),
        counted: rows.clone(),
        numerator: rows,
    }
}

/// The cell of a row, for [`protect`] (`None` for a change, which relates two periods of one cell, and for a
/// categorical status, which is not a count), and the cells of other rows it publishes too, so that it is
/// withheld with them: a share of a sum publishes its denominator (`n_unweighted`), a change is a ratio of the
/// sums of its two periods.
fn protected_cell(ind: &FamilyIndicator, c: &Cell) -> (Option<ProtectedCell>, Vec<CellKey>) {
    let cell = |key: CellKey, nonempty: bool, size: (u64, u64)| ProtectedCell {
        key,
        nonempty,
        size,
    };
    let whole = |v: f64| v.abs().round() as u64;
    match ind.statistic {
        FamilyStatistic::Categorical => (None, Vec::new()),
        FamilyStatistic::Change if ind.variable.is_some() => (
            None,
            vec![
                sum_key(ind, &c.baseline_rows),
                sum_key(ind, &c.numerator_rows),
            ],
        ),
        FamilyStatistic::Change => (None, Vec::new()),
        FamilyStatistic::Total | FamilyStatistic::RatePer10000 => (
            Some(cell(
                sum_key(ind, &c.numerator_rows),
                c.x > 0 && c.sum != 0.0,
                (whole(c.sum), 0),
            )),
            Vec::new(),
        ),
        FamilyStatistic::Share if ind.variable.is_some() => (
            Some(cell(
                sum_key(ind, &c.numerator_rows),
                c.counted_sum > 0.0,
                (whole(c.counted_sum), whole(c.sum)),
            )),
            vec![sum_key(ind, &c.counted_rows)],
        ),
        FamilyStatistic::Count | FamilyStatistic::Share | FamilyStatistic::UnweightedProportion => {
            let key = CellKey {
                table: ind.table.clone(),
                variable: None,
                counted: c.counted_rows.clone().finish(),
                numerator: c.numerator_rows.clone().finish(),
            };
            (
                Some(cell(key, c.n > 0, (c.n as u64, c.x as u64))),
                Vec::new(),
            )
        }
    }
}

fn numeric_order(a: &String, b: &String) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

/// Every row of one indicator on its table, with each row's cell and the indicator's breakdowns (row indices
/// local to the returned rows).
struct IndicatorRows {
    rows: Vec<EstimateRow>,
    cells: Vec<Option<ProtectedCell>>,
    /// The other cells each row publishes (see [`protected_cell`]).
    follows: Vec<Vec<CellKey>>,
    breakdowns: Vec<Breakdown>,
}

impl IndicatorRows {
    fn push(&mut self, row: EstimateRow, (cell, follows): (Option<ProtectedCell>, Vec<CellKey>)) {
        self.rows.push(row);
        self.cells.push(cell);
        self.follows.push(follows);
    }
}

fn indicator_rows(
    ind: &FamilyIndicator,
    batch: &RecordBatch,
    internet_users: f64,
    thresholds: &Thresholds,
) -> Result<IndicatorRows, String> {
    let inputs = inputs(ind, batch)?;
    let rows = batch.num_rows();
    if ind.uses_reference_years() && !has_data_in_reference_years(ind, &inputs) {
        return Ok(IndicatorRows {
            rows: vec![not_collected(ind)],
            cells: vec![None],
            follows: vec![Vec::new()],
            breakdowns: Vec::new(),
        });
    }
    let mut out = IndicatorRows {
        rows: Vec::new(),
        cells: Vec::new(),
        follows: Vec::new(),
        breakdowns: Vec::new(),
    };
    // A categorical status has no total (the status of every provision together means nothing).
    if ind.statistic != FamilyStatistic::Categorical {
        let total = cell(&inputs, 0..rows);
        out.push(
            row(ind, TOTAL, TOTAL, &total, internet_users, thresholds),
            protected_cell(ind, &total),
        );
    }
    for d in &ind.disaggregations {
        let levels = levels_of(batch, &d.column)?;
        let names: Vec<String> = if d.levels.is_empty() {
            let mut seen = vec![false; levels.values.len()];
            for (r, v) in levels.rows.iter().enumerate() {
                if let Some(v) = v
                    && (inputs.in_universe[r] || inputs.in_baseline[r])
                {
                    seen[*v as usize] = true;
                }
            }
            let mut present: Vec<String> = levels
                .values
                .iter()
                .zip(&seen)
                .filter(|(_, seen)| **seen)
                .map(|(v, _)| v.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            present.sort_by(numeric_order);
            present
        } else {
            d.levels.clone()
        };
        let mut by_level: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (r, v) in levels.rows.iter().enumerate() {
            if let Some(v) = v {
                by_level
                    .entry(levels.values[*v as usize].as_str())
                    .or_default()
                    .push(r as u32);
            }
        }
        let mut breakdown = Breakdown {
            total: 0,
            levels: Vec::new(),
        };
        for level in &names {
            let members = by_level.get(level.as_str()).map_or(&[][..], Vec::as_slice);
            let c = cell(&inputs, members.iter().map(|&r| r as usize));
            breakdown.levels.push(out.rows.len());
            out.push(
                row(ind, &d.column, level, &c, internet_users, thresholds),
                protected_cell(ind, &c),
            );
        }
        if !matches!(
            ind.statistic,
            FamilyStatistic::Change | FamilyStatistic::Categorical
        ) {
            out.breakdowns.push(breakdown);
        }
    }
    Ok(out)
}

/// Whether an indicator over the reference years has rows to work on: its universe holds a row and, for a change,
/// so does its baseline (the first year). Without, the country has no data for those years: `not_collected`,
/// not a suppressed estimate of n = 0.
fn has_data_in_reference_years(ind: &FamilyIndicator, inputs: &Inputs) -> bool {
    let universe = inputs.in_universe.iter().any(|&b| b);
    let baseline = inputs.in_baseline.iter().any(|&b| b);
    universe && (ind.statistic != FamilyStatistic::Change || baseline)
}

fn not_collected(ind: &FamilyIndicator) -> EstimateRow {
    EstimateRow::not_collected(&ind.id, &ind.version, ind.statistic.name(), "none")
}

/// Every family indicator of `catalogue` for one country's normalised tables (catalogue order), with the
/// country's reference years in the indicators that name them and the publication `thresholds` of
/// `pipelines/pipeline.toml`.
pub fn family_indicators(
    iso3: &str,
    tables: &BTreeMap<String, RecordBatch>,
    population: &Population,
    years: ReferenceYears,
    catalogue: &FamilyCatalogue,
    thresholds: &Thresholds,
) -> Result<Vec<EstimateRow>, FamilyError> {
    let internet_users = population.population_12_17 * population.internet_share;
    let mut themes: Option<RecordBatch> = None;
    let mut out = Vec::new();
    let mut cells = Vec::new();
    let mut follows = Vec::new();
    let mut breakdowns = Vec::new();
    for ind in &catalogue.indicators {
        let err = |message: String| FamilyError::Indicator {
            iso3: iso3.to_string(),
            indicator: ind.id.clone(),
            message,
        };
        let ind = ind.for_country(years).map_err(|e| err(e.to_string()))?;
        let ind = ind.as_ref();
        let batch = if ind.table == INTERVIEW_THEMES {
            if themes.is_none()
                && let (Some(register), Some(segments)) =
                    (tables.get(REGISTER_TABLE), tables.get(SEGMENTS_TABLE))
            {
                themes = Some(
                    interview_themes(register, segments, &catalogue.themes)
                        .map_err(|e| err(e.to_string()))?,
                );
            }
            themes.as_ref()
        } else {
            tables.get(&ind.table)
        };
        match batch {
            Some(b) => {
                let found = indicator_rows(ind, b, internet_users, thresholds).map_err(err)?;
                let offset = out.len();
                breakdowns.extend(found.breakdowns.into_iter().map(|b| Breakdown {
                    total: b.total + offset,
                    levels: b.levels.into_iter().map(|i| i + offset).collect(),
                }));
                out.extend(found.rows);
                cells.extend(found.cells);
                follows.extend(found.follows);
            }
            None => {
                out.push(not_collected(ind));
                cells.push(None);
                follows.push(Vec::new());
            }
        }
    }
    protect(&mut out, &cells, &follows, &breakdowns);
    Ok(out)
}

#[cfg(test)]
#[path = "estimate_tests.rs"]
mod tests;
