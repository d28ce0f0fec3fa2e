//! The relay: takes committed events from the outbox to the bus, marking each
//! published in the transaction that claims it, every `poll`. (An instance
//! also publishes its own events the moment they commit; the relay's round is
//! what makes sure, whatever happened to that publication or to the instance.) A publish that fails rolls the
//! claim back and is tried again; one that succeeds twice (a crash between the
//! publish and the commit) reaches the hubs twice and they drop the repeat.
//! Several instances may relay at once: on PostgreSQL each claims other rows
//! (`SKIP LOCKED`).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use tokio::sync::Notify;

use super::{Bus, Event, COLUMNS};
use crate::clock::Clock;

const BATCH: usize = 500;

pub struct Relay {
    db: DatabaseConnection,
    bus: Bus,
    clock: Arc<dyn Clock>,
    wake: Notify,
}

impl Relay {
    pub fn new(db: DatabaseConnection, bus: Bus, clock: Arc<dyn Clock>) -> Arc<Relay> {
        Arc::new(Relay {
            db,
            bus,
            clock,
            wake: Notify::new(),
        })
    }

    /// Events that just committed on this instance: this instance's hub has
    /// them already; other instances get them from Redis at once, without
    /// waiting for a claim. The relay's next round publishes them again, marked,
    /// and the hubs drop the repeat.
    pub fn committed(&self, events: &[Arc<Event>]) {
        if self.bus.is_local() || events.is_empty() {
            return;
        }
        let (bus, events) = (self.bus.clone(), events.to_vec());
        tokio::spawn(async move {
            if let Err(e) = bus.publish(events).await {
                tracing::debug!(error = %e, "publishing at once failed; the relay will");
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
                        Ok(n) if n == BATCH => continue,
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

    /// Claims up to a batch of unpublished events, publishes them and commits
    /// the claim; returns how many.
    pub async fn publish_once(&self) -> Result<usize, String> {
        let backend = self.db.get_database_backend();
        let txn = crate::tx::begin_write(&self.db)
            .await
            .map_err(|e| e.to_string())?;
        if backend == DatabaseBackend::Postgres {
            // The mark only saves a second publication: losing it in a crash
            // costs a repeat the hubs drop, so its commit need not wait for the disk.
            txn.execute_unprepared("SET LOCAL synchronous_commit TO OFF")
                .await
                .map_err(|e| e.to_string())?;
        }
        let pick = match backend {
            DatabaseBackend::Postgres => "FOR UPDATE SKIP LOCKED",
            _ => "",
        };
        let claim = super::sql(
            backend,
            &format!(
                "UPDATE events SET published_at = ? WHERE (organisation_id, seq) IN \
                 (SELECT organisation_id, seq FROM events WHERE published_at IS NULL \
                  ORDER BY organisation_id, seq LIMIT {BATCH} {pick}) RETURNING {COLUMNS}"
            ),
        );
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                claim,
                [self.clock.now().into()],
            ))
            .await
            .map_err(|e| e.to_string())?;
        let mut events = rows
            .iter()
            .map(Event::from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        if events.is_empty() {
            return Ok(0);
        }
        events.sort_by_key(|e| (e.organisation_id, e.seq));
        let n = events.len();
        self.bus
            .publish(events.into_iter().map(Arc::new).collect())
            .await?;
        txn.commit().await.map_err(|e| e.to_string())?;
        Ok(n)
    }
}
