//! The files of the deliveries: a delivered table names its file with `file` or, delivered as several files, with
//! `[[deliveries.<table>.parts]]` (not both in one file: the defaults' `file` is replaced by a country's parts);
//! each part names its `file`; no file is named twice (by two parts or two tables); a table not delivered has no
//! parts. The per-column checks of each part run in `columns.rs`.

use std::collections::BTreeMap;

use crate::country::CountryConfig;
use crate::diagnostic::Diagnostic;

/// `deliveries.t.parts.2.columns` -> `deliveries.t.parts[2].columns`: a part's index as the file shows it.
pub(super) fn render_part_index(key: &str) -> String {
    let segments: Vec<&str> = key.split('.').collect();
    let mut out = String::with_capacity(key.len());
    for (i, segment) in segments.iter().enumerate() {
        let index = i > 0
            && segments[i - 1] == "parts"
            && !segment.is_empty()
            && segment.bytes().all(|b| b.is_ascii_digit());
        if index {
            out.push_str(&format!("[{segment}]"));
        } else {
            if i > 0 {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

fn error(config: &CountryConfig, path: &[String], message: String) -> Diagnostic {
    let mut d = config.locations.error(path, message);
    d.key = render_part_index(&d.key);
    d
}

pub(super) fn check(config: &CountryConfig, out: &mut Vec<Diagnostic>) {
    let loc = &config.locations;
    // file name -> the key path that named it first
    let mut named: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, delivery) in &config.deliveries {
        let at = |rest: &[&str]| -> Vec<String> {
            ["deliveries", table.as_str()]
                .iter()
                .chain(rest)
                .map(|s| s.to_string())
                .collect()
        };
        if delivery.parts.is_empty() {
            if delivery.delivered && !delivery.file.trim().is_empty() {
                claim(config, &mut named, &delivery.file, at(&["file"]), out);
            }
            continue;
        }
        if !delivery.delivered {
            out.push(error(
                config,
                &at(&["parts"]),
                format!(
                    "`{table}` is marked `delivered = false` but lists the files of its parts; remove the parts, or \
                     remove `delivered = false`"
                ),
            ));
            continue;
        }
        let file_at = at(&["file"]);
        if loc.contains(&file_at) && loc.find(&file_at).file == loc.find(&at(&["parts"])).file {
            out.push(error(
                config,
                &file_at,
                format!(
                    "`{table}` sets both `file` and `parts`; a delivery of one file names it with `file`, a delivery \
                     of several files names each in its `[[deliveries.{table}.parts]]`: keep one"
                ),
            ));
        }
        for (i, part) in delivery.parts.iter().enumerate() {
            let index = i.to_string();
            if part.file.trim().is_empty() {
                out.push(error(
                    config,
                    &at(&["parts", &index, "file"]),
                    format!(
                        "part {} of `{table}` has no `file`; give the file name of each part",
                        i + 1
                    ),
                ));
                continue;
            }
            claim(
                config,
                &mut named,
                &part.file,
                at(&["parts", &index, "file"]),
                out,
            );
        }
    }
}

/// Records that `path` names `file`; a file named before is an error at the later name.
fn claim(
    config: &CountryConfig,
    named: &mut BTreeMap<String, Vec<String>>,
    file: &str,
    path: Vec<String>,
    out: &mut Vec<Diagnostic>,
) {
    let key = file.trim().to_string();
    match named.get(&key) {
        Some(first) => out.push(error(
            config,
            &path,
            format!(
                "file `{key}` is already named by `{}`; each delivered file feeds one table once (several \
                 organisations' rows in one file are one file: map its organisation column)",
                render_part_index(&crate::diagnostic::key_path(first))
            ),
        )),
        None => {
            named.insert(key, path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_indexes_render_as_in_the_file() {
        assert_eq!(
            render_part_index("deliveries.t.parts.2.columns.y"),
            "deliveries.t.parts[2].columns.y"
        );
        assert_eq!(
            render_part_index("deliveries.t.identifiers.1"),
            "deliveries.t.identifiers.1"
        );
        assert_eq!(
            render_part_index("deliveries.t.parts"),
            "deliveries.t.parts"
        );
    }
}
