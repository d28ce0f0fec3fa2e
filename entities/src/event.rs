use sea_orm::entity::prelude::*;

/// One row of the transactional outbox (see the migration for its invariants).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub topic: String,
    pub house_id: Option<Uuid>,
    pub premises_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub object_id: Option<Uuid>,
    /// JSON.
    pub payload: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
