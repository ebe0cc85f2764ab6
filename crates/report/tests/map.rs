//! The overview's tile map against the indicator table it is drawn from: one tile per country of the run (a
//! country missing from the grid's table still gets one, on the row below), darker tiles for higher estimates,
//! withheld and missing estimates hatched and named with their reason, and the same accessibility text as the
//! charts (title, description, a text per tile; the table under the chart lists the same figures).

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dh_report::table::IndicatorRow;
use dh_report::{build, fixtures};

const HEADLINE: &str = "ocsea_clear_any";

/// The fixture rows with Viet Nam's headline suppressed, Thailand's headline missing, Uganda's marked low base
/// and a 14th country (`ZZZ`, not described by the context) that has Kenya's figures.
fn rows() -> Vec<IndicatorRow> {
    let ctx = fixtures::context();
    let mut rows: Vec<IndicatorRow> = fixtures::rows(&ctx)
        .into_iter()
        .filter(|r| !(r.country == "THA" && r.indicator == HEADLINE))
        .collect();
    let extra: Vec<IndicatorRow> = rows
        .iter()
        .filter(|r| r.country == "KEN")
        .map(|r| IndicatorRow {
            country: "ZZZ".into(),
            ..r.clone()
        })
        .collect();
    rows.extend(extra);
    for r in rows
        .iter_mut()
        .filter(|r| r.country == "UGA" && r.indicator == HEADLINE && r.is_total())
    {
        r.flag = "low_base".into();
        r.flags = vec!["low_base".into()];
    }
    for r in rows
        .iter_mut()
        .filter(|r| r.country == "VNM" && r.indicator == HEADLINE && r.is_total())
    {
        r.flag = "suppressed".into();
        r.flags = vec!["suppressed".into()];
        r.estimate = None;
        r.ci_lower = None;
        r.ci_upper = None;
        r.population_estimate = None;
        r.n_unweighted = 20;
    }
    rows
}

fn index() -> String {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rows = rows();
    fixtures::write_out_dir(dir.path(), &rows);
    build(dir.path(), Some(&fixtures::context())).unwrap_or_else(|e| panic!("{e}"));
    std::fs::read_to_string(dir.path().join("report/index.html")).unwrap_or_else(|e| panic!("{e}"))
}

/// The map's SVG in a page.
fn map_of(html: &str) -> &str {
    let start = html
        .find(r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart map""#)
        .unwrap_or_else(|| panic!("no map"));
    let end = html[start..]
        .find("</svg>")
        .unwrap_or_else(|| panic!("map not closed"));
    &html[start..start + end + "</svg>".len()]
}

/// (aria text, fill, top y) of every tile.
fn tiles(map: &str) -> Vec<(String, String, f64)> {
    map.split(r#"<g class="tile" aria-label=""#)
        .skip(1)
        .map(|t| {
            let aria = t[..t.find('"').unwrap_or(0)].to_string();
            let attr = |name: &str| {
                let key = format!(" {name}=\"");
                let i = t.find(&key).map_or(0, |i| i + key.len());
                t[i..i + t[i..].find('"').unwrap_or(0)].to_string()
            };
            (aria, attr("fill"), attr("y").parse().unwrap_or(-1.0))
        })
        .collect()
}

fn grey(hex: &str) -> f64 {
    let v =
        |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0) as f64;
    0.2126 * v(1) + 0.7152 * v(3) + 0.0722 * v(5)
}

#[test]
fn every_country_of_the_run_has_a_tile_and_withheld_ones_say_why() {
    let html = index();
    let map = map_of(&html);
    let tiles = tiles(map);
    assert_eq!(tiles.len(), 14, "{tiles:?}");
    for (iso3, name, _, _, _) in fixtures::COUNTRIES {
        assert!(
            tiles
                .iter()
                .any(|(aria, _, _)| aria.starts_with(&format!("{name} ({iso3}): "))),
            "no tile for {iso3}"
        );
    }
    let tile = |iso3: &str| {
        tiles
            .iter()
            .find(|(aria, _, _)| aria.contains(&format!("({iso3})")))
            .unwrap_or_else(|| panic!("{iso3}"))
    };
    // Withheld and missing: hatched, the reason in the tile's text and in the list under the map.
    let vnm = tile("VNM");
    assert_eq!(vnm.0, "Viet Nam (VNM): suppressed (n &lt; 25)");
    assert_eq!(vnm.1, "url(#map-hatch)");
    let tha = tile("THA");
    assert_eq!(tha.0, "Thailand (THA): no estimate in this run");
    assert_eq!(tha.1, "url(#map-hatch)");
    assert!(map.contains(r#"<text class="reason" x="0" y="#));
    assert!(map.contains(">Viet Nam (VNM): suppressed (n &lt; 25)</text>"));
    assert!(map.contains(">Thailand (THA): no estimate in this run</text>"));
    // An estimate shown with a warning is marked, and the mark explained.
    let uga = tile("UGA");
    assert!(uga.0.ends_with("; low base (n &lt; 50))"), "{}", uga.0);
    assert!(map.contains(">7.5%*</text>"));
    assert!(map.contains("*: shown with a warning (see the table)"));
    // A country the grid does not list is drawn on a row below it.
    let zzz = tile("ZZZ");
    assert!(zzz.0.starts_with("ZZZ (ZZZ): 9.0% (95% CI"), "{}", zzz.0);
    let lowest_listed = tiles
        .iter()
        .filter(|(aria, _, _)| !aria.contains("(ZZZ)"))
        .map(|t| t.2)
        .fold(0.0, f64::max);
    assert!(zzz.2 > lowest_listed, "ZZZ at y {}", zzz.2);
    // Its tile links to its page.
    assert!(map.contains(r#"<a href="country-ZZZ.html">"#));
}

#[test]
fn darker_tiles_have_higher_estimates() {
    let html = index();
    let ctx = fixtures::context();
    let shown: Vec<(f64, f64)> = fixtures::COUNTRIES
        .iter()
        .filter(|(iso3, _, _, _, _)| !matches!(*iso3, "VNM" | "THA"))
        .map(|(iso3, _, _, _, share)| {
            let (_, fill, _) = tiles(map_of(&html))
                .into_iter()
                .find(|(aria, _, _)| aria.contains(&format!("({iso3})")))
                .unwrap_or_else(|| panic!("{iso3}"));
            assert!(fill.starts_with('#'), "{iso3}: {fill}");
            (*share, grey(&fill))
        })
        .collect();
    for (a, ga) in &shown {
        for (b, gb) in &shown {
            if a < b {
                assert!(ga >= gb, "{a} is drawn darker than {b}");
            }
        }
    }
    // At least three shades among the 11 estimates from 2% to 20%.
    let mut shades: Vec<i64> = shown.iter().map(|(_, g)| *g as i64).collect();
    shades.sort_unstable();
    shades.dedup();
    assert!(shades.len() >= 3, "{shades:?}");
    assert_eq!(ctx.headline.as_deref(), Some(HEADLINE));
}

#[test]
fn the_map_has_the_accessibility_text_of_the_charts() {
    let html = index();
    let map = map_of(&html);
    assert!(map.contains(r#"role="img" aria-labelledby="map-title map-desc""#));
    assert!(map.contains(r#"<title id="map-title">"#));
    let desc =
        &map[map.find(r#"<desc id="map-desc">"#).unwrap_or(0)..map.find("</desc>").unwrap_or(0)];
    assert!(desc.contains("darker squares have higher values"));
    assert!(desc.contains("Kenya (KEN): 9.0% (95% CI"), "{desc}");
    assert!(desc.contains("Viet Nam (VNM): suppressed (n &lt; 25)"));
    // Every tile has a title; the legend names the scale and the hatching.
    assert_eq!(map.matches("<title>").count(), 14);
    assert!(map.contains("(darker: higher)"));
    assert!(map.contains("hatched: no estimate shown (reason below)"));
    // Offline: nothing is fetched.
    assert!(
        !map.contains("http://") || map.matches("http://").count() == 1,
        "only the SVG namespace"
    );
    assert!(!map.contains("https://"));
    // The text alternative: the table after the chart lists every country's estimate (Thailand has none).
    let table = &html[html.find("<table").unwrap_or(0)..];
    for (_, name, _, _, _) in fixtures::COUNTRIES.iter().filter(|c| c.0 != "THA") {
        assert!(
            table.contains(&format!(">{name}</a>")),
            "{name} not in the table"
        );
    }
}
