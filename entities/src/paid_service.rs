use sea_orm::entity::prelude::*;

/// An extra service residents may order (meter replacement, a repair, …)
/// at its price, or at a house's own price (`paid_service_prices`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "paid_services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub code: String,
    pub name: String,
    /// The complaint category its work orders are routed by.
    pub category: Option<String>,
    pub unit: String,
    pub price_minor: i64,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
