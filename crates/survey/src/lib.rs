//! `dh-survey`: design-based estimation for complex surveys, matching R's `survey` package (Lumley).
//!
//! No I/O and no CLI code: callers hand in columns as slices (`&[f64]` with NaN for missing, categorical columns
//! as [`Factor`] codes with labels in R's level order). Build a [`SurveyDesign`] (Taylor from a [`DesignSpec`],
//! calibrated, or replicate weights), then call [`SurveyDesign::mean`], [`SurveyDesign::total`],
//! [`SurveyDesign::ratio`], [`SurveyDesign::ciprop`] or [`SurveyDesign::quantile`] with a [`DomainSpec`].

pub mod calibrate;
pub mod ciprop;
pub mod collate;
pub mod design;
pub mod dist;
pub mod domain;
pub mod error;
pub mod estimator;
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
