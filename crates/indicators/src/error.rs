//! Catalogue and pipeline-configuration errors. Each names the file, the 1-based line and column, the indicator
//! (when the problem is inside one), the key and what is wrong; expression errors add the caret display.

use std::fmt;
use std::path::PathBuf;

/// One problem in a `pipelines/` file.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is not tied to a line.
    pub line: usize,
    /// 1-based column in characters; 0 when unknown.
    pub column: usize,
    /// The indicator id, when the problem is inside an indicator.
    pub indicator: Option<String>,
    /// The key the problem is about (`numerator`, `missing_rule`, ...); empty for file-level problems.
    pub key: String,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        write!(f, ": ")?;
        if let Some(id) = &self.indicator {
            write!(f, "indicator `{id}`: ")?;
        }
        if !self.key.is_empty() {
            write!(f, "`{}`: ", self.key)?;
        }
        write!(f, "{}", self.message)
    }
}

/// Every problem found while loading (never empty).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct CatalogErrors(pub Vec<CatalogError>);

impl fmt::Display for CatalogErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        if n > 1 {
            writeln!(f, "{n} problems in the indicator configuration:")?;
        }
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl From<CatalogError> for CatalogErrors {
    fn from(e: CatalogError) -> Self {
        CatalogErrors(vec![e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_indicator_and_key() {
        let e = CatalogError {
            file: "pipelines/indicators.toml".into(),
            line: 12,
            column: 5,
            indicator: Some("told_police".into()),
            key: "numerator".into(),
            message: "unknown column `x`".into(),
        };
        assert_eq!(
            e.to_string(),
            "pipelines/indicators.toml:12:5: indicator `told_police`: `numerator`: unknown column `x`"
        );
        let file_level = CatalogError {
            line: 0,
            column: 0,
            indicator: None,
            key: String::new(),
            ..e
        };
        assert_eq!(
            file_level.to_string(),
            "pipelines/indicators.toml: unknown column `x`"
        );
    }
}
