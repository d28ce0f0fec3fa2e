//! The relay: takes committed events from the outbox to the bus, every `poll`.
//!
//! Events are numbered without gaps in commit order, so what has been handed to
//! the bus is one number per organisation, `event_relay.published`; a round
//! publishes what lies between it and the organisation's head and moves it on,
//! one write per organisation however many events. An instance publishes its
//! own events the moment they commit and remembers that it did: the round moves
//! the cursor over those without sending them again. What an instance could not
//! publish (Redis was down, it crashed after the commit) or what another process
//! wrote is published by whichever relay's round comes first. A publish that
//! fails rolls the round back and is tried again; one that succeeds twice (a
//! crash between the publish and the commit) reaches the hubs twice and they
//! drop the repeat. Several instances may relay at once: on PostgreSQL each
//! takes other organisations (`SKIP LOCKED`).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use tokio::sync::Notify;
use uuid::Uuid;

use super::{Bus, Event};
use crate::clock::Clock;

/// At most this many events of one organisation per round.
const BATCH: i64 = 500;
/// At most this many organisations per round.
const ORGS: u64 = 100;
/// Past this many remembered events (a relay that cannot write its cursor),
/// the memory is dropped: the round then publishes those events again.
const SENT_LIMIT: usize = 100_000;

pub struct Relay {
    db: DatabaseConnection,
    bus: Bus,
    clock: Arc<dyn Clock>,
    wake: Notify,
    /// Events this instance published when they committed, by organisation.
    sent: Arc<Mutex<HashMap<Uuid, BTreeSet<i64>>>>,
}

fn remember(sent: &Mutex<HashMap<Uuid, BTreeSet<i64>>>, events: &[Arc<Event>]) {
    let mut sent = sent.lock().unwrap_or_else(|e| e.into_inner());
    if sent.values().map(BTreeSet::len).sum::<usize>() > SENT_LIMIT {
        sent.clear();
    }
    for e in events {
        sent.entry(e.organisation_id).or_default().insert(e.seq);
    }
}

impl Relay {
    pub fn new(db: DatabaseConnection, bus: Bus, clock: Arc<dyn Clock>) -> Arc<Relay> {
        Arc::new(Relay {
            db,
            bus,
            clock,
            wake: Notify::new(),
            sent: Arc::default(),
        })
    }

    /// Events that just committed on this instance, which its hub has already:
    /// other instances get them from Redis at once, without waiting for a round.
    pub fn committed(&self, events: &[Arc<Event>]) {
        if events.is_empty() {
            return;
        }
        if self.bus.is_local() {
            // The hub is the bus.
            remember(&self.sent, events);
            return;
        }
        let (bus, events, sent) = (self.bus.clone(), events.to_vec(), self.sent.clone());
        tokio::spawn(async move {
            match bus.publish(events.clone()).await {
                Ok(()) => remember(&sent, &events),
                Err(e) => tracing::debug!(error = %e, "publishing at once failed; the relay will"),
            }
        });
    }

    /// Asks for a round now (e.g. after a long import).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Relays until the process ends: at once when woken, else every `poll`.
    pub fn start(self: &Arc<Self>, poll: Duration) {
        let relay = Arc::downgrade(self);
        tokio::spawn(crate::tenancy::as_system(async move {
            let mut pause = Duration::ZERO;
            loop {
                let Some(r) = relay.upgrade() else { return };
                let wait = if pause.is_zero() { poll } else { pause };
                let _ = tokio::time::timeout(wait, r.wake.notified()).await;
                loop {
                    match r.publish_once().await {
                        Ok(more) if more => continue,
                        Ok(_) => {
                            pause = Duration::ZERO;
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "relaying events failed; retrying");
                            pause = (pause * 2)
                                .clamp(Duration::from_millis(200), Duration::from_secs(5));
                            break;
                        }
                    }
                }
            }
        }));
    }

    /// One round: publishes what each organisation's cursor has not passed yet
    /// (up to a batch each) and moves the cursors; whether more is waiting.
    pub async fn publish_once(&self) -> Result<bool, String> {
        self.round().await.map_err(|e| e.to_string())
    }

    async fn round(&self) -> Result<bool, DbErr> {
        let backend = self.db.get_database_backend();
        let sql = |text: &str| super::sql(backend, text);
        // An organisation's first event gives it a cursor.
        self.db
            .execute_raw(Statement::from_string(
                backend,
                "INSERT INTO event_relay (organisation_id, published) \
                 SELECT h.organisation_id, 0 FROM event_heads h WHERE NOT EXISTS \
                 (SELECT 1 FROM event_relay r WHERE r.organisation_id = h.organisation_id) \
                 ON CONFLICT DO NOTHING",
            ))
            .await?;
        let txn = crate::tx::begin_write(&self.db).await?;
        if backend == DatabaseBackend::Postgres {
            // A lost cursor move only costs a repeat the hubs drop, so its
            // commit need not wait for the disk.
            txn.execute_unprepared("SET LOCAL synchronous_commit TO OFF")
                .await?;
        }
        let pick = match backend {
            DatabaseBackend::Postgres => "FOR UPDATE OF r SKIP LOCKED",
            _ => "",
        };
        let behind = txn
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT r.organisation_id, r.published, h.seq AS head FROM event_relay r \
                     JOIN event_heads h ON h.organisation_id = r.organisation_id \
                     WHERE h.seq > r.published ORDER BY r.organisation_id LIMIT {ORGS} {pick}"
                ),
            ))
            .await?;
        let mut more = behind.len() as u64 == ORGS;
        let now = self.clock.now();
        let mut moved = Vec::with_capacity(behind.len());
        for row in &behind {
            let org: Uuid = row.try_get("", "organisation_id")?;
            let published: i64 = row.try_get("", "published")?;
            let head: i64 = row.try_get("", "head")?;
            let upto = head.min(published + BATCH);
            more |= upto < head;
            let done = {
                let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
                sent.get(&org)
                    .map_or(0, |s| s.range(published + 1..=upto).count()) as i64
            };
            if done < upto - published {
                let events =
                    super::read_after(&txn, org, published, Some(upto + 1), BATCH as u64).await?;
                let unsent: Vec<Arc<Event>> = {
                    let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
                    let mine = sent.get(&org);
                    events
                        .into_iter()
                        .filter(|e| !mine.is_some_and(|s| s.contains(&e.seq)))
                        .map(Arc::new)
                        .collect()
                };
                if !unsent.is_empty() {
                    self.bus.publish(unsent).await.map_err(DbErr::Custom)?;
                }
            }
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                sql("UPDATE event_relay SET published = ?, published_at = ? WHERE organisation_id = ?"),
                [upto.into(), now.into(), org.into()],
            ))
            .await?;
            moved.push((org, upto));
        }
        txn.commit().await?;
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        for (org, upto) in moved {
            if let Some(s) = sent.get_mut(&org) {
                *s = s.split_off(&(upto + 1));
                if s.is_empty() {
                    sent.remove(&org);
                }
            }
        }
        Ok(more)
    }
}
