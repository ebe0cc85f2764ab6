//! Lonely-PSU rules (R's `options(survey.lonely.psu=...)`).

/// What to do with a stratum that holds a single PSU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LonelyPsu {
    /// Error naming the stratum (R's default).
    #[default]
    Fail,
    /// Centre the singleton at the average of all PSU totals (survey >= 4.2).
    Adjust,
    /// Replace by the average contribution of the other strata.
    Average,
    /// The singleton is a certainty unit: contributes no variance.
    Certainty,
    /// Drop the singleton's contribution.
    Remove,
}

impl std::str::FromStr for LonelyPsu {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fail" => Ok(Self::Fail),
            "adjust" => Ok(Self::Adjust),
            "average" => Ok(Self::Average),
            "certainty" => Ok(Self::Certainty),
            "remove" => Ok(Self::Remove),
            other => Err(format!(
                "unknown lonely-PSU rule `{other}`: expected fail, adjust, average, certainty or remove"
            )),
        }
    }
}
