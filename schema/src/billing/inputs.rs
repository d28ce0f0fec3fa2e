//! What the run reads besides the catalogue: the accounts, their premises'
//! meters with the readings of the averaging window, and the owners, for a
//! chunk of accounts by id or for one house; and the house meters' volumes.
//!
//! Common-house needs by the house meter (F12) subtract what every premises
//! of the house consumed, and a house's accounts span chunks: so before the
//! first chunk the run bills each such house's accounts once, only to count
//! their consumption (`house_consumption`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use super::calc::{MissingRules, Period};
use super::compute::{AccountRow, MeterRow, Plan, ReadingRow};
use super::metering::Carried;
use super::settings::Settings;
use crate::bulk::{fetch_all, Cell};
use crate::error::AppResult;

pub(super) type AccountTuple = (Uuid, Uuid, Uuid, i64, i64, i32, String, i64);
type MeterTuple = (
    Uuid,
    Option<Uuid>,
    String,
    i32,
    String,
    Option<NaiveDate>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i32>,
);
type HouseMeterTuple = (
    Uuid,
    Uuid,
    Option<Uuid>,
    String,
    i32,
    String,
    Option<NaiveDate>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i32>,
);
type ReadingTuple = (
    Uuid,
    NaiveDate,
    i64,
    Option<i64>,
    Option<i64>,
    bool,
    DateTime<Utc>,
    Uuid,
);

const METER_COLUMNS: &str = "m.id, m.premises_id, m.resource, m.zones, m.status, \
     m.verification_due, m.initial1_micro, m.initial2_micro, m.initial3_micro, m.digits";
const READING_COLUMNS: &str = "r.meter_id, r.taken_on, r.value1_micro, r.value2_micro, \
     r.value3_micro, r.rollover, r.created_at, r.id";

/// Which accounts a read covers.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope {
    /// A chunk: the accounts with `lo < id <= hi`.
    Range(Uuid, Uuid),
    House(Uuid),
}

impl Scope {
    /// The condition on `accounts a`, after its organisation.
    fn filter(self) -> &'static str {
        match self {
            Scope::Range(..) => "a.id > ? AND a.id <= ?",
            Scope::House(_) => "a.house_id = ?",
        }
    }

    /// The organisation, then the scope's own arguments.
    pub(super) fn args(self, org: Uuid) -> Vec<Cell> {
        match self {
            Scope::Range(lo, hi) => vec![
                Cell::Uuid(Some(org)),
                Cell::Uuid(Some(lo)),
                Cell::Uuid(Some(hi)),
            ],
            Scope::House(h) => vec![Cell::Uuid(Some(org)), Cell::Uuid(Some(h))],
        }
    }
}

/// The accounts open in the period after `lo`, at most `limit`, by id.
pub(super) async fn accounts_after(
    db: &DatabaseConnection,
    org: Uuid,
    period: Period,
    lo: Uuid,
    limit: usize,
) -> AppResult<Vec<AccountTuple>> {
    Ok(fetch_all(
        db,
        &accounts_sql("a.id > ?", " ORDER BY a.id LIMIT ?"),
        vec![
            Cell::Uuid(Some(org)),
            Cell::Uuid(Some(lo)),
            Cell::Date(Some(period.last_day())),
            Cell::Date(Some(period.first_day())),
            Cell::BigInt(Some(limit as i64)),
        ],
    )
    .await?)
}

fn accounts_sql(filter: &str, tail: &str) -> String {
    format!(
        "SELECT a.id, a.house_id, a.premises_id, a.share_num, a.share_den, \
         a.registered_residents, a.privileged_categories, p.area_micro \
         FROM accounts a JOIN premises p ON p.id = a.premises_id \
         WHERE a.organisation_id = ? AND {filter} AND a.opened_on <= ? \
         AND (a.closed_on IS NULL OR a.closed_on >= ?){tail}"
    )
}

/// The organisation's rules for missing readings.
pub(super) fn missing_rules(s: &Settings) -> MissingRules {
    MissingRules {
        average_months: s.average_months.clamp(1, 12) as usize,
        min_months: s.min_months.clamp(1, 12) as usize,
        max_average_periods: s.max_average_periods.clamp(0, 12) as u32,
    }
}

/// The first day of the readings a period may need, besides the last one
/// before it (read however old: consumption starts there).
pub(super) fn window_start(period: Period, s: &Settings) -> NaiveDate {
    super::metering::window_start(period, missing_rules(s))
}

/// What the period before left for each account's meters:
/// `meter_charges` of the account, the meter and the previous period.
type CarriedTuple = (
    Uuid,
    Uuid,
    Option<NaiveDate>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    i32,
);

/// The meters, readings and owners of some accounts' premises, and what the
/// period before left for their meters.
pub(super) struct Premises {
    meters: Vec<MeterRow>,
    readings: Vec<ReadingRow>,
    owners: HashMap<Uuid, i64>,
    pub(super) carried: HashMap<(Uuid, Uuid), Carried>,
}

impl Premises {
    /// Reads them at once, on connections of their own. Each read walks the
    /// scope's accounts and joins from there, so it costs what it reads.
    /// Premises shared by several accounts repeat their meters and readings:
    /// deduplicated and ordered here rather than by the database.
    pub(super) async fn read(
        db: &DatabaseConnection,
        org: Uuid,
        period: Period,
        s: &Settings,
        scope: Scope,
    ) -> Result<Premises, DbErr> {
        let filter = scope.filter();
        let meter_sql = format!(
            "SELECT {METER_COLUMNS} FROM accounts a JOIN meters m ON m.premises_id = a.premises_id \
             WHERE a.organisation_id = ? AND {filter} AND m.status <> 'archived'"
        );
        let reading_sql = format!(
            "SELECT {READING_COLUMNS} FROM accounts a \
             JOIN meters m ON m.premises_id = a.premises_id JOIN readings r ON r.meter_id = m.id \
             WHERE a.organisation_id = ? AND {filter} \
             AND r.taken_on >= ? AND r.taken_on <= ? AND r.status = 'accepted'"
        );
        let owner_sql = format!(
            "SELECT o.premises_id, COUNT(DISTINCT o.id) FROM accounts a \
             JOIN occupancies o ON o.premises_id = a.premises_id \
             WHERE a.organisation_id = ? AND {filter} AND o.role = 'owner' \
             AND (o.until IS NULL OR o.until >= ?) GROUP BY o.premises_id"
        );
        // The last reading before the window, however old: the day of each
        // meter's last one, then its rows (a correlated subquery instead ran
        // once per reading on PostgreSQL: minutes for 100 000 accounts).
        let before_sql = format!(
            "SELECT {READING_COLUMNS} FROM (SELECT r0.meter_id, MAX(r0.taken_on) AS day \
             FROM accounts a JOIN meters m ON m.premises_id = a.premises_id \
             JOIN readings r0 ON r0.meter_id = m.id \
             WHERE a.organisation_id = ? AND {filter} AND r0.status = 'accepted' AND r0.taken_on < ? \
             GROUP BY r0.meter_id) x \
             JOIN readings r ON r.meter_id = x.meter_id AND r.taken_on = x.day AND r.status = 'accepted'"
        );
        let carried_sql = format!(
            "SELECT mc.account_id, mc.meter_id, mc.anchor_on, mc.anchor1, mc.anchor2, mc.anchor3, \
             mc.estimated1, mc.estimated2, mc.estimated3, mc.gap_from, mc.gap_periods \
             FROM accounts a JOIN meter_charges mc \
             ON mc.organisation_id = a.organisation_id AND mc.account_id = a.id \
             WHERE a.organisation_id = ? AND {filter} AND mc.period = ?"
        );
        let window = window_start(period, s);
        let mut reading_args = scope.args(org);
        reading_args.push(Cell::Date(Some(window)));
        reading_args.push(Cell::Date(Some(period.last_day())));
        let mut before_args = scope.args(org);
        before_args.push(Cell::Date(Some(window)));
        let mut owner_args = scope.args(org);
        owner_args.push(Cell::Date(Some(period.first_day())));
        let mut carried_args = scope.args(org);
        carried_args.push(Cell::Text(period.prev().to_string()));
        let (mut meters, mut readings, before, owners, carried) = tokio::try_join!(
            fetch_all::<MeterTuple>(db, &meter_sql, scope.args(org)),
            fetch_all::<ReadingTuple>(db, &reading_sql, reading_args),
            fetch_all::<ReadingTuple>(db, &before_sql, before_args),
            fetch_all::<(Uuid, i64)>(db, &owner_sql, owner_args),
            fetch_all::<CarriedTuple>(db, &carried_sql, carried_args),
        )?;
        meters.sort_unstable_by_key(|m| m.0);
        meters.dedup_by_key(|m| m.0);
        readings.extend(before);
        readings.sort_unstable_by_key(|r| (r.0, r.1, r.6, r.7));
        readings.dedup_by_key(|r| r.7);
        let carried = carried
            .into_iter()
            .map(
                |(account, meter, anchor_on, a1, a2, a3, e1, e2, e3, gap_from, gaps)| {
                    (
                        (account, meter),
                        Carried {
                            anchor_on,
                            anchor: [a1, a2, a3],
                            estimated: [e1, e2, e3],
                            gap_from: gap_from.as_deref().and_then(Period::parse),
                            gap_periods: gaps.max(0) as u32,
                        },
                    )
                },
            )
            .collect();
        Ok(Premises {
            meters: meters.into_iter().map(meter_row).collect(),
            readings: readings.into_iter().map(reading_row).collect(),
            owners: owners.into_iter().collect(),
            carried,
        })
    }

    pub(super) fn by_premises(&self) -> HashMap<Uuid, Vec<&MeterRow>> {
        let mut out: HashMap<Uuid, Vec<&MeterRow>> = HashMap::new();
        for m in &self.meters {
            if let Some(p) = m.premises_id {
                out.entry(p).or_default().push(m);
            }
        }
        out
    }

    pub(super) fn by_meter(&self) -> HashMap<Uuid, Vec<&ReadingRow>> {
        let mut out: HashMap<Uuid, Vec<&ReadingRow>> = HashMap::new();
        for r in &self.readings {
            out.entry(r.meter_id).or_default().push(r);
        }
        out
    }

    pub(super) fn account(&self, t: AccountTuple) -> AccountRow {
        let (id, house_id, premises_id, share_num, share_den, registered, categories, area_micro) =
            t;
        AccountRow {
            id,
            house_id,
            premises_id,
            share_num,
            share_den,
            registered,
            categories,
            area_micro,
            owners: self.owners.get(&premises_id).copied().unwrap_or(0) as u32,
        }
    }
}

/// The house meters' volumes of the period, by (house, resource).
pub(super) async fn house_volumes(
    db: &DatabaseConnection,
    plan: &mut Plan,
    org: Uuid,
    period: Period,
) -> AppResult<()> {
    let meters: Vec<(Uuid, MeterTuple)> = fetch_all::<HouseMeterTuple>(
        db,
        &format!(
            "SELECT m.house_id, {METER_COLUMNS} FROM meters m \
             WHERE m.organisation_id = ? AND m.premises_id IS NULL AND m.status <> 'archived'"
        ),
        vec![Cell::Uuid(Some(org))],
    )
    .await?
    .into_iter()
    .map(|(h, a, b, c, d, e, f, g, i, j, k)| (h, (a, b, c, d, e, f, g, i, j, k)))
    .collect();
    if meters.is_empty() {
        return Ok(());
    }
    // A house meter's volume is that of a month it was read in: its readings
    // of the period and the one before, and the last before those, however old.
    let since = period.prev().first_day();
    let mut rows: Vec<ReadingTuple> = fetch_all::<ReadingTuple>(
        db,
        &format!(
            "SELECT {READING_COLUMNS} FROM readings r JOIN meters m ON m.id = r.meter_id \
             WHERE r.organisation_id = ? AND m.premises_id IS NULL AND r.status = 'accepted' \
             AND r.taken_on >= ? AND r.taken_on <= ? \
             UNION ALL \
             SELECT {READING_COLUMNS} FROM (SELECT r0.meter_id, MAX(r0.taken_on) AS day \
             FROM readings r0 JOIN meters m0 ON m0.id = r0.meter_id \
             WHERE r0.organisation_id = ? AND m0.premises_id IS NULL AND r0.status = 'accepted' \
             AND r0.taken_on < ? GROUP BY r0.meter_id) x \
             JOIN readings r ON r.meter_id = x.meter_id AND r.taken_on = x.day AND r.status = 'accepted'"
        ),
        vec![
            Cell::Uuid(Some(org)),
            Cell::Date(Some(since)),
            Cell::Date(Some(period.last_day())),
            Cell::Uuid(Some(org)),
            Cell::Date(Some(since)),
        ],
    )
    .await?;
    rows.sort_unstable_by_key(|r| (r.0, r.1, r.6, r.7));
    let readings: Vec<ReadingRow> = rows.into_iter().map(reading_row).collect();
    for (house, m) in meters {
        let m = meter_row(m);
        let rs: Vec<&ReadingRow> = readings.iter().filter(|r| r.meter_id == m.id).collect();
        if let Some(v) = plan.house_meter_month(&m, &rs) {
            *plan
                .house_volumes
                .entry((house, m.resource.clone()))
                .or_default() += v;
        }
    }
    Ok(())
}

/// F12's pre-pass: for each house whose house meter measured a resource that
/// a common-house service bills, what its premises consumed of it, as their
/// own lines bill it.
pub(super) async fn house_consumption(
    db: &DatabaseConnection,
    plan: &mut Plan,
    org: Uuid,
    period: Period,
    s: &Settings,
) -> AppResult<()> {
    let resources = plan.common_resources();
    let mut houses: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (house, resource) in plan.house_volumes.keys() {
        if resources.contains(resource) {
            houses.entry(*house).or_default().push(resource.clone());
        }
    }
    let mut houses: Vec<(Uuid, Vec<String>)> = houses.into_iter().collect();
    houses.sort();
    for (house, resources) in houses {
        let scope = Scope::House(house);
        let mut args = scope.args(org);
        args.push(Cell::Date(Some(period.last_day())));
        args.push(Cell::Date(Some(period.first_day())));
        let sql = accounts_sql(scope.filter(), "");
        let (accounts, premises) = tokio::try_join!(
            fetch_all::<AccountTuple>(db, &sql, args),
            Premises::read(db, org, period, s, scope),
        )?;
        let by_premises = premises.by_premises();
        let by_meter = premises.by_meter();
        for t in accounts {
            let a = premises.account(t);
            let meters = by_premises.get(&a.premises_id).map_or(&[][..], |v| &v[..]);
            let lines = plan.account(&a, meters, &by_meter, &premises.carried, &[])?;
            for r in &resources {
                plan.count_consumption(house, r, &lines);
            }
        }
        // Premises without an account this period consumed nothing billed.
        for r in &resources {
            plan.premises_volumes.entry((house, r.clone())).or_default();
        }
    }
    // Counted only: the meters' rows are the chunks' to write.
    plan.meter_rows.clear();
    Ok(())
}

fn meter_row(t: MeterTuple) -> MeterRow {
    let (id, premises_id, resource, zones, status, verification_due, i1, i2, i3, digits) = t;
    MeterRow {
        id,
        premises_id,
        resource,
        zones,
        failed: status == "failed",
        verification_due,
        initial: [i1, i2.unwrap_or(0), i3.unwrap_or(0)],
        digits,
    }
}

fn reading_row(t: ReadingTuple) -> ReadingRow {
    let (meter_id, taken_on, v1, v2, v3, rollover, _, _) = t;
    ReadingRow {
        meter_id,
        taken_on,
        values: [v1, v2.unwrap_or(0), v3.unwrap_or(0)],
        rollover,
    }
}
