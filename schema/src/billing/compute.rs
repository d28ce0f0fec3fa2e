//! One account's receipt lines for a period, from what the run has read: the
//! account, its premises' meters and their readings, the organisation's
//! services with tariffs and norms, its benefit categories and the account's
//! recalculations. Pure: no database, no clock; the run calls it per account.

use std::collections::HashMap;

use chrono::NaiveDate;
use entities::{norm, service, tariff, CalculationMethod, NormBasis};
use rust_decimal::Decimal;
use sea_orm::ActiveEnum;
use uuid::Uuid;

use super::calc::{
    self, benefit, heating_volume, norm_people, price, CalcError, Line, MissingRules, Period,
    TariffVersion, VolumeSource,
};
use super::catalogue::resolve;
use super::metering::{self, Carried};
use crate::error::{AppError, AppResult};

/// A service as the run bills it.
pub struct Svc {
    pub model: service::Model,
    pub coefficient: Decimal,
    pub tariffs: Vec<tariff::Model>,
    pub norms: Vec<norm::Model>,
}

/// A privileged category.
pub struct Category {
    pub code: String,
    pub name: String,
    pub percent: Decimal,
    pub services: Vec<String>,
    pub per_person: bool,
    pub social_norm: Option<Decimal>,
}

/// A house's areas (m²).
#[derive(Debug, Clone, Copy, Default)]
pub struct HouseArea {
    pub total: Decimal,
    pub common: Decimal,
}

/// What does not change from account to account within a run.
pub struct Plan {
    pub period: Period,
    pub rules: MissingRules,
    pub services: Vec<Svc>,
    pub categories: Vec<Category>,
    pub houses: HashMap<Uuid, HouseArea>,
    /// House meters' volume for the period by (house, resource): heating F3
    /// and common-house needs F12.
    pub house_volumes: HashMap<(Uuid, String), Decimal>,
    /// What the premises of a house consumed by (house, resource), as billed
    /// (metered, average and norm volumes): F12 subtracts it from the house
    /// meter. Filled by the run before the first chunk.
    pub premises_volumes: HashMap<(Uuid, String), Decimal>,
    /// Common-house needs by the house meter are capped at the norm.
    pub common_capped: bool,
    /// Late-payment penalties to add, when the organisation charges them.
    pub penalties: Option<PenaltyPlan>,
    /// The organisation's language, for lines the run writes in words.
    pub locale: String,
    /// Each meter's period as the accounts computed so far charged it: the
    /// run writes them to `meter_charges` and takes them out per chunk.
    pub meter_rows: Vec<MeterCharge>,
    tariffs: HashMap<(usize, Uuid), Vec<TariffVersion>>,
    norms: HashMap<(usize, Uuid, NormBasis), Option<Decimal>>,
}

pub struct AccountRow {
    pub id: Uuid,
    pub house_id: Uuid,
    pub premises_id: Uuid,
    pub share_num: i64,
    pub share_den: i64,
    pub registered: i32,
    pub categories: String,
    pub area_micro: i64,
    pub owners: u32,
}

pub struct MeterRow {
    pub id: Uuid,
    pub premises_id: Option<Uuid>,
    pub resource: String,
    pub zones: i32,
    pub failed: bool,
    pub verification_due: Option<NaiveDate>,
    pub initial: [i64; 3],
    pub digits: Option<i32>,
}

pub struct ReadingRow {
    pub meter_id: Uuid,
    pub taken_on: NaiveDate,
    pub values: [i64; 3],
    pub rollover: bool,
}

pub struct RecalcRow {
    pub account_id: Uuid,
    pub service_id: Uuid,
    pub period_of: String,
    pub reason: String,
    pub quantity: Option<String>,
    pub amount_minor: i64,
}

/// One meter's period for one account, as `meter_charges` keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterCharge {
    pub account_id: Uuid,
    pub meter_id: Uuid,
    pub source: metering::Source,
    pub own: [i64; 3],
    pub carried: Carried,
}

/// The resumed readings' differences of one service for one account (its
/// share), with the periods they settle.
#[derive(Debug, Clone, Default)]
struct Resumption {
    volume: Vec<Decimal>,
    charged: Decimal,
    measured: Decimal,
    from: Option<Period>,
    to: Option<Period>,
}

impl Resumption {
    fn add(&mut self, r: &metering::Resumed, share: Decimal, zones: usize) {
        if self.volume.len() < zones {
            self.volume.resize(zones, Decimal::ZERO);
        }
        for z in 0..zones {
            self.volume[z] += micro(r.volume[z]) * share;
            self.charged += micro(r.charged[z]) * share;
            self.measured += micro(r.measured[z]) * share;
        }
        self.from = Some(self.from.map_or(r.from, |f| f.min(r.from)));
        self.to = Some(self.to.map_or(r.to, |t| t.max(r.to)));
    }

    fn merge(&mut self, other: &Resumption) {
        if self.volume.len() < other.volume.len() {
            self.volume.resize(other.volume.len(), Decimal::ZERO);
        }
        for (z, v) in other.volume.iter().enumerate() {
            self.volume[z] += *v;
        }
        self.charged += other.charged;
        self.measured += other.measured;
        for p in [other.from, other.to].into_iter().flatten() {
            self.from = Some(self.from.map_or(p, |f| f.min(p)));
            self.to = Some(self.to.map_or(p, |t| t.max(p)));
        }
    }

    fn is_empty(&self) -> bool {
        self.from.is_none()
    }
}

/// A meter's readings as the metering core takes them.
fn metering_readings(readings: &[&ReadingRow]) -> Vec<metering::Reading> {
    readings
        .iter()
        .map(|r| metering::Reading {
            taken_on: r.taken_on,
            values: r.values,
            rollover: r.rollover,
        })
        .collect()
}

fn metering_meter<'a>(
    m: &MeterRow,
    readings: &'a [metering::Reading],
    faulty: bool,
) -> metering::Meter<'a> {
    metering::Meter {
        zones: m.zones.clamp(1, 3) as usize,
        initial: m.initial,
        capacity: m
            .digits
            .map(|d| 10i64.pow(d.clamp(1, 12) as u32).saturating_mul(1_000_000)),
        faulty,
        readings,
    }
}

/// A volume in millionths, rounded half away from zero.
fn to_micro(v: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (v * Decimal::from(1_000_000))
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// One computed line of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutLine {
    pub kind: &'static str,
    pub service_id: Option<Uuid>,
    pub label: String,
    pub source: String,
    pub quantity: Decimal,
    pub unit: String,
    pub tariff: Decimal,
    pub amount: Decimal,
}

fn bad(field: &'static str, e: CalcError) -> AppError {
    AppError::validation(field, "calculation", e.to_string())
}

fn micro(v: i64) -> Decimal {
    Decimal::new(v, 6)
}

/// How a run adds penalties: the rule, the days it charges (the month
/// before the period), and how debts fall due.
#[derive(Debug, Clone)]
pub struct PenaltyPlan {
    pub rule: crate::payments::penalty::Rule,
    pub window: (chrono::NaiveDate, chrono::NaiveDate),
    pub due_day: i32,
    pub locale: String,
}

impl PenaltyPlan {
    /// The line of a debt's penalty, with its calculation.
    pub fn line(&self, debt_period: &str, p: &crate::payments::penalty::Penalty) -> OutLine {
        let shown = Period::parse(debt_period)
            .map(|d| format!("{:02}.{}", d.month, d.year))
            .unwrap_or_else(|| debt_period.to_string());
        let label = match self.locale.as_str() {
            l if l.starts_with("ru") => format!("Пени за {shown}"),
            l if l.starts_with("pt") => format!("Multa e juros de {}", shown.replace('.', "/")),
            _ => format!("Late-payment penalty for {debt_period}"),
        };
        OutLine {
            kind: "penalty",
            service_id: None,
            label,
            source: crate::payments::penalty::describe(&self.rule, p, &self.locale),
            quantity: Decimal::ZERO,
            unit: String::new(),
            tariff: Decimal::ZERO,
            amount: p.amount,
        }
    }
}

impl Plan {
    pub fn new(
        period: Period,
        rules: MissingRules,
        services: Vec<Svc>,
        categories: Vec<Category>,
        houses: HashMap<Uuid, HouseArea>,
    ) -> Plan {
        Plan {
            period,
            rules,
            services,
            categories,
            houses,
            house_volumes: HashMap::new(),
            premises_volumes: HashMap::new(),
            common_capped: true,
            penalties: None,
            locale: String::new(),
            meter_rows: Vec::new(),
            tariffs: HashMap::new(),
            norms: HashMap::new(),
        }
    }

    fn versions(&mut self, k: usize, house: Uuid) -> AppResult<&Vec<TariffVersion>> {
        if !self.tariffs.contains_key(&(k, house)) {
            let v = resolve(&self.services[k].tariffs, house, self.period)?;
            self.tariffs.insert((k, house), v);
        }
        Ok(&self.tariffs[&(k, house)])
    }

    /// The norm in force on the period's last day, the house's over the
    /// organisation's.
    fn norm(&mut self, k: usize, house: Uuid, basis: NormBasis) -> AppResult<Option<Decimal>> {
        if let Some(n) = self.norms.get(&(k, house, basis)) {
            return Ok(*n);
        }
        let day = self.period.last_day();
        let covers = |n: &&norm::Model| {
            n.basis == basis && n.valid_from <= day && n.valid_to.is_none_or(|t| t >= day)
        };
        let all = &self.services[k].norms;
        let value = all
            .iter()
            .filter(covers)
            .find(|n| n.house_id == Some(house))
            .or_else(|| all.iter().filter(covers).find(|n| n.house_id.is_none()))
            .map(|n| crate::error::stored_decimal("norms", "value", n.id, &n.value))
            .transpose()?;
        self.norms.insert((k, house, basis), value);
        Ok(value)
    }

    fn priced(&mut self, k: usize, house: Uuid, volume: &[Decimal]) -> AppResult<Decimal> {
        let period = self.period;
        let code = self.services[k].model.code.clone();
        let versions = self.versions(k, house)?;
        price(period, versions, volume).map_err(|e| match e {
            CalcError::NoTariff(day) => AppError::validation(
                "period",
                "no_tariff",
                format!("the service {code} has no tariff in force on {day}"),
            ),
            e => bad("tariff", e),
        })
    }

    /// A house meter's volume for the period when it was read in it.
    pub fn house_meter_month(&self, m: &MeterRow, readings: &[&ReadingRow]) -> Option<Decimal> {
        let rs = metering_readings(readings);
        let v = metering::house_month(&metering_meter(m, &rs, false), self.period)?;
        Some(
            v.iter()
                .take(m.zones.clamp(1, 3) as usize)
                .map(|x| micro(*x))
                .sum(),
        )
    }

    /// One meter's period by Rules 354 p.59–61 (`metering`): its own volume
    /// per zone, where it came from, a resumed reading's difference, and the
    /// row the run keeps for the next period.
    fn meter_period(
        &self,
        m: &MeterRow,
        readings: &[&ReadingRow],
        norm_volume: Decimal,
        carried: Option<&Carried>,
    ) -> metering::Outcome {
        let rs = metering_readings(readings);
        let faulty = m.failed
            || m.verification_due
                .is_some_and(|d| d < self.period.first_day());
        let meter = metering_meter(m, &rs, faulty);
        metering::month(
            &meter,
            carried,
            self.period,
            self.rules,
            to_micro(norm_volume),
        )
    }

    /// The cost of a volume that may be negative (a resumed reading's
    /// difference), zone by zone at this period's tariff.
    fn priced_signed(&mut self, k: usize, house: Uuid, volume: &[Decimal]) -> AppResult<Decimal> {
        let mut total = Decimal::ZERO;
        for (z, v) in volume.iter().enumerate() {
            if v.is_zero() {
                continue;
            }
            let mut one = vec![Decimal::ZERO; volume.len()];
            one[z] = v.abs();
            let cost = self.priced(k, house, &one)?;
            total += if v.is_sign_negative() { -cost } else { cost };
        }
        Ok(total)
    }

    /// The recalculation line of a resumed reading (Rules 354 p.61): the
    /// periods it settles, what their estimates charged and what was measured.
    fn resumed_line(&self, k: usize, r: &Resumption, amount: Decimal) -> OutLine {
        let s = &self.services[k].model;
        let loc = self.locale.as_str();
        let (from, to) = (r.from.unwrap_or(self.period), r.to.unwrap_or(self.period));
        let periods = if from == to {
            from.to_string()
        } else {
            format!("{from}–{to}")
        };
        let q = |v: Decimal| super::pdf::quantity(loc, v);
        let rest = match loc {
            l if l.starts_with("ru") => format!(
                "{periods}: начислено {}, по показаниям {}",
                q(r.charged),
                q(r.measured)
            ),
            l if l.starts_with("pt") => format!(
                "{periods}: cobrado {}, medido {}",
                q(r.charged),
                q(r.measured)
            ),
            _ => format!(
                "{periods}: charged {}, measured {}",
                q(r.charged),
                q(r.measured)
            ),
        };
        OutLine {
            kind: "recalculation",
            service_id: Some(s.id),
            label: s.name.clone(),
            source: format!("readings_resumed:{rest}"),
            quantity: r.volume.iter().sum(),
            unit: s.unit.clone(),
            tariff: Decimal::ZERO,
            amount,
        }
    }

    /// The lines of one account: charges in the catalogue's order, then each
    /// charge's benefits, then recalculations.
    pub fn account(
        &mut self,
        a: &AccountRow,
        meters: &[&MeterRow],
        readings: &HashMap<Uuid, Vec<&ReadingRow>>,
        carried: &HashMap<(Uuid, Uuid), Carried>,
        recalcs: &[&RecalcRow],
    ) -> AppResult<Vec<OutLine>> {
        let share = if a.share_den > 0 {
            Decimal::from(a.share_num) / Decimal::from(a.share_den)
        } else {
            Decimal::ONE
        };
        let area = micro(a.area_micro) * share;
        let people = Decimal::from(norm_people(a.registered.max(0) as u32, a.owners));
        let house = self.houses.get(&a.house_id).copied().unwrap_or_default();
        let mut lines: Vec<OutLine> = Vec::new();
        let mut water = Decimal::ZERO;
        // Resumed readings' differences of water, for sewage's own.
        let mut water_resumed = Resumption::default();
        let mut resumed_lines: Vec<OutLine> = Vec::new();
        let mut sewage: Vec<usize> = Vec::new();
        let none: Vec<&ReadingRow> = Vec::new();
        for k in 0..self.services.len() {
            let s = &self.services[k].model;
            if s.archived {
                continue;
            }
            // A service without a price this month (not yet, or no longer) is
            // not billed.
            if self.versions(k, a.house_id)?.is_empty() {
                continue;
            }
            let s = &self.services[k].model;
            let method = s.method;
            let resource = s.resource.map(|r| r.to_value());
            let coefficient = self.services[k].coefficient;
            let (quantity, source, exact) = match method {
                CalculationMethod::Metered => {
                    let norm = self
                        .norm(k, a.house_id, NormBasis::Person)?
                        .unwrap_or_default()
                        * people;
                    let mine: Vec<&&MeterRow> = meters
                        .iter()
                        .filter(|m| Some(&m.resource) == resource.as_ref())
                        .collect();
                    let zones = self.services[k].model.zones.clamp(1, 3) as usize;
                    let mut volume = vec![Decimal::ZERO; zones];
                    let mut source = VolumeSource::Reading;
                    let mut resumed = Resumption::default();
                    if mine.is_empty() {
                        volume[0] = norm;
                        source = VolumeSource::NormRaised;
                    }
                    for (i, m) in mine.iter().enumerate() {
                        // The norm is counted once per premises, not per meter.
                        let n = if i == 0 { norm } else { Decimal::ZERO };
                        let rs = readings.get(&m.id).unwrap_or(&none);
                        let o = self.meter_period(m, rs, n, carried.get(&(a.id, m.id)));
                        for (z, x) in o.own.iter().enumerate().take(zones) {
                            volume[z] += micro(*x) * share;
                        }
                        if let Some(r) = &o.resumed {
                            resumed.add(r, share, zones);
                        }
                        let src = match o.source {
                            metering::Source::Reading => VolumeSource::Reading,
                            metering::Source::Average => VolumeSource::Average,
                            metering::Source::Norm => VolumeSource::Norm,
                            metering::Source::NormRaised => VolumeSource::NormRaised,
                        };
                        if source == VolumeSource::Reading {
                            source = src;
                        }
                        self.meter_rows.push(MeterCharge {
                            account_id: a.id,
                            meter_id: m.id,
                            source: o.source,
                            own: o.own,
                            carried: o.carried,
                        });
                    }
                    if !resumed.is_empty() {
                        let amount = self.priced_signed(k, a.house_id, &resumed.volume)?;
                        resumed_lines.push(self.resumed_line(k, &resumed, amount));
                        if matches!(resource.as_deref(), Some("cold_water" | "hot_water")) {
                            water_resumed.merge(&resumed);
                        }
                    }
                    let mut exact = self.priced(k, a.house_id, &volume)?;
                    if source == VolumeSource::NormRaised {
                        exact *= coefficient;
                    }
                    let total: Decimal = volume.iter().sum();
                    if matches!(resource.as_deref(), Some("cold_water" | "hot_water")) {
                        water += total;
                    }
                    let src = match source {
                        VolumeSource::Reading => "reading",
                        VolumeSource::Average => "average",
                        VolumeSource::Norm => "norm",
                        VolumeSource::NormRaised => "norm_raised",
                    };
                    (total, src, exact)
                }
                CalculationMethod::Norm => {
                    let q = self
                        .norm(k, a.house_id, NormBasis::Person)?
                        .unwrap_or_default()
                        * people;
                    (q, "norm", self.priced(k, a.house_id, &[q])?)
                }
                CalculationMethod::Area => (area, "area", self.priced(k, a.house_id, &[area])?),
                CalculationMethod::PerPerson => {
                    let q = Decimal::from(a.registered.max(0));
                    (q, "people", self.priced(k, a.house_id, &[q])?)
                }
                CalculationMethod::Fixed => (share, "fixed", self.priced(k, a.house_id, &[share])?),
                CalculationMethod::Heating => {
                    let by_meter = resource
                        .as_ref()
                        .and_then(|r| self.house_volumes.get(&(a.house_id, r.clone())))
                        .map(|v| (*v, house.total));
                    let norm = self
                        .norm(k, a.house_id, NormBasis::Area)?
                        .unwrap_or_default();
                    let q = heating_volume(area, norm, by_meter).map_err(|e| bad("house", e))?;
                    let src = if by_meter.is_some() {
                        "house_meter"
                    } else {
                        "norm"
                    };
                    (q, src, self.priced(k, a.house_id, &[q])?)
                }
                CalculationMethod::CommonHouse => {
                    let norm = self.norm(k, a.house_id, NormBasis::CommonArea)?;
                    let key = resource.as_ref().map(|r| (a.house_id, r.clone()));
                    let house_volume = key
                        .as_ref()
                        .and_then(|k| self.house_volumes.get(k))
                        .copied();
                    let premises_volume = key
                        .as_ref()
                        .and_then(|k| self.premises_volumes.get(k))
                        .copied()
                        .unwrap_or_default();
                    let q = calc::common_house_volume(&calc::CommonHouse {
                        house_volume,
                        premises_volume,
                        other_volume: Decimal::ZERO,
                        norm_per_common_m2: norm.unwrap_or_default(),
                        common_area: house.common,
                        premises_area: area,
                        house_area: house.total,
                        // Capped where the organisation says so and a norm
                        // for common areas is set.
                        capped: self.common_capped && norm.is_some(),
                    })
                    .unwrap_or(Decimal::ZERO);
                    let src = if house_volume.is_some() {
                        "common_meter"
                    } else {
                        "common_norm"
                    };
                    (q, src, self.priced(k, a.house_id, &[q])?)
                }
                CalculationMethod::Sewage => {
                    sewage.push(k);
                    continue;
                }
            };
            if quantity.is_zero() && exact.is_zero() {
                continue;
            }
            let s = &self.services[k].model;
            lines.push(charge_line(s, quantity, source, exact));
        }
        for k in sewage {
            if self.versions(k, a.house_id)?.is_empty() {
                continue;
            }
            let exact = self.priced(k, a.house_id, &[water])?;
            lines.push(charge_line(
                &self.services[k].model,
                water,
                "water_sum",
                exact,
            ));
            if !water_resumed.is_empty() {
                // Sewage follows the water: one zone, the water's total.
                let total = Resumption {
                    volume: vec![water_resumed.volume.iter().sum()],
                    ..water_resumed.clone()
                };
                let amount = self.priced_signed(k, a.house_id, &total.volume)?;
                resumed_lines.push(self.resumed_line(k, &total, amount));
            }
        }
        let benefits = self.benefits(a, people, &lines);
        lines.extend(benefits);
        lines.extend(resumed_lines);
        for r in recalcs {
            let s = self.services.iter().find(|s| s.model.id == r.service_id);
            lines.push(OutLine {
                kind: "recalculation",
                service_id: Some(r.service_id),
                label: s.map_or_else(String::new, |s| s.model.name.clone()),
                source: format!("{}:{}", r.reason, r.period_of),
                quantity: r
                    .quantity
                    .as_deref()
                    .map(|q| {
                        crate::error::stored_decimal("recalculations", "quantity", r.account_id, q)
                    })
                    .transpose()?
                    .unwrap_or_default(),
                unit: s.map_or_else(String::new, |s| s.model.unit.clone()),
                tariff: Decimal::ZERO,
                amount: Decimal::new(r.amount_minor, 2),
            });
        }
        Ok(lines)
    }

    /// The resources whose individual consumption F12 subtracts from a house
    /// meter: those of the common-house services.
    pub fn common_resources(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .services
            .iter()
            .filter(|s| !s.model.archived && s.model.method == CalculationMethod::CommonHouse)
            .filter_map(|s| s.model.resource.map(|r| r.to_value()))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Adds an account's own consumption of `resource` (its metered and norm
    /// charge lines) to its house's total for F12.
    pub fn count_consumption(&mut self, house: Uuid, resource: &str, lines: &[OutLine]) {
        let mut sum = Decimal::ZERO;
        for l in lines.iter().filter(|l| l.kind == "charge") {
            let Some(s) = self
                .services
                .iter()
                .find(|s| Some(s.model.id) == l.service_id)
            else {
                continue;
            };
            let own = matches!(
                s.model.method,
                CalculationMethod::Metered | CalculationMethod::Norm
            );
            if own && s.model.resource.map(|r| r.to_value()).as_deref() == Some(resource) {
                sum += l.quantity;
            }
        }
        *self
            .premises_volumes
            .entry((house, resource.to_string()))
            .or_default() += sum;
    }

    /// Benefit lines of an account's charges by its privileged categories.
    fn benefits(&self, a: &AccountRow, people: Decimal, lines: &[OutLine]) -> Vec<OutLine> {
        let codes: Vec<String> = serde_json::from_str(&a.categories).unwrap_or_default();
        let mut out = Vec::new();
        for code in &codes {
            let Some(cat) = self.categories.iter().find(|c| &c.code == code) else {
                continue;
            };
            for l in lines.iter().filter(|l| l.kind == "charge") {
                let Some(svc) = self
                    .services
                    .iter()
                    .find(|s| Some(s.model.id) == l.service_id)
                else {
                    continue;
                };
                if !cat.services.contains(&svc.model.code) || l.amount <= Decimal::ZERO {
                    continue;
                }
                let entitled = if cat.per_person && people > Decimal::ZERO {
                    Decimal::ONE / people
                } else {
                    Decimal::ONE
                };
                let mut covered = l.quantity * entitled;
                if let Some(norm) = cat.social_norm {
                    let persons = if cat.per_person {
                        Decimal::ONE
                    } else {
                        people.max(Decimal::ONE)
                    };
                    covered = covered.min(norm * persons);
                }
                let share = if l.quantity.is_zero() {
                    entitled
                } else {
                    covered / l.quantity
                };
                let charge = Line {
                    service: l.label.clone(),
                    quantity: l.quantity,
                    tariff: l.tariff,
                    amount: l.amount,
                };
                let b = benefit(cat.name.clone(), &charge, cat.percent, Some(share));
                if b.amount.is_zero() {
                    continue;
                }
                out.push(OutLine {
                    kind: "benefit",
                    service_id: l.service_id,
                    label: cat.name.clone(),
                    source: cat.code.clone(),
                    quantity: b.quantity.round_dp(6).normalize(),
                    unit: l.unit.clone(),
                    tariff: cat.percent,
                    amount: b.amount,
                });
            }
        }
        out
    }
}

fn charge_line(s: &service::Model, quantity: Decimal, source: &str, exact: Decimal) -> OutLine {
    let quantity = quantity.round_dp(6).normalize();
    let line = Line::new(s.name.clone(), quantity, exact);
    OutLine {
        kind: "charge",
        service_id: Some(s.id),
        label: s.name.clone(),
        source: source.to_string(),
        quantity,
        unit: s.unit.clone(),
        tariff: line.tariff,
        amount: line.amount,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::Utc;
    use entities::Resource;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn svc(code: &str, method: CalculationMethod, resource: Option<Resource>, price: &str) -> Svc {
        let id = Uuid::now_v7();
        Svc {
            model: service::Model {
                id,
                organisation_id: Uuid::nil(),
                code: code.into(),
                name: code.into(),
                unit: "u".into(),
                method,
                resource,
                zones: 1,
                norm_coefficient: None,
                provider_name: None,
                provider_tax_id: None,
                provider_account: None,
                provider_bank_id: None,
                archived: false,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            coefficient: d("1.5"),
            tariffs: vec![tariff::Model {
                id: Uuid::now_v7(),
                organisation_id: Uuid::nil(),
                service_id: id,
                house_id: None,
                valid_from: day("2026-01-01"),
                valid_to: None,
                prices: format!(r#"[[{{"upTo":null,"price":"{price}"}}]]"#),
                created_at: Utc::now(),
            }],
            norms: vec![norm::Model {
                id: Uuid::now_v7(),
                organisation_id: Uuid::nil(),
                service_id: id,
                house_id: None,
                basis: NormBasis::Person,
                valid_from: day("2026-01-01"),
                valid_to: None,
                value: "4.5".into(),
                created_at: Utc::now(),
            }],
        }
    }

    fn plan(categories: Vec<Category>) -> Plan {
        Plan::new(
            Period::new(2026, 11).unwrap(),
            MissingRules::default(),
            vec![
                svc(
                    "cold_water",
                    CalculationMethod::Metered,
                    Some(Resource::ColdWater),
                    "50",
                ),
                svc("maintenance", CalculationMethod::Area, None, "30.15"),
                svc("sewage", CalculationMethod::Sewage, None, "40"),
            ],
            categories,
            HashMap::new(),
        )
    }

    fn account(categories: &str) -> AccountRow {
        AccountRow {
            id: Uuid::now_v7(),
            house_id: Uuid::now_v7(),
            premises_id: Uuid::now_v7(),
            share_num: 1,
            share_den: 1,
            registered: 3,
            categories: categories.into(),
            area_micro: 54_300_000,
            owners: 1,
        }
    }

    fn meter() -> MeterRow {
        MeterRow {
            id: Uuid::now_v7(),
            premises_id: None,
            resource: "cold_water".into(),
            zones: 1,
            failed: false,
            verification_due: None,
            initial: [0; 3],
            digits: Some(5),
        }
    }

    fn reading(m: &MeterRow, on: &str, v: &str) -> ReadingRow {
        ReadingRow {
            meter_id: m.id,
            taken_on: day(on),
            values: [(d(v) * d("1000000")).try_into().unwrap(), 0, 0],
            rollover: false,
        }
    }

    #[test]
    fn a_metered_account_pays_its_reading_area_and_sewage_of_the_water() {
        let mut p = plan(vec![]);
        let m = meter();
        let rs = [
            reading(&m, "2026-10-25", "100"),
            reading(&m, "2026-11-24", "107.5"),
        ];
        let map = HashMap::from([(m.id, rs.iter().collect::<Vec<_>>())]);
        let lines = p
            .account(&account("[]"), &[&m], &map, &HashMap::new(), &[])
            .unwrap();
        let got: Vec<(&str, String, Decimal)> = lines
            .iter()
            .map(|l| (l.source.as_str(), l.quantity.to_string(), l.amount))
            .collect();
        // 7.5 m³ × 50; 54.3 m² × 30.15 = 1637.145 → 1637.15; sewage 7.5 × 40.
        assert_eq!(
            got,
            vec![
                ("reading", "7.5".into(), d("375.00")),
                ("area", "54.3".into(), d("1637.15")),
                ("water_sum", "7.5".into(), d("300.00")),
            ]
        );
    }

    #[test]
    fn a_house_counts_its_premises_own_water_not_their_area_or_sewage() {
        let mut p = plan(vec![]);
        let m = meter();
        let rs = [
            reading(&m, "2026-10-25", "100"),
            reading(&m, "2026-11-24", "107.5"),
        ];
        let map = HashMap::from([(m.id, rs.iter().collect::<Vec<_>>())]);
        let a = account("[]");
        let lines = p.account(&a, &[&m], &map, &HashMap::new(), &[]).unwrap();
        p.count_consumption(a.house_id, "cold_water", &lines);
        // Without a meter: the norm, 4.5 × 3 people.
        let lines = p.account(&a, &[], &map, &HashMap::new(), &[]).unwrap();
        p.count_consumption(a.house_id, "cold_water", &lines);
        p.count_consumption(a.house_id, "hot_water", &lines);
        assert_eq!(
            p.premises_volumes[&(a.house_id, "cold_water".to_string())],
            d("21")
        );
        assert_eq!(
            p.premises_volumes[&(a.house_id, "hot_water".to_string())],
            d("0")
        );
    }

    #[test]
    fn a_missing_reading_is_billed_by_average_then_by_norm() {
        let mut p = plan(vec![]);
        let m = meter();
        let rs = [
            reading(&m, "2026-05-20", "10"),
            reading(&m, "2026-08-20", "22"),
        ];
        let map = HashMap::from([(m.id, rs.iter().collect::<Vec<_>>())]);
        let lines = p
            .account(&account("[]"), &[&m], &map, &HashMap::new(), &[])
            .unwrap();
        // 12 m³ over 3 months, 2 months without readings since August.
        assert_eq!(
            (lines[0].source.as_str(), lines[0].quantity),
            ("average", d("4"))
        );
        let rs = [
            reading(&m, "2026-03-20", "10"),
            reading(&m, "2026-06-20", "22"),
        ];
        let map = HashMap::from([(m.id, rs.iter().collect::<Vec<_>>())]);
        let lines = p
            .account(&account("[]"), &[&m], &map, &HashMap::new(), &[])
            .unwrap();
        // Four months by average already: the norm, 4.5 × 3 people.
        assert_eq!(
            (lines[0].source.as_str(), lines[0].quantity),
            ("norm", d("13.5"))
        );
        // No meter at all: the norm raised by the coefficient (payment, not volume).
        let lines = p
            .account(&account("[]"), &[], &HashMap::new(), &HashMap::new(), &[])
            .unwrap();
        assert_eq!(
            (lines[0].source.as_str(), lines[0].quantity, lines[0].amount),
            ("norm_raised", d("13.5"), d("1012.50"))
        );
    }

    #[test]
    fn a_benefit_per_person_within_a_social_norm_is_its_own_negative_line() {
        let mut p = plan(vec![Category {
            code: "veteran".into(),
            name: "Veteran".into(),
            percent: d("50"),
            services: vec!["maintenance".into()],
            per_person: true,
            social_norm: Some(d("18")),
        }]);
        let lines = p
            .account(
                &account(r#"["veteran"]"#),
                &[],
                &HashMap::new(),
                &HashMap::new(),
                &[],
            )
            .unwrap();
        let b = lines.iter().find(|l| l.kind == "benefit").unwrap();
        // One of three people: 54.3 / 3 = 18.1 m², capped at 18 m²:
        // 1637.15 × 18 / 54.3 = 542.7017 × 50 % = 271.35.
        assert_eq!((b.quantity, b.amount), (d("18"), d("-271.35")));
        let total: Decimal = lines.iter().map(|l| l.amount).sum();
        assert_eq!(
            total,
            d("1012.50") + d("1637.15") + d("540.00") - d("271.35")
        );
    }

    #[test]
    fn any_account_gets_lines_in_cents_whose_benefits_never_exceed_their_charges() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n.max(1)
        };
        let mut p = plan(vec![Category {
            code: "veteran".into(),
            name: "Veteran".into(),
            percent: d("37.5"),
            services: vec!["maintenance".into(), "cold_water".into()],
            per_person: true,
            social_norm: Some(d("18")),
        }]);
        for _ in 0..2_000 {
            let mut a = account(if next(2) == 0 { r#"["veteran"]"# } else { "[]" });
            a.registered = next(6) as i32;
            a.owners = next(3) as u32;
            a.area_micro = 10_000_000 + next(200_000_000) as i64;
            a.share_num = 1 + next(3) as i64;
            a.share_den = a.share_num + next(3) as i64;
            let m = meter();
            let mut rs = Vec::new();
            let mut value = next(1_000_000) as i64;
            for month in 1..=11u32 {
                if next(3) > 0 {
                    value += next(20_000_000) as i64;
                    rs.push(ReadingRow {
                        meter_id: m.id,
                        taken_on: NaiveDate::from_ymd_opt(2026, month, 1 + next(28) as u32)
                            .unwrap(),
                        values: [value, 0, 0],
                        rollover: false,
                    });
                }
            }
            let map = HashMap::from([(m.id, rs.iter().collect::<Vec<_>>())]);
            let meters: Vec<&MeterRow> = if next(4) == 0 { vec![] } else { vec![&m] };
            let lines = p.account(&a, &meters, &map, &HashMap::new(), &[]).unwrap();
            for l in &lines {
                assert!(l.amount.scale() <= 2, "{l:?}");
                if l.kind == "benefit" {
                    let charge = lines
                        .iter()
                        .find(|c| c.kind == "charge" && c.service_id == l.service_id)
                        .unwrap();
                    assert!(
                        l.amount <= Decimal::ZERO && -l.amount <= charge.amount,
                        "{l:?} {charge:?}"
                    );
                }
            }
            let charged: Decimal = lines
                .iter()
                .filter(|l| l.kind == "charge")
                .map(|l| l.amount)
                .sum();
            let benefits: Decimal = lines
                .iter()
                .filter(|l| l.kind == "benefit")
                .map(|l| l.amount)
                .sum();
            let total: Decimal = lines.iter().map(|l| l.amount).sum();
            assert_eq!(charged + benefits, total);
        }
    }
}
