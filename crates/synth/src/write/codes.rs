//! The inverse of a country's column mapping, as every generator writes it: the source code of a harmonised label
//! ([`inverse`]) and the codes and value labels a column's file carries ([`SourceCodes`]; a `"label:Yes"` key gets
//! the smallest positive integer code the column does not use otherwise).

use std::collections::{BTreeMap, BTreeSet};

use dh_config::ColumnMap;
use dh_config::country::label_key;

use super::table;

/// Source codes of one column as written: plain keys as they are, `label:<text>` keys replaced by the smallest
/// positive integer the column does not use, with the value labels the file should carry.
pub(crate) struct SourceCodes {
    taken: BTreeSet<String>,
    pub(crate) labels: Vec<(String, String)>,
}

impl SourceCodes {
    pub(crate) fn new(map: &ColumnMap) -> Self {
        SourceCodes {
            taken: map
                .codes
                .keys()
                .chain(map.missing.keys())
                .filter(|k| label_key(k).is_none())
                .cloned()
                .collect(),
            labels: Vec::new(),
        }
    }

    /// The code written for config key `key`, which maps to harmonised `label`.
    pub(crate) fn resolve(&mut self, key: &str, label: &str) -> String {
        let (code, human) = match label_key(key) {
            Some(text) => {
                let code = (1u32..)
                    .map(|n| n.to_string())
                    .find(|c| !self.taken.contains(c))
                    .unwrap_or_default();
                self.taken.insert(code.clone());
                (code, text.to_string())
            }
            None => (key.to_string(), table::human_label(label)),
        };
        if !code.is_empty() && !self.labels.iter().any(|(c, _)| *c == code) {
            self.labels.push((code.clone(), human));
        }
        code
    }
}

/// The first source code (sorted) mapped to `label`.
pub(crate) fn inverse(map: &BTreeMap<String, String>, label: &str) -> Option<String> {
    map.iter()
        .find(|(_, l)| l.as_str() == label)
        .map(|(code, _)| code.clone())
}
