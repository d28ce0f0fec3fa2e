use sea_orm::entity::prelude::*;

/// An account's receipt for a period; its lines are its `charges`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "receipts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub period: String,
    pub account_id: Uuid,
    pub house_id: Uuid,
    /// Amounts in minor units.
    pub opening_minor: i64,
    pub charged_minor: i64,
    pub benefits_minor: i64,
    pub recalculated_minor: i64,
    /// Late-payment penalties on earlier debts.
    pub penalties_minor: i64,
    pub paid_minor: i64,
    pub due_minor: i64,
    pub due_date: Date,
    /// The code a resident joins the account with, for accounts nobody has joined.
    pub access_code: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
