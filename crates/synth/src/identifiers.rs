//! Direct identifiers written into every delivery (and dropped by ingest): names, phone numbers, GPS points and
//! interviewer notes. Which kind a column holds is read from its name (as listed in the config's
//! `identifiers`), by the word lists below (e.g. `name`/`nome`/`jina` -> a name, `phone`/`simu`/`no_hp` -> a
//! phone number, `lat`/`lintang` and `lon`/`bujur` -> GPS coordinates, `gps` alone -> `lat,lon` in one field,
//! `notes`/`observacoes`/`ghi_chu` -> an interviewer note); anything else gets an opaque token (still an
//! identifier that must never reach an output). Values are deterministic per (country, respondent, column).
//!
//! Names are built from neutral syllables (some with Latin-1 accents, to exercise encodings); notes come from a
//! short list of neutral procedural phrases, some containing the `,` or `;` delimiter so they must be quoted.

use crate::rng;

/// Words (lower case, matched as substrings) that mark each kind, in the languages of the shipped configs
/// (English, Portuguese, Swahili, Malay/Indonesian, Vietnamese).
const NAME_WORDS: &[&str] = &["name", "nama", "nome", "jina", "ho_ten"];
const PHONE_WORDS: &[&str] = &[
    "phone",
    "tel",
    "mobile",
    "msisdn",
    "cell",
    "contact",
    "simu",
    "hp",
    "dien_thoai",
];
const LAT_WORDS: &[&str] = &["lat", "lintang", "vi_do"];
const LON_WORDS: &[&str] = &["lon", "lng", "bujur", "kinh_do"];
const NOTE_WORDS: &[&str] = &[
    "note", "nota", "comment", "remark", "observ", "maelezo", "ghi_chu", "catatan",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierKind {
    Name,
    Phone,
    Latitude,
    Longitude,
    LatLon,
    Note,
    Token,
}

const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "sa", "te", "nu", "ra", "vi", "do", "me", "jo", "ha", "li", "ba", "ne", "so",
    "ré", "mü", "ña", "zé", "to", "pa", "ki", "wa",
];

/// Neutral procedural phrases; never narrative about the interview's content.
pub const NOTES: [&str; 10] = [
    "callback requested",
    "interview completed",
    "respondent busy, revisit later",
    "caregiver present at start; left before child module",
    "household located after second visit",
    "consent form signed",
    "language switched, interview continued",
    "tablet battery low; resumed next day",
    "no issues",
    "gate closed, neighbour gave directions",
];

impl IdentifierKind {
    pub fn from_column(name: &str) -> IdentifierKind {
        let n = name.to_ascii_lowercase();
        let has = |parts: &[&str]| parts.iter().any(|p| n.contains(p));
        if has(NAME_WORDS) {
            IdentifierKind::Name
        } else if has(PHONE_WORDS) {
            IdentifierKind::Phone
        } else if has(LAT_WORDS) {
            IdentifierKind::Latitude
        } else if has(LON_WORDS) {
            IdentifierKind::Longitude
        } else if has(&["gps", "coord"]) {
            IdentifierKind::LatLon
        } else if has(NOTE_WORDS) {
            IdentifierKind::Note
        } else {
            IdentifierKind::Token
        }
    }

    /// The value of this identifier for one respondent; `(lat, lon)` is the respondent's EA centre.
    pub fn value(self, key: u64, respondent: u64, column: &str, lat: f64, lon: f64) -> String {
        let k = rng::key(&[key, respondent, rng::hash_str(column)]);
        let draw = |i: u64| rng::mix64(k ^ i.wrapping_mul(0x9E37_79B9));
        match self {
            IdentifierKind::Name => format!("{} {}", word(draw(1), 2), word(draw(2), 3)),
            IdentifierKind::Phone => format!("0{}{:08}", 6 + draw(1) % 3, draw(2) % 100_000_000),
            IdentifierKind::Latitude => format!("{:.6}", lat + jitter(draw(1))),
            IdentifierKind::Longitude => format!("{:.6}", lon + jitter(draw(2))),
            IdentifierKind::LatLon => {
                format!("{:.6},{:.6}", lat + jitter(draw(1)), lon + jitter(draw(2)))
            }
            IdentifierKind::Note => NOTES[(draw(1) % NOTES.len() as u64) as usize].to_string(),
            IdentifierKind::Token => format!("T{:010}", draw(1) % 10_000_000_000),
        }
    }
}

/// `value` as the delivery's encoding can hold it: the accented syllables of synthetic names become plain letters
/// when the encoding has no byte for them (e.g. windows-1256, which has `é` but not `ñ`).
pub fn encodable(value: String, encoding: dh_config::Encoding) -> String {
    if crate::write::csv::encode_text(encoding, &value).is_some() {
        return value;
    }
    value
        .chars()
        .map(|c| match c {
            'é' => 'e',
            'ü' => 'u',
            'ñ' => 'n',
            'É' => 'E',
            'Ü' => 'U',
            'Ñ' => 'N',
            other => other,
        })
        .collect()
}

fn word(seed: u64, syllables: u64) -> String {
    let mut s = String::new();
    for i in 0..syllables {
        s.push_str(SYLLABLES[(rng::mix64(seed ^ i) % SYLLABLES.len() as u64) as usize]);
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => s,
    }
}

/// A household's offset from its EA centre, within about 2 km.
fn jitter(seed: u64) -> f64 {
    (rng::unit(seed) - 0.5) * 0.04
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_column_names() {
        assert_eq!(
            IdentifierKind::from_column("RESP_NAME"),
            IdentifierKind::Name
        );
        assert_eq!(
            IdentifierKind::from_column("phone_no"),
            IdentifierKind::Phone
        );
        assert_eq!(
            IdentifierKind::from_column("gps_latitude"),
            IdentifierKind::Latitude
        );
        assert_eq!(
            IdentifierKind::from_column("GPS_LON"),
            IdentifierKind::Longitude
        );
        assert_eq!(IdentifierKind::from_column("gps"), IdentifierKind::LatLon);
        assert_eq!(
            IdentifierKind::from_column("enum_comments"),
            IdentifierKind::Note
        );
        assert_eq!(IdentifierKind::from_column("X1"), IdentifierKind::Token);
        assert_eq!(
            IdentifierKind::from_column("nome_cuidador"),
            IdentifierKind::Name
        );
        assert_eq!(
            IdentifierKind::from_column("ho_ten_ncs"),
            IdentifierKind::Name
        );
        assert_eq!(
            IdentifierKind::from_column("no_hp_pengasuh"),
            IdentifierKind::Phone
        );
        assert_eq!(
            IdentifierKind::from_column("CaregiverCell"),
            IdentifierKind::Phone
        );
        assert_eq!(
            IdentifierKind::from_column("lintang"),
            IdentifierKind::Latitude
        );
        assert_eq!(
            IdentifierKind::from_column("kinh_do"),
            IdentifierKind::Longitude
        );
        assert_eq!(
            IdentifierKind::from_column("GPSLONG"),
            IdentifierKind::Longitude
        );
        assert_eq!(IdentifierKind::from_column("catatan"), IdentifierKind::Note);
        assert_eq!(
            IdentifierKind::from_column("nota_penemuduga"),
            IdentifierKind::Note
        );
        assert_eq!(IdentifierKind::from_column("maelezo"), IdentifierKind::Note);
    }

    #[test]
    fn values_are_deterministic_and_latin1() {
        let a = IdentifierKind::Name.value(1, 2, "n", 0.0, 0.0);
        assert_eq!(a, IdentifierKind::Name.value(1, 2, "n", 0.0, 0.0));
        assert_ne!(a, IdentifierKind::Name.value(1, 3, "n", 0.0, 0.0));
        assert!(a.chars().all(|c| (c as u32) < 256));
        let phone = IdentifierKind::Phone.value(1, 2, "p", 0.0, 0.0);
        assert_eq!(phone.len(), 10);
        let lat: f64 = IdentifierKind::Latitude
            .value(1, 2, "lat", 10.0, 0.0)
            .parse()
            .expect("number");
        assert!((lat - 10.0).abs() < 0.03);
    }
}
