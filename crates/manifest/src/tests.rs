use super::*;

fn input(path: &str, read: u64, written: u64, quarantined: u64) -> InputEntry {
    InputEntry {
        path: path.into(),
        country: path[..3].into(),
        table: "child_survey".into(),
        sha256: "00".into(),
        rows_read: read,
        rows_written: written,
        rows_quarantined: quarantined,
        warnings: Vec::new(),
    }
}

fn country(iso3: &str, status: CountryStatus) -> CountryEntry {
    CountryEntry {
        country: iso3.into(),
        status,
        error: None,
        not_delivered: Vec::new(),
        stale_from: None,
    }
}

fn bytes(m: &Manifest) -> Vec<u8> {
    m.to_bytes().unwrap_or_else(|e| panic!("{e}"))
}

fn read_error(json: &str) -> String {
    match Manifest::from_bytes(json.as_bytes()) {
        Ok(m) => panic!("read {m:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn finalise_sorts_and_totals_regardless_of_insertion_order() {
    let mut a = Manifest {
        inputs: vec![input("THA/c.csv", 10, 9, 1), input("KEN/c.csv", 5, 5, 0)],
        countries: vec![
            country("THA", CountryStatus::Stale),
            country("KEN", CountryStatus::Ok),
        ],
        ..Default::default()
    };
    let mut b = Manifest {
        inputs: vec![input("KEN/c.csv", 5, 5, 0), input("THA/c.csv", 10, 9, 1)],
        countries: vec![
            country("KEN", CountryStatus::Ok),
            country("THA", CountryStatus::Stale),
        ],
        ..Default::default()
    };
    a.finalise();
    b.finalise();
    assert_eq!(bytes(&a), bytes(&b));
    assert_eq!(a.inputs[0].path, "KEN/c.csv");
    assert_eq!(a.totals.rows_read, 15);
    assert_eq!(a.totals.rows_quarantined, 1);
    assert_eq!((a.totals.countries_ok, a.totals.countries_failed), (1, 1));
    assert!(a.inputs.iter().all(InputEntry::balanced));
    assert!(!input("X/y", 3, 1, 1).balanced());
}

#[test]
fn round_trips_through_json() {
    let mut m = Manifest {
        inputs: vec![input("THA/c.csv", 2, 2, 0)],
        countries: vec![country("THA", CountryStatus::Failed)],
        ..Default::default()
    };
    m.finalise();
    let back = Manifest::from_bytes(&bytes(&m)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, m);
}

#[test]
fn statuses_are_written_as_todays_names_and_sort_by_them() {
    for (status, name) in [
        (CountryStatus::Ok, "ok"),
        (CountryStatus::Failed, "failed"),
        (CountryStatus::Stale, "stale"),
    ] {
        let json = serde_json::to_string(&status).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(json, format!("\"{name}\""));
        assert_eq!(status.as_str(), name);
        assert_eq!(status.to_string(), name);
        let back: CountryStatus = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, status);
    }
    let mut sorted = [
        CountryStatus::Stale,
        CountryStatus::Ok,
        CountryStatus::Failed,
    ];
    sorted.sort();
    let names: Vec<_> = sorted.iter().map(|s| s.as_str()).collect();
    assert_eq!(names, ["failed", "ok", "stale"]);
    assert!(CountryStatus::Stale.has_outputs() && !CountryStatus::Failed.has_outputs());
}

#[test]
fn a_renamed_field_is_an_error_naming_it() {
    let mut m = Manifest::default();
    m.countries.push(country("THA", CountryStatus::Ok));
    let text = String::from_utf8(bytes(&m)).unwrap_or_else(|e| panic!("{e}"));
    let renamed = text.replace("\"rows_read\"", "\"rows_in\"");
    let err = read_error(&renamed);
    assert!(err.contains("rows_in"), "{err}");
    let renamed = text.replace("\"status\"", "\"state\"");
    let err = read_error(&renamed);
    assert!(err.contains("state") || err.contains("status"), "{err}");
}

#[test]
fn a_missing_field_or_unknown_status_is_an_error_naming_it() {
    let err = read_error(r#"{"manifest_format": 1}"#);
    assert!(err.contains("missing field `tool`"), "{err}");
    let mut m = Manifest::default();
    m.countries.push(country("THA", CountryStatus::Ok));
    let text = String::from_utf8(bytes(&m)).unwrap_or_else(|e| panic!("{e}"));
    let err = read_error(&text.replace("\"ok\"", "\"fine\""));
    assert!(err.contains("fine"), "{err}");
}

#[test]
fn fields_added_after_the_first_layout_may_be_absent() {
    let mut m = Manifest::default();
    m.finalise();
    let mut value = serde_json::to_value(&m).unwrap_or_else(|e| panic!("{e}"));
    if let Some(map) = value.as_object_mut() {
        for key in ["stages", "weighting", "consistency"] {
            map.remove(key);
        }
    }
    let json = serde_json::to_vec(&value).unwrap_or_else(|e| panic!("{e}"));
    let back = Manifest::from_bytes(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, m);
}
