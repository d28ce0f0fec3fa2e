//! Reading rules and transactions.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use entities::{
    house, meter, reading, reading_settings, MeterStatus, ReadingSource, ReadingStatus, Resource,
};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rules::{self, Point, Step};
use crate::audit::{diff, record, record_with, Author};
use crate::auth::Target;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::events::{topics, Event, Events, NewEvent};
use crate::exact::{from_micro, non_negative_micro};
use crate::registry::service::{Page, Restrict};

pub const DEFAULT_FLAG_FACTOR_PCT: i32 = 300;
pub const DEFAULT_AVERAGE_READINGS: i32 = 6;
/// The most earlier readings an average may span.
pub const MAX_AVERAGE_READINGS: i32 = 24;

#[derive(Clone)]
pub struct Readings {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    events: Events,
    /// Submissions waiting for their group commit (started on first use).
    queue: Arc<std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<Job>>>,
}

/// At most this many submissions are written in one transaction.
const GROUP_LIMIT: usize = 64;

/// A submission waiting to be written, and where its answer goes.
struct Job {
    scope: Arc<str>,
    by: Author,
    s: Submission,
    reply: tokio::sync::oneshot::Sender<AppResult<ReadingView>>,
}

/// A reading as every screen and event shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReadingView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub house_id: Uuid,
    pub premises_id: Option<Uuid>,
    pub meter_id: Uuid,
    pub meter_serial: String,
    pub resource: Resource,
    pub unit: String,
    pub address: String,
    pub premises_number: Option<String>,
    pub taken_on: NaiveDate,
    /// Per zone, micro-units.
    pub values: Vec<i64>,
    /// Since the reading before, per zone, micro-units (None for the first).
    pub consumption: Option<Vec<i64>>,
    pub source: ReadingSource,
    pub author_id: Option<Uuid>,
    pub author_name: String,
    pub status: ReadingStatus,
    pub flagged: bool,
    pub flag_reason: Option<String>,
    pub rollover: bool,
    pub corrects: Option<Uuid>,
    pub reason: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A reading to write.
#[derive(Debug, Clone)]
pub struct Submission {
    pub meter_id: Uuid,
    /// Staff may date a reading in the past; residents read today.
    pub taken_on: Option<NaiveDate>,
    pub values: Vec<Decimal>,
    /// Staff: why a value is lower than the one before.
    pub reason: Option<String>,
    /// Staff: an automatic meter feed names itself (`Automatic`); otherwise
    /// the caller's role decides (resident or staff).
    pub source: Option<ReadingSource>,
}

/// The rules in force for a house (or the organisation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub window_from: Option<i32>,
    pub window_to: Option<i32>,
    pub flag_factor_pct: i32,
    pub average_readings: i32,
    /// Where each came from: the house's own row, or the organisation's.
    pub house_overrides: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    pub window: Option<Option<(i32, i32)>>,
    pub flag_factor_pct: Option<Option<i32>>,
    pub average_readings: Option<Option<i32>>,
}

#[derive(Debug, Clone, Default)]
pub struct ReadingFilter {
    pub house_id: Option<Uuid>,
    pub meter_id: Option<Uuid>,
    pub premises_id: Option<Uuid>,
    /// The readings of the meters of an account's premises.
    pub account_id: Option<Uuid>,
    /// Only flagged readings nobody has reviewed.
    pub to_review: bool,
    pub restrict: Restrict,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodConsumption {
    pub period: String,
    pub consumption: Vec<i64>,
}

/// A meter's readings (oldest first) with consumption per period.
#[derive(Debug, Clone)]
pub struct History {
    pub meter: meter::Model,
    pub readings: Vec<ReadingView>,
    pub periods: Vec<PeriodConsumption>,
}

struct Place {
    address: String,
    premises_number: Option<String>,
    time_zone: String,
}

fn values_of(r: &reading::Model) -> [i64; 3] {
    [
        r.value1_micro,
        r.value2_micro.unwrap_or(0),
        r.value3_micro.unwrap_or(0),
    ]
}

fn initial_of(m: &meter::Model) -> [i64; 3] {
    [
        m.initial1_micro,
        m.initial2_micro.unwrap_or(0),
        m.initial3_micro.unwrap_or(0),
    ]
}

fn view(
    r: &reading::Model,
    m: &meter::Model,
    place: &Place,
    previous: Option<[i64; 3]>,
) -> ReadingView {
    let zones = m.zones.clamp(1, 3) as usize;
    let values = values_of(r);
    ReadingView {
        id: r.id,
        organisation_id: r.organisation_id,
        house_id: r.house_id,
        premises_id: r.premises_id,
        meter_id: r.meter_id,
        meter_serial: m.serial.clone(),
        resource: m.resource,
        unit: m.unit.clone(),
        address: place.address.clone(),
        premises_number: place.premises_number.clone(),
        taken_on: r.taken_on,
        values: values[..zones].to_vec(),
        consumption: previous.map(|p| {
            (0..zones)
                .map(|z| rules::step(p[z], values[z], m.digits).consumption(p[z], values[z]))
                .collect()
        }),
        source: r.source,
        author_id: r.author_id,
        author_name: r.author_name.clone(),
        status: r.status,
        flagged: r.flagged,
        flag_reason: r.flag_reason.clone(),
        rollover: r.rollover,
        corrects: r.corrects,
        reason: r.reason.clone(),
        reviewed_at: r.reviewed_at,
        created_at: r.created_at,
    }
}

pub fn today_in(time_zone: &str, now: DateTime<Utc>) -> NaiveDate {
    match time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => now.with_timezone(&tz).date_naive(),
        Err(_) => now.date_naive(),
    }
}

fn zone_field(i: usize) -> String {
    format!("values[{i}]")
}

/// The rules in force from the organisation's row and the house's (window
/// from, window to, factor, average readings): a house's window replaces the
/// organisation's whole; each other field falls back on its own.
fn resolve_settings(org: Option<[Option<i32>; 4]>, house: Option<[Option<i32>; 4]>) -> Settings {
    let pick = |i: usize| house.and_then(|h| h[i]).or_else(|| org.and_then(|o| o[i]));
    let (window_from, window_to) = match house {
        Some(h) if h[0].is_some() => (h[0], h[1]),
        _ => (org.and_then(|o| o[0]), org.and_then(|o| o[1])),
    };
    Settings {
        window_from,
        window_to,
        flag_factor_pct: pick(2).unwrap_or(DEFAULT_FLAG_FACTOR_PCT),
        average_readings: pick(3).unwrap_or(DEFAULT_AVERAGE_READINGS),
        house_overrides: house.is_some(),
    }
}

/// The columns `place_of` reads, over `houses h` joined by `PLACE_JOINS` to
/// a meter `m`.
const PLACE_COLUMNS: &str = "h.address, pr.number AS premises_number, o.time_zone, \
     CASE WHEN hs.id IS NULL THEN 0 ELSE 1 END AS house_row, hs.window_from AS h_from, hs.window_to AS h_to, \
     hs.flag_factor_pct AS h_factor, hs.average_readings AS h_average, \
     CASE WHEN os.id IS NULL THEN 0 ELSE 1 END AS org_row, os.window_from AS o_from, os.window_to AS o_to, \
     os.flag_factor_pct AS o_factor, os.average_readings AS o_average";
const PLACE_JOINS: &str = "LEFT JOIN premises pr ON pr.id = m.premises_id \
     LEFT JOIN organisations o ON o.id = h.organisation_id \
     LEFT JOIN reading_settings hs ON hs.id = h.id \
     LEFT JOIN reading_settings os ON os.id = h.organisation_id";

/// Where a meter is and its house's reading rules, from a row of `PLACE_COLUMNS`.
fn place_of(r: &sea_orm::QueryResult) -> Result<(Place, Settings), sea_orm::DbErr> {
    let get = |c: &str| r.try_get::<Option<i32>>("", c);
    let rules = |row: &str, p: &str| {
        (get(row)? == Some(1))
            .then(|| {
                Ok::<_, sea_orm::DbErr>([
                    get(&format!("{p}_from"))?,
                    get(&format!("{p}_to"))?,
                    get(&format!("{p}_factor"))?,
                    get(&format!("{p}_average"))?,
                ])
            })
            .transpose()
    };
    let (house, org) = (rules("house_row", "h")?, rules("org_row", "o")?);
    Ok((
        Place {
            address: r.try_get("", "address")?,
            premises_number: r.try_get("", "premises_number")?,
            time_zone: r
                .try_get::<Option<String>>("", "time_zone")?
                .unwrap_or_else(|| "UTC".into()),
        },
        resolve_settings(org, house),
    ))
}

/// One INSERT of `models`, for the transaction's change statement.
fn insert_readings(models: &[reading::Model]) -> (String, Vec<sea_orm::Value>) {
    let mut sql = String::from(
        "INSERT INTO readings (id, organisation_id, house_id, premises_id, meter_id, taken_on, value1_micro, value2_micro, value3_micro, source, author_id, author_name, status, flagged, flag_reason, rollover, corrects, reason, reviewed_by, reviewed_at, created_at) VALUES ",
    );
    let mut values = Vec::with_capacity(models.len() * 21);
    for (k, m) in models.iter().enumerate() {
        if k > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        values.extend([
            m.id.into(),
            m.organisation_id.into(),
            m.house_id.into(),
            m.premises_id.into(),
            m.meter_id.into(),
            m.taken_on.into(),
            m.value1_micro.into(),
            m.value2_micro.into(),
            m.value3_micro.into(),
            sea_orm::ActiveEnum::to_value(&m.source).into(),
            m.author_id.into(),
            m.author_name.clone().into(),
            sea_orm::ActiveEnum::to_value(&m.status).into(),
            m.flagged.into(),
            m.flag_reason.clone().into(),
            m.rollover.into(),
            m.corrects.into(),
            m.reason.clone().into(),
            m.reviewed_by.into(),
            m.reviewed_at.into(),
            m.created_at.into(),
        ]);
    }
    (sql, values)
}

/// What a write needs about one meter, read in its transaction.
struct MeterState {
    meter: meter::Model,
    place: Place,
    settings: Settings,
    /// Accepted readings, oldest first, at most `average_readings + 1` of the latest.
    recent: Vec<reading::Model>,
}

impl MeterState {
    /// A reading written: the next one compares with it.
    fn accept(&mut self, model: reading::Model) {
        self.recent.push(model);
        if self.recent.len() > self.settings.average_readings.max(1) as usize + 1 {
            self.recent.remove(0);
        }
    }

    fn previous(&self) -> Point {
        match self.recent.last() {
            Some(r) => Point {
                on: r.taken_on,
                values: values_of(r),
            },
            None => Point {
                on: self.meter.installed_on.unwrap_or(NaiveDate::MIN),
                values: initial_of(&self.meter),
            },
        }
    }

    fn history(&self) -> Vec<Point> {
        let mut points: Vec<Point> = Vec::with_capacity(self.recent.len() + 1);
        if self.recent.len() <= self.settings.average_readings as usize {
            if let Some(on) = self.meter.installed_on {
                points.push(Point {
                    on,
                    values: initial_of(&self.meter),
                });
            }
        }
        points.extend(self.recent.iter().map(|r| Point {
            on: r.taken_on,
            values: values_of(r),
        }));
        points
    }
}

/// A checked reading, ready to be written.
struct Prepared {
    model: reading::Model,
    view: ReadingView,
    announced: Vec<NewEvent>,
}

/// Who writes, as the reading records it.
struct Writer {
    source: ReadingSource,
    staff: bool,
}

impl Readings {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, events: Events) -> Self {
        Self {
            db,
            clock,
            events,
            queue: Arc::default(),
        }
    }

    pub fn events(&self) -> &Events {
        &self.events
    }

    async fn settings<C: ConnectionTrait>(
        &self,
        conn: &C,
        org: Uuid,
        house: Option<Uuid>,
    ) -> AppResult<Settings> {
        let ids: Vec<Uuid> = std::iter::once(org).chain(house).collect();
        let rows = reading_settings::Entity::find()
            .filter(reading_settings::Column::Id.is_in(ids))
            .filter(reading_settings::Column::OrganisationId.eq(org))
            .all(conn)
            .await?;
        let row = |r: &reading_settings::Model| {
            [
                r.window_from,
                r.window_to,
                r.flag_factor_pct,
                r.average_readings,
            ]
        };
        Ok(resolve_settings(
            rows.iter().find(|r| r.house_id.is_none()).map(row),
            rows.iter().find(|r| r.house_id.is_some()).map(row),
        ))
    }

    /// Where a meter is (its house's address, its premises' number, the
    /// organisation's time zone) and the reading rules of its house, in one
    /// round trip.
    async fn place<C: ConnectionTrait>(
        &self,
        conn: &C,
        m: &meter::Model,
    ) -> AppResult<(Place, Settings)> {
        let backend = conn.get_database_backend();
        let sql = format!("SELECT {PLACE_COLUMNS} FROM houses h {PLACE_JOINS} WHERE h.id = ?")
            .replace("m.premises_id", "?");
        let sql = if backend == sea_orm::DatabaseBackend::Postgres {
            crate::bulk::numbered(&sql)
        } else {
            sql
        };
        let r = conn
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                [m.premises_id.into(), m.house_id.into()],
            ))
            .await?
            .ok_or_else(|| AppError::not_found("house"))?;
        Ok(place_of(&r)?)
    }

    async fn state<C: ConnectionTrait>(
        &self,
        conn: &C,
        meter: meter::Model,
    ) -> AppResult<MeterState> {
        let (place, settings) = self.place(conn, &meter).await?;
        let mut recent = reading::Entity::find()
            .filter(reading::Column::MeterId.eq(meter.id))
            .filter(reading::Column::Status.eq(ReadingStatus::Accepted))
            .order_by_desc(reading::Column::TakenOn)
            .order_by_desc(reading::Column::CreatedAt)
            .order_by_desc(reading::Column::Id)
            .limit(settings.average_readings.max(1) as u64 + 1)
            .all(conn)
            .await?;
        recent.reverse();
        Ok(MeterState {
            meter,
            place,
            settings,
            recent,
        })
    }

    /// One meter locked, with where it is, its rules and its latest readings
    /// (see [`Self::locked_states`]).
    async fn locked_state<C: ConnectionTrait>(&self, conn: &C, id: Uuid) -> AppResult<MeterState> {
        self.locked_states(conn, &[id])
            .await?
            .remove(&id)
            .ok_or_else(|| AppError::not_found("meter"))
    }

    /// Meters locked until the transaction ends (a meter's readings are written
    /// one at a time), with where each is, its rules and its latest readings;
    /// a meter that does not exist (or may not be seen) is missing from the map.
    /// On PostgreSQL two round trips for any number of meters: the locks, taken
    /// in the order of the ids so that two writers never wait for each other,
    /// then the read, which must start after the locks are held to see what the
    /// writer before committed. SQLite's writer holds the whole database already
    /// and reads meter by meter.
    async fn locked_states<C: ConnectionTrait>(
        &self,
        conn: &C,
        ids: &[Uuid],
    ) -> AppResult<HashMap<Uuid, MeterState>> {
        let backend = conn.get_database_backend();
        let mut out = HashMap::with_capacity(ids.len());
        if backend != sea_orm::DatabaseBackend::Postgres {
            for id in ids {
                if out.contains_key(id) {
                    continue;
                }
                match self.locked_meter(conn, *id).await {
                    Ok(meter) => {
                        out.insert(*id, self.state(conn, meter).await?);
                    }
                    Err(AppError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(out);
        }
        let mut sorted = ids.to_vec();
        sorted.sort();
        sorted.dedup();
        let ids_value = || sea_orm::Value::from(sorted.clone());
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            "SELECT id FROM meters WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            [ids_value()],
        ))
        .await?;
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| {
            let columns = |table: &str, prefix: &str, names: Vec<&'static str>| {
                names
                    .into_iter()
                    .map(|c| format!("{table}.{c} AS {prefix}{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            use sea_orm::{IdenStatic, Iterable};
            format!(
                "SELECT {meter}, {PLACE_COLUMNS}, {reading} FROM meters m JOIN houses h ON h.id = m.house_id {PLACE_JOINS} \
                 LEFT JOIN LATERAL (SELECT * FROM readings WHERE meter_id = m.id AND status = $2 \
                 ORDER BY taken_on DESC, created_at DESC, id DESC \
                 LIMIT GREATEST(COALESCE(hs.average_readings, os.average_readings, {default}), 1) + 1) r ON true \
                 WHERE m.id = ANY($1) ORDER BY m.id, r.taken_on DESC, r.created_at DESC, r.id DESC",
                meter = columns("m", "m_", meter::Column::iter().map(|c| c.as_str()).collect()),
                reading = columns("r", "r_", reading::Column::iter().map(|c| c.as_str()).collect()),
                default = DEFAULT_AVERAGE_READINGS,
            )
        });
        let rows = conn
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                sql.as_str(),
                [
                    ids_value(),
                    sea_orm::ActiveEnum::to_value(&ReadingStatus::Accepted).into(),
                ],
            ))
            .await?;
        use sea_orm::FromQueryResult;
        for r in &rows {
            let id: Uuid = r.try_get("", "m_id")?;
            let state = match out.entry(id) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let (place, settings) = place_of(r)?;
                    v.insert(MeterState {
                        meter: meter::Model::from_query_result(r, "m_")?,
                        place,
                        settings,
                        recent: Vec::new(),
                    })
                }
            };
            if state.recent.len() <= state.settings.average_readings.max(1) as usize
                && r.try_get::<Option<Uuid>>("", "r_id")?.is_some()
            {
                state
                    .recent
                    .push(reading::Model::from_query_result(r, "r_")?);
            }
        }
        for state in out.values_mut() {
            state.recent.reverse();
        }
        Ok(out)
    }

    /// The meter, locked until the transaction ends: its readings are written one at a time.
    async fn locked_meter<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: Uuid,
    ) -> AppResult<meter::Model> {
        let backend = conn.get_database_backend();
        let sql = match backend {
            sea_orm::DatabaseBackend::Postgres => {
                "UPDATE meters SET updated_at = updated_at WHERE id = $1 RETURNING *"
            }
            _ => "UPDATE meters SET updated_at = updated_at WHERE id = ? RETURNING *",
        };
        meter::Entity::find()
            .from_raw_sql(sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                [id.into()],
            ))
            .one(conn)
            .await?
            .ok_or_else(|| AppError::not_found("meter"))
    }

    /// A reading from the resident app or a staff member; the caller's role
    /// decides which. Submissions that arrive while others are being written
    /// are written together (group commit): each is checked on its own and
    /// gets its own audit entry, event and answer, and a refused one does not
    /// touch the others; they share one transaction and its round trips. A
    /// group the database refuses as a whole is written again one by one.
    pub async fn submit(&self, by: &Author, s: Submission) -> AppResult<ReadingView> {
        let queue = self.queue.get_or_init(|| self.start_queue());
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            scope: crate::tenancy::current(),
            by: by.clone(),
            s,
            reply,
        };
        if let Err(refused) = queue.send(job) {
            // The writers are gone (the runtime is shutting down): write here.
            let job = refused.0;
            return self.submit_alone(&job.by, job.s).await;
        }
        answer
            .await
            .map_err(|_| AppError::Internal("the reading writer stopped".into()))?
    }

    /// Starts the writer: one group in flight, and what arrives while it
    /// commits forms the next group (a second writer would only split the
    /// queue into smaller groups waiting for the same organisation's locks).
    fn start_queue(&self) -> tokio::sync::mpsc::UnboundedSender<Job> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
        // The writer holds a copy without the queue, so that it ends when the
        // last handle on this service is dropped.
        let writer = Readings {
            db: self.db.clone(),
            clock: self.clock.clone(),
            events: self.events.clone(),
            queue: Arc::default(),
        };
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < GROUP_LIMIT {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                // One group per database scope (the callers' organisations).
                let mut groups: Vec<(Arc<str>, Vec<Job>)> = Vec::new();
                for j in jobs {
                    match groups.iter_mut().find(|g| g.0 == j.scope) {
                        Some(g) => g.1.push(j),
                        None => groups.push((j.scope.clone(), vec![j])),
                    }
                }
                for (scope, group) in groups {
                    crate::tenancy::scoped(scope, writer.commit_group(group)).await;
                }
            }
        });
        tx
    }

    async fn commit_group(&self, mut jobs: Vec<Job>) {
        // A caller that gave up (its request timed out) while waiting is told
        // nothing was written, so nothing is.
        jobs.retain(|j| !j.reply.is_closed());
        if jobs.len() == 1 {
            if let Some(j) = jobs.pop() {
                let r = self.submit_alone(&j.by, j.s).await;
                let _ = j.reply.send(r);
            }
            return;
        }
        let submissions: Vec<(Author, Submission)> =
            jobs.iter().map(|j| (j.by.clone(), j.s.clone())).collect();
        match self.submit_group(submissions).await {
            Ok(results) => {
                for (j, r) in jobs.into_iter().zip(results) {
                    let _ = j.reply.send(r);
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "a group of readings was refused; writing them one by one");
                for j in jobs {
                    let r = self.submit_alone(&j.by, j.s).await;
                    let _ = j.reply.send(r);
                }
            }
        }
    }

    /// Who writes a reading and as what source.
    fn writer_for(
        by: &Author,
        meter: &meter::Model,
        source: Option<ReadingSource>,
    ) -> AppResult<Writer> {
        let staff = by.principal.is_staff_of(meter.organisation_id);
        let source = match (staff, source) {
            (true, None | Some(ReadingSource::Staff)) => ReadingSource::Staff,
            (true, Some(ReadingSource::Automatic)) => ReadingSource::Automatic,
            (false, None | Some(ReadingSource::Resident)) => ReadingSource::Resident,
            (true, Some(_)) => {
                return Err(AppError::validation(
                    "source",
                    "invalid_source",
                    "STAFF or AUTOMATIC (an import marks its own readings)",
                ))
            }
            (false, Some(_)) => {
                return Err(AppError::validation(
                    "source",
                    "staff_only",
                    "only staff name the source",
                ))
            }
        };
        Ok(Writer { source, staff })
    }

    /// One submission in a transaction of its own.
    async fn submit_alone(&self, by: &Author, s: Submission) -> AppResult<ReadingView> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let mut state = self.locked_state(&txn, s.meter_id).await?;
        by.check(crate::registry::access::meter(&state.meter))?;
        let writer = Self::writer_for(by, &state.meter, s.source)?;
        let (view, events) = self.write(&txn, by, &mut state, &writer, s, None).await?;
        txn.commit().await?;
        self.events.committed(events);
        Ok(view)
    }

    /// Submissions in one transaction: each checked against its meter as the
    /// ones before it in the group left it. The outer error is the database's
    /// (nothing was written); the inner ones are each submission's own.
    async fn submit_group(
        &self,
        group: Vec<(Author, Submission)>,
    ) -> AppResult<Vec<AppResult<ReadingView>>> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let ids: Vec<Uuid> = group.iter().map(|(_, s)| s.meter_id).collect();
        let mut states = self.locked_states(&txn, &ids).await?;
        let now = self.clock.now();
        let mut results: Vec<Option<AppResult<ReadingView>>> = Vec::with_capacity(group.len());
        // Accepted submissions by organisation, in order.
        let mut accepted: Vec<(Uuid, Vec<(usize, Prepared)>)> = Vec::new();
        for (k, (by, s)) in group.iter().enumerate() {
            let prepared = (|| {
                let state = states
                    .get_mut(&s.meter_id)
                    .ok_or_else(|| AppError::not_found("meter"))?;
                by.check(crate::registry::access::meter(&state.meter))?;
                let writer = Self::writer_for(by, &state.meter, s.source)?;
                let p = self.prepare(by, state, &writer, s.clone(), None, now)?;
                state.accept(p.model.clone());
                Ok::<_, AppError>(p)
            })();
            match prepared {
                Ok(p) => {
                    results.push(None);
                    let org = p.model.organisation_id;
                    match accepted.iter_mut().find(|(o, _)| *o == org) {
                        Some((_, list)) => list.push((k, p)),
                        None => accepted.push((org, vec![(k, p)])),
                    }
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let mut committed = Vec::new();
        for (org, list) in accepted {
            let models: Vec<reading::Model> = list.iter().map(|(_, p)| p.model.clone()).collect();
            let entries = list
                .iter()
                .map(|(k, p)| crate::audit::Entry {
                    by: &group[*k].0,
                    object_type: "reading",
                    object_id: Some(p.model.id),
                    changes: diff(None, Some(&p.model)),
                })
                .collect();
            let announced: Vec<NewEvent> = list
                .iter()
                .flat_map(|(_, p)| p.announced.iter().cloned())
                .collect();
            let events = crate::audit::record_many(
                &txn,
                org,
                entries,
                now,
                Some(insert_readings(&models)),
                announced,
            )
            .await?;
            committed.extend(events);
            for (k, p) in list {
                results[k] = Some(Ok(p.view));
            }
        }
        txn.commit().await?;
        self.events.committed(committed);
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(AppError::Internal("a reading was left out".into()))))
            .collect())
    }

    /// Checks and writes one reading in `conn`'s transaction.
    async fn write<C: ConnectionTrait>(
        &self,
        conn: &C,
        by: &Author,
        state: &mut MeterState,
        writer: &Writer,
        s: Submission,
        corrects: Option<&reading::Model>,
    ) -> AppResult<(ReadingView, Vec<Event>)> {
        let now = self.clock.now();
        let p = self.prepare(by, state, writer, s, corrects, now)?;
        let events = record_with(
            conn,
            by,
            p.model.organisation_id,
            "reading",
            Some(p.model.id),
            diff(None, Some(&p.model)),
            now,
            Some(insert_readings(std::slice::from_ref(&p.model))),
            p.announced,
        )
        .await?;
        state.accept(p.model);
        Ok((p.view, events))
    }

    /// Checks one reading against its meter's state and builds what is to be
    /// written, without writing.
    fn prepare(
        &self,
        by: &Author,
        state: &MeterState,
        writer: &Writer,
        s: Submission,
        corrects: Option<&reading::Model>,
        now: DateTime<Utc>,
    ) -> AppResult<Prepared> {
        let today = today_in(&state.place.time_zone, now);
        let meter = &state.meter;
        let zones = meter.zones.clamp(1, 3) as usize;
        if !writer.staff {
            if meter.status != MeterStatus::Active {
                return Err(AppError::validation(
                    "meterId",
                    "meter_not_active",
                    "this meter is archived or out of order; ask the management office",
                ));
            }
            if meter.verification_due.is_some_and(|d| d < today) {
                return Err(AppError::validation(
                    "meterId",
                    "verification_overdue",
                    "this meter's verification is overdue; its readings are taken by the management office",
                ));
            }
            if let (Some(from), Some(to)) = (state.settings.window_from, state.settings.window_to) {
                use chrono::Datelike;
                if !rules::in_window(
                    today.day(),
                    rules::days_in_month(today),
                    from as u32,
                    to as u32,
                ) {
                    return Err(AppError::validation(
                        "takenOn",
                        "outside_window",
                        format!("readings are accepted from day {from} to day {to} of the month"),
                    ));
                }
            }
            if s.taken_on.is_some_and(|d| d != today) {
                return Err(AppError::validation(
                    "takenOn",
                    "resident_date",
                    "a resident submits today's reading",
                ));
            }
        }
        let taken_on = s.taken_on.unwrap_or(today);
        if taken_on > today {
            return Err(AppError::validation(
                "takenOn",
                "in_future",
                "a reading cannot be dated in the future",
            ));
        }
        if s.values.len() != zones {
            return Err(AppError::validation(
                "values",
                "values_per_zone",
                format!(
                    "one value per zone: {} expected, {} given",
                    zones,
                    s.values.len()
                ),
            ));
        }
        let mut values = [0_i64; 3];
        for (i, v) in s.values.iter().enumerate() {
            values[i] = non_negative_micro(&zone_field(i), *v)?;
            if rules::capacity(meter.digits).is_some_and(|cap| values[i] >= cap) {
                return Err(AppError::validation(
                    zone_field(i),
                    "above_capacity",
                    format!(
                        "this meter shows at most {} digits",
                        meter.digits.unwrap_or(0)
                    ),
                ));
            }
        }
        let reason = match s.reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => {
                if r.chars().count() > 500 {
                    return Err(AppError::validation(
                        "reason",
                        "too_long",
                        "at most 500 characters",
                    ));
                }
                Some(r.to_string())
            }
            _ => None,
        };
        if reason.is_some() && !writer.staff {
            return Err(AppError::validation(
                "reason",
                "staff_only",
                "only staff give a reason",
            ));
        }
        if corrects.is_some() && reason.is_none() {
            return Err(AppError::validation(
                "reason",
                "required",
                "say why the reading is corrected",
            ));
        }
        let previous = state.previous();
        if taken_on < previous.on && corrects.is_none() {
            return Err(AppError::validation(
                "takenOn",
                "before_last_reading",
                format!(
                    "the meter already has a reading of {previous}; correct that one instead",
                    previous = previous.on
                ),
            ));
        }
        let mut rollover = false;
        for (z, value) in values.iter().enumerate().take(zones) {
            match rules::step(previous.values[z], *value, meter.digits) {
                Step::Forward(_) => {}
                Step::Rollover(_) => rollover = true,
                Step::Below if writer.staff && reason.is_some() => {}
                Step::Below => {
                    return Err(AppError::validation(
                        zone_field(z),
                        "below_previous",
                        format!(
                            "lower than the previous reading ({}); a staff member can enter it with a reason",
                            from_micro(previous.values[z]).normalize()
                        ),
                    ));
                }
            }
        }
        let new = Point {
            on: taken_on,
            values,
        };
        let flagged = rules::far_above(
            &state.history(),
            new,
            zones,
            meter.digits,
            i64::from(state.settings.flag_factor_pct),
        );
        let name = if by.principal.system {
            by.principal.email.clone()
        } else {
            by.principal.display_name.clone()
        };
        let model = reading::Model {
            id: Uuid::now_v7(),
            organisation_id: meter.organisation_id,
            house_id: meter.house_id,
            premises_id: meter.premises_id,
            meter_id: meter.id,
            taken_on,
            value1_micro: values[0],
            value2_micro: (zones > 1).then_some(values[1]),
            value3_micro: (zones > 2).then_some(values[2]),
            source: writer.source,
            author_id: (!by.principal.system).then_some(by.principal.user_id),
            author_name: name,
            status: ReadingStatus::Accepted,
            flagged,
            flag_reason: flagged.then(|| {
                format!(
                    "consumption above {}% of this meter's average",
                    state.settings.flag_factor_pct
                )
            }),
            rollover,
            corrects: corrects.map(|c| c.id),
            reason,
            reviewed_by: None,
            reviewed_at: None,
            created_at: now.trunc_subsecs(6),
        };
        let view = view(&model, meter, &state.place, Some(previous.values));
        let payload = serde_json::to_value(&view).map_err(|e| AppError::Internal(e.to_string()))?;
        let announce = |topic| NewEvent {
            organisation_id: meter.organisation_id,
            topic,
            house_id: Some(meter.house_id),
            premises_id: meter.premises_id,
            account_id: None,
            object_id: Some(meter.id),
            payload: payload.clone(),
        };
        let mut announced = vec![announce(topics::READING_SUBMITTED)];
        if flagged {
            announced.push(announce(topics::READING_FLAGGED));
        }
        Ok(Prepared {
            model,
            view,
            announced,
        })
    }

    /// A staff correction: a new reading in place of `id`, with a reason; the
    /// corrected one is kept, marked superseded.
    pub async fn correct(
        &self,
        by: &Author,
        id: Uuid,
        values: Vec<Decimal>,
        reason: Option<String>,
    ) -> AppResult<ReadingView> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let old = reading::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::not_found("reading"))?;
        let meter = self.locked_meter(&txn, old.meter_id).await?;
        by.check(crate::registry::access::meter(&meter))?;
        let old = reading::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::not_found("reading"))?;
        if old.status != ReadingStatus::Accepted {
            return Err(AppError::conflict(
                "id",
                "already_corrected",
                "this reading was corrected already; correct the newer one",
            ));
        }
        let mut superseded: reading::ActiveModel = old.clone().into();
        superseded.status = Set(ReadingStatus::Superseded);
        let superseded = superseded.update(&txn).await?;
        let now = self.clock.now();
        record(
            &txn,
            by,
            meter.organisation_id,
            "reading",
            Some(old.id),
            diff(Some(&old), Some(&superseded)),
            now,
        )
        .await?;
        // The correction stands where the old reading stood: compare with the one before it.
        let mut state = self.state(&txn, meter).await?;
        state
            .recent
            .retain(|r| (r.taken_on, r.created_at, r.id) < (old.taken_on, old.created_at, old.id));
        let writer = Writer {
            source: ReadingSource::Staff,
            staff: true,
        };
        let submission = Submission {
            source: None,
            meter_id: old.meter_id,
            taken_on: Some(old.taken_on),
            values,
            reason,
        };
        let (view, events) = self
            .write(&txn, by, &mut state, &writer, submission, Some(&old))
            .await?;
        txn.commit().await?;
        self.events.committed(events);
        Ok(view)
    }

    /// Marks a reading as looked at by staff: a flagged one leaves the review list.
    pub async fn review(&self, by: &Author, id: Uuid) -> AppResult<ReadingView> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let old = reading::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::not_found("reading"))?;
        let meter = self.locked_meter(&txn, old.meter_id).await?;
        by.check(crate::registry::access::meter(&meter))?;
        let now = self.clock.now();
        let mut am: reading::ActiveModel = old.clone().into();
        am.reviewed_by = Set((!by.principal.system).then_some(by.principal.user_id));
        am.reviewed_at = Set(Some(now));
        let model = am.update(&txn).await?;
        record(
            &txn,
            by,
            meter.organisation_id,
            "reading",
            Some(id),
            diff(Some(&old), Some(&model)),
            now,
        )
        .await?;
        let (place, _) = self.place(&txn, &meter).await?;
        txn.commit().await?;
        Ok(view(&model, &meter, &place, None))
    }

    /// The rules in force for `house` (or the organisation's own when None).
    pub async fn settings_for(&self, org: Uuid, house: Option<Uuid>) -> AppResult<Settings> {
        self.settings(&self.db, org, house).await
    }

    pub async fn set_settings(
        &self,
        by: &Author,
        org: Uuid,
        house: Option<Uuid>,
        patch: SettingsPatch,
    ) -> AppResult<Settings> {
        let txn = crate::tx::begin_write(&self.db).await?;
        match house {
            Some(h) => {
                let model = house::Entity::find_by_id(h)
                    .one(&txn)
                    .await?
                    .filter(|m| m.organisation_id == org)
                    .ok_or_else(|| AppError::not_found("house"))?;
                by.check(crate::registry::access::house(&model))?;
            }
            None => by.check(Target::WholeOrganisation(org))?,
        }
        if let Some(Some((from, to))) = patch.window {
            for (field, d) in [("windowFrom", from), ("windowTo", to)] {
                if !(1..=31).contains(&d) {
                    return Err(AppError::validation(
                        field,
                        "out_of_range",
                        "a day of the month, 1 to 31",
                    ));
                }
            }
        }
        if let Some(Some(f)) = patch.flag_factor_pct {
            if !(110..=10_000).contains(&f) {
                return Err(AppError::validation(
                    "flagFactor",
                    "out_of_range",
                    "between 1.1 and 100 times the average",
                ));
            }
        }
        if let Some(Some(n)) = patch.average_readings {
            if !(1..=MAX_AVERAGE_READINGS).contains(&n) {
                return Err(AppError::validation(
                    "averageReadings",
                    "out_of_range",
                    "1 to 24 readings",
                ));
            }
        }
        let id = house.unwrap_or(org);
        let now = self.clock.now();
        let current = reading_settings::Entity::find_by_id(id).one(&txn).await?;
        let mut am: reading_settings::ActiveModel = match &current {
            Some(c) => c.clone().into(),
            None => reading_settings::ActiveModel {
                id: Set(id),
                organisation_id: Set(org),
                house_id: Set(house),
                window_from: Set(None),
                window_to: Set(None),
                flag_factor_pct: Set(None),
                average_readings: Set(None),
                updated_at: Set(now),
            },
        };
        if let Some(w) = patch.window {
            am.window_from = Set(w.map(|w| w.0));
            am.window_to = Set(w.map(|w| w.1));
        }
        if let Some(f) = patch.flag_factor_pct {
            am.flag_factor_pct = Set(f);
        }
        if let Some(n) = patch.average_readings {
            am.average_readings = Set(n);
        }
        am.updated_at = Set(now);
        let model = match current {
            Some(_) => am.update(&txn).await?,
            None => am.insert(&txn).await?,
        };
        record(
            &txn,
            by,
            org,
            "reading_settings",
            Some(id),
            diff(current.as_ref(), Some(&model)),
            now,
        )
        .await?;
        let settings = self.settings(&txn, org, house).await?;
        txn.commit().await?;
        Ok(settings)
    }

    /// Readings of an organisation, newest first (flagged ones waiting for a review first when asked).
    pub async fn list(
        &self,
        org: Uuid,
        f: ReadingFilter,
        page: Page,
    ) -> AppResult<(Vec<ReadingView>, u64)> {
        let mut q = reading::Entity::find().filter(reading::Column::OrganisationId.eq(org));
        if let Some(h) = f.house_id {
            q = q.filter(reading::Column::HouseId.eq(h));
        }
        if let Some(m) = f.meter_id {
            q = q.filter(reading::Column::MeterId.eq(m));
        }
        if let Some(p) = f.premises_id {
            q = q.filter(reading::Column::PremisesId.eq(p));
        }
        if let Some(a) = f.account_id {
            let premises: Option<Uuid> = entities::account::Entity::find_by_id(a)
                .filter(entities::account::Column::OrganisationId.eq(org))
                .select_only()
                .column(entities::account::Column::PremisesId)
                .into_tuple()
                .one(&self.db)
                .await?;
            let premises = premises.ok_or_else(|| AppError::not_found("account"))?;
            q = q.filter(reading::Column::PremisesId.eq(premises));
        }
        if f.to_review {
            q = q
                .filter(reading::Column::Flagged.eq(true))
                .filter(reading::Column::ReviewedAt.is_null());
        }
        if let Some(h) = f.restrict.houses {
            q = q.filter(reading::Column::HouseId.is_in(h));
        }
        if let Some(p) = f.restrict.premises {
            q = q.filter(reading::Column::PremisesId.is_in(p));
        }
        let total = q.clone().count(&self.db).await?;
        let rows = q
            .order_by_desc(reading::Column::CreatedAt)
            .order_by_desc(reading::Column::Id)
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.db)
            .await?;
        Ok((self.views(rows).await?, total))
    }

    /// Views of readings from several meters, with consumption against each one's previous reading.
    async fn views(&self, rows: Vec<reading::Model>) -> AppResult<Vec<ReadingView>> {
        use std::collections::HashMap;
        if rows.is_empty() {
            return Ok(vec![]);
        }
        // A page of readings costs four queries whatever its length: their
        // meters, the houses and premises of those, the organisation's time
        // zone, and the accepted reading before each one.
        let meter_ids: Vec<Uuid> = rows.iter().map(|r| r.meter_id).collect();
        let meters: HashMap<Uuid, meter::Model> = meter::Entity::find()
            .filter(meter::Column::Id.is_in(meter_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let houses: HashMap<Uuid, String> = house::Entity::find()
            .filter(house::Column::Id.is_in(meters.values().map(|m| m.house_id)))
            .select_only()
            .columns([house::Column::Id, house::Column::Address])
            .into_tuple::<(Uuid, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let premises: HashMap<Uuid, String> = entities::premises::Entity::find()
            .filter(
                entities::premises::Column::Id.is_in(meters.values().filter_map(|m| m.premises_id)),
            )
            .select_only()
            .columns([
                entities::premises::Column::Id,
                entities::premises::Column::Number,
            ])
            .into_tuple::<(Uuid, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let time_zone = entities::organisation::Entity::find_by_id(rows[0].organisation_id)
            .select_only()
            .column(entities::organisation::Column::TimeZone)
            .into_tuple::<String>()
            .one(&self.db)
            .await?
            .unwrap_or_else(|| "UTC".into());
        let previous = self.previous_values(&rows).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(m) = meters.get(&r.meter_id) else {
                continue;
            };
            let place = Place {
                address: houses.get(&m.house_id).cloned().unwrap_or_default(),
                premises_number: m.premises_id.and_then(|p| premises.get(&p).cloned()),
                time_zone: time_zone.clone(),
            };
            let before = previous
                .get(&r.id)
                .copied()
                .unwrap_or_else(|| initial_of(m));
            out.push(view(&r, m, &place, Some(before)));
        }
        Ok(out)
    }

    /// For each reading, the values of the accepted reading of its meter just
    /// before it (none: the meter's initial values), in one query.
    async fn previous_values(
        &self,
        rows: &[reading::Model],
    ) -> AppResult<std::collections::HashMap<Uuid, [i64; 3]>> {
        let backend = self.db.get_database_backend();
        let before = |column: &str| {
            format!(
                "(SELECT p.{column} FROM readings p WHERE p.meter_id = r.meter_id AND p.status = 'accepted' \
                 AND p.id <> r.id AND (p.taken_on < r.taken_on OR (p.taken_on = r.taken_on AND (p.created_at < r.created_at \
                 OR (p.created_at = r.created_at AND p.id < r.id)))) \
                 ORDER BY p.taken_on DESC, p.created_at DESC, p.id DESC LIMIT 1) AS {column}"
            )
        };
        let marks = vec!["?"; rows.len()].join(", ");
        let sql = format!(
            "SELECT r.id, {}, {}, {} FROM readings r WHERE r.id IN ({marks})",
            before("value1_micro"),
            before("value2_micro"),
            before("value3_micro"),
        );
        let sql = if backend == sea_orm::DatabaseBackend::Postgres {
            crate::bulk::numbered(&sql)
        } else {
            sql
        };
        let found = self
            .db
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                rows.iter().map(|r| sea_orm::Value::from(r.id)),
            ))
            .await?;
        let mut out = std::collections::HashMap::with_capacity(found.len());
        for f in found {
            let Some(v1) = f.try_get::<Option<i64>>("", "value1_micro")? else {
                continue;
            };
            out.insert(
                f.try_get::<Uuid>("", "id")?,
                [
                    v1,
                    f.try_get::<Option<i64>>("", "value2_micro")?.unwrap_or(0),
                    f.try_get::<Option<i64>>("", "value3_micro")?.unwrap_or(0),
                ],
            );
        }
        Ok(out)
    }

    /// A meter's readings in `[from, to]` (oldest first), each with its
    /// consumption, and the consumption per month.
    pub async fn history(
        &self,
        meter: meter::Model,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> AppResult<History> {
        let (place, _) = self.place(&self.db, &meter).await?;
        let mut q = reading::Entity::find()
            .filter(reading::Column::MeterId.eq(meter.id))
            .filter(reading::Column::Status.eq(ReadingStatus::Accepted));
        if let Some(to) = to {
            q = q.filter(reading::Column::TakenOn.lte(to));
        }
        let rows = q
            .order_by_asc(reading::Column::TakenOn)
            .order_by_asc(reading::Column::CreatedAt)
            .order_by_asc(reading::Column::Id)
            .all(&self.db)
            .await?;
        let zones = meter.zones.clamp(1, 3) as usize;
        let mut previous = initial_of(&meter);
        let mut readings = Vec::new();
        let mut periods: Vec<PeriodConsumption> = Vec::new();
        for r in &rows {
            let v = view(r, &meter, &place, Some(previous));
            previous = values_of(r);
            if from.is_some_and(|f| r.taken_on < f) {
                continue;
            }
            let period = rules::period_of(r.taken_on);
            let used = v.consumption.clone().unwrap_or_else(|| vec![0; zones]);
            match periods.last_mut() {
                Some(p) if p.period == period => {
                    for (a, b) in p.consumption.iter_mut().zip(&used) {
                        *a += b;
                    }
                }
                _ => periods.push(PeriodConsumption {
                    period,
                    consumption: used,
                }),
            }
            readings.push(v);
        }
        Ok(History {
            meter,
            readings,
            periods,
        })
    }

    /// Superseded readings too, for the audit of a meter (newest first).
    pub async fn meter(&self, id: Uuid) -> AppResult<meter::Model> {
        meter::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("meter"))
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Writes many readings in one transaction (the import); see `import`.
    pub(crate) async fn write_many<C: ConnectionTrait>(
        &self,
        conn: &C,
        by: &Author,
        rows: Vec<(u64, Submission)>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> AppResult<(Vec<ReadingView>, Vec<Event>, Vec<crate::error::RowError>)> {
        let writer = Writer {
            source: ReadingSource::Import,
            staff: true,
        };
        let mut states: std::collections::HashMap<Uuid, MeterState> =
            std::collections::HashMap::new();
        let mut views = Vec::new();
        let mut events = Vec::new();
        let mut errors = Vec::new();
        for (n, (line, s)) in rows.into_iter().enumerate() {
            if let std::collections::hash_map::Entry::Vacant(slot) = states.entry(s.meter_id) {
                slot.insert(self.locked_state(conn, s.meter_id).await?);
            }
            let Some(state) = states.get_mut(&s.meter_id) else {
                continue;
            };
            match self.write(conn, by, state, &writer, s, None).await {
                Ok((v, e)) => {
                    views.push(v);
                    events.extend(e);
                }
                Err(AppError::Validation {
                    field,
                    reason,
                    message,
                }) => errors.push(crate::error::RowError {
                    line,
                    column: super::import::column_of(&field),
                    reason,
                    message,
                }),
                Err(other) => return Err(other),
            }
            progress(n as u64 + 1);
        }
        Ok((views, events, errors))
    }
}
