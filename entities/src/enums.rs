use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum HouseStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "archived")]
    Archived,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PremisesKind {
    #[sea_orm(string_value = "residential")]
    Residential,
    #[sea_orm(string_value = "non_residential")]
    NonResidential,
    #[sea_orm(string_value = "parking")]
    Parking,
    #[sea_orm(string_value = "storage")]
    Storage,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum RecordStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "archived")]
    Archived,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Channel {
    #[sea_orm(string_value = "email")]
    Email,
    #[sea_orm(string_value = "sms")]
    Sms,
    #[sea_orm(string_value = "viber")]
    Viber,
    #[sea_orm(string_value = "post")]
    Post,
    #[sea_orm(string_value = "none")]
    None,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OccupancyRole {
    #[sea_orm(string_value = "owner")]
    Owner,
    #[sea_orm(string_value = "tenant")]
    Tenant,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Resource {
    #[sea_orm(string_value = "cold_water")]
    ColdWater,
    #[sea_orm(string_value = "hot_water")]
    HotWater,
    #[sea_orm(string_value = "electricity")]
    Electricity,
    #[sea_orm(string_value = "heat")]
    Heat,
    #[sea_orm(string_value = "gas")]
    Gas,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MeterStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "archived")]
    Archived,
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SearchKind {
    #[sea_orm(string_value = "account")]
    Account,
    #[sea_orm(string_value = "person")]
    Person,
    #[sea_orm(string_value = "premises")]
    Premises,
    #[sea_orm(string_value = "meter")]
    Meter,
    #[sea_orm(string_value = "house")]
    House,
}

/// Where a meter reading came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ReadingSource {
    #[sea_orm(string_value = "resident")]
    Resident,
    #[sea_orm(string_value = "staff")]
    Staff,
    #[sea_orm(string_value = "import")]
    Import,
    #[sea_orm(string_value = "automatic")]
    Automatic,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ReadingStatus {
    #[sea_orm(string_value = "accepted")]
    Accepted,
    /// Replaced by a staff correction.
    #[sea_orm(string_value = "superseded")]
    Superseded,
}

/// How a service's charge is calculated (Rules 354 and the condominium rules).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CalculationMethod {
    /// Consumption from the meter × tariff (average, then norm, when no reading).
    #[sea_orm(string_value = "metered")]
    Metered,
    /// Norm × people (owners where nobody is registered) × tariff.
    #[sea_orm(string_value = "norm")]
    Norm,
    /// Area × tariff.
    #[sea_orm(string_value = "area")]
    Area,
    /// Registered people × tariff.
    #[sea_orm(string_value = "per_person")]
    PerPerson,
    /// A fixed amount per premises.
    #[sea_orm(string_value = "fixed")]
    Fixed,
    /// Heating by area and norm, or by the house meter shared by area.
    #[sea_orm(string_value = "heating")]
    Heating,
    /// Common-house needs: the house meter beyond the premises, shared by area.
    #[sea_orm(string_value = "common_house")]
    CommonHouse,
    /// Sewage: cold plus hot water.
    #[sea_orm(string_value = "sewage")]
    Sewage,
}

/// What a norm counts: people, the premises' area, or the common area.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum NormBasis {
    /// Per person living there (owners where nobody is registered).
    #[sea_orm(string_value = "person")]
    Person,
    /// Per m² of the premises (heating).
    #[sea_orm(string_value = "area")]
    Area,
    /// Per m² of the house's common area (common-house needs).
    #[sea_orm(string_value = "common_area")]
    CommonArea,
}
