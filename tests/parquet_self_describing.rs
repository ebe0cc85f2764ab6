//! Parquet that explains itself (issue 13), on a full run of the real binary over `dh synth` data:
//!
//! * every categorical column of every normalised file has the codebook of its field as dictionary: the field's
//!   categories then the table's missing labels, in codebook order, for every configured country alike, including labels
//!   no row of the country holds (read through the `parquet` crate's Arrow reader, and through pyarrow and pandas
//!   when Python has pyarrow);
//! * ordinal fields (`"ordered": true` in the schema) are ordered dictionaries, the others are not;
//! * field metadata carries the allowed missing codes and the schema version besides the existing keys;
//! * `OUT/codebook.md` is the text of `dh codebook` and is listed in the manifest.
//!
//! pyarrow is required when the environment variable `CI` is set; otherwise its absence skips that part with a
//! printed reason.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use arrow::array::AsArray;
use serde_json::{Value, json};

use common::{describe, dh, s, workspace};

const KEY: &str = "parquet-self-describing-key-0123456789abcdef";

/// What a categorical column of one file must look like.
fn expectations(out: &Path) -> BTreeMap<String, BTreeMap<String, Value>> {
    let schemas = dh_config::load_schemas(&workspace().join("schemas")).expect("schemas");
    let mut files = BTreeMap::new();
    for (name, table) in &schemas.tables {
        let dir = out.join("normalised").join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut parts: Vec<_> = entries
            .flatten()
            .map(|e| e.path().join("part-0.parquet"))
            .collect();
        parts.sort();
        for part in parts {
            let mut columns = BTreeMap::new();
            for f in table.fields.iter().filter(|f| f.is_categorical()) {
                let missing = f.missing_codes_text(&table.missing_values);
                columns.insert(
                    f.name.clone(),
                    json!({
                        "levels": f.dictionary_labels(&table.missing_values),
                        "ordered": f.ordered,
                        "missing_codes": if missing.is_empty() { Value::Null } else { Value::from(missing) },
                        "schema_version": table.version,
                    }),
                );
            }
            files.insert(s(&part).to_string(), columns);
        }
    }
    files
}

fn run_synthetic(dir: &Path) -> std::path::PathBuf {
    let raw = dir.join("raw");
    let out = dir.join("out");
    common::synth(&raw, "", "7");
    let run = dh(
        Some(KEY),
        &["run", "--raw-dir", s(&raw), "--out-dir", s(&out), "--quiet"],
    );
    assert!(run.status.success(), "dh run: {}", describe(&run));
    out
}

/// The checks through the `parquet` crate's own Arrow reader.
fn check_with_rust_reader(files: &BTreeMap<String, BTreeMap<String, Value>>) {
    let mut countries = std::collections::BTreeSet::new();
    for (path, columns) in files {
        let batches = common::read_parquet(Path::new(path));
        assert!(!batches.is_empty(), "{path}: no rows");
        countries.insert(
            path.split("country=")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default()
                .to_string(),
        );
        let schema = batches[0].schema();
        for (name, want) in columns {
            let field = schema
                .field_with_name(name)
                .unwrap_or_else(|_| panic!("{path}: no `{name}`"));
            assert_eq!(
                field.dict_is_ordered(),
                Some(want["ordered"].as_bool().unwrap()),
                "{path}: ordered flag of `{name}`"
            );
            let meta = field.metadata();
            assert_eq!(
                meta.get("schema_version").map(String::as_str),
                want["schema_version"].as_str(),
                "{path}: `{name}`"
            );
            assert_eq!(
                meta.get("missing_codes").map(String::as_str),
                want["missing_codes"].as_str(),
                "{path}: `{name}`"
            );
            for key in ["description", "codes", "universe", "role"] {
                assert!(meta.contains_key(key), "{path}: `{name}` lost its `{key}`");
            }
            let levels: Vec<&str> = want["levels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            for b in &batches {
                let dict = b.column_by_name(name).unwrap().as_any_dictionary();
                let values: Vec<&str> = dict.values().as_string::<i32>().iter().flatten().collect();
                assert_eq!(values, levels, "{path}: dictionary of `{name}`");
            }
        }
    }
    let configured: std::collections::BTreeSet<String> = common::countries().into_iter().collect();
    assert_eq!(countries, configured);
}

const PYARROW_CHECK: &str = r#"
import json, sys
import pyarrow.parquet as pq
files = json.load(open(sys.argv[1]))
problems = []
for path, columns in files.items():
    table = pq.read_table(path)
    frame = table.select(list(columns)).to_pandas()
    for name, want in columns.items():
        field = table.schema.field(name)
        for chunk in table.column(name).chunks:
            if chunk.dictionary.to_pylist() != want["levels"]:
                problems.append(f"{path}: pyarrow dictionary of {name}: {chunk.dictionary.to_pylist()}")
        if field.type.ordered != want["ordered"]:
            problems.append(f"{path}: pyarrow ordered flag of {name}")
        cat = frame[name].cat
        if list(cat.categories) != want["levels"] or bool(cat.ordered) != want["ordered"]:
            problems.append(f"{path}: pandas categories of {name}: {list(cat.categories)} ordered={cat.ordered}")
        meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        if meta.get("schema_version") != want["schema_version"] or meta.get("missing_codes") != want["missing_codes"]:
            problems.append(f"{path}: field metadata of {name}: {meta}")
print(f"checked {len(files)} files")
if problems:
    print("\n".join(problems[:30]))
    sys.exit(1)
"#;

/// The same checks through pyarrow and pandas, when Python has them.
fn check_with_pyarrow(dir: &Path, files: &BTreeMap<String, BTreeMap<String, Value>>) {
    let probe = Command::new("python3")
        .args(["-c", "import pyarrow, pandas"])
        .output();
    let available = probe.as_ref().is_ok_and(|o| o.status.success());
    if !available {
        let reason = match &probe {
            Err(e) => format!("python3 cannot be started ({e})"),
            Ok(o) => format!(
                "python3 cannot import pyarrow and pandas: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
        };
        common::optional::tool_missing("the pyarrow/pandas check", &reason);
        return;
    }
    let expected = dir.join("expected.json");
    std::fs::write(&expected, serde_json::to_vec(files).unwrap()).unwrap();
    let script = dir.join("check.py");
    std::fs::write(&script, PYARROW_CHECK).unwrap();
    let out = Command::new("python3")
        .args([s(&script), s(&expected)])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "pyarrow check: {}", describe(&out));
    println!("{}", String::from_utf8_lossy(&out.stdout).trim());
}

#[test]
fn normalised_parquet_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_synthetic(dir.path());
    let files = expectations(&out);
    let n = common::countries().len();
    assert!(files.len() >= n * 5, "{} files", files.len());
    check_with_rust_reader(&files);
    check_with_pyarrow(dir.path(), &files);

    // age_band in codebook order for every country, whatever order the rows come in
    let child: Vec<_> = files
        .keys()
        .filter(|p| p.contains("/child_survey/"))
        .collect();
    assert_eq!(child.len(), n);
    for path in child {
        let levels = &files[path]["age_band"]["levels"];
        assert_eq!(levels[0], "12-13", "{path}");
        assert_eq!(levels[2], "16-17", "{path}");
    }

    // OUT/codebook.md: the text of `dh codebook`, listed in the manifest with its hash
    let codebook = std::fs::read(out.join("codebook.md")).expect("OUT/codebook.md");
    let printed = dh(None, &["codebook"]);
    assert!(printed.status.success(), "{}", describe(&printed));
    assert_eq!(codebook, printed.stdout);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let entry = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["path"] == "codebook.md")
        .expect("codebook.md in the manifest");
    use sha2::Digest;
    assert_eq!(
        entry["sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(&codebook))
    );
    assert!(String::from_utf8_lossy(&codebook).contains("| `age_band` | categorical, ordered,"));
}
