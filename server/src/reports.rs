//! Reports as files over plain HTTP (a browser downloads them):
//! `/reports/debtors.csv` and `/reports/debtors.xlsx` with
//! `?organisationId=…[&houseId=…][&asOf=2026-12-20]`. The caller's session
//! (cookie or bearer) decides, the same policy as the GraphQL query `debtors`.

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use schema::error::AppError;
use serde::Deserialize;

use crate::http::AppState;
use crate::receipts::{author, failure};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebtorsParams {
    organisation_id: String,
    house_id: Option<String>,
    as_of: Option<NaiveDate>,
}

fn id(field: &str, v: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(v)
        .map_err(|_| AppError::validation(field.to_string(), "invalid_id", "not an id"))
}

pub async fn debtors(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(params): Query<DebtorsParams>,
    request: Request,
) -> Response {
    let xlsx = match file.as_str() {
        "debtors.csv" => false,
        "debtors.xlsx" => true,
        _ => return failure(AppError::not_found("report")),
    };
    let org = match id("organisationId", &params.organisation_id) {
        Ok(o) => o,
        Err(e) => return failure(e),
    };
    let house = match params
        .house_id
        .as_deref()
        .map(|h| id("houseId", h))
        .transpose()
    {
        Ok(h) => h,
        Err(e) => return failure(e),
    };
    let by = match author(&state, request, "Query.debtors").await {
        Ok(by) => by,
        Err(r) => return r,
    };
    let orgs = schema::tenancy::of(Some(&by.principal));
    let payments = state.payments.clone();
    let by = Arc::new(by);
    let done = schema::tenancy::scoped(orgs, async move {
        payments.debtors(&by, org, house, params.as_of, 1).await
    })
    .await;
    let (o, report) = match done {
        Ok(r) => r,
        Err(e) => return failure(e),
    };
    let stem = match o.locale.as_str() {
        l if l.starts_with("ru") => "dolzhniki",
        l if l.starts_with("pt") => "devedores",
        _ => "debtors",
    };
    let name = format!("{stem}-{}", report.as_of);
    let (kind, ext, bytes) = if xlsx {
        let locale = o.locale.clone();
        let report = std::sync::Arc::new(report);
        let shared = report.clone();
        let built = tokio::task::spawn_blocking(move || {
            schema::payments::debtors::to_xlsx(&shared, &locale)
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        match built {
            Ok(b) => (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
                b,
            ),
            Err(e) => return failure(AppError::Internal(e)),
        }
    } else {
        (
            "text/csv; charset=utf-8",
            "csv",
            schema::payments::debtors::to_csv(&report, &o.locale),
        )
    };
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{ext}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}
