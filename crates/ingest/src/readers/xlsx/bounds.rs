//! Bounds on what a workbook can make the reader allocate, checked before calamine opens it. A workbook is a zip
//! archive whose members may expand far beyond the file (a "zip bomb"), and whose shared-string table declares a
//! count calamine reserves memory for. Every member is decompressed once here, as a stream, and counted: a member may
//! expand to at most [`MAX_RATIO`] times its compressed size (members under [`RATIO_FLOOR`] are exempt: tiny parts
//! compress oddly), and all members together to at most the ceiling ([`DEFAULT_MAX_UNCOMPRESSED`], or
//! [`MAX_UNCOMPRESSED_ENV`] in MiB). The shared-string table may declare at most as many strings as it holds (plus
//! [`COUNT_SLACK`]). Both are measured on the bytes actually produced, not on the sizes the archive declares.

use std::io::{BufReader, Read};
use std::path::Path;

use zip::ZipArchive;

use crate::error::IngestError;

/// Default ceiling on the total uncompressed size of a workbook's members.
pub const DEFAULT_MAX_UNCOMPRESSED: u64 = 1 << 30;
/// Environment variable overriding [`DEFAULT_MAX_UNCOMPRESSED`], in MiB.
pub const MAX_UNCOMPRESSED_ENV: &str = "DH_XLSX_MAX_UNCOMPRESSED_MB";
/// Highest expansion ratio of one member (XML of real sheets compresses 5-30 times, rarely 100).
pub const MAX_RATIO: u64 = 250;
/// Members that expand to less than this are never refused for their ratio.
pub const RATIO_FLOOR: u64 = 1 << 20;
/// Strings the shared-string table may declare beyond those it holds (writers that count loosely).
pub const COUNT_SLACK: u64 = 1024;

/// The ceiling on a workbook's uncompressed size: [`MAX_UNCOMPRESSED_ENV`] (MiB) when set to a number, else
/// [`DEFAULT_MAX_UNCOMPRESSED`].
pub fn max_uncompressed() -> u64 {
    std::env::var(MAX_UNCOMPRESSED_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_MAX_UNCOMPRESSED, |mb| mb.saturating_mul(1 << 20))
}

fn too_large(path: &Path, message: String) -> IngestError {
    IngestError::Format {
        file: path.to_path_buf(),
        format: super::FORMAT,
        message,
    }
}

/// Checks the workbook at `path` against the bounds (see the module documentation). A file that is not a zip
/// archive passes: calamine names that problem itself.
pub(super) fn check(path: &Path, ceiling: u64) -> Result<(), IngestError> {
    let (file, _) = crate::source::open_regular(path)?;
    let Ok(mut zip) = ZipArchive::new(BufReader::new(file)) else {
        return Ok(());
    };
    let mut total = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let Ok(mut member) = zip.by_index(i) else {
            continue;
        };
        let name = crate::message::cap(
            member
                .name()
                .map(|n| n.chars().take(200).collect::<String>())
                .unwrap_or_default(),
        );
        let by_ratio = member
            .compressed_size()
            .saturating_mul(MAX_RATIO)
            .max(RATIO_FLOOR);
        let shared_strings = name.to_ascii_lowercase().ends_with("sharedstrings.xml");
        let mut strings = StringCount::default();
        let mut produced = 0u64;
        // A damaged member is calamine's to report (it reads the same bytes): stop at an error.
        while let Ok(n) = member.read(&mut chunk) {
            if n == 0 {
                break;
            }
            produced += n as u64;
            if produced > by_ratio {
                return Err(too_large(
                    path,
                    format!(
                        "member `{name}` expands more than {MAX_RATIO} times its compressed size of {} bytes (a zip \
                         bomb?); ask the data provider to re-export the workbook",
                        member.compressed_size()
                    ),
                ));
            }
            if total + produced > ceiling {
                return Err(too_large(
                    path,
                    format!(
                        "the workbook expands to more than {ceiling} bytes (member `{name}` reached it); split the \
                         delivery, or raise {MAX_UNCOMPRESSED_ENV} (MiB)"
                    ),
                ));
            }
            if shared_strings {
                strings.feed(&chunk[..n]);
            }
        }
        total += produced;
        if shared_strings
            && let Some(declared) = strings.declared
            && declared > strings.held.saturating_add(COUNT_SLACK)
        {
            return Err(too_large(
                path,
                format!(
                    "the shared-string table `{name}` declares {declared} strings but holds {}; ask the data \
                     provider to re-export the workbook",
                    strings.held
                ),
            ));
        }
    }
    Ok(())
}

/// Bytes of one chunk kept for the next (a prefixed `<x:si` tag straddling the boundary).
const TAIL: usize = 32;

/// Counts `<si>` elements of a shared-string table fed chunk by chunk, and reads the `uniqueCount` its `<sst>` tag
/// declares.
#[derive(Default)]
struct StringCount {
    /// Last bytes of the previous chunk (a tag may straddle two chunks).
    tail: Vec<u8>,
    /// Bytes seen before `<sst` was found and read (the tag is looked for in the first 64 KiB).
    head: Vec<u8>,
    head_done: bool,
    declared: Option<u64>,
    held: u64,
}

impl StringCount {
    fn feed(&mut self, chunk: &[u8]) {
        if !self.head_done {
            self.head
                .extend_from_slice(&chunk[..chunk.len().min(64 * 1024)]);
            if let Some(declared) = unique_count(&self.head) {
                self.declared = declared;
                self.head_done = true;
                self.head = Vec::new();
            } else if self.head.len() >= 64 * 1024 {
                self.head_done = true;
                self.head = Vec::new();
            }
        }
        let mut window = std::mem::take(&mut self.tail);
        let keep_from = window.len();
        window.extend_from_slice(chunk);
        let is_end = |b: u8| matches!(b, b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n');
        let mut at = 0;
        while let Some(i) = memchr::memmem::find(&window[at..], b"si") {
            let p = at + i;
            let starts_tag = p > 0
                && match window[p - 1] {
                    b'<' => true,
                    // A prefixed opening tag `<x:si`, not a closing `</x:si>`.
                    b':' => window[..p - 1]
                        .iter()
                        .rev()
                        .take(TAIL)
                        .position(|b| *b == b'<')
                        .is_some_and(|back| window.get(p - 1 - back) != Some(&b'/')),
                    _ => false,
                };
            // `<si` then an end byte; a match ending inside the kept tail was counted with the previous chunk.
            if starts_tag && p + 2 < window.len() && is_end(window[p + 2]) && p + 2 >= keep_from {
                self.held += 1;
            }
            at = p + 2;
        }
        let tail_from = window.len().saturating_sub(TAIL);
        self.tail = window[tail_from..].to_vec();
    }
}

/// `Some(uniqueCount)` once the `<sst ...>` tag is complete in `head` (`Some(None)` when it has none), `None` while
/// it is not.
fn unique_count(head: &[u8]) -> Option<Option<u64>> {
    let start = memchr::memmem::find(head, b"sst")?;
    let end = start + memchr::memchr(b'>', &head[start..])?;
    let tag = &head[start..end];
    let Some(at) = memchr::memmem::find(tag, b"uniqueCount=") else {
        return Some(None);
    };
    let value = &tag[at + b"uniqueCount=".len()..];
    let digits: Vec<u8> = value
        .iter()
        .skip(1)
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    Some(
        std::str::from_utf8(&digits)
            .ok()
            .and_then(|d| d.parse().ok()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(xml: &[u8], chunk: usize) -> (Option<u64>, u64) {
        let mut c = StringCount::default();
        for part in xml.chunks(chunk) {
            c.feed(part);
        }
        (c.declared, c.held)
    }

    #[test]
    fn strings_are_counted_once_whatever_the_chunking() {
        let xml = br#"<?xml version="1.0"?><x:sst xmlns:x="m" uniqueCount="3"><x:si><x:t>a</x:t></x:si><si><t>b</t></si><si/><sis>no</sis></x:sst>"#;
        for chunk in [1, 2, 3, 4, 5, 7, 64, 4096] {
            assert_eq!(count(xml, chunk), (Some(3), 3), "chunk {chunk}");
        }
        assert_eq!(count(br#"<sst count="1"><si/></sst>"#, 3), (None, 1));
    }
}
