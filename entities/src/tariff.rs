use sea_orm::entity::prelude::*;

/// A service's prices from `valid_from` to `valid_to` (inclusive; none: until
/// changed), for the organisation (`house_id` none) or one house.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "tariffs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub service_id: Uuid,
    pub house_id: Option<Uuid>,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    /// JSON: per zone, its tiers, numbers as exact decimal strings.
    pub prices: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
