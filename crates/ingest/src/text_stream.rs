//! Decoding a delivery's bytes to UTF-8 text piece by piece ([`TextStream`]), holding one chunk of input and its
//! decoded text whatever the file's size. The checks, the text and the errors are those of [`crate::encoding`]
//! (whose [`crate::encoding::decode`] is this stream drained): UTF-8 is validated in place (no copy), other
//! encodings go through `encoding_rs`'s streaming decoder. On an error the source is read again from its start to
//! name the line and the first undecodable byte, so the normal path keeps no line count.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use dh_config::country::Encoding;

use crate::encoding::check_start;
use crate::error::IngestError;
use crate::table::hex_bytes;

/// Bytes read from the source at a time.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Bytes at the start of a file that the encoding checks look at (the UTF-16 guess).
pub(crate) const HEAD_BYTES: usize = 4096;

/// UTF-8 text decoded from a byte source, a chunk at a time: [`TextStream::text`] is the decoded text not yet
/// consumed, [`TextStream::consume`] marks a prefix as used, [`TextStream::fill`] decodes the next chunk.
pub struct TextStream<R> {
    file: PathBuf,
    source: R,
    encoding: Encoding,
    /// `None` for UTF-8, which is validated in place.
    decoder: Option<encoding_rs::Decoder>,
    chunk: usize,
    /// Decoded text; `out[start..valid]` is not consumed yet. In UTF-8 mode `out[valid..]` holds the start of a
    /// character cut by the end of the chunk.
    out: Vec<u8>,
    start: usize,
    valid: usize,
    /// Undecoded input (decoder mode), `raw[raw_pos..]` not decoded yet.
    raw: Vec<u8>,
    raw_pos: usize,
    /// Bytes read from the source so far (the file offset of the next byte).
    read: u64,
    /// Length of the byte-order mark removed at the start.
    bom: u64,
    started: bool,
    eof: bool,
    hasher: Option<sha2::Sha256>,
}

impl<R: Read + Seek> TextStream<R> {
    /// A stream over `source` (positioned at its start) in `encoding`; `file` names it in errors.
    pub fn new(file: &Path, source: R, encoding: Encoding) -> Self {
        Self::with_chunk(file, source, encoding, CHUNK_BYTES)
    }

    /// As [`TextStream::new`], reading `chunk` bytes at a time (at least [`HEAD_BYTES`] for the first read).
    pub fn with_chunk(file: &Path, source: R, encoding: Encoding, chunk: usize) -> Self {
        TextStream {
            file: file.to_path_buf(),
            source,
            encoding,
            decoder: (!encoding.is_utf8())
                .then(|| encoding.codec().new_decoder_without_bom_handling()),
            chunk: chunk.max(1),
            out: Vec::new(),
            start: 0,
            valid: 0,
            raw: Vec::new(),
            raw_pos: 0,
            read: 0,
            bom: 0,
            started: false,
            eof: false,
            hasher: None,
        }
    }

    /// Also computes the SHA-256 of every byte read from the source ([`TextStream::sha256`]).
    pub fn hashing(mut self) -> Self {
        use sha2::Digest;
        self.hasher = Some(sha2::Sha256::new());
        self
    }

    /// The file named in errors.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The decoded text not consumed yet (valid UTF-8).
    pub fn text(&self) -> &[u8] {
        &self.out[self.start..self.valid]
    }

    /// Marks the first `n` bytes of [`TextStream::text`] as consumed.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.valid);
    }

    /// About how many bytes of the source the consumed text came from (exact for UTF-8; for other encodings
    /// the bytes decoded so far), for estimates.
    pub fn bytes_consumed(&self) -> u64 {
        match self.decoder {
            None => self.read - (self.out.len() - self.start) as u64,
            Some(_) => self.read - (self.raw.len() - self.raw_pos) as u64,
        }
    }

    /// Whether the source is exhausted ([`TextStream::text`] then holds the rest of the text).
    pub fn at_end(&self) -> bool {
        self.eof
    }

    /// The SHA-256 of the bytes read from the source, once it is exhausted and when hashing was asked for.
    pub fn sha256(&self) -> Option<[u8; 32]> {
        use sha2::Digest;
        let hasher = self.hasher.as_ref().filter(|_| self.eof)?;
        Some(hasher.clone().finalize().into())
    }

    /// Reads and decodes the next chunk, appending to [`TextStream::text`]. Does nothing at the end of the source.
    pub fn fill(&mut self) -> Result<(), IngestError> {
        if self.eof {
            return Ok(());
        }
        // keep only what is not consumed (usually part of one record)
        self.out.drain(..self.start);
        self.valid -= self.start;
        self.start = 0;
        let want = if self.started {
            self.chunk
        } else {
            self.chunk.max(HEAD_BYTES)
        };
        match self.decoder.is_some() {
            false => self.fill_utf8(want),
            true => self.fill_decoded(want),
        }
    }

    /// Appends up to `want` bytes of the source to `buf`; returns how many.
    fn read_into(&mut self, want: usize, buf_is_out: bool) -> Result<usize, IngestError> {
        let buf = if buf_is_out {
            &mut self.out
        } else {
            &mut self.raw
        };
        let before = buf.len();
        (&mut self.source)
            .take(want as u64)
            .read_to_end(buf)
            .map_err(|source| IngestError::Io {
                file: self.file.clone(),
                source,
            })?;
        let n = buf.len() - before;
        if let Some(hasher) = self.hasher.as_mut() {
            use sha2::Digest;
            hasher.update(&buf[before..]);
        }
        self.read += n as u64;
        Ok(n)
    }

    /// The checks on the start of the file; returns the length of the byte-order mark to skip.
    fn start_checks(&mut self, head: &[u8]) -> Result<usize, IngestError> {
        self.started = true;
        let bom = check_start(&self.file, head, self.encoding)?;
        self.bom = bom as u64;
        Ok(bom)
    }

    fn fill_utf8(&mut self, want: usize) -> Result<(), IngestError> {
        let n = self.read_into(want, true)?;
        if !self.started {
            let head = self.out[..self.out.len().min(HEAD_BYTES)].to_vec();
            let bom = self.start_checks(&head)?;
            self.start = bom;
            self.valid = bom;
        }
        if n == 0 {
            self.eof = true;
            if self.valid < self.out.len() {
                // a character cut by the end of the file
                return Err(self.error_at(self.offset_of_out(self.valid)));
            }
            return Ok(());
        }
        match std::str::from_utf8(&self.out[self.valid..]) {
            Ok(_) => self.valid = self.out.len(),
            Err(e) => {
                self.valid += e.valid_up_to();
                if e.error_len().is_some() {
                    return Err(self.error_at(self.offset_of_out(self.valid)));
                }
            }
        }
        Ok(())
    }

    /// File offset of `out[i]` (UTF-8 mode: the bytes of `out` are those of the file).
    fn offset_of_out(&self, i: usize) -> u64 {
        self.read - (self.out.len() - i) as u64
    }

    fn fill_decoded(&mut self, want: usize) -> Result<(), IngestError> {
        self.raw.clear();
        self.raw_pos = 0;
        let n = self.read_into(want, false)?;
        if !self.started {
            let head = self.raw[..self.raw.len().min(HEAD_BYTES)].to_vec();
            self.raw_pos = self.start_checks(&head)?;
        }
        let last = n == 0;
        let Some(decoder) = self.decoder.as_mut() else {
            return Ok(());
        };
        loop {
            let input = &self.raw[self.raw_pos..];
            let room = decoder
                .max_utf8_buffer_length_without_replacement(input.len())
                .unwrap_or(self.chunk)
                .max(16);
            let len = self.out.len();
            self.out.resize(len + room, 0);
            let (result, read, written) =
                decoder.decode_to_utf8_without_replacement(input, &mut self.out[len..], last);
            self.out.truncate(len + written);
            self.raw_pos += read;
            match result {
                encoding_rs::DecoderResult::InputEmpty => break,
                encoding_rs::DecoderResult::OutputFull => {}
                encoding_rs::DecoderResult::Malformed(bad, extra) => {
                    // the sequence may have begun in an earlier chunk
                    let end = self.read - (self.raw.len() - self.raw_pos) as u64;
                    let at = end.saturating_sub(u64::from(bad) + u64::from(extra));
                    self.valid = self.out.len();
                    return Err(self.error_at(at));
                }
            }
        }
        self.valid = self.out.len();
        if last {
            self.eof = true;
        }
        Ok(())
    }

    /// The encoding error of the undecodable byte at file offset `at`: its line and the byte, read again from the
    /// source (only on this path).
    fn error_at(&mut self, at: u64) -> IngestError {
        let (line, byte) = match self.line_and_byte(at) {
            Ok(found) => found,
            Err(source) => {
                return IngestError::Io {
                    file: self.file.clone(),
                    source,
                };
            }
        };
        let utf16 = is_utf16(self.encoding);
        IngestError::Encoding {
            file: self.file.clone(),
            line,
            byte_offset: at,
            expected: if self.decoder.is_none() {
                "UTF-8"
            } else if utf16 {
                "UTF-16 text"
            } else {
                "text in the configured encoding"
            },
            bytes: hex_bytes(&byte),
        }
    }

    /// 1-based line of file offset `at` (newline characters of the text before it, so that a UTF-16 character with
    /// an 0x0A byte is not a line break) and the byte there (none at the end of the file).
    fn line_and_byte(&mut self, at: u64) -> std::io::Result<(u64, Vec<u8>)> {
        self.source.seek(SeekFrom::Start(self.bom))?;
        let mut prefix = (&mut self.source).take(at.saturating_sub(self.bom));
        let mut buf = vec![0u8; 64 * 1024];
        let mut newlines = 0u64;
        let ascii = self.encoding.codec().is_ascii_compatible();
        let mut decoder = self.encoding.codec().new_decoder_without_bom_handling();
        let mut text = String::with_capacity(buf.len() * 2);
        loop {
            let n = prefix.read(&mut buf)?;
            if n == 0 {
                break;
            }
            if ascii {
                newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
            } else {
                text.clear();
                let _ = decoder.decode_to_string(&buf[..n], &mut text, false);
                newlines += text.bytes().filter(|b| *b == b'\n').count() as u64;
            }
        }
        let mut byte = Vec::with_capacity(1);
        self.source.seek(SeekFrom::Start(at))?;
        (&mut self.source).take(1).read_to_end(&mut byte)?;
        Ok((newlines + 1, byte))
    }
}

pub(crate) fn is_utf16(encoding: Encoding) -> bool {
    encoding.codec() == encoding_rs::UTF_16LE || encoding.codec() == encoding_rs::UTF_16BE
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Drains a stream over `bytes` read `chunk` bytes at a time.
    fn drain(bytes: &[u8], label: &str, chunk: usize) -> Result<String, IngestError> {
        let e = Encoding::from_label(label).unwrap();
        let mut s = TextStream::with_chunk(Path::new("x.csv"), Cursor::new(bytes), e, chunk);
        let mut out = Vec::new();
        loop {
            s.fill()?;
            out.extend_from_slice(s.text());
            let n = s.text().len();
            s.consume(n);
            if s.at_end() {
                return Ok(String::from_utf8(out).unwrap());
            }
        }
    }

    /// Any chunk size gives the text and the error of decoding the whole file at once. The cases are padded past
    /// the first read ([`HEAD_BYTES`]) so that chunk boundaries cut characters and byte-order marks stay first.
    #[test]
    fn chunk_size_changes_nothing() {
        let cases: Vec<(&[u8], &str, &str)> = vec![
            (b"", "id,\u{540d}\n1,\u{e9}\n", "utf-8"),
            (b"\xEF\xBB\xBF", "a,b\n\u{e9}\n", "utf-8"),
            (b"", "a,b\n1,\u{e9}\n", "utf-8"),
            (b"\xFF\xFE", "a,b\n\u{4e2d}\u{6587}\n", "utf-16le"),
            (b"", "a,b\n\u{4e2d}\u{6587}\n", "utf-16be"),
            (b"", "S\u{e3}o Tom\u{e9}\n", "windows-1252"),
            (b"", "\u{4e2d}\u{6587},\u{e9}\n", "gb18030"),
            (b"", "\u{65e5}\u{672c}\n", "shift_jis"),
        ];
        // then bytes that are not text, one case each
        let broken: Vec<(&[u8], &str)> = vec![
            (b"a,b\n1,\xE9t\xE9\n", "utf-8"),
            (b"a,b\n1,\xE2\x82", "utf-8"),
            (b"x\n\x81\x30\x20\x30", "gb18030"),
            (b"a,b\n1,\x82", "shift_jis"),
            (b"a\0\n\0\x00\xD8b\0", "utf-16le"),
        ];
        let encode = |text: &str, label: &str| -> Vec<u8> {
            match label {
                "utf-16le" => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                "utf-16be" => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
                _ => Encoding::from_label(label)
                    .unwrap()
                    .codec()
                    .encode(text)
                    .0
                    .into_owned(),
            }
        };
        let mut inputs = Vec::new();
        for (bom, text, label) in cases {
            let mut bytes = bom.to_vec();
            bytes.extend(encode(&"pad \u{e9}\n".repeat(700), label));
            bytes.extend(encode(text, label));
            inputs.push((bytes, label, true));
        }
        for (tail, label) in broken {
            let mut bytes = encode(&"pad\n".repeat(1100), label);
            bytes.extend_from_slice(tail);
            inputs.push((bytes, label, false));
        }
        for (bytes, label, decodes) in inputs {
            let whole = drain(&bytes, label, 1 << 20).map_err(|e| e.to_string());
            assert_eq!(whole.is_ok(), decodes, "{label}: {whole:?}");
            for chunk in [1, 2, 3, 5, 4099] {
                let got = drain(&bytes, label, chunk).map_err(|e| e.to_string());
                assert_eq!(got, whole, "{label} chunk {chunk}");
            }
        }
    }

    #[test]
    fn hash_covers_every_byte_read() {
        use sha2::Digest;
        let bytes = b"\xEF\xBB\xBFa,b\n1,2\n".repeat(1000);
        let mut s =
            TextStream::with_chunk(Path::new("x.csv"), Cursor::new(&bytes), Encoding::UTF8, 7)
                .hashing();
        while !s.at_end() {
            assert!(s.sha256().is_none());
            s.fill().unwrap();
            let n = s.text().len();
            s.consume(n);
        }
        let expected: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        assert_eq!(s.sha256(), Some(expected));
    }
}
