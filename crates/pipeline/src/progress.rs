//! Observer hooks through which a run reports progress (the CLI turns them into indicatif bars). The pipeline
//! itself never prints. Hooks are called from worker threads, so implementations must be `Sync`.

/// Stages of one country, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Read,
    Normalise,
    /// Weighting and indicators.
    Indicators,
    Write,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Read,
        Stage::Normalise,
        Stage::Indicators,
        Stage::Write,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Normalise => "normalise",
            Stage::Indicators => "indicators",
            Stage::Write => "write",
        }
    }
}

/// Receives progress events. Every method has an empty default.
pub trait RunObserver: Sync {
    /// Called once before any country starts, with every country code that will run.
    fn run_started(&self, _countries: &[String]) {}
    /// A country begins `stage`.
    fn stage_started(&self, _country: &str, _stage: Stage) {}
    /// A country finished; `error` is `None` on success.
    fn country_finished(
        &self,
        _country: &str,
        _rows_written: u64,
        _rows_quarantined: u64,
        _error: Option<&str>,
    ) {
    }
}

/// An observer that ignores every event (`--quiet`, tests, non-terminal output).
pub struct Silent;

impl RunObserver for Silent {}
