//! The ledger and payments (issue 6).
//!
//! `ledger_entries` is append-only: a debit (charge, benefit, recalculation,
//! penalty; `amount_minor` > 0 for what the account owes) or a credit
//! (payment < 0; its reversal or refund > 0). `period` is the receipt that
//! shows the entry; `debt_period` the debt it makes or settles (NULL: an
//! advance, money received and not yet owed); `allocation` entries move an
//! advance onto a debt and net to zero. Balances, debts by period and by
//! service, and any period's opening and closing balance are sums of it.
//!
//! `payments` are documents, never changed; `payment_returns` (a reversal of
//! the whole payment, or a refund of part of its advance) are documents of
//! their own. `idempotency_keys` remember each integration's keys per
//! organisation and caller with a hash of the request.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000001_ledger_payments"
    }
}

const UP: &str = r#"
CREATE TABLE ledger_entries (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    account_id {uuid} NOT NULL,
    house_id {uuid} NOT NULL,
    period TEXT NOT NULL,
    debt_period TEXT,
    service_id {uuid},
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    document TEXT NOT NULL,
    document_id {uuid} NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX ledger_account ON ledger_entries (organisation_id, account_id, period, amount_minor);
CREATE INDEX ledger_document ON ledger_entries (organisation_id, document_id);
CREATE TABLE payments (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    account_id {uuid} NOT NULL,
    house_id {uuid} NOT NULL,
    amount_minor BIGINT NOT NULL,
    method TEXT NOT NULL,
    paid_on {date} NOT NULL,
    period TEXT NOT NULL,
    bank_reference TEXT,
    payer TEXT,
    purpose TEXT,
    source TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX payments_account ON payments (organisation_id, account_id, created_at);
CREATE INDEX payments_recorded ON payments (organisation_id, created_at);
CREATE UNIQUE INDEX payments_bank_reference ON payments (organisation_id, bank_reference);
CREATE TABLE payment_returns (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    payment_id {uuid} NOT NULL,
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    reason TEXT NOT NULL,
    period TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX payment_returns_payment ON payment_returns (organisation_id, payment_id);
CREATE TABLE idempotency_keys (
    organisation_id {uuid} NOT NULL,
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    payment_id {uuid} NOT NULL,
    created_at {ts} NOT NULL,
    PRIMARY KEY (organisation_id, caller, key)
) {without_rowid};
ALTER TABLE billing_settings ADD COLUMN allocation TEXT NOT NULL DEFAULT 'oldest_first'
"#;

const DOWN: &str = r#"
ALTER TABLE billing_settings DROP COLUMN allocation;
DROP TABLE idempotency_keys;
DROP TABLE payment_returns;
DROP TABLE payments;
DROP TABLE ledger_entries
"#;

const TENANT_TABLES: [&str; 4] = [
    "ledger_entries",
    "payments",
    "payment_returns",
    "idempotency_keys",
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
