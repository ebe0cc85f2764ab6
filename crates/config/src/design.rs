//! The design table: the one harmonised table whose schema declares the survey design (fields with
//! `role: "design"`: stratum, PSU, base weight). It is raked to the population margins, its categories define the
//! `[population]` cells, and the other survey tables borrow its design through a join. Every crate finds it here,
//! from the schemas, rather than naming it.

use crate::schema::{Role, SchemaSet, TableSchema};

/// Why the schemas name no single design table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesignTableError {
    #[error("no schema declares the survey design (a table with fields of role `design`)")]
    None,
    #[error(
        "several schemas declare a survey design (fields of role `design`): {}; one table carries the design",
        .0.join(", ")
    )]
    Several(Vec<String>),
}

/// Whether `schema` declares design fields.
pub fn is_design_table(schema: &TableSchema) -> bool {
    schema.fields.iter().any(|f| f.role == Role::Design)
}

/// The name of the table whose schema has fields of role `design`; an error when none or several do.
pub fn design_table(schemas: &SchemaSet) -> Result<&str, DesignTableError> {
    design_schema(schemas).map(|(name, _)| name)
}

/// The design table's name and schema (see [`design_table`]).
pub fn design_schema(schemas: &SchemaSet) -> Result<(&str, &TableSchema), DesignTableError> {
    let mut found = schemas
        .tables
        .iter()
        .filter(|(_, schema)| is_design_table(schema))
        .map(|(name, schema)| (name.as_str(), schema));
    match (found.next(), found.next()) {
        (None, _) => Err(DesignTableError::None),
        (Some(one), None) => Ok(one),
        (Some((a, _)), Some((b, _))) => {
            let mut names = vec![a.to_string(), b.to_string()];
            names.extend(found.map(|(name, _)| name.to_string()));
            Err(DesignTableError::Several(names))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::load_schemas;

    fn shipped() -> SchemaSet {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
        load_schemas(&dir).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_shipped_schemas_name_the_child_survey() {
        assert_eq!(design_table(&shipped()), Ok("child_survey"));
    }

    #[test]
    fn no_design_or_two_designs_are_errors() {
        let mut schemas = shipped();
        let child = schemas
            .tables
            .get("child_survey")
            .cloned()
            .unwrap_or_else(|| panic!("child_survey"));
        let mut copy = child.clone();
        copy.name = "second_survey".into();
        schemas.tables.insert("second_survey".into(), copy);
        assert_eq!(
            design_table(&schemas),
            Err(DesignTableError::Several(vec![
                "child_survey".into(),
                "second_survey".into()
            ]))
        );
        schemas.tables.retain(|_, s| !is_design_table(s));
        assert_eq!(design_table(&schemas), Err(DesignTableError::None));
        let message = DesignTableError::None.to_string();
        assert!(message.contains("role `design`"), "{message}");
    }
}
