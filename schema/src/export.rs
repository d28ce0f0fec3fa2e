//! Cells of exported files (CSV, XLSX) with text that came from users.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a
//! formula (and tab or carriage return can hide such a start): a resident's
//! name like `=HYPERLINK(…)` in a debtors report would run on the
//! accountant's machine. Such a cell gets a leading apostrophe, which
//! spreadsheets show as text (OWASP, CSV injection). Numbers we write
//! ourselves are not passed through here.

use std::borrow::Cow;

/// The text as a cell no spreadsheet runs as a formula.
pub fn cell(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn a_cell_that_a_spreadsheet_would_run_is_kept_as_text() {
        for bad in [
            "=1+2",
            "+7 900",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "=HYPERLINK(\"x\")",
        ] {
            assert_eq!(cell(bad), format!("'{bad}"));
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for good in ["Иванов И. И.", "ул. Ленина, 1", "", "12", "a=b", "'quoted"] {
            assert_eq!(cell(good), good);
        }
    }
}
