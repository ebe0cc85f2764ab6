//! `dh-survey`: design-based estimation for complex surveys, matching R's `survey` package (Lumley).
//!
//! No I/O and no CLI code: callers hand in columns as slices (`&[f64]` with NaN for missing, categorical columns
//! as [`Factor`] codes with labels in R's level order). Build a [`SurveyDesign`] (Taylor from a [`DesignSpec`],
//! calibrated with [`calibrate`], or replicate weights with [`replicate`]), then call [`SurveyDesign::mean`],
//! [`SurveyDesign::total`], [`SurveyDesign::ratio`], [`SurveyDesign::ciprop`] or [`SurveyDesign::quantile`]
//! with a [`DomainSpec`] (`by` variables and/or a `subset`). Every estimate carries its SE, interval, df,
//! design effect (when asked), unweighted n and weighted N.
//!
//! ```
//! use dh_survey::{DesignSpec, DomainSpec, Factor, LonelyPsu, Options, SurveyDesign, Variable, WeightSpec};
//!
//! // 2 strata x 2 PSUs, weights 10; R: svydesign(id=~psu, strata=~stratum, weights=~w, nest=TRUE)
//! let strata_labels = vec!["A".to_string(), "B".to_string()];
//! let stratum = [0u32, 0, 0, 0, 1, 1, 1, 1];
//! let psu = [1u32, 1, 2, 2, 1, 1, 2, 2];
//! let w = [10.0; 8];
//! let spec = DesignSpec {
//!     ids: vec![&psu],
//!     strata: Some(Factor { codes: &stratum, labels: &strata_labels }),
//!     fpc: vec![],
//!     weights: WeightSpec::Weights(&w),
//!     nest: true,
//!     lonely_psu: LonelyPsu::Fail,
//! };
//! let design = SurveyDesign::taylor(&spec)?;
//! let y = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0];
//! let est = design.mean(&Variable::Numeric { name: "y", values: &y }, &DomainSpec::default(), &Options::default())?;
//! assert_eq!(est[0].estimate, 0.5);
//! assert_eq!(design.degf(), 2); // 4 PSUs - 2 strata
//! # Ok::<(), dh_survey::SurveyError>(())
//! ```
//!
//! Other modules:
//!
//! - `block_rank`: Exact rank of the PSU x replicate multiplier matrix of a replicate design built from a design
//!   (jackknife, BRR, Fay), without forming it (the matrix is `1 d' + E` with `E` block-diagonal)
//! - `calibrated_fast`: Means, totals and svyciprop on calibrated designs, one domain at a time over that domain's
//!   rows only (`DomainRows`): the point estimate, the counts, the design effect and the degrees of freedom come
//!   from the domain's rows, and only the variance touches every row (the residualisation spreads a domain's
//!   influence values over all rows)
//! - `ciprop_fast`: svyciprop on plain Taylor designs whose variance has only a first-stage term, for every domain
//!   at once: one pass gathers each domain's weighted sums, PSU totals (domains x PSUs cells), row counts and the
//!   PSUs that count for its `degf`; the variance of each domain's mean then comes from the PSU totals without
//!   touching the rows again (the logit interval needs nothing more: its variance is v / (p (1 - p))^2, see
//!   `ciprop.rs`)
//! - `collate`: The order R gives character strings (`order()`, `sort()`, `factor()` levels, `table()` names) on
//!   the usual Linux builds, which collate with ICU's root collation even in a `C.UTF-8` locale: whitespace, then
//!   punctuation and symbols, then digits (character by character: "10" < "2"), then letters alphabetically
//!   ignoring case; ties broken with lowercase before uppercase
//! - `dist`: Distribution functions used by the estimators: normal, Student t, beta and F (through t)
//! - `domain`: Domains: `subset` (a row filter that keeps the design: rows outside get weight 0) and `by` (one or
//!   more categorical variables, R's `svyby`): the domain of each row, R's domain order (the interaction with the
//!   first variable varying fastest, empty domains dropped) and labels
//! - `error`: Typed errors of the estimation engine
//! - `estimator`: Survey designs with their variance method (Taylor, calibrated Taylor, replicate weights) and what
//!   every estimator shares: the public types ([`Options`], [`Variable`], [`Estimate`]), missing-value checks,
//!   domains, R's `degf` and `nrow` of a domain, and the variance of an estimate (Taylor influence values,
//!   calibration residuals, or re-estimation with replicate weights)
//! - `fast_path_props`: Property tests of the fast paths against the row-level path on random designs:
//!   `linear_fast.rs` (svymean and svytotal of plain Taylor designs), `ciprop_fast.rs` (svyciprop of plain Taylor
//!   designs), `calibrated_fast.rs` (raked designs) and `replicate_stats::domain_linear` (JKn replicate designs)
//! - `glm`: The binomial deviance of an intercept-only quasibinomial GLM, `glm(y ~ 1, family = quasibinomial,
//!   weights = w)`, which `svyciprop(method = "likelihood")` profiles, and R's `binomial()$linkinv`
//! - `linalg`: Small dense linear algebra that the replicate and calibration code needs, written to follow the
//!   routines R calls so that results agree with R's `survey` to rounding: - [`Qr`]: Householder QR with LINPACK
//!   `dqrdc2`'s limited column pivoting and rank rule (R's `qr()`), and the `dqrsl` residual (R's `qr.resid()`); -
//!   [`solve`]: LU with partial pivoting and R's "computationally singular" check (R's `solve()`); -
//!   [`pseudo_inverse`]: Moore-Penrose inverse of a symmetric matrix with `MASS::ginv`'s tolerance rule
//! - `linear`: Means, totals and ratios (R's `svymean`, `svytotal`, `svyratio`, and `svyby` over them): continuous
//!   variables and every level of a categorical one, with SE, t interval, design effect (`deff=TRUE` against SRS
//!   without replacement, `"replace"` with replacement), unweighted n and weighted N, overall and by domain
//! - `linear_fast`: One-pass means and totals for plain Taylor designs whose variance has only a first-stage term:
//!   every domain's weighted sums and PSU totals are accumulated in a single pass over the rows (domains x PSUs
//!   cells), so a 20-level `by` costs one pass instead of twenty
//! - `lonely`: Lonely-PSU rules (R's `options(survey.lonely.psu=...)`)
//! - `replicate_stats`: Estimators on replicate-weight designs: re-estimation with every replicate's weights
//!   through [`ReplicateSet::replicate_totals`] (one pass over the rows, replicates x PSUs for built designs, never
//!   a replicates x rows matrix), R's `svrVar`, and the `degf` of a domain (R's `[.svyrep.design` recomputes
//!   `qr(weights(design, "analysis"), tol = 1e-5)$rank - 1` on the rows it keeps)
//! - `spline`: R's `spline(x, y, n, method = "fmm")` (Forsythe, Malcolm and Moler cubic spline on an even grid) and
//!   `approx(x, y, xout)` (linear interpolation, NA outside the range), as `confint_profile` uses them

mod block_rank;
pub mod calibrate;
mod calibrated_fast;
pub mod ciprop;
mod ciprop_fast;
pub mod collate;
pub mod design;
pub mod dist;
pub mod domain;
pub mod error;
pub mod estimator;
#[cfg(test)]
mod fast_path_props;
mod glm;
pub mod linalg;
mod linear;
mod linear_fast;
pub mod lonely;
pub mod quantile;
pub mod replicate;
mod replicate_stats;
mod spline;
mod taylor;

pub use ciprop::CipropMethod;
pub use design::{Design, DesignSpec, Factor, NA_CODE, WeightSpec};
pub use domain::DomainSpec;
pub use error::SurveyError;
pub use estimator::{
    Deff, Estimate, Options, ReplicateWeights, Residualise, SurveyDesign, Variable, VarianceKind,
};
pub use lonely::LonelyPsu;
pub use quantile::{QuantileInterval, QuantileRule};
