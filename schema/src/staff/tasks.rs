//! Staff tasks: work for a person or a group with a deadline and a linked
//! object; reminded before the deadline, escalated after it; managers see
//! every task's state per person and per group.
//!
//! Invariants:
//! - The assignee is a staff member or a group of the organisation, the
//!   linked object one of its own; checked when the task is set.
//! - Who may move a task: its assignee (a group's members), whoever set it,
//!   managers and administrators.
//! - A reminder and an escalation are recorded once each (the notification
//!   due, and for an escalation the manager), however many instances look.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entities::staff_task;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use crate::audit::{record_with, Author};
use crate::auth::{Role, Target};
use crate::bulk::{fetch_all, Cell};
use crate::clock::Clock;
use crate::complaints::overdue::{intend, serving};
use crate::error::{AppError, AppResult};

pub const LINKS: [&str; 5] = ["house", "premises", "account", "meter", "complaint"];
pub const STATUSES: [&str; 4] = ["open", "in_progress", "done", "cancelled"];

#[derive(Debug, Clone, Default)]
pub struct TaskDraft {
    pub organisation_id: Uuid,
    pub title: String,
    pub description: String,
    /// A person (staff) or a group.
    pub person: Option<Uuid>,
    pub group: Option<Uuid>,
    pub link: Option<(String, Uuid)>,
    pub deadline: DateTime<Utc>,
    pub remind_minutes: i32,
}

/// One line of the managers' overview: a person or a group and its tasks.
#[derive(Debug, Clone, Default)]
pub struct Load {
    pub kind: &'static str,
    pub id: Uuid,
    pub name: String,
    pub open: i64,
    pub in_progress: i64,
    pub overdue: i64,
    pub done: i64,
}

/// A task as the overview reads it: assignee kind and id, status, deadline, done.
type TaskRow = (String, Uuid, String, DateTime<Utc>, Option<DateTime<Utc>>);

#[derive(Clone)]
pub struct Tasks {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

fn bad(field: &str, reason: &'static str, message: impl Into<String>) -> AppError {
    AppError::validation(field, reason, message)
}

fn manages(p: &crate::auth::Principal, org: Uuid) -> bool {
    p.system
        || p.membership(org).is_some_and(|m| {
            m.roles
                .iter()
                .any(|r| matches!(r, Role::Manager | Role::Admin))
        })
}

impl Tasks {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn groups_of(&self, org: Uuid, user: Uuid) -> AppResult<Vec<Uuid>> {
        Ok(fetch_all::<(Uuid,)>(
            &self.db,
            "SELECT group_id FROM staff_group_members WHERE organisation_id = ? AND user_id = ?",
            vec![Cell::Uuid(Some(org)), Cell::Uuid(Some(user))],
        )
        .await?
        .into_iter()
        .map(|r| r.0)
        .collect())
    }

    /// Sets a task (dispatchers, managers, administrators).
    pub async fn create(&self, by: &Author, d: TaskDraft) -> AppResult<staff_task::Model> {
        let org = d.organisation_id;
        by.check(Target::Organisation(org))?;
        let title = d.title.trim().to_string();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(bad("title", "length", "from 1 to 200 characters"));
        }
        let description = d.description.trim().to_string();
        if description.chars().count() > 4000 {
            return Err(bad("description", "too_long", "at most 4000 characters"));
        }
        let now = self.clock.now();
        if d.deadline <= now {
            return Err(bad("deadline", "in_past", "a moment still to come"));
        }
        if !(0..=60 * 24 * 14).contains(&d.remind_minutes) {
            return Err(bad(
                "remindMinutes",
                "out_of_range",
                "from 0 to 20160 minutes (14 days)",
            ));
        }
        let (kind, assignee) = match (d.person, d.group) {
            (Some(p), None) => {
                let staff: Vec<(Uuid,)> = fetch_all(
                    &self.db,
                    "SELECT user_id FROM memberships WHERE organisation_id = ? AND user_id = ?",
                    vec![Cell::Uuid(Some(org)), Cell::Uuid(Some(p))],
                )
                .await?;
                if staff.is_empty() {
                    return Err(bad(
                        "personId",
                        "not_staff",
                        "a staff member of the organisation",
                    ));
                }
                ("person", p)
            }
            (None, Some(g)) => {
                let found: Vec<(Uuid,)> = fetch_all(
                    &self.db,
                    "SELECT id FROM staff_groups WHERE organisation_id = ? AND id = ?",
                    vec![Cell::Uuid(Some(org)), Cell::Uuid(Some(g))],
                )
                .await?;
                if found.is_empty() {
                    return Err(bad(
                        "groupId",
                        "unknown",
                        "a department or contractor of the organisation",
                    ));
                }
                ("group", g)
            }
            _ => {
                return Err(bad(
                    "personId",
                    "one_assignee",
                    "a person or a group, one of them",
                ))
            }
        };
        if let Some((t, id)) = &d.link {
            let table = match t.as_str() {
                "house" => "houses",
                "premises" => "premises",
                "account" => "accounts",
                "meter" => "meters",
                "complaint" => "complaints",
                _ => {
                    return Err(bad(
                        "linkType",
                        "invalid",
                        "HOUSE, PREMISES, ACCOUNT, METER or COMPLAINT",
                    ))
                }
            };
            let found: Vec<(Uuid,)> = fetch_all(
                &self.db,
                &format!("SELECT id FROM {table} WHERE organisation_id = ? AND id = ?"),
                vec![Cell::Uuid(Some(org)), Cell::Uuid(Some(*id))],
            )
            .await?;
            if found.is_empty() {
                return Err(bad(
                    "linkId",
                    "not_found",
                    format!("no such {t} in the organisation"),
                ));
            }
        }
        let p = &by.principal;
        let txn = crate::tx::begin_write(&self.db).await?;
        let row = staff_task::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(org),
            title: Set(title),
            description: Set(description),
            assignee_kind: Set(kind.into()),
            assignee_id: Set(assignee),
            link_type: Set(d.link.as_ref().map(|l| l.0.clone())),
            link_id: Set(d.link.as_ref().map(|l| l.1)),
            deadline: Set(d.deadline),
            remind_minutes: Set(d.remind_minutes),
            status: Set("open".into()),
            note: Set(None),
            created_by: Set((!p.system).then_some(p.user_id)),
            created_by_name: Set(if p.system {
                "system".into()
            } else {
                p.display_name.clone()
            }),
            created_at: Set(now),
            updated_at: Set(now),
            done_at: Set(None),
            reminded_at: Set(None),
            escalated_at: Set(None),
            escalated_to: Set(None),
        }
        .insert(&txn)
        .await?;
        record_with(
            &txn,
            by,
            org,
            "staff_task",
            Some(row.id),
            serde_json::json!({ "after": &row }),
            now,
            None,
            vec![],
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Tasks: managers and administrators every one (or one person's or
    /// group's), others theirs and their groups'.
    pub async fn list(
        &self,
        by: &Author,
        org: Uuid,
        assignee: Option<Uuid>,
        status: Option<&str>,
        overdue_only: bool,
    ) -> AppResult<Vec<staff_task::Model>> {
        by.check(Target::Organisation(org))?;
        let p = &by.principal;
        let mut q = staff_task::Entity::find().filter(staff_task::Column::OrganisationId.eq(org));
        if !manages(p, org) {
            let mut mine = self.groups_of(org, p.user_id).await?;
            mine.push(p.user_id);
            q = q.filter(
                staff_task::Column::AssigneeId
                    .is_in(mine)
                    .or(staff_task::Column::CreatedBy.eq(p.user_id)),
            );
        }
        if let Some(a) = assignee {
            q = q.filter(staff_task::Column::AssigneeId.eq(a));
        }
        if let Some(s) = status {
            q = q.filter(staff_task::Column::Status.eq(s));
        }
        if overdue_only {
            q = q
                .filter(staff_task::Column::Status.is_in(["open", "in_progress"]))
                .filter(staff_task::Column::Deadline.lt(self.clock.now()));
        }
        Ok(q.order_by_asc(staff_task::Column::Deadline)
            .limit(500)
            .all(&self.db)
            .await?)
    }

    /// Moves a task: open → in progress → done, or cancelled (with a note).
    pub async fn set_status(
        &self,
        by: &Author,
        id: Uuid,
        status: &str,
        note: Option<String>,
    ) -> AppResult<staff_task::Model> {
        let t = staff_task::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("task"))?;
        by.check(Target::Organisation(t.organisation_id))?;
        let p = &by.principal;
        let theirs = t.assignee_id == p.user_id
            || (t.assignee_kind == "group"
                && self
                    .groups_of(t.organisation_id, p.user_id)
                    .await?
                    .contains(&t.assignee_id));
        let set_it = t.created_by == Some(p.user_id);
        if !(theirs || set_it || manages(p, t.organisation_id)) {
            return Err(bad(
                "id",
                "not_yours",
                "its assignee, whoever set it, or a manager moves a task",
            ));
        }
        let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        let allowed = matches!(
            (t.status.as_str(), status),
            ("open", "in_progress")
                | ("open" | "in_progress", "done")
                | ("in_progress", "open")
                | ("open" | "in_progress", "cancelled")
                | ("done", "in_progress")
        );
        if !allowed {
            return Err(bad(
                "status",
                "transition",
                format!("a task cannot go from {} to {status}", t.status),
            ));
        }
        if status == "cancelled" && !(set_it || manages(p, t.organisation_id)) {
            return Err(bad(
                "status",
                "not_allowed",
                "whoever set the task, or a manager, cancels it",
            ));
        }
        if status == "cancelled" && note.is_none() {
            return Err(bad("note", "required", "why it is cancelled"));
        }
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let before = t.clone();
        let mut am: staff_task::ActiveModel = t.into();
        am.status = Set(status.into());
        am.updated_at = Set(now);
        am.done_at = Set((status == "done").then_some(now));
        if note.is_some() {
            am.note = Set(note);
        }
        let after = am.update(&txn).await?;
        record_with(
            &txn,
            by,
            after.organisation_id,
            "staff_task",
            Some(after.id),
            crate::audit::diff(Some(&before), Some(&after)),
            now,
            None,
            vec![],
        )
        .await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Every person's and group's tasks: open, in progress, overdue, done
    /// in the last 30 days (managers and administrators).
    pub async fn overview(&self, by: &Author, org: Uuid) -> AppResult<Vec<Load>> {
        by.check(Target::WholeOrganisation(org))?;
        let now = self.clock.now();
        let rows: Vec<TaskRow> = fetch_all(
            &self.db,
            "SELECT assignee_kind, assignee_id, status, deadline, done_at FROM staff_tasks WHERE organisation_id = ?",
            vec![Cell::Uuid(Some(org))],
        )
        .await?;
        let mut loads: HashMap<Uuid, Load> = HashMap::new();
        for (kind, id, status, deadline, done_at) in rows {
            let l = loads.entry(id).or_insert_with(|| Load {
                kind: if kind == "group" { "group" } else { "person" },
                id,
                ..Default::default()
            });
            match status.as_str() {
                "open" => l.open += 1,
                "in_progress" => l.in_progress += 1,
                "done" if done_at.is_some_and(|d| now - d <= Duration::days(30)) => l.done += 1,
                _ => {}
            }
            if matches!(status.as_str(), "open" | "in_progress") && deadline < now {
                l.overdue += 1;
            }
        }
        let names: HashMap<Uuid, String> = fetch_all::<(Uuid, String)>(
            &self.db,
            "SELECT id, name FROM staff_groups WHERE organisation_id = ?",
            vec![Cell::Uuid(Some(org))],
        )
        .await?
        .into_iter()
        .collect();
        let people = crate::complaints::service::user_names(
            &self.db,
            loads
                .values()
                .filter(|l| l.kind == "person")
                .map(|l| l.id)
                .collect(),
        )
        .await?;
        let mut out: Vec<Load> = Vec::new();
        for (_, mut l) in loads {
            let of = if l.kind == "group" { &names } else { &people };
            l.name = of.get(&l.id).cloned().unwrap_or_default();
            out.push(l);
        }
        out.sort_by(|a, b| {
            (b.overdue, b.open + b.in_progress, &a.name).cmp(&(
                a.overdue,
                a.open + a.in_progress,
                &b.name,
            ))
        });
        Ok(out)
    }

    /// Reminders due and deadlines passed, recorded once each; how many.
    pub async fn sweep(&self) -> AppResult<(usize, usize)> {
        let now = self.clock.now();
        let open = staff_task::Entity::find()
            .filter(staff_task::Column::Status.is_in(["open", "in_progress"]))
            .filter(
                staff_task::Column::RemindedAt
                    .is_null()
                    .or(staff_task::Column::EscalatedAt.is_null()),
            )
            .filter(staff_task::Column::Deadline.lt(now + Duration::days(14)))
            .order_by_asc(staff_task::Column::Deadline)
            .limit(1000)
            .all(&self.db)
            .await?;
        let (mut reminded, mut escalated) = (0, 0);
        for t in open {
            let due_soon = t.deadline - Duration::minutes(i64::from(t.remind_minutes)) <= now;
            if t.reminded_at.is_none() && due_soon {
                let to = self.people(&t).await?;
                if self.once(&t, "task_reminder", None, &to, now).await? {
                    reminded += 1;
                }
            }
            if t.escalated_at.is_none() && t.deadline < now {
                let mut to =
                    serving(&self.db, t.organisation_id, Uuid::nil(), &[Role::Manager]).await?;
                if to.is_empty() {
                    to = serving(&self.db, t.organisation_id, Uuid::nil(), &[Role::Admin]).await?;
                }
                to.truncate(1);
                if self
                    .once(&t, "task_overdue", to.first().copied(), &to, now)
                    .await?
                {
                    escalated += 1;
                }
            }
        }
        Ok((reminded, escalated))
    }

    /// Marks the reminder (or the escalation, to `manager`) and records who
    /// is to be told, in one transaction; false when another instance did.
    async fn once(
        &self,
        t: &staff_task::Model,
        kind: &str,
        manager: Option<Uuid>,
        to: &[Uuid],
        now: DateTime<Utc>,
    ) -> AppResult<bool> {
        let locale = entities::organisation::Entity::find_by_id(t.organisation_id)
            .one(&self.db)
            .await?
            .map(|o| o.locale)
            .unwrap_or_default();
        let due = t.deadline.format("%Y-%m-%d %H:%M UTC");
        let text = match (kind, &locale[..locale.len().min(2)]) {
            ("task_reminder", "ru") => format!("Срок задачи «{}» — {due}", t.title),
            ("task_reminder", "pt") => format!("O prazo da tarefa «{}» é {due}", t.title),
            ("task_reminder", _) => format!("The task \"{}\" is due {due}", t.title),
            (_, "ru") => format!("Задача «{}» просрочена (срок {due})", t.title),
            (_, "pt") => format!("A tarefa «{}» está atrasada (prazo {due})", t.title),
            _ => format!("The task \"{}\" is overdue (due {due})", t.title),
        };
        let sql = if kind == "task_reminder" {
            "UPDATE staff_tasks SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL"
        } else {
            "UPDATE staff_tasks SET escalated_at = ?, escalated_to = ? WHERE id = ? AND escalated_at IS NULL"
        };
        let mut values: Vec<sea_orm::Value> = vec![now.into()];
        if kind != "task_reminder" {
            values.push(manager.into());
        }
        values.push(t.id.into());
        let txn = crate::tx::begin_write(&self.db).await?;
        let backend = txn.get_database_backend();
        let sql = if backend == sea_orm::DatabaseBackend::Postgres {
            crate::bulk::numbered(sql)
        } else {
            sql.to_string()
        };
        let marked = txn
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
            .rows_affected();
        if marked == 0 {
            return Ok(false);
        }
        intend(
            &txn,
            t.organisation_id,
            kind,
            ("staff_task", t.id),
            to,
            &text,
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    async fn people(&self, t: &staff_task::Model) -> AppResult<Vec<Uuid>> {
        if t.assignee_kind == "person" {
            return Ok(vec![t.assignee_id]);
        }
        Ok(fetch_all::<(Uuid,)>(
            &self.db,
            "SELECT user_id FROM staff_group_members WHERE organisation_id = ? AND group_id = ?",
            vec![
                Cell::Uuid(Some(t.organisation_id)),
                Cell::Uuid(Some(t.assignee_id)),
            ],
        )
        .await?
        .into_iter()
        .map(|r| r.0)
        .collect())
    }
}
