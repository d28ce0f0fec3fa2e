use sea_orm::entity::prelude::*;

/// Money received on an account; a document, never changed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub account_id: Uuid,
    pub house_id: Uuid,
    pub amount_minor: i64,
    /// `cash`, `card` or `transfer`.
    pub method: String,
    pub paid_on: Date,
    /// The receipt that shows it: the first period not closed from the
    /// payment's month on.
    pub period: String,
    /// Unique per organisation: a statement's entry is counted once.
    pub bank_reference: Option<String>,
    pub payer: Option<String>,
    pub purpose: Option<String>,
    /// `staff`, `integration` or `statement`.
    pub source: String,
    /// Who recorded it (a user id, or the integration's name).
    pub recorded_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
