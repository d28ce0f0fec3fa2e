//! Staff tasks (issue 7): work for a person or a group (department,
//! contractor) with a deadline, linked to any object (a house, premises, an
//! account, a meter, a complaint), reminded before the deadline and
//! escalated to a manager after it.
//!
//! `staff_tasks.status`: open, in_progress, done, cancelled.
//! `assignee_kind`: person, group. `link_type`: house, premises, account,
//! meter, complaint (or none).

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261211_000001_staff_tasks"
    }
}

const UP: &str = r#"
CREATE TABLE staff_tasks (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    assignee_kind TEXT NOT NULL,
    assignee_id {uuid} NOT NULL,
    link_type TEXT,
    link_id {uuid},
    deadline {ts} NOT NULL,
    remind_minutes INTEGER NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    created_by {uuid},
    created_by_name TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    done_at {ts},
    reminded_at {ts},
    escalated_at {ts},
    escalated_to {uuid}
);
CREATE INDEX staff_tasks_assignee ON staff_tasks (organisation_id, assignee_id, status);
CREATE INDEX staff_tasks_deadline ON staff_tasks (status, deadline)
"#;

const DOWN: &str = "DROP TABLE staff_tasks";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await?;
        crate::tenant_tables(manager, &[("staff_tasks", "organisation_id")]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, DOWN).await
    }
}
