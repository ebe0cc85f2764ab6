//! Times each phase of one country (simulate, truth, sample, write):
//! `cargo run --release -p dh-synth --example synth_phases -- ISO3 SCALE OUT_DIR` from the repository root.

use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let iso3 = args
        .get(1)
        .ok_or("usage: synth_phases ISO3 SCALE OUT_DIR")?;
    let scale: f64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1.0);
    let out = args
        .get(3)
        .ok_or("usage: synth_phases ISO3 SCALE OUT_DIR")?;
    let schemas = dh_config::load_schemas(Path::new("schemas"))?;
    let config = dh_config::load_country(Path::new("countries"), iso3)?;
    let t = Instant::now();
    let population = dh_synth::SynthPopulation::simulate(&config, &schemas, 1, scale)?;
    let t_sim = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let truth = population.truth();
    let t_truth = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let sample = population.draw_sample(1, scale)?;
    let t_sample = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let problems = dh_synth::write_deliveries(&sample, &config, &Path::new(out).join(iso3))?;
    let t_write = t.elapsed().as_secs_f64();
    println!(
        "{iso3} scale {scale}: population {} (truth {}), sample {}, {} problems; simulate {t_sim:.3} s, truth {t_truth:.3} s, \
         sample {t_sample:.3} s, write {t_write:.3} s",
        population.population_size(),
        truth.population_size,
        sample.respondents.len(),
        problems.len()
    );
    Ok(())
}
