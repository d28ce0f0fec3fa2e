//! The HTTP surface: `/graphql`, `/graphql/ws` (reserved), health, metrics, web.
//!
//! We do not use the stock async-graphql-axum handler as is: it runs JSON arrays as
//! batches and mutations from GET, text/plain and form posts (CSRF). Here a POST must
//! be `application/json`, or `multipart/form-data` (uploads) with a preflight header
//! no HTML form can send; GET runs queries only; batches are refused.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::http::{GraphiQLSource, MultipartOptions};
use async_graphql_axum::GraphQLResponse;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use schema::AppSchema;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::metrics::Metrics;
use crate::web;

pub const MAX_JSON_BODY: usize = 1024 * 1024;
pub const MAX_UPLOAD_BODY: usize = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    pub metrics: Arc<Metrics>,
    pub graphiql: bool,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(subscriptions_reserved))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(web::serve)
        .with_state(state)
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
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

async fn execute(state: &AppState, request: async_graphql::Request) -> Response {
    let operation = request
        .operation_name
        .clone()
        .or_else(|| first_operation_name(&request.query));
    let started = Instant::now();
    let response = state.schema.execute(request).await;
    state
        .metrics
        .observe(operation.as_deref(), started.elapsed(), response.is_err());
    GraphQLResponse::from(response).into_response()
}

/// The name of the document's first operation, for metrics when the client sent no
/// `operationName`.
fn first_operation_name(query: &str) -> Option<String> {
    let doc = async_graphql::parser::parse_query(query).ok()?;
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
    let query = request.uri().query().unwrap_or_default().to_string();
    if query.is_empty() {
        if state.graphiql && wants_html(request.headers()) {
            return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
        }
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "a GET request needs a `query` parameter",
        );
    }
    let gql = match async_graphql::http::parse_query_string(&query) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("invalid request: {e}"),
            )
        }
    };
    // Only queries run from GET: a link or an <img> must never change anything.
    match async_graphql::parser::parse_query(&gql.query) {
        Ok(doc) => {
            let selected =
                doc.operations
                    .iter()
                    .find(|(name, _)| match (&gql.operation_name, name) {
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
    execute(&state, gql).await
}

async fn graphql_post(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
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
    let body = match to_bytes(request.into_body(), limit).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &format!("the request is larger than {} bytes", limit),
            )
        }
    };
    if !multipart && body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BATCH_NOT_SUPPORTED",
            "batched requests are not supported",
        );
    }
    let options = MultipartOptions::default()
        .max_file_size(MAX_UPLOAD_BODY)
        .max_num_files(4);
    let reader = futures_util::io::Cursor::new(body.to_vec());
    match async_graphql::http::receive_body(Some(content_type.as_str()), reader, options).await {
        Ok(gql) => execute(&state, gql).await,
        Err(e) => error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("invalid request: {e}"),
        ),
    }
}

async fn subscriptions_reserved() -> Response {
    error_response(
        StatusCode::NOT_IMPLEMENTED,
        "NOT_IMPLEMENTED",
        "subscriptions arrive with live events; this endpoint is reserved for them",
    )
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
