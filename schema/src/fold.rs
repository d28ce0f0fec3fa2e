//! Folding text for search: lower case, accents removed, punctuation as spaces.
//!
//! "Conceição" and "conceicao", "Алёна" and "алена" fold to the same words, so a
//! plain byte comparison in either database is case- and accent-insensitive.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Folds a text into lower-case words without accents, separated by one space.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return fold_ascii(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                out.push(l);
            }
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The same folding for ASCII text, without Unicode tables (most codes and phones).
fn fold_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b.to_ascii_lowercase() as char);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The words of a folded text.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(' ').filter(|w| !w.is_empty())
}

/// The digits of a phone number, e.g. `+7 (916) 123-45-67` → `79161234567`.
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// A phone number as stored: `+` and digits.
pub fn normalize_phone(text: &str) -> Option<String> {
    let d = digits(text);
    if d.len() < 5 || d.len() > 15 {
        return None;
    }
    Some(format!("+{d}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_and_accents_in_every_script() {
        assert_eq!(fold("Conceição"), "conceicao");
        assert_eq!(fold("Алёна ИВАНОВА"), "алена иванова");
        assert_eq!(fold("  ул. Ленина,  д. 5 "), "ул ленина д 5");
        assert_eq!(fold("Müller-Lüdenscheidt"), "muller ludenscheidt");
    }

    #[test]
    fn ascii_and_unicode_paths_agree() {
        for text in ["CW-190001", "  Rua Augusta, 1500 ", "a__b", "ABC def-12"] {
            let unicode: String = {
                let mut t = text.to_string();
                t.push('é');
                fold(&t)
            };
            assert_eq!(
                format!("{}e", fold(text)).replace(" e", "e"),
                unicode.replace(" e", "e"),
                "{text}"
            );
        }
    }

    #[test]
    fn phones_keep_only_digits() {
        assert_eq!(
            normalize_phone("+7 (916) 123-45-67").as_deref(),
            Some("+79161234567")
        );
        assert_eq!(normalize_phone("12"), None);
    }
}
