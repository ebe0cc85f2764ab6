//! One country's page, built as a list of sections ([`SECTIONS`]): the header (region, fieldwork, population, run
//! status), the indicators (profile chart and one table per family), the survey design and weighting, and data
//! quality (ledger, quarantine reasons, routing). A new section is one builder function plus one line in
//! [`SECTIONS`] (and its markup in `templates/country.html`).

use minijinja::value::{Serde, merge_maps};
use minijinja::{Value, context};
use serde::Serialize;

use crate::context::CountryInfo;
use crate::format::{about, thousands};
use crate::model::{Cells, Model, slug};
use crate::run_info::{CountryRun, LedgerLine, RunInfo};
use crate::svg::{ChartSpec, Dot, Group, dot_interval_chart};

use super::charts::{axis, dot_of};
use super::links::{STALE, country_label_of, family_title, indicator_file};

/// What every section of a country's page may read.
struct CountryPage<'a> {
    model: &'a Model<'a>,
    iso3: &'a str,
    /// The country's display name.
    name: String,
    /// The recorded country metadata (none for a country the context does not know).
    info: Option<&'a CountryInfo>,
    /// What the run recorded for the country (none when the manifest does not list it).
    run: Option<&'a CountryRun>,
}

/// A section of the country page: the template variables it fills.
type Section = fn(&CountryPage<'_>) -> Value;

/// The sections of a country's page. Each fills its own template variables (names are not shared).
const SECTIONS: &[Section] = &[header, indicators, sources, design, quality];

pub(super) fn country_page(model: &Model<'_>, run: &RunInfo, iso3: &str) -> Value {
    let page = CountryPage {
        model,
        iso3,
        name: model.country_name(iso3),
        info: model.countries.iter().find(|c| c.iso3 == iso3),
        run: run.countries.get(iso3),
    };
    merge_maps(SECTIONS.iter().map(|section| section(&page)))
}

/// The non-survey sources with a section of their own: service contacts and the legal review (`crate::legal`).
fn sources(page: &CountryPage<'_>) -> Value {
    crate::legal::country_context(page.model, page.iso3)
}

/// Name, region, fieldwork dates, population and the run's status for the country.
fn header(page: &CountryPage<'_>) -> Value {
    let info = page.info;
    let fieldwork = info
        .filter(|c| !c.fieldwork_start.is_empty())
        .map(|c| format!("{} to {}", c.fieldwork_start, c.fieldwork_end))
        .unwrap_or_default();
    let population = info
        .map(|c| c.population)
        .filter(|p| p.is_finite() && *p > 0.0)
        .map(|p| about(p).trim_start_matches("about ").to_string())
        .map(|p| format!("about {p}"))
        .unwrap_or_default();
    context! {
        name => page.name.clone(),
        region => info.map(|c| c.region.clone()).unwrap_or_default(),
        fieldwork => fieldwork,
        population => population,
        population_source => info.map(|c| c.population_source.clone()).unwrap_or_default(),
        status => status_text(page.run),
        error => page.run.and_then(|c| c.error.clone()),
    }
}

/// The run status as the page states it; a stale country says where its figures come from.
fn status_text(run: Option<&CountryRun>) -> String {
    run.map(|c| c.status.clone())
        .filter(|s| !s.is_empty())
        .map(|s| if s == STALE {
            let from = run
                .and_then(|c| c.stale_inputs.as_deref())
                .map(|h| format!(" (deliveries with hash {})", h.chars().take(12).collect::<String>()))
                .unwrap_or_default();
            format!("stale: this run failed for this country and the figures on this page are from the last run in which it succeeded{from}")
        } else {
            s
        })
        .unwrap_or_else(|| "not recorded".into())
}

/// The country's total of every indicator: one table per family, and the profile chart of the proportions.
fn indicators(page: &CountryPage<'_>) -> Value {
    #[derive(Serialize)]
    struct IndicatorRowView {
        href: String,
        label: String,
        cells: Cells,
    }
    #[derive(Serialize)]
    struct Family {
        table: String,
        title: String,
        rows: Vec<IndicatorRowView>,
    }
    let (model, iso3) = (page.model, page.iso3);
    let mut families: Vec<Family> = Vec::new();
    let mut dots = Vec::new();
    for id in &model.indicators {
        let Some(r) = model.total(iso3, id) else {
            continue;
        };
        let table = model
            .definition(id)
            .map(|d| d.table.clone())
            .unwrap_or_default();
        let view = IndicatorRowView {
            href: indicator_file(id),
            label: country_label_of(model, id, iso3),
            cells: model.cells(r),
        };
        if model.statistic(id) == "proportion" {
            dots.push(dot_of(
                model,
                r,
                country_label_of(model, id, iso3),
                Some(indicator_file(id)),
                format!("n = {}", view.cells.n),
            ));
        }
        match families.iter_mut().find(|f| f.table == table) {
            Some(f) => f.rows.push(view),
            None => families.push(Family {
                title: family_title(&table),
                table: slug(&table),
                rows: vec![view],
            }),
        }
    }
    context! {
        chart => profile_chart(&page.name, dots),
        families => Serde(families),
    }
}

/// The profile chart: every proportion indicator's total for the country (empty without one).
fn profile_chart(name: &str, dots: Vec<Dot>) -> String {
    if dots.is_empty() {
        return String::new();
    }
    let title = format!("{name}: proportion indicators");
    let (axis_label, value_text, tick_text) = axis("proportion");
    let spec = ChartSpec {
        id: "profile",
        title: &title,
        axis_label,
        // indicator labels are long: they get most of the width (shortened with an ellipsis
        // beyond it; the row's title and aria text keep them whole)
        label_width: 440.0,
        plot_width: 340.0,
        note_width: 90.0,
        value_text: &value_text,
        tick_text: &tick_text,
        shared_range: None,
    };
    dot_interval_chart(
        &spec,
        &[Group {
            heading: None,
            dots,
        }],
    )
}

/// The survey design (rows, strata, PSUs) and the weighting diagnostics the manifest records.
fn design(page: &CountryPage<'_>) -> Value {
    let design = page.run.and_then(|c| c.design).map(|d| {
        context! {
            rows => thousands(d.rows as f64),
            strata => thousands(d.strata as f64),
            psus => thousands(d.psus as f64),
        }
    });
    context! {
        design => design,
        weighting => Serde(page.run.map(|c| c.weighting.clone()).unwrap_or_default()),
    }
}

/// Data quality: the ledger of deliveries, quarantined rows by reason, routing findings, tables not delivered.
fn quality(page: &CountryPage<'_>) -> Value {
    #[derive(Serialize)]
    struct Ledger<'a> {
        path: &'a str,
        table: &'a str,
        rows_read: String,
        rows_written: String,
        rows_quarantined: String,
    }
    let run = page.run;
    let ledger: Vec<Ledger<'_>> = run
        .map(|c| c.ledger.as_slice())
        .unwrap_or(&[])
        .iter()
        .map(|l: &LedgerLine| Ledger {
            path: &l.path,
            table: &l.table,
            rows_read: thousands(l.rows_read as f64),
            rows_written: thousands(l.rows_written as f64),
            rows_quarantined: thousands(l.rows_quarantined as f64),
        })
        .collect();
    let routing: Vec<[String; 5]> = run
        .map(|c| {
            c.routing
                .iter()
                .map(|r| {
                    [
                        r.path.clone(),
                        r.column.clone(),
                        r.issue.clone(),
                        thousands(r.rows as f64),
                        r.first_row.to_string(),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    let reasons: Vec<(String, String)> = run
        .map(|c| {
            c.quarantine_reasons
                .iter()
                .map(|(k, v)| (k.clone(), thousands(*v as f64)))
                .collect()
        })
        .unwrap_or_default();
    context! {
        ledger => Serde(ledger),
        reasons => Serde(reasons),
        routing => Serde(routing),
        not_delivered => run.map(|c| c.not_delivered.join(", ")).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_status_says_not_recorded_and_a_stale_one_names_its_inputs() {
        assert_eq!(status_text(None), "not recorded");
        let ok = CountryRun {
            status: "ok".into(),
            ..CountryRun::default()
        };
        assert_eq!(status_text(Some(&ok)), "ok");
        let stale = CountryRun {
            status: STALE.into(),
            stale_inputs: Some("0123456789abcdef".into()),
            ..CountryRun::default()
        };
        let text = status_text(Some(&stale));
        assert!(text.starts_with("stale: "), "{text}");
        assert!(
            text.ends_with("(deliveries with hash 0123456789ab)"),
            "{text}"
        );
    }

    /// Sections are merged into one context where the first key wins: two sections filling the same variable
    /// would hide one silently, so every key belongs to one section.
    #[test]
    fn sections_fill_disjoint_variables() {
        let ctx = crate::test_data::context();
        let rows = crate::test_data::rows(&ctx);
        let model = Model::new(&ctx, &rows);
        let iso3 = model.countries[0].iso3.clone();
        let page = CountryPage {
            model: &model,
            iso3: &iso3,
            name: model.country_name(&iso3),
            info: model.countries.first(),
            run: None,
        };
        let mut seen = std::collections::BTreeSet::new();
        for section in SECTIONS {
            let keys = section(&page).try_iter().expect("a section is a map");
            for key in keys {
                assert!(seen.insert(key.to_string()), "`{key}` is filled twice");
            }
        }
        for key in [
            "name", "status", "families", "chart", "design", "ledger", "routing",
        ] {
            assert!(seen.contains(key), "no section fills `{key}`");
        }
        let merged = country_page(&model, &RunInfo::default(), &iso3);
        assert_eq!(
            merged.get_attr("status").map(|v| v.to_string()).ok(),
            Some("not recorded".to_string())
        );
    }

    #[test]
    fn no_proportion_means_no_profile_chart() {
        assert_eq!(profile_chart("Somewhere", Vec::new()), "");
    }
}
