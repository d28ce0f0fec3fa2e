use sea_orm::entity::prelude::*;

use crate::{PremisesKind, RecordStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "premises")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub house_id: Uuid,
    pub number: String,
    pub kind: PremisesKind,
    pub entrance: Option<i32>,
    pub floor: Option<i32>,
    /// m² × 10⁶
    pub area_micro: i64,
    pub rooms: Option<i32>,
    pub status: RecordStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
