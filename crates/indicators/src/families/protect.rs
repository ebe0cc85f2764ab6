//! Complementary suppression of one country's family rows: no withheld cell can be recovered by subtraction from
//! a breakdown's total and its other levels, nor from another indicator that publishes the same cell.
//!
//! A breakdown is one relation `total = sum of levels` (every disaggregation of every indicator, the total row
//! included). Two rows hold the same cell when they count the same records of the same table (a count and a share
//! with the same universe and numerator, a total and a rate of the same column over the same years): they are
//! identified by their [`CellKey`], whatever the indicators are called. The rule, applied until nothing changes:
//!
//! * in a breakdown where exactly one non-empty cell (the total or a level) is withheld, the smallest published
//!   non-empty level (ties: the first; the total when no level is left) is withheld too, flagged
//!   `suppressed_small_count` ("a cell that would reveal one");
//! * a cell withheld in one indicator is withheld in every indicator that publishes it;
//! * a row that publishes other rows' cells besides its own (`follows`: a share of a sum publishes its
//!   denominator as `n_unweighted`, a change is the ratio of its two periods' sums) is withheld when one of those
//!   is withheld (one way: withholding the row does not withhold them).
//!
//! Each step only withholds more, so the loop ends. A withheld row then hides everything that reconstructs it:
//! estimate, interval, population estimate, `n_unweighted` and `n_weighted`, and drops the precision warnings
//! (`low_base`, `unreliable`), which would tell a complementary cell from a small one ([`hide`]).

use std::collections::HashMap;

use crate::estimate::EstimateRow;
use crate::flags::Flag;

/// The records a published cell is made of: two rows with equal keys publish the same numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CellKey {
    /// The table the records come from.
    pub table: String,
    /// The summed column of a total or rate (`None` for counts, shares and proportions).
    pub variable: Option<String>,
    /// Rows in the denominator (the universe with a known numerator).
    pub counted: RowSet,
    /// Rows of the numerator (of a total or rate: the rows summed).
    pub numerator: RowSet,
}

/// A set of table rows, identified by its size and the SHA-256 of its row positions in table order, so that a
/// cell's key takes 40 bytes whatever the table's size (a 10,000,000-row table would otherwise hold 40 MB per
/// cell). Two different sets with one digest would be a SHA-256 collision; even then the rule would only withhold
/// more (two cells taken for one), never publish a withheld one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowSet {
    len: u64,
    digest: [u8; 32],
}

impl RowSet {
    /// The set of `rows` (positions in table order).
    pub fn of(rows: impl IntoIterator<Item = u32>) -> RowSet {
        let mut b = RowSetBuilder::default();
        for r in rows {
            b.push(r);
        }
        b.finish()
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Builds a [`RowSet`] one row at a time (rows pushed in increasing order).
#[derive(Clone, Default)]
pub struct RowSetBuilder {
    len: u64,
    hasher: sha2::Sha256,
}

impl std::fmt::Debug for RowSetBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RowSetBuilder({} rows)", self.len)
    }
}

impl RowSetBuilder {
    pub fn push(&mut self, row: u32) {
        use sha2::Digest;
        self.len += 1;
        self.hasher.update(row.to_le_bytes());
    }

    pub fn finish(self) -> RowSet {
        use sha2::Digest;
        RowSet {
            len: self.len,
            digest: self.hasher.finalize().into(),
        }
    }
}

/// One row's cell: its key, whether anything is in it, and its size (the smallest is the complement of choice).
#[derive(Debug, Clone)]
pub struct Cell {
    pub key: CellKey,
    /// A cell with records in it (a withheld empty cell hides nothing and protects nothing).
    pub nonempty: bool,
    /// Smallest first: (denominator, numerator) for counts and shares, (sum, 0) for totals and rates.
    pub size: (u64, u64),
}

/// One breakdown: the total row and its level rows (indices into the country's rows).
#[derive(Debug, Clone)]
pub struct Breakdown {
    pub total: usize,
    pub levels: Vec<usize>,
}

fn withheld(row: &EstimateRow) -> bool {
    row.flags.hides_estimate()
}

/// Applies the rule of the module to `rows` (`cells[i]` is the cell of `rows[i]`, `None` for rows outside the
/// rule: changes, categorical statuses and not-collected rows; `follows[i]` the other cells `rows[i]` publishes,
/// empty for most rows), then hides the numbers of every withheld row.
pub fn protect(
    rows: &mut [EstimateRow],
    cells: &[Option<Cell>],
    follows: &[Vec<CellKey>],
    breakdowns: &[Breakdown],
) {
    let mut same: HashMap<&CellKey, Vec<usize>> = HashMap::new();
    for (i, cell) in cells.iter().enumerate() {
        if let Some(c) = cell {
            same.entry(&c.key).or_default().push(i);
        }
    }
    let nonempty = |i: usize| {
        cells
            .get(i)
            .and_then(Option::as_ref)
            .is_some_and(|c| c.nonempty)
    };
    let size = |i: usize| {
        cells
            .get(i)
            .and_then(Option::as_ref)
            .map_or((u64::MAX, u64::MAX), |c| c.size)
    };
    loop {
        let mut changed = false;
        for b in breakdowns {
            let members = std::iter::once(b.total).chain(b.levels.iter().copied());
            let hidden = members
                .filter(|&i| nonempty(i) && withheld(&rows[i]))
                .count();
            if hidden != 1 {
                continue;
            }
            let candidate = b
                .levels
                .iter()
                .enumerate()
                .filter(|(_, i)| nonempty(**i) && !withheld(&rows[**i]))
                .min_by_key(|(position, i)| (size(**i), *position))
                .map(|(_, i)| *i)
                .or_else(|| (nonempty(b.total) && !withheld(&rows[b.total])).then_some(b.total));
            if let Some(i) = candidate {
                rows[i].add_flag(Flag::SmallCount);
                changed = true;
            }
        }
        for members in same.values() {
            if members.iter().any(|&i| withheld(&rows[i])) {
                for &i in members {
                    if !withheld(&rows[i]) {
                        rows[i].add_flag(Flag::SmallCount);
                        changed = true;
                    }
                }
            }
        }
        for (i, keys) in follows.iter().enumerate() {
            let hidden = |key: &CellKey| {
                same.get(key)
                    .is_some_and(|m| m.iter().any(|&j| withheld(&rows[j])))
            };
            if i < rows.len() && !withheld(&rows[i]) && keys.iter().any(hidden) {
                rows[i].add_flag(Flag::SmallCount);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for row in rows.iter_mut() {
        hide(row);
    }
}

/// Empties every number of a withheld row that could reconstruct it, its case count included (its flags stay).
pub fn hide(row: &mut EstimateRow) {
    crate::suppression::hide_withheld(row, crate::suppression::CaseCount::Hide);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::TOTAL;
    use crate::flags::Flags;

    fn row(id: &str, level: &str, x: f64, n: usize, flag: Flag) -> EstimateRow {
        let mut r = EstimateRow::not_collected(id, "1", "count", "none");
        r.domain = if level == TOTAL { TOTAL } else { "d" }.into();
        r.domain_value = level.into();
        r.estimate = Some(x);
        r.n_unweighted = n;
        r.n_weighted = n as f64;
        r.set_flags(Flags::of(flag));
        r
    }

    fn cell(table: &str, counted: std::ops::Range<u32>, x: usize) -> Option<Cell> {
        let counted: Vec<u32> = counted.collect();
        let numerator = RowSet::of(counted[..x].iter().copied());
        let counted = RowSet::of(counted);
        Some(Cell {
            size: (counted.len(), numerator.len()),
            nonempty: !counted.is_empty(),
            key: CellKey {
                table: table.into(),
                variable: None,
                counted,
                numerator,
            },
        })
    }

    #[test]
    fn a_row_set_is_identified_by_its_rows_in_order() {
        let a = RowSet::of([1, 5, 9]);
        let mut b = RowSetBuilder::default();
        for r in [1, 5, 9] {
            b.push(r);
        }
        assert_eq!(a, b.finish());
        assert_eq!(a.len(), 3);
        assert_ne!(a, RowSet::of([1, 5, 10]));
        assert_ne!(a, RowSet::of([1, 5]));
        assert_ne!(RowSet::of([]), RowSet::of([0]));
        assert!(RowSet::of([]).is_empty());
    }

    #[test]
    fn one_withheld_level_takes_the_smallest_other_and_hides_its_numbers() {
        // total 40 = 3 (withheld) + 0 (empty) + 9 + 28
        let mut rows = vec![
            row("c", TOTAL, 40.0, 40, Flag::Ok),
            row("c", "a", 3.0, 3, Flag::SmallCount),
            row("c", "b", 0.0, 0, Flag::Ok),
            row("c", "e", 9.0, 9, Flag::LowBase),
            row("c", "f", 28.0, 28, Flag::Ok),
        ];
        let cells = vec![
            cell("t", 0..40, 40),
            cell("t", 0..3, 3),
            cell("t", 3..3, 0),
            cell("t", 3..12, 9),
            cell("t", 12..40, 28),
        ];
        let b = [Breakdown {
            total: 0,
            levels: vec![1, 2, 3, 4],
        }];
        protect(&mut rows, &cells, &vec![Vec::new(); cells.len()], &b);
        let flags: Vec<Flag> = rows.iter().map(|r| r.flag).collect();
        assert_eq!(
            flags,
            [
                Flag::Ok,
                Flag::SmallCount,
                Flag::Ok,
                Flag::SmallCount,
                Flag::Ok
            ]
        );
        assert_eq!((rows[3].estimate, rows[3].n_unweighted), (None, 0));
        assert_eq!(rows[3].n_weighted, 0.0);
        assert_eq!(
            rows[3].flags,
            Flags::of(Flag::SmallCount),
            "the low base of the hidden estimate is not told"
        );
        assert_eq!(
            rows[2].estimate,
            Some(0.0),
            "an empty cell is not a complement"
        );
    }

    #[test]
    fn a_cell_withheld_in_one_indicator_is_withheld_in_every_indicator_that_publishes_it() {
        // A count and a share of the same records: the share withholds level a (5 of 7: base rule), the count
        // does not; without the link the count's 5 and n 7 give the share back.
        let mut rows = vec![
            row("count", TOTAL, 30.0, 60, Flag::Ok),
            row("count", "a", 5.0, 7, Flag::Ok),
            row("count", "b", 10.0, 23, Flag::Ok),
            row("count", "c", 15.0, 30, Flag::Ok),
            row("share", TOTAL, 0.5, 60, Flag::Ok),
            row("share", "a", 5.0 / 7.0, 7, Flag::Suppressed),
            row("share", "b", 10.0 / 23.0, 23, Flag::Suppressed),
            row("share", "c", 0.5, 30, Flag::Ok),
        ];
        let keys = [
            cell("t", 0..60, 30),
            cell("t", 0..7, 5),
            cell("t", 7..30, 10),
            cell("t", 30..60, 15),
        ];
        let cells: Vec<Option<Cell>> = keys.iter().chain(keys.iter()).cloned().collect();
        let b = [
            Breakdown {
                total: 0,
                levels: vec![1, 2, 3],
            },
            Breakdown {
                total: 4,
                levels: vec![5, 6, 7],
            },
        ];
        protect(&mut rows, &cells, &vec![Vec::new(); cells.len()], &b);
        for i in [1, 2, 5, 6] {
            assert!(rows[i].flags.hides_estimate(), "row {i}: {:?}", rows[i]);
            assert_eq!(rows[i].n_unweighted, 0);
        }
        for i in [0, 3, 4, 7] {
            assert!(!rows[i].flags.hides_estimate(), "row {i}");
        }
    }

    #[test]
    fn a_row_that_publishes_a_withheld_cell_of_another_row_is_withheld_with_it_but_not_the_reverse()
    {
        // Row 0 (a total of 3: withheld), row 1 (published, 40), row 2 follows row 0's cell (a share whose n is
        // row 0's sum), row 3 follows row 1's cell and is withheld for its own reason.
        let mut rows = vec![
            row("t", TOTAL, 3.0, 1, Flag::SmallCount),
            row("u", TOTAL, 40.0, 2, Flag::Ok),
            row("s", TOTAL, 0.5, 3, Flag::Ok),
            row("v", TOTAL, 0.5, 3, Flag::SmallCount),
        ];
        let cells = vec![cell("t", 0..3, 3), cell("t", 3..43, 40), None, None];
        let key = |c: &Option<Cell>| c.as_ref().map(|c| c.key.clone()).into_iter().collect();
        let follows = vec![Vec::new(), Vec::new(), key(&cells[0]), key(&cells[1])];
        protect(&mut rows, &cells, &follows, &[]);
        assert!(rows[2].flags.hides_estimate(), "follows a withheld cell");
        assert_eq!(rows[2].estimate, None);
        assert!(!rows[1].flags.hides_estimate(), "one way only");
    }

    #[test]
    fn a_withheld_total_takes_a_level_with_it_in_every_breakdown() {
        let mut rows = vec![
            row("c", TOTAL, 4.0, 4, Flag::SmallCount),
            row("c", "a", 0.0, 0, Flag::Ok),
            row("c", "b", 4.0, 4, Flag::Ok),
        ];
        let cells = vec![cell("t", 0..4, 4), cell("t", 4..4, 0), cell("u", 0..4, 4)];
        let b = [Breakdown {
            total: 0,
            levels: vec![1, 2],
        }];
        protect(&mut rows, &cells, &vec![Vec::new(); cells.len()], &b);
        assert_eq!(rows[2].flag, Flag::SmallCount);
        assert_eq!(rows[1].flag, Flag::Ok);
    }
}
