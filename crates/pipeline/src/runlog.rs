//! The run log `OUT/runs/<run-id>.json`: everything about a run that differs between two runs of the same inputs
//! (start and end times, durations per country and stage, thread count, absolute folders). Kept apart from the
//! manifest so that the manifest stays byte-identical.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::error::PipelineError;

#[derive(Debug, Clone, Default, Serialize)]
pub struct RunLog {
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    pub jobs: usize,
    pub raw_dir: String,
    pub out_dir: String,
    pub config_dir: String,
    pub schema_dir: String,
    pub key_origin: String,
    /// `ok`, `data_error` (one or more countries failed) or `error`.
    pub outcome: String,
    pub countries: Vec<CountryTiming>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CountryTiming {
    pub country: String,
    pub status: String,
    /// Reading the deliveries (and, for a delivery read in batches, the first pass that collects its keys).
    pub read_ms: u64,
    /// Normalising (for a delivery read in batches, also writing its harmonised and quarantine rows as they come).
    pub normalise_ms: u64,
    /// The weighting and indicator stage.
    pub indicators_ms: u64,
    pub write_ms: u64,
    pub total_ms: u64,
    /// Deliveries read in batches (larger than one batch), by table.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub batched: std::collections::BTreeMap<String, BatchedRead>,
    /// Why the country was computed (`incremental::Reason`), or empty when it was reused.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// How a delivery larger than one batch was read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchedRead {
    pub rows: u64,
    pub batches: u64,
    /// Bytes the hashed key sets of the whole-table checks held at the end of the first pass (their peak).
    pub key_bytes: u64,
}

impl RunLog {
    /// Writes the log to `OUT/runs/<run-id>.json`, owner-only (it holds absolute paths).
    pub fn write(&self, out_dir: &Path) -> Result<std::path::PathBuf, PipelineError> {
        self.write_private(out_dir, crate::layout::Privacy::default())
    }

    /// [`RunLog::write`] with the folder and file permissions of `privacy`.
    pub fn write_private(
        &self,
        out_dir: &Path,
        privacy: crate::layout::Privacy,
    ) -> Result<std::path::PathBuf, PipelineError> {
        let dir = out_dir.join(crate::layout::RUNS_DIR);
        privacy.create_dir(&dir)?;
        let path = dir.join(format!("{}.json", self.run_id));
        let mut bytes =
            serde_json::to_vec_pretty(self).map_err(|e| PipelineError::Internal(e.to_string()))?;
        bytes.push(b'\n');
        crate::abort_point::fault("run-log-write").map_err(|e| PipelineError::io(&path, e))?;
        std::fs::write(&path, bytes).map_err(|e| PipelineError::io(&path, e))?;
        privacy.apply(&path, false)?;
        Ok(path)
    }
}

/// A run id that sorts by start time and differs between concurrent processes: `20261128T160405Z-12345`.
pub fn new_run_id(now: SystemTime) -> String {
    let stamp = rfc3339(now).replace(['-', ':'], "");
    let stamp = stamp
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end_matches('Z')
        .to_string();
    format!("{stamp}Z-{}", std::process::id())
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let day = dh_config::calendar::iso_date((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{day}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_millis()
    )
}

pub fn millis(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29T12:34:56.789Z (leap day)
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(rfc3339(t), "2000-02-29T12:34:56.789Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_881_845);
        assert_eq!(rfc3339(t), "2026-11-28T16:04:05.000Z");
    }

    #[test]
    fn run_id_is_compact_and_sortable() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_881_845);
        let id = new_run_id(t);
        assert!(id.starts_with("20261128T160405Z-"), "{id}");
    }
}
