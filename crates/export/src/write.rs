//! Atomic, owner-only file writes: a temporary file beside the target with the requested permissions, then a
//! rename, so a reader never sees half a file and an interrupted export leaves the previous file in place.

use std::io::Write;
use std::path::Path;

use crate::error::ExportError;

/// Creates `dir` (and parents) if needed; a folder created here gets `mode` plus execute bits.
pub fn ensure_dir(dir: &Path, mode: u32) -> Result<(), ExportError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(dir_mode(mode));
    }
    builder.create(dir).map_err(|e| ExportError::io(dir, e))
}

/// File permission bits plus execute wherever read is set (600 -> 700, 640 -> 750).
pub fn dir_mode(file_mode: u32) -> u32 {
    file_mode | ((file_mode & 0o444) >> 2)
}

/// Writes `bytes` to `path` through `.<name>.partial` and a rename.
pub fn atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ExportError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(ExportError::io(&tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ExportError::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.dta");
        std::fs::write(&path, b"old").unwrap();
        atomic(&path, b"new", 0o600).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            // The mode of a replaced file is the new file's (the umask may remove bits, never add).
            assert_eq!(mode & !0o600, 0);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(dir_mode(0o600), 0o700);
        assert_eq!(dir_mode(0o640), 0o750);
    }
}
