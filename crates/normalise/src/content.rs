//! Content checks: what a mapped column's delivered values look like, judged per column before any row is built.
//! One registry ([`check_column`] over [`ContentCheck::ALL`]); which checks run on a field and their thresholds come
//! from the schema (`contentChecks`, `skipContentChecks`, `contentLimits`; defaults in
//! `dh_config::schema::ContentCheck`). A column that trips a check fails its country: the mapping or the header is
//! then most likely wrong (swapped header cells, an identifier under a design column's name), and no row of the table
//! is trustworthy. Findings name the file, the column and the check with counts, never a value.
//!
//! Checks (value shapes in `dh_config::content`):
//! * `near_unique`: more than `maxDistinctShare` of the non-blank cells hold distinct values (from `minRows`
//!   cells on): design and geography columns repeat their values, names and ids do not;
//! * `phone`, `coordinates`: some values are shaped like phone numbers (coordinates), and those values do not repeat
//!   the way codes do (distinct share among them above `maxDistinctShare`), so one phone number is enough while a
//!   column of long zero-padded area codes shared by many rows passes;
//! * `email`: any value shaped like an e-mail address;
//! * `personal_name`: at least `minRows` distinct name-shaped values ("Given Family") that do not repeat the way
//!   region names do;
//! * `base_weight`: a value that is not finite or not positive, or a largest weight above `maxWeightRatio` times the
//!   median.
//!
//! Cost: one pass per column; distinct values are counted (and every shape test runs once per distinct value) only
//! for values that may have a shape (at least 3 bytes, with a digit, `@` or a leading capital), except in the few
//! columns `near_unique` or `base_weight` judge whole.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use dh_config::content::{
    looks_like_coordinates, looks_like_email, looks_like_personal_name, looks_like_phone,
};
use dh_config::schema::{ContentCheck, ContentLimits};
use dh_ingest::{RawColumn, RawTable};
use rayon::prelude::*;

use crate::cells::trim;
use crate::lookup::parse_number;
use crate::plan::{Input, TablePlan};

/// Runs every column's checks (columns in parallel); findings in column order.
pub fn check_table(
    limits: &ContentLimits,
    plan: &TablePlan,
    raw: &RawTable,
    skip: &[bool],
) -> Vec<ContentFinding> {
    plan.columns
        .par_iter()
        .filter_map(|column| {
            let Input::Raw(index) = column.input else {
                return None;
            };
            let checks = column.field.content_checks();
            if checks.is_empty() {
                return None;
            }
            let every_value = checks
                .iter()
                .any(|c| matches!(c, ContentCheck::NearUnique | ContentCheck::BaseWeight));
            let values = Distinct::of(raw.columns.get(index)?, skip, every_value);
            Some(check_column(
                &column.field.name,
                &column.source,
                &checks,
                limits,
                &values,
            ))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

/// A column that tripped a check: which check and what was counted (never a value).
#[derive(Debug, Clone, PartialEq)]
pub struct ContentFinding {
    /// Harmonised column.
    pub column: String,
    /// Source column as configured.
    pub source_column: String,
    pub check: ContentCheck,
    /// Counts only, e.g. "987 distinct values in 994 non-blank cells (99%; at most 50% allowed)".
    pub detail: String,
}

impl std::fmt::Display for ContentFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column `{}` (source `{}`) fails content check `{}`: {}",
            self.column, self.source_column, self.check, self.detail
        )
    }
}

/// Shorter values (in bytes) have no shape a check looks for (the shortest is coordinates such as `1°`), so when
/// only shapes are checked they are counted but not kept: a coded column's `1`, `2`, `98` cost no hashing
/// ([`may_have_shape`]).
const MIN_SHAPED_BYTES: usize = 3;

/// A fast non-keyed hasher for the distinct-value counts (the FxHash mix: rotate, xor, multiply per 8 bytes).
/// Counts are only summed or sorted, never listed in hash order, so the hasher does not reach any output.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(word);
            self.add(u64::from_le_bytes(b));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Distinct values with their counts, hashed with [`FxHasher`].
pub type ValueCounts<'a> = HashMap<&'a str, u32, BuildHasherDefault<FxHasher>>;

/// Distinct non-blank trimmed values of a column with their counts (rows in `skip` left out).
pub struct Distinct<'a> {
    /// Every distinct value, or (when built for shape checks only) those of at least [`MIN_SHAPED_BYTES`].
    pub counts: ValueCounts<'a>,
    /// Non-blank cells counted (all of them, kept in `counts` or not).
    pub cells: usize,
}

/// Whether a value can have a shape a check looks for: at least [`MIN_SHAPED_BYTES`] long, and holding a digit or
/// `@` (phone, coordinates, e-mail) or starting with an upper-case letter (names). `yes`, `dont_know`, `12` cannot.
#[inline]
fn may_have_shape(cell: &str) -> bool {
    cell.len() >= MIN_SHAPED_BYTES
        && (cell.bytes().any(|b| b.is_ascii_digit() || b == b'@')
            || cell.chars().next().is_some_and(char::is_uppercase))
}

impl<'a> Distinct<'a> {
    /// `every_value`: keep every distinct value (for `near_unique` and `base_weight`), not only those long enough
    /// to have a shape.
    pub fn of(column: &'a RawColumn, skip: &[bool], every_value: bool) -> Self {
        let mut counts = ValueCounts::default();
        let mut cells = 0;
        // Runs of equal values (rows of one PSU, stratum or region often follow each other) are counted before
        // they are hashed.
        let mut run: Option<(&'a str, u32)> = None;
        for (row, cell) in column.iter().enumerate() {
            if skip.get(row).copied().unwrap_or(false) {
                continue;
            }
            let cell = trim(cell);
            if cell.is_empty() {
                continue;
            }
            cells += 1;
            if every_value || may_have_shape(cell) {
                match &mut run {
                    Some((value, n)) if *value == cell => *n += 1,
                    _ => {
                        if let Some((value, n)) = run.replace((cell, 1)) {
                            *counts.entry(value).or_insert(0) += n;
                        }
                    }
                }
            }
        }
        if let Some((value, n)) = run {
            *counts.entry(value).or_insert(0) += n;
        }
        Distinct { counts, cells }
    }

    /// Distinct values and cells among the values `shaped` accepts.
    fn shaped(&self, shaped: impl Fn(&str) -> bool) -> (usize, usize) {
        self.counts
            .iter()
            .filter(|(v, _)| shaped(v))
            .fold((0, 0), |(d, c), (_, n)| (d + 1, c + *n as usize))
    }
}

/// Most findings named in one error message (the rest are counted).
pub const MAX_FINDINGS_SHOWN: usize = 8;

/// The findings as one line for an error message, at most [`MAX_FINDINGS_SHOWN`] of them.
pub fn describe(findings: &[ContentFinding]) -> String {
    let mut parts: Vec<String> = findings
        .iter()
        .take(MAX_FINDINGS_SHOWN)
        .map(ToString::to_string)
        .collect();
    if findings.len() > MAX_FINDINGS_SHOWN {
        parts.push(format!("and {} more", findings.len() - MAX_FINDINGS_SHOWN));
    }
    parts.join("; ")
}

fn percent(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// Runs `checks` on one column's distinct values; the findings of the checks it trips.
pub fn check_column(
    column: &str,
    source_column: &str,
    checks: &[ContentCheck],
    limits: &ContentLimits,
    values: &Distinct<'_>,
) -> Vec<ContentFinding> {
    let share = limits.max_distinct_share;
    let repeating_too_little =
        |distinct: usize, cells: usize| cells > 0 && distinct as f64 / cells as f64 > share;
    let mut out = Vec::new();
    for &check in checks {
        let detail = match check {
            ContentCheck::NearUnique => {
                let distinct = values.counts.len();
                (values.cells >= limits.min_rows
                    && repeating_too_little(distinct, values.cells))
                .then(|| {
                    format!(
                        "{distinct} distinct values in {} non-blank cells ({}; at most {} allowed for a column whose \
                         values repeat)",
                        values.cells,
                        percent(distinct as f64 / values.cells as f64),
                        percent(share)
                    )
                })
            }
            ContentCheck::Phone | ContentCheck::Coordinates => {
                let (what, shaped): (&str, fn(&str) -> bool) = if check == ContentCheck::Phone {
                    ("phone numbers", looks_like_phone)
                } else {
                    ("GPS coordinates", looks_like_coordinates)
                };
                let (distinct, cells) = values.shaped(shaped);
                (distinct > 0 && repeating_too_little(distinct, cells)).then(|| {
                    format!(
                        "{cells} cells hold {distinct} distinct values shaped like {what}, which do not repeat the \
                         way codes do"
                    )
                })
            }
            ContentCheck::Email => {
                let (distinct, cells) = values.shaped(looks_like_email);
                (distinct > 0).then(|| {
                    format!(
                        "{cells} cells hold {distinct} distinct values shaped like e-mail addresses"
                    )
                })
            }
            ContentCheck::PersonalName => {
                let (distinct, cells) = values.shaped(looks_like_personal_name);
                (distinct >= limits.min_rows && repeating_too_little(distinct, cells)).then(|| {
                    format!(
                        "{cells} cells hold {distinct} distinct values shaped like personal names, which do not \
                         repeat the way place names do"
                    )
                })
            }
            ContentCheck::BaseWeight => base_weight(limits, values),
        };
        if let Some(detail) = detail {
            out.push(ContentFinding {
                column: column.to_string(),
                source_column: source_column.to_string(),
                check,
                detail,
            });
        }
    }
    out
}

/// `base_weight`: every parsed value finite and positive, the largest at most `maxWeightRatio` times the median.
/// Cells that do not parse as numbers are left to the cell checks (quarantined as `invalid_value`).
fn base_weight(limits: &ContentLimits, values: &Distinct<'_>) -> Option<String> {
    let mut weights: Vec<(f64, u32)> = Vec::with_capacity(values.counts.len());
    let (mut non_finite, mut non_positive) = (0usize, 0usize);
    for (text, n) in &values.counts {
        let Some(x) = parse_number(text).or_else(|| non_finite_number(text)) else {
            continue;
        };
        if !x.is_finite() {
            non_finite += *n as usize;
        } else if x <= 0.0 {
            non_positive += *n as usize;
        } else {
            weights.push((x, *n));
        }
    }
    if non_finite > 0 || non_positive > 0 {
        return Some(format!(
            "{non_finite} cells are not finite numbers and {non_positive} are zero or negative; base weights are \
             positive"
        ));
    }
    weights.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: u64 = weights.iter().map(|w| w.1 as u64).sum();
    let (&(largest, _), half) = (weights.last()?, total.div_ceil(2));
    let mut seen = 0u64;
    let median = weights.iter().find_map(|&(x, n)| {
        seen += n as u64;
        (seen >= half).then_some(x)
    })?;
    let ratio = largest / median;
    (ratio > limits.max_weight_ratio).then(|| {
        // The ratio itself is not shown: times the (published) median it would give the value back.
        format!(
            "the largest base weight is more than {} times the median; check that the column holds weights",
            limits.max_weight_ratio
        )
    })
}

/// Spellings of infinity and NaN that number parsers accept.
fn non_finite_number(text: &str) -> Option<f64> {
    let lower = text.trim().to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    matches!(body, "inf" | "infinity" | "nan").then_some(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(check: ContentCheck, cells: &[&str]) -> Vec<ContentFinding> {
        let owned: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        let column = RawColumn::from_cells("SRC", &refs).unwrap();
        let every = matches!(check, ContentCheck::NearUnique | ContentCheck::BaseWeight);
        let values = Distinct::of(&column, &[], every);
        check_column("col", "SRC", &[check], &ContentLimits::default(), &values)
    }

    fn repeated(values: &[&str], times: usize) -> Vec<String> {
        (0..times)
            .flat_map(|_| values.iter().map(|s| s.to_string()))
            .collect()
    }

    fn refs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    #[test]
    fn near_unique_trips_on_names_not_on_regions() {
        let names: Vec<String> = (0..40).map(|i| format!("Baré Pakiso{i}")).collect();
        let found = run(ContentCheck::NearUnique, &refs(&names));
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .detail
                .starts_with("40 distinct values in 40 non-blank cells"),
            "{found:?}"
        );
        assert!(!found[0].to_string().contains("Baré"), "{found:?}");
        let regions = repeated(&["Bangkok", "Northern", "Southern", "Central"], 10);
        assert_eq!(run(ContentCheck::NearUnique, &refs(&regions)), vec![]);
        // Too few cells to judge.
        assert_eq!(run(ContentCheck::NearUnique, &["A", "B", "C"]), vec![]);
    }

    #[test]
    fn one_phone_trips_but_repeated_zero_padded_codes_pass() {
        let mut cells = repeated(&["Bangkok", "Northern"], 20);
        cells.push("0899990001".into());
        let found = run(ContentCheck::Phone, &refs(&cells));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(!found[0].detail.contains("0899990001"));
        let codes = repeated(&["0110000700", "0110000800", "0110000900"], 10);
        assert_eq!(run(ContentCheck::Phone, &refs(&codes)), vec![]);
    }

    #[test]
    fn emails_coordinates_and_names() {
        assert_eq!(run(ContentCheck::Email, &["a", "x.y@example.org"]).len(), 1);
        assert_eq!(
            run(ContentCheck::Coordinates, &["13.883030", "13.866762"]).len(),
            1
        );
        // The shortest shaped value is still seen when short values are not kept.
        assert_eq!(run(ContentCheck::Coordinates, &["1", "2", "1°"]).len(), 1);
        let names: Vec<String> = (0..12)
            .map(|i| format!("Somchai Jai{}", "dee".repeat(i + 1)))
            .collect();
        assert_eq!(run(ContentCheck::PersonalName, &refs(&names)).len(), 1);
        // Many two-word region names, each repeated: not names.
        let regions: Vec<String> = (0..17)
            .map(|i| format!("Western Vis{}", "a".repeat(i + 1)))
            .collect();
        let regions = repeated(&refs(&regions), 5);
        assert_eq!(run(ContentCheck::PersonalName, &refs(&regions)), vec![]);
    }

    /// Counting runs before hashing gives the plain count of every trimmed non-blank cell outside `skip`.
    #[test]
    fn distinct_counts_equal_a_plain_count() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for _ in 0..300 {
            let rows = rng.random_range(0..80);
            let mut cells: Vec<String> = Vec::new();
            for _ in 0..rows {
                let cell = match cells.last() {
                    Some(last) if rng.random_bool(0.5) => last.clone(),
                    _ if rng.random_bool(0.3) => ["0899990001", "Bangkok", " Bangkok", "a@b.org"]
                        [rng.random_range(0..4)]
                    .to_string(),
                    _ => crate::cells::tests::random_cell(&mut rng),
                };
                cells.push(cell);
            }
            let skip: Vec<bool> = (0..rows).map(|_| rng.random_bool(0.1)).collect();
            let column = RawColumn::from_cells("SRC", &cells).unwrap();
            for every_value in [false, true] {
                let mut expected = ValueCounts::default();
                let mut non_blank = 0;
                for (cell, skipped) in cells.iter().zip(&skip) {
                    let cell = cell.trim();
                    if *skipped || cell.is_empty() {
                        continue;
                    }
                    non_blank += 1;
                    if every_value || may_have_shape(cell) {
                        *expected.entry(cell).or_insert(0) += 1;
                    }
                }
                let found = Distinct::of(&column, &skip, every_value);
                assert_eq!(found.counts, expected, "{cells:?}");
                assert_eq!(found.cells, non_blank);
            }
        }
    }

    #[test]
    fn the_value_hasher_tells_short_values_apart() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<FxHasher>::default();
        let values = [
            "",
            "a",
            "a\0",
            "ab",
            "12345678",
            "123456789",
            "1234567\0",
            "Bangkok",
        ];
        let hashes: std::collections::BTreeSet<u64> =
            values.iter().map(|v| build.hash_one(v)).collect();
        assert_eq!(hashes.len(), values.len());
        assert_eq!(
            build.hash_one("Bangkok"),
            build.hash_one(String::from("Bangkok").as_str())
        );
    }

    #[test]
    fn values_without_a_possible_shape_are_not_kept() {
        for v in [
            "1°",
            "0899990001",
            "a@b.org",
            "13.883030",
            "Somchai Jaidee",
            "Élodie Bé",
        ] {
            assert!(may_have_shape(v), "{v}");
        }
        for v in ["1", "98", "yes", "dont_know", "female"] {
            assert!(!may_have_shape(v), "{v}");
        }
    }

    #[test]
    fn base_weights() {
        let weights = repeated(&["59.0667", "61.2", "120.5"], 10);
        assert_eq!(run(ContentCheck::BaseWeight, &refs(&weights)), vec![]);
        let mut one_phone = weights.clone();
        one_phone.push("0899990001".into());
        let found = run(ContentCheck::BaseWeight, &refs(&one_phone));
        assert!(found[0].detail.contains("times the median"), "{found:?}");
        for bad in ["0", "-3", "inf", "NaN"] {
            let mut w = weights.clone();
            w.push(bad.into());
            assert_eq!(run(ContentCheck::BaseWeight, &refs(&w)).len(), 1, "{bad}");
        }
        // Text is left to the cell checks.
        let mut w = weights.clone();
        w.push("n/a".into());
        assert_eq!(run(ContentCheck::BaseWeight, &refs(&w)), vec![]);
    }
}
