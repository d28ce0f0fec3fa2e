use sea_orm::entity::prelude::*;

/// One entry of an imported statement and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "statement_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub import_id: Uuid,
    /// Its place in the file (line or ordinal).
    pub position: i32,
    pub amount_minor: i64,
    pub booked_on: Date,
    pub bank_reference: String,
    pub payer: Option<String>,
    pub payer_account: Option<String>,
    pub payer_tax_id: Option<String>,
    pub text: String,
    /// `matched`, `unmatched`, `duplicate`, `debit` or `dismissed`.
    pub status: String,
    /// `account_number`, `receipt`, `payer` or `manual`.
    pub matched_by: Option<String>,
    pub account_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    /// Why it was dismissed.
    pub note: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
