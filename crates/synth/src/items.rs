//! How each harmonised column of a table is generated: the plan built from the schema and the country's synth
//! settings, and the per-respondent draw.
//!
//! Design and demographic columns come from the frame (recognised by name: `respondent_id`, `household_id`,
//! `caregiver_id`, `stratum`, `psu`, `base_weight`, `region`, `sex`, `age`, `age_band`, `urban_rural`). Every other
//! coded column is an ordered-logit item: with `u` uniform and `eta` the respondent's linear predictor, the answer is
//! the first category `k` with `logit(u) - eta < t_k`, so a larger `eta` favours the first category (`yes` for
//! yes/no items). `eta = loading * risk + demographic log-odds + cluster_sd * w_EA,item`. Experience ("risk") items
//! share the latent risk score (correlated items, EA clustering through the risk's EA component) and get the
//! sex and age odds ratios; other items get their own EA effect. The cut points `t_k` are calibrated on the
//! population so the category shares among respondents in the universe equal the targets ([`crate::calibrate`]).
//! Outside its universe a column is `not_applicable`; inside it, a respondent answers `dont_know` / `refused`
//! with the configured shares where the schema allows those codes.
//! Every draw is counter-based on `(country key, child, column slot)`, so a child's answers are the same
//! whenever they are generated (truth pass, any sample).

use std::collections::{BTreeMap, BTreeSet};

use dh_config::{FieldType, TableSchema};

use crate::cell::Cell;
use crate::error::SynthError;
use crate::rng;
use crate::settings::Settings;
use crate::universe::Universe;

const NORMAL_SALT: u64 = 0x6E6F_6E72_6573_706F;
const EA_SALT: u64 = 0x0045_4145_4646_4543;

/// Columns whose values come from the population frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameField {
    RespondentId,
    HouseholdId,
    CaregiverId,
    Stratum,
    Psu,
    BaseWeight,
    Region,
    Sex,
    Age,
    AgeBand,
    UrbanRural,
}

impl FrameField {
    pub fn from_name(name: &str) -> Option<FrameField> {
        Some(match name {
            "respondent_id" => FrameField::RespondentId,
            "household_id" => FrameField::HouseholdId,
            "caregiver_id" => FrameField::CaregiverId,
            "stratum" => FrameField::Stratum,
            "psu" => FrameField::Psu,
            "base_weight" => FrameField::BaseWeight,
            "region" => FrameField::Region,
            "sex" => FrameField::Sex,
            "age" => FrameField::Age,
            "age_band" => FrameField::AgeBand,
            "urban_rural" => FrameField::UrbanRural,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Categorical {
    /// Target share of each category among respondents in the universe.
    pub shares: Vec<f64>,
    /// Ascending cut points (one fewer than categories), set by calibration.
    pub thresholds: Vec<f64>,
    pub risk_loading: f64,
    /// Adds the sex and age log-odds (experience items).
    pub demographic: bool,
    pub cluster_sd: f64,
}

#[derive(Debug, Clone)]
pub struct Numeric {
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub max: f64,
    pub integer: bool,
}

#[derive(Debug, Clone)]
pub enum Gen {
    Frame(FrameField),
    Categorical(Categorical),
    Numeric(Numeric),
}

#[derive(Debug, Clone)]
pub struct FieldPlan {
    pub name: String,
    /// The schema's title (written as the variable label of self-describing formats).
    pub title: String,
    pub generator: Gen,
    pub universe: Universe,
    /// The universe as written in the schema.
    pub universe_text: String,
    pub slot: u64,
    /// Category labels (empty for non-categorical columns).
    pub labels: Vec<String>,
    pub not_applicable: Option<u8>,
    pub dont_know: Option<u8>,
    pub refused: Option<u8>,
    /// Share of respondents in the universe who answer `dont_know` or `refused` (the allowed ones).
    pub nonresponse_band: f64,
}

/// Generation plan of one table.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub name: String,
    pub fields: Vec<FieldPlan>,
    /// The table's labelled missing codes, in schema order.
    pub missing_labels: Vec<String>,
    pub dont_know_share: f64,
    pub refused_share: f64,
    /// Log-odds per year of age above 14.5 and for girls (risk items).
    pub age_log_odds: f64,
    pub female_log_odds: f64,
    /// Index of the `female` category of `sex` in the child table, when present.
    pub female: Option<u16>,
}

/// Per-EA terms of a table's draws, see [`TablePlan::ea_terms`].
#[derive(Debug, Clone)]
pub struct EaTerms {
    pub effects: Vec<f64>,
    /// Uniform-scale cut points per column (empty where the latent scale is used).
    pub cuts: Vec<Vec<f64>>,
}

/// What a generated child looks like to the item draws.
#[derive(Debug, Clone, Copy)]
pub struct Child {
    pub index: u64,
    /// Key of every counter-based draw of this child: `key(country key, index)`.
    pub key: u64,
    pub ea: u64,
    pub sex: u16,
    pub age: u8,
    pub age_band: u16,
    pub urban_rural: u16,
    pub risk: f64,
}

/// Loading on the latent risk (standard normal) that gives a latent correlation `rho` between two items with
/// standard logistic noise: `rho = l^2 / (l^2 + pi^2 / 3)`.
pub fn loading_for_correlation(rho: f64) -> f64 {
    (rho / (1.0 - rho) * std::f64::consts::PI.powi(2) / 3.0).sqrt()
}

impl TablePlan {
    /// Builds the plan for `table`. `risk_items` names the columns loading on the latent risk (child table only).
    pub fn build(
        table: &TableSchema,
        settings: &Settings,
        risk_items: &BTreeSet<String>,
    ) -> Result<TablePlan, SynthError> {
        let missing_labels: Vec<String> = table
            .missing_values
            .iter()
            .map(|m| m.label.clone())
            .collect();
        let missing_index = |label: &str| {
            missing_labels
                .iter()
                .position(|l| l == label)
                .map(|i| i as u8)
        };
        let risk_loading = loading_for_correlation(settings.item_correlation);
        let mut fields = Vec::with_capacity(table.fields.len());
        for (i, f) in table.fields.iter().enumerate() {
            let schema_err = |message: String| SynthError::Schema {
                table: table.name.clone(),
                field: f.name.clone(),
                message,
            };
            let universe =
                Universe::compile(&f.universe, table, i).map_err(|e| SynthError::Universe {
                    table: table.name.clone(),
                    field: f.name.clone(),
                    expr: f.universe.clone(),
                    offset: e.offset,
                    message: e.message,
                })?;
            let labels: Vec<String> = f
                .categories
                .as_ref()
                .map(|c| c.iter().map(|c| c.label.clone()).collect())
                .unwrap_or_default();
            let allowed = |label: &str| {
                if f.missing_values.iter().any(|m| m == label) {
                    missing_index(label)
                } else {
                    None
                }
            };
            let generator = if let Some(ff) = FrameField::from_name(&f.name) {
                Gen::Frame(ff)
            } else if !labels.is_empty() {
                let shares = target_shares(settings, &f.name, &labels)?;
                let is_risk = risk_items.contains(&f.name);
                Gen::Categorical(Categorical {
                    thresholds: initial_thresholds(&shares),
                    shares,
                    risk_loading: if is_risk { risk_loading } else { 0.0 },
                    demographic: is_risk,
                    cluster_sd: if is_risk {
                        0.0
                    } else {
                        settings.item_cluster_sd
                    },
                })
            } else {
                match f.field_type {
                    FieldType::Integer | FieldType::Number => {
                        let min = f.constraints.minimum.unwrap_or(0.0);
                        let max = f.constraints.maximum.unwrap_or(min + 100.0);
                        let p = settings.numeric.get(&f.name);
                        Gen::Numeric(Numeric {
                            mean: p.map(|p| p.mean).unwrap_or((min + max) / 2.0),
                            sd: p.map(|p| p.sd).unwrap_or((max - min) / 6.0),
                            min,
                            max,
                            integer: f.field_type == FieldType::Integer,
                        })
                    }
                    _ => {
                        return Err(schema_err(
                            "dh synth cannot generate an uncoded text column that is not a frame column \
                             (respondent_id, household_id, caregiver_id, stratum, psu, region); give it categories"
                                .into(),
                        ));
                    }
                }
            };
            fields.push(FieldPlan {
                name: f.name.clone(),
                title: f.title.clone(),
                universe,
                universe_text: f.universe.clone(),
                slot: rng::key(&[rng::hash_str(&table.name), rng::hash_str(&f.name)]),
                labels,
                not_applicable: missing_index("not_applicable"),
                nonresponse_band: if matches!(generator, Gen::Frame(_)) {
                    0.0
                } else {
                    allowed("dont_know").map_or(0.0, |_| settings.dont_know_share)
                        + allowed("refused").map_or(0.0, |_| settings.refused_share)
                },
                dont_know: allowed("dont_know"),
                refused: allowed("refused"),
                generator,
            });
        }
        let female = table
            .field("sex")
            .and_then(|f| f.categories.as_ref())
            .and_then(|c| c.iter().position(|c| c.label == "female"))
            .map(|i| i as u16);
        Ok(TablePlan {
            name: table.name.clone(),
            fields,
            missing_labels,
            dont_know_share: settings.dont_know_share,
            refused_share: settings.refused_share,
            age_log_odds: settings.age_odds_ratio_per_year.ln(),
            female_log_odds: settings.female_odds_ratio.ln(),
            female,
        })
    }

    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The per-EA effect of every column of this table (0 for columns without one).
    pub fn ea_effects(&self, key: u64, ea: u64) -> Vec<f64> {
        self.fields
            .iter()
            .map(|f| match &f.generator {
                Gen::Categorical(c) if c.cluster_sd > 0.0 => {
                    c.cluster_sd * rng::normal3(key, ea, f.slot ^ EA_SALT)
                }
                _ => 0.0,
            })
            .collect()
    }

    /// Everything an EA contributes to its children's draws (after calibration): the EA effects, and for
    /// items whose linear predictor is the EA effect alone, the cut points on the uniform scale
    /// (`u < logistic(t_k + eta)` is the same test as `logit(u) - eta < t_k`, without a logarithm per child).
    pub fn ea_terms(&self, key: u64, ea: u64) -> EaTerms {
        let effects = self.ea_effects(key, ea);
        let cuts = self
            .fields
            .iter()
            .zip(&effects)
            .map(|(f, eta)| match &f.generator {
                Gen::Categorical(c) if c.risk_loading == 0.0 && !c.demographic => c
                    .thresholds
                    .iter()
                    .map(|t| 1.0 / (1.0 + (-(t + eta)).exp()))
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        EaTerms { effects, cuts }
    }

    /// Sex and age log-odds of a child.
    pub fn demographic_log_odds(&self, child: &Child) -> f64 {
        let female = if Some(child.sex) == self.female {
            self.female_log_odds
        } else {
            0.0
        };
        female + self.age_log_odds * (f64::from(child.age) - 14.5)
    }

    /// The uniform draw of column `j` for a child: one hash of the child's key and the column's slot.
    fn draw(&self, j: usize, child: &Child) -> f64 {
        rng::unit(child.key ^ self.fields[j].slot)
    }

    /// The nonresponse outcome of column `j` for a child in its universe, if any: the draw falls in the
    /// column's nonresponse band (`dont_know` first, then `refused`, each only where the schema allows it).
    pub fn nonresponse(&self, j: usize, child: &Child) -> Option<Cell> {
        let f = &self.fields[j];
        if f.nonresponse_band <= 0.0 {
            return None;
        }
        let u = self.draw(j, child);
        if u >= f.nonresponse_band {
            return None;
        }
        match (f.dont_know, f.refused) {
            (Some(dk), Some(r)) => {
                Some(Cell::Missing(if u < self.dont_know_share { dk } else { r }))
            }
            (Some(m), None) | (None, Some(m)) => Some(Cell::Missing(m)),
            (None, None) => None,
        }
    }

    /// A responder's uniform: the column's draw rescaled from above the nonresponse band to (0, 1), so one hash
    /// decides both whether and what the child answers.
    fn response_draw(&self, j: usize, child: &Child) -> f64 {
        let band = self.fields[j].nonresponse_band;
        ((self.draw(j, child) - band) / (1.0 - band)).clamp(1e-300, 1.0 - f64::EPSILON)
    }

    /// The latent value `logit(u) - eta` of categorical column `j` for a child.
    pub fn latent(&self, j: usize, c: &Categorical, child: &Child, ea_effect: f64) -> f64 {
        let mut eta = c.risk_loading * child.risk + ea_effect;
        if c.demographic {
            eta += self.demographic_log_odds(child);
        }
        rng::logit(self.response_draw(j, child)) - eta
    }

    /// Generates column `j` of a child's row (earlier columns already filled).
    /// `cuts` are the column's uniform-scale cut points from [`TablePlan::ea_terms`], or empty to use the latent
    /// scale (calibration, where the cut points are still being set).
    /// The value of column `j` for a child outside its universe: `not_applicable`, or blank without that code.
    pub fn outside_universe(&self, j: usize) -> Cell {
        self.fields[j]
            .not_applicable
            .map(Cell::Missing)
            .unwrap_or(Cell::Blank)
    }

    pub fn cell(
        &self,
        j: usize,
        child: &Child,
        row: &[Cell],
        ea_effect: f64,
        cuts: &[f64],
    ) -> Cell {
        let f = &self.fields[j];
        if let Gen::Frame(ff) = f.generator {
            return match ff {
                FrameField::Sex => Cell::Cat(child.sex),
                FrameField::Age => Cell::Int(i32::from(child.age)),
                FrameField::AgeBand => Cell::Cat(child.age_band),
                FrameField::UrbanRural => Cell::Cat(child.urban_rural),
                _ => Cell::Frame,
            };
        }
        if !f.universe.eval(row) {
            return self.outside_universe(j);
        }
        if let Some(m) = self.nonresponse(j, child) {
            return m;
        }
        match &f.generator {
            Gen::Categorical(_) if !cuts.is_empty() => {
                let u = self.response_draw(j, child);
                Cell::Cat(cuts.iter().position(|c| u < *c).unwrap_or(cuts.len()) as u16)
            }
            Gen::Categorical(c) => {
                let x = self.latent(j, c, child, ea_effect);
                let k = c
                    .thresholds
                    .iter()
                    .position(|t| x < *t)
                    .unwrap_or(c.thresholds.len());
                Cell::Cat(k as u16)
            }
            Gen::Numeric(n) => {
                let (u1, u2) = (
                    self.response_draw(j, child),
                    rng::unit(child.key ^ f.slot ^ NORMAL_SALT),
                );
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let v = (n.mean + n.sd * z).clamp(n.min, n.max);
                if n.integer {
                    Cell::Int(v.round() as i32)
                } else {
                    Cell::Num(v as f32)
                }
            }
            Gen::Frame(_) => Cell::Frame,
        }
    }

    /// Fills a whole row for a child.
    pub fn fill_row(&self, child: &Child, ea: &EaTerms, row: &mut [Cell]) {
        for j in 0..self.fields.len() {
            row[j] = self.cell(j, child, row, ea.effects[j], &ea.cuts[j]);
        }
    }
}

/// Target category shares of a coded column from `prevalence` (yes share) or `distribution`, else the default.
fn target_shares(
    settings: &Settings,
    field: &str,
    labels: &[String],
) -> Result<Vec<f64>, SynthError> {
    let perr = |key: &str, message: String| SynthError::Prevalence {
        iso3: settings.iso3.clone(),
        key: key.to_string(),
        message,
    };
    let yes = labels.iter().position(|l| l == "yes");
    if let Some(p) = settings.prevalence.get(field) {
        let yes = yes.ok_or_else(|| {
            perr(
                field,
                "the column has no `yes` category; use [synth.distribution]".into(),
            )
        })?;
        if !(0.0..=1.0).contains(p) {
            return Err(perr(field, format!("{p} is not a share in [0, 1]")));
        }
        if settings.distribution.contains_key(field) {
            return Err(perr(
                field,
                "given in both [synth.prevalence] and [synth.distribution]; keep one".into(),
            ));
        }
        let rest = (1.0 - p) / (labels.len() - 1).max(1) as f64;
        return Ok(labels
            .iter()
            .enumerate()
            .map(|(i, _)| if i == yes { *p } else { rest })
            .collect());
    }
    if let Some(d) = settings.distribution.get(field) {
        let mut shares = vec![0.0; labels.len()];
        for (label, share) in d {
            let i = labels.iter().position(|l| l == label).ok_or_else(|| {
                perr(
                    field,
                    format!(
                        "`{label}` is not a category of `{field}` (categories: {})",
                        labels.join(", ")
                    ),
                )
            })?;
            if !(share.is_finite() && *share >= 0.0) {
                return Err(perr(field, format!("share of `{label}` is {share}")));
            }
            shares[i] = *share;
        }
        let sum: f64 = shares.iter().sum();
        if (sum - 1.0).abs() > 0.01 {
            return Err(perr(field, format!("shares sum to {sum}, not 1")));
        }
        return Ok(shares.iter().map(|s| s / sum).collect());
    }
    if yes.is_some() && labels.len() == 2 {
        return Ok(vec![0.5, 0.5]);
    }
    let raw: Vec<f64> = (0..labels.len()).map(|i| 0.6f64.powi(i as i32)).collect();
    let sum: f64 = raw.iter().sum();
    Ok(raw.iter().map(|r| r / sum).collect())
}

/// Cut points for a standard logistic latent (used until calibration replaces them).
fn initial_thresholds(shares: &[f64]) -> Vec<f64> {
    let mut cum = 0.0;
    shares[..shares.len().saturating_sub(1)]
        .iter()
        .map(|s| {
            cum += s;
            rng::logit(cum.clamp(1e-9, 1.0 - 1e-9))
        })
        .collect()
}

/// Checks that every `prevalence` / `distribution` key names a coded column of one of the generated tables.
pub fn check_targets(settings: &Settings, plans: &[TablePlan]) -> Result<(), SynthError> {
    let known: BTreeMap<&str, &FieldPlan> = plans
        .iter()
        .flat_map(|p| p.fields.iter())
        .map(|f| (f.name.as_str(), f))
        .collect();
    for key in settings
        .prevalence
        .keys()
        .chain(settings.distribution.keys())
    {
        match known.get(key.as_str()) {
            Some(f) if matches!(f.generator, Gen::Categorical(_)) => {}
            _ => {
                return Err(SynthError::Prevalence {
                    iso3: settings.iso3.clone(),
                    key: key.clone(),
                    message: "not a coded item column of the harmonised schemas".into(),
                });
            }
        }
    }
    Ok(())
}
