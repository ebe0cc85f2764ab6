//! The methods page: every indicator's definition in brief and the legend of flags at the run's thresholds.

use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use crate::model::Model;

use super::links::indicator_file;

pub(super) fn methods(model: &Model<'_>) -> minijinja::Value {
    #[derive(Serialize)]
    struct Item {
        href: String,
        id: String,
        version: String,
        statistic: String,
        ci_method: String,
        missing_rule: String,
    }
    let items: Vec<Item> = model
        .indicators
        .iter()
        .map(|id| {
            let d = model.definition(id);
            Item {
                href: indicator_file(id),
                id: id.clone(),
                version: d.map(|d| d.version.clone()).unwrap_or_default(),
                statistic: d.map(|d| d.statistic.clone()).unwrap_or_default(),
                ci_method: d.map(|d| d.ci_method.clone()).unwrap_or_default(),
                missing_rule: d.map(|d| d.missing_rule.clone()).unwrap_or_default(),
            }
        })
        .collect();
    context! { indicators => Serde(items), flags => Serde(flag_legend(model)) }
}

/// One flag as the methods page explains it.
#[derive(Serialize)]
struct FlagView {
    /// The name in the `flag` and `flags` columns.
    code: &'static str,
    /// How the report writes it beside or in place of an estimate.
    shown_as: String,
    meaning: &'static str,
    rule: String,
}

/// Every flag of the registry (`dh_indicators::Flag`), `ok` first, then in precedence order, with its meaning and
/// its rule at the run's thresholds.
fn flag_legend(model: &Model<'_>) -> Vec<FlagView> {
    use dh_indicators::Flag;
    let thresholds = model.context.thresholds();
    crate::model::legend_flags()
        .map(|f| FlagView {
            code: f.as_str(),
            shown_as: match f {
                // Told apart by the base: a small one, or a level withheld to protect another.
                Flag::Suppressed => format!(
                    "{} or {}",
                    model.flag_text(f.as_str()),
                    crate::model::COMPLEMENTARY
                ),
                _ => model.flag_text(f.as_str()),
            },
            meaning: f.meaning(),
            rule: f.rule(&thresholds),
        })
        .collect()
}
