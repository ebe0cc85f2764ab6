//! Faults around a run of the real `dh` binary (issue 12): I/O errors exit 74 with the path and the OS error,
//! publish nothing and leave no staging folder (a fault hook `DH_TEST_FAULT_AT`, and where the tests run as root
//! a real full or read-only tmpfs); a run log that cannot be written after publication is a warning; a lock path
//! that is a folder exits 74; an output folder holding other files is refused (exit 3); SIGTERM/SIGINT exit
//! 143/130 and remove the staging folder; a failed country keeps its last good outputs marked `stale` (or loses
//! them with `--drop-failed`); a delivery that changes between hashing and reading fails its country; a country
//! over `--country-timeout` fails and the others are published; microdata are owner-only under umask 022.
//! The pause hook (`DH_TEST_PAUSE_AT`, debug builds) holds a run at a named point while the test acts.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const KEY: &str = "faults-test-key-0123456789abcdef012345678";
const COUNTRIES: &str = "THA,KEN";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Synthetic deliveries of THA and KEN, generated once for every test (read-only for them).
fn raw() -> &'static Path {
    static RAW: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &RAW.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let raw = dir.path().join("raw");
        let out = Command::new(env!("CARGO_BIN_EXE_dh"))
            .args(["synth", "--out", s(&raw), "--countries", COUNTRIES])
            .args(["--seed", "7"])
            .current_dir(workspace())
            .output()
            .expect("run dh synth");
        assert!(out.status.success(), "synth: {}", describe(&out));
        (dir, raw)
    })
    .1
}

/// A private copy of the deliveries, for tests that change them.
fn raw_copy(dir: &Path) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("mkdir");
        for e in fs::read_dir(from).expect("read_dir").flatten() {
            let path = e.path();
            if path.is_dir() {
                copy(&path, &to.join(e.file_name()));
            } else {
                fs::copy(&path, to.join(e.file_name())).expect("copy");
            }
        }
    }
    let to = dir.join("raw");
    copy(raw(), &to);
    to
}

fn run_command(raw: &Path, out: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dh"));
    cmd.args(["run", "--quiet", "--raw-dir", s(raw), "--out-dir", s(out)])
        .args(["--jobs", "2"]);
    if !extra.contains(&"--countries") {
        cmd.args(["--countries", COUNTRIES]);
    }
    cmd.args(extra)
        .current_dir(workspace())
        .env("DH_PSEUDONYM_KEY", KEY)
        .env_remove("DH_TEST_ABORT_AT")
        .env_remove("DH_TEST_FAULT_AT")
        .env_remove("DH_TEST_PAUSE_AT");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

fn run(raw: &Path, out: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Output {
    run_command(raw, out, extra, envs).output().expect("run dh")
}

fn ok_run(raw: &Path, out: &Path) {
    let r = run(raw, out, &[], &[]);
    assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
}

/// Every file under `OUT` (relative path -> bytes), leaving out the run logs and the lock file.
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

/// Hidden private folders (`.staging-*`, `.previous-*`) left in `OUT`.
fn leftovers(out: &Path) -> Vec<String> {
    fs::read_dir(out)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".staging-") || n.starts_with(".previous-"))
                .collect()
        })
        .unwrap_or_default()
}

fn manifest(out: &Path) -> Value {
    serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest")).expect("json")
}

fn country(m: &Value, iso3: &str) -> Value {
    m["countries"]
        .as_array()
        .expect("countries")
        .iter()
        .find(|c| c["country"] == iso3)
        .cloned()
        .unwrap_or(Value::Null)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A tmpfs of `size` mounted on `dir` (root only); `false` when it cannot be mounted.
fn mount_tmpfs(dir: &Path, size: &str) -> bool {
    fs::create_dir_all(dir).expect("mkdir");
    running_as_root()
        && Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                s(dir),
            ])
            .status()
            .is_ok_and(|st| st.success())
}

fn remount(dir: &Path, options: &str) {
    let st = Command::new("mount")
        .args(["-o", &format!("remount,{options}"), s(dir)])
        .status()
        .expect("mount");
    assert!(st.success(), "remount {options}");
}

/// Unmounts on drop.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Starts a run held at `point` (`DH_TEST_PAUSE_AT`); returns the child once it waits there. The run resumes when
/// `resume` is created.
fn start_paused(
    raw: &Path,
    out: &Path,
    point: &str,
    resume: &Path,
    extra: &[&str],
) -> std::process::Child {
    let paused = PathBuf::from(format!("{}.paused", s(resume)));
    let mut child = run_command(
        raw,
        out,
        extra,
        &[
            ("DH_TEST_PAUSE_AT", point),
            ("DH_TEST_PAUSE_FILE", s(resume)),
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("spawn dh");
    let until = Instant::now() + Duration::from_secs(120);
    while !paused.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("dh ended before pausing at {point}: {status}");
        }
        assert!(Instant::now() < until, "dh never reached {point}");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn an_io_fault_exits_74_naming_the_path_publishes_nothing_and_leaves_no_staging() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ok_run(raw(), &out);
    let before = published(&out);
    for point in ["country-write", "manifest-write"] {
        let r = run(raw(), &out, &["--force"], &[("DH_TEST_FAULT_AT", point)]);
        assert_eq!(r.status.code(), Some(74), "{point}: {}", describe(&r));
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(
            stderr.contains("I/O error")
                && stderr.contains("No space left on device")
                && stderr.contains(s(&out)),
            "{point}: {stderr}"
        );
        assert!(!stderr.contains("internal error"), "{stderr}");
        assert!(leftovers(&out).is_empty(), "{point}: {:?}", leftovers(&out));
        assert!(
            published(&out) == before,
            "{point}: the previous run is intact"
        );
    }
    // a staging folder left by a killed run is removed by the next run, which is not hindered
    let stale = out.join(".staging-20000101T000000Z-1");
    fs::create_dir_all(stale.join("normalised/t")).unwrap();
    fs::write(stale.join("normalised/t/x"), "x").unwrap();
    ok_run(raw(), &out);
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
}

#[test]
fn a_full_disk_exits_74_removes_its_staging_and_the_next_run_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    if !mount_tmpfs(&mnt, "256k") {
        eprintln!("skipped: cannot mount a tmpfs (not root); the fault hook test covers ENOSPC");
        return;
    }
    let _mounted = Mounted(mnt.clone());
    let out = mnt.join("out");
    let r = run(raw(), &out, &[], &[]);
    assert_eq!(r.status.code(), Some(74), "{}", describe(&r));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
    assert!(!out.join("manifest.json").exists());
    remount(&mnt, "size=256m");
    ok_run(raw(), &out);
}

#[test]
fn a_read_only_output_folder_exits_74_and_keeps_the_previous_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = running_as_root();
    let mnt = dir.path().join("mnt");
    let (_mounted, out) = if root {
        if !mount_tmpfs(&mnt, "256m") {
            eprintln!("skipped: root but cannot mount a tmpfs");
            return;
        }
        (Some(Mounted(mnt.clone())), mnt.join("out"))
    } else {
        (None, dir.path().join("out"))
    };
    ok_run(raw(), &out);
    let before = published(&out);
    if root {
        remount(&mnt, "ro");
    } else {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&out, fs::Permissions::from_mode(0o555)).unwrap();
    }
    let r = run(raw(), &out, &["--force"], &[]);
    assert_eq!(r.status.code(), Some(74), "{}", describe(&r));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains(s(&out)) && stderr.contains("os error"),
        "{stderr}"
    );
    assert!(published(&out) == before);
    if root {
        remount(&mnt, "rw");
    } else {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&out, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn a_lock_path_that_is_a_folder_exits_74() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir_all(out.join(".dh-lock")).unwrap();
    let r = run(raw(), &out, &[], &[]);
    assert_eq!(r.status.code(), Some(74), "{}", describe(&r));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains(".dh-lock") && stderr.contains("os error"),
        "{stderr}"
    );
    assert!(leftovers(&out).is_empty());
}

#[test]
fn a_run_log_that_cannot_be_written_after_publication_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let r = run(raw(), &out, &[], &[("DH_TEST_FAULT_AT", "run-log-write")]);
    assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr
            .contains("warning: the outputs were published, but the run log could not be written"),
        "{stderr}"
    );
    assert_eq!(manifest(&out)["totals"]["countries_ok"], 2);
    assert!(leftovers(&out).is_empty());
    // without the hook: `runs` is a file, so the log folder cannot be created
    fs::remove_dir_all(out.join("runs")).unwrap();
    fs::write(out.join("runs"), "not a folder").unwrap();
    let r = run(raw(), &out, &["--force"], &[]);
    assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains("run log could not be written") && stderr.contains("runs"),
        "{stderr}"
    );
    assert!(leftovers(&out).is_empty());
}

#[test]
fn the_help_documents_the_exit_codes_of_faults() {
    let out = Command::new(env!("CARGO_BIN_EXE_dh"))
        .args(["run", "--help"])
        .output()
        .expect("dh run --help");
    let help = String::from_utf8_lossy(&out.stdout);
    for line in [
        "74      I/O error",
        "130/143 interrupted by SIGINT (130) or SIGTERM (143)",
        "--country-timeout",
        "--drop-failed",
        "--microdata-mode",
    ] {
        assert!(help.contains(line), "{line}: {help}");
    }
}

#[test]
fn an_output_folder_holding_other_files_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir_all(out.join("report")).unwrap();
    fs::write(out.join("report/mine.html"), "mine").unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let r = run(raw(), &out, &[], &[]);
    assert_eq!(r.status.code(), Some(3), "{}", describe(&r));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains("notes.txt, report") && stderr.contains("did not write"),
        "{stderr}"
    );
    let mut names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["notes.txt", "report"], "nothing written");
    assert_eq!(
        fs::read_to_string(out.join("report/mine.html")).unwrap(),
        "mine"
    );
    // a folder of an earlier run (with its manifest) is accepted, and files dh does not publish are kept
    let out2 = dir.path().join("out2");
    ok_run(raw(), &out2);
    fs::write(out2.join("notes.txt"), "mine").unwrap();
    ok_run(raw(), &out2);
    assert_eq!(fs::read_to_string(out2.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn sigterm_and_sigint_exit_143_and_130_remove_staging_and_keep_the_previous_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ok_run(raw(), &out);
    let before = published(&out);
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        for point in ["country-read", "before-publish"] {
            let resume = dir.path().join(format!("resume-{signal}-{point}"));
            let child = start_paused(raw(), &out, point, &resume, &["--force"]);
            assert!(
                !leftovers(&out).is_empty(),
                "a staging folder exists while the run is held"
            );
            let st = Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .status()
                .expect("kill");
            assert!(st.success());
            let r = child.wait_with_output().expect("wait");
            assert_eq!(
                r.status.code(),
                Some(code),
                "{signal} at {point}: {}",
                describe(&r)
            );
            let stderr = String::from_utf8_lossy(&r.stderr);
            assert!(
                stderr.contains(&format!("interrupted by SIG{signal}"))
                    && stderr.contains("removed the staging folder"),
                "{stderr}"
            );
            assert!(
                leftovers(&out).is_empty(),
                "{signal} at {point}: {:?}",
                leftovers(&out)
            );
            assert!(
                published(&out) == before,
                "{signal} at {point}: previous run intact"
            );
        }
    }
    ok_run(raw(), &out);
}

#[test]
fn a_failed_country_keeps_its_last_good_outputs_marked_stale_unless_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_copy(dir.path());
    let out = dir.path().join("out");
    ok_run(&raw, &out);
    let good = manifest(&out);
    let ken_outputs = |m: &Value| -> Vec<Value> {
        m["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["country"] == "KEN")
            .cloned()
            .collect()
    };
    let ken_rows = |out: &Path| {
        fs::read_to_string(out.join("indicators/indicators.csv"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("KEN,"))
            .count()
    };
    let rows_before = ken_rows(&out);
    assert!(rows_before > 0);
    // KEN's delivery disappears: the run fails for KEN (exit 4) and keeps its previous outputs, marked stale
    let ken = raw.join("KEN");
    let moved = dir.path().join("KEN-away");
    fs::rename(&ken, &moved).unwrap();
    for attempt in 0..2 {
        let r = run(&raw, &out, &[], &[]);
        assert_eq!(r.status.code(), Some(4), "{}", describe(&r));
        assert!(String::from_utf8_lossy(&r.stderr).contains("stale"));
        let m = manifest(&out);
        let status = country(&m, "KEN");
        assert_eq!(status["status"], "stale", "attempt {attempt}: {status}");
        assert_eq!(
            status["stale_from"]["inputs"],
            country_stage(&good, "KEN")["inputs"],
            "it names the run its outputs came from"
        );
        assert_eq!(ken_outputs(&m), ken_outputs(&good));
        assert_eq!(country(&m, "THA")["status"], "ok");
        assert_eq!(m["totals"]["countries_failed"], 1);
        assert_eq!(ken_rows(&out), rows_before, "KEN's indicator rows are kept");
        for o in ken_outputs(&m) {
            assert!(out.join(o["path"].as_str().unwrap()).is_file());
        }
        let page = fs::read_to_string(out.join("report/country-KEN.html")).unwrap();
        assert!(
            page.contains("Run status: stale"),
            "country page says stale"
        );
        let index = fs::read_to_string(out.join("report/index.html")).unwrap();
        assert!(index.contains("id=\"stale\""), "overview says stale");
    }
    // a run of THA alone keeps KEN as it is: stale, with its outputs
    let r = run(&raw, &out, &["--countries", "THA"], &[]);
    assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
    let m = manifest(&out);
    assert_eq!(country(&m, "KEN")["status"], "stale");
    assert_eq!(ken_outputs(&m), ken_outputs(&good));
    assert_eq!(ken_rows(&out), rows_before);
    // --drop-failed removes them
    let r = run(&raw, &out, &["--drop-failed"], &[]);
    assert_eq!(r.status.code(), Some(4), "{}", describe(&r));
    let m = manifest(&out);
    assert_eq!(country(&m, "KEN")["status"], "failed");
    assert!(ken_outputs(&m).is_empty());
    assert_eq!(ken_rows(&out), 0);
    // the delivery comes back: KEN is computed again and ok
    fs::rename(&moved, &ken).unwrap();
    ok_run(&raw, &out);
    assert_eq!(country(&manifest(&out), "KEN")["status"], "ok");
}

fn country_stage(m: &Value, iso3: &str) -> Value {
    m["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["country"] == iso3)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn a_delivery_that_changes_between_hashing_and_reading_fails_its_country() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_copy(dir.path());
    let out = dir.path().join("out");
    let resume = dir.path().join("resume");
    // A first (or forced) run hashes a CSV delivery as it reads it, once: nothing to change in between. A rerun
    // hashes the deliveries first to decide which countries to compute; so THA's largest delivery loses its
    // last line after a first run, and the rerun computes THA from the hashes taken before reading.
    ok_run(&raw, &out);
    let mut files: Vec<(u64, PathBuf)> = fs::read_dir(raw.join("THA"))
        .unwrap()
        .flatten()
        .map(|e| (e.metadata().unwrap().len(), e.path()))
        .collect();
    files.sort();
    let (_, path) = files.pop().unwrap();
    let bytes = fs::read(&path).unwrap();
    let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let last_line = body.iter().rposition(|b| *b == b'\n').unwrap();
    fs::write(&path, &bytes[..=last_line]).unwrap();
    // (--drop-failed: THA is reported failed, not kept stale from the first run)
    let child = start_paused(&raw, &out, "country-read:THA", &resume, &["--drop-failed"]);
    // THA's deliveries are hashed; truncate the largest one before it is read
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    fs::write(&resume, "").unwrap();
    let r = child.wait_with_output().expect("wait");
    assert_eq!(r.status.code(), Some(4), "{}", describe(&r));
    let m = manifest(&out);
    let tha = country(&m, "THA");
    assert_eq!(tha["status"], "failed", "{tha}");
    assert!(
        tha["error"]
            .as_str()
            .unwrap()
            .contains("changed while it was read"),
        "{tha}"
    );
    assert_eq!(country(&m, "KEN")["status"], "ok");
    assert!(
        !m["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["country"] == "THA"),
        "no hash recorded for what was not published"
    );
    // the file as it now is: the next run computes THA from it (not "up to date")
    let r = run(&raw, &out, &["--dry-run"], &[]);
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("run      THA"),
        "{}",
        describe(&r)
    );
}

#[test]
fn a_country_over_the_time_limit_fails_and_the_others_are_published() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let resume = dir.path().join("never");
    let start = Instant::now();
    let child = start_paused(
        raw(),
        &out,
        "country-read:THA",
        &resume,
        // far above KEN's run time even on a loaded machine; THA is held for 120 s
        &["--country-timeout", "40"],
    );
    let r = child.wait_with_output().expect("wait");
    let took = start.elapsed();
    assert_eq!(r.status.code(), Some(4), "{}", describe(&r));
    assert!(
        took < Duration::from_secs(110),
        "the held country did not block the run: {took:?}"
    );
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains("THA (timeout)") && stderr.contains("time limit"),
        "{stderr}"
    );
    let m = manifest(&out);
    assert_eq!(country(&m, "THA")["status"], "failed");
    assert_eq!(country(&m, "KEN")["status"], "ok");
    assert!(
        !published(&out).keys().any(|k| k.contains("country=THA")),
        "nothing of the abandoned country is published"
    );
    assert!(leftovers(&out).is_empty());
}

#[cfg(unix)]
#[test]
fn microdata_staging_and_run_logs_are_owner_only_under_umask_022() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let resume = dir.path().join("resume");
    let mut cmd = run_command(
        raw(),
        &out,
        &[],
        &[
            ("DH_TEST_PAUSE_AT", "before-publish"),
            ("DH_TEST_PAUSE_FILE", s(&resume)),
        ],
    );
    // SAFETY: umask is async-signal-safe and only changes the child's file-creation mask.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn dh");
    let paused = dir.path().join("resume.paused");
    let until = Instant::now() + Duration::from_secs(120);
    while !paused.exists() {
        assert!(Instant::now() < until && child.try_wait().unwrap().is_none());
        std::thread::sleep(Duration::from_millis(20));
    }
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let staging = out.join(&leftovers(&out)[0]);
    assert_eq!(mode(&staging), 0o700, "staging");
    fs::write(&resume, "").unwrap();
    assert!(child.wait().unwrap().success());
    fn check(path: &Path, mode: &dyn Fn(&Path) -> u32) {
        let m = mode(path);
        if path.is_dir() {
            assert_eq!(m, 0o700, "{}", path.display());
            for e in fs::read_dir(path).unwrap().flatten() {
                check(&e.path(), mode);
            }
        } else {
            assert_eq!(m, 0o600, "{}", path.display());
        }
    }
    for private in ["normalised", "quarantine", "runs"] {
        check(&out.join(private), &mode);
    }
    // the report follows the umask
    assert_eq!(mode(&out.join("report")), 0o755);
    // a configured mode: the group may read
    let out2 = dir.path().join("out2");
    let r = run(raw(), &out2, &["--microdata-mode", "750"], &[]);
    assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
    assert_eq!(mode(&out2.join("normalised")), 0o750);
    let part = out2.join("normalised/child_survey/country=THA/part-0.parquet");
    assert_eq!(mode(&part), 0o640);
}

/// A first run hashes each CSV delivery from the bytes it reads (one pass); the manifest records the file's hash.
#[test]
fn a_first_run_records_the_hash_of_the_bytes_read_of_each_csv_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut csv = Vec::new();
    for country in COUNTRIES.split(',') {
        for e in fs::read_dir(raw().join(country)).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "csv") {
                csv.push(e.path());
            }
        }
    }
    assert!(!csv.is_empty());
    ok_run(raw(), &out);
    let m = manifest(&out);
    for path in csv {
        use sha2::Digest;
        let rel = path
            .strip_prefix(raw())
            .unwrap()
            .to_string_lossy()
            .to_string();
        let input = m["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["path"] == rel.as_str())
            .unwrap_or_else(|| panic!("{rel} not in the manifest"));
        let bytes = fs::read(&path).unwrap();
        assert_eq!(
            input["sha256"],
            hex::encode(sha2::Sha256::digest(bytes)),
            "{rel}"
        );
    }
}
