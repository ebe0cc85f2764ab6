//! Which of a country's configured tables were delivered (`delivered = false` marks a table the country did not
//! deliver at all) and which delivered files are missing or unusable: only regular files inside the raw folder are read
//! (a FIFO, a device, a directory, or a symbolic link whose target leaves the raw folder fail their country, unless
//! [`ALLOW_LINKS_OUTSIDE_ENV`] allows such links). An undelivered table is never read, hashed, normalised
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

/// Environment variable that, set to `1`, lets a delivery be a symbolic link whose target lies outside the raw
/// folder (e.g. a raw folder of links into an agency's share). Unset, such a link fails its country.
pub const ALLOW_LINKS_OUTSIDE_ENV: &str = "DH_ALLOW_LINKS_OUTSIDE_RAW";

/// Why a delivered table's file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// Nothing at the path (or a link to nothing).
    Missing,
    /// Not a regular file: a FIFO, a device, a socket or a directory (named).
    NotRegular(&'static str),
    /// A link (or `..` in `file`) whose target lies outside the raw folder, not allowed by
    /// [`ALLOW_LINKS_OUTSIDE_ENV`].
    OutsideRaw,
}

/// A delivered table whose file cannot be read, found from the file's metadata without opening it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusableFile {
    pub table: String,
    pub path: PathBuf,
    pub problem: FileProblem,
}

impl UnusableFile {
    /// What is wrong with the file and what to do, without the path.
    pub fn describe(&self) -> String {
        match self.problem {
            FileProblem::Missing => format!(
                "file of table `{}` not found; put it there, fix `file` in the country config, or set \
                 `delivered = false` if the country did not deliver this table",
                self.table
            ),
            FileProblem::NotRegular(kind) => format!(
                "file of table `{}` is a {kind}, not a regular file; dh reads only regular files: put the delivery \
                 itself there",
                self.table
            ),
            FileProblem::OutsideRaw => format!(
                "file of table `{}` resolves to a place outside the raw folder (a symbolic link or `..`); copy the \
                 delivery into the raw folder, or set {ALLOW_LINKS_OUTSIDE_ENV}=1 to follow such links",
                self.table
            ),
        }
    }
}

/// Whether links leaving the raw folder are followed ([`ALLOW_LINKS_OUTSIDE_ENV`] is `1`).
pub fn links_outside_allowed() -> bool {
    std::env::var(ALLOW_LINKS_OUTSIDE_ENV).is_ok_and(|v| v.trim() == "1")
}

/// Delivered files (every part of a multi-file delivery) that are missing, are not a regular file (a FIFO, a device such as `/dev/zero` behind a
/// link, a directory) or, unless `allow_outside`, resolves outside `raw_dir`: table, path and problem, in table
/// order. Only metadata is read, so a FIFO is never opened.
pub fn unusable_files(
    config: &CountryConfig,
    raw_dir: &Path,
    allow_outside: bool,
) -> Vec<UnusableFile> {
    let iso3 = config.country.iso3.as_str();
    delivered(config)
        .flat_map(|(table, d)| d.file_names().into_iter().map(move |f| (table, f)))
        .filter_map(|(table, file)| {
            let path = delivery_path(raw_dir, iso3, file);
            let problem = match std::fs::metadata(&path) {
                Err(_) => FileProblem::Missing,
                Ok(meta) if !meta.is_file() => {
                    FileProblem::NotRegular(dh_ingest::source::kind_of(&meta))
                }
                Ok(_) if allow_outside => return None,
                Ok(_) => match dh_ingest::source::resolves_inside(&path, raw_dir) {
                    Ok(true) => return None,
                    Ok(false) => FileProblem::OutsideRaw,
                    Err(_) => FileProblem::Missing,
                },
            };
            Some(UnusableFile {
                table: table.clone(),
                path,
                problem,
            })
        })
        .collect()
}

/// [`unusable_files`] with the link policy of the environment ([`links_outside_allowed`]).
pub fn missing_files(config: &CountryConfig, raw_dir: &Path) -> Vec<UnusableFile> {
    unusable_files(config, raw_dir, links_outside_allowed())
}

/// One message naming every unusable file of a country and what to do.
pub fn missing_files_message(missing: &[UnusableFile]) -> String {
    let list: Vec<String> = missing
        .iter()
        .map(|f| format!("{}: {}", f.path.display(), f.describe()))
        .collect();
    format!(
        "{} delivery file{} cannot be read: {}",
        missing.len(),
        if missing.len() == 1 { "" } else { "s" },
        list.join("; "),
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
        let missing = unusable_files(&c, dir.path(), false);
        let tables: Vec<&str> = missing.iter().map(|f| f.table.as_str()).collect();
        // One line per missing file: every delivered table's files but child_survey's (a table in parts has several).
        let files: usize = c
            .deliveries
            .iter()
            .filter(|(t, d)| d.delivered && t.as_str() != "child_survey")
            .map(|(_, d)| d.file_names().len())
            .sum();
        assert_eq!(tables.len(), files, "{tables:?}");
        assert!(!tables.contains(&"child_survey") && !tables.contains(&"police_cases"));
        assert!(missing.iter().all(|f| f.problem == FileProblem::Missing));
        let message = missing_files_message(&missing);
        assert!(
            message.starts_with(&format!("{} delivery files cannot be read", tables.len()))
                && message.contains("table `caregiver_survey` not found")
                && message.contains("delivered = false"),
            "{message}"
        );
    }

    #[test]
    fn every_file_of_a_delivery_in_parts_is_checked_and_hashed() {
        let mut c = config();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let tha = dir.path().join("THA");
        std::fs::create_dir_all(&tha).unwrap_or_else(|e| panic!("{e}"));
        for d in c.deliveries.values() {
            for file in d.file_names() {
                std::fs::write(tha.join(file), "x").unwrap_or_else(|e| panic!("{e}"));
            }
        }
        let police = c
            .deliveries
            .get_mut("police_cases")
            .unwrap_or_else(|| panic!("police_cases"));
        for file in ["org_a.csv", "org_b.xlsx"] {
            police.parts.push(dh_config::country::DeliveryPart {
                file: file.into(),
                ..Default::default()
            });
        }
        std::fs::write(tha.join("org_a.csv"), "a").unwrap_or_else(|e| panic!("{e}"));
        let missing = unusable_files(&c, dir.path(), false);
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0].table, "police_cases");
        assert!(missing[0].path.ends_with("THA/org_b.xlsx"));
        std::fs::write(tha.join("org_b.xlsx"), "b").unwrap_or_else(|e| panic!("{e}"));
        assert!(unusable_files(&c, dir.path(), false).is_empty());
        let (_, hashes) =
            crate::incremental::inputs_hash(&c, dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(hashes.contains_key("THA/org_a.csv") && hashes.contains_key("THA/org_b.xlsx"));
        let police_file = c.deliveries["police_cases"].file.clone();
        assert!(
            !hashes.contains_key(&format!("THA/{police_file}")),
            "{hashes:?}"
        );
    }

    /// A FIFO, a link to `/dev/zero` and a link to `/etc/passwd` are found from metadata (the FIFO is never opened,
    /// so this returns at once); a link inside the raw folder is fine, and the outside link only when allowed.
    #[cfg(unix)]
    #[test]
    fn special_files_and_links_leaving_the_raw_folder_are_unusable() {
        let c = config();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let tha = dir.path().join("THA");
        std::fs::create_dir_all(&tha).unwrap_or_else(|e| panic!("{e}"));
        let real = tha.join("real.bin");
        std::fs::write(&real, "x").unwrap_or_else(|e| panic!("{e}"));
        let file = |t: &str| tha.join(&c.deliveries[t].file);
        let ok = |r: std::io::Result<()>| r.unwrap_or_else(|e| panic!("{e}"));
        let status = std::process::Command::new("mkfifo")
            .arg(file("child_survey"))
            .status()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(status.success());
        ok(std::os::unix::fs::symlink(
            "/dev/zero",
            file("caregiver_survey"),
        ));
        ok(std::os::unix::fs::symlink(
            "/etc/passwd",
            file("frontline_survey"),
        ));
        ok(std::os::unix::fs::symlink(&real, file("police_cases")));
        let found = |allow: bool| -> Vec<(String, FileProblem)> {
            unusable_files(&c, dir.path(), allow)
                .into_iter()
                .filter(|f| f.problem != FileProblem::Missing)
                .map(|f| (f.table, f.problem))
                .collect()
        };
        let mut strict = found(false);
        strict.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            strict,
            vec![
                (
                    "caregiver_survey".to_string(),
                    FileProblem::NotRegular("character device")
                ),
                (
                    "child_survey".to_string(),
                    FileProblem::NotRegular("named pipe (FIFO)")
                ),
                ("frontline_survey".to_string(), FileProblem::OutsideRaw),
            ]
        );
        assert_eq!(found(true).len(), 2, "{:?}", found(true));
        let message = missing_files_message(&unusable_files(&c, dir.path(), false));
        assert!(
            message.contains("named pipe") && message.contains(ALLOW_LINKS_OUTSIDE_ENV),
            "{message}"
        );
        assert!(!message.contains("root:"), "{message}");
    }
}
