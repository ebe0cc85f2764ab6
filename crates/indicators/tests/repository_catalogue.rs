//! The repository's own `pipelines/` catalogue must load against the repository's `schemas/` and contain every
//! indicator issue 4 asks for.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use dh_indicators::{Statistic, load};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn repository_catalogue_is_valid_and_complete() {
    let schemas =
        dh_config::load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let (pipeline, catalogue) =
        load(&repo().join("pipelines"), &schemas).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            pipeline.thresholds.suppress_below,
            pipeline.thresholds.low_base_below
        ),
        (25, 50)
    );
    let required = [
        "ocsea_clear_any",
        "offered_money_images",
        "offered_money_meet",
        "threatened_sexual",
        "images_shared",
        "asked_talk_sex",
        "asked_images",
        "sexual_comments",
        "sent_sexual_images",
        "ocsea_told_nobody",
        "ocsea_told_police",
        "ocsea_told_helpline",
        "no_help_knowledge",
        "knows_how_report",
        "ocsea_offender_known",
        "offered_money_meet_via_social_media",
        "caregiver_would_report_police",
        "received_safety_info",
        "daily_internet_use",
    ];
    for id in required {
        let ind = catalogue
            .get(id)
            .unwrap_or_else(|| panic!("indicator `{id}` is missing"));
        for d in ["sex", "age_band", "urban_rural"] {
            assert!(
                ind.disaggregations.iter().any(|x| x.column == d),
                "{id} lacks {d}"
            );
        }
    }
    let headline = catalogue
        .get("ocsea_clear_any")
        .unwrap_or_else(|| panic!("headline"));
    assert_eq!(headline.statistic, Statistic::Proportion);
    assert_eq!(
        headline.numerator.as_ref().map(|n| n.columns()),
        Some(vec![
            "offered_money_images",
            "offered_money_meet",
            "threatened_sexual",
            "images_shared"
        ])
    );
    let older = catalogue
        .get("accepted_money_images")
        .unwrap_or_else(|| panic!("15-17 item"));
    assert_eq!(older.universe.source(), "age >= 15");
}

/// Every indicator of the repository's catalogues says what its values are (the `unit` column), and the year of
/// connection to ICSE is a year (written 2013, never as a quantity).
#[test]
fn repository_indicators_have_units() {
    let schemas =
        dh_config::load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let (_, catalogue) =
        load(&repo().join("pipelines"), &schemas).unwrap_or_else(|e| panic!("{e}"));
    let mut units: Vec<(&str, &str)> = catalogue
        .indicators
        .iter()
        .map(|i| (i.id.as_str(), i.unit.as_str()))
        .collect();
    units.extend(
        catalogue
            .families
            .indicators
            .iter()
            .map(|i| (i.id.as_str(), i.unit.as_str())),
    );
    assert!(units.iter().all(|(_, u)| !u.is_empty()), "{units:?}");
    let unit = |id: &str| {
        units
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, u)| *u)
            .unwrap_or_default()
    };
    assert_eq!(unit("ocsea_clear_any"), "proportion");
    assert_eq!(unit("ocsea_clear_any_count"), "children");
    assert_eq!(unit("fw_barrier_stigma"), "proportion");
    assert_eq!(unit("int_interviews"), "interviews");
    assert_eq!(unit("le_cases"), "cases");
    assert_eq!(unit("le_cybertipline_reports"), "reports");
    assert_eq!(
        unit("le_cybertipline_rate"),
        "reports per 10,000 internet-using children aged 12-17"
    );
    assert_eq!(unit("le_cybertipline_change_2017_2019"), "relative change");
    assert_eq!(unit("le_icse_connected_since"), dh_indicators::units::YEAR);
}
