//! Shared fixtures for unit tests: a small child table, a caregiver table joined to it, and a pipeline config.

use dh_config::{SchemaSet, TableSchema};

use crate::pipeline_config::{Join, PipelineConfig, Thresholds};

pub fn schemas() -> SchemaSet {
    let child = r#"{
      "name": "child_survey", "title": "t", "version": "1.0.0",
      "missingValues": [{"value": 98, "label": "dont_know"}, {"value": 99, "label": "refused"}, {"value": 97, "label": "not_collected"}],
      "fields": [
        {"name": "household_id", "type": "string", "description": "d", "role": "key"},
        {"name": "sex", "type": "string", "description": "d", "categories": [{"value": 1, "label": "male"}, {"value": 2, "label": "female"}]},
        {"name": "age", "type": "integer", "description": "d"},
        {"name": "region", "type": "string", "description": "d"},
        {"name": "q", "type": "string", "description": "d", "categories": [{"value": 1, "label": "yes"}, {"value": 2, "label": "no"}], "missingValues": ["dont_know"]}
      ]}"#;
    let caregiver = r#"{
      "name": "caregiver_survey", "title": "t", "version": "1.0.0",
      "missingValues": [{"value": 98, "label": "dont_know"}],
      "fields": [
        {"name": "household_id", "type": "string", "description": "d", "role": "key"},
        {"name": "would_report", "type": "string", "description": "d", "categories": [{"value": 1, "label": "yes"}, {"value": 2, "label": "no"}]}
      ]}"#;
    let mut set = SchemaSet::default();
    for text in [child, caregiver] {
        let t: TableSchema = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        set.tables.insert(t.name.clone(), t);
    }
    set
}

pub fn pipeline() -> PipelineConfig {
    let mut joins = std::collections::BTreeMap::new();
    joins.insert(
        "caregiver_survey".to_string(),
        Join {
            table: "child_survey".into(),
            on: "household_id".into(),
            columns: vec!["sex".into(), "age".into()],
        },
    );
    PipelineConfig {
        file: "pipelines/pipeline.toml".into(),
        catalogue: "pipelines/indicators.toml".into(),
        required_disaggregations: vec!["sex".into()],
        thresholds: Thresholds::NCHS,
        joins,
        weighting: Default::default(),
        bands: Vec::new(),
        design_table: "child_survey".into(),
    }
}
