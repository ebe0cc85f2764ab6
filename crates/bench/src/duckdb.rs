//! DuckDB as the reference of `dh bench run`: every CSV delivery converted to Parquet with a plain
//! `COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)` ([`crate::csv_inputs`]), on the same number of
//! threads as dh (`SET threads=N`), in its own process: `python3` with the `duckdb` package when it imports,
//! else the `duckdb` command-line tool when it is on PATH, else not measured. The process then counts the rows
//! written (`SELECT count(*)` over the Parquet files) and prints them; that count is part of the timed process
//! (it reads only Parquet footers), and so is the start of Python or the CLI, as dh's own start is.

use std::path::Path;
use std::process::Command;

use crate::csv_inputs::{CsvInput, quote};
use crate::measure::{Measured, run_measured};

/// The Python program: the statements come as a JSON list in argv[1]; prints `{"rows": N, "version": V}`.
const PYTHON: &str = r#"
import json, sys
import duckdb
statements = json.loads(sys.argv[1])
con = duckdb.connect()
for s in statements[:-1]:
    con.execute(s)
rows = con.execute(statements[-1]).fetchone()[0]
print(json.dumps({"rows": rows, "version": duckdb.__version__}))
"#;

/// A way to run DuckDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// `python3` importing `duckdb` (its version).
    Python(String),
    /// The `duckdb` CLI (its version line).
    Cli(String),
}

impl Engine {
    /// The first engine found, or why none is.
    pub fn find() -> Result<Engine, String> {
        let python = Command::new("python3")
            .args(["-c", "import duckdb; print(duckdb.__version__)"])
            .output();
        if let Ok(out) = &python
            && out.status.success()
        {
            return Ok(Engine::Python(
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
            ));
        }
        if let Ok(out) = Command::new("duckdb").arg("-version").output()
            && out.status.success()
        {
            return Ok(Engine::Cli(
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
            ));
        }
        Err("DuckDB not found: neither `python3 -c 'import duckdb'` nor a `duckdb` command on PATH \
             (pip install duckdb)"
            .to_string())
    }

    /// Name and version, for the report.
    pub fn describe(&self) -> String {
        match self {
            Engine::Python(v) => format!("duckdb {v} (python3)"),
            Engine::Cli(v) => format!("duckdb CLI {v}"),
        }
    }
}

/// The statements: threads, one `COPY` per input into `out_dir`, then the row count of what was written.
pub fn statements(inputs: &[CsvInput], threads: usize, out_dir: &Path) -> Vec<String> {
    let mut s = vec![format!("SET threads={threads}")];
    s.extend(inputs.iter().map(|i| i.copy_statement(out_dir)));
    s.push(format!(
        "SELECT count(*) AS rows FROM read_parquet({})",
        quote(&out_dir.join("*.parquet").to_string_lossy())
    ));
    s
}

/// The rows DuckDB says it wrote: `{"rows": N}` (Python) or `[{"rows": N}]` (CLI `-json`).
pub fn parse_rows(stdout: &[u8]) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_slice(stdout).ok()?;
    v.get("rows")
        .or_else(|| v.get(0).and_then(|r| r.get("rows")))
        .and_then(serde_json::Value::as_u64)
}

/// Runs the conversion of `inputs` into `out_dir` with `threads` threads, measured.
pub fn convert(
    engine: &Engine,
    inputs: &[CsvInput],
    threads: usize,
    out_dir: &Path,
) -> std::io::Result<Measured> {
    std::fs::create_dir_all(out_dir)?;
    let statements = statements(inputs, threads, out_dir);
    let mut command = match engine {
        Engine::Python(_) => {
            let mut c = Command::new("python3");
            c.arg("-c")
                .arg(PYTHON)
                .arg(serde_json::Value::from(statements).to_string());
            c
        }
        Engine::Cli(_) => {
            let mut c = Command::new("duckdb");
            c.arg("-json").arg("-c").arg(statements.join(";\n"));
            c
        }
    };
    run_measured(&mut command, None)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn statements_set_threads_copy_each_file_and_count() {
        let input = CsvInput {
            iso3: "THA".into(),
            table: "child_survey".into(),
            path: PathBuf::from("/r/THA/c.csv"),
            delimiter: ',',
            encoding: "utf-8",
            skip: 0,
            transcoded_from: None,
        };
        let s = statements(&[input.clone(), input], 2, Path::new("/o"));
        assert_eq!(s.len(), 4);
        assert_eq!(s[0], "SET threads=2");
        assert!(s[1].starts_with("COPY (SELECT * FROM read_csv('/r/THA/c.csv'"));
        assert_eq!(
            s[3],
            "SELECT count(*) AS rows FROM read_parquet('/o/*.parquet')"
        );
    }

    #[test]
    fn row_counts_from_python_and_the_cli() {
        assert_eq!(parse_rows(br#"{"rows": 12, "version": "1.1"}"#), Some(12));
        assert_eq!(parse_rows(b"[{\"rows\":7}]\n"), Some(7));
        assert_eq!(parse_rows(b"error"), None);
    }

    #[test]
    fn duckdb_converts_a_latin1_file_when_installed() {
        let Ok(engine) = Engine::find() else {
            return; // the end-to-end test (tests/bench_run.rs) says when DuckDB is missing
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, b"id;name\n1;Jos\xE9\n2;Ana\n").unwrap();
        let input = CsvInput {
            iso3: "MOZ".into(),
            table: "t".into(),
            path,
            delimiter: ';',
            encoding: "latin-1",
            skip: 0,
            transcoded_from: None,
        };
        let m = convert(&engine, &[input], 1, &dir.path().join("out")).unwrap();
        assert!(m.success(), "{}", String::from_utf8_lossy(&m.stderr));
        assert_eq!(parse_rows(&m.stdout), Some(2));
        assert!(dir.path().join("out/MOZ_t.parquet").is_file());
    }
}
