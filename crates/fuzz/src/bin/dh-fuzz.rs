//! The `dh-fuzz` command: `dh-fuzz run <target|all> [options]` fuzzes for a fixed time per target;
//! `dh-fuzz replay <target> FILE...` runs saved inputs (a finding) once each. Exit 0 without findings, 1 with a
//! panic in workspace code (a panic inside a third-party reader library is reported and saved but does not fail:
//! `dh_ingest::read_delivery` turns it into a format error), 2 on a usage error, 3 when the harness cannot start;
//! an allocation above the cap or an input running too long aborts the process (SIGABRT) after saving the input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use dh_fuzz::guard::{self, CappedAlloc};
use dh_fuzz::runner::{self, Options};
use dh_fuzz::{Harness, Target};

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc;

const USAGE: &str = "usage:
  dh-fuzz run <target|all> [--seconds N] [--corpus DIR] [--findings DIR] [--seed N] [--mem-mb N] [--timeout N]
  dh-fuzz replay <target> FILE...
targets: csv sav dta xlsx country_toml schema_json expr
defaults: --seconds 60 (per target; env DH_FUZZ_SECONDS), --corpus fuzz/corpus, --findings target/fuzz-findings,
          --seed 1, --mem-mb 2048 (allocation cap), --timeout 10 (seconds for one input)";

struct Args {
    command: String,
    target: String,
    files: Vec<PathBuf>,
    seconds: u64,
    corpus: PathBuf,
    findings: PathBuf,
    seed: u64,
    mem_mb: usize,
    timeout: u64,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let command = it.next().ok_or("no command")?;
    let target = it.next().ok_or("no target")?;
    let root = dh_fuzz::targets::workspace_dir();
    let mut args = Args {
        command,
        target,
        files: Vec::new(),
        seconds: std::env::var("DH_FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60),
        corpus: root.join("fuzz/corpus"),
        findings: root.join("target/fuzz-findings"),
        seed: 1,
        mem_mb: 2048,
        timeout: 10,
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let number = |name: &str, v: String| -> Result<u64, String> {
            v.parse().map_err(|_| format!("{name}: not a number"))
        };
        match arg.as_str() {
            "--seconds" => args.seconds = number("--seconds", value("--seconds")?)?,
            "--corpus" => args.corpus = PathBuf::from(value("--corpus")?),
            "--findings" => args.findings = PathBuf::from(value("--findings")?),
            "--seed" => args.seed = number("--seed", value("--seed")?)?,
            "--mem-mb" => args.mem_mb = number("--mem-mb", value("--mem-mb")?)? as usize,
            "--timeout" => args.timeout = number("--timeout", value("--timeout")?)?,
            a if a.starts_with("--") => return Err(format!("unknown option {a}")),
            file => args.files.push(PathBuf::from(file)),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("dh-fuzz: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let targets: Vec<Target> = match args.target.as_str() {
        "all" => Target::ALL.to_vec(),
        name => match Target::from_name(name) {
            Some(t) => vec![t],
            None => {
                eprintln!("dh-fuzz: unknown target {name}\n{USAGE}");
                return ExitCode::from(2);
            }
        },
    };
    let harness = match Harness::new() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("dh-fuzz: {e}");
            return ExitCode::from(3);
        }
    };
    guard::start_watchdog(Duration::from_secs(args.timeout.max(1)));
    runner::quiet_panics();
    match args.command.as_str() {
        "run" => {
            let mut failed = false;
            for target in targets {
                guard::configure(args.mem_mb << 20, args.findings.clone(), target.name());
                let report = runner::fuzz(
                    &harness,
                    &Options {
                        target,
                        duration: Duration::from_secs(args.seconds),
                        corpus_dir: args.corpus.clone(),
                        findings_dir: args.findings.clone(),
                        seed: args.seed,
                    },
                );
                println!("{report}");
                failed |= report.failed();
            }
            if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        "replay" if targets.len() == 1 => {
            guard::configure(args.mem_mb << 20, args.findings.clone(), targets[0].name());
            let mut failed = false;
            for file in &args.files {
                let Ok(data) = std::fs::read(file) else {
                    eprintln!("dh-fuzz: cannot read {}", file.display());
                    return ExitCode::from(2);
                };
                match runner::execute(&harness, targets[0], &data) {
                    Ok(sig) => println!("{}: {sig}", file.display()),
                    Err(panic) => {
                        println!(
                            "{}: PANIC at {}: {}",
                            file.display(),
                            panic.location,
                            panic.message
                        );
                        failed = true;
                    }
                }
            }
            if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        other => {
            eprintln!("dh-fuzz: unknown command {other}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
