//! Checks of `[population]`: positive totals, labels from the design table's schema, every sex x age band x urban/rural cell
//! exactly once, and cells that add up to population x internet share.

use std::collections::BTreeMap;

use crate::country::CountryConfig;
use crate::design::design_schema;
use crate::diagnostic::Diagnostic;
use crate::schema::SchemaSet;
use crate::suggest::did_you_mean;

/// Margin columns of the population cells.
const MARGINS: [&str; 3] = ["sex", "age_band", "urban_rural"];
/// Largest allowed relative gap between the cells' total and population x internet share.
const TOTAL_TOLERANCE: f64 = 0.005;

pub(super) fn check(config: &CountryConfig, schemas: &SchemaSet, out: &mut Vec<Diagnostic>) {
    let loc = &config.locations;
    let pop = &config.population;
    if !(pop.population_12_17.is_finite() && pop.population_12_17 > 0.0) {
        out.push(loc.error(
            &["population", "population_12_17"],
            "must be a positive number of 12-17-year-olds",
        ));
    }
    if !(pop.internet_share > 0.0 && pop.internet_share <= 1.0) {
        out.push(loc.error(
            &["population", "internet_share"],
            "must be a share in (0, 1], e.g. 0.92 for 92%",
        ));
    }
    // The design table's categories define the population margins.
    let (table, schema) = match design_schema(schemas) {
        Ok(found) => found,
        Err(e) => {
            out.push(loc.error(
                &["population", "cells"],
                format!("cannot check the cells: {e}"),
            ));
            return;
        }
    };
    let mut labels: Vec<Vec<String>> = Vec::new();
    for margin in MARGINS {
        match schema.field(margin).and_then(|f| f.categories.as_ref()) {
            Some(c) => labels.push(c.iter().map(|c| c.label.clone()).collect()),
            None => {
                out.push(loc.error(
                    &["population", "cells"],
                    format!("`{table}.{margin}` has no categories in the schema"),
                ));
                return;
            }
        }
    }
    let mut seen: BTreeMap<[String; 3], usize> = BTreeMap::new();
    let mut total = 0.0;
    for (i, cell) in pop.cells.iter().enumerate() {
        let idx = i.to_string();
        let values = [&cell.sex, &cell.age_band, &cell.urban_rural];
        let mut valid = true;
        for ((margin, value), allowed) in MARGINS.iter().zip(values).zip(&labels) {
            if !allowed.contains(value) {
                valid = false;
                out.push(loc.error(
                    &["population", "cells", &idx, margin],
                    format!(
                        "`{value}` is not a `{margin}` category{}; use one of: {}",
                        did_you_mean(value, allowed.iter().map(String::as_str)),
                        allowed.join(", ")
                    ),
                ));
            }
        }
        if !(cell.count.is_finite() && cell.count > 0.0) {
            out.push(loc.error(
                &["population", "cells", &idx, "count"],
                "count must be a positive number",
            ));
        } else {
            total += cell.count;
        }
        if !valid {
            continue;
        }
        let key = [
            cell.sex.clone(),
            cell.age_band.clone(),
            cell.urban_rural.clone(),
        ];
        if let Some(first) = seen.insert(key, i) {
            out.push(loc.error(
                &["population", "cells", &idx],
                format!(
                    "cell sex={} age_band={} urban_rural={} is given twice (also cell {}); keep one",
                    cell.sex,
                    cell.age_band,
                    cell.urban_rural,
                    first + 1
                ),
            ));
        }
    }
    let mut absent = Vec::new();
    for s in &labels[0] {
        for a in &labels[1] {
            for u in &labels[2] {
                if !seen.contains_key(&[s.clone(), a.clone(), u.clone()]) {
                    absent.push(format!("{s}/{a}/{u}"));
                }
            }
        }
    }
    if !absent.is_empty() {
        out.push(loc.error(
            &["population", "cells"],
            format!("cells missing for sex/age_band/urban_rural: {}; every combination must appear exactly once", absent.join(", ")),
        ));
    }
    let expected = pop.population_12_17 * pop.internet_share;
    if expected > 0.0
        && absent.is_empty()
        && ((total - expected) / expected).abs() > TOTAL_TOLERANCE
    {
        out.push(loc.error(
            &["population", "cells"],
            format!(
                "cells add up to {total:.0} but population_12_17 x internet_share = {expected:.0} (gap over {:.1}%); make them agree",
                TOTAL_TOLERANCE * 100.0
            ),
        ));
    }
}
