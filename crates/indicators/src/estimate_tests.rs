//! Tests of indicator estimation on a small stratified cluster design: point estimates against hand-computed
//! weighted means, intervals, population estimates, flags at the thresholds, not_collected, and p = 0.

use std::path::Path;

use dh_survey::{DesignSpec, Factor, LonelyPsu, SurveyDesign, WeightSpec};

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
comparability = "c"
"#;

const T: Thresholds = Thresholds {
    suppress_below: 25,
    low_base_below: 50,
};

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
    let codes = (0..n).map(|i| Some(u32::from(i >= males))).collect();
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
    let c = catalogue();
    let ind = c.get(id).unwrap_or_else(|| panic!("{id}"));
    estimate_indicator(&design(s), ind, p, &T).unwrap_or_else(|e| panic!("{e}"))
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
    assert_eq!(count[0].ci_method, "wald");
    let mut m = prepared(240, &[], |_| true, 120);
    m.value = (0..240).map(|i| 12.0 + (i % 6) as f64).collect();
    let mean = rows("mean_age", &m, &s);
    let (expected, _) = weighted_mean(&s, &m, |_| true);
    assert!((mean[0].estimate.unwrap_or(f64::NAN) - expected).abs() < 1e-12);
    assert_eq!(mean[0].population_estimate, None);
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
        &T,
    )
    .err();
    assert!(e.is_some_and(|e| e.to_string().contains("design has 240 rows")));
}
