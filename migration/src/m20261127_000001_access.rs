//! Identity and access: users, memberships (roles, house limits), resident links,
//! account access codes, sessions, one-time codes, passkeys and their ceremonies,
//! and the audit log with its per-organisation hash chain.
//!
//! The audit log is append-only: triggers refuse UPDATE and DELETE on both
//! back-ends, and the hash chain makes any edit done around them detectable.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000001_access"
    }
}

const UP: &str = r#"
CREATE TABLE users (
    id {uuid} PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    locale TEXT NOT NULL,
    disabled {bool} NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
) {without_rowid};
CREATE UNIQUE INDEX users_email ON users (email_key);
CREATE TABLE memberships (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    user_id {uuid} NOT NULL,
    roles TEXT NOT NULL,
    house_ids TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
) {without_rowid};
CREATE UNIQUE INDEX memberships_user_org ON memberships (user_id, organisation_id);
CREATE INDEX memberships_org ON memberships (organisation_id);
CREATE TABLE resident_links (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    user_id {uuid} NOT NULL,
    account_id {uuid} NOT NULL,
    created_at {ts} NOT NULL
) {without_rowid};
CREATE UNIQUE INDEX resident_links_user_account ON resident_links (user_id, account_id);
CREATE INDEX resident_links_account ON resident_links (organisation_id, account_id);
CREATE TABLE access_codes (
    account_id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    code_hash TEXT NOT NULL,
    issued_by {uuid},
    attempts INTEGER NOT NULL,
    expires_at {ts} NOT NULL,
    created_at {ts} NOT NULL
) {without_rowid};
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id {uuid} NOT NULL,
    method TEXT NOT NULL,
    address TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at {ts} NOT NULL,
    last_seen_at {ts} NOT NULL,
    expires_at {ts} NOT NULL
) {without_rowid};
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE one_time_codes (
    id {uuid} PRIMARY KEY,
    user_id {uuid} NOT NULL,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    expires_at {ts} NOT NULL,
    created_at {ts} NOT NULL
) {without_rowid};
CREATE INDEX one_time_codes_user ON one_time_codes (user_id, purpose);
CREATE TABLE passkeys (
    id {uuid} PRIMARY KEY,
    user_id {uuid} NOT NULL,
    credential_id TEXT NOT NULL,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    created_at {ts} NOT NULL,
    last_used_at {ts}
) {without_rowid};
CREATE UNIQUE INDEX passkeys_credential ON passkeys (credential_id);
CREATE INDEX passkeys_user ON passkeys (user_id);
CREATE TABLE ceremonies (
    id {uuid} PRIMARY KEY,
    user_id {uuid},
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at {ts} NOT NULL
) {without_rowid};
CREATE TABLE audit_log (
    organisation_id {uuid} NOT NULL,
    seq BIGINT NOT NULL,
    id {uuid} NOT NULL,
    at {ts} NOT NULL,
    user_id {uuid},
    user_email TEXT NOT NULL,
    roles TEXT NOT NULL,
    operation TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id {uuid},
    changes TEXT NOT NULL,
    request_id TEXT NOT NULL,
    client_address TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (organisation_id, seq)
) {without_rowid};
CREATE INDEX audit_log_object ON audit_log (object_id, seq);
CREATE INDEX audit_log_user ON audit_log (organisation_id, user_id, seq);
CREATE INDEX audit_log_at ON audit_log (organisation_id, at);
CREATE TABLE audit_heads (
    organisation_id {uuid} PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
) {without_rowid}
"#;

const APPEND_ONLY_SQLITE: [&str; 2] = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
];

const APPEND_ONLY_POSTGRES: [&str; 2] = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
];

const DOWN: &str = r#"
DROP TABLE audit_heads;
DROP TABLE audit_log;
DROP TABLE ceremonies;
DROP TABLE passkeys;
DROP TABLE one_time_codes;
DROP TABLE sessions;
DROP TABLE access_codes;
DROP TABLE resident_links;
DROP TABLE memberships;
DROP TABLE users
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await?;
        let triggers = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => APPEND_ONLY_POSTGRES,
            _ => APPEND_ONLY_SQLITE,
        };
        for statement in triggers {
            manager
                .get_connection()
                .execute_unprepared(statement)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_log_append_only() CASCADE")
                .await?;
        }
        run_ddl(manager, DOWN).await
    }
}
