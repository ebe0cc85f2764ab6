//! Inline SVG charts: the dot-and-interval chart used for the overview, the indicator pages, the small multiples
//! and the country profiles. Written by hand (a few hundred lines, tested) rather than through a plotting crate:
//! the report needs one chart type with exact control over accessibility (`<title>`, `<desc>`, `aria-label`
//! with the numbers), grey-scale encodings (filled vs hollow dots, text for withheld values) and byte-stable
//! output.
//!
//! Withheld estimates (suppressed, not collected) are written as text in the plot area, never drawn as a dot.

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

/// A dot-and-interval chart of `groups` (drawn in the order given).
pub fn dot_interval_chart(spec: &ChartSpec<'_>, groups: &[Group]) -> String {
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
    let x0 = spec.label_width;
    let x = |v: f64| x0 + (v - lo) / (hi - lo) * spec.plot_width;
    let rows: usize = groups.iter().map(|g| g.dots.len()).sum();
    let headings = groups.iter().filter(|g| g.heading.is_some()).count();
    let plot_height = TOP + rows as f64 * ROW + headings as f64 * HEADING;
    let width = spec.label_width + spec.plot_width + spec.note_width;
    let height = plot_height + AXIS + LEGEND;
    let id = spec.id;

    let mut s = String::new();
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
            match &dot.href {
                Some(href) => {
                    let _ = write!(s, r#"<a href="{}">{label}</a>"#, esc(href));
                }
                None => s.push_str(&label),
            }
            match &dot.value {
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
                        num(x0 + 6.0),
                        num(cy + 4.0),
                        esc(text)
                    );
                }
            }
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

/// The key to the marks; `compact` (narrow charts such as small multiples) uses short labels so it fits.
fn legend(s: &mut String, x0: f64, y: f64, compact: bool) {
    let (low, ci, low_x, ci_x) = if compact {
        ("low base", "95% CI", 75.0, 150.0)
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
fn num(v: f64) -> String {
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
        dot_interval_chart(&spec, groups)
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
        let wide = dot_interval_chart(&spec, &groups);
        assert!(wide.contains(">40%</text>") && !wide.contains(">6%</text>"));
    }

    #[test]
    fn escaping() {
        assert_eq!(esc(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&#39;");
        assert_eq!(num(1.25), "1.3");
        assert_eq!(num(2.0), "2");
    }
}
