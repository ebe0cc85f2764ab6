//! Indicators of the other data families (frontline-worker survey, interviews, law enforcement): the catalogue
//! `pipelines/families.toml` ([`catalogue`]), the per-interview theme table ([`themes`]), unweighted statistics
//! with Wilson intervals and small-count disclosure control ([`disclosure`]), complementary suppression across
//! breakdowns and indicators ([`protect`]), the country constants of the
//! catalogue ([`reference_years`]) and the rows per country ([`estimate`]), which the indicator stage appends to the survey estimates.

pub mod catalogue;
pub mod disclosure;
pub mod estimate;
pub mod protect;
pub mod reference_years;
pub mod themes;

pub use catalogue::{
    FamilyCatalogue, FamilyIndicator, FamilyStatistic, load_family_catalogue,
    parse_family_catalogue,
};
pub use estimate::{FamilyError, family_indicators};
