//! Unit tests of the legal review's grid, country section and workbook sheet, and of the service-contact
//! section, on the fixture context plus a legal and a service-contact indicator.

use super::*;
use crate::context::{Definition, ReportContext};
use crate::table::TOTAL;

const LEGAL: &str = "legal_provision_status";
const CONTACTS: &str = "sc_contacts";
const CITATION: &str = r#"Penal Code "A" <b> & c."#;
const GROOMING: &str = "The law criminalises online grooming of children for sexual purposes";

fn context() -> ReportContext {
    let mut ctx = crate::test_data::context();
    let template = ctx.indicators[0].clone();
    ctx.indicators.push(Definition {
        id: LEGAL.into(),
        label: "Status of each provision".into(),
        table: LEGAL_TABLE.into(),
        statistic: CATEGORICAL.into(),
        disaggregations: vec!["provision".into()],
        level_titles: [("criminalises_grooming".to_string(), GROOMING.to_string())].into(),
        ..template.clone()
    });
    ctx.indicators.push(Definition {
        id: CONTACTS.into(),
        label: "Contacts".into(),
        table: crate::services::SERVICES_TABLE.into(),
        statistic: "total".into(),
        disaggregations: vec!["year".into(), "category".into()],
        withheld_base_hidden: Some(true),
        ..template
    });
    ctx
}

fn row(
    country: &str,
    id: &str,
    domain: &str,
    value: &str,
    estimate: Option<f64>,
    flag: &str,
) -> IndicatorRow {
    IndicatorRow {
        country: country.into(),
        indicator: id.into(),
        indicator_version: "1.0.0".into(),
        domain: domain.into(),
        domain_value: value.into(),
        estimate,
        se: None,
        ci_lower: None,
        ci_upper: None,
        ci_method: "none".into(),
        n_unweighted: if estimate.is_some() { 1 } else { 0 },
        population_estimate: None,
        flag: flag.into(),
        flags: vec![flag.into()],
    }
}

/// Kenya: four provisions with a status and one not collected; Thailand: no review delivered.
fn rows() -> Vec<IndicatorRow> {
    let p = "provision";
    vec![
        row("KEN", LEGAL, p, "criminalises_grooming", Some(1.0), "ok"),
        row(
            "KEN",
            LEGAL,
            p,
            "criminalises_csam_production",
            Some(2.0),
            "ok",
        ),
        row(
            "KEN",
            LEGAL,
            p,
            "criminalises_csam_possession",
            Some(3.0),
            "ok",
        ),
        row(
            "KEN",
            LEGAL,
            p,
            "criminalises_live_streaming",
            Some(4.0),
            "ok",
        ),
        row(
            "KEN",
            LEGAL,
            p,
            "national_action_plan",
            None,
            "not_collected",
        ),
        row("THA", LEGAL, TOTAL, TOTAL, None, "not_collected"),
        row("KEN", CONTACTS, TOTAL, TOTAL, Some(1103.0), "ok"),
        row("KEN", CONTACTS, "year", "2019", Some(513.0), "ok"),
        row(
            "KEN",
            CONTACTS,
            "category",
            "live_streaming",
            None,
            "suppressed_small_count",
        ),
        row(
            "KEN",
            CONTACTS,
            "category",
            "other_online_abuse",
            None,
            "suppressed",
        ),
    ]
}

fn review() -> Review {
    let labels = [
        ("criminalises_grooming", "yes"),
        ("criminalises_csam_production", "partial"),
        ("criminalises_csam_possession", "no"),
        ("criminalises_live_streaming", "unclear"),
    ]
    .map(|(p, l)| {
        (
            (
                "KEN".to_string(),
                LEGAL.to_string(),
                "provision".to_string(),
                p.to_string(),
            ),
            l.to_string(),
        )
    });
    let source = |citation: &str| Source {
        citation: citation.into(),
        review_date: "2023-05-01".into(),
    };
    Review::from_parts(
        labels,
        [
            (
                ("KEN".into(), "criminalises_grooming".into()),
                source(CITATION),
            ),
            (
                ("KEN".into(), "criminalises_csam_production".into()),
                source(""),
            ),
        ],
    )
}

#[test]
fn each_status_has_its_own_symbol_and_word_and_unknown_ones_read_as_not_reviewed() {
    let symbols: Vec<&str> = STATUSES.iter().map(|s| s.symbol).collect();
    let mut unique = symbols.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), STATUSES.len(), "{symbols:?}");
    assert_eq!(style(Some("yes")).symbol, "●");
    assert_eq!(style(Some("partial")).symbol, "◐");
    assert_eq!(style(Some("no")).symbol, "○");
    assert_eq!(style(Some("unclear")).symbol, "?");
    assert_eq!(style(Some("surprise")).words, "not reviewed");
    assert_eq!(style(None).class, "st-none");
}

#[test]
fn a_cell_carries_the_status_and_the_citation_of_its_country_and_provision() {
    let ctx = context();
    let rows = rows();
    let model = Model::new(&ctx, &rows).with_review(review());
    let ken = country_provisions(&model, "KEN");
    assert_eq!(ken.len(), 5);
    let grooming = &ken[0].cell;
    assert_eq!((grooming.symbol, grooming.words), ("●", "yes"));
    assert_eq!(grooming.title, format!("{CITATION} (reviewed 2023-05-01)"));
    assert_eq!(ken[1].cell.title, "No citation (reviewed 2023-05-01)");
    assert_eq!(ken[4].cell.words, "not reviewed");
    assert_eq!(ken[4].provision.heading, "National action plan");
    assert_eq!(
        ken[4].provision.wording, "National action plan",
        "no title: the heading"
    );
    assert_eq!(ken[0].provision.wording, GROOMING);
    // Thailand did not deliver a review: its page has no list (the grid shows it as not reviewed).
    assert!(country_provisions(&model, "THA").is_empty());
    assert!(country_provisions(&model, "ETH").is_empty());
    // On tables the categorical row shows its label, not its code.
    let r = &rows[1];
    assert_eq!(model.cells(r).estimate, "Partial");
}

#[test]
fn the_grid_page_reads_in_grey_scale_and_escapes_the_citation() {
    let ctx = context();
    let rows = rows();
    let model = Model::new(&ctx, &rows).with_review(review());
    let pages = crate::pages::render_pages(&model, &crate::run_info::RunInfo::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let page = |file: &str| {
        pages
            .iter()
            .find(|p| p.file == file)
            .map(|p| p.html.clone())
            .unwrap_or_else(|| panic!("no page {file}"))
    };
    let grid = page(&crate::pages::indicator_file(LEGAL));
    for s in &STATUSES {
        assert!(grid.contains(s.symbol), "{} missing", s.symbol);
        let meaning = s.meaning.replace('\'', "&#x27;");
        assert!(grid.contains(&meaning), "legend of {}", s.status);
    }
    assert!(
        grid.contains(
            r#"title="Penal Code &quot;A&quot; &lt;b&gt; &amp; c. (reviewed 2023-05-01)""#
        ),
        "the citation is escaped in the title"
    );
    assert!(!grid.contains("<b>"));
    assert!(
        grid.contains("<th scope=\"col\">Criminalises grooming</th>")
            || grid.contains(">Criminalises grooming</th>")
    );
    assert!(grid.contains("<th scope=\"row\"><a href=\"country-KEN.html\">Kenya</a></th>"));
    assert!(
        grid.contains("class=\"table-scroll\""),
        "scrolls sideways on a phone"
    );
    assert!(
        grid.contains(&format!(
            "<th scope=\"col\" title=\"{GROOMING}\">Criminalises grooming</th>"
        )),
        "the wording in the heading's title"
    );
    assert!(
        grid.contains(&format!("<td>{GROOMING}</td>")),
        "the checklist's wording"
    );
    assert!(
        grid.contains("<span class=\"sym\" aria-hidden=\"true\">●</span>yes"),
        "symbol and word"
    );
    assert!(grid.contains(".st-yes"), "the status styles");
    let ken = page("country-KEN.html");
    assert!(ken.contains("Legal and policy review"));
    assert!(ken.contains("Penal Code &quot;A&quot; &lt;b&gt; &amp; c."));
    assert!(ken.contains("Helplines, hotlines and NGOs"));
    assert!(ken.contains("&lt;5"), "the withheld category");
    assert!(
        ken.contains(
            "<th scope=\"row\">Other online abuse</th><td class=\"withheld\">no record</td>"
        ),
        "a category without a record is not a small base"
    );
    assert!(
        grid.contains("<a href=\"country-THA.html\">Thailand</a></th><td class=\"st st-none\""),
        "a country without a review is on the grid, not reviewed"
    );
    let tha = page("country-THA.html");
    assert!(!tha.contains("Legal and policy review"));
    let eth = page("country-ETH.html");
    assert!(!eth.contains("Legal and policy review") && !eth.contains("Helplines"));
    assert!(
        !eth.contains(".st-yes"),
        "no status styles where no status is shown"
    );
}

#[test]
fn the_workbook_has_one_legal_sheet_with_words_and_notes() {
    use calamine::Reader;
    let ctx = context();
    let rows = rows();
    let model = Model::new(&ctx, &rows).with_review(review());
    let bytes = crate::workbook::workbook_bytes(&model).unwrap_or_else(|e| panic!("{e}"));
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone()))
            .unwrap_or_else(|e| panic!("{e}"));
    let names = wb.sheet_names();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.as_str() == crate::workbook::LEGAL_SHEET)
            .count(),
        1,
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "Service contacts"), "{names:?}");
    let range = wb
        .worksheet_range(crate::workbook::LEGAL_SHEET)
        .unwrap_or_else(|e| panic!("{e}"));
    let cell = |y: usize, x: usize| range.get((y, x)).map(|d| d.to_string()).unwrap_or_default();
    assert_eq!(cell(0, 2), "criminalises_grooming");
    let ken = (1..range.height())
        .find(|&y| cell(y, 0) == "KEN")
        .unwrap_or_else(|| panic!("no KEN row"));
    assert_eq!(
        (2..7).map(|x| cell(ken, x)).collect::<Vec<_>>(),
        ["yes", "partial", "no", "unclear", "not reviewed"]
    );
    let tha = (1..range.height())
        .find(|&y| cell(y, 0) == "THA")
        .unwrap_or_else(|| panic!("no THA row"));
    assert_eq!(cell(tha, 2), "not reviewed");
    let kenya = crate::workbook::workbook_bytes(&model).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bytes, kenya, "deterministic bytes");
}
