//! Tests of margins, diagnostics, trimming and raking (margins reproduced to 1e-8).

use dh_config::country::{Population, PopulationCell};

use super::*;

fn population() -> Population {
    let mut cells = Vec::new();
    let mut count = 1000.0;
    for sex in ["male", "female"] {
        for age_band in ["12-13", "14-15", "16-17"] {
            for urban_rural in ["urban", "rural"] {
                cells.push(PopulationCell {
                    sex: sex.into(),
                    age_band: age_band.into(),
                    urban_rural: urban_rural.into(),
                    count,
                });
                count += 250.0;
            }
        }
    }
    Population {
        source: "test".into(),
        population_12_17: 1e5,
        internet_share: 0.5,
        cells,
    }
}

/// A deterministic sample of `n` rows: labels per margin and positive base weights.
fn sample(n: usize) -> (Vec<f64>, Vec<Vec<Option<&'static str>>>) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    let mut sex = Vec::new();
    let mut age = Vec::new();
    let mut ur = Vec::new();
    let mut w = Vec::new();
    for _ in 0..n {
        sex.push(Some(["male", "female"][next() % 2]));
        age.push(Some(["12-13", "14-15", "16-17"][next() % 3]));
        ur.push(Some(["urban", "rural", "rural"][next() % 3]));
        w.push(5.0 + (next() % 100) as f64 / 4.0);
    }
    (w, vec![sex, age, ur])
}

#[test]
fn margins_sum_the_cells() {
    let m = population_margins(&population()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m[0].levels, vec!["male".to_string(), "female".to_string()]);
    // male cells: 1000, 1250, ..., 2250 -> 9750; female: 2500 ... 3750 -> 18750.
    assert_eq!(m[0].totals, vec![9750.0, 18750.0]);
    assert_eq!(
        m[1].levels,
        vec![
            "12-13".to_string(),
            "14-15".to_string(),
            "16-17".to_string()
        ]
    );
    assert_eq!(
        m[1].totals,
        vec![
            1000.0 + 1250.0 + 2500.0 + 2750.0,
            1500.0 + 1750.0 + 3000.0 + 3250.0,
            2000.0 + 2250.0 + 3500.0 + 3750.0
        ]
    );
    assert_eq!(
        m[2].totals,
        vec![
            1000.0 + 1500.0 + 2000.0 + 2500.0 + 3000.0 + 3500.0,
            1250.0 + 1750.0 + 2250.0 + 2750.0 + 3250.0 + 3750.0
        ]
    );
    assert!(m.iter().all(|x| (x.total() - 28500.0).abs() < 1e-9));
}

#[test]
fn bad_population_cells() {
    let mut p = population();
    p.cells[3].count = 0.0;
    assert!(matches!(
        population_margins(&p),
        Err(WeightingError::BadCount { cell: 4, .. })
    ));
    p.cells.clear();
    assert_eq!(population_margins(&p), Err(WeightingError::NoCells));
}

#[test]
fn diagnostics_of_known_weights() {
    let d = diagnostics(&[2.0, 2.0, 2.0]);
    assert_eq!(
        (d.n, d.sum, d.min, d.max, d.ratio, d.kish_deff),
        (3, 6.0, 2.0, 2.0, 1.0, 1.0)
    );
    let d = diagnostics(&[1.0, 3.0]);
    assert_eq!((d.ratio, d.kish_deff), (3.0, 1.25));
    assert!(diagnostics(&[]).kish_deff.is_nan());
}

#[test]
fn trimming_keeps_the_sum_and_respects_the_cap() {
    let w = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 31.0];
    let (t, count) = trim_to_cap(&w, 2.0).unwrap_or_else(|e| panic!("{e}"));
    let sum: f64 = t.iter().sum();
    assert!((sum - 40.0).abs() < 1e-12);
    // cap = 2 x mean 4 = 8: the big weight is capped, the excess 23 is spread over the nine others.
    assert_eq!(count, 1);
    assert!((t[9] - 8.0).abs() < 1e-12);
    assert!(t[..9].iter().all(|x| (x - 32.0 / 9.0).abs() < 1e-12));
    let (same, none) = trim_to_cap(&[1.0, 2.0], 5.0).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((same, none), (vec![1.0, 2.0], 0));
    assert_eq!(trim_to_cap(&w, 1.0), Err(WeightingError::BadCap(1.0)));
    assert!(matches!(
        trim_to_cap(&[1.0, -1.0], 3.0),
        Err(WeightingError::BadWeight(_))
    ));
}

#[test]
fn raking_reproduces_margins_to_1e8() {
    let margins = population_margins(&population()).unwrap_or_else(|e| panic!("{e}"));
    let (base, labels) = sample(600);
    let r = rake_to_margins(&base, &labels, &margins, &WeightingOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.converged, "iterations {}", r.iterations);
    assert!(r.max_margin_error < 1e-8, "{}", r.max_margin_error);
    // Check independently of margin_error: weighted counts per level.
    for (m, l) in margins.iter().zip(&labels) {
        for (level, total) in m.levels.iter().zip(&m.totals) {
            let s: f64 = r
                .weights
                .iter()
                .zip(l)
                .filter(|(_, x)| x.as_deref() == Some(level.as_str()))
                .map(|(w, _)| w)
                .sum();
            assert!(
                (s - total).abs() / total < 1e-8,
                "{} {level}: {s} vs {total}",
                m.variable
            );
        }
    }
    assert_eq!((r.rounds, r.trimmed), (1, 0));
    assert_eq!(r.before.n, 600);
    assert!((r.after.sum - 28500.0).abs() < 1e-6);
    assert!(r.after.kish_deff >= 1.0);
}

#[test]
fn raking_with_trimming_ends_on_the_margins() {
    let margins = population_margins(&population()).unwrap_or_else(|e| panic!("{e}"));
    let (mut base, labels) = sample(600);
    base[0] = 400.0;
    base[1] = 300.0;
    let untrimmed = rake_to_margins(&base, &labels, &margins, &WeightingOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let opts = WeightingOptions {
        trim_cap: Some(3.0),
        ..WeightingOptions::default()
    };
    let r = rake_to_margins(&base, &labels, &margins, &opts).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        untrimmed.after.max / (untrimmed.after.sum / 600.0) > 3.0,
        "the test needs a weight above the cap"
    );
    assert!(r.rounds > 1 && r.trimmed > 0);
    assert!(r.max_margin_error < 1e-8, "{}", r.max_margin_error);
    assert!(r.max_over_cap < 1.05, "{}", r.max_over_cap);
    assert!(r.after.kish_deff < untrimmed.after.kish_deff);
}

#[test]
fn rows_outside_the_population_levels_are_an_error() {
    let margins = population_margins(&population()).unwrap_or_else(|e| panic!("{e}"));
    let (base, mut labels) = sample(50);
    labels[0][7] = None;
    labels[0][9] = Some("other");
    let e = rake_to_margins(&base, &labels, &margins, &WeightingOptions::default()).err();
    assert_eq!(
        e,
        Some(WeightingError::UnplacedRows {
            variable: "sex".into(),
            count: 2,
            first_row: 8,
            value: None
        })
    );
    let e = rake_to_margins(&base[..49], &labels, &margins, &WeightingOptions::default()).err();
    assert!(matches!(e, Some(WeightingError::Length { .. })), "{e:?}");
}
