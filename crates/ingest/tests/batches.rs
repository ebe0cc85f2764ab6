//! Reading a delivery in batches (`open_delivery`) gives what reading it whole (`read_delivery`) gives, for every
//! fixture of this crate (CSV in each code page of the corpus, ragged rows, `header_row`/`skip_rows`, quoted
//! newlines, byte-order marks; SPSS files with labels and missing values; the Stata and Excel fixtures, which are
//! sliced) and batch sizes 1, 2, 7 and larger than the file: the batches concatenate to the whole table, each holds
//! at most the batch size, carries the columns (names, labels) and dropped columns, and its row issues point inside
//! it. A file that fails whole fails in batches with the same error.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use dh_config::country::{Encoding, Format};
use dh_config::{ColumnMap, Delivery};
use dh_ingest::{ColumnSelection, RawTable, open_delivery, read_delivery, readers::reader_for};
use serde_json::Value;

const BATCH_SIZES: [usize; 4] = [1, 2, 7, 1_000_000];

fn mapping(delivery: Delivery, columns: &[String]) -> Delivery {
    Delivery {
        columns: columns
            .iter()
            .map(|name| {
                (
                    format!("h_{name}"),
                    ColumnMap {
                        source: Some(name.clone()),
                        ..Default::default()
                    },
                )
            })
            .collect(),
        ..delivery
    }
}

/// Reads `path` in batches of `size` rows, checking each batch against `whole`; returns them concatenated.
fn batched(
    path: &Path,
    delivery: &Delivery,
    size: usize,
    whole: &RawTable,
) -> Result<RawTable, String> {
    batched_then(path, delivery, (size, size), whole)
}

/// [`batched`] with the first batch of `sizes.0` rows and the later ones of `sizes.1` (set after the first, as
/// the pipeline's first pass does).
fn batched_then(
    path: &Path,
    delivery: &Delivery,
    (first, later): (usize, usize),
    whole: &RawTable,
) -> Result<RawTable, String> {
    let size = first.max(later);
    let mut batches = open_delivery(path, delivery, first).map_err(|e| e.to_string())?;
    let mut all: Option<RawTable> = None;
    while let Some(batch) = batches.next_batch().map_err(|e| e.to_string())? {
        if all.is_none() {
            batches.set_batch_rows(later);
        }
        let name = path.display();
        assert!(
            batch.num_rows() <= size,
            "{name}: batch of {} rows",
            batch.num_rows()
        );
        assert!(
            all.is_none() || batch.num_rows() > 0,
            "{name}: an empty batch after the first"
        );
        assert_eq!(batch.columns.len(), whole.columns.len(), "{name}");
        for (b, w) in batch.columns.iter().zip(&whole.columns) {
            assert_eq!((&b.name, &b.labels), (&w.name, &w.labels), "{name}");
            assert_eq!(b.len(), batch.num_rows(), "{name}");
        }
        assert_eq!(batch.dropped_columns, whole.dropped_columns, "{name}");
        assert!(
            batch.row_issues.iter().all(|i| i.row < batch.num_rows()),
            "{name}: {:?}",
            batch.row_issues
        );
        match all.as_mut() {
            None => all = Some(batch),
            Some(t) => t.append(batch).unwrap(),
        }
    }
    Ok(all.unwrap_or_else(|| panic!("{}: no first batch", path.display())))
}

/// Compares batches of every size with the whole read; returns the number of rows compared.
fn same_in_batches(path: &Path, delivery: &Delivery) -> usize {
    let whole = read_delivery(path, delivery);
    let mut rows = 0;
    for size in BATCH_SIZES {
        match &whole {
            Ok(table) => {
                let got = batched(path, delivery, size, table)
                    .unwrap_or_else(|e| panic!("{}: batches of {size}: {e}", path.display()));
                assert_eq!(&got, table, "{}: batches of {size}", path.display());
                // a smaller size after the first batch (the pipeline's first pass)
                let later = (size / 3).max(1);
                let got = batched_then(path, delivery, (size, later), table).unwrap_or_else(|e| {
                    panic!("{}: batches of {size} then {later}: {e}", path.display())
                });
                assert_eq!(
                    &got,
                    table,
                    "{}: batches of {size} then {later}",
                    path.display()
                );
                rows += table.num_rows();
            }
            Err(error) => {
                // the error may come at open or with any batch
                let got = (|| -> Result<(), String> {
                    let mut b = open_delivery(path, delivery, size).map_err(|e| e.to_string())?;
                    while b.next_batch().map_err(|e| e.to_string())?.is_some() {}
                    Ok(())
                })();
                assert_eq!(
                    got.err(),
                    Some(error.to_string()),
                    "{}: batches of {size}",
                    path.display()
                );
            }
        }
    }
    rows
}

fn corpus(folder: &str, suffix: &str) -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(folder);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if let Some(data) = name.strip_suffix(suffix) {
            let expected: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            out.push((dir.join(data), expected));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn csv_corpus_in_every_code_page_reads_the_same_in_batches() {
    let mut rows = 0;
    let mut errors = 0;
    for (path, expected) in corpus("csv", ".expected.json") {
        let columns: Vec<String> = expected["columns"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, _)| name.clone())
            .collect();
        let d = Delivery {
            encoding: expected["encoding"]
                .as_str()
                .map_or(Encoding::UTF8, |l| Encoding::from_label(l).unwrap()),
            delimiter: expected["delimiter"].as_str().unwrap_or(",").into(),
            header_row: expected["header_row"].as_u64().unwrap() as u32,
            skip_rows: expected["skip_rows"].as_u64().unwrap() as u32,
            ..Delivery::new(expected["file"].as_str().unwrap(), Format::Csv)
        };
        errors += usize::from(expected.get("error").is_some());
        rows += same_in_batches(&path, &mapping(d, &columns));
    }
    assert!(
        rows > 50 && errors >= 2,
        "{rows} rows, {errors} error files"
    );
}

#[test]
#[allow(clippy::type_complexity)] // one tuple per case, named in the comment below
fn csv_layouts_read_the_same_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    // (bytes, encoding, header_row, skip_rows, kept columns)
    let cases: Vec<(Vec<u8>, &str, u32, u32, &[&str])> = vec![
        // ragged rows, a quoted newline, CRLF, no final newline
        (
            b"a,b,c\r\n1,\"x\ny\",3\r\n4,5\r\n\r\n6,7,8,9\r\n10,\"q\"\"r\",12".to_vec(),
            "utf-8",
            1,
            0,
            &["a", "b", "c"],
        ),
        // a cover text, blank lines, the header, a label row over two lines, data
        (
            b"Survey, \"wave 1\"\n\nid,q1,name\nRespondent,\"Question\none\",Name\n1,3,x\n\n2,4,y\n3\n".to_vec(),
            "utf-8",
            2,
            1,
            &["id", "q1"],
        ),
        // a byte-order mark, semicolons
        ("\u{FEFF}id;r\u{e9}gion\n1;Nord\n2;Sud\n3;Est\n".as_bytes().to_vec(), "utf-8", 1, 0, &["id", "région"]),
        // header only; skip past the end
        (b"a,b\n".to_vec(), "utf-8", 1, 0, &["a"]),
        (b"a,b\n1,2\n".to_vec(), "utf-8", 1, 5, &["a"]),
        // nothing kept: every record is still a row
        (b"a,b\n1,2\n3,4\n5,6\n".to_vec(), "utf-8", 1, 0, &[]),
        // errors: empty, header past the end, a bad byte in row 5, a missing column
        (Vec::new(), "utf-8", 1, 0, &["a"]),
        (b"a\n1\n".to_vec(), "utf-8", 4, 0, &["a"]),
        (b"a\n1\n2\n3\n4\n\xff\n".to_vec(), "utf-8", 1, 0, &["a"]),
        (b"a\n1\n".to_vec(), "utf-8", 1, 0, &["b"]),
        // UTF-16 with a byte-order mark and a cut last character
        (
            {
                let mut b = vec![0xFF, 0xFE];
                b.extend("id,x\n1,\u{4e2d}\n2,y\n".encode_utf16().flat_map(u16::to_le_bytes));
                b
            },
            "utf-16le",
            1,
            0,
            &["id", "x"],
        ),
        (
            {
                let mut b: Vec<u8> = "id\n1\n2\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
                b.push(0x41);
                b
            },
            "utf-16le",
            1,
            0,
            &["id"],
        ),
        (b"id,x\n1,S\xE3o\n2,Tom\xE9\n3,\x80\n".to_vec(), "windows-1252", 1, 0, &["id", "x"]),
    ];
    for (i, (bytes, encoding, header_row, skip_rows, kept)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("case{i}.csv"));
        std::fs::write(&path, &bytes).unwrap();
        let columns: Vec<String> = kept.iter().map(|s| s.to_string()).collect();
        let d = Delivery {
            encoding: Encoding::from_label(encoding).unwrap(),
            delimiter: if i == 2 { ";".into() } else { ",".into() },
            header_row,
            skip_rows,
            ..Delivery::new(path.display().to_string(), Format::Csv)
        };
        same_in_batches(&path, &mapping(d, &columns));
    }
}

/// The header of a self-describing file (every variable).
fn header_of(path: &Path, format: Format, encoding: Encoding) -> Vec<String> {
    let d = Delivery {
        encoding,
        ..Delivery::new(path.display().to_string(), format)
    };
    // a file the library panics on (fuzz_overflow.sav, fuzz_empty_slice.sav) has no header to map: its error is compared
    std::panic::catch_unwind(|| {
        reader_for(format, path)
            .unwrap()
            .read(path, &d, &ColumnSelection::every_column())
            .map(|t| t.column_names().map(str::to_string).collect())
            .unwrap_or_default()
    })
    .unwrap_or_default()
}

#[test]
fn spss_stata_and_excel_files_read_the_same_in_batches() {
    let mut rows = 0;
    let mut files: Vec<(PathBuf, Format, Encoding)> = Vec::new();
    for folder in ["spss", "stata"] {
        for (path, expected) in corpus(folder, ".json") {
            let format = if folder == "spss" {
                Format::Sav
            } else {
                Format::Dta
            };
            let encoding = Encoding::from_label(expected["encoding"].as_str().unwrap()).unwrap();
            files.push((path, format, encoding));
        }
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (name, format) in [
        ("labelled.sav", Format::Sav),
        ("date_out_of_range.sav", Format::Sav),
        ("fuzz_overflow.sav", Format::Sav),
        ("fuzz_empty_slice.sav", Format::Sav),
        ("labelled.dta", Format::Dta),
    ] {
        files.push((fixtures.join(name), format, Encoding::UTF8));
    }
    for (path, format, encoding) in files {
        let header = header_of(&path, format, encoding);
        let base = Delivery {
            encoding,
            ..Delivery::new(path.display().to_string(), format)
        };
        // every variable, and every other one (projection)
        let every_other: Vec<String> = header.iter().step_by(2).cloned().collect();
        rows += same_in_batches(&path, &mapping(base.clone(), &header));
        same_in_batches(&path, &mapping(base, &every_other));
    }
    assert!(rows > 100, "{rows} rows");
}

/// A `.sav` in batches of 1, 2 and all its cases: every batch but the last is full, rows are numbered on.
#[test]
fn spss_batches_hold_the_batch_size_and_number_rows_on() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/labelled.sav");
    let header = header_of(&path, Format::Sav, Encoding::UTF8);
    let d = mapping(Delivery::new("labelled.sav", Format::Sav), &header);
    let whole = read_delivery(&path, &d).unwrap();
    let rows = whole.num_rows();
    for size in [1, 2, rows.max(1)] {
        let mut b = open_delivery(&path, &d, size).unwrap();
        let mut sizes = Vec::new();
        let mut numbers = Vec::new();
        while let Some(t) = b.next_batch().unwrap() {
            sizes.push(t.num_rows());
            numbers.extend(t.row_numbers);
        }
        assert_eq!(sizes.len(), rows.div_ceil(size).max(1), "{sizes:?}");
        assert!(
            sizes[..sizes.len() - 1].iter().all(|&n| n == size),
            "{sizes:?}"
        );
        assert_eq!(numbers, (1..=rows as u64).collect::<Vec<_>>());
    }
}

/// A CSV source's hash of the bytes it read is the file's SHA-256, given after the last batch; other formats give
/// none.
#[test]
fn csv_batches_give_the_sha256_of_the_bytes_read() {
    use sha2::Digest;
    let mut checked = 0;
    for (path, expected) in corpus("csv", ".expected.json") {
        if expected.get("error").is_some() {
            continue;
        }
        let d = Delivery {
            encoding: expected["encoding"]
                .as_str()
                .map_or(Encoding::UTF8, |l| Encoding::from_label(l).unwrap()),
            delimiter: expected["delimiter"].as_str().unwrap_or(",").into(),
            header_row: expected["header_row"].as_u64().unwrap() as u32,
            skip_rows: expected["skip_rows"].as_u64().unwrap() as u32,
            ..Delivery::new(expected["file"].as_str().unwrap(), Format::Csv)
        };
        let file_hash: String = sha2::Sha256::digest(std::fs::read(&path).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut b = open_delivery(&path, &d, 1).unwrap();
        assert_eq!(b.sha256_of_bytes_read(), None, "{}", path.display());
        while b.next_batch().unwrap().is_some() {}
        assert_eq!(
            b.sha256_of_bytes_read(),
            Some(file_hash),
            "{}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 8, "{checked}");
    let sav = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/labelled.sav");
    let mut b = open_delivery(&sav, &Delivery::new("labelled.sav", Format::Sav), 5).unwrap();
    while b.next_batch().unwrap().is_some() {}
    assert_eq!(b.sha256_of_bytes_read(), None);
}

/// A `.sav` of 50,000 cases (more than the reader decodes at a time): a number, a text and a date variable.
fn sav_of_many_cases(path: &Path) {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    let rows = 50_000usize;
    let fields = vec![
        Field::new("n", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("d", DataType::Date32, true),
    ];
    let n: Float64Array = (0..rows)
        .map(|r| (r % 7 != 3).then_some(r as f64 * 0.5))
        .collect();
    let s: StringArray = (0..rows)
        .map(|r| Some(format!("case {}", r % 1000)))
        .collect();
    let d: Date32Array = (0..rows).map(|r| Some(18_000 + (r % 400) as i32)).collect();
    let columns: Vec<ArrayRef> = vec![Arc::new(n), Arc::new(s), Arc::new(d)];
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

/// A `.sav` with more cases than the reader decodes at a time, in batches whose size is not a multiple of that:
/// every batch but the last holds exactly the batch size (the library's cases are split where a batch ends), and
/// the batches concatenate to the whole read.
#[test]
fn spss_batches_end_at_the_batch_size_whatever_the_reader_decodes_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.sav");
    sav_of_many_cases(&path);
    let header = header_of(&path, Format::Sav, Encoding::UTF8);
    assert_eq!(header, ["n", "s", "d"]);
    let d = mapping(Delivery::new("many.sav", Format::Sav), &header);
    let whole = read_delivery(&path, &d).unwrap();
    assert_eq!(whole.num_rows(), 50_000);
    for size in [12_345, 20_000, 16_384, 49_999, 50_000, 1_000_000] {
        let got = batched(&path, &d, size, &whole).unwrap();
        assert_eq!(got, whole, "batches of {size}");
        let mut b = open_delivery(&path, &d, size).unwrap();
        let mut sizes = Vec::new();
        while let Some(t) = b.next_batch().unwrap() {
            sizes.push(t.num_rows());
        }
        assert_eq!(sizes.len(), 50_000usize.div_ceil(size), "{size}: {sizes:?}");
        assert!(
            sizes[..sizes.len() - 1].iter().all(|&n| n == size),
            "{size}: {sizes:?}"
        );
    }
}
