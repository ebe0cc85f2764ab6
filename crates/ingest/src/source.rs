//! Opening delivery files: only regular files are read. A FIFO, a device (`/dev/zero`), a socket or a directory is
//! refused from its metadata before it is opened, so that reading never blocks on a pipe nor reads forever; the open
//! itself is non-blocking and the open handle is checked again (a file swapped for a pipe in between is refused
//! too). Symbolic links are followed here; whether their target may leave the raw folder is decided where the raw
//! folder is known ([`resolves_inside`] is the test).

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

use crate::error::IngestError;

/// What a path is, for the message refusing anything but a regular file.
pub fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        return "regular file";
    }
    if t.is_dir() {
        return "directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "named pipe (FIFO)";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
        if t.is_socket() {
            return "socket";
        }
    }
    "special file"
}

fn io_error(path: &Path, source: std::io::Error) -> IngestError {
    match source.kind() {
        std::io::ErrorKind::NotFound => IngestError::NotFound {
            file: path.to_path_buf(),
        },
        _ => IngestError::Io {
            file: path.to_path_buf(),
            source,
        },
    }
}

fn regular(path: &Path, meta: &Metadata) -> Result<u64, IngestError> {
    if meta.is_file() {
        Ok(meta.len())
    } else {
        Err(IngestError::NotRegular {
            file: path.to_path_buf(),
            kind: kind_of(meta),
        })
    }
}

/// The size of the regular file at `path` (symbolic links followed), without opening it; [`IngestError::NotFound`]
/// or [`IngestError::NotRegular`] otherwise.
pub fn check_regular(path: &Path) -> Result<u64, IngestError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    regular(path, &meta)
}

/// Opens the regular file at `path` (checked before and after opening, the open never blocking) and returns it with
/// its size.
pub fn open_regular(path: &Path) -> Result<(File, u64), IngestError> {
    check_regular(path)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| io_error(path, e))?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    let size = regular(path, &meta)?;
    Ok((file, size))
}

/// The bytes of the regular file at `path`: at most its size when opened (a file growing while it is read is not
/// followed past it), so the allocation is bounded by the file's real size.
pub fn read_regular(path: &Path) -> Result<Vec<u8>, IngestError> {
    let (file, size) = open_regular(path)?;
    let capacity = usize::try_from(size).unwrap_or(usize::MAX);
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(capacity)
        .map_err(|_| IngestError::Io {
            file: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::OutOfMemory,
                format!("cannot allocate {size} bytes to read the file"),
            ),
        })?;
    file.take(size)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    Ok(bytes)
}

/// Whether `path`, with every symbolic link resolved, lies inside `root` (also resolved). A path that does not
/// resolve (missing) is reported as an error by the caller's own check.
pub fn resolves_inside(path: &Path, root: &Path) -> std::io::Result<bool> {
    let root = root.canonicalize()?;
    let target = path.canonicalize()?;
    Ok(target.starts_with(&root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_and_others_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.csv");
        std::fs::write(&file, "id\n1\n").unwrap();
        assert_eq!(read_regular(&file).unwrap(), b"id\n1\n");
        let err = read_regular(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                IngestError::NotRegular {
                    kind: "directory",
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            read_regular(&dir.path().join("none")),
            Err(IngestError::NotFound { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn fifo_and_device_behind_a_link_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.csv");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let err = read_regular(&fifo).unwrap_err();
        assert!(
            matches!(
                err,
                IngestError::NotRegular {
                    kind: "named pipe (FIFO)",
                    ..
                }
            ),
            "{err}"
        );
        let zero = dir.path().join("zero.csv");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = read_regular(&zero).unwrap_err();
        assert!(
            matches!(
                err,
                IngestError::NotRegular {
                    kind: "character device",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("zero.csv"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn links_leaving_a_folder_are_told_apart() {
        let root = tempfile::tempdir().unwrap();
        let inside = root.path().join("x.csv");
        std::fs::write(&inside, "a").unwrap();
        let link_in = root.path().join("in.csv");
        std::os::unix::fs::symlink(&inside, &link_in).unwrap();
        let link_out = root.path().join("out.csv");
        std::os::unix::fs::symlink("/etc/passwd", &link_out).unwrap();
        assert!(resolves_inside(&inside, root.path()).unwrap());
        assert!(resolves_inside(&link_in, root.path()).unwrap());
        assert!(!resolves_inside(&link_out, root.path()).unwrap());
    }
}
