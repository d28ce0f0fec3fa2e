use sea_orm::entity::prelude::*;

use crate::Channel;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "people")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub full_name: String,
    /// JSON array of phone numbers in E.164 form.
    pub phones: String,
    /// JSON array of e-mail addresses.
    pub emails: String,
    pub preferred_channel: Channel,
    pub consent_personal_data: bool,
    pub consent_electronic_receipts: bool,
    pub consent_marketing: bool,
    /// Natural key used by imports: folded name plus first phone or e-mail.
    pub natural_key: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
