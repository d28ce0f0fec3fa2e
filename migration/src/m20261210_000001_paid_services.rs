//! Paid extra services (issue 7): the organisation's catalogue with a price
//! for every house (or its own price for some), and the orders — each a work
//! order routed and worked like a complaint, whose price goes on the
//! account's next receipt once it is done (or is paid at once, recorded as a
//! payment).
//!
//! `service_orders.status`: ordered, done, cancelled. `bill_period`: the
//! receipt it is charged on (set when done).

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261210_000001_paid_services"
    }
}

const UP: &str = r#"
CREATE TABLE paid_services (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT,
    unit TEXT NOT NULL,
    price_minor BIGINT NOT NULL,
    active {bool} NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX paid_services_code ON paid_services (organisation_id, code);
CREATE TABLE paid_service_prices (
    organisation_id {uuid} NOT NULL,
    service_id {uuid} NOT NULL,
    house_id {uuid} NOT NULL,
    price_minor BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, service_id, house_id)
) {without_rowid};
CREATE TABLE service_orders (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    service_id {uuid} NOT NULL,
    account_id {uuid} NOT NULL,
    house_id {uuid} NOT NULL,
    complaint_id {uuid} NOT NULL,
    number BIGINT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    price_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    payment_id {uuid},
    bill_period TEXT,
    ordered_by {uuid},
    created_at {ts} NOT NULL,
    done_at {ts}
);
CREATE UNIQUE INDEX service_orders_complaint ON service_orders (complaint_id);
CREATE INDEX service_orders_bill ON service_orders (organisation_id, bill_period, account_id);
CREATE INDEX service_orders_account ON service_orders (organisation_id, account_id, created_at)
"#;

const DOWN: &str = r#"
DROP TABLE service_orders;
DROP TABLE paid_service_prices;
DROP TABLE paid_services
"#;

const TENANT_TABLES: [&str; 3] = ["paid_services", "paid_service_prices", "service_orders"];

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
