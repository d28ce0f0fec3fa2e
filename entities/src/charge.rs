use sea_orm::entity::prelude::*;

/// One line of a receipt, known by its place on it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "charge_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: Uuid,
    /// Order on the receipt.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub house_id: Uuid,
    /// `charge`, `benefit` or `recalculation`.
    pub kind: String,
    pub service_id: Option<Uuid>,
    pub label: String,
    /// How the quantity was found: `reading`, `average`, `norm`, `norm_raised`,
    /// `area`, `people`, `fixed`, … or a recalculation's reason.
    pub source: String,
    /// Exact decimals.
    pub quantity: String,
    pub unit: String,
    pub tariff: String,
    pub amount_minor: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
