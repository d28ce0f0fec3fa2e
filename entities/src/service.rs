use sea_orm::entity::prelude::*;

/// Something an organisation bills (see the migration billing_catalogue).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// Short, stable, unique in the organisation: `cold_water`.
    pub code: String,
    pub name: String,
    /// `m³`, `kWh`, `Gcal`, `m²`, `person`, `premises` …
    pub unit: String,
    pub method: crate::CalculationMethod,
    /// Metered services (and common-house needs): the meters' resource.
    pub resource: Option<crate::Resource>,
    pub zones: i32,
    /// The increasing coefficient of a norm where a meter could be installed
    /// (an exact decimal, e.g. `1.5`).
    pub norm_coefficient: Option<String>,
    pub provider_name: Option<String>,
    pub provider_tax_id: Option<String>,
    pub provider_account: Option<String>,
    pub provider_bank_id: Option<String>,
    pub archived: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
