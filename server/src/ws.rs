//! `/graphql/ws`: the graphql-transport-ws protocol, with our own loop so that
//! every close code is the protocol's, and so that a socket is authenticated
//! and closed when its session ends.
//!
//! The caller proves who they are in `connection_init` (`{"token": …}` or
//! `{"Authorization": "Bearer …"}`) or with the session cookie of the upgrade
//! request. `subscribe` runs a subscription (a `next` per event until either
//! side completes it) or a query or mutation (one `next`, then `complete`); a
//! second `subscribe` with an id still running closes the socket with 4409. The session is checked again whenever one of
//! the user's sessions ends on this instance, and every `session_check`
//! otherwise (other instances, expiry); when it no longer holds, the socket
//! closes with 4403.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, abortable, AbortHandle, Abortable, SelectAll};
use futures_util::{SinkExt, Stream, StreamExt};
use schema::audit::RequestMeta;
use schema::auth::{Principal, RequestCtx};
use serde_json::{json, Value};

use crate::http::{client_address, error_response, session_token, AppState};

pub const PROTOCOL: &str = "graphql-transport-ws";

pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // A page on another site must not open a socket with the user's cookie.
    if !crate::security::origin_allowed(&state, &headers) {
        return error_response(
            StatusCode::FORBIDDEN,
            "ORIGIN_NOT_ALLOWED",
            "this origin may not open a websocket",
        );
    }
    let offered = headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL);
    if !offered {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "use the graphql-transport-ws subprotocol",
        );
    }
    let cookie = session_token(&headers);
    let meta = RequestMeta {
        request_id: uuid::Uuid::now_v7().to_string(),
        address: client_address(&state, &headers, Some(peer)),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect(),
    };
    // Small buffers: thousands of idle subscribers per instance.
    ws.protocols([PROTOCOL])
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(1024 * 1024)
        .on_upgrade(move |socket| serve(socket, state, cookie, meta))
        .into_response()
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_string().into(),
    }))
}

fn text(value: Value) -> Message {
    Message::Text(value.to_string().into())
}

/// The token a `connection_init` payload carries, if any.
fn init_token(payload: &Value) -> Option<String> {
    if let Some(t) = payload.get("token").and_then(Value::as_str) {
        return Some(t.to_string());
    }
    ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(Value::as_str))
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

async fn serve(mut socket: WebSocket, state: AppState, cookie: Option<String>, meta: RequestMeta) {
    let mut endings = state.auth.session_endings();
    // Before connection_init: only that message, within the time allowed.
    let deadline = tokio::time::sleep(state.ws_init_timeout);
    tokio::pin!(deadline);
    let (token, principal) = loop {
        tokio::select! {
            _ = &mut deadline => {
                let _ = socket.send(close(4408, "Connection initialisation timeout")).await;
                return;
            }
            msg = socket.recv() => {
                let msg = match msg {
                    Some(Ok(msg)) => msg,
                    Some(Err(e)) if too_large(&e) => {
                        let _ = socket.send(close(1009, "Message too big")).await;
                        return;
                    }
                    _ => return,
                };
                let Message::Text(raw) = msg else {
                    if matches!(msg, Message::Close(_)) { return; }
                    continue;
                };
                let Ok(m) = serde_json::from_str::<Value>(raw.as_str()) else {
                    let _ = socket.send(close(4400, "Invalid message")).await;
                    return;
                };
                match m.get("type").and_then(Value::as_str) {
                    Some("connection_init") => {
                        let token = m.get("payload").and_then(init_token).or_else(|| cookie.clone());
                        let principal = match &token {
                            Some(t) => schema::tenancy::as_system(state.auth.authenticate(t)).await.ok().flatten(),
                            None => None,
                        };
                        match (token, principal) {
                            (Some(t), Some(p)) => break (t, Arc::new(p)),
                            _ => {
                                let _ = socket.send(close(4403, "Forbidden")).await;
                                return;
                            }
                        }
                    }
                    Some("subscribe") => {
                        let _ = socket.send(close(4401, "Unauthorized")).await;
                        return;
                    }
                    Some("ping") => {
                        let _ = socket.send(text(json!({ "type": "pong" }))).await;
                    }
                    Some("pong") => {}
                    _ => {
                        let _ = socket.send(close(4400, "Invalid message")).await;
                        return;
                    }
                }
            }
        }
    };
    if socket
        .send(text(json!({ "type": "connection_ack" })))
        .await
        .is_err()
    {
        return;
    }
    // From here a task of its own reads: the loop below wakes for each event
    // sent, and a read attempt costs tungstenite a zero-filled buffer.
    let (mut socket, stream) = socket.split();
    let (incoming_tx, mut incoming) = tokio::sync::mpsc::channel(8);
    let reader = tokio::spawn(read_into(stream, incoming_tx));
    let _reader = AbortOnDrop(reader.abort_handle());
    let mut check = tokio::time::interval(state.ws_session_check);
    check.tick().await;
    // Running operations by id: a query or mutation yields one response, a
    // subscription one per event. Each stream ends with `None` (then `complete`).
    let mut running: SelectAll<Abortable<Operation>> = SelectAll::new();
    let mut handles: HashMap<String, AbortHandle> = HashMap::new();
    // A check of the session runs beside the operations, never inside this
    // loop's handlers: an operation stopped half-way through a query would keep
    // its pooled connection while the check waits for another.
    let mut checking: Option<Pin<Box<dyn Future<Output = bool> + Send>>> = None;
    loop {
        tokio::select! {
            ended = endings.recv() => {
                let relevant = match ended {
                    Ok(user) => user == principal.user_id,
                    Err(_) => true,
                };
                if relevant && checking.is_none() {
                    checking = Some(Box::pin(session_check(state.clone(), token.clone())));
                }
            }
            _ = check.tick() => {
                if checking.is_none() {
                    checking = Some(Box::pin(session_check(state.clone(), token.clone())));
                }
            }
            holds = async { match checking.as_mut() { Some(c) => c.await, None => std::future::pending().await } }, if checking.is_some() => {
                checking = None;
                if !holds {
                    let _ = socket.send(close(4403, "Session ended")).await;
                    return;
                }
            }
            Some((id, item)) = running.next(), if !running.is_empty() => {
                let Some(handle) = handles.get(&id) else { continue };
                if matches!(item, Some(Step::SessionEnded)) {
                    let _ = socket.send(close(4403, "Session ended")).await;
                    return;
                }
                let (out, done) = match item {
                    Some(Step::First(response)) if response.data == async_graphql::Value::Null && !response.errors.is_empty() => {
                        let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
                        (Some(text(json!({ "id": id, "type": "error", "payload": errors }))), true)
                    }
                    Some(Step::First(response) | Step::Next(response)) => (Some(next_message(&id, &serde_json::to_string(&response).unwrap_or_else(|_| "null".into()))), false),
                    Some(Step::Rendered(payload)) => (Some(next_message(&id, &payload)), false),
                    Some(Step::SessionEnded) => (None, true),
                    None => (Some(text(json!({ "id": id, "type": "complete" }))), true),
                };
                if done {
                    handle.abort();
                    handles.remove(&id);
                }
                if let Some(out) = out {
                    // A client that stops reading must not stall the operations
                    // this loop drives (one may hold a pooled connection).
                    match tokio::time::timeout(SEND_TIMEOUT, socket.send(out)).await {
                        Ok(Ok(())) => {}
                        _ => return,
                    }
                }
            }
            msg = incoming.recv() => {
                let Some(msg) = msg else { return };
                let raw = match msg {
                    Incoming::Message(Message::Text(raw)) => raw,
                    Incoming::Message(Message::Close(_)) => return,
                    Incoming::Message(_) => continue,
                    Incoming::TooLarge => {
                        let _ = socket.send(close(1009, "Message too big")).await;
                        return;
                    }
                };
                let Ok(m) = serde_json::from_str::<Value>(raw.as_str()) else {
                    let _ = socket.send(close(4400, "Invalid message")).await;
                    return;
                };
                match m.get("type").and_then(Value::as_str) {
                    Some("connection_init") => {
                        let _ = socket.send(close(4429, "Too many initialisation requests")).await;
                        return;
                    }
                    Some("ping") => {
                        if socket.send(text(json!({ "type": "pong" }))).await.is_err() { return; }
                    }
                    Some("pong") => {}
                    Some("complete") => {
                        if let Some(h) = m.get("id").and_then(Value::as_str).and_then(|id| handles.remove(id)) {
                            h.abort();
                        }
                    }
                    Some("subscribe") => {
                        let Some(id) = m.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()).map(str::to_string) else {
                            let _ = socket.send(close(4400, "Invalid message")).await;
                            return;
                        };
                        if handles.contains_key(&id) {
                            let _ = socket.send(close(4409, &format!("Subscriber for {id} already exists"))).await;
                            return;
                        }
                        let mut request: async_graphql::Request = match m.get("payload").cloned().map(serde_json::from_value) {
                            Some(Ok(r)) => r,
                            _ => {
                                let _ = socket.send(close(4400, "Invalid message")).await;
                                return;
                            }
                        };
                        // The socket stays open: this operation alone is refused.
                        let refusal = if handles.len() >= MAX_OPERATIONS {
                            Some(json!({
                                "message": format!("this connection already runs {MAX_OPERATIONS} operations, the most one connection may run at once; complete one first"),
                                "extensions": { "code": "TOO_MANY_OPERATIONS", "limit": MAX_OPERATIONS }
                            }))
                        } else {
                            crate::limits::check(&mut request).err().map(|r| r.to_json())
                        };
                        if let Some(error) = refusal {
                            if socket.send(text(json!({ "id": id, "type": "error", "payload": [error] }))).await.is_err() {
                                return;
                            }
                            continue;
                        }
                        // Each operation runs as the session's user, checked again
                        // first, as part of the operation (see `checking`).
                        let (operation, handle) = abortable(start_checked(&state, &token, &principal, &meta, id.clone(), request));
                        handles.insert(id, handle);
                        running.push(operation);
                    }
                    _ => {
                        let _ = socket.send(close(4400, "Invalid message")).await;
                        return;
                    }
                }
            }
        }
    }
}

/// Most operations one socket may run at once; a `subscribe` beyond it gets an
/// `error` naming the limit and the socket stays open.
pub const MAX_OPERATIONS: usize = 50;

/// Longest a message may wait for a client that does not read.
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

enum Incoming {
    Message(Message),
    /// A message over the size limit: the socket closes with 1009.
    TooLarge,
}

/// Whether a read failed on a message over the size limit.
fn too_large(e: &axum::Error) -> bool {
    let text = e.to_string();
    text.contains("Space limit exceeded") || text.contains("too long")
}

/// Forwards what the client sends until it closes or fails.
async fn read_into(
    mut stream: futures_util::stream::SplitStream<WebSocket>,
    to: tokio::sync::mpsc::Sender<Incoming>,
) {
    while let Some(read) = stream.next().await {
        let msg = match read {
            Ok(msg) => Incoming::Message(msg),
            Err(e) if too_large(&e) => Incoming::TooLarge,
            Err(_) => return,
        };
        let last = matches!(msg, Incoming::TooLarge);
        if to.send(msg).await.is_err() || last {
            return;
        }
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `{"id":…,"type":"next","payload":…}` around a payload already in JSON.
fn next_message(id: &str, payload: &str) -> Message {
    let id = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
    let mut out = String::with_capacity(payload.len() + id.len() + 32);
    out.push_str("{\"id\":");
    out.push_str(&id);
    out.push_str(",\"type\":\"next\",\"payload\":");
    out.push_str(payload);
    out.push('}');
    Message::Text(out.into())
}

enum Step {
    First(async_graphql::Response),
    Next(async_graphql::Response),
    /// An event of a feed, rendered: the `payload` of its `next` message.
    Rendered(Arc<str>),
    /// The session no longer holds: the socket closes with 4403.
    SessionEnded,
}

type Operation = Pin<Box<dyn Stream<Item = (String, Option<Step>)> + Send>>;

/// [`start`] once the session is found to hold still; else the marker that
/// closes the socket.
fn start_checked(
    state: &AppState,
    token: &str,
    principal: &Arc<Principal>,
    meta: &RequestMeta,
    id: String,
    request: async_graphql::Request,
) -> Operation {
    let (state, token, principal, meta) = (
        state.clone(),
        token.to_string(),
        principal.clone(),
        meta.clone(),
    );
    Box::pin(
        stream::once(async move {
            if still_valid(&state, &token).await {
                start(&state, &principal, &meta, id, request)
            } else {
                Box::pin(stream::iter([(id, Some(Step::SessionEnded))])) as Operation
            }
        })
        .flatten(),
    )
}

/// Starts one operation of a `subscribe`: its responses, then an end marker.
/// A subscription served as a feed (`schema::events::FeedSlot`) sends each
/// event as its document renders it, rendered once per event and document
/// for every subscriber on this instance.
fn start(
    state: &AppState,
    principal: &Arc<Principal>,
    meta: &RequestMeta,
    id: String,
    request: async_graphql::Request,
) -> Operation {
    let ctx = RequestCtx {
        meta: RequestMeta {
            request_id: uuid::Uuid::now_v7().to_string(),
            ..meta.clone()
        },
        principal: Some(principal.clone()),
        secure: state.secure,
    };
    // What the rendering depends on: the operation, its text, its variables.
    let document: Arc<str> = format!(
        "{}\u{0}{}\u{0}{}",
        request.operation_name.as_deref().unwrap_or_default(),
        request.query,
        serde_json::to_string(&request.variables).unwrap_or_default()
    )
    .into();
    // Shared by the subscription's events: each one clones a pointer, not the text.
    let again = Arc::new((
        request.query.clone(),
        request.operation_name.clone(),
        request.variables.clone(),
    ));
    let slot = feed_eligible(&request).then(|| Arc::new(schema::events::FeedSlot::default()));
    let request = match &slot {
        Some(slot) => request.data(slot.clone()),
        None => request,
    };
    let responses =
        schema::graphql::execute_stream(&state.schema, &state.registry, request, ctx.clone());
    let end = id.clone();
    let feed_id = id.clone();
    let (state, orgs, shared) = (
        state.clone(),
        schema::tenancy::of(Some(principal)),
        Arc::new(ctx.clone()),
    );
    // After the resolver's own items (none for a feed): the feed's events.
    let feed = stream::once(async move { slot.and_then(|s| s.take()) })
        .filter_map(|events| async move { events })
        .flat_map(move |events| schema::tenancy::ScopedStream::new(orgs.clone(), events))
        .then(move |event| {
            let (state, ctx, document, again) = (
                state.clone(),
                shared.clone(),
                document.clone(),
                again.clone(),
            );
            async move { render(&state, &ctx, &document, &again, event).await }
        })
        .map(move |payload| (feed_id.clone(), Some(Step::Rendered(payload))));
    Box::pin(
        responses
            .enumerate()
            .map(move |(n, r)| {
                (
                    id.clone(),
                    Some(if n == 0 {
                        Step::First(r)
                    } else {
                        Step::Next(r)
                    }),
                )
            })
            .chain(feed)
            .chain(stream::once(async move { (end, None) })),
    )
}

/// Whether an operation may be served as a feed: a subscription whose
/// selection is one field, as the GraphQL specification requires of every
/// subscription (a second field would find the slot taken).
fn feed_eligible(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::{OperationType, Selection};
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let mut operations = doc.operations.iter();
    let op = match &request.operation_name {
        Some(name) => operations
            .find(|(n, _)| n.is_some_and(|n| n.as_str() == name))
            .map(|(_, op)| op),
        None => match (operations.next(), operations.next()) {
            (Some((_, op)), None) => Some(op),
            _ => None,
        },
    };
    op.is_some_and(|op| {
        let items = &op.node.selection_set.node.items;
        op.node.ty == OperationType::Subscription
            && items.len() == 1
            && matches!(items[0].node, Selection::Field(_))
    })
}

/// An event of a feed as `document` renders it: the first subscriber to ask
/// runs the document once for the event; the others reuse that.
async fn render(
    state: &AppState,
    ctx: &RequestCtx,
    document: &Arc<str>,
    (query, operation_name, variables): &(String, Option<String>, async_graphql::Variables),
    event: Arc<schema::events::Event>,
) -> Arc<str> {
    let cell = event.rendering(document);
    cell.get_or_init(|| async {
        let mut request = async_graphql::Request::new(query.clone())
            .variables(variables.clone())
            .data(schema::events::RenderOne(event.clone()));
        request.operation_name = operation_name.clone();
        let response =
            schema::graphql::execute_stream(&state.schema, &state.registry, request, ctx.clone())
                .next()
                .await
                .unwrap_or_else(|| {
                    async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
                        "the event could not be rendered",
                        None,
                    )])
                });
        serde_json::to_string(&response)
            .unwrap_or_else(|_| "null".into())
            .into()
    })
    .await
    .clone()
}

async fn session_check(state: AppState, token: String) -> bool {
    still_valid(&state, &token).await
}

/// Whether the session still holds. Only a definite "no" ends the socket: a
/// session store that cannot answer right now (a Redis timeout under load)
/// leaves it open until the next check.
async fn still_valid(state: &AppState, token: &str) -> bool {
    match schema::tenancy::as_system(state.auth.session_holds(token)).await {
        Ok(holds) => holds,
        Err(e) => {
            tracing::warn!(error = %e, "checking a websocket's session failed; keeping it open");
            true
        }
    }
}
