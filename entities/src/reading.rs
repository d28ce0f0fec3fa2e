use sea_orm::entity::prelude::*;

use crate::{ReadingSource, ReadingStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "readings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub house_id: Uuid,
    pub premises_id: Option<Uuid>,
    pub meter_id: Uuid,
    pub taken_on: Date,
    /// Value per zone × 10⁶.
    pub value1_micro: i64,
    pub value2_micro: Option<i64>,
    pub value3_micro: Option<i64>,
    pub source: ReadingSource,
    /// None for readings of the server itself (an automatic meter feed).
    pub author_id: Option<Uuid>,
    pub author_name: String,
    pub status: ReadingStatus,
    /// Consumption far above the meter's own average: waits for a review.
    pub flagged: bool,
    pub flag_reason: Option<String>,
    /// The register passed its capacity and started again from zero.
    pub rollover: bool,
    /// The reading this one corrects (a staff correction).
    pub corrects: Option<Uuid>,
    /// Why a staff member corrected a reading or entered a lower value.
    pub reason: Option<String>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
