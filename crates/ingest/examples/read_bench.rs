//! Read throughput of one delivery file through `dh-ingest` (the same path `dh run` takes): prints rows, columns,
//! seconds and rows/s as one JSON line. Used by `bench/formats/run.sh`.
//!
//! Usage: `cargo run --release -p dh-ingest --example read_bench -- FILE FORMAT [REPEATS]`
//! with FORMAT one of csv, sav (also zsav), dta, xlsx. Every column is kept (the worst case: nothing is skipped).
//! The JSON line also counts the reader's warnings.

use std::path::Path;
use std::time::Instant;

use dh_config::Delivery;
use dh_config::country::Format;
use dh_ingest::ColumnSelection;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(file), Some(format)) = (args.get(1), args.get(2)) else {
        return Err("usage: read_bench FILE csv|sav|zsav|dta|xlsx [REPEATS]".into());
    };
    let repeats: usize = args.get(3).map(|r| r.parse()).transpose()?.unwrap_or(3);
    let format =
        Format::from_extension(format).ok_or_else(|| format!("unknown format `{format}`"))?;
    let delivery = Delivery::new(file.clone(), format);
    let path = Path::new(file);
    let keep = ColumnSelection::every_column();
    let mut best = f64::INFINITY;
    let (mut rows, mut cols, mut warnings) = (0, 0, 0);
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let table = dh_ingest::readers::reader_for(format, path)?.read(path, &delivery, &keep)?;
        best = best.min(start.elapsed().as_secs_f64());
        rows = table.num_rows();
        cols = table.columns.len();
        warnings = table.warnings.len();
    }
    println!(
        "{{\"tool\": \"dh-ingest\", \"format\": \"{}\", \"rows\": {rows}, \"columns\": {cols}, \"seconds\": {best:.3}, \"rows_per_s\": {:.0}, \"warnings\": {warnings}}}",
        args[2],
        rows as f64 / best
    );
    Ok(())
}
