//! Typed errors of the estimation engine.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SurveyError {
    /// A stratum has a single PSU and the lonely-PSU rule is `fail` (R: "Stratum (C) has only one PSU at stage 1").
    #[error("Stratum ({stratum}) has only one PSU at stage {stage}")]
    LonelyPsu { stratum: String, stage: usize },
    /// Missing values in a variable without `na_rm` (a caller may say how to set it: the CLI's `--na-rm`).
    #[error("{count} missing value(s) in `{variable}`; drop or impute them")]
    MissingValues { variable: String, count: usize },
    /// Inputs that do not describe a valid design or statistic.
    #[error("{0}")]
    Invalid(String),
}
