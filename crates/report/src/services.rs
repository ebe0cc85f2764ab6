//! The helpline, hotline and NGO contacts (`service_contacts`) on a country's page: every total of the table's
//! contacts with its breakdowns (by year, by harmonised category, by organisation type), each level with the
//! same cell texts as the rest of the report (`<5` and complementary suppression written out, never drawn).

use serde::Serialize;

use crate::format::humanise;
use crate::model::{Cells, Model};

/// The harmonised table of the service contacts.
pub const SERVICES_TABLE: &str = "service_contacts";

/// One level of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelRow {
    pub level: String,
    pub cells: Cells,
}

/// One breakdown of an indicator (total and levels of one domain).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    /// "By year", "By category".
    pub title: String,
    pub domain: String,
    /// The domain as a column heading ("Organisation type").
    pub heading: String,
    pub rows: Vec<LevelRow>,
}

/// One indicator of the section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub id: String,
    pub label: String,
    pub href: String,
    pub total: Cells,
    pub breakdowns: Vec<Breakdown>,
}

/// The totals of the contact counts (`total` statistic over [`SERVICES_TABLE`]) of one country, in catalogue
/// order, each with its breakdowns; empty when the run has none or the country did not deliver the table (its
/// rows are `not_collected`, which the family table of the page already says).
pub fn country_sections(model: &Model<'_>, iso3: &str) -> Vec<Section> {
    model
        .indicators
        .iter()
        .filter(|id| {
            model
                .definition(id)
                .is_some_and(|d| d.table == SERVICES_TABLE && d.statistic == "total")
        })
        .filter_map(|id| {
            let total = model.total(iso3, id).filter(|t| !t.has("not_collected"))?;
            let rows = model.rows_of(iso3, id);
            let mut breakdowns: Vec<Breakdown> = Vec::new();
            for r in rows.iter().filter(|r| !r.is_total()) {
                let level = LevelRow {
                    level: humanise(&r.domain_value),
                    cells: model.cells(r),
                };
                match breakdowns.iter_mut().find(|b| b.domain == r.domain) {
                    Some(b) => b.rows.push(level),
                    None => breakdowns.push(Breakdown {
                        title: format!("By {}", humanise(&r.domain).to_lowercase()),
                        domain: r.domain.clone(),
                        heading: humanise(&r.domain),
                        rows: vec![level],
                    }),
                }
            }
            Some(Section {
                id: id.clone(),
                label: model
                    .definition(id)
                    .map(|d| d.label_for(model.context.country(iso3)))
                    .unwrap_or_else(|| id.clone()),
                href: crate::pages::indicator_file(id),
                total: model.cells(total),
                breakdowns,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_without_service_indicators_has_no_section() {
        let ctx = crate::test_data::context();
        let rows = crate::test_data::rows(&ctx);
        let model = Model::new(&ctx, &rows);
        assert!(country_sections(&model, "THA").is_empty());
    }
}
