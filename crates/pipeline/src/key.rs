//! Where the pseudonym key comes from. Respondent and household ids are replaced by HMAC-SHA256 pseudonyms
//! keyed with a secret that must never be stored inside `OUT`. Sources, first match wins:
//!
//! 1. `--key-file PATH` (a file holding the key as text; surrounding whitespace is ignored);
//! 2. the environment variable [`KEY_ENV`];
//! 3. for the built-in synthetic data only: `data/pseudonym.key`, created with random bytes on first use.
//!
//! Real runs without 1 or 2 fail with a message that says how to supply a key. This is the only key loader:
//! `dh_normalise::PseudonymKey` takes the bytes found here.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::PipelineError;

/// Environment variable holding the pseudonym key.
pub const KEY_ENV: &str = "DH_PSEUDONYM_KEY";
/// Minimum key length in bytes (the key type's own rule).
pub use dh_normalise::MIN_KEY_BYTES;

/// Where to look for the key.
#[derive(Debug, Clone, Default)]
pub struct KeySource {
    /// `--key-file`.
    pub key_file: Option<PathBuf>,
    /// Value of [`KEY_ENV`], if set (passed in so that tests need not touch the process environment).
    pub env_value: Option<String>,
    /// A key file to create on first use when neither of the above is given (built-in synthetic data only).
    pub generated_file: Option<PathBuf>,
}

impl KeySource {
    /// Reads [`KEY_ENV`] from the process environment.
    pub fn from_env(key_file: Option<PathBuf>, generated_file: Option<PathBuf>) -> Self {
        KeySource {
            key_file,
            env_value: std::env::var(KEY_ENV).ok(),
            generated_file,
        }
    }
}

/// The key's bytes and where they came from (for messages; never the key itself).
#[derive(Clone)]
pub struct LoadedKey {
    pub bytes: Vec<u8>,
    pub origin: String,
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedKey")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl LoadedKey {
    /// A short public fingerprint of the key for the manifest (a hash of a hash; reveals nothing usable).
    pub fn fingerprint(&self) -> String {
        let inner = Sha256::digest(&self.bytes);
        let outer = Sha256::digest(
            [
                b"dh-pseudonym-key-fingerprint:".as_slice(),
                inner.as_slice(),
            ]
            .concat(),
        );
        hex::encode(&outer[..8])
    }
}

/// Finds the key; refuses a key file that lies inside `out_dir`.
pub fn load_key(source: &KeySource, out_dir: &Path) -> Result<LoadedKey, PipelineError> {
    if let Some(path) = &source.key_file {
        ensure_outside(path, out_dir)?;
        return read_key_file(path);
    }
    if let Some(value) = &source.env_value {
        let bytes = value.trim().as_bytes().to_vec();
        check_length(&bytes, KEY_ENV)?;
        return Ok(LoadedKey {
            bytes,
            origin: format!("environment variable {KEY_ENV}"),
        });
    }
    if let Some(path) = &source.generated_file {
        ensure_outside(path, out_dir)?;
        if !path.exists() {
            create_key_file(path)?;
        }
        return read_key_file(path);
    }
    Err(PipelineError::Key(format!(
        "none given: set {KEY_ENV} to a secret of at least {MIN_KEY_BYTES} characters or pass \
         --key-file PATH (a file kept outside the output folder). Keep the same key across runs so pseudonyms \
         stay stable."
    )))
}

fn read_key_file(path: &Path) -> Result<LoadedKey, PipelineError> {
    let text = std::fs::read(path).map_err(|e| {
        PipelineError::Key(format!("{}: cannot read key file: {e}", path.display()))
    })?;
    let bytes = text.trim_ascii().to_vec();
    check_length(&bytes, &path.display().to_string())?;
    Ok(LoadedKey {
        bytes,
        origin: format!("key file {}", path.display()),
    })
}

fn check_length(bytes: &[u8], origin: &str) -> Result<(), PipelineError> {
    if bytes.len() < MIN_KEY_BYTES {
        return Err(PipelineError::Key(format!(
            "{origin}: key is {} bytes long; at least {MIN_KEY_BYTES} are required",
            bytes.len()
        )));
    }
    Ok(())
}

/// Writes 32 random bytes as 64 hex characters, readable by the owner only where the platform allows it.
fn create_key_file(path: &Path) -> Result<(), PipelineError> {
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| PipelineError::io(parent, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| PipelineError::io(path, e))?;
    writeln!(file, "{}", hex::encode(raw)).map_err(|e| PipelineError::io(path, e))?;
    Ok(())
}

fn ensure_outside(key: &Path, out_dir: &Path) -> Result<(), PipelineError> {
    let key_abs = absolute_lexical(key);
    let out_abs = absolute_lexical(out_dir);
    if key_abs.starts_with(&out_abs) {
        return Err(PipelineError::Key(format!(
            "key file {} lies inside the output folder {}; keep it outside so it is never published",
            key.display(),
            out_dir.display()
        )));
    }
    Ok(())
}

/// Absolute path with `.` and `..` resolved (symlinks resolved where the path exists).
fn absolute_lexical(path: &Path) -> PathBuf {
    if let Ok(canonical) = path.canonicalize() {
        return canonical;
    }
    let base = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in base.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    // Canonicalise the longest existing prefix so that symlinked folders compare equal.
    let mut existing = out.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => rest.push(name.to_os_string()),
            None => break,
        }
        existing.pop();
    }
    let mut result = existing.canonicalize().unwrap_or(existing);
    for part in rest.into_iter().rev() {
        result.push(part);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let src = KeySource {
            generated_file: Some(dir.path().join("data/pseudonym.key")),
            ..Default::default()
        };
        let a = load_key(&src, &dir.path().join("out")).unwrap();
        let b = load_key(&src, &dir.path().join("out")).unwrap();
        assert_eq!(a.bytes, b.bytes);
        assert_eq!(a.bytes.len(), 64);
        assert_eq!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn missing_key_for_real_runs_names_both_remedies() {
        let err = load_key(&KeySource::default(), Path::new("out"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(KEY_ENV) && err.contains("--key-file"), "{err}");
    }

    #[test]
    fn key_inside_out_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("k"), "x".repeat(40)).unwrap();
        let src = KeySource {
            key_file: Some(out.join("k")),
            ..Default::default()
        };
        assert!(
            load_key(&src, &out)
                .unwrap_err()
                .to_string()
                .contains("inside the output folder")
        );
        let src = KeySource {
            key_file: Some(dir.path().join("out/../out/k")),
            ..Default::default()
        };
        assert!(load_key(&src, &out).is_err());
    }

    #[test]
    fn the_key_file_wins_over_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.key");
        std::fs::write(&file, format!("{}\n", "f".repeat(40))).unwrap();
        let src = KeySource {
            key_file: Some(file.clone()),
            env_value: Some("e".repeat(40)),
            generated_file: None,
        };
        let key = load_key(&src, &dir.path().join("out")).unwrap();
        assert_eq!(key.bytes, b"f".repeat(40));
        assert_eq!(key.origin, format!("key file {}", file.display()));
    }

    #[test]
    fn env_key_wins_over_generated_and_short_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        let src = KeySource {
            env_value: Some("k".repeat(32)),
            generated_file: Some(dir.path().join("never")),
            ..Default::default()
        };
        let key = load_key(&src, dir.path()).unwrap();
        assert_eq!(key.bytes, b"k".repeat(32));
        assert!(!dir.path().join("never").exists());
        let short = KeySource {
            env_value: Some("short".into()),
            ..Default::default()
        };
        assert!(
            load_key(&short, dir.path())
                .unwrap_err()
                .to_string()
                .contains("at least 32")
        );
        assert!(
            !format!("{key:?}").contains("kkkk"),
            "Debug never prints the key"
        );
    }
}
