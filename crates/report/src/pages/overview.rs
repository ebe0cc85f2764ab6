//! The front page (headline chart, tile map and table, stale countries) and the lists of indicators and countries.

use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use crate::model::Model;
use crate::run_info::RunInfo;

use super::charts::{cross_country_chart, tile_map, totals_by_region};
use super::links::{
    CountryLink, CountryRow, Link, RegionRows, STALE, country_file, family_title, indicator_file,
    indicator_links, label_of,
};

pub(super) fn overview(model: &Model<'_>, run: &RunInfo) -> minijinja::Value {
    #[derive(Serialize)]
    struct Headline {
        id: String,
        label: String,
        version: String,
        universe_label: String,
        noun: String,
        href: String,
        chart: String,
        map: String,
        regions: Vec<RegionRows>,
    }
    let headline = model
        .context
        .headline
        .as_deref()
        .filter(|id| model.indicators.iter().any(|i| i == id))
        .map(|id| {
            let def = model.definition(id);
            let label = label_of(model, id);
            Headline {
                id: id.to_string(),
                label: label.clone(),
                version: def.map(|d| d.version.clone()).unwrap_or_default(),
                universe_label: def.map(|d| d.universe_label.clone()).unwrap_or_default(),
                noun: def
                    .map(|d| crate::format::population_noun(&d.table))
                    .filter(|n| !n.is_empty())
                    .unwrap_or("people")
                    .to_string(),
                href: indicator_file(id),
                chart: cross_country_chart(model, id, "headline", &label),
                map: tile_map(model, id, "map", &label),
                regions: totals_by_region(model, id)
                    .into_iter()
                    .map(|(region, rows)| RegionRows {
                        name: region,
                        rows: rows
                            .into_iter()
                            .map(|(name, iso3, r)| CountryRow {
                                href: country_file(&iso3),
                                name,
                                level: String::new(),
                                version: r.indicator_version.clone(),
                                cells: model.cells(r),
                            })
                            .collect(),
                    })
                    .collect(),
            }
        });
    // Countries whose figures are kept from an earlier run because this run failed for them.
    let stale: Vec<CountryLink> = model
        .countries
        .iter()
        .filter(|c| {
            run.countries
                .get(&c.iso3)
                .is_some_and(|r| r.status == STALE)
        })
        .map(|c| CountryLink {
            href: country_file(&c.iso3),
            name: c.name.clone(),
            region: c.region.clone(),
        })
        .collect();
    context! {
        headline => Serde(headline),
        indicators => Serde(indicator_links(model)),
        stale => Serde(stale),
    }
}

pub(super) fn indicator_list(model: &Model<'_>) -> minijinja::Value {
    #[derive(Serialize)]
    struct ListGroup {
        name: String,
        items: Vec<Link>,
    }
    let mut groups: Vec<ListGroup> = Vec::new();
    for link in indicator_links(model) {
        let id = model
            .indicators
            .iter()
            .find(|i| indicator_file(i) == link.href)
            .cloned()
            .unwrap_or_default();
        let family = family_title(
            model
                .definition(&id)
                .map(|d| d.table.as_str())
                .unwrap_or(""),
        );
        let detail = model
            .definition(&id)
            .map(|d| format!("({}, version {})", d.statistic, d.version))
            .unwrap_or_default();
        let item = Link { detail, ..link };
        match groups.iter_mut().find(|g| g.name == family) {
            Some(g) => g.items.push(item),
            None => groups.push(ListGroup {
                name: family,
                items: vec![item],
            }),
        }
    }
    context! { title => "Indicators", groups => Serde(groups) }
}

pub(super) fn country_list(model: &Model<'_>) -> minijinja::Value {
    #[derive(Serialize)]
    struct ListGroup {
        name: String,
        items: Vec<Link>,
    }
    let groups: Vec<ListGroup> = model
        .regions()
        .into_iter()
        .map(|region| ListGroup {
            items: model
                .countries
                .iter()
                .filter(|c| c.region == region)
                .map(|c| Link {
                    href: country_file(&c.iso3),
                    label: c.name.clone(),
                    detail: format!("({})", c.iso3),
                })
                .collect(),
            name: region,
        })
        .collect();
    context! { title => "Countries", groups => Serde(groups) }
}
