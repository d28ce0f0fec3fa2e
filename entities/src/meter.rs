use sea_orm::entity::prelude::*;

use crate::{MeterStatus, Resource};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "meters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub house_id: Uuid,
    /// None for a house-level (common) meter.
    pub premises_id: Option<Uuid>,
    pub serial: String,
    /// The serial folded for search: lower case, no spaces or punctuation.
    pub serial_key: String,
    pub resource: Resource,
    /// 1 to 3 tariff zones.
    pub zones: i32,
    pub unit: String,
    pub installed_on: Option<Date>,
    pub verification_due: Option<Date>,
    /// Initial value per zone × 10⁶.
    pub initial1_micro: i64,
    pub initial2_micro: Option<i64>,
    pub initial3_micro: Option<i64>,
    pub status: MeterStatus,
    /// Whole digits of the register: it rolls over to zero at 10^digits.
    pub digits: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
