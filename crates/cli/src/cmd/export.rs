//! `dh export`: the harmonised tables of a run as Stata `.dta` and SPSS `.sav` files. The work is
//! `dh_export::export`; this module owns the flags, the summary line and the exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use dh_export::{ExportError, Format, Request, SavCompression};

use super::help::{self, EXIT_USAGE, ExitRow};
use super::quiet::Quiet;
use super::{EXIT_CONFIG, EXIT_DATA, EXIT_IO, EXIT_OK};

const EXPORT_HELP: &str = "Reads OUT/normalised/<table>/country=<ISO3>/part-0.parquet of an earlier `dh run` \
(nothing is recomputed) and writes DIR/<table>.dta (Stata 14+, format 118, UTF-8) and/or DIR/<table>.sav (SPSS), one \
file per table with every country and a first column `country`. Categorical columns hold the codebook's numeric \
codes with value labels; the labelled missing codes are Stata's .a (dont_know), .b (refused), .c (not_applicable), \
.d (not_collected) and SPSS user-missing -1..-4; variable labels are the schema titles; dates are dates. Names longer \
than 32 characters get a stable short name (see `dh codebook`). Files are written atomically with owner-only \
permissions (--microdata-mode); the same run gives the same bytes.";

const EXPORT_EXAMPLES: &[&str] = &[
    "dh export --format dta --out-dir export",
    "dh export --format dta,sav --from out --tables child_survey \\",
    "      --countries KEN,THA --out-dir export",
    "dh export --format sav --sav-compression zlib --out-dir export",
];

const EXPORT_EXIT_CODES: &[ExitRow] = &[
    (EXIT_OK, "files written"),
    (EXIT_USAGE, "usage error (unknown flag or bad value)"),
    (
        EXIT_CONFIG,
        "not a dh run output folder, unknown table or country, unreadable schemas",
    ),
    (
        EXIT_DATA,
        "a normalised file does not match its schema or cannot be read",
    ),
    (EXIT_IO, "I/O error writing the files"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Dta,
    Sav,
}

impl FormatArg {
    pub fn format(self) -> Format {
        match self {
            FormatArg::Dta => Format::Dta,
            FormatArg::Sav => Format::Sav,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CompressionArg {
    /// Run-length bytecode (SPSS's default; every SPSS version).
    Bytecode,
    /// Zlib blocks (smaller; SPSS 21 and later, pyreadstat, haven).
    Zlib,
    /// Uncompressed.
    None,
}

#[derive(clap::Args)]
#[command(after_help = help::sections(&[
    EXPORT_HELP,
    &help::examples(EXPORT_EXAMPLES),
    &help::exit_codes(EXPORT_EXIT_CODES),
]))]
pub struct Args {
    /// Output format(s): dta, sav or dta,sav.
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    pub format: Vec<FormatArg>,
    /// Output folder of an earlier `dh run`.
    #[arg(long, value_name = "OUT", default_value = "out")]
    pub from: PathBuf,
    /// Tables to export (comma-separated); default: every table of the run.
    #[arg(long, value_name = "T1,T2", value_delimiter = ',')]
    pub tables: Option<Vec<String>>,
    /// Countries to include (comma-separated ISO3 codes); default: all.
    #[arg(long, value_name = "ISO3,...", value_delimiter = ',')]
    pub countries: Option<Vec<String>>,
    /// Folder the files are written to (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Harmonised table schemas (`<table>.json`) the run used.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub schema_dir: PathBuf,
    /// Compression of the .sav files.
    #[arg(long, value_enum, default_value = "bytecode")]
    pub sav_compression: CompressionArg,
    /// Permissions (octal) of the folder created; files get the same bits without execute. Default 700: owner only.
    #[arg(long, value_name = "OCTAL", default_value = "700", value_parser = super::run::parse_mode)]
    pub microdata_mode: u32,
    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let schemas = match dh_config::load_schemas(&args.schema_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let mut formats: Vec<Format> = args.format.iter().map(|f| f.format()).collect();
    formats.sort();
    formats.dedup();
    let list = |v: Option<Vec<String>>| {
        v.map(|v| {
            v.into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        })
    };
    let request = Request {
        from: &args.from,
        schemas: &schemas,
        tables: list(args.tables),
        countries: list(args.countries)
            .map(|v| v.into_iter().map(|c| c.to_ascii_uppercase()).collect()),
        formats,
        sav_compression: match args.sav_compression {
            CompressionArg::Bytecode => SavCompression::Bytecode,
            CompressionArg::Zlib => SavCompression::Zlib,
            CompressionArg::None => SavCompression::None,
        },
        out_dir: &args.out_dir,
        file_mode: args.microdata_mode & 0o666,
    };
    match dh_export::export(&request) {
        Ok(written) => {
            if !args.quiet.is_set() {
                for w in &written {
                    println!(
                        "{}: {} rows, {} variables",
                        w.path.display(),
                        w.rows,
                        w.columns
                    );
                }
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(e) => {
            eprintln!("{}", super::advice::line(&e, super::advice::export(&e)));
            let code = match &e {
                e if e.is_usage() => EXIT_CONFIG,
                ExportError::Io { .. } => EXIT_IO,
                _ => EXIT_DATA,
            };
            Ok(ExitCode::from(code))
        }
    }
}
