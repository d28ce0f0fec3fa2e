use sea_orm::entity::prelude::*;

/// A payment reversed as a whole (`reversal`) or part of its advance paid
/// back (`refund`), with the reason; a document of its own.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "payment_returns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub payment_id: Uuid,
    pub kind: String,
    pub amount_minor: i64,
    pub reason: String,
    pub period: String,
    pub recorded_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
