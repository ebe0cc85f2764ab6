//! Which source variable feeds a harmonised column: by name (the defaults' source, the column's own name or title,
//! the agency synonyms of [`SYNONYMS`]), by variable label (the same names, with question numbers and notes
//! removed), or by value labels naming every category of a column. Also the names that recognise key columns, whose
//! values are never listed.

use std::collections::{BTreeMap, BTreeSet};

use dh_config::schema::Role;
use dh_config::{SchemaSet, TableSchema};

use crate::inspect::{InspectedFile, VariableProfile, normalise};
use crate::propose::{default_str, propose_codes};

/// Common agency names for harmonised columns (compared after [`normalise`], so `CLUSTER_NO` = `clusterno`), used
/// besides the column's own name and title. The one list of synonyms: variable names and variable labels are
/// compared against it.
pub const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "respondent_id",
        &[
            "resp_id",
            "respid",
            "child_id",
            "id",
            "sbjnum",
            "subject_number",
            "resp_no",
            "respondent",
            "respondent_number",
            "respondent_id",
            "serial",
            "serial_number",
            "questionnaire_number",
            "qnr_no",
        ],
    ),
    (
        "household_id",
        &[
            "hh_id",
            "hhid",
            "hh",
            "hh_no",
            "hh_number",
            "household",
            "household_number",
            "household_no",
        ],
    ),
    (
        "caregiver_id",
        &["cg_id", "cgid", "parent_id", "caregiver_number"],
    ),
    (
        "psu",
        &[
            "ea",
            "ea_no",
            "ea_code",
            "cluster",
            "cluster_no",
            "cluster_number",
            "cluster_id",
            "enumeration_area",
            "psu_id",
            "primary_sampling_unit",
        ],
    ),
    (
        "stratum",
        &["strata", "strat", "stratum_id", "sampling_stratum"],
    ),
    (
        "base_weight",
        &[
            "wt",
            "weight",
            "wgt",
            "design_weight",
            "sampling_weight",
            "samp_wt",
            "hh_weight",
            "household_weight",
        ],
    ),
    (
        "urban_rural",
        &[
            "urbrur",
            "urban",
            "residence",
            "area_type",
            "urban_or_rural",
            "type_of_place_of_residence",
            "place_of_residence",
            "area_of_residence",
            "locality",
        ],
    ),
    (
        "sex",
        &[
            "gender",
            "sex_of_respondent",
            "gender_of_respondent",
            "sex_of_child",
            "child_sex",
            "resp_sex",
        ],
    ),
    (
        "age",
        &[
            "age_of_respondent",
            "age_of_child",
            "child_age",
            "resp_age",
            "age_in_completed_years",
            "age_years",
        ],
    ),
    (
        "region",
        &["gov", "governorate", "province", "reg", "state"],
    ),
    (
        "caregiver_sex",
        &[
            "cg_sex",
            "cg_gender",
            "sex_of_caregiver",
            "gender_of_caregiver",
            "parent_sex",
        ],
    ),
    (
        "caregiver_age",
        &["cg_age", "age_of_caregiver", "parent_age"],
    ),
    // Helplines, hotlines and NGOs (service_contacts).
    (
        "organisation",
        &[
            "organization",
            "org",
            "org_name",
            "organisation_name",
            "agency",
            "service",
        ],
    ),
    (
        "organisation_type",
        &["type", "org_type", "type_of_organisation", "service_type"],
    ),
    (
        "channel",
        &[
            "contact_channel",
            "mode_of_contact",
            "contact_mode",
            "medium",
        ],
    ),
    (
        "category",
        &[
            "report_class",
            "classification",
            "case_type",
            "type_of_abuse",
            "issue",
        ],
    ),
    (
        "child_sex",
        &["sex", "gender", "sex_of_child", "child_gender"],
    ),
    (
        "child_age_band",
        &[
            "age_group",
            "agegrp",
            "age_band",
            "age_range",
            "age_of_child",
        ],
    ),
    (
        "contacts",
        &[
            "number_of_contacts",
            "no_of_contacts",
            "n_contacts",
            "calls",
            "count",
            "cases",
        ],
    ),
    (
        "data_vintage",
        &[
            "data_as_of",
            "as_of",
            "extract_date",
            "date_of_extract",
            "vintage",
        ],
    ),
    // The legal-framework review (legal_provisions).
    (
        "provision",
        &[
            "item",
            "checklist_item",
            "question",
            "indicator",
            "provision_id",
        ],
    ),
    ("status", &["answer", "assessment", "finding"]),
    (
        "citation",
        &[
            "reference",
            "legal_reference",
            "legal_basis",
            "law_reference",
            "instrument",
        ],
    ),
    (
        "review_date",
        &["reviewed", "reviewed_on", "date_reviewed", "date_of_review"],
    ),
];

/// The names (normalised) a harmonised column is recognised by, each with the reason shown in the skeleton: the
/// defaults' source name, its own name, its title, then its [`SYNONYMS`].
fn candidate_names(
    schema: &TableSchema,
    field: &dh_config::Field,
    defaults: &toml::Table,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    if let Some(s) = default_str(defaults, &[&schema.name, "columns", &field.name, "source"]) {
        out.push((normalise(&s), "the defaults' source name".into()));
    }
    out.push((normalise(&field.name), "same name".into()));
    out.push((normalise(&field.title), "same as the title".into()));
    for (target, syns) in SYNONYMS {
        if *target == field.name {
            out.extend(
                syns.iter()
                    .map(|s| (normalise(s), format!("synonym `{s}`"))),
            );
        }
    }
    out.retain(|(n, _)| !n.is_empty());
    out
}

/// Every name (normalised) that recognises a column of `table`, or of any table: to find the header row of a sheet.
pub fn known_names(
    schemas: &SchemaSet,
    defaults: &toml::Table,
    table: Option<&str>,
) -> BTreeSet<String> {
    schemas
        .tables
        .values()
        .filter(|s| table.is_none_or(|t| s.name == t))
        .flat_map(|s| {
            s.fields
                .iter()
                .filter(|f| f.role != Role::Derived)
                .flat_map(move |f| candidate_names(s, f, defaults))
        })
        .map(|(n, _)| n)
        .collect()
}

/// Harmonised column -> (source variable, reason) for every column a variable of the file matches: by name first
/// (defaults' source, own name, title, synonyms), then by variable label (the same names), then by value labels
/// naming every category of a column whose category set no other column of the table shares.
pub(crate) fn match_columns<'a>(
    file: &'a InspectedFile,
    schema: &TableSchema,
    defaults: &toml::Table,
) -> BTreeMap<String, (&'a VariableProfile, String)> {
    let mut used: BTreeSet<&str> = BTreeSet::new();
    let mut out = BTreeMap::new();
    let fields: Vec<&dh_config::Field> = schema
        .fields
        .iter()
        .filter(|f| f.role != Role::Derived)
        .collect();
    // Free text may feed only a column the schema declares as length-limited text (a citation: `maxLength`); its
    // values stay unlisted.
    let usable = |v: &VariableProfile, used: &BTreeSet<&str>, field: &dh_config::Field| {
        !v.likely_identifier
            && (!v.free_text || field.constraints.max_length.is_some())
            && !used.contains(v.name.as_str())
    };
    for field in &fields {
        let candidates = candidate_names(schema, field, defaults);
        let found = candidates.iter().find_map(|(want, why)| {
            file.variables
                .iter()
                .find(|v| usable(v, &used, field) && normalise(&v.name) == *want)
                .map(|v| (v, why.clone()))
        });
        if let Some((v, why)) = found {
            used.insert(&v.name);
            out.insert(field.name.clone(), (v, why));
        }
    }
    for field in &fields {
        if out.contains_key(&field.name) {
            continue;
        }
        let candidates = candidate_names(schema, field, defaults);
        let found = file.variables.iter().find(|v| {
            usable(v, &used, field)
                && v.variable_label.as_deref().is_some_and(|l| {
                    label_forms(l)
                        .iter()
                        .any(|l| candidates.iter().any(|(want, _)| want == l))
                })
        });
        if let Some(v) = found {
            used.insert(&v.name);
            out.insert(field.name.clone(), (v, "variable label".to_string()));
        }
    }
    let category_set = |f: &dh_config::Field| -> Option<BTreeSet<String>> {
        f.categories
            .as_ref()
            .map(|c| c.iter().map(|c| normalise(&c.label)).collect())
    };
    for field in &fields {
        if out.contains_key(&field.name) {
            continue;
        }
        let Some(own) = category_set(field) else {
            continue;
        };
        let shared = fields
            .iter()
            .any(|f| f.name != field.name && category_set(f).as_ref() == Some(&own));
        if shared {
            continue;
        }
        let fitting: Vec<&VariableProfile> = file
            .variables
            .iter()
            .filter(|v| usable(v, &used, field) && !v.value_labels.is_empty())
            .filter(|v| propose_codes(v, field, &BTreeMap::new()).is_some())
            .collect();
        if let [v] = fitting.as_slice() {
            used.insert(&v.name);
            out.insert(
                field.name.clone(),
                (*v, "value labels name its categories".to_string()),
            );
        }
    }
    out
}

/// The normalised forms of a variable label compared with a column's names: the whole label, and its head (before a
/// line break, `(`, `[`, `:` or `?`), each also without a leading question number (`Q101.`, `A1)`, `B2 -`).
fn label_forms(label: &str) -> Vec<String> {
    let head = label
        .split(['\n', '\r', '(', '[', ':', '?'])
        .next()
        .unwrap_or(label);
    let mut out = Vec::new();
    for text in [label, head] {
        out.push(normalise(text));
        let mut words = text.split_whitespace().peekable();
        if let Some(first) = words.next()
            && first.chars().any(|c| c.is_ascii_digit())
        {
            let rest: Vec<&str> = words.skip_while(|w| *w == "-").collect();
            out.push(normalise(&rest.join(" ")));
        }
    }
    out.retain(|f| !f.is_empty());
    out
}

/// Variables of `file` that the table's key columns (pseudonymised ids) would read, by name: their values are
/// never listed.
pub fn key_variables<'a, 's>(
    file: &'a InspectedFile,
    schemas: impl Iterator<Item = &'s TableSchema>,
    defaults: &toml::Table,
) -> BTreeSet<&'a str> {
    let keys: BTreeSet<String> = schemas
        .flat_map(|s| {
            s.fields
                .iter()
                .filter(|f| f.pseudonymise || f.role == Role::Key)
                .flat_map(move |f| candidate_names(s, f, defaults))
        })
        .map(|(n, _)| n)
        .collect();
    file.variables
        .iter()
        .filter(|v| keys.contains(&normalise(&v.name)))
        .map(|v| v.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{defaults, sav_file, schemas, variable};

    #[test]
    fn label_forms_drop_question_numbers_and_notes() {
        assert_eq!(
            label_forms("Q101. Sex of respondent (observe)"),
            vec![
                "q101sexofrespondentobserve",
                "sexofrespondentobserve",
                "q101sexofrespondent",
                "sexofrespondent"
            ]
        );
        assert_eq!(
            label_forms("A1 - Age?"),
            vec!["a1age", "age", "a1age", "age"]
        );
        assert!(label_forms("").is_empty());
    }

    #[test]
    fn common_agency_names_through_the_synonym_list() {
        let (s, d) = (schemas(), defaults());
        let child = s.get("child_survey").expect("child_survey");
        for (name, column) in [
            ("CLUSTER_NO", "psu"),
            ("CLUSTER", "psu"),
            ("EA", "psu"),
            ("SBJNUM", "respondent_id"),
            ("RESPID", "respondent_id"),
            ("HHID", "household_id"),
            ("HH_NO", "household_id"),
            ("STRATA", "stratum"),
            ("STRATUM", "stratum"),
            ("WEIGHT", "base_weight"),
            ("WT", "base_weight"),
            ("GENDER", "sex"),
            ("AGE", "age"),
            ("URBRUR", "urban_rural"),
            ("REGION", "region"),
            ("GOV", "region"),
            ("GOVERNORATE", "region"),
            ("PROVINCE", "region"),
        ] {
            let file = sav_file("x.sav", vec![variable(name, &["1"], &[])]);
            let m = match_columns(&file, child, &d);
            assert_eq!(
                m.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
                vec![column],
                "{name}"
            );
        }
    }
}
