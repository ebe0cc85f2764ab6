//! Checks of `[synth]`: regions, prevalence targets on yes/no items, category distributions, and the headline
//! composite target `settings.clear_examples_any` against its items' prevalences.

use std::collections::BTreeSet;

use crate::country::CountryConfig;
use crate::diagnostic::Diagnostic;
use crate::schema::{Field, SchemaSet};
use crate::suggest::did_you_mean;

/// Items of the headline composite when `settings.headline_items` is not set.
const DEFAULT_HEADLINE_ITEMS: [&str; 4] = [
    "offered_money_images",
    "offered_money_meet",
    "threatened_sexual",
    "images_shared",
];
/// Tolerance on distribution shares summing to 1.
const SUM_TOLERANCE: f64 = 1e-6;

pub(super) fn check(config: &CountryConfig, schemas: &SchemaSet, out: &mut Vec<Diagnostic>) {
    let Some(synth) = &config.synth else { return };
    let loc = &config.locations;
    let mut regions = BTreeSet::new();
    for (i, r) in synth.regions.iter().enumerate() {
        if r.trim().is_empty() || !regions.insert(r.as_str()) {
            out.push(loc.error(
                &["synth", "regions", &i.to_string()],
                format!("region `{r}` is empty or listed twice"),
            ));
        }
    }
    if synth.sample_children == Some(0) {
        out.push(loc.error(
            &["synth", "sample_children"],
            "sample_children must be at least 1",
        ));
    }
    let all_fields = || schemas.tables.values().flat_map(|t| t.fields.iter());
    let find = |name: &str| -> Result<&Field, String> {
        let hits: Vec<(&String, &Field)> = schemas
            .tables
            .iter()
            .filter_map(|(t, s)| s.field(name).map(|f| (t, f)))
            .collect();
        match hits.as_slice() {
            [(_, f)] => Ok(*f),
            [] => Err(format!(
                "unknown harmonised column `{name}`{}",
                did_you_mean(name, all_fields().map(|f| f.name.as_str()))
            )),
            _ => Err(format!(
                "`{name}` exists in several tables; synth targets need a name unique across tables"
            )),
        }
    };
    for (name, p) in &synth.prevalence {
        let at = ["synth", "prevalence", name.as_str()];
        match find(name) {
            Err(m) => out.push(loc.error(&at, m)),
            Ok(f) if f.category_by_label("yes").is_none() => out.push(loc.error(
                &at,
                format!("`{name}` is not a yes/no item; give its category shares in [synth.distribution] instead"),
            )),
            Ok(_) => {}
        }
        if !(0.0..=1.0).contains(p) {
            out.push(loc.error(
                &at,
                format!("{p} is not a proportion; use a value in [0, 1] (7% = 0.07)"),
            ));
        }
    }
    for (name, shares) in &synth.distribution {
        let at = ["synth", "distribution", name.as_str()];
        let field = match find(name) {
            Err(m) => {
                out.push(loc.error(&at, m));
                continue;
            }
            Ok(f) => f,
        };
        let Some(categories) = &field.categories else {
            out.push(loc.error(
                &at,
                format!("`{name}` has no categories; a distribution needs a coded item"),
            ));
            continue;
        };
        let labels: Vec<&str> = categories.iter().map(|c| c.label.as_str()).collect();
        let mut sum = 0.0;
        for (label, share) in shares {
            if !labels.contains(&label.as_str()) {
                out.push(loc.error(
                    &["synth", "distribution", name, label],
                    format!(
                        "`{label}` is not a category of `{name}`{}; allowed: {}",
                        did_you_mean(label, labels.iter().copied()),
                        labels.join(", ")
                    ),
                ));
            }
            if !(0.0..=1.0).contains(share) {
                out.push(loc.error(
                    &["synth", "distribution", name, label],
                    "a share must lie in [0, 1]",
                ));
            }
            sum += share;
        }
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            out.push(loc.error(
                &at,
                format!("shares add up to {sum} instead of 1; adjust them"),
            ));
        }
    }
    check_headline(config, out);
}

fn check_headline(config: &CountryConfig, out: &mut Vec<Diagnostic>) {
    let Some(synth) = &config.synth else { return };
    let loc = &config.locations;
    let Some(any) = synth.settings.get("clear_examples_any") else {
        return;
    };
    let at = ["synth", "settings", "clear_examples_any"];
    let Some(any) = any
        .as_float()
        .or_else(|| any.as_integer().map(|i| i as f64))
    else {
        out.push(loc.error(&at, "must be a number in (0, 1)"));
        return;
    };
    let items: Vec<String> = match synth
        .settings
        .get("headline_items")
        .and_then(|v| v.as_array())
    {
        Some(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        None => DEFAULT_HEADLINE_ITEMS
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    let ps: Vec<f64> = items
        .iter()
        .filter_map(|i| synth.prevalence.get(i).copied())
        .collect();
    if ps.len() != items.len() {
        out.push(loc.error(
            &at,
            format!(
                "every headline item ({}) needs a [synth.prevalence] target",
                items.join(", ")
            ),
        ));
        return;
    }
    let max = ps.iter().copied().fold(0.0, f64::max);
    let sum: f64 = ps.iter().sum::<f64>().min(1.0);
    if any < max - 1e-12 || any > sum + 1e-12 {
        out.push(loc.error(
            &at,
            format!("{any} is impossible: the share with any of the headline items must lie between the largest item prevalence ({max}) and their sum ({sum:.4})"),
        ));
    }
}
