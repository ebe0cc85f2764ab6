//! Keyed pseudonyms for respondent and household ids: `hex(HMAC-SHA256(key, "<ISO3>:<column>:<value>"))`, where
//! `<column>` is the harmonised column name and `<value>` the trimmed source value. The same key gives the same
//! pseudonym in every run, so outputs stay byte-identical; the same household id gets the same pseudonym in the
//! child and the caregiver table because both use the harmonised column `household_id`.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::NormaliseError;

type HmacSha256 = Hmac<Sha256>;

/// Environment variable holding the key.
pub const KEY_ENV: &str = "DH_PSEUDONYM_KEY";
/// Minimum key length in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// The secret pseudonym key. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct PseudonymKey {
    mac: HmacSha256,
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(..)")
    }
}

impl PseudonymKey {
    /// A key from raw bytes (at least [`MIN_KEY_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NormaliseError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(NormaliseError::Key(format!(
                "the key is {} bytes long; at least {MIN_KEY_BYTES} are required",
                bytes.len()
            )));
        }
        let mac =
            HmacSha256::new_from_slice(bytes).map_err(|e| NormaliseError::Key(e.to_string()))?;
        Ok(PseudonymKey { mac })
    }

    /// The key from `DH_PSEUDONYM_KEY`, else from `key_file` (its text, surrounding whitespace ignored). A key file
    /// inside `out_dir` is refused, so the key is never published with the outputs.
    pub fn from_env_or_file(
        key_file: Option<&Path>,
        out_dir: &Path,
    ) -> Result<Self, NormaliseError> {
        if let Ok(value) = std::env::var(KEY_ENV) {
            return Self::from_bytes(value.trim().as_bytes());
        }
        let Some(path) = key_file else {
            return Err(NormaliseError::Key(format!(
                "set {KEY_ENV} or pass a key file kept outside the output folder"
            )));
        };
        if absolute(path).starts_with(absolute(out_dir)) {
            return Err(NormaliseError::Key(format!(
                "key file {} lies inside the output folder {}; keep it outside",
                path.display(),
                out_dir.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| {
            NormaliseError::Key(format!("{}: cannot read key file: {e}", path.display()))
        })?;
        Self::from_bytes(bytes.trim_ascii())
    }

    /// A pseudonymiser for one harmonised column of one country.
    pub fn for_column(&self, iso3: &str, column: &str) -> ColumnPseudonymiser {
        let mut mac = self.mac.clone();
        mac.update(iso3.as_bytes());
        mac.update(b":");
        mac.update(column.as_bytes());
        mac.update(b":");
        ColumnPseudonymiser { mac }
    }

    /// `hex(HMAC-SHA256(key, "<iso3>:<column>:<value>"))`.
    pub fn pseudonym(&self, iso3: &str, column: &str, value: &str) -> String {
        let mut out = String::with_capacity(64);
        self.for_column(iso3, column).write(value, &mut out);
        out
    }
}

/// A key already fed with the `"<ISO3>:<column>:"` prefix; cloning it per value avoids re-hashing the key.
#[derive(Clone)]
pub struct ColumnPseudonymiser {
    mac: HmacSha256,
}

impl ColumnPseudonymiser {
    /// Appends the 64 lowercase hex digits of the value's pseudonym to `out`.
    pub fn write(&self, value: &str, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut mac = self.mac.clone();
        mac.update(value.as_bytes());
        for b in mac.finalize().into_bytes() {
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0x0f) as usize] as char);
        }
    }
}

fn absolute(path: &Path) -> std::path::PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    // Canonicalise the deepest existing ancestor so that symlinks and `..` compare correctly.
    let mut tail = Vec::new();
    let mut cur = joined.as_path();
    loop {
        if let Ok(base) = cur.canonicalize() {
            return tail.iter().rev().fold(base, |acc, part| acc.join(part));
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name.to_os_string());
                cur = parent;
            }
            _ => return joined,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn pseudonym_is_hmac_of_prefixed_value_and_stable() {
        let key = PseudonymKey::from_bytes(KEY).unwrap();
        let a = key.pseudonym("THA", "respondent_id", "TH-001");
        assert_eq!(a.len(), 64);
        assert_eq!(a, key.pseudonym("THA", "respondent_id", "TH-001"));
        let mut mac = HmacSha256::new_from_slice(KEY).unwrap();
        mac.update(b"THA:respondent_id:TH-001");
        assert_eq!(a, hex::encode(mac.finalize().into_bytes()));
        assert_ne!(a, key.pseudonym("KEN", "respondent_id", "TH-001"));
        assert_ne!(a, key.pseudonym("THA", "household_id", "TH-001"));
        let other = PseudonymKey::from_bytes(b"another key that is long enough!").unwrap();
        assert_ne!(a, other.pseudonym("THA", "respondent_id", "TH-001"));
    }

    #[test]
    fn short_key_and_key_inside_out_are_refused() {
        assert!(PseudonymKey::from_bytes(b"short").is_err());
        if std::env::var(KEY_ENV).is_ok() {
            return; // the environment key would take precedence
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        let inside = out.join("k.key");
        std::fs::write(&inside, KEY).unwrap();
        let err = PseudonymKey::from_env_or_file(Some(&inside), &out).unwrap_err();
        assert!(
            err.to_string().contains("inside the output folder"),
            "{err}"
        );
        let outside = dir.path().join("k.key");
        std::fs::write(&outside, [KEY, b"\n"].concat()).unwrap();
        let key = PseudonymKey::from_env_or_file(Some(&outside), &out).unwrap();
        assert_eq!(
            key.pseudonym("A", "b", "c"),
            PseudonymKey::from_bytes(KEY)
                .unwrap()
                .pseudonym("A", "b", "c")
        );
        assert!(PseudonymKey::from_env_or_file(None, &out).is_err());
    }
}
