//! Bad rows planted in deliveries, the way real data go wrong, and their record for `injected.json`.
//!
//! About `bad_row_share` of each delivery's rows (at least one of each kind that applies, at most a third of the
//! rows) get exactly one problem each, on distinct rows:
//!
//! | kind | table | what is written | quarantine reason expected |
//! |---|---|---|---|
//! | `unknown_code` | any | a code the country does not map (`7`, `77`, ...) in a coded item column | `unknown_code` |
//! | `age_out_of_range` | child | age 10, 11, 18 or 19 | `out_of_range` |
//! | `duplicate_respondent_id` | child | the respondent id of another (clean) row | `duplicate_id` (both rows) |
//! | `missing_psu` | child | an empty PSU | `required_missing` |
//! | `caregiver_without_child` | linked | a household id that no child row has | `missing_link` |
//!
//! A duplicated id makes two rows indistinguishable, so both are recorded (each pointing at the other with
//! `duplicate_of_row`). `row` numbers rows as in the file, counting the header as row 1; `data_row` = `row` - 1
//! numbers data records from 1, as dh-ingest does.

use std::collections::BTreeSet;

use rand::Rng;
use rand::seq::index;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    UnknownCode,
    AgeOutOfRange,
    DuplicateRespondentId,
    MissingPsu,
    CaregiverWithoutChild,
}

impl ProblemKind {
    /// The reason code `dh-normalise` gives a row with this problem.
    pub fn expected_reason(self) -> &'static str {
        match self {
            ProblemKind::UnknownCode => "unknown_code",
            ProblemKind::AgeOutOfRange => "out_of_range",
            ProblemKind::DuplicateRespondentId => "duplicate_id",
            ProblemKind::MissingPsu => "required_missing",
            ProblemKind::CaregiverWithoutChild => "missing_link",
        }
    }
}

/// One planted problem, as recorded in `injected.json` (fields in alphabetical order for sorted keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InjectedProblem {
    /// Source column holding the bad value.
    pub column: String,
    pub country: String,
    /// The same row as a 1-based data record number (header not counted): the numbering of dh-ingest's
    /// `row_numbers` and of the quarantine table's `row_number`.
    pub data_row: u64,
    /// For `duplicate_respondent_id`: the other row carrying the same id (numbered like `row`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of_row: Option<u64>,
    pub expected_reason: String,
    /// File name inside the country's folder, as the config names it.
    pub file: String,
    pub harmonised_column: String,
    pub kind: ProblemKind,
    /// Row number in the file, the header being row 1.
    pub row: u64,
    pub table: String,
    /// The raw value written (empty for a missing PSU).
    pub value: String,
}

/// Where a planted problem goes, before it is written (row index 0-based among data rows).
#[derive(Debug, Clone, PartialEq)]
pub struct Injection {
    pub row: usize,
    pub column: usize,
    pub value: String,
    pub kind: ProblemKind,
    pub duplicate_of: Option<usize>,
}

/// What a delivery offers for planting problems: the output column index of each relevant harmonised column.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Coded item columns: (output column, source codes and missing codes in use).
    pub coded: Vec<(usize, BTreeSet<String>)>,
    pub age: Option<usize>,
    pub respondent_id: Option<usize>,
    pub psu: Option<usize>,
    /// For tables linked to the child table: the household id column.
    pub link: Option<usize>,
}

impl Targets {
    fn kinds(&self) -> Vec<ProblemKind> {
        let mut k = Vec::new();
        if !self.coded.is_empty() {
            k.push(ProblemKind::UnknownCode);
        }
        if self.age.is_some() {
            k.push(ProblemKind::AgeOutOfRange);
        }
        if self.respondent_id.is_some() {
            k.push(ProblemKind::DuplicateRespondentId);
        }
        if self.psu.is_some() {
            k.push(ProblemKind::MissingPsu);
        }
        if self.link.is_some() {
            k.push(ProblemKind::CaregiverWithoutChild);
        }
        k
    }
}

/// Plans the problems of one delivery of `rows` data rows. `id_of(row)` gives a row's respondent id and
/// `orphan_household(k)` a household id that matches no child.
pub fn plan(
    targets: &Targets,
    rows: usize,
    share: f64,
    rng: &mut impl Rng,
    id_of: impl Fn(usize) -> String,
    orphan_household: impl Fn(usize) -> String,
) -> Vec<Injection> {
    let kinds = targets.kinds();
    if kinds.is_empty() || rows < 3 || share <= 0.0 {
        return Vec::new();
    }
    let count = ((share * rows as f64).round() as usize)
        .max(kinds.len())
        .min(rows / 3);
    let kinds_of: Vec<ProblemKind> = (0..count).map(|i| kinds[i % kinds.len()]).collect();
    let duplicates = kinds_of
        .iter()
        .filter(|k| **k == ProblemKind::DuplicateRespondentId)
        .count();
    let chosen = index::sample(rng, rows, (count + duplicates).min(rows)).into_vec();
    let (bad_rows, originals) = chosen.split_at(count.min(chosen.len()));
    let mut originals = originals.iter();
    let mut out = Vec::with_capacity(count);
    for (i, (&row, kind)) in bad_rows.iter().zip(&kinds_of).enumerate() {
        let injection = match kind {
            ProblemKind::UnknownCode => {
                let (column, used) = &targets.coded[rng.random_range(0..targets.coded.len())];
                let value = ["7", "77", "777", "97", "-7", "X9"]
                    .iter()
                    .find(|c| !used.contains(**c))
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "?unknown".to_string());
                Injection {
                    row,
                    column: *column,
                    value,
                    kind: *kind,
                    duplicate_of: None,
                }
            }
            ProblemKind::AgeOutOfRange => {
                let value = ["10", "11", "18", "19"][rng.random_range(0..4)].to_string();
                Injection {
                    row,
                    column: targets.age.unwrap_or(0),
                    value,
                    kind: *kind,
                    duplicate_of: None,
                }
            }
            ProblemKind::DuplicateRespondentId => {
                let Some(&original) = originals.next() else {
                    continue;
                };
                Injection {
                    row,
                    column: targets.respondent_id.unwrap_or(0),
                    value: id_of(original),
                    kind: *kind,
                    duplicate_of: Some(original),
                }
            }
            ProblemKind::MissingPsu => Injection {
                row,
                column: targets.psu.unwrap_or(0),
                value: String::new(),
                kind: *kind,
                duplicate_of: None,
            },
            ProblemKind::CaregiverWithoutChild => Injection {
                row,
                column: targets.link.unwrap_or(0),
                value: orphan_household(i),
                kind: *kind,
                duplicate_of: None,
            },
        };
        out.push(injection);
    }
    out.sort_by_key(|j| j.row);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn plants_every_kind_on_distinct_rows() {
        let targets = Targets {
            coded: vec![(3, ["1", "2", "7"].iter().map(|s| s.to_string()).collect())],
            age: Some(1),
            respondent_id: Some(0),
            psu: Some(2),
            link: None,
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let plan = plan(
            &targets,
            1000,
            0.005,
            &mut rng,
            |r| format!("id{r}"),
            |k| format!("orphan{k}"),
        );
        assert_eq!(plan.len(), 5);
        let kinds: BTreeSet<ProblemKind> = plan.iter().map(|p| p.kind).collect();
        assert_eq!(kinds.len(), 4);
        let rows: BTreeSet<usize> = plan.iter().map(|p| p.row).collect();
        assert_eq!(rows.len(), plan.len());
        for p in &plan {
            match p.kind {
                ProblemKind::UnknownCode => assert_eq!(p.value, "77"),
                ProblemKind::DuplicateRespondentId => {
                    let orig = p.duplicate_of.expect("original row");
                    assert!(!rows.contains(&orig));
                    assert_eq!(p.value, format!("id{orig}"));
                }
                _ => {}
            }
        }
        assert!(
            super::plan(
                &Targets::default(),
                1000,
                0.005,
                &mut rng,
                |_| String::new(),
                |_| String::new()
            )
            .is_empty()
        );
    }
}
