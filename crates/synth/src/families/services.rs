//! Synthetic contacts of helplines, hotlines and NGOs (`service_contacts`), one delivered file at a time: the
//! organisations of the file (a part's `organisation`/`organisation_type` constants, or the `organisations` of
//! `[synth.families.service_contacts]` for a one-file delivery), every reference year, and one row per contact
//! channel, the organisation's own category label, child's sex and age band that has at least one contact. Only
//! the dimensions the file records are crossed (a hotline that records neither sex nor age gets one row per
//! channel and label), and only channels and categories the file's mapping can express are drawn. Counts, not
//! text: each cell's count is its expected share of the organisation's yearly total with a little noise.
//!
//! Planted problems ([`plants`]): an unknown category label, a negative count and, where every key column is read
//! from the file, a duplicated key (one row made a twin of another: both are quarantined).

use std::collections::BTreeMap;

use dh_config::country::ReferenceYears;
use dh_config::{Delivery, TableSchema};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::generate::setting_error;
use super::generate::{Rows, Val, codes_for};
use super::labels;
use super::params::{ServiceParams, check_distribution, check_share};
use super::render::{Plant, distinct_rows, unmapped_code};
use crate::error::SynthError;

const KEY: &str = "families.service_contacts";

/// Harmonised columns in schema order.
pub const COLUMNS: [&str; 9] = [
    "organisation",
    "organisation_type",
    "year",
    "channel",
    "category",
    "child_sex",
    "child_age_band",
    "contacts",
    "data_vintage",
];

/// The key columns of `service_contacts` that a planted duplicate copies.
const KEY_COLUMNS: [&str; 6] = [
    "organisation",
    "year",
    "channel",
    "category",
    "child_sex",
    "child_age_band",
];

/// Checks the parameters against the schema's categories.
pub fn check(iso3: &str, p: &ServiceParams, schema: &TableSchema) -> Result<(), SynthError> {
    let types = labels(schema, "organisation_type");
    for (map, what) in [
        (p.contacts.keys().collect::<Vec<_>>(), "contacts"),
        (p.ocsea_share.keys().collect(), "ocsea_share"),
        (p.channel.keys().collect(), "channel"),
        (p.organisations.values().collect(), "organisations"),
    ] {
        if let Some(t) = map.into_iter().find(|t| !types.contains(t)) {
            return Err(setting_error(
                iso3,
                &format!("{KEY}.{what}"),
                format!(
                    "`{t}` is not an organisation type; use one of {}",
                    types.join(", ")
                ),
            ));
        }
    }
    for (t, share) in &p.ocsea_share {
        check_share(iso3, &format!("{KEY}.ocsea_share.{t}"), *share)?;
    }
    let mut ocsea = labels(schema, "category");
    ocsea.retain(|c| c != "not_ocsea");
    check_distribution(iso3, &format!("{KEY}.category"), &p.category, &ocsea)?;
    let channels = labels(schema, "channel");
    for (t, shares) in &p.channel {
        check_distribution(iso3, &format!("{KEY}.channel.{t}"), shares, &channels)?;
    }
    let bands = labels(schema, "child_age_band");
    check_distribution(
        iso3,
        &format!("{KEY}.child_age_band"),
        &p.child_age_band,
        &bands,
    )?;
    check_share(iso3, &format!("{KEY}.female_share"), p.female_share)?;
    check_share(iso3, &format!("{KEY}.unknown_share"), p.unknown_share)?;
    if !(0.0..=1.0).contains(&p.growth) {
        return Err(setting_error(
            iso3,
            &format!("{KEY}.growth"),
            format!("{} is not a yearly growth between 0 and 1", p.growth),
        ));
    }
    if dh_config::calendar::iso_date_days(&p.data_vintage).is_none() {
        return Err(setting_error(
            iso3,
            &format!("{KEY}.data_vintage"),
            format!("`{}` is not a date YYYY-MM-DD", p.data_vintage),
        ));
    }
    Ok(())
}

/// Whether `file` reads `column` from a source column (not a constant, not `not_collected`).
fn read_from_file(file: &Delivery, column: &str) -> bool {
    file.columns
        .get(column)
        .is_some_and(|m| !m.not_collected && m.source.is_some())
}

/// Whether `file` records `column` at all (from a source column or a constant).
fn recorded(file: &Delivery, column: &str) -> bool {
    file.columns
        .get(column)
        .is_some_and(|m| !m.not_collected && (m.source.is_some() || m.constant.is_some()))
}

/// The organisations of one file with their harmonised types.
fn organisations(
    iso3: &str,
    p: &ServiceParams,
    file: &Delivery,
) -> Result<Vec<(String, String)>, SynthError> {
    let constant = |c: &str| file.columns.get(c).and_then(|m| m.constant.clone());
    match (constant("organisation"), constant("organisation_type")) {
        (Some(name), Some(kind)) => {
            let label = file
                .columns
                .get("organisation_type")
                .and_then(|m| m.codes.get(&kind))
                .cloned()
                .ok_or_else(|| {
                    setting_error(
                        iso3,
                        KEY,
                        format!(
                            "file `{}`: organisation_type constant `{kind}` is not mapped by its codes",
                            file.file
                        ),
                    )
                })?;
            Ok(vec![(name, label)])
        }
        (Some(name), None) => Err(setting_error(
            iso3,
            KEY,
            format!(
                "file `{}`: organisation `{name}` is a constant but organisation_type is not",
                file.file
            ),
        )),
        _ if p.organisations.is_empty() => Err(setting_error(
            iso3,
            &format!("{KEY}.organisations"),
            format!(
                "file `{}` has an organisation column: list its organisations (name = type)",
                file.file
            ),
        )),
        _ => Ok(p
            .organisations
            .iter()
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect()),
    }
}

/// One dimension of the cross: its values and shares (one `not_collected` value when the file does not record it).
fn dimension(
    file: &Delivery,
    column: &str,
    shares: &BTreeMap<String, f64>,
    unknown: f64,
) -> Vec<(Val, f64)> {
    if !recorded(file, column) {
        return vec![(Val::Missing("not_collected"), 1.0)];
    }
    let expressible: Vec<(&String, f64)> = shares
        .iter()
        .filter(|(l, s)| **s > 0.0 && !codes_for(file, column, l).is_empty())
        .map(|(l, s)| (l, *s))
        .collect();
    let total: f64 = expressible.iter().map(|(_, s)| s).sum();
    let can_say_unknown = file
        .columns
        .get(column)
        .is_some_and(|m| m.missing.values().any(|l| l == "dont_know"));
    let unknown = if can_say_unknown { unknown } else { 0.0 };
    let mut out: Vec<(Val, f64)> = expressible
        .into_iter()
        .map(|(l, s)| (Val::Label(l.clone()), (1.0 - unknown) * s / total))
        .collect();
    if unknown > 0.0 {
        out.push((Val::Missing("dont_know"), unknown));
    }
    out
}

/// The organisation's own category labels with their shares of its contacts.
fn category_labels(p: &ServiceParams, file: &Delivery, ocsea_share: f64) -> Vec<(String, f64)> {
    let mut ocsea: Vec<(Vec<String>, f64)> = p
        .category
        .iter()
        .map(|(c, s)| (codes_for(file, "category", c), *s))
        .filter(|(codes, s)| !codes.is_empty() && *s > 0.0)
        .collect();
    let total: f64 = ocsea.iter().map(|(_, s)| s).sum();
    let not_ocsea = codes_for(file, "category", "not_ocsea");
    let ocsea_share = if not_ocsea.is_empty() {
        1.0
    } else {
        ocsea_share
    };
    let mut out = Vec::new();
    for (codes, share) in ocsea.drain(..) {
        for code in &codes {
            out.push((
                code.clone(),
                ocsea_share * share / total / codes.len() as f64,
            ));
        }
    }
    for code in &not_ocsea {
        out.push((code.clone(), (1.0 - ocsea_share) / not_ocsea.len() as f64));
    }
    out
}

/// The rows of one delivered file.
pub fn rows(
    iso3: &str,
    p: &ServiceParams,
    file: &Delivery,
    years: ReferenceYears,
    rng: &mut ChaCha8Rng,
) -> Result<Rows, SynthError> {
    let mut out = Rows {
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: Vec::new(),
    };
    let sex_shares: BTreeMap<String, f64> = [
        ("female".to_string(), p.female_share),
        ("male".to_string(), 1.0 - p.female_share),
    ]
    .into();
    let sexes = dimension(file, "child_sex", &sex_shares, p.unknown_share);
    let ages = dimension(file, "child_age_band", &p.child_age_band, p.unknown_share);
    for (name, kind) in organisations(iso3, p, file)? {
        let err = |what: &str| {
            setting_error(
                iso3,
                &format!("{KEY}.{what}"),
                format!("no value for `{kind}`"),
            )
        };
        let first_year = *p.contacts.get(&kind).ok_or_else(|| err("contacts"))? as f64;
        let ocsea = *p.ocsea_share.get(&kind).ok_or_else(|| err("ocsea_share"))?;
        let channel_shares = p.channel.get(&kind).ok_or_else(|| err("channel"))?;
        let channels = dimension(file, "channel", channel_shares, 0.0);
        let categories = category_labels(p, file, ocsea);
        if categories.is_empty() {
            return Err(setting_error(
                iso3,
                KEY,
                format!("file `{}` maps no category label", file.file),
            ));
        }
        for year in years.first..=years.last {
            let total = first_year * (1.0 + p.growth).powi(year - years.first);
            for (channel, c_share) in &channels {
                for (label, l_share) in &categories {
                    for (sex, s_share) in &sexes {
                        for (age, a_share) in &ages {
                            let expected = total * c_share * l_share * s_share * a_share;
                            let z: f64 =
                                rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng);
                            let n = (expected * (0.25 * z).exp()).round() as u64;
                            if n == 0 {
                                continue;
                            }
                            out.rows.push(vec![
                                Val::Raw(name.clone()),
                                Val::Label(kind.clone()),
                                Val::Raw(year.to_string()),
                                channel.clone(),
                                Val::Raw(label.clone()),
                                sex.clone(),
                                age.clone(),
                                Val::Raw(n.to_string()),
                                Val::Raw(p.data_vintage.clone()),
                            ]);
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The bad values planted in one file's rows (none in a file too small to spare them). A duplicate is planted
/// only when every key column is read from the file (a constant or uncollected key column is not part of the
/// delivered key): the key values of one row are replaced by those of another whose key cells are all answers
/// (`rows` is changed), and both rows are listed under the organisation column, where the quarantine reports a
/// duplicate.
pub fn plants(rows: &mut Rows, file: &Delivery, rng: &mut ChaCha8Rng) -> Vec<Plant> {
    let n = rows.rows.len();
    let [a, b, d] = match distinct_rows(rng, n, 3).as_slice() {
        [a, b, d] => [*a, *b, *d],
        _ => return Vec::new(),
    };
    let numeric = file
        .columns
        .get("category")
        .is_some_and(|m| m.codes.keys().all(|c| c.parse::<i64>().is_ok()));
    let candidates: &[&str] = if numeric {
        &["99", "98", "97"]
    } else {
        &["Unclassified", "Not categorised"]
    };
    let label = unmapped_code(file, "category", candidates);
    let plant = |row: usize, column: &str, value: String, reason: &'static str| Plant {
        row,
        column: column.to_string(),
        value,
        reason,
    };
    let mut out = vec![
        plant(a, "category", label, "unknown_code"),
        plant(b, "contacts", "-3".into(), "out_of_range"),
    ];
    if !KEY_COLUMNS.iter().all(|c| read_from_file(file, c)) {
        return out;
    }
    let index = |c: &str| COLUMNS.iter().position(|x| *x == c).unwrap_or(0);
    let answered = |r: &[Val]| {
        KEY_COLUMNS
            .iter()
            .all(|c| !matches!(r[index(c)], Val::Missing(_)))
    };
    let start = rng.random_range(0..n);
    let Some(twin) = (0..n)
        .map(|i| (start + i) % n)
        .find(|&r| r != a && r != b && r != d && answered(&rows.rows[r]))
    else {
        return out;
    };
    for c in KEY_COLUMNS {
        let value = rows.rows[twin][index(c)].clone();
        rows.rows[d][index(c)] = value;
    }
    let organisation = raw(&rows.rows[twin][index("organisation")]);
    out.push(plant(
        d,
        "organisation",
        organisation.clone(),
        "duplicate_id",
    ));
    out.push(plant(twin, "organisation", organisation, "duplicate_id"));
    out
}

fn raw(v: &Val) -> String {
    match v {
        Val::Raw(s) | Val::Label(s) => s.clone(),
        Val::Missing(m) => m.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn file(text: &str) -> Delivery {
        let mut d: Delivery = toml::from_str(text).unwrap();
        for m in d.columns.values_mut() {
            if m.missing.is_empty() && !m.codes.is_empty() {
                m.missing = [("Unknown".to_string(), "dont_know".to_string())].into();
            }
        }
        d
    }

    fn params() -> ServiceParams {
        let text = r#"
            contacts = { helpline = 5000, hotline = 800 }
            growth = 0.1
            ocsea_share = { helpline = 0.1, hotline = 0.9 }
            category = { grooming = 0.5, csam = 0.5 }
            channel = { helpline = { phone = 0.8, chat = 0.2 }, hotline = { web_form = 1.0 } }
            female_share = 0.7
            child_age_band = { "12-13" = 0.5, "14-15" = 0.5 }
            unknown_share = 0.1
            data_vintage = "2020-06-30"
        "#;
        toml::from_str(text).unwrap()
    }

    const YEARS: ReferenceYears = ReferenceYears {
        first: 2017,
        last: 2019,
    };

    #[test]
    fn a_part_crosses_only_what_it_records() {
        let hotline = file(
            r#"
            file = "hotline.csv"
            format = "csv"
            [columns]
            organisation = { constant = "Hotline X" }
            organisation_type = { constant = "H", codes = { "H" = "hotline" } }
            year = { source = "Year" }
            channel = { source = "Ch", codes = { "Web" = "web_form" } }
            category = { source = "Class", codes = { "CSAM" = "csam", "Enticement" = "grooming", "Remit" = "not_ocsea" } }
            child_sex = { not_collected = true }
            child_age_band = { not_collected = true }
            contacts = { source = "N" }
            data_vintage = { source = "Asof" }
            "#,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let r = rows("TST", &params(), &hotline, YEARS, &mut rng).unwrap();
        // 3 years x 1 channel x 3 labels, sex and age not crossed.
        assert_eq!(r.rows.len(), 9);
        assert!(
            r.rows
                .iter()
                .all(|row| row[5] == Val::Missing("not_collected"))
        );
        let total: u64 = r
            .rows
            .iter()
            .filter(|row| row[2] == Val::Raw("2017".into()))
            .map(|row| raw(&row[7]).parse::<u64>().unwrap())
            .sum();
        assert!((600..=1000).contains(&total), "{total}");
        // Too small to spare planted rows.
        let mut r = r;
        assert!(plants(&mut r, &hotline, &mut rng).is_empty());
    }

    #[test]
    fn a_one_file_delivery_lists_its_organisations_and_plants_a_duplicate_key() {
        let one = file(
            r#"
            file = "all.csv"
            format = "csv"
            [columns]
            organisation = { source = "Org" }
            organisation_type = { source = "Type", codes = { "HL" = "helpline" } }
            year = { source = "Year" }
            channel = { source = "Ch", codes = { "Phone" = "phone", "Chat" = "chat" } }
            category = { source = "Cat", codes = { "Grooming" = "grooming", "Images" = "csam", "Family" = "not_ocsea" } }
            child_sex = { source = "Sex", codes = { "M" = "male", "F" = "female" } }
            child_age_band = { source = "Age", codes = { "12-13" = "12-13", "14-15" = "14-15" } }
            contacts = { source = "N" }
            data_vintage = { source = "Asof" }
            "#,
        );
        let mut p = params();
        assert!(rows("TST", &p, &one, YEARS, &mut ChaCha8Rng::seed_from_u64(1)).is_err());
        p.organisations = [("Line 1".to_string(), "helpline".to_string())].into();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut r = rows("TST", &p, &one, YEARS, &mut rng).unwrap();
        assert!(r.rows.len() > 60, "{}", r.rows.len());
        let planted = plants(&mut r, &one, &mut rng);
        let listed: Vec<(&str, &str)> = planted
            .iter()
            .map(|p| (p.column.as_str(), p.reason))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("category", "unknown_code"),
                ("contacts", "out_of_range"),
                ("organisation", "duplicate_id"),
                ("organisation", "duplicate_id"),
            ]
        );
        assert_eq!(planted[0].value, "Unclassified");
        let key = |row: usize| -> Vec<Val> {
            [0, 2, 3, 4, 5, 6]
                .iter()
                .map(|&i| r.rows[row][i].clone())
                .collect()
        };
        assert_eq!(key(planted[2].row), key(planted[3].row));
        assert!(check("TST", &p, &schema()).is_ok());
        p.category.insert("not_ocsea".into(), 0.0);
        assert!(check("TST", &p, &schema()).is_err());
    }

    fn schema() -> TableSchema {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas/service_contacts.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }
}
