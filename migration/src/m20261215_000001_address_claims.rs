//! An address claim waiting for its owner's answer: the owner of an email
//! proved it (an emailed code) on an account someone had registered under it
//! without proof and had set a password, passkeys or residences on. Until the
//! owner says whether that was them, the account's password and passkeys do
//! not sign anyone in: see `schema::auth::proof`.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261215_000001_address_claims"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let ts = if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            "TIMESTAMPTZ"
        } else {
            "TEXT"
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE users ADD COLUMN address_claim_at {ts}"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE users DROP COLUMN address_claim_at")
            .await?;
        Ok(())
    }
}
