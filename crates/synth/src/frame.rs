//! The population frame of one country: strata (region x urban/rural), enumeration areas (EAs) and the
//! internet-using children living in them, with sex, age and a latent risk score.
//!
//! Sizes: the population holds `population_factor` x the target sample size children (default 150, so a
//! scale-1 sample of 1,000 is drawn from ~150,000 children), but at most `population_cap` (default 1,000,000)
//! and never fewer than 5 x the sample. Each stratum has one EA per `ea_mean_children` (default 30) of its
//! children, so EAs have the same mean size in every stratum and at every scale, and the first-stage sampling
//! fraction is the same in every stratum: ~100 sampled EAs of ~5,000, about 2% at scale 1.
//!
//! Why a large population rather than a finite-population correction: real Disrupting Harm samples draw about
//! 100 EAs from national frames of tens of thousands, and their designs carry no fpc; the estimators
//! (`dh-survey`'s ultimate-cluster variance, as R `survey` without `fpc`) are right for such small fractions.
//! A synthetic sample of 10-35% of a stratum's EAs without an fpc overstates every variance (by up to the
//! sampling fraction), so interval coverage would be above nominal for reasons unrelated to the estimators, and
//! a coverage study could not detect over-coverage. At ~2% the overstatement is about 2% of the between-EA
//! variance (coverage changes by about 0.1 percentage point). The cap keeps large scales fast (generating and
//! counting a child's ~110 answers costs about a microsecond): from scale 7 on, the population is capped at
//! 1 million children, so a scale-100 sample of 100,000 children takes about 30% of the EAs and its intervals
//! are conservative; large scales are for performance work, not for coverage.
//! A stratum's children are spread over its EAs with Gamma(4)-distributed sizes (never fewer than
//! `children_per_ea` + 2, so every EA can supply a full take). Region shares are drawn once per country
//! (Gamma(4) weights); the urban share and the sex x age-band mix within urban and rural areas follow the
//! config's population cells.
//! The latent risk of a child is `sqrt(icc) * u_EA + sqrt(1 - icc) * e_child`, both standard normal.

use std::ops::Range;

use dh_config::{CountryConfig, Field};
use rand::Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};

use crate::error::SynthError;
use crate::rng;
use crate::settings::Settings;

#[derive(Debug, Clone)]
pub struct Stratum {
    pub region: usize,
    /// Index into the schema's `urban_rural` categories.
    pub urban_rural: u16,
    /// Stratum code as delivered, e.g. `03U`.
    pub code: String,
    pub eas: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Ea {
    pub stratum: usize,
    /// Children of this EA in the frame's child arrays.
    pub children: Range<usize>,
    /// EA code as delivered (leading zeros kept), e.g. `030017`.
    pub code: String,
    pub lat: f64,
    pub lon: f64,
}

/// Category indices of the demographic columns, resolved against the child schema.
#[derive(Debug, Clone)]
pub struct DemographicCodes {
    /// `age_band` categories as inclusive age ranges, in schema order.
    pub age_bands: Vec<(u8, u8)>,
}

#[derive(Debug, Clone)]
pub struct Frame {
    pub strata: Vec<Stratum>,
    pub eas: Vec<Ea>,
    /// Index into the schema's `sex` categories, per child.
    pub sex: Vec<u16>,
    pub age: Vec<u8>,
    /// Index into the schema's `age_band` categories, per child.
    pub age_band: Vec<u16>,
    pub risk: Vec<f32>,
    pub demographics: DemographicCodes,
}

/// One population cell: its probability within its urban/rural class, sex index, age range.
struct Cell {
    weight: f64,
    sex: u16,
    band: u16,
    ages: (u8, u8),
}

impl Frame {
    pub fn child_count(&self) -> usize {
        self.sex.len()
    }

    /// Builds the frame for `scale` (target sample = `sample_children` x scale).
    pub fn build(
        config: &CountryConfig,
        settings: &Settings,
        sex_field: &Field,
        band_field: &Field,
        urban_field: &Field,
        key: u64,
        scale: f64,
    ) -> Result<Frame, SynthError> {
        let iso3 = &settings.iso3;
        let perr = |message: String| SynthError::Population {
            iso3: iso3.clone(),
            message,
        };
        let age_bands = band_ranges(band_field).map_err(perr)?;
        let urban_labels = labels(urban_field);
        // Population cells grouped by urban/rural class.
        let mut classes: Vec<Vec<Cell>> = (0..urban_labels.len()).map(|_| Vec::new()).collect();
        for c in &config.population.cells {
            let find = |f: &Field, label: &str| {
                labels(f)
                    .iter()
                    .position(|l| l == label)
                    .map(|i| i as u16)
                    .ok_or_else(|| {
                        perr(format!("label `{label}` is not a category of `{}`", f.name))
                    })
            };
            let sex = find(sex_field, &c.sex)?;
            let band = find(band_field, &c.age_band)?;
            let ur = find(urban_field, &c.urban_rural)?;
            if !(c.count.is_finite() && c.count >= 0.0) {
                return Err(perr(format!(
                    "cell count {} is not a non-negative number",
                    c.count
                )));
            }
            classes[ur as usize].push(Cell {
                weight: c.count,
                sex,
                band,
                ages: age_bands[band as usize],
            });
        }
        let class_totals: Vec<f64> = classes
            .iter()
            .map(|c| c.iter().map(|x| x.weight).sum())
            .collect();
        let total: f64 = class_totals.iter().sum();
        if total <= 0.0 {
            return Err(perr("the cells hold no population".into()));
        }

        let mut rng = rng::stream(key, "frame");
        let target_n = (f64::from(settings.sample_children) * scale)
            .round()
            .max(1.0);
        let population_n = (target_n * settings.population_factor)
            .min(settings.population_cap)
            .max(target_n * 5.0)
            .round();
        let region_shares = region_shares(&mut rng, settings.regions.len());
        let min_size = settings.children_per_ea as usize + 2;
        // Mean EA size: the setting, but never below the smallest EA (a full take plus two).
        let ea_mean = settings.ea_mean_children.max(min_size as f64);

        let mut frame = Frame {
            strata: Vec::new(),
            eas: Vec::new(),
            sex: Vec::new(),
            age: Vec::new(),
            age_band: Vec::new(),
            risk: Vec::new(),
            demographics: DemographicCodes { age_bands },
        };
        let (icc_a, icc_b) = (
            settings.cluster_icc.sqrt(),
            (1.0 - settings.cluster_icc).sqrt(),
        );
        for (region, share) in region_shares.iter().enumerate() {
            let (region_lat, region_lon) = (
                settings.gps_centre.0 + rng.random_range(-1.5..1.5),
                settings.gps_centre.1 + rng.random_range(-1.5..1.5),
            );
            for (ur, cells) in classes.iter().enumerate() {
                if class_totals[ur] <= 0.0 {
                    continue;
                }
                let n_h = (population_n * share * class_totals[ur] / total).round() as usize;
                // One EA per `ea_mean` children (at least 2 per stratum, so every stratum has a variance).
                let eas_per_stratum = ((n_h as f64 / ea_mean).round() as usize).max(2);
                let mean = (n_h as f64 / eas_per_stratum as f64).max(min_size as f64);
                let gamma = Gamma::new(4.0, mean / 4.0)
                    .map_err(|e| perr(format!("EA size distribution: {e}")))?;
                let stratum = frame.strata.len();
                let tag = urban_labels[ur]
                    .chars()
                    .next()
                    .unwrap_or('X')
                    .to_ascii_uppercase();
                let first_ea = frame.eas.len();
                for k in 0..eas_per_stratum {
                    let size = (gamma.sample(&mut rng).round() as usize).max(min_size);
                    let start = frame.sex.len();
                    let u_ea: f64 = rng.sample(StandardNormal);
                    let cum: f64 = cells.iter().map(|c| c.weight).sum();
                    for _ in 0..size {
                        let cell = pick(cells, cum, rng.random::<f64>());
                        let age = rng.random_range(cell.ages.0..=cell.ages.1);
                        let e: f64 = rng.sample(StandardNormal);
                        frame.sex.push(cell.sex);
                        frame.age.push(age);
                        frame.age_band.push(cell.band);
                        frame.risk.push((icc_a * u_ea + icc_b * e) as f32);
                    }
                    frame.eas.push(Ea {
                        stratum,
                        children: start..frame.sex.len(),
                        code: format!("{:02}{}{:05}", region + 1, ur + 1, k + 1),
                        lat: region_lat + rng.random_range(-0.4..0.4),
                        lon: region_lon + rng.random_range(-0.4..0.4),
                    });
                }
                frame.strata.push(Stratum {
                    region,
                    urban_rural: ur as u16,
                    code: format!("{:02}{tag}", region + 1),
                    eas: first_ea..frame.eas.len(),
                });
            }
        }
        Ok(frame)
    }
}

fn labels(f: &Field) -> Vec<String> {
    f.categories
        .as_ref()
        .map(|c| c.iter().map(|c| c.label.clone()).collect())
        .unwrap_or_default()
}

fn band_ranges(band: &Field) -> Result<Vec<(u8, u8)>, String> {
    let cats = band
        .categories
        .as_ref()
        .ok_or("`age_band` has no categories")?;
    cats.iter()
        .map(|c| match c.range {
            Some([lo, hi]) if lo >= 0.0 && hi >= lo && hi < 256.0 => Ok((lo as u8, hi as u8)),
            _ => Err(format!(
                "`age_band` category `{}` needs a `range` [low, high]",
                c.label
            )),
        })
        .collect()
}

// Gamma(4, 1) has constant, valid parameters: `Gamma::new` cannot fail here.
#[allow(clippy::expect_used)]
fn region_shares(rng: &mut impl Rng, n: usize) -> Vec<f64> {
    let gamma = Gamma::new(4.0, 1.0).expect("constant Gamma(4, 1) parameters are valid");
    let w: Vec<f64> = (0..n).map(|_| gamma.sample(rng)).collect();
    let sum: f64 = w.iter().sum();
    w.iter().map(|x| x / sum).collect()
}

fn pick(cells: &[Cell], total: f64, u: f64) -> &Cell {
    let mut acc = 0.0;
    let target = u * total;
    for c in cells {
        acc += c.weight;
        if target < acc {
            return c;
        }
    }
    &cells[cells.len() - 1]
}
