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
fn every_shipped_country_loads() {
    let dir = repo().join("countries");
    // Every country file, whatever their number (a committed 14th config is checked like the others).
    let codes = list_countries(&dir).unwrap();
    assert!(!codes.is_empty(), "no country files in {}", dir.display());
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

/// Published scaled counts of the facts file's headline table ("report scaled count"), where they are not marked
/// uncertain: the configured headline target x internet share x 12-17 population must land within the facts file's
/// stated tolerance (reports round down: published count = computed x (0.75 .. 1.05)).
/// Not checked: ETH (~300,000 published, 10% x 25% x 16.7 M = 417,000: -28%, the report's "at least 10%" and its
/// count disagree under the Nature population), UGA ([U] count), and countries without a published count.
#[test]
fn headline_targets_match_published_scaled_counts() {
    let dir = repo().join("countries");
    let published = [
        ("KHM", 160_000.0),
        ("MYS", 100_000.0),
        ("MOZ", 300_000.0),
        ("NAM", 20_000.0),
        ("PHL", 2_000_000.0),
        ("TZA", 200_000.0),
        ("THA", 400_000.0),
    ];
    for (iso3, count) in published {
        let c = load_country(&dir, iso3).unwrap_or_else(|e| panic!("{e}"));
        let any = c
            .synth
            .as_ref()
            .and_then(|s| s.settings.get("clear_examples_any"))
            .and_then(|v| v.as_float());
        let any = any.unwrap_or_else(|| panic!("{iso3}: no clear_examples_any"));
        let computed = any * c.population.internet_share * c.population.population_12_17;
        let ratio = count / computed;
        assert!(
            (0.75..=1.05).contains(&ratio),
            "{iso3}: published {count} vs computed {computed:.0} (ratio {ratio:.2})"
        );
    }
}

#[test]
fn at_least_two_countries_lack_an_item() {
    let dir = repo().join("countries");
    let lacking = list_countries(&dir)
        .unwrap()
        .into_iter()
        .filter(|iso3| {
            let c = load_country(&dir, iso3).unwrap_or_else(|e| panic!("{e}"));
            c.deliveries
                .values()
                .any(|d| d.columns.values().any(|m| m.not_collected))
        })
        .count();
    assert!(lacking >= 2, "{lacking}");
}

/// Issue 16: every shipped country delivers its helpline/hotline/NGO contacts and its legal review, the two tables
/// vary the way deliveries do (one file per organisation in several countries, each part naming its organisation
/// and type as constants; an organisation that records neither the child's sex nor age; CSV, `.xlsx`, `.sav` and
/// `.dta`), and every country's checklist numbering covers every provision of the schema.
#[test]
fn every_country_delivers_service_contacts_and_a_legal_review_in_varied_forms() {
    let dir = repo().join("countries");
    let schemas = load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let provisions: Vec<String> = schemas
        .get("legal_provisions")
        .and_then(|t| t.field("provision"))
        .and_then(|f| f.categories.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.label)
        .collect();
    assert_eq!(provisions.len(), 11);
    let (mut in_parts, mut without_sex_or_age) = (0, 0);
    let mut formats = std::collections::BTreeSet::new();
    for iso3 in list_countries(&dir).unwrap() {
        let config = load_country(&dir, &iso3).unwrap_or_else(|e| panic!("{iso3}:\n{e}"));
        let services = &config.deliveries["service_contacts"];
        let legal = &config.deliveries["legal_provisions"];
        assert!(services.delivered && legal.delivered, "{iso3}");
        if !services.parts.is_empty() {
            in_parts += 1;
        }
        for file in services.files().iter().chain(legal.files().iter()) {
            formats.insert(format!("{:?}", file.format));
        }
        for file in services.files() {
            let constant = |c: &str| file.columns[c].constant.is_some();
            assert_eq!(
                constant("organisation"),
                !services.parts.is_empty(),
                "{iso3} {}",
                file.file
            );
            assert_eq!(constant("organisation_type"), constant("organisation"));
            if file.columns["child_sex"].not_collected
                && file.columns["child_age_band"].not_collected
            {
                without_sex_or_age += 1;
            }
            let labels: std::collections::BTreeSet<&String> =
                file.columns["category"].codes.values().collect();
            assert!(
                labels.len() >= 5 && labels.iter().any(|l| *l == "not_ocsea"),
                "{iso3} {}: {labels:?}",
                file.file
            );
        }
        let mapped: std::collections::BTreeSet<&String> =
            legal.columns["provision"].codes.values().collect();
        assert_eq!(mapped.len(), provisions.len(), "{iso3}: {mapped:?}");
    }
    assert!(in_parts >= 3, "{in_parts} countries deliver in parts");
    assert!(without_sex_or_age >= 2, "{without_sex_or_age}");
    for f in ["Csv", "Xlsx", "Sav", "Dta"] {
        assert!(formats.contains(f), "{formats:?}");
    }
}
