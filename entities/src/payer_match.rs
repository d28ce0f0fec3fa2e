use sea_orm::entity::prelude::*;

/// The account a payer pays for, remembered from an accountant's match.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "payer_matches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
    /// `account:<bank account>`, `tax:<tax id>` or `name:<folded name>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub payer_key: String,
    pub account_id: Uuid,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
