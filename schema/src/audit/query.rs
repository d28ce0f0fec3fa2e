//! `auditLog(filter)` for admins and managers, and the GraphQL view of an entry.

use async_graphql::{Context, InputObject, Json, Object, Result, ID};
use chrono::{DateTime, Utc};
use entities::audit_entry;
use serde_json::Value;

use super::read::LogFilter;
use crate::auth::principal;
use crate::pagination::{connection, opt_uuid, page, uuid, Conn};
use crate::registry::Registry;

pub struct AuditEntry(pub audit_entry::Model);

#[Object]
impl AuditEntry {
    /// Position in the organisation's chain, from 1.
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    async fn user_id(&self) -> Option<ID> {
        self.0.user_id.map(|u| ID(u.to_string()))
    }
    async fn user_email(&self) -> &str {
        &self.0.user_email
    }
    /// The roles the user acted with, comma-separated.
    async fn roles(&self) -> &str {
        &self.0.roles
    }
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    async fn object_type(&self) -> &str {
        &self.0.object_type
    }
    async fn object_id(&self) -> Option<ID> {
        self.0.object_id.map(|u| ID(u.to_string()))
    }
    /// The changed fields as they were (absent for a creation).
    async fn before(&self) -> Option<Json<Value>> {
        self.changes().get("before").cloned().map(Json)
    }
    /// The changed fields as they became (absent for a removal).
    async fn after(&self) -> Option<Json<Value>> {
        self.changes().get("after").cloned().map(Json)
    }
    async fn request_id(&self) -> &str {
        &self.0.request_id
    }
    async fn client_address(&self) -> &str {
        &self.0.client_address
    }
    async fn hash(&self) -> &str {
        &self.0.hash
    }
}

impl AuditEntry {
    fn changes(&self) -> Value {
        serde_json::from_str(&self.0.changes).unwrap_or(Value::Null)
    }
}

#[derive(InputObject, Default)]
pub struct AuditFilterInput {
    pub user_id: Option<ID>,
    pub object_id: Option<ID>,
    /// e.g. `house`, `account`, `membership`.
    pub object_type: Option<String>,
    /// e.g. `updateHouse`.
    pub operation: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Who did what, newest first.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        filter: Option<AuditFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<AuditEntry>> {
        let org = uuid("organisationId", &organisation_id)?;
        principal(ctx)?.scope_whole("Query.auditLog", org)?;
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let f = filter.unwrap_or_default();
        let filter = LogFilter {
            user_id: opt_uuid("filter.userId", f.user_id.as_ref())?,
            object_id: opt_uuid("filter.objectId", f.object_id.as_ref())?,
            object_type: f.object_type,
            operation: f.operation,
            from: f.from,
            to: f.to,
        };
        let (rows, total) = super::read::log(&registry.db, org, filter, page).await?;
        Ok(connection(rows, total, page, AuditEntry))
    }
}
