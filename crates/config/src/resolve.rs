//! Resolution of column mappings after the merge: a column's `scheme` is expanded into its `codes`, and coded
//! columns inherit missing codes (the column's own, else its scheme's, else its delivery's). Unknown scheme names are
//! left unresolved here and reported by [`crate::validate_country`].

use crate::country::CountryConfig;

/// Fills every collected column's `codes` and `missing` from its scheme and delivery.
pub fn resolve_mappings(config: &mut CountryConfig) {
    for delivery in config.deliveries.values_mut() {
        for column in delivery.columns.values_mut() {
            if column.not_collected {
                continue;
            }
            let scheme = column
                .scheme
                .as_ref()
                .and_then(|name| config.code_schemes.get(name));
            if column.codes.is_empty()
                && let Some(s) = scheme
            {
                column.codes = s.codes.clone();
            }
            let coded = !column.codes.is_empty() || column.scheme.is_some();
            if column.missing.is_empty() {
                match scheme {
                    Some(s) if !s.missing.is_empty() => column.missing = s.missing.clone(),
                    _ if coded => column.missing = delivery.missing.clone(),
                    _ => {}
                }
            }
        }
    }
}
