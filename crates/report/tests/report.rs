//! The report and workbook against the indicator table they are built from: every number shown comes from the
//! table, suppressed values never appear, links resolve, the workbook read back with calamine holds the same
//! numbers, rebuilding from the recorded context gives the same bytes.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[path = "../../../tests/common/optional.rs"]
mod optional;

use calamine::{Data, Reader, Xlsx, open_workbook};
use dh_report::fixtures;
use dh_report::format::{about, percent, statistic_value, thousands};
use dh_report::table::IndicatorRow;
use dh_report::{ReportContext, build};

fn out_with(rows: &[IndicatorRow], ctx: &ReportContext) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    fixtures::write_out_dir(dir.path(), rows);
    build(dir.path(), Some(ctx)).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn pages(out: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(out.join("report"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let html = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{e}"));
            (p, html)
        })
        .collect()
}

/// Removes the style sheet and axis tick labels (the only numbers not taken from the table besides thresholds
/// and the 95% level).
fn without_ticks(html: &str) -> String {
    let html = match (html.find("<style>"), html.find("</style>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &html[..a], &html[b..]),
        _ => html.to_string(),
    };
    let mut out = String::new();
    let mut rest = html.as_str();
    while let Some(start) = rest.find(r#"<text class="tick""#) {
        out.push_str(&rest[..start]);
        match rest[start..].find("</text>") {
            Some(end) => rest = &rest[start + end + "</text>".len()..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Tokens like `12.3%`, `about 410,000`, `n = 1,000` in a page.
fn tokens(html: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let bytes = html.as_bytes();
    let mut percents = Vec::new();
    let mut abouts = Vec::new();
    let mut ns = Vec::new();
    let number_at = |i: usize| -> String {
        html[i..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
            .collect::<String>()
            .trim_end_matches(['.', ','])
            .to_string()
    };
    for (i, _) in html.match_indices('%') {
        let mut j = i;
        while j > 0 && (bytes[j - 1].is_ascii_digit() || bytes[j - 1] == b'.') {
            j -= 1;
        }
        if j < i {
            percents.push(html[j..=i].to_string());
        }
    }
    for (i, m) in html.match_indices("about ") {
        let n = number_at(i + m.len());
        if !n.is_empty() {
            abouts.push(n);
        }
    }
    for (i, m) in html.match_indices("n = ") {
        let n = number_at(i + m.len());
        if !n.is_empty() {
            ns.push(n);
        }
    }
    (percents, abouts, ns)
}

#[test]
fn every_number_shown_comes_from_the_indicator_table() {
    let ctx = fixtures::context();
    let rows = fixtures::rows(&ctx);
    let dir = out_with(&rows, &ctx);
    // 95% intervals, and the methods page's reliability threshold (relative standard error above 30%).
    let rse = format!("{}%", ctx.reliability.rse_above * 100.0);
    let mut allowed_pct: BTreeSet<String> = BTreeSet::from(["95%".to_string(), rse]);
    let mut allowed_about = BTreeSet::new();
    let mut allowed_n = BTreeSet::new();
    for r in &rows {
        allowed_n.insert(thousands(r.n_unweighted as f64));
        if let Some(s) = r.shown() {
            allowed_pct.insert(percent(s.estimate));
            if let Some((l, h)) = s.ci {
                allowed_pct.insert(percent(l));
                allowed_pct.insert(percent(h));
            }
        }
        if let Some(p) = r.shown_population() {
            allowed_about.insert(about(p).trim_start_matches("about ").to_string());
        }
    }
    for c in &ctx.countries {
        allowed_about.insert(about(c.population).trim_start_matches("about ").to_string());
    }
    let mut seen = 0;
    for (path, html) in pages(dir.path()) {
        let (percents, abouts, ns) = tokens(&without_ticks(&html));
        for p in &percents {
            assert!(
                allowed_pct.contains(p),
                "{}: {p} is not in the table",
                path.display()
            );
        }
        for a in &abouts {
            assert!(
                allowed_about.contains(a),
                "{}: about {a} is not in the table",
                path.display()
            );
        }
        for n in &ns {
            assert!(
                allowed_n.contains(n),
                "{}: n = {n} is not in the table",
                path.display()
            );
        }
        seen += percents.len() + abouts.len() + ns.len();
    }
    assert!(seen > 1000, "the pages show numbers ({seen})");
    // The headline of every country is on the overview with its interval and base.
    let index = std::fs::read_to_string(dir.path().join("report/index.html")).unwrap_or_default();
    for r in rows
        .iter()
        .filter(|r| r.indicator == "ocsea_clear_any" && r.is_total())
    {
        let s = r
            .shown()
            .unwrap_or_else(|| panic!("fixture headline is shown"));
        assert!(index.contains(&percent(s.estimate)), "{}", r.country);
        let (lo, hi) = s.ci.unwrap_or_default();
        assert!(index.contains(&format!("{} to {}", percent(lo), percent(hi))));
        let pop = r.shown_population().unwrap_or_default();
        assert!(
            index.contains(&format!("{} children", about(pop))),
            "{}",
            r.country
        );
    }
}

#[test]
fn suppressed_values_never_appear_and_withheld_rows_are_written_out() {
    let ctx = fixtures::context();
    let mut rows = fixtures::rows(&ctx);
    // Plant values in withheld rows: the report must never show them, whatever the table holds.
    let mut planted = 0;
    for r in rows
        .iter_mut()
        .filter(|r| r.flag == "suppressed" || r.flag == "not_collected")
    {
        r.estimate = Some(0.8642);
        r.ci_lower = Some(0.7531);
        r.ci_upper = Some(0.9753);
        r.population_estimate = Some(97_531_000.0);
        planted += 1;
    }
    assert!(planted > 10, "the fixture has withheld rows");
    let dir = out_with(&rows, &ctx);
    for (path, html) in pages(dir.path()) {
        for needle in ["86.4%", "75.3%", "97.5%", "98,000,000", "97,531"] {
            assert!(!html.contains(needle), "{}: shows {needle}", path.display());
        }
    }
    let police = std::fs::read_to_string(dir.path().join("report/indicator-told_police.html"))
        .unwrap_or_default();
    assert!(police.contains("suppressed (n &lt; 25)"));
    assert!(police.contains("low base (n &lt; 50)"));
    assert!(police.contains(r#"class="dot low-base""#));
    let caregivers = std::fs::read_to_string(
        dir.path()
            .join("report/indicator-caregiver_report_police.html"),
    )
    .unwrap_or_default();
    assert!(caregivers.contains("not collected"));
    // No workbook cell holds a planted value.
    let mut wb: Xlsx<_> =
        open_workbook(dir.path().join("tables/indicators.xlsx")).unwrap_or_else(|e| panic!("{e}"));
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap_or_else(|e| panic!("{e}"));
        for cell in range.used_cells() {
            if let Data::Float(v) = cell.2 {
                for bad in [0.8642, 0.7531, 0.9753, 97_531_000.0] {
                    assert!((v - bad).abs() > 1e-12, "sheet {name} holds {bad}");
                }
            }
        }
    }
}

#[test]
fn every_link_resolves() {
    let ctx = fixtures::context();
    let rows = fixtures::rows(&ctx);
    let dir = out_with(&rows, &ctx);
    let report = dir.path().join("report");
    let mut links = 0;
    for (path, html) in pages(dir.path()) {
        for (i, m) in html.match_indices("href=\"") {
            let start = i + m.len();
            let end = html[start..].find('"').map(|e| start + e).unwrap_or(start);
            let href = &html[start..end];
            assert!(
                !href.starts_with("http") && !href.starts_with("//"),
                "{}: external link {href}",
                path.display()
            );
            let (file, anchor) = href.split_once('#').unwrap_or((href, ""));
            let target = if file.is_empty() {
                path.clone()
            } else {
                report.join(file)
            };
            assert!(target.is_file(), "{}: broken link {href}", path.display());
            if !anchor.is_empty() {
                let target_html = std::fs::read_to_string(&target).unwrap_or_default();
                assert!(target_html.contains(&format!("id=\"{anchor}\"")), "{href}");
            }
            links += 1;
        }
        assert!(
            !html.contains("<script"),
            "{}: no JavaScript",
            path.display()
        );
    }
    assert!(links > 200, "{links} links");
    // One page per indicator and per country, plus overview, lists and methods.
    assert_eq!(
        pages(dir.path()).len(),
        4 + ctx.indicators.len() + ctx.countries.len()
    );
}

#[test]
fn workbook_read_back_with_calamine_holds_the_same_numbers() {
    let ctx = fixtures::context();
    let rows = fixtures::rows(&ctx);
    let dir = out_with(&rows, &ctx);
    let mut wb: Xlsx<_> =
        open_workbook(dir.path().join("tables/indicators.xlsx")).unwrap_or_else(|e| panic!("{e}"));
    let names = wb.sheet_names();
    assert!(names.contains(&"Definitions".to_string()));
    assert_eq!(names.first().map(String::as_str), Some("Read me"));
    assert!(
        names.contains(&"Household survey - children".to_string())
            && names.contains(&"Household survey - caregivers".to_string()),
        "{names:?}"
    );
    for c in &ctx.countries {
        assert!(names.contains(&c.iso3), "sheet {} in {names:?}", c.iso3);
    }
    // Every family sheet row equals its indicator-table row.
    let mut checked = 0;
    for name in names.iter().filter(|n| n.starts_with("Household survey")) {
        let range = wb.worksheet_range(name).unwrap_or_else(|e| panic!("{e}"));
        let mut lines = range.rows();
        let header: Vec<String> = lines
            .next()
            .map(|h| h.iter().map(|c| c.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(header, dh_report::workbook::header());
        for line in lines {
            let text = |i: usize| line[i].to_string();
            let number = |i: usize| match &line[i] {
                Data::Float(v) => Some(*v),
                Data::Int(v) => Some(*v as f64),
                _ => None,
            };
            let r = rows
                .iter()
                .find(|r| {
                    r.country == text(0)
                        && r.indicator == text(2)
                        && r.domain == text(5)
                        && r.domain_value == text(6)
                })
                .unwrap_or_else(|| panic!("row {:?} not in the table", text(2)));
            let label = ctx
                .definition(&r.indicator)
                .map(|d| d.label.clone())
                .unwrap_or_default();
            assert_eq!(text(3), label);
            let shown = r.shown();
            assert_eq!(number(7), shown.map(|s| s.estimate), "{r:?}");
            assert_eq!(number(8), shown.and(r.se), "{r:?}");
            assert_eq!(number(9), shown.and_then(|s| s.ci).map(|c| c.0));
            assert_eq!(number(10), shown.and_then(|s| s.ci).map(|c| c.1));
            assert_eq!(number(11), Some(r.n_unweighted as f64));
            assert_eq!(number(12), r.shown_population());
            assert_eq!(text(13), r.flag);
            if shown.is_none() {
                // The withheld estimate says why, and the note gives the reason.
                assert!(
                    ["suppressed (n < 25)", "not collected"].contains(&text(7).as_str()),
                    "{}",
                    text(7)
                );
                assert!(!text(15).is_empty(), "{r:?}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, rows.len(), "every row is in a family sheet");
    let defs = wb
        .worksheet_range("Definitions")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(defs.height(), ctx.indicators.len() + 1);
}

#[test]
fn output_is_deterministic_and_rebuilds_from_the_recorded_context() {
    let ctx = fixtures::context();
    let rows = fixtures::rows(&ctx);
    let a = out_with(&rows, &ctx);
    let b = out_with(&rows, &ctx);
    let snapshot = |out: &Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out.join("report"))
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap_or_default(),
                )
            })
            .collect();
        files.sort();
        files.push((
            "indicators.xlsx".into(),
            std::fs::read(out.join("tables/indicators.xlsx")).unwrap_or_default(),
        ));
        files
    };
    let first = snapshot(a.path());
    assert_eq!(first, snapshot(b.path()));
    // Same bytes on one thread as on several.
    let c = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    fixtures::write_out_dir(c.path(), &rows);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    one.install(|| build(c.path(), Some(&ctx)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first, snapshot(c.path()));
    // `dh report`: no context given, the recorded one is used; same bytes.
    build(a.path(), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first, snapshot(a.path()));
    assert!(!a.path().join(".report-new").exists() && !a.path().join(".report-old").exists());
}

#[test]
fn country_pages_show_design_ledger_quarantine_and_weighting() {
    let ctx = fixtures::context();
    let rows = fixtures::rows(&ctx);
    let dir = out_with(&rows, &ctx);
    let tha = std::fs::read_to_string(dir.path().join("report/country-THA.html"))
        .unwrap_or_default()
        .replace("&#x2f;", "/");
    for needle in [
        "Thailand",
        "THA/c.csv",
        "1,002",
        "code_unknown</code></td><td class=\"num\">2",
        "out_of_range</code></td><td class=\"num\">1",
        "Strata</th><td class=\"num\">2",
        "Primary sampling units</th><td class=\"num\">4",
        "final.kish_deff",
        "Household survey: caregivers",
    ] {
        assert!(tha.contains(needle), "country page lacks {needle}");
    }
    let methods =
        std::fs::read_to_string(dir.path().join("report/methods.html")).unwrap_or_default();
    // The digest, computed independently: compact JSON with sorted keys, report entries removed.
    let mut manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("manifest.json")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let canonical = serde_json::to_vec(&manifest).unwrap_or_default();
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(&canonical));
    assert!(
        methods.contains(&hash),
        "methods page names the manifest digest"
    );
    // Listing the report's own files in the manifest does not change the digest the report shows.
    let listed = serde_json::json!({"path": "report/index.html", "country": "", "table": "",
        "kind": "report", "rows": 0, "bytes": 1, "sha256": "00"});
    if let Some(outputs) = manifest.get_mut("outputs").and_then(|o| o.as_array_mut()) {
        outputs.push(listed);
    }
    std::fs::write(
        dir.path().join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    build(dir.path(), None).unwrap_or_else(|e| panic!("{e}"));
    let rebuilt =
        std::fs::read_to_string(dir.path().join("report/methods.html")).unwrap_or_default();
    assert_eq!(rebuilt, methods);
    assert!(methods.contains("dh 0.1.0"));
    // A count indicator is written as a whole number.
    let count = rows
        .iter()
        .find(|r| r.indicator == "ocsea_clear_any_count" && r.is_total())
        .and_then(|r| r.shown())
        .map(|s| statistic_value("count", s.estimate))
        .unwrap_or_default();
    let page = std::fs::read_to_string(
        dir.path()
            .join("report/indicator-ocsea_clear_any_count.html"),
    )
    .unwrap_or_default();
    assert!(!count.is_empty() && page.contains(&count), "{count}");
}

#[test]
fn missing_inputs_are_reported_with_their_path() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let err = build(dir.path(), None).unwrap_err().to_string();
    assert!(
        err.contains("context.json") && err.contains("dh run"),
        "{err}"
    );
    let ctx = fixtures::context();
    let err = build(dir.path(), Some(&ctx)).unwrap_err().to_string();
    assert!(err.contains("indicators.parquet"), "{err}");
}

/// A row meeting several conditions shows every warning on its pages and in the workbook, and an `unreliable`
/// estimate is shown with its warning; the methods page states the reliability thresholds.
#[test]
fn every_condition_of_a_row_is_shown() {
    let ctx = fixtures::context();
    let mut rows = fixtures::rows(&ctx);
    let pick = |rows: &[IndicatorRow], country: &str| {
        rows.iter()
            .position(|r| r.country == country && r.indicator == "ocsea_clear_any" && r.is_total())
            .unwrap_or_else(|| panic!("{country}"))
    };
    let both = pick(&rows, "THA");
    rows[both].flag = "low_base".into();
    rows[both].flags = vec!["low_base".into(), "non_representative".into()];
    let imprecise = pick(&rows, "ETH");
    rows[imprecise].flag = "unreliable".into();
    rows[imprecise].flags = vec!["unreliable".into()];
    let dir = out_with(&rows, &ctx);
    let page = std::fs::read_to_string(dir.path().join("report/indicator-ocsea_clear_any.html"))
        .unwrap_or_default();
    assert!(
        page.contains("low base (n &lt; 50); non-representative (unweighted)"),
        "the page shows both warnings"
    );
    assert!(page.contains("unreliable (imprecise estimate)"));
    let eth = rows[imprecise].estimate.map(percent).unwrap_or_default();
    assert!(!eth.is_empty() && page.contains(&eth), "{eth}");
    let mut wb: Xlsx<_> = open_workbook(dir.path().join("tables/indicators.xlsx"))
        .unwrap_or_else(|e: calamine::XlsxError| panic!("{e}"));
    let sheet = wb.worksheet_range("THA").unwrap_or_else(|e| panic!("{e}"));
    let all_flags = sheet
        .rows()
        .find(|r| {
            r.get(2).map(|c| c.to_string()) == Some("ocsea_clear_any".into())
                && r.get(5).map(|c| c.to_string()) == Some("total".into())
        })
        .and_then(|r| r.get(14).map(|c| c.to_string()));
    assert_eq!(all_flags.as_deref(), Some("low_base; non_representative"));
    let methods =
        std::fs::read_to_string(dir.path().join("report/methods.html")).unwrap_or_default();
    for needle in [
        "above 30%",
        "wider than 30 percentage points",
        "below 30.",
        "<code>flags</code>",
        "as \"15\"",
    ] {
        assert!(methods.contains(needle), "methods page lacks {needle}");
    }
}

/// Adds an interview indicator broken down by participant group, as the other data families publish it: an
/// unweighted proportion whose withheld levels hide their base (`n_unweighted` = 0).
fn with_family(ctx: &mut ReportContext, rows: &mut Vec<IndicatorRow>) {
    let id = "int_theme_barriers_to_disclosure";
    let mut def = ctx.indicators[0].clone();
    def.id = id.into();
    def.label = "Interviewees who named barriers to disclosure".into();
    def.table = "interview_themes".into();
    def.statistic = "unweighted_proportion".into();
    def.ci_method = "wilson".into();
    def.missing_rule = String::new();
    def.disaggregations = vec!["participant_group".into()];
    def.withheld_base_hidden = Some(true);
    ctx.indicators.push(def);
    let row = |country: &str, domain: &str, value: &str, shown: Option<(f64, u64)>, flag: &str| {
        let flags = if flag == "ok" {
            vec!["non_representative".to_string()]
        } else {
            vec![flag.to_string(), "non_representative".to_string()]
        };
        IndicatorRow {
            country: country.into(),
            indicator: id.into(),
            indicator_version: "1.0.0".into(),
            domain: domain.into(),
            domain_value: value.into(),
            estimate: shown.map(|(p, _)| p),
            se: None,
            ci_lower: shown.map(|(p, _)| p - 0.15),
            ci_upper: shown.map(|(p, _)| p + 0.15),
            ci_method: "wilson".into(),
            n_unweighted: shown.map(|(_, n)| n).unwrap_or(0),
            population_estimate: None,
            flag: if flag == "ok" {
                "non_representative".into()
            } else {
                flag.into()
            },
            flags,
        }
    };
    for (iso3, ..) in fixtures::COUNTRIES {
        rows.push(row(iso3, "total", "total", Some((0.4, 43)), "low_base"));
        let group = "participant_group";
        rows.push(row(
            iso3,
            group,
            "government_duty_bearer",
            Some((0.5, 30)),
            "low_base",
        ));
        rows.push(row(iso3, group, "justice_professional", None, "suppressed"));
        rows.push(row(
            iso3,
            group,
            "child_survivor",
            None,
            "suppressed_small_count",
        ));
        rows.push(row(iso3, group, "caregiver", None, "suppressed"));
    }
}

/// Replaces the entities minijinja writes for text.
fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

#[test]
fn breakdowns_are_labelled_and_withheld_bases_read_withheld_not_n_0() {
    let mut ctx = fixtures::context();
    let mut rows = fixtures::rows(&ctx);
    with_family(&mut ctx, &mut rows);
    let dir = out_with(&rows, &ctx);
    let page = std::fs::read_to_string(
        dir.path()
            .join("report/indicator-int_theme_barriers_to_disclosure.html"),
    )
    .unwrap_or_default();
    for label in [
        "By participant group",
        "Government duty bearer",
        "Justice professional",
        "Child survivor",
        "Caregiver",
    ] {
        assert!(page.contains(label), "the page lacks {label}");
    }
    for code in [
        "government_duty_bearer",
        "justice_professional",
        "child_survivor",
    ] {
        assert!(!page.contains(code), "the page prints the code {code}");
    }
    // The bases withheld with the estimates read "withheld", in the charts and the tables; shown bases stay.
    assert!(!page.contains("n = 0"), "a withheld base reads as n = 0");
    assert!(page.contains("n = withheld") && page.contains("n = 30"));
    assert!(!page.contains(r#"<td class="num">0</td>"#));
    // Age bands keep their ranges; domains read as labels.
    let survey = std::fs::read_to_string(dir.path().join("report/indicator-ocsea_clear_any.html"))
        .unwrap_or_default();
    for needle in [
        "<h4>12-13</h4>",
        "<h4>Male</h4>",
        "By age band",
        "Urban / rural",
    ] {
        assert!(survey.contains(needle), "the survey page lacks {needle}");
    }
    assert!(!survey.contains("<h4>male</h4>"));
}

#[test]
fn the_methods_page_explains_every_flag_of_the_registry() {
    let ctx = fixtures::context();
    let rows = fixtures::rows(&ctx);
    let dir = out_with(&rows, &ctx);
    let methods = unescape(
        &std::fs::read_to_string(dir.path().join("report/methods.html")).unwrap_or_default(),
    );
    let thresholds = ctx.thresholds();
    for flag in dh_indicators::Flag::ALL {
        let code = flag.as_str();
        assert!(
            methods.contains(&format!(r#"id="flag-{code}""#)),
            "the methods page has no row for {code}"
        );
        assert!(methods.contains(flag.meaning()), "{code}: meaning");
        assert!(methods.contains(&flag.rule(&thresholds)), "{code}: rule");
    }
    for needle in [
        "non_representative",
        "<5",
        "Complementary suppression",
        "Wilson",
        "Korn-Graubard",
        "Clopper-Pearson",
        "Logit",
        "<code>population_estimate</code>",
        "<code>*_count</code>",
        "the proportion times the weighted size of its universe",
        "the proportion's logit interval times that size",
        "suppressed (n < 25)",
        "suppressed (complementary)",
    ] {
        assert!(methods.contains(needle), "the methods page lacks {needle}");
    }
}

/// Reads the workbook back with openpyxl (an independent reader that also sees the cell styles): "Read me" first
/// and explaining every column and flag, valid readable sheet names, withheld cells grey and italic with the reason
/// beside them, the SE and label columns. Skipped with a message when Python or openpyxl is missing, unless `CI` is
/// set.
#[test]
fn workbook_read_back_with_openpyxl_explains_itself_and_marks_withheld_cells() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import openpyxl"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        let why = match &probe {
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => format!("python3: {e}"),
        };
        optional::tool_missing(
            "the openpyxl read-back of the workbook",
            &format!("python3 with openpyxl is needed ({why})"),
        );
        return;
    }
    let mut ctx = fixtures::context();
    let mut rows = fixtures::rows(&ctx);
    with_family(&mut ctx, &mut rows);
    let dir = out_with(&rows, &ctx);
    let expected = serde_json::json!({
        "header": dh_report::workbook::header(),
        "flags": dh_indicators::Flag::ALL.map(|f| f.as_str()),
        "fill": dh_report::workbook::WITHHELD_FILL.trim_start_matches('#'),
        // with_family: a total and four participant groups per country of the fixture
        "interview_rows": fixtures::COUNTRIES.len() * 5,
    });
    let script = dir.path().join("check.py");
    std::fs::write(&script, OPENPYXL_CHECK).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(dir.path().join("tables/indicators.xlsx"))
        .arg(expected.to_string())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "openpyxl check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("checked"), "{report}");
}

const OPENPYXL_CHECK: &str = r#"
import json, sys
import openpyxl

path, expected = sys.argv[1], json.loads(sys.argv[2])
wb = openpyxl.load_workbook(path)
errors = []
def check(ok, what):
    if not ok:
        errors.append(what)

names = wb.sheetnames
check(names[0] == "Read me", f"first sheet {names[0]!r}")
check(len({n.lower() for n in names}) == len(names), f"names not unique: {names}")
for n in names:
    check(0 < len(n) <= 31 and not any(c in n for c in '[]:*?/\\'), f"invalid sheet name {n!r}")
for n in ["Household survey - children", "Household survey - caregivers", "Interview themes", "Definitions", "THA"]:
    check(n in names, f"no sheet {n!r} in {names}")

readme = wb["Read me"]
first_column = {str(r[0].value) for r in readme.iter_rows() if r[0].value is not None}
for flag in expected["flags"]:
    check(flag in first_column, f"Read me does not explain flag {flag}")
for column in expected["header"]:
    check(column in first_column, f"Read me does not explain column {column}")
for sheet in names:
    check(sheet in first_column, f"Read me does not list sheet {sheet}")
text = " ".join(str(c.value) for r in readme.iter_rows() for c in r if c.value is not None)
for needle in ["fewer than 25", "<5", "complementary", "withheld"]:
    check(needle in text, f"Read me lacks {needle!r}")

def rows_of(sheet):
    it = sheet.iter_rows()
    header = [c.value for c in next(it)]
    check(header == expected["header"], f"{sheet.title}: header {header}")
    for r in it:
        yield {h: c for h, c in zip(header, r)}

def withheld_style(cell):
    return cell.font.i and str(cell.fill.fgColor.rgb).upper().endswith(expected["fill"].upper())

family = list(rows_of(wb["Interview themes"]))
check(len(family) == expected["interview_rows"], f"interview rows {len(family)}")
for r in family:
    flag = r["Flag"].value
    if flag == "suppressed_small_count":
        check(r["Estimate"].value == "<5", f"small count shows {r['Estimate'].value!r}")
        check(withheld_style(r["Estimate"]), "a withheld estimate is not grey and italic")
        check(r["n (unweighted)"].value == "withheld", f"small-count base {r['n (unweighted)'].value!r}")
        check(withheld_style(r["n (unweighted)"]), "a withheld base is not grey and italic")
        check(str(r["Note"].value).startswith("Withheld and shown as <5"), f"note {r['Note'].value!r}")
        check(r["CI lower (95%)"].value is None and r["Population estimate"].value is None, "numbers in a withheld row")
        check(str(r["CI lower (95%)"].fill.fgColor.rgb).upper().endswith(expected["fill"].upper()), "withheld CI not grey")
    elif flag == "suppressed":
        check(r["Estimate"].value == "suppressed (n < 25)", f"suppressed shows {r['Estimate'].value!r}")
        check(r["n (unweighted)"].value == "withheld", "a hidden family base reads as a number")
    else:
        check(isinstance(r["Estimate"].value, float), f"shown estimate {r['Estimate'].value!r}")
        check(not r["Estimate"].font.i, "a shown estimate is italic")
        check(r["Indicator label"].value == "Interviewees who named barriers to disclosure", "label")
        check("non-representative" in str(r["Note"].value), f"warning note {r['Note'].value!r}")
    check(r["Domain value"].value in ("total", "government_duty_bearer", "justice_professional", "child_survivor", "caregiver"), "codes stay codes")

survey = list(rows_of(wb["Household survey - children"]))
shown = [r for r in survey if isinstance(r["Estimate"].value, float)]
check(shown and all(isinstance(r["SE"].value, float) for r in shown), "shown survey rows have an SE")
check(all(r["Estimate"].number_format == "0.0%" for r in shown if r["Indicator"].value == "ocsea_clear_any"), "percent format")
withheld = [r for r in survey if r["Flag"].value == "suppressed"]
check(withheld, "the fixture has suppressed survey rows")
for r in withheld:
    check(withheld_style(r["Estimate"]), "a suppressed survey estimate is not grey and italic")
    check(isinstance(r["n (unweighted)"].value, (int, float)), "a survey base stays a number")
    check(str(r["Note"].value).startswith("Withheld"), f"note {r['Note'].value!r}")

if errors:
    print("\n".join(errors[:40]))
    sys.exit(1)
print(f"checked {len(names)} sheets, {len(family) + len(survey)} rows")
"#;
