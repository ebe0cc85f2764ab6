//! The invariants every published indicator row keeps, checked by the indicator stage before a country's rows
//! leave it (so nothing is published that was not checked). A row that breaks one is a defect in `dh`, not in
//! the data: the country fails with the rule, the indicator and the domain named, and its previous outputs stay.
//! `tests/invariants.rs` restates the same rules from the published Parquet of three full runs.

use crate::estimate::EstimateRow;
use crate::flags::{Flag, Precision, reliability};
use crate::pipeline_config::Thresholds;

/// Statistics that may be negative (a relative change); every other one is a count, total, rate, proportion or
/// mean of a non-negative variable.
const SIGNED: [&str; 1] = ["change"];
/// Statistics that are proportions: estimate and bounds in [0, 1].
const PROPORTIONS: [&str; 3] = ["proportion", "unweighted_proportion", "share"];
/// Relative slack for comparisons of an estimate with its bounds (they are computed separately).
const SLACK: f64 = 1e-12;

/// The broken rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Violation {
    #[error(
        "a withheld row ({flag}) carries a number (estimate, SE, interval, df, deff, population estimate or n_weighted)"
    )]
    WithheldShowsNumber { flag: &'static str },
    #[error("`flag` is {flag} but the first condition of `flags` is {first}")]
    PrimaryFlag {
        flag: &'static str,
        first: &'static str,
    },
    #[error("estimate {estimate} lies outside its interval [{lower}, {upper}]")]
    Outside {
        estimate: f64,
        lower: f64,
        upper: f64,
    },
    #[error("zero-width interval [{lower}, {upper}] with SE {se}")]
    Collapsed { lower: f64, upper: f64, se: f64 },
    #[error("only one bound of the interval is published")]
    OneBound,
    #[error("negative value {value} of a non-negative statistic")]
    Negative { value: f64 },
    #[error("proportion or bound {value} outside [0, 1]")]
    NotAProportion { value: f64 },
    #[error("not a finite number: {value}")]
    NotFinite { value: f64 },
    #[error("{n} unweighted cases published as ok (fewer than {min})")]
    SmallBaseOk { n: usize, min: u32 },
    #[error("an estimate that is unreliable by the configured thresholds is published as ok")]
    UnreliableOk,
    #[error("an estimate published as ok names an interval method but has no interval")]
    NoInterval,
}

/// A row that broke a rule, named for the error message (no data value beyond the numbers of the row itself).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "indicator `{indicator}`, {domain} = {domain_value}: {violation}; the row was not published (a defect in dh: please report it)"
)]
pub struct Breach {
    pub indicator: String,
    pub domain: String,
    pub domain_value: String,
    pub violation: Violation,
}

impl Breach {
    pub fn of(row: &EstimateRow, violation: Violation) -> Breach {
        Breach {
            indicator: row.indicator.clone(),
            domain: row.domain.clone(),
            domain_value: row.domain_value.clone(),
            violation,
        }
    }
}

/// Checks one row against every invariant.
pub fn check(row: &EstimateRow, thresholds: &Thresholds) -> Result<(), Violation> {
    let first = row.flags.primary();
    if first != row.flag {
        return Err(Violation::PrimaryFlag {
            flag: row.flag.as_str(),
            first: first.as_str(),
        });
    }
    let numbers = [
        row.estimate,
        row.se,
        row.ci_lower,
        row.ci_upper,
        row.population_estimate,
    ];
    if row.flag.hides_estimate() {
        // n_weighted rebuilds a withheld survey estimate from the total and the other levels
        // (crate::suppression); a withheld family row hides its weighted base as well.
        if numbers.iter().any(Option::is_some)
            || row.df.is_some()
            || row.deff.is_some()
            || row.n_weighted != 0.0
        {
            return Err(Violation::WithheldShowsNumber {
                flag: row.flag.as_str(),
            });
        }
        return Ok(());
    }
    if let Some(value) = numbers.iter().flatten().find(|v| !v.is_finite()) {
        return Err(Violation::NotFinite { value: *value });
    }
    let Some(estimate) = row.estimate else {
        return Ok(());
    };
    let signed = SIGNED.contains(&row.statistic);
    let proportion = PROPORTIONS.contains(&row.statistic);
    let values = [Some(estimate), row.ci_lower, row.ci_upper];
    for value in values.into_iter().flatten() {
        if !signed && value < 0.0 {
            return Err(Violation::Negative { value });
        }
        if proportion && !(0.0..=1.0).contains(&value) {
            return Err(Violation::NotAProportion { value });
        }
    }
    let sampled = match (row.ci_lower, row.ci_upper) {
        (Some(lower), Some(upper)) => {
            let slack = SLACK * estimate.abs().max(1.0);
            if !(lower <= estimate + slack && estimate <= upper + slack) {
                return Err(Violation::Outside {
                    estimate,
                    lower,
                    upper,
                });
            }
            if let Some(se) = row.se.filter(|se| *se > 0.0)
                && upper - lower <= 0.0
            {
                return Err(Violation::Collapsed { lower, upper, se });
            }
            Some((lower, upper))
        }
        (None, None) => None,
        _ => return Err(Violation::OneBound),
    };
    if row.flag != Flag::Ok {
        return Ok(());
    }
    let Some((ci_lower, ci_upper)) = sampled else {
        // administrative counts, totals, rates and changes: no sampling error, only the small-count rule
        if row.ci_method != "none" {
            return Err(Violation::NoInterval);
        }
        return Ok(());
    };
    if row.n_unweighted < thresholds.low_base_below as usize {
        return Err(Violation::SmallBaseOk {
            n: row.n_unweighted,
            min: thresholds.low_base_below,
        });
    }
    let precision = if proportion {
        Precision::Proportion {
            ci_lower,
            ci_upper,
            n_unweighted: row.n_unweighted,
            deff: row.deff,
        }
    } else {
        match row.se {
            Some(se) => Precision::Magnitude { estimate, se },
            None => return Ok(()),
        }
    };
    match reliability(precision, thresholds) {
        Some(_) => Err(Violation::UnreliableOk),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::Flags;

    fn good() -> EstimateRow {
        let mut row = EstimateRow::not_collected("x", "1.0.0", "proportion", "logit");
        row.statistic = "proportion";
        row.estimate = Some(0.2);
        row.se = Some(0.02);
        row.ci_lower = Some(0.16);
        row.ci_upper = Some(0.24);
        row.deff = Some(1.5);
        row.n_unweighted = 900;
        row.n_weighted = 5000.0;
        row.population_estimate = Some(1000.0);
        row.flags = Flags::OK;
        row.flag = Flag::Ok;
        row
    }

    const T: Thresholds = Thresholds::NCHS;

    #[test]
    fn a_sound_row_passes_and_each_broken_rule_is_named() {
        assert_eq!(check(&good(), &T), Ok(()));
        type Breakage = Box<dyn Fn(&mut EstimateRow)>;
        let cases: Vec<(Breakage, &str)> = vec![
            (
                Box::new(|r| (r.ci_lower, r.ci_upper) = (Some(2.2e-16), Some(2.2e-16))),
                "outside",
            ),
            (
                Box::new(|r| (r.ci_lower, r.ci_upper) = (Some(0.2), Some(0.2))),
                "zero-width",
            ),
            (
                Box::new(|r| {
                    r.statistic = "count";
                    (r.estimate, r.ci_lower, r.ci_upper) = (Some(100.0), Some(-5.0), Some(140.0));
                }),
                "negative",
            ),
            (Box::new(|r| r.n_unweighted = 30), "published as ok"),
            (
                Box::new(|r| (r.ci_lower, r.ci_upper) = (Some(0.01), Some(0.45))),
                "unreliable",
            ),
            (
                Box::new(|r| {
                    r.statistic = "mean";
                    (r.estimate, r.se, r.ci_lower, r.ci_upper) =
                        (Some(2.0), Some(0.7), Some(0.6), Some(3.4));
                }),
                "unreliable",
            ),
            (
                Box::new(|r| {
                    r.flags = Flags::of(Flag::Suppressed);
                    r.flag = Flag::Suppressed;
                }),
                "withheld",
            ),
            (
                Box::new(|r| r.flags = Flags::of(Flag::LowBase)),
                "first condition",
            ),
            (Box::new(|r| r.ci_upper = None), "one bound"),
            (
                Box::new(|r| {
                    (r.estimate, r.se, r.ci_lower, r.ci_upper, r.df, r.deff) =
                        (None, None, None, None, None, None);
                    r.population_estimate = None;
                    r.flags = Flags::of(Flag::Suppressed);
                    r.flag = Flag::Suppressed;
                }),
                "withheld",
            ),
            (
                Box::new(|r| (r.estimate, r.ci_upper) = (Some(1.2), Some(1.3))),
                "outside [0, 1]",
            ),
            (Box::new(|r| r.se = Some(f64::NAN)), "finite"),
            (
                Box::new(|r| (r.ci_lower, r.ci_upper) = (None, None)),
                "has no interval",
            ),
        ];
        for (break_it, words) in cases {
            let mut row = good();
            break_it(&mut row);
            let message = check(&row, &T).map_err(|e| e.to_string());
            assert!(
                message.as_ref().is_err_and(|m| m.contains(words)),
                "expected `{words}`, got {message:?}"
            );
        }
    }

    #[test]
    fn changes_may_be_negative_and_administrative_counts_need_no_interval() {
        let mut change = good();
        change.statistic = "change";
        change.ci_method = "none";
        (change.estimate, change.se, change.ci_lower, change.ci_upper) =
            (Some(-0.3), None, None, None);
        change.population_estimate = None;
        assert_eq!(check(&change, &T), Ok(()));
        let mut count = change.clone();
        count.statistic = "count";
        count.estimate = Some(7.0);
        count.n_unweighted = 7;
        assert_eq!(check(&count, &T), Ok(()));
        count.estimate = Some(-1.0);
        assert_eq!(check(&count, &T), Err(Violation::Negative { value: -1.0 }));
    }
}
