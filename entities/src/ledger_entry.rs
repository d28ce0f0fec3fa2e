use sea_orm::entity::prelude::*;

/// One line of an account's ledger; never changed (see the migration
/// ledger_payments). `amount_minor` > 0 is owed, < 0 received.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub account_id: Uuid,
    pub house_id: Uuid,
    /// The receipt (`2026-11`) that shows the entry.
    pub period: String,
    /// The debt the entry makes or settles; none for an advance.
    pub debt_period: Option<String>,
    pub service_id: Option<Uuid>,
    /// `charge`, `benefit`, `recalculation`, `penalty`, `payment`,
    /// `reversal`, `refund` or `allocation`.
    pub kind: String,
    pub amount_minor: i64,
    /// `receipt` or `payment`.
    pub document: String,
    pub document_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
