//! Live readings. Each event is checked against the subscriber's rights before
//! it is sent: staff see their organisation (their houses, when limited),
//! residents their own meters. The rights are read again when they changed on
//! this instance or after `PRINCIPAL_TTL`, so a right taken away stops the
//! stream's events at once here and within seconds elsewhere; one granted
//! during a subscription applies when the client subscribes again.

use std::sync::Arc;

use async_graphql::{Context, Result, Subscription, ID};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use uuid::Uuid;

use super::service::ReadingView;
use super::types::ReadingEvent;
use crate::auth::{principal, Principal, Target};
use crate::error::AppError;
use crate::events::{follow, topics, Event, Events, FeedSlot, FollowError, RenderOne};
use crate::pagination::{opt_uuid, uuid};

#[derive(Default)]
pub struct ReadingsSubscription;

fn follow_error(e: FollowError) -> AppError {
    match e {
        FollowError::Expired { after, oldest } => AppError::validation(
            "after",
            "events_expired",
            format!("events after {after} are no longer kept (the oldest is {oldest}); reload and follow from now"),
        ),
        FollowError::Ahead { after, head } => AppError::validation(
            "after",
            "unknown_event",
            format!("there is no event {after}; the latest is {head}"),
        ),
        FollowError::Db(e) => e.into(),
    }
}

fn allowed(p: &Principal, op: &str, house: Option<Uuid>, e: &Event) -> bool {
    let Some(event_house) = e.house_id else {
        return false;
    };
    if house.is_some_and(|h| h != event_house) {
        return false;
    }
    p.check(
        op,
        Target::Meter {
            org: e.organisation_id,
            house: event_house,
            premises: e.premises_id,
        },
    )
    .is_ok()
}

async fn stream(
    ctx: &Context<'_>,
    op: &'static str,
    topic: &'static str,
    organisation_id: ID,
    house_id: Option<ID>,
    after: Option<i64>,
) -> Result<BoxStream<'static, ReadingEvent>> {
    // Rendering one event of a feed (see `events::feed`): just that event.
    if let Some(one) = ctx.data_opt::<RenderOne>() {
        return Ok(futures_util::stream::iter(item(&one.0)).boxed());
    }
    let p = principal(ctx)?;
    let org = uuid("organisationId", &organisation_id)?;
    let house = opt_uuid("houseId", house_id.as_ref())?;
    p.scope(op, org)?;
    if let Some(h) = house {
        let registry = ctx.data::<crate::registry::Registry>()?;
        let model = registry.house(h).await?;
        if model.organisation_id != org {
            return Err(AppError::not_found("house").into());
        }
        p.check(op, crate::registry::access::house(&model))?;
    }
    let events = ctx.data::<Events>()?;
    let follow = follow(events, org, after).await.map_err(follow_error)?;
    let auth = ctx.data::<Arc<crate::auth::Auth>>()?.clone();
    let watch = Watch::new(auth);
    let events = futures_util::stream::unfold(
        (follow, p, watch),
        move |(mut follow, mut p, mut watch): (crate::events::Follow, Arc<Principal>, Watch)| async move {
            loop {
                match follow.next().await {
                    Ok(e) => {
                        if e.topic != topic || !allowed(&p, op, house, &e) {
                            continue;
                        }
                        // Before sending, the rights as they are now: one taken
                        // away since the subscription began stops it at once.
                        p = watch.current(p).await?;
                        if !allowed(&p, op, house, &e) {
                            continue;
                        }
                        return Some((e, (follow, p, watch)));
                    }
                    // The outbox cannot be read now: the cursor stays; try again shortly.
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the outbox for a subscription failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            }
        },
    )
    .boxed();
    // Served as a feed: the websocket layer renders each event once per document.
    if let Some(slot) = ctx.data_opt::<Arc<FeedSlot>>() {
        slot.install(events);
        return Ok(futures_util::stream::empty().boxed());
    }
    Ok(events.filter_map(|e| std::future::ready(item(&e))).boxed())
}

/// An event as `ReadingEvent`; none when its payload is not a reading.
fn item(e: &Event) -> Option<ReadingEvent> {
    Some(ReadingEvent {
        event_id: e.seq,
        committed_at: e.created_at,
        reading: e.decode::<ReadingView>()?,
    })
}

/// When a subscription looks at its subscriber's rights again: when they
/// changed on this instance, or after the time a request would trust them.
pub(crate) struct Watch {
    pub(crate) auth: Arc<crate::auth::Auth>,
    generation: u64,
    checked: std::time::Instant,
}

impl Watch {
    pub(crate) fn new(auth: Arc<crate::auth::Auth>) -> Watch {
        Watch {
            generation: auth.access_generation(),
            auth,
            checked: std::time::Instant::now(),
        }
    }

    /// The subscriber's rights as they are now, when they may have changed:
    /// `None` when the user is gone or disabled.
    pub(crate) async fn current(&mut self, p: Arc<Principal>) -> Option<Arc<Principal>> {
        if p.system || !self.stale() {
            return Some(p);
        }
        match crate::tenancy::as_system(self.auth.current_principal(p.user_id)).await {
            Ok(Some(now)) => Some(now),
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(error = %err, "a subscriber's rights could not be read again");
                self.retry();
                Some(p)
            }
        }
    }

    /// Asks again at the next event.
    pub(crate) fn retry(&mut self) {
        self.generation = self.generation.wrapping_sub(1);
    }

    pub(crate) fn stale(&mut self) -> bool {
        let generation = self.auth.access_generation();
        if generation != self.generation
            || self.checked.elapsed() >= crate::auth::service::PRINCIPAL_TTL
        {
            self.generation = generation;
            self.checked = std::time::Instant::now();
            return true;
        }
        false
    }
}

#[Subscription]
impl ReadingsSubscription {
    /// Every reading as it is written: staff of the organisation (their houses,
    /// when limited; one house with `houseId`), residents their own meters.
    /// `after`: the last `eventId` seen; what came since is sent first.
    async fn reading_submitted(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        house_id: Option<ID>,
        after: Option<i64>,
    ) -> Result<BoxStream<'static, ReadingEvent>> {
        stream(
            ctx,
            "Subscription.readingSubmitted",
            topics::READING_SUBMITTED,
            organisation_id,
            house_id,
            after,
        )
        .await
    }

    /// Readings flagged for review (consumption far above the meter's average).
    async fn reading_flagged(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        house_id: Option<ID>,
        after: Option<i64>,
    ) -> Result<BoxStream<'static, ReadingEvent>> {
        stream(
            ctx,
            "Subscription.readingFlagged",
            topics::READING_FLAGGED,
            organisation_id,
            house_id,
            after,
        )
        .await
    }
}
