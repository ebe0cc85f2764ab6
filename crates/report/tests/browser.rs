//! Renders the overview and one indicator page in headless Chromium (Debian package `chromium`, installed by
//! `.ci/run`) and checks that the charts are present and laid out with a real size. The report itself has no
//! JavaScript; the test renders a probe copy of each page with a few lines appended that write every SVG's
//! rendered size into the DOM, which `--dump-dom` then prints. Screenshots go to the test's temporary folder
//! (and to `DH_REPORT_SCREENSHOTS` when set, for looking at them).
//!
//! Without Chromium the test fails, unless `DH_SKIP_BROWSER_TEST=1` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use dh_report::{build, fixtures};

const PROBE: &str = r#"<script>
for (const s of document.querySelectorAll('svg.chart')) {
  const r = s.getBoundingClientRect();
  s.setAttribute('data-rendered', Math.round(r.width) + 'x' + Math.round(r.height));
}
document.body.setAttribute('data-probe', 'done');
</script></body>"#;

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

fn browser(bin: &Path, args: &[&str], page: &Path) -> std::process::Output {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--hide-scrollbars",
        "--window-size=1280,1800",
    ]);
    cmd.args(args);
    cmd.arg(format!("file://{}", page.display()));
    cmd.output()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()))
}

/// (rendered width, rendered height) of every chart in a dumped DOM.
fn rendered_sizes(dom: &str) -> Vec<(u32, u32)> {
    dom.match_indices("data-rendered=\"")
        .filter_map(|(i, m)| {
            let rest = &dom[i + m.len()..];
            let value = &rest[..rest.find('"')?];
            let (w, h) = value.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        })
        .collect()
}

#[test]
fn overview_and_indicator_page_render_with_sized_charts() {
    let Some(bin) = chromium() else {
        if std::env::var("DH_SKIP_BROWSER_TEST").is_ok_and(|v| v == "1") {
            eprintln!("chromium not found; skipped because DH_SKIP_BROWSER_TEST=1");
            return;
        }
        panic!("chromium not found: `apt-get install -y chromium` (or set DH_SKIP_BROWSER_TEST=1)");
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("out");
    let ctx = fixtures::context();
    fixtures::write_out_dir(&out, &fixtures::rows(&ctx));
    build(&out, Some(&ctx)).unwrap_or_else(|e| panic!("{e}"));
    let report = out.join("report");
    let keep = std::env::var_os("DH_REPORT_SCREENSHOTS").map(PathBuf::from);

    // (page, expected charts: overview 1; indicator page 1 + 7 small multiples)
    for (page, charts) in [("index.html", 1), ("indicator-ocsea_clear_any.html", 8)] {
        let html = std::fs::read_to_string(report.join(page)).unwrap_or_else(|e| panic!("{e}"));
        assert!(!html.contains("<script"), "{page} has no JavaScript");
        let probe = report.join(format!("probe-{page}"));
        std::fs::write(&probe, html.replacen("</body>", PROBE, 1))
            .unwrap_or_else(|e| panic!("{e}"));
        let dump = browser(&bin, &["--dump-dom"], &probe);
        let dom = String::from_utf8_lossy(&dump.stdout);
        assert!(
            dom.contains("data-probe=\"done\""),
            "{page}: chromium did not render: {}",
            String::from_utf8_lossy(&dump.stderr)
        );
        let sizes = rendered_sizes(&dom);
        assert_eq!(sizes.len(), charts, "{page}: charts {sizes:?}");
        for (w, h) in &sizes {
            assert!(*w >= 250 && *h >= 80, "{page}: a chart renders at {w}x{h}");
        }
        if page == "index.html" {
            // Thirteen countries, each a row with a dot or a written-out status.
            let (w, h) = sizes[0];
            assert!(w >= 700 && h >= 13 * 20, "overview chart {w}x{h}");
            assert_eq!(dom.matches("class=\"row\"").count(), 13);
        }
        let png = dir.path().join(format!("{page}.png"));
        let shot = browser(
            &bin,
            &[&format!("--screenshot={}", png.display())],
            &report.join(page),
        );
        let bytes = std::fs::read(&png).unwrap_or_else(|e| {
            panic!(
                "{page}: no screenshot ({e}): {}",
                String::from_utf8_lossy(&shot.stderr)
            )
        });
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{page}: screenshot"
        );
        if let Some(keep) = &keep {
            std::fs::create_dir_all(keep).unwrap_or_else(|e| panic!("{e}"));
            std::fs::copy(&png, keep.join(format!("{page}.png"))).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    // For looking at more pages (not checked): a page with suppressed and low-base rows, and a country page.
    if let Some(keep) = &keep {
        for page in ["indicator-told_police.html", "country-THA.html"] {
            let png = keep.join(format!("{page}.png"));
            browser(
                &bin,
                &[&format!("--screenshot={}", png.display())],
                &report.join(page),
            );
        }
    }
}
