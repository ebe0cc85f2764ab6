//! Times the columnar reader: `cargo run --release -p dh-estimate --example read_speed -- FILE COL[,COL...]`.

use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().ok_or("usage: read_speed FILE COL[,COL...]")?);
    let columns: Vec<String> = args
        .next()
        .ok_or("usage: read_speed FILE COL[,COL...]")?
        .split(',')
        .map(str::to_string)
        .collect();
    for _ in 0..3 {
        let start = Instant::now();
        let table = dh_estimate::read_table(&path, &columns)?;
        let elapsed = start.elapsed();
        let bytes: usize = table.columns.iter().map(|c| c.arrow_size_bytes()).sum();
        println!(
            "{} rows x {} columns in {:.3} s ({} MB as Arrow)",
            table.n_rows,
            table.columns.len(),
            elapsed.as_secs_f64(),
            bytes / 1_000_000
        );
    }
    Ok(())
}
