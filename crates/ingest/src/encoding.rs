//! Turning the bytes of a delivery into UTF-8 text according to the configured [`Encoding`].
//!
//! UTF-8 is validated strictly (a byte-order mark is removed if present); every other WHATWG encoding is decoded with
//! its `encoding_rs` decoder (Latin-1 as windows-1252, a superset for printable text); a byte sequence that is not a
//! character in a multi-byte encoding is an error naming its line and offset, never a U+FFFD in the data. Files that
//! are evidently in another encoding (a UTF-16 byte-order mark in a file declared single-byte, a UTF-8 BOM in a file
//! declared Latin-1, UTF-16 without a byte-order mark, every other byte zero, in a file declared UTF-8 or a code page)
//! are rejected instead of being decoded into garbage. Offsets count from the start of the file (byte-order mark
//! included); lines count the newline characters of the decoded text before the offset.

use std::path::Path;

use dh_config::country::Encoding;

use crate::error::IngestError;
use crate::text_stream::{TextStream, is_utf16};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes `bytes` to text: a [`TextStream`] over them, drained.
pub fn decode(file: &Path, bytes: &[u8], encoding: Encoding) -> Result<String, IngestError> {
    let mut stream = TextStream::new(file, std::io::Cursor::new(bytes), encoding);
    let mut text = Vec::with_capacity(bytes.len());
    while !stream.at_end() {
        stream.fill()?;
        text.extend_from_slice(stream.text());
        let n = stream.text().len();
        stream.consume(n);
    }
    // the stream hands out only valid UTF-8
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// The checks on the start of a file (`head`: its first [`crate::text_stream::HEAD_BYTES`] bytes, or all of a
/// shorter file): a byte-order mark or a UTF-16 look that contradicts the configured encoding is refused. Returns
/// the length of the byte-order mark to skip (UTF-8's, or the configured UTF-16 flavour's).
pub(crate) fn check_start(
    file: &Path,
    head: &[u8],
    encoding: Encoding,
) -> Result<usize, IngestError> {
    let utf16 = is_utf16(encoding);
    if !utf16 && (head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF")) {
        return Err(IngestError::WrongEncoding {
            file: file.to_path_buf(),
            message: format!(
                "the file starts with a UTF-16 byte-order mark but the config says it is {encoding}; set \
                 `encoding = \"utf-16le\"` (or utf-16be)"
            ),
        });
    }
    let utf16_guess = (!utf16 && encoding.codec().is_ascii_compatible())
        .then(|| looks_like_utf16(head))
        .flatten();
    if let Some(suggest) = utf16_guess {
        return Err(IngestError::WrongEncoding {
            file: file.to_path_buf(),
            message: format!(
                "the file looks like UTF-16 text without a byte-order mark (every other byte is zero) but the \
                 config says it is {encoding}; set `encoding = \"{suggest}\"`"
            ),
        });
    }
    if encoding.is_utf8() {
        return Ok(if head.starts_with(UTF8_BOM) {
            UTF8_BOM.len()
        } else {
            0
        });
    }
    if head.starts_with(UTF8_BOM) {
        return Err(IngestError::WrongEncoding {
            file: file.to_path_buf(),
            message: format!(
                "the file starts with a UTF-8 byte-order mark but the config says it is {encoding}"
            ),
        });
    }
    if !utf16 {
        return Ok(0);
    }
    // A byte-order mark of the configured UTF-16 flavour is removed; the other flavour's mark was refused above
    // only for non-UTF-16 encodings, so check it here.
    let (own, other): (&[u8], &[u8]) = if encoding.codec() == encoding_rs::UTF_16LE {
        (b"\xFF\xFE", b"\xFE\xFF")
    } else {
        (b"\xFE\xFF", b"\xFF\xFE")
    };
    if head.starts_with(other) {
        return Err(IngestError::WrongEncoding {
            file: file.to_path_buf(),
            message: format!(
                "the file's byte-order mark says the other byte order than the configured {encoding}"
            ),
        });
    }
    Ok(if head.starts_with(own) { own.len() } else { 0 })
}

/// Whether text declared UTF-8 or a one-byte code page looks like UTF-16 without a byte-order mark: NUL bytes in most
/// odd (little-endian) or even (big-endian) positions of its start. Returns the encoding to suggest.
fn looks_like_utf16(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(4096)];
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let nul_at = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (nul_at(0), nul_at(1));
    if odd * 4 >= pairs * 3 && even == 0 {
        Some("utf-16le")
    } else if even * 4 >= pairs * 3 && odd == 0 {
        Some("utf-16be")
    } else {
        None
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

    fn encoding_error(bytes: &[u8], label: &str) -> (u64, u64, String) {
        let e = Encoding::from_label(label).unwrap();
        match decode(p(), bytes, e) {
            Err(IngestError::Encoding {
                line,
                byte_offset,
                bytes,
                ..
            }) => (line, byte_offset, bytes),
            other => panic!("{label}: expected an encoding error, got {other:?}"),
        }
    }

    #[test]
    fn multibyte_sequence_cut_at_the_end_of_the_file_is_named() {
        // gb18030 and shift_jis lead bytes with no trail byte: the error points at the lead byte.
        assert_eq!(
            encoding_error(b"a,b\n1,\x81", "gb18030"),
            (2, 6, "81".into())
        );
        assert_eq!(
            encoding_error(b"a,b\n1,\x82", "shift_jis"),
            (2, 6, "82".into())
        );
        // An odd number of bytes in UTF-16.
        assert_eq!(encoding_error(b"a\0\n\0b", "utf-16le"), (2, 4, "62".into()));
    }

    #[test]
    fn malformed_sequence_offset_excludes_bytes_read_after_it() {
        // A lone high surrogate followed by `b`: the decoder reads `b` before reporting the surrogate.
        assert_eq!(
            encoding_error(b"\xFF\xFEa\0\n\0\x00\xD8b\0", "utf-16le"),
            (2, 6, "00".into())
        );
        // A gb18030 four-byte sequence broken at its third byte.
        let (line, offset, _) = encoding_error(b"x\n\x81\x30\x20\x30", "gb18030");
        assert_eq!((line, offset), (2, 2));
    }

    #[test]
    fn utf16_lines_count_newline_characters_not_0a_bytes() {
        // U+0A41 is the bytes 41 0a in UTF-16LE: not a line break.
        let mut bytes = "\u{0A41}\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>();
        bytes.extend_from_slice(b"\x00\xDC");
        assert_eq!(encoding_error(&bytes, "utf-16le").0, 2);
    }

    #[test]
    fn utf16_without_bom_declared_utf8_is_named() {
        let bytes: Vec<u8> = "id,name\n1,x\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let err = decode(p(), &bytes, Encoding::UTF8).unwrap_err();
        assert!(
            matches!(err, IngestError::WrongEncoding { .. })
                && err.to_string().contains("utf-16le"),
            "{err}"
        );
    }

    /// Property: for random bytes in each multi-byte encoding, an error's offset is that of the first malformed
    /// sequence: everything before it decodes cleanly, and it is inside the file.
    #[test]
    fn error_offset_is_the_first_malformed_sequence() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for label in [
            "gb18030",
            "shift_jis",
            "euc-kr",
            "big5",
            "utf-16le",
            "utf-16be",
            "utf-8",
        ] {
            let e = Encoding::from_label(label).unwrap();
            let mut errors = 0;
            for _ in 0..400 {
                let len = rng.random_range(1..40);
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        if rng.random_bool(0.5) {
                            rng.random_range(0x20..0x7f)
                        } else {
                            rng.random()
                        }
                    })
                    .collect();
                let Err(IngestError::Encoding {
                    byte_offset, line, ..
                }) = decode(p(), &bytes, e)
                else {
                    continue;
                };
                errors += 1;
                let at = byte_offset as usize;
                assert!(at < bytes.len(), "{label}: {at} of {}", bytes.len());
                let bom = if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
                    2
                } else {
                    0
                };
                let prefix = &bytes[bom.min(at)..at];
                let (text, bad) = e.codec().decode_without_bom_handling(prefix);
                assert!(
                    !bad,
                    "{label}: bytes before offset {at} do not decode: {bytes:02x?}"
                );
                assert_eq!(line, text.matches('\n').count() as u64 + 1, "{label}");
            }
            assert!(errors > 20, "{label}: only {errors} errors");
        }
    }
}
