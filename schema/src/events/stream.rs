//! One subscriber's view of an organisation's events: what it missed since its
//! cursor from the outbox, then live from the hub, each event once and in order.

use std::collections::VecDeque;
use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::{Event, Events};

const PAGE: u64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// `after` names events the outbox no longer keeps.
    #[error("events after {after} are no longer kept; the oldest kept is {oldest}")]
    Expired { after: i64, oldest: i64 },
    /// `after` is beyond the latest event.
    #[error("there is no event {after} yet; the latest is {head}")]
    Ahead { after: i64, head: i64 },
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub struct Follow {
    db: DatabaseConnection,
    rx: broadcast::Receiver<Arc<Event>>,
    org: Uuid,
    cursor: i64,
    pending: VecDeque<Arc<Event>>,
    /// The outbox has more than `pending` holds: read on before going live.
    behind: bool,
    _counted: super::bus::Following,
}

/// Starts following `org` after event `after`, or from now.
pub async fn follow(events: &Events, org: Uuid, after: Option<i64>) -> Result<Follow, FollowError> {
    // Listen first, then read: nothing committed in between is missed.
    let rx = events.hub.subscribe();
    let head = super::head(&events.db, org).await?;
    let mut follow = Follow {
        db: events.db.clone(),
        rx,
        org,
        cursor: head,
        pending: VecDeque::new(),
        behind: false,
        _counted: events.hub.following(),
    };
    if let Some(after) = after {
        if after > head || after < 0 {
            return Err(FollowError::Ahead { after, head });
        }
        follow.cursor = after;
        if after < head {
            let first = super::read_after(&follow.db, org, after, None, PAGE).await?;
            match first.first() {
                Some(e) if e.seq == after + 1 => {}
                other => {
                    return Err(FollowError::Expired {
                        after,
                        oldest: other.map_or(head, |e| e.seq),
                    })
                }
            }
            follow.behind = first.len() as u64 == PAGE;
            follow.pending = first.into_iter().map(Arc::new).collect();
        }
    }
    Ok(follow)
}

impl Follow {
    /// The organisation's next event.
    pub async fn next(&mut self) -> Result<Arc<Event>, DbErr> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                if e.seq <= self.cursor {
                    continue;
                }
                self.cursor = e.seq;
                return Ok(e);
            }
            if self.behind {
                self.read_on().await?;
                continue;
            }
            match self.rx.recv().await {
                Ok(e) if e.organisation_id != self.org || e.seq <= self.cursor => {}
                Ok(e) if e.seq == self.cursor + 1 => {
                    self.cursor = e.seq;
                    return Ok(e);
                }
                // A gap (the hub started later than this cursor) or a subscriber
                // too slow for the hub's buffer: the outbox has what is missing.
                Ok(_) | Err(RecvError::Lagged(_)) => self.behind = true,
                Err(RecvError::Closed) => {
                    return Err(DbErr::Custom("the event hub stopped".into()));
                }
            }
        }
    }

    pub fn cursor(&self) -> i64 {
        self.cursor
    }

    async fn read_on(&mut self) -> Result<(), DbErr> {
        let page = super::read_after(&self.db, self.org, self.cursor, None, PAGE).await?;
        self.behind = page.len() as u64 == PAGE;
        self.pending.extend(page.into_iter().map(Arc::new));
        Ok(())
    }
}
