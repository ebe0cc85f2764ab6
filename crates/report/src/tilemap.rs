//! The cross-country tile map: one square per country at an approximate geographic grid position, coloured by
//! one indicator's estimate on a light-to-dark scale (one hue, so the order survives grey-scale printing), with a
//! legend; countries whose estimate is withheld or missing are hatched and listed with the reason under the map.
//! Inline SVG with a title, a description and a text per tile, like the charts of [`crate::svg`].

use std::fmt::Write as _;

use crate::svg::{esc, nice_ticks, num, wrap_label};

/// What one tile shows.
#[derive(Debug, Clone, PartialEq)]
pub enum TileValue {
    /// A published estimate; `detail` is the rest of the tile's text (interval, warnings), possibly empty;
    /// `caution` marks an estimate shown with a warning (low base, unreliable, non-representative).
    Shown {
        estimate: f64,
        detail: String,
        caution: bool,
    },
    /// Why no estimate is drawn ("suppressed (n < 25)", "not collected", "no estimate in this run").
    Withheld(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    pub iso3: String,
    pub name: String,
    pub href: Option<String>,
    pub value: TileValue,
}

/// Labelling of one map.
pub struct MapSpec<'a> {
    /// Unique within the page (used for `id`s).
    pub id: &'a str,
    pub title: &'a str,
    /// What the colours measure, for the legend and the description ("Per cent of the population base").
    pub measure: &'a str,
    /// Writes a value for the tiles and screen readers.
    pub value_text: &'a dyn Fn(f64) -> String,
    /// Writes a class boundary in the legend.
    pub tick_text: &'a dyn Fn(f64) -> String,
}

/// Approximate (column, row) of each country on the grid: eastern and southern Africa in columns 0-2, southeast
/// Asia in columns 4-6, north at the top. Countries not listed go on a row below the grid.
pub const GRID: [(&str, u32, u32); 13] = [
    ("ETH", 2, 0),
    ("UGA", 1, 1),
    ("KEN", 2, 1),
    ("TZA", 2, 2),
    ("NAM", 0, 3),
    ("MOZ", 2, 3),
    ("ZAF", 1, 4),
    ("VNM", 5, 0),
    ("THA", 4, 1),
    ("KHM", 5, 1),
    ("PHL", 6, 1),
    ("MYS", 4, 2),
    ("IDN", 5, 3),
];

/// Columns of the grid (and of the row for countries it does not list).
const COLUMNS: u32 = 7;
const TILE: f64 = 48.0;
const PITCH: f64 = 52.0;
/// Width of the map in px (fits a 400 px viewport unscaled).
pub const MAP_WIDTH: f64 = COLUMNS as f64 * PITCH - (PITCH - TILE);
const LINE: f64 = 17.0;
/// The lightest and darkest colour of the scale; every channel falls from one to the other, so the fills'
/// lightness falls with the value.
const LIGHT: (f64, f64, f64) = (236.0, 241.0, 246.0);
const DARK: (f64, f64, f64) = (10.0, 42.0, 84.0);
const NOT_SHOWN: &str = "hatched: no estimate shown (reason below)";
/// The mark after a value shown with a warning, and its key.
const CAUTION: &str = "*";
const CAUTION_KEY: &str = "*: shown with a warning (see the table)";

/// Grid position of every tile, in the order given: listed countries at their place, others left to right on
/// rows below the grid.
pub fn positions(tiles: &[Tile]) -> Vec<(u32, u32)> {
    let known = |iso3: &str| {
        GRID.iter()
            .find(|(code, _, _)| *code == iso3)
            .map(|(_, c, r)| (*c, *r))
    };
    let grid_rows = tiles
        .iter()
        .filter_map(|t| known(&t.iso3))
        .map(|(_, r)| r + 1)
        .max()
        .unwrap_or(0);
    let mut next = 0u32;
    tiles
        .iter()
        .map(|t| {
            known(&t.iso3).unwrap_or_else(|| {
                let at = (next % COLUMNS, grid_rows + next / COLUMNS);
                next += 1;
                at
            })
        })
        .collect()
}

/// The class boundaries of the colour scale: round values from zero (or the lowest estimate) to the highest.
pub fn classes(tiles: &[Tile]) -> Vec<f64> {
    let shown: Vec<f64> = tiles
        .iter()
        .filter_map(|t| match t.value {
            TileValue::Shown { estimate, .. } if estimate.is_finite() => Some(estimate),
            _ => None,
        })
        .collect();
    let lo = shown.iter().copied().fold(0.0f64, f64::min);
    let hi = shown.iter().copied().fold(lo, f64::max);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    nice_ticks(lo, hi)
}

/// The class of `value` (0 = lowest) among the intervals between `bounds`.
fn class_of(value: f64, bounds: &[f64]) -> usize {
    let classes = bounds.len().saturating_sub(1).max(1);
    let k = bounds
        .iter()
        .skip(1)
        .position(|b| value < *b)
        .unwrap_or(classes - 1);
    k.min(classes - 1)
}

/// Fill of class `k` of `n` as `#rrggbb`, and whether text on it is written in white.
pub fn fill(k: usize, n: usize) -> (String, bool) {
    let t = if n <= 1 {
        0.5
    } else {
        k as f64 / (n - 1) as f64
    };
    let mix = |a: f64, b: f64| (a + (b - a) * t).round().clamp(0.0, 255.0) as u8;
    let (r, g, b) = (
        mix(LIGHT.0, DARK.0),
        mix(LIGHT.1, DARK.1),
        mix(LIGHT.2, DARK.2),
    );
    (format!("#{r:02x}{g:02x}{b:02x}"), luminance(r, g, b) < 0.18)
}

/// Relative luminance (WCAG) of an sRGB colour; 0.18 is where white and black text have equal contrast.
fn luminance(r: u8, g: u8, b: u8) -> f64 {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// One tile in words, for its `<title>`, `aria-label` and the map's description.
fn tile_text(spec: &MapSpec<'_>, tile: &Tile) -> String {
    match &tile.value {
        TileValue::Shown {
            estimate, detail, ..
        } if detail.is_empty() => {
            format!(
                "{} ({}): {}",
                tile.name,
                tile.iso3,
                (spec.value_text)(*estimate)
            )
        }
        TileValue::Shown {
            estimate, detail, ..
        } => format!(
            "{} ({}): {} {detail}",
            tile.name,
            tile.iso3,
            (spec.value_text)(*estimate)
        ),
        TileValue::Withheld(reason) => format!("{} ({}): {reason}", tile.name, tile.iso3),
    }
}

/// The tile map of `tiles` (their order decides the order of the description and of the withheld list).
pub fn tile_map(spec: &MapSpec<'_>, tiles: &[Tile]) -> String {
    let at = positions(tiles);
    let bounds = classes(tiles);
    let n = bounds.len().saturating_sub(1).max(1);
    let rows = at.iter().map(|(_, r)| r + 1).max().unwrap_or(0);
    let withheld: Vec<&Tile> = tiles
        .iter()
        .filter(|t| matches!(t.value, TileValue::Withheld(_)))
        .collect();
    let any_caution = tiles
        .iter()
        .any(|t| matches!(t.value, TileValue::Shown { caution: true, .. }));
    let grid_height = rows as f64 * PITCH;
    let legend_top = grid_height + 8.0;
    // legend: caption line, swatches, boundary labels, the hatched key
    let legend_height = LINE + 18.0 + LINE + 22.0 + if any_caution { LINE } else { 0.0 };
    // The reasons under the map, each on up to two lines.
    let reasons: Vec<Vec<String>> = withheld
        .iter()
        .map(|t| wrap_label(&tile_text(spec, t), MAP_WIDTH))
        .collect();
    let reason_lines: usize = reasons.iter().map(Vec::len).sum();
    let height = legend_top + legend_height + reason_lines as f64 * LINE + 6.0;
    let width = MAP_WIDTH;
    let id = spec.id;

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart map" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-title {id}-desc">"#,
        w = num(width),
        h = num(height),
    );
    let description = format!(
        "Tile map, one square per country at its approximate place; darker squares have higher values ({}). {}.",
        spec.measure,
        tiles
            .iter()
            .map(|t| tile_text(spec, t))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let _ = write!(
        s,
        r##"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc><defs><pattern id="{id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>"##,
        esc(spec.title),
        esc(&description)
    );
    for (tile, (col, row)) in tiles.iter().zip(&at) {
        let (x, y) = (*col as f64 * PITCH, *row as f64 * PITCH);
        let text = esc(&tile_text(spec, tile));
        let (fill_attr, ink, value, extra) = match &tile.value {
            TileValue::Shown {
                estimate, caution, ..
            } => {
                let (f, white) = fill(class_of(*estimate, &bounds), n);
                let ink = if white { "#fff" } else { "#000" };
                let mark = if *caution { CAUTION } else { "" };
                (
                    f,
                    ink,
                    format!("{}{mark}", (spec.value_text)(*estimate)),
                    String::new(),
                )
            }
            TileValue::Withheld(_) => (
                format!("url(#{id}-hatch)"),
                "#000",
                "–".to_string(),
                r#" stroke-dasharray="4 3""#.to_string(),
            ),
        };
        let _ = write!(
            s,
            r##"<g class="tile" aria-label="{text}"><title>{text}</title>"##
        );
        let mut body = String::new();
        let _ = write!(
            body,
            r##"<rect x="{}" y="{}" width="{t}" height="{t}" fill="{fill_attr}" stroke="#000" stroke-width="1"{extra}/>"##,
            num(x + 0.5),
            num(y + 0.5),
            t = num(TILE - 1.0),
        );
        let halo = if matches!(tile.value, TileValue::Withheld(_)) {
            r##" paint-order="stroke" stroke="#fff" stroke-width="3""##
        } else {
            ""
        };
        let _ = write!(
            body,
            r#"<text x="{cx}" y="{}" text-anchor="middle" font-size="13" font-weight="bold" fill="{ink}"{halo}>{}</text><text class="value" x="{cx}" y="{}" text-anchor="middle" font-size="12" fill="{ink}"{halo}>{}</text>"#,
            num(y + 19.0),
            esc(&tile.iso3),
            num(y + 37.0),
            esc(&value),
            cx = num(x + TILE / 2.0),
        );
        match &tile.href {
            Some(href) => {
                let _ = write!(s, r#"<a href="{}">{body}</a>"#, esc(href));
            }
            None => s.push_str(&body),
        }
        s.push_str("</g>");
    }
    // Legend: one swatch per class with the boundaries under them, then the key to hatched tiles.
    let _ = write!(
        s,
        r#"<g class="legend" font-size="12"><text x="0" y="{}">{}</text>"#,
        num(legend_top + 12.0),
        esc(&format!("{} (darker: higher)", spec.measure))
    );
    let swatch = ((width - 24.0) / n as f64).min(56.0);
    let sy = legend_top + LINE + 2.0;
    for k in 0..n {
        let (f, _) = fill(k, n);
        let _ = write!(
            s,
            r##"<rect x="{}" y="{}" width="{}" height="14" fill="{f}" stroke="#000" stroke-width="0.5"/>"##,
            num(12.0 + k as f64 * swatch),
            num(sy),
            num(swatch)
        );
    }
    for (k, b) in bounds.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            num(12.0 + k as f64 * swatch),
            num(sy + 14.0 + 14.0),
            esc(&(spec.tick_text)(*b))
        );
    }
    let ky = sy + 14.0 + LINE + 6.0;
    let _ = write!(
        s,
        r##"<rect x="0.5" y="{}" width="22" height="14" fill="url(#{id}-hatch)" stroke="#000" stroke-width="1" stroke-dasharray="4 3"/><text x="30" y="{}">{NOT_SHOWN}</text></g>"##,
        num(ky),
        num(ky + 11.0)
    );
    // The withheld and missing tiles, each with its reason.
    let mut y = ky + 14.0 + LINE;
    if any_caution {
        let _ = write!(
            s,
            r##"<text x="0" y="{}" font-size="12">{}</text>"##,
            num(y),
            esc(CAUTION_KEY)
        );
        y += LINE;
    }
    for line in reasons.iter().flatten() {
        let _ = write!(
            s,
            r##"<text class="reason" x="0" y="{}" font-size="12" fill="#222">{}</text>"##,
            num(y),
            esc(line)
        );
        y += LINE;
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(x: f64) -> String {
        format!("{:.1}%", x * 100.0)
    }
    fn tick(x: f64) -> String {
        format!("{}%", (x * 1000.0).round() / 10.0)
    }

    fn tile(iso3: &str, value: TileValue) -> Tile {
        Tile {
            iso3: iso3.into(),
            name: format!("Name of {iso3}"),
            href: Some(format!("country-{iso3}.html")),
            value,
        }
    }

    fn shown(x: f64) -> TileValue {
        TileValue::Shown {
            estimate: x,
            detail: String::new(),
            caution: false,
        }
    }

    fn map(tiles: &[Tile]) -> String {
        let spec = MapSpec {
            id: "m",
            title: "Headline",
            measure: "Per cent of children",
            value_text: &pct,
            tick_text: &tick,
        };
        tile_map(&spec, tiles)
    }

    #[test]
    fn listed_countries_keep_their_place_and_others_get_a_row_below() {
        let tiles = [
            tile("KEN", shown(0.1)),
            tile("ZZZ", shown(0.1)),
            tile("IDN", shown(0.1)),
            tile("YYY", shown(0.1)),
        ];
        assert_eq!(positions(&tiles), vec![(2, 1), (0, 4), (5, 3), (1, 4)]);
        // Every grid place is distinct and inside the grid.
        let mut places: Vec<(u32, u32)> = GRID.iter().map(|(_, c, r)| (*c, *r)).collect();
        places.sort_unstable();
        places.dedup();
        assert_eq!(places.len(), GRID.len());
        assert!(places.iter().all(|(c, _)| *c < COLUMNS));
    }

    #[test]
    fn fills_darken_with_the_class_and_text_turns_white_on_dark_tiles() {
        let n = 5;
        let lum = |k: usize| {
            let (f, _) = fill(k, n);
            let v = |i: usize| u8::from_str_radix(&f[i..i + 2], 16).unwrap_or(0);
            luminance(v(1), v(3), v(5))
        };
        for k in 1..n {
            assert!(
                lum(k) < lum(k - 1) - 0.04,
                "class {k} is not darker in grey"
            );
        }
        assert!(!fill(0, n).1 && fill(n - 1, n).1);
        assert_eq!(fill(0, n).0, "#ecf1f6");
        assert_eq!(fill(n - 1, n).0, "#0a2a54");
    }

    #[test]
    fn classes_cover_the_values_and_each_value_falls_in_one() {
        let tiles = [tile("KEN", shown(0.02)), tile("THA", shown(0.2))];
        let bounds = classes(&tiles);
        assert_eq!(bounds.first().copied(), Some(0.0));
        assert!(bounds.last().is_some_and(|b| *b >= 0.2));
        assert_eq!(class_of(0.02, &bounds), 0);
        assert_eq!(class_of(0.2, &bounds), bounds.len() - 2);
        assert_eq!(class_of(0.0, &[0.0, 1.0]), 0);
    }

    #[test]
    fn withheld_and_missing_tiles_are_hatched_and_listed_with_their_reason() {
        let svg = map(&[
            tile("KEN", shown(0.09)),
            tile("VNM", TileValue::Withheld("suppressed (n < 25)".into())),
            tile("ZZZ", TileValue::Withheld("no estimate in this run".into())),
        ]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="tile""#).count(), 3);
        assert_eq!(
            svg.matches(r#"fill="url(#m-hatch)""#).count(),
            3,
            "two tiles and the key"
        );
        assert!(svg.contains(r#"<text class="reason" x="0" y="#));
        assert!(svg.contains("Name of VNM (VNM): suppressed (n &lt; 25)</text>"));
        assert!(svg.contains("Name of ZZZ (ZZZ): no estimate in this run</text>"));
        assert!(svg.contains(r#"<title id="m-title">Headline</title>"#));
        assert!(svg.contains("Name of KEN (KEN): 9.0%; Name of VNM (VNM): suppressed (n &lt; 25)"));
        assert!(svg.contains(r#"<a href="country-KEN.html">"#));
        assert!(svg.contains(NOT_SHOWN));
    }

    #[test]
    fn values_shown_with_a_warning_are_marked_and_the_mark_explained() {
        let plain = map(&[tile("KEN", shown(0.09))]);
        assert!(!plain.contains(CAUTION_KEY));
        let svg = map(&[
            tile("KEN", shown(0.09)),
            tile(
                "UGA",
                TileValue::Shown {
                    estimate: 0.05,
                    detail: "(low base (n < 50))".into(),
                    caution: true,
                },
            ),
        ]);
        assert!(svg.contains(">5.0%*</text>") && svg.contains(">9.0%</text>"));
        assert!(svg.contains(&esc(CAUTION_KEY)));
        assert!(svg.contains("Name of UGA (UGA): 5.0% (low base (n &lt; 50))"));
    }

    #[test]
    fn a_long_reason_is_wrapped_inside_the_map() {
        let mut long = tile(
            "ZZZ",
            TileValue::Withheld("not published (a flag this report does not know)".into()),
        );
        long.name = "Saint Vincent and the Grenadines".into();
        let svg = map(&[long]);
        assert_eq!(svg.matches(r#"<text class="reason""#).count(), 2, "{svg}");
        assert!(svg.contains(">Saint Vincent and the Grenadines (ZZZ): not</text>"));
    }

    #[test]
    fn a_map_with_nothing_shown_still_has_a_scale() {
        let svg = map(&[tile("KEN", TileValue::Withheld("not collected".into()))]);
        assert!(svg.contains(r#"class="tick""#));
        assert!(svg.contains("not collected"));
    }

    #[test]
    fn the_map_fits_a_phone_and_has_no_text_below_12_px() {
        let tiles: Vec<Tile> = GRID
            .iter()
            .map(|(iso3, _, _)| tile(iso3, shown(0.123)))
            .collect();
        let svg = map(&tiles);
        const { assert!(MAP_WIDTH <= 360.0) };
        assert!(svg.contains(&format!(r#"width="{}""#, num(MAP_WIDTH))));
        for (i, m) in svg.match_indices("font-size=\"") {
            let rest = &svg[i + m.len()..];
            let size: f64 = rest[..rest.find('"').unwrap_or(0)].parse().unwrap_or(0.0);
            assert!(size >= 12.0, "font-size {size}");
        }
        assert_eq!(
            svg.matches("12.3%").count(),
            13 * 4,
            "description, aria text, title and tile"
        );
    }
}
