//! `truth.json`: the finite-population value of every coded harmonised column, per country, for tests and
//! coverage studies. Keys are sorted (structs declare their fields alphabetically; maps are `BTreeMap`s) and
//! numbers are written by `serde_json`, so the bytes are deterministic.
//!
//! Shape:
//! ```text
//! { "countries": { "<ISO3>": {
//!       "composites": { "ocsea_clear_any": { "count": 13623, "items": [..4 columns..], "proportion": 0.0892,
//!                                            "target": 0.09, "universe_size": 152722 } },
//!       "population_size": 152722,
//!       "tables": { "<table>": { "<column>": {
//!             "collected": true,                       // false when the country's config says not_collected
//!             "counts": { "<label>": n, .. },          // categories and missing labels (dont_know, refused)
//!             "proportions": { "<label>": p, .. },     // counts / universe_size
//!             "targets": { "<label>": share, .. },     // configured category shares among respondents
//!             "universe": "<expression>", "universe_size": n } } } } },
//!   "generator": "dh-synth <version>", "scale": 1.0, "seed": 1 }
//! ```
//! The universe of a column is its schema universe; children outside it (not_applicable) are not counted.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::cell::Cell;
use crate::items::{Gen, TablePlan};
use crate::settings::Settings;

/// Name of the headline composite in `truth.json`.
pub const HEADLINE_COMPOSITE: &str = "ocsea_clear_any";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Truth {
    pub countries: BTreeMap<String, CountryTruth>,
    pub generator: String,
    pub scale: f64,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CountryTruth {
    pub composites: BTreeMap<String, CompositeTruth>,
    pub population_size: u64,
    pub tables: BTreeMap<String, BTreeMap<String, ItemTruth>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CompositeTruth {
    pub count: u64,
    pub items: Vec<String>,
    pub proportion: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    pub universe_size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ItemTruth {
    pub collected: bool,
    pub counts: BTreeMap<String, u64>,
    pub proportions: BTreeMap<String, f64>,
    pub targets: BTreeMap<String, f64>,
    pub universe: String,
    pub universe_size: u64,
}

/// Accumulates counts over the population, one child (all tables) at a time.
pub(crate) struct TruthCounter {
    /// Per table, per column: counts per category then per missing label; `None` for uncoded columns.
    counts: Vec<Vec<Option<Vec<u64>>>>,
    universe: Vec<Vec<u64>>,
    headline: Vec<usize>,
    headline_count: u64,
    headline_target: Option<f64>,
    headline_names: Vec<String>,
    children: u64,
    collected: Vec<Vec<bool>>,
    /// Per table, per column: number of categories (missing labels are counted after them).
    categories: Vec<Vec<usize>>,
    /// Per table: index of `not_applicable` among its missing labels.
    not_applicable: Vec<Option<u8>>,
}

impl TruthCounter {
    pub(crate) fn new(
        plans: &[TablePlan],
        headline: &[usize],
        settings: &Settings,
        not_collected: &BTreeSet<(String, String)>,
    ) -> TruthCounter {
        TruthCounter {
            counts: plans
                .iter()
                .map(|p| {
                    p.fields
                        .iter()
                        .map(|f| {
                            (!f.labels.is_empty())
                                .then(|| vec![0; f.labels.len() + p.missing_labels.len()])
                        })
                        .collect()
                })
                .collect(),
            universe: plans.iter().map(|p| vec![0; p.fields.len()]).collect(),
            headline: headline.to_vec(),
            headline_count: 0,
            headline_target: settings.clear_examples_any,
            headline_names: headline
                .iter()
                .filter_map(|&j| plans.first().map(|p| p.fields[j].name.clone()))
                .collect(),
            children: 0,
            collected: plans
                .iter()
                .map(|p| {
                    p.fields
                        .iter()
                        .map(|f| !not_collected.contains(&(p.name.clone(), f.name.clone())))
                        .collect()
                })
                .collect(),
            categories: plans
                .iter()
                .map(|p| p.fields.iter().map(|f| f.labels.len()).collect())
                .collect(),
            not_applicable: plans
                .iter()
                .map(|p| {
                    p.missing_labels
                        .iter()
                        .position(|l| l == "not_applicable")
                        .map(|i| i as u8)
                })
                .collect(),
        }
    }

    pub(crate) fn add(&mut self, rows: &[Vec<Cell>]) {
        self.children += 1;
        for (t, row) in rows.iter().enumerate() {
            for (j, cell) in row.iter().enumerate() {
                let Some(counts) = &mut self.counts[t][j] else {
                    continue;
                };
                let n_cats = self.categories[t][j];
                match *cell {
                    Cell::Cat(k) => {
                        counts[k as usize] += 1;
                        self.universe[t][j] += 1;
                    }
                    // not_applicable marks "outside the universe" and is not counted.
                    Cell::Missing(m) if self.not_applicable[t] != Some(m) => {
                        counts[n_cats + m as usize] += 1;
                        self.universe[t][j] += 1;
                    }
                    _ => {}
                }
            }
        }
        if let Some(child) = rows.first()
            && self.headline.iter().any(|&j| child[j] == Cell::Cat(0))
        {
            self.headline_count += 1;
        }
    }

    pub(crate) fn finish(self, plans: &[TablePlan]) -> CountryTruth {
        let mut tables = BTreeMap::new();
        for (t, plan) in plans.iter().enumerate() {
            let mut columns = BTreeMap::new();
            for (j, f) in plan.fields.iter().enumerate() {
                let Some(counts) = &self.counts[t][j] else {
                    continue;
                };
                let labels = f.labels.iter().chain(plan.missing_labels.iter());
                let n = self.universe[t][j];
                let mut c = BTreeMap::new();
                let mut p = BTreeMap::new();
                for (label, count) in labels.zip(counts) {
                    if *count > 0 || f.labels.contains(label) {
                        c.insert(label.clone(), *count);
                        if n > 0 {
                            p.insert(label.clone(), *count as f64 / n as f64);
                        }
                    }
                }
                let targets = match &f.generator {
                    Gen::Categorical(cat) => f
                        .labels
                        .iter()
                        .cloned()
                        .zip(cat.shares.iter().copied())
                        .collect(),
                    _ => BTreeMap::new(),
                };
                columns.insert(
                    f.name.clone(),
                    ItemTruth {
                        collected: self.collected[t][j],
                        counts: c,
                        proportions: p,
                        targets,
                        universe: f.universe_text.clone(),
                        universe_size: n,
                    },
                );
            }
            tables.insert(plan.name.clone(), columns);
        }
        let mut composites = BTreeMap::new();
        composites.insert(
            HEADLINE_COMPOSITE.to_string(),
            CompositeTruth {
                count: self.headline_count,
                items: self.headline_names.clone(),
                proportion: if self.children > 0 {
                    self.headline_count as f64 / self.children as f64
                } else {
                    0.0
                },
                target: self.headline_target,
                universe_size: self.children,
            },
        );
        CountryTruth {
            composites,
            population_size: self.children,
            tables,
        }
    }
}
