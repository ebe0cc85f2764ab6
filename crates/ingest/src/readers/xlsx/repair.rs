//! A sheet's raw XML: a byte scan for what calamine would misread silently and for merged ranges ([`scan_sheet`]),
//! and a second chance for a worksheet calamine refuses over one cell: finds the sheet's XML in the workbook, trims the
//! blanks around values of number, boolean, error and shared-text cells (`<v> 41</v>`, which Excel and openpyxl read
//! as 41), and returns the workbook with that sheet rewritten (the other parts copied as they are). A value that is
//! still not what its cell type requires is an [`IngestError::UnreadableCell`] naming sheet and cell, never the value.

use std::io::{BufReader, Cursor, Read, Write};
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;
use zip::write::{SimpleFileOptions, ZipWriter};

use super::cell_name;
use crate::error::IngestError;

/// Largest sheet XML rewritten (uncompressed); larger ones keep calamine's error.
const MAX_SHEET_XML: u64 = 1 << 30;

/// The workbook at `path` with sheet `sheet` repaired, or `None` when there is nothing this can repair (the caller
/// then reports calamine's error). An error names the first cell whose value cannot be read.
pub(super) fn repaired_workbook(path: &Path, sheet: &str) -> Result<Option<Vec<u8>>, IngestError> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(None);
    };
    let Ok(mut zip) = ZipArchive::new(BufReader::new(file)) else {
        return Ok(None);
    };
    let Some(entry) = sheet_part(&mut zip, sheet) else {
        return Ok(None);
    };
    let Some(xml) = read_part(&mut zip, &entry, MAX_SHEET_XML) else {
        return Ok(None);
    };
    let fixed = match trim_values(&xml) {
        Ok(Some(fixed)) => fixed,
        Ok(None) => return Ok(None),
        Err(bad) => {
            return Err(IngestError::UnreadableCell {
                file: path.to_path_buf(),
                sheet: sheet.to_string(),
                cell: bad.cell,
                problem: bad.problem.to_string(),
            });
        }
    };
    Ok(rezip(&mut zip, &entry, &fixed))
}

/// What a byte scan of a sheet's XML finds (no XML parsing; one decompression of the part).
pub(super) struct SheetScan {
    /// The sheet holds a value calamine may misread without an error: one with blanks around it (`<v> 3</v>`; a
    /// padded number is refused, but a padded shared-string index reads as string 0) or a shared-string cell whose
    /// value is not an index (also read as string 0). Such a sheet must be read through [`repaired_workbook`], which
    /// trims what can be trimmed and names the cell that cannot be read.
    pub suspect: bool,
    /// Merged ranges ((first row, first column), (last row, last column)), 0-based, from `<mergeCell ref="A1:C3"/>`.
    pub merged: Vec<((u32, u32), (u32, u32))>,
}

/// Scans the worksheet named `sheet`; `None` when its part cannot be found or read (calamine reports that itself).
/// The part is decompressed in chunks, so memory stays at [`SCAN_CHUNK`] plus [`SCAN_KEEP`] whatever the sheet's size.
pub(super) fn scan_sheet(path: &Path, sheet: &str) -> Option<SheetScan> {
    let file = std::fs::File::open(path).ok()?;
    let mut zip = ZipArchive::new(BufReader::new(file)).ok()?;
    let entry = sheet_part(&mut zip, sheet)?;
    let part = zip.by_name(&entry).ok()?;
    scan_stream(part).ok()
}

/// Bytes decompressed per step of [`scan_sheet`].
const SCAN_CHUNK: usize = 1 << 20;
/// Bytes after a match's start that its check may look at (a cell up to its `</c>`, a `<mergeCell>` tag); a match
/// nearer than this to the end of what has been read waits for the next chunk.
const SCAN_KEEP: usize = 1 << 16;

/// [`SheetScan`] of a sheet's XML read from `reader`, chunk by chunk: each match is looked at once, when
/// [`SCAN_KEEP`] bytes after its start are in the window (or the part has ended).
fn scan_stream(mut reader: impl Read) -> std::io::Result<SheetScan> {
    let mut scan = SheetScan {
        suspect: false,
        merged: Vec::new(),
    };
    let mut window: Vec<u8> = Vec::with_capacity(SCAN_CHUNK + SCAN_KEEP);
    let mut chunk = vec![0u8; SCAN_CHUNK];
    // Matches starting before `start` were looked at in an earlier window (the byte before it is kept for `</v>`).
    let mut start = 0;
    loop {
        let n = reader.read(&mut chunk)?;
        window.extend_from_slice(&chunk[..n]);
        let limit = if n == 0 {
            window.len()
        } else {
            window.len().saturating_sub(SCAN_KEEP)
        };
        if limit > start {
            scan.suspect = scan.suspect || suspect(&window, start..limit);
            scan.merged.extend(merged_ranges(&window, start..limit));
            window.drain(..limit - 1);
            start = 1;
        }
        if n == 0 {
            return Ok(scan);
        }
    }
}

/// Positions of `needle` in `xml` that start inside `range`.
fn starts<'a>(
    xml: &'a [u8],
    needle: &'a [u8],
    range: std::ops::Range<usize>,
) -> impl Iterator<Item = usize> + 'a {
    let from = range.start.min(xml.len());
    memchr::memmem::find_iter(&xml[from..], needle)
        .map(move |at| at + from)
        .take_while(move |&at| at < range.end)
}

/// The `ref` of every `<mergeCell>` as 0-based corners; malformed refs are skipped.
fn merged_ranges(xml: &[u8], range: std::ops::Range<usize>) -> Vec<((u32, u32), (u32, u32))> {
    let mut out = Vec::new();
    for at in starts(xml, b"<mergeCell ", range) {
        let rest = &xml[at..];
        let tag = &rest[..memchr::memchr(b'>', rest).unwrap_or(rest.len())];
        let Some(start) = memchr::memmem::find(tag, b"ref=").map(|i| i + 5) else {
            continue;
        };
        let Some(value) = tag.get(start..) else {
            continue;
        };
        let value = &value[..value
            .iter()
            .position(|b| *b == b'"' || *b == b'\'')
            .unwrap_or(value.len())];
        let Ok(text) = std::str::from_utf8(value) else {
            continue;
        };
        let (first, last) = text.split_once(':').unwrap_or((text, text));
        if let (Some(a), Some(b)) = (cell_position(first), cell_position(last)) {
            out.push((a, b));
        }
    }
    out
}

/// (0-based row, 0-based column) of a cell reference such as `AB12`.
fn cell_position(reference: &str) -> Option<(u32, u32)> {
    let reference = reference.trim().trim_start_matches('$');
    let split = reference.find(|c: char| !c.is_ascii_alphabetic())?;
    let (letters, digits) = reference.split_at(split);
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let col = letters.bytes().try_fold(0u32, |acc, b| {
        Some(acc * 26 + u32::from(b.to_ascii_uppercase().checked_sub(b'A')?) + 1)
    })?;
    let row: u32 = digits.trim_start_matches('$').parse().ok()?;
    Some((row.checked_sub(1)?, col - 1))
}

/// See [`SheetScan::suspect`].
fn suspect(xml: &[u8], range: std::ops::Range<usize>) -> bool {
    let blank = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_whitespace());
    let padded = starts(xml, b"<v>", range.clone()).any(|at| blank(xml.get(at + 3)))
        || starts(xml, b"</v>", range.clone())
            .any(|at| blank(at.checked_sub(1).and_then(|i| xml.get(i))));
    padded
        || [&b" t=\"s\""[..], &b" t='s'"[..]].iter().any(|attr| {
            starts(xml, attr, range.clone()).any(|at| {
                let rest = &xml[at..];
                // The value of this cell: between its first `<v>` and `</v>`, if before the cell ends.
                let end_of_cell = memchr::memmem::find(rest, b"</c>").unwrap_or(rest.len());
                let cell = &rest[..end_of_cell];
                match (
                    memchr::memmem::find(cell, b"<v>"),
                    memchr::memmem::find(cell, b"</v>"),
                ) {
                    (Some(open), Some(close)) if open + 3 <= close => {
                        !cell[open + 3..close].iter().all(u8::is_ascii_digit)
                    }
                    _ => false,
                }
            })
        })
}

/// A cell whose value cannot be read as its type says.
#[derive(Debug, PartialEq)]
pub(super) struct BadCell {
    pub cell: String,
    pub problem: &'static str,
}

fn read_part<R: Read + std::io::Seek>(
    zip: &mut ZipArchive<R>,
    name: &str,
    max: u64,
) -> Option<Vec<u8>> {
    let file = zip.by_name(name).ok()?;
    if file.size() > max {
        return None;
    }
    // Not the declared size, which may lie: what is read, at most `max`.
    let mut out = Vec::new();
    file.take(max).read_to_end(&mut out).ok()?;
    Some(out)
}

/// The zip entry holding the worksheet named `sheet`: the workbook part (from `_rels/.rels`), its `<sheet>` of that
/// name, and the relationship its `r:id` names.
fn sheet_part<R: Read + std::io::Seek>(zip: &mut ZipArchive<R>, sheet: &str) -> Option<String> {
    let rels = read_part(zip, "_rels/.rels", 1 << 24)?;
    let workbook = relationships(&rels)
        .into_iter()
        .find(|(_, ty, _)| ty.ends_with("/officeDocument"))
        .map(|(_, _, target)| resolve("", &target))
        .unwrap_or_else(|| "xl/workbook.xml".to_string());
    let dir = workbook.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let file_name = workbook
        .rsplit_once('/')
        .map_or(workbook.as_str(), |(_, f)| f);
    let rels_path = if dir.is_empty() {
        format!("_rels/{file_name}.rels")
    } else {
        format!("{dir}/_rels/{file_name}.rels")
    };
    let book = read_part(zip, &workbook, 1 << 26)?;
    let id = sheet_rel_id(&book, sheet)?;
    let rels = read_part(zip, &rels_path, 1 << 24)?;
    let target = relationships(&rels)
        .into_iter()
        .find(|(rid, _, _)| *rid == id)?
        .2;
    Some(resolve(&dir, &target))
}

/// A relationship target as a zip entry name: absolute (`/xl/worksheets/sheet1.xml`) or relative to `dir`.
fn resolve(dir: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None if dir.is_empty() => target.to_string(),
        None => format!("{dir}/{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn attr(e: &BytesStart<'_>, local: &[u8], prefixed: bool) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        let key = a.key;
        let matches =
            key.local_name().as_ref().as_bytes() == local && (key.prefix().is_some() == prefixed);
        matches
            .then(|| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.into_owned())
            })
            .flatten()
    })
}

/// (Id, Type, Target) of every `<Relationship>`.
fn relationships(xml: &[u8]) -> Vec<(String, String, String)> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "Relationship" => {
                if let (Some(id), Some(target)) =
                    (attr(&e, b"Id", false), attr(&e, b"Target", false))
                {
                    out.push((id, attr(&e, b"Type", false).unwrap_or_default(), target));
                }
            }
            Ok(Event::Eof) | Err(_) => return out,
            _ => {}
        }
    }
}

/// The relationship id (`r:id`) of the `<sheet>` named `name` in the workbook part.
fn sheet_rel_id(xml: &[u8], name: &str) -> Option<String> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e))
                if e.local_name().as_ref() == "sheet"
                    && attr(&e, b"name", false).as_deref() == Some(name) =>
            {
                return attr(&e, b"id", true);
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

/// The sheet XML with blanks trimmed around the values of typed cells, `None` when nothing needed trimming.
pub(super) fn trim_values(xml: &[u8]) -> Result<Option<Vec<u8>>, BadCell> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    // (start, end, replacement) of each value text to rewrite.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let (mut row, mut col) = (0u32, 0u32);
    // The current cell: its name and type attribute.
    let mut cell: Option<(String, Option<String>)> = None;
    let mut value_start: Option<usize> = None;
    loop {
        buf.clear();
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            // Not well-formed XML: nothing to repair here; calamine's error stands.
            Err(_) => return Ok(None),
        };
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "row" => {
                if let Some(r) = attr(&e, b"r", false).and_then(|r| r.trim().parse::<u32>().ok()) {
                    row = r.saturating_sub(1);
                }
                col = 0;
            }
            Event::End(e) if e.local_name().as_ref() == "row" => {
                row = row.saturating_add(1);
            }
            Event::Start(e) if e.local_name().as_ref() == "c" => {
                let name = attr(&e, b"r", false).unwrap_or_else(|| cell_name(row, col));
                col = col.saturating_add(1);
                cell = Some((name, attr(&e, b"t", false)));
            }
            Event::Empty(e) if e.local_name().as_ref() == "c" => {
                col = col.saturating_add(1);
            }
            Event::End(e) if e.local_name().as_ref() == "c" => cell = None,
            Event::Start(e) if e.local_name().as_ref() == "v" && cell.is_some() => {
                value_start = Some(reader.buffer_position() as usize);
            }
            Event::End(e) if e.local_name().as_ref() == "v" => {
                if let (Some(start), Some((name, ty))) = (value_start.take(), &cell) {
                    let raw = xml.get(start..before).unwrap_or_default();
                    if let Some(trimmed) =
                        check_value(raw, ty.as_deref()).map_err(|problem| BadCell {
                            cell: name.clone(),
                            problem,
                        })?
                    {
                        edits.push((start, before, trimmed));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(xml.len());
    let mut at = 0;
    for (start, end, text) in edits {
        out.extend_from_slice(&xml[at..start]);
        out.extend_from_slice(text.as_bytes());
        at = end;
    }
    out.extend_from_slice(&xml[at..]);
    Ok(Some(out))
}

/// Checks one `<v>` text against its cell type: `Ok(Some(trimmed))` when trimming makes it readable, `Ok(None)` when
/// it is fine as it is (or is text that calamine keeps as text), `Err(problem)` when no trimming helps.
fn check_value(raw: &[u8], ty: Option<&str>) -> Result<Option<String>, &'static str> {
    let Ok(text) = std::str::from_utf8(raw) else {
        return Err("the value is not UTF-8 text");
    };
    let trimmed = text.trim_matches([' ', '\t', '\r', '\n']);
    let ok = match ty {
        // No type: calamine reads a number, or keeps the text as text; trim only what then reads as a number.
        None => {
            return Ok(
                (trimmed != text && !trimmed.is_empty() && trimmed.parse::<f64>().is_ok())
                    .then(|| trimmed.to_string()),
            );
        }
        Some("n") => trimmed.is_empty() || trimmed.parse::<f64>().is_ok(),
        Some("b") => {
            matches!(trimmed, "" | "0" | "1")
                || trimmed.eq_ignore_ascii_case("true")
                || trimmed.eq_ignore_ascii_case("false")
        }
        Some("e") => matches!(
            trimmed,
            "#DIV/0!" | "#N/A" | "#NAME?" | "#NULL!" | "#NUM!" | "#REF!" | "#VALUE!"
        ),
        Some("s") => trimmed.is_empty() || trimmed.parse::<usize>().is_ok(),
        Some("str" | "inlineStr" | "is" | "d") => return Ok(None),
        Some(_) => return Err("the cell has a type Excel does not define"),
    };
    if !ok {
        return Err(match ty {
            Some("n") => "a number cell holds a value that is not a number",
            Some("b") => "a true/false cell holds a value that is neither",
            Some("e") => "an error cell holds an unknown Excel error value",
            _ => "a text cell points to a shared text that does not exist",
        });
    }
    Ok((trimmed != text).then(|| trimmed.to_string()))
}

/// The workbook with entry `name` replaced by `xml` (stored uncompressed; the other entries copied as they are).
fn rezip<R: Read + std::io::Seek>(
    zip: &mut ZipArchive<R>,
    name: &str,
    xml: &[u8],
) -> Option<Vec<u8>> {
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let file = zip.by_index_raw(i).ok()?;
        if file.name().ok()? == name {
            drop(file);
            out.start_file(
                name,
                SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
            )
            .ok()?;
            out.write_all(xml).ok()?;
        } else {
            out.raw_copy_file(file).ok()?;
        }
    }
    Some(out.finish().ok()?.into_inner())
}

#[cfg(test)]
mod tests {
    #[test]
    fn merged_ranges_and_cell_positions_from_bytes() {
        assert_eq!(cell_position("A1"), Some((0, 0)));
        assert_eq!(cell_position("$AB$12"), Some((11, 27)));
        assert_eq!(cell_position("XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(cell_position("A0"), None);
        assert_eq!(cell_position("12"), None);
        assert_eq!(cell_position("ABCD1"), None);
        let xml = br#"<sheetData/><mergeCells count="3"><mergeCell ref="A1:C2"/><mergeCell ref='D4'/><mergeCell ref="bad"/></mergeCells>"#;
        let all = |x: &[u8]| 0..x.len();
        assert_eq!(
            merged_ranges(xml, all(xml)),
            vec![((0, 0), (1, 2)), ((3, 3), (3, 3))]
        );
        let bad: &[u8] = br#"<c r="B2" t="s"><v>x</v></c>"#;
        assert!(suspect(bad, all(bad)));
        let padded: &[u8] = br#"<c r="B2"><v>4 </v></c>"#;
        assert!(suspect(padded, all(padded)));
        let fine: &[u8] = br#"<c r="B2" s="1" t="s"><v>12</v></c><c r="C2"><v>4</v></c>"#;
        assert!(!suspect(fine, all(fine)));
    }

    /// Matches across chunk boundaries are found once: the streamed scan of a large sheet equals the scan of it
    /// whole, whatever the read sizes.
    #[test]
    fn streamed_scan_finds_each_match_once_across_chunks() {
        let mut xml = Vec::new();
        for r in 1..=40_000u32 {
            xml.extend_from_slice(
                format!(r#"<row r="{r}"><c r="A{r}" t="s"><v>{r}</v></c></row>"#).as_bytes(),
            );
        }
        xml.extend_from_slice(b"<c r=\"B9\"><v>3 </v></c><mergeCells>");
        for r in 1..=3_000u32 {
            xml.extend_from_slice(format!(r#"<mergeCell ref="A{r}:B{r}"/>"#).as_bytes());
        }
        xml.extend_from_slice(b"</mergeCells>");
        assert!(xml.len() > 2 * SCAN_CHUNK);
        /// A reader giving a few bytes at a time, so chunk boundaries fall everywhere.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        for step in [1 << 20, 65_537, 4_099] {
            let scan = scan_stream(Trickle(&xml, step)).unwrap();
            assert!(scan.suspect, "step {step}");
            assert_eq!(
                scan.merged,
                merged_ranges(&xml, 0..xml.len()),
                "step {step}"
            );
            assert_eq!(scan.merged.len(), 3_000);
        }
    }

    use super::*;

    fn trim(xml: &str) -> Result<Option<String>, BadCell> {
        trim_values(xml.as_bytes()).map(|o| o.map(|b| String::from_utf8(b).unwrap()))
    }

    #[test]
    fn blanks_around_typed_values_are_trimmed_and_nothing_else_changes() {
        let xml = r#"<sheetData><row r="1"><c r="A1" t="n"><v> 41</v></c><c r="B1"><v>2 </v></c><c r="C1" t="str"><v> x </v></c><c r="D1"><v> abc</v></c><c r="E1" t="b"><v> 1</v></c></row></sheetData>"#;
        assert_eq!(
            trim(xml).unwrap().unwrap(),
            r#"<sheetData><row r="1"><c r="A1" t="n"><v>41</v></c><c r="B1"><v>2</v></c><c r="C1" t="str"><v> x </v></c><c r="D1"><v> abc</v></c><c r="E1" t="b"><v>1</v></c></row></sheetData>"#
        );
        assert_eq!(trim(r#"<row><c r="A1"><v>1</v></c></row>"#).unwrap(), None);
    }

    #[test]
    fn unreadable_values_name_the_cell_not_the_value() {
        let err =
            trim(r#"<row r="7"><c r="B7" t="n"><v>1</v></c><c r="C7" t="n"><v>4 1</v></c></row>"#)
                .unwrap_err();
        assert_eq!(
            err,
            BadCell {
                cell: "C7".into(),
                problem: "a number cell holds a value that is not a number"
            }
        );
        // Without `r` on the cell, its name comes from the row and its position.
        let err =
            trim(r#"<row r="3"><c t="n"><v>1</v></c><c t="b"><v>yes</v></c></row>"#).unwrap_err();
        assert_eq!(err.cell, "B3");
        assert!(!format!("{err:?}").contains("yes"));
    }

    #[test]
    fn relationship_targets_resolve_to_entries() {
        assert_eq!(
            resolve("xl", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(resolve("xl", "/xl/worksheets/s.xml"), "xl/worksheets/s.xml");
        assert_eq!(
            resolve("xl", "../xl/worksheets/s.xml"),
            "xl/worksheets/s.xml"
        );
        assert_eq!(resolve("", "xl/workbook.xml"), "xl/workbook.xml");
    }
}
