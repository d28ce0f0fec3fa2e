use sea_orm::entity::prelude::*;

/// A file attached to a complaint, a reading, an account or a person; its
/// bytes are in the file store under `storage_key`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// `complaint`, `reading`, `account`, `person`.
    pub owner_type: String,
    pub owner_id: Uuid,
    /// The name it was uploaded with (shown, never used as a path).
    pub name: String,
    /// As sniffed from the bytes.
    pub content_type: String,
    /// Bytes as stored (images without their metadata).
    pub size: i64,
    /// SHA-256 of the stored bytes, hex.
    pub sha256: String,
    #[serde(skip)]
    pub storage_key: String,
    pub uploaded_by: Option<Uuid>,
    pub uploaded_by_name: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
