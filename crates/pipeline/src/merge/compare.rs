//! What must agree before shards are merged, each difference named: the definitions of the whole run (tool version
//! and commit, pseudonym-key fingerprint, schema and `pipelines/` files) and, per country, its configuration files
//! and (with `--raw-dir`) its deliveries; and which shard each country comes from (exactly one).

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

/// Which shard (index) each country comes from: every country of `wanted` from exactly one shard. `Err` names a
/// country held by two shards (the country and both indexes), or lists the countries no shard holds.
pub fn assign(
    wanted: &[String],
    shards: &[&Manifest],
) -> Result<BTreeMap<String, usize>, Assignment> {
    let mut from = BTreeMap::new();
    let mut missing = Vec::new();
    for code in wanted {
        let mut holders = shards
            .iter()
            .enumerate()
            .filter(|(_, m)| m.countries.iter().any(|c| &c.country == code))
            .map(|(i, _)| i);
        match (holders.next(), holders.next()) {
            (Some(first), Some(second)) => {
                return Err(Assignment::Twice {
                    country: code.clone(),
                    first,
                    second,
                });
            }
            (Some(only), None) => {
                from.insert(code.clone(), only);
            }
            (None, _) => missing.push(code.clone()),
        }
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
        let c = manifest(&["THA"]);
        let wanted: Vec<String> = ["KEN", "THA", "UGA"].map(String::from).to_vec();
        let from = assign(&wanted, &[&a, &b]).unwrap();
        assert_eq!(from["THA"], 0);
        assert_eq!(from["UGA"], 1);
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
