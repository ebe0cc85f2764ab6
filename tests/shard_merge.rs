//! Sharded runs (issue 14): three `dh run --countries ...` shards merged with `dh merge` give every byte of a single
//! `dh run` over all countries (run logs aside), `--export` included, also when `OUT` is one of the shards; and
//! a country a shard recorded as failed or stale is carried exactly as a single run records it; a merge killed
//! before or during publication leaves `OUT` valid and the next merge converges to the same bytes; and
//! shards that cannot be merged are refused with exit code 3 and a message naming the difference (another key,
//! another schema file, a changed country configuration, a changed delivery with `--raw-dir`, a country in two
//! shards with different results, a country in none, a folder that is not a dh run), or exit 5 while a shard is
//! locked by a run. Shards that hold the same record of a country (a merge repeated or completed into `OUT` that
//! is one of its shards) are not a conflict.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use common::{describe, dh, s};

const KEY: &str = "shard-merge-test-key-0123456789abcdef01234";
const OTHER_KEY: &str = "another-shard-merge-key-0123456789abcdef012";
/// Three shards of different sizes covering every configured country (for 13 countries: 4, 5 and 4), each as a
/// `--countries` list.
fn shard_lists() -> Vec<String> {
    let countries = common::countries();
    let first = countries.len() / 3;
    let second = first + 1;
    assert!(
        countries.len() > second,
        "too few countries for three shards: {countries:?}"
    );
    [
        &countries[..first],
        &countries[first..first + second],
        &countries[first + second..],
    ]
    .map(|shard| shard.join(","))
    .to_vec()
}

/// Deliveries, a single run over every country and the three shards, made once for every test (read-only).
struct Fixture {
    _dir: tempfile::TempDir,
    raw: PathBuf,
    single: PathBuf,
    shards: Vec<PathBuf>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let raw = dir.path().join("raw");
        common::synth(&raw, "", "14");
        let single = dir.path().join("single");
        ok(&run(&raw, &single, KEY, &["--export", "dta,sav"]));
        let lists = shard_lists();
        let shards: Vec<PathBuf> = (1..=lists.len())
            .map(|i| dir.path().join("shards").join(i.to_string()))
            .collect();
        for (countries, shard) in lists.iter().zip(&shards) {
            ok(&run(&raw, shard, KEY, &["--countries", countries]));
        }
        Fixture {
            _dir: dir,
            raw,
            single,
            shards,
        }
    })
}

fn run(raw: &Path, out: &Path, key: &str, extra: &[&str]) -> Output {
    let mut args = vec!["run", "--quiet", "--raw-dir", s(raw), "--out-dir", s(out)];
    args.extend(["--jobs", "2"]);
    args.extend(extra);
    dh(Some(key), &args)
}

fn merge(shards: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["merge", "--quiet"];
    args.extend(shards.iter().map(|p| s(p)));
    args.extend(["--out-dir", s(out)]);
    args.extend(extra);
    // without DH_PSEUDONYM_KEY: the key is not needed to merge
    dh(None, &args)
}

/// `dh merge SHARDS --out-dir OUT --export dta,sav` stopped at the test abort point `point`: it must fail.
fn merge_aborted_at(shards: &[&Path], out: &Path, point: &str) {
    let mut args = vec!["merge", "--quiet"];
    args.extend(shards.iter().map(|p| s(p)));
    args.extend(["--out-dir", s(out), "--export", "dta,sav"]);
    let killed = std::process::Command::new(env!("CARGO_BIN_EXE_dh"))
        .args(&args)
        .current_dir(common::workspace())
        .env("DH_TEST_ABORT_AT", point)
        .env_remove("DH_PSEUDONYM_KEY")
        .output()
        .expect("run dh");
    assert!(!killed.status.success(), "{point}: {}", describe(&killed));
}

fn ok(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{}", describe(out));
}

fn shards() -> Vec<&'static Path> {
    fixture().shards.iter().map(PathBuf::as_path).collect()
}

/// Every file under `OUT` (relative path -> bytes), leaving out the run logs.
fn published(out: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).expect("read_dir").flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(base)
                .expect("under base")
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "runs" {
                continue;
            }
            if path.is_dir() {
                walk(base, &path, files);
            } else {
                files.insert(rel, fs::read(&path).expect("read"));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(out, out, &mut files);
    files
}

/// The same files with the same bytes under both folders (run logs aside), a full run with its export.
fn assert_same_bytes(expected: &Path, actual: &Path) {
    let files = assert_same_files(expected, actual);
    assert!(files.contains_key("manifest.json") && files.contains_key("export/child_survey.sav"));
    assert!(files.len() > 100, "{} files", files.len());
}

/// The same files with the same bytes under both folders (run logs aside); returns them.
fn assert_same_files(expected: &Path, actual: &Path) -> BTreeMap<String, Vec<u8>> {
    let (a, b) = (published(expected), published(actual));
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "the same files");
    let differ: Vec<&String> = a
        .iter()
        .filter(|(k, v)| b[*k] != **v)
        .map(|(k, _)| k)
        .collect();
    assert!(differ.is_empty(), "files whose bytes differ: {differ:?}");
    a
}

/// Exit code 3, a message containing each of `needles`, and no manifest published into `out`.
fn refused(out: &Output, dir: &Path, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(3), "{}", describe(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "`{needle}` not in: {}",
            describe(out)
        );
    }
    assert!(!dir.join("manifest.json").exists(), "nothing is published");
}

#[test]
fn three_shards_merge_into_the_bytes_of_a_single_run() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("merged");
    let merged = merge(&shards(), &out, &["--export", "dta,sav"]);
    ok(&merged);
    assert_same_bytes(&f.single, &out);
    // the merge's own run log names the shard of each country
    let logs: Vec<PathBuf> = fs::read_dir(out.join("runs"))
        .expect("runs/")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log: serde_json::Value =
        serde_json::from_slice(&fs::read(&logs[0]).expect("log")).expect("json");
    let countries = log["countries"].as_array().expect("countries");
    assert_eq!(countries.len(), common::countries().len());
    assert!(
        countries.iter().all(|c| c["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("merged from shard ") && r.contains("shards"))),
        "{countries:?}"
    );
    // merged again over itself (OUT is not a shard here): the same bytes
    ok(&merge(&shards(), &out, &["--export", "dta,sav"]));
    assert_same_bytes(&f.single, &out);
}

#[test]
fn failed_and_stale_countries_are_carried_as_a_single_run_records_them() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = dir.path().join("raw");
    copy_dir(&f.raw.join("ETH"), &raw.join("ETH"));
    copy_dir(&f.raw.join("NAM"), &raw.join("NAM"));
    let both = ["--countries", "ETH,NAM"];
    let (single, eth, nam) = (
        dir.path().join("single"),
        dir.path().join("eth"),
        dir.path().join("nam"),
    );
    ok(&run(&raw, &single, KEY, &both));
    ok(&run(&raw, &eth, KEY, &["--countries", "ETH"]));
    ok(&run(&raw, &nam, KEY, &["--countries", "NAM"]));
    // NAM's child survey disappears: NAM fails and keeps its last good outputs, marked stale
    fs::remove_file(raw.join("NAM/NAM_child.csv")).expect("remove delivery");
    assert_eq!(run(&raw, &single, KEY, &both).status.code(), Some(4));
    let nam_run = run(&raw, &nam, KEY, &["--countries", "NAM"]);
    assert_eq!(nam_run.status.code(), Some(4), "{}", describe(&nam_run));
    let out = dir.path().join("merged");
    let merged = merge(&[&eth, &nam], &out, &both);
    assert_eq!(merged.status.code(), Some(4), "{}", describe(&merged));
    assert!(String::from_utf8_lossy(&merged.stderr).contains("country NAM"));
    let manifest = fs::read_to_string(out.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"status\": \"stale\""), "{manifest}");
    assert_same_files(&single, &out);
    // a country that failed in its shard's first run has no outputs: carried as failed
    let (first, fresh) = (dir.path().join("first"), dir.path().join("fresh"));
    assert_eq!(run(&raw, &first, KEY, &both).status.code(), Some(4));
    assert_eq!(
        run(&raw, &fresh, KEY, &["--countries", "NAM"])
            .status
            .code(),
        Some(4)
    );
    let out = dir.path().join("merged-failed");
    let merged = merge(&[&eth, &fresh], &out, &both);
    assert_eq!(merged.status.code(), Some(4), "{}", describe(&merged));
    let manifest = fs::read_to_string(out.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"status\": \"failed\""), "{manifest}");
    assert_same_files(&first, &out);
}

#[test]
fn an_interrupted_merge_leaves_out_valid_and_the_next_merge_converges() {
    let f = fixture();
    for point in ["before-publish", "publish-entry-aside"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("merged");
        merge_aborted_at(&shards(), &out, point);
        if point == "before-publish" {
            assert!(!out.join("manifest.json").exists(), "nothing published");
        }
        ok(&merge(&shards(), &out, &["--export", "dta,sav"]));
        assert_same_bytes(&f.single, &out);
        let hidden: Vec<_> = fs::read_dir(&out)
            .expect("out")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".staging-") || n.starts_with(".previous-"))
            .collect();
        assert!(hidden.is_empty(), "{point}: {hidden:?}");
    }
}

#[test]
fn one_shard_may_be_the_output_folder() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    // a copy of shard 1 becomes the merged run
    let own = dir.path().join("own");
    copy_dir(&f.shards[0], &own);
    let merged = merge(
        &[&own, &f.shards[1], &f.shards[2]],
        &own,
        &["--export", "dta,sav"],
    );
    ok(&merged);
    assert_same_bytes(&f.single, &own);
}

#[test]
fn an_interrupted_merge_into_one_of_its_shards_is_completed_by_the_next_merge() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let own = dir.path().join("own");
    copy_dir(&f.shards[0], &own);
    merge_aborted_at(
        &[&own, &f.shards[1], &f.shards[2]],
        &own,
        "publish-entry-aside",
    );
    // the next merge completes the interrupted publication first: `own` then holds every country, each with the
    // record its own shard holds, and the merge gives the bytes of the single run
    let again = merge(
        &[&own, &f.shards[1], &f.shards[2]],
        &own,
        &["--export", "dta,sav"],
    );
    ok(&again);
    assert_same_bytes(&f.single, &own);
    // and so does the same merge once more
    ok(&merge(
        &[&own, &f.shards[1], &f.shards[2]],
        &own,
        &["--export", "dta,sav"],
    ));
    assert_same_bytes(&f.single, &own);
}

#[test]
fn shards_made_with_another_key_are_refused() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("other-key");
    ok(&run(&f.raw, &other, OTHER_KEY, &["--countries", "NAM"]));
    let out = dir.path().join("merged");
    let r = merge(&[&f.shards[0], &other], &out, &["--countries", "ETH,NAM"]);
    refused(&r, &out, &["other-key", "pseudonym key: fingerprint"]);
    // with the key given, the shard made with it is the one refused
    let key_file = dir.path().join("key");
    fs::write(&key_file, OTHER_KEY).expect("key file");
    let key = ["--countries", "ETH,NAM", "--key-file", s(&key_file)];
    let r = merge(&[&other, &f.shards[0]], &out, &key);
    refused(&r, &out, &["shards/1", "pseudonym key"]);
}

#[test]
fn shards_made_with_another_schema_file_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schemas = dir.path().join("schemas");
    copy_dir(&common::workspace().join("schemas"), &schemas);
    let file = schemas.join("frontline_survey.json");
    let mut text = fs::read_to_string(&file).expect("schema");
    text.push('\n');
    fs::write(&file, text).expect("schema");
    let out = dir.path().join("merged");
    let r = merge(&shards(), &out, &["--schema-dir", s(&schemas)]);
    refused(
        &r,
        &out,
        &[
            "made with other definitions",
            "schema frontline_survey.json differs",
        ],
    );
}

#[test]
fn a_country_whose_configuration_changed_since_its_shard_ran_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let countries = dir.path().join("countries");
    copy_dir(&common::workspace().join("countries"), &countries);
    let file = countries.join("MOZ.toml");
    let mut text = fs::read_to_string(&file).expect("config");
    text.push_str("\n# edited after the shard ran\n");
    fs::write(&file, text).expect("config");
    let out = dir.path().join("merged");
    let r = merge(&shards(), &out, &["--config-dir", s(&countries)]);
    refused(&r, &out, &["shards/2", "country MOZ", "MOZ.toml"]);
}

#[test]
fn with_raw_dir_a_country_computed_from_other_deliveries_is_refused() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = dir.path().join("raw");
    copy_dir(&f.raw.join("NAM"), &raw.join("NAM"));
    copy_dir(&f.raw.join("ETH"), &raw.join("ETH"));
    let out = dir.path().join("merged");
    let subset = ["--countries", "ETH,NAM", "--raw-dir", s(&raw)];
    // unchanged deliveries: merged
    ok(&merge(&[&f.shards[0], &f.shards[1]], &out, &subset));
    let file = fs::read_dir(raw.join("NAM"))
        .expect("NAM")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "csv"))
        .expect("a CSV delivery");
    let mut bytes = fs::read(&file).expect("delivery");
    bytes.extend_from_slice(b"\n");
    fs::write(&file, bytes).expect("delivery");
    let out = dir.path().join("merged-again");
    let r = merge(&[&f.shards[0], &f.shards[1]], &out, &subset);
    let name = format!("NAM/{}", file.file_name().unwrap().to_string_lossy());
    refused(&r, &out, &["country NAM", "other deliveries", &name]);
}

#[test]
fn a_country_in_two_shards_or_in_none_is_refused() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("merged");
    // the single run holds every country, shard 1 some of them, with the same records: not a conflict
    // (the countries come from countries/: ETH and TZA, UGA, VNM, ZAF for the 13 configured ones)
    let lists = shard_lists();
    let first = lists[0].split(',').next().expect("a country in shard 1");
    ok(&merge(
        &[&f.shards[0], &f.single],
        &out,
        &["--export", "dta,sav"],
    ));
    assert_same_bytes(&f.single, &out);
    // a copy of shard 1 whose manifest records its first country as computed from something else
    let other = dir.path().join("other");
    copy_dir(&f.shards[0], &other);
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(other.join("manifest.json")).expect("manifest"))
            .expect("json");
    let stages = manifest["stages"].as_array_mut().expect("stages");
    let stage = stages
        .iter_mut()
        .find(|s| s["country"] == first)
        .expect("a stage of the first country");
    stage["key"] = serde_json::Value::from("0".repeat(64));
    fs::write(
        other.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).expect("json"),
    )
    .expect("write");
    let out = dir.path().join("merged-again");
    let r = merge(&[&other, &f.single], &out, &[]);
    let twice = format!("country {first} is in two shards with different results");
    refused(&r, &out, &[twice.as_str(), "other", "single"]);
    let unheld = format!("no shard holds {}", lists[2].replace(',', ", "));
    let r = merge(&[&f.shards[0], &f.shards[1]], &out, &[]);
    refused(&r, &out, &[unheld.as_str(), "--countries"]);
    let r = merge(&[&f.shards[0], &f.shards[0]], &out, &["--countries", first]);
    refused(&r, &out, &["given twice"]);
}

#[test]
fn a_folder_that_is_not_a_dh_run_is_refused() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("notes");
    fs::create_dir_all(&other).expect("mkdir");
    fs::write(other.join("notes.txt"), "mine").expect("write");
    let out = dir.path().join("merged");
    let r = merge(&[&f.shards[0], &other], &out, &[]);
    refused(
        &r,
        &out,
        &["notes", "not a dh output folder (no manifest.json)"],
    );
    let r = merge(&[&f.shards[0], &dir.path().join("absent")], &out, &[]);
    refused(&r, &out, &["absent", "not a dh output folder"]);
}

#[test]
fn a_shard_locked_by_a_run_is_not_read() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let shard = dir.path().join("shard");
    copy_dir(&f.shards[2], &shard);
    let lock = fs::File::options()
        .write(true)
        .open(shard.join(".dh-lock"))
        .expect("lock file");
    lock.try_lock().expect("lock");
    let out = dir.path().join("merged");
    let r = merge(&[&f.shards[0], &f.shards[1], &shard], &out, &[]);
    assert_eq!(r.status.code(), Some(5), "{}", describe(&r));
    assert!(String::from_utf8_lossy(&r.stderr).contains("locked"));
    drop(lock);
    ok(&merge(&[&f.shards[0], &f.shards[1], &shard], &out, &[]));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir").flatten() {
        let path = e.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(e.file_name()));
        } else {
            fs::copy(&path, to.join(e.file_name())).expect("copy");
        }
    }
}
