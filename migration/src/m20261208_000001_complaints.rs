//! Complaints (issue 7): a complaint per problem, numbered per organisation,
//! its history (every move, comment and correction, never changed), the
//! organisation's classification rules and routing rules, and the groups
//! (departments, contractors) routing names.
//!
//! `complaints.status`: new, assigned, in_progress, waiting_resident,
//! waiting_parts, done, closed, rejected. `complaint_history.kind`: filed,
//! classified, reclassified, assigned, status, comment, rated; `public`
//! entries are what the resident sees.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000001_complaints"
    }
}

const UP: &str = r#"
CREATE TABLE complaint_heads (
    organisation_id {uuid} PRIMARY KEY,
    number BIGINT NOT NULL
);
CREATE TABLE complaints (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    number BIGINT NOT NULL,
    house_id {uuid} NOT NULL,
    premises_id {uuid},
    account_id {uuid},
    author_user_id {uuid},
    contact TEXT NOT NULL,
    source TEXT NOT NULL,
    text TEXT NOT NULL,
    category TEXT,
    category_by TEXT NOT NULL,
    priority TEXT NOT NULL,
    emergency {bool} NOT NULL,
    status TEXT NOT NULL,
    assignee_id {uuid},
    react_due {ts} NOT NULL,
    resolve_due {ts} NOT NULL,
    done_at {ts},
    closed_at {ts},
    rating INTEGER,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX complaints_number ON complaints (organisation_id, number);
CREATE INDEX complaints_status ON complaints (organisation_id, status, created_at);
CREATE INDEX complaints_house ON complaints (organisation_id, house_id, status);
CREATE INDEX complaints_assignee ON complaints (organisation_id, assignee_id, status);
CREATE INDEX complaints_author ON complaints (organisation_id, author_user_id, created_at);
CREATE TABLE complaint_history (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    complaint_id {uuid} NOT NULL,
    kind TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    public {bool} NOT NULL,
    text TEXT,
    data TEXT NOT NULL,
    actor_id {uuid},
    actor TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX complaint_history_complaint ON complaint_history (organisation_id, complaint_id, created_at);
CREATE TABLE complaint_rules (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    locale TEXT,
    phrase TEXT NOT NULL,
    weight INTEGER NOT NULL,
    emergency {bool} NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX complaint_rules_org ON complaint_rules (organisation_id, position);
CREATE TABLE complaint_routes (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    category TEXT,
    house_id {uuid},
    target_kind TEXT NOT NULL,
    target_id {uuid} NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX complaint_routes_org ON complaint_routes (organisation_id, position);
CREATE TABLE staff_groups (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX staff_groups_org ON staff_groups (organisation_id, name);
CREATE TABLE staff_group_members (
    organisation_id {uuid} NOT NULL,
    group_id {uuid} NOT NULL,
    user_id {uuid} NOT NULL,
    PRIMARY KEY (organisation_id, group_id, user_id)
) {without_rowid}
"#;

const DOWN: &str = r#"
DROP TABLE staff_group_members;
DROP TABLE staff_groups;
DROP TABLE complaint_routes;
DROP TABLE complaint_rules;
DROP TABLE complaint_history;
DROP TABLE complaints;
DROP TABLE complaint_heads
"#;

const TENANT_TABLES: [&str; 7] = [
    "complaint_heads",
    "complaints",
    "complaint_history",
    "complaint_rules",
    "complaint_routes",
    "staff_groups",
    "staff_group_members",
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
