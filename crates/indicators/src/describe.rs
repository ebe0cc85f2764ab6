//! The descriptive columns of the published indicator tables, `label`, `unit` and `universe_label`, looked up by
//! country and indicator id from the catalogues: a family indicator that names the reference years has each
//! country's years in its texts (`2017-2019`), and [`Descriptions::generic`] gives the one text for every country
//! (the years in words) used by the cross-country table.

use std::collections::BTreeMap;

use dh_config::country::ReferenceYears;

use crate::catalogue::Catalogue;
use crate::families::reference_years::substitute;

/// What the outputs say about one indicator (in one country).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Description {
    pub label: String,
    pub unit: String,
    pub universe_label: String,
    /// A categorical statistic's (code, label) list: the `estimate_label` of a row is the label of its code.
    pub codes: Vec<(i64, String)>,
}

/// Descriptions of every catalogue indicator, generic and per country where they differ.
#[derive(Debug, Clone, Default)]
pub struct Descriptions {
    generic: BTreeMap<String, Description>,
    by_country: BTreeMap<(String, String), Description>,
}

impl Descriptions {
    /// The descriptions of `catalogue`'s survey and family indicators for `countries` (ISO3 code and reference
    /// years of each country whose rows are written).
    pub fn new<'a>(
        catalogue: &Catalogue,
        countries: impl IntoIterator<Item = (&'a str, ReferenceYears)>,
    ) -> Descriptions {
        let mut out = Descriptions::default();
        for i in &catalogue.indicators {
            out.generic.insert(
                i.id.clone(),
                Description {
                    label: i.label.clone(),
                    unit: i.unit.clone(),
                    universe_label: i.universe_label.clone(),
                    codes: Vec::new(),
                },
            );
        }
        let families = &catalogue.families.indicators;
        for f in families {
            out.generic.insert(
                f.id.clone(),
                Description {
                    label: f.label.clone(),
                    unit: f.unit.clone(),
                    universe_label: f.universe_label.clone(),
                    codes: f.codes.clone(),
                },
            );
        }
        for (country, years) in countries {
            for f in families.iter().filter(|f| f.uses_reference_years()) {
                out.by_country.insert(
                    (country.to_string(), f.id.clone()),
                    Description {
                        label: substitute(&f.templates.label, years),
                        unit: f.unit.clone(),
                        universe_label: substitute(&f.templates.universe_label, years),
                        codes: f.codes.clone(),
                    },
                );
            }
        }
        out
    }

    /// Descriptions given directly: generic ones by indicator id, per-country ones by (country, id).
    pub fn from_entries<'a>(
        generic: impl IntoIterator<Item = (&'a str, Description)>,
        by_country: impl IntoIterator<Item = (&'a str, &'a str, Description)>,
    ) -> Descriptions {
        Descriptions {
            generic: generic
                .into_iter()
                .map(|(id, d)| (id.to_string(), d))
                .collect(),
            by_country: by_country
                .into_iter()
                .map(|(c, id, d)| ((c.to_string(), id.to_string()), d))
                .collect(),
        }
    }

    /// The description of `indicator` in `country` (its own years), else the generic one.
    pub fn get(&self, country: &str, indicator: &str) -> Option<&Description> {
        self.by_country
            .get(&(country.to_string(), indicator.to_string()))
            .or_else(|| self.generic.get(indicator))
    }

    /// The `estimate_label` of a row of `indicator` in `country` whose estimate is `estimate`: the label of that
    /// code for a categorical statistic, `None` otherwise.
    pub fn estimate_label(
        &self,
        country: &str,
        indicator: &str,
        estimate: Option<f64>,
    ) -> Option<&str> {
        let code = estimate?;
        self.get(country, indicator)?
            .codes
            .iter()
            .find(|(c, _)| *c as f64 == code)
            .map(|(_, l)| l.as_str())
    }

    /// The one description of `indicator` for every country.
    pub fn generic(&self, indicator: &str) -> Option<&Description> {
        self.generic.get(indicator)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn family_texts_carry_each_country_years_and_the_generic_text_words_them() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let schemas =
            dh_config::load_schemas(&repo.join("schemas")).unwrap_or_else(|e| panic!("{e}"));
        let (_, catalogue) =
            crate::load(&repo.join("pipelines"), &schemas).unwrap_or_else(|e| panic!("{e}"));
        let phase2 = ReferenceYears {
            first: 2021,
            last: 2023,
        };
        let d = Descriptions::new(
            &catalogue,
            [("THA", phase2), ("KEN", ReferenceYears::default())],
        );
        let label = |c: &str, id: &str| d.get(c, id).map(|d| d.label.clone()).unwrap_or_default();
        let rate = "le_cybertipline_rate";
        assert!(
            label("THA", rate).contains("2021-2023"),
            "{}",
            label("THA", rate)
        );
        assert!(
            label("KEN", rate).contains("2017-2019"),
            "{}",
            label("KEN", rate)
        );
        let generic = d.generic(rate).cloned().unwrap_or_default();
        assert!(
            generic.label.contains("the country's reference years"),
            "{generic:?}"
        );
        assert_eq!(
            d.get("THA", rate).map(|d| d.universe_label.as_str()),
            Some("NCMEC CyberTipline reports concerning the country, 2021-2023")
        );
        assert_eq!(d.get("THA", rate).map(|d| &d.unit), Some(&generic.unit));
        // A country without its own copy, and a survey indicator, get the generic text.
        assert_eq!(d.get("ZZZ", rate), d.generic(rate));
        let headline = d.get("THA", "ocsea_clear_any").cloned().unwrap_or_default();
        assert_eq!(headline.unit, "proportion");
        assert_eq!(
            headline.universe_label,
            "Internet-using children aged 12-17"
        );
        assert_eq!(d.get("THA", "no_such_indicator"), None);
    }
}
