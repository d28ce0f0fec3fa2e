//! Late-payment penalties (issue 6): the organisation's rule in its billing
//! settings, and a receipt's penalties beside its charges, benefits and
//! recalculations.
//!
//! `penalty_rule`: `none`, `graduated` (a share of an annual rate a day, by
//! days late: `penalty_steps` `31:300,91:130` — from day 31 the rate ÷ 300,
//! from day 91 ÷ 130) or `fine_interest` (a fine in percent once, then a
//! monthly interest pro rata, after `penalty_grace_days`). Rates are decimal
//! text (SQLite keeps DECIMAL as a binary float).

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000001_penalties"
    }
}

const UP: &str = r#"
ALTER TABLE billing_settings ADD COLUMN penalty_rule TEXT NOT NULL DEFAULT 'none';
ALTER TABLE billing_settings ADD COLUMN penalty_rate TEXT NOT NULL DEFAULT '0';
ALTER TABLE billing_settings ADD COLUMN penalty_fine TEXT NOT NULL DEFAULT '0';
ALTER TABLE billing_settings ADD COLUMN penalty_grace_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE billing_settings ADD COLUMN penalty_steps TEXT NOT NULL DEFAULT '31:300,91:130';
ALTER TABLE receipts ADD COLUMN penalties_minor BIGINT NOT NULL DEFAULT 0
"#;

const DOWN: &str = r#"
ALTER TABLE receipts DROP COLUMN penalties_minor;
ALTER TABLE billing_settings DROP COLUMN penalty_steps;
ALTER TABLE billing_settings DROP COLUMN penalty_grace_days;
ALTER TABLE billing_settings DROP COLUMN penalty_fine;
ALTER TABLE billing_settings DROP COLUMN penalty_rate;
ALTER TABLE billing_settings DROP COLUMN penalty_rule
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
