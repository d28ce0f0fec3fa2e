use sea_orm::entity::prelude::*;

/// An order of a paid service: its work order is the complaint
/// `complaint_id`; its price (fixed when ordered) goes on the receipt of
/// `bill_period` once done, unless paid at once (`payment_id`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "service_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub service_id: Uuid,
    pub account_id: Uuid,
    pub house_id: Uuid,
    pub complaint_id: Uuid,
    /// The work order's (complaint's) number.
    pub number: i64,
    pub name: String,
    pub unit: String,
    pub price_minor: i64,
    /// `ordered`, `done`, `cancelled`.
    pub status: String,
    pub payment_id: Option<Uuid>,
    pub bill_period: Option<String>,
    pub ordered_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
