//! Billing periods, their charges and receipts; benefit categories and
//! recalculations; an organisation's billing settings.
//!
//! `billing_periods` holds one row per organisation and month (`period`
//! `2026-11`) with its status (`open`, `calculated`, `closed`) and the run's
//! lease: the run that holds `lock_token` until `locked_until` is the only
//! one allowed to write the period's charges (each chunk's transaction checks
//! it), so two instances never calculate the same period at once, and a run
//! killed half-way leaves a lease that simply expires. `charges` are a
//! receipt's lines (charges, benefits, recalculations) with exact quantity and
//! tariff as decimal strings and the amount in minor units; `receipts` one row
//! per account and period with its totals. A chunk replaces its accounts'
//! charges and receipts in one transaction, so a rerun never duplicates.
//! `recalculations` correct a past period: the difference is billed in the
//! open period `applied_in`, the past one never changes. `accounts_org_id`
//! lets a run walk an organisation's accounts by id, chunk by chunk.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_billing_periods"
    }
}

const UP: &str = r#"
CREATE TABLE billing_settings (
    organisation_id {uuid} PRIMARY KEY REFERENCES organisations (id),
    qr_standard TEXT NOT NULL,
    due_day INTEGER NOT NULL,
    pix_key TEXT,
    pix_city TEXT,
    corresp_account TEXT,
    average_months INTEGER NOT NULL,
    min_months INTEGER NOT NULL,
    max_average_periods INTEGER NOT NULL,
    receipt_title TEXT NOT NULL,
    receipt_note TEXT NOT NULL,
    receipt_footer TEXT NOT NULL,
    accent_color TEXT NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE TABLE benefit_categories (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    code TEXT {bytewise} NOT NULL,
    name TEXT NOT NULL,
    percent TEXT NOT NULL,
    service_codes TEXT NOT NULL,
    per_person {bool} NOT NULL,
    social_norm TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX benefit_categories_code ON benefit_categories (organisation_id, code);
CREATE TABLE billing_periods (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    period TEXT NOT NULL,
    status TEXT NOT NULL,
    lock_token {uuid},
    locked_until {ts},
    accounts_total INTEGER NOT NULL,
    accounts_done INTEGER NOT NULL,
    code_salt TEXT NOT NULL,
    calculated_at {ts},
    closed_at {ts},
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX billing_periods_month ON billing_periods (organisation_id, period);
CREATE TABLE recalculations (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    account_id {uuid} NOT NULL REFERENCES accounts (id),
    service_id {uuid} NOT NULL REFERENCES services (id),
    period_of TEXT NOT NULL,
    applied_in TEXT NOT NULL,
    reason TEXT NOT NULL,
    comment TEXT NOT NULL,
    quantity TEXT,
    amount_minor BIGINT NOT NULL,
    created_by {uuid},
    created_at {ts} NOT NULL
);
CREATE INDEX recalculations_applied ON recalculations (organisation_id, applied_in, account_id);
CREATE INDEX recalculations_account ON recalculations (account_id, period_of);
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
CREATE INDEX charges_account ON charges (organisation_id, period, account_id, position);
CREATE TABLE receipts (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    period TEXT NOT NULL,
    account_id {uuid} NOT NULL,
    house_id {uuid} NOT NULL,
    opening_minor BIGINT NOT NULL,
    charged_minor BIGINT NOT NULL,
    benefits_minor BIGINT NOT NULL,
    recalculated_minor BIGINT NOT NULL,
    paid_minor BIGINT NOT NULL,
    due_minor BIGINT NOT NULL,
    due_date {date} NOT NULL,
    access_code TEXT,
    created_at {ts} NOT NULL
);
CREATE UNIQUE INDEX receipts_account ON receipts (organisation_id, period, account_id);
CREATE INDEX receipts_house ON receipts (organisation_id, period, house_id);
CREATE INDEX accounts_org_id ON accounts (organisation_id, id)
"#;

const DOWN: &str = r#"
DROP INDEX accounts_org_id;
DROP TABLE receipts;
DROP TABLE charges;
DROP TABLE recalculations;
DROP TABLE billing_periods;
DROP TABLE benefit_categories;
DROP TABLE billing_settings
"#;

const TENANT_TABLES: [&str; 6] = [
    "billing_settings",
    "benefit_categories",
    "billing_periods",
    "recalculations",
    "charges",
    "receipts",
];

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
