//! Whether an organisation caps common-house needs measured by the house
//! meter (Rules 354, F12) at the norm for common areas (F15): true by default,
//! as the Russian rules have it since 2017.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000001_common_house_cap"
    }
}

const UP: &str = r#"
ALTER TABLE billing_settings ADD COLUMN common_house_capped {bool} NOT NULL DEFAULT TRUE
"#;

const DOWN: &str = r#"
ALTER TABLE billing_settings DROP COLUMN common_house_capped
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, DOWN).await
    }
}
