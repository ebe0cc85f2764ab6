//! Peak memory of reading one delivery in batches (`DeliveryReader::batches`, the path `open_delivery` takes) or
//! whole, keeping every column (the worst case). Prints rows, batches, seconds and the process's peak resident set
//! (`VmHWM`) as one JSON line. Also writes the large police-case CSV the memory figure is measured on.
//!
//! Usage:
//! * `cargo run --release -p dh-ingest --example batch_memory -- read FILE csv|sav [BATCH_ROWS|whole]`
//! * `cargo run --release -p dh-ingest --example batch_memory -- police-csv OUT ROWS`: a CSV with the columns of
//!   `dh synth`'s police-case workbooks (case number, victim and suspect names, year, offence, ICT involved, victim
//!   sex and age group, status), ROWS rows.
//!
//! A 5,000,000-case `.sav` is written by `make_big_sav.py` beside this file (pyreadstat).

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use dh_config::Delivery;
use dh_config::country::Format;
use dh_ingest::{ColumnSelection, DEFAULT_BATCH_ROWS};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn read(
    file: &str,
    format: &str,
    batch: Option<&String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let format = match format {
        "csv" => Format::Csv,
        "sav" | "zsav" => Format::Sav,
        other => return Err(format!("unknown format `{other}`").into()),
    };
    let delivery = Delivery::new(file, format);
    let path = Path::new(file);
    let keep = ColumnSelection::every_column();
    let reader = dh_ingest::readers::reader_for(format, path)?;
    let start = Instant::now();
    let (mut rows, mut batches, mut largest) = (0usize, 0usize, 0usize);
    let mode = match batch.map(String::as_str) {
        Some("whole") => {
            let table = reader.read(path, &delivery, &keep)?;
            rows = table.num_rows();
            batches = 1;
            largest = rows;
            "whole".to_string()
        }
        other => {
            let size = other
                .map(str::parse)
                .transpose()?
                .unwrap_or(DEFAULT_BATCH_ROWS);
            let mut source = reader.batches(path, &delivery, &keep, size)?;
            while let Some(t) = source.next_batch()? {
                rows += t.num_rows();
                largest = largest.max(t.num_rows());
                batches += 1;
            }
            format!("batches of {size}")
        }
    };
    println!(
        "{{\"file\": \"{file}\", \"mode\": \"{mode}\", \"rows\": {rows}, \"batches\": {batches}, \"largest_batch\": {largest}, \"seconds\": {:.2}, \"peak_rss_mib\": {:.1}}}",
        start.elapsed().as_secs_f64(),
        peak_rss_kib() as f64 / 1024.0
    );
    Ok(())
}

fn police_csv(out: &str, rows: u64) -> Result<(), Box<dyn std::error::Error>> {
    const OFFENCES: [&str; 8] = [
        "Rape of a child",
        "Indecent act against a child",
        "Child prostitution",
        "Child pornography",
        "Grooming",
        "Sextortion",
        "Human trafficking",
        "Other",
    ];
    const STATUS: [&str; 4] = ["Reported", "Under investigation", "Prosecuted", "Closed"];
    const AGES: [&str; 3] = ["0-11", "12-14", "15-17"];
    const SYLLABLES: [&str; 8] = ["Mü", "ne", "Li", "ha", "Zé", "ki", "Ña", "so"];
    let name = |i: u64| -> String {
        (0..4)
            .map(|k| SYLLABLES[((i >> (3 * k)) % 8) as usize])
            .collect::<Vec<_>>()
            .concat()
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    writeln!(
        w,
        "Case No,Victim name,Suspect name,Year,Offence,ICT involved,Victim sex,Victim age group,Status"
    )?;
    for i in 0..rows {
        let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7;
        writeln!(
            w,
            "CR/{:08}/{},{} {},{} {},{},{},{},{},{},{}",
            i + 1,
            2017 + h % 3,
            name(h),
            name(h >> 12),
            name(h >> 24),
            name(h >> 36),
            2017 + h % 3,
            OFFENCES[(h % 8) as usize],
            if h % 5 == 0 { "Yes" } else { "No" },
            if h % 6 == 0 { "M" } else { "F" },
            AGES[(h % 3) as usize],
            STATUS[(h % 4) as usize],
        )?;
    }
    w.flush()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2), args.get(3)) {
        (Some("read"), Some(file), Some(format)) => read(file, format, args.get(4)),
        (Some("police-csv"), Some(out), Some(rows)) => police_csv(out, rows.parse()?),
        _ => Err(
            "usage: batch_memory read FILE csv|sav [BATCH_ROWS|whole] | police-csv OUT ROWS".into(),
        ),
    }
}
