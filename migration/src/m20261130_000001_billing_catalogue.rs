//! The billing catalogue: an organisation's services and their tariffs.
//!
//! `services` names what is billed, in which unit and by which calculation
//! method (metered services name the meters' resource and their zones), with
//! the supplier's requisites when the organisation bills on a supplier's
//! behalf. `tariffs` holds a service's prices over time, for the whole
//! organisation (`house_id` NULL) or one house: from `valid_from` to
//! `valid_to` (inclusive; NULL until changed), versions of one scope never
//! overlapping. `prices` is JSON, one list of tiers per zone, every number an
//! exact decimal string: `[[{"upTo":"100","price":"5.12"},{"upTo":null,"price":"7"}]]`.
//! `norms` holds a service's consumption norm over time in the same way, per
//! month and per person, per m² of the premises or per m² of common area
//! (`basis`), as an exact decimal string.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000001_billing_catalogue"
    }
}

const UP: &str = r#"
CREATE TABLE services (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    code TEXT {bytewise} NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    method TEXT NOT NULL,
    resource TEXT,
    zones INTEGER NOT NULL,
    norm_coefficient TEXT,
    provider_name TEXT,
    provider_tax_id TEXT,
    provider_account TEXT,
    provider_bank_id TEXT,
    archived {bool} NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX services_code ON services (organisation_id, code);
CREATE TABLE tariffs (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    service_id {uuid} NOT NULL REFERENCES services (id),
    house_id {uuid},
    valid_from {date} NOT NULL,
    valid_to {date},
    prices TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX tariffs_service ON tariffs (service_id, house_id, valid_from);
CREATE TABLE norms (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    service_id {uuid} NOT NULL REFERENCES services (id),
    house_id {uuid},
    basis TEXT NOT NULL,
    valid_from {date} NOT NULL,
    valid_to {date},
    value TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX norms_service ON norms (service_id, house_id, basis, valid_from)
"#;

const DOWN: &str = r#"
DROP TABLE norms;
DROP TABLE tariffs;
DROP TABLE services
"#;

const TENANT_TABLES: [&str; 3] = ["services", "tariffs", "norms"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await?;
        crate::tenant_tables(manager, &TENANT_TABLES.map(|t| (t, "organisation_id"))).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, DOWN).await
    }
}
