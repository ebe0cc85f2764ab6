//! The repository's own `pipelines/` catalogue must load against the repository's `schemas/` and contain every
//! indicator issue 4 asks for.

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
