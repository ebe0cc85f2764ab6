//! `--log-format json`: one JSON object per line on stderr for each event of a run (`run_started`,
//! `stage_started`, `country_finished`, `run_finished`), with `level`, `event`, `country`, `stage`, `rows`,
//! `quarantined`, `duration_ms` where they apply. For log collectors (journald, Loki, CloudWatch). Error texts are
//! capped like every stored message ([`dh_pipeline::message::cap`]).

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use dh_pipeline::progress::{RunObserver, Stage};
use serde_json::{Value, json};

/// Writes events as JSON lines on stderr.
pub struct JsonLog {
    started: Instant,
    /// Start time of each country's first stage.
    countries: Mutex<HashMap<String, Instant>>,
}

impl Default for JsonLog {
    fn default() -> Self {
        JsonLog {
            started: Instant::now(),
            countries: Mutex::new(HashMap::new()),
        }
    }
}

impl JsonLog {
    /// Writes one event line (never fails the run: a closed stderr drops the line).
    pub fn emit(&self, mut event: Value) {
        if let Some(map) = event.as_object_mut() {
            map.entry("level").or_insert_with(|| json!("info"));
            map.insert(
                "elapsed_ms".into(),
                json!(self.started.elapsed().as_millis() as u64),
            );
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{event}");
    }
}

impl RunObserver for JsonLog {
    fn run_started(&self, countries: &[String]) {
        self.emit(json!({"event": "run_started", "countries": countries}));
    }

    fn stage_started(&self, country: &str, stage: Stage) {
        if let Ok(mut map) = self.countries.lock() {
            map.entry(country.to_string()).or_insert_with(Instant::now);
        }
        self.emit(json!({"event": "stage_started", "country": country, "stage": stage.as_str()}));
    }

    fn country_finished(
        &self,
        country: &str,
        rows_written: u64,
        rows_quarantined: u64,
        error: Option<&str>,
    ) {
        let started = self
            .countries
            .lock()
            .ok()
            .and_then(|m| m.get(country).copied());
        // A country with no stage event was carried over from the previous run.
        let status = match (error, started) {
            (Some(_), _) => "failed",
            (None, Some(_)) => "computed",
            (None, None) => "reused",
        };
        self.emit(json!({
            "event": "country_finished",
            "level": if error.is_some() { "error" } else { "info" },
            "country": country,
            "status": status,
            "rows": rows_written,
            "quarantined": rows_quarantined,
            "duration_ms": started.map(|s| s.elapsed().as_millis() as u64).unwrap_or(0),
            "error": error.map(dh_pipeline::message::cap),
        }));
    }
}
