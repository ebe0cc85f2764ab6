//! Text outputs of a [`Report`]: `csv` (full precision, one column per `--by` variable) and the
//! human `table` (aligned, with the design summarised on top).

use crate::report::{EstimateRow, Report};

/// Shortest text that reads back as the same double; `NA` for NaN or infinities.
pub fn full_precision(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "NA".to_string()
    }
}

fn optional(x: Option<f64>) -> String {
    x.map(full_precision).unwrap_or_else(|| "NA".to_string())
}

/// The `--format csv` text.
pub fn to_csv(report: &Report) -> String {
    let by: Vec<String> = by_columns(&report.estimates);
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let mut header: Vec<String> = by.clone();
    header.extend(
        [
            "name",
            "estimate",
            "se",
            "ci_lower",
            "ci_upper",
            "ci_method",
            "df",
            "deff",
            "n_unweighted",
            "n_weighted",
            "stat",
        ]
        .map(str::to_string),
    );
    let _ = w.write_record(&header);
    for row in &report.estimates {
        let mut record: Vec<String> = by
            .iter()
            .map(|col| domain_value(row, col).unwrap_or_else(|| "NA".to_string()))
            .collect();
        record.extend([
            row.name.clone(),
            full_precision(row.estimate),
            full_precision(row.se),
            full_precision(row.ci_lower),
            full_precision(row.ci_upper),
            row.ci_method.clone(),
            optional(row.df),
            optional(row.deff),
            row.n_unweighted.to_string(),
            full_precision(row.n_weighted),
            row.stat.clone(),
        ]);
        let _ = w.write_record(&record);
    }
    w.into_inner()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

fn by_columns<'a>(rows: impl IntoIterator<Item = &'a EstimateRow>) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for row in rows {
        for (k, _) in row.domain.iter().flat_map(|d| d.0.iter()) {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

fn domain_value(row: &EstimateRow, col: &str) -> Option<String> {
    row.domain
        .as_ref()?
        .0
        .iter()
        .find(|(k, _)| k == col)
        .map(|(_, v)| v.clone())
}

/// Seven significant digits for people, `NA` for missing values.
fn readable(x: f64) -> String {
    if !x.is_finite() {
        return "NA".to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if (-4..9).contains(&magnitude) {
        let decimals = (6 - magnitude).max(0) as usize;
        let text = format!("{x:.decimals$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    } else {
        format!("{x:.6e}")
    }
}

/// The `--format table` text: the design and `design_line` on top, then for each analysis its
/// line from `analysis_lines` and an aligned table of its rows.
pub fn to_table(report: &Report, design_line: &str, analysis_lines: &[String]) -> String {
    let d = &report.design;
    let mut out = String::new();
    let count = |x: Option<usize>| x.map_or_else(|| "unknown".to_string(), |x| x.to_string());
    out.push_str(&format!(
        "Design: {} rows, {} strata, {} PSUs, {} degrees of freedom\n",
        d.n_rows,
        count(d.n_strata),
        count(d.n_psu),
        d.degf
    ));
    out.push_str(design_line);
    out.push('\n');
    for (index, line) in analysis_lines.iter().enumerate() {
        let rows: Vec<&EstimateRow> = report
            .estimates
            .iter()
            .filter(|r| r.analysis == index)
            .collect();
        if index > 0 {
            out.push('\n');
        }
        out.push_str(line);
        out.push_str("\n\n");
        out.push_str(&aligned_rows(&rows));
    }
    out
}

/// One analysis's rows as an aligned table with a header.
fn aligned_rows(estimates: &[&EstimateRow]) -> String {
    let by = by_columns(estimates.iter().copied());
    let has_deff = estimates.iter().any(|r| r.deff.is_some());
    let mut header: Vec<String> = by.clone();
    header
        .extend(["name", "estimate", "se", "ci_lower", "ci_upper", "ci", "df"].map(str::to_string));
    if has_deff {
        header.push("deff".to_string());
    }
    header.extend(["n", "N"].map(str::to_string));
    let mut rows: Vec<Vec<String>> = vec![header];
    for r in estimates {
        let mut cells: Vec<String> = by
            .iter()
            .map(|c| domain_value(r, c).unwrap_or_else(|| "NA".to_string()))
            .collect();
        cells.extend([
            r.name.clone(),
            readable(r.estimate),
            readable(r.se),
            readable(r.ci_lower),
            readable(r.ci_upper),
            r.ci_method.clone(),
            r.df.map(readable).unwrap_or_else(|| "-".to_string()),
        ]);
        if has_deff {
            cells.push(r.deff.map(readable).unwrap_or_else(|| "NA".to_string()));
        }
        cells.push(r.n_unweighted.to_string());
        cells.push(readable(r.n_weighted));
        rows.push(cells);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let text_columns = by.len() + 1;
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c < text_columns || c == text_columns + 5 {
                    format!("{cell:<width$}", width = widths[c])
                } else {
                    format!("{cell:>width$}", width = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn csv_round_trips_and_has_by_columns() {
        let text = to_csv(&sample());
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "stype,name,estimate,se,ci_lower,ci_upper,ci_method,df,deff,n_unweighted,n_weighted,stat"
        );
        let first: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(first[0], "E");
        assert_eq!(first[2].parse::<f64>().unwrap(), 0.1 + 0.2);
        assert_eq!(first[4], "NA");
        assert_eq!(first[5].parse::<f64>().unwrap(), 1e-300);
        let second: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(second[0], "NA");
        assert_eq!(second[7], "NA");
        assert_eq!(second[10].parse::<f64>().unwrap(), 6194.0003242492585);
    }

    #[test]
    fn table_is_aligned_with_design_on_top() {
        let text = to_table(
            &sample(),
            "Variance: Taylor linearisation",
            &["Statistic: mean of api00".to_string()],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("Design: 183 rows, 1 strata, 15 PSUs, 14 degrees"));
        assert_eq!(lines[1], "Variance: Taylor linearisation");
        assert_eq!(lines[2], "Statistic: mean of api00");
        assert!(lines[4].starts_with("stype  name"));
        assert!(lines[6].contains("644.1694"), "{text}");
        let se_end = lines[4].find(" se").unwrap() + 3;
        assert_eq!(&lines[5][se_end - 8..se_end], "23.54224");
    }

    #[test]
    fn table_has_one_section_per_analysis() {
        let mut report = sample();
        report.estimates[1].analysis = 1;
        let text = to_table(
            &report,
            "Variance: Taylor linearisation",
            &[
                "Statistic: mean of api00, by stype".into(),
                "Statistic: mean of api00".into(),
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "Statistic: mean of api00, by stype");
        assert!(lines[4].starts_with("stype  name"), "{text}");
        assert_eq!(lines[7], "Statistic: mean of api00");
        assert!(lines[9].starts_with("name"), "{text}");
        assert!(lines[10].starts_with("api00"), "{text}");
    }

    #[test]
    fn readable_numbers() {
        assert_eq!(readable(644.1693989071039), "644.1694");
        assert_eq!(readable(3404940.1345291086), "3404940");
        assert_eq!(readable(0.000123456789), "0.0001234568");
        assert_eq!(readable(0.0000123456789), "1.234568e-5");
        assert_eq!(readable(1e12), "1.000000e12");
        assert_eq!(readable(f64::NAN), "NA");
    }
}
