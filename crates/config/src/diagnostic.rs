//! Configuration diagnostics: one problem found in a schema or country file, with the file, line and key it
//! concerns and what to do about it. Loaders and validators collect every problem into a `Vec<Diagnostic>` so a user
//! sees all of them at once.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The configuration cannot be used as it is.
    Error,
    /// Usable, but probably not what was meant (e.g. a category with no source code).
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// File that set the offending value (after the defaults merge, the file the value came from).
    pub file: PathBuf,
    /// 1-based line; 0 when the problem is not tied to one line (e.g. something is missing from the whole file).
    pub line: usize,
    /// Dotted key path, e.g. `deliveries.child_survey.columns.sex.codes`.
    pub key: String,
    pub severity: Severity,
    /// What is wrong and what to do.
    pub message: String,
}

impl Diagnostic {
    pub fn error(
        file: impl Into<PathBuf>,
        line: usize,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            key: key.into(),
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn warning(
        file: impl Into<PathBuf>,
        line: usize,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            key: key.into(),
            severity: Severity::Warning,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.line == 0 {
            write!(f, "{}: {level}", self.file.display())?;
        } else {
            write!(f, "{}:{}: {level}", self.file.display(), self.line)?;
        }
        if !self.key.is_empty() {
            write!(f, " at `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Joins key path segments with dots, quoting segments that are not bare TOML keys (`missing."8"`, `codes.""`).
pub fn key_path<S: AsRef<str>>(segments: &[S]) -> String {
    segments
        .iter()
        .map(|s| {
            let s = s.as_ref();
            let bare = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if bare {
                s.to_string()
            } else {
                format!("{s:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Renders diagnostics one per line, errors first, then by file and line.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by(|a, b| {
        (a.severity, &a.file, a.line, &a.key).cmp(&(b.severity, &b.file, b.line, &b.key))
    });
    sorted
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_path_quotes_non_bare_segments() {
        assert_eq!(
            key_path(&["deliveries", "child_survey", "missing", "-1"]),
            "deliveries.child_survey.missing.-1"
        );
        assert_eq!(key_path(&["codes", ""]), "codes.\"\"");
        assert_eq!(key_path(&["codes", "a b"]), "codes.\"a b\"");
    }

    #[test]
    fn display_names_file_line_key() {
        let d = Diagnostic::error(
            "countries/THA.toml",
            12,
            "country.name",
            "must not be empty",
        );
        assert_eq!(
            d.to_string(),
            "countries/THA.toml:12: error at `country.name`: must not be empty"
        );
    }
}
