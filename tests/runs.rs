//! Batch-job behaviour of the real `dh run` binary (issue 6): the output folder's lock refuses a concurrent run
//! with exit code 5; a run killed at named points (`DH_TEST_ABORT_AT`, debug builds) leaves `OUT` holding a
//! manifest that describes exactly the files present (a complete old or new run; only while entries are being
//! swapped in there is no manifest at all), and rerunning converges to the bytes of an uninterrupted run; the
//! outputs (indicators included) are byte-identical for `--jobs 1`, `2` and `8`; SIGKILL at times spread over a
//! run (`DH_TEST_SIGKILLS`, default 6) leaves `OUT` valid every time and the next run converges.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const KEY: &str = "runs-test-key-0123456789abcdef0123456789";
const COUNTRIES: &str = "THA,KEN";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn dh_command(args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dh"));
    cmd.args(args)
        .current_dir(workspace())
        .env("DH_PSEUDONYM_KEY", KEY)
        .env_remove("DH_TEST_ABORT_AT");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

fn dh(args: &[&str], envs: &[(&str, &str)]) -> Output {
    dh_command(args, envs).output().expect("run dh")
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn synth(dir: &Path, seed: &str) -> PathBuf {
    let raw = dir.join(format!("raw-{seed}"));
    let out = dh(
        &[
            "synth",
            "--out",
            s(&raw),
            "--countries",
            COUNTRIES,
            "--seed",
            seed,
        ],
        &[],
    );
    assert!(out.status.success(), "synth: {}", describe(&out));
    raw
}

fn run(raw: &Path, out_dir: &Path, jobs: &str, envs: &[(&str, &str)]) -> Output {
    run_command(raw, out_dir, jobs, envs)
        .output()
        .expect("run dh")
}

fn run_command(raw: &Path, out_dir: &Path, jobs: &str, envs: &[(&str, &str)]) -> Command {
    dh_command(
        &[
            "run",
            "--quiet",
            "--raw-dir",
            s(raw),
            "--out-dir",
            s(out_dir),
            "--countries",
            COUNTRIES,
            "--jobs",
            jobs,
            "--pipelines-dir",
            "pipelines",
        ],
        envs,
    )
}

/// Every published file (relative path -> bytes), leaving out the run logs and the lock file.
fn published(out: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(base)
                .expect("under base")
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "runs" || rel == ".dh-lock" {
                continue;
            }
            if path.is_dir() {
                walk(base, &path, files);
            } else {
                files.insert(rel, fs::read(&path).expect("read output"));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(out, out, &mut files);
    files
}

/// `OUT` is valid: a manifest whose every output exists with its hash and nothing else is published, or (only
/// while a publication is being swapped in) no manifest at all.
fn assert_valid(out: &Path, what: &str, may_lack_manifest: bool) {
    let files = published(out);
    let Some(manifest) = files.get("manifest.json") else {
        assert!(may_lack_manifest, "{what}: no manifest");
        return;
    };
    let manifest: Value = serde_json::from_slice(manifest).expect("manifest is JSON");
    let outputs = manifest["outputs"].as_array().expect("outputs");
    let mut listed: Vec<String> = vec!["manifest.json".into()];
    for o in outputs {
        let path = o["path"].as_str().expect("path");
        let bytes = files
            .get(path)
            .unwrap_or_else(|| panic!("{what}: {path} is in the manifest but not in OUT"));
        use sha2::Digest;
        let hash = hex::encode(sha2::Sha256::digest(bytes));
        assert_eq!(hash, o["sha256"].as_str().expect("sha"), "{what}: {path}");
        listed.push(path.to_string());
    }
    // Every published file is listed, except hidden entries (`.`-prefixed, such as staging folders).
    let visible = files
        .keys()
        .filter(|k| !k.split('/').any(|part| part.starts_with('.')));
    for f in visible {
        assert!(
            listed.contains(f),
            "{what}: {f} is published but not in the manifest"
        );
    }
}

#[test]
fn kills_leave_out_valid_and_reruns_converge_jobs_give_identical_bytes_and_a_second_run_is_locked()
{
    let dir = tempfile::tempdir().expect("tempdir");
    let raw_old = synth(dir.path(), "3");
    let raw = synth(dir.path(), "4");

    // Uninterrupted references with 1, 2 and 8 threads.
    let reference = dir.path().join("ref-1");
    let r = run(&raw, &reference, "1", &[]);
    assert!(r.status.success(), "{}", describe(&r));
    let expected = published(&reference);
    assert!(expected.contains_key("indicators/indicators.parquet"));
    assert!(expected.contains_key("indicators/comparison.csv"));
    for jobs in ["2", "8"] {
        let out = dir.path().join(format!("ref-{jobs}"));
        let r = run(&raw, &out, jobs, &[]);
        assert!(r.status.success(), "{}", describe(&r));
        assert!(
            published(&out) == expected,
            "--jobs {jobs} differs from --jobs 1"
        );
    }

    // Kills at each named point, over an older complete run (other deliveries).
    for point in [
        "country-staged",
        "before-publish",
        "publish-start",
        "publish-entry-aside",
    ] {
        let out = dir.path().join(format!("killed-{point}"));
        let r = run(&raw_old, &out, "2", &[]);
        assert!(r.status.success(), "{}", describe(&r));
        let old = published(&out);
        let r = run(&raw, &out, "2", &[("DH_TEST_ABORT_AT", point)]);
        assert!(!r.status.success(), "{point}: the run should have aborted");
        assert_valid(&out, point, point == "publish-entry-aside");
        let after_kill = published(&out);
        let public = |m: &BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
            m.iter()
                .filter(|(k, _)| !k.starts_with('.'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let visible = public(&after_kill);
        // Before publication begins OUT still holds the old run; once it has begun, the next run completes it.
        if matches!(point, "country-staged" | "before-publish") {
            assert!(
                visible == public(&old),
                "{point}: OUT changed before publication"
            );
        }
        let r = run(&raw, &out, "2", &[]);
        assert!(r.status.success(), "{point} rerun: {}", describe(&r));
        assert!(
            published(&out) == expected,
            "{point}: rerun after the kill differs from an uninterrupted run"
        );
    }

    // A second run while another process holds the lock: refused at once with exit code 5.
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(reference.join(".dh-lock"))
        .expect("open lock");
    lock.try_lock().expect("lock held by the test");
    let started = std::time::Instant::now();
    let r = run(&raw, &reference, "1", &[]);
    assert_eq!(r.status.code(), Some(5), "{}", describe(&r));
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("locked"),
        "{}",
        describe(&r)
    );
    assert!(
        started.elapsed().as_secs() < 10,
        "the locked run must exit at once"
    );
    drop(lock);
    assert!(
        published(&reference) == expected,
        "the refused run changed nothing"
    );
    let r = run(&raw, &reference, "1", &[]);
    assert!(
        r.status.success(),
        "after the lock is released: {}",
        describe(&r)
    );
}

/// SIGKILL at times spread over a run (no cooperation from the process), several times in a row over
/// an older complete run: after every kill `OUT` is valid, and the next complete run gives the bytes
/// of an uninterrupted one.
#[cfg(unix)]
#[test]
fn sigkill_at_spread_times_leaves_out_valid_and_the_rerun_converges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw_old = synth(dir.path(), "5");
    let raw = synth(dir.path(), "6");
    let reference = dir.path().join("reference");
    let started = std::time::Instant::now();
    let r = run(&raw, &reference, "2", &[]);
    let duration = started.elapsed();
    assert!(r.status.success(), "{}", describe(&r));
    let expected = published(&reference);

    let out = dir.path().join("killed");
    let r = run(&raw_old, &out, "2", &[]);
    assert!(r.status.success(), "{}", describe(&r));
    // DH_TEST_SIGKILLS=N for a longer soak (default 6)
    let kills: u32 = std::env::var("DH_TEST_SIGKILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let mut interrupted = 0;
    for k in 1..=kills {
        let after = duration * k / (kills + 1);
        let mut child = run_command(&raw, &out, "2", &[])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn dh");
        std::thread::sleep(after);
        // SIGKILL; the run may already have finished, which is fine too (but at least one kill must land)
        if matches!(child.try_wait(), Ok(None)) {
            interrupted += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        assert_valid(&out, &format!("SIGKILL after {after:?}"), true);
    }
    assert!(
        interrupted >= 1,
        "no SIGKILL interrupted a running dh (the reference run took {duration:?})"
    );
    let r = run(&raw, &out, "2", &[]);
    assert!(
        r.status.success(),
        "rerun after the kills: {}",
        describe(&r)
    );
    assert!(
        published(&out) == expected,
        "the rerun after SIGKILLs differs from an uninterrupted run"
    );
}

/// Status and reason per country in the newest run log `OUT/runs/<run-id>.json`.
fn last_run_log(out: &Path) -> BTreeMap<String, (String, String)> {
    let mut logs: Vec<PathBuf> = fs::read_dir(out.join("runs"))
        .expect("runs folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    logs.sort();
    let log: Value =
        serde_json::from_slice(&fs::read(logs.last().expect("a run log")).expect("read log"))
            .expect("log is JSON");
    log["countries"]
        .as_array()
        .expect("countries")
        .iter()
        .map(|c| {
            (
                c["country"].as_str().unwrap_or_default().to_string(),
                (
                    c["status"].as_str().unwrap_or_default().to_string(),
                    c["reason"].as_str().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for e in fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).expect("copy");
        }
    }
}

/// Flips one byte in the middle of the first published file whose path starts with `prefix` (same size,
/// other bytes: what only a hash check notices).
fn alter_published(out: &Path, prefix: &str) {
    let files = published(out);
    let (path, bytes) = files
        .iter()
        .find(|(k, _)| k.starts_with(prefix))
        .unwrap_or_else(|| panic!("no published file under {prefix}"));
    let mut bytes = bytes.clone();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(out.join(path), &bytes).expect("alter output");
}

/// Deliveries for seeds `a` and `b`, a working raw folder holding `a`'s (returned first), `b`'s folder,
/// and the output folder of a completed run on the working folder.
fn completed_run(dir: &Path, a: &str, b: &str) -> (PathBuf, PathBuf, PathBuf) {
    let raw_a = synth(dir, a);
    let raw_b = synth(dir, b);
    let raw = dir.join("raw");
    copy_dir(&raw_a, &raw);
    let out = dir.join("out");
    let r = run(&raw, &out, "2", &[]);
    assert!(r.status.success(), "{}", describe(&r));
    (raw, raw_b, out)
}

#[test]
fn unchanged_rerun_recomputes_nothing_and_a_changed_delivery_reruns_only_its_country() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (raw, raw_b, out) = completed_run(dir.path(), "5", "6");
    let first = published(&out);
    let log = last_run_log(&out);
    assert!(log.values().all(|(s, _)| s == "ok"), "{log:?}");

    // Unchanged: the dry run says so, and the rerun computes nothing and changes no byte.
    let plan = run_with(&raw, &out, COUNTRIES, &["--dry-run"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan.status.success() && text.contains("0 of 2"),
        "{}",
        describe(&plan)
    );
    let r = run_with(&raw, &out, COUNTRIES, &["--log-format", "json"]);
    assert!(r.status.success(), "{}", describe(&r));
    let events: Vec<Value> = String::from_utf8_lossy(&r.stderr)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("each event is one JSON object"))
        .collect();
    assert!(
        !events.iter().any(|e| e["event"] == "stage_started"),
        "a no-op rerun started a stage: {events:?}"
    );
    let finished: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "country_finished")
        .collect();
    assert_eq!(finished.len(), 2, "{events:?}");
    assert!(
        finished.iter().all(|e| e["status"] == "reused"),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "run_finished" && e["exit_code"] == 0),
        "{events:?}"
    );
    let log = last_run_log(&out);
    assert!(log.values().all(|(s, _)| s == "reused"), "{log:?}");
    assert!(
        published(&out) == first,
        "a no-op rerun changed the outputs"
    );

    // KEN's delivery changes: only KEN runs, and the result equals a full run on the same deliveries.
    fs::remove_dir_all(raw.join("KEN")).expect("remove KEN");
    copy_dir(&raw_b.join("KEN"), &raw.join("KEN"));
    let plan = run_with(&raw, &out, COUNTRIES, &["--dry-run"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains("run      KEN  changed delivery: KEN/") && text.contains("reuse    THA"),
        "{}",
        describe(&plan)
    );
    let r = run(&raw, &out, "2", &[]);
    assert!(r.status.success(), "{}", describe(&r));
    let log = last_run_log(&out);
    assert_eq!(log["THA"].0, "reused", "{log:?}");
    assert_eq!(log["KEN"].0, "ok", "{log:?}");
    assert!(log["KEN"].1.starts_with("changed delivery"), "{log:?}");
    let fresh = dir.path().join("fresh");
    let r = run(&raw, &fresh, "2", &[]);
    assert!(r.status.success(), "{}", describe(&r));
    assert!(
        published(&out) == published(&fresh),
        "the incremental result differs from a full run"
    );

    // --force recomputes everything, with the reason.
    let r = run_with(&raw, &out, COUNTRIES, &["--quiet", "--force"]);
    assert!(r.status.success(), "{}", describe(&r));
    let log = last_run_log(&out);
    assert!(
        log.values()
            .all(|(s, why)| s == "ok" && why.starts_with("forced")),
        "{log:?}"
    );

    // A previous output altered in place (same size, other bytes) is not carried over: THA is recomputed
    // and OUT is back to the bytes of the run.
    let before = published(&out);
    alter_published(&out, "normalised/child_survey/country=THA/");
    let r = run_with(&raw, &out, COUNTRIES, &["--quiet"]);
    assert!(r.status.success(), "{}", describe(&r));
    let log = last_run_log(&out);
    assert_eq!(log["KEN"].0, "reused", "{log:?}");
    assert_eq!(log["THA"].0, "ok", "{log:?}");
    assert!(
        log["THA"]
            .1
            .starts_with("previous output missing or altered"),
        "{log:?}"
    );
    assert!(
        published(&out) == before,
        "the altered output was not restored"
    );

    // The previous indicator table altered in place: its rows cannot be carried over, so both countries
    // are recomputed, and OUT is back to the bytes of the run.
    alter_published(&out, "indicators/indicators.parquet");
    let r = run_with(&raw, &out, COUNTRIES, &["--quiet"]);
    assert!(r.status.success(), "{}", describe(&r));
    let log = last_run_log(&out);
    for country in ["THA", "KEN"] {
        assert_eq!(log[country].0, "ok", "{log:?}");
        assert!(
            log[country].1.contains("indicators/indicators.parquet"),
            "{log:?}"
        );
    }
    assert!(
        published(&out) == before,
        "the altered indicator table was not restored"
    );
}

/// `dh run` on `countries` with extra flags (`--dry-run`, `--force`, `--log-format json`, ...).
fn run_with(raw: &Path, out_dir: &Path, countries: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--raw-dir",
        s(raw),
        "--out-dir",
        s(out_dir),
        "--countries",
        countries,
        "--pipelines-dir",
        "pipelines",
    ];
    args.extend_from_slice(extra);
    dh(&args, &[])
}

/// `--countries` selects what is recomputed: the other countries of the previous run stay in `OUT`
/// as they were (kept, even if their delivery changed since), and the cross-country outputs still
/// cover them; the next run that includes a kept country sees its change.
#[test]
fn a_country_selection_recomputes_only_the_selection_and_keeps_the_other_countries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (raw, raw_b, out) = completed_run(dir.path(), "7", "8");

    // THA's delivery changes and only THA is selected: THA runs, KEN is kept, and OUT equals a full
    // run on the same deliveries.
    fs::remove_dir_all(raw.join("THA")).expect("remove THA");
    copy_dir(&raw_b.join("THA"), &raw.join("THA"));
    let plan = run_with(&raw, &out, "THA", &["--dry-run"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains("run      THA  changed delivery") && text.contains("keep     KEN"),
        "{}",
        describe(&plan)
    );
    let r = run_with(&raw, &out, "THA", &["--quiet"]);
    assert!(r.status.success(), "{}", describe(&r));
    let log = last_run_log(&out);
    assert_eq!(log["THA"].0, "ok", "{log:?}");
    assert_eq!(log["KEN"].0, "kept", "{log:?}");
    let fresh = dir.path().join("fresh");
    let r = run(&raw, &fresh, "2", &[]);
    assert!(r.status.success(), "{}", describe(&r));
    let after_selection = published(&out);
    assert!(
        after_selection == published(&fresh),
        "a --countries run differs from a full run on the same deliveries"
    );

    // KEN's delivery changes but only THA is selected: nothing is recomputed and KEN stays as it was;
    // a run over both then recomputes KEN for its changed delivery.
    fs::remove_dir_all(raw.join("KEN")).expect("remove KEN");
    copy_dir(&raw_b.join("KEN"), &raw.join("KEN"));
    let r = run_with(&raw, &out, "THA", &["--quiet"]);
    assert!(r.status.success(), "{}", describe(&r));
    let log = last_run_log(&out);
    assert_eq!(log["THA"].0, "reused", "{log:?}");
    assert_eq!(log["KEN"].0, "kept", "{log:?}");
    assert!(
        published(&out) == after_selection,
        "keeping KEN changed the outputs"
    );
    let r = run(&raw, &out, "2", &[]);
    assert!(r.status.success(), "{}", describe(&r));
    let log = last_run_log(&out);
    assert_eq!(log["THA"].0, "reused", "{log:?}");
    assert_eq!(log["KEN"].0, "ok", "{log:?}");
    assert!(log["KEN"].1.starts_with("changed delivery"), "{log:?}");

    // A country that would be kept, but whose previous output was altered in place, is recomputed.
    let before = published(&out);
    alter_published(&out, "normalised/child_survey/country=KEN/");
    let r = run_with(&raw, &out, "THA", &["--quiet"]);
    assert!(r.status.success(), "{}", describe(&r));
    let log = last_run_log(&out);
    assert_eq!(log["THA"].0, "reused", "{log:?}");
    assert_eq!(log["KEN"].0, "ok", "{log:?}");
    assert!(
        log["KEN"]
            .1
            .starts_with("previous output missing or altered"),
        "{log:?}"
    );
    assert!(published(&out) == before, "KEN was not restored");
}
