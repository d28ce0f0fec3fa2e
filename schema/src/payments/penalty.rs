//! Late-payment penalties on one month's debt over one window of days (the
//! month a penalty line is billed for), by the organisation's rule:
//!
//! - graduated daily rates (Russia, Housing Code art. 155 p.14): nothing for
//!   the first days after the due date (30), then the debt × the key rate ×
//!   days ÷ 300 from day 31 and ÷ 130 from day 91; day 1 is the day after the
//!   due date, and a payment's own day still counts on the old debt;
//! - a fine plus monthly interest pro rata (Brazil, Civil Code art. 1.336
//!   §1): a fine in percent of the debt on the first day late (after any
//!   grace days), and the monthly rate ÷ 30 for each day late.
//!
//! Pure: the days are walked one by one (a window is a month), grouped into
//! parts with the same base and rate for the receipt to show, and the line is
//! the sum of the exact parts rounded once, half-up, to the cent; every
//! product is multiplied out before it is divided.

use chrono::{Duration, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

/// The organisation's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Graduated {
        /// The annual rate in percent (the key rate, capped as the law says).
        rate_percent: Decimal,
        /// From which day late each divisor applies, ascending:
        /// `[(31, 300), (91, 130)]`.
        steps: Vec<(i64, Decimal)>,
    },
    FineAndInterest {
        grace_days: i64,
        fine_percent: Decimal,
        monthly_interest_percent: Decimal,
    },
}

impl Rule {
    /// Russia until 2027-01-01: min(9.5 %, key rate), ÷300 from day 31, ÷130 from day 91.
    pub fn russia(rate_percent: Decimal) -> Rule {
        Rule::Graduated {
            rate_percent,
            steps: vec![(31, Decimal::from(300)), (91, Decimal::from(130))],
        }
    }
}

/// What a part of the window charges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The rate ÷ the divisor per day.
    Daily {
        divisor: Decimal,
    },
    Fine,
    /// The monthly rate ÷ 30 per day.
    Interest,
}

/// Days with the same base and rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    /// The debt the part is charged on, in minor units.
    pub base_minor: i64,
    pub kind: Kind,
    /// Exact, in currency units.
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Penalty {
    pub parts: Vec<Part>,
    /// The line: the parts' sum rounded half-up to the cent.
    pub amount: Decimal,
}

/// The penalty on a debt due on `due`, of `outstanding_minor` at the start
/// of `window` (inclusive), reduced by `payments` (day, minor units) from the
/// day after each.
pub fn penalty(
    rule: &Rule,
    due: NaiveDate,
    outstanding_minor: i64,
    payments: &[(NaiveDate, i64)],
    window: (NaiveDate, NaiveDate),
) -> Penalty {
    let mut parts: Vec<Part> = Vec::new();
    let mut day = window.0.max(due + Duration::days(1));
    // Payments before the window are already in the outstanding amount.
    let mut outstanding = outstanding_minor;
    while day <= window.1 {
        let late = (day - due).num_days();
        let base = outstanding.max(0);
        let kind = match rule {
            Rule::Graduated { steps, .. } => steps
                .iter()
                .rev()
                .find(|(from, _)| late >= *from)
                .map(|(_, divisor)| Kind::Daily { divisor: *divisor }),
            Rule::FineAndInterest { grace_days, .. } => {
                if late == grace_days + 1 && base > 0 {
                    parts.push(Part {
                        from: day,
                        to: day,
                        days: 1,
                        base_minor: base,
                        kind: Kind::Fine,
                        amount: Decimal::ZERO,
                    });
                }
                (late > *grace_days).then_some(Kind::Interest)
            }
        };
        if let Some(kind) = kind.filter(|_| base > 0) {
            match parts.last_mut() {
                Some(p)
                    if p.kind == kind
                        && p.base_minor == base
                        && p.to + Duration::days(1) == day =>
                {
                    p.to = day;
                    p.days += 1;
                }
                _ => parts.push(Part {
                    from: day,
                    to: day,
                    days: 1,
                    base_minor: base,
                    kind,
                    amount: Decimal::ZERO,
                }),
            }
        }
        // A payment's own day counted on the old debt; less from the next.
        for (on, paid) in payments {
            if *on == day {
                outstanding -= paid;
            }
        }
        day += Duration::days(1);
    }
    // Multiplied out before dividing: base (minor units) × rate (%) × days,
    // then ÷ (divisor × 100 × 100).
    let ten_thousand = Decimal::from(10_000);
    for p in &mut parts {
        let base = Decimal::from(p.base_minor);
        let days = Decimal::from(p.days);
        p.amount = match (&p.kind, rule) {
            (Kind::Daily { divisor }, Rule::Graduated { rate_percent, .. }) => {
                base * rate_percent * days / (divisor * ten_thousand)
            }
            (Kind::Fine, Rule::FineAndInterest { fine_percent, .. }) => {
                base * fine_percent / ten_thousand
            }
            (
                Kind::Interest,
                Rule::FineAndInterest {
                    monthly_interest_percent,
                    ..
                },
            ) => base * monthly_interest_percent * days / (Decimal::from(30) * ten_thousand),
            _ => Decimal::ZERO,
        };
    }
    let total: Decimal = parts.iter().map(|p| p.amount).sum();
    Penalty {
        parts,
        amount: total.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
    }
}

/// One month's debt as the ledger tells it: what was owed on it and the
/// money that settled it, by day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The debt's period, `2026-09`.
    pub period: String,
    pub due: NaiveDate,
    /// What the period's receipt charged (minor units).
    pub owed_minor: i64,
    /// Money settling it, by the day it was paid (a reversal is negative).
    pub settled: Vec<(NaiveDate, i64)>,
}

/// The penalties of a window of days (a month) on each debt that is late in
/// it: the debt is what was owed less what was paid before the window; a
/// payment inside the window lowers it from the next day. Debts without a
/// penalty are left out.
pub fn for_window(
    rule: &Rule,
    window: (NaiveDate, NaiveDate),
    debts: &[History],
) -> Vec<(String, Penalty)> {
    let mut out = Vec::new();
    for d in debts {
        let before: i64 = d
            .settled
            .iter()
            .filter(|(on, _)| *on < window.0)
            .map(|(_, m)| m)
            .sum();
        let inside: Vec<(NaiveDate, i64)> = d
            .settled
            .iter()
            .filter(|(on, _)| *on >= window.0 && *on <= window.1)
            .copied()
            .collect();
        let p = penalty(rule, d.due, d.owed_minor - before, &inside, window);
        if p.amount > Decimal::ZERO {
            out.push((d.period.clone(), p));
        }
    }
    out
}

/// How a penalty was counted, for the receipt: each part as base × days ×
/// rate, `1 553,50 × 16 дн. × 9,5 % / 300`.
pub fn describe(rule: &Rule, p: &Penalty, locale: &str) -> String {
    let comma = !locale.starts_with("en");
    let local = move |t: String| if comma { t.replace('.', ",") } else { t };
    let num = |v: Decimal| {
        let t = v.normalize().to_string();
        if comma {
            t.replace('.', ",")
        } else {
            t
        }
    };
    let days = match locale {
        l if l.starts_with("ru") => "дн.",
        l if l.starts_with("pt") => "dias",
        _ => "days",
    };
    let fine = match locale {
        l if l.starts_with("ru") => "штраф",
        l if l.starts_with("pt") => "multa",
        _ => "fine",
    };
    p.parts
        .iter()
        .map(|part| {
            let base = local(Decimal::new(part.base_minor, 2).to_string());
            match (&part.kind, rule) {
                (Kind::Daily { divisor }, Rule::Graduated { rate_percent, .. }) => format!(
                    "{base} × {} {days} × {} % / {}",
                    part.days,
                    num(*rate_percent),
                    num(*divisor)
                ),
                (Kind::Fine, Rule::FineAndInterest { fine_percent, .. }) => {
                    format!("{base} × {} % {fine}", num(*fine_percent))
                }
                (
                    Kind::Interest,
                    Rule::FineAndInterest {
                        monthly_interest_percent,
                        ..
                    },
                ) => format!(
                    "{base} × {} {days} × {} % / 30",
                    part.days,
                    num(*monthly_interest_percent)
                ),
                _ => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
// Minor units written as units_cents: 120_00 is 120.00.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn january() -> (NaiveDate, NaiveDate) {
        (day("2027-01-01"), day("2027-01-31"))
    }

    #[test]
    fn russia_nothing_for_30_days_then_a_three_hundredth_of_the_rate() {
        // Due 15 December: day 30 is 14 January, day 31 is 15 January.
        // 15–31 January, 17 days: 10 000 × 9.5 % × 17 / 300 = 53.8333… → 53.83.
        let p = penalty(
            &Rule::russia(d("9.5")),
            day("2026-12-15"),
            10_000_00,
            &[],
            january(),
        );
        assert_eq!(p.amount, d("53.83"));
        assert_eq!(p.parts.len(), 1);
        assert_eq!((p.parts[0].from, p.parts[0].days), (day("2027-01-15"), 17));
    }

    #[test]
    fn russia_a_payment_counts_on_its_own_day_then_lowers_the_base() {
        // 4 000 paid on 20 January: 15–20 January on 10 000, 6 days = 19.00;
        // 21–31 January on 6 000, 11 days: 6 000 × 0.095 × 11 / 300 = 20.90.
        let p = penalty(
            &Rule::russia(d("9.5")),
            day("2026-12-15"),
            10_000_00,
            &[(day("2027-01-20"), 4_000_00)],
            january(),
        );
        let parts: Vec<(i64, i64, Decimal)> = p
            .parts
            .iter()
            .map(|x| (x.days, x.base_minor, x.amount))
            .collect();
        assert_eq!(
            parts,
            vec![(6, 10_000_00, d("19.00")), (11, 6_000_00, d("20.90"))]
        );
        assert_eq!(p.amount, d("39.90"));
    }

    #[test]
    fn russia_a_hundred_and_thirtieth_from_day_91() {
        // Due 15 October: 1 January is day 78; 1–13 January at /300 (13 days),
        // 14–31 January at /130 (18 days):
        // 10 000 × 0.095 × 13 / 300 = 41.1666…; × 18 / 130 = 131.5384…;
        // 172.7051… → 172.71 (rounded once, not per part).
        let p = penalty(
            &Rule::russia(d("9.5")),
            day("2026-10-15"),
            10_000_00,
            &[],
            january(),
        );
        let kinds: Vec<(Kind, i64)> = p.parts.iter().map(|x| (x.kind.clone(), x.days)).collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Daily { divisor: d("300") }, 13),
                (Kind::Daily { divisor: d("130") }, 18)
            ]
        );
        assert_eq!(p.amount, d("172.71"));
    }

    #[test]
    fn brazil_a_fine_once_then_interest_pro_rata() {
        let rule = Rule::FineAndInterest {
            grace_days: 0,
            fine_percent: d("2"),
            monthly_interest_percent: d("1"),
        };
        // Due 10 January: a 2 % fine on 11 January = 20.00, and 1 % a month
        // for 11–31 January, 21 days: 1 000 × 0.01 × 21 / 30 = 7.00.
        let p = penalty(&rule, day("2027-01-10"), 1_000_00, &[], january());
        assert_eq!(p.amount, d("27.00"));
        assert_eq!(p.parts[0].kind, Kind::Fine);
        // February: interest only, 28 days: 9.3333… → 9.33.
        let p = penalty(
            &rule,
            day("2027-01-10"),
            1_000_00,
            &[],
            (day("2027-02-01"), day("2027-02-28")),
        );
        assert_eq!(p.amount, d("9.33"));
        assert!(p.parts.iter().all(|x| x.kind == Kind::Interest));
    }

    #[test]
    fn nothing_before_the_due_date_or_on_a_paid_debt() {
        let p = penalty(
            &Rule::russia(d("9.5")),
            day("2027-02-15"),
            10_000_00,
            &[],
            january(),
        );
        assert_eq!((p.amount, p.parts.len()), (d("0"), 0));
        let p = penalty(
            &Rule::russia(d("9.5")),
            day("2026-10-15"),
            0,
            &[],
            january(),
        );
        assert_eq!(p.amount, d("0"));
    }

    #[test]
    fn a_window_charges_each_late_debt_on_what_was_left_of_it() {
        let rule = Rule::russia(d("9.5"));
        let november = (day("2026-11-01"), day("2026-11-30"));
        let debts = vec![
            // Due 15 October: day 31 is 15 November, 16 days at 1/300.
            History {
                period: "2026-09".into(),
                due: day("2026-10-15"),
                owed_minor: 1553_50,
                settled: vec![],
            },
            // Half paid in October: the rest, 16 days.
            History {
                period: "2026-09".into(),
                due: day("2026-10-15"),
                owed_minor: 2000_00,
                settled: vec![(day("2026-10-20"), 1000_00)],
            },
            // Due 15 November: not 30 days late within November.
            History {
                period: "2026-10".into(),
                due: day("2026-11-15"),
                owed_minor: 1553_50,
                settled: vec![],
            },
        ];
        let got = for_window(&rule, november, &debts);
        assert_eq!(got.len(), 2);
        // 1553.50 × 0.095 × 16 / 300 = 7.8710…
        assert_eq!(got[0].1.amount, d("7.87"));
        // 1000.00 × 0.095 × 16 / 300 = 5.0666…
        assert_eq!(got[1].1.amount, d("5.07"));
        assert_eq!(
            describe(&rule, &got[0].1, "ru"),
            "1553,50 × 16 дн. × 9,5 % / 300"
        );
    }
}
