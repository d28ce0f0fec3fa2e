//! GraphQL of staff tasks.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entities::staff_task;

use super::tasks::{TaskDraft, Tasks};
use crate::auth::author;
use crate::pagination::{opt_uuid, uuid};
use crate::registry::mutation::InInput;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TaskStatus {
    Open,
    InProgress,
    Done,
    Cancelled,
}

impl TaskStatus {
    fn code(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Done => "done",
            TaskStatus::Cancelled => "cancelled",
        }
    }
    fn of(code: &str) -> Self {
        match code {
            "in_progress" => TaskStatus::InProgress,
            "done" => TaskStatus::Done,
            "cancelled" => TaskStatus::Cancelled,
            _ => TaskStatus::Open,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TaskLink {
    House,
    Premises,
    Account,
    Meter,
    Complaint,
}

impl TaskLink {
    fn code(self) -> &'static str {
        match self {
            TaskLink::House => "house",
            TaskLink::Premises => "premises",
            TaskLink::Account => "account",
            TaskLink::Meter => "meter",
            TaskLink::Complaint => "complaint",
        }
    }
    fn of(code: &str) -> Self {
        match code {
            "premises" => TaskLink::Premises,
            "account" => TaskLink::Account,
            "meter" => TaskLink::Meter,
            "complaint" => TaskLink::Complaint,
            _ => TaskLink::House,
        }
    }
}

pub struct StaffTask(pub staff_task::Model, pub DateTime<Utc>);

#[Object]
impl StaffTask {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// A person's id, when a person has it.
    async fn person_id(&self) -> Option<ID> {
        (self.0.assignee_kind == "person").then(|| ID(self.0.assignee_id.to_string()))
    }
    /// A department's or contractor's id, when a group has it.
    async fn group_id(&self) -> Option<ID> {
        (self.0.assignee_kind == "group").then(|| ID(self.0.assignee_id.to_string()))
    }
    async fn link_type(&self) -> Option<TaskLink> {
        self.0.link_type.as_deref().map(TaskLink::of)
    }
    async fn link_id(&self) -> Option<ID> {
        self.0.link_id.map(|l| ID(l.to_string()))
    }
    async fn deadline(&self) -> DateTime<Utc> {
        self.0.deadline
    }
    async fn remind_minutes(&self) -> i32 {
        self.0.remind_minutes
    }
    async fn status(&self) -> TaskStatus {
        TaskStatus::of(&self.0.status)
    }
    /// Open past its deadline.
    async fn overdue(&self) -> bool {
        matches!(self.0.status.as_str(), "open" | "in_progress") && self.0.deadline < self.1
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn created_by(&self) -> &str {
        &self.0.created_by_name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn done_at(&self) -> Option<DateTime<Utc>> {
        self.0.done_at
    }
    async fn reminded_at(&self) -> Option<DateTime<Utc>> {
        self.0.reminded_at
    }
    async fn escalated_at(&self) -> Option<DateTime<Utc>> {
        self.0.escalated_at
    }
    async fn escalated_to_id(&self) -> Option<ID> {
        self.0.escalated_to.map(|e| ID(e.to_string()))
    }
}

/// A person's or a group's tasks, for the managers' overview.
#[derive(SimpleObject)]
pub struct TaskLoad {
    /// PERSON or GROUP.
    pub kind: String,
    pub id: ID,
    pub name: String,
    pub open: i64,
    pub in_progress: i64,
    pub overdue: i64,
    /// Done in the last 30 days.
    pub done: i64,
}

#[derive(Default)]
pub struct TasksQuery;

#[Object]
impl TasksQuery {
    /// Tasks by deadline: managers every one, others theirs and their groups'.
    async fn staff_tasks(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        assignee_id: Option<ID>,
        status: Option<TaskStatus>,
        #[graphql(default)] overdue_only: bool,
    ) -> Result<Vec<StaffTask>> {
        let by = author(ctx, "Query.staffTasks")?;
        let org = uuid("organisationId", &organisation_id)?;
        let assignee = opt_uuid("assigneeId", assignee_id.as_ref())?;
        let tasks = ctx.data::<Tasks>()?;
        let list = tasks
            .list(
                &by,
                org,
                assignee,
                status.map(TaskStatus::code),
                overdue_only,
            )
            .await?;
        let now = tasks.now();
        Ok(list.into_iter().map(|t| StaffTask(t, now)).collect())
    }

    /// Every person's and group's tasks: open, in progress, overdue, done lately.
    async fn task_overview(&self, ctx: &Context<'_>, organisation_id: ID) -> Result<Vec<TaskLoad>> {
        let by = author(ctx, "Query.taskOverview")?;
        let org = uuid("organisationId", &organisation_id)?;
        let list = ctx.data::<Tasks>()?.overview(&by, org).await?;
        Ok(list
            .into_iter()
            .map(|l| TaskLoad {
                kind: l.kind.to_uppercase(),
                id: ID(l.id.to_string()),
                name: l.name,
                open: l.open,
                in_progress: l.in_progress,
                overdue: l.overdue,
                done: l.done,
            })
            .collect())
    }
}

#[derive(InputObject)]
pub struct CreateTaskInput {
    pub organisation_id: ID,
    pub title: String,
    #[graphql(default)]
    pub description: String,
    /// A person, or a group (department, contractor): one of them.
    pub person_id: Option<ID>,
    pub group_id: Option<ID>,
    pub link_type: Option<TaskLink>,
    pub link_id: Option<ID>,
    pub deadline: DateTime<Utc>,
    /// Minutes before the deadline the assignee is reminded.
    #[graphql(default = 60)]
    pub remind_minutes: i32,
}

#[derive(InputObject)]
pub struct UpdateTaskStatusInput {
    pub id: ID,
    pub status: TaskStatus,
    /// What was done; why it is cancelled (required then).
    pub note: Option<String>,
}

#[derive(Default)]
pub struct TasksMutation;

#[Object]
impl TasksMutation {
    /// Sets a task for a person or a group, with a deadline and a linked object.
    async fn create_task(&self, ctx: &Context<'_>, input: CreateTaskInput) -> Result<StaffTask> {
        let by = author(ctx, "Mutation.createTask")?;
        let link = match (input.link_type, &input.link_id) {
            (Some(t), Some(id)) => Some((t.code().to_string(), uuid("linkId", id).input()?)),
            (None, None) => None,
            _ => {
                return Err(crate::error::AppError::validation(
                    "linkId",
                    "incomplete",
                    "a link needs its type and its id",
                ))
                .input()
            }
        };
        let draft = TaskDraft {
            organisation_id: uuid("organisationId", &input.organisation_id).input()?,
            title: input.title,
            description: input.description,
            person: opt_uuid("personId", input.person_id.as_ref()).input()?,
            group: opt_uuid("groupId", input.group_id.as_ref()).input()?,
            link,
            deadline: input.deadline,
            remind_minutes: input.remind_minutes,
        };
        let tasks = ctx.data::<Tasks>()?;
        let t = tasks.create(&by, draft).await.input()?;
        Ok(StaffTask(t, tasks.now()))
    }

    /// Moves a task: start, done, back, cancelled (with a note).
    async fn update_task_status(
        &self,
        ctx: &Context<'_>,
        input: UpdateTaskStatusInput,
    ) -> Result<StaffTask> {
        let by = author(ctx, "Mutation.updateTaskStatus")?;
        let id = uuid("id", &input.id).input()?;
        let tasks = ctx.data::<Tasks>()?;
        let t = tasks
            .set_status(&by, id, input.status.code(), input.note)
            .await
            .input()?;
        Ok(StaffTask(t, tasks.now()))
    }
}
