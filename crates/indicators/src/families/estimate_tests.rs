//! Unit tests of the family estimates on small hand-made tables (the repository's schemas).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use dh_config::country::Population;

use super::*;
use crate::families::parse_family_catalogue;
use crate::output::comparison_csv;

fn schemas() -> dh_config::SchemaSet {
    dh_config::load_schemas(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn catalogue(text: &str) -> FamilyCatalogue {
    parse_family_catalogue(Path::new("families.toml"), text, &schemas())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn population() -> Population {
    Population {
        source: "test".into(),
        population_12_17: 1_000_000.0,
        internet_share: 0.5,
        cells: Vec::new(),
    }
}

fn text(values: Vec<&str>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

/// 30 cases in 2018: 20 sexual abuse, 3 grooming, 7 CSAM offences; technology involved in 2 (one unknown).
fn police() -> RecordBatch {
    let mut offence = vec!["sexual_abuse"; 20];
    offence.extend(vec!["grooming"; 3]);
    offence.extend(vec!["csam_offence"; 7]);
    let mut tech = vec!["yes", "yes", "dont_know"];
    tech.extend(vec!["no"; 27]);
    let mut sex = vec!["female"; 26];
    sex.extend(vec!["male"; 4]);
    RecordBatch::try_from_iter([
        (
            "year",
            Arc::new(Int64Array::from(vec![2018; 30])) as ArrayRef,
        ),
        ("offence_category", text(offence)),
        ("technology_involved", text(tech)),
        ("victim_sex", text(sex)),
    ])
    .unwrap_or_else(|e| panic!("{e}"))
}

const POLICE: &str = r#"
format_version = 1
[[indicator]]
id = "cases"
label = "l"
version = "1.0.0"
table = "police_cases"
statistic = "count"
universe = 'true'
universe_label = "u"
disaggregations = ["offence_category", "year"]

[[indicator]]
id = "tech_share"
label = "l"
version = "1.0.0"
table = "police_cases"
statistic = "share"
universe = 'true'
universe_label = "u"
numerator = 'technology_involved == "yes"'

[[indicator]]
id = "girls_share"
label = "l"
version = "1.0.0"
table = "police_cases"
statistic = "share"
universe = 'true'
universe_label = "u"
numerator = 'victim_sex == "female"'
"#;

fn rows_of(text: &str, table: &str, batch: RecordBatch) -> Vec<EstimateRow> {
    let mut tables = BTreeMap::new();
    tables.insert(table.to_string(), batch);
    family_indicators(
        "TST",
        &tables,
        &population(),
        ReferenceYears::default(),
        &catalogue(text),
        &crate::pipeline_config::Thresholds::NCHS,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn find<'a>(rows: &'a [EstimateRow], id: &str, domain: &str, level: &str) -> &'a EstimateRow {
    rows.iter()
        .find(|r| r.indicator == id && r.domain == domain && r.domain_value == level)
        .unwrap_or_else(|| panic!("no row {id} {domain} {level}"))
}

#[test]
fn small_counts_are_withheld_with_their_complement_and_shown_as_under_5() {
    let rows = rows_of(POLICE, "police_cases", police());
    let total = find(&rows, "cases", TOTAL, TOTAL);
    assert_eq!((total.estimate, total.flag), (Some(30.0), Flag::Ok));
    let grooming = find(&rows, "cases", "offence_category", "grooming");
    assert_eq!((grooming.estimate, grooming.flag), (None, Flag::SmallCount));
    assert_eq!(grooming.n_unweighted, 0, "a withheld count hides its n too");
    // Secondary suppression: otherwise 30 - 20 - 7 would give the grooming count.
    let csam = find(&rows, "cases", "offence_category", "csam_offence");
    assert_eq!((csam.estimate, csam.flag), (None, Flag::SmallCount));
    let abuse = find(&rows, "cases", "offence_category", "sexual_abuse");
    assert_eq!((abuse.estimate, abuse.flag), (Some(20.0), Flag::Ok));
    // A category with no case is a true zero, published.
    let trafficking = find(
        &rows,
        "cases",
        "offence_category",
        "trafficking_sexual_purposes",
    );
    assert_eq!(
        (trafficking.estimate, trafficking.flag),
        (Some(0.0), Flag::Ok)
    );
    // Integer breakdowns take their levels from the data.
    assert_eq!(find(&rows, "cases", "year", "2018").estimate, Some(30.0));
    // 2 of 29 known: the numerator is under 5, so the share is withheld.
    let tech = find(&rows, "tech_share", TOTAL, TOTAL);
    assert_eq!((tech.estimate, tech.flag), (None, Flag::SmallCount));
    // 26 girls and 4 boys: the complement is under 5, so the share is withheld as well.
    let girls = find(&rows, "girls_share", TOTAL, TOTAL);
    assert_eq!(girls.flag, Flag::SmallCount);
    let csv = comparison_csv(&[("TST", &rows)], &crate::Descriptions::default());
    assert!(csv.contains("tech_share,,proportion,<5"), "{csv}");
}

#[test]
fn frontline_proportions_are_unweighted_wilson_and_non_representative() {
    let text = r#"
format_version = 1
[[indicator]]
id = "stigma"
label = "l"
version = "1.0.0"
table = "frontline_survey"
statistic = "unweighted_proportion"
universe = 'true'
universe_label = "u"
numerator = 'barrier_stigma == "yes"'
"#;
    // 10 yes, 40 no, 2 don't know (leave the denominator).
    let mut answers = vec!["yes"; 10];
    answers.extend(vec!["no"; 40]);
    answers.extend(vec!["dont_know"; 2]);
    let batch = RecordBatch::try_from_iter([("barrier_stigma", text_array(answers))])
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = rows_of(text, "frontline_survey", batch);
    let r = find(&rows, "stigma", TOTAL, TOTAL);
    assert_eq!(r.flag, Flag::NonRepresentative);
    assert_eq!((r.n_unweighted, r.ci_method), (50, "wilson"));
    assert_eq!(r.estimate, Some(0.2));
    let (lo, hi) = (r.ci_lower.unwrap_or(0.0), r.ci_upper.unwrap_or(0.0));
    assert!((lo - 0.1124375).abs() < 1e-6 && (hi - 0.3303711).abs() < 1e-6);
}

fn text_array(values: Vec<&str>) -> ArrayRef {
    text(values)
}

#[test]
fn cybertipline_totals_rates_and_change_use_the_config_population() {
    let text = r#"
format_version = 1
[[indicator]]
id = "reports"
label = "l"
version = "1.0.0"
table = "cybertipline_reports"
statistic = "total"
unit = "reports"
universe = 'true'
universe_label = "u"
variable = "reports"
disaggregations = ["year"]

[[indicator]]
id = "rate"
label = "l"
version = "1.0.0"
table = "cybertipline_reports"
statistic = "rate_per_10000"
unit = "reports per 10,000 internet-using children aged 12-17"
universe = 'year == 2019'
universe_label = "u"
variable = "reports"

[[indicator]]
id = "change"
label = "l"
version = "1.0.0"
table = "cybertipline_reports"
statistic = "change"
universe = 'year == 2019'
baseline = 'year == 2017'
universe_label = "u"
variable = "reports"
"#;
    let batch = RecordBatch::try_from_iter([
        (
            "year",
            Arc::new(Int64Array::from(vec![2017, 2017, 2018, 2019, 2019])) as ArrayRef,
        ),
        (
            "reports",
            Arc::new(Int64Array::from(vec![900, 100, 1500, 1900, 100])) as ArrayRef,
        ),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let rows = rows_of(text, "cybertipline_reports", batch);
    assert_eq!(find(&rows, "reports", TOTAL, TOTAL).estimate, Some(4500.0));
    assert_eq!(
        find(&rows, "reports", "year", "2018").estimate,
        Some(1500.0)
    );
    // 2,000 reports in 2019 per 10,000 of 500,000 internet-using children = 40.
    assert_eq!(find(&rows, "rate", TOTAL, TOTAL).estimate, Some(40.0));
    assert_eq!(find(&rows, "change", TOTAL, TOTAL).estimate, Some(1.0));
}

#[test]
fn a_table_the_country_did_not_deliver_is_not_collected() {
    let rows = family_indicators(
        "TST",
        &BTreeMap::new(),
        &population(),
        ReferenceYears::default(),
        &catalogue(POLICE),
        &crate::pipeline_config::Thresholds::NCHS,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r.flag == Flag::NotCollected && r.estimate.is_none())
    );
}

#[test]
fn catalogue_errors_name_the_indicator_and_key() {
    let bad = r#"
format_version = 1
[[indicator]]
id = "x"
label = "l"
version = "1.0.0"
table = "cybertipline_reports"
statistic = "total"
unit = "reports"
universe = 'true'
universe_label = "u"
variable = "report_type"
disaggregations = ["nope"]

[[indicator]]
id = "y"
label = "l"
version = "1.0.0"
table = "police_cases"
statistic = "median"
universe = 'true'
universe_label = "u"
"#;
    let err = parse_family_catalogue(Path::new("families.toml"), bad, &schemas())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("indicator `x`: `variable`"), "{err}");
    assert!(err.contains("`nope`"), "{err}");
    assert!(err.contains("indicator `y`: `statistic`"), "{err}");
}

#[test]
fn the_repository_family_catalogue_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines");
    let c =
        crate::families::load_family_catalogue(&dir, &schemas()).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.indicators.len() >= 20, "{}", c.indicators.len());
    assert_eq!(c.themes.len(), 8);
}

const REFERENCE_YEARS_CATALOGUE: &str = r#"
format_version = 1
[[indicator]]
id = "rate"
label = "Reports per 10,000 (total: {reference_years} together)"
version = "1.0.0"
table = "cybertipline_reports"
statistic = "rate_per_10000"
unit = "reports per 10,000 internet-using children aged 12-17"
universe = 'year >= {ref_first} and year <= {ref_last}'
universe_label = "Reports, {reference_years}"
variable = "reports"
disaggregations = ["year"]

[[indicator]]
id = "le_cybertipline_change_2017_2019"
label = "Relative change in CyberTipline reports from {ref_first} to {ref_last}"
version = "1.0.0"
table = "cybertipline_reports"
statistic = "change"
universe = 'year == {ref_last}'
baseline = 'year == {ref_first}'
universe_label = "Reports, {ref_last} against {ref_first}"
variable = "reports"
"#;

/// CyberTipline reports of a Phase 2 country: 2021-2023.
fn phase2_reports() -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "year",
            Arc::new(Int64Array::from(vec![2021, 2022, 2023, 2023])) as ArrayRef,
        ),
        (
            "reports",
            Arc::new(Int64Array::from(vec![1000, 1200, 1400, 600])) as ArrayRef,
        ),
    ])
    .unwrap_or_else(|e| panic!("{e}"))
}

fn rows_for(years: ReferenceYears) -> Vec<EstimateRow> {
    let mut tables = BTreeMap::new();
    tables.insert("cybertipline_reports".to_string(), phase2_reports());
    family_indicators(
        "TST",
        &tables,
        &population(),
        years,
        &catalogue(REFERENCE_YEARS_CATALOGUE),
        &crate::pipeline_config::Thresholds::NCHS,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn indicators_over_the_reference_years_use_each_country_years() {
    let phase2 = ReferenceYears {
        first: 2021,
        last: 2023,
    };
    let rows = rows_for(phase2);
    // 4,200 reports 2021-2023 per 10,000 of 500,000 internet-using children = 84; change 2021 -> 2023 = +100%.
    assert_eq!(find(&rows, "rate", TOTAL, TOTAL).estimate, Some(84.0));
    let by_year = find(&rows, "rate", "year", "2022").estimate.unwrap_or(0.0);
    assert!((by_year - 24.0).abs() < 1e-9, "{by_year}");
    let change = find(&rows, "le_cybertipline_change_2017_2019", TOTAL, TOTAL);
    assert_eq!((change.estimate, change.flag), (Some(1.0), Flag::Ok));
    // The country's copy says its years; the id is unchanged.
    let cat = catalogue(REFERENCE_YEARS_CATALOGUE);
    let ind = &cat.indicators[1];
    let copy = ind.for_country(phase2).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(copy.id, "le_cybertipline_change_2017_2019");
    assert_eq!(
        copy.label,
        "Relative change in CyberTipline reports from 2021 to 2023"
    );
    assert_eq!(copy.universe_label, "Reports, 2023 against 2021");
    assert_eq!(copy.universe.source(), "year == 2023");
    assert_eq!(
        cat.indicators[0]
            .for_country(phase2)
            .unwrap_or_else(|e| panic!("{e}"))
            .label,
        "Reports per 10,000 (total: 2021-2023 together)"
    );
    // One text for countries with different years.
    assert_eq!(
        ind.label,
        "Relative change in CyberTipline reports from the first reference year to the last reference year"
    );
}

#[test]
fn no_data_in_the_reference_years_is_not_collected_not_suppressed() {
    // The same 2021-2023 data read with the default 2017-2019: nothing in the years.
    let rows = rows_for(ReferenceYears::default());
    for id in ["rate", "le_cybertipline_change_2017_2019"] {
        let of: Vec<&EstimateRow> = rows.iter().filter(|r| r.indicator == id).collect();
        assert_eq!(of.len(), 1, "{id}: {of:?}");
        assert_eq!(
            (of[0].flag, of[0].estimate, of[0].n_unweighted),
            (Flag::NotCollected, None, 0),
            "{id}"
        );
    }
    // Data in the last year but none in the first: the change is not collected either.
    let rows = rows_for(ReferenceYears {
        first: 2020,
        last: 2023,
    });
    let change = find(&rows, "le_cybertipline_change_2017_2019", TOTAL, TOTAL);
    assert_eq!(change.flag, Flag::NotCollected);
    assert_eq!(
        find(&rows, "rate", TOTAL, TOTAL).estimate,
        Some(84.0),
        "the rate has data in 2021-2023"
    );
}

#[test]
fn an_unknown_constant_is_a_catalogue_error() {
    let bad = REFERENCE_YEARS_CATALOGUE.replace("year == {ref_last}", "year == {ref_lats}");
    let err = parse_family_catalogue(Path::new("families.toml"), &bad, &schemas())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("`{ref_lats}` is not a known constant") && err.contains("universe"),
        "{err}"
    );
}

#[test]
fn units_follow_the_statistic_and_table_or_are_declared() {
    let c = catalogue(REFERENCE_YEARS_CATALOGUE);
    for i in &c.indicators {
        let expected = match i.statistic.name() {
            "total" => "reports",
            "rate_per_10000" => "reports per 10,000 internet-using children aged 12-17",
            "change" => "relative change",
            other => panic!("{other}"),
        };
        assert_eq!(i.unit, expected, "{}", i.id);
        assert!(
            i.to_string()
                .contains(&format!("unit:            {expected}"))
        );
    }
    let missing = REFERENCE_YEARS_CATALOGUE.replacen(
        "unit = \"reports per 10,000 internet-using children aged 12-17\"\n",
        "",
        1,
    );
    let err = parse_family_catalogue(Path::new("families.toml"), &missing, &schemas())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("`unit`") && err.contains("needs `unit`"),
        "{err}"
    );
    let contradicting = REFERENCE_YEARS_CATALOGUE.replacen(
        "statistic = \"change\"",
        "statistic = \"change\"\nunit = \"reports\"",
        1,
    );
    let err = parse_family_catalogue(Path::new("families.toml"), &contradicting, &schemas())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("remove `unit`"), "{err}");
}

#[test]
fn a_count_and_a_share_of_the_same_records_withhold_the_same_cells() {
    // Before: the share withheld 2017 (20 cases: base rule) and 2018 (its complement), the count published
    // 10 of 20 and 12 of 30, which give both shares back.
    let catalogue_text = r#"
format_version = 1
[[indicator]]
id = "tech_count"
label = "l"
version = "1.0.0"
table = "police_cases"
statistic = "count"
universe = 'true'
universe_label = "u"
numerator = 'technology_involved == "yes"'
disaggregations = ["year"]

[[indicator]]
id = "tech_share"
label = "l"
version = "1.0.0"
table = "police_cases"
statistic = "share"
universe = 'true'
universe_label = "u"
numerator = 'technology_involved == "yes"'
disaggregations = ["year"]
"#;
    let mut years = vec![2017i64; 20];
    years.extend(vec![2018; 30]);
    years.extend(vec![2019; 100]);
    let mut tech = Vec::new();
    for (n, x) in [(20, 10), (30, 12), (100, 40)] {
        tech.extend(vec!["yes"; x]);
        tech.extend(vec!["no"; n - x]);
    }
    let batch = RecordBatch::try_from_iter([
        ("year", Arc::new(Int64Array::from(years)) as ArrayRef),
        ("technology_involved", text(tech)),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let rows = rows_of(catalogue_text, "police_cases", batch);
    for id in ["tech_count", "tech_share"] {
        for (year, withheld) in [("2017", true), ("2018", true), ("2019", false)] {
            let r = find(&rows, id, "year", year);
            assert_eq!(r.flag.hides_estimate(), withheld, "{r:?}");
            if withheld {
                assert_eq!((r.estimate, r.n_unweighted, r.n_weighted), (None, 0, 0.0));
            }
        }
        assert!(!find(&rows, id, TOTAL, TOTAL).flag.hides_estimate());
    }
}

#[test]
fn a_count_whose_complement_in_its_universe_is_small_is_withheld() {
    // 28 of 30 cases involved technology: the count and its n_unweighted would give the 2 without away.
    let catalogue_text = r#"
format_version = 1
[[indicator]]
id = "tech_count"
label = "l"
version = "1.0.0"
table = "police_cases"
statistic = "count"
universe = 'true'
universe_label = "u"
numerator = 'technology_involved == "yes"'
"#;
    let mut tech = vec!["yes"; 28];
    tech.extend(vec!["no"; 2]);
    let batch = RecordBatch::try_from_iter([("technology_involved", text(tech))])
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = rows_of(catalogue_text, "police_cases", batch);
    let r = find(&rows, "tech_count", TOTAL, TOTAL);
    assert_eq!((r.flag, r.estimate), (Flag::SmallCount, None));
}

// ---- service contacts and the legal review (issue 16) ----

/// Contacts by (year, category, organisation type, contacts).
fn contacts(rows: &[(i64, &str, &str, i64)]) -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "year",
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        ("category", text(rows.iter().map(|r| r.1).collect())),
        (
            "organisation_type",
            text(rows.iter().map(|r| r.2).collect()),
        ),
        (
            "contacts",
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
        ),
    ])
    .unwrap_or_else(|e| panic!("{e}"))
}

fn services_catalogue() -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines/families.toml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // The catalogue's own service-contact entries, so the test checks what runs publish.
    let start = text
        .find("[[indicator]]\nid = \"sc_contacts\"")
        .unwrap_or(0);
    let end = text
        .find("# ---- Legal and policy review")
        .unwrap_or(text.len());
    format!("format_version = 1\n{}", &text[start..end])
}

const KEN_LIKE: &[(i64, &str, &str, i64)] = &[
    (2017, "grooming", "helpline", 40),
    (2017, "not_ocsea", "helpline", 200),
    (2017, "csam", "hotline", 120),
    (2018, "grooming", "helpline", 50),
    (2018, "sextortion", "helpline", 30),
    (2018, "csam", "hotline", 150),
    (2019, "grooming", "helpline", 70),
    (2019, "not_ocsea", "helpline", 260),
    (2019, "live_streaming", "helpline", 3),
    (2019, "csam", "hotline", 180),
];

#[test]
fn contact_totals_withhold_counts_under_5_and_a_complement() {
    let rows = rows_of(
        &services_catalogue(),
        "service_contacts",
        contacts(KEN_LIKE),
    );
    let total = find(&rows, "sc_contacts", TOTAL, TOTAL);
    assert_eq!(total.estimate, Some(1103.0));
    assert_eq!(
        find(&rows, "sc_contacts", "year", "2018").estimate,
        Some(230.0)
    );
    let live = find(&rows, "sc_contacts", "category", "live_streaming");
    assert_eq!(
        (live.flag, live.estimate, live.n_unweighted),
        (Flag::SmallCount, None, 0)
    );
    // The smallest other category (sextortion, 30) is withheld so that 3 = total - the others cannot be done.
    let sextortion = find(&rows, "sc_contacts", "category", "sextortion");
    assert_eq!(
        (sextortion.flag, sextortion.estimate),
        (Flag::SmallCount, None)
    );
    assert_eq!(
        find(&rows, "sc_contacts", "category", "grooming").estimate,
        Some(160.0)
    );
    // An empty category is not a complement (and is not a number: no record).
    let empty = find(&rows, "sc_contacts", "category", "other_online_abuse");
    assert_eq!(empty.flag, Flag::Suppressed);
    assert_eq!(
        find(&rows, "sc_contacts", "organisation_type", "hotline").estimate,
        Some(450.0)
    );
}

#[test]
fn the_ocsea_share_is_a_share_of_contacts_without_an_interval() {
    let rows = rows_of(
        &services_catalogue(),
        "service_contacts",
        contacts(KEN_LIKE),
    );
    let share = find(&rows, "sc_ocsea_share", TOTAL, TOTAL);
    assert_eq!(share.statistic, "share");
    assert_eq!(
        share.estimate,
        Some(643.0 / 1103.0),
        "contacts, not rows (8 of 10)"
    );
    assert_eq!(
        (share.ci_method, share.ci_lower, share.ci_upper),
        ("none", None, None)
    );
    assert_eq!(share.n_unweighted, 1103);
    assert_eq!(share.flag, Flag::Ok);
    let y2018 = find(&rows, "sc_ocsea_share", "year", "2018");
    assert_eq!(y2018.estimate, Some(1.0), "2018 holds only OCSEA contacts");
    // Rate and change of the same contacts.
    let rate = find(&rows, "sc_ocsea_rate", "year", "2019");
    let users = 1_000_000.0 * 0.5;
    assert_eq!(rate.estimate, Some(253.0 / users * 10_000.0));
    let change = find(&rows, "sc_ocsea_change", TOTAL, TOTAL);
    assert_eq!(change.estimate, Some((253.0 - 160.0) / 160.0));
}

#[test]
fn a_share_of_a_sum_is_withheld_with_a_small_complement_and_with_its_withheld_denominator() {
    // 2017: 3 contacts not about OCSEA of 103 -> the share (97%) would give 3 away; 2018: 4 contacts in all.
    let data = [
        (2017, "grooming", "helpline", 100),
        (2017, "not_ocsea", "helpline", 3),
        (2018, "grooming", "helpline", 4),
        (2019, "grooming", "helpline", 80),
        (2019, "not_ocsea", "helpline", 90),
    ];
    let rows = rows_of(&services_catalogue(), "service_contacts", contacts(&data));
    let y2017 = find(&rows, "sc_ocsea_share", "year", "2017");
    assert_eq!(
        (y2017.flag, y2017.estimate, y2017.n_unweighted),
        (Flag::SmallCount, None, 0)
    );
    // The same OCSEA contacts of 2017 in the rate are withheld with it, and the change from 2017 as well.
    let rate = find(&rows, "sc_ocsea_rate", "year", "2017");
    assert!(rate.flags.hides_estimate(), "{rate:?}");
    let change = find(&rows, "sc_ocsea_change", TOTAL, TOTAL);
    assert!(change.flags.hides_estimate(), "{change:?}");
    // 2018: 4 contacts in all (withheld in sc_contacts): the share, whose n would be 4, is withheld too.
    assert!(
        find(&rows, "sc_contacts", "year", "2018")
            .flags
            .hides_estimate()
    );
    assert!(
        find(&rows, "sc_ocsea_share", "year", "2018")
            .flags
            .hides_estimate()
    );
    // No year row of the share can be derived from the total and the others: two years are withheld.
    let withheld = ["2017", "2018", "2019"]
        .iter()
        .filter(|y| {
            find(&rows, "sc_ocsea_share", "year", y)
                .flags
                .hides_estimate()
        })
        .count();
    assert!(withheld >= 2, "{withheld}");
}

const LEGAL: &str = r#"
format_version = 1
[[indicator]]
id = "legal"
label = "l"
version = "1.0.0"
table = "legal_provisions"
statistic = "categorical"
universe = 'true'
universe_label = "u"
variable = "status"
unit = "status code"
disaggregations = ["provision"]
"#;

fn review(rows: &[(&str, &str)]) -> RecordBatch {
    RecordBatch::try_from_iter([
        ("provision", text(rows.iter().map(|r| r.0).collect())),
        ("status", text(rows.iter().map(|r| r.1).collect())),
    ])
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_status_is_its_code_per_provision_and_a_missing_provision_is_not_collected() {
    let data = [
        ("criminalises_grooming", "yes"),
        ("criminalises_csam_production", "partial"),
        ("criminalises_csam_possession", "no"),
        ("criminalises_csam_distribution", "unclear"),
        ("criminalises_csam_distribution", "yes"),
    ];
    let rows = rows_of(LEGAL, "legal_provisions", review(&data));
    assert_eq!(rows.len(), 11, "one row per provision, no total");
    assert!(
        rows.iter()
            .all(|r| r.domain == "provision" && r.statistic == "categorical")
    );
    let status = |p: &str| {
        let r = find(&rows, "legal", "provision", p);
        (r.estimate, r.flag, r.n_unweighted)
    };
    assert_eq!(status("criminalises_grooming"), (Some(1.0), Flag::Ok, 1));
    assert_eq!(
        status("criminalises_csam_production"),
        (Some(2.0), Flag::Ok, 1)
    );
    assert_eq!(
        status("criminalises_csam_possession"),
        (Some(3.0), Flag::Ok, 1)
    );
    assert_eq!(
        status("national_action_plan"),
        (None, Flag::NotCollected, 0)
    );
    // Two records that disagree are not one status.
    assert_eq!(status("criminalises_csam_distribution").1, Flag::Suppressed);
    // A country without the table: one not-collected row, as for every family.
    let none = family_indicators(
        "TST",
        &BTreeMap::new(),
        &population(),
        ReferenceYears::default(),
        &catalogue(LEGAL),
        &crate::pipeline_config::Thresholds::NCHS,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(none.len(), 1);
    assert_eq!(none[0].flag, Flag::NotCollected);
    let cat = catalogue(LEGAL);
    assert_eq!(cat.indicators[0].codes.len(), 4);
    let titles = &cat.indicators[0].disaggregations[0].titles;
    assert_eq!(titles.len(), 11, "the checklist's wording, from the schema");
    assert!(titles["national_action_plan"].starts_with("A national action plan"));
    assert!(!cat.indicators[0].disclosure_control);
}

#[test]
fn a_categorical_needs_a_categorical_variable_and_one_breakdown() {
    let bad = |from: &str, to: &str| {
        let text = LEGAL.replace(from, to);
        parse_family_catalogue(Path::new("families.toml"), &text, &schemas())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(
        bad("variable = \"status\"", "variable = \"review_date\"")
            .contains("not a categorical column")
    );
    assert!(bad("variable = \"status\"\n", "").contains("needs a categorical `variable`"));
    assert!(bad("disaggregations = [\"provision\"]", "").contains("exactly one breakdown"));
    assert!(
        bad(
            "unit = \"status code\"",
            "unit = \"status code\"\ndisclosure_control = true"
        )
        .contains("no disclosure control")
    );
    let share = services_catalogue().replace(
        "variable = \"contacts\"\ndisaggregations = [\"year\"]",
        "variable = \"category\"\ndisaggregations = [\"year\"]",
    );
    let e = parse_family_catalogue(Path::new("families.toml"), &share, &schemas())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("not a numeric column"), "{e}");
}
