//! One test per kind of configuration problem: each writes a broken copy of the shipped Thailand config (or the
//! defaults) to a temporary folder and checks the diagnostic's file, line, key and message.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::ConfigError;
use crate::schema::{SchemaSet, load_schemas};
use crate::validate::validate_country;
use crate::{CountryConfig, load_country};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schemas() -> SchemaSet {
    load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"))
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(repo().join("countries").join(name)).unwrap()
}

/// A temp folder with `_defaults.toml` and `THA.toml`, each edited by a closure.
struct Fixture {
    dir: tempfile::TempDir,
    defaults: String,
    country: String,
}

impl Fixture {
    fn new(
        edit_defaults: impl FnOnce(String) -> String,
        edit_country: impl FnOnce(String) -> String,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let defaults = edit_defaults(shipped("_defaults.toml"));
        let country = edit_country(shipped("THA.toml"));
        std::fs::write(dir.path().join("_defaults.toml"), &defaults).unwrap();
        std::fs::write(dir.path().join("THA.toml"), &country).unwrap();
        Fixture {
            dir,
            defaults,
            country,
        }
    }

    fn country(edit: impl FnOnce(String) -> String) -> Self {
        Fixture::new(|d| d, edit)
    }

    fn country_path(&self) -> PathBuf {
        self.dir.path().join("THA.toml")
    }

    fn defaults_path(&self) -> PathBuf {
        self.dir.path().join("_defaults.toml")
    }

    fn load(&self) -> Result<CountryConfig, ConfigError> {
        load_country(self.dir.path(), "THA")
    }

    /// Diagnostics from loading, or from validating when loading succeeds.
    fn diagnostics(&self) -> Vec<Diagnostic> {
        match self.load() {
            Ok(c) => validate_country(&c, &schemas()),
            Err(e) => e.diagnostics(),
        }
    }

    /// 1-based line of the first line of the country file containing `needle`.
    fn country_line(&self, needle: &str) -> usize {
        line_containing(&self.country, needle)
    }

    fn defaults_line(&self, needle: &str) -> usize {
        line_containing(&self.defaults, needle)
    }
}

fn line_containing(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("`{needle}` not in text"))
}

/// Asserts exactly one error whose message contains `needle`, at `file`:`line` and `key`.
fn expect_one(diags: &[Diagnostic], file: &Path, line: usize, key: &str, needle: &str) {
    let hits: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.message.contains(needle))
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one diagnostic containing `{needle}`, got:\n{diags:#?}"
    );
    let d = hits[0];
    assert_eq!(d.severity, Severity::Error, "{d}");
    assert_eq!(
        (d.file.as_path(), d.line, d.key.as_str()),
        (file, line, key),
        "{d}"
    );
}

fn replace_once(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "fixture text lacks `{from}`");
    text.replacen(from, to, 1)
}

#[test]
fn shipped_thailand_is_clean() {
    let f = Fixture::country(|c| c);
    assert_eq!(f.diagnostics(), vec![]);
}

#[test]
fn every_shipped_config_validates_clean() {
    let dir = repo().join("countries");
    let set = schemas();
    let codes = crate::country::list_countries(&dir).unwrap();
    // Every shipped country file, whatever their number (a 14th committed config is checked too).
    assert!(!codes.is_empty(), "no country files in {}", dir.display());
    for iso3 in codes {
        let config = load_country(&dir, &iso3).unwrap_or_else(|e| panic!("{iso3}:\n{e}"));
        let diags = validate_country(&config, &set);
        assert!(
            diags.is_empty(),
            "{iso3}:\n{}",
            crate::diagnostic::render(&diags)
        );
    }
}

#[test]
fn unknown_keys_are_all_reported_with_lines() {
    let f = Fixture::country(|c| {
        let c = replace_once(
            c,
            "report_launch = ",
            "report_lanch = \"x\"\nreport_launch = ",
        );
        replace_once(
            c,
            "age = { source = \"AGE\" }",
            "age = { source = \"AGE\", sorce = \"X\" }",
        )
    });
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("report_lanch"),
        "country.report_lanch",
        "unknown key `report_lanch`",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("sorce"),
        "deliveries.child_survey.columns.age.sorce",
        "unknown key `sorce`",
    );
}

#[test]
fn wrong_types_and_enum_values_are_reported() {
    let f = Fixture::country(|c| {
        let c = replace_once(
            c,
            "file = \"TH_DH_child_final.csv\"",
            "file = \"TH_DH_child_final.csv\"\nencoding = \"utf-9\"",
        );
        replace_once(c, "internet_share = 0.92", "internet_share = \"92%\"")
    });
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("encoding = \"utf-9\""),
        "deliveries.child_survey.encoding",
        "`utf-9` is not an encoding label; use a WHATWG",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("internet_share"),
        "population.internet_share",
        "expected a number",
    );
}

#[test]
fn duplicate_toml_keys_are_reported() {
    let f = Fixture::country(|c| {
        replace_once(
            c,
            "age = { source = \"AGE\" }",
            "age = { source = \"AGE\" }\nage = { source = \"AGE2\" }",
        )
    });
    let diags = f.diagnostics();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(
        (diags[0].file.clone(), diags[0].line),
        (f.country_path(), f.country_line("AGE2"))
    );
    assert!(diags[0].message.contains("duplicate"), "{}", diags[0]);
}

#[test]
fn unknown_harmonised_column_suggests_the_right_one() {
    let f =
        Fixture::country(|c| replace_once(c, "offered_money_meet = {", "offered_mony_meet = {"));
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("offered_mony_meet ="),
        "deliveries.child_survey.columns.offered_mony_meet",
        "did you mean `offered_money_meet`",
    );
    // The real column keeps only its default scheme, so it lacks a source: reported in the country file, at the
    // columns table where the source belongs.
    let header = f.country_line("[deliveries.child_survey.columns]");
    expect_one(
        &diags,
        &f.country_path(),
        header,
        "deliveries.child_survey.columns.offered_money_meet",
        "`offered_money_meet` has no `source`",
    );
}

#[test]
fn unknown_code_label_in_country_scheme() {
    let f = Fixture::country(|c| {
        format!("{c}\n[code_schemes.sex]\ncodes = {{ \"1\" = \"male\", \"2\" = \"femal\" }}\n")
    });
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("\"femal\""),
        "code_schemes.sex.codes.2",
        "`femal` is not a harmonised category of `sex` (did you mean `female`?)",
    );
}

#[test]
fn error_set_in_defaults_points_into_the_defaults_file() {
    let f = Fixture::new(
        |d| replace_once(d, "\"4\" = \"upset\"", "\"4\" = \"upsett\""),
        |c| c,
    );
    let diags = f.diagnostics();
    let hits: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.message.contains("`upsett`"))
        .collect();
    assert!(!hits.is_empty(), "{diags:#?}");
    for d in hits {
        assert_eq!(
            (d.file.clone(), d.line, d.key.as_str()),
            (
                f.defaults_path(),
                f.defaults_line("upsett"),
                "code_schemes.feeling.codes.4"
            )
        );
    }
}

#[test]
fn undeclared_and_disallowed_missing_labels() {
    let f = Fixture::country(|c| {
        let c = replace_once(
            c,
            "knows_where_help = { source = \"Q",
            "knows_where_help = { missing = { \"7\" = \"not_applicable\" }, source = \"Q",
        );
        let c = replace_once(
            c,
            "knows_how_report = { source = \"Q",
            "knows_how_report = { missing = { \"8\" = \"dont_kno\" }, source = \"Q",
        );
        replace_once(
            c,
            "received_safety_info = { source = \"Q",
            "received_safety_info = { missing = { \"4\" = \"not_collected\" }, source = \"Q",
        )
    });
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("knows_where_help ="),
        "deliveries.child_survey.columns.knows_where_help.missing.7",
        "does not allow the missing label `not_applicable`",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("knows_how_report ="),
        "deliveries.child_survey.columns.knows_how_report.missing.8",
        "`dont_kno` is not a missing label of table `child_survey` (did you mean `dont_know`?)",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("received_safety_info ="),
        "deliveries.child_survey.columns.received_safety_info.missing.4",
        "set `not_collected = true`",
    );
}

#[test]
fn ambiguous_codes_and_code_also_missing() {
    let f = Fixture::country(|c| {
        let c = replace_once(
            c,
            "sex = { source = \"SEX\" }",
            "sex = { source = \"SEX\", codes = { \"1\" = \"male\", \"01\" = \"male\", \"2\" = \"female\" } }",
        );
        replace_once(
            c,
            "urban_rural = { source = \"URBRUR\" }",
            "urban_rural = { source = \"URBRUR\", codes = { \"1\" = \"urban\", \"2\" = \"rural\", \"9\" = \"rural\" }, missing = { \"9\" = \"refused\" } }",
        )
    });
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("\"01\""),
        "deliveries.child_survey.columns.sex.codes.1",
        "both map to `male`",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("URBRUR"),
        "deliveries.child_survey.columns.urban_rural.codes.9",
        "both a category (`rural`) and a missing code",
    );
}

#[test]
fn source_variable_used_twice_and_identifier_mapped() {
    let f = Fixture::country(|c| {
        let c = replace_once(
            c,
            "age = { source = \"AGE\" }",
            "age = { source = \"SEX\" }",
        );
        replace_once(
            c,
            "region = { source = \"REGION\" }",
            "region = { source = \"RESP_NAME\" }",
        )
    });
    let diags = f.diagnostics();
    // Columns are checked in name order: `age` comes before `sex`, so `sex` is reported as the second user.
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("sex = { source = \"SEX\""),
        "deliveries.child_survey.columns.sex.source",
        "already mapped to `age`",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("RESP_NAME\" }"),
        "deliveries.child_survey.columns.region.source",
        "also listed in `identifiers`",
    );
}

#[test]
fn not_collected_with_source_and_on_required_column() {
    let f = Fixture::country(|c| {
        let c = replace_once(
            c,
            "asked_images = { source = \"Q",
            "asked_images = { not_collected = true, source = \"Q",
        );
        replace_once(
            c,
            "psu = { source = \"EA\" }",
            "psu = { not_collected = true }",
        )
    });
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("asked_images = "),
        "deliveries.child_survey.columns.asked_images.source",
        "together with source",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("psu = "),
        "deliveries.child_survey.columns.psu.not_collected",
        "required by the schema",
    );
}

#[test]
fn required_column_unmapped_and_derived_column_mapped() {
    let f = Fixture::country(|c| {
        replace_once(
            c,
            "age = { source = \"AGE\" }",
            "age_band = { source = \"AGE\" }",
        )
    });
    let diags = f.diagnostics();
    let header = f.country_line("[deliveries.child_survey.columns]");
    expect_one(
        &diags,
        &f.country_path(),
        header,
        "deliveries.child_survey.columns",
        "required column `age` is not mapped",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("age_band = { source"),
        "deliveries.child_survey.columns.age_band",
        "derived by the pipeline from `age`",
    );
}

#[test]
fn unknown_scheme_and_unknown_table() {
    let f = Fixture::country(|c| {
        let c = replace_once(
            c,
            "sex = { source = \"SEX\" }",
            "sex = { source = \"SEX\", scheme = \"sexx\" }",
        );
        format!("{c}\n[deliveries.child_survy]\nfile = \"x.csv\"\n")
    });
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("sexx"),
        "deliveries.child_survey.columns.sex.scheme",
        "unknown code scheme `sexx` (did you mean `sex`?)",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("[deliveries.child_survy]"),
        "deliveries.child_survy",
        "no harmonised schema `child_survy`",
    );
}

#[test]
fn population_cells_must_cover_each_combination_once() {
    let f = Fixture::country(|c| {
        // Turn the rural 16-17 girls cell into a second urban one, and misspell a label elsewhere.
        let c = replace_once(
            c,
            "{ sex = \"female\", age_band = \"16-17\", urban_rural = \"rural\"",
            "{ sex = \"female\", age_band = \"16-17\", urban_rural = \"urban\"",
        );
        replace_once(
            c,
            "{ sex = \"male\", age_band = \"12-13\", urban_rural = \"rural\"",
            "{ sex = \"male\", age_band = \"12-14\", urban_rural = \"rural\"",
        )
    });
    let diags = f.diagnostics();
    let second = f
        .country
        .lines()
        .filter(|l| l.contains("sex = \"female\", age_band = \"16-17\", urban_rural = \"urban\""))
        .count();
    assert_eq!(second, 2);
    let dup_line = f
        .country
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            l.contains("sex = \"female\", age_band = \"16-17\", urban_rural = \"urban\"")
        })
        .nth(1)
        .unwrap()
        .0
        + 1;
    expect_one(
        &diags,
        &f.country_path(),
        dup_line,
        "population.cells.11",
        "is given twice",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("12-14"),
        "population.cells.1.age_band",
        "`12-14` is not a `age_band` category",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("cells = ["),
        "population.cells",
        "male/12-13/rural, female/16-17/rural",
    );
}

#[test]
fn population_total_must_match_share() {
    let f = Fixture::country(|c| replace_once(c, "internet_share = 0.92", "internet_share = 0.80"));
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("cells = ["),
        "population.cells",
        "make them agree",
    );
}

#[test]
fn synth_targets_are_checked() {
    let f = Fixture::country(|c| {
        let c = replace_once(c, "clear_examples_any = 0.09", "clear_examples_any = 0.5");
        let c = replace_once(
            c,
            "[synth.prevalence]\n",
            "[synth.prevalence]\nofered_money_images = 0.1\ninternet_use_frequency = 0.3\nasked_images = 7\n",
        );
        replace_once(c, "\"gaming\" = 0.03", "\"gaming\" = 0.3")
    });
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("clear_examples_any"),
        "synth.settings.clear_examples_any",
        "is impossible",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("ofered_money_images"),
        "synth.prevalence.ofered_money_images",
        "did you mean `offered_money_images`",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("internet_use_frequency = 0.3"),
        "synth.prevalence.internet_use_frequency",
        "not a yes/no item",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("asked_images = 7"),
        "synth.prevalence.asked_images",
        "not a proportion",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("\"gaming\" = 0.3"),
        "synth.distribution.offered_money_meet_platform",
        "add up to",
    );
}

#[test]
fn many_problems_are_reported_together() {
    let f = Fixture::country(|c| {
        let c = replace_once(c, "name = \"Thailand\"", "name = \"\"");
        let c = replace_once(
            c,
            "fieldwork_end = \"2021-04-30\"",
            "fieldwork_end = \"2020-04-31\"",
        );
        let c = replace_once(c, "age = { source = \"AGE\" }", "");
        replace_once(c, "internet_share = 0.92", "internet_share = 1.5")
    });
    let diags = f.diagnostics();
    assert!(diags.len() >= 4, "{diags:#?}");
    for needle in [
        "`country.name` is empty",
        "not a date",
        "required column `age`",
        "must be a share",
    ] {
        assert!(
            diags.iter().any(|d| d.message.contains(needle)),
            "missing `{needle}` in {diags:#?}"
        );
    }
}

#[test]
fn iso3_must_match_file_name() {
    let f = Fixture::country(|c| replace_once(c, "iso3 = \"THA\"", "iso3 = \"THB\""));
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("iso3"),
        "country.iso3",
        "file is named `THA.toml`",
    );
}

#[test]
fn load_and_validate_returns_config_only_without_errors() {
    let good = Fixture::country(|c| c);
    let (config, diags) = crate::load_and_validate(good.dir.path(), "THA", &schemas());
    assert!(config.is_some() && diags.is_empty(), "{diags:?}");
    let bad =
        Fixture::country(|c| replace_once(c, "internet_share = 0.92", "internet_share = 0.5"));
    let (config, diags) = crate::load_and_validate(bad.dir.path(), "THA", &schemas());
    assert!(config.is_none() && diags.iter().any(Diagnostic::is_error));
    let broken = Fixture::country(|c| format!("{c}\n[[["));
    let (config, diags) = crate::load_and_validate(broken.dir.path(), "THA", &schemas());
    assert!(
        config.is_none() && diags.len() == 1 && diags[0].message.contains("invalid TOML"),
        "{diags:?}"
    );
}

#[test]
fn follow_up_of_an_uncollected_item_must_not_be_collected() {
    let f = Fixture::country(|c| {
        let line = c
            .lines()
            .find(|l| l.starts_with("asked_images = "))
            .unwrap()
            .to_string();
        replace_once(c, &line, "asked_images = { not_collected = true }")
    });
    let diags = f.diagnostics();
    let line = f.country_line("asked_images_offender = ");
    expect_one(
        &diags,
        &f.country_path(),
        line,
        "deliveries.child_survey.columns.asked_images_offender",
        "`asked_images_offender` is asked only when `asked_images == \"yes\"`, but `asked_images` is not collected",
    );
    assert!(diags.iter().any(|d| {
        d.message
            .contains("`asked_images_told_nobody` is asked only when")
    }));
}

#[test]
fn label_keys_need_a_delivery_with_value_labels() {
    let scheme =
        "\n[code_schemes.sex]\ncodes = { \"label:Male\" = \"male\", \"2\" = \"female\" }\n";
    let csv = Fixture::country(|c| format!("{c}{scheme}"));
    let diags = csv.diagnostics();
    let hits: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.message.contains("maps by value label"))
        .collect();
    assert_eq!(hits.len(), 1, "{diags:#?}");
    assert_eq!(hits[0].severity, Severity::Error);
    assert_eq!(hits[0].line, csv.country_line("label:Male"), "{}", hits[0]);
    assert!(hits[0].message.contains("CSV"), "{}", hits[0]);

    // The same keys in SPSS deliveries are fine; an empty label is not.
    let sav = Fixture::country(|c| {
        let c = c.replace(
            "file = \"TH_DH_child_final.csv\"",
            "file = \"TH_DH_child_final.sav\"\nformat = \"sav\"",
        );
        let c = c.replace(
            "file = \"TH_DH_caregiver_final.csv\"",
            "file = \"TH_DH_caregiver_final.sav\"\nformat = \"sav\"",
        );
        format!("{c}{scheme}")
    });
    let diags = sav.diagnostics();
    assert!(
        !diags.iter().any(|d| d.message.contains("value label")),
        "{diags:#?}"
    );
    let empty = Fixture::country(|c| {
        let c = c.replace(
            "file = \"TH_DH_child_final.csv\"",
            "file = \"TH_DH_child_final.sav\"\nformat = \"sav\"",
        );
        format!(
            "{c}\n[code_schemes.sex]\ncodes = {{ \"label: \" = \"male\", \"2\" = \"female\" }}\n"
        )
    });
    assert!(
        empty
            .diagnostics()
            .iter()
            .any(|d| d.message.contains("empty value label")),
        "empty label accepted"
    );
}

#[test]
fn date_format_is_checked_and_only_on_date_columns() {
    let f = Fixture::country(|c| {
        format!(
            "{c}\n[deliveries.interview_register.columns]\ninterview_date = {{ source = \"date\", date_format = \"%d/%m/%Q\" }}\nregion = {{ source = \"region\", date_format = \"%d/%m/%Y\" }}\n"
        )
    });
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("%d/%m/%Q"),
        "deliveries.interview_register.columns.interview_date.date_format",
        "`%Q`, which dh does not read",
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("region = { source = \"region\", date_format"),
        "deliveries.interview_register.columns.region.date_format",
        "`region` is a string column, not a date; remove date_format",
    );

    let ok = Fixture::country(|c| {
        format!(
            "{c}\n[deliveries.interview_register.columns]\ninterview_date = {{ source = \"date\", date_format = \"%d-%b-%Y %H:%M\" }}\n"
        )
    });
    let diags = ok.diagnostics();
    assert!(
        !diags.iter().any(|d| d.message.contains("date_format")),
        "{diags:#?}"
    );
}

#[test]
fn value_label_needs_a_text_column_of_a_labelled_delivery() {
    let region = "region = { source = \"REGION\" }";
    let by_label = "region = { source = \"REGION\", value = \"label\" }";
    let csv = Fixture::country(|c| replace_once(c, region, by_label));
    expect_one(
        &csv.diagnostics(),
        &csv.country_path(),
        csv.country_line(by_label),
        "deliveries.child_survey.columns.region.value",
        "a CSV delivery has no value labels",
    );

    let sav = |c: String| {
        replace_once(
            c,
            "file = \"TH_DH_child_final.csv\"",
            "file = \"TH_DH_child_final.sav\"\nformat = \"sav\"",
        )
    };
    let ok = Fixture::country(|c| replace_once(sav(c), region, by_label));
    let diags = ok.diagnostics();
    assert!(
        !diags.iter().any(|d| d.key.ends_with(".value")),
        "{diags:#?}"
    );

    let coded = Fixture::country(|c| {
        let c = replace_once(
            sav(c),
            "sex = { source = \"SEX\" }",
            "sex = { source = \"SEX\", value = \"label\" }",
        );
        replace_once(
            c,
            "age = { source = \"AGE\" }",
            "age = { source = \"AGE\", value = \"label\" }",
        )
    });
    let diags = coded.diagnostics();
    expect_one(
        &diags,
        &coded.country_path(),
        coded.country_line("sex = { source"),
        "deliveries.child_survey.columns.sex.value",
        "`sex` is coded",
    );
    expect_one(
        &diags,
        &coded.country_path(),
        coded.country_line("age = { source"),
        "deliveries.child_survey.columns.age.value",
        "works for text columns only; `age` is of type integer",
    );
}

#[test]
fn a_delivered_table_linking_to_an_undelivered_one_is_an_error_and_both_undelivered_is_clean() {
    let f = Fixture::country(|c| {
        replace_once(
            c,
            "[deliveries.child_survey]\n",
            "[deliveries.child_survey]\ndelivered = false\n",
        )
    });
    let line = f.country_line("delivered = false");
    expect_one(
        &f.diagnostics(),
        &f.country_path(),
        line,
        "deliveries.child_survey.delivered",
        "`caregiver_survey` is delivered and links to it",
    );
    let f = Fixture::country(|c| {
        let c = replace_once(
            c,
            "[deliveries.child_survey]\n",
            "[deliveries.child_survey]\ndelivered = false\n",
        );
        replace_once(
            c,
            "[deliveries.caregiver_survey]\n",
            "[deliveries.caregiver_survey]\ndelivered = false\n",
        )
    });
    assert_eq!(f.diagnostics(), vec![]);
    // A family table nothing links to may be left out alone.
    let f = Fixture::country(|c| format!("{c}\n[deliveries.icse_connection]\ndelivered = false\n"));
    assert_eq!(f.diagnostics(), vec![]);
    // The mapping an undelivered table inherits is not checked: the defaults' police offence column has no codes.
    let f = Fixture::country(|c| {
        let start = c
            .find("[deliveries.police_cases]")
            .expect("THA maps police cases");
        // The police sections end at the next section that is not theirs.
        let end = c[start..]
            .match_indices("\n[")
            .map(|(e, _)| start + e)
            .find(|&e| !c[e + 1..].starts_with("[deliveries.police_cases"))
            .unwrap_or(c.len());
        format!(
            "{}{}\n[deliveries.police_cases]\ndelivered = false\n",
            &c[..start],
            &c[end..]
        )
    });
    assert_eq!(f.diagnostics(), vec![]);
}

/// THA's police cases delivered as two files: a CSV of 2017-2018 whose status column has another name, and a
/// workbook of 2019 without a year column (`year` is a constant); `extra` is appended to the second part.
fn police_in_parts(country: String, extra: &str) -> String {
    replace_once(
        country,
        "file = \"THA_police_cases_2017_2019.xlsx\"\n",
        &format!(
            "\n[[deliveries.police_cases.parts]]\nfile = \"police_2017_2018.csv\"\nformat = \"csv\"\n\
             [deliveries.police_cases.parts.columns]\n\
             case_status = {{ source = \"Case status\", scheme = \"case_status\" }}\n\n\
             [[deliveries.police_cases.parts]]\nfile = \"police_2019.xlsx\"\n\
             [deliveries.police_cases.parts.columns]\nyear = {{ constant = \"2019\" }}\n{extra}"
        ),
    )
}

#[test]
fn a_delivery_in_parts_is_clean_and_each_part_is_checked_on_its_own_columns() {
    let f = Fixture::country(|c| police_in_parts(c, ""));
    assert_eq!(f.diagnostics(), vec![]);
    let c = f.load().unwrap();
    let files = c.deliveries["police_cases"].files();
    assert_eq!(files.len(), 2);
    assert_eq!(files[1].columns["year"].constant.as_deref(), Some("2019"));

    // a part's own mapping is checked, and named at the part
    let f = Fixture::country(|c| {
        police_in_parts(
            c,
            "case_status = { source = \"Status\", scheme = \"no_such_scheme\" }\n",
        )
    });
    expect_one(
        &f.diagnostics(),
        &f.country_path(),
        f.country_line("no_such_scheme"),
        "deliveries.police_cases.parts[1].columns.case_status.scheme",
        "unknown code scheme `no_such_scheme`",
    );
}

#[test]
fn constants_exclude_a_source_and_must_be_a_code_of_a_coded_column() {
    let f = Fixture::country(|c| {
        police_in_parts(
            c,
            "victim_sex = { constant = \"X\", scheme = \"police_sex\" }\n",
        )
    });
    expect_one(
        &f.diagnostics(),
        &f.country_path(),
        f.country_line("constant = \"X\""),
        "deliveries.police_cases.parts[1].columns.victim_sex.constant",
        "constant `X` of coded column `victim_sex` is none of its source codes",
    );
    let f = Fixture::country(|c| {
        police_in_parts(
            c,
            "victim_sex = { constant = \"F\", source = \"Victim sex\", scheme = \"police_sex\" }\n",
        )
    });
    expect_one(
        &f.diagnostics(),
        &f.country_path(),
        f.country_line("constant = \"F\""),
        "deliveries.police_cases.parts[1].columns.victim_sex.constant",
        "has a `constant` together with source",
    );
    let f = Fixture::country(|c| {
        police_in_parts(
            c,
            "victim_sex = { constant = \"F\", not_collected = true }\n",
        )
    });
    let diags = f.diagnostics();
    assert!(
        diags.iter().any(|d| d
            .message
            .contains("not_collected = true` together with constant")),
        "{diags:#?}"
    );
    let f = Fixture::country(|c| {
        police_in_parts(
            c,
            "victim_sex = { constant = \"F\", scheme = \"police_sex\" }\n",
        )
    });
    assert_eq!(f.diagnostics(), vec![]);
}

#[test]
fn parts_need_their_files_once_and_a_delivered_table() {
    // the country file sets both `file` and `parts`
    let f = Fixture::country(|c| {
        let c = police_in_parts(c, "");
        replace_once(
            c,
            "[deliveries.police_cases]\n",
            "[deliveries.police_cases]\nfile = \"cases.xlsx\"\n",
        )
    });
    expect_one(
        &f.diagnostics(),
        &f.country_path(),
        f.country_line("file = \"cases.xlsx\""),
        "deliveries.police_cases.file",
        "sets both `file` and `parts`",
    );
    // two parts name one file
    let f = Fixture::country(|c| {
        replace_once(
            police_in_parts(c, ""),
            "file = \"police_2019.xlsx\"",
            "file = \"police_2017_2018.csv\"",
        )
    });
    let line = f
        .country
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("police_2017_2018.csv"))
        .nth(1)
        .map(|(i, _)| i + 1)
        .unwrap();
    expect_one(
        &f.diagnostics(),
        &f.country_path(),
        line,
        "deliveries.police_cases.parts[1].file",
        "file `police_2017_2018.csv` is already named by `deliveries.police_cases.parts[0].file`",
    );
    // a part without a file name
    let f = Fixture::country(|c| {
        replace_once(
            police_in_parts(c, ""),
            "file = \"police_2019.xlsx\"",
            "file = \"\"",
        )
    });
    expect_one(
        &f.diagnostics(),
        &f.country_path(),
        f.country_line("file = \"\""),
        "deliveries.police_cases.parts[1].file",
        "part 2 of `police_cases` has no `file`",
    );
    // not delivered, yet with parts
    let f = Fixture::country(|c| {
        replace_once(
            police_in_parts(c, ""),
            "[deliveries.police_cases]\n",
            "[deliveries.police_cases]\ndelivered = false\n",
        )
    });
    let diags = f.diagnostics();
    let hits: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| {
            d.message
                .contains("marked `delivered = false` but lists the files")
        })
        .collect();
    assert_eq!(hits.len(), 1, "{diags:#?}");
    assert_eq!(hits[0].key, "deliveries.police_cases.parts");
    assert_eq!(hits[0].file, f.country_path());
}

/// A delivery in parts (one file per organisation, shipped for Thailand's service contacts) is checked file by file:
/// each part's mapping over the delivery's, named by the part's index.
#[test]
fn each_part_of_a_delivery_is_checked_with_its_own_mapping() {
    let f = Fixture::country(|c| {
        let c = replace_once(
            c,
            "organisation = { constant = \"Internet hotline\" }",
            "organisation = { constant = \"Internet hotline\", source = \"Org\" }",
        );
        let c = replace_once(
            c,
            "category = { source = \"Report class\", codes = {",
            "category = { source = \"Report class\", codes = { \"Abuse\" = \"abuse\", ",
        );
        replace_once(
            c,
            "organisation_type = { constant = \"Hotline\"",
            "organisation_type = { constant = \"Hot line\"",
        )
    });
    let diags = f.diagnostics();
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("organisation = { constant = \"Internet hotline\""),
        "deliveries.service_contacts.parts[1].columns.organisation.constant",
        "has a `constant` together with source",
    );
    assert!(
        diags.iter().any(|d| d
            .key
            .starts_with("deliveries.service_contacts.parts[1].columns.category")
            && d.message.contains("`abuse`")),
        "{diags:#?}"
    );
    expect_one(
        &diags,
        &f.country_path(),
        f.country_line("organisation_type = { constant = \"Hot line\""),
        "deliveries.service_contacts.parts[1].columns.organisation_type.constant",
        "constant `Hot line` of coded column `organisation_type` is none of its source codes",
    );
    // The helpline part (index 0) is clean.
    assert!(
        !diags.iter().any(|d| d.key.contains(".parts[0].")),
        "{diags:#?}"
    );
}
