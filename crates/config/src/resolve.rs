//! Resolution of column mappings after the merge: a column's `scheme` is expanded into its `codes`, and coded
//! columns inherit missing codes (the column's own, else its scheme's, else its delivery's). Unknown scheme names are
//! left unresolved here and reported by [`crate::validate_country`]. A part of a multi-file delivery first gets a copy
//! of every delivery column mapping it does not set, then resolves them all against its own `missing` (or the
//! delivery's), so each file's mapping is complete and flat.

use std::collections::BTreeMap;

use crate::country::{CodeScheme, ColumnMap, CountryConfig};

/// Fills every collected column's `codes` and `missing` from its scheme and delivery (and likewise in every part).
pub fn resolve_mappings(config: &mut CountryConfig) {
    for delivery in config.deliveries.values_mut() {
        for part in &mut delivery.parts {
            for (name, map) in &delivery.columns {
                part.columns
                    .entry(name.clone())
                    .or_insert_with(|| map.clone());
            }
            let missing = if part.missing.is_empty() {
                &delivery.missing
            } else {
                &part.missing
            };
            resolve_columns(&mut part.columns, missing, &config.code_schemes);
        }
        resolve_columns(
            &mut delivery.columns,
            &delivery.missing,
            &config.code_schemes,
        );
    }
}

/// Resolves one file's column mappings given the delivery-level missing codes that apply to it.
fn resolve_columns(
    columns: &mut BTreeMap<String, ColumnMap>,
    delivery_missing: &BTreeMap<String, String>,
    schemes: &BTreeMap<String, CodeScheme>,
) {
    for column in columns.values_mut() {
        if column.not_collected {
            continue;
        }
        let scheme = column.scheme.as_ref().and_then(|name| schemes.get(name));
        if column.codes.is_empty()
            && let Some(s) = scheme
        {
            column.codes = s.codes.clone();
        }
        let coded = !column.codes.is_empty() || column.scheme.is_some();
        if column.missing.is_empty() {
            match scheme {
                Some(s) if !s.missing.is_empty() => column.missing = s.missing.clone(),
                _ if coded => column.missing = delivery_missing.clone(),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::resolve_mappings;
    use crate::country::{ColumnMap, CountryConfig};

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn config() -> CountryConfig {
        let text = r#"
            [country]
            iso3 = "XXX"
            name = "X"
            region = "R"
            fieldwork_start = "2021-01-01"
            fieldwork_end = "2021-02-01"
            [population]
            source = "s"
            population_12_17 = 1
            internet_share = 1
            cells = []
            [code_schemes.yes_no]
            codes = { "1" = "yes", "2" = "no" }
            [code_schemes.freq]
            codes = { "1" = "daily" }
            missing = { "7" = "dont_know" }
            [deliveries.t]
            file = "t.csv"
            missing = { "8" = "dont_know", "" = "not_applicable" }
            [deliveries.t.columns]
            plain = { source = "A", scheme = "yes_no" }
            own = { source = "B", scheme = "yes_no", codes = { "Y" = "yes", "N" = "no" }, missing = { "9" = "refused" } }
            via_scheme = { source = "C", scheme = "freq" }
            numeric = { source = "D" }
            skipped = { not_collected = true }
            unknown = { source = "E", scheme = "nope" }
        "#;
        toml::from_str(text).unwrap()
    }

    #[test]
    fn schemes_and_missing_codes_resolve_in_order() {
        let mut c = config();
        resolve_mappings(&mut c);
        let cols = &c.deliveries["t"].columns;
        assert_eq!(cols["plain"].codes, map(&[("1", "yes"), ("2", "no")]));
        assert_eq!(
            cols["plain"].missing,
            map(&[("8", "dont_know"), ("", "not_applicable")])
        );
        assert_eq!(cols["own"].codes, map(&[("Y", "yes"), ("N", "no")]));
        assert_eq!(cols["own"].missing, map(&[("9", "refused")]));
        assert_eq!(cols["via_scheme"].codes, map(&[("1", "daily")]));
        assert_eq!(cols["via_scheme"].missing, map(&[("7", "dont_know")]));
        assert!(cols["numeric"].codes.is_empty() && cols["numeric"].missing.is_empty());
        assert_eq!(
            cols["skipped"],
            ColumnMap {
                not_collected: true,
                ..Default::default()
            }
        );
        // An unknown scheme stays unresolved (validate_country reports it) but still inherits missing codes.
        assert!(cols["unknown"].codes.is_empty());
        assert_eq!(cols["unknown"].missing.len(), 2);
    }

    #[test]
    fn parts_inherit_the_delivery_mapping_and_resolve_with_their_own_missing_codes() {
        let text = r#"
            [country]
            iso3 = "XXX"
            name = "X"
            region = "R"
            fieldwork_start = "2021-01-01"
            fieldwork_end = "2021-02-01"
            [population]
            source = "s"
            population_12_17 = 1
            internet_share = 1
            cells = []
            [code_schemes.yes_no]
            codes = { "1" = "yes", "2" = "no" }
            [deliveries.t]
            format = "xlsx"
            missing = { "8" = "dont_know" }
            [deliveries.t.columns]
            plain = { source = "A", scheme = "yes_no" }
            org = { source = "ORG" }
            [[deliveries.t.parts]]
            file = "one.xlsx"
            sheet = "Data"
            [[deliveries.t.parts]]
            file = "two.csv"
            format = "csv"
            missing = { "99" = "refused" }
            identifiers = ["Caller"]
            [deliveries.t.parts.columns]
            org = { constant = "Two" }
        "#;
        let mut c: CountryConfig = toml::from_str(text).unwrap();
        resolve_mappings(&mut c);
        let files = c.deliveries["t"].files();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].file, "one.xlsx");
        assert_eq!(files[0].sheet.as_deref(), Some("Data"));
        assert_eq!(files[0].format, crate::country::Format::Xlsx);
        assert_eq!(
            files[0].columns["plain"].missing,
            map(&[("8", "dont_know")])
        );
        assert_eq!(files[0].columns["org"].source.as_deref(), Some("ORG"));
        assert_eq!(files[1].format, crate::country::Format::Csv);
        assert_eq!(
            files[1].columns["plain"].codes,
            map(&[("1", "yes"), ("2", "no")])
        );
        assert_eq!(files[1].columns["plain"].missing, map(&[("99", "refused")]));
        assert_eq!(files[1].columns["org"].constant.as_deref(), Some("Two"));
        assert_eq!(files[1].columns["org"].source, None);
        assert_eq!(files[1].identifiers, vec!["Caller".to_string()]);
        assert!(files.iter().all(|f| f.parts.is_empty()));
        assert_eq!(c.deliveries["t"].file_names(), vec!["one.xlsx", "two.csv"]);
    }
}
