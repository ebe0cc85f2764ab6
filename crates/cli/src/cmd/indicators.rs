//! `dh indicators list` and `dh indicators show ID`: print the indicator catalogue in `pipelines/` after
//! validating it against the harmonised schemas. Invalid catalogues print every problem and exit with 3.

use std::path::PathBuf;
use std::process::ExitCode;

use dh_indicators::Catalogue;

use super::help::{self, EXIT_USAGE};
use super::{EXIT_CONFIG, EXIT_OK};

const INDICATORS_HELP: &str = "Indicators are defined in pipelines/indicators.toml (household survey) and \
pipelines/families.toml (frontline workers, interviews, law enforcement); thresholds are in pipelines/pipeline.toml. Both commands validate the whole catalogue first: every problem is printed with its file, \
line, column and indicator, and the exit code is 3.";

#[derive(clap::Args)]
#[command(after_help = help::sections(&[
    INDICATORS_HELP,
    &help::examples(&[
        "dh indicators list",
        "dh indicators show ocsea_clear_any",
        "dh indicators list --pipelines-dir my-pipelines --schema-dir schemas",
    ]),
    &help::exit_codes(&[
        (EXIT_OK, "printed"),
        (EXIT_USAGE, "usage error (unknown flag or bad value)"),
        (EXIT_CONFIG, "the catalogue is invalid, or no indicator has that id"),
    ]),
]))]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
    /// Folder holding pipeline.toml and the catalogue.
    #[arg(long, value_name = "DIR", default_value = "pipelines", global = true)]
    pub pipelines_dir: PathBuf,
    /// Harmonised table schemas.
    #[arg(long, value_name = "DIR", default_value = "schemas", global = true)]
    pub schema_dir: PathBuf,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// One line per indicator: id, label, source table, statistic.
    List,
    /// The full definition of one indicator.
    Show {
        /// Indicator id, as printed by `dh indicators list`.
        id: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let schemas = match dh_config::load_schemas(&args.schema_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let catalogue = match dh_indicators::load(&args.pipelines_dir, &schemas) {
        Ok((_, c)) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    match args.command {
        Sub::List => print!("{}", list_table(&catalogue)),
        Sub::Show { id } => {
            let family = catalogue.families.indicators.iter().find(|i| i.id == id);
            match (catalogue.get(&id), family) {
                (Some(ind), _) => print!("{ind}"),
                (None, Some(ind)) => print!("{ind}"),
                (None, None) => {
                    eprintln!(
                        "error: no indicator `{id}` in {} or {}; `dh indicators list` shows the ids",
                        catalogue.file.display(),
                        catalogue.families.file.display()
                    );
                    return Ok(ExitCode::from(EXIT_CONFIG));
                }
            }
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// The `list` table: aligned columns id, table, statistic, label (label last so long labels do not break it).
fn list_table(catalogue: &Catalogue) -> String {
    let header = ("id", "table", "statistic", "label");
    let survey = catalogue.indicators.iter().map(|i| {
        (
            i.id.as_str(),
            i.table.as_str(),
            i.statistic.name(),
            i.label.as_str(),
        )
    });
    let families = catalogue.families.indicators.iter().map(|i| {
        (
            i.id.as_str(),
            i.table.as_str(),
            i.statistic.name(),
            i.label.as_str(),
        )
    });
    let rows: Vec<(&str, &str, &str, &str)> = survey.chain(families).collect();
    let w_id = rows
        .iter()
        .map(|r| r.0.len())
        .chain([header.0.len()])
        .max()
        .unwrap_or(0);
    let w_table = rows
        .iter()
        .map(|r| r.1.len())
        .chain([header.1.len()])
        .max()
        .unwrap_or(0);
    let w_stat = rows
        .iter()
        .map(|r| r.2.len())
        .chain([header.2.len()])
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (id, table, stat, label) in std::iter::once(header).chain(rows) {
        out.push_str(&format!(
            "{id:<w_id$}  {table:<w_table$}  {stat:<w_stat$}  {label}\n"
        ));
    }
    out.push_str(&format!(
        "{} indicators in {}",
        catalogue.indicators.len(),
        catalogue.file.display()
    ));
    if !catalogue.families.indicators.is_empty() {
        out.push_str(&format!(
            ", {} in {}",
            catalogue.families.indicators.len(),
            catalogue.families.file.display()
        ));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn list_has_a_header_a_row_per_indicator_and_a_count() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let schemas =
            dh_config::load_schemas(&root.join("schemas")).unwrap_or_else(|e| panic!("{e}"));
        let (_, catalogue) = dh_indicators::load(&root.join("pipelines"), &schemas)
            .unwrap_or_else(|e| panic!("{e}"));
        let text = list_table(&catalogue);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            catalogue.indicators.len() + catalogue.families.indicators.len() + 2
        );
        assert!(lines.iter().any(|l| l.starts_with("fw_barrier_stigma ")));
        assert!(lines[0].starts_with("id "), "{}", lines[0]);
        let headline = lines
            .iter()
            .find(|l| l.starts_with("ocsea_clear_any "))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            headline.contains("child_survey") && headline.contains("proportion"),
            "{headline}"
        );
        // Columns are aligned: `table` starts at the same offset in every row, after a space.
        let at = lines[0].find("table").unwrap_or(0);
        let tables: Vec<&str> = catalogue
            .indicators
            .iter()
            .map(|i| i.table.as_str())
            .chain(
                catalogue
                    .families
                    .indicators
                    .iter()
                    .map(|i| i.table.as_str()),
            )
            .collect();
        for (line, table) in lines[1..lines.len() - 1].iter().zip(&tables) {
            assert!(line[at..].starts_with(table), "{line}");
            assert_eq!(&line[at - 1..at], " ", "{line}");
        }
    }
}
