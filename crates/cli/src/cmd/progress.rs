//! Progress bars for `dh run`: one indicatif bar per country on stderr (a `MultiProgress`), shown only when stderr
//! is a terminal and `--quiet` is not given. Implements the pipeline's `RunObserver` hooks.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use dh_pipeline::progress::{RunObserver, Stage};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct ProgressBars {
    /// `None` when bars are off (quiet or not a terminal).
    multi: Option<MultiProgress>,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
}

impl ProgressBars {
    /// Bars are drawn only if `wanted` and stderr is a terminal.
    pub fn new(wanted: bool) -> Self {
        let multi = (wanted && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        ProgressBars {
            multi,
            bars: Mutex::new(BTreeMap::new()),
        }
    }

    fn with_bar(&self, country: &str, f: impl FnOnce(&ProgressBar)) {
        if self.multi.is_none() {
            return;
        }
        if let Ok(bars) = self.bars.lock()
            && let Some(bar) = bars.get(country)
        {
            f(bar);
        }
    }

    /// Leaves finished bars on screen and stops drawing.
    pub fn finish(&self) {
        if let Ok(bars) = self.bars.lock() {
            for bar in bars.values().filter(|b| !b.is_finished()) {
                bar.abandon();
            }
        }
    }
}

impl RunObserver for ProgressBars {
    fn run_started(&self, countries: &[String]) {
        let Some(multi) = &self.multi else { return };
        let style = ProgressStyle::with_template("{prefix:>4} [{bar:20}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        if let Ok(mut bars) = self.bars.lock() {
            for code in countries {
                let bar = multi.add(ProgressBar::new(Stage::ALL.len() as u64));
                bar.set_style(style.clone());
                bar.set_prefix(code.clone());
                bar.set_message("waiting");
                bars.insert(code.clone(), bar);
            }
        }
    }

    fn stage_started(&self, country: &str, stage: Stage) {
        let done = Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0) as u64;
        self.with_bar(country, |bar| {
            bar.set_position(done);
            bar.set_message(stage.as_str());
        });
    }

    fn country_finished(
        &self,
        country: &str,
        rows_written: u64,
        rows_quarantined: u64,
        error: Option<&str>,
    ) {
        self.with_bar(country, |bar| match error {
            None => bar.finish_with_message(format!(
                "done: {rows_written} rows, {rows_quarantined} quarantined"
            )),
            Some(e) => bar.abandon_with_message(format!("FAILED: {e}")),
        });
    }
}
