//! Live readings. Each event is checked against the subscriber's rights before
//! it is sent: staff see their organisation (their houses, when limited),
//! residents their own meters. The rights are read again when they changed on
//! this instance or after `PRINCIPAL_TTL`, so a right taken away stops the
//! stream's events at once here and within seconds elsewhere; one granted
//! during a subscription applies when the client subscribes again.

use std::sync::Arc;

use async_graphql::{Context, Result, Subscription, ID};
use futures_util::stream::BoxStream;
use uuid::Uuid;

use super::service::ReadingView;
use super::types::ReadingEvent;
use crate::auth::{principal, Principal, Target};
use crate::error::AppError;
use crate::events::{topics, Event};
use crate::pagination::{opt_uuid, uuid};

#[derive(Default)]
pub struct ReadingsSubscription;

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
    // Rendering one event of a feed (see `events::feed`): no checks, no reads.
    if ctx.data_opt::<crate::events::RenderOne>().is_some() {
        return crate::events::subscribe(ctx, placeholder(op, topic), item).await;
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
    crate::events::subscribe(
        ctx,
        crate::events::Feed {
            operation: op,
            topic,
            organisation: org,
            after,
            visible: Arc::new(move |p: &Principal, e: &Event| allowed(p, op, house, e)),
        },
        item,
    )
    .await
}

/// A feed that is never followed: rendering one event needs none.
fn placeholder(operation: &'static str, topic: &'static str) -> crate::events::Feed {
    crate::events::Feed {
        operation,
        topic,
        organisation: Uuid::nil(),
        after: None,
        visible: Arc::new(|_, _| false),
    }
}

/// An event as `ReadingEvent`; none when its payload is not a reading.
fn item(e: &Event) -> Option<ReadingEvent> {
    Some(ReadingEvent {
        event_id: e.seq,
        committed_at: e.created_at,
        reading: e.decode::<ReadingView>()?,
    })
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
