//! Anchors of the audit log: each organisation's chain head, checkpointed
//! every day and at each period close with a MAC under a key kept outside the
//! database, so that cutting the chain's tail and rewriting its head is caught
//! by `kvartal audit verify`.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_000001_audit_checkpoints"
    }
}

const UP: &str = r#"
CREATE TABLE audit_checkpoints (
    organisation_id {uuid} NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    mac TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at {ts} NOT NULL,
    PRIMARY KEY (organisation_id, seq)
)
"#;

const DOWN: &str = "DROP TABLE audit_checkpoints";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await?;
        crate::tenant_tables(manager, &[("audit_checkpoints", "organisation_id")]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, DOWN).await
    }
}
