//! Synth parameters of one country: the config's `[synth]` section (`regions`, `sample_children`, `settings`,
//! `prevalence`, `distribution`) with the defaults below. Unknown `settings` keys are errors, so a typo never
//! silently falls back to a default.
//!
//! | key (`[synth.settings]`) | default | meaning |
//! |---|---|---|
//! | `population_factor` | 150 | finite population size = factor x target sample size (the sample is ~0.7% of the children and ~2% of the EAs; see [`crate::frame`] for why). Above 30,000 children the items are calibrated on a 30,000-child subsample, so `truth.json`'s realised shares differ from the targets by its sampling error (under 1 point for follow-ups asked of 2% of the children) |
//! | `population_cap` | 1,000,000 | largest population per country (never below 5 x the sample); keeps large scales fast |
//! | `ea_mean_children` | 30 | mean number of children per enumeration area (EA) in the population: a stratum of `n` children has `n / ea_mean_children` EAs |
//! | `children_per_ea` | 10 | children interviewed per sampled EA (second stage) |
//! | `bad_row_share` | 0.005 | share of delivered rows made bad (at least one row of each kind per table) |
//! | `dont_know_share`, `refused_share` | 0.02, 0.01 | item nonresponse where the schema allows the code |
//! | `female_odds_ratio` | 1.2 | odds ratio girls vs boys of each experience item (risk items) |
//! | `age_odds_ratio_per_year` | 1.15 | odds ratio per year of age of each experience item |
//! | `item_correlation` | 0.6 | latent correlation of the experience items (shared risk score) |
//! | `cluster_icc` | 0.1 | share of the latent risk variance that lies between EAs (drives design effects) |
//! | `item_cluster_sd` | 0.3 | SD (logit scale) of an EA effect on every other item |
//! | `clear_examples_any` | none | target share with any of the `headline_items` = yes; the headline items' common loading is solved to meet it |
//! | `headline_items` | the four clear examples | items of the `ocsea_clear_any` composite |
//! | `risk_items` | yes/no items that other items' universes route on, plus the headline items | items loading on the latent risk score |
//! | `numeric` | midpoint, range/6 | `{ column = { mean = .., sd = .. } }` for integer/number items (e.g. caregiver_age) |
//! | `gps_centre` | `[0.0, 0.0]` | `[lat, lon]` around which EA GPS points are scattered |
//!
//! `regions` defaults to four regions `Region 1`..`Region 4`; `sample_children` to 1,000. `prevalence` gives the
//! share answering `yes` of a yes/no item within its universe (default 0.5); `distribution` the category shares of
//! any other coded item (default: shares falling geometrically by 0.6 in schema order).

use std::collections::BTreeMap;

use dh_config::CountryConfig;

use crate::error::SynthError;

/// The default composite: the four "clear examples" of online child sexual exploitation and abuse.
pub const DEFAULT_HEADLINE_ITEMS: [&str; 4] = [
    "offered_money_images",
    "offered_money_meet",
    "threatened_sexual",
    "images_shared",
];

#[derive(Debug, Clone, PartialEq)]
pub struct NumericParams {
    pub mean: f64,
    pub sd: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub iso3: String,
    pub regions: Vec<String>,
    pub sample_children: u32,
    pub population_factor: f64,
    pub population_cap: f64,
    pub ea_mean_children: f64,
    pub children_per_ea: u32,
    pub bad_row_share: f64,
    pub dont_know_share: f64,
    pub refused_share: f64,
    pub female_odds_ratio: f64,
    pub age_odds_ratio_per_year: f64,
    pub item_correlation: f64,
    pub cluster_icc: f64,
    pub item_cluster_sd: f64,
    pub clear_examples_any: Option<f64>,
    pub headline_items: Vec<String>,
    pub risk_items: Option<Vec<String>>,
    pub numeric: BTreeMap<String, NumericParams>,
    pub gps_centre: (f64, f64),
    pub prevalence: BTreeMap<String, f64>,
    pub distribution: BTreeMap<String, BTreeMap<String, f64>>,
}

impl Settings {
    /// Reads the `[synth]` section of a merged country config.
    pub fn from_config(config: &CountryConfig) -> Result<Settings, SynthError> {
        let iso3 = config.country.iso3.clone();
        let mut s = Settings {
            iso3: iso3.clone(),
            regions: (1..=4).map(|i| format!("Region {i}")).collect(),
            sample_children: 1000,
            population_factor: 150.0,
            population_cap: 1_000_000.0,
            ea_mean_children: 30.0,
            children_per_ea: 10,
            bad_row_share: 0.005,
            dont_know_share: 0.02,
            refused_share: 0.01,
            female_odds_ratio: 1.2,
            age_odds_ratio_per_year: 1.15,
            item_correlation: 0.6,
            cluster_icc: 0.1,
            item_cluster_sd: 0.3,
            clear_examples_any: None,
            headline_items: DEFAULT_HEADLINE_ITEMS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            risk_items: None,
            numeric: BTreeMap::new(),
            gps_centre: (0.0, 0.0),
            prevalence: BTreeMap::new(),
            distribution: BTreeMap::new(),
        };
        let Some(params) = &config.synth else {
            return Ok(s);
        };
        if !params.regions.is_empty() {
            s.regions = params.regions.clone();
        }
        if let Some(n) = params.sample_children {
            s.sample_children = n;
        }
        s.prevalence = params.prevalence.clone();
        s.distribution = params.distribution.clone();
        let err = |key: &str, message: String| SynthError::Setting {
            iso3: iso3.clone(),
            key: key.to_string(),
            message,
        };
        for (key, value) in &params.settings {
            let num = || {
                value_f64(value)
                    .ok_or_else(|| err(key, format!("expected a number, found `{value}`")))
            };
            let share = || {
                let v = num()?;
                if (0.0..=1.0).contains(&v) {
                    Ok(v)
                } else {
                    Err(err(key, format!("{v} is not a share in [0, 1]")))
                }
            };
            let positive = || {
                let v = num()?;
                if v > 0.0 {
                    Ok(v)
                } else {
                    Err(err(key, format!("{v} must be greater than 0")))
                }
            };
            match key.as_str() {
                "population_factor" => {
                    let v = num()?;
                    if v < 5.0 {
                        return Err(err(
                            key,
                            format!(
                                "{v} is below 5: the sample would be a large share of the population"
                            ),
                        ));
                    }
                    s.population_factor = v;
                }
                "population_cap" => s.population_cap = positive()?,
                "ea_mean_children" => s.ea_mean_children = positive()?,
                "children_per_ea" => s.children_per_ea = positive()?.round() as u32,
                "bad_row_share" => s.bad_row_share = share()?,
                "dont_know_share" => s.dont_know_share = share()?,
                "refused_share" => s.refused_share = share()?,
                "female_odds_ratio" => s.female_odds_ratio = positive()?,
                "age_odds_ratio_per_year" => s.age_odds_ratio_per_year = positive()?,
                "item_correlation" => {
                    let v = share()?;
                    if v >= 0.99 {
                        return Err(err(key, format!("{v} must be below 0.99")));
                    }
                    s.item_correlation = v;
                }
                "cluster_icc" => s.cluster_icc = share()?,
                "item_cluster_sd" => s.item_cluster_sd = num()?.abs(),
                "clear_examples_any" => s.clear_examples_any = Some(share()?),
                "headline_items" => {
                    s.headline_items = string_list(value)
                        .ok_or_else(|| err(key, "expected a list of column names".into()))?
                }
                "risk_items" => {
                    s.risk_items = Some(
                        string_list(value)
                            .ok_or_else(|| err(key, "expected a list of column names".into()))?,
                    )
                }
                "gps_centre" => {
                    let v = value
                        .as_array()
                        .map(|a| a.iter().filter_map(value_f64).collect::<Vec<_>>());
                    match v.as_deref() {
                        Some([lat, lon]) => s.gps_centre = (*lat, *lon),
                        _ => return Err(err(key, "expected `[lat, lon]`".into())),
                    }
                }
                "numeric" => s.numeric = numeric_table(value).map_err(|m| err(key, m))?,
                _ => {
                    return Err(err(
                        key,
                        "unknown setting; see the table in crates/synth/src/settings.rs for the keys `dh synth` reads".into(),
                    ));
                }
            }
        }
        if s.regions.is_empty() {
            return Err(err("regions", "at least one region is needed".into()));
        }
        if s.dont_know_share + s.refused_share >= 0.5 {
            return Err(err(
                "dont_know_share",
                "dont_know_share + refused_share must stay below 0.5".into(),
            ));
        }
        Ok(s)
    }
}

fn value_f64(v: &toml::Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

fn string_list(v: &toml::Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect()
}

fn numeric_table(v: &toml::Value) -> Result<BTreeMap<String, NumericParams>, String> {
    let table = v
        .as_table()
        .ok_or("expected `{ column = { mean = .., sd = .. } }`")?;
    let mut out = BTreeMap::new();
    for (column, spec) in table {
        let get = |k: &str| {
            spec.get(k)
                .and_then(value_f64)
                .ok_or(format!("`{column}` needs numbers `mean` and `sd`"))
        };
        let (mean, sd) = (get("mean")?, get("sd")?);
        if sd < 0.0 {
            return Err(format!("`{column}`: sd must not be negative"));
        }
        out.insert(column.clone(), NumericParams { mean, sd });
    }
    Ok(out)
}
