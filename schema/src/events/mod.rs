//! Live events: the transactional outbox, the relay that hands committed events
//! to the bus, the per-instance hub and the streams subscriptions read.
//!
//! Invariants:
//! - An event is written in the transaction of its change ([`emit`]): no event
//!   for a change that rolled back, always one for a change that committed.
//! - Each organisation numbers its events 1, 2, 3, … without gaps and in commit
//!   order: the counter row of `event_heads` stays locked until the writing
//!   transaction ends, and a rolled-back number is handed out again.
//! - Every instance's [`Hub`] hands its subscribers each organisation's events
//!   in order without gaps or repeats, whatever the bus does: it drops what it
//!   has already passed on and reads what it missed from the outbox, and it looks
//!   at the outbox on its own every `poll` (so a stopped relay or bus delays
//!   events by at most that, and loses none).
//! - A subscriber reads from its own cursor ([`follow`]): what it missed since
//!   `after` from the outbox, then live; it never sees an event twice.

mod bus;
mod feed;
mod relay;
mod stream;
mod subscribe;

use std::any::Any;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub use bus::{Bus, Hub};
pub use feed::{FeedSlot, RenderOne, Rendering};
pub use relay::Relay;
pub use stream::{follow, Follow, FollowError};
pub use subscribe::{follow_error, subscribe, visible_events, Feed, Visible};

/// An event as the bus and the subscribers see it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Event {
    pub organisation_id: Uuid,
    pub seq: i64,
    pub topic: String,
    pub house_id: Option<Uuid>,
    pub premises_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub object_id: Option<Uuid>,
    pub payload: Value,
    /// When the change was written (just before its commit).
    pub created_at: DateTime<Utc>,
    /// The payload decoded once per instance, shared by every subscriber.
    #[serde(skip)]
    decoded: OnceLock<Arc<dyn Any + Send + Sync>>,
    /// Its renderings by subscription document (see `feed`).
    #[serde(skip)]
    rendered: std::sync::Mutex<Vec<(Arc<str>, Rendering)>>,
}

impl Event {
    /// The payload as `T`, decoded on first use and kept for the next subscriber.
    pub fn decode<T: for<'de> Deserialize<'de> + Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let any =
            self.decoded
                .get_or_init(|| match serde_json::from_value::<T>(self.payload.clone()) {
                    Ok(v) => Arc::new(v) as Arc<dyn Any + Send + Sync>,
                    Err(_) => Arc::new(()) as Arc<dyn Any + Send + Sync>,
                });
        any.clone().downcast::<T>().ok()
    }

    /// The event `new` became once written with number `seq`.
    pub(crate) fn written(new: NewEvent, seq: i64, at: DateTime<Utc>) -> Event {
        Event {
            organisation_id: new.organisation_id,
            seq,
            topic: new.topic.to_string(),
            house_id: new.house_id,
            premises_id: new.premises_id,
            account_id: new.account_id,
            object_id: new.object_id,
            payload: new.payload,
            created_at: at,
            decoded: OnceLock::new(),
            rendered: Default::default(),
        }
    }

    fn from_row(row: &sea_orm::QueryResult) -> Result<Event, DbErr> {
        let payload: String = row.try_get("", "payload")?;
        Ok(Event {
            organisation_id: row.try_get("", "organisation_id")?,
            seq: row.try_get("", "seq")?,
            topic: row.try_get("", "topic")?,
            house_id: row.try_get("", "house_id")?,
            premises_id: row.try_get("", "premises_id")?,
            account_id: row.try_get("", "account_id")?,
            object_id: row.try_get("", "object_id")?,
            payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
            created_at: row.try_get("", "created_at")?,
            decoded: OnceLock::new(),
            rendered: Default::default(),
        })
    }
}

/// What a change announces: its topic, where it happened and what it carries.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub organisation_id: Uuid,
    pub topic: &'static str,
    pub house_id: Option<Uuid>,
    pub premises_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub object_id: Option<Uuid>,
    pub payload: Value,
}

pub mod topics {
    pub const READING_SUBMITTED: &str = "reading.submitted";
    pub const READING_FLAGGED: &str = "reading.flagged";
    pub const PAYMENT_CONFIRMED: &str = "payment.confirmed";
}

fn sql(backend: DatabaseBackend, text: &str) -> String {
    if backend == DatabaseBackend::Postgres {
        crate::bulk::numbered(text)
    } else {
        text.to_string()
    }
}

const NEXT_SEQ: &str = "INSERT INTO event_heads (organisation_id, seq) VALUES (?, 1) \
     ON CONFLICT (organisation_id) DO UPDATE SET seq = event_heads.seq + 1 RETURNING seq";
const INSERT: &str = "INSERT INTO events (organisation_id, seq, topic, house_id, premises_id, account_id, object_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
/// PostgreSQL numbers and writes the event in one round trip, inside the lock.
const INSERT_POSTGRES: &str = "WITH h AS (INSERT INTO event_heads (organisation_id, seq) VALUES ($1, 1) \
     ON CONFLICT (organisation_id) DO UPDATE SET seq = event_heads.seq + 1 RETURNING seq) \
     INSERT INTO events (organisation_id, seq, topic, house_id, premises_id, account_id, object_id, payload, created_at) \
     SELECT $1, h.seq, $2, $3, $4, $5, $6, $7, $8 FROM h RETURNING seq";

/// Writes `new` into the outbox inside the caller's transaction and returns the
/// event as subscribers will see it once the transaction commits. Call it last
/// in the transaction: the organisation's counter stays locked until the end.
pub async fn emit<C: ConnectionTrait>(
    conn: &C,
    new: NewEvent,
    at: DateTime<Utc>,
) -> Result<Event, DbErr> {
    let backend = conn.get_database_backend();
    let at = at.trunc_subsecs(6);
    let payload = new.payload.to_string();
    let seq: i64 = if backend == DatabaseBackend::Postgres {
        let row = conn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                INSERT_POSTGRES,
                [
                    new.organisation_id.into(),
                    new.topic.into(),
                    new.house_id.into(),
                    new.premises_id.into(),
                    new.account_id.into(),
                    new.object_id.into(),
                    payload.into(),
                    at.into(),
                ],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("event head".into()))?;
        row.try_get("", "seq")?
    } else {
        let row = conn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                NEXT_SEQ,
                [new.organisation_id.into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("event head".into()))?;
        let seq: i64 = row.try_get("", "seq")?;
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            INSERT,
            [
                new.organisation_id.into(),
                seq.into(),
                new.topic.into(),
                new.house_id.into(),
                new.premises_id.into(),
                new.account_id.into(),
                new.object_id.into(),
                payload.into(),
                at.into(),
            ],
        ))
        .await?;
        seq
    };
    Ok(Event::written(new, seq, at))
}

/// Reserves `n` numbers at once: the counter row stays locked until the
/// transaction ends, like [`emit`]'s.
const RESERVE: &str = "INSERT INTO event_heads (organisation_id, seq) VALUES (?, ?) \
     ON CONFLICT (organisation_id) DO UPDATE SET seq = event_heads.seq + excluded.seq RETURNING seq";

const EVENTS: crate::bulk::Table = crate::bulk::Table {
    name: "events",
    columns: &[
        ("organisation_id", crate::bulk::Col::Uuid),
        ("seq", crate::bulk::Col::BigInt),
        ("topic", crate::bulk::Col::Text),
        ("house_id", crate::bulk::Col::Uuid),
        ("premises_id", crate::bulk::Col::Uuid),
        ("account_id", crate::bulk::Col::Uuid),
        ("object_id", crate::bulk::Col::Uuid),
        ("payload", crate::bulk::Col::Text),
        ("created_at", crate::bulk::Col::Timestamp),
    ],
};

/// [`emit`] for many events of one organisation in a bulk transaction (an
/// import): their numbers are reserved in one statement, near the end of the
/// transaction, and the rows written in chunks.
pub async fn emit_bulk(
    tx: &mut crate::bulk::BulkTx,
    org: Uuid,
    news: Vec<NewEvent>,
    at: DateTime<Utc>,
) -> Result<Vec<Event>, DbErr> {
    use crate::bulk::Cell;
    if news.is_empty() {
        return Ok(Vec::new());
    }
    let at = at.trunc_subsecs(6);
    let n = news.len() as i64;
    let last: Vec<(i64,)> = tx
        .fetch_all(RESERVE, vec![Cell::Uuid(Some(org)), Cell::BigInt(Some(n))])
        .await?;
    let last = last
        .first()
        .map(|r| r.0)
        .ok_or_else(|| DbErr::RecordNotFound("event head".into()))?;
    let first = last - n + 1;
    let mut out = Vec::with_capacity(news.len());
    let mut rows = Vec::with_capacity(news.len().min(10_000));
    for (i, new) in news.into_iter().enumerate() {
        let seq = first + i as i64;
        rows.push(vec![
            Cell::Uuid(Some(org)),
            Cell::BigInt(Some(seq)),
            Cell::Text(new.topic.to_string()),
            Cell::Uuid(new.house_id),
            Cell::Uuid(new.premises_id),
            Cell::Uuid(new.account_id),
            Cell::Uuid(new.object_id),
            Cell::Text(new.payload.to_string()),
            Cell::Timestamp(at),
        ]);
        out.push(Event::written(new, seq, at));
        if rows.len() == 10_000 {
            tx.insert(&EVENTS, std::mem::take(&mut rows)).await?;
        }
    }
    tx.insert(&EVENTS, rows).await?;
    Ok(out)
}

const COLUMNS: &str =
    "organisation_id, seq, topic, house_id, premises_id, account_id, object_id, payload, created_at";

/// Events of `org` after `after`, at most `limit`, oldest first.
pub async fn read_after<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
    after: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<Event>, DbErr> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql(
                backend,
                &format!(
                    "SELECT {COLUMNS} FROM events WHERE organisation_id = ? AND seq > ? AND seq < ? \
                     ORDER BY seq LIMIT {limit}"
                ),
            ),
            [
                org.into(),
                after.into(),
                before.unwrap_or(i64::MAX).into(),
            ],
        ))
        .await?;
    rows.iter().map(Event::from_row).collect()
}

/// The number of the organisation's latest committed event (0 before the first).
pub async fn head<C: ConnectionTrait>(conn: &C, org: Uuid) -> Result<i64, DbErr> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql(
                backend,
                "SELECT seq FROM event_heads WHERE organisation_id = ?",
            ),
            [org.into()],
        ))
        .await?;
    match row {
        Some(r) => r.try_get("", "seq"),
        None => Ok(0),
    }
}

/// Every organisation's latest event number.
pub(crate) async fn heads<C: ConnectionTrait>(conn: &C) -> Result<Vec<(Uuid, i64)>, DbErr> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT organisation_id, seq FROM event_heads",
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "organisation_id")?, r.try_get("", "seq")?)))
        .collect()
}

/// Removes published events written before `cutoff`; returns how many.
pub async fn prune<C: ConnectionTrait>(conn: &C, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    let backend = conn.get_database_backend();
    let done = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql(
                backend,
                "DELETE FROM events WHERE created_at < ? AND seq <= \
                 (SELECT r.published FROM event_relay r WHERE r.organisation_id = events.organisation_id)",
            ),
            [cutoff.into()],
        ))
        .await?;
    Ok(done.rows_affected())
}

/// The event side of the application: what services hand their committed
/// events to, and what subscriptions follow.
#[derive(Clone)]
pub struct Events {
    pub db: sea_orm::DatabaseConnection,
    pub hub: Arc<Hub>,
    pub relay: Arc<Relay>,
}

impl Events {
    /// Events that have just committed: this instance's subscribers get them
    /// at once, the relay takes them to the other instances.
    pub fn committed(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let events: Vec<Arc<Event>> = events.into_iter().map(Arc::new).collect();
        self.relay.committed(&events);
        self.hub.offer(events);
    }
}
