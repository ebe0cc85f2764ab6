//! SHA-256 hashing of files and of bytes as they are written, for the manifest's provenance entries.

use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::PipelineError;

/// Lower-case hex SHA-256 of a byte slice.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 of a regular file's contents, read in chunks (the file is never held in memory whole).
/// Anything else (a FIFO, which would block the open, or a device such as `/dev/zero` behind a link, which would be
/// read forever) is refused from its metadata before it is opened.
pub fn sha256_file(path: &Path) -> Result<String, PipelineError> {
    let (mut file, _) = dh_ingest::source::open_regular(path).map_err(|e| match e {
        dh_ingest::IngestError::Io { source, .. } => PipelineError::io(path, source),
        other => PipelineError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
        ),
    })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| PipelineError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A writer that hashes and counts every byte it passes on, so an output's hash is known without reading it back.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Flushes the inner writer and returns it with the hex SHA-256 and the byte count of everything written.
    pub fn finish(mut self) -> io::Result<(W, String, u64)> {
        self.inner.flush()?;
        Ok((self.inner, hex::encode(self.hasher.finalize()), self.bytes))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let err = sha256_file(&fifo).unwrap_err().to_string();
        assert!(err.contains("named pipe"), "{err}");
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = sha256_file(&zero).unwrap_err().to_string();
        assert!(err.contains("character device"), "{err}");
    }

    #[test]
    fn hashing_writer_matches_file_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.bin");
        let file = std::fs::File::create(&path).unwrap();
        let mut w = HashingWriter::new(file);
        w.write_all(b"hello ").unwrap();
        w.write_all(b"world").unwrap();
        let (_, digest, bytes) = w.finish().unwrap();
        assert_eq!(bytes, 11);
        assert_eq!(digest, sha256_file(&path).unwrap());
        assert_eq!(digest, sha256_hex(b"hello world"));
    }
}
