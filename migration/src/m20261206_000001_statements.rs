//! Bank statements (issue 6): each imported file once, its entries, and the
//! payers an accountant matched by hand.
//!
//! `statement_imports` is one row per file an organisation imported, unique by
//! the file's hash (importing it again finds the first import and writes
//! nothing). `statement_lines` are the file's entries as read: credits matched
//! to an account (`matched`, with the payment they made), credits waiting for
//! an accountant (`unmatched`, the queue), credits whose bank reference was
//! counted before (`duplicate`), money out (`debit`), and queue entries set
//! aside with a reason (`dismissed`). `payer_matches` remembers which account
//! a payer pays for, by the payer's bank account, tax id or name.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000001_statements"
    }
}

const UP: &str = r#"
CREATE TABLE statement_imports (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    format TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    statement_ref TEXT,
    bank_account TEXT,
    currency TEXT,
    entries INTEGER NOT NULL,
    matched INTEGER NOT NULL,
    matched_minor BIGINT NOT NULL,
    unmatched INTEGER NOT NULL,
    unmatched_minor BIGINT NOT NULL,
    duplicates INTEGER NOT NULL,
    debits INTEGER NOT NULL,
    debits_minor BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE UNIQUE INDEX statement_imports_file ON statement_imports (organisation_id, file_hash);
CREATE INDEX statement_imports_recent ON statement_imports (organisation_id, created_at);
CREATE TABLE statement_lines (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    import_id {uuid} NOT NULL,
    position INTEGER NOT NULL,
    amount_minor BIGINT NOT NULL,
    booked_on {date} NOT NULL,
    bank_reference TEXT NOT NULL,
    payer TEXT,
    payer_account TEXT,
    payer_tax_id TEXT,
    text TEXT NOT NULL,
    status TEXT NOT NULL,
    matched_by TEXT,
    account_id {uuid},
    payment_id {uuid},
    note TEXT,
    resolved_by TEXT,
    resolved_at {ts}
);
CREATE INDEX statement_lines_import ON statement_lines (organisation_id, import_id, position);
CREATE INDEX statement_lines_status ON statement_lines (organisation_id, status, booked_on);
CREATE INDEX statement_lines_reference ON statement_lines (organisation_id, bank_reference);
CREATE TABLE payer_matches (
    organisation_id {uuid} NOT NULL,
    payer_key TEXT NOT NULL,
    account_id {uuid} NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL,
    PRIMARY KEY (organisation_id, payer_key)
) {without_rowid}
"#;

const DOWN: &str = r#"
DROP TABLE payer_matches;
DROP TABLE statement_lines;
DROP TABLE statement_imports
"#;

const TENANT_TABLES: [&str; 3] = ["statement_imports", "statement_lines", "payer_matches"];

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
