//! `dh-onboard`: country onboarding (`dh country new`). [`skeleton`] reads every delivery file of a new country's
//! folder (the extensions of `dh_config::country::Format::EXTENSIONS`, `.zsav` included), guesses the harmonised
//! table of each and writes a config skeleton holding only what differs from `_defaults.toml`:
//!
//! - **Layout** ([`sniff`], [`layout`]): for CSV the encoding (BOM, UTF-16 by NUL pattern, UTF-8 checked for
//!   double encoding, else code pages scored on the decoded text; a `# TODO encoding` line names the fits when none
//!   clearly wins), delimiter and line ending; for CSV and `.xlsx` the `header_row` below title or cover rows and
//!   the `skip_rows` of label rows under it; for `.xlsx` every sheet with its size and the `sheet` whose header names
//!   most harmonised columns.
//! - **Listing** ([`listing::variable_listing`]): every variable as a comment with its type, variable label (question
//!   text, cut to [`listing::MAX_LABEL_CHARS`]), up to [`inspect::MAX_LISTED_VALUES`] distinct values, value labels,
//!   declared missing codes and ranges (`97 THRU 99`, `LO THRU 0`) and date layout.
//! - **Proposals** ([`propose`]): a harmonised column is fed by the variable whose name matches the defaults' source,
//!   the column's name or title or a synonym of [`matching::SYNONYMS`] (agency names such as `SBJNUM`, `HH_NO`,
//!   `CLUSTER_NO`, `STRATA`, `WT`, `URBRUR`, `GOV`), else whose variable label does ("variable label"), else the one
//!   variable whose value labels name every category of a column no other column shares ("value labels"). With it
//!   come `codes` and `missing` from value labels and values, `value = "label"` for text columns without categories
//!   fed by labelled codes, and `date_format` for date columns whose values read `DD/MM/YYYY`, `MM/DD/YYYY`
//!   (decided by a number above 12, else a TODO), `DD.MM.YYYY`, `YYYY/MM/DD` or `YYYYMMDD`. Everything else is a
//!   `# TODO` line. A table the defaults deliver but no file feeds gets a TODO with `delivered = false` lines to
//!   uncomment.
//!
//! **Safety of the text**: every delivered text (names, values, labels, sheet and file names) goes through
//! [`toml_text::string`] or [`toml_text::comment`], so the skeleton always parses and keys are only harmonised names
//! from the schemas. **Privacy**: values are never listed for likely direct identifiers (names, phones, GPS, notes),
//! variables a key column would read (ids) or free text, and value labels of identifiers are counted, not listed;
//! encoding notes name counts and encodings, never text.
//!
//! Other modules:
//!
//! - `dates`: Date layouts of a variable's text values, for proposing a column's `date_format`: ISO `YYYY-MM-DD`
//!   (needs none), `DD/MM/YYYY` or `MM/DD/YYYY` (told apart by a number above 12, else ambiguous), with `/`, `.` or
//!   `-` between, `YYYY/MM/DD`, `YYYY.MM.DD` and `YYYYMMDD`
//! - `skeleton_tests`: Tests of whole skeletons: hostile delivered text always gives a parseable file whose keys
//!   come from the schemas (a seeded property test), real CSV and `.xlsx` files with title, cover and label rows,
//!   code pages, `.zsav` discovery, and what the skeleton must never carry (identifier and free-text values,
//!   identifier labels)
//! - `test_support`: Shared test fixtures: the repository's schemas and defaults, and hand-built variables and
//!   `.sav` files

pub mod dates;
pub mod inspect;
pub mod layout;
pub mod listing;
pub mod matching;
pub mod propose;
pub mod sniff;
pub mod toml_text;

#[cfg(test)]
mod skeleton_tests;
#[cfg(test)]
mod test_support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dh_config::SchemaSet;

pub use inspect::{InspectedFile, VariableProfile};
pub use propose::{TableProposal, propose_table};

#[derive(Debug, thiserror::Error)]
pub enum OnboardError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a delivery file name (expected one of {})", extensions())]
    FileName { path: PathBuf },
    #[error("{dir}: no delivery files ({}) found", extensions())]
    NoFiles { dir: PathBuf },
    #[error("{path}: cannot read the defaults: {message}")]
    Defaults { path: PathBuf, message: String },
    /// The configuration file exists and `force` was not set.
    #[error("{path} already exists")]
    Exists { path: PathBuf },
    #[error("`{iso3}` is not an ISO 3166-1 alpha-3 code (three letters A-Z)")]
    BadIso3 { iso3: String },
    #[error(transparent)]
    Ingest(#[from] dh_ingest::IngestError),
    #[error(transparent)]
    Config(#[from] dh_config::ConfigError),
}

/// The delivery file extensions, `.csv, .tsv, ...`, for messages.
fn extensions() -> String {
    let list: Vec<String> = dh_config::country::Format::EXTENSIONS
        .iter()
        .map(|(e, _)| format!(".{e}"))
        .collect();
    list.join(", ")
}

/// What to onboard and where.
#[derive(Debug, Clone)]
pub struct OnboardOptions {
    pub iso3: String,
    pub delivery_dir: PathBuf,
    pub config_dir: PathBuf,
    pub schema_dir: PathBuf,
    pub force: bool,
}

/// The written skeleton and a summary for the terminal.
#[derive(Debug, Clone)]
pub struct Onboarded {
    pub path: PathBuf,
    pub text: String,
    pub proposed: usize,
    pub todo: usize,
    pub tables: Vec<(String, String)>,
}

/// Builds the skeleton text for `opts` and writes it to `<config_dir>/<ISO3>.toml` (refusing to overwrite without
/// `force`).
pub fn onboard(opts: &OnboardOptions) -> Result<Onboarded, OnboardError> {
    let iso3 = opts.iso3.trim().to_ascii_uppercase();
    if iso3.len() != 3 || !iso3.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(OnboardError::BadIso3 {
            iso3: opts.iso3.clone(),
        });
    }
    let path = opts.config_dir.join(format!("{iso3}.toml"));
    if path.exists() && !opts.force {
        return Err(OnboardError::Exists { path });
    }
    let defaults_path = opts.config_dir.join(dh_config::country::DEFAULTS_FILE);
    let defaults_text =
        std::fs::read_to_string(&defaults_path).map_err(|source| OnboardError::Io {
            path: defaults_path.clone(),
            source,
        })?;
    let defaults: toml::Table =
        toml::from_str(&defaults_text).map_err(|e| OnboardError::Defaults {
            path: defaults_path.clone(),
            message: e.to_string(),
        })?;
    let schemas = dh_config::load_schemas(&opts.schema_dir)?;
    let mut out = skeleton(&iso3, &opts.delivery_dir, &schemas, &defaults)?;
    std::fs::write(&path, &out.text).map_err(|source| OnboardError::Io {
        path: path.clone(),
        source,
    })?;
    out.path = path;
    Ok(out)
}

/// The skeleton text for a country from its delivery folder, the schemas and the parsed defaults.
pub fn skeleton(
    iso3: &str,
    delivery_dir: &Path,
    schemas: &SchemaSet,
    defaults: &toml::Table,
) -> Result<Onboarded, OnboardError> {
    let files = inspect::delivery_files(delivery_dir)?;
    if files.is_empty() {
        return Err(OnboardError::NoFiles {
            dir: delivery_dir.to_path_buf(),
        });
    }
    let mut inspected = Vec::new();
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let table = propose::guess_table_by_name(name, schemas);
        let sheet = table
            .as_deref()
            .and_then(|t| propose::default_str(defaults, &[t, "sheet"]));
        let known = matching::known_names(schemas, defaults, table.as_deref());
        let is_known = |cell: &str| known.contains(&inspect::normalise(cell));
        inspected.push(inspect::inspect_file(path, sheet.as_deref(), &is_known)?);
    }
    Ok(skeleton_text(
        iso3,
        &delivery_dir.display().to_string(),
        &inspected,
        schemas,
        defaults,
    ))
}

/// The skeleton for already inspected files (`from` is the delivery folder as the header comment names it). Every
/// delivered text is escaped by [`toml_text`]; the only keys are harmonised names from the schemas.
pub fn skeleton_text(
    iso3_raw: &str,
    from: &str,
    inspected: &[InspectedFile],
    schemas: &SchemaSet,
    defaults: &toml::Table,
) -> Onboarded {
    let mut text = String::new();
    let iso3_comment = toml_text::comment(iso3_raw);
    let iso3 = iso3_comment.as_str();
    let _ = writeln!(
        text,
        "# {iso3}: Disrupting Harm configuration skeleton written by `dh country new {iso3} --from {}`.\n\
         # Merged over _defaults.toml: this file holds only what differs. Lines marked TODO need a decision;\n\
         # `dh validate --countries {iso3}` lists what is still missing. Proposals (\"proposed:\") are guesses from\n\
         # names and labels: check each one against the questionnaire.\n",
        toml_text::comment(from)
    );
    let _ = writeln!(
        text,
        "[country]\niso3 = {}\n# TODO name = \"...\"\n# TODO region = \"...\"\n\
         # TODO fieldwork_start = \"YYYY-MM-DD\"\n# TODO fieldwork_end = \"YYYY-MM-DD\"\n\
         # TODO report_launch = \"YYYY-MM-DD\"\n\n\
         # TODO [population]: source, population_12_17, internet_share and one cell per sex x age_band x urban_rural\n\
         # (12 cells) adding up to population_12_17 x internet_share; see countries/README.md.\n",
        toml_text::string(iso3_raw)
    );
    let mut used_tables: Vec<String> = Vec::new();
    let (mut proposed, mut todo) = (0, 0);
    let mut tables = Vec::new();
    for file in inspected {
        let guess = propose::guess_table(file, schemas, defaults);
        let file_name = toml_text::comment(&file.file_name);
        match guess {
            Some((table, reason)) if !used_tables.contains(&table) => {
                let Some(schema) = schemas.get(&table) else {
                    continue;
                };
                let p = propose_table(file, schema, defaults);
                proposed += p.proposed;
                todo += p.todo;
                let _ = writeln!(text, "# ---- {file_name} -> {table} ({reason}) ----");
                text.push_str(&p.text);
                tables.push((file.file_name.clone(), table.clone()));
                used_tables.push(table);
            }
            other => {
                todo += 1;
                let why = match other {
                    Some((t, _)) => format!(
                        "another file was already taken as {t}; if this is another file of the same table (e.g. one \
                         file per organisation), list both as [[deliveries.{t}.parts]], see countries/README.md"
                    ),
                    None => "no file name hint and no column matches a harmonised table".into(),
                };
                let _ = writeln!(
                    text,
                    "# TODO {file_name}: which harmonised table is this? ({why}). Variables:"
                );
                let keys = matching::key_variables(file, schemas.tables.values(), defaults);
                text.push_str(&listing::variable_listing(file, &keys));
                text.push('\n');
            }
        }
    }
    let undelivered: Vec<&String> = schemas
        .tables
        .keys()
        .filter(|t| !used_tables.contains(t))
        .filter(|t| propose::default_str(defaults, &[t.as_str(), "file"]).is_some())
        .collect();
    if !undelivered.is_empty() {
        todo += undelivered.len();
        text.push_str(
            "# TODO no delivery file was found for the tables below. For each one the country did not deliver, \
             uncomment its two\n# lines (its indicators become `not_collected`); otherwise add the file to the \
             folder and run `dh country new` again.\n",
        );
        for t in undelivered {
            let _ = writeln!(text, "# [deliveries.{t}]\n# delivered = false");
        }
    }
    Onboarded {
        path: PathBuf::new(),
        text,
        proposed,
        todo,
        tables,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
    }

    #[test]
    fn skeleton_of_a_semicolon_csv_loads_and_refuses_overwrite() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let delivery = tmp.path().join("ARM");
        std::fs::create_dir_all(&delivery).expect("mkdir");
        std::fs::write(
            delivery.join("arm_child.csv"),
            "ID;GENDER;Resp Name;Q1\r\n1;1;Anna Petrosyan;2\r\n2;2;Aram Sargsyan;1\r\n",
        )
        .expect("write");
        std::fs::write(delivery.join("readme.pdf"), "not a delivery").expect("write");
        let config = tmp.path().join("countries");
        std::fs::create_dir_all(&config).expect("mkdir");
        std::fs::copy(
            repo().join("countries/_defaults.toml"),
            config.join("_defaults.toml"),
        )
        .expect("copy");
        let opts = OnboardOptions {
            iso3: "arm".into(),
            delivery_dir: delivery.clone(),
            config_dir: config.clone(),
            schema_dir: repo().join("schemas"),
            force: false,
        };
        let done = onboard(&opts).expect("onboard");
        let text = &done.text;
        assert_eq!(
            done.tables,
            vec![("arm_child.csv".to_string(), "child_survey".to_string())]
        );
        assert!(text.contains("delimiter = \";\""), "{text}");
        assert!(text.contains("line_ending = \"crlf\""), "{text}");
        assert!(
            text.contains("respondent_id = { source = \"ID\" }"),
            "{text}"
        );
        assert!(text.contains("sex = { source = \"GENDER\" }"), "{text}");
        assert!(text.contains("identifiers = [\"Resp Name\"]"), "{text}");
        assert!(text.contains("# TODO internet_use_frequency = "), "{text}");
        assert!(
            !text.contains("Petrosyan") && !text.contains("readme"),
            "{text}"
        );
        let parsed: toml::Table = toml::from_str(text).expect("skeleton is TOML");
        assert_eq!(parsed["country"]["iso3"].as_str(), Some("ARM"));
        assert_eq!(
            std::fs::read_to_string(config.join("ARM.toml")).expect("read"),
            *text
        );
        let again = onboard(&opts).unwrap_err();
        assert!(matches!(again, OnboardError::Exists { .. }), "{again}");
        assert!(
            onboard(&OnboardOptions {
                force: true,
                ..opts.clone()
            })
            .is_ok()
        );
        let bad = onboard(&OnboardOptions {
            iso3: "ARME".into(),
            ..opts
        })
        .unwrap_err();
        assert!(matches!(bad, OnboardError::BadIso3 { .. }), "{bad}");
    }
}
