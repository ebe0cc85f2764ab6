//! Which of a country's configured tables were delivered (`delivered = false` marks a table the country did not
//! deliver at all) and which delivered files are missing. An undelivered table is never read, hashed, normalised
//! or written: it has no normalised part and no ledger row, the manifest lists it under the country's
//! `not_delivered`, and its indicators are flagged `not_collected`. A delivered table whose file is missing fails
//! the country (`dh run`) or is listed with every other missing file (`dh validate`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use dh_config::{CountryConfig, Delivery};

use crate::country::delivery_path;

/// The tables the country delivered, with their deliveries (config order).
pub fn delivered(config: &CountryConfig) -> impl Iterator<Item = (&String, &Delivery)> {
    config.deliveries.iter().filter(|(_, d)| d.delivered)
}

/// The configured tables marked `delivered = false`, sorted.
pub fn not_delivered(config: &CountryConfig) -> Vec<String> {
    config
        .deliveries
        .iter()
        .filter(|(_, d)| !d.delivered)
        .map(|(t, _)| t.clone())
        .collect()
}

/// The configuration restricted to the delivered tables (borrowed when every table was delivered): what reading
/// and normalisation see, so an undelivered table is absent from the country's outputs.
pub fn delivered_config(config: &CountryConfig) -> Cow<'_, CountryConfig> {
    if config.deliveries.values().all(|d| d.delivered) {
        return Cow::Borrowed(config);
    }
    let mut only = config.clone();
    only.deliveries.retain(|_, d| d.delivered);
    Cow::Owned(only)
}

/// Delivered tables whose file does not exist (or is not a file): table and path, in table order.
pub fn missing_files(config: &CountryConfig, raw_dir: &Path) -> Vec<(String, PathBuf)> {
    let iso3 = config.country.iso3.as_str();
    delivered(config)
        .map(|(table, d)| (table.clone(), delivery_path(raw_dir, iso3, &d.file)))
        .filter(|(_, path)| !path.is_file())
        .collect()
}

/// One message naming every missing file of a country and what to do.
pub fn missing_files_message(missing: &[(String, PathBuf)]) -> String {
    let list: Vec<String> = missing
        .iter()
        .map(|(table, path)| format!("{} (table `{table}`)", path.display()))
        .collect();
    format!(
        "{} delivery file{} not found: {}; put the file{} there, fix `file` in the country config, or set \
         `delivered = false` for a table the country did not deliver",
        missing.len(),
        if missing.len() == 1 { "" } else { "s" },
        list.join(", "),
        if missing.len() == 1 { "" } else { "s" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CountryConfig {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../countries");
        dh_config::load_country(&dir, "THA").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn undelivered_tables_are_left_out_and_listed() {
        let mut c = config();
        assert!(matches!(delivered_config(&c), Cow::Borrowed(_)));
        assert!(not_delivered(&c).is_empty());
        for t in ["police_cases", "icse_connection"] {
            c.deliveries
                .get_mut(t)
                .unwrap_or_else(|| panic!("{t}"))
                .delivered = false;
        }
        assert_eq!(not_delivered(&c), ["icse_connection", "police_cases"]);
        let only = delivered_config(&c);
        assert!(!only.deliveries.contains_key("police_cases"));
        assert_eq!(only.deliveries.len(), c.deliveries.len() - 2);
        assert_eq!(delivered(&c).count(), c.deliveries.len() - 2);
    }

    #[test]
    fn every_missing_file_is_listed_but_not_an_undelivered_one() {
        let mut c = config();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let present = c.deliveries["child_survey"].file.clone();
        std::fs::create_dir_all(dir.path().join("THA")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("THA").join(&present), "x")
            .unwrap_or_else(|e| panic!("{e}"));
        c.deliveries
            .get_mut("police_cases")
            .unwrap_or_else(|| panic!("police_cases"))
            .delivered = false;
        let missing = missing_files(&c, dir.path());
        let tables: Vec<&str> = missing.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(tables.len(), c.deliveries.len() - 2, "{tables:?}");
        assert!(!tables.contains(&"child_survey") && !tables.contains(&"police_cases"));
        let message = missing_files_message(&missing);
        assert!(
            message.starts_with(&format!("{} delivery files not found", tables.len()))
                && message.contains("table `caregiver_survey`")
                && message.contains("delivered = false"),
            "{message}"
        );
    }
}
