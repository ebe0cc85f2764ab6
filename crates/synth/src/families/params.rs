//! Parameters of the other data families' synthetic deliveries: `[synth.families.<table>]` of the merged country
//! config (defaults in `countries/_defaults.toml`), one typed struct per table. Unknown keys and impossible values
//! are errors naming the country and key, so a typo never falls back to a default silently.

use std::collections::BTreeMap;

use dh_config::CountryConfig;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::SynthError;

/// Normal mean and SD of a numeric column.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Normal {
    pub mean: f64,
    pub sd: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FrontlineParams {
    /// Workers interviewed.
    pub workers: u32,
    /// Share `yes` of each yes/no item.
    #[serde(default)]
    pub prevalence: BTreeMap<String, f64>,
    /// Category shares of each other coded item.
    #[serde(default)]
    pub distribution: BTreeMap<String, BTreeMap<String, f64>>,
    pub years_experience: Normal,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegisterParams {
    /// Interviews per participant group (harmonised label).
    pub interviews: BTreeMap<String, u32>,
    pub first_date: String,
    pub last_date: String,
    /// Shares of the interview modes (harmonised labels).
    pub mode: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SegmentParams {
    /// Share of interviews in which each harmonised theme is coded.
    pub coded_share: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CyberTiplineParams {
    /// Reports per year (all report types).
    pub reports: BTreeMap<String, u64>,
    pub esp_share: f64,
    pub data_vintage: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PoliceParams {
    /// Recorded cases per year.
    pub cases: BTreeMap<String, u32>,
    pub technology_share: f64,
    pub female_share: f64,
    pub unknown_share: f64,
    pub offence: BTreeMap<String, f64>,
    pub victim_age_band: BTreeMap<String, f64>,
    pub case_status: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IcseParams {
    pub connected: bool,
    pub since: i64,
}

/// `[synth.families.service_contacts]`: helplines, hotlines and NGOs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceParams {
    /// Organisations of a one-file delivery: name -> harmonised organisation type (parts name their own).
    #[serde(default)]
    pub organisations: BTreeMap<String, String>,
    /// Contacts of one organisation in the first reference year, by organisation type.
    pub contacts: BTreeMap<String, u64>,
    /// Yearly growth of the contacts (0.1 = +10% a year).
    pub growth: f64,
    /// Share of contacts about OCSEA, by organisation type.
    pub ocsea_share: BTreeMap<String, f64>,
    /// Shares of the OCSEA categories among OCSEA contacts.
    pub category: BTreeMap<String, f64>,
    /// Channel shares by organisation type.
    pub channel: BTreeMap<String, BTreeMap<String, f64>>,
    pub female_share: f64,
    pub child_age_band: BTreeMap<String, f64>,
    /// Share of contacts whose child's sex (age band) is not recorded.
    pub unknown_share: f64,
    pub data_vintage: String,
}

/// `[synth.families.legal_provisions]`: the legal-framework review.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LegalParams {
    /// Status shares of provisions without a known status.
    pub status: BTreeMap<String, f64>,
    /// Known status per provision (harmonised ids and labels).
    #[serde(default)]
    pub known: BTreeMap<String, String>,
    /// Instruments cited (short title -> year).
    pub instruments: BTreeMap<String, i64>,
    pub review_date: String,
}

/// Reads `[synth.families.<table>]` of `config` into `T`.
pub fn family_params<T: DeserializeOwned>(
    config: &CountryConfig,
    table: &str,
) -> Result<T, SynthError> {
    let iso3 = config.country.iso3.clone();
    let err = |message: String| SynthError::Setting {
        iso3: iso3.clone(),
        key: format!("families.{table}"),
        message,
    };
    let value = config
        .synth
        .as_ref()
        .and_then(|s| s.families.get(table))
        .ok_or_else(|| err("missing; add [synth.families.<table>] to _defaults.toml".into()))?;
    let params: T = value
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| err(e.message().trim().to_string()))?;
    Ok(params)
}

/// Checks that every share lies in [0, 1].
pub fn check_share(iso3: &str, key: &str, share: f64) -> Result<(), SynthError> {
    if (0.0..=1.0).contains(&share) {
        Ok(())
    } else {
        Err(SynthError::Setting {
            iso3: iso3.to_string(),
            key: key.to_string(),
            message: format!("{share} is not a share between 0 and 1"),
        })
    }
}

/// Checks a category distribution: shares in [0, 1] summing to 1 (within 1e-6), labels among `allowed`.
pub fn check_distribution(
    iso3: &str,
    key: &str,
    shares: &BTreeMap<String, f64>,
    allowed: &[String],
) -> Result<(), SynthError> {
    let err = |message: String| SynthError::Setting {
        iso3: iso3.to_string(),
        key: key.to_string(),
        message,
    };
    for (label, share) in shares {
        if !allowed.contains(label) {
            return Err(err(format!(
                "`{label}` is not a category; use one of {}",
                allowed.join(", ")
            )));
        }
        check_share(iso3, key, *share)?;
    }
    let sum: f64 = shares.values().sum();
    if (sum - 1.0).abs() > 1e-6 {
        return Err(err(format!("shares sum to {sum}, not 1")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_must_sum_to_one_and_name_categories() {
        let allowed = vec!["a".to_string(), "b".to_string()];
        let ok: BTreeMap<String, f64> = [("a".into(), 0.4), ("b".into(), 0.6)].into();
        assert!(check_distribution("THA", "k", &ok, &allowed).is_ok());
        let short: BTreeMap<String, f64> = [("a".into(), 0.4)].into();
        let e = check_distribution("THA", "k", &short, &allowed).unwrap_err();
        assert!(e.to_string().contains("sum to 0.4"), "{e}");
        let unknown: BTreeMap<String, f64> = [("c".into(), 1.0)].into();
        let e = check_distribution("THA", "k", &unknown, &allowed).unwrap_err();
        assert!(e.to_string().contains("`c`"), "{e}");
        let e = check_share("THA", "k", 1.5).unwrap_err();
        assert!(
            e.to_string().contains("1.5 is not a share between 0 and 1"),
            "{e}"
        );
    }
}
