//! The labelled-table model both writers take: typed columns (numeric with per-cell missing tags, text, date),
//! variable labels, value-label sets, the table's tagged missing codes, SPSS user-missing declarations and
//! optional display formats.

/// A table as a statistics package sees it.
#[derive(Debug, Clone, Default)]
pub struct LabelledTable {
    /// File label (`.dta` dataset label, `.sav` file label); at most 80 bytes are written.
    pub label: String,
    pub columns: Vec<Column>,
    /// Tagged missing codes: tag `i` is Stata's extended missing `.a` + `i` (at most 26: `.a`-`.z`) and is
    /// written as `spss_value` in `.sav` files.
    pub missing: Vec<MissingCode>,
}

impl LabelledTable {
    /// Number of rows (of the first column; every column has the same length, checked by the writers).
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }
}

/// One tagged missing code of a table, e.g. `dont_know`: Stata `.a`, SPSS `-1`.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingCode {
    pub spss_value: f64,
    pub label: String,
}

/// One variable.
#[derive(Debug, Clone)]
pub struct Column {
    /// Variable name (Stata: letters, digits and `_`, at most 32 bytes, not starting with a digit).
    pub name: String,
    /// Variable label (question text).
    pub label: Option<String>,
    pub values: Values,
    /// Value labels of a numeric column, in the order given (`.sav` keeps it; `.dta` sorts by value).
    pub value_labels: Vec<(ValueKey, String)>,
    /// SPSS user-missing declaration of a numeric column.
    pub user_missing: UserMissing,
    /// Stata display format (`%12.0g`, `%td`, ...); a default by type when `None`.
    pub stata_format: Option<String>,
    /// SPSS print/write format (`F8.2`, `DATE11`, `EDATE10`, ...); a default by type when `None`.
    pub spss_format: Option<String>,
    /// SPSS display width (columns); a default by type when `None`.
    pub spss_display_width: Option<u32>,
    /// The codes are ordered categories (an age band, a frequency, a scale): SPSS measurement level Ordinal
    /// instead of Nominal for a labelled numeric column.
    pub ordinal: bool,
}

impl Column {
    pub fn new(name: impl Into<String>, values: Values) -> Self {
        Column {
            name: name.into(),
            label: None,
            values,
            value_labels: Vec::new(),
            user_missing: UserMissing::None,
            stata_format: None,
            spss_format: None,
            spss_display_width: None,
            ordinal: false,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

/// The cells of a column.
#[derive(Debug, Clone)]
pub enum Values {
    /// Numbers stored as `storage` in `.dta` (always 8-byte floats in `.sav`).
    Numeric { storage: Storage, cells: Vec<Num> },
    /// Text (`strN` in `.dta`, `A<width>` in `.sav`; width = the longest cell in bytes).
    Text(Vec<String>),
    /// Calendar dates as days since 1970-01-01 (`None` = system missing); see [`crate::dates`].
    Date(Vec<Option<i32>>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Numeric { cells, .. } => cells.len(),
            Values::Text(cells) => cells.len(),
            Values::Date(cells) => cells.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Stata storage type of a numeric column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// -127..=100
    Byte,
    /// -32,767..=32,740
    Int,
    /// -2,147,483,647..=2,147,483,620
    Long,
    Double,
}

impl Storage {
    /// The smallest integer storage holding every value of `values` (Double when none does).
    pub fn smallest_for(values: impl IntoIterator<Item = f64>) -> Storage {
        let mut best = Storage::Byte;
        for v in values {
            let need = if v.fract() != 0.0 || !v.is_finite() {
                Storage::Double
            } else if (-127.0..=100.0).contains(&v) {
                Storage::Byte
            } else if (-32_767.0..=32_740.0).contains(&v) {
                Storage::Int
            } else if (-2_147_483_647.0..=2_147_483_620.0).contains(&v) {
                Storage::Long
            } else {
                Storage::Double
            };
            best = best.max(need);
        }
        best
    }

    fn rank(self) -> u8 {
        match self {
            Storage::Byte => 0,
            Storage::Int => 1,
            Storage::Long => 2,
            Storage::Double => 3,
        }
    }

    fn max(self, other: Storage) -> Storage {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    pub fn is_integer(self) -> bool {
        self != Storage::Double
    }
}

/// One numeric cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Value(f64),
    /// System missing (`.` in Stata, SYSMIS in SPSS).
    System,
    /// The table's tagged missing code `i` ([`LabelledTable::missing`]).
    Tagged(u8),
}

/// What a value label labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueKey {
    Code(f64),
    /// A tagged missing code of the table.
    Missing(u8),
}

/// SPSS user-missing declaration of a numeric column.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum UserMissing {
    #[default]
    None,
    /// Up to three discrete values.
    Discrete(Vec<f64>),
    /// `lo THRU hi`.
    Range { lo: f64, hi: f64 },
}
