//! `dh synth`: parses flags and calls [`dh_synth::synth_to_dir`]; all logic lives in the `dh-synth` crate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  dh synth --out data\n  dh synth --out /tmp/raw --countries THA,KEN --seed 7\n  \
dh synth --out /tmp/big --scale 100     # ~100,000 children per country"
)]
pub struct Args {
    /// Folder to write `<ISO3>/<delivery files>`, `truth.json` and `injected.json` into.
    #[arg(long)]
    pub out: PathBuf,
    /// Countries to synthesise (ISO3, comma-separated); all configured countries when absent.
    #[arg(long, value_delimiter = ',')]
    pub countries: Vec<String>,
    /// Seed of every random draw; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Sample size multiplier (1 = ~1,000 children per country, 100 = ~100,000).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Folder of country configurations.
    #[arg(long, default_value = "countries")]
    pub config_dir: PathBuf,
    /// Folder of harmonised table schemas.
    #[arg(long, default_value = "schemas")]
    pub schema_dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let options = dh_synth::SynthOptions {
        seed: args.seed,
        scale: args.scale,
        countries: args.countries,
    };
    let summary = dh_synth::synth_to_dir(&args.config_dir, &args.schema_dir, &args.out, &options)
        .with_context(|| format!("dh synth into {}", args.out.display()))?;
    for c in &summary.countries {
        println!(
            "{}: {} children sampled from a population of {}, {} planted problems, {} files",
            c.iso3,
            c.sampled_children,
            c.population_size,
            c.injected_problems,
            c.files.len()
        );
    }
    println!(
        "truth: {}\ninjected: {}",
        summary.truth_file.display(),
        summary.injected_file.display()
    );
    Ok(ExitCode::SUCCESS)
}
