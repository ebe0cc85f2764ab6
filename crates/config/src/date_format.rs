//! The `date_format` of a column mapping: the small, strict strftime-style subset `dh` reads, compiled once into
//! [`DateItem`]s. Checking a config uses [`DateFormat::compile`] (an unknown directive is a config error);
//! `dh-normalise` matches cells against the compiled items.
//!
//! Supported directives ([`SUPPORTED`]): `%Y` (4-digit year), `%y` (2-digit year: 69-99 are 1969-1999, 00-68 are
//! 2000-2068, as POSIX `strptime`), `%m` (month number), `%d` (day of month), `%b` (English month abbreviation,
//! `Jan`..`Dec`), `%B` (English month name, `January`..`December`), `%H` (hour 00-23), `%M` (minute), `%S` (second)
//! and `%%` (a literal `%`). Any other character matches itself. A format must name a year, a month and a day once
//! each; a time part is optional (`%H:%M` or `%H:%M:%S`) and is checked, then dropped: the harmonised column holds
//! the date.

/// One piece of a compiled date format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateItem {
    /// `%Y`: exactly four digits.
    Year,
    /// `%y`: exactly two digits.
    Year2,
    /// `%m`: month number.
    Month,
    /// `%b`: English month abbreviation (`Jan`, any case).
    MonthAbbr,
    /// `%B`: English month name (`January`, any case).
    MonthName,
    /// `%d`: day of month.
    Day,
    /// `%H`: hour of the day (0-23).
    Hour,
    /// `%M`: minute.
    Minute,
    /// `%S`: second.
    Second,
    /// Any other character, matched exactly.
    Literal(char),
}

impl DateItem {
    /// Whether the item reads digits (and so needs its full width when another number follows or precedes it).
    pub fn is_number(self) -> bool {
        !matches!(
            self,
            DateItem::MonthAbbr | DateItem::MonthName | DateItem::Literal(_)
        )
    }
}

/// The directives a `date_format` may use, for messages.
pub const SUPPORTED: &str = "%Y, %y, %m, %d, %b, %B, %H, %M, %S, %%";

/// A checked `date_format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    text: String,
    items: Vec<DateItem>,
}

impl DateFormat {
    /// Compiles `format`; the error says what is wrong and what is supported.
    pub fn compile(format: &str) -> Result<DateFormat, String> {
        let mut items = Vec::new();
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                items.push(DateItem::Literal(c));
                continue;
            }
            let item = match chars.next() {
                Some('Y') => DateItem::Year,
                Some('y') => DateItem::Year2,
                Some('m') => DateItem::Month,
                Some('b') => DateItem::MonthAbbr,
                Some('B') => DateItem::MonthName,
                Some('d') => DateItem::Day,
                Some('H') => DateItem::Hour,
                Some('M') => DateItem::Minute,
                Some('S') => DateItem::Second,
                Some('%') => DateItem::Literal('%'),
                Some(other) => {
                    return Err(format!(
                        "date_format `{format}` uses `%{other}`, which dh does not read; supported: {SUPPORTED}"
                    ));
                }
                None => {
                    return Err(format!(
                        "date_format `{format}` ends with a lone `%`; write `%%` for a literal percent sign"
                    ));
                }
            };
            items.push(item);
        }
        let count = |wanted: &[DateItem]| items.iter().filter(|i| wanted.contains(i)).count();
        let parts = [
            ("year (%Y or %y)", &[DateItem::Year, DateItem::Year2][..]),
            (
                "month (%m, %b or %B)",
                &[DateItem::Month, DateItem::MonthAbbr, DateItem::MonthName][..],
            ),
            ("day (%d)", &[DateItem::Day][..]),
        ];
        for (what, wanted) in parts {
            match count(wanted) {
                1 => {}
                0 => return Err(format!("date_format `{format}` has no {what}; add it")),
                _ => {
                    return Err(format!(
                        "date_format `{format}` names the {what} more than once"
                    ));
                }
            }
        }
        for (item, name) in [
            (DateItem::Hour, "%H"),
            (DateItem::Minute, "%M"),
            (DateItem::Second, "%S"),
        ] {
            if count(&[item]) > 1 {
                return Err(format!(
                    "date_format `{format}` names {name} more than once"
                ));
            }
        }
        let has = |i: DateItem| items.contains(&i);
        if (has(DateItem::Minute) && !has(DateItem::Hour))
            || (has(DateItem::Second) && !has(DateItem::Minute))
        {
            return Err(format!(
                "date_format `{format}` has a time without its hour or minute; a time is %H:%M or %H:%M:%S"
            ));
        }
        Ok(DateFormat {
            text: format.to_string(),
            items,
        })
    }

    /// The format as written in the config.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn items(&self) -> &[DateItem] {
        &self.items
    }

    /// 31 December 2021, 13:45:30 written in this format (e.g. `31/12/2021`), for messages.
    pub fn example(&self) -> String {
        self.items
            .iter()
            .map(|item| match item {
                DateItem::Year => "2021".to_string(),
                DateItem::Year2 => "21".to_string(),
                DateItem::Month => "12".to_string(),
                DateItem::MonthAbbr => "Dec".to_string(),
                DateItem::MonthName => "December".to_string(),
                DateItem::Day => "31".to_string(),
                DateItem::Hour => "13".to_string(),
                DateItem::Minute => "45".to_string(),
                DateItem::Second => "30".to_string(),
                DateItem::Literal(c) => c.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_formats_compile_with_an_example() {
        for (format, example) in [
            ("%d/%m/%Y", "31/12/2021"),
            ("%m/%d/%Y", "12/31/2021"),
            ("%d.%m.%Y", "31.12.2021"),
            ("%Y%m%d", "20211231"),
            ("%d-%b-%Y", "31-Dec-2021"),
            ("%d %B %y", "31 December 21"),
            ("%d/%m/%Y %H:%M", "31/12/2021 13:45"),
            ("%Y-%m-%dT%H:%M:%S", "2021-12-31T13:45:30"),
            ("%d%%%m%%%Y", "31%12%2021"),
        ] {
            let f = DateFormat::compile(format).unwrap();
            assert_eq!(f.example(), example, "{format}");
            assert_eq!(f.as_str(), format);
        }
    }

    #[test]
    fn bad_formats_say_what_is_wrong() {
        for (format, says) in [
            ("%d/%m/%Q", "`%Q`"),
            ("%e/%m/%Y", "`%e`"),
            ("%d/%m/%Y%", "lone `%`"),
            ("%m/%Y", "no day"),
            ("%d/%m", "no year"),
            ("%d/%m/%Y/%d", "more than once"),
            ("%d/%m/%Y/%y", "more than once"),
            ("%d/%m/%Y %M", "without its hour"),
            ("%d/%m/%Y %H:%S", "without its hour or minute"),
            ("", "no year"),
        ] {
            let err = DateFormat::compile(format).unwrap_err();
            assert!(err.contains(says), "{format}: {err}");
        }
        assert!(
            DateFormat::compile("%x")
                .unwrap_err()
                .contains("%Y, %y, %m")
        );
    }
}
