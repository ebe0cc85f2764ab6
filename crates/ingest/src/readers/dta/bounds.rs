//! Length fields of a Stata file checked against the file's real size before the `dta` library reads it: the library
//! allocates a buffer of whatever length a field declares before reading it, so a 570 KB file declaring a 2 GB
//! value-label table made it allocate 2 GB. For releases 117-119 (sections located through the file's `<map>`) every
//! characteristic (`<ch>`), long string (`GSO`) and value-label table (`<lbl>`, with its entry count and text
//! length) must fit in what is left of the file; for releases 113-115 (no map) the expansion fields and the
//! value-label tables after the data are checked the same way. A field that does not fit is an
//! [`IngestError::Format`] naming its byte offset. Releases before 113 are read by the library as they are.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::IngestError;

/// Bytes looked at for the header and `<map>`.
const HEAD: u64 = 4096;

/// Reads the file's structure; `Ok` when every length field fits (or the file has no map to walk).
pub(super) fn check(path: &Path) -> Result<(), IngestError> {
    let (mut file, size) = crate::source::open_regular(path)?;
    let fail = |message: String| IngestError::Format {
        file: path.to_path_buf(),
        format: super::FORMAT,
        message,
    };
    let mut head = Vec::new();
    (&mut file)
        .take(HEAD)
        .read_to_end(&mut head)
        .map_err(|source| IngestError::Io {
            file: path.to_path_buf(),
            source,
        })?;
    let Some(layout) = Layout::of(&head) else {
        return match Binary::of(&head) {
            Some(binary) => binary.check(&mut file, size).map_err(fail),
            None => Ok(()),
        };
    };
    let mut walk = Walk {
        file: &mut file,
        size,
        big_endian: layout.big_endian,
    };
    walk.sections(&layout).map_err(fail)
}

/// What the header of a release 113-115 file (binary, no map) says: the value labels follow the data, whose size
/// comes from the variable types and the observation count.
struct Binary {
    release: u8,
    big_endian: bool,
    variables: u64,
    observations: u64,
}

impl Binary {
    /// Fixed header size of releases 113-115.
    const HEADER: u64 = 109;

    fn of(head: &[u8]) -> Option<Binary> {
        let release = *head.first()?;
        if !(113..=115).contains(&release) {
            return None;
        }
        let big_endian = match head.get(1)? {
            1 => true,
            2 => false,
            _ => return None,
        };
        let u16_at = |b: [u8; 2]| {
            if big_endian {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        let u32_at = |b: [u8; 4]| {
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let variables = u64::from(u16_at(head.get(4..6)?.try_into().ok()?));
        let observations = u64::from(u32_at(head.get(6..10)?.try_into().ok()?));
        Some(Binary {
            release,
            big_endian,
            variables,
            observations,
        })
    }

    /// Walks descriptors, expansion fields and data to the value labels, and checks each table's length. A file too
    /// short for its descriptors or data is left to the library (it reports truncation itself).
    fn check(&self, file: &mut File, size: u64) -> Result<(), String> {
        let mut walk = Walk {
            file,
            size,
            big_endian: self.big_endian,
        };
        let k = self.variables;
        let format_width = if self.release >= 114 { 49 } else { 12 };
        // typlist, varlist, srtlist, fmtlist, lbllist, variable labels.
        let types_at = Self::HEADER;
        let descriptors = k + 33 * k + 2 * (k + 1) + format_width * k + 33 * k + 81 * k;
        if types_at + descriptors > size {
            return Ok(());
        }
        walk.seek(types_at)?;
        let mut types = vec![0u8; k as usize];
        walk.file
            .read_exact(&mut types)
            .map_err(|e| e.to_string())?;
        walk.seek(types_at + descriptors)?;
        // Expansion fields: (type byte, length, contents) up to a type 0 of length 0.
        loop {
            let from = walk.position()?;
            let kind = walk.bytes::<1>()?[0];
            let len = walk.u32()?;
            if kind == 0 && len == 0 {
                break;
            }
            walk.skip("expansion field", from, len)?;
        }
        let width: u64 = types
            .iter()
            .map(|&t| match t {
                251 => 1,
                252 => 2,
                253 | 254 => 4,
                255 => 8,
                n => u64::from(n),
            })
            .sum();
        let data_at = walk.position()?;
        let Some(labels_at) = width
            .checked_mul(self.observations)
            .and_then(|d| d.checked_add(data_at))
            .filter(|&at| at <= size)
        else {
            return Ok(());
        };
        walk.seek(labels_at)?;
        // Value-label tables to the end of the file: length, name (33 bytes), 3 bytes of padding, table.
        while walk.position()? < size {
            let from = walk.position()?;
            let len = walk.u32()?;
            walk.skip("value-label name", from, 36)?;
            walk.table(from, len)?;
        }
        Ok(())
    }
}

/// What the header says about a release 117+ file.
struct Layout {
    release: u32,
    big_endian: bool,
    /// The 14 offsets of the `<map>`.
    map: [u64; 14],
}

impl Layout {
    fn of(head: &[u8]) -> Option<Layout> {
        if !head.starts_with(b"<stata_dta>") {
            return None;
        }
        let tag = |name: &[u8]| -> Option<&[u8]> {
            let open = [b"<", name, b">"].concat();
            let close = [b"</", name, b">"].concat();
            let start = memchr::memmem::find(head, &open)? + open.len();
            let len = memchr::memmem::find(&head[start..], &close)?;
            Some(&head[start..start + len])
        };
        let release: u32 = std::str::from_utf8(tag(b"release")?).ok()?.parse().ok()?;
        let big_endian = tag(b"byteorder")? == b"MSF";
        let at = memchr::memmem::find(head, b"<map>")? + b"<map>".len();
        let bytes = head.get(at..at + 14 * 8)?;
        let mut map = [0u64; 14];
        for (i, chunk) in bytes.chunks_exact(8).enumerate() {
            let b: [u8; 8] = chunk.try_into().ok()?;
            map[i] = if big_endian {
                u64::from_be_bytes(b)
            } else {
                u64::from_le_bytes(b)
            };
        }
        Some(Layout {
            release,
            big_endian,
            map,
        })
    }
}

struct Walk<'a> {
    file: &'a mut File,
    size: u64,
    big_endian: bool,
}

impl Walk<'_> {
    fn sections(&mut self, layout: &Layout) -> Result<(), String> {
        let [.., characteristics, _data, strls, value_labels, _, _] = layout.map;
        self.characteristics(characteristics)?;
        self.strls(strls, layout.release)?;
        self.value_labels(value_labels, layout.release)
    }

    fn seek(&mut self, at: u64) -> Result<(), String> {
        if at > self.size {
            return Err(format!(
                "the map points at byte {at}, past the end of the file ({} bytes)",
                self.size
            ));
        }
        self.file
            .seek(SeekFrom::Start(at))
            .map(|_| ())
            .map_err(|e| format!("cannot seek to byte {at}: {e}"))
    }

    fn position(&mut self) -> Result<u64, String> {
        self.file.stream_position().map_err(|e| e.to_string())
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut b = [0u8; N];
        let at = self.position()?;
        self.file
            .read_exact(&mut b)
            .map_err(|_| format!("the file ends inside a section (byte {at})"))?;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u64, String> {
        let b = self.bytes::<4>()?;
        Ok(u64::from(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }))
    }

    /// Whether the next bytes are `tag` (consumed when they are).
    fn next_is(&mut self, tag: &[u8]) -> Result<bool, String> {
        let at = self.position()?;
        let mut b = vec![0u8; tag.len()];
        if self.file.read_exact(&mut b).is_ok() && b == tag {
            return Ok(true);
        }
        self.file
            .seek(SeekFrom::Start(at))
            .map_err(|e| e.to_string())?;
        Ok(false)
    }

    fn expect(&mut self, tag: &[u8]) -> Result<(), String> {
        let at = self.position()?;
        if self.next_is(tag)? {
            Ok(())
        } else {
            Err(format!(
                "expected `{}` at byte {at}",
                String::from_utf8_lossy(tag)
            ))
        }
    }

    /// Skips `len` bytes of a field of `what` starting at `from`, refusing a length past the end of the file.
    fn skip(&mut self, what: &str, from: u64, len: u64) -> Result<(), String> {
        let at = self.position()?;
        let left = self.size.saturating_sub(at);
        if len > left {
            return Err(format!(
                "the {what} at byte {from} declares {len} bytes but the file has {left} left; the file is damaged \
                 or not what it says"
            ));
        }
        self.seek(at + len)
    }

    fn characteristics(&mut self, at: u64) -> Result<(), String> {
        self.seek(at)?;
        self.expect(b"<characteristics>")?;
        loop {
            let from = self.position()?;
            if self.next_is(b"<ch>")? {
                let len = self.u32()?;
                self.skip("characteristic", from, len)?;
                self.expect(b"</ch>")?;
            } else {
                return self.expect(b"</characteristics>");
            }
        }
    }

    fn strls(&mut self, at: u64, release: u32) -> Result<(), String> {
        self.seek(at)?;
        self.expect(b"<strls>")?;
        loop {
            let from = self.position()?;
            if self.next_is(b"GSO")? {
                // v (4 bytes), o (4 bytes in 117, 8 from 118), t (1 byte), then the length.
                let skip = if release >= 118 { 13 } else { 9 };
                self.skip("long string header", from, skip)?;
                let len = self.u32()?;
                self.skip("long string", from, len)?;
            } else {
                return self.expect(b"</strls>");
            }
        }
    }

    fn value_labels(&mut self, at: u64, release: u32) -> Result<(), String> {
        self.seek(at)?;
        self.expect(b"<value_labels>")?;
        let name = if release >= 118 { 129 } else { 33 };
        loop {
            let from = self.position()?;
            if !self.next_is(b"<lbl>")? {
                return self.expect(b"</value_labels>");
            }
            let len = self.u32()?;
            self.skip("value-label name", from, name + 3)?;
            self.table(from, len)?;
            self.expect(b"</lbl>")?;
        }
    }

    /// One value-label table of `len` bytes starting here (its header began at `from`): entry count and text length
    /// must fit in it, and it in the file.
    fn table(&mut self, from: u64, len: u64) -> Result<(), String> {
        let start = self.position()?;
        if len < 8 {
            return Err(format!(
                "the value-label table at byte {from} declares {len} bytes, fewer than its counts take"
            ));
        }
        let left = self.size.saturating_sub(start);
        if len > left {
            return Err(format!(
                "the value-label table at byte {from} declares {len} bytes but the file has {left} left; the file \
                 is damaged or not what it says"
            ));
        }
        let entries = self.u32()?;
        let text = self.u32()?;
        // n offsets and n values (4 bytes each), then the text.
        let needed = 8 + entries * 8 + text;
        if needed > len {
            return Err(format!(
                "the value-label table at byte {from} declares {entries} entries and {text} bytes of text, more \
                 than its {len} bytes hold"
            ));
        }
        self.seek(start)?;
        self.skip("value-label table", from, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/labelled.dta");
        std::fs::read(path).unwrap()
    }

    fn check_bytes(bytes: &[u8]) -> Result<(), IngestError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.dta");
        std::fs::write(&path, bytes).unwrap();
        check(&path)
    }

    /// The offset of the first value-label table's length field.
    fn lbl_len_at(bytes: &[u8]) -> usize {
        memchr::memmem::find(bytes, b"<value_labels><lbl>").unwrap() + b"<value_labels><lbl>".len()
    }

    #[test]
    fn a_file_written_by_pyreadstat_passes() {
        check_bytes(&fixture()).unwrap();
    }

    #[test]
    fn a_value_label_length_past_the_end_is_refused_with_its_offset() {
        let mut bytes = fixture();
        let at = lbl_len_at(&bytes);
        bytes[at..at + 4].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        let err = check_bytes(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("value-label table at byte")
                && err.contains("declares 2147483632 bytes but the file has"),
            "{err}"
        );
        // The reader refuses it the same way, before the library sees it.
        let mut d = dh_config::Delivery::new("x.dta", dh_config::country::Format::Dta);
        d.columns.clear();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.dta");
        std::fs::write(&path, &bytes).unwrap();
        let err = crate::read_delivery(&path, &d).unwrap_err().to_string();
        assert!(err.contains("declares 2147483632 bytes"), "{err}");
    }

    #[test]
    fn an_entry_count_beyond_the_table_is_refused() {
        let mut bytes = fixture();
        // After the length: the name (129 bytes in release 119) and 3 bytes of padding, then the entry count.
        let at = lbl_len_at(&bytes) + 4 + 129 + 3;
        bytes[at..at + 4].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        let err = check_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains("declares 1073741824 entries"), "{err}");
    }

    fn corpus(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus/stata")
            .join(name);
        std::fs::read(path).unwrap()
    }

    /// Releases 114 and 115 (pandas, R foreign, pyreadstat) pass; a value-label length or entry count past the end
    /// of a 115 file is refused with its offset (the table of `q10` starts at byte 1566).
    #[test]
    fn binary_releases_are_walked_to_their_value_labels() {
        for name in ["pandas_114.dta", "foreign_cp1256.dta", "pyreadstat_v12.dta"] {
            check_bytes(&corpus(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let mut bytes = corpus("pyreadstat_v12.dta");
        bytes[1566..1570].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        let err = check_bytes(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("value-label table at byte 1566 declares 2147483632 bytes"),
            "{err}"
        );
        let mut bytes = corpus("pyreadstat_v12.dta");
        bytes[1566 + 40..1566 + 44].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        let err = check_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains("declares 1073741824 entries"), "{err}");
    }

    #[test]
    fn truncated_and_random_files_give_errors_or_pass_never_panic() {
        for bytes in [fixture(), corpus("pyreadstat_v12.dta")] {
            for cut in (0..bytes.len()).step_by(7) {
                let _ = check_bytes(&bytes[..cut]);
            }
        }
    }
}
