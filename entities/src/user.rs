use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    pub email_key: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub locale: String,
    pub disabled: bool,
    /// When the address was proven theirs (an emailed code or link) or
    /// vouched for by the admin who added them; none for a self-registered one.
    pub email_verified_at: Option<DateTimeUtc>,
    /// Since when the address's owner, who proved it on an account registered
    /// without proof, has not yet said whether what was set on it is theirs;
    /// meanwhile its password and passkeys sign no one in.
    pub address_claim_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
