//! The one subscription pipeline every live feed uses.
//!
//! A feed names its operation (as in the access matrix), its topic, the
//! organisation, where to resume (`after`) and its visibility rule (from its
//! context's policy). The pipeline checks the subscriber may follow the
//! organisation at all, follows its events from the outbox and the hub, keeps
//! an event only when the rule lets the subscriber see it with their rights as
//! they are now (re-read by [`crate::auth::Watch`] when they changed or grew
//! old; a user who is gone ends the stream), and maps every refusal the same
//! way. Feeds whose items depend on the event alone are rendered once per
//! event and document for all subscribers ([`super::FeedSlot`]).

use std::sync::Arc;

use async_graphql::Context;
use futures_util::stream::{self, BoxStream, StreamExt};
use uuid::Uuid;

use super::{follow, Event, Events, FeedSlot, FollowError, RenderOne};
use crate::auth::{Principal, Watch};
use crate::error::AppError;

/// Whether a subscriber, with the rights they have now, may see an event.
pub type Visible = Arc<dyn Fn(&Principal, &Event) -> bool + Send + Sync>;

/// What a subscription follows.
pub struct Feed {
    /// The operation as the access matrix names it (`Subscription.…`).
    pub operation: &'static str,
    pub topic: &'static str,
    pub organisation: Uuid,
    /// The last event the client saw; what came since is sent first.
    pub after: Option<i64>,
    pub visible: Visible,
}

/// The one mapping of a feed that cannot start.
pub fn follow_error(e: FollowError) -> AppError {
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

/// The events of `feed` the subscriber may see, each with the subscriber's
/// rights as they stood when it was let through.
pub async fn visible_events(
    ctx: &Context<'_>,
    feed: Feed,
) -> async_graphql::Result<BoxStream<'static, (Arc<Principal>, Arc<Event>)>> {
    let p = crate::auth::principal(ctx)?;
    p.scope(feed.operation, feed.organisation)?;
    let follow = follow(ctx.data::<Events>()?, feed.organisation, feed.after)
        .await
        .map_err(follow_error)?;
    let watch = Watch::new(ctx.data::<Arc<crate::auth::Auth>>()?.clone());
    let Feed {
        operation,
        topic,
        visible,
        ..
    } = feed;
    Ok(stream::unfold(
        (follow, p, watch),
        move |(mut follow, mut p, mut watch)| {
            let visible = visible.clone();
            async move {
                loop {
                    match follow.next().await {
                        Ok(e) if e.topic == topic => {
                            if !visible(&p, &e) {
                                continue;
                            }
                            // The rights as they are now: one taken away since
                            // the subscription began stops its events at once.
                            p = watch.current(p).await?;
                            if !visible(&p, &e) {
                                continue;
                            }
                            return Some(((p.clone(), e), (follow, p, watch)));
                        }
                        Ok(_) => {}
                        // The outbox cannot be read now: the cursor stays; try again shortly.
                        Err(err) => {
                            tracing::warn!(error = %err, operation, "reading the outbox for a subscription failed; retrying");
                            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                        }
                    }
                }
            }
        },
    )
    .boxed())
}

/// A feed whose items depend on the event alone: served through the
/// websocket's [`FeedSlot`] when there is one (rendered once per event and
/// document), else as a stream of items.
pub async fn subscribe<T: Send + 'static>(
    ctx: &Context<'_>,
    feed: Feed,
    item: fn(&Event) -> Option<T>,
) -> async_graphql::Result<BoxStream<'static, T>> {
    // Rendering one event of a feed: just that event.
    if let Some(one) = ctx.data_opt::<RenderOne>() {
        return Ok(stream::iter(item(&one.0)).boxed());
    }
    let events = visible_events(ctx, feed)
        .await?
        .filter_map(move |(_, e)| std::future::ready(item(&e).is_some().then_some(e)))
        .boxed();
    if let Some(slot) = ctx.data_opt::<Arc<FeedSlot>>() {
        slot.install(events);
        return Ok(stream::empty().boxed());
    }
    Ok(events
        .filter_map(move |e| std::future::ready(item(&e)))
        .boxed())
}
