//! Complementary suppression of survey estimates. A level withheld for a small base is recoverable when it is
//! the only one withheld in its breakdown: its weighted numerator is the total's minus the other levels', and its
//! weighted denominator too (with raked weights the level totals add up to the total's, so hiding `n_weighted`
//! alone does not help). So:
//!
//! * a withheld row hides every number that reconstructs it: estimate, SE, interval, df, design effect,
//!   population estimate and `n_weighted` (`n_unweighted`, the reason it is withheld, stays), and the precision
//!   warnings (`low_base`, `unreliable`) about the estimate it no longer shows;
//! * in a breakdown where exactly one non-empty level is withheld, the non-empty level with the fewest cases
//!   (ties: the first) is withheld too, flagged `suppressed`.
//!
//! The choice depends only on the levels' unweighted denominators, so indicators over the same denominator (a
//! proportion and its `*_count`, p x N) withhold the same levels.

use crate::estimate::EstimateRow;
use crate::flags::Flag;

/// Whether a withheld row keeps its case count: a survey row withheld for a small base does (the count is the
/// reason and gives nothing back); a row withheld by the small-count rule does not (its count is the secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseCount {
    Keep,
    Hide,
}

/// Empties every number of a withheld row that could reconstruct it (its flags stay, and its `n_unweighted` when
/// `count` says so). The one place that decides what a withheld row shows, for survey and family rows alike.
pub fn hide_withheld(row: &mut EstimateRow, count: CaseCount) {
    if !row.flags.hides_estimate() {
        return;
    }
    row.estimate = None;
    row.se = None;
    row.ci_lower = None;
    row.ci_upper = None;
    row.df = None;
    row.deff = None;
    row.population_estimate = None;
    row.n_weighted = 0.0;
    if count == CaseCount::Hide {
        row.n_unweighted = 0;
    }
    row.set_flags(row.flags.withheld_only());
}

/// [`hide_withheld`] for a survey row: its `n_unweighted` stays.
pub fn hide(row: &mut EstimateRow) {
    hide_withheld(row, CaseCount::Keep);
}

/// Applies the rule of the module to the level rows of one breakdown (not the total).
pub fn complement_levels(levels: &mut [EstimateRow]) {
    let hidden = levels
        .iter()
        .filter(|r| r.n_unweighted > 0 && r.flags.hides_estimate())
        .count();
    if hidden == 1
        && let Some(i) = levels
            .iter()
            .enumerate()
            .filter(|(_, r)| r.n_unweighted > 0 && !r.flags.hides_estimate())
            .min_by_key(|(i, r)| (r.n_unweighted, *i))
            .map(|(i, _)| i)
    {
        levels[i].add_flag(Flag::Suppressed);
    }
    for row in levels.iter_mut() {
        hide(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::Flags;

    fn level(value: &str, n: usize, flag: Flag) -> EstimateRow {
        let mut r = EstimateRow::not_collected("p", "1", "proportion", "logit");
        r.domain = "age_band".into();
        r.domain_value = value.into();
        r.n_unweighted = n;
        r.n_weighted = n as f64 * 1000.0;
        if !flag.hides_estimate() {
            r.estimate = Some(0.2);
            r.se = Some(0.05);
            r.population_estimate = Some(0.2 * r.n_weighted);
        }
        r.set_flags(Flags::of(flag));
        r
    }

    #[test]
    fn a_single_small_base_level_takes_the_next_smallest_and_hides_its_weighted_n() {
        let mut levels = vec![
            level("12-13", 20, Flag::Suppressed),
            level("14-15", 60, Flag::Ok),
            level("16-17", 40, Flag::LowBase),
        ];
        complement_levels(&mut levels);
        let flags: Vec<Flag> = levels.iter().map(|r| r.flag).collect();
        assert_eq!(flags, [Flag::Suppressed, Flag::Ok, Flag::Suppressed]);
        assert_eq!((levels[0].n_weighted, levels[2].n_weighted), (0.0, 0.0));
        assert_eq!(
            (levels[2].estimate, levels[2].population_estimate),
            (None, None)
        );
        assert_eq!(levels[2].n_unweighted, 40, "the number of cases stays");
        assert!(
            !levels[2].flags.contains(Flag::LowBase),
            "a withheld row keeps no precision warning about the estimate it hides"
        );
        assert_eq!(levels[1].n_weighted, 60_000.0);
    }

    #[test]
    fn empty_levels_neither_count_nor_protect_and_two_withheld_levels_are_left_alone() {
        // A band the universe cuts is empty: the one small level takes the only other non-empty level.
        let mut cut = vec![
            level("12-13", 0, Flag::Suppressed),
            level("15", 12, Flag::Suppressed),
            level("16-17", 300, Flag::Ok),
        ];
        complement_levels(&mut cut);
        assert_eq!(cut[2].flag, Flag::Suppressed);
        let mut two = vec![
            level("male", 20, Flag::Suppressed),
            level("female", 24, Flag::Suppressed),
        ];
        complement_levels(&mut two);
        assert!(two.iter().all(|r| r.flag == Flag::Suppressed));
        let mut none = vec![level("male", 200, Flag::Ok), level("female", 240, Flag::Ok)];
        complement_levels(&mut none);
        assert!(
            none.iter()
                .all(|r| r.flag == Flag::Ok && r.n_weighted > 0.0)
        );
    }
}
