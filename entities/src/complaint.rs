use sea_orm::entity::prelude::*;

/// A resident's (or a caller's) problem and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "complaints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// 1, 2, 3, … per organisation.
    pub number: i64,
    pub house_id: Uuid,
    pub premises_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    /// The resident who filed it in the app; none when a dispatcher took it.
    pub author_user_id: Option<Uuid>,
    /// How to reach the person: a name and phone, as given.
    pub contact: String,
    /// `app`, `phone`, `email` or `visit`.
    pub source: String,
    pub text: String,
    pub category: Option<String>,
    /// `rules`, `resident` or `dispatcher`.
    pub category_by: String,
    /// `low`, `normal`, `high` or `emergency`.
    pub priority: String,
    pub emergency: bool,
    pub status: String,
    pub assignee_id: Option<Uuid>,
    pub react_due: DateTimeUtc,
    pub resolve_due: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub rating: Option<i32>,
    /// When the complaint passed its deadline unfinished (the overdue mark).
    pub overdue_at: Option<DateTimeUtc>,
    /// The manager an overdue complaint was escalated to.
    pub escalated_to: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
