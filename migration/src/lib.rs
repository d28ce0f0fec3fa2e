//! Database migrations, one module per change. Each runs on SQLite and PostgreSQL.
//!
//! DDL is written once with type placeholders (`{uuid}`, `{ts}`, `{date}`, `{bool}`, `{bytewise}`, `{without_rowid}`)
//! that [`ddl`] fills per back-end, so both databases get the same tables and indexes.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_registry;
mod m20261127_000001_access;
mod m20261127_000002_tenancy;
mod m20261128_000001_events_readings;
mod m20261129_000001_event_relay;
mod m20261130_000001_billing_catalogue;
mod m20261201_000001_billing_periods;
mod m20261202_000001_common_house_cap;
mod m20261203_000001_billing_read_indexes;
mod m20261204_000001_charges_key;
mod m20261205_000001_ledger_payments;
mod m20261206_000001_statements;
mod m20261207_000001_penalties;
mod m20261208_000001_complaints;
mod m20261209_000001_files;
mod m20261210_000001_paid_services;
mod m20261211_000001_staff_tasks;
mod m20261212_000001_audit_checkpoints;
mod m20261213_000001_staff_invitations;
mod m20261214_000001_email_verified;
mod m20261215_000001_address_claims;
mod m20261216_000001_meter_charges;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_registry::Migration),
            Box::new(m20261127_000001_access::Migration),
            Box::new(m20261127_000002_tenancy::Migration),
            Box::new(m20261128_000001_events_readings::Migration),
            Box::new(m20261129_000001_event_relay::Migration),
            Box::new(m20261130_000001_billing_catalogue::Migration),
            Box::new(m20261201_000001_billing_periods::Migration),
            Box::new(m20261202_000001_common_house_cap::Migration),
            Box::new(m20261203_000001_billing_read_indexes::Migration),
            Box::new(m20261204_000001_charges_key::Migration),
            Box::new(m20261205_000001_ledger_payments::Migration),
            Box::new(m20261206_000001_statements::Migration),
            Box::new(m20261207_000001_penalties::Migration),
            Box::new(m20261208_000001_complaints::Migration),
            Box::new(m20261209_000001_files::Migration),
            Box::new(m20261210_000001_paid_services::Migration),
            Box::new(m20261211_000001_staff_tasks::Migration),
            Box::new(m20261212_000001_audit_checkpoints::Migration),
            Box::new(m20261213_000001_staff_invitations::Migration),
            Box::new(m20261214_000001_email_verified::Migration),
            Box::new(m20261215_000001_address_claims::Migration),
            Box::new(m20261216_000001_meter_charges::Migration),
        ]
    }
}

/// Fills the type placeholders of a DDL text for the connected back-end.
pub(crate) fn ddl(backend: sea_orm::DatabaseBackend, text: &str) -> String {
    // Search keys compare byte-wise on both databases, so a range scan finds prefixes;
    // a table keyed by its primary key alone is clustered on it in SQLite.
    let (uuid, ts, date, boolean, bytewise, without_rowid) = match backend {
        sea_orm::DatabaseBackend::Postgres => (
            "UUID",
            "TIMESTAMPTZ",
            "DATE",
            "BOOLEAN",
            "COLLATE \"C\"",
            "",
        ),
        _ => ("BLOB", "TEXT", "TEXT", "INTEGER", "", "WITHOUT ROWID"),
    };
    text.replace("{uuid}", uuid)
        .replace("{bytewise}", bytewise)
        .replace("{without_rowid}", without_rowid)
        .replace("{ts}", ts)
        .replace("{date}", date)
        .replace("{bool}", boolean)
}

/// Runs each `;`-separated statement of a DDL text.
pub(crate) async fn run_ddl(manager: &SchemaManager<'_>, text: &str) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let sql = ddl(manager.get_database_backend(), text);
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        conn.execute_unprepared(statement).await?;
    }
    Ok(())
}

/// Row-level security on PostgreSQL for tables of one organisation each: a
/// row is seen and written only when its `column` names one of the
/// organisations in the connection's scope (see m20261127_000002_tenancy).
/// Nothing on SQLite.
pub(crate) async fn tenant_tables(
    manager: &SchemaManager<'_>,
    tables: &[(&str, &str)],
) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    let conn = manager.get_connection();
    for (table, column) in tables {
        conn.execute_unprepared(&format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
            .await?;
        conn.execute_unprepared(&format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
            .await?;
        conn.execute_unprepared(&format!(
            "CREATE POLICY tenant ON {table} \
             USING ((SELECT kvartal_all_orgs()) OR {column} = ANY ((SELECT kvartal_orgs())::uuid[])) \
             WITH CHECK ((SELECT kvartal_all_orgs()) OR {column} = ANY ((SELECT kvartal_orgs())::uuid[]))"
        ))
        .await?;
    }
    Ok(())
}
