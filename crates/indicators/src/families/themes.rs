//! The `interview_themes` table: one row per registered interview (its `participant_group`) with one yes/no
//! column per harmonised theme, `yes` when at least one coded segment of the interview carries the theme. Built
//! from the normalised register and segments; interview ids are the pseudonyms of normalisation and are not kept.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;

use super::catalogue::THEME_PREFIX;

fn text_column(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, ArrowError> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| ArrowError::SchemaError(format!("column `{name}` is missing")))?;
    let text = cast(column, &DataType::Utf8)?;
    Ok(text
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// Builds `interview_themes` from the register and the segments (segments of unknown interviews are ignored:
/// normalisation already quarantined them).
pub fn interview_themes(
    register: &RecordBatch,
    segments: &RecordBatch,
    themes: &[String],
) -> Result<RecordBatch, ArrowError> {
    let ids = text_column(register, "interview_id")?;
    let groups = text_column(register, "participant_group")?;
    let mut coded: HashMap<String, HashSet<String>> = HashMap::new();
    for (id, theme) in text_column(segments, "interview_id")?
        .into_iter()
        .zip(text_column(segments, "theme")?)
    {
        if let (Some(id), Some(theme)) = (id, theme) {
            coded.entry(id).or_default().insert(theme);
        }
    }
    let mut fields = vec![Field::new("participant_group", DataType::Utf8, true)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(groups))];
    for theme in themes {
        fields.push(Field::new(
            format!("{THEME_PREFIX}{theme}"),
            DataType::Utf8,
            false,
        ));
        let values: Vec<&str> = ids
            .iter()
            .map(|id| {
                let hit = id
                    .as_ref()
                    .and_then(|id| coded.get(id))
                    .is_some_and(|set| set.contains(theme));
                if hit { "yes" } else { "no" }
            })
            .collect();
        columns.push(Arc::new(StringArray::from(values)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interview_has_a_theme_when_any_of_its_segments_carries_it() {
        let register = RecordBatch::try_from_iter([
            (
                "interview_id",
                Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef,
            ),
            (
                "participant_group",
                Arc::new(StringArray::from(vec![
                    "caregiver",
                    "child_survivor",
                    "caregiver",
                ])),
            ),
        ])
        .unwrap();
        let segments = RecordBatch::try_from_iter([
            (
                "interview_id",
                Arc::new(StringArray::from(vec!["a", "a", "c", "zz"])) as ArrayRef,
            ),
            (
                "theme",
                Arc::new(StringArray::from(vec![
                    "other",
                    "other",
                    "barriers_to_disclosure",
                    "other",
                ])),
            ),
        ])
        .unwrap();
        let themes = vec!["barriers_to_disclosure".to_string(), "other".to_string()];
        let t = interview_themes(&register, &segments, &themes).unwrap();
        assert_eq!(t.num_rows(), 3);
        let col = |n: &str| text_column(&t, n).unwrap();
        assert_eq!(
            col("theme_other"),
            vec![Some("yes".into()), Some("no".into()), Some("no".into())]
        );
        assert_eq!(
            col("theme_barriers_to_disclosure"),
            vec![Some("no".into()), Some("no".into()), Some("yes".into())]
        );
        assert_eq!(
            col("participant_group")[1].as_deref(),
            Some("child_survivor")
        );
    }
}
