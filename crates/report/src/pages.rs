//! The HTML pages of `OUT/report/`: one minijinja template per page kind (`templates/`, compiled into the binary),
//! filled from the [`Model`]. Pages are flat files so every link is relative and works offline:
//! `index.html`, `indicators.html`, `countries.html`, `methods.html`, `indicator-<id>.html`, `country-<ISO3>.html`.

use minijinja::value::Serde;
use minijinja::{Environment, context};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::ReportError;
use crate::format::{about, humanise, statistic_value};
use crate::model::{Cells, Model, slug};
use crate::run_info::{LedgerLine, RunInfo};
use crate::svg::{ChartSpec, Dot, DotValue, Group, dot_interval_chart};
use crate::table::IndicatorRow;
use crate::tilemap::{MapSpec, Tile, TileValue};

/// One rendered page: file name inside `OUT/report/` and its HTML.
pub struct Page {
    pub file: String,
    pub html: String,
}

pub fn indicator_file(id: &str) -> String {
    format!("indicator-{}.html", slug(id))
}

pub fn country_file(iso3: &str) -> String {
    format!("country-{}.html", slug(iso3))
}

fn environment() -> Result<Environment<'static>, ReportError> {
    let mut env = Environment::new();
    let templates = [
        ("base.html", include_str!("../templates/base.html")),
        ("macros.html", include_str!("../templates/macros.html")),
        ("index.html", include_str!("../templates/index.html")),
        ("list.html", include_str!("../templates/list.html")),
        (
            "indicator.html",
            include_str!("../templates/indicator.html"),
        ),
        ("country.html", include_str!("../templates/country.html")),
        ("methods.html", include_str!("../templates/methods.html")),
        ("legal.html", include_str!("../templates/legal.html")),
        (
            "legal_styles.html",
            include_str!("../templates/legal_styles.html"),
        ),
        (
            "country_sources.html",
            include_str!("../templates/country_sources.html"),
        ),
    ];
    for (name, source) in templates {
        env.add_template(name, source)
            .map_err(|e| template_error(name, &e))?;
    }
    Ok(env)
}

fn template_error(page: &str, e: &minijinja::Error) -> ReportError {
    ReportError::Template {
        page: page.into(),
        message: format!("{e:#}"),
    }
}

#[derive(Serialize)]
struct RunView {
    tool: String,
    version: String,
    manifest_sha256: String,
}

#[derive(Serialize)]
struct Link {
    href: String,
    label: String,
    detail: String,
}

#[derive(Serialize)]
struct CountryLink {
    href: String,
    name: String,
    region: String,
}

#[derive(Serialize)]
struct CountryRow {
    href: String,
    name: String,
    level: String,
    version: String,
    cells: Cells,
}

#[derive(Serialize)]
struct RegionRows {
    name: String,
    rows: Vec<CountryRow>,
}

/// Renders every page.
pub fn render_pages(model: &Model<'_>, run: &RunInfo) -> Result<Vec<Page>, ReportError> {
    let env = environment()?;
    let run_view = RunView {
        tool: run.tool_name.clone(),
        version: run.tool_version.clone(),
        manifest_sha256: run.manifest_sha256.clone(),
    };
    let common = context! {
        run => Serde(&run_view),
        suppress_below => model.context.suppress_below,
        low_base_below => model.context.low_base_below,
        rse_percent => clean(model.context.reliability.rse_above * 100.0).to_string(),
        ci_width_points => clean(model.context.reliability.ci_width_above * 100.0).to_string(),
        effective_n_below => clean(model.context.reliability.effective_n_below).to_string(),
        countries => Serde(country_links(model)),
    };
    let render =
        |template: &str, file: String, ctx: minijinja::Value| -> Result<Page, ReportError> {
            let tmpl = env
                .get_template(template)
                .map_err(|e| template_error(&file, &e))?;
            let html = tmpl
                .render(context! { ..ctx, ..common.clone() })
                .map_err(|e| template_error(&file, &e))?;
            Ok(Page {
                file,
                html: scroll_tables(&html),
            })
        };
    let mut pages = vec![
        render("index.html", "index.html".into(), overview(model, run))?,
        render("list.html", "indicators.html".into(), indicator_list(model))?,
        render("list.html", "countries.html".into(), country_list(model))?,
        render("methods.html", "methods.html".into(), methods(model))?,
    ];
    // One page per indicator and per country, rendered in parallel (each page's bytes depend only on the model).
    let jobs: Vec<(bool, &str)> = model
        .indicators
        .iter()
        .map(|id| (true, id.as_str()))
        .chain(model.countries.iter().map(|c| (false, c.iso3.as_str())))
        .collect();
    let rest = jobs
        .par_iter()
        .map(|(is_indicator, key)| {
            if *is_indicator && crate::legal::is_grid(model, key) {
                render(
                    "legal.html",
                    indicator_file(key),
                    crate::legal::grid_page(model, key),
                )
            } else if *is_indicator {
                render(
                    "indicator.html",
                    indicator_file(key),
                    indicator_page(model, key),
                )
            } else {
                render(
                    "country.html",
                    country_file(key),
                    context! { ..country_page(model, run, key), ..crate::legal::country_context(model, key) },
                )
            }
        })
        .collect::<Result<Vec<Page>, ReportError>>()?;
    pages.extend(rest);
    Ok(pages)
}

/// The class of the box each table is wrapped in (the style sheet lets it scroll sideways).
pub const TABLE_BOX: &str = "table-scroll";

/// Wraps every table of a page in a box of its own that scrolls sideways, so a table wider than a phone's screen
/// never widens the page. Done on the rendered page so that every template's tables get it; the page's text is
/// escaped, so `<table` only occurs as markup.
fn scroll_tables(html: &str) -> String {
    html.replace(
        "<table",
        &format!(r#"<div class="{TABLE_BOX}" tabindex="0"><table"#),
    )
    .replace("</table>", "</table></div>")
}

fn country_links(model: &Model<'_>) -> Vec<CountryLink> {
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
fn country_label_of(model: &Model<'_>, id: &str, iso3: &str) -> String {
    let country = model.countries.iter().find(|c| c.iso3 == iso3);
    model
        .definition(id)
        .map(|d| d.label_for(country))
        .unwrap_or_else(|| id.to_string())
}

fn label_of(model: &Model<'_>, id: &str) -> String {
    model
        .definition(id)
        .map(|d| d.label.clone())
        .unwrap_or_else(|| id.to_string())
}

fn indicator_links(model: &Model<'_>) -> Vec<Link> {
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

/// The chart's value formatter and axis wording for a statistic.
/// Axis label, value formatter and tick formatter of a chart.
type Axis = (&'static str, fn(f64) -> String, fn(f64) -> String);

fn axis(statistic: &str) -> Axis {
    match (statistic, crate::format::scale_of(statistic)) {
        ("proportion", _) => ("Per cent of the population base", pct_value, pct_tick),
        ("count", _) => ("Number", count_value, count_value),
        (_, crate::format::Scale::Percent) => ("Per cent", pct_value, pct_tick),
        (_, crate::format::Scale::Whole) => ("Number", count_value, count_value),
        (_, crate::format::Scale::Decimal) => ("Value", mean_value, mean_tick),
        (_, crate::format::Scale::Year) => ("Year", year_value, year_value),
    }
}

fn pct_value(x: f64) -> String {
    statistic_value("proportion", x)
}
/// Tick values are multiples of a round step; rounding to 6 decimals removes floating-point residue
/// (`7.500000000000001` -> `7.5`).
fn clean(x: f64) -> f64 {
    let r = (x * 1e6).round() / 1e6;
    if r == 0.0 { 0.0 } else { r }
}
fn pct_tick(x: f64) -> String {
    format!("{}%", clean(x * 100.0))
}
fn count_value(x: f64) -> String {
    statistic_value("count", x)
}
fn mean_value(x: f64) -> String {
    statistic_value("mean", x)
}
fn year_value(x: f64) -> String {
    statistic_value("year", x)
}
fn mean_tick(x: f64) -> String {
    format!("{}", clean(x))
}

fn dot_of(
    model: &Model<'_>,
    row: &IndicatorRow,
    label: String,
    href: Option<String>,
    note: String,
) -> Dot {
    let value = match row.shown() {
        Some(s) => DotValue::Shown {
            estimate: s.estimate,
            ci: s.ci,
            low_base: s.low_base,
        },
        None => DotValue::Withheld(model.cells(row).estimate),
    };
    // Unreliable estimates and unweighted estimates from non-probability samples say so in the chart too (and in
    // its screen-reader text); a low base is drawn as a hollow dot.
    let note = match row.shown() {
        Some(s) => {
            let mut note = note;
            if s.unreliable {
                note.push_str(" · unreliable");
            }
            if s.non_representative {
                note.push_str(" · non-representative");
            }
            note
        }
        None => note,
    };
    Dot {
        label,
        href,
        value,
        note,
    }
}

/// Sort key: shown estimates from highest to lowest, withheld rows last (by name).
fn by_estimate(rows: &mut [(String, &IndicatorRow)]) {
    rows.sort_by(|(na, a), (nb, b)| {
        let ea = a.shown().map(|s| s.estimate);
        let eb = b.shown().map(|s| s.estimate);
        match (ea, eb) {
            (Some(x), Some(y)) => y.total_cmp(&x).then(na.cmp(nb)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => na.cmp(nb),
        }
    });
}

/// (region, [(country name, iso3, total row)]) in display order.
type RegionTotals<'a> = Vec<(String, Vec<(String, String, &'a IndicatorRow)>)>;

/// Total rows of an indicator grouped by region and sorted by estimate: (region, [(country name, iso3, row)]).
fn totals_by_region<'a>(model: &Model<'a>, id: &str) -> RegionTotals<'a> {
    let mut out = Vec::new();
    for region in model.regions() {
        let mut rows: Vec<(String, &IndicatorRow)> = model
            .countries
            .iter()
            .filter(|c| c.region == region)
            .filter_map(|c| model.total(&c.iso3, id).map(|r| (c.name.clone(), r)))
            .collect();
        by_estimate(&mut rows);
        if !rows.is_empty() {
            let rows = rows
                .into_iter()
                .map(|(name, r)| (name, r.country.clone(), r))
                .collect();
            out.push((region, rows));
        }
    }
    out
}

fn note_of(cells: &Cells) -> String {
    match (cells.population.is_empty(), cells.shown) {
        (false, _) => format!("{} · n = {}", cells.population, cells.n),
        (true, _) => format!("n = {}", cells.n),
    }
}

/// The cross-country chart of one indicator (totals), grouped by region.
fn cross_country_chart(model: &Model<'_>, id: &str, chart_id: &str, title: &str) -> String {
    let (axis_label, value_text, tick_text) = axis(model.value_kind(id));
    let groups: Vec<Group> = totals_by_region(model, id)
        .into_iter()
        .map(|(region, rows)| Group {
            heading: Some(region),
            dots: rows
                .into_iter()
                .map(|(name, iso3, r)| {
                    let note = note_of(&model.cells(r));
                    dot_of(model, r, name, Some(country_file(&iso3)), note)
                })
                .collect(),
        })
        .collect();
    let spec = ChartSpec {
        id: chart_id,
        title,
        axis_label,
        label_width: 160.0,
        plot_width: 470.0,
        note_width: 270.0,
        value_text: &value_text,
        tick_text: &tick_text,
        shared_range: None,
    };
    dot_interval_chart(&spec, &groups)
}

/// Text of a headline tile map's missing tiles (a country of the run without a total row for the indicator).
pub const NO_ESTIMATE: &str = "no estimate in this run";

/// The tile map of one indicator's totals, one tile per country of the run (in display order).
fn tile_map(model: &Model<'_>, id: &str, map_id: &str, title: &str) -> String {
    let (measure, value_text, tick_text) = axis(model.value_kind(id));
    let tiles: Vec<Tile> = model
        .countries
        .iter()
        .map(|c| {
            let value = match model.total(&c.iso3, id) {
                Some(r) => match r.shown() {
                    Some(s) => {
                        let mut detail: Vec<String> = s
                            .ci
                            .map(|(l, h)| format!("95% CI {} to {}", value_text(l), value_text(h)))
                            .into_iter()
                            .collect();
                        let warnings = model.warnings(&s);
                        let caution = !warnings.is_empty();
                        detail.extend(warnings);
                        TileValue::Shown {
                            estimate: s.estimate,
                            caution,
                            detail: if detail.is_empty() {
                                String::new()
                            } else {
                                format!("({})", detail.join("; "))
                            },
                        }
                    }
                    None => TileValue::Withheld(model.cells(r).estimate),
                },
                None => TileValue::Withheld(NO_ESTIMATE.into()),
            };
            Tile {
                iso3: c.iso3.clone(),
                name: c.name.clone(),
                href: Some(country_file(&c.iso3)),
                value,
            }
        })
        .collect();
    let spec = MapSpec {
        id: map_id,
        title,
        measure,
        value_text: &value_text,
        tick_text: &tick_text,
    };
    crate::tilemap::tile_map(&spec, &tiles)
}

fn overview(model: &Model<'_>, run: &RunInfo) -> minijinja::Value {
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

/// Manifest status of a country whose outputs are kept from its last good run (this run failed for it).
const STALE: &str = "stale";

fn indicator_list(model: &Model<'_>) -> minijinja::Value {
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

fn country_list(model: &Model<'_>) -> minijinja::Value {
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

/// Heading of an indicator family (source table).
pub fn family_title(table: &str) -> String {
    match table {
        "child_survey" => "Household survey: children".into(),
        "caregiver_survey" => "Household survey: caregivers".into(),
        "" => "Other indicators".into(),
        other => humanise(other),
    }
}

fn indicator_page(model: &Model<'_>, id: &str) -> minijinja::Value {
    #[derive(Serialize)]
    struct Panel {
        level: String,
        chart: String,
    }
    #[derive(Serialize)]
    struct Domain {
        domain: String,
        label: String,
        panels: Vec<Panel>,
        rows: Vec<CountryRow>,
    }
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
    let (axis_label, value_text, tick_text) = axis(model.value_kind(id));
    // Small multiples keep the order of the cross-country chart (by total estimate within region).
    let order: Vec<(String, String)> = totals_by_region(model, id)
        .into_iter()
        .flat_map(|(_, rows)| rows.into_iter().map(|(name, iso3, _)| (name, iso3)))
        .collect();
    let domains: Vec<Domain> = model
        .domains(id)
        .into_iter()
        .map(|(domain, levels)| {
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
        })
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

fn country_page(model: &Model<'_>, run: &RunInfo, iso3: &str) -> minijinja::Value {
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
    #[derive(Serialize)]
    struct Ledger<'a> {
        path: &'a str,
        table: &'a str,
        rows_read: String,
        rows_written: String,
        rows_quarantined: String,
    }
    let info = model.countries.iter().find(|c| c.iso3 == iso3);
    let name = model.country_name(iso3);
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
    let chart = if dots.is_empty() {
        String::new()
    } else {
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
    };
    let country_run = run.countries.get(iso3);
    let ledger: Vec<Ledger<'_>> = country_run
        .map(|c| c.ledger.as_slice())
        .unwrap_or(&[])
        .iter()
        .map(|l: &LedgerLine| Ledger {
            path: &l.path,
            table: &l.table,
            rows_read: crate::format::thousands(l.rows_read as f64),
            rows_written: crate::format::thousands(l.rows_written as f64),
            rows_quarantined: crate::format::thousands(l.rows_quarantined as f64),
        })
        .collect();
    let routing: Vec<[String; 5]> = country_run
        .map(|c| {
            c.routing
                .iter()
                .map(|r| {
                    [
                        r.path.clone(),
                        r.column.clone(),
                        r.issue.clone(),
                        crate::format::thousands(r.rows as f64),
                        r.first_row.to_string(),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    let reasons: Vec<(String, String)> = country_run
        .map(|c| {
            c.quarantine_reasons
                .iter()
                .map(|(k, v)| (k.clone(), crate::format::thousands(*v as f64)))
                .collect()
        })
        .unwrap_or_default();
    let design = country_run.and_then(|c| c.design).map(|d| {
        context! {
            rows => crate::format::thousands(d.rows as f64),
            strata => crate::format::thousands(d.strata as f64),
            psus => crate::format::thousands(d.psus as f64),
        }
    });
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
        name => name,
        region => info.map(|c| c.region.clone()).unwrap_or_default(),
        fieldwork => fieldwork,
        population => population,
        population_source => info.map(|c| c.population_source.clone()).unwrap_or_default(),
        status => country_run
            .map(|c| c.status.clone())
            .filter(|s| !s.is_empty())
            .map(|s| if s == STALE {
                let from = country_run
                    .and_then(|c| c.stale_inputs.as_deref())
                    .map(|h| format!(" (deliveries with hash {})", h.chars().take(12).collect::<String>()))
                    .unwrap_or_default();
                format!("stale: this run failed for this country and the figures on this page are from the last run in which it succeeded{from}")
            } else {
                s
            })
            .unwrap_or_else(|| "not recorded".into()),
        error => country_run.and_then(|c| c.error.clone()),
        chart => chart,
        families => Serde(families),
        design => design,
        weighting => Serde(country_run.map(|c| c.weighting.clone()).unwrap_or_default()),
        ledger => Serde(ledger),
        reasons => Serde(reasons),
        routing => Serde(routing),
        not_delivered => country_run.map(|c| c.not_delivered.join(", ")).unwrap_or_default(),
    }
}

fn methods(model: &Model<'_>) -> minijinja::Value {
    #[derive(Serialize)]
    struct Item {
        href: String,
        id: String,
        version: String,
        statistic: String,
        ci_method: String,
        missing_rule: String,
    }
    let items: Vec<Item> = model
        .indicators
        .iter()
        .map(|id| {
            let d = model.definition(id);
            Item {
                href: indicator_file(id),
                id: id.clone(),
                version: d.map(|d| d.version.clone()).unwrap_or_default(),
                statistic: d.map(|d| d.statistic.clone()).unwrap_or_default(),
                ci_method: d.map(|d| d.ci_method.clone()).unwrap_or_default(),
                missing_rule: d.map(|d| d.missing_rule.clone()).unwrap_or_default(),
            }
        })
        .collect();
    context! { indicators => Serde(items), flags => Serde(flag_legend(model)) }
}

/// One flag as the methods page explains it.
#[derive(Serialize)]
struct FlagView {
    /// The name in the `flag` and `flags` columns.
    code: &'static str,
    /// How the report writes it beside or in place of an estimate.
    shown_as: String,
    meaning: &'static str,
    rule: String,
}

/// Every flag of the registry (`dh_indicators::Flag`), `ok` first, then in precedence order, with its meaning and
/// its rule at the run's thresholds.
fn flag_legend(model: &Model<'_>) -> Vec<FlagView> {
    use dh_indicators::Flag;
    let thresholds = model.context.thresholds();
    crate::model::legend_flags()
        .map(|f| FlagView {
            code: f.as_str(),
            shown_as: match f {
                // Told apart by the base: a small one, or a level withheld to protect another.
                Flag::Suppressed => format!(
                    "{} or {}",
                    model.flag_text(f.as_str()),
                    crate::model::COMPLEMENTARY
                ),
                _ => model.flag_text(f.as_str()),
            },
            meaning: f.meaning(),
            rule: f.rule(&thresholds),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_have_no_floating_point_residue() {
        assert_eq!(pct_tick(0.075_000_000_000_000_01), "7.5%");
        assert_eq!(pct_tick(0.15000000000000002), "15%");
        assert_eq!(pct_tick(0.0), "0%");
        assert_eq!(pct_tick(-0.0), "0%");
        assert_eq!(mean_tick(0.30000000000000004), "0.3");
        assert_eq!(indicator_file("a b"), "indicator-a_b.html");
        assert_eq!(country_file("THA"), "country-THA.html");
    }

    #[test]
    fn every_table_gets_a_box_of_its_own() {
        let html = "<p>a</p><table><tr><td>1</td></tr></table><table class=\"x\"></table>";
        assert_eq!(
            scroll_tables(html),
            "<p>a</p><div class=\"table-scroll\" tabindex=\"0\"><table><tr><td>1</td></tr></table></div>\
             <div class=\"table-scroll\" tabindex=\"0\"><table class=\"x\"></table></div>"
        );
        assert_eq!(scroll_tables("&lt;table"), "&lt;table");
    }
}
