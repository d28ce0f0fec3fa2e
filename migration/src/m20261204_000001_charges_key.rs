//! A charge line is known by its place on the receipt: the lines move from
//! `charges` to `charge_lines`, keyed by `(organisation_id, period,
//! account_id, position)` (which the `charges_account` index held already),
//! and the line's own uuid goes. (A new name: SQLite refuses to give a table
//! the name of one dropped in the same migration.) One
//! index less to fill per line: the billing run writes six lines an account
//! (measured on PostgreSQL: 600 000 lines into two indexes 2.3 s, into one
//! 1.4 s). On SQLite it stays a rowid table: clustered on the key (WITHOUT
//! ROWID) the billing run measured 11.5–12.1 s against 10.2–11.0 s.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000001_charges_key"
    }
}

const COLUMNS: &str = "organisation_id, period, account_id, position, house_id, kind, service_id, \
                       label, source, quantity, unit, tariff, amount_minor";

const UP: &str = r#"
CREATE TABLE charge_lines (
    organisation_id {uuid} NOT NULL,
    period TEXT NOT NULL,
    account_id {uuid} NOT NULL,
    position INTEGER NOT NULL,
    house_id {uuid} NOT NULL,
    kind TEXT NOT NULL,
    service_id {uuid},
    label TEXT NOT NULL,
    source TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit TEXT NOT NULL,
    tariff TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, period, account_id, position)
);
INSERT INTO charge_lines ({columns}) SELECT {columns} FROM charges;
DROP TABLE charges
"#;

const DOWN: &str = r#"
CREATE TABLE charges (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    period TEXT NOT NULL,
    account_id {uuid} NOT NULL,
    house_id {uuid} NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    service_id {uuid},
    label TEXT NOT NULL,
    source TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit TEXT NOT NULL,
    tariff TEXT NOT NULL,
    amount_minor BIGINT NOT NULL
);
INSERT INTO charges (id, {columns}) SELECT {new_uuid}, {columns} FROM charge_lines;
DROP TABLE charge_lines;
CREATE INDEX charges_account ON charges (organisation_id, period, account_id, position)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, &UP.replace("{columns}", COLUMNS)).await?;
        crate::tenant_tables(manager, &[("charge_lines", "organisation_id")]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let new_uuid = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => "gen_random_uuid()",
            _ => "randomblob(16)",
        };
        let down = DOWN
            .replace("{columns}", COLUMNS)
            .replace("{new_uuid}", new_uuid);
        run_ddl(manager, &down).await?;
        crate::tenant_tables(manager, &[("charges", "organisation_id")]).await
    }
}
