//! The character encoding of a delivery ([`Encoding`]): any label of the WHATWG Encoding Standard
//! (`windows-1256`, `iso-8859-6`, `windows-874`, `gb18030`, `shift_jis`, `utf-16le`, ...), plus the project's own
//! spellings `utf-8-bom` (UTF-8 with a byte-order mark) and `latin-1` (decoded as windows-1252, as WHATWG does for
//! every Latin-1 label).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A delivery's character encoding. Compares equal only with the same spelling (`latin-1` and `windows-1252` decode
/// alike but are different config values).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    codec: &'static encoding_rs::Encoding,
    /// The project's own spelling (`utf-8-bom`, `latin-1`), or `None` for the codec's WHATWG name.
    alias: Option<&'static str>,
}

impl Encoding {
    pub const UTF8: Encoding = Encoding {
        codec: &encoding_rs::UTF_8_INIT,
        alias: None,
    };
    /// UTF-8 with a byte-order mark (readers accept it with or without).
    pub const UTF8_BOM: Encoding = Encoding {
        codec: &encoding_rs::UTF_8_INIT,
        alias: Some("utf-8-bom"),
    };
    /// Latin-1, decoded as windows-1252 (a superset for printable text).
    pub const LATIN1: Encoding = Encoding {
        codec: &encoding_rs::WINDOWS_1252_INIT,
        alias: Some("latin-1"),
    };
    pub const WINDOWS_1252: Encoding = Encoding {
        codec: &encoding_rs::WINDOWS_1252_INIT,
        alias: None,
    };

    /// The encoding a config label names: `utf-8-bom`, `latin-1`, or any WHATWG label (case-insensitive, surrounding
    /// blanks ignored). `None` for unknown labels and for labels WHATWG maps to its `replacement` decoder
    /// (ISO-2022-KR, HZ and the like, which cannot be decoded).
    pub fn from_label(label: &str) -> Option<Encoding> {
        let l = label.trim().to_ascii_lowercase();
        match l.as_str() {
            "utf-8-bom" | "utf8-bom" => return Some(Encoding::UTF8_BOM),
            "latin-1" => return Some(Encoding::LATIN1),
            _ => {}
        }
        let codec = encoding_rs::Encoding::for_label_no_replacement(l.as_bytes())?;
        Some(Encoding { codec, alias: None })
    }

    /// The WHATWG codec that decodes this encoding.
    pub fn codec(self) -> &'static encoding_rs::Encoding {
        self.codec
    }

    /// The config spelling: `utf-8`, `utf-8-bom`, `latin-1`, `windows-1256`, `shift_jis`, `utf-16le`, ...
    pub fn name(self) -> String {
        match self.alias {
            Some(a) => a.to_string(),
            None => self.codec.name().to_ascii_lowercase(),
        }
    }

    /// Whether this is UTF-8 (with or without byte-order mark).
    pub fn is_utf8(self) -> bool {
        self.codec == encoding_rs::UTF_8
    }

    /// Why a config label is not an encoding, for diagnostics.
    pub fn check_label(label: &str) -> Result<(), String> {
        if Encoding::from_label(label).is_some() {
            Ok(())
        } else {
            Err(format!(
                "`{label}` is not an encoding label; use a WHATWG Encoding Standard label such as utf-8, utf-8-bom, \
                 latin-1, windows-1252, windows-1256, windows-1251, windows-874, iso-8859-6, gb18030, shift_jis or \
                 utf-16le"
            ))
        }
    }
}

impl Default for Encoding {
    fn default() -> Self {
        Encoding::UTF8
    }
}

impl std::fmt::Debug for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for Encoding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Encoding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let label = String::deserialize(d)?;
        Encoding::from_label(&label).ok_or_else(|| {
            serde::de::Error::custom(Encoding::check_label(&label).err().unwrap_or_default())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_aliases_keep_their_spelling() {
        for label in [
            "utf-8",
            "utf-8-bom",
            "latin-1",
            "windows-1252",
            "windows-1256",
            "windows-1251",
            "windows-874",
            "iso-8859-6",
            "gb18030",
            "shift_jis",
            "utf-16le",
        ] {
            let e = Encoding::from_label(label).unwrap_or_else(|| panic!("{label}"));
            assert_eq!(e.name(), label);
            assert_eq!(Encoding::from_label(&e.name()), Some(e));
        }
        assert_eq!(Encoding::from_label(" UTF8 "), Some(Encoding::UTF8));
        assert_eq!(
            Encoding::from_label("cp1256").map(|e| e.name()),
            Some("windows-1256".into())
        );
        assert_eq!(
            Encoding::from_label("tis-620").map(|e| e.name()),
            Some("windows-874".into())
        );
        assert_eq!(Encoding::LATIN1.codec(), encoding_rs::WINDOWS_1252);
        assert_ne!(Encoding::LATIN1, Encoding::WINDOWS_1252);
        assert!(Encoding::UTF8_BOM.is_utf8() && !Encoding::LATIN1.is_utf8());
    }

    #[test]
    fn unknown_and_replacement_labels_are_refused() {
        assert_eq!(Encoding::from_label("utf8x"), None);
        assert_eq!(Encoding::from_label("iso-2022-kr"), None);
        assert!(
            Encoding::check_label("klingon")
                .unwrap_err()
                .contains("windows-1256")
        );
    }
}
