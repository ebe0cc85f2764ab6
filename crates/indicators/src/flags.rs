//! Publication flags of one estimate (DHS / MICS precision convention, thresholds from `pipelines/pipeline.toml`).

use crate::pipeline_config::Thresholds;

/// How an estimate may be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Ok,
    /// `suppress_below <= n < low_base_below` unweighted cases: shown, flagged.
    LowBase,
    /// Fewer than `suppress_below` unweighted cases: estimate, SE and interval are null.
    Suppressed,
    /// The country did not ask the question: never a zero.
    NotCollected,
    /// Unweighted estimate from a non-probability sample (frontline workers, interviews): shown, flagged.
    NonRepresentative,
    /// A count from 1 to 4 in a case or interview table (or a cell that would reveal one): withheld, shown `<5`.
    SmallCount,
}

impl Flag {
    /// Every flag.
    pub const ALL: [Flag; 6] = [
        Flag::Ok,
        Flag::LowBase,
        Flag::Suppressed,
        Flag::NotCollected,
        Flag::NonRepresentative,
        Flag::SmallCount,
    ];

    /// The flag whose [`Flag::as_str`] is `s`.
    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Ok => "ok",
            Flag::LowBase => "low_base",
            Flag::Suppressed => "suppressed",
            Flag::NotCollected => "not_collected",
            Flag::NonRepresentative => "non_representative",
            Flag::SmallCount => "suppressed_small_count",
        }
    }

    /// What a table cell shows instead of a withheld estimate (`<5` for small counts, else the flag name).
    pub fn cell_text(self) -> &'static str {
        match self {
            Flag::SmallCount => "<5",
            other => other.as_str(),
        }
    }

    /// True when estimate, SE and interval must be null.
    pub fn hides_estimate(self) -> bool {
        matches!(
            self,
            Flag::Suppressed | Flag::NotCollected | Flag::SmallCount
        )
    }
}

/// The flag for an estimate whose denominator has `n_unweighted` cases. `not_collected` wins over the counts.
pub fn publication_flag(n_unweighted: usize, not_collected: bool, thresholds: &Thresholds) -> Flag {
    if not_collected {
        Flag::NotCollected
    } else if n_unweighted < thresholds.suppress_below as usize {
        Flag::Suppressed
    } else if n_unweighted < thresholds.low_base_below as usize {
        Flag::LowBase
    } else {
        Flag::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        suppress_below: 25,
        low_base_below: 50,
    };

    #[test]
    fn thresholds_at_24_25_49_50() {
        assert_eq!(publication_flag(0, false, &T), Flag::Suppressed);
        assert_eq!(publication_flag(24, false, &T), Flag::Suppressed);
        assert_eq!(publication_flag(25, false, &T), Flag::LowBase);
        assert_eq!(publication_flag(49, false, &T), Flag::LowBase);
        assert_eq!(publication_flag(50, false, &T), Flag::Ok);
        assert_eq!(publication_flag(1000, false, &T), Flag::Ok);
    }

    #[test]
    fn not_collected_wins_and_hides_the_estimate() {
        assert_eq!(publication_flag(1000, true, &T), Flag::NotCollected);
        assert_eq!(publication_flag(0, true, &T), Flag::NotCollected);
        assert!(Flag::NotCollected.hides_estimate() && Flag::Suppressed.hides_estimate());
        assert!(!Flag::LowBase.hides_estimate() && !Flag::Ok.hides_estimate());
        assert_eq!(Flag::LowBase.as_str(), "low_base");
    }
}
