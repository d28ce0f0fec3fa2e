//! When a user's email was proven theirs (an emailed code or link), or vouched
//! for by an admin who added them. An account someone registered under an
//! address without proving it (a resident with a receipt's access code) keeps
//! nothing it had from before that proof: see `auth::service::email_proven`.
//! Staff added by an admin so far count as vouched for.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261214_000001_email_verified"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let ts = if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            "TIMESTAMPTZ"
        } else {
            "TEXT"
        };
        conn.execute_unprepared(&format!(
            "ALTER TABLE users ADD COLUMN email_verified_at {ts}"
        ))
        .await?;
        // On PostgreSQL the memberships table is behind row-level security;
        // a migration runs as the owner with every organisation visible.
        conn.execute_unprepared(
            "UPDATE users SET email_verified_at = created_at \
             WHERE id IN (SELECT user_id FROM memberships)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE users DROP COLUMN email_verified_at")
            .await?;
        Ok(())
    }
}
