//! Tables a country did not deliver (`delivered = false`): a delivered table whose schema links to an undelivered
//! one cannot be checked or weighted (a caregiver row needs its child's household for the link check and for its
//! weight; a coded interview segment needs its interview in the register), so that combination is a configuration
//! error naming both tables, not a silent loss of rows.

use crate::country::CountryConfig;
use crate::diagnostic::Diagnostic;
use crate::schema::SchemaSet;

pub(super) fn check(config: &CountryConfig, schemas: &SchemaSet, out: &mut Vec<Diagnostic>) {
    for (table, _) in config.deliveries.iter().filter(|(_, d)| d.delivered) {
        let Some(schema) = schemas.get(table) else {
            continue;
        };
        for fk in &schema.foreign_keys {
            let target = fk.reference.resource.as_str();
            let undelivered = config.deliveries.get(target).is_some_and(|d| !d.delivered);
            if !undelivered {
                continue;
            }
            out.push(config.locations.error(
                &["deliveries", target, "delivered"],
                format!(
                    "`{target}` is marked `delivered = false`, but `{table}` is delivered and links to it \
                     ({} -> {target}.{}): its rows cannot be checked or weighted without `{target}`; deliver \
                     `{target}`, or set `delivered = false` for `{table}` too",
                    fk.fields.join(", "),
                    fk.reference.fields.join(", ")
                ),
            ));
        }
    }
}
