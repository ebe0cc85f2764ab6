//! Turning the bytes of a delivery into UTF-8 text according to the configured [`Encoding`].
//!
//! UTF-8 is validated strictly (a byte-order mark is removed if present); Latin-1 and Windows-1252 are decoded with
//! the WHATWG windows-1252 decoder (a superset of Latin-1 for printable text), which cannot fail. Files that are
//! evidently in another encoding (UTF-16 byte-order mark, a UTF-8 BOM in a file declared Latin-1) are rejected
//! instead of being decoded into garbage.

use std::borrow::Cow;
use std::path::Path;

use dh_config::country::Encoding;

use crate::error::IngestError;
use crate::table::hex_bytes;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes `bytes` to text. Borrowed when no conversion is needed.
pub fn decode<'a>(
    file: &Path,
    bytes: &'a [u8],
    encoding: Encoding,
) -> Result<Cow<'a, str>, IngestError> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(IngestError::WrongEncoding {
            file: file.to_path_buf(),
            message: "the file starts with a UTF-16 byte-order mark; UTF-16 is not supported"
                .to_string(),
        });
    }
    match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => {
            let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
            let bom_len = (bytes.len() - body.len()) as u64;
            match std::str::from_utf8(body) {
                Ok(text) => Ok(Cow::Borrowed(text)),
                Err(e) => {
                    let at = e.valid_up_to();
                    let line = body[..at].iter().filter(|b| **b == b'\n').count() as u64 + 1;
                    Err(IngestError::Encoding {
                        file: file.to_path_buf(),
                        line,
                        byte_offset: at as u64 + bom_len,
                        expected: "UTF-8",
                        bytes: hex_bytes(&body[at..]),
                    })
                }
            }
        }
        Encoding::Latin1 | Encoding::Windows1252 => {
            if bytes.starts_with(UTF8_BOM) {
                return Err(IngestError::WrongEncoding {
                    file: file.to_path_buf(),
                    message: "the file starts with a UTF-8 byte-order mark but the config says it is Latin-1/Windows-1252"
                        .to_string(),
                });
            }
            let (text, _had_unmappable) =
                encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("x.csv")
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(
            decode(p(), "a,é\n".as_bytes(), Encoding::Utf8).unwrap(),
            "a,é\n"
        );
        assert_eq!(
            decode(p(), b"\xEF\xBB\xBFa,b\n", Encoding::Utf8Bom).unwrap(),
            "a,b\n"
        );
        assert_eq!(
            decode(p(), b"\xEF\xBB\xBFa,b\n", Encoding::Utf8).unwrap(),
            "a,b\n"
        );
        assert_eq!(decode(p(), b"a,b\n", Encoding::Utf8Bom).unwrap(), "a,b\n");
    }

    #[test]
    fn latin1_decodes_high_bytes() {
        assert_eq!(
            decode(p(), b"S\xE3o Tom\xE9", Encoding::Latin1).unwrap(),
            "São Tomé"
        );
        assert_eq!(decode(p(), b"\x80", Encoding::Windows1252).unwrap(), "€");
    }

    #[test]
    fn invalid_utf8_names_line_and_offset() {
        let err = decode(p(), b"a,b\nc,\xE9t\xE9\n", Encoding::Utf8).unwrap_err();
        match err {
            IngestError::Encoding {
                line,
                byte_offset,
                ref bytes,
                ..
            } => {
                assert_eq!(line, 2);
                assert_eq!(byte_offset, 6);
                assert!(bytes.starts_with("e9"));
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn rejects_utf16_and_bom_declared_latin1() {
        assert!(matches!(
            decode(p(), b"\xFF\xFEa\0", Encoding::Utf8),
            Err(IngestError::WrongEncoding { .. })
        ));
        assert!(matches!(
            decode(p(), b"\xEF\xBB\xBFa", Encoding::Latin1),
            Err(IngestError::WrongEncoding { .. })
        ));
    }
}
