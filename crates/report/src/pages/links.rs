//! File names of the report's pages, the labels of indicators and countries, and the link views the templates
//! list them with.

use serde::Serialize;

use crate::format::humanise;
use crate::model::{Cells, Model, slug};

/// The page of an indicator.
pub fn indicator_file(id: &str) -> String {
    format!("indicator-{}.html", slug(id))
}

/// The page of a country.
pub fn country_file(iso3: &str) -> String {
    format!("country-{}.html", slug(iso3))
}

/// A link in a list: target page, text and a detail after it.
#[derive(Serialize)]
pub(super) struct Link {
    pub(super) href: String,
    pub(super) label: String,
    pub(super) detail: String,
}

/// A country in the navigation and in the list of stale countries.
#[derive(Serialize)]
pub(super) struct CountryLink {
    pub(super) href: String,
    pub(super) name: String,
    pub(super) region: String,
}

/// One country's row of an indicator table (a level of a domain, or the total when `level` is empty).
#[derive(Serialize)]
pub(super) struct CountryRow {
    pub(super) href: String,
    pub(super) name: String,
    pub(super) level: String,
    pub(super) version: String,
    pub(super) cells: Cells,
}

/// The rows of one region.
#[derive(Serialize)]
pub(super) struct RegionRows {
    pub(super) name: String,
    pub(super) rows: Vec<CountryRow>,
}

/// Every country of the run, for the navigation.
pub(super) fn country_links(model: &Model<'_>) -> Vec<CountryLink> {
    model
        .countries
        .iter()
        .map(|c| CountryLink {
            href: country_file(&c.iso3),
            name: c.name.clone(),
            region: c.region.clone(),
        })
        .collect()
}

/// The label of an indicator on a country's page: with that country's reference years.
pub(super) fn country_label_of(model: &Model<'_>, id: &str, iso3: &str) -> String {
    let country = model.countries.iter().find(|c| c.iso3 == iso3);
    model
        .definition(id)
        .map(|d| d.label_for(country))
        .unwrap_or_else(|| id.to_string())
}

/// The label of an indicator (its id when the context does not define it).
pub(super) fn label_of(model: &Model<'_>, id: &str) -> String {
    model
        .definition(id)
        .map(|d| d.label.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Every indicator of the run as a link to its page.
pub(super) fn indicator_links(model: &Model<'_>) -> Vec<Link> {
    model
        .indicators
        .iter()
        .map(|id| Link {
            href: indicator_file(id),
            label: label_of(model, id),
            detail: String::new(),
        })
        .collect()
}

/// Manifest status of a country whose outputs are kept from its last good run (this run failed for it).
pub(super) const STALE: &str = "stale";

/// Heading of an indicator family (source table).
pub fn family_title(table: &str) -> String {
    match table {
        "child_survey" => "Household survey: children".into(),
        "caregiver_survey" => "Household survey: caregivers".into(),
        "" => "Other indicators".into(),
        other => humanise(other),
    }
}
