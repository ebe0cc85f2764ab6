//! Times `dh_synth::synth_to_dir` (what `dh synth` runs) for every shipped country:
//! `cargo run --release -p dh-synth --example synth_all -- OUT_DIR SCALE [SEED]` from the repository root.

use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).ok_or("usage: synth_all OUT_DIR SCALE [SEED]")?;
    let scale: f64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1.0);
    let seed: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(1);
    let options = dh_synth::SynthOptions {
        seed,
        scale,
        countries: Vec::new(),
    };
    let start = Instant::now();
    let summary = dh_synth::synth_to_dir(
        Path::new("countries"),
        Path::new("schemas"),
        Path::new(out),
        &options,
    )?;
    let children: usize = summary.countries.iter().map(|c| c.sampled_children).sum();
    let population: usize = summary.countries.iter().map(|c| c.population_size).sum();
    println!(
        "{} countries, scale {scale}: {children} children sampled from {population} simulated, {:.3} s",
        summary.countries.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
