//! Flag advice the command line adds to library errors. A library says what is wrong (a typed error); which flag
//! of which command fixes it is the CLI's business, so the advice lives here, one function per library error
//! type, and [`line`] writes `error: <message><advice>` exactly as the libraries used to.

use dh_estimate::EstimateError;
use dh_export::ExportError;
use dh_onboard::OnboardError;
use dh_survey::SurveyError;

/// `error: {err}` followed by the advice, if any.
pub fn line(err: &dyn std::fmt::Display, advice: Option<&str>) -> String {
    format!("error: {err}{}", advice.unwrap_or(""))
}

/// `dh estimate`: missing values are left out with `--na-rm`.
pub fn estimate(err: &EstimateError) -> Option<&'static str> {
    match err {
        EstimateError::Survey(SurveyError::MissingValues { .. }) => {
            Some(", or pass --na-rm to treat them as R's na.rm=TRUE")
        }
        _ => None,
    }
}

/// `dh country new`: an existing configuration is replaced with `--force`.
pub fn country_new(err: &OnboardError) -> Option<&'static str> {
    match err {
        OnboardError::Exists { .. } => Some("; pass --force to overwrite it"),
        _ => None,
    }
}

/// `dh export`: the run output folder is named with `--from`.
pub fn export(err: &ExportError) -> Option<&'static str> {
    match err {
        ExportError::NotARunOutput { .. } => Some("; run `dh run` first or pass --from"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_get_the_na_rm_advice_and_keep_their_message() {
        let err = EstimateError::Survey(SurveyError::MissingValues {
            variable: "enroll".into(),
            count: 6,
        });
        assert_eq!(
            line(&err, estimate(&err)),
            "error: 6 missing value(s) in `enroll`; drop or impute them, or pass --na-rm to treat them as \
             R's na.rm=TRUE"
        );
        let other = EstimateError::Survey(SurveyError::Invalid("x".into()));
        assert_eq!(line(&other, estimate(&other)), "error: x");
    }

    #[test]
    fn existing_configs_and_non_run_folders_get_their_flag() {
        let exists = OnboardError::Exists {
            path: "countries/THA.toml".into(),
        };
        assert_eq!(
            line(&exists, country_new(&exists)),
            "error: countries/THA.toml already exists; pass --force to overwrite it"
        );
        let not_run = ExportError::NotARunOutput { path: "x".into() };
        let text = line(&not_run, export(&not_run));
        assert!(
            text.ends_with("(no manifest.json or normalised/); run `dh run` first or pass --from"),
            "{text}"
        );
    }
}
