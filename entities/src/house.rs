use sea_orm::entity::prelude::*;

use crate::HouseStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "houses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub country: String,
    pub region: String,
    pub city: String,
    pub street: String,
    pub building: String,
    pub postal_code: String,
    /// The one-line address as printed on receipts; unique per organisation.
    pub address: String,
    pub year_built: Option<i32>,
    pub floors: Option<i32>,
    pub entrances: Option<i32>,
    /// m² × 10⁶
    pub total_area_micro: Option<i64>,
    /// m² × 10⁶
    pub common_area_micro: Option<i64>,
    pub management_start: Option<Date>,
    pub status: HouseStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
