//! Property tests of the fast paths against the row-level path on random designs: `linear_fast.rs` (svymean and
//! svytotal of plain Taylor designs), `ciprop_fast.rs` (svyciprop of plain Taylor designs),
//! `calibrated_fast.rs` (raked designs) and `replicate_stats::domain_linear` (JKn replicate designs). Each of a
//! few hundred seeded designs (strata or none, nested or globally unique PSU ids, one to four PSUs per stratum
//! so single-PSU strata are common, an optional second stage or fpc, zero weights, every lonely-PSU rule) is
//! estimated overall, in a subset (sometimes empty) and by a factor with an unused level (an empty domain),
//! both ways; the answers must agree: the same domains, labels, counts, df and interval method, the numbers
//! within 1e-9 (the paths sum in a different order), the calibrated path bit for bit, and the same error when
//! one path fails. The oracle cases rarely reach these paths; this test does on every design.

use crate::calibrate::{FactorMargin, RakeControl, rake};
use crate::ciprop::CipropMethod;
use crate::design::{DesignSpec, Factor, NA_CODE, WeightSpec};
use crate::domain::DomainSpec;
use crate::estimator::{Deff, Estimate, Options, SurveyDesign, Variable};
use crate::lonely::LonelyPsu;
use crate::replicate::{DesignColumns, RepType, ReplicateOptions, build_replicates};

/// SplitMix64: a small seeded generator, so a failing design is reproduced by its seed alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// One random design and the columns estimated on it.
struct Case {
    strata: Option<Vec<u32>>,
    strata_labels: Vec<String>,
    psu: Vec<u32>,
    /// Second-stage unit ids, when the design has two stages.
    ssu: Option<Vec<u32>>,
    fpc: Option<Vec<f64>>,
    nest: bool,
    weights: Vec<f64>,
    lonely: LonelyPsu,
    /// Numeric, with missing values.
    x: Vec<f64>,
    /// 0/1, with missing values.
    y: Vec<f64>,
    /// Three levels, the last one sometimes unused, with missing codes.
    cat: Vec<u32>,
    /// Up to four levels, some unused (empty domains), with missing codes.
    by: Vec<u32>,
    by_labels: Vec<String>,
    /// Two levels, the calibration margin.
    group: Vec<u32>,
    subset: Vec<bool>,
}

const LONELY: [LonelyPsu; 5] = [
    LonelyPsu::Fail,
    LonelyPsu::Adjust,
    LonelyPsu::Average,
    LonelyPsu::Certainty,
    LonelyPsu::Remove,
];

fn labels(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

impl Case {
    fn random(rng: &mut Rng) -> Case {
        let n_strata = rng.below(6); // 0 = unstratified
        let nest = rng.chance(0.5);
        // rows as (stratum, psu id, rows of the PSU)
        let mut units = Vec::new();
        let mut next_id = 0u32;
        for h in 0..n_strata.max(1) {
            let n_psu = if rng.chance(0.3) {
                1
            } else {
                2 + rng.below(if n_strata == 0 { 7 } else { 3 })
            };
            for p in 0..n_psu {
                let id = if nest { p as u32 } else { next_id };
                next_id += 1;
                units.push((h as u32, id, 1 + rng.below(6)));
            }
        }
        let mut rows: Vec<(u32, u32)> = units
            .iter()
            .flat_map(|&(h, id, m)| std::iter::repeat_n((h, id), m))
            .collect();
        // rows in random order: the paths must not depend on a PSU's rows being together
        for i in (1..rows.len()).rev() {
            rows.swap(i, rng.below(i + 1));
        }
        let n = rows.len();
        let two_stage = rng.chance(0.15);
        let ssu = two_stage.then(|| (0..n).map(|_| rng.below(3) as u32).collect());
        let fpc = (!two_stage && rng.chance(0.25)).then(|| {
            let extra: Vec<f64> = (0..n_strata.max(1)).map(|_| rng.below(20) as f64).collect();
            rows.iter()
                .map(|&(h, _)| {
                    let sampled = units.iter().filter(|u| u.0 == h).count() as f64;
                    sampled + extra[h as usize]
                })
                .collect()
        });
        let distinct_weights = [1.0 + rng.unit() * 40.0, 1.0 + rng.unit() * 40.0, 3.5];
        let p_zero = [0.0, 0.1, 0.4][rng.below(3)];
        let weights = (0..n)
            .map(|_| {
                if rng.chance(p_zero) {
                    0.0
                } else if rng.chance(0.5) {
                    distinct_weights[rng.below(3)]
                } else {
                    0.5 + rng.unit() * 50.0
                }
            })
            .collect();
        let p_missing = [0.0, 0.1, 0.3][rng.below(3)];
        let x = (0..n)
            .map(|_| {
                if rng.chance(p_missing) {
                    f64::NAN
                } else {
                    (rng.unit() * 100.0 - 30.0).round() / 4.0
                }
            })
            .collect();
        // prevalence 0 or 1 sometimes: the boundary intervals
        let prevalence = [0.0, 1.0, 0.05, 0.5, rng.unit()][rng.below(5)];
        let y = (0..n)
            .map(|_| {
                if rng.chance(p_missing) {
                    f64::NAN
                } else {
                    f64::from(u8::from(rng.chance(prevalence)))
                }
            })
            .collect();
        let cat_levels = 2 + rng.below(2);
        let cat = (0..n)
            .map(|_| {
                if rng.chance(p_missing / 2.0) {
                    NA_CODE
                } else {
                    rng.below(cat_levels) as u32
                }
            })
            .collect();
        let by_levels = 1 + rng.below(4);
        let used = 1 + rng.below(by_levels);
        let by = (0..n)
            .map(|_| {
                if rng.chance(0.05) {
                    NA_CODE
                } else {
                    (by_levels - 1 - rng.below(used)) as u32
                }
            })
            .collect();
        let group = (0..n).map(|_| u32::from(rng.chance(0.4))).collect();
        let p_in = [0.0, 0.3, 0.9][rng.below(3)];
        let subset = (0..n).map(|_| rng.chance(p_in)).collect();
        Case {
            strata: (n_strata > 0).then(|| rows.iter().map(|r| r.0).collect()),
            strata_labels: labels("s", n_strata.max(1)),
            psu: rows.iter().map(|r| r.1).collect(),
            ssu,
            fpc,
            nest,
            weights,
            lonely: LONELY[rng.below(LONELY.len())],
            x,
            y,
            cat,
            by,
            by_labels: labels("b", by_levels),
            group,
            subset,
        }
    }

    fn taylor(&self) -> Result<SurveyDesign, crate::SurveyError> {
        let mut ids: Vec<&[u32]> = vec![&self.psu];
        if let Some(ssu) = &self.ssu {
            ids.push(ssu);
        }
        SurveyDesign::taylor(&DesignSpec {
            ids,
            strata: self.strata.as_ref().map(|codes| Factor {
                codes,
                labels: &self.strata_labels,
            }),
            fpc: self.fpc.iter().map(|f| f.as_slice()).collect(),
            weights: WeightSpec::Weights(&self.weights),
            nest: self.nest,
            lonely_psu: self.lonely,
        })
    }

    /// The Taylor design raked to a two-level margin, some weights then set to 0 (a linked table's
    /// non-respondents); `None` when raking is not possible on this sample.
    fn calibrated(&self, base: &SurveyDesign, rng: &mut Rng) -> Option<SurveyDesign> {
        let levels = labels("g", 2);
        let totals = [6000.0, 4000.0];
        let margin = FactorMargin {
            variable: "g",
            factor: Factor {
                codes: &self.group,
                labels: &levels,
            },
            levels: &levels,
            totals: &totals,
        };
        let raked = rake(base.weights(), &[margin], RakeControl::default()).ok()?;
        let weights: Vec<f64> = raked
            .weights
            .iter()
            .map(|&w| if rng.chance(0.1) { 0.0 } else { w })
            .collect();
        SurveyDesign::calibrated(base.taylor_design()?, weights, Box::new(raked.calibration)).ok()
    }

    /// JKn replicates of the one-stage design (ids unique across strata); `None` when they cannot be built.
    fn jkn(&self) -> Option<SurveyDesign> {
        let strata: Vec<usize> = match &self.strata {
            Some(s) => s.iter().map(|&h| h as usize).collect(),
            None => vec![0; self.psu.len()],
        };
        // PSU ids unique across strata, as after nest=TRUE
        let psu: Vec<usize> = self
            .psu
            .iter()
            .zip(&strata)
            .map(|(&p, &h)| h * 1000 + p as usize)
            .collect();
        let columns = DesignColumns {
            weights: &self.weights,
            strata: Some(&strata),
            stratum_labels: None,
            psu: &psu,
            fpc: None,
        };
        let options = ReplicateOptions {
            rep_type: RepType::Jkn,
            lonely_psu: self.lonely,
            mse: false,
        };
        let set = build_replicates(&columns, &options).ok()?;
        SurveyDesign::with_replicates(self.weights.clone(), set).ok()
    }

    fn domain_specs(&self) -> Vec<DomainSpec<'_>> {
        let by = Factor {
            codes: &self.by,
            labels: &self.by_labels,
        };
        vec![
            DomainSpec::default(),
            DomainSpec {
                subset: Some(&self.subset),
                by: vec![],
            },
            DomainSpec {
                subset: None,
                by: vec![by],
            },
            DomainSpec {
                subset: Some(&self.subset),
                by: vec![by],
            },
        ]
    }
}

/// `a` and `b` agree up to summation order: within 1e-9 relative, or 1e-9 of `scale` absolute (a variance that is
/// 0 in exact arithmetic is a rounding residue of the PSU totals' size); NaN only with NaN.
fn close(a: f64, b: f64, scale: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-9 * scale
}

/// Exact comparison of floats, NaN and the sign of zero included.
fn bits(x: f64) -> u64 {
    x.to_bits()
}

fn same_estimate(fast: &Estimate, rows: &Estimate, exact: bool) -> Result<(), String> {
    let same_labels = (&fast.domain, &fast.name, fast.ci_method, fast.n_unweighted)
        == (&rows.domain, &rows.name, rows.ci_method, rows.n_unweighted)
        && bits(fast.df) == bits(rows.df)
        && fast.deff.is_some() == rows.deff.is_some();
    let scale = 1.0
        + rows
            .estimate
            .abs()
            .max(rows.se.abs())
            .max(rows.n_weighted.abs());
    let numbers = [
        (fast.estimate, rows.estimate),
        (fast.se, rows.se),
        (fast.ci_lower, rows.ci_lower),
        (fast.ci_upper, rows.ci_upper),
        (fast.n_weighted, rows.n_weighted),
        (fast.deff.unwrap_or(0.0), rows.deff.unwrap_or(0.0)),
    ];
    let same_numbers = numbers.iter().all(|&(a, b)| {
        if exact {
            bits(a) == bits(b)
        } else {
            close(a, b, scale)
        }
    });
    if same_labels && same_numbers {
        Ok(())
    } else {
        Err(format!("fast path {fast:?}\n row path {rows:?}"))
    }
}

fn same_estimates(
    fast: Result<Vec<Estimate>, crate::SurveyError>,
    rows: Result<Vec<Estimate>, crate::SurveyError>,
    exact: bool,
) -> Result<usize, String> {
    match (fast, rows) {
        (Ok(fast), Ok(rows)) => {
            if fast.len() != rows.len() {
                return Err(format!(
                    "{} estimates on the fast path, {} on the row path",
                    fast.len(),
                    rows.len()
                ));
            }
            for (f, r) in fast.iter().zip(&rows) {
                same_estimate(f, r, exact)?;
            }
            Ok(fast.len())
        }
        (Err(f), Err(r)) if f.to_string() == r.to_string() => Ok(0),
        (f, r) => Err(format!(
            "fast path {:?}\n row path {:?}",
            f.map(|e| e.len()),
            r.map(|e| e.len())
        )),
    }
}

/// Tallies of one run over the designs, so that the test fails when the cases stop reaching the paths.
#[derive(Default, Debug)]
struct Tally {
    designs: usize,
    linear: usize,
    ciprop: usize,
    errors_agreed: usize,
    empty_domains: usize,
}

impl Tally {
    fn add(&mut self, compared: usize, ciprop: bool) {
        if compared == 0 {
            self.errors_agreed += 1;
        } else if ciprop {
            self.ciprop += compared;
        } else {
            self.linear += compared;
        }
    }
}

/// svymean and svytotal (numeric and categorical), then svyciprop with every method the fast paths take.
fn compare_design(
    design: &SurveyDesign,
    case: &Case,
    opts: &Options,
    exact: bool,
    tally: &mut Tally,
) -> Result<(), String> {
    let x = Variable::Numeric {
        name: "x",
        values: &case.x,
    };
    let cat_labels = labels("c", 3);
    let cat = Variable::Categorical {
        name: "c",
        factor: Factor {
            codes: &case.cat,
            labels: &cat_labels,
        },
    };
    let y = Variable::Numeric {
        name: "y",
        values: &case.y,
    };
    for domains in case.domain_specs() {
        if !domains.by.is_empty() {
            let used = (0..case.by_labels.len() as u32).filter(|l| case.by.contains(l));
            tally.empty_domains += case.by_labels.len() - used.count();
        }
        for var in [&x, &cat] {
            for total in [false, true] {
                let fast = design.linear_for_test(var, &domains, opts, total, false);
                let rows = design.linear_for_test(var, &domains, opts, total, true);
                let what = format!("{} {}", if total { "total" } else { "mean" }, var.name());
                tally.add(
                    same_estimates(fast, rows, exact).map_err(|e| format!("{what}: {e}"))?,
                    false,
                );
            }
        }
        for method in [
            CipropMethod::Logit,
            CipropMethod::Beta,
            CipropMethod::Mean,
            CipropMethod::Asin,
            CipropMethod::Xlogit,
        ] {
            let props = |by_rows| {
                design
                    .ciprop_domains_for_test(&y, method, &domains, opts, false, by_rows)
                    .map(|v| v.into_iter().map(|(p, _)| p).collect::<Vec<_>>())
            };
            tally.add(
                same_estimates(props(false), props(true), exact)
                    .map_err(|e| format!("ciprop {method:?}: {e}"))?,
                true,
            );
        }
    }
    Ok(())
}

const DESIGNS: u64 = 300;

#[test]
fn fast_paths_equal_the_row_level_path_on_random_designs() {
    let mut taylor = Tally::default();
    let mut calibrated = Tally::default();
    let mut replicate = Tally::default();
    let mut one_pass = 0;
    for seed in 0..DESIGNS {
        let mut rng = Rng(seed);
        let case = Case::random(&mut rng);
        let Ok(design) = case.taylor() else {
            continue; // a design R refuses too (one PSU, a cluster in two strata)
        };
        let opts = Options {
            na_rm: true,
            deff: [Deff::None, Deff::Srs, Deff::Replace][rng.below(3)],
            level: [0.95, 0.9][rng.below(2)],
        };
        one_pass += usize::from(design.taylor_design().is_some_and(|d| d.only_stage1()));
        taylor.designs += 1;
        let context = |kind: &str, e: String| format!("seed {seed}, {kind} design: {e}");
        compare_design(&design, &case, &opts, false, &mut taylor)
            .unwrap_or_else(|e| panic!("{}", context("Taylor", e)));
        if let Some(cal) = case.calibrated(&design, &mut rng) {
            calibrated.designs += 1;
            compare_design(&cal, &case, &opts, true, &mut calibrated)
                .unwrap_or_else(|e| panic!("{}", context("calibrated", e)));
        }
        if let Some(jkn) = case.jkn() {
            replicate.designs += 1;
            let linear_only = Options {
                deff: Deff::None,
                ..opts
            };
            compare_design(&jkn, &case, &linear_only, false, &mut replicate)
                .unwrap_or_else(|e| panic!("{}", context("JKn", e)));
        }
    }
    eprintln!("Taylor {taylor:?}\ncalibrated {calibrated:?}\nJKn {replicate:?}");
    // the generator must keep reaching every path, with estimates and with agreed errors
    assert!(taylor.designs >= DESIGNS as usize * 2 / 3, "{taylor:?}");
    assert!(
        one_pass * 10 >= taylor.designs * 8,
        "{one_pass} one-pass designs"
    );
    for (kind, t) in [
        ("Taylor", &taylor),
        ("calibrated", &calibrated),
        ("JKn", &replicate),
    ] {
        assert!(t.designs >= 100, "{kind}: {t:?}");
        assert!(t.linear >= 10 * t.designs, "{kind}: {t:?}");
        assert!(t.ciprop >= 5 * t.designs, "{kind}: {t:?}");
        assert!(t.empty_domains > 0, "{kind}: {t:?}");
    }
    assert!(
        taylor.errors_agreed > 0,
        "no design failed on both paths: {taylor:?}"
    );
}
