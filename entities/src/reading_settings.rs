use sea_orm::entity::prelude::*;

/// Reading rules of an organisation (`id` = the organisation's, `house_id` None)
/// or of one house (`id` = the house's). A house's empty field takes the
/// organisation's value, and the organisation's the built-in default.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "reading_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub house_id: Option<Uuid>,
    /// First and last day of the month on which residents may submit.
    pub window_from: Option<i32>,
    pub window_to: Option<i32>,
    /// A reading is flagged when its daily consumption exceeds the meter's
    /// average by this factor, in percent (300 = three times).
    pub flag_factor_pct: Option<i32>,
    /// How many earlier readings the average spans.
    pub average_readings: Option<i32>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
