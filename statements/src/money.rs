//! Amounts written in files, as exact minor units (two decimals).

/// Parses `1234.56`, `-12,5`, `1 234,56` (with `decimal` as the separator of
/// the fraction and spaces, non-breaking spaces or the other separator as
/// thousands when `thousands` is set) into minor units. At most two decimals
/// (further zeros are accepted), at most 15 digits before them.
pub fn parse(text: &str, decimal: char, thousands: bool) -> Result<i64, &'static str> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if t.is_empty() {
        return Err("empty");
    }
    let other = if decimal == ',' { '.' } else { ',' };
    let mut units: i64 = 0;
    let mut fraction: Option<u32> = None;
    let mut digits = 0;
    let mut fraction_value: i64 = 0;
    for c in t.chars() {
        match c {
            '0'..='9' => {
                let d = i64::from(c as u8 - b'0');
                match &mut fraction {
                    None => {
                        digits += 1;
                        if digits > 15 {
                            return Err("too many digits");
                        }
                        units = units * 10 + d;
                    }
                    Some(n) => {
                        *n += 1;
                        if *n <= 2 {
                            fraction_value = fraction_value * 10 + d;
                        } else if d != 0 {
                            return Err("more than two decimals");
                        }
                        if *n > 18 {
                            return Err("too many decimals");
                        }
                    }
                }
            }
            c if c == decimal && fraction.is_none() => fraction = Some(0),
            ' ' | '\u{a0}' | '\u{202f}' | '\'' if thousands && fraction.is_none() => {}
            c if c == other && thousands && fraction.is_none() => {}
            _ => return Err("not a number"),
        }
    }
    if digits == 0 {
        return Err("not a number");
    }
    let scale = match fraction {
        None | Some(0) => 100,
        Some(1) => 10,
        Some(_) => 1,
    };
    let minor = units * 100 + fraction_value * scale;
    Ok(if negative { -minor } else { minor })
}

/// Parses digits that already are minor units (`000000000338150`).
pub fn parse_cents(text: &str) -> Result<i64, &'static str> {
    let t = text.trim();
    if t.is_empty() || t.len() > 18 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not digits");
    }
    t.parse().map_err(|_| "not digits")
}

/// `1234.56`, `-0.05`.
pub fn format(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let v = minor.unsigned_abs();
    format!("{sign}{}.{:02}", v / 100, v % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_become_exact_minor_units() {
        assert_eq!(parse("3381.49", '.', false), Ok(338_149));
        assert_eq!(parse("1000", '.', false), Ok(100_000));
        assert_eq!(parse("12,5", ',', false), Ok(1_250));
        assert_eq!(parse("-0,05", ',', false), Ok(-5));
        assert_eq!(parse("1 234,56", ',', true), Ok(123_456));
        assert_eq!(parse("1.234,56", ',', true), Ok(123_456));
        assert_eq!(parse("1,234.56", '.', true), Ok(123_456));
        assert_eq!(parse("7.10", '.', false), Ok(710));
        assert_eq!(parse("7.100", '.', false), Ok(710));
        assert_eq!(parse("7.", '.', false), Ok(700));
        assert_eq!(parse("7.105", '.', false), Err("more than two decimals"));
        assert_eq!(parse("1e5", '.', false), Err("not a number"));
        assert_eq!(parse("1 234,56", ',', false), Err("not a number"));
        assert_eq!(parse("", '.', false), Err("empty"));
        assert_eq!(parse(".", '.', false), Err("not a number"));
        assert_eq!(
            parse("9999999999999999", '.', false),
            Err("too many digits")
        );
        assert_eq!(parse_cents("000000000338150"), Ok(338_150));
        assert_eq!(parse_cents("12a"), Err("not digits"));
        assert_eq!(format(338_149), "3381.49");
        assert_eq!(format(-5), "-0.05");
    }
}
