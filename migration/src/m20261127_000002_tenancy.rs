//! Row-level security on PostgreSQL: every tenant table shows only the rows of
//! the organisations in the connection's `kvartal.orgs` setting (`*` for the
//! server itself, a comma-separated list for a request, empty for nobody).
//! FORCE makes it hold for the tables' owner too, so the application needs no
//! role of its own beyond one that is not a superuser. SQLite has no such wall.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000002_tenancy"
    }
}

/// Tables and the column that names their organisation.
const TENANT_TABLES: [(&str, &str); 13] = [
    ("organisations", "id"),
    ("houses", "organisation_id"),
    ("premises", "organisation_id"),
    ("accounts", "organisation_id"),
    ("people", "organisation_id"),
    ("person_terms", "organisation_id"),
    ("occupancies", "organisation_id"),
    ("meters", "organisation_id"),
    ("memberships", "organisation_id"),
    ("resident_links", "organisation_id"),
    ("access_codes", "organisation_id"),
    ("audit_log", "organisation_id"),
    ("audit_heads", "organisation_id"),
];

/// Whether the connection may see every organisation, and which ones it may
/// see otherwise. The policies call them inside `(SELECT …)`, so PostgreSQL
/// computes them once per query rather than once per row.
const SCOPE_FUNCTIONS: [&str; 2] = [
    r#"CREATE FUNCTION kvartal_all_orgs() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('kvartal.orgs', true), '') = '*'
$$"#,
    r#"CREATE FUNCTION kvartal_orgs() RETURNS uuid[] LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN coalesce(current_setting('kvartal.orgs', true), '') IN ('', '*') THEN '{}'::uuid[]
    ELSE string_to_array(current_setting('kvartal.orgs', true), ',')::uuid[] END
$$"#,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let conn = manager.get_connection();
        for f in SCOPE_FUNCTIONS {
            conn.execute_unprepared(f).await?;
        }
        crate::tenant_tables(manager, &TENANT_TABLES).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let conn = manager.get_connection();
        for (table, _) in TENANT_TABLES {
            conn.execute_unprepared(&format!("DROP POLICY IF EXISTS tenant ON {table}"))
                .await?;
            conn.execute_unprepared(&format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
                .await?;
            conn.execute_unprepared(&format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"))
                .await?;
        }
        conn.execute_unprepared("DROP FUNCTION IF EXISTS kvartal_all_orgs()")
            .await?;
        conn.execute_unprepared("DROP FUNCTION IF EXISTS kvartal_orgs()")
            .await?;
        Ok(())
    }
}
