//! Inline SVG charts: the dot-and-interval chart used for the overview, the indicator pages, the small multiples
//! and the country profiles. Written by hand (a few hundred lines, tested) rather than through a plotting crate:
//! the report needs one chart type with exact control over accessibility (`<title>`, `<desc>`, `aria-label`
//! with the numbers), grey-scale encodings (filled vs hollow dots, text for withheld values) and byte-stable
//! output.
//!
//! Withheld estimates (suppressed, not collected) are written as text in the plot area, never drawn as a dot.
//! Each chart comes in a wide and a narrow (phone) layout; the style sheet shows one of them.

use std::fmt::Write as _;

/// What one row of a chart shows.
#[derive(Debug, Clone, PartialEq)]
pub enum DotValue {
    Shown {
        estimate: f64,
        ci: Option<(f64, f64)>,
        low_base: bool,
    },
    /// The text written instead of a dot (e.g. "suppressed (n < 25)").
    Withheld(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    pub label: String,
    pub href: Option<String>,
    pub value: DotValue,
    /// Text right of the plot (population estimate, unweighted base).
    pub note: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub heading: Option<String>,
    pub dots: Vec<Dot>,
}

/// Layout and labelling of one chart.
pub struct ChartSpec<'a> {
    /// Unique within the page (used for `id`s).
    pub id: &'a str,
    pub title: &'a str,
    pub axis_label: &'a str,
    pub label_width: f64,
    pub plot_width: f64,
    pub note_width: f64,
    /// Writes a value (estimates, interval ends) for labels and screen readers.
    pub value_text: &'a dyn Fn(f64) -> String,
    /// Writes an axis tick.
    pub tick_text: &'a dyn Fn(f64) -> String,
    /// A range the axis must cover besides the chart's own values (small multiples share one scale).
    pub shared_range: Option<(f64, f64)>,
}

const ROW: f64 = 22.0;
const HEADING: f64 = 24.0;
const TOP: f64 = 6.0;
const AXIS: f64 = 40.0;
const LEGEND: f64 = 22.0;

/// A dot-and-interval chart of `groups` (drawn in the order given), in two layouts: the wide one (labels left,
/// notes right of the plot; class `chart-wide`) and a narrow one for phones ([`NARROW_WIDTH`] px, each row's label
/// above its plot line; class `chart-narrow`). The style sheet shows one of them by viewport width; both carry
/// the same title, description and row texts.
pub fn dot_interval_chart(spec: &ChartSpec<'_>, groups: &[Group]) -> String {
    format!(
        r#"<div class="chart-wide">{}</div><div class="chart-narrow">{}</div>"#,
        wide_chart(spec, groups),
        narrow_chart(spec, groups)
    )
}

/// The axis of a chart: its round ticks, the first and last of which are the ends of the scale.
fn scale(spec: &ChartSpec<'_>, groups: &[Group]) -> (f64, f64, Vec<f64>) {
    let (mut lo, mut hi) = axis_range(groups);
    if let Some((a, b)) = spec.shared_range {
        lo = lo.min(a);
        hi = hi.max(b);
    }
    let ticks = nice_ticks(lo, hi);
    let (lo, hi) = (
        ticks.first().copied().unwrap_or(0.0),
        ticks.last().copied().unwrap_or(1.0),
    );
    (lo, hi, ticks)
}

/// The opening `<svg>` with its title and description (`id` unique within the page).
fn open_svg(
    s: &mut String,
    spec: &ChartSpec<'_>,
    groups: &[Group],
    id: &str,
    width: f64,
    height: f64,
) {
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-title {id}-desc">"#,
        w = num(width),
        h = num(height),
    );
    let _ = write!(
        s,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(spec.title),
        esc(&description(spec, groups))
    );
}

/// The marks of one row centred at `cy`: interval and dot, or the withheld text starting at `text_x`.
fn marks(s: &mut String, value: &DotValue, x: &dyn Fn(f64) -> f64, cy: f64, text_x: f64) {
    match value {
        DotValue::Shown {
            estimate,
            ci,
            low_base,
        } => {
            if let Some((l, h)) = ci {
                let (xl, xh) = (num(x(*l)), num(x(*h)));
                let _ = write!(
                    s,
                    r##"<line class="ci" x1="{xl}" y1="{c}" x2="{xh}" y2="{c}" stroke="#555" stroke-width="2"/><line x1="{xl}" y1="{a}" x2="{xl}" y2="{b}" stroke="#555" stroke-width="1.5"/><line x1="{xh}" y1="{a}" x2="{xh}" y2="{b}" stroke="#555" stroke-width="1.5"/>"##,
                    c = num(cy),
                    a = num(cy - 4.0),
                    b = num(cy + 4.0)
                );
            }
            let fill = if *low_base { "#fff" } else { "#000" };
            let _ = write!(
                s,
                r##"<circle class="{}" cx="{}" cy="{}" r="5" fill="{fill}" stroke="#000" stroke-width="1.5"/>"##,
                if *low_base { "dot low-base" } else { "dot" },
                num(x(*estimate)),
                num(cy)
            );
        }
        DotValue::Withheld(text) => {
            let _ = write!(
                s,
                r##"<text class="withheld" x="{}" y="{}" font-size="13" font-style="italic" fill="#333">{}</text>"##,
                num(text_x),
                num(cy + 4.0),
                esc(text)
            );
        }
    }
}

/// A row's label, a link when the row has one.
fn label_text(dot: &Dot, text: String) -> String {
    match &dot.href {
        Some(href) => format!(r#"<a href="{}">{text}</a>"#, esc(href)),
        None => text,
    }
}

/// The wide layout: labels left of the plot, notes right of it.
fn wide_chart(spec: &ChartSpec<'_>, groups: &[Group]) -> String {
    let (lo, hi, ticks) = scale(spec, groups);
    let x0 = spec.label_width;
    let x = |v: f64| x0 + (v - lo) / (hi - lo) * spec.plot_width;
    let rows: usize = groups.iter().map(|g| g.dots.len()).sum();
    let headings = groups.iter().filter(|g| g.heading.is_some()).count();
    let plot_height = TOP + rows as f64 * ROW + headings as f64 * HEADING;
    // The note column grows to the longest note, so no note is cut at the chart's edge.
    let note_width = groups
        .iter()
        .flat_map(|g| &g.dots)
        .map(|d| text_width(&d.note) + 14.0)
        .fold(spec.note_width, f64::max);
    let width = spec.label_width + spec.plot_width + note_width;
    let height = plot_height + AXIS + LEGEND;
    let id = spec.id;

    let mut s = String::new();
    open_svg(&mut s, spec, groups, id, width, height);
    // Grid and ticks.
    for t in &ticks {
        let tx = num(x(*t));
        let _ = write!(
            s,
            r##"<line x1="{tx}" y1="{}" x2="{tx}" y2="{}" stroke="#d0d0d0" stroke-width="1"/>"##,
            num(TOP - 2.0),
            num(plot_height)
        );
        let _ = write!(
            s,
            r#"<text class="tick" x="{tx}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
            num(plot_height + 14.0),
            esc(&(spec.tick_text)(*t))
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#000" stroke-width="1"/>"##,
        num(x0),
        num(x0 + spec.plot_width),
        y = num(plot_height)
    );
    let _ = write!(
        s,
        r#"<text class="axis-label" x="{}" y="{}" text-anchor="middle" font-size="13">{}</text>"#,
        num(x0 + spec.plot_width / 2.0),
        num(plot_height + 32.0),
        esc(spec.axis_label)
    );
    // Rows.
    let mut y = TOP;
    for group in groups {
        if let Some(heading) = &group.heading {
            let _ = write!(
                s,
                r#"<text class="group" x="4" y="{}" font-size="14" font-weight="bold">{}</text>"#,
                num(y + 17.0),
                esc(heading)
            );
            y += HEADING;
        }
        for dot in &group.dots {
            let cy = y + ROW / 2.0;
            let _ = write!(
                s,
                r#"<g class="row" aria-label="{}"><title>{}</title>"#,
                esc(&dot_text(spec, dot)),
                esc(&dot_text(spec, dot))
            );
            let label = format!(
                r#"<text x="{}" y="{}" text-anchor="end" font-size="13">{}</text>"#,
                num(x0 - 8.0),
                num(cy + 4.0),
                esc(&fit_label(&dot.label, x0 - 12.0))
            );
            s.push_str(&label_text(dot, label));
            marks(&mut s, &dot.value, &x, cy, x0 + 6.0);
            if !dot.note.is_empty() {
                let _ = write!(
                    s,
                    r##"<text class="note" x="{}" y="{}" font-size="12" fill="#222">{}</text>"##,
                    num(x0 + spec.plot_width + 10.0),
                    num(cy + 4.0),
                    esc(&dot.note)
                );
            }
            s.push_str("</g>");
            y += ROW;
        }
    }
    legend(&mut s, x0, height - 8.0, spec.plot_width < 400.0);
    s.push_str("</svg>");
    s
}

/// Width of the narrow layout in px: shown unscaled in a 400 px wide viewport, so its text keeps its size.
pub const NARROW_WIDTH: f64 = 360.0;
/// Height of a text line of the narrow layout.
const NARROW_LINE: f64 = 17.0;
/// Height of a plot line of the narrow layout.
const NARROW_PLOT: f64 = 22.0;
/// Average advance of a 12 px character (notes), in px.
const NOTE_CHAR_WIDTH: f64 = 7.0;

/// Estimated width in px of `text` at 12 px (notes, ticks).
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * NOTE_CHAR_WIDTH
}

/// How one row of the narrow layout is written: its label on one line with the note beside it when both fit,
/// otherwise the label on up to two lines (wrapped at a space, then shortened) and the note on a line of its own.
struct NarrowRow {
    label: Vec<String>,
    note_beside: bool,
    /// Text lines above the plot line.
    lines: usize,
}

fn narrow_row(dot: &Dot) -> NarrowRow {
    let line_width = NARROW_WIDTH - 8.0;
    let note_width = text_width(&dot.note);
    if !dot.note.is_empty() && fit_label(&dot.label, line_width - note_width - 12.0) == dot.label {
        return NarrowRow {
            label: vec![dot.label.clone()],
            note_beside: true,
            lines: 1,
        };
    }
    let label = wrap_label(&dot.label, line_width);
    let lines = label.len() + usize::from(!dot.note.is_empty());
    NarrowRow {
        label,
        note_beside: false,
        lines,
    }
}

/// `label` on one line, or on two broken at the last space that fits (the second shortened when too long).
pub(crate) fn wrap_label(label: &str, width: f64) -> Vec<String> {
    let max = (width / LABEL_CHAR_WIDTH).floor().max(4.0) as usize;
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= max {
        return vec![label.to_string()];
    }
    match chars[..=max].iter().rposition(|c| *c == ' ') {
        Some(i) if i > 0 => {
            let first: String = chars[..i].iter().collect();
            let rest: String = chars[i + 1..].iter().collect();
            vec![first, fit_label(rest.trim_start(), width)]
        }
        _ => vec![fit_label(label, width)],
    }
}

/// Height of one row of the narrow layout.
fn narrow_row_height(dot: &Dot) -> f64 {
    narrow_row(dot).lines as f64 * NARROW_LINE + NARROW_PLOT + 4.0
}

/// The narrow layout: each row's label (and note) on a line of its own above the row's plot line, the axis below.
fn narrow_chart(spec: &ChartSpec<'_>, groups: &[Group]) -> String {
    let (lo, hi, ticks) = scale(spec, groups);
    let width = NARROW_WIDTH;
    // The end ticks' labels are centred on the ends of the axis: leave room for half of each.
    let half_tick =
        |t: Option<&f64>| t.map_or(0.0, |t| text_width(&(spec.tick_text)(*t)) / 2.0 + 4.0);
    let (x0, x1) = (
        half_tick(ticks.first()).max(18.0),
        width - half_tick(ticks.last()).max(24.0),
    );
    let x = |v: f64| x0 + (v - lo) / (hi - lo) * (x1 - x0);
    let rows_height: f64 = groups
        .iter()
        .map(|g| {
            let heading = if g.heading.is_some() { HEADING } else { 0.0 };
            heading + g.dots.iter().map(narrow_row_height).sum::<f64>()
        })
        .sum();
    let plot_height = TOP + rows_height;
    let height = plot_height + AXIS + LEGEND;
    let id = format!("{}-narrow", spec.id);

    let mut s = String::new();
    open_svg(&mut s, spec, groups, &id, width, height);
    let mut y = TOP;
    for group in groups {
        if let Some(heading) = &group.heading {
            let _ = write!(
                s,
                r#"<text class="group" x="4" y="{}" font-size="14" font-weight="bold">{}</text>"#,
                num(y + 17.0),
                esc(&fit_label(heading, width - 8.0))
            );
            y += HEADING;
        }
        for dot in &group.dots {
            let row = narrow_row(dot);
            let text = esc(&dot_text(spec, dot));
            let _ = write!(
                s,
                r#"<g class="row" aria-label="{text}"><title>{text}</title>"#
            );
            let mut label = String::new();
            for (k, line) in row.label.iter().enumerate() {
                let _ = write!(
                    label,
                    r#"<text x="4" y="{}" font-size="13">{}</text>"#,
                    num(y + 13.0 + k as f64 * NARROW_LINE),
                    esc(line)
                );
            }
            s.push_str(&label_text(dot, label));
            if !dot.note.is_empty() {
                let (nx, ny, anchor) = if row.note_beside {
                    (width - 4.0, y + 13.0, "end")
                } else {
                    (
                        4.0,
                        y + row.label.len() as f64 * NARROW_LINE + 13.0,
                        "start",
                    )
                };
                let _ = write!(
                    s,
                    r##"<text class="note" x="{}" y="{}" text-anchor="{anchor}" font-size="12" fill="#222">{}</text>"##,
                    num(nx),
                    num(ny),
                    esc(&dot.note)
                );
            }
            let lines = row.lines as f64;
            let cy = y + lines * NARROW_LINE + NARROW_PLOT / 2.0;
            // Short grid marks on the row's own plot line keep the label lines clear.
            for t in &ticks {
                let tx = num(x(*t));
                let _ = write!(
                    s,
                    r##"<line x1="{tx}" y1="{}" x2="{tx}" y2="{}" stroke="#d0d0d0" stroke-width="1"/>"##,
                    num(cy - 8.0),
                    num(cy + 8.0)
                );
            }
            marks(&mut s, &dot.value, &x, cy, x0);
            s.push_str("</g>");
            y += narrow_row_height(dot);
        }
    }
    for t in &ticks {
        let _ = write!(
            s,
            r#"<text class="tick" x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
            num(x(*t)),
            num(plot_height + 14.0),
            esc(&(spec.tick_text)(*t))
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#000" stroke-width="1"/>"##,
        num(x0),
        num(x1),
        y = num(plot_height)
    );
    let _ = write!(
        s,
        r#"<text class="axis-label" x="{}" y="{}" text-anchor="middle" font-size="13">{}</text>"#,
        num(width / 2.0),
        num(plot_height + 32.0),
        esc(&fit_label(spec.axis_label, width - 8.0))
    );
    legend(&mut s, 4.0, height - 8.0, true);
    s.push_str("</svg>");
    s
}

/// The key to the marks; `compact` (narrow charts such as small multiples) uses short labels so it fits.
fn legend(s: &mut String, x0: f64, y: f64, compact: bool) {
    let (low, ci, low_x, ci_x) = if compact {
        ("low base", "95% CI", 82.0, 160.0)
    } else {
        (
            "low base (shown, few cases)",
            "95% confidence interval",
            85.0,
            270.0,
        )
    };
    let _ = write!(
        s,
        r##"<g class="legend" font-size="12"><circle cx="{}" cy="{}" r="5" fill="#000"/><text x="{}" y="{}">estimate</text><circle cx="{}" cy="{}" r="5" fill="#fff" stroke="#000" stroke-width="1.5"/><text x="{}" y="{}">{low}</text><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#555" stroke-width="2"/><text x="{}" y="{}">{ci}</text></g>"##,
        num(x0 + 5.0),
        num(y - 4.0),
        num(x0 + 14.0),
        num(y),
        num(x0 + low_x),
        num(y - 4.0),
        num(x0 + low_x + 9.0),
        num(y),
        num(x0 + ci_x),
        num(y - 4.0),
        num(x0 + ci_x + 24.0),
        num(y - 4.0),
        num(x0 + ci_x + 30.0),
        num(y)
    );
}

/// One row in words, for the row's `<title>` and `aria-label`.
fn dot_text(spec: &ChartSpec<'_>, dot: &Dot) -> String {
    let mut text = format!("{}: ", dot.label);
    match &dot.value {
        DotValue::Shown {
            estimate,
            ci,
            low_base,
        } => {
            text.push_str(&(spec.value_text)(*estimate));
            if let Some((l, h)) = ci {
                let _ = write!(
                    text,
                    " (95% CI {} to {})",
                    (spec.value_text)(*l),
                    (spec.value_text)(*h)
                );
            }
            if *low_base {
                text.push_str(", low base");
            }
        }
        DotValue::Withheld(reason) => text.push_str(reason),
    }
    if !dot.note.is_empty() {
        let _ = write!(text, "; {}", dot.note);
    }
    text
}

/// The whole chart in words (the SVG's `<desc>`).
fn description(spec: &ChartSpec<'_>, groups: &[Group]) -> String {
    let mut parts = Vec::new();
    for g in groups {
        let rows: Vec<String> = g.dots.iter().map(|d| dot_text(spec, d)).collect();
        match &g.heading {
            Some(h) => parts.push(format!("{h}: {}", rows.join("; "))),
            None => parts.push(rows.join("; ")),
        }
    }
    format!("{}. {}", spec.axis_label, parts.join(". "))
}

/// The range the axis must cover: 0 and every shown estimate and interval end.
pub fn axis_range(groups: &[Group]) -> (f64, f64) {
    let mut lo = 0.0f64;
    let mut hi = 0.0f64;
    for dot in groups.iter().flat_map(|g| &g.dots) {
        if let DotValue::Shown { estimate, ci, .. } = dot.value {
            for v in [Some(estimate), ci.map(|c| c.0), ci.map(|c| c.1)]
                .into_iter()
                .flatten()
                .filter(|v| v.is_finite())
            {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi)
}

/// Evenly spaced round ticks (step 1, 2, 2.5 or 5 x a power of ten) covering `lo..=hi`, at most about 6.
pub fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor();
    let last = (hi / step).ceil();
    let count = (last - first) as usize;
    (0..=count).map(|i| (first + i as f64) * step).collect()
}

/// Coordinates with at most one decimal, no trailing zeros (stable bytes).
pub(crate) fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// Escapes text for XML/HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Average advance of a 13 px sans-serif character, in px (a generous estimate, so labels fit).
const LABEL_CHAR_WIDTH: f64 = 7.6;

/// `label` shortened at a word boundary, with an ellipsis, to fit `width` px at 13 px; the row's
/// `<title>` and `aria-label` keep the full text.
fn fit_label(label: &str, width: f64) -> String {
    let max = (width / LABEL_CHAR_WIDTH).floor().max(4.0) as usize;
    if label.chars().count() <= max {
        return label.to_string();
    }
    let cut: Vec<char> = label.chars().take(max - 1).collect();
    // Cut at the last space (counted in characters) when it keeps more than half, unless the cut already
    // ends a word.
    let ends_a_word = label.chars().nth(max - 1) == Some(' ');
    let keep = match cut.iter().rposition(|c| *c == ' ') {
        Some(i) if !ends_a_word && i > max / 2 => i,
        _ => cut.len(),
    };
    let kept: String = cut[..keep].iter().collect();
    format!("{}…", kept.trim_end_matches([' ', ',', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(x: f64) -> String {
        format!("{:.1}%", x * 100.0)
    }
    fn tick(x: f64) -> String {
        format!("{:.0}%", x * 100.0)
    }

    fn chart(groups: &[Group]) -> String {
        let spec = ChartSpec {
            id: "c1",
            title: "Headline <test>",
            axis_label: "Per cent of children",
            label_width: 120.0,
            plot_width: 400.0,
            note_width: 200.0,
            value_text: &pct,
            tick_text: &tick,
            shared_range: None,
        };
        wide_chart(&spec, groups)
    }

    fn both(groups: &[Group]) -> String {
        let spec = ChartSpec {
            id: "c1",
            title: "Headline",
            axis_label: "Per cent of children",
            label_width: 160.0,
            plot_width: 470.0,
            note_width: 270.0,
            value_text: &pct,
            tick_text: &tick,
            shared_range: None,
        };
        dot_interval_chart(&spec, groups)
    }

    /// Every number after `attr="` in `svg`.
    fn attr_values(svg: &str, attr: &str) -> Vec<f64> {
        let key = format!(" {attr}=\"");
        svg.match_indices(&key)
            .filter_map(|(i, m)| {
                let rest = &svg[i + m.len()..];
                rest[..rest.find('"')?].parse().ok()
            })
            .collect()
    }

    #[test]
    fn a_chart_comes_in_a_wide_and_a_narrow_layout_with_the_same_text() {
        let long = "Frontline workers naming stigma or shame as a barrier to reporting abuse by a person known to the child";
        let groups = [Group {
            heading: Some("Eastern and Southern Africa".into()),
            dots: vec![
                dot(
                    "Kenya",
                    DotValue::Shown {
                        estimate: 0.1,
                        ci: Some((0.08, 0.12)),
                        low_base: false,
                    },
                ),
                Dot {
                    note: "about 410,000 children · n = 1,000".into(),
                    ..dot(long, DotValue::Withheld("suppressed (n < 25)".into()))
                },
            ],
        }];
        let html = both(&groups);
        let (wide, narrow) = html
            .split_once(r#"</div><div class="chart-narrow">"#)
            .unwrap_or_else(|| panic!("{html}"));
        assert!(wide.starts_with(r#"<div class="chart-wide"><svg"#));
        assert!(narrow.starts_with("<svg") && narrow.ends_with("</svg></div>"));
        assert!(wide.contains(r#"id="c1-title""#) && narrow.contains(r#"id="c1-narrow-title""#));
        assert!(narrow.contains(r#"aria-labelledby="c1-narrow-title c1-narrow-desc""#));
        let desc = |svg: &str| {
            let a = svg.find("<desc").unwrap_or(0);
            let b = svg.find("</desc>").unwrap_or(0);
            svg[svg[a..].find('>').map_or(a, |k| a + k)..b].to_string()
        };
        assert_eq!(desc(wide), desc(narrow));
        for svg in [wide, narrow] {
            assert_eq!(svg.matches(r#"class="row""#).count(), 2);
            assert_eq!(svg.matches(r#"class="withheld""#).count(), 1);
            assert!(svg.contains(r#"<a href="Kenya.html">"#));
        }
        // The narrow layout is 360 px wide, everything inside it, and no text below 12 px.
        assert!(narrow.contains(r#"width="360""#), "{}", &narrow[..120]);
        for x in attr_values(narrow, "x")
            .into_iter()
            .chain(attr_values(narrow, "x1"))
        {
            assert!((0.0..=NARROW_WIDTH).contains(&x), "x = {x}");
        }
        for size in attr_values(narrow, "font-size")
            .into_iter()
            .chain(attr_values(wide, "font-size"))
        {
            assert!(size >= 12.0, "font-size {size}");
        }
        // A short label has its note beside it; a long one is wrapped onto two lines (the second shortened) and
        // its note gets a line of its own.
        assert!(narrow.contains(r##"text-anchor="end" font-size="12" fill="#222">n = 100<"##));
        assert!(narrow.contains(r#"<text class="note" x="4""#));
        assert!(
            narrow.contains(">Frontline workers naming stigma or shame as a</text><text x=\"4\""),
            "{narrow}"
        );
        assert!(narrow.contains(">barrier to reporting abuse by a person known…</text>"));
        assert_eq!(wrap_label("Kenya", 352.0), ["Kenya"]);
        assert_eq!(
            wrap_label("Averyveryverylongsingleword", 76.0),
            ["Averyvery…"]
        );
        assert_eq!(
            wrap_label("Told the police about it", 76.0),
            ["Told the", "police…"]
        );
    }

    #[test]
    fn long_labels_are_shortened_at_a_word_and_kept_whole_in_the_title() {
        assert_eq!(fit_label("Kenya", 120.0), "Kenya");
        let long = "Frontline workers naming stigma or shame as a barrier to reporting abuse";
        let short = fit_label(long, 266.0);
        assert!(short.chars().count() <= 35, "{short}");
        assert_eq!(short, "Frontline workers naming stigma or…");
        assert_eq!(fit_label("Averyveryverylongsingleword", 76.0), "Averyvery…");
        // Positions are characters, not bytes: the space after 8 two-byte letters is not past half of 20.
        assert_eq!(
            fit_label("ĐĐĐĐĐĐĐĐ ĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐ", 152.0),
            "ĐĐĐĐĐĐĐĐ ĐĐĐĐĐĐĐĐĐĐ…"
        );
        assert_eq!(
            fit_label("Trẻ em được hỏi về việc sử dụng internet hằng ngày", 152.0),
            "Trẻ em được hỏi về…"
        );
    }

    fn dot(label: &str, value: DotValue) -> Dot {
        Dot {
            label: label.into(),
            href: Some(format!("{label}.html")),
            value,
            note: "n = 100".into(),
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            nice_ticks(0.0, 0.2),
            vec![0.0, 0.05, 0.1, 0.15000000000000002, 0.2]
        );
        let t = nice_ticks(0.0, 0.23);
        assert_eq!(t.first().copied(), Some(0.0));
        assert!(t.last().is_some_and(|l| *l >= 0.23) && t.len() <= 7);
        let t = nice_ticks(0.0, 412_000.0);
        assert!(t.last().is_some_and(|l| *l >= 412_000.0), "{t:?}");
        let t = nice_ticks(-2.0, 3.0);
        assert!(t.first().is_some_and(|f| *f <= -2.0));
    }

    #[test]
    fn shown_rows_are_dots_with_intervals_and_withheld_rows_are_text() {
        let svg = chart(&[Group {
            heading: Some("Region A".into()),
            dots: vec![
                dot(
                    "AAA",
                    DotValue::Shown {
                        estimate: 0.1,
                        ci: Some((0.08, 0.12)),
                        low_base: false,
                    },
                ),
                dot(
                    "BBB",
                    DotValue::Shown {
                        estimate: 0.2,
                        ci: None,
                        low_base: true,
                    },
                ),
                dot("CCC", DotValue::Withheld("suppressed (n < 25)".into())),
            ],
        }]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="dot""#).count(), 1);
        assert_eq!(svg.matches(r#"class="dot low-base""#).count(), 1);
        assert_eq!(svg.matches(r#"class="ci""#).count(), 1);
        assert_eq!(svg.matches(r#"class="withheld""#).count(), 1);
        assert!(svg.contains("AAA: 10.0% (95% CI 8.0% to 12.0%); n = 100"));
        assert!(svg.contains("BBB: 20.0%, low base"));
        assert!(svg.contains("CCC: suppressed (n &lt; 25)"));
        assert!(svg.contains("<title id=\"c1-title\">Headline &lt;test&gt;</title>"));
        assert!(svg.contains(r#"<a href="AAA.html">"#));
        assert!(svg.contains("Region A"));
        // The axis starts at zero and shows round ticks.
        assert!(svg.contains(">0%</text>") && svg.contains(">20%</text>"));
    }

    #[test]
    fn a_chart_with_nothing_shown_still_has_an_axis() {
        let svg = chart(&[Group {
            heading: None,
            dots: vec![dot("AAA", DotValue::Withheld("not collected".into()))],
        }]);
        assert!(!svg.contains("<circle class=\"dot"));
        assert!(svg.contains(">100%</text>"));
        assert!(svg.contains("not collected"));
    }

    #[test]
    fn size_grows_with_rows_and_headings() {
        let one = chart(&[Group {
            heading: None,
            dots: vec![dot("A", DotValue::Withheld("x".into()))],
        }]);
        let two = chart(&[Group {
            heading: Some("H".into()),
            dots: vec![
                dot("A", DotValue::Withheld("x".into())),
                dot("B", DotValue::Withheld("x".into())),
            ],
        }]);
        assert!(
            one.contains(r#"width="720" height="90""#),
            "{}",
            &one[..200]
        );
        assert!(two.contains(r#"height="136""#), "{}", &two[..200]);
    }

    #[test]
    fn long_notes_widen_the_chart_and_wide_ticks_narrow_the_narrow_axis() {
        let long_note = Dot {
            note: "n = 27 · unreliable · non-representative".into(),
            ..dot("A", DotValue::Withheld("x".into()))
        };
        let wide = chart(&[Group {
            heading: None,
            dots: vec![long_note.clone()],
        }]);
        // 120 + 400 + (40 characters x 7 + 14)
        assert!(wide.contains(r#"width="814""#), "{}", &wide[..200]);
        let count = |x: f64| format!("{x:.0},000,000");
        let spec = ChartSpec {
            id: "c3",
            title: "t",
            axis_label: "a",
            label_width: 120.0,
            plot_width: 400.0,
            note_width: 200.0,
            value_text: &count,
            tick_text: &count,
            shared_range: Some((0.0, 4.0)),
        };
        let narrow = narrow_chart(
            &spec,
            &[Group {
                heading: None,
                dots: vec![long_note],
            }],
        );
        // "4,000,000" is 9 characters: the axis ends 9 x 7 / 2 + 4 px before the edge.
        assert!(
            narrow.contains(r#"<text class="tick" x="324.5""#),
            "{narrow}"
        );
    }

    #[test]
    fn a_shared_range_widens_the_axis() {
        let groups = [Group {
            heading: None,
            dots: vec![dot(
                "A",
                DotValue::Shown {
                    estimate: 0.05,
                    ci: Some((0.04, 0.06)),
                    low_base: false,
                },
            )],
        }];
        assert!(chart(&groups).contains(">6%</text>"));
        let spec = ChartSpec {
            id: "c2",
            title: "t",
            axis_label: "a",
            label_width: 120.0,
            plot_width: 400.0,
            note_width: 200.0,
            value_text: &pct,
            tick_text: &tick,
            shared_range: Some((0.0, 0.4)),
        };
        let wide = wide_chart(&spec, &groups);
        assert!(wide.contains(">40%</text>") && !wide.contains(">6%</text>"));
    }

    #[test]
    fn escaping() {
        assert_eq!(esc(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&#39;");
        assert_eq!(num(1.25), "1.3");
        assert_eq!(num(2.0), "2");
    }
}
