//! One indicator's page: the cross-country chart and table of totals, and a small-multiple panel and table per
//! domain level.

use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use crate::format::humanise;
use crate::model::{Model, slug};
use crate::svg::{ChartSpec, Dot, Group, dot_interval_chart};

use super::charts::{axis, cross_country_chart, dot_of, totals_by_region};
use super::links::{CountryRow, country_file, label_of};

/// One level's small-multiple chart of a domain.
#[derive(Serialize)]
struct Panel {
    level: String,
    chart: String,
}

/// One domain: a chart per level and the table of every country's rows.
#[derive(Serialize)]
struct Domain {
    domain: String,
    label: String,
    panels: Vec<Panel>,
    rows: Vec<CountryRow>,
}

/// One indicator's page: the cross-country chart and table of totals, and its domains.
pub(super) fn indicator_page(model: &Model<'_>, id: &str) -> minijinja::Value {
    let label = label_of(model, id);
    let rows: Vec<CountryRow> = totals_by_region(model, id)
        .into_iter()
        .flat_map(|(_, rows)| rows)
        .map(|(name, iso3, r)| CountryRow {
            href: country_file(&iso3),
            name,
            level: String::new(),
            version: r.indicator_version.clone(),
            cells: model.cells(r),
        })
        .collect();
    // Small multiples keep the order of the cross-country chart (by total estimate within region).
    let order: Vec<(String, String)> = totals_by_region(model, id)
        .into_iter()
        .flat_map(|(_, rows)| rows.into_iter().map(|(name, iso3, _)| (name, iso3)))
        .collect();
    let domains: Vec<Domain> = model
        .domains(id)
        .into_iter()
        .map(|(domain, levels)| domain_view(model, id, &label, &order, domain, &levels))
        .collect();
    context! {
        id => id,
        label => label.clone(),
        def => Serde(model.definition(id)),
        chart => cross_country_chart(model, id, "countries", &label),
        rows => Serde(rows),
        domains => Serde(domains),
    }
}

/// The small multiples of one domain (one panel per level, countries in `order`, sharing one axis range) and the
/// table of every country's rows for it.
fn domain_view(
    model: &Model<'_>,
    id: &str,
    label: &str,
    order: &[(String, String)],
    domain: String,
    levels: &[String],
) -> Domain {
    let (axis_label, value_text, tick_text) = axis(model.value_kind(id));
    let dlabel = humanise(&domain);
    let panel_dots: Vec<Vec<Dot>> = levels
        .iter()
        .map(|level| {
            order
                .iter()
                .filter_map(|(name, iso3)| {
                    let r = model
                        .rows_of(iso3, id)
                        .into_iter()
                        .find(|r| r.domain == domain && &r.domain_value == level)?;
                    let n = format!("n = {}", model.cells(r).n);
                    Some(dot_of(model, r, name.clone(), None, n))
                })
                .collect()
        })
        .collect();
    let shared = crate::svg::axis_range(
        &panel_dots
            .iter()
            .map(|dots| Group {
                heading: None,
                dots: dots.clone(),
            })
            .collect::<Vec<_>>(),
    );
    let panels = levels
        .iter()
        .zip(panel_dots)
        .enumerate()
        .map(|(k, (level, dots))| {
            let chart_id = format!("{}-{k}", slug(&domain));
            let level = humanise(level);
            let title = format!("{label}: {dlabel} {level}");
            let spec = ChartSpec {
                id: &chart_id,
                title: &title,
                axis_label,
                label_width: 110.0,
                plot_width: 220.0,
                // room for "n = withheld"
                note_width: 86.0,
                value_text: &value_text,
                tick_text: &tick_text,
                shared_range: Some(shared),
            };
            Panel {
                level,
                chart: dot_interval_chart(
                    &spec,
                    &[Group {
                        heading: None,
                        dots,
                    }],
                ),
            }
        })
        .collect();
    let rows = order
        .iter()
        .flat_map(|(name, iso3)| {
            model
                .rows_of(iso3, id)
                .into_iter()
                .filter(|r| r.domain == domain)
                .map(|r| CountryRow {
                    href: country_file(iso3),
                    name: name.clone(),
                    level: humanise(&r.domain_value),
                    version: r.indicator_version.clone(),
                    cells: model.cells(r),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    Domain {
        label: dlabel,
        domain,
        panels,
        rows,
    }
}
