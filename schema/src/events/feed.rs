//! Feeds: a subscription served from its events, each rendered once per
//! distinct document rather than once per subscriber.
//!
//! The websocket layer puts a [`FeedSlot`] in a subscription's request. The
//! subscription's resolver checks the subscriber's rights as always, then
//! installs the stream of the events this subscriber may see in the slot and
//! returns no items of its own; the websocket layer then sends each event as
//! the document renders it, asking GraphQL for that rendering only once per
//! event and document (the request again, with [`RenderOne`]). What an event
//! renders to must therefore not depend on who asks: the rights decide which
//! events a subscriber gets, never what an event shows.

use std::sync::{Arc, Mutex};

use futures_util::stream::BoxStream;

use super::Event;

/// Where a subscription's resolver leaves its events for the websocket layer.
#[derive(Default)]
pub struct FeedSlot(Mutex<Option<BoxStream<'static, Arc<Event>>>>);

impl FeedSlot {
    pub fn install(&self, events: BoxStream<'static, Arc<Event>>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(events);
    }

    pub fn take(&self) -> Option<BoxStream<'static, Arc<Event>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// In a request that renders one event of a feed: the resolver yields just it.
pub struct RenderOne(pub Arc<Event>);

/// An event's renderings, by document.
pub type Rendering = Arc<tokio::sync::OnceCell<Arc<str>>>;

impl Event {
    /// The cell holding this event's rendering for `document` (the operation,
    /// its text and its variables); the first subscriber to need it fills it.
    pub fn rendering(&self, document: &Arc<str>) -> Rendering {
        let mut all = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, cell)) = all
            .iter()
            .find(|(d, _)| Arc::ptr_eq(d, document) || d == document)
        {
            return cell.clone();
        }
        let cell = Rendering::default();
        all.push((document.clone(), cell.clone()));
        cell
    }
}
