//! Harmonised rows of the other data families, before they go through the country's inverse mapping: the
//! frontline-worker survey, the interview register and its coded segments, CyberTipline counts, police case records
//! and the ICSE connection. Values are category labels, missing labels or raw text (ids, numbers, dates, and the
//! country's own code where several codes map to one harmonised category: offence labels, codebook paths).
//! Coded answers and counts only: no free text is generated.

use std::collections::BTreeMap;

use dh_config::{CountryConfig, Delivery};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::params::{
    CyberTiplineParams, FrontlineParams, IcseParams, PoliceParams, RegisterParams, SegmentParams,
    check_distribution, check_share,
};
use crate::error::SynthError;

/// One generated cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A harmonised category label (written as the country's code for it).
    Label(String),
    /// A harmonised missing label (written as the country's missing code for it).
    Missing(&'static str),
    /// Written as it is.
    Raw(String),
}

/// Generated rows of one table: harmonised column names and one value per column and row.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Val>>,
}

impl Rows {
    fn new(columns: &[&str]) -> Self {
        Rows {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }
}

/// Item nonresponse shares.
#[derive(Debug, Clone, Copy)]
pub struct Nonresponse {
    pub dont_know: f64,
    pub refused: f64,
}

/// A label drawn from `shares` (BTreeMap order; the last label takes any rounding remainder).
pub fn draw_label(rng: &mut ChaCha8Rng, shares: &BTreeMap<String, f64>) -> String {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    for (label, share) in shares {
        acc += share;
        if u < acc {
            return label.clone();
        }
    }
    shares.keys().next_back().cloned().unwrap_or_default()
}

fn yes_no(rng: &mut ChaCha8Rng, p: f64) -> Val {
    Val::Label(if rng.random::<f64>() < p { "yes" } else { "no" }.into())
}

fn with_nonresponse(rng: &mut ChaCha8Rng, nr: Nonresponse, answer: Val) -> Val {
    let u: f64 = rng.random();
    if u < nr.dont_know {
        Val::Missing("dont_know")
    } else if u < nr.dont_know + nr.refused {
        Val::Missing("refused")
    } else {
        answer
    }
}

/// The source codes a column maps onto `label`, sorted (several for offence labels and codebook paths).
pub fn codes_for(delivery: &Delivery, column: &str, label: &str) -> Vec<String> {
    delivery
        .columns
        .get(column)
        .map(|m| {
            m.codes
                .iter()
                .filter(|(_, l)| l.as_str() == label)
                .map(|(c, _)| c.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// A `[synth.families.*]` setting of a country that cannot be used, with its key.
pub(super) fn setting_error(iso3: &str, key: &str, message: String) -> SynthError {
    SynthError::Setting {
        iso3: iso3.to_string(),
        key: key.to_string(),
        message,
    }
}

/// Frontline social-support workers (one row per worker).
pub fn frontline(
    iso3: &str,
    p: &FrontlineParams,
    regions: &[String],
    nr: Nonresponse,
    rng: &mut ChaCha8Rng,
) -> Result<Rows, SynthError> {
    const ITEMS: [&str; 5] = [
        "barrier_stigma",
        "barrier_not_knowing_mechanisms",
        "barrier_taboo",
        "barrier_distrust_authorities",
        "training_received",
    ];
    const CODED: [&str; 4] = ["worker_role", "sector", "sees_online_cases", "confidence"];
    for item in ITEMS {
        let share = p.prevalence.get(item).copied().ok_or_else(|| {
            setting_error(
                iso3,
                "families.frontline_survey.prevalence",
                format!("no share for `{item}`"),
            )
        })?;
        check_share(iso3, "families.frontline_survey.prevalence", share)?;
    }
    for item in CODED {
        if !p.distribution.contains_key(item) {
            return Err(setting_error(
                iso3,
                "families.frontline_survey.distribution",
                format!("no distribution for `{item}`"),
            ));
        }
    }
    let mut out = Rows::new(&[
        "worker_id",
        "region",
        "worker_role",
        "sector",
        "years_experience",
        "sees_online_cases",
        "barrier_stigma",
        "barrier_not_knowing_mechanisms",
        "barrier_taboo",
        "barrier_distrust_authorities",
        "training_received",
        "confidence",
    ]);
    for i in 0..p.workers {
        let region = regions[rng.random_range(0..regions.len())].clone();
        let role = draw_label(rng, &p.distribution["worker_role"]);
        let sector = draw_label(rng, &p.distribution["sector"]);
        let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng);
        let years = (p.years_experience.mean + p.years_experience.sd * z)
            .round()
            .clamp(0.0, 50.0) as i64;
        let years = with_nonresponse(rng, nr, Val::Raw(years.to_string()));
        let sees = Val::Label(draw_label(rng, &p.distribution["sees_online_cases"]));
        let sees = with_nonresponse(rng, nr, sees);
        let mut row = vec![
            Val::Raw(format!("{iso3}-FW-{:03}", i + 1)),
            Val::Raw(region),
            Val::Label(role),
            Val::Label(sector),
            years,
            sees,
        ];
        for item in ITEMS {
            let answer = yes_no(rng, p.prevalence[item]);
            row.push(with_nonresponse(rng, nr, answer));
        }
        let confidence = Val::Label(draw_label(rng, &p.distribution["confidence"]));
        row.push(with_nonresponse(rng, nr, confidence));
        out.rows.push(row);
    }
    Ok(out)
}

/// The civil date of a day count since 1970-01-01, as `YYYY-MM-DD`.
pub fn civil_from_days(days: i64) -> String {
    dh_config::calendar::iso_date(days)
}

fn parse_day(iso3: &str, key: &str, text: &str) -> Result<i64, SynthError> {
    dh_config::calendar::iso_date_days(text)
        .ok_or_else(|| setting_error(iso3, key, format!("`{text}` is not a date YYYY-MM-DD")))
}

/// The interview register: one row per interview, groups in the order of the schema's categories.
pub fn register(
    iso3: &str,
    p: &RegisterParams,
    groups: &[String],
    modes: &[String],
    regions: &[String],
    rng: &mut ChaCha8Rng,
) -> Result<Rows, SynthError> {
    let key = "families.interview_register";
    check_distribution(iso3, &format!("{key}.mode"), &p.mode, modes)?;
    if let Some(g) = p.interviews.keys().find(|g| !groups.contains(g)) {
        return Err(setting_error(
            iso3,
            &format!("{key}.interviews"),
            format!("`{g}` is not a participant group"),
        ));
    }
    let first = parse_day(iso3, &format!("{key}.first_date"), &p.first_date)?;
    let last = parse_day(iso3, &format!("{key}.last_date"), &p.last_date)?;
    if last < first {
        return Err(setting_error(
            iso3,
            key,
            "last_date is before first_date".into(),
        ));
    }
    let mut out = Rows::new(&[
        "interview_id",
        "participant_group",
        "interview_date",
        "region",
        "interview_mode",
    ]);
    let mut n = 0;
    for group in groups {
        for _ in 0..p.interviews.get(group).copied().unwrap_or(0) {
            n += 1;
            let day = rng.random_range(first..=last);
            out.rows.push(vec![
                Val::Raw(format!("{iso3}-INT-{n:03}")),
                Val::Label(group.clone()),
                Val::Raw(civil_from_days(day)),
                Val::Raw(regions[rng.random_range(0..regions.len())].clone()),
                Val::Label(draw_label(rng, &p.mode)),
            ]);
        }
    }
    Ok(out)
}

/// Coded segments: for every interview of the register and every theme coded in it, one or more of the country's
/// code paths for that theme with 1-8 segments each.
pub fn segments(
    iso3: &str,
    p: &SegmentParams,
    interview_ids: &[String],
    delivery: &Delivery,
    themes: &[String],
    rng: &mut ChaCha8Rng,
) -> Result<Rows, SynthError> {
    let key = "families.interview_segments.coded_share";
    let mut out = Rows::new(&["interview_id", "theme", "segment_count"]);
    let mut paths: Vec<(f64, Vec<String>)> = Vec::new();
    for (theme, share) in &p.coded_share {
        check_share(iso3, key, *share)?;
        if !themes.contains(theme) {
            return Err(setting_error(
                iso3,
                key,
                format!("`{theme}` is not a theme"),
            ));
        }
        let codes = codes_for(delivery, "theme", theme);
        if codes.is_empty() {
            return Err(setting_error(
                iso3,
                key,
                format!("the country's codebook maps no code path onto `{theme}`"),
            ));
        }
        paths.push((*share, codes));
    }
    for id in interview_ids {
        for (share, codes) in &paths {
            if rng.random::<f64>() >= *share {
                continue;
            }
            let first = rng.random_range(0..codes.len());
            for (k, code) in codes.iter().enumerate() {
                if k == first || rng.random::<f64>() < 0.3 {
                    out.rows.push(vec![
                        Val::Raw(id.clone()),
                        Val::Raw(code.clone()),
                        Val::Raw(rng.random_range(1..=8u32).to_string()),
                    ]);
                }
            }
        }
    }
    Ok(out)
}

/// CyberTipline reports: one row per year and report type.
pub fn cybertipline(iso3: &str, p: &CyberTiplineParams) -> Result<Rows, SynthError> {
    let key = "families.cybertipline_reports";
    check_share(iso3, &format!("{key}.esp_share"), p.esp_share)?;
    parse_day(iso3, &format!("{key}.data_vintage"), &p.data_vintage)?;
    let mut out = Rows::new(&["year", "report_type", "reports", "data_vintage"]);
    for (year, total) in &p.reports {
        if year.parse::<i64>().is_err() {
            return Err(setting_error(
                iso3,
                &format!("{key}.reports"),
                format!("`{year}` is not a year"),
            ));
        }
        let esp = (*total as f64 * p.esp_share).round() as u64;
        for (kind, n) in [
            ("electronic_service_provider", esp),
            ("public", total.saturating_sub(esp)),
        ] {
            out.rows.push(vec![
                Val::Raw(year.clone()),
                Val::Label(kind.into()),
                Val::Raw(n.to_string()),
                Val::Raw(p.data_vintage.clone()),
            ]);
        }
    }
    Ok(out)
}

/// Police case records: one row per case, with the country's own offence label.
pub fn police(
    iso3: &str,
    p: &PoliceParams,
    delivery: &Delivery,
    rng: &mut ChaCha8Rng,
) -> Result<Rows, SynthError> {
    let key = "families.police_cases";
    for (k, share) in [
        ("technology_share", p.technology_share),
        ("female_share", p.female_share),
        ("unknown_share", p.unknown_share),
    ] {
        check_share(iso3, &format!("{key}.{k}"), share)?;
    }
    let offences: Vec<String> = p.offence.keys().cloned().collect();
    check_distribution(iso3, &format!("{key}.offence"), &p.offence, &offences)?;
    let mut labels: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for offence in &offences {
        let codes = codes_for(delivery, "offence_category", offence);
        if codes.is_empty() && p.offence[offence] > 0.0 {
            return Err(setting_error(
                iso3,
                &format!("{key}.offence"),
                format!("the country maps no offence label onto `{offence}`"),
            ));
        }
        labels.insert(offence, codes);
    }
    let mut out = Rows::new(&[
        "case_id",
        "year",
        "offence_category",
        "technology_involved",
        "victim_sex",
        "victim_age_band",
        "case_status",
    ]);
    let mut serial = 0;
    for (year, n) in &p.cases {
        for _ in 0..*n {
            serial += 1;
            let offence = draw_label(rng, &p.offence);
            let codes = &labels[offence.as_str()];
            let code = codes[rng.random_range(0..codes.len())].clone();
            let unknown_or = |rng: &mut ChaCha8Rng, v: Val| {
                if rng.random::<f64>() < p.unknown_share {
                    Val::Missing("dont_know")
                } else {
                    v
                }
            };
            let tech = yes_no(rng, p.technology_share);
            let tech = unknown_or(rng, tech);
            let female = rng.random::<f64>() < p.female_share;
            let sex = Val::Label(if female { "female" } else { "male" }.into());
            let sex = unknown_or(rng, sex);
            let age = Val::Label(draw_label(rng, &p.victim_age_band));
            let age = unknown_or(rng, age);
            out.rows.push(vec![
                Val::Raw(format!("CR/{serial:05}/{year}")),
                Val::Raw(year.clone()),
                Val::Raw(code),
                tech,
                sex,
                age,
                Val::Label(draw_label(rng, &p.case_status)),
            ]);
        }
    }
    Ok(out)
}

/// The ICSE connection: one row.
pub fn icse(p: &IcseParams) -> Rows {
    let mut out = Rows::new(&["connected", "connected_since"]);
    out.rows.push(if p.connected {
        vec![Val::Label("yes".into()), Val::Raw(p.since.to_string())]
    } else {
        vec![Val::Label("no".into()), Val::Missing("not_applicable")]
    });
    out
}

/// Nonresponse shares from the country's `[synth.settings]`.
pub fn nonresponse(config: &CountryConfig) -> Result<Nonresponse, SynthError> {
    let s = crate::settings::Settings::from_config(config)?;
    Ok(Nonresponse {
        dont_know: s.dont_know_share,
        refused: s.refused_share,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn civil_dates_as_text() {
        assert_eq!(civil_from_days(0), "1970-01-01");
        assert_eq!(civil_from_days(18_687), "2021-03-01");
    }

    #[test]
    fn draws_follow_the_shares() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let shares: BTreeMap<String, f64> = [("a".into(), 0.2), ("b".into(), 0.8)].into();
        let a = (0..10_000)
            .filter(|_| draw_label(&mut rng, &shares) == "a")
            .count();
        assert!((1800..2200).contains(&a), "{a}");
    }
}
