//! Attachments (issue 7): files of complaints, readings, accounts and
//! people, their bytes in the file store. With them, what complaints still
//! needed: the organisation's reopen window and deadlines per category and
//! priority, the overdue mark and escalation, and the notifications that are
//! due (emergencies, escalations) until the notifications issue sends them.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_000001_files"
    }
}

const UP: &str = r#"
CREATE TABLE attachments (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    owner_type TEXT NOT NULL,
    owner_id {uuid} NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_by {uuid},
    uploaded_by_name TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX attachments_owner ON attachments (organisation_id, owner_type, owner_id, created_at);
CREATE TABLE complaint_settings (
    organisation_id {uuid} PRIMARY KEY,
    reopen_days INTEGER NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE TABLE complaint_slas (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    category TEXT,
    priority TEXT NOT NULL,
    react_hours INTEGER NOT NULL,
    resolve_hours INTEGER NOT NULL
);
CREATE INDEX complaint_slas_org ON complaint_slas (organisation_id);
ALTER TABLE complaints ADD COLUMN overdue_at {ts};
ALTER TABLE complaints ADD COLUMN escalated_to {uuid};
CREATE INDEX complaints_due ON complaints (resolve_due);
CREATE TABLE notification_intents (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    kind TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id {uuid} NOT NULL,
    user_id {uuid},
    text TEXT NOT NULL,
    created_at {ts} NOT NULL,
    sent_at {ts}
);
CREATE INDEX notification_intents_unsent ON notification_intents (organisation_id, sent_at, created_at)
"#;

const DOWN: &str = r#"
DROP TABLE notification_intents;
DROP INDEX complaints_due;
ALTER TABLE complaints DROP COLUMN escalated_to;
ALTER TABLE complaints DROP COLUMN overdue_at;
DROP TABLE complaint_slas;
DROP TABLE complaint_settings;
DROP TABLE attachments
"#;

const TENANT_TABLES: [&str; 4] = [
    "attachments",
    "complaint_settings",
    "complaint_slas",
    "notification_intents",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await?;
        crate::tenant_tables(manager, &TENANT_TABLES.map(|t| (t, "organisation_id"))).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, DOWN).await
    }
}
