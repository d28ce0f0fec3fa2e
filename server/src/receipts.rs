//! Receipts as PDF over plain HTTP (a browser opens them in a tab or an
//! `<iframe>`): `/receipts/{id}.pdf` for one, `/houses/{id}/receipts/{period}.pdf`
//! for a house's batch. The caller's session (cookie or bearer) decides, the
//! same policy as the GraphQL fields `receipt` and `receipts`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use schema::audit::Author;
use schema::error::AppError;

use crate::http::{error_response, request_ctx, AppState};

pub(crate) fn failure(e: AppError) -> Response {
    let status = match e.code() {
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "VALIDATION" => StatusCode::BAD_REQUEST,
        c if c.ends_with("_UNAVAILABLE") => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %e, "a file could not be served");
        return error_response(status, "INTERNAL", "the file could not be served");
    }
    error_response(status, e.code(), &e.to_string())
}

fn pdf(name: String, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; frame-ancestors 'self'".to_string(),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) async fn author(
    state: &AppState,
    request: Request,
    operation: &'static str,
) -> Result<Author, Response> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let headers = request.headers().clone();
    drop(request);
    let ctx = request_ctx(state, &headers, peer).await?;
    let Some(principal) = ctx.principal else {
        return Err(failure(AppError::Unauthenticated));
    };
    Ok(Author::new(principal, ctx.meta, operation))
}

pub async fn one(
    State(state): State<AppState>,
    Path(file): Path<String>,
    request: Request,
) -> Response {
    let Some(id) = file
        .strip_suffix(".pdf")
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
    else {
        return failure(AppError::not_found("receipt"));
    };
    let by = match author(&state, request, "Query.receipt").await {
        Ok(by) => by,
        Err(r) => return r,
    };
    let orgs = schema::tenancy::of(Some(&by.principal));
    let billing = state.billing.clone();
    let by = Arc::new(by);
    match schema::tenancy::scoped(orgs, async move { billing.receipt_pdf(&by, id).await }).await {
        Ok((name, bytes)) => pdf(name, bytes),
        Err(e) => failure(e),
    }
}

pub async fn house(
    State(state): State<AppState>,
    Path((house, file)): Path<(String, String)>,
    request: Request,
) -> Response {
    let Ok(house) = uuid::Uuid::parse_str(&house) else {
        return failure(AppError::not_found("house"));
    };
    let Some(period) = file
        .strip_suffix(".pdf")
        .and_then(schema::billing::calc::Period::parse)
    else {
        return failure(AppError::validation(
            "period",
            "invalid_period",
            "the file is named after a month like 2026-11.pdf",
        ));
    };
    let by = match author(&state, request, "Query.receipts").await {
        Ok(by) => by,
        Err(r) => return r,
    };
    let orgs = schema::tenancy::of(Some(&by.principal));
    let billing = state.billing.clone();
    match schema::tenancy::scoped(
        orgs,
        async move { billing.house_pdf(&by, house, period).await },
    )
    .await
    {
        Ok((name, bytes)) => pdf(name, bytes),
        Err(e) => failure(e),
    }
}
