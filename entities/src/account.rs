use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub house_id: Uuid,
    pub premises_id: Uuid,
    /// Unique within the organisation.
    pub number: String,
    /// The number folded for search: lower case, no spaces or punctuation.
    pub number_key: String,
    pub holder_id: Option<Uuid>,
    /// Share of the premises this account is billed for, as a reduced fraction.
    pub share_num: i64,
    pub share_den: i64,
    pub registered_residents: i32,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
    /// JSON array of privileged category codes.
    pub privileged_categories: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
