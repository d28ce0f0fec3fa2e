use sea_orm::entity::prelude::*;

/// A billing month of an organisation: `open` → `calculated` → `closed`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "billing_periods")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// `2026-11`.
    pub period: String,
    pub status: String,
    /// The running calculation's lease.
    pub lock_token: Option<Uuid>,
    pub locked_until: Option<DateTimeUtc>,
    pub accounts_total: i32,
    pub accounts_done: i32,
    /// Secret of the period from which receipts' access codes are derived.
    #[serde(skip)]
    pub code_salt: String,
    pub calculated_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
