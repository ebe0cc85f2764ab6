//! The HTML pages of `OUT/report/`: one minijinja template per page kind (`templates/`, compiled into the binary),
//! filled from the [`Model`]. Pages are flat files so every link is relative and works offline:
//! `index.html`, `indicators.html`, `countries.html`, `methods.html`, `indicator-<id>.html`, `country-<ISO3>.html`.
//!
//! Modules: [`links`] names the files and labels every page links to, [`charts`] draws the charts and tile map
//! shared by several pages, [`overview`] builds the front page and the two lists, [`indicator`] one indicator's page,
//! [`country`] one country's page (a list of section builders), [`methods`] the methods page.

mod charts;
mod country;
mod indicator;
mod links;
mod methods;
mod overview;

use minijinja::value::Serde;
use minijinja::{Environment, context};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::ReportError;
use crate::model::Model;
use crate::run_info::RunInfo;

pub use charts::NO_ESTIMATE;
pub use links::{country_file, family_title, indicator_file};

/// One rendered page: file name inside `OUT/report/` and its HTML.
pub struct Page {
    pub file: String,
    pub html: String,
}

fn environment() -> Result<Environment<'static>, ReportError> {
    let mut env = Environment::new();
    let templates = [
        ("base.html", include_str!("../../templates/base.html")),
        ("macros.html", include_str!("../../templates/macros.html")),
        ("index.html", include_str!("../../templates/index.html")),
        ("list.html", include_str!("../../templates/list.html")),
        (
            "indicator.html",
            include_str!("../../templates/indicator.html"),
        ),
        ("country.html", include_str!("../../templates/country.html")),
        ("methods.html", include_str!("../../templates/methods.html")),
        ("legal.html", include_str!("../../templates/legal.html")),
        (
            "legal_styles.html",
            include_str!("../../templates/legal_styles.html"),
        ),
        (
            "country_sources.html",
            include_str!("../../templates/country_sources.html"),
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
        rse_percent => charts::clean(model.context.reliability.rse_above * 100.0).to_string(),
        ci_width_points => charts::clean(model.context.reliability.ci_width_above * 100.0).to_string(),
        effective_n_below => charts::clean(model.context.reliability.effective_n_below).to_string(),
        countries => Serde(links::country_links(model)),
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
        render(
            "index.html",
            "index.html".into(),
            overview::overview(model, run),
        )?,
        render(
            "list.html",
            "indicators.html".into(),
            overview::indicator_list(model),
        )?,
        render(
            "list.html",
            "countries.html".into(),
            overview::country_list(model),
        )?,
        render(
            "methods.html",
            "methods.html".into(),
            methods::methods(model),
        )?,
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
                    indicator::indicator_page(model, key),
                )
            } else {
                render(
                    "country.html",
                    country_file(key),
                    country::country_page(model, run, key),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_slugs() {
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
