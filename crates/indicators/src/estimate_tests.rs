//! Tests of indicator estimation on a small stratified cluster design: point estimates against hand-computed
//! weighted means, intervals, population estimates, flags at the thresholds, not_collected, and p = 0.

use std::path::Path;

use dh_survey::{DesignSpec, Factor, LonelyPsu, NA_CODE, SurveyDesign, WeightSpec};

use super::*;
use crate::catalogue::{Catalogue, parse_catalogue};
use crate::prepare::DomainCodes;
use crate::test_support::{pipeline, schemas};

const CATALOGUE: &str = r#"format_version = 1
[defaults]
disaggregations = ["sex"]
[missing_rules.strict]
description = "all excluded"
null = "exclude"
dont_know = "exclude"
refused = "exclude"
not_collected = "exclude"

[[indicator]]
id = "p_logit"
label = "l"
version = "1.2.0"
table = "child_survey"
universe = 'true'
universe_label = "all"
numerator = 'q == "yes"'
missing_rule = "strict"
missing_rationale = "r"
statistic = "proportion"
comparability = "c"

[[indicator]]
id = "p_kg"
label = "l"
version = "1.0.0"
table = "child_survey"
universe = 'true'
universe_label = "all"
numerator = 'q == "yes"'
missing_rule = "strict"
missing_rationale = "r"
statistic = "proportion"
ci_method = "korn_graubard"
comparability = "c"

[[indicator]]
id = "n_yes"
label = "l"
version = "1.0.0"
table = "child_survey"
universe = 'true'
universe_label = "all"
numerator = 'q == "yes"'
missing_rule = "strict"
missing_rationale = "r"
statistic = "count"
comparability = "c"

[[indicator]]
id = "p_older"
label = "l"
version = "1.0.0"
table = "child_survey"
universe = 'age >= 15'
universe_label = "aged 15 and over"
numerator = 'q == "yes"'
missing_rule = "strict"
missing_rationale = "r"
statistic = "proportion"
comparability = "c"

[[indicator]]
id = "mean_age"
label = "l"
version = "1.0.0"
table = "child_survey"
universe = 'true'
universe_label = "all"
variable = "age"
missing_rule = "strict"
missing_rationale = "r"
statistic = "mean"
unit = "years of age"
comparability = "c"
"#;

const T: Thresholds = Thresholds::NCHS;

fn settings() -> Settings<'static> {
    Settings {
        thresholds: &T,
        calibrated: &[],
        bands: &[],
    }
}

fn catalogue() -> Catalogue {
    parse_catalogue(Path::new("t.toml"), CATALOGUE, &pipeline(), &schemas())
        .unwrap_or_else(|e| panic!("{e}"))
}

struct Sample {
    strata: Vec<u32>,
    psu: Vec<u32>,
    weights: Vec<f64>,
}

/// 240 rows: 2 strata x 6 PSUs x 20 rows; weights 10..19.
fn sample() -> Sample {
    let n = 240;
    Sample {
        strata: (0..n).map(|i| (i / 120) as u32).collect(),
        psu: (0..n).map(|i| (i / 20) as u32).collect(),
        weights: (0..n).map(|i| 10.0 + (i % 10) as f64).collect(),
    }
}

fn design(s: &Sample) -> SurveyDesign {
    let labels = vec!["a".to_string(), "b".to_string()];
    let spec = DesignSpec {
        ids: vec![&s.psu],
        strata: Some(Factor {
            codes: &s.strata,
            labels: &labels,
        }),
        fpc: vec![],
        weights: WeightSpec::Weights(&s.weights),
        nest: true,
        lonely_psu: LonelyPsu::Fail,
    };
    SurveyDesign::taylor(&spec).unwrap_or_else(|e| panic!("{e}"))
}

/// `in_denominator` for every row except `excluded`; y = 1 when `yes(i)`; sex: male for the first `males` rows.
fn prepared(n: usize, excluded: &[usize], yes: impl Fn(usize) -> bool, males: usize) -> Prepared {
    let in_denominator: Vec<bool> = (0..n).map(|i| !excluded.contains(&i)).collect();
    let value = (0..n)
        .map(|i| f64::from(u8::from(in_denominator[i] && yes(i))))
        .collect();
    let codes = (0..n).map(|i| u32::from(i >= males)).collect();
    Prepared {
        in_denominator,
        value,
        not_collected: false,
        universe_rows: n,
        universe_unknown: 0,
        excluded_by_missing_rule: excluded.len(),
        domains: vec![DomainCodes {
            column: "sex".into(),
            levels: vec!["male".into(), "female".into()],
            codes,
        }],
    }
}

fn weighted_mean(s: &Sample, p: &Prepared, keep: impl Fn(usize) -> bool) -> (f64, f64) {
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..s.weights.len() {
        if p.in_denominator[i] && keep(i) {
            num += s.weights[i] * p.value[i];
            den += s.weights[i];
        }
    }
    (num / den, den)
}

fn rows(id: &str, p: &Prepared, s: &Sample) -> Vec<EstimateRow> {
    rows_with(id, p, s, &settings())
}

fn rows_with(id: &str, p: &Prepared, s: &Sample, settings: &Settings<'_>) -> Vec<EstimateRow> {
    let c = catalogue();
    let ind = c.get(id).unwrap_or_else(|| panic!("{id}"));
    estimate_indicator(&design(s), ind, p, settings).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn proportion_total_and_domains_match_weighted_means() {
    let s = sample();
    let p = prepared(240, &[3, 77, 150], |i| i % 7 == 0 || i % 11 == 0, 100);
    let r = rows("p_logit", &p, &s);
    assert_eq!(r.len(), 3);
    assert_eq!(
        (r[0].domain.as_str(), r[0].domain_value.as_str()),
        ("total", "total")
    );
    assert_eq!(
        (r[1].domain.as_str(), r[1].domain_value.as_str()),
        ("sex", "male")
    );
    assert_eq!(r[2].domain_value, "female");
    type Keep = Box<dyn Fn(usize) -> bool>;
    let checks: [(usize, Keep); 3] = [
        (0, Box::new(|_| true)),
        (1, Box::new(|i| i < 100)),
        (2, Box::new(|i| i >= 100)),
    ];
    for (k, keep) in checks {
        let (m, den) = weighted_mean(&s, &p, &keep);
        let row = &r[k];
        let est = row.estimate.unwrap_or(f64::NAN);
        assert!((est - m).abs() < 1e-12, "{k}: {est} vs {m}");
        assert!((row.n_weighted - den).abs() < 1e-9);
        assert!((row.population_estimate.unwrap_or(f64::NAN) - m * den).abs() < 1e-6);
        let (lo, hi) = (
            row.ci_lower.unwrap_or(f64::NAN),
            row.ci_upper.unwrap_or(f64::NAN),
        );
        assert!(
            lo < est && est < hi && lo > 0.0 && hi < 1.0,
            "{lo} {est} {hi}"
        );
        assert!(
            row.se.is_some_and(|se| se > 0.0)
                && row.deff.is_some_and(|d| d > 0.0)
                && row.df.is_some()
        );
        assert_eq!(
            (row.flag, row.ci_method, row.indicator_version.as_str()),
            (Flag::Ok, "logit", "1.2.0")
        );
    }
    assert_eq!(
        (r[0].n_unweighted, r[1].n_unweighted, r[2].n_unweighted),
        (237, 98, 139)
    );
}

#[test]
fn korn_graubard_interval_follows_the_formula() {
    use dh_survey::dist::{qbeta, qt};
    let s = sample();
    let p = prepared(240, &[], |i| i == 5 || i == 130 || i == 200, 120);
    let logit = rows("p_logit", &p, &s);
    let kg = rows("p_kg", &p, &s);
    assert_eq!(
        (kg[0].ci_method, logit[0].ci_method),
        ("korn_graubard", "logit")
    );
    assert_eq!((kg[0].estimate, kg[0].se), (logit[0].estimate, logit[0].se));
    let est = kg[0].estimate.unwrap_or(f64::NAN);
    let v = kg[0].se.unwrap_or(f64::NAN).powi(2);
    let df = kg[0].df.unwrap_or(f64::NAN);
    assert_eq!(df, 10.0);
    let ratio = qt(0.025, 239.0, true) / qt(0.025, df, true);
    let n_eff = est * (1.0 - est) / v * ratio * ratio;
    let lo = qbeta(0.025, n_eff * est, n_eff * (1.0 - est) + 1.0, true);
    let hi = qbeta(0.975, n_eff * est + 1.0, n_eff * (1.0 - est), true);
    assert!((kg[0].ci_lower.unwrap_or(f64::NAN) - lo).abs() < 1e-12);
    assert!((kg[0].ci_upper.unwrap_or(f64::NAN) - hi).abs() < 1e-12);
    assert_ne!(kg[0].ci_upper, logit[0].ci_upper);
}

#[test]
fn flags_at_24_25_49_50_cases() {
    let s = sample();
    for (males, flag) in [
        (24, Flag::Suppressed),
        (25, Flag::LowBase),
        (49, Flag::LowBase),
        (50, Flag::Ok),
    ] {
        let p = prepared(240, &[], |i| i % 3 == 0, males);
        let r = rows("p_logit", &p, &s);
        let male = &r[1];
        assert_eq!((male.n_unweighted, male.flag), (males, flag), "{males}");
        assert_eq!(male.estimate.is_none(), flag == Flag::Suppressed);
        assert_eq!(
            male.ci_lower.is_none() && male.se.is_none() && male.population_estimate.is_none(),
            flag == Flag::Suppressed
        );
    }
}

#[test]
fn empty_level_gets_a_suppressed_row() {
    let s = sample();
    let p = prepared(240, &[], |i| i % 3 == 0, 240);
    let r = rows("p_logit", &p, &s);
    assert_eq!(r[2].domain_value, "female");
    assert_eq!(
        (r[2].n_unweighted, r[2].flag, r[2].estimate),
        (0, Flag::Suppressed, None)
    );
}

#[test]
fn not_collected_is_never_a_zero() {
    let s = sample();
    let mut p = prepared(240, &(0..240).collect::<Vec<_>>(), |_| false, 100);
    p.not_collected = true;
    let r = rows("p_logit", &p, &s);
    assert!(r.iter().all(|x| x.flag == Flag::NotCollected
        && x.estimate.is_none()
        && x.population_estimate.is_none()));
}

#[test]
fn zero_and_one_prevalence_get_the_boundary_interval() {
    let s = sample();
    let upper = 1.0 - 0.025f64.powf(1.0 / 240.0);
    for id in ["p_kg", "p_logit"] {
        let r = rows(id, &prepared(240, &[], |_| false, 120), &s);
        assert_eq!(
            (r[0].estimate, r[0].ci_lower, r[0].ci_method),
            (Some(0.0), Some(0.0), "korn_graubard"),
            "{id}"
        );
        assert!(
            r[0].ci_upper.is_some_and(|u| (u - upper).abs() < 1e-15),
            "{:?}",
            r[0].ci_upper
        );
        let r = rows(id, &prepared(240, &[], |_| true, 120), &s);
        assert_eq!(
            (r[0].estimate, r[0].ci_upper),
            (Some(1.0), Some(1.0)),
            "{id}"
        );
        assert!(
            r[0].ci_lower
                .is_some_and(|l| (l - (1.0 - upper)).abs() < 1e-15)
        );
    }
}

#[test]
fn count_and_mean() {
    let s = sample();
    let p = prepared(240, &[0], |i| i % 4 == 0, 120);
    let count = rows("n_yes", &p, &s);
    let total: f64 = (0..240)
        .filter(|&i| p.in_denominator[i])
        .map(|i| s.weights[i] * p.value[i])
        .sum();
    assert!((count[0].estimate.unwrap_or(f64::NAN) - total).abs() < 1e-9);
    assert_eq!(count[0].population_estimate, count[0].estimate);
    assert_eq!(count[0].statistic, "count");
    // Row 0 is out of the denominator, so N is estimated: log-scale interval.
    assert_eq!(count[0].ci_method, "log");
    let mut m = prepared(240, &[], |_| true, 120);
    m.value = (0..240).map(|i| 12.0 + (i % 6) as f64).collect();
    let mean = rows("mean_age", &m, &s);
    let (expected, _) = weighted_mean(&s, &m, |_| true);
    assert!((mean[0].estimate.unwrap_or(f64::NAN) - expected).abs() < 1e-12);
    assert_eq!(mean[0].population_estimate, None);
    assert_eq!(mean[0].statistic, "mean");
}

fn bounds(r: &EstimateRow) -> (f64, f64, f64) {
    (
        r.ci_lower.unwrap_or(f64::NAN),
        r.estimate.unwrap_or(f64::NAN),
        r.ci_upper.unwrap_or(f64::NAN),
    )
}

/// 1 "yes" among the 30 males: the Wald interval of the count goes below 0 there.
fn rare_in_males() -> Prepared {
    prepared(240, &[], |i| i == 7 || (i >= 30 && i % 3 == 0), 30)
}

#[test]
fn calibrated_count_interval_is_the_proportion_interval_times_n_and_never_negative() {
    use dh_survey::dist::qt;
    let s = sample();
    let p = rare_in_males();
    let calibrated = ["sex".to_string()];
    let settings = Settings {
        calibrated: &calibrated,
        ..settings()
    };
    let count = rows_with("n_yes", &p, &s, &settings);
    let prop = rows_with("p_logit", &p, &s, &settings);
    for (c, pr) in count.iter().zip(&prop) {
        let (lo, est, hi) = bounds(c);
        // Before: estimate +- t se with the total's df (10), below zero for the males.
        if c.domain_value == "male" {
            assert!(
                est - qt(0.975, 10.0, true) * c.se.unwrap_or(0.0) < 0.0,
                "{c:?}"
            );
        }
        // The proportion's df (the domain's design: 1 for the males, who are in 2 PSUs of one stratum).
        assert_eq!(c.df, pr.df);
        let q = qt(0.975, c.df.unwrap_or(f64::NAN), true);
        assert_eq!(c.ci_method, "logit", "{c:?}");
        assert!(0.0 < lo && lo < est && est < hi, "{c:?}");
        let n = c.n_weighted;
        let (plo, pest, phi) = bounds(pr);
        assert!((est - pest * n).abs() < 1e-6 * n, "{est} {pest} {n}");
        // The proportion's logit interval (svyciprop) scaled by N.
        assert!(
            (lo - plo * n).abs() < 1e-6 * n && (hi - phi * n).abs() < 1e-6 * n,
            "{c:?} {pr:?}"
        );
        let (l2, h2) = logit_interval(pest, pr.se.unwrap_or(f64::NAN), q);
        assert!((lo - l2 * n).abs() < 1e-9 * n && (hi - h2 * n).abs() < 1e-9 * n);
    }
}

#[test]
fn uncalibrated_count_uses_the_log_scale_interval() {
    use dh_survey::dist::qt;
    let s = sample();
    // Calibrated on sex, but urban/rural-like domains are not, and an excluded row makes N an estimate anyway.
    let mut p = rare_in_males();
    p.in_denominator[100] = false;
    p.value[100] = 0.0;
    let calibrated = ["sex".to_string()];
    let settings = Settings {
        calibrated: &calibrated,
        ..settings()
    };
    for c in rows_with("n_yes", &p, &s, &settings) {
        let (lo, est, hi) = bounds(&c);
        let se = c.se.unwrap_or(f64::NAN);
        let q = qt(0.975, c.df.unwrap_or(f64::NAN), true);
        assert_eq!(c.ci_method, "log");
        assert!(
            (lo - est * (-q * se / est).exp()).abs() < 1e-9 * est,
            "{c:?}"
        );
        assert!(
            (hi - est * (q * se / est).exp()).abs() < 1e-9 * est,
            "{c:?}"
        );
        assert!(0.0 < lo && lo < est && est < hi);
    }
}

#[test]
fn zero_count_gets_the_boundary_interval_times_n() {
    let s = sample();
    let p = prepared(240, &[], |_| false, 120);
    let count = rows("n_yes", &p, &s);
    let upper = 1.0 - 0.025f64.powf(1.0 / 240.0);
    let c = &count[0];
    assert_eq!(
        (c.estimate, c.ci_lower, c.ci_method),
        (Some(0.0), Some(0.0), "korn_graubard")
    );
    assert!(
        c.ci_upper
            .is_some_and(|u| (u - upper * c.n_weighted).abs() < 1e-9)
    );
}

#[test]
fn imprecise_counts_and_proportions_are_unreliable() {
    let s = sample();
    let p = rare_in_males();
    let count = rows("n_yes", &p, &s);
    let male = &count[1];
    let rse = male.se.unwrap_or(f64::NAN) / male.estimate.unwrap_or(f64::NAN);
    assert!(rse > 0.3, "{rse}");
    assert_eq!(male.flag, Flag::LowBase);
    assert_eq!(male.flags.names(), "low_base;unreliable");
    // The total is precise: ok.
    assert_eq!(
        (count[0].flag, count[0].flags.names().as_str()),
        (Flag::Ok, "ok")
    );
    let prop = rows("p_logit", &p, &s);
    let male = &prop[1];
    // 30 cases in 2 PSUs: the interval is wider than 30 points.
    assert!(
        male.ci_upper.unwrap_or(0.0) - male.ci_lower.unwrap_or(1.0) > 0.3,
        "{male:?}"
    );
    assert!(male.flags.contains(Flag::Unreliable), "{male:?}");
    assert!(prop[2].flags == Flags::OK, "{:?}", prop[2]);
}

#[test]
fn a_band_the_universe_cuts_is_published_under_its_true_range() {
    use crate::bands::DerivedBand;
    let s = sample();
    let p = prepared(240, &[], |i| i % 3 == 0, 100);
    // The fixture's `sex` stands in for a band of `age`: "male" = 14-15, "female" = 16-17.
    let bands = [DerivedBand {
        table: "child_survey".into(),
        column: "sex".into(),
        source: "age".into(),
        integer: true,
        levels: vec![
            ("male".into(), [14.0, 15.0]),
            ("female".into(), [16.0, 17.0]),
        ],
    }];
    let settings = Settings {
        bands: &bands,
        ..settings()
    };
    let older = rows_with("p_older", &p, &s, &settings);
    let labels: Vec<&str> = older.iter().map(|r| r.domain_value.as_str()).collect();
    assert_eq!(
        labels,
        // "female" (16-17) is wholly inside the universe and keeps its label.
        ["total", "15", "female"]
    );
    // Same numbers as without the band: only the label changes.
    let plain = rows("p_older", &p, &s);
    assert_eq!(older[1].estimate, plain[1].estimate);
    // A universe that does not restrict the source keeps the labels.
    let all = rows_with("p_logit", &p, &s, &settings);
    assert_eq!(all[1].domain_value, "male");
}

#[test]
fn design_and_table_must_have_the_same_rows() {
    let s = sample();
    let p = prepared(100, &[], |_| true, 50);
    let c = catalogue();
    let e = estimate_indicator(
        &design(&s),
        c.get("p_logit").unwrap_or_else(|| panic!()),
        &p,
        &settings(),
    )
    .err();
    assert!(e.is_some_and(|e| e.to_string().contains("design has 240 rows")));
}

#[test]
fn count_interval_falls_back_to_the_design_df_and_always_holds_the_total() {
    let p = Estimate {
        domain: vec![],
        name: "y".into(),
        estimate: 0.1,
        se: 0.03,
        ci_lower: f64::NAN,
        ci_upper: f64::NAN,
        ci_method: "mean",
        df: 0.0,
        deff: None,
        n_unweighted: 40,
        n_weighted: 1000.0,
    };
    let mut r = EstimateRow::not_collected("n", "1.0.0", "count", "wald");
    (r.estimate, r.se, r.df, r.n_weighted, r.n_unweighted) =
        (Some(100.0 + 1e-12), Some(30.0), Some(12.0), 1000.0, 40);
    count_interval(&mut r, &p, true);
    let q = dh_survey::dist::qt(0.975, 12.0, true);
    let (lo, hi) = logit_interval(0.1, 0.03, q);
    assert_eq!((r.df, r.ci_method), (Some(12.0), "logit"));
    assert!((r.ci_lower.unwrap_or(f64::NAN) - lo * 1000.0).abs() < 1e-9);
    assert!((r.ci_upper.unwrap_or(f64::NAN) - hi * 1000.0).abs() < 1e-9);
    // p = 1 with N fixed: the total (N up to rounding) stays inside [edge x N, N].
    let mut r1 = r.clone();
    r1.estimate = Some(1000.0 * (1.0 + 1e-15));
    count_interval(
        &mut r1,
        &Estimate {
            estimate: 1.0,
            ..p.clone()
        },
        true,
    );
    assert_eq!(r1.ci_method, "korn_graubard");
    r1.set_flags(Flags::of(Flag::LowBase));
    assert_eq!(crate::invariants::check(&r1, &T), Ok(()), "{r1:?}");
}

/// A level whose cases all sit in one PSU has no degrees of freedom of its own (R's svyciprop: degf of the
/// domain's design is 0), so no interval can be computed for it. Its estimate is shown, but never as `ok`: its
/// precision cannot be assessed, so it is `unreliable`, without SE or interval (and the stage's invariant check
/// refuses an `ok` row that names an interval method but has no interval).
#[test]
fn a_level_without_degrees_of_freedom_has_no_interval_and_is_not_ok() {
    // 240 rows: 2 strata x 2 PSUs x 60 rows; the 55 males all in the first PSU
    let n = 240;
    let s = Sample {
        strata: (0..n).map(|i| (i / 120) as u32).collect(),
        psu: (0..n).map(|i| (i / 60) as u32).collect(),
        weights: (0..n).map(|i| 10.0 + (i % 10) as f64).collect(),
    };
    let p = prepared(n, &[], |i| i % 4 == 0, 55);
    for id in ["p_logit", "p_kg"] {
        let r = rows(id, &p, &s);
        let male = r
            .iter()
            .find(|r| r.domain == "sex" && r.domain_value == "male")
            .unwrap_or_else(|| panic!("{id}: no male row"));
        assert_eq!(male.n_unweighted, 55, "{id}");
        assert!(male.estimate.is_some(), "{id}: {male:?}");
        assert_eq!(male.df, Some(0.0), "{id}: {male:?}");
        // before: published `ok` with SE 0, deff 0 and no interval
        assert_eq!(
            (
                male.se,
                male.deff,
                male.ci_lower,
                male.ci_upper,
                male.ci_method
            ),
            (None, None, None, None, "none"),
            "{id}: {male:?}"
        );
        assert_eq!(male.flag, Flag::Unreliable, "{id}: {male:?}");
        assert_eq!(crate::invariants::check(male, &T), Ok(()), "{id}: {male:?}");
        // the stage refuses an `ok` row that names an interval method but has no interval
        let mut ok = male.clone();
        ok.set_flags(Flags::OK);
        ok.ci_method = "logit";
        assert_eq!(
            crate::invariants::check(&ok, &T),
            Err(crate::invariants::Violation::NoInterval),
            "{id}: {ok:?}"
        );
    }
}

#[test]
fn level_counts_side_by_side_give_the_bits_of_one_sum_per_level() {
    let n = 997;
    let keep: Vec<bool> = (0..n).map(|i| i % 7 != 3).collect();
    let codes: Vec<u32> = (0..n as u32)
        .map(|i| {
            if i % 13 == 0 {
                NA_CODE
            } else {
                (i * 5 / 3) % 4
            }
        })
        .collect();
    let weights: Vec<f64> = (0..n)
        .map(|i| match i % 17 {
            0 => 0.0,
            1 => -2.5,
            2 => f64::NAN,
            _ => 0.1 + ((i * 7919) % 1009) as f64 / 13.0,
        })
        .collect();
    for levels in 1..=LEVEL_LANES {
        let mut expected = vec![(0usize, 0.0f64); levels];
        for i in 0..n {
            if keep[i]
                && weights[i] > 0.0
                && let Some(slot) = expected.get_mut(codes[i] as usize)
            {
                slot.0 += 1;
                slot.1 += weights[i];
            }
        }
        let got = level_counts_side_by_side(&keep, &codes, levels, &weights);
        let bits =
            |v: &[(usize, f64)]| v.iter().map(|(n, s)| (*n, s.to_bits())).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&expected), "{levels} levels");
        assert!(got.iter().all(|(n, _)| *n > 0));
    }
}
