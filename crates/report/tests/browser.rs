//! Renders report pages in headless Chromium (Debian package `chromium`, installed by `.ci/run`) at a phone's
//! width (400 px) and a desktop's (1400 px) and checks the layout: the page is exactly as wide as the viewport
//! (nothing overflows sideways: wide tables scroll in their own box, charts switch to their narrow layout), no
//! visible text is smaller than 12 px (for SVG text, its font size times the SVG's scale) or cut at its chart's
//! edge, a table's caption wraps within the box its table scrolls in (not cut with the table's overflow), and the
//! charts and the tile map are laid out with a real size. The report itself has no JavaScript; the
//! test renders a probe copy of each page with a script appended that writes its measurements into the DOM of the
//! frame holding it, which `--dump-dom` prints. Headless Chromium's window is at least 500 px wide, so each page is shown in an
//! `<iframe srcdoc>` of the width checked (a frame is a viewport of its own: media queries and `innerWidth`
//! follow it, and the probe asserts that they do).
//!
//! Screenshots of the overview and a country page at both widths go to `target/report-screenshots/`.
//!
//! Without Chromium the test says that it was skipped and why, and passes; with the environment variable `CI`
//! set it fails instead, so CI never skips it silently.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../../tests/common/optional.rs"]
mod optional;

use dh_report::{build, fixtures};

/// Writes into the `<body>` of the frame's parent: the viewport and document widths, the smallest visible text and
/// where it is, the first chart text that sticks out of its chart, the rendered size of every visible chart, the
/// number of tables outside a scroll box, the captions that run past their table's scroll box, the visible map
/// tiles.
const PROBE: &str = r#"<script>
(() => {
  const b = document.body, out = parent.document.body;
  const visible = (e) => e.getClientRects().length > 0;
  let min = 1000, where = '';
  const note = (size, e) => {
    if (size < min) { min = size; where = e.tagName + ' "' + (e.textContent || '').trim().slice(0, 40) + '"'; }
  };
  for (const e of b.querySelectorAll('*')) {
    if (e.closest('svg')) continue;
    const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (own && visible(e)) note(parseFloat(getComputedStyle(e).fontSize), e);
  }
  const charts = [];
  let clipped = '';
  for (const s of b.querySelectorAll('svg.chart')) {
    if (!visible(s)) continue;
    const r = s.getBoundingClientRect();
    const scale = r.width / s.viewBox.baseVal.width;
    charts.push(Math.round(r.width) + 'x' + Math.round(r.height) + (s.classList.contains('map') ? 'm' : ''));
    for (const t of s.querySelectorAll('text')) {
      if (t.textContent.trim() === '' || !visible(t)) continue;
      note(parseFloat(getComputedStyle(t).fontSize) * scale, t);
      const q = t.getBoundingClientRect();
      if (!clipped && (q.left < r.left - 1 || q.right > r.right + 1)) clipped = t.textContent.trim().slice(0, 40);
    }
  }
  const loose = [...b.querySelectorAll('table')].filter((t) => !t.parentElement.classList.contains('table-scroll'));
  const cut = [...b.querySelectorAll('.table-scroll caption')].filter((c) => visible(c)
    && c.getBoundingClientRect().right > c.closest('.table-scroll').getBoundingClientRect().right + 1);
  out.setAttribute('data-viewport', String(window.innerWidth));
  out.setAttribute('data-client', String(document.documentElement.clientWidth));
  out.setAttribute('data-document', String(document.documentElement.scrollWidth));
  out.setAttribute('data-min-font', min.toFixed(2));
  out.setAttribute('data-min-font-at', where.replace(/"/g, "'"));
  out.setAttribute('data-charts', charts.join(' '));
  out.setAttribute('data-clipped', clipped.replace(/"/g, "'"));
  out.setAttribute('data-loose-tables', String(loose.length));
  out.setAttribute('data-cut-captions', cut.map((c) => c.textContent.trim().slice(0, 40)).join(' | ').replace(/"/g, "'"));
  out.setAttribute('data-tiles', String([...b.querySelectorAll('svg.map g.tile')].filter(visible).length));
  out.setAttribute('data-probe', 'done');
})();
</script></body>"#;

/// Viewport widths checked: a phone's and a desktop's.
const WIDTHS: [u32; 2] = [400, 1400];

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("which").arg(name).output().ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

/// Headless Chromium's smallest window width.
const MIN_WINDOW: u32 = 500;

/// Shows `html` in a frame `width` x `height` px inside a window wide enough for it, with `args` (`--dump-dom`,
/// `--screenshot=...`). The frame page is written beside `page_dir`'s pages, so relative links resolve.
fn browser(
    bin: &Path,
    page_dir: &Path,
    html: &str,
    (width, height): (u32, u32),
    args: &[&str],
) -> std::process::Output {
    let srcdoc = html.replace('&', "&amp;").replace('"', "&quot;");
    let frame = format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0;background:#bbb"><iframe srcdoc="{srcdoc}" width="{width}" height="{height}" style="border:0;display:block;background:#fff"></iframe></body></html>"#
    );
    let path = page_dir.join(format!("frame-{width}.html"));
    std::fs::write(&path, frame).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        &format!("--window-size={},{height}", width.max(MIN_WINDOW)),
    ]);
    cmd.args(args);
    cmd.arg(format!("file://{}", path.display()));
    cmd.output()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()))
}

/// The value of `data-<name>` on the probed `<body>`.
fn probed<'a>(dom: &'a str, name: &str) -> &'a str {
    let key = format!("data-{name}=\"");
    dom.find(&key)
        .and_then(|i| {
            let rest = &dom[i + key.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .unwrap_or("")
}

/// (width, height, is the map) of every visible chart.
fn chart_sizes(dom: &str) -> Vec<(u32, u32, bool)> {
    probed(dom, "charts")
        .split_whitespace()
        .filter_map(|c| {
            let map = c.ends_with('m');
            let (w, h) = c.trim_end_matches('m').split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?, map))
        })
        .collect()
}

/// Where the screenshots are kept: `target/report-screenshots/`.
fn screenshot_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("report-screenshots")
}

#[test]
fn pages_fit_a_phone_and_a_desktop_with_readable_text() {
    let Some(bin) = chromium() else {
        optional::tool_missing(
            "the browser test",
            "chromium (or chromium-browser, google-chrome) is not on the PATH; install it \
             (`apt-get install -y chromium`) to check the report's layout",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("out");
    let ctx = fixtures::context();
    fixtures::write_out_dir(&out, &fixtures::rows(&ctx));
    build(&out, Some(&ctx)).unwrap_or_else(|e| panic!("{e}"));
    let report = out.join("report");
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).unwrap_or_else(|e| panic!("{}: {e}", shots.display()));

    // (page, charts visible at each width: overview map + chart; indicator page 1 + 7 small multiples)
    let pages = [
        ("index.html", 2),
        ("country-THA.html", 1),
        ("indicator-ocsea_clear_any.html", 8),
        // suppressed and low-base rows
        ("indicator-told_police.html", 8),
        ("methods.html", 0),
    ];
    let mut failures = Vec::new();
    for (page, charts) in pages {
        let html = std::fs::read_to_string(report.join(page)).unwrap_or_else(|e| panic!("{e}"));
        assert!(!html.contains("<script"), "{page} has no JavaScript");
        let probe = html.replacen("</body>", PROBE, 1);
        for width in WIDTHS {
            let dump = browser(&bin, &report, &probe, (width, 900), &["--dump-dom"]);
            let dom = String::from_utf8_lossy(&dump.stdout);
            assert!(
                probed(&dom, "probe") == "done",
                "{page} at {width} px: chromium did not render: {}",
                String::from_utf8_lossy(&dump.stderr)
            );
            let at = format!("{page} at {width} px");
            let viewport = probed(&dom, "viewport");
            assert_eq!(viewport, width.to_string(), "{at}: viewport");
            assert_eq!(
                probed(&dom, "client"),
                viewport,
                "{at}: a scroll bar takes room"
            );
            let document = probed(&dom, "document");
            if document != viewport {
                failures.push(format!("{at}: the document is {document} px wide"));
            }
            let min_font: f64 = probed(&dom, "min-font").parse().unwrap_or(0.0);
            if min_font < 12.0 {
                failures.push(format!(
                    "{at}: text at {min_font} px: {}",
                    probed(&dom, "min-font-at")
                ));
            }
            let clipped = probed(&dom, "clipped");
            if !clipped.is_empty() {
                failures.push(format!(
                    "{at}: chart text cut at the chart's edge: {clipped}"
                ));
            }
            let cut = probed(&dom, "cut-captions");
            if !cut.is_empty() {
                failures.push(format!(
                    "{at}: a table caption runs past its scroll box: {cut}"
                ));
            }
            if probed(&dom, "loose-tables") != "0" {
                failures.push(format!("{at}: a table outside a scroll box"));
            }
            let sizes = chart_sizes(&dom);
            if sizes.len() != charts {
                failures.push(format!(
                    "{at}: {} charts visible, not {charts}: {sizes:?}",
                    sizes.len()
                ));
            }
            for (w, h, map) in &sizes {
                let small = if *map {
                    *w < 300 || *h < 250
                } else {
                    *w < 300 || *h < 80
                };
                if small {
                    failures.push(format!("{at}: a chart renders at {w}x{h}"));
                }
            }
            if page == "index.html" {
                // The tile map has a tile per country; the chart a row per country.
                assert_eq!(
                    probed(&dom, "tiles"),
                    fixtures::COUNTRIES.len().to_string(),
                    "{at}: tiles"
                );
                let widest = sizes.iter().map(|(w, _, _)| *w).max().unwrap_or(0);
                if width == 1400 && widest < 900 {
                    failures.push(format!("{at}: the overview chart is {widest} px wide"));
                }
            }
        }
    }
    // Screenshots of the overview and a country page at both widths, for looking at them (at 400 px the window
    // is 500 px wide: the grey strip on the right is outside the frame).
    for page in ["index.html", "country-THA.html"] {
        for width in WIDTHS {
            let png = shots.join(format!("{}-{width}.png", page.trim_end_matches(".html")));
            let html = std::fs::read_to_string(report.join(page)).unwrap_or_else(|e| panic!("{e}"));
            let shot = browser(
                &bin,
                &report,
                &html,
                (width, 2400),
                &[&format!("--screenshot={}", png.display())],
            );
            let bytes = std::fs::read(&png).unwrap_or_else(|e| {
                panic!(
                    "{page}: no screenshot ({e}): {}",
                    String::from_utf8_lossy(&shot.stderr)
                )
            });
            assert!(
                bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
                "{page} at {width} px: screenshot"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
