use sea_orm::entity::prelude::*;

/// A service's consumption norm per month and per unit of `basis`, from
/// `valid_from` to `valid_to` (inclusive; none: until changed), for the
/// organisation (`house_id` none) or one house.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "norms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub service_id: Uuid,
    pub house_id: Option<Uuid>,
    pub basis: crate::NormBasis,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    /// An exact decimal.
    pub value: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
