//! [`SynthPopulation`]: one country's simulated finite population (frame + calibrated item plans). Built once,
//! it can give its finite-population truth ([`SynthPopulation::truth`]) and any number of independent samples
//! ([`SynthPopulation::draw_sample`]) cheaply: answers are regenerated on demand from counter-based draws, never
//! stored for the whole population.

use std::collections::BTreeSet;

use dh_config::{CountryConfig, SchemaSet, TableSchema};

use crate::calibrate::{CALIBRATION_CAP, calibrate_headline, calibrate_table};
use crate::cell::Cell;
use crate::error::SynthError;
use crate::frame::Frame;
use crate::items::{Child, EaTerms, TablePlan, check_targets};
use crate::rng;
use crate::settings::Settings;
use crate::truth::{CountryTruth, TruthCounter};
use crate::universe::Universe;

/// The table with one row per child; every other generated table links to it by a foreign key.
pub const CHILD_TABLE: &str = "child_survey";

#[derive(Debug, Clone)]
pub struct SynthPopulation {
    pub iso3: String,
    pub seed: u64,
    /// Scale the population was sized for (samples up to this scale can be drawn).
    pub scale: f64,
    pub(crate) key: u64,
    pub settings: Settings,
    pub frame: Frame,
    /// Child table first, then the tables linked to it, by name.
    pub plans: Vec<TablePlan>,
    /// `(table, column)` pairs the country did not collect (`not_collected = true`).
    pub not_collected: BTreeSet<(String, String)>,
    pub(crate) headline: Vec<usize>,
}

impl SynthPopulation {
    /// One blank row per delivered table (a child's answers are filled into these and copied out).
    pub(crate) fn blank_rows(&self) -> Vec<Vec<Cell>> {
        self.plans
            .iter()
            .map(|p| vec![Cell::Blank; p.fields.len()])
            .collect()
    }

    /// Simulates the population of `config`'s country for samples of up to `scale` x `sample_children`.
    /// Deterministic in `(seed, ISO3, scale)` and the configuration.
    pub fn simulate(
        config: &CountryConfig,
        schemas: &SchemaSet,
        seed: u64,
        scale: f64,
    ) -> Result<SynthPopulation, SynthError> {
        let iso3 = config.country.iso3.clone();
        if !(scale.is_finite() && scale > 0.0) {
            return Err(SynthError::Sample {
                iso3,
                message: format!("scale {scale} must be a positive number"),
            });
        }
        let settings = Settings::from_config(config)?;
        let child = schemas.get(CHILD_TABLE).ok_or_else(|| SynthError::Schema {
            table: CHILD_TABLE.into(),
            field: String::new(),
            message: "the schema set has no child table".into(),
        })?;
        let field = |name: &str| {
            child.field(name).ok_or_else(|| SynthError::Schema {
                table: CHILD_TABLE.into(),
                field: name.into(),
                message: "required by dh synth for the population frame".into(),
            })
        };
        let key = rng::country_key(seed, &iso3);
        let frame = Frame::build(
            config,
            &settings,
            field("sex")?,
            field("age_band")?,
            field("urban_rural")?,
            key,
            scale,
        )?;

        let tables: Vec<&TableSchema> = std::iter::once(child)
            .chain(schemas.tables.values().filter(|t| {
                t.name != CHILD_TABLE
                    && t.foreign_keys
                        .iter()
                        .any(|fk| fk.reference.resource == CHILD_TABLE)
            }))
            .collect();
        let risk_items = risk_items(&settings, child)?;
        let mut plans = Vec::with_capacity(tables.len());
        for t in &tables {
            let risk = if t.name == CHILD_TABLE {
                risk_items.clone()
            } else {
                BTreeSet::new()
            };
            plans.push(TablePlan::build(t, &settings, &risk)?);
        }
        check_targets(&settings, &plans)?;

        let calibration = calibration_children(&frame, key);
        let headline = calibrate_headline(
            &mut plans[0],
            &calibration,
            &settings.headline_items,
            settings.clear_examples_any,
            settings.item_correlation,
            &iso3,
        )?;
        for (i, plan) in plans.iter_mut().enumerate() {
            let fixed = if i == 0 {
                headline.clone()
            } else {
                BTreeSet::new()
            };
            calibrate_table(plan, key, &calibration, &fixed);
        }
        let not_collected = config
            .deliveries
            .iter()
            .flat_map(|(t, d)| {
                d.columns
                    .iter()
                    .filter(|(_, m)| m.not_collected)
                    .map(move |(c, _)| (t.clone(), c.clone()))
            })
            .collect();
        Ok(SynthPopulation {
            iso3,
            seed,
            scale,
            key,
            settings,
            frame,
            plans,
            not_collected,
            headline: headline.into_iter().collect(),
        })
    }

    pub fn population_size(&self) -> usize {
        self.frame.child_count()
    }

    /// The generated child `index` of EA `ea`.
    pub(crate) fn child(&self, ea: usize, index: usize) -> Child {
        let f = &self.frame;
        Child {
            index: index as u64,
            key: rng::key(&[self.key, index as u64]),
            ea: ea as u64,
            sex: f.sex[index],
            age: f.age[index],
            age_band: f.age_band[index],
            urban_rural: f.strata[f.eas[ea].stratum].urban_rural,
            risk: f64::from(f.risk[index]),
        }
    }

    /// Generates the rows of every table for one child (`rows[t]` for `plans[t]`).
    pub(crate) fn fill_rows(&self, child: &Child, terms: &[EaTerms], rows: &mut [Vec<Cell>]) {
        for ((plan, ea), row) in self.plans.iter().zip(terms).zip(rows.iter_mut()) {
            plan.fill_row(child, ea, row);
        }
    }

    pub(crate) fn ea_terms(&self, ea: usize) -> Vec<EaTerms> {
        self.plans
            .iter()
            .map(|p| p.ea_terms(self.key, ea as u64))
            .collect()
    }

    /// Finite-population proportions of every category of every coded column among the children in its universe,
    /// and the headline composite (one full pass over the population).
    pub fn truth(&self) -> CountryTruth {
        let mut counter = TruthCounter::new(
            &self.plans,
            &self.headline,
            &self.settings,
            &self.not_collected,
        );
        let mut rows = self.blank_rows();
        for (e, ea) in self.frame.eas.iter().enumerate() {
            let effects = self.ea_terms(e);
            for i in ea.children.clone() {
                let child = self.child(e, i);
                self.fill_rows(&child, &effects, &mut rows);
                counter.add(&rows);
            }
        }
        counter.finish(&self.plans)
    }
}

/// The children calibration runs on: everyone up to [`CALIBRATION_CAP`], else a systematic subsample.
fn calibration_children(frame: &Frame, key: u64) -> Vec<Child> {
    let n = frame.child_count();
    let step = (n as f64 / CALIBRATION_CAP as f64).max(1.0);
    let mut out = Vec::with_capacity(n.min(CALIBRATION_CAP));
    let mut next = 0.0;
    for (e, ea) in frame.eas.iter().enumerate() {
        for i in ea.children.clone() {
            if i as f64 >= next {
                next += step;
                out.push(Child {
                    index: i as u64,
                    key: rng::key(&[key, i as u64]),
                    ea: e as u64,
                    sex: frame.sex[i],
                    age: frame.age[i],
                    age_band: frame.age_band[i],
                    urban_rural: frame.strata[ea.stratum].urban_rural,
                    risk: f64::from(frame.risk[i]),
                });
            }
        }
    }
    out
}

/// Items loading on the latent risk: the `risk_items` setting, else the yes/no columns of the child table asked
/// of everyone that another column's universe routes on (experiences with follow-ups), plus the headline items.
fn risk_items(settings: &Settings, child: &TableSchema) -> Result<BTreeSet<String>, SynthError> {
    if let Some(list) = &settings.risk_items {
        for name in list {
            if child.field(name).is_none() {
                return Err(SynthError::Setting {
                    iso3: settings.iso3.clone(),
                    key: "risk_items".into(),
                    message: format!("`{name}` is not a column of `{CHILD_TABLE}`"),
                });
            }
        }
        return Ok(list.iter().cloned().collect());
    }
    let mut out: BTreeSet<String> = settings.headline_items.iter().cloned().collect();
    for (i, f) in child.fields.iter().enumerate() {
        if let Ok(u) = Universe::compile(&f.universe, child, i) {
            u.visit_fields(&mut |j| {
                let parent = &child.fields[j];
                let yes_no = parent.category_by_label("yes").is_some()
                    && parent.category_by_label("no").is_some();
                if yes_no && parent.universe.trim() == "true" {
                    out.insert(parent.name.clone());
                }
            });
        }
    }
    Ok(out)
}
