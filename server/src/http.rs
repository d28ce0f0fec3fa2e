//! The HTTP surface: `/graphql`, `/graphql/ws` (reserved), health, metrics, web.
//!
//! We do not use the stock async-graphql-axum handler as is: it runs JSON arrays as
//! batches and mutations from GET, text/plain and form posts (CSRF). Here a POST must
//! be `application/json`, or `multipart/form-data` (uploads) with a preflight header
//! no HTML form can send; GET runs queries only; batches are refused; a document
//! with too many aliases is refused before it runs; a request has a time limit.
//! The caller comes from the session cookie or an `Authorization: Bearer` token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::http::MultipartOptions;
use axum::body::to_bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use schema::audit::RequestMeta;
use schema::auth::{Auth, RequestCtx, SESSION_COOKIE};
use schema::AppSchema;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::metrics::Metrics;
use crate::respond::{graphql_response, query_param, Media};
use crate::web;

pub const MAX_JSON_BODY: usize = 1024 * 1024;
pub const MAX_UPLOAD_BODY: usize = 64 * 1024 * 1024;
/// Most files one request may carry (each operation takes one).
pub const MAX_FILES: usize = 4;

#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    pub auth: Auth,
    pub registry: schema::registry::Registry,
    pub billing: schema::billing::Billing,
    pub payments: schema::payments::Payments,
    pub files: schema::files::service::Files,
    pub metrics: Arc<Metrics>,
    /// This instance's live events (its hub counts the open subscriptions).
    pub events: schema::events::Events,
    pub graphiql: bool,
    /// Served over https.
    pub secure: bool,
    /// Which peers may name the client (`X-Forwarded-For`).
    pub proxies: Arc<crate::forwarded::ProxyTrust>,
    /// Origins allowed besides the server's own.
    pub origins: Arc<Vec<String>>,
    pub request_timeout: std::time::Duration,
    /// How long a websocket has to send `connection_init`.
    pub ws_init_timeout: std::time::Duration,
    /// How often an open websocket checks that its session still holds.
    pub ws_session_check: std::time::Duration,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(crate::ws::upgrade))
        .route("/receipts/{file}", get(crate::receipts::one))
        .route(
            "/houses/{house}/receipts/{file}",
            get(crate::receipts::house),
        )
        .route("/reports/{file}", get(crate::reports::debtors))
        .route("/files/{id}", get(crate::files::one))
        .route("/files/{id}/{name}", get(crate::files::named))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(web::serve)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::security::layer,
        ))
        .with_state(state)
}

pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// GraphiQL from the server's own assets (`web/static/vendor/graphiql`): it
/// works offline, and its CSP allows nothing from other origins.
const GRAPHIQL_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kvartal API — GraphiQL</title>
<link rel="stylesheet" href="/vendor/graphiql/graphiql.min.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/vendor/graphiql/react.production.min.js"></script>
<script src="/vendor/graphiql/react-dom.production.min.js"></script>
<script src="/vendor/graphiql/graphiql.min.js"></script>
<script src="/graphiql.js"></script>
</body>
</html>
"#;

/// A document refused before it runs: 400, naming the limit.
pub fn refused(refusal: &crate::limits::Refusal) -> Response {
    let body = serde_json::json!({ "errors": [refusal.to_json()] });
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The session token of a request: `Authorization: Bearer …` or the cookie.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(token) = auth.strip_prefix("Bearer ") {
            return Some(token.trim().to_string());
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

pub fn client_address(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
    state
        .proxies
        .client(peer.map(|p| p.ip()), forwarded.as_deref())
}

/// Who calls, from where: the request's context for the resolvers.
pub(crate) async fn request_ctx(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<RequestCtx, Response> {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 100 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let meta = RequestMeta {
        request_id,
        address: client_address(state, headers, peer),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect(),
    };
    let principal = match session_token(headers) {
        // Finding who holds a session reads across organisations.
        Some(token) => match schema::tenancy::as_system(state.auth.authenticate(&token)).await {
            Ok(p) => p.map(Arc::new),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                let (code, message) = match &e {
                    schema::error::AppError::Unavailable { message, .. } => {
                        (e.code(), message.clone())
                    }
                    _ => (
                        "SESSIONS_UNAVAILABLE",
                        "sessions are unavailable; try again shortly".to_string(),
                    ),
                };
                return Err(error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code,
                    &message,
                ));
            }
        },
        None => None,
    };
    Ok(RequestCtx {
        meta,
        principal,
        secure: state.secure,
    })
}

async fn execute(
    state: &AppState,
    mut request: async_graphql::Request,
    ctx: RequestCtx,
    media: Media,
) -> Response {
    // Nesting before the parser sees the text; parsed once here, and the
    // executor reuses the parsed document.
    if let Err(refusal) = crate::limits::check(&mut request) {
        return refused(&refusal);
    }
    let first_name = request.parsed_query().ok().and_then(first_operation_name);
    let operation = request.operation_name.clone().or(first_name);
    let request_id = ctx.meta.request_id.clone();
    let started = Instant::now();
    let run = schema::graphql::execute(&state.schema, &state.registry, request, ctx);
    let response = match tokio::time::timeout(state.request_timeout, run).await {
        Ok(r) => r,
        Err(_) => {
            state
                .metrics
                .observe(operation.as_deref(), started.elapsed(), true);
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                &format!(
                    "the request took longer than {} s",
                    state.request_timeout.as_secs()
                ),
            );
        }
    };
    state
        .metrics
        .observe(operation.as_deref(), started.elapsed(), response.is_err());
    // A dependency that is down (database, sessions, bus): 503, so that a
    // client, a load balancer or a probe tells it from a refusal.
    let down = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(
                |c| matches!(c, async_graphql::Value::String(c) if c.ends_with("_UNAVAILABLE")),
            )
    });
    let mut r = graphql_response(response, media);
    if down {
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    if let Ok(v) = header::HeaderValue::from_str(&request_id) {
        r.headers_mut().insert("x-request-id", v);
    }
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

/// The name of the document's first operation, for metrics when the client sent no
/// `operationName`.
fn first_operation_name(doc: &async_graphql::parser::types::ExecutableDocument) -> Option<String> {
    doc.operations
        .iter()
        .next()
        .and_then(|(name, _)| name.map(|n| n.to_string()))
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let query = request.uri().query().unwrap_or_default().to_string();
    if query.is_empty() {
        if state.graphiql && wants_html(request.headers()) {
            let mut r = Html(GRAPHIQL_PAGE).into_response();
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static(crate::security::GRAPHIQL_CSP),
            );
            return r;
        }
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "a GET request needs a `query` parameter",
        );
    }
    let mut gql = match async_graphql::http::parse_query_string(&query) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("invalid request: {e}"),
            )
        }
    };
    // The specification names it `operationName` (async-graphql reads
    // `operation_name` only).
    if gql.operation_name.is_none() {
        gql.operation_name = query_param(&query, "operationName").filter(|n| !n.is_empty());
    }
    // The parser is recursive: the text's nesting is bounded before it parses.
    if let Err(refusal) = crate::limits::check_text(&gql.query) {
        return refused(&refusal);
    }
    // Only queries run from GET: a link or an <img> must never change anything.
    let wanted_name = gql.operation_name.clone();
    match gql.parsed_query() {
        Ok(doc) => {
            let selected = doc
                .operations
                .iter()
                .find(|(name, _)| match (&wanted_name, name) {
                    (Some(wanted), Some(n)) => n.as_str() == wanted,
                    (None, _) => true,
                    _ => false,
                });
            if let Some((_, op)) = selected {
                if op.node.ty != async_graphql::parser::types::OperationType::Query {
                    let mut r = error_response(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "METHOD_NOT_ALLOWED",
                        "only queries may be sent with GET; send mutations with POST",
                    );
                    r.headers_mut()
                        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
                    return r;
                }
            }
        }
        Err(_) => {
            // Let the executor report the syntax error in the usual shape.
        }
    }
    let ctx = match request_ctx(&state, request.headers(), peer).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    execute(&state, gql, ctx, Media::of(request.headers())).await
}

async fn graphql_post(State(state): State<AppState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let headers = request.headers().clone();
    // The boundary of a multipart body is case-sensitive (browsers use mixed
    // case): compare the lower-cased type, hand on the header as sent.
    let sent_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let content_type = sent_type.to_ascii_lowercase();
    let (limit, multipart) = if content_type.starts_with("application/json") {
        (MAX_JSON_BODY, false)
    } else if content_type.starts_with("multipart/form-data") {
        let preflighted = headers.contains_key("apollo-require-preflight")
            || headers.contains_key("x-requested-with");
        if !preflighted {
            return error_response(
                StatusCode::BAD_REQUEST,
                "CSRF",
                "multipart requests need an `Apollo-Require-Preflight` or `X-Requested-With` header",
            );
        }
        (MAX_UPLOAD_BODY, true)
    } else {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send application/json (or multipart/form-data for uploads)",
        );
    };
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &format!("the request is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    // Who calls, before a byte of the body is read.
    let ctx = match request_ctx(&state, &headers, peer).await {
        Ok(ctx) => ctx,
        Err(r) => return r,
    };
    if multipart {
        // Files are for signed-in users: nobody else makes the server read one.
        if ctx.principal.is_none() {
            return error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "sign in before sending files",
            );
        }
        // Streamed: the parts go to temporary files as they arrive, the
        // whole body counted against the limit, never held in memory.
        let read = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = read.clone();
        let body =
            futures_util::StreamExt::map(request.into_body().into_data_stream(), move |chunk| {
                let chunk = chunk.map_err(std::io::Error::other)?;
                let total = counted.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed)
                    + chunk.len();
                if total > limit {
                    return Err(std::io::Error::other("the request is too large"));
                }
                Ok(chunk)
            });
        let options = MultipartOptions::default()
            .max_file_size(MAX_UPLOAD_BODY)
            .max_num_files(MAX_FILES);
        let received = async_graphql::http::receive_body(
            Some(sent_type.as_str()),
            futures_util::TryStreamExt::into_async_read(body),
            options,
        )
        .await;
        return match received {
            Ok(gql) if gql.uploads.len() > MAX_FILES => error_response(
                StatusCode::BAD_REQUEST,
                "TOO_MANY_FILES",
                &format!(
                    "the request carries {} files; at most {MAX_FILES} are allowed",
                    gql.uploads.len()
                ),
            ),
            Ok(gql) => execute(&state, gql, ctx, Media::of(&headers)).await,
            Err(_) if read.load(std::sync::atomic::Ordering::Relaxed) > limit => too_large(),
            Err(e) => error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("invalid request: {e}"),
            ),
        };
    }
    let body = match to_bytes(request.into_body(), limit).await {
        Ok(b) => b,
        Err(_) => return too_large(),
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BATCH_NOT_SUPPORTED",
            "batched requests are not supported",
        );
    }
    let reader = futures_util::io::Cursor::new(body);
    match async_graphql::http::receive_body(
        Some(sent_type.as_str()),
        reader,
        MultipartOptions::default(),
    )
    .await
    {
        Ok(gql) => execute(&state, gql, ctx, Media::of(&headers)).await,
        Err(e) => error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("invalid request: {e}"),
        ),
    }
}

/// Readiness: the database and the session store (Redis, when configured),
/// each with its own short time limit; the answer names what is down.
async fn readyz(State(state): State<AppState>) -> Response {
    const LIMIT: std::time::Duration = std::time::Duration::from_secs(2);
    let database = tokio::time::timeout(LIMIT, state.db.execute_unprepared("SELECT 1"));
    let sessions = tokio::time::timeout(
        LIMIT,
        schema::tenancy::as_system(state.auth.sessions_ready()),
    );
    let (database, sessions) = tokio::join!(database, sessions);
    let mut lines = Vec::new();
    let mut ready = true;
    match database {
        Ok(Ok(_)) => lines.push("database: ok".to_string()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database failed");
            ready = false;
            lines.push("database: down (it answered with an error)".into());
        }
        Err(_) => {
            ready = false;
            lines.push(format!(
                "database: down (no answer within {} s)",
                LIMIT.as_secs()
            ));
        }
    }
    match sessions {
        Ok(Ok("redis")) => lines.push("sessions (redis): ok".into()),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the session store failed");
            ready = false;
            lines.push("sessions (redis): down".into());
        }
        Err(_) => {
            ready = false;
            lines.push(format!(
                "sessions (redis): down (no answer within {} s)",
                LIMIT.as_secs()
            ));
        }
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body = if ready {
        "ready\n".to_string()
    } else {
        "not ready\n".to_string()
    };
    body.push_str(&lines.join("\n"));
    body.push('\n');
    (status, body).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        format!(
            "{}# HELP kvartal_subscriptions Open subscriptions on this instance.\n# TYPE kvartal_subscriptions gauge\nkvartal_subscriptions {}\n",
            state.metrics.render(),
            state.events.hub.subscribers()
        ),
    )
        .into_response()
}
