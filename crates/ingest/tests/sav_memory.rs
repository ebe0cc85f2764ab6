//! A bytecode-compressed `.sav` read in batches holds one block of the file and one batch, not the whole data
//! section (issue 14, bounded memory; the vendored `ambers` reads the section in 1 MiB blocks): the peak resident
//! memory while a 48 MB file is read in batches of 10,000 rows grows far less than the file's size, and every row
//! is read. The file is written by a child process (this binary running the ignored `write_large_sav`), so that
//! its making leaves no freed memory here for the reader to reuse unseen; the peak is reset before the read
//! (`/proc/self/clear_refs`, Linux).

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use dh_config::Delivery;
use dh_config::country::Format;
use dh_ingest::open_delivery;

const ROWS: usize = 600_000;
const COLUMNS: usize = 10;

/// `ROWS` x `COLUMNS` non-integer numbers: bytecode compression stores each as 8 raw bytes (48 MB of data).
fn bytecode_sav(path: &std::path::Path) {
    let fields: Vec<Field> = (0..COLUMNS)
        .map(|c| Field::new(format!("v{c}"), DataType::Float64, true))
        .collect();
    let columns: Vec<ArrayRef> = (0..COLUMNS)
        .map(|c| {
            let values: Vec<f64> = (0..ROWS).map(|r| (r * COLUMNS + c) as f64 + 0.25).collect();
            Arc::new(Float64Array::from(values)) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let meta = ambers::SpssMetadata::from_arrow_schema(batch.schema().as_ref());
    let file = std::fs::File::create(path).unwrap();
    ambers::write_sav_to_writer(
        std::io::BufWriter::new(file),
        &batch,
        &meta,
        ambers::constants::Compression::Bytecode,
        None,
    )
    .unwrap();
}

/// Written by the child process of the test below (path in `SAV_MEMORY_PATH`).
#[test]
#[ignore = "run by a_bytecode_sav_is_read_in_batches_without_holding_its_data_section"]
fn write_large_sav() {
    let path = std::env::var("SAV_MEMORY_PATH").unwrap();
    bytecode_sav(std::path::Path::new(&path));
}

/// `VmHWM` (peak) or `VmRSS` of this process, in bytes.
fn status_kb(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    let kb: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

#[cfg(target_os = "linux")]
#[test]
fn a_bytecode_sav_is_read_in_batches_without_holding_its_data_section() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.sav");
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "write_large_sav", "--quiet"])
        .env("SAV_MEMORY_PATH", &path)
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::metadata(&path).unwrap().len() as usize;
    assert!(bytes > 40 << 20, "{bytes} bytes");

    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kb("VmRSS:");
    let delivery = Delivery::new("large.sav", Format::Sav);
    let mut batches = open_delivery(&path, &delivery, 10_000).unwrap();
    let mut rows = 0;
    while let Some(batch) = batches.next_batch().unwrap() {
        rows += batch.num_rows();
    }
    drop(batches);
    let grew = status_kb("VmHWM:").saturating_sub(before);
    assert_eq!(rows, ROWS);
    // Reading the data section whole makes the peak grow by more than `bytes`; block by block by about 1 MiB
    // plus one batch.
    assert!(
        grew < bytes / 4,
        "peak resident memory grew by {grew} bytes while reading a {bytes}-byte file"
    );
}
