//! Charges: the pure arithmetic of a month's bill for one account, no
//! database and no async (see `domain/BILLING.md`, Rules 354 and the rounding
//! rule). Volumes, areas and prices stay exact (`Decimal`) until a line's
//! amount, which is rounded once, half-up, to the minor unit; a receipt's
//! total is the sum of its rounded lines, so the lines always add up.

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

/// A line's amount: rounded half-up (away from zero) to the minor unit.
pub fn round_money(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A calendar month, the billing period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub year: i32,
    pub month: u32,
}

impl Period {
    pub fn new(year: i32, month: u32) -> Option<Period> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Period { year, month })
    }

    /// The month a day falls in.
    pub fn of(day: NaiveDate) -> Period {
        Period {
            year: day.year(),
            month: day.month(),
        }
    }

    /// `2026-11`.
    pub fn parse(text: &str) -> Option<Period> {
        let (y, m) = text.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        Period::new(y.parse().ok()?, m.parse().ok()?)
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn next(self) -> Period {
        if self.month == 12 {
            Period {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Period {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Period {
        if self.month == 1 {
            Period {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Period {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    pub fn days(self) -> u32 {
        self.last_day().day()
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One price band: volumes up to `up_to` (cumulative over the month; none:
/// without limit) cost `price` per unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub up_to: Option<Decimal>,
    pub price: Decimal,
}

/// A tariff's prices from `from` (inclusive) to `to` (inclusive; none: until
/// changed): one price list per zone (day, night, …), each a list of tiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TariffVersion {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub zones: Vec<Vec<Tier>>,
}

/// Why a charge cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    #[error("no tariff is in force on {0}")]
    NoTariff(NaiveDate),
    #[error("the tariff has {tariff} zones, the volume {volume}")]
    Zones { tariff: usize, volume: usize },
    #[error("the tariff's tiers must end with one without a limit, in increasing order")]
    Tiers,
    #[error("{0} must not be negative")]
    Negative(&'static str),
    #[error("the house's total area is zero")]
    NoArea,
}

/// The cost of `volume` at `tiers`: each band's share at its price.
fn tiered(volume: Decimal, tiers: &[Tier]) -> Result<Decimal, CalcError> {
    let mut cost = Decimal::ZERO;
    let mut below = Decimal::ZERO;
    for (k, t) in tiers.iter().enumerate() {
        let top = match t.up_to {
            Some(top) if top > below => top,
            Some(_) => return Err(CalcError::Tiers),
            None if k + 1 == tiers.len() => volume.max(below),
            None => return Err(CalcError::Tiers),
        };
        let in_band = volume.min(top) - below;
        if in_band > Decimal::ZERO {
            cost += in_band * t.price;
        }
        below = top;
        if volume <= below {
            return Ok(cost);
        }
    }
    if volume > below {
        return Err(CalcError::Tiers);
    }
    Ok(cost)
}

/// The exact (unrounded) cost of a month's volume per zone at a tariff that
/// may change within the month: each version prices the days it is in force,
/// the volume shared by days (tier limits too).
pub fn price(
    period: Period,
    versions: &[TariffVersion],
    volume: &[Decimal],
) -> Result<Decimal, CalcError> {
    if volume.iter().any(|v| v.is_sign_negative() && !v.is_zero()) {
        return Err(CalcError::Negative("volume"));
    }
    let days = Decimal::from(period.days());
    let mut cost = Decimal::ZERO;
    let mut day = period.first_day();
    let last = period.last_day();
    while day <= last {
        let version = versions
            .iter()
            .filter(|v| v.from <= day && v.to.is_none_or(|to| to >= day))
            .max_by_key(|v| v.from)
            .ok_or(CalcError::NoTariff(day))?;
        // The run of days this version covers within the month.
        let mut end = version.to.map_or(last, |to| to.min(last));
        if let Some(next) = versions
            .iter()
            .filter(|v| v.from > day && v.from <= end)
            .map(|v| v.from)
            .min()
        {
            end = next.pred_opt().unwrap_or(end);
        }
        if version.zones.len() != volume.len() {
            return Err(CalcError::Zones {
                tariff: version.zones.len(),
                volume: volume.len(),
            });
        }
        // Multiplied before divided: a whole share stays exact.
        let covered = Decimal::from((end - day).num_days() + 1);
        for (tiers, v) in version.zones.iter().zip(volume) {
            let scaled: Vec<Tier> = tiers
                .iter()
                .map(|t| Tier {
                    up_to: t.up_to.map(|u| u * covered / days),
                    price: t.price,
                })
                .collect();
            cost += tiered(*v * covered / days, &scaled)?;
        }
        day = end.succ_opt().unwrap_or(NaiveDate::MAX);
    }
    Ok(cost)
}

/// Where a month's volume comes from (Rules 354 p.59–60, see `metering`):
/// the reading; when the meter gave none, its average for a limited number of
/// periods, then the norm; the norm also when there is no meter, raised by
/// the coefficient where a meter could be installed, failed or lapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeSource {
    Reading,
    Average,
    Norm,
    NormRaised,
}

/// The organisation's rules for missing readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingRules {
    /// Months the average spans (6 by the Rules; 3 for a newer meter).
    pub average_months: usize,
    /// The fewest months of readings an average needs.
    pub min_months: usize,
    /// At most this many consecutive months by average (3 for dwellings).
    pub max_average_periods: u32,
}

impl Default for MissingRules {
    fn default() -> Self {
        MissingRules {
            average_months: 6,
            min_months: 3,
            max_average_periods: 3,
        }
    }
}

/// People a norm counts: those registered, or the owners where nobody is
/// (Rules 354 p.56(2)).
pub fn norm_people(registered: u32, owners: u32) -> u32 {
    if registered > 0 {
        registered
    } else {
        owners
    }
}

/// Common-house needs of one premises (Rules 354 F12 with a house meter, F15
/// without): the house's volume beyond its premises' own, shared by area,
/// never below zero, and capped at the norm times the common area share when
/// the organisation caps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonHouse {
    /// The house meter's volume (F12); none: by norm (F15).
    pub house_volume: Option<Decimal>,
    /// Everything the premises of the house consumed or were billed (metered,
    /// average and norm volumes of dwellings and non-residential premises).
    pub premises_volume: Decimal,
    /// Volume the house meter counts for the heating of hot water etc. (V_kr).
    pub other_volume: Decimal,
    /// Norm per m² of common area, for F15 and for the cap.
    pub norm_per_common_m2: Decimal,
    pub common_area: Decimal,
    pub premises_area: Decimal,
    pub house_area: Decimal,
    pub capped: bool,
}

/// This premises' share of the common-house volume.
pub fn common_house_volume(c: &CommonHouse) -> Result<Decimal, CalcError> {
    if c.house_area <= Decimal::ZERO {
        return Err(CalcError::NoArea);
    }
    let share = c.premises_area / c.house_area;
    let by_norm = c.norm_per_common_m2 * c.common_area * share;
    let Some(house) = c.house_volume else {
        return Ok(by_norm);
    };
    let left = (house - c.premises_volume - c.other_volume).max(Decimal::ZERO);
    let mine = left * share;
    Ok(if c.capped { mine.min(by_norm) } else { mine })
}

/// Heating: by area and norm (F2), or by the house meter shared by area (F3).
pub fn heating_volume(
    premises_area: Decimal,
    norm_per_m2: Decimal,
    house_meter: Option<(Decimal, Decimal)>,
) -> Result<Decimal, CalcError> {
    match house_meter {
        None => Ok(premises_area * norm_per_m2),
        Some((_, total)) if total <= Decimal::ZERO => Err(CalcError::NoArea),
        Some((volume, total)) => Ok(volume * premises_area / total),
    }
}

/// One charge of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub service: String,
    pub quantity: Decimal,
    /// The price per unit as the receipt shows it: the amount over the
    /// quantity when a tariff changed within the month or tiers applied.
    pub tariff: Decimal,
    /// Rounded to the minor unit.
    pub amount: Decimal,
}

impl Line {
    /// A line of `quantity` costing `exact` before rounding.
    pub fn new(service: impl Into<String>, quantity: Decimal, exact: Decimal) -> Line {
        let tariff = if quantity.is_zero() {
            Decimal::ZERO
        } else {
            (exact / quantity).round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
        };
        Line {
            service: service.into(),
            quantity,
            tariff: tariff.normalize(),
            amount: round_money(exact),
        }
    }
}

/// A discount of `percent` on a charge, optionally only on the part within a
/// social norm (`norm_share`: the fraction of the quantity the norm covers),
/// as a negative line of its own.
pub fn benefit(
    label: impl Into<String>,
    charge: &Line,
    percent: Decimal,
    norm_share: Option<Decimal>,
) -> Line {
    let covered = norm_share.map_or(Decimal::ONE, |s| s.clamp(Decimal::ZERO, Decimal::ONE));
    let base = charge.amount * covered;
    Line {
        service: label.into(),
        quantity: charge.quantity * covered,
        tariff: charge.tariff,
        amount: -round_money(base * percent / Decimal::from(100)),
    }
}

/// A receipt's total: the sum of its rounded lines.
pub fn total(lines: &[Line]) -> Decimal {
    lines.iter().map(|l| l.amount).sum()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn flat(price: &str) -> Vec<Tier> {
        vec![Tier {
            up_to: None,
            price: d(price),
        }]
    }

    fn nov() -> Period {
        Period::parse("2026-11").unwrap()
    }

    #[test]
    fn money_rounds_half_up_once() {
        assert_eq!(round_money(d("2.675")), d("2.68"));
        assert_eq!(round_money(d("2.674999")), d("2.67"));
        assert_eq!(round_money(d("-2.675")), d("-2.68"));
        assert_eq!(round_money(d("0.005")), d("0.01"));
    }

    #[test]
    fn periods_know_their_days() {
        assert_eq!(Period::parse("2026-02").unwrap().days(), 28);
        assert_eq!(Period::parse("2028-02").unwrap().days(), 29);
        assert_eq!(nov().to_string(), "2026-11");
        assert_eq!(
            Period::parse("2026-12").unwrap().next().to_string(),
            "2027-01"
        );
        assert!(Period::parse("2026-13").is_none() && Period::parse("26-11").is_none());
    }

    #[test]
    fn metered_f1_is_volume_times_tariff() {
        let t = [TariffVersion {
            from: d_date("2026-01-01"),
            to: None,
            zones: vec![flat("49.13")],
        }];
        let exact = price(nov(), &t, &[d("7.250")]).unwrap();
        assert_eq!(exact, d("356.1925"));
        let line = Line::new("Холодная вода", d("7.250"), exact);
        assert_eq!(line.amount, d("356.19"));
        assert_eq!(line.tariff, d("49.13"));
    }

    fn d_date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_tariff_change_mid_month_is_prorated_by_days() {
        // 30 days: 10 at 40, 20 at 46; 30 units spread evenly.
        let t = [
            TariffVersion {
                from: d_date("2026-01-01"),
                to: Some(d_date("2026-11-10")),
                zones: vec![flat("40")],
            },
            TariffVersion {
                from: d_date("2026-11-11"),
                to: None,
                zones: vec![flat("46")],
            },
        ];
        assert_eq!(price(nov(), &t, &[d("30")]).unwrap(), d("1320"));
        // A gap in the tariffs is an error naming the day.
        let gap = [TariffVersion {
            from: d_date("2026-11-05"),
            to: None,
            zones: vec![flat("40")],
        }];
        assert_eq!(
            price(nov(), &gap, &[d("1")]),
            Err(CalcError::NoTariff(d_date("2026-11-01")))
        );
    }

    #[test]
    fn tiers_and_zones() {
        // Electricity: day and night zones; the day zone in two bands.
        let t = [TariffVersion {
            from: d_date("2026-01-01"),
            to: None,
            zones: vec![
                vec![
                    Tier {
                        up_to: Some(d("100")),
                        price: d("5"),
                    },
                    Tier {
                        up_to: None,
                        price: d("7"),
                    },
                ],
                flat("2.5"),
            ],
        }];
        assert_eq!(
            price(nov(), &t, &[d("150"), d("40")]).unwrap(),
            d("500") + d("350") + d("100")
        );
        assert_eq!(
            price(nov(), &t, &[d("150")]),
            Err(CalcError::Zones {
                tariff: 2,
                volume: 1
            })
        );
        let bad = [TariffVersion {
            from: d_date("2026-01-01"),
            to: None,
            zones: vec![vec![Tier {
                up_to: Some(d("100")),
                price: d("5"),
            }]],
        }];
        assert_eq!(price(nov(), &bad, &[d("150")]), Err(CalcError::Tiers));
    }

    #[test]
    fn a_norm_counts_owners_where_nobody_is_registered() {
        assert_eq!(norm_people(3, 1), 3);
        assert_eq!(norm_people(0, 2), 2);
    }

    #[test]
    fn common_house_needs_by_house_meter_and_by_norm() {
        let c = CommonHouse {
            house_volume: Some(d("1100")),
            premises_volume: d("1000"),
            other_volume: d("20"),
            norm_per_common_m2: d("0.03"),
            common_area: d("500"),
            premises_area: d("50"),
            house_area: d("5000"),
            capped: false,
        };
        // (1100 − 1000 − 20) × 50 / 5000 = 0.8
        assert_eq!(common_house_volume(&c).unwrap(), d("0.8"));
        // The cap: 0.03 × 500 × 0.01 = 0.15.
        assert_eq!(
            common_house_volume(&CommonHouse {
                capped: true,
                ..c.clone()
            })
            .unwrap(),
            d("0.15")
        );
        // Premises used more than the house meter counted: nothing, never negative.
        assert_eq!(
            common_house_volume(&CommonHouse {
                house_volume: Some(d("900")),
                ..c.clone()
            })
            .unwrap(),
            d("0")
        );
        assert_eq!(
            common_house_volume(&CommonHouse {
                house_volume: None,
                ..c.clone()
            })
            .unwrap(),
            d("0.15")
        );
        assert_eq!(
            common_house_volume(&CommonHouse {
                house_area: d("0"),
                ..c
            }),
            Err(CalcError::NoArea)
        );
    }

    #[test]
    fn heating_by_norm_or_by_house_meter() {
        assert_eq!(
            heating_volume(d("54.3"), d("0.0198"), None).unwrap(),
            d("1.07514")
        );
        assert_eq!(
            heating_volume(d("50"), d("0.02"), Some((d("120"), d("6000")))).unwrap(),
            d("1")
        );
    }

    #[test]
    fn a_benefit_is_its_own_negative_line_capped_by_the_social_norm() {
        let water = Line::new("Холодная вода", d("10"), d("491.30"));
        let full = benefit("Льгота ветерана 50%", &water, d("50"), None);
        assert_eq!(full.amount, d("-245.65"));
        let capped = benefit(
            "Льгота 50% в пределах нормы",
            &water,
            d("50"),
            Some(d("0.6")),
        );
        assert_eq!(capped.amount, d("-147.39"));
        assert_eq!(capped.quantity, d("6.0"));
    }

    /// A small deterministic generator: the property test needs no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn decimal(&mut self, max: u64, scale: u32) -> Decimal {
            Decimal::new((self.next() % max) as i64, scale)
        }
    }

    #[test]
    fn the_lines_of_any_receipt_add_up_to_its_total() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2_000 {
            let mut lines = Vec::new();
            for k in 0..(1 + rng.next() % 12) {
                let period = Period::new(2026, 1 + (rng.next() % 12) as u32).unwrap();
                let change = 1 + (rng.next() % u64::from(period.days())) as u32;
                let change_day =
                    NaiveDate::from_ymd_opt(period.year, period.month, change).unwrap();
                let versions = [
                    TariffVersion {
                        from: d_date("2020-01-01"),
                        to: change_day.pred_opt(),
                        zones: vec![vec![
                            Tier {
                                up_to: Some(rng.decimal(50_000, 3) + Decimal::ONE),
                                price: rng.decimal(1_000_000, 4),
                            },
                            Tier {
                                up_to: None,
                                price: rng.decimal(1_000_000, 4),
                            },
                        ]],
                    },
                    TariffVersion {
                        from: change_day,
                        to: None,
                        zones: vec![flat(&rng.decimal(10_000_000, 5).to_string())],
                    },
                ];
                let quantity = rng.decimal(10_000_000, 6);
                let exact = price(period, &versions, &[quantity]).unwrap();
                let line = Line::new(format!("s{k}"), quantity, exact);
                // Each line is its exact amount rounded once, to the cent.
                assert!(
                    (line.amount - exact).abs() <= d("0.005"),
                    "{line:?} {exact}"
                );
                assert!(line.amount.scale() <= 2);
                if rng.next().is_multiple_of(3) {
                    lines.push(benefit(
                        "b",
                        &line,
                        rng.decimal(101, 0),
                        Some(rng.decimal(101, 2)),
                    ));
                }
                lines.push(line);
            }
            let sum: Decimal = lines.iter().map(|l| l.amount).sum();
            assert_eq!(total(&lines), sum);
            assert_eq!(
                round_money(total(&lines)),
                total(&lines),
                "a total has no fraction of a cent"
            );
        }
    }
}
