//! `dh-survey`: design-based estimation for complex surveys, matching R's `survey` package (Lumley).
//!
//! No I/O and no CLI code: callers hand in columns as slices. See the module docs for what each part owns.

pub mod dist;
pub mod error;
pub mod linalg;
pub mod lonely;
pub mod replicate;

pub use error::SurveyError;
pub use lonely::LonelyPsu;
