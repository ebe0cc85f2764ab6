//! Tests over the shipped `schemas/` and `countries/` folders of the repository.

use std::path::PathBuf;

use crate::country::list_countries;
use crate::{load_country, load_schemas};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn shipped_schemas_load() {
    let set = load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    assert!(set.get("child_survey").is_some());
    assert!(set.get("caregiver_survey").is_some());
}

#[test]
fn all_thirteen_shipped_countries_load() {
    let dir = repo().join("countries");
    let codes = list_countries(&dir).unwrap();
    assert_eq!(codes.len(), 13, "{codes:?}");
    for iso3 in codes {
        let config = load_country(&dir, &iso3).unwrap_or_else(|e| panic!("{iso3}:\n{e}"));
        let child = &config.deliveries["child_survey"];
        let offered = &child.columns["offered_money_images"];
        assert!(offered.source.is_some(), "{iso3}");
        assert!(
            offered.codes.values().any(|l| l == "yes"),
            "{iso3}: {offered:?}"
        );
        assert!(
            offered.missing.values().any(|l| l == "dont_know"),
            "{iso3}: {offered:?}"
        );
    }
}
