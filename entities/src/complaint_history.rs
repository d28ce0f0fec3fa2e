use sea_orm::entity::prelude::*;

/// One thing that happened to a complaint; never changed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "complaint_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub complaint_id: Uuid,
    /// `filed`, `classified`, `reclassified`, `assigned`, `status`, `comment`, `rated`.
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    /// The resident sees it.
    pub public: bool,
    pub text: Option<String>,
    /// JSON: what else the entry records (the matched phrases, the rule that routed it, …).
    pub data: String,
    pub actor_id: Option<Uuid>,
    /// Who, as shown: a name, or `system`.
    pub actor: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
