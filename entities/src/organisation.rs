use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// ISO 4217 code, e.g. RUB, BRL, EUR.
    pub currency: String,
    /// BCP 47 tag: ru, pt-BR, en.
    pub locale: String,
    /// IANA zone, e.g. Europe/Moscow.
    pub time_zone: String,
    pub legal_name: String,
    pub tax_id: String,
    pub bank_account: String,
    pub bank_id: String,
    pub bank_name: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
