//! The indicator catalogue (`pipelines/indicators.toml`): reading, validation against the harmonised schemas and
//! the validated [`Indicator`] type the estimation stage uses.
//!
//! Format (see the file itself for the full commented reference):
//!
//! ```toml
//! format_version = 1
//! [defaults]
//! disaggregations = ["sex", "age_band", "urban_rural"]
//! [missing_rules.item_nonresponse_excluded]
//! description = "..."
//! null = "exclude"            # one entry per labelled missing code of the table, plus `null`
//! dont_know = "exclude"       # "exclude" (leaves the denominator) or "no" (counted as no)
//! ...
//! [[indicator]]
//! id = "ocsea_clear_any"
//! label = "..."
//! version = "1.0.0"
//! table = "child_survey"
//! universe = 'true'
//! universe_label = "Internet-using children aged 12-17"
//! numerator = 'any(offered_money_images == "yes", ...)'
//! missing_rule = "item_nonresponse_excluded"
//! missing_rationale = "..."   # why this treatment of missing answers fits what the indicator means (required)
//! statistic = "proportion"    # proportion | mean (with `variable`) | count
//! unit = "hours"              # what the value measures: required for a mean, and for a count of a table whose
//!                             # records crate::units does not name; derived otherwise (proportion, children)
//! ci_method = "logit"         # proportions: logit (default) | korn_graubard; mean and count: wald (a count's
//!                             # published interval is derived from its proportion: see crate::estimate)
//! comparability = "..."
//! [nonresponse.caregiver_survey]   # required for every table estimated on the child design
//! description = "..."
//! classes = ["urban_rural", "age_band"]   # design-table columns crossed into weighting classes
//! min_respondents = 30                     # classes with fewer respondents are pooled
//! ```
//!
//! Every problem is collected (not only the first) and located at file, line, column, indicator and key.
//! `not_collected` must always be `exclude`: a question a country did not ask can never count as "no".
//!
//! Modules: [`types`] holds the validated catalogue ([`Catalogue`], [`Indicator`] and their parts), [`read`] reads
//! the TOML text into its raw form and assembles the catalogue, [`validate`] checks each indicator against the
//! schemas and [`rules`] the missing-code rules and nonresponse sections.

mod read;
mod rules;
mod types;
mod validate;

pub use read::{load_catalogue, parse_catalogue};
pub(crate) use types::indent;
pub use types::{
    Catalogue, CiMethod, Disaggregation, Indicator, Location, MissingRule, NOT_COLLECTED,
    NULL_CAUSE, NonresponseRule, Statistic,
};

#[cfg(test)]
mod tests;
