//! Column-wise evaluation of an expression on an Arrow `RecordBatch`, with three-valued (Kleene) logic.
//!
//! # Missing values
//! Every row evaluates to true, false or *unknown*. A comparison is unknown when its value is missing:
//! * an Arrow null (cause: `null`), or
//! * a labelled missing code of the table (`dont_know`, `refused`, `not_applicable`, `not_collected`, ...;
//!   cause: that label) — unless the comparison names a missing code itself: `q == "dont_know"` is true for
//!   `dont_know`, false for every real answer and every other missing code (`refused` included), and unknown
//!   only for a null. `q in [..]` is the `or` of the equalities, so `q in ["yes", "dont_know"]` is true for
//!   `dont_know` and unknown (cause `refused`) for `refused`, because `q == "yes"` is.
//!
//! `is_missing(q)` is never unknown: true for nulls and every labelled missing code. `and`, `or`, `not`,
//! `all(...)`, `any(...)` follow Kleene logic (`false and unknown` is false, `true or unknown` is true). An unknown
//! result remembers *which* causes made it unknown (the union over the unknown operands that decided it), so the
//! indicator's missing-code rule can decide per code whether the row leaves the denominator or counts as "no":
//! see [`Evaluation::resolve`].
//!
//! Categorical columns are `Dictionary(<int>, Utf8)`: each leaf is evaluated once per dictionary entry and rows
//! take their key's result (no per-row string comparison). Plain `Utf8`/`LargeUtf8`/`Utf8View` columns are
//! compared per row; numeric columns are read as `f64` (NaN counts as null); boolean columns as they are.

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use crate::ast::{ColumnRef, CompareOp, Expr, Literal, LiteralAt};
use crate::error::EvalError;

/// The largest number of labelled missing codes the evaluator tracks (bit 0 is reserved for nulls).
pub const MAX_MISSING_CODES: usize = 31;

const NULL_BIT: u32 = 1;

/// One row's three-valued result; `Unknown` carries a bit set of causes (bit 0 null, bit i+1 missing code i).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Truth {
    False,
    True,
    Unknown(u32),
}

impl Truth {
    fn from_bool(b: bool) -> Self {
        if b { Truth::True } else { Truth::False }
    }

    fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            (Truth::Unknown(a), Truth::Unknown(b)) => Truth::Unknown(a | b),
            (Truth::Unknown(a), Truth::True) | (Truth::True, Truth::Unknown(a)) => {
                Truth::Unknown(a)
            }
        }
    }

    fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            (Truth::Unknown(a), Truth::Unknown(b)) => Truth::Unknown(a | b),
            (Truth::Unknown(a), Truth::False) | (Truth::False, Truth::Unknown(a)) => {
                Truth::Unknown(a)
            }
        }
    }

    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::True => Truth::False,
            u => u,
        }
    }
}

/// How a row whose result is unknown because of a given missing cause is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingTreatment {
    /// The row leaves the denominator.
    Exclude,
    /// The row stays in the denominator and counts as "no" (false).
    CountAsNo,
}

/// The result of evaluating an expression on a batch: per row true, false or unknown, and why unknown.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    truth: Vec<Truth>,
    missing_codes: Vec<String>,
}

/// An evaluation after applying a missing-code rule: no unknowns left.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// True where the row counts as "yes"; false elsewhere (never null).
    pub value: BooleanArray,
    /// True where the row stays in the denominator (never null).
    pub counted: BooleanArray,
}

impl Evaluation {
    pub fn len(&self) -> usize {
        self.truth.len()
    }

    pub fn is_empty(&self) -> bool {
        self.truth.is_empty()
    }

    /// The result as a `BooleanArray`, null where unknown.
    pub fn values(&self) -> BooleanArray {
        self.truth
            .iter()
            .map(|t| match t {
                Truth::True => Some(true),
                Truth::False => Some(false),
                Truth::Unknown(_) => None,
            })
            .collect()
    }

    /// True where the result is definitely true (unknown counts as false); never null. Use for universes.
    pub fn is_true(&self) -> BooleanArray {
        self.mask(|t| t == Truth::True)
    }

    /// True where the result is unknown; never null.
    pub fn is_unknown(&self) -> BooleanArray {
        self.mask(|t| matches!(t, Truth::Unknown(_)))
    }

    /// True where the result is unknown and `cause` is among the reasons (`None` = Arrow null, `Some(label)` =
    /// that labelled missing code); never null. A label that is not a declared missing code matches no row.
    pub fn unknown_because(&self, cause: Option<&str>) -> BooleanArray {
        match self.cause_bit(cause) {
            Some(bit) => self.mask(|t| matches!(t, Truth::Unknown(c) if c & bit != 0)),
            None => BooleanArray::from(vec![false; self.len()]),
        }
    }

    /// The causes that made `row` unknown (empty when the row is known or out of range).
    pub fn causes(&self, row: usize) -> Vec<Option<&str>> {
        match self.truth.get(row) {
            Some(Truth::Unknown(bits)) => self.decode(*bits),
            _ => Vec::new(),
        }
    }

    /// Applies a missing-code rule. A known row keeps its value and is counted. An unknown row leaves the
    /// denominator if *any* of its causes is [`MissingTreatment::Exclude`]; otherwise it is counted as "no".
    pub fn resolve(&self, treat: impl Fn(Option<&str>) -> MissingTreatment) -> Resolved {
        let mut treatments = vec![MissingTreatment::Exclude; self.missing_codes.len() + 1];
        treatments[0] = treat(None);
        for (i, code) in self.missing_codes.iter().enumerate() {
            treatments[i + 1] = treat(Some(code));
        }
        let excluded = |bits: u32| {
            treatments
                .iter()
                .enumerate()
                .any(|(i, t)| bits & (1 << i) != 0 && *t == MissingTreatment::Exclude)
        };
        let value = self.mask(|t| t == Truth::True);
        let counted = self.mask(|t| match t {
            Truth::Unknown(bits) => !excluded(bits),
            _ => true,
        });
        Resolved { value, counted }
    }

    fn mask(&self, f: impl Fn(Truth) -> bool) -> BooleanArray {
        BooleanArray::from(self.truth.iter().map(|t| f(*t)).collect::<Vec<bool>>())
    }

    fn cause_bit(&self, cause: Option<&str>) -> Option<u32> {
        match cause {
            None => Some(NULL_BIT),
            Some(label) => self
                .missing_codes
                .iter()
                .position(|m| m == label)
                .map(|i| 1 << (i + 1)),
        }
    }

    fn decode(&self, bits: u32) -> Vec<Option<&str>> {
        let mut out = Vec::new();
        if bits & NULL_BIT != 0 {
            out.push(None);
        }
        for (i, code) in self.missing_codes.iter().enumerate() {
            if bits & (1 << (i + 1)) != 0 {
                out.push(Some(code.as_str()));
            }
        }
        out
    }
}

/// Evaluates `expr` on every row of `batch`. `missing_codes` are the table's labelled missing codes.
pub fn evaluate(
    expr: &Expr,
    batch: &RecordBatch,
    missing_codes: &[String],
) -> Result<Evaluation, EvalError> {
    if missing_codes.len() > MAX_MISSING_CODES {
        return Err(EvalError::TooManyMissingCodes {
            limit: MAX_MISSING_CODES,
        });
    }
    let ctx = Context {
        batch,
        missing_codes,
    };
    let truth = ctx.eval(expr)?;
    Ok(Evaluation {
        truth,
        missing_codes: missing_codes.to_vec(),
    })
}

struct Context<'a> {
    batch: &'a RecordBatch,
    missing_codes: &'a [String],
}

/// A leaf condition on one column.
enum Leaf<'e> {
    Compare(CompareOp, &'e LiteralAt),
    In(&'e [LiteralAt]),
    IsMissing,
    Bare,
}

impl Context<'_> {
    fn eval(&self, expr: &Expr) -> Result<Vec<Truth>, EvalError> {
        let rows = self.batch.num_rows();
        match expr {
            Expr::Const(b) => Ok(vec![Truth::from_bool(*b); rows]),
            Expr::Column(col) => self.leaf(col, &Leaf::Bare),
            Expr::IsMissing(col) => self.leaf(col, &Leaf::IsMissing),
            Expr::Compare { column, op, value } => self.leaf(column, &Leaf::Compare(*op, value)),
            Expr::InList {
                column,
                values,
                negated,
            } => {
                let truth = self.leaf(column, &Leaf::In(values))?;
                Ok(if *negated {
                    truth.into_iter().map(Truth::not).collect()
                } else {
                    truth
                })
            }
            Expr::Not(inner) => Ok(self.eval(inner)?.into_iter().map(Truth::not).collect()),
            Expr::And(items) => self.fold(items, Truth::True, Truth::and),
            Expr::Or(items) => self.fold(items, Truth::False, Truth::or),
        }
    }

    fn fold(
        &self,
        items: &[Expr],
        start: Truth,
        op: fn(Truth, Truth) -> Truth,
    ) -> Result<Vec<Truth>, EvalError> {
        let mut acc = vec![start; self.batch.num_rows()];
        for item in items {
            for (a, b) in acc.iter_mut().zip(self.eval(item)?) {
                *a = op(*a, b);
            }
        }
        Ok(acc)
    }

    fn leaf(&self, col: &ColumnRef, leaf: &Leaf<'_>) -> Result<Vec<Truth>, EvalError> {
        let array =
            self.batch
                .column_by_name(&col.name)
                .ok_or_else(|| EvalError::MissingColumn {
                    column: col.name.clone(),
                })?;
        match array.data_type() {
            DataType::Dictionary(_, _) => self.dictionary_leaf(col, array, leaf),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let values =
                    string_values(array).ok_or_else(|| unsupported(col, array, "is not text"))?;
                values
                    .into_iter()
                    .map(|v| self.label_truth(col, array, v, leaf))
                    .collect()
            }
            DataType::Boolean => {
                let values = array.as_boolean();
                (0..values.len())
                    .map(|i| {
                        bool_truth(
                            col,
                            array,
                            values.is_valid(i).then(|| values.value(i)),
                            leaf,
                        )
                    })
                    .collect()
            }
            t if t.is_numeric() => {
                let floats = cast(array, &DataType::Float64)
                    .map_err(|_| unsupported(col, array, "cannot be read as numbers"))?;
                let floats = floats.as_primitive::<arrow::datatypes::Float64Type>();
                (0..floats.len())
                    .map(|i| {
                        let v = floats
                            .is_valid(i)
                            .then(|| floats.value(i))
                            .filter(|v| !v.is_nan());
                        number_truth(col, array, v, leaf)
                    })
                    .collect()
            }
            _ => Err(unsupported(
                col,
                array,
                "the expression language cannot read (expected dictionary, text, number or boolean)",
            )),
        }
    }

    /// Evaluates the leaf once per dictionary entry, then maps every row through its key.
    fn dictionary_leaf(
        &self,
        col: &ColumnRef,
        array: &ArrayRef,
        leaf: &Leaf<'_>,
    ) -> Result<Vec<Truth>, EvalError> {
        let dict = array.as_any_dictionary();
        let entries = string_values(dict.values())
            .ok_or_else(|| unsupported(col, array, "is a dictionary whose values are not text"))?;
        let per_entry: Vec<Truth> = entries
            .into_iter()
            .map(|v| self.label_truth(col, array, v, leaf))
            .collect::<Result<_, _>>()?;
        let null_truth = self.label_truth(col, array, None, leaf)?;
        let keys = dict.keys();
        // An empty dictionary (a table with no rows, or a column with no value in any row) has no entry a key
        // could point at; arrow's `normalized_keys` asserts on it, so every row is read as null instead.
        if per_entry.is_empty() {
            return Ok(vec![null_truth; keys.len()]);
        }
        Ok(dict
            .normalized_keys()
            .into_iter()
            .enumerate()
            .map(|(row, key)| {
                if keys.is_null(row) {
                    null_truth
                } else {
                    per_entry.get(key).copied().unwrap_or(null_truth)
                }
            })
            .collect())
    }

    fn missing_bit(&self, label: &str) -> Option<u32> {
        self.missing_codes
            .iter()
            .position(|m| m == label)
            .map(|i| 1 << (i + 1))
    }

    /// The leaf's result for one label (or null) of a text or categorical column.
    fn label_truth(
        &self,
        col: &ColumnRef,
        array: &ArrayRef,
        value: Option<&str>,
        leaf: &Leaf<'_>,
    ) -> Result<Truth, EvalError> {
        let missing = match value {
            None => Some(NULL_BIT),
            Some(v) => self.missing_bit(v),
        };
        let equals = |literal: &LiteralAt| -> Result<Truth, EvalError> {
            let Literal::Label(label) = &literal.value else {
                return Err(unsupported(
                    col,
                    array,
                    &format!("is text, compared with {}", literal.value.kind_name()),
                ));
            };
            Ok(match (value, missing) {
                // A comparison that names a missing code is decided for every labelled value.
                (Some(v), _) if self.missing_bit(label).is_some() => Truth::from_bool(v == label),
                (_, Some(bits)) => Truth::Unknown(bits),
                (Some(v), None) => Truth::from_bool(v == label),
                (None, None) => Truth::Unknown(NULL_BIT),
            })
        };
        match leaf {
            Leaf::IsMissing => Ok(Truth::from_bool(missing.is_some())),
            Leaf::Bare => Err(unsupported(col, array, "is text, not a condition")),
            Leaf::Compare(CompareOp::Eq, lit) => equals(lit),
            Leaf::Compare(CompareOp::Ne, lit) => Ok(equals(lit)?.not()),
            Leaf::Compare(op, _) => Err(unsupported(
                col,
                array,
                &format!("is text; `{}` needs a number", op.symbol()),
            )),
            Leaf::In(list) => list
                .iter()
                .try_fold(Truth::False, |acc, lit| Ok(acc.or(equals(lit)?))),
        }
    }
}

fn number_truth(
    col: &ColumnRef,
    array: &ArrayRef,
    value: Option<f64>,
    leaf: &Leaf<'_>,
) -> Result<Truth, EvalError> {
    let compare = |op: CompareOp, literal: &LiteralAt| -> Result<Truth, EvalError> {
        let Literal::Number(n) = literal.value else {
            return Err(unsupported(
                col,
                array,
                &format!("is numeric, compared with {}", literal.value.kind_name()),
            ));
        };
        Ok(value.map_or(Truth::Unknown(NULL_BIT), |v| {
            Truth::from_bool(op.apply(&v, &n))
        }))
    };
    match leaf {
        Leaf::IsMissing => Ok(Truth::from_bool(value.is_none())),
        Leaf::Bare => Err(unsupported(col, array, "is numeric, not a condition")),
        Leaf::Compare(op, lit) => compare(*op, lit),
        Leaf::In(list) => list.iter().try_fold(Truth::False, |acc, lit| {
            Ok(acc.or(compare(CompareOp::Eq, lit)?))
        }),
    }
}

fn bool_truth(
    col: &ColumnRef,
    array: &ArrayRef,
    value: Option<bool>,
    leaf: &Leaf<'_>,
) -> Result<Truth, EvalError> {
    let compare = |op: CompareOp, literal: &LiteralAt| -> Result<Truth, EvalError> {
        let Literal::Bool(b) = literal.value else {
            return Err(unsupported(
                col,
                array,
                &format!("is boolean, compared with {}", literal.value.kind_name()),
            ));
        };
        match (op, value) {
            (_, None) => Ok(Truth::Unknown(NULL_BIT)),
            (CompareOp::Eq, Some(v)) => Ok(Truth::from_bool(v == b)),
            (CompareOp::Ne, Some(v)) => Ok(Truth::from_bool(v != b)),
            _ => Err(unsupported(
                col,
                array,
                &format!("is boolean; `{}` needs a number", op.symbol()),
            )),
        }
    };
    match leaf {
        Leaf::IsMissing => Ok(Truth::from_bool(value.is_none())),
        Leaf::Bare => Ok(value.map_or(Truth::Unknown(NULL_BIT), Truth::from_bool)),
        Leaf::Compare(op, lit) => compare(*op, lit),
        Leaf::In(list) => list.iter().try_fold(Truth::False, |acc, lit| {
            Ok(acc.or(compare(CompareOp::Eq, lit)?))
        }),
    }
}

/// The values of a text array (any Arrow string layout), `None` for nulls; `None` if it is not text.
fn string_values(array: &dyn Array) -> Option<Vec<Option<&str>>> {
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().iter().collect()),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().iter().collect()),
        DataType::Utf8View => Some(array.as_string_view().iter().collect()),
        _ => None,
    }
}

fn unsupported(col: &ColumnRef, array: &ArrayRef, expected: &str) -> EvalError {
    EvalError::UnsupportedType {
        column: col.name.clone(),
        data_type: array.data_type().to_string(),
        expected: expected.to_string(),
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
