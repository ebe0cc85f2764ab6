//! Synthetic legal-framework reviews (`legal_provisions`): one row per checklist provision, in the checklist's
//! order, under the country's own item code; a status (`known` where the config gives it, else drawn from the
//! `status` shares); for a provision the law provides in whole or in part, a short citation of one of the
//! country's `instruments` (`<title> s. <n> (<year>)`); and the review date. Codes and short references only.
//!
//! Planted problem ([`plants`]): in about half of the countries, one citation longer than the schema's
//! `maxLength` (expected `too_long`).

use std::collections::BTreeMap;

use dh_config::{Delivery, TableSchema};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::generate::setting_error;
use super::generate::{Rows, Val, codes_for, draw_label};
use super::labels;
use super::params::{LegalParams, check_distribution};
use super::render::{Plant, distinct_rows};
use crate::error::SynthError;

const KEY: &str = "families.legal_provisions";

/// The longest citation the schema allows (120 when it sets none).
pub fn max_citation(schema: &TableSchema) -> usize {
    schema
        .field("citation")
        .and_then(|f| f.constraints.max_length)
        .map_or(120, |m| m as usize)
}

/// The review's rows for one delivered file.
pub fn rows(
    iso3: &str,
    p: &LegalParams,
    file: &Delivery,
    schema: &TableSchema,
    rng: &mut ChaCha8Rng,
) -> Result<Rows, SynthError> {
    let provisions = labels(schema, "provision");
    let statuses = labels(schema, "status");
    check_distribution(iso3, &format!("{KEY}.status"), &p.status, &statuses)?;
    for (provision, status) in &p.known {
        if !provisions.contains(provision) || !statuses.contains(status) {
            return Err(setting_error(
                iso3,
                &format!("{KEY}.known"),
                format!("`{provision} = {status}` is not a provision id with a status"),
            ));
        }
    }
    if p.instruments.is_empty() {
        return Err(setting_error(
            iso3,
            &format!("{KEY}.instruments"),
            "no instrument to cite; list the country's (short title = year)".into(),
        ));
    }
    if dh_config::calendar::iso_date_days(&p.review_date).is_none() {
        return Err(setting_error(
            iso3,
            &format!("{KEY}.review_date"),
            format!("`{}` is not a date YYYY-MM-DD", p.review_date),
        ));
    }
    let instruments: Vec<(&String, &i64)> = p.instruments.iter().collect();
    let mut out = Rows {
        columns: ["provision", "status", "citation", "review_date"]
            .iter()
            .map(|c| c.to_string())
            .collect(),
        rows: Vec::new(),
    };
    for provision in &provisions {
        let code = codes_for(file, "provision", provision)
            .into_iter()
            .next()
            .ok_or_else(|| {
                setting_error(
                    iso3,
                    KEY,
                    format!("the checklist maps no item onto `{provision}`"),
                )
            })?;
        let status = match p.known.get(provision) {
            Some(s) => s.clone(),
            None => draw_label(rng, &p.status),
        };
        let citation = if status == "yes" || status == "partial" {
            let (title, year) = instruments[rng.random_range(0..instruments.len())];
            Val::Raw(format!(
                "{title} s. {} ({year})",
                rng.random_range(1..=350u32)
            ))
        } else {
            Val::Missing("not_applicable")
        };
        out.rows.push(vec![
            Val::Raw(code),
            Val::Label(status),
            citation,
            Val::Raw(p.review_date.clone()),
        ]);
    }
    Ok(out)
}

/// A citation of the country's instruments longer than `max` characters (clauses added until it is).
pub fn overlong_citation(instruments: &BTreeMap<String, i64>, max: usize) -> String {
    let mut text = String::new();
    let mut section = 3;
    while text.chars().count() <= max {
        for (title, year) in instruments {
            if !text.is_empty() {
                text.push_str(", read with ");
            }
            text.push_str(&format!("{title} s. {section} ({year})"));
            section += 4;
        }
    }
    text
}

/// The bad value planted in the review: a too-long citation in about half of the countries.
pub fn plants(
    rows: &Rows,
    p: &LegalParams,
    schema: &TableSchema,
    rng: &mut ChaCha8Rng,
) -> Vec<Plant> {
    if rng.random::<f64>() >= 0.5 {
        return Vec::new();
    }
    distinct_rows(rng, rows.rows.len(), 1)
        .into_iter()
        .map(|row| Plant {
            row,
            column: "citation".into(),
            value: overlong_citation(&p.instruments, max_citation(schema)),
            reason: "too_long",
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn schema() -> TableSchema {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas/legal_provisions.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn review() -> Delivery {
        let codes: Vec<String> = labels(&schema(), "provision")
            .iter()
            .enumerate()
            .map(|(i, l)| format!("\"A{}\" = \"{l}\"", i + 1))
            .collect();
        toml::from_str(&format!(
            r#"
            file = "review.xlsx"
            format = "xlsx"
            [columns]
            provision = {{ source = "Item", codes = {{ {} }} }}
            status = {{ source = "Status", codes = {{ "Y" = "yes", "P" = "partial", "N" = "no", "U" = "unclear" }} }}
            citation = {{ source = "Reference" }}
            review_date = {{ source = "Reviewed" }}
            "#,
            codes.join(", ")
        ))
        .unwrap()
    }

    fn params() -> LegalParams {
        toml::from_str(
            r#"
            status = { yes = 0.5, partial = 0.25, no = 0.2, unclear = 0.05 }
            known = { age_of_consent_set = "yes", isp_mandatory_reporting = "no" }
            instruments = { "Penal Code" = 2004, "Cybercrime Act" = 2017 }
            review_date = "2021-06-30"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn one_row_per_provision_with_known_statuses_and_short_citations() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let r = rows("TST", &params(), &review(), &schema(), &mut rng).unwrap();
        assert_eq!(r.rows.len(), 11);
        assert_eq!(r.rows[0][0], Val::Raw("A1".into()));
        assert_eq!(r.rows[6][1], Val::Label("yes".into()));
        assert_eq!(r.rows[7][1], Val::Label("no".into()));
        assert_eq!(r.rows[7][2], Val::Missing("not_applicable"));
        match &r.rows[6][2] {
            Val::Raw(c) => assert!(c.chars().count() <= 40 && c.contains(" s. "), "{c}"),
            other => panic!("{other:?}"),
        }
        let long = overlong_citation(&params().instruments, 120);
        assert!(long.chars().count() > 120, "{long}");
        let mut bad = params();
        bad.known.insert("no_such_provision".into(), "yes".into());
        assert!(rows("TST", &bad, &review(), &schema(), &mut rng).is_err());
    }

    #[test]
    fn about_half_of_the_reviews_get_a_too_long_citation() {
        let r = rows(
            "TST",
            &params(),
            &review(),
            &schema(),
            &mut ChaCha8Rng::seed_from_u64(1),
        )
        .unwrap();
        let planted: usize = (0..200)
            .map(|s| plants(&r, &params(), &schema(), &mut ChaCha8Rng::seed_from_u64(s)).len())
            .sum();
        assert!((60..=140).contains(&planted), "{planted}");
    }
}
