//! One result line per timed tool, printed as a table for people and as JSON for machines; shared by
//! `dh bench run` and `dh bench memory`.

use serde::Serialize;

use crate::measure::Measured;

/// What one tool did, or why it was not measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolLine {
    /// `dh`, `duckdb`, or a memory case's name.
    pub tool: String,
    /// `None` when the tool was not measured (see `skipped`).
    #[serde(flatten)]
    pub measured: Option<Figures>,
    /// Why the tool was not measured (not installed, failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// The figures of one measured tool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub wall_s: f64,
    pub cpu_s: f64,
    pub peak_mb: f64,
    pub rows: u64,
    pub rows_per_s: f64,
    /// Wall time over the reference tool's (DuckDB in `dh bench run`); `None` without a reference.
    pub ratio: Option<f64>,
}

impl Figures {
    pub fn from_measured(m: &Measured, rows: u64) -> Self {
        Figures {
            wall_s: m.wall_s,
            cpu_s: m.cpu_s(),
            peak_mb: m.peak_mb(),
            rows,
            rows_per_s: if m.wall_s > 0.0 {
                rows as f64 / m.wall_s
            } else {
                0.0
            },
            ratio: None,
        }
    }
}

impl ToolLine {
    pub fn measured(tool: impl Into<String>, figures: Figures) -> Self {
        ToolLine {
            tool: tool.into(),
            measured: Some(figures),
            skipped: None,
        }
    }

    pub fn skipped(tool: impl Into<String>, why: impl Into<String>) -> Self {
        ToolLine {
            tool: tool.into(),
            measured: None,
            skipped: Some(why.into()),
        }
    }
}

/// Header of the table.
pub const COLUMNS: [&str; 7] = [
    "tool",
    "wall_s",
    "cpu_s",
    "peak_MB",
    "rows",
    "rows_per_s",
    "ratio",
];

/// The table: a header line, then one line per tool (`not measured: <why>` for a skipped one).
pub fn table(lines: &[ToolLine]) -> String {
    let width = lines
        .iter()
        .map(|l| l.tool.len())
        .chain([COLUMNS[0].len()])
        .max()
        .unwrap_or(4);
    let mut out = format!(
        "{:<width$} {:>9} {:>9} {:>9} {:>11} {:>11} {:>6}\n",
        COLUMNS[0], COLUMNS[1], COLUMNS[2], COLUMNS[3], COLUMNS[4], COLUMNS[5], COLUMNS[6]
    );
    for l in lines {
        match (&l.measured, &l.skipped) {
            (Some(f), _) => {
                let ratio = f
                    .ratio
                    .map_or_else(|| "-".to_string(), |r| format!("{r:.2}"));
                out.push_str(&format!(
                    "{:<width$} {:>9.3} {:>9.3} {:>9.1} {:>11} {:>11.0} {:>6}\n",
                    l.tool, f.wall_s, f.cpu_s, f.peak_mb, f.rows, f.rows_per_s, ratio
                ));
            }
            (None, why) => {
                let why = why.as_deref().unwrap_or("no run");
                out.push_str(&format!("{:<width$} not measured: {why}\n", l.tool));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(wall_s: f64, rows: u64) -> Figures {
        Figures {
            wall_s,
            cpu_s: 2.5,
            peak_mb: 123.45,
            rows,
            rows_per_s: rows as f64 / wall_s,
            ratio: None,
        }
    }

    #[test]
    fn the_table_has_one_header_and_a_line_per_tool() {
        let mut dh = figures(4.0, 1_000_000);
        dh.ratio = Some(2.0);
        let lines = [
            ToolLine::measured("dh", dh),
            ToolLine::measured(
                "duckdb",
                Figures {
                    ratio: Some(1.0),
                    ..figures(2.0, 900_000)
                },
            ),
            ToolLine::skipped("other", "not installed"),
        ];
        let text = table(&lines);
        let rows: Vec<Vec<&str>> = text
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(rows[0], COLUMNS);
        assert_eq!(
            rows[1],
            ["dh", "4.000", "2.500", "123.5", "1000000", "250000", "2.00"]
        );
        assert_eq!(rows[2][0], "duckdb");
        assert_eq!(rows[2][6], "1.00");
        assert_eq!(
            text.lines().nth(3),
            Some("other  not measured: not installed")
        );
        // columns line up: every measured line has as many characters as the header
        let lens: Vec<usize> = text.lines().take(3).map(str::len).collect();
        assert!(lens.iter().all(|&l| l == lens[0]), "{text}");
    }

    #[test]
    fn json_lines_flatten_the_figures_or_say_why_not() {
        let line = ToolLine::measured("dh", figures(2.0, 10));
        let v = serde_json::to_value(&line).unwrap();
        assert_eq!(v["tool"], "dh");
        assert_eq!(v["wall_s"], 2.0);
        assert_eq!(v["rows_per_s"], 5.0);
        assert!(v["ratio"].is_null());
        assert!(v.get("skipped").is_none());
        let v = serde_json::to_value(ToolLine::skipped("duckdb", "no python3")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"tool": "duckdb", "skipped": "no python3"})
        );
    }
}
