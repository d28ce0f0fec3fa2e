use sea_orm::entity::prelude::*;

/// A bank statement file an organisation imported; one per file (by hash).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "statement_imports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// `camt053`, `cnab240`, `1c` or `csv`.
    pub format: String,
    pub file_name: String,
    /// SHA-256 of the file, hex.
    pub file_hash: String,
    /// The statement's own identifier, when the file has one.
    pub statement_ref: Option<String>,
    /// The bank account the statement is of.
    pub bank_account: Option<String>,
    pub currency: Option<String>,
    pub entries: i32,
    pub matched: i32,
    pub matched_minor: i64,
    pub unmatched: i32,
    pub unmatched_minor: i64,
    pub duplicates: i32,
    pub debits: i32,
    pub debits_minor: i64,
    pub imported_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
