//! Builds the `dh-survey` design a request describes: Taylor (`svydesign`), replicate weights
//! converted from it (`as.svrepdesign`) or supplied in a file (`svrepdesign`), and calibration.

use std::path::Path;

use dh_survey::calibrate::{
    CalFun, CalibrateOptions, Calibrated, CalibratedReplicates, CalibrationModel, FactorMargin,
    RakeControl, Term, calibrate, calibrate_replicates, calibrate_replicates_to_margins,
    calibrate_to_margins, post_stratify, post_stratify_replicates, rake, rake_replicates,
};
use dh_survey::replicate::{
    DesignColumns, RepType, ReplicateOptions as BuildOptions, ReplicateSet, SuppliedOptions,
    build_bootstrap, build_replicates, supplied_replicates,
};
use dh_survey::{Design, DesignSpec, SurveyDesign, WeightSpec};

use crate::error::EstimateError;
use crate::population::Margins;
use crate::prepared::Prepared;
use crate::read_csv::{read_csv, read_header};
use crate::report::DesignSummary;
use crate::request::{CalibrationMethod, EstimateRequest, ReplicateKind, ReplicateOptions};
use crate::table::Column;

/// A design ready for estimation with its summary.
pub struct BuiltDesign {
    pub design: SurveyDesign,
    pub summary: DesignSummary,
    /// Warnings the design step produced (as R prints them).
    pub warnings: Vec<String>,
}

/// Makes the categorical views the design needs (ids and strata).
pub fn prepare_design_columns(
    request: &EstimateRequest,
    data: &mut Prepared,
) -> Result<(), EstimateError> {
    for id in &request.design.ids {
        data.ensure_categorical("--ids", id)?;
    }
    if let Some(strata) = &request.design.strata {
        data.ensure_categorical("--strata", strata)?;
    }
    Ok(())
}

fn taylor_design(request: &EstimateRequest, data: &Prepared) -> Result<Design, EstimateError> {
    let d = &request.design;
    let ids = d
        .ids
        .iter()
        .map(|c| data.factor("--ids", c).map(|f| f.codes))
        .collect::<Result<Vec<_>, _>>()?;
    let strata = d
        .strata
        .as_deref()
        .map(|c| data.factor("--strata", c))
        .transpose()?;
    let fpc = d
        .fpc
        .iter()
        .map(|c| data.numeric("--fpc", c))
        .collect::<Result<Vec<_>, _>>()?;
    let weights = match (&d.weights, &d.probs) {
        (Some(w), _) => WeightSpec::Weights(data.numeric("--weights", w)?),
        (None, Some(p)) => WeightSpec::Probs(data.numeric("--probs", p)?),
        (None, None) => WeightSpec::Implicit,
    };
    let spec = DesignSpec {
        ids,
        strata,
        fpc,
        weights,
        nest: d.nest,
        lonely_psu: d.lonely_psu,
    };
    Ok(Design::new(&spec)?)
}

/// R's `as.svrepdesign(type="bootstrap")` default number of replicates.
pub const DEFAULT_BOOTSTRAP_REPLICATES: usize = 50;

fn rep_type(kind: ReplicateKind, fay_rho: Option<f64>) -> RepType {
    match kind {
        ReplicateKind::Jk1 => RepType::Jk1,
        ReplicateKind::Jkn => RepType::Jkn,
        ReplicateKind::Brr => RepType::Brr,
        ReplicateKind::Fay => RepType::Fay {
            rho: fay_rho.unwrap_or(0.5),
        },
        ReplicateKind::Bootstrap => RepType::Bootstrap,
    }
}

/// Builds the design of `request` on `data` (after [`prepare_design_columns`]).
pub fn build_design(
    request: &EstimateRequest,
    data: &Prepared,
    margins: Option<&Margins>,
) -> Result<BuiltDesign, EstimateError> {
    let n_rows = data.n_rows();
    let has_structure = !request.design.ids.is_empty()
        || request.design.strata.is_some()
        || !request.design.fpc.is_empty();
    let taylor = if request.replicates.is_none() || has_structure || request.design.probs.is_some()
    {
        Some(taylor_design(request, data)?)
    } else {
        None
    };
    let structure = taylor.as_ref().map(|t| (t.n_strata(), t.n_psu()));
    let mut warnings = Vec::new();
    let target = match (&request.calibration, margins) {
        (Some(c), Some(m)) => Some(calibration_target(c.method, m, data)?),
        _ => None,
    };
    let design = match (&request.replicates, taylor) {
        (None, Some(t)) => match &target {
            Some(target) => {
                let calibrated = calibrate_weights(target, t.weights())?;
                warnings.extend(calibrated.warnings.iter().cloned());
                SurveyDesign::calibrated(&t, calibrated.weights, Box::new(calibrated.calibration))?
            }
            None => SurveyDesign::from_design(t),
        },
        (Some(options), t) => {
            let (set, pweights) = replicate_set(request, data, t.as_ref(), options)?;
            warnings.extend(set.warnings.iter().cloned());
            // CORE: with_replicates keeps R's compressed weights (replicates x PSUs), no dense copy
            replicate_design(pweights, set, target.as_ref(), &mut warnings)?
        }
        (None, None) => {
            return Err(EstimateError::missing("--weights", "no design given"));
        }
    };
    let (n_strata, n_psu) = match design.structure().or(structure) {
        Some((strata, psu)) => (Some(strata), Some(psu)),
        None => (None, None),
    };
    let summary = DesignSummary {
        n_rows,
        n_strata,
        n_psu,
        degf: design.degf(),
    };
    Ok(BuiltDesign {
        design,
        summary,
        warnings,
    })
}

/// The replicate weights of `--replicates` (built from the Taylor design `t`) or `--repweights` (read from a
/// file), with the sampling weights they go with.
fn replicate_set(
    request: &EstimateRequest,
    data: &Prepared,
    t: Option<&Design>,
    options: &ReplicateOptions,
) -> Result<(ReplicateSet, Vec<f64>), EstimateError> {
    match (options, t) {
        (
            ReplicateOptions::Convert {
                kind,
                fay_rho,
                mse,
                seed,
                n_replicates,
            },
            Some(t),
        ) => {
            let strata: Option<Vec<usize>> = match &request.design.strata {
                Some(c) => Some(
                    data.factor("--strata", c)?
                        .codes
                        .iter()
                        .map(|&c| c as usize)
                        .collect(),
                ),
                None => None,
            };
            let psu: Vec<usize> = t.psu_of_row().iter().map(|&p| p as usize).collect();
            let fpc = match request.design.fpc.first() {
                Some(c) => Some(data.numeric("--fpc", c)?),
                None => None,
            };
            let labels = request
                .design
                .strata
                .as_deref()
                .map(|c| data.factor("--strata", c).map(|f| f.labels))
                .transpose()?;
            let columns = DesignColumns {
                weights: t.weights(),
                strata: strata.as_deref(),
                stratum_labels: labels,
                psu: &psu,
                fpc,
            };
            let set = match (kind, seed) {
                // validate() makes sure a bootstrap has its seed
                (ReplicateKind::Bootstrap, Some(seed)) => build_bootstrap(
                    &columns,
                    n_replicates.unwrap_or(DEFAULT_BOOTSTRAP_REPLICATES),
                    *seed,
                    *mse,
                )?,
                _ => build_replicates(
                    &columns,
                    &BuildOptions {
                        rep_type: rep_type(*kind, *fay_rho),
                        lonely_psu: request.design.lonely_psu,
                        mse: *mse,
                    },
                )?,
            };
            Ok((set, t.weights().to_vec()))
        }
        (ReplicateOptions::Convert { .. }, None) => Err(EstimateError::missing(
            "--ids",
            "--replicates builds replicate weights from a design: give --ids and/or --strata",
        )),
        (
            ReplicateOptions::Supplied {
                file,
                kind,
                fay_rho,
                scale,
                mse,
            },
            t,
        ) => {
            let pweights: Vec<f64> = match (t, &request.design.weights) {
                (Some(t), _) => t.weights().to_vec(),
                (None, Some(w)) => data.numeric("--weights", w)?.to_vec(),
                (None, None) => vec![1.0; data.n_rows()],
            };
            let repweights = read_repweights(file, data.n_rows())?;
            let set = supplied_replicates(
                repweights,
                &pweights,
                &SuppliedOptions {
                    rep_type: rep_type(*kind, *fay_rho),
                    combined_weights: true,
                    scale: *scale,
                    rscales: None,
                    mse: *mse,
                },
            )?;
            Ok((set, pweights))
        }
    }
}

/// A replicate design, calibrated when `target` is given. The calibrated design keeps the degrees of freedom
/// of the design it was calibrated from, as R does (and those come from the compressed weights, which is fast).
fn replicate_design(
    weights: Vec<f64>,
    set: ReplicateSet,
    target: Option<&Target<'_>>,
    warnings: &mut Vec<String>,
) -> Result<SurveyDesign, EstimateError> {
    let Some(target) = target else {
        return Ok(SurveyDesign::with_replicates(weights, set)?);
    };
    let calibrated = calibrate_replicate_weights(target, &weights, &set)?;
    let degf = SurveyDesign::with_replicates(weights, set)?.degf();
    warnings.extend(calibrated.warnings.iter().cloned());
    Ok(SurveyDesign::with_replicates_degf(
        calibrated.weights,
        calibrated.replicates,
        Some(degf),
    )?)
}

/// Makes the categorical views that the population margins need.
pub fn prepare_margin_columns(margins: &Margins, data: &mut Prepared) -> Result<(), EstimateError> {
    match margins {
        Margins::Factors(f) => {
            for m in f {
                data.ensure_categorical("--population", &m.variable)?;
            }
        }
        Margins::Formula(f) => {
            for term in &f.terms {
                if matches!(data.column("--population", term)?, Column::Categorical(_)) {
                    data.ensure_categorical("--population", term)?;
                }
            }
        }
    }
    Ok(())
}

/// The library's view of one-way population margins.
fn factor_margins<'a>(
    margins: &'a [crate::population::FactorMargin],
    data: &'a Prepared,
) -> Result<Vec<FactorMargin<'a>>, EstimateError> {
    margins
        .iter()
        .map(|m| {
            Ok(FactorMargin {
                variable: &m.variable,
                factor: data.factor("--population", &m.variable)?,
                levels: &m.levels,
                totals: &m.totals,
            })
        })
        .collect()
}

/// What `--calibrate` and `--population` ask for, in the library's terms; applied to a Taylor
/// design by [`calibrate_weights`] and to a replicate design by [`calibrate_replicate_weights`].
enum Target<'a> {
    PostStratify(FactorMargin<'a>),
    Rake(Vec<FactorMargin<'a>>, RakeControl),
    Margins(Vec<FactorMargin<'a>>, CalibrateOptions),
    Model(CalibrationModel<'a>, &'a [(String, f64)], CalibrateOptions),
}

fn calibration_target<'a>(
    method: CalibrationMethod,
    margins: &'a Margins,
    data: &'a Prepared,
) -> Result<Target<'a>, EstimateError> {
    let calfun = |method| match method {
        CalibrationMethod::Raking => CalFun::Raking,
        _ => CalFun::Linear,
    };
    Ok(match (method, margins) {
        (CalibrationMethod::PostStratify, Margins::Factors(f)) if f.len() == 1 => {
            let mut one = factor_margins(f, data)?;
            match one.pop() {
                Some(margin) => Target::PostStratify(margin),
                None => return Err(EstimateError::missing("--population", "no margin given")),
            }
        }
        (CalibrationMethod::PostStratify, _) => {
            return Err(EstimateError::invalid(
                "--calibrate",
                "poststratify",
                "needs exactly one {\"variable\", \"levels\", \"totals\"} margin in --population",
            ));
        }
        (CalibrationMethod::Rake, Margins::Factors(f)) => {
            Target::Rake(factor_margins(f, data)?, RakeControl::default())
        }
        (CalibrationMethod::RakeConverged, Margins::Factors(f)) => {
            Target::Rake(factor_margins(f, data)?, RakeControl::converged())
        }
        (CalibrationMethod::Rake | CalibrationMethod::RakeConverged, Margins::Formula(_)) => {
            return Err(EstimateError::invalid(
                "--calibrate",
                method.keyword(),
                "raking needs one-way margins ({\"variable\", \"levels\", \"totals\"}) in --population",
            ));
        }
        (CalibrationMethod::Linear | CalibrationMethod::Raking, Margins::Factors(f)) => {
            Target::Margins(
                factor_margins(f, data)?,
                CalibrateOptions::new(calfun(method)),
            )
        }
        (CalibrationMethod::Linear | CalibrationMethod::Raking, Margins::Formula(f)) => {
            let terms = f
                .terms
                .iter()
                .map(|name| {
                    Ok(match data.column("--population", name)? {
                        Column::Numeric(values) => Term::Numeric { name, values },
                        Column::Categorical(_) => Term::Factor {
                            name,
                            factor: data.factor("--population", name)?,
                        },
                    })
                })
                .collect::<Result<Vec<_>, EstimateError>>()?;
            let model = CalibrationModel {
                terms,
                intercept: f.intercept,
            };
            Target::Model(model, &f.totals, CalibrateOptions::new(calfun(method)))
        }
    })
}

/// Calibrated weights of a Taylor design (R's postStratify, rake, calibrate).
fn calibrate_weights(target: &Target<'_>, weights: &[f64]) -> Result<Calibrated, EstimateError> {
    Ok(match target {
        Target::PostStratify(margin) => post_stratify(weights, margin, false)?,
        Target::Rake(margins, control) => rake(weights, margins, *control)?,
        Target::Margins(margins, options) => calibrate_to_margins(weights, margins, options)?,
        Target::Model(model, totals, options) => calibrate(weights, model, totals, options)?,
    })
}

/// Calibrated full-sample and replicate weights of a replicate design (R's postStratify, rake and
/// calibrate methods for `svyrep.design`: every replicate calibrated to the same totals).
fn calibrate_replicate_weights(
    target: &Target<'_>,
    weights: &[f64],
    set: &ReplicateSet,
) -> Result<CalibratedReplicates, EstimateError> {
    Ok(match target {
        Target::PostStratify(margin) => post_stratify_replicates(weights, set, margin, false)?,
        Target::Rake(margins, control) => rake_replicates(weights, set, margins, *control)?,
        Target::Margins(margins, options) => {
            calibrate_replicates_to_margins(weights, set, margins, options)?
        }
        Target::Model(model, totals, options) => {
            calibrate_replicates(weights, set, model, totals, options)?
        }
    })
}

/// Reads a replicate-weight CSV: every column one replicate's analysis weights, rows aligned with the data.
fn read_repweights(path: &Path, n_rows: usize) -> Result<Vec<Vec<f64>>, EstimateError> {
    let header = read_header(path)?;
    let table = read_csv(path, &header)?;
    let bad = |message: String| EstimateError::ReplicateWeights {
        path: path.to_path_buf(),
        message,
    };
    if table.n_rows != n_rows {
        return Err(bad(format!(
            "{} rows, but the data has {n_rows}; rows must be aligned with the data",
            table.n_rows
        )));
    }
    table
        .names
        .iter()
        .zip(table.columns)
        .map(|(name, column)| match column {
            Column::Numeric(v) => match v.iter().position(|x| !x.is_finite()) {
                Some(i) => Err(bad(format!(
                    "column `{name}`, row {}: missing or non-finite weight",
                    i + 1
                ))),
                None => Ok(v),
            },
            Column::Categorical(c) => Err(bad(format!(
                "column `{name}` holds text such as `{}`; every column must be one replicate's weights",
                c.levels.first().cloned().unwrap_or_default()
            ))),
        })
        .collect()
}
