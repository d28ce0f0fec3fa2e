//! Invitations to an organisation's staff for someone who already has an
//! account: the admin's wish is not applied to that account until its owner,
//! signed in, accepts with the token sent to the account's email. (Before,
//! `addStaffMember` attached the account at once: whoever had registered with
//! that email first, a resident with a receipt's access code say, became staff.)
//!
//! Only the token's hash is kept; `accepted_at` is set once.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261213_000001_staff_invitations"
    }
}

const UP: &str = r#"
CREATE TABLE staff_invitations (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    user_id {uuid} NOT NULL,
    roles TEXT NOT NULL,
    house_ids TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by {uuid},
    created_at {ts} NOT NULL,
    expires_at {ts} NOT NULL,
    accepted_at {ts}
);
CREATE INDEX staff_invitations_user ON staff_invitations (user_id)
"#;

const DOWN: &str = "DROP TABLE staff_invitations";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await?;
        crate::tenant_tables(manager, &[("staff_invitations", "organisation_id")]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, DOWN).await
    }
}
