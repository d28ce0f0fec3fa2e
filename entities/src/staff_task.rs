use sea_orm::entity::prelude::*;

/// A task for a person or a group, with a deadline and a linked object.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "staff_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub title: String,
    pub description: String,
    /// `person` or `group`.
    pub assignee_kind: String,
    pub assignee_id: Uuid,
    /// `house`, `premises`, `account`, `meter`, `complaint`.
    pub link_type: Option<String>,
    pub link_id: Option<Uuid>,
    pub deadline: DateTimeUtc,
    /// Minutes before the deadline the assignee is reminded.
    pub remind_minutes: i32,
    /// `open`, `in_progress`, `done`, `cancelled`.
    pub status: String,
    /// The last word on it (what was done, why cancelled).
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_by_name: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
    pub reminded_at: Option<DateTimeUtc>,
    pub escalated_at: Option<DateTimeUtc>,
    pub escalated_to: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
