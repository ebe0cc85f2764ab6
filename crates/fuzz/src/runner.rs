//! The time-bounded mutation loop: replays a target's seed corpus, then mutates random corpus entries until the
//! time is up. An input that reaches an outcome not seen before (see [`crate::targets::signature`]) joins the
//! in-memory corpus. The first panic is a finding: its input is saved and the run stops. Allocation above the cap
//! and hangs are findings of [`crate::guard`].

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::guard;
use crate::mutate::mutate;
use crate::targets::{Harness, Target};

/// Most inputs the in-memory corpus grows to.
const MAX_CORPUS: usize = 4096;
/// Most distinct outcomes remembered (bounds the memory of a long run; later new outcomes no longer grow the corpus).
const MAX_OUTCOMES: usize = 65_536;
/// A run stops after this many distinct panics.
const MAX_FINDINGS: usize = 16;

/// One fuzzing run of one target.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub duration: Duration,
    /// Seed inputs: every file in `<corpus_dir>/<target name>/`.
    pub corpus_dir: PathBuf,
    /// Where a finding's input is saved.
    pub findings_dir: PathBuf,
    pub seed: u64,
}

/// A panic: where it happened, its message and the saved input.
#[derive(Debug, Clone)]
pub struct Finding {
    pub location: String,
    pub message: String,
    pub input: PathBuf,
    /// Inside a third-party library (not workspace code): `dh_ingest::read_delivery` turns such a panic into a
    /// format error of the delivery, so it is reported but does not fail the run.
    pub library: bool,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Report {
    pub target: Target,
    pub executions: u64,
    pub seeds: usize,
    pub corpus: usize,
    /// Distinct outcome signatures reached.
    pub outcomes: usize,
    pub elapsed: Duration,
    /// One per distinct panic location.
    pub findings: Vec<Finding>,
}

impl Report {
    /// True when a panic happened in workspace code.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| !f.library)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        write!(
            f,
            "{}: {} executions in {:.0} s ({:.0}/s), {} seeds, corpus {}, {} distinct outcomes, peak memory {} MiB, \
             {} findings",
            self.target.name(),
            self.executions,
            secs,
            self.executions as f64 / secs,
            self.seeds,
            self.corpus,
            self.outcomes,
            guard::peak_bytes() >> 20,
            self.findings.len(),
        )?;
        for finding in &self.findings {
            write!(
                f,
                "\n  {} panic at {}: {} (input {})",
                if finding.library {
                    "library"
                } else {
                    "WORKSPACE"
                },
                finding.location,
                finding.message,
                finding.input.display()
            )?;
        }
        Ok(())
    }
}

/// Reads the seed files of a target (sorted by name); an absent folder gives no seeds.
pub fn seeds(corpus_dir: &Path, target: Target) -> Vec<Vec<u8>> {
    let dir = corpus_dir.join(target.name());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// A caught panic: location (`file:line`) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic {
    pub location: String,
    pub message: String,
}

impl Panic {
    /// In a dependency's source (cargo registry, or a third-party crate vendored under `vendor/`) rather than in
    /// the workspace's own code.
    pub fn in_library(&self) -> bool {
        self.location.contains("/.cargo/registry/")
            || self.location.contains("/rustc/")
            || self.location.starts_with("vendor/")
            || self.location.contains("/vendor/")
    }
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Replaces the panic hook by one that records the location for [`execute`] and prints nothing (the runner
/// reports each distinct panic once).
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(location);
        }
    }));
}

/// Runs `data` through the target, catching a panic.
pub fn execute(harness: &Harness, target: Target, data: &[u8]) -> Result<String, Panic> {
    guard::begin(data);
    let result = catch_unwind(AssertUnwindSafe(|| harness.run(target, data)));
    guard::end();
    result.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        let location = LAST_PANIC
            .lock()
            .ok()
            .and_then(|mut l| l.take())
            .unwrap_or_default();
        Panic { location, message }
    })
}

/// Counters and findings of one run.
struct State<'a> {
    harness: &'a Harness,
    options: &'a Options,
    executions: u64,
    outcomes: BTreeSet<String>,
    findings: Vec<Finding>,
}

impl State<'_> {
    /// Runs one input; true when it reached an outcome not seen before.
    fn run(&mut self, data: &[u8]) -> bool {
        let target = self.options.target;
        self.executions += 1;
        match execute(self.harness, target, data) {
            Ok(sig) => self.outcomes.len() < MAX_OUTCOMES && self.outcomes.insert(sig),
            Err(panic) => {
                if !self.findings.iter().any(|f| f.location == panic.location) {
                    let kind = if panic.in_library() {
                        "library-panic"
                    } else {
                        "panic"
                    };
                    let input =
                        guard::save_finding(&self.options.findings_dir, target.name(), kind, data)
                            .unwrap_or_default();
                    eprintln!(
                        "dh-fuzz: {}: {kind} at {}: {} (input {})",
                        target.name(),
                        panic.location,
                        panic.message,
                        input.display()
                    );
                    self.findings.push(Finding {
                        library: panic.in_library(),
                        location: panic.location,
                        message: panic.message,
                        input,
                    });
                }
                false
            }
        }
    }
}

/// Fuzzes one target for `options.duration`, collecting one finding per distinct panic location.
pub fn fuzz(harness: &Harness, options: &Options) -> Report {
    let start = Instant::now();
    guard::reset_peak();
    let target = options.target;
    let mut corpus = seeds(&options.corpus_dir, target);
    let seed_count = corpus.len();
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let mut state = State {
        harness,
        options,
        executions: 0,
        outcomes: BTreeSet::new(),
        findings: Vec::new(),
    };
    for data in &corpus {
        state.run(data);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let dictionary = target.dictionary();
    while start.elapsed() < options.duration && state.findings.len() < MAX_FINDINGS {
        let mut data = corpus[rng.random_range(0..corpus.len())].clone();
        let other = &corpus[rng.random_range(0..corpus.len())];
        mutate(&mut rng, &mut data, other, dictionary, target.max_len());
        if state.run(&data) && corpus.len() < MAX_CORPUS {
            corpus.push(data);
        }
        guard::progress(state.executions);
    }
    Report {
        target,
        executions: state.executions,
        seeds: seed_count,
        corpus: corpus.len(),
        outcomes: state.outcomes.len(),
        elapsed: start.elapsed(),
        findings: state.findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every committed seed runs without a finding, and a short loop of each target runs too.
    #[test]
    fn seed_corpus_runs_clean_and_a_short_loop_works() {
        // The runner tells a library panic from a workspace one by the location its hook records (as the binary
        // does); without the hook every panic has no location and counts as the workspace's.
        quiet_panics();
        let harness = Harness::new().unwrap_or_else(|e| panic!("{e}"));
        let corpus_dir = crate::targets::workspace_dir().join("fuzz/corpus");
        let findings = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for target in Target::ALL {
            assert!(
                !seeds(&corpus_dir, target).is_empty(),
                "no seeds for {}",
                target.name()
            );
            let report = fuzz(
                &harness,
                &Options {
                    target,
                    duration: Duration::from_millis(300),
                    corpus_dir: corpus_dir.clone(),
                    findings_dir: findings.path().to_path_buf(),
                    seed: 1,
                },
            );
            // Seeded mutations, but the number run in 300 ms varies: only a panic in workspace code fails.
            assert!(!report.failed(), "{report}");
            assert!(report.executions >= report.seeds as u64, "{report}");
        }
    }

    #[test]
    fn panics_in_dependencies_are_library_panics() {
        let at = |location: &str| Panic {
            location: location.to_string(),
            message: String::new(),
        };
        assert!(at("/root/.cargo/registry/src/x/ambers-0.4.6/src/io_utils.rs:181").in_library());
        assert!(at("vendor/ambers/src/info_records/mod.rs:41").in_library());
        assert!(!at("crates/expr/src/eval.rs:352").in_library());
        let report = |library| Report {
            target: Target::Csv,
            executions: 1,
            seeds: 1,
            corpus: 1,
            outcomes: 1,
            elapsed: Duration::from_secs(1),
            findings: vec![Finding {
                location: String::new(),
                message: String::new(),
                input: PathBuf::new(),
                library,
            }],
        };
        assert!(report(false).failed());
        assert!(!report(true).failed());
    }

    #[test]
    fn findings_are_saved_under_target_kind_and_hash() {
        let findings = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let saved = guard::save_finding(findings.path(), "expr", "panic", b"x")
            .unwrap_or_else(|| panic!("not saved"));
        let name = saved
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(
            name.starts_with("expr-panic-") && name.ends_with(".bin"),
            "{name}"
        );
        assert_eq!(std::fs::read(&saved).ok(), Some(b"x".to_vec()));
    }
}
