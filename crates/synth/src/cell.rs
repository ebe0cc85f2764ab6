//! [`Cell`]: one harmonised value of one synthetic respondent, before it is written in a country's own codes.

/// A harmonised value. Categorical answers and missing codes are indices into the schema, so a row of cells is
/// small and cheap to compare; the writer turns them into each country's source codes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// Index into the field's schema `categories`.
    Cat(u16),
    /// Index into the table's `missingValues` (dont_know, refused, not_applicable, ...).
    Missing(u8),
    Int(i32),
    /// A non-integer number item (single precision keeps a cell at 8 bytes; synthetic values need no more).
    Num(f32),
    /// A design or key value that the writer takes from the respondent's frame record (ids, stratum, PSU,
    /// region, base weight).
    Frame,
    /// No value: written as an empty field.
    Blank,
}
