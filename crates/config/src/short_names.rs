//! Stata/SPSS variable names of the harmonised columns (`dh export`, the codebook's "Stata/SPSS name").
//!
//! Stata allows 32 bytes per variable name; some harmonised names are longer. The rule, fixed forever so that
//! analysts' do-files and syntax keep working across runs and releases:
//!
//! 1. A name of at most 32 bytes is kept as it is, unless it is a reserved word of Stata (`in`, `if`, `long`, `_n`,
//!    ...) or SPSS (`by`, `to`, `with`, ... in any case): then `_v` is appended (`with` -> `with_v`).
//! 2. A longer name becomes its first 27 bytes (trailing `_` removed), `_`, and 4 lowercase hex digits: the low
//!    16 bits of the FNV-1a 64-bit hash of the full name. `caregiver_would_contact_social_worker` ->
//!    `caregiver_would_contact_soc_d44d`. The same long name always gives the same short name.
//! 3. Only if that name is already taken in the table (by a column kept under rule 1, or by an earlier long column
//!    in schema order) is the suffix 8 hex digits (the low 32 bits) after the first 23 bytes, then that plus a
//!    digit 1-9. No shipped schema needs rule 3 (tested).

/// Stata's limit on variable names, in bytes.
pub const MAX_LEN: usize = 32;

/// Names Stata reserves (exact case).
const STATA_RESERVED: [&str; 21] = [
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n",
    "_N", "_pi", "_pred", "_rc", "_skip", "strL", "using", "with", "str",
];
/// Names SPSS reserves (any case).
const SPSS_RESERVED: [&str; 13] = [
    "all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with",
];

/// Whether Stata or SPSS refuses `name` as a variable name because it is a reserved word.
pub fn is_reserved(name: &str) -> bool {
    STATA_RESERVED.contains(&name) || SPSS_RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
}

/// A name kept as it is (rule 1).
fn kept(name: &str) -> bool {
    name.len() <= MAX_LEN && !is_reserved(name)
}

/// FNV-1a, 64 bits (stable: defined by its constants, independent of the Rust version).
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The first `n` bytes of `name` (at a character boundary) without trailing underscores.
fn prefix(name: &str, n: usize) -> &str {
    let mut end = name.len().min(n);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].trim_end_matches('_')
}

/// The short name of one column by rules 1 and 2 (without looking at the other columns of its table).
pub fn short_name(name: &str) -> String {
    if kept(name) {
        return name.to_string();
    }
    if name.len() <= MAX_LEN - 2 {
        return format!("{name}_v");
    }
    format!("{}_{:04x}", prefix(name, 27), fnv1a(name) & 0xffff)
}

/// The short names of a table's columns, in the order given, unique within the table (rules 1-3).
pub fn short_names<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    let mut taken: std::collections::BTreeSet<String> = names
        .iter()
        .map(|n| n.as_ref())
        .filter(|n| kept(n))
        .map(str::to_string)
        .collect();
    names
        .iter()
        .map(|n| {
            let name = n.as_ref();
            if kept(name) {
                return name.to_string();
            }
            let long = format!("{}_{:08x}", prefix(name, 23), fnv1a(name) & 0xffff_ffff);
            let candidates = std::iter::once(short_name(name))
                .chain(std::iter::once(long.clone()))
                .chain((1..=9).map(|k| format!("{long}{k}")));
            let mut chosen = long.clone();
            for c in candidates {
                if !taken.contains(&c) {
                    chosen = c;
                    break;
                }
            }
            taken.insert(chosen.clone());
            chosen
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixed forever: changing any of these breaks analysts' syntax files.
    #[test]
    fn fixed_table_of_short_names() {
        let table = [
            ("age", "age"),
            (
                "offered_money_images_told_nobody",
                "offered_money_images_told_nobody",
            ),
            (
                "caregiver_would_contact_social_worker",
                "caregiver_would_contact_soc_d44d",
            ),
            (
                "offered_money_images_told_caregiver",
                "offered_money_images_told_c_94fb",
            ),
            (
                "offered_money_images_not_told_reason",
                "offered_money_images_not_to_13b9",
            ),
            (
                "threatened_sexual_told_caregiver",
                "threatened_sexual_told_caregiver",
            ),
            (
                "offered_money_meet_told_caregiver",
                "offered_money_meet_told_car_ed2c",
            ),
            (
                "threatened_sexual_not_told_reason",
                "threatened_sexual_not_told_8fc9",
            ),
        ];
        for (long, short) in table {
            assert_eq!(short_name(long), short, "{long}");
            assert!(short_name(long).len() <= MAX_LEN);
        }
    }

    #[test]
    fn reserved_words_get_a_suffix() {
        assert_eq!(short_name("with"), "with_v");
        assert_eq!(short_name("BY"), "BY_v");
        assert_eq!(short_name("_n"), "_n_v");
        assert_eq!(short_name("long"), "long_v");
        assert_eq!(short_name("longer"), "longer");
        assert_eq!(
            short_names(&["to", "to_v"]),
            ["to_b56ac0a4", "to_v"].map(String::from).to_vec()
        );
    }

    #[test]
    fn collisions_get_a_longer_suffix() {
        let a = "a_very_long_harmonised_column_name_one";
        let b = short_name(a);
        let names = [b.as_str(), a];
        let short = short_names(&names);
        assert_eq!(short[0], b);
        assert_ne!(short[1], b);
        assert!(short[1].len() <= MAX_LEN && short[1].starts_with("a_very_long_harmonised_"));
        assert_eq!(short, short_names(&names));
    }

    #[test]
    fn shipped_schemas_need_no_collision_rule() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
        let set = crate::load_schemas(&dir).unwrap_or_else(|e| panic!("{e}"));
        for table in set.tables.values() {
            let names: Vec<&str> = table.fields.iter().map(|f| f.name.as_str()).collect();
            let short = short_names(&names);
            let unique: std::collections::BTreeSet<&String> = short.iter().collect();
            assert_eq!(unique.len(), short.len(), "{}", table.name);
            for (long, s) in names.iter().zip(&short) {
                assert_eq!(*s, short_name(long), "{}.{long}", table.name);
                assert!(s.len() <= MAX_LEN);
            }
        }
    }
}
