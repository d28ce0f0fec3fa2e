use sea_orm::entity::prelude::*;

use crate::SearchKind;

/// One folded search term of one registry object. The primary key
/// (organisation_id, term, object_id) is also the index a prefix search scans.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "search_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub term: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub object_id: Uuid,
    pub kind: SearchKind,
    pub house_id: Option<Uuid>,
    /// The folded full text of the object, to check the other words of a query.
    pub doc: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
