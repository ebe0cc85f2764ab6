//! A differencing attacker on published indicator rows (the test of the disclosure rules; it never runs in `dh
//! run`). It reads only what a user of the tables sees, and derives what it can by every subtraction and ratio:
//!
//! * within a breakdown of one indicator x country: total minus the other levels, or the sum of the levels when
//!   the total is withheld; a total found through one breakdown is used in the others;
//! * within a row: x = estimate x n for shares and proportions, n = x / estimate;
//! * across indicators: rows with the same `link` (and domain and level) hold the same cell, so what is known of
//!   one is known of the other (a count and a share of the same records, a total and a rate, a survey proportion
//!   and its `*_count`).
//!
//! Each row publishes one cell of [`Kind`]: (x, n) of records, a sum v, or a weighted (X, N). A leak is
//! ([`Finding`]): a withheld row whose value comes back (x and n, v, or X and N; for a count x or X alone), a
//! withheld x or complement n - x of 1-4, or, in an indicator under disclosure control, a published x or n - x
//! of 1-4. An empty cell (n or N of 0) hides nothing and is no leak.

use std::collections::HashMap;

use crate::estimate::TOTAL;

/// What a row's cell is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Records: x with the numerator out of n (counts, shares, unweighted proportions).
    Records,
    /// A sum v of a column (totals; rates are v x a published factor).
    Sum,
    /// Weighted: X, the weighted numerator, out of N, the weighted denominator (survey estimates).
    Weighted,
}

/// One published row as the attacker reads it.
#[derive(Debug, Clone)]
pub struct Row {
    /// The indicator x country the row belongs to (its breakdowns are the relations total = sum of levels).
    pub group: String,
    pub domain: String,
    pub level: String,
    /// Rows of equal `link`, domain and level hold the same cell (`None`: linked to nothing).
    pub link: Option<String>,
    pub kind: Kind,
    /// The estimate is x / n (X / N); otherwise it is x (X, or v / `scale`).
    pub ratio: bool,
    /// v = estimate x `scale` (a rate per 10,000: population / 10,000); 1 otherwise.
    pub scale: f64,
    pub estimate: Option<f64>,
    /// n (records) or N (weighted), when published.
    pub denominator: Option<f64>,
    /// X of a weighted proportion (its population estimate), when published.
    pub numerator: Option<f64>,
    pub withheld: bool,
    /// Under the small-count rule: no x or n - x of 1-4 may be published.
    pub controlled: bool,
}

/// How a row leaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// A withheld row's value comes back (numerator and denominator, or the count or sum itself).
    Recovered {
        numerator: f64,
        denominator: Option<f64>,
    },
    /// A withheld numerator of 1-4 comes back.
    SmallCell { value: f64 },
    /// A withheld complement n - x of 1-4 comes back.
    SmallComplement { value: f64 },
    /// A row under disclosure control publishes a numerator of 1-4.
    PublishedSmallCell { value: f64 },
    /// A row under disclosure control publishes a complement n - x of 1-4.
    PublishedSmallComplement { value: f64 },
}

/// A leak of `rows[row]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Leak {
    pub row: usize,
    pub finding: Finding,
}

/// Relative tolerance of derived values (they are sums and differences of published doubles).
const TOLERANCE: f64 = 1e-6;

fn small(v: f64) -> bool {
    let r = v.round();
    (v - r).abs() <= TOLERANCE * v.abs().max(1.0) && (1.0..=4.0).contains(&r)
}

fn positive(v: f64) -> bool {
    v > TOLERANCE * v.abs().max(1.0) && v > 0.5e-9
}

/// The attacker's knowledge: [numerator, denominator] of each row (records: x, n; sum: v, -; weighted: X, N).
type Known = Vec<[Option<f64>; 2]>;

fn initial(rows: &[Row]) -> Known {
    rows.iter()
        .map(|r| {
            let e = if r.withheld { None } else { r.estimate };
            let d = r.denominator;
            match r.kind {
                Kind::Records => match (r.ratio, e, d) {
                    (true, Some(e), Some(n)) => [Some(e * n), Some(n)],
                    (true, _, d) => [None, d],
                    (false, e, d) => [e, d],
                },
                Kind::Sum => [e.map(|e| e * r.scale), None],
                Kind::Weighted => match (r.ratio, r.numerator.or(e.zip(d).map(|(e, d)| e * d))) {
                    (true, x) => [if r.withheld { None } else { x }, d],
                    (false, _) => [e, d],
                },
            }
        })
        .collect()
}

/// Sets `known[i][q]` when unknown; true when it was.
fn learn(known: &mut Known, i: usize, q: usize, v: f64) -> bool {
    if known[i][q].is_none() && v.is_finite() {
        known[i][q] = Some(v);
        true
    } else {
        false
    }
}

/// Everything the attacker can derive about `rows`.
pub fn derive(rows: &[Row]) -> Known {
    let mut known = initial(rows);
    // The relations: per group, the total row and each breakdown's levels.
    let mut totals: HashMap<&str, usize> = HashMap::new();
    let mut breakdowns: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    let mut links: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.domain == TOTAL {
            totals.insert(&r.group, i);
        } else {
            breakdowns.entry((&r.group, &r.domain)).or_default().push(i);
        }
        if let Some(link) = &r.link {
            links
                .entry((link, &r.domain, &r.level))
                .or_default()
                .push(i);
        }
    }
    let quantities = |i: usize| match rows[i].kind {
        Kind::Sum => 1,
        Kind::Records | Kind::Weighted => 2,
    };
    loop {
        let mut changed = false;
        // Within a row: x = p n, n = x / p.
        for (i, r) in rows.iter().enumerate() {
            if let (true, false, Some(p)) = (r.ratio, r.withheld, r.estimate) {
                if let (None, Some(n)) = (known[i][0], known[i][1]) {
                    changed |= learn(&mut known, i, 0, p * n);
                }
                if let (Some(x), None) = (known[i][0], known[i][1])
                    && p > 0.0
                {
                    changed |= learn(&mut known, i, 1, x / p);
                }
            }
        }
        // Across indicators: the same cell.
        for members in links.values() {
            for q in 0..2 {
                if let Some(v) = members.iter().find_map(|&i| known[i][q]) {
                    for &i in members {
                        if q < quantities(i) {
                            changed |= learn(&mut known, i, q, v);
                        }
                    }
                }
            }
        }
        // Within a breakdown: total = sum of levels.
        for ((group, _), levels) in &breakdowns {
            let Some(&t) = totals.get(group) else {
                continue;
            };
            for q in 0..quantities(t) {
                let unknown: Vec<usize> = levels
                    .iter()
                    .copied()
                    .filter(|&i| known[i][q].is_none())
                    .collect();
                let sum: f64 = levels.iter().filter_map(|&i| known[i][q]).sum();
                match (known[t][q], unknown.as_slice()) {
                    (Some(total), [one]) => changed |= learn(&mut known, *one, q, total - sum),
                    (None, []) => changed |= learn(&mut known, t, q, sum),
                    _ => {}
                }
            }
        }
        if !changed {
            break;
        }
    }
    known
}

/// Every leak of `rows` (at most one per row, the most specific).
pub fn attack(rows: &[Row]) -> Vec<Leak> {
    let known = derive(rows);
    let mut leaks = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let [x, n] = known[i];
        let complement = x.zip(n).map(|(x, n)| n - x);
        let finding = if r.withheld {
            match (r.kind, x, n) {
                (Kind::Records, Some(x), _) if small(x) => Some(Finding::SmallCell { value: x }),
                (Kind::Records, _, _) if complement.is_some_and(small) => {
                    complement.map(|value| Finding::SmallComplement { value })
                }
                (Kind::Records | Kind::Weighted, Some(x), Some(n)) if positive(n) => {
                    Some(Finding::Recovered {
                        numerator: x,
                        denominator: Some(n),
                    })
                }
                (Kind::Sum, Some(v), _) if positive(v) => Some(Finding::Recovered {
                    numerator: v,
                    denominator: None,
                }),
                (Kind::Records | Kind::Weighted, Some(x), _) if !r.ratio && positive(x) => {
                    Some(Finding::Recovered {
                        numerator: x,
                        denominator: n,
                    })
                }
                _ => None,
            }
        } else if r.controlled {
            match (x, complement) {
                (Some(x), _) if r.kind != Kind::Weighted && small(x) => {
                    Some(Finding::PublishedSmallCell { value: x })
                }
                (_, Some(c)) if r.kind == Kind::Records && small(c) => {
                    Some(Finding::PublishedSmallComplement { value: c })
                }
                _ => None,
            }
        } else {
            None
        };
        if let Some(finding) = finding {
            leaks.push(Leak { row: i, finding });
        }
    }
    leaks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(group: &str, domain: &str, level: &str, x: f64, n: f64, withheld: bool) -> Row {
        Row {
            group: group.into(),
            domain: domain.into(),
            level: level.into(),
            link: None,
            kind: Kind::Records,
            ratio: true,
            scale: 1.0,
            estimate: (!withheld).then_some(x / n),
            denominator: (!withheld).then_some(n),
            numerator: None,
            withheld,
            controlled: true,
        }
    }

    /// KHM on main: 1 of 13 sexual-extortion cases involved technology, the only withheld level.
    fn one_withheld_level() -> Vec<Row> {
        vec![
            records("KHM share", TOTAL, TOTAL, 40.0, 330.0, false),
            records("KHM share", "offence", "abuse", 22.0, 295.0, false),
            records("KHM share", "offence", "extortion", 1.0, 13.0, true),
            records("KHM share", "offence", "grooming", 17.0, 22.0 + 0.0, false),
        ]
    }

    #[test]
    fn a_single_withheld_level_comes_back_from_the_total() {
        let leaks = attack(&one_withheld_level());
        assert_eq!(leaks.len(), 1, "{leaks:?}");
        assert_eq!(leaks[0].row, 2);
        assert!(
            matches!(leaks[0].finding, Finding::SmallCell { value } if (value - 1.0).abs() < 1e-9)
        );
    }

    #[test]
    fn two_withheld_levels_protect_each_other_until_a_linked_count_gives_one_away() {
        let mut rows = one_withheld_level();
        rows[1] = records("KHM share", "offence", "abuse", 22.0, 295.0, true);
        assert_eq!(attack(&rows), vec![]);
        // A count of the same records publishes the abuse cell: 22 cases and its n of 295.
        for r in &mut rows {
            r.link = Some("police_cases|tech".into());
        }
        rows.push(Row {
            group: "KHM count".into(),
            link: Some("police_cases|tech".into()),
            ratio: false,
            estimate: Some(22.0),
            ..records("KHM count", "offence", "abuse", 22.0, 295.0, false)
        });
        let leaks = attack(&rows);
        let rows_hit: Vec<usize> = leaks.iter().map(|l| l.row).collect();
        assert_eq!(rows_hit, vec![1, 2], "{leaks:?}");
    }

    #[test]
    fn a_total_found_through_one_breakdown_opens_another() {
        // The total is withheld but year 1 + year 2 give it; then the offence breakdown has one unknown.
        let rows = vec![
            records("g", TOTAL, TOTAL, 30.0, 60.0, true),
            records("g", "year", "1", 10.0, 25.0, false),
            records("g", "year", "2", 20.0, 35.0, false),
            records("g", "offence", "a", 27.0, 30.0, false),
            records("g", "offence", "b", 3.0, 30.0, true),
        ];
        let leaks = attack(&rows);
        assert!(leaks.iter().any(|l| l.row == 4), "{leaks:?}");
        assert!(leaks.iter().any(|l| l.row == 0), "{leaks:?}");
    }

    #[test]
    fn survey_levels_come_back_from_the_weighted_n_and_a_published_small_cell_is_a_leak() {
        let weighted = |level: &str, p: f64, big_n: f64, withheld: bool| Row {
            kind: Kind::Weighted,
            estimate: (!withheld).then_some(p),
            denominator: Some(big_n),
            numerator: (!withheld).then_some(p * big_n),
            controlled: false,
            ..records(
                "s",
                if level == TOTAL { TOTAL } else { "sex" },
                level,
                0.0,
                1.0,
                withheld,
            )
        };
        let rows = vec![
            weighted(TOTAL, 0.2, 1000.0, false),
            weighted("male", 0.1, 400.0, false),
            weighted("female", 0.0, 600.0, true),
        ];
        let leaks = attack(&rows);
        assert_eq!(leaks.len(), 1);
        assert!(
            matches!(leaks[0].finding, Finding::Recovered { numerator, denominator: Some(d) }
                if (numerator - 160.0).abs() < 1e-6 && d == 600.0),
            "{leaks:?}"
        );
        // Without n_weighted on the withheld row and with the second level withheld, nothing comes back.
        let mut safe = rows.clone();
        safe[2].denominator = None;
        safe[1] = weighted("male", 0.1, 400.0, true);
        safe[1].denominator = None;
        assert_eq!(attack(&safe), vec![]);
        // A published count of 3 under disclosure control.
        let count = Row {
            ratio: false,
            estimate: Some(3.0),
            ..records("c", TOTAL, TOTAL, 3.0, 40.0, false)
        };
        assert!(matches!(
            attack(&[count])[..],
            [Leak {
                finding: Finding::PublishedSmallCell { .. },
                ..
            }]
        ));
    }

    #[test]
    fn empty_cells_and_sums_behave() {
        // A withheld empty level (n = 0) hides nothing; a withheld total of reports recovered through a rate is.
        let rows = vec![
            records("g", TOTAL, TOTAL, 10.0, 30.0, false),
            records("g", "d", "a", 10.0, 30.0, false),
            records("g", "d", "b", 0.0, 0.0, true),
        ];
        assert_eq!(attack(&rows), vec![]);
        let sum = |group: &str, level: &str, v: f64, scale: f64, withheld: bool| Row {
            kind: Kind::Sum,
            ratio: false,
            scale,
            estimate: (!withheld).then_some(v / scale),
            link: Some("reports".into()),
            ..records(
                group,
                if level == TOTAL { TOTAL } else { "year" },
                level,
                0.0,
                1.0,
                withheld,
            )
        };
        let rows = vec![
            sum("total", "2017", 3.0, 1.0, true),
            sum("rate", "2017", 3.0, 50.0, false),
        ];
        // The withheld total comes back, and the published rate gives a sum of 3 away by itself.
        let leaks = attack(&rows);
        assert!(
            matches!(
                leaks[..],
                [
                    Leak {
                        row: 0,
                        finding: Finding::Recovered { .. }
                    },
                    Leak {
                        row: 1,
                        finding: Finding::PublishedSmallCell { .. }
                    }
                ]
            ),
            "{leaks:?}"
        );
    }
}
