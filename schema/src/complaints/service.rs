//! Filing complaints and moving them along, on the server.
//!
//! Invariants:
//! - A complaint is classified and assigned in the transaction that files it,
//!   never only in a form: the organisation's rules (or the built-in ones)
//!   give its category, the routing rules and the open counts its assignee,
//!   and with neither the house's least busy dispatcher takes it.
//! - Numbers are 1, 2, 3, … per organisation, handed out in the filing
//!   transaction.
//! - Every move is checked by [`workflow::check`]; the history only grows.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use entities::{account, complaint, complaint_history, organisation, premises};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use sea_orm::sea_query::ExprTrait;

use super::classify::{self, Rule};
use super::routing::{self, RoutingRule, Target as RouteTarget};
use super::sla::{self, Priority};
use super::workflow::{self, Actor, Given, Status};
use crate::audit::{record_with, Author};
use crate::auth::{ListScope, Role, Target};
use crate::bulk::{fetch_all, Cell};
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::events::{Events, NewEvent};

pub const TOPIC: &str = "complaint.updated";
/// Days a resident may reopen done work, until the organisation sets its own.
pub const DEFAULT_REOPEN_DAYS: i64 = 7;

/// Counts per status code, and how many open ones are overdue.
#[derive(Debug, Clone, Default)]
pub struct Board {
    pub counts: HashMap<String, i64>,
    pub overdue: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub reopen_days: i64,
}
pub const SOURCES: [&str; 4] = ["app", "phone", "email", "visit"];

/// Work done in a filing's transaction once the complaint is written.
pub(crate) type Hook<'a> = Box<
    dyn for<'t> FnOnce(
            &'t DatabaseTransaction,
            &'t complaint::Model,
        ) -> futures_util::future::BoxFuture<'t, AppResult<()>>
        + Send
        + 'a,
>;

/// A hook from a closure (its signature inferred from this bound).
pub(crate) fn hook<'a, F>(f: F) -> Hook<'a>
where
    F: for<'t> FnOnce(
            &'t DatabaseTransaction,
            &'t complaint::Model,
        ) -> futures_util::future::BoxFuture<'t, AppResult<()>>
        + Send
        + 'a,
{
    Box::new(f)
}

/// A complaint as filed.
#[derive(Debug, Clone, Default)]
pub struct NewComplaint {
    pub account_id: Option<Uuid>,
    pub premises_id: Option<Uuid>,
    pub house_id: Option<Uuid>,
    pub text: String,
    /// The category the filer chose, if they know it.
    pub category: Option<String>,
    /// `phone`, `email`, `visit` for a dispatcher; a resident's is `app`.
    pub source: String,
    pub contact: Option<String>,
    pub priority: Option<Priority>,
}

/// A move of a complaint.
#[derive(Debug, Clone, Default)]
pub struct Move {
    pub to: Option<Status>,
    pub assignee: Option<Uuid>,
    pub comment: Option<String>,
    pub reason: Option<String>,
    /// Photos of the work done (attachments of this complaint), for done.
    pub photos: Vec<Uuid>,
}

#[derive(Clone)]
pub struct Complaints {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) events: Option<Events>,
}

pub(crate) fn staff_role(p: &crate::auth::Principal, org: Uuid, roles: &[Role]) -> bool {
    p.system
        || p.membership(org)
            .is_some_and(|m| m.roles.iter().any(|r| roles.contains(r)))
}

pub(crate) const DISPATCHING: [Role; 3] = [Role::Dispatcher, Role::Manager, Role::Admin];

impl Complaints {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, events: Option<Events>) -> Self {
        Self { db, clock, events }
    }

    /// Where a complaint is: its organisation, house, premises and account.
    async fn place(
        &self,
        by: &Author,
        new: &NewComplaint,
    ) -> AppResult<(Uuid, Uuid, Option<Uuid>, Option<Uuid>)> {
        if let Some(id) = new.account_id {
            let a = account::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .ok_or_else(|| AppError::not_found("account"))?;
            by.check(Target::Account {
                org: a.organisation_id,
                house: a.house_id,
                id: a.id,
            })?;
            return Ok((
                a.organisation_id,
                a.house_id,
                Some(a.premises_id),
                Some(a.id),
            ));
        }
        if let Some(id) = new.premises_id {
            let p = premises::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .ok_or_else(|| AppError::not_found("premises"))?;
            by.check(Target::Premises {
                org: p.organisation_id,
                house: p.house_id,
                id: p.id,
            })?;
            return Ok((p.organisation_id, p.house_id, Some(p.id), None));
        }
        if let Some(id) = new.house_id {
            let h = entities::house::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .ok_or_else(|| AppError::not_found("house"))?;
            by.check(Target::House {
                org: h.organisation_id,
                id: h.id,
            })?;
            return Ok((h.organisation_id, h.id, None, None));
        }
        Err(AppError::validation(
            "accountId",
            "required",
            "the account, premises or house the complaint is about",
        ))
    }

    /// Files a complaint: classified, numbered and assigned at once.
    pub async fn file(&self, by: &Author, new: NewComplaint) -> AppResult<complaint::Model> {
        self.file_with(by, new, None).await
    }

    /// Files a complaint and runs `hook` in its transaction, after the
    /// complaint is written (a paid service's order and its payment).
    pub(crate) async fn file_with(
        &self,
        by: &Author,
        new: NewComplaint,
        hook: Option<Hook<'_>>,
    ) -> AppResult<complaint::Model> {
        let text = new.text.trim().to_string();
        if text.chars().count() < 5 || text.chars().count() > 4000 {
            return Err(AppError::validation(
                "text",
                "length",
                "from 5 to 4000 characters",
            ));
        }
        let (org, house, premises_id, account_id) = self.place(by, &new).await?;
        let p = &by.principal;
        let dispatcher = staff_role(p, org, &DISPATCHING);
        // A resident files from the app; staff say how it came.
        let (source, author, contact) = if dispatcher {
            let source = new.source.trim().to_lowercase();
            if !SOURCES.contains(&source.as_str()) {
                return Err(AppError::validation(
                    "source",
                    "invalid",
                    "APP, PHONE, EMAIL or VISIT",
                ));
            }
            let contact = new
                .contact
                .clone()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty());
            let contact = contact.ok_or_else(|| {
                AppError::validation("contact", "required", "who complains and how to reach them")
            })?;
            (source, None, contact)
        } else {
            (
                "app".to_string(),
                Some(p.user_id),
                format!("{} <{}>", p.display_name, p.email),
            )
        };
        if contact.chars().count() > 300 {
            return Err(AppError::validation(
                "contact",
                "too_long",
                "at most 300 characters",
            ));
        }
        let o = organisation::Entity::find_by_id(org)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("organisation"))?;
        let rules = self.rules(org).await?;
        let known: Vec<&str> = {
            let mut c: Vec<&str> = rules.iter().map(|r| r.category.as_str()).collect();
            c.dedup();
            c
        };
        let chosen = match new
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) if !known.contains(&c) => {
                return Err(AppError::validation(
                    "category",
                    "unknown",
                    format!("one of {}", known.join(", ")),
                ))
            }
            other => other.map(str::to_string),
        };
        let found = classify::classify(&text, &o.locale, &rules);
        let (category, category_by) = match (&chosen, &found.category) {
            (Some(c), _) => (
                Some(c.clone()),
                if dispatcher { "dispatcher" } else { "resident" },
            ),
            (None, Some(c)) => (Some(c.clone()), "rules"),
            (None, None) => (None, "rules"),
        };
        let priority = if found.emergency {
            Priority::Emergency
        } else {
            new.priority.unwrap_or(Priority::Normal)
        };
        let now = self.clock.now();
        let slas = self.slas(org).await?;
        let (react_due, resolve_due) = sla::deadlines(&slas, category.as_deref(), priority, now);
        let txn = crate::tx::begin_write(&self.db).await?;
        let assignee = self.route(&txn, org, house, category.as_deref()).await?;
        let number = next_number(&txn, org).await?;
        let status = if assignee.is_some() {
            Status::Assigned
        } else {
            Status::New
        };
        let row = complaint::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(org),
            number: Set(number),
            house_id: Set(house),
            premises_id: Set(premises_id),
            account_id: Set(account_id),
            author_user_id: Set(author),
            contact: Set(contact),
            source: Set(source),
            text: Set(text),
            category: Set(category.clone()),
            category_by: Set(category_by.into()),
            priority: Set(priority.code().into()),
            emergency: Set(found.emergency),
            status: Set(status.code().into()),
            assignee_id: Set(assignee.as_ref().map(|a| a.0)),
            react_due: Set(react_due),
            resolve_due: Set(resolve_due),
            done_at: Set(None),
            closed_at: Set(None),
            rating: Set(None),
            overdue_at: Set(None),
            escalated_to: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let who = actor_name(by);
        history(
            &txn,
            &row,
            "filed",
            None,
            Some(Status::New),
            true,
            None,
            serde_json::json!({ "source": row.source }),
            by,
            &who,
            now,
        )
        .await?;
        history(
            &txn,
            &row,
            "classified",
            None,
            None,
            false,
            None,
            serde_json::json!({ "category": category, "by": category_by, "matched": found.matched, "emergency": found.emergency, "priority": priority.code() }),
            by,
            "system",
            now,
        )
        .await?;
        if let Some((person, why)) = &assignee {
            history(
                &txn,
                &row,
                "assigned",
                Some(Status::New),
                Some(Status::Assigned),
                true,
                None,
                serde_json::json!({ "assignee": person, "why": format!("{why:?}") }),
                by,
                "system",
                now,
            )
            .await?;
        }
        if row.emergency {
            // Told at once: the assignee, the house's dispatchers and managers.
            let mut told =
                super::overdue::serving(&txn, org, house, &[Role::Dispatcher, Role::Manager])
                    .await?;
            told.extend(row.assignee_id);
            told.sort();
            told.dedup();
            let excerpt: String = row.text.chars().take(120).collect();
            let text = super::overdue::message(&o.locale, "complaint_emergency", number, &excerpt);
            super::overdue::intend(
                &txn,
                org,
                "complaint_emergency",
                ("complaint", row.id),
                &told,
                &text,
                now,
            )
            .await?;
        }
        if let Some(hook) = hook {
            hook(&txn, &row).await?;
        }
        let changes = serde_json::json!({ "after": &row });
        self.commit(txn, by, &row, ("complaint", row.id), changes, now)
            .await?;
        Ok(row)
    }

    /// Ends a change of complaint `c`: its audit entry and its event last
    /// (their counters stay locked until the commit), the commit, then the
    /// event to this instance's subscribers.
    async fn commit(
        &self,
        txn: DatabaseTransaction,
        by: &Author,
        c: &complaint::Model,
        (object_type, object_id): (&str, Uuid),
        changes: serde_json::Value,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let events = record_with(
            &txn,
            by,
            c.organisation_id,
            object_type,
            Some(object_id),
            changes,
            now,
            None,
            vec![event(c)],
        )
        .await?;
        txn.commit().await?;
        if let Some(e) = &self.events {
            e.committed(events);
        }
        Ok(())
    }

    /// The organisation's rules, or the built-in ones while it has none.
    pub(crate) async fn rules(&self, org: Uuid) -> AppResult<Vec<Rule>> {
        let rows: Vec<(String, Option<String>, String, i32, bool)> = fetch_all(
            &self.db,
            "SELECT category, locale, phrase, weight, emergency FROM complaint_rules \
             WHERE organisation_id = ? ORDER BY position",
            vec![Cell::Uuid(Some(org))],
        )
        .await?;
        if rows.is_empty() {
            return Ok(classify::default_rules());
        }
        Ok(rows
            .into_iter()
            .map(|(category, locale, phrase, weight, emergency)| Rule {
                category,
                locale,
                phrase,
                weight,
                emergency,
            })
            .collect())
    }

    /// Who gets a complaint: the routing rules, then the house's least busy dispatcher.
    async fn route(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        house: Uuid,
        category: Option<&str>,
    ) -> AppResult<Option<(Uuid, routing::Why)>> {
        let backend = txn.get_database_backend();
        let q = |sql: &str| {
            sea_orm::Statement::from_sql_and_values(
                backend,
                if backend == sea_orm::DatabaseBackend::Postgres {
                    crate::bulk::numbered(sql)
                } else {
                    sql.to_string()
                },
                [org.into()],
            )
        };
        let mut rules = Vec::new();
        for r in txn
            .query_all_raw(q("SELECT category, house_id, target_kind, target_id FROM complaint_routes WHERE organisation_id = ? ORDER BY position"))
            .await?
        {
            let target_id: Uuid = r.try_get("", "target_id")?;
            let kind: String = r.try_get("", "target_kind")?;
            rules.push(RoutingRule {
                category: r.try_get("", "category")?,
                house: r.try_get("", "house_id")?,
                target: if kind == "person" { RouteTarget::Person(target_id) } else { RouteTarget::Group(target_id) },
            });
        }
        // Staff who serve the house: those of the whole organisation or of this house.
        let serving: Vec<entities::membership::Model> = entities::membership::Entity::find()
            .filter(entities::membership::Column::OrganisationId.eq(org))
            .all(txn)
            .await?
            .into_iter()
            .filter(|m| {
                m.house_ids.trim().is_empty()
                    || m.house_ids
                        .split(',')
                        .any(|h| h.trim() == house.to_string())
            })
            .collect();
        let serves = |u: Uuid| serving.iter().any(|m| m.user_id == u);
        // A group's members who serve the house (one limited to other houses would not see it).
        let mut members: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for r in txn
            .query_all_raw(q(
                "SELECT group_id, user_id FROM staff_group_members WHERE organisation_id = ?",
            ))
            .await?
        {
            let user: Uuid = r.try_get("", "user_id")?;
            if serves(user) {
                members
                    .entry(r.try_get("", "group_id")?)
                    .or_default()
                    .push(user);
            }
        }
        let open: HashMap<Uuid, u32> = open_counts(txn, org)
            .await?
            .into_iter()
            .map(|(a, n)| (a, n as u32))
            .collect();
        let mut dispatchers: Vec<Uuid> = serving
            .iter()
            .filter(|m| {
                m.roles
                    .split(',')
                    .any(|r| r.trim() == Role::Dispatcher.as_str())
            })
            .map(|m| m.user_id)
            .collect();
        dispatchers.sort_by_key(|d| (open.get(d).copied().unwrap_or(0), *d));
        // A person named for a house they do not serve is passed over.
        rules.retain(|r| match r.target {
            RouteTarget::Person(p) => serves(p),
            RouteTarget::Group(_) => true,
        });
        Ok(routing::route(
            category,
            house,
            &rules,
            &members,
            &open,
            dispatchers.first().copied(),
        ))
    }

    /// The photos named for a move: images attached to this complaint.
    async fn photos(&self, c: &complaint::Model, ids: &[Uuid]) -> AppResult<Vec<Uuid>> {
        let mut out = Vec::new();
        for id in ids {
            let a = entities::attachment::Entity::find_by_id(*id)
                .one(&self.db)
                .await?
                .filter(|a| a.owner_type == "complaint" && a.owner_id == c.id)
                .ok_or_else(|| {
                    AppError::validation(
                        "photoIds",
                        "not_found",
                        format!("{id} is not a file of this complaint"),
                    )
                })?;
            if !a.content_type.starts_with("image/") {
                return Err(AppError::validation(
                    "photoIds",
                    "not_image",
                    format!("{} is not a photo", a.name),
                ));
            }
            if !out.contains(id) {
                out.push(*id);
            }
        }
        Ok(out)
    }

    /// Someone who may take the complaint: staff of its organisation who see its house.
    async fn check_assignee(&self, c: &complaint::Model, user: Uuid) -> AppResult<()> {
        let m = entities::membership::Entity::find()
            .filter(entities::membership::Column::OrganisationId.eq(c.organisation_id))
            .filter(entities::membership::Column::UserId.eq(user))
            .one(&self.db)
            .await?;
        let fits = m.is_some_and(|m| {
            m.house_ids.trim().is_empty()
                || m.house_ids
                    .split(',')
                    .any(|h| h.trim() == c.house_id.to_string())
        });
        if fits {
            Ok(())
        } else {
            Err(AppError::validation(
                "assigneeId",
                "not_staff",
                "a staff member of the organisation who serves this house",
            ))
        }
    }

    /// The organisation's complaint settings (the defaults until it sets its own).
    pub async fn settings(&self, org: Uuid) -> AppResult<Settings> {
        let rows: Vec<(i32,)> = fetch_all(
            &self.db,
            "SELECT reopen_days FROM complaint_settings WHERE organisation_id = ?",
            vec![Cell::Uuid(Some(org))],
        )
        .await?;
        Ok(Settings {
            reopen_days: rows.first().map_or(DEFAULT_REOPEN_DAYS, |r| i64::from(r.0)),
        })
    }

    /// The categories of the organisation's rules, in their order.
    pub async fn categories(&self, by: &Author, org: Uuid) -> AppResult<Vec<String>> {
        by.check(Target::Organisation(org))?;
        let mut out: Vec<String> = Vec::new();
        for r in self.rules(org).await? {
            if !out.contains(&r.category) {
                out.push(r.category);
            }
        }
        Ok(out)
    }

    /// Staff who may take complaints of `house` (any house: the whole
    /// organisation's), least busy first: (id, name, roles, open complaints).
    pub async fn assignees(
        &self,
        by: &Author,
        org: Uuid,
        house: Option<Uuid>,
    ) -> AppResult<Vec<(Uuid, String, Vec<String>, i64)>> {
        by.check(Target::Organisation(org))?;
        let members = entities::membership::Entity::find()
            .filter(entities::membership::Column::OrganisationId.eq(org))
            .all(&self.db)
            .await?;
        let open = open_counts(&self.db, org).await?;
        let names = user_names(&self.db, members.iter().map(|m| m.user_id).collect()).await?;
        let mut out = Vec::new();
        for m in members {
            let serves = house.is_none_or(|h| {
                m.house_ids.trim().is_empty()
                    || m.house_ids.split(',').any(|x| x.trim() == h.to_string())
            });
            let roles: Vec<String> = m
                .roles
                .split(',')
                .map(|r| r.trim().to_uppercase())
                .filter(|r| !r.is_empty() && r != "ACCOUNTANT")
                .collect();
            if !serves || roles.is_empty() {
                continue;
            }
            let name = names.get(&m.user_id).cloned().unwrap_or_default();
            out.push((
                m.user_id,
                name,
                roles,
                open.get(&m.user_id).copied().unwrap_or(0),
            ));
        }
        out.sort_by(|a, b| (a.3, &a.1).cmp(&(b.3, &b.1)));
        Ok(out)
    }

    /// A complaint the caller may see.
    pub async fn get(&self, by: &Author, id: Uuid) -> AppResult<complaint::Model> {
        let c = complaint::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("complaint"))?;
        by.check(target(&c))?;
        if !visible_to_resident(&by.principal, &c) {
            return Err(AppError::not_found("complaint"));
        }
        Ok(c)
    }

    /// The organisation's complaints, newest first: staff their houses,
    /// residents their own.
    pub async fn list(
        &self,
        by: &Author,
        org: Uuid,
        status: Option<Status>,
        house: Option<Uuid>,
        assignee: Option<Uuid>,
        limit: u64,
    ) -> AppResult<Vec<complaint::Model>> {
        let mut q = complaint::Entity::find().filter(complaint::Column::OrganisationId.eq(org));
        match by.principal.scope(by.operation, org)? {
            ListScope::All => {}
            ListScope::Houses(houses) => q = q.filter(complaint::Column::HouseId.is_in(houses)),
            ListScope::Own(r) => {
                q = q.filter(
                    complaint::Column::AuthorUserId
                        .eq(by.principal.user_id)
                        .or(complaint::Column::AccountId.is_in(r.accounts.iter().copied())),
                )
            }
        }
        if let Some(s) = status {
            q = q.filter(complaint::Column::Status.eq(s.code()));
        }
        if let Some(h) = house {
            q = q.filter(complaint::Column::HouseId.eq(h));
        }
        if let Some(a) = assignee {
            q = q.filter(complaint::Column::AssigneeId.eq(a));
        }
        Ok(q.order_by_desc(complaint::Column::CreatedAt)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// How many complaints are in each status (and overdue), as the caller
    /// may see them.
    pub async fn board(&self, by: &Author, org: Uuid, house: Option<Uuid>) -> AppResult<Board> {
        let scope = by.principal.scope(by.operation, org)?;
        let limit = |mut q: sea_orm::Select<complaint::Entity>| -> AppResult<_> {
            q = q.filter(complaint::Column::OrganisationId.eq(org));
            match &scope {
                ListScope::All => {}
                ListScope::Houses(h) => q = q.filter(complaint::Column::HouseId.is_in(h.clone())),
                ListScope::Own(_) => {
                    return Err(AppError::Forbidden {
                        operation: by.operation_name().into(),
                    })
                }
            }
            if let Some(h) = house {
                q = q.filter(complaint::Column::HouseId.eq(h));
            }
            Ok(q)
        };
        let counts: HashMap<String, i64> = limit(complaint::Entity::find())?
            .select_only()
            .column(complaint::Column::Status)
            .column_as(complaint::Column::Id.count(), "n")
            .group_by(complaint::Column::Status)
            .into_tuple::<(String, i64)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let overdue = limit(complaint::Entity::find())?
            .filter(complaint::Column::OverdueAt.is_not_null())
            .filter(
                complaint::Column::Status.is_in(
                    Status::ALL
                        .into_iter()
                        .filter(|s| s.open())
                        .map(Status::code),
                ),
            )
            .count(&self.db)
            .await? as i64;
        Ok(Board { counts, overdue })
    }

    /// Moves a complaint (or reassigns it), as the workflow allows.
    pub async fn move_to(&self, by: &Author, id: Uuid, m: Move) -> AppResult<complaint::Model> {
        let c = self.get(by, id).await?;
        let p = &by.principal;
        let from = Status::of(&c.status)
            .ok_or_else(|| AppError::Internal(format!("status {}", c.status)))?;
        let to = m.to.unwrap_or(from);
        let clean = |v: &Option<String>| {
            v.as_ref()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let (comment, reason) = (clean(&m.comment), clean(&m.reason));
        let who = Actor {
            dispatches: staff_role(p, c.organisation_id, &DISPATCHING),
            assignee: c.assignee_id.is_some_and(|a| a == p.user_id),
            author: c.author_user_id.is_some_and(|a| a == p.user_id),
            system: p.system,
        };
        let photos = self.photos(&c, &m.photos).await?;
        let given = Given {
            comment: comment.is_some(),
            photo: !photos.is_empty(),
            reason: reason.is_some(),
            assignee: m.assignee.is_some(),
        };
        let now = self.clock.now();
        let reopen_days = self.settings(c.organisation_id).await?.reopen_days;
        workflow::check(from, to, who, given, c.done_at, now, reopen_days).map_err(|r| {
            let field = if r.field == "photo" {
                "photoIds"
            } else {
                r.field
            };
            AppError::validation(field, r.reason, r.message)
        })?;
        if let Some(a) = m.assignee {
            self.check_assignee(&c, a).await?;
        }
        let txn = crate::tx::begin_write(&self.db).await?;
        // Again inside the transaction: two people may move it at once.
        let c = complaint::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::not_found("complaint"))?;
        if c.status != from.code() {
            return Err(AppError::conflict(
                "status",
                "changed",
                format!("the complaint is {} now", c.status),
            ));
        }
        let before = c.clone();
        let mut am = c.into_active_model();
        am.status = Set(to.code().into());
        am.updated_at = Set(now);
        if let Some(a) = m.assignee {
            am.assignee_id = Set(Some(a));
        }
        match to {
            Status::Done => am.done_at = Set(Some(now)),
            Status::Closed | Status::Rejected => am.closed_at = Set(Some(now)),
            _ => {}
        }
        let after = am.update(&txn).await?;
        crate::services_catalog::service::follow_work_order(&txn, &after, from, to, now).await?;
        let name = actor_name(by);
        let public = !matches!((from, to), (Status::Assigned, Status::Assigned));
        history(
            &txn,
            &after,
            if from == to { "assigned" } else { "status" },
            Some(from),
            Some(to),
            public,
            reason.clone().or(comment.clone()),
            serde_json::json!({ "assignee": after.assignee_id, "comment": comment, "reason": reason, "photos": photos }),
            by,
            &name,
            now,
        )
        .await?;
        let changes = crate::audit::diff(Some(&before), Some(&after));
        self.commit(txn, by, &after, ("complaint", after.id), changes, now)
            .await?;
        Ok(after)
    }

    /// A comment: public (the resident sees it) or internal (staff only).
    /// Staff comment on what they see; the resident on their own complaint,
    /// always publicly.
    pub async fn comment(
        &self,
        by: &Author,
        id: Uuid,
        text: &str,
        public: bool,
    ) -> AppResult<complaint_history::Model> {
        let c = self.get(by, id).await?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 4000 {
            return Err(AppError::validation(
                "text",
                "length",
                "from 1 to 4000 characters",
            ));
        }
        let staff = staff_role(&by.principal, c.organisation_id, &Role::ALL);
        let public = public || !staff;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let entry = history(
            &txn,
            &c,
            "comment",
            None,
            None,
            public,
            Some(text.to_string()),
            serde_json::json!({}),
            by,
            &actor_name(by),
            now,
        )
        .await?;
        let changes =
            serde_json::json!({ "after": { "complaintId": c.id, "public": public, "text": text } });
        self.commit(txn, by, &c, ("complaint_comment", entry.id), changes, now)
            .await?;
        Ok(entry)
    }

    /// A dispatcher's correction of the category; the rules' answer stays in
    /// the history beside it.
    pub async fn reclassify(
        &self,
        by: &Author,
        id: Uuid,
        category: &str,
    ) -> AppResult<complaint::Model> {
        let c = self.get(by, id).await?;
        if !staff_role(&by.principal, c.organisation_id, &DISPATCHING) {
            return Err(AppError::validation(
                "category",
                "not_allowed",
                "dispatchers correct the category",
            ));
        }
        let rules = self.rules(c.organisation_id).await?;
        let category = category.trim();
        if !rules.iter().any(|r| r.category == category) {
            let mut known: Vec<&str> = rules.iter().map(|r| r.category.as_str()).collect();
            known.dedup();
            return Err(AppError::validation(
                "category",
                "unknown",
                format!("one of {}", known.join(", ")),
            ));
        }
        self.change(by, c, "reclassified", |am, c| {
            am.category = Set(Some(category.to_string()));
            am.category_by = Set("dispatcher".into());
            serde_json::json!({ "from": c.category, "to": category })
        })
        .await
    }

    /// The resident's rating of the work, once it is done.
    pub async fn rate(&self, by: &Author, id: Uuid, stars: i32) -> AppResult<complaint::Model> {
        let c = self.get(by, id).await?;
        let status = Status::of(&c.status).unwrap_or(Status::New);
        let who = Actor {
            author: c.author_user_id.is_some_and(|a| a == by.principal.user_id),
            ..Actor::default()
        };
        workflow::check_rating(status, stars, who)
            .map_err(|r| AppError::validation(r.field, r.reason, r.message))?;
        self.change(by, c, "rated", |am, _| {
            am.rating = Set(Some(stars));
            serde_json::json!({ "stars": stars })
        })
        .await
    }

    /// Changes a complaint's row with its history entry, audit and event.
    async fn change(
        &self,
        by: &Author,
        c: complaint::Model,
        kind: &str,
        apply: impl FnOnce(&mut complaint::ActiveModel, &complaint::Model) -> serde_json::Value,
    ) -> AppResult<complaint::Model> {
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let before = c.clone();
        let mut am = c.clone().into_active_model();
        let data = apply(&mut am, &c);
        am.updated_at = Set(now);
        let after = am.update(&txn).await?;
        history(
            &txn,
            &after,
            kind,
            None,
            None,
            kind == "rated",
            None,
            data,
            by,
            &actor_name(by),
            now,
        )
        .await?;
        let changes = crate::audit::diff(Some(&before), Some(&after));
        self.commit(txn, by, &after, ("complaint", after.id), changes, now)
            .await?;
        Ok(after)
    }
}

/// Staff see what the policy lets them; a resident sees the complaints they
/// filed and those about their own accounts, not a neighbour's complaint
/// about the house.
pub fn visible_to_resident(p: &crate::auth::Principal, c: &complaint::Model) -> bool {
    if staff_role(p, c.organisation_id, &Role::ALL) {
        return true;
    }
    c.author_user_id == Some(p.user_id)
        || c.account_id.is_some_and(|a| {
            p.residence(c.organisation_id)
                .is_some_and(|r| r.accounts.contains(&a))
        })
}

/// What the policy checks a complaint against: its account, premises or house.
pub fn target(c: &complaint::Model) -> Target<'static> {
    match (c.account_id, c.premises_id) {
        (Some(a), _) => Target::Account {
            org: c.organisation_id,
            house: c.house_id,
            id: a,
        },
        (None, Some(p)) => Target::Premises {
            org: c.organisation_id,
            house: c.house_id,
            id: p,
        },
        (None, None) => Target::House {
            org: c.organisation_id,
            id: c.house_id,
        },
    }
}

pub(crate) fn actor_name(by: &Author) -> String {
    if by.principal.system {
        "system".into()
    } else {
        by.principal.display_name.clone()
    }
}

/// Users' names as staff see them, in one query.
pub(crate) async fn user_names<C: ConnectionTrait>(
    conn: &C,
    ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    Ok(entities::user::Entity::find()
        .filter(entities::user::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

/// Open complaints per assignee.
async fn open_counts<C: ConnectionTrait>(conn: &C, org: Uuid) -> AppResult<HashMap<Uuid, i64>> {
    Ok(complaint::Entity::find()
        .select_only()
        .column(complaint::Column::AssigneeId)
        .column_as(complaint::Column::Id.count(), "n")
        .filter(complaint::Column::OrganisationId.eq(org))
        .filter(
            complaint::Column::Status.is_in(
                Status::ALL
                    .into_iter()
                    .filter(|s| s.open())
                    .map(Status::code),
            ),
        )
        .filter(complaint::Column::AssigneeId.is_not_null())
        .group_by(complaint::Column::AssigneeId)
        .into_tuple::<(Option<Uuid>, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|(a, n)| a.map(|a| (a, n)))
        .collect())
}

pub(crate) fn event(c: &complaint::Model) -> NewEvent {
    NewEvent {
        organisation_id: c.organisation_id,
        topic: TOPIC,
        house_id: Some(c.house_id),
        premises_id: c.premises_id,
        account_id: c.account_id,
        object_id: Some(c.id),
        payload: serde_json::json!({ "id": c.id, "number": c.number, "status": c.status,
            "assigneeId": c.assignee_id, "authorId": c.author_user_id }),
    }
}

async fn next_number(txn: &DatabaseTransaction, org: Uuid) -> AppResult<i64> {
    let backend = txn.get_database_backend();
    let sql = "INSERT INTO complaint_heads (organisation_id, number) VALUES (?, 1) \
               ON CONFLICT (organisation_id) DO UPDATE SET number = complaint_heads.number + 1 RETURNING number";
    let sql = if backend == sea_orm::DatabaseBackend::Postgres {
        crate::bulk::numbered(sql)
    } else {
        sql.to_string()
    };
    let row = txn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [org.into()],
        ))
        .await?
        .ok_or_else(|| AppError::Internal("no complaint number".into()))?;
    Ok(row.try_get("", "number")?)
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn history(
    txn: &DatabaseTransaction,
    c: &complaint::Model,
    kind: &str,
    from: Option<Status>,
    to: Option<Status>,
    public: bool,
    text: Option<String>,
    data: serde_json::Value,
    by: &Author,
    actor: &str,
    now: DateTime<Utc>,
) -> AppResult<complaint_history::Model> {
    Ok(complaint_history::ActiveModel {
        id: Set(Uuid::now_v7()),
        organisation_id: Set(c.organisation_id),
        complaint_id: Set(c.id),
        kind: Set(kind.into()),
        from_status: Set(from.map(|s| s.code().to_string())),
        to_status: Set(to.map(|s| s.code().to_string())),
        public: Set(public),
        text: Set(text),
        data: Set(data.to_string()),
        actor_id: Set((!by.principal.system).then_some(by.principal.user_id)),
        actor: Set(actor.into()),
        created_at: Set(now),
    }
    .insert(txn)
    .await?)
}
