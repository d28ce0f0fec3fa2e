//! What each period charged for each meter, and the reading its charges are
//! reconciled to (Rules 354 p.59–61). A period without a reading charges an
//! estimate (the average, fixed at the first missed period, then the norm);
//! the estimates since the last real reading add up here, so that when a
//! reading resumes, the volume actually measured since that reading is
//! compared with what the estimates charged and the difference becomes a
//! recalculation line. Rows of an open period are rewritten by each run, like
//! its charge lines; a closed period's stay as they were charged.
//!
//! Volumes and reading values in millionths (as readings are kept); one row
//! per account, period and meter (accounts sharing a premises carry the same
//! meter's row each).

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261216_000001_meter_charges"
    }
}

const UP: &str = r#"
CREATE TABLE meter_charges (
    organisation_id {uuid} NOT NULL,
    period TEXT NOT NULL,
    account_id {uuid} NOT NULL,
    meter_id {uuid} NOT NULL,
    source TEXT NOT NULL,
    volume1 BIGINT NOT NULL,
    volume2 BIGINT NOT NULL,
    volume3 BIGINT NOT NULL,
    anchor_on {date},
    anchor1 BIGINT NOT NULL,
    anchor2 BIGINT NOT NULL,
    anchor3 BIGINT NOT NULL,
    estimated1 BIGINT NOT NULL,
    estimated2 BIGINT NOT NULL,
    estimated3 BIGINT NOT NULL,
    gap_from TEXT,
    gap_periods INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, period, account_id, meter_id)
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await?;
        crate::tenant_tables(manager, &[("meter_charges", "organisation_id")]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, "DROP TABLE meter_charges").await
    }
}
