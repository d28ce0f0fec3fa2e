//! Indexes that cover the billing run's joins from a chunk's accounts to
//! their premises' meters: `accounts_org_premises` (replacing
//! `accounts_org_id`) carries the premises and `meters_premises_id`
//! (replacing `meters_premises`) the meter's id, so walking a chunk reads no table rows
//! for either (the meters' and readings' own columns still come from theirs).

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000001_billing_read_indexes"
    }
}

const UP: &str = r#"
CREATE INDEX accounts_org_premises ON accounts (organisation_id, id, premises_id);
DROP INDEX accounts_org_id;
CREATE INDEX meters_premises_id ON meters (premises_id, id);
DROP INDEX meters_premises
"#;

const DOWN: &str = r#"
CREATE INDEX meters_premises ON meters (premises_id);
DROP INDEX meters_premises_id;
CREATE INDEX accounts_org_id ON accounts (organisation_id, id);
DROP INDEX accounts_org_premises
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, DOWN).await
    }
}
