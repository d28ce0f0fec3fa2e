use sea_orm::entity::prelude::*;

/// A correction of a past period's charge, billed in the open period.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "recalculations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub account_id: Uuid,
    pub service_id: Uuid,
    /// The corrected period.
    pub period_of: String,
    /// The open period whose receipt carries the difference.
    pub applied_in: String,
    /// `absence`, `quality`, `reading` or `other`.
    pub reason: String,
    pub comment: String,
    /// The quantity the difference is for (an exact decimal), when there is one.
    pub quantity: Option<String>,
    /// Signed: negative gives money back.
    pub amount_minor: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
