//! `dh country new ISO3 --from DIR`: writes `<config-dir>/<ISO3>.toml`, a configuration skeleton built by
//! [`dh_onboard`] from the country's delivery files, and says what it guessed and what is left to do.

use std::path::PathBuf;
use std::process::ExitCode;

use super::help::{self, EXIT_USAGE, ExitRow};
use super::quiet::Quiet;
use super::{EXIT_CONFIG, EXIT_DATA, EXIT_OK};

const COUNTRY_HELP: &str = "Reads every delivery file (.csv, .tsv, .txt, .sav, .zsav, .dta, .xlsx) in DIR, guesses \
which harmonised table each holds, lists its variables (type, question text, a few distinct values, value labels, \
declared missing codes and ranges; never the values of likely identifiers, ids or free text) as comments, proposes \
mappings where a source name, variable label or set of value labels matches a harmonised column (with codes, \
missing codes, `value = \"label\"` and `date_format` where the file shows them), and marks the rest `# TODO`. For \
CSV it proposes the encoding (scoring code pages such as windows-1256, windows-874, windows-1251 on the text; a \
TODO names the fits when none clearly wins), delimiter, header row and label rows; for .xlsx it lists every sheet, \
picks the one holding the data and proposes `sheet`, `header_row` and `skip_rows`. Every delivered text is escaped, \
so the file always parses. It holds only what differs from _defaults.toml. Then run `dh validate --countries ISO3` \
to list what is left.";

const COUNTRY_EXAMPLES: &[&str] = &[
    "dh country new ARM --from /secure/deliveries/ARM",
    "dh validate --countries ARM --raw-dir /secure/deliveries",
];

const COUNTRY_EXIT_CODES: &[ExitRow] = &[
    (EXIT_OK, "skeleton written"),
    (EXIT_USAGE, "usage error (unknown flag or bad value)"),
    (
        EXIT_CONFIG,
        "the file exists (use --force), a bad ISO3 code, or an unreadable configuration or schema",
    ),
    (EXIT_DATA, "a delivery file cannot be read"),
];

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Write a configuration skeleton for a new country from its delivery folder.
    #[command(after_help = help::sections(&[
        COUNTRY_HELP,
        &help::examples(COUNTRY_EXAMPLES),
        &help::exit_codes(COUNTRY_EXIT_CODES),
    ]))]
    New(NewArgs),
}

#[derive(clap::Args)]
pub struct NewArgs {
    /// ISO 3166-1 alpha-3 code of the new country (e.g. ARM).
    pub iso3: String,
    /// Folder holding the country's delivery files.
    #[arg(long = "from", value_name = "DELIVERY_DIR")]
    pub from: PathBuf,
    /// Country configurations (the skeleton is written here as ISO3.toml).
    #[arg(long, value_name = "DIR", default_value = "countries")]
    pub config_dir: PathBuf,
    /// Harmonised table schemas.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub schema_dir: PathBuf,
    /// Overwrite an existing country file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Action::New(a) = args.action;
    let opts = dh_onboard::OnboardOptions {
        iso3: a.iso3.clone(),
        delivery_dir: a.from,
        config_dir: a.config_dir,
        schema_dir: a.schema_dir,
        force: a.force,
    };
    match dh_onboard::onboard(&opts) {
        Ok(_) if a.quiet.is_set() => Ok(ExitCode::from(EXIT_OK)),
        Ok(done) => {
            for (file, table) in &done.tables {
                println!("{file} -> {table}");
            }
            println!(
                "wrote {}: {} proposed mappings, {} TODO items; next: dh validate --countries {}",
                done.path.display(),
                done.proposed,
                done.todo,
                a.iso3.to_ascii_uppercase()
            );
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(err @ dh_onboard::OnboardError::Ingest(_)) => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(EXIT_DATA))
        }
        Err(err) => {
            eprintln!(
                "{}",
                super::advice::line(&err, super::advice::country_new(&err))
            );
            Ok(ExitCode::from(EXIT_CONFIG))
        }
    }
}
