use sea_orm::entity::prelude::*;

use crate::OccupancyRole;

/// A person's link to a premises: owner (with a share) or tenant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "occupancies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub premises_id: Uuid,
    pub person_id: Uuid,
    pub role: OccupancyRole,
    /// Owners only; tenants carry 0/1.
    pub share_num: i64,
    pub share_den: i64,
    pub since: Option<Date>,
    pub until: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
