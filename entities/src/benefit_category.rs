use sea_orm::entity::prelude::*;

/// A privileged category: a discount in percent on named services, for the
/// whole account or per entitled person, optionally within a social norm.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "benefit_categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// The code accounts name in their privileged categories.
    pub code: String,
    pub name: String,
    /// An exact decimal, 0–100.
    pub percent: String,
    /// JSON array of service codes.
    pub service_codes: String,
    /// The discount covers one person's share of the charge, not the account's.
    pub per_person: bool,
    /// The quantity per person the discount covers at most (an exact decimal
    /// in the service's unit), none: all of it.
    pub social_norm: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
