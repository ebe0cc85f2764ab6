//! What must agree before shards are merged, each difference named: the definitions of the whole run (tool version
//! and commit, pseudonym-key fingerprint, schema and `pipelines/` files) and, per country, its configuration files
//! and (with `--raw-dir`) its deliveries; and which shard each country comes from (exactly one, or several that
//! hold the same record of it, as when `OUT` is a shard that already holds the result of the same merge).

use std::collections::BTreeMap;

use crate::manifest::{HashedFile, Manifest};

/// Every way the definitions recorded in `shard` differ from `merge`'s (empty when they agree). `key_reference`
/// says where the merge's key fingerprint comes from (for the message).
pub fn definition_differences(
    merge: &Manifest,
    shard: &Manifest,
    key_reference: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    let tool = |t: &crate::manifest::ToolInfo| {
        format!(
            "{} {} (commit {})",
            t.name,
            t.version,
            t.git_commit.as_deref().unwrap_or("unknown")
        )
    };
    if shard.tool != merge.tool {
        out.push(format!(
            "tool version: made by {}, this is {}",
            tool(&shard.tool),
            tool(&merge.tool)
        ));
    }
    if shard.pseudonym_key_fingerprint != merge.pseudonym_key_fingerprint {
        out.push(format!(
            "pseudonym key: fingerprint {}, {key_reference} has {}",
            shard.pseudonym_key_fingerprint, merge.pseudonym_key_fingerprint
        ));
    }
    out.extend(file_differences(
        "schema",
        &shard.schemas,
        &merge.schemas,
        |_| true,
    ));
    let pipelines = |f: &HashedFile| f.path.starts_with("pipelines/");
    out.extend(file_differences(
        "file",
        &shard.configs,
        &merge.configs,
        pipelines,
    ));
    out
}

/// Files (among those `which` selects) whose hash differs or that only one side lists, by path.
fn file_differences(
    what: &str,
    shard: &[HashedFile],
    merge: &[HashedFile],
    which: impl Fn(&HashedFile) -> bool,
) -> Vec<String> {
    let map = |files: &[HashedFile]| -> BTreeMap<String, String> {
        files
            .iter()
            .filter(|f| which(f))
            .map(|f| (f.path.clone(), f.sha256.clone()))
            .collect()
    };
    let (shard, merge) = (map(shard), map(merge));
    let mut out = Vec::new();
    for (path, sha) in &merge {
        match shard.get(path) {
            Some(other) if other == sha => {}
            Some(_) => out.push(format!("{what} {path} differs")),
            None => out.push(format!("{what} {path} is not in the shard")),
        }
    }
    for path in shard.keys().filter(|p| !merge.contains_key(*p)) {
        out.push(format!("{what} {path} is only in the shard"));
    }
    out
}

/// Files of one country's configuration (paths relative to the config folder) whose hash in `shard` differs from
/// `current` (path, sha256), by path.
pub fn config_differences(shard: &Manifest, current: &[HashedFile]) -> Vec<String> {
    current
        .iter()
        .filter(|f| {
            !shard
                .configs
                .iter()
                .any(|s| s.path == f.path && s.sha256 == f.sha256)
        })
        .map(|f| f.path.clone())
        .collect()
}

/// Everything a manifest records of one country: status, stage keys, inputs with their ledger, outputs with their
/// hashes, weight diagnostics and routing findings. Two shards with equal records hold the same outputs of that
/// country, computed from the same deliveries, configuration and definitions.
#[derive(Debug, PartialEq)]
struct CountryRecord<'a> {
    entries: Vec<&'a crate::manifest::CountryEntry>,
    stages: Vec<&'a crate::manifest::StageEntry>,
    inputs: Vec<&'a crate::manifest::InputEntry>,
    outputs: Vec<&'a crate::manifest::OutputEntry>,
    weighting: Vec<&'a crate::manifest::WeightingEntry>,
    consistency: Vec<&'a crate::manifest::ConsistencyEntry>,
}

impl<'a> CountryRecord<'a> {
    fn of(manifest: &'a Manifest, iso3: &str) -> Self {
        Self {
            entries: manifest
                .countries
                .iter()
                .filter(|c| c.country == iso3)
                .collect(),
            stages: manifest
                .stages
                .iter()
                .filter(|s| s.country == iso3)
                .collect(),
            inputs: manifest
                .inputs
                .iter()
                .filter(|i| i.country == iso3)
                .collect(),
            outputs: manifest
                .outputs
                .iter()
                .filter(|o| o.country == iso3)
                .collect(),
            weighting: manifest
                .weighting
                .iter()
                .filter(|w| w.country == iso3)
                .collect(),
            consistency: manifest
                .consistency
                .iter()
                .filter(|c| c.country == iso3)
                .collect(),
        }
    }
}

/// Which shard (index) each country comes from: every country of `wanted` from exactly one shard, or from the first
/// of several shards whose manifests record the same country (same status, stage keys, inputs, output hashes and
/// diagnostics: e.g. a merge repeated into an `OUT` that is one of its shards, or one completed after it was
/// interrupted). `Err` names a country held by two shards that differ (the country and both indexes), or lists the
/// countries no shard holds.
pub fn assign(
    wanted: &[String],
    shards: &[&Manifest],
) -> Result<BTreeMap<String, usize>, Assignment> {
    let mut from = BTreeMap::new();
    let mut missing = Vec::new();
    for code in wanted {
        let holders: Vec<usize> = shards
            .iter()
            .enumerate()
            .filter(|(_, m)| m.countries.iter().any(|c| &c.country == code))
            .map(|(i, _)| i)
            .collect();
        let Some(&first) = holders.first() else {
            missing.push(code.clone());
            continue;
        };
        let record = CountryRecord::of(shards[first], code);
        if let Some(&second) = holders[1..]
            .iter()
            .find(|&&i| CountryRecord::of(shards[i], code) != record)
        {
            return Err(Assignment::Twice {
                country: code.clone(),
                first,
                second,
            });
        }
        from.insert(code.clone(), first);
    }
    if !missing.is_empty() {
        return Err(Assignment::Missing(missing));
    }
    Ok(from)
}

/// Why countries cannot be assigned to shards.
#[derive(Debug, PartialEq, Eq)]
pub enum Assignment {
    Twice {
        country: String,
        first: usize,
        second: usize,
    },
    Missing(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{CountryEntry, CountryStatus, ToolInfo};

    fn file(path: &str, sha: &str) -> HashedFile {
        HashedFile {
            path: path.into(),
            sha256: sha.into(),
        }
    }

    fn manifest(countries: &[&str]) -> Manifest {
        Manifest {
            tool: ToolInfo {
                name: "dh".into(),
                version: "0.2.0".into(),
                git_commit: Some("abc".into()),
            },
            pseudonym_key_fingerprint: "k1".into(),
            schemas: vec![file("child_survey.json", "s1")],
            configs: vec![
                file("THA.toml", "c1"),
                file("_defaults.toml", "d1"),
                file("pipelines/pipeline.toml", "p1"),
            ],
            countries: countries
                .iter()
                .map(|c| CountryEntry {
                    country: c.to_string(),
                    status: CountryStatus::Ok,
                    error: None,
                    not_delivered: Vec::new(),
                    stale_from: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn equal_definitions_have_no_difference_and_country_files_do_not_count() {
        let merge = manifest(&["THA"]);
        let mut shard = manifest(&["KEN"]);
        shard.configs[0] = file("KEN.toml", "c2");
        assert!(definition_differences(&merge, &shard, "the first shard").is_empty());
    }

    #[test]
    fn each_difference_is_named() {
        let merge = manifest(&[]);
        let mut shard = manifest(&[]);
        shard.tool.version = "0.1.0".into();
        shard.pseudonym_key_fingerprint = "k2".into();
        shard.schemas = vec![file("child_survey.json", "s2"), file("extra.json", "x")];
        shard.configs.retain(|f| !f.path.starts_with("pipelines/"));
        let found = definition_differences(&merge, &shard, "--key-file");
        assert_eq!(
            found,
            vec![
                "tool version: made by dh 0.1.0 (commit abc), this is dh 0.2.0 (commit abc)"
                    .to_string(),
                "pseudonym key: fingerprint k2, --key-file has k1".to_string(),
                "schema child_survey.json differs".to_string(),
                "schema extra.json is only in the shard".to_string(),
                "file pipelines/pipeline.toml is not in the shard".to_string(),
            ]
        );
    }

    #[test]
    fn a_changed_country_file_is_named() {
        let shard = manifest(&["THA"]);
        let current = [file("THA.toml", "c1"), file("_defaults.toml", "d2")];
        assert_eq!(config_differences(&shard, &current), vec!["_defaults.toml"]);
        assert!(config_differences(&shard, &current[..1]).is_empty());
    }

    #[test]
    fn every_country_comes_from_exactly_one_shard() {
        let a = manifest(&["KEN", "THA"]);
        let b = manifest(&["UGA"]);
        let mut c = manifest(&["THA"]);
        let wanted: Vec<String> = ["KEN", "THA", "UGA"].map(String::from).to_vec();
        let from = assign(&wanted, &[&a, &b]).unwrap();
        assert_eq!(from["THA"], 0);
        assert_eq!(from["UGA"], 1);
        // the same record of THA in two shards (a merge repeated into one of its shards): the first is used
        assert_eq!(assign(&wanted, &[&a, &b, &c]).unwrap()["THA"], 0);
        c.outputs.push(crate::manifest::OutputEntry {
            path: "normalised/child_survey/country=THA/part-0.parquet".into(),
            country: "THA".into(),
            table: "child_survey".into(),
            kind: "normalised".into(),
            rows: 10,
            bytes: 100,
            sha256: "other".into(),
        });
        assert_eq!(
            assign(&wanted, &[&a, &b, &c]),
            Err(Assignment::Twice {
                country: "THA".into(),
                first: 0,
                second: 2
            })
        );
        assert_eq!(
            assign(&wanted, &[&a]),
            Err(Assignment::Missing(vec!["UGA".into()]))
        );
    }
}
