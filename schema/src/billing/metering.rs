//! One meter's volume for a period, by Rules 354 p.59–61. Pure: the run reads
//! the readings and what the period before left ([`Carried`], kept in
//! `meter_charges`), and writes back what this one leaves.
//!
//! - The period's consumption starts at the last accepted reading before it,
//!   however old; the meter's initial values only when there is none.
//! - A period without a reading charges an estimate: the monthly average of
//!   the readings over the `average_months` months before the *first missed*
//!   period (at least `min_months` of them), the same for up to
//!   `max_average_periods` periods; then the norm. A failed or lapsed meter
//!   charges the norm (raised by the caller) and is not reconciled.
//! - When a reading resumes after estimates (p.61), the volume measured since
//!   the last real reading is split by days: the days of this period up to
//!   the reading are its own volume; the days before are compared with what
//!   the estimates charged, and the difference, either way, is a
//!   recalculation naming those periods. A reading dated in a period already
//!   charged (entered late) reconciles the estimates up to now, and this
//!   period is estimated again from it.
//!
//! So, at one tariff, what a meter is charged adds up to what it measured
//! whenever a period ends with a reading.
//!
//! Volumes and values are millionths of the unit, as readings are kept.

use chrono::{Duration, NaiveDate};

use super::calc::{MissingRules, Period};

/// An accepted reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub taken_on: NaiveDate,
    pub values: [i64; 3],
    /// The register passed its maximum since the reading before.
    pub rollover: bool,
}

/// A meter as the period sees it.
#[derive(Debug, Clone)]
pub struct Meter<'a> {
    pub zones: usize,
    pub initial: [i64; 3],
    /// The register's span in millionths (10^digits units), for rollovers.
    pub capacity: Option<i64>,
    /// Failed, or its verification lapsed before the period.
    pub faulty: bool,
    /// Accepted readings up to the period's end, oldest first: at least the
    /// last one before the averaging window, and every one after it.
    pub readings: &'a [Reading],
}

/// Where a period's own volume came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Reading,
    Average,
    Norm,
    /// The norm of a failed or lapsed meter (the caller applies K).
    NormRaised,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Reading => "reading",
            Source::Average => "average",
            Source::Norm => "norm",
            Source::NormRaised => "norm_raised",
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        Some(match text {
            "reading" => Source::Reading,
            "average" => Source::Average,
            "norm" => Source::Norm,
            "norm_raised" => Source::NormRaised,
            _ => return None,
        })
    }
}

/// What a period leaves for the next: the reading its charges are reconciled
/// to, and the estimates charged since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    /// None: the initial values (no reading yet).
    pub anchor_on: Option<NaiveDate>,
    pub anchor: [i64; 3],
    /// Estimated volume charged since the anchor, per zone.
    pub estimated: [i64; 3],
    /// The first period charged by estimate since the anchor.
    pub gap_from: Option<Period>,
    /// How many periods were charged by estimate since the anchor.
    pub gap_periods: u32,
}

/// A reading that resumed after estimates: the difference to charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    /// Measured minus charged, per zone (either sign).
    pub volume: [i64; 3],
    /// The periods it settles.
    pub from: Period,
    pub to: Period,
    /// What the estimates charged in them, and what was measured for them.
    pub charged: [i64; 3],
    pub measured: [i64; 3],
}

/// One meter's period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub source: Source,
    /// The period's own volume per zone.
    pub own: [i64; 3],
    pub resumed: Option<Resumed>,
    pub carried: Carried,
}

fn months_between(a: Period, b: Period) -> i32 {
    (b.year - a.year) * 12 + b.month as i32 - a.month as i32
}

/// The volume from `from` to `to` per zone: never negative; a register that
/// rolled over adds its span.
fn delta(m: &Meter, from: &[i64; 3], to: &Reading) -> [i64; 3] {
    let mut out = [0i64; 3];
    for (z, slot) in out.iter_mut().enumerate().take(m.zones) {
        let mut d = to.values[z] - from[z];
        if d < 0 {
            if let (true, Some(c)) = (to.rollover, m.capacity) {
                d += c;
            }
        }
        *slot = d.max(0);
    }
    out
}

/// The volume from a start through each reading in turn.
fn chained<'r>(
    m: &Meter,
    start: &[i64; 3],
    through: impl Iterator<Item = &'r Reading>,
) -> [i64; 3] {
    let mut total = [0i64; 3];
    let mut from = *start;
    for r in through {
        let d = delta(m, &from, r);
        for z in 0..3 {
            total[z] += d[z];
        }
        from = r.values;
    }
    total
}

/// `v × num / den`, rounded half away from zero.
fn scaled(v: i64, num: i64, den: i64) -> i64 {
    let (v, num, den) = (v as i128, num as i128, den.max(1) as i128);
    let x = v * num;
    let q = (x.abs() * 2 + den) / (2 * den);
    (if x < 0 { -q } else { q }) as i64
}

/// The monthly average for a gap that began with `first_missed`: the
/// readings over the `average_months` months before it, when they span at
/// least `min_months`.
fn average(m: &Meter, first_missed: Period, rules: MissingRules) -> Option<[i64; 3]> {
    let end = first_missed.first_day();
    let mut start = first_missed;
    for _ in 0..rules.average_months.max(1) {
        start = start.prev();
    }
    let within: Vec<&Reading> = m
        .readings
        .iter()
        .filter(|r| r.taken_on >= start.first_day() && r.taken_on < end)
        .collect();
    let (first, last) = (within.first()?, within.last()?);
    let months = months_between(Period::of(first.taken_on), Period::of(last.taken_on));
    if months < rules.min_months.max(1) as i32 {
        return None;
    }
    let total = chained(m, &first.values, within.iter().skip(1).copied());
    let mut out = [0i64; 3];
    for z in 0..m.zones.min(3) {
        out[z] = scaled(total[z], 1, months as i64);
    }
    Some(out)
}

/// The meter's volume for `period`. `prev` is what the period before left
/// (none: the first period billed this way, which starts from the last
/// reading before it); `norm` the norm volume this meter bears (the first
/// meter of a resource in a premises bears the premises' norm).
pub fn month(
    m: &Meter,
    prev: Option<&Carried>,
    period: Period,
    rules: MissingRules,
    norm: i64,
) -> Outcome {
    let first = period.first_day();
    let last = period.last_day();
    let mut state = match prev {
        Some(c) => c.clone(),
        None => {
            let before = m.readings.iter().rfind(|r| r.taken_on < first);
            Carried {
                anchor_on: before.map(|r| r.taken_on),
                anchor: before.map_or(m.initial, |r| r.values),
                estimated: [0; 3],
                gap_from: None,
                gap_periods: 0,
            }
        }
    };
    let norm_volume = [norm, 0, 0];
    if m.faulty {
        // Billed by the norm, not reconciled: the next valid reading counts
        // from the latest one known now.
        let latest = m.readings.iter().rfind(|r| r.taken_on <= last);
        return Outcome {
            source: Source::NormRaised,
            own: norm_volume,
            resumed: None,
            carried: Carried {
                anchor_on: latest.map(|r| r.taken_on).or(state.anchor_on),
                anchor: latest.map_or(state.anchor, |r| r.values),
                estimated: [0; 3],
                gap_from: None,
                gap_periods: 0,
            },
        };
    }
    let newer: Vec<&Reading> = m
        .readings
        .iter()
        .filter(|r| r.taken_on <= last && state.anchor_on.is_none_or(|a| r.taken_on > a))
        .collect();
    let mut resumed = None;
    if let Some(r) = newer.last() {
        let measured = chained(m, &state.anchor, newer.iter().copied());
        let in_period = r.taken_on >= first;
        let mut own = [0i64; 3];
        if state.gap_periods == 0 && in_period {
            own = measured;
        } else {
            // Split by days: this period's up to the reading, the rest
            // before it, where the estimates were charged.
            let before_first = first - Duration::days(1);
            let own_days = if in_period {
                (r.taken_on - before_first).num_days()
            } else {
                0
            };
            let start = state.anchor_on.unwrap_or_else(|| {
                state
                    .gap_from
                    .map_or(before_first, |g| g.first_day() - Duration::days(1))
            });
            let span = (r.taken_on - start).num_days().max(own_days).max(1);
            let mut gap = [0i64; 3];
            let mut volume = [0i64; 3];
            for z in 0..3 {
                own[z] = scaled(measured[z], own_days, span);
                gap[z] = measured[z] - own[z];
                volume[z] = gap[z] - state.estimated[z];
            }
            if volume != [0; 3] || state.gap_periods > 0 {
                resumed = Some(Resumed {
                    volume,
                    from: state.gap_from.unwrap_or_else(|| Period::of(r.taken_on)),
                    to: period.prev(),
                    charged: state.estimated,
                    measured: gap,
                });
            }
        }
        state = Carried {
            anchor_on: Some(r.taken_on),
            anchor: r.values,
            estimated: [0; 3],
            gap_from: None,
            gap_periods: 0,
        };
        if in_period {
            return Outcome {
                source: Source::Reading,
                own,
                resumed,
                carried: state,
            };
        }
    }
    // No reading of this period: an estimate.
    let first_missed = state
        .gap_from
        .unwrap_or_else(|| state.anchor_on.map_or(period, |d| Period::of(d).next()));
    let missed_before = months_between(first_missed, period).max(0) as u32;
    let (source, own) = match average(m, first_missed, rules) {
        Some(avg) if missed_before < rules.max_average_periods => (Source::Average, avg),
        _ => (Source::Norm, norm_volume),
    };
    let mut estimated = state.estimated;
    for z in 0..3 {
        estimated[z] += own[z];
    }
    Outcome {
        source,
        own,
        resumed,
        carried: Carried {
            anchor_on: state.anchor_on,
            anchor: state.anchor,
            estimated,
            gap_from: Some(state.gap_from.unwrap_or(period)),
            gap_periods: state.gap_periods + 1,
        },
    }
}

/// A house meter's volume for a period it was read in (none otherwise): since
/// the reading before it, however old; by days, this month's share, when that
/// one is older than the month before.
pub fn house_month(m: &Meter, period: Period) -> Option<[i64; 3]> {
    let first = period.first_day();
    let r = m
        .readings
        .iter()
        .rfind(|r| r.taken_on >= first && r.taken_on <= period.last_day())?;
    let before = m.readings.iter().rfind(|x| x.taken_on < first);
    let start_on = before.map(|b| b.taken_on);
    let start = before.map_or(m.initial, |b| b.values);
    let through = m
        .readings
        .iter()
        .filter(|x| x.taken_on <= r.taken_on && start_on.is_none_or(|d| x.taken_on > d));
    let measured = chained(m, &start, through);
    match start_on {
        Some(d) if d < period.prev().first_day() => {
            let own_days = (r.taken_on - (first - Duration::days(1))).num_days();
            let span = (r.taken_on - d).num_days().max(1);
            Some(measured.map(|v| scaled(v, own_days, span)))
        }
        _ => Some(measured),
    }
}

/// The first day of the readings a period may need besides the last one
/// before it: the averaging window of a gap that began as early as an
/// average may still be charged.
pub fn window_start(period: Period, rules: MissingRules) -> NaiveDate {
    let mut p = period;
    for _ in 0..(rules.max_average_periods as usize + rules.average_months.max(1)) {
        p = p.prev();
    }
    p.first_day()
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: i64 = 1_000_000;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    fn r(on: &str, v: i64) -> Reading {
        Reading {
            taken_on: day(on),
            values: [v * U, 0, 0],
            rollover: false,
        }
    }

    fn meter(readings: &[Reading]) -> Meter<'_> {
        Meter {
            zones: 1,
            initial: [0; 3],
            capacity: None,
            faulty: false,
            readings,
        }
    }

    /// Bills the periods in turn, carrying the state; the volumes charged
    /// (own + recalculation) per period.
    fn run(
        readings: &[Reading],
        from: &str,
        to: &str,
        rules: MissingRules,
        norm: i64,
    ) -> Vec<(String, Source, i64, i64)> {
        let mut out = Vec::new();
        let mut carried: Option<Carried> = None;
        let mut period = p(from);
        loop {
            let known: Vec<Reading> = readings
                .iter()
                .filter(|r| r.taken_on <= period.last_day())
                .cloned()
                .collect();
            let o = month(&meter(&known), carried.as_ref(), period, rules, norm);
            out.push((
                period.to_string(),
                o.source,
                o.own[0],
                o.resumed.as_ref().map_or(0, |x| x.volume[0]),
            ));
            carried = Some(o.carried);
            if period == p(to) {
                return out;
            }
            period = period.next();
        }
    }

    #[test]
    fn consumption_starts_at_the_last_reading_however_old() {
        // 0 → 500 in January, 510 in October: October is 10, not 510.
        let readings = [r("2026-01-20", 500), r("2026-10-20", 510)];
        let o = month(
            &meter(&readings),
            None,
            p("2026-10"),
            MissingRules::default(),
            0,
        );
        assert_eq!(
            (o.source, o.own[0], o.resumed),
            (Source::Reading, 10 * U, None)
        );
    }

    #[test]
    fn the_average_is_fixed_at_the_first_missed_period_for_three_periods_then_the_norm() {
        // Readings every month Jan–Jun (10 a month), then none.
        let readings: Vec<Reading> = (1..=6)
            .map(|m| r(&format!("2026-{m:02}-15"), 10 * m))
            .collect();
        let rules = MissingRules::default();
        let got = run(&readings, "2026-07", "2026-10", rules, 7 * U);
        // Jan 15 → Jun 15: 50 over 5 months = 10 a month, the same each time.
        assert_eq!(
            got,
            vec![
                ("2026-07".into(), Source::Average, 10 * U, 0),
                ("2026-08".into(), Source::Average, 10 * U, 0),
                ("2026-09".into(), Source::Average, 10 * U, 0),
                ("2026-10".into(), Source::Norm, 7 * U, 0),
            ]
        );
    }

    #[test]
    fn the_average_honours_its_months() {
        // 1 a month Jan–Mar, then 30 a month Mar–Jun.
        let readings = [
            r("2026-01-10", 1),
            r("2026-02-10", 2),
            r("2026-03-10", 3),
            r("2026-06-10", 93),
        ];
        let three = MissingRules {
            average_months: 3,
            min_months: 3,
            max_average_periods: 3,
        };
        // July, first missed: the 3 months before it (Apr–Jun) hold one reading: too few → norm.
        assert_eq!(
            month(&meter(&readings), None, p("2026-07"), three, 5 * U).source,
            Source::Norm
        );
        // Six months (Jan–Jun): 92 over 5 months.
        let six = MissingRules::default();
        let o = month(&meter(&readings), None, p("2026-07"), six, 5 * U);
        assert_eq!(
            (o.source, o.own[0]),
            (Source::Average, scaled(92 * U, 1, 5))
        );
    }

    #[test]
    fn a_resumed_reading_reconciles_the_estimates_by_days() {
        // 10 a month Jan–Jun; July and August estimated (10 each); read on
        // 10 September at 100 (40 since 15 June).
        let mut readings: Vec<Reading> = (1..=6)
            .map(|m| r(&format!("2026-{m:02}-15"), 10 * m))
            .collect();
        readings.push(r("2026-09-10", 100));
        let got = run(&readings, "2026-07", "2026-09", MissingRules::default(), 0);
        // 15 June → 10 September: 87 days; September's own 10 days.
        let own = scaled(40 * U, 10, 87);
        assert_eq!(
            got[2],
            (
                "2026-09".into(),
                Source::Reading,
                own,
                40 * U - own - 20 * U
            )
        );
        let total: i64 = got.iter().map(|g| g.2 + g.3).sum();
        assert_eq!(total, 40 * U, "charged = measured since June");
    }

    #[test]
    fn a_late_reading_reconciles_and_the_period_is_estimated_from_it() {
        let mut readings: Vec<Reading> = (1..=6)
            .map(|m| r(&format!("2026-{m:02}-15"), 10 * m))
            .collect();
        let rules = MissingRules::default();
        let mut got = run(&readings, "2026-07", "2026-08", rules, 0);
        // A reading of 20 July at 62 entered in September.
        readings.push(r("2026-07-20", 62));
        got.extend(run_from(
            &readings,
            &got_state(&readings[..6], "2026-07", "2026-08", rules),
            "2026-09",
            rules,
        ));
        assert_eq!(
            got[2].3,
            2 * U - 20 * U,
            "measured to 20 July (2) − estimates (20)"
        );
        assert_eq!(got[2].1, Source::Average);
    }

    fn got_state(readings: &[Reading], from: &str, to: &str, rules: MissingRules) -> Carried {
        let mut carried: Option<Carried> = None;
        let mut period = p(from);
        loop {
            let o = month(&meter(readings), carried.as_ref(), period, rules, 0);
            carried = Some(o.carried);
            if period == p(to) {
                return carried.unwrap();
            }
            period = period.next();
        }
    }

    fn run_from(
        readings: &[Reading],
        state: &Carried,
        period: &str,
        rules: MissingRules,
    ) -> Vec<(String, Source, i64, i64)> {
        let o = month(&meter(readings), Some(state), p(period), rules, 0);
        vec![(
            period.to_string(),
            o.source,
            o.own[0],
            o.resumed.map_or(0, |x| x.volume[0]),
        )]
    }

    #[test]
    fn charged_adds_up_to_measured_over_random_histories() {
        // A small generator: each month a reading with some probability.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..500 {
            let rules = MissingRules {
                average_months: 1 + (next() % 6) as usize,
                min_months: 1 + (next() % 3) as usize,
                max_average_periods: (next() % 4) as u32,
            };
            let mut readings = Vec::new();
            let mut value = 0i64;
            let mut period = p("2025-01");
            let mut got = Vec::new();
            let mut carried: Option<Carried> = None;
            let mut last_read = None;
            for _ in 0..24 {
                if next() % 3 != 0 {
                    value += (next() % 20_000_000) as i64;
                    let d = 1 + (next() % 28) as u32;
                    readings.push(Reading {
                        taken_on: NaiveDate::from_ymd_opt(period.year, period.month, d).unwrap(),
                        values: [value, 0, 0],
                        rollover: false,
                    });
                    last_read = Some(value);
                }
                let o = month(&meter(&readings), carried.as_ref(), period, rules, 3 * U);
                got.push(o.own[0] + o.resumed.as_ref().map_or(0, |x| x.volume[0]));
                let read_now = o.source == Source::Reading;
                carried = Some(o.carried);
                if read_now {
                    let charged: i64 = got.iter().sum();
                    assert_eq!(charged, last_read.unwrap(), "{rules:?} {readings:?}");
                }
                period = period.next();
            }
        }
    }
}
