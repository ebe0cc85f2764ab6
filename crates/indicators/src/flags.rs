//! Publication flags of one estimate (DHS / MICS base rules, NCHS reliability rules; thresholds from
//! `pipelines/pipeline.toml`). A row can meet several conditions at once (a frontline-worker proportion from 30
//! people is both `low_base` and `non_representative`): every condition that holds is kept in a [`Flags`] set,
//! written as the `flags` column (`;`-separated), and the single `flag` column is the first of them in
//! [`Flag::PRECEDENCE`], the one place that orders them.

use crate::pipeline_config::Thresholds;

/// How an estimate may be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flag {
    Ok,
    /// `suppress_below <= n < low_base_below` unweighted cases: shown, flagged.
    LowBase,
    /// Fewer than `suppress_below` unweighted cases: estimate, SE and interval are null.
    Suppressed,
    /// The country did not ask the question: never a zero.
    NotCollected,
    /// Unweighted estimate from a non-probability sample (frontline workers, interviews): shown, flagged.
    NonRepresentative,
    /// A count from 1 to 4 in a case or interview table (or a cell that would reveal one): withheld, shown `<5`.
    SmallCount,
    /// Imprecise by the NCHS presentation standards (see [`reliability`]): shown with a warning, never as `ok`.
    Unreliable,
}

impl Flag {
    /// Every flag.
    pub const ALL: [Flag; 7] = [
        Flag::Ok,
        Flag::LowBase,
        Flag::Suppressed,
        Flag::NotCollected,
        Flag::NonRepresentative,
        Flag::SmallCount,
        Flag::Unreliable,
    ];

    /// The order in which conditions are listed in `flags`, and so which one becomes the row's `flag`: first the
    /// reasons an estimate is withheld (not collected, small count, too few cases), then the warnings on a shown
    /// estimate (low base, unreliable, non-representative). `ok` is the flag of a row with no condition.
    pub const PRECEDENCE: [Flag; 6] = [
        Flag::NotCollected,
        Flag::SmallCount,
        Flag::Suppressed,
        Flag::LowBase,
        Flag::Unreliable,
        Flag::NonRepresentative,
    ];

    /// The flag whose [`Flag::as_str`] is `s`.
    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Ok => "ok",
            Flag::LowBase => "low_base",
            Flag::Suppressed => "suppressed",
            Flag::NotCollected => "not_collected",
            Flag::NonRepresentative => "non_representative",
            Flag::SmallCount => "suppressed_small_count",
            Flag::Unreliable => "unreliable",
        }
    }

    /// What a table cell shows instead of a withheld estimate (`<5` for small counts, else the flag name).
    pub fn cell_text(self) -> &'static str {
        match self {
            Flag::SmallCount => "<5",
            other => other.as_str(),
        }
    }

    /// How `comparison.csv` shows the flag: the text that stands for a withheld estimate ([`Flag::cell_text`]),
    /// or the sign appended to a shown one (empty for `ok`).
    pub fn comparison_mark(self) -> &'static str {
        match self {
            Flag::Ok => "",
            Flag::LowBase => "*",
            Flag::Unreliable => "!",
            Flag::NonRepresentative => "^",
            withheld => withheld.cell_text(),
        }
    }

    /// True when estimate, SE and interval must be null.
    pub fn hides_estimate(self) -> bool {
        matches!(
            self,
            Flag::Suppressed | Flag::NotCollected | Flag::SmallCount
        )
    }

    /// What the flag says about an estimate, in one sentence: the legend of the flag wherever it is explained
    /// (the `meaning` column of `flags.csv`, the report's methods page, the workbook's "Read me" sheet).
    pub fn meaning(self) -> &'static str {
        match self {
            Flag::Ok => "Published as it is: no condition holds.",
            Flag::LowBase => "Published, from few cases: interpret with care.",
            Flag::Suppressed => {
                "Withheld: too few cases for an estimate, or withheld so that another withheld estimate cannot be \
                 recovered by subtraction (complementary suppression). Estimate, standard error, interval and \
                 population estimate are empty."
            }
            Flag::NotCollected => {
                "Not available: the country did not ask the question, deliver the table or review the provision. Never a \
                 zero."
            }
            Flag::NonRepresentative => {
                "Published, unweighted, from a purposive (non-probability) sample: it describes the people \
                 interviewed, not a population."
            }
            Flag::SmallCount => {
                "Withheld and shown as <5: a count from 1 to 4, or a cell that would reveal one. Its base (number \
                 of cases) is withheld too."
            }
            Flag::Unreliable => {
                "Published with a warning: imprecise by the NCHS Data Presentation Standards."
            }
        }
    }

    /// When the flag is set, with the thresholds of the run (`pipelines/pipeline.toml` `[thresholds]`; the `rule`
    /// column of `flags.csv`).
    pub fn rule(self, t: &Thresholds) -> String {
        let small = crate::families::disclosure::SMALL_COUNT_THRESHOLD;
        match self {
            Flag::Ok => "None of the other conditions holds.".into(),
            Flag::LowBase => format!(
                "{} to {} unweighted cases in the denominator (survey estimates; frontline-worker, interview and \
                 case-record proportions and shares).",
                t.suppress_below,
                t.low_base_below.saturating_sub(1)
            ),
            Flag::Suppressed => format!(
                "Fewer than {} unweighted cases in the denominator; or, in a breakdown where exactly one level is \
                 withheld, the level with the fewest cases (complementary suppression of survey estimates); or \
                 nothing to estimate (no record in the universe, a change from zero, records of one status that \
                 disagree).",
                t.suppress_below
            ),
            Flag::NotCollected => {
                "The country's questionnaire has no such item, the country delivered no such \
                table, the table has no record in the reference years, or the country's legal review lacks the \
                provision."
                    .into()
            }
            Flag::NonRepresentative => {
                "Every estimate from the frontline-worker survey and the interviews.".into()
            }
            Flag::SmallCount => format!(
                "A count, sum or rate of 1 to {}; a share whose numerator or its complement is 1 to {} (case, \
                 interview and contact tables); a proportion whose denominator is under {small}; a cell that would \
                 reveal one of these by subtraction (complementary suppression); or a row that also publishes a \
                 withheld cell (a share's denominator, the years of a change).",
                small - 1,
                small - 1
            ),
            Flag::Unreliable => format!(
                "Counts, totals and means: relative standard error above {}%. Proportions: 95% interval wider \
                 than {} percentage points, or effective sample size (unweighted cases / design effect) below {}. \
                 Any survey estimate whose interval cannot be computed (every case of the subgroup in one \
                 cluster: no degrees of freedom), shown without standard error or interval.",
                plain(t.unreliable_rse_above * 100.0),
                plain(t.unreliable_ci_width_above * 100.0),
                plain(t.unreliable_effective_n_below)
            ),
        }
    }

    fn bit(self) -> u8 {
        match Flag::PRECEDENCE.iter().position(|f| *f == self) {
            Some(i) => 1 << i,
            None => 0,
        }
    }
}

/// A threshold as written in a sentence: `30.000000000000004` -> `30`, `0.5` -> `0.5`.
fn plain(x: f64) -> String {
    let r = (x * 1e6).round() / 1e6;
    format!("{}", if r == 0.0 { 0.0 } else { r })
}

/// Every condition that holds for one row (`ok` is the empty set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags(u8);

impl Flags {
    /// No condition: `ok`.
    pub const OK: Flags = Flags(0);

    pub fn of(flag: Flag) -> Flags {
        Flags(flag.bit())
    }

    /// This set with `flag` added (`ok` adds nothing).
    pub fn with(self, flag: Flag) -> Flags {
        Flags(self.0 | flag.bit())
    }

    /// This set without `flag`.
    pub fn without(self, flag: Flag) -> Flags {
        Flags(self.0 & !flag.bit())
    }

    /// The conditions of a withheld row: the precision warnings (low base, unreliable) describe an estimate that
    /// is not published and would tell a complementary cell from a small one, so they are dropped.
    pub fn withheld_only(self) -> Flags {
        self.without(Flag::LowBase).without(Flag::Unreliable)
    }

    pub fn insert(&mut self, flag: Flag) {
        *self = self.with(flag);
    }

    pub fn contains(self, flag: Flag) -> bool {
        flag.bit() != 0 && self.0 & flag.bit() != 0
    }

    /// The conditions in [`Flag::PRECEDENCE`] order; `[ok]` for the empty set.
    pub fn list(self) -> Vec<Flag> {
        let out: Vec<Flag> = Flag::PRECEDENCE
            .into_iter()
            .filter(|f| self.contains(*f))
            .collect();
        if out.is_empty() { vec![Flag::Ok] } else { out }
    }

    /// The row's single flag: the first condition in precedence order, `ok` when none holds.
    pub fn primary(self) -> Flag {
        self.list()[0]
    }

    /// True when one of the conditions withholds the estimate.
    pub fn hides_estimate(self) -> bool {
        self.primary().hides_estimate()
    }

    /// The `flags` column: the conditions in precedence order, `;`-separated (`ok` when none holds).
    pub fn names(self) -> String {
        self.list()
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Reads a `flags` cell back (`None` for an unknown name).
    pub fn parse(s: &str) -> Option<Flags> {
        s.split(';')
            .try_fold(Flags::OK, |acc, name| Some(acc.with(Flag::parse(name)?)))
    }
}

/// One row of the flag legend.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LegendRow {
    pub flag: &'static str,
    pub meaning: &'static str,
    pub rule: String,
}

/// The flag legend, one row per flag of [`Flag::ALL`] (`OUT/indicators/flags.csv` and the `dh.flags` metadata of
/// `indicators.parquet`).
pub fn legend(t: &Thresholds) -> Vec<LegendRow> {
    Flag::ALL
        .iter()
        .map(|f| LegendRow {
            flag: f.as_str(),
            meaning: f.meaning(),
            rule: f.rule(t),
        })
        .collect()
}

/// Column names of `flags.csv`.
pub const LEGEND_COLUMNS: [&str; 3] = ["flag", "meaning", "rule"];

/// The legend as CSV (`flag,meaning,rule`).
pub fn legend_csv(t: &Thresholds) -> String {
    let mut out = LEGEND_COLUMNS.join(",");
    out.push('\n');
    for r in legend(t) {
        let cells = [
            crate::output::csv_text(r.flag),
            crate::output::csv_text(r.meaning),
            crate::output::csv_text(&r.rule),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// The legend as a JSON array of `{"flag", "meaning", "rule"}` objects.
pub fn legend_json(t: &Thresholds) -> String {
    // Serialising plain strings cannot fail; an empty array would still be valid JSON.
    serde_json::to_string(&legend(t)).unwrap_or_else(|_| "[]".into())
}

/// The base-rule flag for an estimate whose denominator has `n_unweighted` cases. `not_collected` wins over the
/// counts.
pub fn publication_flag(n_unweighted: usize, not_collected: bool, thresholds: &Thresholds) -> Flag {
    if not_collected {
        Flag::NotCollected
    } else if n_unweighted < thresholds.suppress_below as usize {
        Flag::Suppressed
    } else if n_unweighted < thresholds.low_base_below as usize {
        Flag::LowBase
    } else {
        Flag::Ok
    }
}

/// What the reliability rule looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Precision {
    /// A proportion (or share) with its 95% interval, its unweighted denominator and its design effect (`None`
    /// when undefined, e.g. at 0 or 1, or for unweighted statistics).
    Proportion {
        ci_lower: f64,
        ci_upper: f64,
        n_unweighted: usize,
        deff: Option<f64>,
    },
    /// A count, total or mean with its standard error.
    Magnitude { estimate: f64, se: f64 },
}

/// Whether an estimate is `unreliable` by the NCHS Data Presentation Standards, as configured:
/// * a count, total or mean whose relative standard error `se / |estimate|` is above `unreliable_rse_above`
///   (an estimate of 0 with a positive SE has an unbounded RSE and is unreliable; 0 with SE 0 is not);
/// * a proportion whose 95% interval is wider than `unreliable_ci_width_above`, or whose effective sample size
///   `n / deff` is below `unreliable_effective_n_below`. A design effect below 1 or undefined counts as 1, so
///   the effective sample size never exceeds the number of cases.
///
/// Statistics without sampling error (administrative counts, totals, rates and changes) are not given to this
/// rule: they carry only the small-count disclosure rule.
pub fn reliability(precision: Precision, thresholds: &Thresholds) -> Option<Flag> {
    let unreliable = match precision {
        Precision::Proportion {
            ci_lower,
            ci_upper,
            n_unweighted,
            deff,
        } => {
            let deff = deff.filter(|d| d.is_finite() && *d > 1.0).unwrap_or(1.0);
            let effective_n = n_unweighted as f64 / deff;
            ci_upper - ci_lower > thresholds.unreliable_ci_width_above
                || effective_n < thresholds.unreliable_effective_n_below
        }
        Precision::Magnitude { estimate, se } => {
            if estimate == 0.0 {
                se > 0.0
            } else {
                se / estimate.abs() > thresholds.unreliable_rse_above
            }
        }
    };
    unreliable.then_some(Flag::Unreliable)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds::NCHS;

    #[test]
    fn thresholds_at_24_25_49_50() {
        assert_eq!(publication_flag(0, false, &T), Flag::Suppressed);
        assert_eq!(publication_flag(24, false, &T), Flag::Suppressed);
        assert_eq!(publication_flag(25, false, &T), Flag::LowBase);
        assert_eq!(publication_flag(49, false, &T), Flag::LowBase);
        assert_eq!(publication_flag(50, false, &T), Flag::Ok);
        assert_eq!(publication_flag(1000, false, &T), Flag::Ok);
    }

    #[test]
    fn not_collected_wins_and_hides_the_estimate() {
        assert_eq!(publication_flag(1000, true, &T), Flag::NotCollected);
        assert_eq!(publication_flag(0, true, &T), Flag::NotCollected);
        assert!(Flag::NotCollected.hides_estimate() && Flag::Suppressed.hides_estimate());
        assert!(!Flag::LowBase.hides_estimate() && !Flag::Ok.hides_estimate());
        assert!(!Flag::Unreliable.hides_estimate());
        assert_eq!(Flag::LowBase.as_str(), "low_base");
    }

    #[test]
    fn every_flag_but_ok_has_a_place_in_the_precedence() {
        for f in Flag::ALL {
            assert_eq!(Flag::PRECEDENCE.contains(&f), f != Flag::Ok, "{f:?}");
            assert_eq!(Flag::parse(f.as_str()), Some(f));
        }
    }

    #[test]
    fn every_flag_has_a_meaning_and_a_rule_with_the_thresholds() {
        for f in Flag::ALL {
            assert!(f.meaning().ends_with('.'), "{f:?}");
            assert!(f.rule(&T).ends_with('.'), "{f:?}");
        }
        assert!(Flag::Suppressed.rule(&T).contains("Fewer than 25 "));
        assert!(Flag::LowBase.rule(&T).starts_with("25 to 49 "));
        let unreliable = Flag::Unreliable.rule(&T);
        assert!(
            unreliable.contains("above 30%")
                && unreliable.contains("wider than 30 percentage points")
                && unreliable.contains("below 30."),
            "{unreliable}"
        );
        assert!(Flag::SmallCount.rule(&T).contains("1 to 4"));
    }

    #[test]
    fn several_conditions_are_listed_in_precedence_order() {
        let f = Flags::of(Flag::NonRepresentative).with(Flag::LowBase);
        assert_eq!(f.names(), "low_base;non_representative");
        assert_eq!(f.primary(), Flag::LowBase);
        assert!(!f.hides_estimate());
        let f = f.with(Flag::Unreliable).with(Flag::Suppressed);
        assert_eq!(
            f.names(),
            "suppressed;low_base;unreliable;non_representative"
        );
        assert_eq!(f.primary(), Flag::Suppressed);
        assert!(f.hides_estimate());
        assert_eq!(Flags::OK.names(), "ok");
        assert_eq!(Flags::OK.primary(), Flag::Ok);
        assert_eq!(Flags::of(Flag::Ok), Flags::OK);
        assert_eq!(
            Flags::parse("low_base;non_representative"),
            Some(Flags::of(Flag::LowBase).with(Flag::NonRepresentative))
        );
        assert_eq!(Flags::parse("ok"), Some(Flags::OK));
        assert_eq!(Flags::parse("low_base;nonsense"), None);
    }

    #[test]
    fn the_legend_has_one_row_per_flag_with_the_configured_thresholds() {
        let rows = legend(&T);
        assert_eq!(rows.len(), Flag::ALL.len());
        for (r, f) in rows.iter().zip(Flag::ALL) {
            assert_eq!(r.flag, f.as_str());
            assert!(!r.meaning.is_empty() && !r.rule.is_empty(), "{f:?}");
        }
        let low = rows
            .iter()
            .find(|r| r.flag == "low_base")
            .map(|r| r.rule.clone());
        assert_eq!(
            low.as_deref(),
            Some(
                "25 to 49 unweighted cases in the denominator (survey estimates; frontline-worker, interview \
                 and case-record proportions and shares)."
            )
        );
        let t = Thresholds {
            suppress_below: 30,
            ..T
        };
        assert!(
            legend(&t)[2]
                .rule
                .starts_with("Fewer than 30 unweighted cases")
        );
        let csv = legend_csv(&T);
        assert!(csv.starts_with("flag,meaning,rule\nok,"), "{csv}");
        assert_eq!(csv.lines().count(), Flag::ALL.len() + 1);
        let json: serde_json::Value =
            serde_json::from_str(&legend_json(&T)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(json[6]["flag"], "unreliable");
    }

    #[test]
    fn every_flag_but_ok_has_its_own_comparison_mark() {
        let marks: Vec<&str> = Flag::PRECEDENCE
            .iter()
            .map(|f| f.comparison_mark())
            .collect();
        for (i, m) in marks.iter().enumerate() {
            assert!(!m.is_empty() && !marks[..i].contains(m), "{m}");
        }
        assert_eq!(Flag::Ok.comparison_mark(), "");
        assert_eq!(Flag::SmallCount.comparison_mark(), "<5");
    }

    #[test]
    fn relative_standard_error_above_30_percent_is_unreliable() {
        let m = |estimate, se| reliability(Precision::Magnitude { estimate, se }, &T);
        assert_eq!(m(100.0, 30.0), None);
        assert_eq!(m(100.0, 30.000_001), Some(Flag::Unreliable));
        assert_eq!(m(-100.0, 31.0), Some(Flag::Unreliable));
        assert_eq!(m(0.0, 1.0), Some(Flag::Unreliable));
        assert_eq!(m(0.0, 0.0), None);
    }

    #[test]
    fn proportion_interval_wider_than_30_points_or_effective_n_below_30_is_unreliable() {
        let p = |ci_lower, ci_upper, n_unweighted, deff| {
            reliability(
                Precision::Proportion {
                    ci_lower,
                    ci_upper,
                    n_unweighted,
                    deff,
                },
                &T,
            )
        };
        assert_eq!(p(0.25, 0.5, 1000, Some(1.0)), None);
        assert_eq!(p(0.0, 0.3, 1000, Some(1.0)), None);
        assert_eq!(p(0.1, 0.400_001, 1000, Some(1.0)), Some(Flag::Unreliable));
        // n / deff at 30 passes, below 30 does not.
        assert_eq!(p(0.4, 0.5, 60, Some(2.0)), None);
        assert_eq!(p(0.4, 0.5, 60, Some(2.001)), Some(Flag::Unreliable));
        assert_eq!(p(0.4, 0.5, 29, None), Some(Flag::Unreliable));
        assert_eq!(p(0.4, 0.5, 30, None), None);
        // A design effect below 1 never makes the effective sample larger than the cases.
        assert_eq!(p(0.4, 0.5, 29, Some(0.5)), Some(Flag::Unreliable));
    }
}
