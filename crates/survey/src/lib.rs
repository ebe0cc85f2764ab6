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
