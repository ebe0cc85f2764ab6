//! Shared by the R-oracle test files: the oracle folder and a small reader for its CSVs (`NA` = missing).

#![allow(dead_code)]

pub const ORACLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle");

pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(name: &str) -> Table {
        let mut reader = csv::Reader::from_path(format!("{ORACLE}/{name}")).expect("oracle csv");
        let header = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect();
        Table { header, rows }
    }
    pub fn text(&self, col: &str) -> Vec<String> {
        let j = self
            .header
            .iter()
            .position(|h| h == col)
            .unwrap_or_else(|| panic!("no column {col}"));
        self.rows.iter().map(|r| r[j].clone()).collect()
    }
    pub fn num(&self, col: &str) -> Vec<f64> {
        self.text(col)
            .iter()
            .map(|v| {
                if v == "NA" {
                    f64::NAN
                } else {
                    v.parse().expect("number")
                }
            })
            .collect()
    }
}
