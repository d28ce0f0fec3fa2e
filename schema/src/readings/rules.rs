//! The arithmetic of meter readings: pure functions over micro-units and dates.

use chrono::{Datelike, NaiveDate};

/// What one reading adds to the one before it, per zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The register moved forward by this much.
    Forward(i64),
    /// The register passed its capacity and started again: this much in all.
    Rollover(i64),
    /// Lower than before, and not a plausible rollover.
    Below,
}

impl Step {
    pub fn consumption(self, previous: i64, value: i64) -> i64 {
        match self {
            Step::Forward(c) | Step::Rollover(c) => c,
            Step::Below => value - previous,
        }
    }
}

/// The register's capacity in micro-units: it shows zero again at 10^digits.
pub fn capacity(digits: Option<i32>) -> Option<i64> {
    digits
        .filter(|d| (1..=12).contains(d))
        .map(|d| 10_i64.pow(d as u32) * 1_000_000)
}

/// From `previous` to `value` on a register of `digits` whole digits. A lower
/// value counts as a rollover only when the register has a known capacity and
/// the wrapped consumption is under half of it; anything else is far more
/// likely a typing error.
pub fn step(previous: i64, value: i64, digits: Option<i32>) -> Step {
    if value >= previous {
        return Step::Forward(value - previous);
    }
    match capacity(digits) {
        Some(cap) if previous < cap => {
            let wrapped = cap - previous + value;
            if wrapped < cap / 2 {
                Step::Rollover(wrapped)
            } else {
                Step::Below
            }
        }
        _ => Step::Below,
    }
}

/// Whether `day` of a month of `month_days` days is inside the window from
/// `from` to `to` (day numbers; a window may span the month's end, as 25 to 5;
/// a day beyond the month's length means its last day).
pub fn in_window(day: u32, month_days: u32, from: u32, to: u32) -> bool {
    let from = from.min(month_days);
    let to = to.min(month_days);
    if from <= to {
        (from..=to).contains(&day)
    } else {
        day >= from || day <= to
    }
}

pub fn days_in_month(date: NaiveDate) -> u32 {
    let (y, m) = (date.year(), date.month());
    let first_next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    first_next
        .and_then(|d| d.pred_opt())
        .map_or(31, |d| d.day())
}

/// A reading's date and values per zone, micro-units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub on: NaiveDate,
    pub values: [i64; 3],
}

/// Whether `new` consumes far more per day than the meter did over `history`
/// (oldest first, ending with the reading before `new`): in any zone, its
/// daily consumption exceeds `factor_pct` percent of the average. No verdict
/// without at least one earlier interval with some consumption.
pub fn far_above(
    history: &[Point],
    new: Point,
    zones: usize,
    digits: Option<i32>,
    factor_pct: i64,
) -> bool {
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        return false;
    };
    if history.len() < 2 {
        return false;
    }
    let span_days = i128::from((last.on - first.on).num_days().max(1));
    let days = i128::from((new.on - last.on).num_days().max(1));
    (0..zones.min(3)).any(|z| {
        let mut total: i128 = 0;
        for pair in history.windows(2) {
            let (a, b) = (pair[0].values[z], pair[1].values[z]);
            total += i128::from(step(a, b, digits).consumption(a, b).max(0));
        }
        let prev = last.values[z];
        let used = i128::from(step(prev, new.values[z], digits).consumption(prev, new.values[z]));
        // used / days > factor × total / span_days, without division.
        total > 0 && used * span_days * 100 > i128::from(factor_pct) * total * days
    })
}

/// "2026-11" for a date.
pub fn period_of(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const M: i64 = 1_000_000;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p(on: &str, v: i64) -> Point {
        Point {
            on: d(on),
            values: [v * M, 0, 0],
        }
    }

    #[test]
    fn a_register_of_five_digits_rolls_over_from_99990_to_12_as_22_units() {
        assert_eq!(step(99_990 * M, 12 * M, Some(5)), Step::Rollover(22 * M));
        assert_eq!(step(99_990 * M, 12 * M, None), Step::Below);
        // From 500 down to 12 would be 99 512 units: a typing error, not a rollover.
        assert_eq!(step(500 * M, 12 * M, Some(5)), Step::Below);
        assert_eq!(step(12 * M, 15 * M, Some(5)), Step::Forward(3 * M));
    }

    #[test]
    fn a_window_from_the_15th_to_the_25th_and_one_across_the_months_end() {
        assert!(in_window(15, 30, 15, 25));
        assert!(in_window(25, 30, 15, 25));
        assert!(!in_window(14, 30, 15, 25));
        assert!(!in_window(26, 30, 15, 25));
        assert!(in_window(27, 30, 25, 5));
        assert!(in_window(3, 30, 25, 5));
        assert!(!in_window(10, 30, 25, 5));
        // The 31st in a February means its last day.
        assert!(in_window(28, 28, 20, 31));
        assert_eq!(days_in_month(d("2028-02-10")), 29);
    }

    #[test]
    fn ten_times_the_usual_daily_consumption_is_far_above_and_twice_is_not() {
        // 3 units a month for three months: 0.1 a day.
        let history = [
            p("2026-08-01", 100),
            p("2026-09-01", 103),
            p("2026-10-01", 106),
            p("2026-11-01", 109),
        ];
        assert!(far_above(&history, p("2026-12-01", 139), 1, None, 300));
        assert!(!far_above(&history, p("2026-12-01", 115), 1, None, 300));
        // One earlier reading is no basis for a verdict.
        assert!(!far_above(
            &history[..1],
            p("2026-12-01", 1_000),
            1,
            None,
            300
        ));
        // Nor is a history without consumption.
        let flat = [p("2026-08-01", 100), p("2026-09-01", 100)];
        assert!(!far_above(&flat, p("2026-10-01", 200), 1, None, 300));
    }

    #[test]
    fn the_average_counts_a_rollover_as_consumption() {
        let history = [p("2026-09-01", 99_995), p("2026-10-01", 5)];
        // 10 units in the last month; 12 now is not far above.
        assert!(!far_above(&history, p("2026-11-01", 17), 1, Some(5), 300));
        assert!(far_above(&history, p("2026-11-01", 100), 1, Some(5), 300));
    }
}
