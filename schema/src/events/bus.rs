//! The bus between instances and the hub inside each one.
//!
//! `Bus::Local` is the in-process default: published events go straight to this
//! instance's hub. `Bus::Redis` publishes each batch as one JSON message on a
//! channel every instance listens to ([`Hub::listen_redis`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use sea_orm::DatabaseConnection;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use super::Event;

/// Events kept for subscribers that fall behind before they re-read the outbox.
const LIVE_CAPACITY: usize = 4096;
/// At most this many missed events are read from the outbox in one go.
const FILL_LIMIT: u64 = 1000;

#[derive(Clone)]
pub enum Bus {
    Local(Arc<Hub>),
    Redis {
        conn: redis::aio::ConnectionManager,
        channel: String,
    },
}

impl Bus {
    /// Hands committed events to every instance.
    pub async fn publish(&self, events: Vec<Arc<Event>>) -> Result<(), String> {
        match self {
            Bus::Local(hub) => {
                hub.offer(events);
                Ok(())
            }
            Bus::Redis { conn, channel } => {
                let body = serde_json::to_string(&events.iter().map(|e| &**e).collect::<Vec<_>>())
                    .map_err(|e| e.to_string())?;
                let mut conn = conn.clone();
                redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(body)
                    .query_async::<i64>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Bus::Local(_))
    }
}

/// One per instance: puts each organisation's events in order, fills gaps from
/// the outbox and passes them to this instance's subscribers.
pub struct Hub {
    live: broadcast::Sender<Arc<Event>>,
    inbox: mpsc::UnboundedSender<Vec<Arc<Event>>>,
    following: Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts a subscriber as following while it lives.
pub struct Following(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Following {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Hub {
    /// Starts the hub's task; it reads the outbox every `poll` as well.
    pub fn start(db: DatabaseConnection, poll: Duration) -> Arc<Hub> {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        let (inbox, rx) = mpsc::unbounded_channel();
        let hub = Arc::new(Hub {
            live: live.clone(),
            inbox,
            following: Arc::default(),
        });
        tokio::spawn(crate::tenancy::as_system(sequence(db, live, rx, poll)));
        hub
    }

    /// Events from the bus or from a commit on this instance, in any order, repeats allowed.
    pub fn offer(&self, events: Vec<Arc<Event>>) {
        let _ = self.inbox.send(events);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.live.subscribe()
    }

    /// How many subscribers follow events on this instance (each once it has
    /// read where it starts).
    pub fn subscribers(&self) -> usize {
        self.following.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn following(&self) -> Following {
        self.following
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Following(self.following.clone())
    }

    /// Listens on the Redis channel for as long as the process lives,
    /// reconnecting after a failure; the outbox poll covers the time between.
    pub fn listen_redis(self: &Arc<Self>, client: redis::Client, channel: String) {
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(100);
            loop {
                match client.get_async_pubsub().await {
                    Ok(mut pubsub) => {
                        if let Err(e) = pubsub.subscribe(&channel).await {
                            tracing::warn!(error = %e, "subscribing to the event channel failed");
                        } else {
                            pause = Duration::from_millis(100);
                            let mut messages = pubsub.on_message();
                            while let Some(msg) = messages.next().await {
                                let Some(hub) = hub.upgrade() else { return };
                                let Ok(body) = msg.get_payload::<String>() else {
                                    continue;
                                };
                                match serde_json::from_str::<Vec<Event>>(&body) {
                                    Ok(events) => {
                                        hub.offer(events.into_iter().map(Arc::new).collect())
                                    }
                                    Err(e) => {
                                        tracing::warn!(error = %e, "an unreadable event message")
                                    }
                                }
                            }
                            tracing::warn!("the event channel closed; reconnecting");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot reach Redis for events"),
                }
                if hub.strong_count() == 0 {
                    return;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        });
    }
}

async fn sequence(
    db: DatabaseConnection,
    live: broadcast::Sender<Arc<Event>>,
    mut inbox: mpsc::UnboundedReceiver<Vec<Arc<Event>>>,
    poll: Duration,
) {
    // Where each organisation stood when this hub started; one without a head
    // yet has had no event, so it starts from the beginning.
    let mut cursors: HashMap<Uuid, i64> = HashMap::new();
    let mut known = false;
    for attempt in 0..5 {
        match super::heads(&db).await {
            Ok(heads) => {
                cursors.extend(heads);
                known = true;
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "reading the event heads failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    let start = |seq: i64| if known { 0 } else { seq - 1 };
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            batch = inbox.recv() => {
                let Some(mut batch) = batch else { return };
                while let Ok(more) = inbox.try_recv() {
                    batch.extend(more);
                }
                batch.sort_by_key(|e| (e.organisation_id, e.seq));
                for event in batch {
                    let cursor = *cursors.entry(event.organisation_id).or_insert(start(event.seq));
                    if event.seq <= cursor {
                        continue;
                    }
                    if event.seq > cursor + 1 {
                        // Missed on the way: the outbox has them, committed before this one.
                        let new = catch_up(&db, &live, event.organisation_id, cursor, Some(event.seq)).await;
                        cursors.insert(event.organisation_id, new);
                        if new + 1 != event.seq {
                            continue; // the outbox did not answer; the next poll retries
                        }
                    }
                    cursors.insert(event.organisation_id, event.seq);
                    let _ = live.send(event);
                }
            }
            _ = tick.tick() => {
                match super::heads(&db).await {
                    Ok(heads) => {
                        for (org, head) in heads {
                            let cursor = *cursors.entry(org).or_insert(start(head + 1));
                            if head > cursor {
                                let new = catch_up(&db, &live, org, cursor, None).await;
                                cursors.insert(org, new);
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "reading the event heads failed"),
                }
            }
        }
    }
}

/// Sends the organisation's events after `cursor` (and before `before`) from
/// the outbox; returns the new cursor.
async fn catch_up(
    db: &DatabaseConnection,
    live: &broadcast::Sender<Arc<Event>>,
    org: Uuid,
    mut cursor: i64,
    before: Option<i64>,
) -> i64 {
    loop {
        match super::read_after(db, org, cursor, before, FILL_LIMIT).await {
            Ok(events) => {
                let full = events.len() as u64 == FILL_LIMIT;
                for e in events {
                    if e.seq != cursor + 1 {
                        // Pruned before anyone here read it: nothing to wait for.
                        tracing::debug!(org = %org, from = cursor + 1, to = e.seq - 1, "events no longer in the outbox");
                    }
                    cursor = e.seq;
                    let _ = live.send(Arc::new(e));
                }
                if !full {
                    return cursor;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading missed events failed");
                return cursor;
            }
        }
    }
}
