//! The result of `dh estimate`: a design summary and one row per estimate, serialised to the
//! `--format json` shape of the contract (numbers at full precision, `null` for NA).

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// The design the estimates were computed on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignSummary {
    pub n_rows: usize,
    /// Strata and PSUs of the sampling design; `None` (JSON `null`) for supplied replicate weights
    /// without `--ids`/`--strata`, where no PSU structure is known.
    pub n_strata: Option<usize>,
    pub n_psu: Option<usize>,
    pub degf: usize,
}

/// A domain: the `--by` columns and their values, in `--by` order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Domain(pub Vec<(String, String)>);

impl Domain {
    /// R's svyby row label: the values joined with `.`.
    pub fn label(&self) -> String {
        self.0
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}

impl Serialize for Domain {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// One estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateRow {
    /// `None` for the whole population (or the `--subset` domain).
    pub domain: Option<Domain>,
    /// R's label: `api00`, `stypeE`, `api.stu/enroll`, `api00@0.5`, or the svyby domain label.
    pub name: String,
    pub estimate: f64,
    pub se: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    /// How the interval was computed (`t`, `normal`, a `svyciprop` method, `quantile-<type>`).
    pub ci_method: String,
    /// Degrees of freedom of the interval; `None` for a normal interval.
    pub df: Option<f64>,
    pub deff: Option<f64>,
    /// Rows that enter the estimate (in the domain, not missing).
    pub n_unweighted: usize,
    /// Sum of their weights.
    pub n_weighted: f64,
    /// The statistic (`mean`, `total`, `ratio`, `ciprop`, `quantile`).
    pub stat: String,
    /// Position of the analysis that produced the row (the table format groups by it).
    #[serde(skip)]
    pub analysis: usize,
}

/// Everything `dh estimate` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub design: DesignSummary,
    pub estimates: Vec<EstimateRow>,
    /// What R would warn about (calibration that did not converge, a dropped fpc, a guessed scale):
    /// printed on stderr, not part of the output formats.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Report {
    /// The `--format json` text (one line per estimate, keys in contract order).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"design\": ");
        out.push_str(&serde_json::to_string(&self.design).unwrap_or_default());
        out.push_str(", \"estimates\": [");
        for (i, row) in self.estimates.iter().enumerate() {
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            out.push_str(&serde_json::to_string(row).unwrap_or_default());
        }
        out.push_str(if self.estimates.is_empty() {
            "]}\n"
        } else {
            "\n]}\n"
        });
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Report {
        Report {
            design: DesignSummary {
                n_rows: 183,
                n_strata: Some(1),
                n_psu: Some(15),
                degf: 14,
            },
            estimates: vec![
                EstimateRow {
                    domain: Some(Domain(vec![("stype".into(), "E".into())])),
                    name: "E".into(),
                    estimate: 0.1 + 0.2,
                    se: 23.54224069378104,
                    ci_lower: f64::NAN,
                    ci_upper: 1e-300,
                    ci_method: "t".into(),
                    df: Some(14.0),
                    deff: None,
                    n_unweighted: 144,
                    n_weighted: 4874.0,
                    stat: "mean".into(),
                    analysis: 0,
                },
                EstimateRow {
                    domain: None,
                    name: "api00".into(),
                    estimate: 644.1693989071039,
                    se: 23.54224069378104,
                    ci_lower: 593.6763144633255,
                    ci_upper: 694.6624833508822,
                    ci_method: "normal".into(),
                    df: None,
                    deff: Some(9.345869450590952),
                    n_unweighted: 183,
                    n_weighted: 6194.0003242492585,
                    stat: "mean".into(),
                    analysis: 0,
                },
            ],
            warnings: Vec::new(),
        }
    }

    #[test]
    fn json_has_contract_shape_and_round_trips_numbers() {
        let text = sample().to_json();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["design"]["degf"], 14);
        let e = &v["estimates"][0];
        assert_eq!(e["domain"]["stype"], "E");
        assert_eq!(e["estimate"].as_f64().unwrap(), 0.1 + 0.2);
        assert!(e["ci_lower"].is_null());
        assert_eq!(e["ci_upper"].as_f64().unwrap(), 1e-300);
        assert!(e["deff"].is_null());
        let e = &v["estimates"][1];
        assert!(e["domain"].is_null());
        assert!(e["df"].is_null());
        assert_eq!(e["n_weighted"].as_f64().unwrap(), 6194.0003242492585);
        let keys: Vec<&str> = text
            .lines()
            .nth(1)
            .unwrap()
            .split("\":")
            .filter_map(|s| s.rsplit('"').next())
            .collect();
        assert_eq!(
            &keys[..11],
            &[
                "domain",
                "stype",
                "name",
                "estimate",
                "se",
                "ci_lower",
                "ci_upper",
                "ci_method",
                "df",
                "deff",
                "n_unweighted"
            ]
        );
    }
}
