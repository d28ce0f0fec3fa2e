//! Exact numbers at the edge of the database.
//!
//! Areas and meter values are `Decimal`s with at most six decimal places, stored as
//! integer micro-units. Shares are reduced fractions, so that 1/3 + 1/3 + 1/3 is
//! exactly one. Both survive SQLite, which would store DECIMAL as a binary float.

use rust_decimal::Decimal;

use crate::error::{AppError, AppResult};

pub const MICRO_SCALE: u32 = 6;

/// Money from minor units (cents, kopecks).
pub fn from_minor(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

/// Money as minor units, refusing more than two decimal places.
pub fn to_minor(field: &str, amount: Decimal) -> AppResult<i64> {
    let scaled = amount * Decimal::ONE_HUNDRED;
    if scaled.fract() != Decimal::ZERO {
        return Err(AppError::validation(
            field,
            "too_precise",
            "at most two decimals",
        ));
    }
    i64::try_from(scaled.trunc())
        .map_err(|_| AppError::validation(field, "too_large", "out of range"))
}

/// Converts a decimal to micro-units, refusing more than six decimal places.
pub fn to_micro(field: &str, value: Decimal) -> AppResult<i64> {
    let normalized = value.normalize();
    if normalized.scale() > MICRO_SCALE {
        return Err(AppError::validation(
            field,
            "too_precise",
            "at most 6 decimal places",
        ));
    }
    let scaled = normalized
        .checked_mul(Decimal::from(1_000_000_i64))
        .ok_or_else(|| AppError::validation(field, "too_large", "the number is too large"))?;
    i64::try_from(scaled)
        .map_err(|_| AppError::validation(field, "too_large", "the number is too large"))
}

pub fn from_micro(micro: i64) -> Decimal {
    Decimal::new(micro, MICRO_SCALE).normalize()
}

/// A positive decimal in micro-units (areas).
pub fn positive_micro(field: &str, value: Decimal) -> AppResult<i64> {
    let micro = to_micro(field, value)?;
    if micro <= 0 {
        return Err(AppError::validation(
            field,
            "must_be_positive",
            "must be greater than zero",
        ));
    }
    Ok(micro)
}

/// A non-negative decimal in micro-units (meter values, common areas).
pub fn non_negative_micro(field: &str, value: Decimal) -> AppResult<i64> {
    let micro = to_micro(field, value)?;
    if micro < 0 {
        return Err(AppError::validation(
            field,
            "must_not_be_negative",
            "must not be negative",
        ));
    }
    Ok(micro)
}

/// An ownership share: a fraction in (0, 1], kept reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    num: i64,
    den: i64,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

impl Share {
    pub const WHOLE: Share = Share { num: 1, den: 1 };
    pub const ZERO: Share = Share { num: 0, den: 1 };

    /// Parses `1/3`, `0.25`, `25%` or `1`.
    pub fn parse(field: &str, text: &str) -> AppResult<Share> {
        let bad = || {
            AppError::validation(
                field,
                "invalid_share",
                "a share is written 1/3, 0.25 or 25%",
            )
        };
        let text = text.trim();
        let (num, den): (i128, i128) = if let Some((n, d)) = text.split_once('/') {
            let n: i128 = n.trim().parse().map_err(|_| bad())?;
            let d: i128 = d.trim().parse().map_err(|_| bad())?;
            (n, d)
        } else {
            let (digits, percent) = match text.strip_suffix('%') {
                Some(rest) => (rest.trim(), true),
                None => (text, false),
            };
            let value: Decimal = digits.replace(',', ".").parse().map_err(|_| bad())?;
            if value.scale() > 9 {
                return Err(bad());
            }
            let den = 10_i128.pow(value.scale()) * if percent { 100 } else { 1 };
            (value.mantissa(), den)
        };
        Self::from_parts(field, num, den)
    }

    pub fn from_parts(field: &str, num: i128, den: i128) -> AppResult<Share> {
        if den <= 0 || num <= 0 {
            return Err(AppError::validation(
                field,
                "share_out_of_range",
                "a share must be greater than 0",
            ));
        }
        if num > den {
            return Err(AppError::validation(
                field,
                "share_out_of_range",
                "a share cannot exceed the whole premises",
            ));
        }
        let g = gcd(num, den);
        let (num, den) = (num / g, den / g);
        match (i64::try_from(num), i64::try_from(den)) {
            (Ok(num), Ok(den)) => Ok(Share { num, den }),
            _ => Err(AppError::validation(
                field,
                "invalid_share",
                "the fraction is too large",
            )),
        }
    }

    /// From stored parts; stored values were valid when written.
    pub fn stored(num: i64, den: i64) -> Share {
        if den <= 0 {
            return Share::ZERO;
        }
        Share { num, den }
    }

    pub fn num(&self) -> i64 {
        self.num
    }

    pub fn den(&self) -> i64 {
        self.den
    }

    /// Rational sum as (num, den) in i128, to compare with one whole.
    pub fn add(a: (i128, i128), b: Share) -> (i128, i128) {
        let num = a.0 * i128::from(b.den) + i128::from(b.num) * a.1;
        let den = a.1 * i128::from(b.den);
        let g = gcd(num, den).max(1);
        (num / g, den / g)
    }

    /// Renders as a finite decimal where one exists (`0.25`), else as `1/3`.
    pub fn render(&self) -> String {
        let den = i128::from(self.den);
        (0..=18_u32)
            .find(|scale| 10_i128.pow(*scale) % den == 0)
            .and_then(|scale| {
                let num = i128::from(self.num) * (10_i128.pow(scale) / den);
                i64::try_from(num)
                    .ok()
                    .map(|n| Decimal::new(n, scale).normalize().to_string())
            })
            .unwrap_or_else(|| format!("{}/{}", self.num, self.den))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn micro_round_trips_values_that_floats_lose() {
        for text in ["0.1", "54.3", "123456789.123456", "0.000001"] {
            let d = Decimal::from_str(text).unwrap();
            assert_eq!(from_micro(to_micro("x", d).unwrap()).to_string(), text);
        }
    }

    #[test]
    fn micro_refuses_a_seventh_decimal_place() {
        let d = Decimal::from_str("1.0000001").unwrap();
        assert!(matches!(
            to_micro("area", d),
            Err(AppError::Validation {
                reason: "too_precise",
                ..
            })
        ));
    }

    #[test]
    fn area_must_be_positive() {
        assert!(positive_micro("area", Decimal::ZERO).is_err());
        assert!(positive_micro("area", Decimal::from_str("-3").unwrap()).is_err());
    }

    #[test]
    fn shares_parse_in_every_written_form() {
        assert_eq!(Share::parse("s", "1/3").unwrap(), Share { num: 1, den: 3 });
        assert_eq!(Share::parse("s", "2/6").unwrap(), Share { num: 1, den: 3 });
        assert_eq!(Share::parse("s", "0.25").unwrap(), Share { num: 1, den: 4 });
        assert_eq!(Share::parse("s", "25%").unwrap(), Share { num: 1, den: 4 });
        assert_eq!(Share::parse("s", "0,1").unwrap(), Share { num: 1, den: 10 });
        assert_eq!(Share::parse("s", "1").unwrap(), Share::WHOLE);
        assert!(Share::parse("s", "4/3").is_err());
        assert!(Share::parse("s", "0").is_err());
        assert!(Share::parse("s", "abc").is_err());
    }

    #[test]
    fn shares_render_as_decimal_when_finite() {
        assert_eq!(Share::parse("s", "1/4").unwrap().render(), "0.25");
        assert_eq!(Share::parse("s", "0.1").unwrap().render(), "0.1");
        assert_eq!(Share::parse("s", "1/3").unwrap().render(), "1/3");
        assert_eq!(Share::WHOLE.render(), "1");
    }

    #[test]
    fn three_thirds_make_exactly_one_whole() {
        let third = Share::parse("s", "1/3").unwrap();
        let sum = [third, third, third]
            .iter()
            .fold((0, 1), |acc, s| Share::add(acc, *s));
        assert_eq!(sum, (1, 1));
    }
}
