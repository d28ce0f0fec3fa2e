//! Attachments over plain HTTP (an `<img src>` or a link): `/files/{id}` and
//! `/files/{id}/{name}` (the name is only for the browser). The caller's
//! session decides, as for the GraphQL field `attachments`: who may not see
//! the owner gets 404, never a hint that the file exists.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use schema::error::AppError;

use crate::http::AppState;
use crate::receipts::{author, failure};

pub async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    serve(state, &id, request).await
}

pub async fn named(
    State(state): State<AppState>,
    Path((id, _name)): Path<(String, String)>,
    request: Request,
) -> Response {
    serve(state, &id, request).await
}

async fn serve(state: AppState, id: &str, request: Request) -> Response {
    let Ok(id) = uuid::Uuid::parse_str(id) else {
        return failure(AppError::not_found("attachment"));
    };
    let since = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let by = match author(&state, request, "Query.attachments").await {
        Ok(by) => by,
        Err(r) => return r,
    };
    let orgs = schema::tenancy::of(Some(&by.principal));
    let files = state.files.clone();
    let by = Arc::new(by);
    // The rights first: an unchanged file answers 304 without reading the store.
    let row = {
        let (files, by) = (files.clone(), by.clone());
        schema::tenancy::scoped(orgs.clone(), async move { files.get(&by, id).await }).await
    };
    let row = match row {
        Ok(r) => r,
        Err(e) => return failure(e),
    };
    let etag = format!("\"{}\"", row.sha256);
    let headers = |ct: &str| {
        let inline = if ct.starts_with("image/") || ct == "application/pdf" {
            "inline"
        } else {
            "attachment"
        };
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "{inline}; filename=\"{}\"; filename*=UTF-8''{}",
                    ascii_name(&row.name),
                    percent(&row.name)
                ),
            ),
            (header::CACHE_CONTROL, "private, no-cache".to_string()),
            (header::ETAG, etag.clone()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'self'".to_string(),
            ),
        ]
    };
    if since.as_deref() == Some(etag.as_str()) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            r.headers_mut().insert(header::ETAG, v);
        }
        return r;
    }
    match schema::tenancy::scoped(orgs, async move { files.read(&by, id).await }).await {
        Ok((a, bytes)) => (headers(&a.content_type), bytes).into_response(),
        Err(e) => failure(e),
    }
}

fn ascii_name(n: &str) -> String {
    n.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect()
}

fn percent(n: &str) -> String {
    n.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
