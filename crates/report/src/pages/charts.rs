//! The charts several pages share: the value formatters and axis wording of a statistic, the dot-and-interval
//! chart of an indicator across countries and the tile map of its totals.

use crate::format::statistic_value;
use crate::model::{Cells, Model};
use crate::svg::{ChartSpec, Dot, DotValue, Group, dot_interval_chart};
use crate::table::IndicatorRow;
use crate::tilemap::{MapSpec, Tile, TileValue};

use super::links::country_file;

/// Axis label, value formatter and tick formatter of a chart.
pub(super) type Axis = (&'static str, fn(f64) -> String, fn(f64) -> String);

/// The chart's value formatter and axis wording for a statistic.
pub(super) fn axis(statistic: &str) -> Axis {
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
pub(super) fn clean(x: f64) -> f64 {
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

pub(super) fn dot_of(
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
pub(super) type RegionTotals<'a> = Vec<(String, Vec<(String, String, &'a IndicatorRow)>)>;

/// Total rows of an indicator grouped by region and sorted by estimate: (region, [(country name, iso3, row)]).
pub(super) fn totals_by_region<'a>(model: &Model<'a>, id: &str) -> RegionTotals<'a> {
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
pub(super) fn cross_country_chart(
    model: &Model<'_>,
    id: &str,
    chart_id: &str,
    title: &str,
) -> String {
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
pub(super) fn tile_map(model: &Model<'_>, id: &str, map_id: &str, title: &str) -> String {
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
    }
}
