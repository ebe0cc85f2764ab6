//! `dh synth`: parses flags and calls [`dh_synth::synth_to_dir`]; all logic lives in the `dh-synth` crate.

use std::path::PathBuf;
use std::process::ExitCode;

use dh_config::country::Format;
use dh_synth::SynthError;

use super::help::{self, EXIT_USAGE, ExitRow};
use super::quiet::Quiet;
use super::{EXIT_CONFIG, EXIT_INTERNAL, EXIT_IO, EXIT_OK};

const SYNTH_EXIT_CODES: &[ExitRow] = &[
    (EXIT_OK, "deliveries, truth.json and injected.json written"),
    (EXIT_USAGE, "usage error (unknown flag or bad value)"),
    (
        EXIT_CONFIG,
        "a country configuration, schema or [synth] setting is invalid, or an unknown country",
    ),
    (EXIT_INTERNAL, "internal error (a bug)"),
    (EXIT_IO, "I/O error: the output folder cannot be written"),
];

#[derive(clap::Args)]
#[command(after_help = help::sections(&[
    &help::examples(&[
        "dh synth --out data",
        "dh synth --out /tmp/raw --countries THA,KEN --seed 7",
        "dh synth --out /tmp/big --scale 100     # ~100,000 children per country",
        "dh synth --out /tmp/m --countries THA --tables police_cases \\",
        "      --rows 10000000 --format csv",
    ]),
    &help::exit_codes(SYNTH_EXIT_CODES),
]))]
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
    /// Tables to write with `--rows` rows (harmonised names, comma-separated, e.g. police_cases,child_survey);
    /// the country's other deliveries are written as usual. Rows after the rendered ones repeat them, with the
    /// table's unique ids suffixed `-<copy>`; files are streamed, so memory does not grow with the rows.
    #[arg(
        long,
        value_delimiter = ',',
        requires = "rows",
        value_name = "TABLE,..."
    )]
    pub tables: Vec<String>,
    /// Data rows of each table named by `--tables`.
    #[arg(long, requires = "tables", value_name = "N")]
    pub rows: Option<u64>,
    /// File format of the tables named by `--tables` instead of the configured one (the file name takes its
    /// extension); OUT/config/ then holds the configuration that reads them: pass `--config-dir OUT/config`
    /// to `dh run`. Only CSV and .sav files can be resized.
    #[arg(long, requires = "tables", value_enum)]
    pub format: Option<ResizeFormat>,
    /// Folder of country configurations.
    #[arg(long, default_value = "countries")]
    pub config_dir: PathBuf,
    /// Folder of harmonised table schemas.
    #[arg(long, default_value = "schemas")]
    pub schema_dir: PathBuf,
    #[command(flatten)]
    pub quiet: Quiet,
}

/// The formats a resized table can be written in.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ResizeFormat {
    Csv,
    Sav,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let resize = args.rows.map(|rows| dh_synth::Resize {
        tables: args.tables.clone(),
        rows,
        format: args.format.map(|f| match f {
            ResizeFormat::Csv => Format::Csv,
            ResizeFormat::Sav => Format::Sav,
        }),
    });
    let options = dh_synth::SynthOptions {
        seed: args.seed,
        scale: args.scale,
        countries: args.countries,
    };
    let summary = match dh_synth::synth_to_dir_resized(
        &args.config_dir,
        &args.schema_dir,
        &args.out,
        &options,
        resize.as_ref(),
    ) {
        Ok(summary) => summary,
        Err(err) => {
            eprintln!("error: dh synth into {}: {err}", args.out.display());
            return Ok(ExitCode::from(exit_code(&err)));
        }
    };
    if args.quiet.is_set() {
        return Ok(ExitCode::from(EXIT_OK));
    }
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
    if let Some(dir) = &summary.config_dir {
        println!(
            "configuration reading the resized files: {} (dh run --config-dir {})",
            dir.display(),
            dir.display()
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// The exit code of a failed `dh synth`: writing is I/O, serialising or encoding the generated data a bug, the
/// rest a configuration problem.
fn exit_code(err: &SynthError) -> u8 {
    match err {
        SynthError::Io { .. } => EXIT_IO,
        SynthError::Json { .. } | SynthError::Format { .. } | SynthError::Encoding { .. } => {
            EXIT_INTERNAL
        }
        _ => EXIT_CONFIG,
    }
}
