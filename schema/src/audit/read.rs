//! Reading the audit log: an organisation's entries by filter, an object's history.

use chrono::{DateTime, Utc};
use entities::audit_entry;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::error::AppResult;
use crate::registry::service::Page;

#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub user_id: Option<Uuid>,
    pub object_id: Option<Uuid>,
    pub object_type: Option<String>,
    pub operation: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// An organisation's entries, newest first, and how many match.
pub async fn log(
    db: &DatabaseConnection,
    organisation_id: Uuid,
    f: LogFilter,
    page: Page,
) -> AppResult<(Vec<audit_entry::Model>, u64)> {
    let mut q =
        audit_entry::Entity::find().filter(audit_entry::Column::OrganisationId.eq(organisation_id));
    if let Some(u) = f.user_id {
        q = q.filter(audit_entry::Column::UserId.eq(u));
    }
    if let Some(o) = f.object_id {
        q = q.filter(audit_entry::Column::ObjectId.eq(o));
    }
    if let Some(t) = f.object_type {
        q = q.filter(audit_entry::Column::ObjectType.eq(t));
    }
    if let Some(op) = f.operation {
        q = q.filter(audit_entry::Column::Operation.eq(op));
    }
    if let Some(from) = f.from {
        q = q.filter(audit_entry::Column::At.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(audit_entry::Column::At.lt(to));
    }
    let q = q.order_by_desc(audit_entry::Column::Seq);
    let total = q.clone().count(db).await?;
    let rows = q.offset(page.offset).limit(page.limit).all(db).await?;
    Ok((rows, total))
}

/// The last changes of one object, newest first.
pub async fn history(
    db: &DatabaseConnection,
    object_id: Uuid,
    limit: u64,
) -> AppResult<Vec<audit_entry::Model>> {
    Ok(audit_entry::Entity::find()
        .filter(audit_entry::Column::ObjectId.eq(object_id))
        .order_by_desc(audit_entry::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}
