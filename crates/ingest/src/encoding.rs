//! Turning the bytes of a delivery into UTF-8 text according to the configured [`Encoding`].
//!
//! UTF-8 is validated strictly (a byte-order mark is removed if present); every other WHATWG encoding is decoded with
//! its `encoding_rs` decoder (Latin-1 as windows-1252, a superset for printable text); a byte sequence that is not a
//! character in a multi-byte encoding is an error naming its line and offset, never a U+FFFD in the data. Files that
//! are evidently in another encoding (a UTF-16 byte-order mark in a file declared single-byte, a UTF-8 BOM in a file
//! declared Latin-1) are rejected instead of being decoded into garbage.

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
    let utf16 =
        encoding.codec() == encoding_rs::UTF_16LE || encoding.codec() == encoding_rs::UTF_16BE;
    if !utf16 && (bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF")) {
        return Err(IngestError::WrongEncoding {
            file: file.to_path_buf(),
            message: format!(
                "the file starts with a UTF-16 byte-order mark but the config says it is {encoding}; set \
                 `encoding = \"utf-16le\"` (or utf-16be)"
            ),
        });
    }
    if encoding.is_utf8() {
        let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        let bom_len = (bytes.len() - body.len()) as u64;
        return match std::str::from_utf8(body) {
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
        };
    }
    if bytes.starts_with(UTF8_BOM) {
        return Err(IngestError::WrongEncoding {
            file: file.to_path_buf(),
            message: format!(
                "the file starts with a UTF-8 byte-order mark but the config says it is {encoding}"
            ),
        });
    }
    // A byte-order mark of the configured UTF-16 flavour is removed; the other flavour's mark was refused above
    // only for non-UTF-16 encodings, so check it here.
    let body = if utf16 {
        let (own, other): (&[u8], &[u8]) = if encoding.codec() == encoding_rs::UTF_16LE {
            (b"\xFF\xFE", b"\xFE\xFF")
        } else {
            (b"\xFE\xFF", b"\xFF\xFE")
        };
        if bytes.starts_with(other) {
            return Err(IngestError::WrongEncoding {
                file: file.to_path_buf(),
                message: format!(
                    "the file's byte-order mark says the other byte order than the configured {encoding}"
                ),
            });
        }
        bytes.strip_prefix(own).unwrap_or(bytes)
    } else {
        bytes
    };
    let (text, had_errors) = encoding.codec().decode_without_bom_handling(body);
    if had_errors {
        // Single-byte code pages decode every byte; multi-byte ones (gb18030, shift_jis, UTF-16) can meet bytes
        // that are not a character. Name the first such position instead of writing U+FFFD into the data.
        let at = first_undecodable(encoding, body);
        let line = body[..at].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        return Err(IngestError::Encoding {
            file: file.to_path_buf(),
            line,
            byte_offset: at as u64 + (bytes.len() - body.len()) as u64,
            expected: if utf16 {
                "UTF-16 text"
            } else {
                "text in the configured encoding"
            },
            bytes: hex_bytes(&body[at..]),
        });
    }
    Ok(Cow::Owned(text.into_owned()))
}

/// Byte offset of the first malformed sequence (decoding chunk by chunk until the decoder reports one).
fn first_undecodable(encoding: Encoding, bytes: &[u8]) -> usize {
    let mut decoder = encoding.codec().new_decoder_without_bom_handling();
    let mut out = String::with_capacity(64);
    let mut read = 0usize;
    while read < bytes.len() {
        out.clear();
        let (result, n) =
            decoder.decode_to_string_without_replacement(&bytes[read..], &mut out, false);
        match result {
            encoding_rs::DecoderResult::Malformed(bad, _) => {
                return (read + n).saturating_sub(bad as usize);
            }
            encoding_rs::DecoderResult::OutputFull => {
                out.reserve(64);
                read += n;
                if n == 0 {
                    out.reserve(out.capacity());
                }
            }
            encoding_rs::DecoderResult::InputEmpty => return bytes.len(),
        }
    }
    bytes.len()
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
            decode(p(), "a,é\n".as_bytes(), Encoding::UTF8).unwrap(),
            "a,é\n"
        );
        assert_eq!(
            decode(p(), b"\xEF\xBB\xBFa,b\n", Encoding::UTF8_BOM).unwrap(),
            "a,b\n"
        );
        assert_eq!(
            decode(p(), b"\xEF\xBB\xBFa,b\n", Encoding::UTF8).unwrap(),
            "a,b\n"
        );
        assert_eq!(decode(p(), b"a,b\n", Encoding::UTF8_BOM).unwrap(), "a,b\n");
    }

    #[test]
    fn latin1_decodes_high_bytes() {
        assert_eq!(
            decode(p(), b"S\xE3o Tom\xE9", Encoding::LATIN1).unwrap(),
            "São Tomé"
        );
        assert_eq!(decode(p(), b"\x80", Encoding::WINDOWS_1252).unwrap(), "€");
    }

    #[test]
    fn invalid_utf8_names_line_and_offset() {
        let err = decode(p(), b"a,b\nc,\xE9t\xE9\n", Encoding::UTF8).unwrap_err();
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
            decode(p(), b"\xFF\xFEa\0", Encoding::UTF8),
            Err(IngestError::WrongEncoding { .. })
        ));
        assert!(matches!(
            decode(p(), b"\xEF\xBB\xBFa", Encoding::LATIN1),
            Err(IngestError::WrongEncoding { .. })
        ));
    }
}
